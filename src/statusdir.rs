//! Setting up a status directory (SPEC §2) before supervise detaches, so
//! that everything a user can get wrong is reported on the terminal: the
//! directory (created with its parents, mode 0700; tightened if others may
//! write it), the lock and the record in it, the FIFOs (tightened, or
//! replaced when they are not ours, if others may use them), the logs, the
//! child's output files. Nothing here blocks: a FIFO with no reader where a
//! log or output file should be is an error or a warning, never a hang.
//! Also finds a service that a previous supervise of the directory left
//! running when it was killed (stopping it is the supervisor's business),
//! and repairs the directory while supervise runs: a lock, FIFO or the
//! whole directory removed (a tmp cleaner, `rm -rf`), a FIFO replaced by a
//! regular file (`echo d > control` after it vanished), a mode loosened.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::status;
use crate::sys::lock::{self, Acquired, Record};
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
    /// Held so the flock lasts as long as supervise; holds the record.
    lock: File,
    /// Our own write end of `control`, so reads never see end-of-file.
    control_writer: File,
    /// Held open so that `ok` has a reader while supervise lives.
    ok: File,
}

impl StatusDir {
    /// The record naming this supervise and `group`.
    pub fn record(&self, group: Option<lock::Group>) -> Record {
        Record {
            supervise: std::process::id(),
            fd: self.lock.as_raw_fd(),
            group,
        }
    }

    /// Rewrites the lock file's record in place.
    pub fn write_record(&self, record: &Record) -> io::Result<()> {
        lock::write_record(&self.lock, record)
    }

    /// Puts the directory right again, after [`repair_for`]: makes what was
    /// removed, adopts a FIFO or lock file someone made again, replaces a
    /// regular file written where a FIFO was, tightens a loosened mode.
    /// Returns what was done, for the log; an error is retried by the caller.
    pub fn repair(&mut self) -> io::Result<Vec<String>> {
        let shown = self.path.display().to_string();
        let mut done = Vec::new();
        if !self.path.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.path)
                .map_err(|e| context(format!("cannot make status directory {shown} again"), e))?;
            done.push(format!("status directory {shown} was removed: made again"));
        }
        for own in [Own::Lock, Own::Control, Own::Ok] {
            let found = self.look(own)?;
            let path = self.path.join(own.name());
            let said = |what: &str| format!("{}: {what}", path.display());
            match repair_for(own, found) {
                Repair::Nothing => continue,
                Repair::Tighten => {
                    fifo::tighten(self.file(own))
                        .map_err(|e| context(said("cannot tighten"), e))?;
                    done.push(said("could be used by others: tightened to 0600"));
                }
                Repair::Make => {
                    self.reopen(own)?;
                    done.push(said("was removed: made again"));
                }
                Repair::Adopt => {
                    self.reopen(own)?;
                    done.push(said("was made again by someone else: taken over"));
                }
                Repair::Replace => {
                    std::fs::remove_file(&path).map_err(|e| context(said("cannot remove"), e))?;
                    self.reopen(own)?;
                    done.push(said(
                        "was a regular file (written while the FIFO was missing?): replaced by a FIFO; what it held was not obeyed",
                    ));
                }
                Repair::Refuse => {
                    return Err(context(
                        said("is not a file supervise can use (a directory, a symlink?)"),
                        io::ErrorKind::AlreadyExists.into(),
                    ));
                }
            }
        }
        Ok(done)
    }

    fn file(&self, own: Own) -> &File {
        match own {
            Own::Lock => &self.lock,
            Own::Control => &self.control,
            Own::Ok => &self.ok,
        }
    }

    /// What is at the path of `own` now.
    fn look(&self, own: Own) -> io::Result<Found> {
        use std::os::unix::fs::FileTypeExt;
        let path = self.path.join(own.name());
        let on_disk = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
            Err(e) => return Err(context(format!("cannot stat {}", path.display()), e)),
        };
        let open = self.file(own).metadata()?;
        Ok(
            if (on_disk.dev(), on_disk.ino()) == (open.dev(), open.ino()) {
                Found::Ours {
                    loose: on_disk.mode() & 0o077 != 0,
                }
            } else if on_disk.file_type().is_fifo() {
                Found::OtherFifo
            } else if on_disk.file_type().is_file() {
                Found::OtherFile
            } else {
                Found::Foreign
            },
        )
    }

    /// Opens `own` at its path afresh (making it if missing) in place of
    /// the one supervise had.
    fn reopen(&mut self, own: Own) -> io::Result<()> {
        let path = self.path.join(own.name());
        let shown = path.display();
        let mut ignored = Vec::new();
        let setup = |e: SetupError| match e {
            SetupError::Io { what, err } => context(what, err),
            locked => io::Error::other(locked.to_string()),
        };
        match own {
            Own::Lock => match lock::acquire(&path)
                .map_err(|e| context(format!("cannot lock {shown}"), e))?
            {
                Acquired::Held(file) => {
                    self.lock = file;
                    let record = self.record(None);
                    let _ = self.write_record(&record);
                    let _ = self.lock.set_len(Record::LEN as u64);
                }
                Acquired::Busy(pid) => {
                    return Err(io::Error::other(format!(
                        "{shown} is held by {}: another supervise has taken this directory",
                        pid.map_or("another process".to_owned(), |p| format!("pid {p}"))
                    )));
                }
            },
            Own::Control => {
                let control = open_fifo(&path, &mut ignored).map_err(setup)?;
                let writer = fifo::open_writer(&path)
                    .map_err(|e| context(format!("cannot open {shown}"), e))?;
                self.control = control;
                self.control_writer = writer;
            }
            Own::Ok => self.ok = open_fifo(&path, &mut ignored).map_err(setup)?,
        }
        Ok(())
    }
}

