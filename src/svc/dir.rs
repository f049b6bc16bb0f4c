//! The status directory as `svc` touches it: the checks of the original
//! script (is it a status directory, does supervise read `ok`, is `status`
//! there and 20 bytes long, is `control` a FIFO we may write), reading
//! `status`, `info` and `history`, writing control bytes; and a status
//! root's scanner: its lock, its reload file, its request FIFO. Every
//! file-system call of `svc` is here; each failure becomes a [`Problem`]
//! with its exit code and message.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::code::Code;
use crate::info::Info;
use crate::scan::{LOCK_FILE, RELOAD_FILE};
use crate::status::{self, Status};
use crate::sys::{fifo, lock, process};

/// A failure with the exit code it maps to and a message for the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The exit code it maps to.
    pub code: Code,
    /// What to tell the operator.
    pub message: String,
}

impl Problem {
    /// A problem with code `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
        }
    }
}

fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn unexpected(what: &Path, err: &io::Error) -> Problem {
    Problem::new(Code::System, format!("{}: {err}", what.display()))
}

/// Checks that `dir` is a directory we can look into that holds at least one
/// of `ok`, `control`, `status`.
pub fn check(dir: &Path) -> Result<(), Problem> {
    require_dir(dir)?;
    let mut found = false;
    for name in ["ok", "control", "status"] {
        match std::fs::symlink_metadata(file(dir, name)) {
            Ok(_) => found = true,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
                return Err(Problem::new(
                    Code::Inaccessible,
                    format!("cannot look inside: {err}"),
                ));
            }
            Err(err) => return Err(unexpected(&file(dir, name), &err)),
        }
    }
    if !found {
        return Err(Problem::new(
            Code::NotStatusDir,
            "not a status directory (no ok, control or status in it)",
        ));
    }
    Ok(())
}

/// Whether supervise is alive, from the `ok` FIFO (daemontools `svok`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// `ok` has a reader (or, when we may not open `ok`, `lock` is held).
    Alive,
    /// `ok` is missing, not a FIFO, or has no reader (or, when we may not
    /// open it, nobody holds `lock`, which supervise holds for its life).
    Dead(&'static str),
}

/// Opens `ok` for writing without blocking: that succeeds only while a
/// reader (supervise) holds it open.
pub fn liveness(dir: &Path) -> Result<Liveness, Problem> {
    let ok = file(dir, "ok");
    match std::fs::symlink_metadata(&ok) {
        Ok(meta) if meta.file_type().is_fifo() => {}
        Ok(_) => return Ok(Liveness::Dead("ok is not a FIFO")),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok(Liveness::Dead("there is no ok FIFO"));
        }
        Err(err) => return Err(unexpected(&ok, &err)),
    }
    match fifo::open_writer(&ok) {
        Ok(_) => Ok(Liveness::Alive),
        Err(err) if err.raw_os_error() == Some(libc::ENXIO) => {
            Ok(Liveness::Dead("nobody reads the ok FIFO"))
        }
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            // `ok` is 0600; another user can still see the flock on `lock`.
            if supervise_pid(dir).is_some() {
                Ok(Liveness::Alive)
            } else {
                Ok(Liveness::Dead("nobody holds its lock"))
            }
        }
        Err(err) => Err(unexpected(&ok, &err)),
    }
}

/// The check of the original script: supervise must be alive.
pub fn require_alive(dir: &Path) -> Result<(), Problem> {
    match liveness(dir)? {
        Liveness::Alive => Ok(()),
        Liveness::Dead(why) => Err(Problem::new(
            Code::NotRunning,
            format!("supervise is not running ({why})"),
        )),
    }
}

/// True while supervise reads `ok`; used while polling.
pub fn supervise_alive(dir: &Path) -> bool {
    matches!(liveness(dir), Ok(Liveness::Alive))
}

/// The pid of supervise: the holder of the flock on `lock`.
pub fn supervise_pid(dir: &Path) -> Option<u32> {
    lock::holder_pid(&file(dir, "lock"))
}

