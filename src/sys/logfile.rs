//! `supervise.log` (NOTICE) and `supervise.log.wf` (WARNING, FATAL), SPEC §2:
//! `[LEVEL] YYYY-MM-DD HH:MM:SS  message`, appended. A file that was deleted
//! or renamed away is recreated at the next write; one that has grown past
//! the size limit (1.8 GB as the original) is unlinked and starts over.
//!
//! No open or write here can block supervise: files are opened with
//! `O_NONBLOCK` (a FIFO put in a log's place with nobody reading it is
//! ENXIO, not a hang; one with a reader works, and a full pipe is EAGAIN)
//! and `O_NOFOLLOW` (a symlink planted in a log's place is refused, never
//! followed). Failed and short writes are reported to the caller, which
//! keeps the lines and retries (see `writes::Backlog`).

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::localtime;
use crate::supervisor::Level;

/// The original's limit: 1.8 GB.
pub const DEFAULT_MAX_BYTES: u64 = 1_800_000_000;

/// Which of the two logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Log {
    /// `supervise.log`: NOTICE lines and the config dump.
    Notice,
    /// `supervise.log.wf`: WARNING and FATAL lines.
    Warning,
}

impl Log {
    /// The log a line of `level` goes to.
    pub fn of(level: Level) -> Log {
        match level {
            Level::Notice => Log::Notice,
            Level::Warning | Level::Fatal => Log::Warning,
        }
    }
}

/// Opens a log for appending (created 0600) without blocking and without
/// following a symlink.
fn open_log(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

/// One append-only log file that survives deletion and rotation.
pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
    max_bytes: u64,
    /// The limit given at open (the original's rule), for when rotation is
    /// turned off again.
    default_max: u64,
    /// Past the limit: `None`, the original's rule (start over);
    /// `Some(N)`, rotate to `NAME.1` … `NAME.N`.
    keep: Option<u32>,
    /// Bytes in the file, known since the last check.
    len: u64,
    /// Whether the file was checked against its path since [`Logger::recheck`]:
    /// one check per batch of lines, not two `stat`s per line.
    checked: bool,
}

impl LogFile {
    /// Opens (creating) the log at `path`.
    pub fn open(path: PathBuf, max_bytes: u64) -> io::Result<LogFile> {
        let file = open_log(&path)?;
        let len = file.metadata()?.len();
        Ok(LogFile {
            path,
            file: Some(file),
            max_bytes,
            default_max: max_bytes,
            keep: None,
            len,
            checked: true,
        })
    }

    /// Appends as much of `bytes` as one write takes, reopening the file
    /// first if it was deleted, replaced or has grown past the limit.
    /// Returns how many bytes went in.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if !self.checked {
            if self.needs_reopen()? {
                self.reopen()?;
            }
            self.checked = true;
        }
        if self.len > 0 && self.len + bytes.len() as u64 > self.max_bytes {
            match self.keep {
                Some(keep) => self.rotate(keep),
                None => {
                    let _ = std::fs::remove_file(&self.path);
                }
            }
            self.reopen()?;
        }
        let Some(file) = &mut self.file else {
            return Err(io::ErrorKind::NotFound.into());
        };
        let n = file.write(bytes)?;
        if n == 0 && !bytes.is_empty() {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.len += n as u64;
        Ok(n)
    }

    /// `NAME` → `NAME.1` …, the oldest beyond `keep` replaced; `keep` 0
    /// removes it. A rename that fails leaves the file to grow on.
    fn rotate(&mut self, keep: u32) {
        if keep == 0 {
            let _ = std::fs::remove_file(&self.path);
            return;
        }
        let named = |n: u32| {
            let mut p = self.path.clone().into_os_string();
            if n > 0 {
                p.push(format!(".{n}"));
            }
            PathBuf::from(p)
        };
        for (from, to) in crate::logpipe::rotation(keep) {
            let _ = std::fs::rename(named(from), named(to));
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let file = open_log(&self.path)?;
        self.len = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    /// Whether the path no longer names the open file (deleted, renamed
    /// away, replaced); also learns the file's current length.
    fn needs_reopen(&mut self) -> io::Result<bool> {
        let Some(file) = &self.file else {
            return Ok(true);
        };
        let open = file.metadata()?;
        self.len = open.len();
        let on_disk = match std::fs::symlink_metadata(&self.path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e),
        };
        Ok((open.dev(), open.ino()) != (on_disk.dev(), on_disk.ino()))
    }
}

/// The pair of log files of a status directory.
pub struct Logger {
    notice: LogFile,
    warning: LogFile,
}

impl Logger {
    /// Opens both logs in `dir`.
    pub fn open(dir: &Path, max_bytes: u64) -> io::Result<Logger> {
        Ok(Logger {
            notice: LogFile::open(dir.join("supervise.log"), max_bytes)?,
            warning: LogFile::open(dir.join("supervise.log.wf"), max_bytes)?,
        })
    }

    /// The output-log keys, for these logs too: with `Some((max, keep))`
    /// each is rotated past `max` bytes (`max` `None`: the limit given at
    /// open) to `NAME.1` … `NAME.keep`; with `None`, the original's rule.
    pub fn set_rotation(&mut self, rotation: Option<(Option<u64>, u32)>) {
        for file in [&mut self.notice, &mut self.warning] {
            match rotation {
                Some((max, keep)) => {
                    file.max_bytes = max.unwrap_or(file.default_max);
                    file.keep = Some(keep);
                }
                None => {
                    file.max_bytes = file.default_max;
                    file.keep = None;
                }
            }
        }
    }