/// `e` with what was being done, naming the path.
fn context(what: String, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// One of the files supervise keeps open in its status directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Own {
    /// `lock`.
    Lock,
    /// `control`.
    Control,
    /// `ok`.
    Ok,
}

impl Own {
    /// Its name in the directory.
    pub fn name(self) -> &'static str {
        match self {
            Own::Lock => "lock",
            Own::Control => "control",
            Own::Ok => "ok",
        }
    }
}

/// What is found at the path of one of supervise's own files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// The file supervise has open; `loose` if others may use it.
    Ours {
        /// Group or others have permissions on it.
        loose: bool,
    },
    /// Nothing (removed, or the directory was).
    Missing,
    /// A FIFO, not the one supervise has open (made again by someone).
    OtherFifo,
    /// A regular file that is not the one supervise has open.
    OtherFile,
    /// A directory, symlink or device: nothing supervise may use or remove.
    Foreign,
}

/// What to do about what was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// All is well.
    Nothing,
    /// chmod 0600.
    Tighten,
    /// Make it again and use it.
    Make,
    /// Use the one that is there.
    Adopt,
    /// Remove what is there, then make it.
    Replace,
    /// Leave it, and say so (retried later).
    Refuse,
}

/// The rule for repairing one of supervise's own files.
pub fn repair_for(own: Own, found: Found) -> Repair {
    match (own, found) {
        (_, Found::Ours { loose: false }) => Repair::Nothing,
        (_, Found::Ours { loose: true }) => Repair::Tighten,
        (_, Found::Missing) => Repair::Make,
        // `touch lock` after it was removed: take its flock.
        (Own::Lock, Found::OtherFile) => Repair::Adopt,
        (Own::Lock, Found::OtherFifo) => Repair::Refuse,
        // Someone made the FIFO again (mkfifo, or a supervise starting).
        (Own::Control | Own::Ok, Found::OtherFifo) => Repair::Adopt,
        // A write to the name while the FIFO was missing made a file.
        (Own::Control | Own::Ok, Found::OtherFile) => Repair::Replace,
        (_, Found::Foreign) => Repair::Refuse,
    }
}

/// A status directory just set up.
pub struct Opened {
    /// The directory.
    pub dir: StatusDir,
    /// What the operator should know (a mode tightened, an output FIFO
    /// with no reader yet): for the terminal and supervise.log.wf.
    pub warnings: Vec<String>,
    /// The record a previous supervise left in the lock file, if any.
    pub previous: Option<Record>,
}

