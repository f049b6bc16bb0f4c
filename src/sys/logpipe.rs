//! The log pipe: when the output-log keys are set, the service's stdout and
//! stderr are the write ends of two pipes that supervise makes once and
//! keeps across restarts (so a restart loses no line: what a dying service
//! wrote is still in the pipe), and supervise reads the other ends without
//! blocking in its poll loop and writes the lines to `__stdout`/`__stderr`
//! (the rules: `crate::logpipe`). A file renamed or removed by an operator
//! is noticed by one `stat` of the path per batch and a new one is created
//! at the next write. A write that fails (a full disk) drops the batch's
//! lines, counts them and says so once: the pipe keeps draining, so the
//! service never blocks on its output because of the disk.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::logpipe::{self, Lines, Timestamps};

/// Bytes read from a pipe at a time.
const READ_BYTES: usize = 64 * 1024;

/// Reads per pipe per wake-up: a service that writes without pause cannot
/// keep supervise from its other work.
const READS_PER_WAKEUP: usize = 16;

/// The pipe's capacity asked for: fewer wake-ups, and room for a burst
/// while supervise is busy (the kernel may give less).
const PIPE_BYTES: libc::c_int = 1 << 20;

/// The settings a batch is written with.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The stamp before each line.
    pub timestamps: Timestamps,
    /// Rotate beyond this size.
    pub max_bytes: Option<u64>,
    /// Rotated files kept.
    pub keep: u32,
}

/// One of the two streams: its pipe and its file.
pub struct Stream {
    name: &'static str,
    path: PathBuf,
    read: File,
    write: File,
    file: Option<(File, u64, u64)>,
    size: u64,
    lines: Lines,
    buf: Vec<u8>,
    out: Vec<u8>,
    dropped: u64,
    error: Option<String>,
}

fn pipe() -> io::Result<(File, File)> {
    let (read, write) = super::pipe(false)?;
    let (read, write) = (File::from(read), File::from(write));
    // Best effort: a smaller pipe only means more wake-ups.
    let _ = nix::fcntl::fcntl(&read, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
    super::set_nonblocking(read.as_fd(), true)?;
    Ok((read, write))
}

impl Stream {
    /// A pipe for the file `dir/name`.
    pub fn new(dir: &Path, name: &'static str) -> io::Result<Stream> {
        let (read, write) = pipe()?;
        Ok(Stream {
            name,
            path: dir.join(name),
            read,
            write,
            file: None,
            size: 0,
            lines: Lines::default(),
            buf: vec![0; READ_BYTES],
            out: Vec::new(),
            dropped: 0,
            error: None,
        })
    }

    /// The write end, for the service (supervise keeps its own).
    pub fn writer(&self) -> &File {
        &self.write
    }

    /// The read end, to poll.
    pub fn raw_fd(&self) -> i32 {
        self.read.as_raw_fd()
    }

    /// Reads what waits in the pipe (a bounded amount) and writes its lines;
    /// `last`: supervise exits, an unfinished line is written too. Returns
    /// what to log.
    pub fn pump(&mut self, wall: Duration, settings: Settings, last: bool) -> Vec<String> {
        let stamp = settings.timestamps.stamp(wall).into_bytes();
        let mut said = Vec::new();
        self.reopen_if_moved();
        for _ in 0..READS_PER_WAKEUP {
            match self.read.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    self.lines.feed(&self.buf[..n], &stamp, &mut self.out);
                    said.extend(self.write_out(settings));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: drained
            }
        }
        if last && self.lines.pending() > 0 {
            self.lines.feed(b"\n", &stamp, &mut self.out);
            said.extend(self.write_out(settings));
        }
        said
    }

    /// A new file when the one open is no longer at the path (renamed or
    /// removed by an operator's rotation).
    fn reopen_if_moved(&mut self) {
        let Some((_, dev, ino)) = &self.file else {
            return;
        };
        let moved = match std::fs::metadata(&self.path) {
            Ok(meta) => meta.dev() != *dev || meta.ino() != *ino,
            Err(_) => true,
        };
        if moved {
            self.file = None;
        }
    }

    fn open(&mut self) -> io::Result<()> {
        if self.file.is_some() {
            return Ok(());
        }
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(&self.path)?;
        let meta = file.metadata()?;
        self.size = meta.len();
        self.file = Some((file, meta.dev(), meta.ino()));
        Ok(())
    }

    /// `NAME` → `NAME.1` …, the oldest beyond `keep` replaced; with `keep`
    /// 0 the file is removed.
    fn rotate(&mut self, keep: u32) -> io::Result<()> {
        self.file = None;
        let named = |n: u32| {
            if n == 0 {
                self.path.clone()
            } else {
                let mut p = self.path.clone().into_os_string();
                p.push(format!(".{n}"));
                PathBuf::from(p)
            }
        };
        if keep == 0 {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        for (from, to) in logpipe::rotation(keep) {
            match std::fs::rename(named(from), named(to)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn write_out(&mut self, settings: Settings) -> Vec<String> {
        let mut said = Vec::new();
        let mut at = 0;
        let mut unrotatable = false;
        while at < self.out.len() {
            if let Err(e) = self.open() {
                said.extend(self.drop_rest(at, &e));
                return said;
            }
            let max = settings.max_bytes.filter(|_| !unrotatable);
            let n = logpipe::fits(self.size, max, &self.out[at..]);
            if n == 0 {
                if let Err(e) = self.rotate(settings.keep) {
                    said.push(format!(
                        "cannot rotate {}: {e} (written on past log_max_bytes)",
                        self.path.display()
                    ));
                    unrotatable = true;
                }
                continue;
            }
            let Some((file, _, _)) = &mut self.file else {
                continue;
            };
            match file.write(&self.out[at..at + n]) {
                Ok(written) => {
                    at += written;
                    self.size += written as u64;
                    if self.error.take().is_some() || self.dropped > 0 {
                        said.push(format!(
                            "{} written again; {} line(s) were dropped meanwhile",
                            self.path.display(),
                            std::mem::take(&mut self.dropped)
                        ));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    said.extend(self.drop_rest(at, &e));
                    return said;
                }
            }
        }
        self.out.clear();
        said
    }

    /// The lines from `at` on cannot be written: dropped and counted, the
    /// error said once.
    fn drop_rest(&mut self, at: usize, e: &io::Error) -> Option<String> {
        let lines = self.out[at..].iter().filter(|&&b| b == b'\n').count() as u64;
        self.dropped += lines.max(1);
        self.out.clear();
        self.file = None;
        let error = e.to_string();
        if self.error.as_ref() == Some(&error) {
            return None;
        }
        self.error = Some(error.clone());
        Some(format!(
            "cannot write {}: {error} (the service's {} lines are dropped and counted until it can; the service is not held up)",
            self.path.display(),
            self.name.trim_start_matches('_')
        ))
    }
}
