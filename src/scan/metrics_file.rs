//! `supervise-scan --metrics-file PATH`: the metrics of every service of
//! the applied configuration (as `svc metrics` renders them,
//! [`crate::svc::metrics::render_services`]) kept current in PATH for
//! node_exporter's textfile collector. PATH is replaced atomically
//! (`PATH.tmp`, then a rename: the collector reads only `*.prom`) and only
//! when something may have changed: a status directory's `status` or
//! `info` was replaced (inotify, its own instance), a supervise ended, or a
//! load changed the services. Never on a timer: an idle host has no
//! wake-up. A text equal to the one last written is not written again.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::observe::Observer;
use crate::svc::metrics::render_services;

/// The metrics file and what it reports on.
pub struct MetricsFile {
    path: PathBuf,
    observer: Observer,
    /// The services reported, `(NAME, status directory)`, in name order.
    services: Vec<(String, PathBuf)>,
    /// Something may have changed since the last write.
    dirty: bool,
    /// The text last written.
    written: Option<String>,
    /// The last error said, so that a lasting one is said once.
    error: Option<String>,
}

impl MetricsFile {
    /// Keeps `path` current; nothing reported yet.
    pub fn new(path: PathBuf) -> io::Result<MetricsFile> {
        Ok(MetricsFile {
            path,
            observer: Observer::new()?,
            services: Vec::new(),
            dirty: true,
            written: None,
            error: None,
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.observer.raw_fd()
    }

    /// The services of the configuration just applied.
    pub fn serve(&mut self, mut services: Vec<(String, PathBuf)>) {
        services.sort();
        for (name, dir) in &services {
            // A directory not made yet is watched when its service starts.
            let _ = self.observer.watch(name, dir);
        }
        self.services = services;
        self.dirty = true;
    }

    /// Service `name`'s supervise was started (or adopted) on `dir`, which
    /// exists now.
    pub fn started(&mut self, name: &str, dir: &Path) {
        let _ = self.observer.watch(name, dir);
        self.dirty = true;
    }

    /// The inotify descriptor is readable: a status directory changed.
    pub fn read_events(&mut self) {
        if !self.observer.changed().is_empty() {
            self.dirty = true;
        }
    }

    /// Something changed that inotify does not tell (a supervise ended).
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Writes the file if something may have changed and the text differs
    /// from what was written; returns a line to log about a failure (the
    /// first, or a new error) or the recovery. A failed write is tried
    /// again at the next change.
    pub fn write_if_changed(&mut self, now: Duration) -> Option<String> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        let text = render_services(&self.services, now);
        if self.written.as_ref() == Some(&text) {
            return None;
        }
        match super::write_atomically(&self.path, text.as_bytes()) {
            Ok(()) => {
                self.written = Some(text);
                self.error
                    .take()
                    .map(|_| format!("{} written again", self.path.display()))
            }
            Err(e) => {
                let error = e.to_string();
                (self.error.as_ref() != Some(&error)).then(|| {
                    self.error = Some(error.clone());
                    format!(
                        "cannot write {}: {error} (tried again at the next change)",
                        self.path.display()
                    )
                })
            }
        }
    }
}