/// Why a status directory cannot be used.
#[derive(Debug)]
pub enum SetupError {
    /// Another supervise holds the directory.
    Locked {
        /// The directory.
        dir: PathBuf,
        /// The holder, when it can be found.
        pid: Option<u32>,
        /// The holder's lock file was removed (it still reads `ok`).
        lock_removed: bool,
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
                pid,
                lock_removed,
            } => {
                write!(f, "supervise already running for {}", dir.display())?;
                if let Some(pid) = pid {
                    write!(f, ", pid {pid}")?;
                }
                if *lock_removed {
                    write!(f, " (its lock file was removed; it still reads ok)")?;
                }
                Ok(())
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
pub fn open(path: &Path, max_log_bytes: u64) -> Result<Opened, SetupError> {
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
    let mut warnings = Vec::new();
    tighten_dir(path, &mut warnings)?;
    let lock_file = match lock::acquire(&path.join("lock"))
        .map_err(io_err(format!("cannot lock {shown}/lock")))?
    {
        Acquired::Held(file) => file,
        Acquired::Busy(pid) => return Err(refuse(path, max_log_bytes, pid, false)),
    };
    // A supervise whose lock file was removed still runs, and still holds
    // `ok`: the lock just taken is not proof that the directory is free.
    if let Some(pid) = supervise_without_lock(path) {
        return Err(refuse(path, max_log_bytes, pid, true));
    }
    if let Some(mode) =
        fifo::loose_mode(&lock_file).map_err(io_err(format!("cannot stat {shown}/lock")))?
    {
        fifo::tighten(&lock_file).map_err(io_err(format!(
            "{shown}/lock may be used by others (mode {mode:04o}) and cannot be tightened"
        )))?;
        warnings.push(format!(
            "{shown}/lock could be used by others (mode {mode:04o}): tightened to 0600"
        ));
    }
    let previous = lock::read_record(&lock_file);
    let control_path = path.join("control");
    let control = open_fifo(&control_path, &mut warnings)?;
    let control_writer =
        fifo::open_writer(&control_path).map_err(io_err(format!("cannot open {shown}/control")))?;
    let ok = open_fifo(&path.join("ok"), &mut warnings)?;
    let logs = Logger::open(path, max_log_bytes)
        .map_err(io_err(format!("cannot open the logs in {shown}")))?;
    for name in ["__stdout", "__stderr"] {
        match spawn::open_append(&path.join(name)) {
            Ok(_) => {}
            // A FIFO nobody reads yet (a logger to be started): the service
            // starts once one does; until then each start fails and is
            // retried with back-off.
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                warnings.push(format!(
                    "{shown}/{name} is a FIFO with no reader: the service cannot start until one opens it (retried with back-off)"
                ));
            }
            Err(err) => {
                return Err(SetupError::Io {
                    what: format!("cannot use {shown}/{name}"),
                    err,
                });
            }
        }
    }
    let dir = StatusDir {
        path: path.to_owned(),
        control,
        logs,
        lock: lock_file,
        control_writer,
        ok,
    };
    // Ours from now on: a supervise or svc that looks finds us. A failure
    // here (a full file system) is retried by the driver.
    let record = dir.record(None);
    if dir.write_record(&record).is_ok() {
        let _ = dir.lock.set_len(Record::LEN as u64);
    }
    Ok(Opened {
        dir,
        warnings,
        previous,
    })
}

/// The original's line (sic), which monitoring may look for, appended to
/// the running supervise's log (never truncated); then the error.
fn refuse(path: &Path, max_log_bytes: u64, pid: Option<u32>, lock_removed: bool) -> SetupError {
    if let Ok(mut wf) = Logger::open(path, max_log_bytes) {
        wf.log(
            crate::supervisor::Level::Warning,
            crate::sys::clock::now().wall,
            &format!("Unable to acquier {}/lock", path.display()),
        );
    }
    SetupError::Locked {
        dir: path.to_owned(),
        pid,
        lock_removed,
    }
}

/// A live supervise still reads this directory's `ok` although we hold the
/// lock (its lock file was removed and a new one made): `Some`, with its
/// pid when it can be found.
fn supervise_without_lock(dir: &Path) -> Option<Option<u32>> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let ok = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(dir.join("ok"))
        .ok()?;
    let meta = ok.metadata().ok().filter(|m| m.file_type().is_fifo())?;
    // Naming it takes a walk through /proc; this is a rare error path.
    Some(process::opener_of(meta.dev(), meta.ino()))
}

/// A status directory that others may write is tightened to 0700: anyone
/// who can write it can plant files and links where supervise writes.
/// Sharing it read-only (0750, 0755) is the operator's choice and is kept.
fn tighten_dir(path: &Path, warnings: &mut Vec<String>) -> Result<(), SetupError> {
    let shown = path.display();
    let mode = std::fs::metadata(path)
        .map_err(io_err(format!("cannot stat status directory {shown}")))?
        .permissions()
        .mode()
        & 0o7777;
    if mode & 0o022 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(io_err(
        format!("status directory {shown} is writable by others (mode {mode:04o}) and cannot be tightened"),
    ))?;
    warnings.push(format!(
        "status directory {shown} was writable by others (mode {mode:04o}): tightened to 0700"
    ));
    Ok(())
}