/// Reads and decodes `status`.
pub fn read_status(dir: &Path) -> Result<Status, Problem> {
    match status::read(dir) {
        Ok(status) => Ok(status),
        Err(status::ReadError::Short(0)) => Err(Problem::new(
            Code::StatusMissing,
            "the status file is empty",
        )),
        Err(status::ReadError::Short(n)) => Err(Problem::new(
            Code::StatusMissing,
            format!("the status file holds {n} bytes, not {}", status::LEN),
        )),
        Err(status::ReadError::Io(err)) if err.kind() == io::ErrorKind::NotFound => {
            Err(Problem::new(Code::StatusMissing, "there is no status file"))
        }
        Err(status::ReadError::Io(err)) if err.kind() == io::ErrorKind::PermissionDenied => {
            Err(Problem::new(
                Code::Permission,
                format!("permission denied: may not read the status file: {err}"),
            ))
        }
        Err(status::ReadError::Io(err)) => Err(unexpected(&file(dir, "status"), &err)),
    }
}

/// The write end of `control`, held for the whole command.
pub struct Control {
    fifo: File,
}

/// Checks that `control` is a FIFO, as the original script does before
/// any command.
pub fn require_control(dir: &Path) -> Result<(), Problem> {
    let path = file(dir, "control");
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_fifo() => Ok(()),
        Ok(_) => Err(Problem::new(Code::ControlMissing, "control is not a FIFO")),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Err(Problem::new(
            Code::ControlMissing,
            "there is no control FIFO",
        )),
        Err(err) => Err(unexpected(&path, &err)),
    }
}

/// Opens `control` for writing; fails unless supervise reads it.
pub fn open_control(dir: &Path) -> Result<Control, Problem> {
    require_control(dir)?;
    let path = file(dir, "control");
    match fifo::open_writer(&path) {
        Ok(fifo) => Ok(Control { fifo }),
        Err(err) if err.raw_os_error() == Some(libc::ENXIO) => Err(Problem::new(
            Code::NotRunning,
            "supervise is not running (nobody reads the control FIFO)",
        )),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Err(Problem::new(
            Code::Permission,
            format!("permission denied: may not write the control FIFO: {err}"),
        )),
        Err(err) => Err(unexpected(&path, &err)),
    }
}

impl Control {
    /// Writes `bytes` in one write: supervise reads them as one batch, in
    /// order (so `sdu` silences alarms before the stop).
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Problem> {
        match self.fifo.write(bytes) {
            Ok(n) if n == bytes.len() => Ok(()),
            Ok(n) => Err(Problem::new(
                Code::System,
                format!("only {n} of {} control bytes were written", bytes.len()),
            )),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(Problem::new(
                Code::System,
                "the control FIFO is full: supervise is not reading its commands",
            )),
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Err(Problem::new(
                Code::SuperviseExited,
                "supervise exited before reading the command",
            )),
            Err(err) => Err(Problem::new(
                Code::System,
                format!("writing control: {err}"),
            )),
        }
    }
}

/// The absolute path of `dir` with symlinks resolved, when it exists.
pub fn canonical(dir: &Path) -> Option<String> {
    std::fs::canonicalize(dir)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Whether `path` is a directory (following symlinks).
pub fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

/// Whether `path` looks like a status directory: a directory holding `ok`,
/// `control`, or a `status` that is not itself a directory. Used only to
/// choose between two readings of a command line, never as a check.
pub fn is_status_dir(path: &Path) -> bool {
    if !is_dir(path) {
        return false;
    }
    let present = |name: &str| std::fs::symlink_metadata(file(path, name)).is_ok();
    present("ok")
        || present("control")
        || std::fs::symlink_metadata(file(path, "status")).is_ok_and(|meta| !meta.is_dir())
}

/// Whether `path` is a status root: not itself a status directory, and
/// holding a `status/` directory (where supervise-scan keeps its services).
pub fn is_status_root(path: &Path) -> bool {
    !is_status_dir(path) && is_dir(&file(path, "status"))
}

/// `path` (a status directory or a status root) must be a directory we can
/// reach.
fn require_dir(path: &Path) -> Result<(), Problem> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Problem::new(Code::NotDirectory, "not a directory")),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            Err(Problem::new(Code::NotDirectory, "no such directory"))
        }
        Err(err) if err.raw_os_error() == Some(libc::ENOTDIR) => {
            Err(Problem::new(Code::NotDirectory, "not a directory"))
        }
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Err(Problem::new(
            Code::Inaccessible,
            format!("cannot reach it: {err}"),
        )),
        Err(err) => Err(unexpected(path, &err)),
    }
}

