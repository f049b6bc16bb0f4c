//! `svc reload [ROOT]`: asks the supervise-scan running on a status root to
//! re-read its configuration, by SIGHUP to the holder of
//! `ROOT/supervise-scan.lock`. The scanner publishes no state to wait for:
//! what it started, stopped or changed is in its log.

use super::code::{Code, Form};
use super::dir::{self, Problem};
use super::root::Root;
use super::run::{complain, say};
use crate::supervisor::Target;
use crate::sys::process;

/// Sends SIGHUP to the scanner of `root`; returns the exit status.
pub fn reload(root: &Root) -> i32 {
    let shown = dir::canonical(&root.path).unwrap_or_else(|| root.path.display().to_string());
    match hang_up(root) {
        Ok(pid) => {
            say(&format!(
                "{shown}: asked supervise-scan (pid {pid}) to re-read its configuration; \
                 what changed is in its log"
            ));
            0
        }
        Err(problem) => {
            complain(std::path::Path::new(&shown), &problem.message);
            problem.code.status(Form::Extended)
        }
    }
}

fn hang_up(root: &Root) -> Result<u32, Problem> {
    let pid = dir::scanner_pid(&root.path)?;
    match process::kill(Target::Child(pid), libc::SIGHUP) {
        Ok(()) => Ok(pid),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Err(Problem::new(
            Code::NotRunning,
            format!("supervise-scan (pid {pid}) exited before it could be asked"),
        )),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(Problem::new(
            Code::Permission,
            format!("permission denied: may not signal supervise-scan (pid {pid})"),
        )),
        Err(err) => Err(Problem::new(
            Code::System,
            format!("cannot signal supervise-scan (pid {pid}): {err}"),
        )),
    }
}
