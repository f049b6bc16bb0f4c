//! `supervise.log` (NOTICE) and `supervise.log.wf` (WARNING, FATAL), SPEC §2:
//! `[LEVEL] YYYY-MM-DD HH:MM:SS  message`, appended. A file that was deleted
//! or renamed away is recreated at the next write; one that has grown past
//! the size limit (1.8 GB as the original) is unlinked and starts over.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{localtime, spawn::open_append};
use crate::supervisor::Level;

/// The original's limit: 1.8 GB.
pub const DEFAULT_MAX_BYTES: u64 = 1_800_000_000;

/// One append-only log file that survives deletion and rotation.
pub struct LogFile {
    path: PathBuf,
    file: Option<File>,
    max_bytes: u64,
    /// Bytes in the file, known since the last check.
    len: u64,
    /// Whether the file was checked against its path since [`Logger::recheck`]:
    /// one check per batch of lines, not two `stat`s per line.
    checked: bool,
}

impl LogFile {
    /// Opens (creating) the log at `path`.
    pub fn open(path: PathBuf, max_bytes: u64) -> io::Result<LogFile> {
        let file = open_append(&path)?;
        Ok(LogFile {
            path,
            file: Some(file),
            max_bytes,
            len: 0,
            checked: false,
        })
    }

    /// Appends one line, reopening the file first if it was deleted, replaced
    /// or has grown past the limit. Errors are returned, never fatal.
    pub fn append(&mut self, line: &[u8]) -> io::Result<()> {
        let adding = line.len() as u64;
        if !self.checked {
            if self.needs_reopen()? {
                self.reopen()?;
            }
            self.checked = true;
        }
        if self.len + adding > self.max_bytes {
            let _ = std::fs::remove_file(&self.path);
            self.reopen()?;
        }
        match &mut self.file {
            Some(file) => {
                file.write_all(line)?;
                self.len += adding;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.file = None;
        let file = open_append(&self.path)?;
        self.len = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    /// Whether the path no longer names the open file (deleted, renamed
    /// away); also learns the file's current length.
    fn needs_reopen(&mut self) -> io::Result<bool> {
        let Some(file) = &self.file else {
            return Ok(true);
        };
        let open = file.metadata()?;
        self.len = open.len();
        let on_disk = match std::fs::metadata(&self.path) {
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

    /// The files may have been deleted or rotated since the last line: check
    /// them again before the next one. The driver calls this once per wake-up.
    pub fn recheck(&mut self) {
        self.notice.checked = false;
        self.warning.checked = false;
    }

    /// Writes `message` at `level`, stamped with the local time of `wall`.
    pub fn log(&mut self, level: Level, wall: Duration, message: &str) {
        let line = format_line(level, &localtime::format(wall), message);
        let file = match level {
            Level::Notice => &mut self.notice,
            Level::Warning | Level::Fatal => &mut self.warning,
        };
        // A log that cannot be written must not stop supervision; the next
        // line tries again (and recreates the file).
        let _ = file.append(line.as_bytes());
    }
}

/// The last `max_lines` lines of the last `max_bytes` of the file at `path`
/// (for alarm mails: what the service said before it died). Empty if the
/// file cannot be read.
pub fn tail(path: &Path, max_bytes: u64, max_lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
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
    for c in message.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line.push('\n');
    line
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
        log.append(b"one\n").unwrap();
        std::fs::remove_file(&path).unwrap();
        log.checked = false; // what Logger::recheck does at each wake-up
        log.append(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        std::fs::remove_dir_all(&dir).unwrap();
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
        log.append(b"12345\n").unwrap();
        log.append(b"67890\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "67890\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