/// The services of a status root: the names of the directories in
/// `ROOT/status`, sorted, hidden ones (`.NAME`) skipped.
pub fn services(root: &Path) -> Result<Vec<String>, Problem> {
    require_dir(root)?;
    if !is_status_root(root) {
        return Err(Problem::new(
            Code::NotStatusDir,
            "not a status root (no status/ directory in it)",
        ));
    }
    let status = file(root, "status");
    let entries = std::fs::read_dir(&status).map_err(|err| {
        if err.kind() == io::ErrorKind::PermissionDenied {
            Problem::new(
                Code::Inaccessible,
                format!("cannot list {}: {err}", status.display()),
            )
        } else {
            unexpected(&status, &err)
        }
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| unexpected(&status, &err))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && is_dir(&entry.path()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The pid of the supervise-scan running on `root`: the holder of the flock
/// on `ROOT/supervise-scan.lock`.
pub fn scanner_pid(root: &Path) -> Result<u32, Problem> {
    require_dir(root)?;
    let lock_file = file(root, LOCK_FILE);
    match std::fs::symlink_metadata(&lock_file) {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(Problem::new(
                Code::NotRunning,
                format!("supervise-scan is not running here (there is no {LOCK_FILE})"),
            ));
        }
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            return Err(Problem::new(
                Code::Inaccessible,
                format!("cannot look inside: {err}"),
            ));
        }
        Err(err) => return Err(unexpected(&lock_file, &err)),
    }
    lock::holder_pid(&lock_file).ok_or_else(|| {
        Problem::new(
            Code::NotRunning,
            format!("supervise-scan is not running here (nobody holds {LOCK_FILE})"),
        )
    })
}

/// Writes one request line (`start NAME`) to the scanner of `root` in one
/// write. `Ok(false)` when no scanner reads the FIFO (or there is none):
/// the caller does without.
pub fn ask_scanner(root: &Path, line: &str) -> Result<bool, Problem> {
    let path = file(root, crate::scan::CONTROL_FILE);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_fifo() => {}
        Ok(_) => return Ok(false),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(unexpected(&path, &err)),
    }
    let mut fifo = match fifo::open_writer(&path) {
        Ok(fifo) => fifo,
        Err(err) if err.raw_os_error() == Some(libc::ENXIO) => return Ok(false),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            return Err(Problem::new(
                Code::Permission,
                format!("permission denied: may not write {}: {err}", path.display()),
            ));
        }
        Err(err) => return Err(unexpected(&path, &err)),
    };
    let request = format!("{line}\n");
    match fifo.write(request.as_bytes()) {
        Ok(n) if n == request.len() => Ok(true),
        Ok(n) => Err(Problem::new(
            Code::System,
            format!(
                "only {n} of {} bytes were written to {}",
                request.len(),
                path.display()
            ),
        )),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Err(Problem::new(
            Code::System,
            format!(
                "{} is full: supervise-scan is not reading its requests",
                path.display()
            ),
        )),
        Err(err) => Err(unexpected(&path, &err)),
    }
}

/// The text of `ROOT/supervise-scan.reload`, `None` when there is none yet.
pub fn read_reload(root: &Path) -> Result<Option<String>, Problem> {
    read_text(&file(root, RELOAD_FILE))
}

/// The `info` of a status directory, when there is one (docs/status-files.md:
/// an older supervise, or the original, writes none; what cannot be read is
/// taken as absent too, and `svc` falls back to `status`).
pub fn read_info(dir: &Path) -> Option<Info> {
    read_text(&file(dir, "info"))
        .ok()
        .flatten()
        .map(|text| Info::parse(&text))
}

/// The `info` of a status directory, when its writer still runs: one left
/// by a supervise that has exited tells nothing of the one that runs now
/// (perhaps the original, which writes none).
pub fn live_info(dir: &Path) -> Option<Info> {
    read_info(dir).filter(|info| process::pid_alive(info.supervise_pid))
}

/// The text of a status directory's `history`, `None` when there is none.
pub fn read_history(dir: &Path) -> Result<Option<String>, Problem> {
    read_text(&file(dir, "history"))
}

/// A whole small text file; `None` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, Problem> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => Err(Problem::new(
            Code::Permission,
            format!("permission denied: may not read {}: {err}", path.display()),
        )),
        Err(err) => Err(unexpected(path, &err)),
    }
}
