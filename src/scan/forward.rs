//! `--forward-output`: copies what services write to `__stdout` and
//! `__stderr` onto the scanner's own stdout and stderr, each line prefixed
//! with `NAME: `, for `docker logs` and `kubectl logs`. The files stay the
//! record; this only follows them (from their end at the time the watch
//! starts), woken by inotify, so an idle service costs no wake-up.
//!
//! A file is followed by its open descriptor, not by its name: after a
//! rotation (`__stdout` renamed, as logrotate does) the service goes on
//! writing to the renamed file until it is started again, and those lines
//! are still forwarded; once a new `__stdout` appears it is followed from
//! its start, and the renamed one until the next rotation. A truncated
//! file (copytruncate) is read again from its start. Nothing here writes:
//! lines go to [`Output`], which never blocks.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::output::{Lines, Output, Stream};
use crate::sys::inotify::Inotify;

/// How much is read from a file at a time.
const CHUNK: usize = 64 * 1024;

/// One file being read, by its descriptor.
struct Open {
    file: File,
    /// (device, inode), to tell when the name points elsewhere.
    id: (u64, u64),
    offset: u64,
}

/// One of a service's two output files.
struct Followed {
    path: PathBuf,
    stream: Stream,
    prefix: Vec<u8>,
    /// The file the name points to (as far as we know).
    current: Option<Open>,
    /// The file it pointed to before a rotation: the service may still
    /// write there.
    previous: Option<Open>,
    lines: Lines,
    /// An open of `path` failed; said once.
    complained: bool,
}

/// Follows the output files of every watched service.
pub struct Forwarder {
    inotify: Inotify,
    /// watch id → service name.
    dirs: HashMap<i32, String>,
    services: HashMap<String, [Followed; 2]>,
    buf: Vec<u8>,
}

impl Forwarder {
    /// A forwarder with nothing watched yet.
    pub fn new() -> io::Result<Forwarder> {
        Ok(Forwarder {
            inotify: Inotify::new()?,
            dirs: HashMap::new(),
            services: HashMap::new(),
            buf: vec![0; CHUNK],
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.inotify.raw_fd()
    }

    /// Starts following service `name`'s output in `dir` (again,
    /// harmlessly); returns a problem to log, naming the directory.
    pub fn watch(&mut self, name: &str, dir: &Path) -> Option<String> {
        let problem = match self.inotify.watch_dir(dir) {
            Ok(wd) => {
                self.dirs.insert(wd, name.to_owned());
                None
            }
            Err(e) => Some(format!(
                "{name}: cannot follow the output in {}: {e}",
                dir.display()
            )),
        };
        self.services.entry(name.to_owned()).or_insert_with(|| {
            [("__stdout", Stream::Out), ("__stderr", Stream::Err)].map(|(file, stream)| {
                let path = dir.join(file);
                // From its end: what is there was written before.
                let current = open(&path).ok().map(|mut open| {
                    open.offset = open.file.seek(SeekFrom::End(0)).unwrap_or(0);
                    open
                });
                Followed {
                    path,
                    stream,
                    prefix: format!("{name}: ").into_bytes(),
                    current,
                    previous: None,
                    lines: Lines::default(),
                    complained: false,
                }
            })
        });
        problem
    }

    /// Copies whatever was written since the last call into `output`;
    /// returns problems to log.
    pub fn pump(&mut self, output: &mut Output) -> Vec<String> {
        let names: HashSet<String> = self
            .inotify
            .read_events()
            .into_iter()
            .filter_map(|(wd, _)| self.dirs.get(&wd).cloned())
            .collect();
        let mut problems = Vec::new();
        for name in names {
            if let Some(files) = self.services.get_mut(&name) {
                for followed in files {
                    problems.extend(followed.refresh(&mut self.buf, output));
                }
            }
        }
        problems
    }
}

impl Followed {
    /// Reads what is new: the rotated file first, then the current one,
    /// then a new file under the name, if there is one.
    fn refresh(&mut self, buf: &mut [u8], output: &mut Output) -> Option<String> {
        if let Some(previous) = &mut self.previous {
            drain(
                previous,
                buf,
                &mut self.lines,
                &self.prefix,
                self.stream,
                output,
            );
        }
        if let Some(current) = &mut self.current {
            drain(
                current,
                buf,
                &mut self.lines,
                &self.prefix,
                self.stream,
                output,
            );
        }
        let Ok(meta) = std::fs::metadata(&self.path) else {
            // Renamed away (or not made yet): keep reading what we hold.
            return None;
        };
        if self.current.as_ref().map(|c| c.id) == Some((meta.dev(), meta.ino())) {
            return None;
        }
        match open(&self.path) {
            Ok(mut new) => {
                self.complained = false;
                drain(
                    &mut new,
                    buf,
                    &mut self.lines,
                    &self.prefix,
                    self.stream,
                    output,
                );
                self.previous = self.current.replace(new);
                None
            }
            Err(e) if !self.complained => {
                self.complained = true;
                Some(format!("cannot follow {}: {e}", self.path.display()))
            }
            Err(_) => None,
        }
    }
}

fn open(path: &Path) -> io::Result<Open> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok(Open {
        file,
        id: (meta.dev(), meta.ino()),
        offset: 0,
    })
}

/// Reads `open` to its end, handing its lines to `output`.
fn drain(
    open: &mut Open,
    buf: &mut [u8],
    lines: &mut Lines,
    prefix: &[u8],
    stream: Stream,
    output: &mut Output,
) {
    let len = open.file.metadata().map_or(open.offset, |m| m.len());
    if len < open.offset {
        // Truncated in place: start again from its top.
        open.offset = open.file.seek(SeekFrom::Start(0)).unwrap_or(0);
    }
    loop {
        match open.file.read(buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                open.offset += n as u64;
                let out = lines.split(&buf[..n], prefix);
                if !out.is_empty() {
                    output.push(stream, &out, false);
                }
            }
        }
    }
}