    /// The files may have been deleted or rotated since the last line: check
    /// them again before the next one. The driver calls this once per wake-up.
    pub fn recheck(&mut self) {
        self.notice.checked = false;
        self.warning.checked = false;
    }

    /// The path of `log`.
    pub fn path(&self, log: Log) -> &Path {
        &self.file(log).path
    }

    fn file(&self, log: Log) -> &LogFile {
        match log {
            Log::Notice => &self.notice,
            Log::Warning => &self.warning,
        }
    }

    /// One write of `bytes` to `log` (see [`LogFile::write`]).
    pub fn write(&mut self, log: Log, bytes: &[u8]) -> io::Result<usize> {
        match log {
            Log::Notice => self.notice.write(bytes),
            Log::Warning => self.warning.write(bytes),
        }
    }

    /// Writes `message` at `level` now, as far as it goes, ignoring errors:
    /// for the one line a supervise that is refused writes into the log of
    /// the supervise that runs (which keeps its own lines and retries).
    pub fn log(&mut self, level: Level, wall: Duration, message: &str) {
        let line = format_line(level, &localtime::format(wall), message);
        let _ = self.write(Log::of(level), line.as_bytes());
    }
}

/// The last `max_lines` lines of the last `max_bytes` of the file at `path`
/// (for alarm mails: what the service said before it died). Empty if the
/// file cannot be read.
pub fn tail(path: &Path, max_bytes: u64, max_lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    // Not blocking on a FIFO put in the file's place; regular files only.
    let Ok(mut file) = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    else {
        return String::new();
    };
    let Ok(meta) = file.metadata().map(|m| (m.is_file(), m.len())) else {
        return String::new();
    };
    let (true, len) = meta else {
        return String::new();
    };
    let start = len.saturating_sub(max_bytes);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    let _ = file.take(max_bytes).read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    // The first line may be cut in the middle when we started mid-file.
    let skip_partial = usize::from(start > 0 && lines.len() > 1);
    let from = lines.len().saturating_sub(max_lines).max(skip_partial);
    lines[from..].join("\n")
}

/// `[NOTICE] 2026-11-26 15:12:45  message\n`. Control characters in the
/// message (a service name may hold a newline) are escaped, so one event is
/// always one line and no text can forge a log line.
pub fn format_line(level: Level, local_time: &str, message: &str) -> String {
    let tag = match level {
        Level::Notice => "NOTICE",
        Level::Warning => "WARNING",
        Level::Fatal => "FATAL",
    };
    let mut line = format!("[{tag}] {local_time}  ");
    push_escaped(&mut line, message);
    line
}

/// `message` as a line of its own, with no level and no time (the config
/// dump of SPEC §2), control characters escaped as in [`format_line`].
pub fn format_bare(message: &str) -> String {
    let mut line = String::with_capacity(message.len() + 1);
    push_escaped(&mut line, message);
    line
}

fn push_escaped(line: &mut String, message: &str) {
    for c in message.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("logfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn line_format_has_two_spaces_after_the_time() {
        assert_eq!(
            format_line(Level::Notice, "2026-11-26 15:12:45", "service exited!"),
            "[NOTICE] 2026-11-26 15:12:45  service exited!\n"
        );
        assert!(format_line(Level::Fatal, "t", "m").starts_with("[FATAL] t  m"));
        assert_eq!(
            format_line(Level::Notice, "t", "a\n[FATAL] forged\r"),
            "[NOTICE] t  a\\n[FATAL] forged\\r\n"
        );
    }

    #[test]
    fn deleted_log_is_recreated_at_the_next_write() {
        let dir = temp_dir("deleted");
        let path = dir.join("log");
        let mut log = LogFile::open(path.clone(), DEFAULT_MAX_BYTES).unwrap();
        log.write(b"one\n").unwrap();
        std::fs::remove_file(&path).unwrap();
        log.checked = false; // what Logger::recheck does at each wake-up
        log.write(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_without_reader_or_a_symlink_in_a_logs_place_is_an_error_not_a_hang() {
        let dir = temp_dir("fifo");
        let path = dir.join("log");
        let mut log = LogFile::open(path.clone(), DEFAULT_MAX_BYTES).unwrap();
        std::fs::remove_file(&path).unwrap();
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string for the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        log.checked = false;
        let err = log.write(b"x\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO));
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(dir.join("victim"), &path).unwrap();
        log.checked = false;
        let err = log.write(b"x\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        assert!(!dir.join("victim").exists(), "the symlink was not followed");
        assert_eq!(tail(&path, 100, 3), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bare_lines_have_no_prefix_and_escape_control_characters() {
        assert_eq!(format_bare("max_tries: 20"), "max_tries: 20\n");
        assert_eq!(format_bare("a\nb"), "a\\nb\n");
    }

    #[test]
    fn tail_keeps_the_last_whole_lines() {
        let dir = temp_dir("tail");
        let path = dir.join("err");
        std::fs::write(&path, "one\ntwo\nthree\nfour\n").unwrap();
        assert_eq!(tail(&path, 1000, 2), "three\nfour");
        assert_eq!(
            tail(&path, 12, 10),
            "three\nfour",
            "the cut line is dropped"
        );
        assert_eq!(tail(&dir.join("missing"), 100, 3), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn log_past_the_limit_starts_over() {
        let dir = temp_dir("limit");
        let path = dir.join("log");
        let mut log = LogFile::open(path.clone(), 10).unwrap();
        log.write(b"12345\n").unwrap();
        log.write(b"67890\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "67890\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
