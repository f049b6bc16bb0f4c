//! Setting up a status directory (SPEC §2) before supervise detaches, so
//! that everything a user can get wrong is reported on the terminal: the
//! directory (created with its parents, mode 0700), the lock, the FIFOs, the
//! logs, the child's output files. Also finds a service left running by a
//! previous supervise that was killed, so that no second copy starts.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::status;
use crate::sys::lock::{self, Acquired};
use crate::sys::logfile::Logger;
use crate::sys::{fifo, process, spawn};

/// An open, locked status directory.
pub struct StatusDir {
    /// Its path, as given.
    pub path: PathBuf,
    /// The control FIFO's read end (non-blocking).
    pub control: File,
    /// NOTICE and WARNING/FATAL logs.
    pub logs: Logger,
    /// Held so the flock lasts as long as supervise.
    _lock: File,
    /// Our own write end of `control`, so reads never see end-of-file.
    _control_writer: File,
    /// Held open so that `ok` has a reader while supervise lives.
    _ok: File,
}

/// Why a status directory cannot be used.
#[derive(Debug)]
pub enum SetupError {
    /// Another supervise holds the lock.
    Locked {
        /// The directory.
        dir: PathBuf,
        /// The holder, when /proc/locks tells.
        pid: Option<u32>,
    },
    /// A file-system step failed.
    Io {
        /// What we were doing, naming the path.
        what: String,
        /// The error.
        err: io::Error,
    },
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Locked {
                dir,
                pid: Some(pid),
            } => {
                write!(
                    f,
                    "supervise already running for {}, pid {pid}",
                    dir.display()
                )
            }
            SetupError::Locked { dir, pid: None } => {
                write!(f, "supervise already running for {}", dir.display())
            }
            SetupError::Io { what, err } => write!(f, "{what}: {err}"),
        }
    }
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> SetupError {
    let what = what.into();
    move |err| SetupError::Io { what, err }
}

/// Creates (if needed), locks and opens the status directory `path`.
pub fn open(path: &Path, max_log_bytes: u64) -> Result<StatusDir, SetupError> {
    let shown = path.display();
    if !path.is_dir() {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(io_err(format!("cannot create {}", parent.display())))?;
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(path)
            .or_else(|e| if path.is_dir() { Ok(()) } else { Err(e) })
            .map_err(io_err(format!("cannot create status directory {shown}")))?;
    }
    let lock_file = match lock::acquire(&path.join("lock"))
        .map_err(io_err(format!("cannot lock {shown}/lock")))?
    {
        Acquired::Held(file) => file,
        Acquired::Busy(pid) => {
            // The original's line (sic), which monitoring may look for; the
            // running supervise's log is appended to, never truncated.
            if let Ok(mut wf) = Logger::open(path, max_log_bytes) {
                wf.log(
                    crate::supervisor::Level::Warning,
                    crate::sys::clock::now().wall,
                    &format!("Unable to acquier {}/lock", path.display()),
                );
            }
            return Err(SetupError::Locked {
                dir: path.to_owned(),
                pid,
            });
        }
    };
    for name in ["control", "ok"] {
        fifo::make(&path.join(name)).map_err(io_err(format!("cannot make FIFO {shown}/{name}")))?;
    }
    let control_path = path.join("control");
    let control =
        fifo::open_reader(&control_path).map_err(io_err(format!("cannot open {shown}/control")))?;
    let control_writer =
        fifo::open_writer(&control_path).map_err(io_err(format!("cannot open {shown}/control")))?;
    let ok =
        fifo::open_reader(&path.join("ok")).map_err(io_err(format!("cannot open {shown}/ok")))?;
    let logs = Logger::open(path, max_log_bytes)
        .map_err(io_err(format!("cannot open the logs in {shown}")))?;
    for name in ["__stdout", "__stderr"] {
        spawn::open_append(&path.join(name))
            .map_err(io_err(format!("cannot open {shown}/{name}")))?;
    }
    Ok(StatusDir {
        path: path.to_owned(),
        control,
        logs,
        _lock: lock_file,
        _control_writer: control_writer,
        _ok: ok,
    })
}

/// How far a process's start time may be from the status file's time for
/// it to count as the service that file describes (and not a recycled pid).
const SAME_START: Duration = Duration::from_secs(5);

/// A service left running by a previous supervise of this directory (killed
/// with SIGKILL): the status file still names it, it still leads its own
/// process group, and it started when the status file says. Returns its pid.
pub fn find_leftover(dir: &Path) -> Option<u32> {
    let status = status::read(dir).ok()?;
    if status.pid <= 1 {
        return None;
    }
    let info = process::info(status.pid)?;
    let gap = info.started.abs_diff(status.since);
    (info.pgid == status.pid && gap <= SAME_START).then_some(status.pid)
}

/// Stops the process group `pgid` we are not the parent of: TERM and CONT,
/// then KILL after `timeout`. We cannot be told when a non-child exits, so
/// this one-off wait at start-up polls the group every 10 ms. Returns whether
/// KILL was needed.
pub fn stop_leftover(pgid: u32, timeout: Duration) -> bool {
    use crate::supervisor::Target;
    let _ = process::signal(Target::Group(pgid), libc::SIGTERM);
    let _ = process::signal(Target::Group(pgid), libc::SIGCONT);
    if wait_group_gone(pgid, timeout) {
        return false;
    }
    let _ = process::signal(Target::Group(pgid), libc::SIGKILL);
    wait_group_gone(pgid, crate::supervisor::KILL_GRACE);
    true
}

fn wait_group_gone(pgid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while process::group_alive(pgid) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