/// Makes (if missing) and opens the read end of the FIFO `path`; one that
/// others may use is tightened to 0600, or, when it is not ours to chmod,
/// replaced by a FIFO of our own.
fn open_fifo(path: &Path, warnings: &mut Vec<String>) -> Result<File, SetupError> {
    let shown = path.display();
    let open = || -> Result<File, SetupError> {
        fifo::make(path).map_err(io_err(format!("cannot make FIFO {shown}")))?;
        fifo::open_reader(path).map_err(io_err(format!("cannot open {shown}")))
    };
    let file = open()?;
    let Some(mode) = fifo::loose_mode(&file).map_err(io_err(format!("cannot stat {shown}")))?
    else {
        return Ok(file);
    };
    match fifo::tighten(&file) {
        Ok(()) => {
            warnings.push(format!(
                "{shown} could be used by others (mode {mode:04o}): tightened to 0600"
            ));
            Ok(file)
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            drop(file);
            std::fs::remove_file(path).map_err(io_err(format!(
                "{shown} may be used by others (mode {mode:04o}), is not ours, and cannot be replaced"
            )))?;
            let file = open()?;
            warnings.push(format!(
                "{shown} could be used by others (mode {mode:04o}) and was not ours: replaced by a FIFO of our own, mode 0600"
            ));
            Ok(file)
        }
        Err(err) => Err(SetupError::Io {
            what: format!(
                "{shown} may be used by others (mode {mode:04o}) and cannot be tightened"
            ),
            err,
        }),
    }
}

/// How far a process's start time may be from the recorded start for it to
/// count as the service the record describes (and not a recycled pid).
const SAME_START: Duration = Duration::from_secs(5);

/// A process group that a previous supervise of this directory left
/// running when it was killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// The group, whose leader was the service.
    pub pgid: u32,
    /// When its leader started, as recorded.
    pub since: Duration,
}

/// Finds a service left running by a previous supervise of this directory:
/// first from the record it kept in the lock file (up to date even when the
/// status file could not be written), then from the status file (all the
/// original C supervise leaves). A candidate counts only if it is really
/// that service: its leader still leads the group and started when the
/// record says, or, the leader being gone, every live member started after
/// it. A recycled pid is never touched.
pub fn find_leftover(dir: &Path, previous: Option<&Record>) -> Option<Leftover> {
    let recorded = previous.and_then(|r| r.group).map(|g| Leftover {
        pgid: g.pgid,
        since: g.since,
    });
    let from_status = status::read(dir).ok().map(|s| Leftover {
        pgid: s.pid,
        since: s.since,
    });
    recorded
        .into_iter()
        .chain(from_status)
        .find(|candidate| is_still_running(*candidate))
}

fn is_still_running(candidate: Leftover) -> bool {
    let Leftover { pgid, since } = candidate;
    if pgid <= 1 {
        return false;
    }
    if let Some(leader) = process::info(pgid) {
        return leader.pgid == pgid && leader.started.abs_diff(since) <= SAME_START;
    }
    let members = process::live_members(pgid, process::GroupWatch::MAX).unwrap_or_default();
    !members.is_empty()
        && members.iter().all(|&pid| {
            process::info(pid).is_some_and(|m| m.pgid == pgid && m.started + SAME_START >= since)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_repaired_and_how() {
        use Found::*;
        use Own::*;
        let table = [
            (Lock, Ours { loose: false }, Repair::Nothing),
            (Control, Ours { loose: true }, Repair::Tighten),
            (Ok, Missing, Repair::Make),
            (Lock, Missing, Repair::Make),
            (Lock, OtherFile, Repair::Adopt),
            (Lock, OtherFifo, Repair::Refuse),
            (Control, OtherFifo, Repair::Adopt),
            (Ok, OtherFifo, Repair::Adopt),
            (Control, OtherFile, Repair::Replace),
            (Ok, OtherFile, Repair::Replace),
            (Control, Foreign, Repair::Refuse),
            (Lock, Foreign, Repair::Refuse),
        ];
        for (own, found, repair) in table {
            assert_eq!(repair_for(own, found), repair, "{own:?} {found:?}");
        }
    }
}
