//! `--forward-output`: copies what services write to `__stdout` and
//! `__stderr` onto the scanner's own stdout and stderr, each line prefixed
//! with `NAME: `, for `docker logs` and `kubectl logs`. The files stay the
//! record; this only follows them (from their end at the time the watch
//! starts), woken by inotify, so an idle service costs no wake-up.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::sys::inotify::Inotify;

/// The longest partial line held back before it is written anyway.
const MAX_PENDING: usize = 16 * 1024;

struct Followed {
    name: String,
    path: PathBuf,
    to_stderr: bool,
    offset: u64,
    pending: Vec<u8>,
}

/// Follows the output files of every watched service.
pub struct Forwarder {
    inotify: Inotify,
    /// watch id → (service name, directory)
    dirs: HashMap<i32, PathBuf>,
    files: HashMap<PathBuf, Followed>,
}

impl Forwarder {
    /// A forwarder with nothing watched yet.
    pub fn new() -> io::Result<Forwarder> {
        Ok(Forwarder {
            inotify: Inotify::new()?,
            dirs: HashMap::new(),
            files: HashMap::new(),
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.inotify.raw_fd()
    }

    /// Starts following service `name`'s output in `dir` (again, harmlessly).
    pub fn watch(&mut self, name: &str, dir: &Path) {
        if let Ok(wd) = self.inotify.watch_dir(dir) {
            self.dirs.insert(wd, dir.to_owned());
        }
        for (file, to_stderr) in [("__stdout", false), ("__stderr", true)] {
            let path = dir.join(file);
            let offset = std::fs::metadata(&path).map_or(0, |m| m.len());
            self.files.entry(path.clone()).or_insert(Followed {
                name: name.to_owned(),
                path,
                to_stderr,
                offset,
                pending: Vec::new(),
            });
        }
    }

    /// Copies whatever was written since the last call.
    pub fn pump(&mut self) {
        for (wd, file) in self.inotify.read_events() {
            let Some(dir) = self.dirs.get(&wd) else {
                continue;
            };
            if let Some(followed) = self.files.get_mut(&dir.join(&file)) {
                followed.copy_new();
            }
        }
    }
}

impl Followed {
    fn copy_new(&mut self) {
        let Ok(mut file) = File::open(&self.path) else {
            return;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len < self.offset {
            self.offset = 0; // truncated or replaced: start from its top
        }
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut fresh = Vec::new();
        let Ok(n) = file.take(len - self.offset).read_to_end(&mut fresh) else {
            return;
        };
        self.offset += n as u64;
        self.pending.extend_from_slice(&fresh);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            out.extend_from_slice(self.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&line);
        }
        if self.pending.len() > MAX_PENDING {
            out.extend_from_slice(self.name.as_bytes());
            out.extend_from_slice(b": ");
            out.append(&mut self.pending);
            out.push(b'\n');
        }
        if !out.is_empty() {
            let _ = if self.to_stderr {
                io::stderr().write_all(&out)
            } else {
                io::stdout().write_all(&out)
            };
        }
    }
}
