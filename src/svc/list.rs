//! `svc status [NAME|DIR|ROOT]...`: one human line or JSON object per
//! directory, or, when a whole status root is listed (no operand, or an
//! operand holding `status/`), one table or JSON array of every service.
//! A dead supervise is reported as such instead of its stale status file.
//! This module gathers and looks; [`table`] lays out what it saw.

use std::path::{Path, PathBuf};

use super::cli::Operand;
use super::code::{Code, Form};
use super::dir::{self, Problem};
use super::root::{self, Root};
use super::run::{FirstFailure, complain, label, name, observed, say, wall_now};
use super::show::{Observed, Supervise};
use super::table::{self, Layout, Shown};
use crate::sys::process;

/// One directory to show: as typed (or found under a root), and its NAME.
pub struct Entry {
    /// The status directory.
    pub dir: PathBuf,
    /// Its NAME.
    pub name: String,
    /// Named by a path on the command line (itself, or the root it is in).
    pub by_path: bool,
}

/// `svc status`: resolves the operands against the root, expands roots into
/// their services, and shows them all. Returns 0 when every directory was
/// read and its supervise runs, else the code of the first that was not.
pub fn status(operands: &[Operand], json: bool, root: &Root) -> i32 {
    let mut first = FirstFailure::default();
    let (entries, whole_root) = gather(operands, root, &mut first);
    let layout = Layout::new(json, whole_root);
    // The table has no column for supervise's pid: no need to look it up.
    let layout_shows_holder = layout != Layout::Table;
    let shown: Vec<Shown> = entries
        .into_iter()
        .map(|Entry { dir, name, .. }| {
            let seen = look(&dir, layout_shows_holder);
            let code = match &seen {
                Ok(observed) if matches!(observed.supervise, Supervise::NotRunning { .. }) => {
                    Code::NotRunning
                }
                Ok(_) => Code::Ok,
                Err(problem) => problem.code,
            };
            first.record(code.status(Form::Extended));
            Shown {
                label: label(&dir),
                name,
                seen,
            }
        })
        .collect();
    // A root that could not be listed gets its complaint, not an empty table.
    if layout != Layout::Table || !shown.is_empty() || first.status() == 0 {
        for line in table::render(layout, &shown, wall_now()) {
            say(&line);
        }
    }
    first.status()
}

/// The directories the operands name, a status root expanded into its
/// services; and whether a whole root is listed. A problem is reported at
/// once and recorded in `first`.
pub fn gather(operands: &[Operand], root: &Root, first: &mut FirstFailure) -> (Vec<Entry>, bool) {
    let mut entries = Vec::new();
    let mut fail = |dir: &Path, problem: Problem| {
        complain(dir, &problem.message);
        first.record(problem.code.status(Form::Extended));
    };
    if operands.is_empty() {
        if let Err(problem) = expand(&root.path, false, &mut entries) {
            let hint = format!(
                "{}; name the services, or give the root with -d ROOT or ${}",
                problem.message,
                root::ENV
            );
            fail(
                &root.path,
                Problem {
                    message: hint,
                    ..problem
                },
            );
        }
        return (entries, true);
    }
    let mut whole_root = false;
    for operand in operands {
        let dir = root.resolve(operand, &dir::is_dir);
        let by_path = matches!(operand, Operand::Path(_));
        if dir::is_status_root(&dir) {
            whole_root = true;
            if let Err(problem) = expand(&dir, true, &mut entries) {
                fail(&dir, problem);
            }
        } else {
            let name = name(&dir);
            entries.push(Entry { dir, name, by_path });
        }
    }
    (entries, whole_root)
}

/// Adds every service of the status root `base`, sorted by name.
fn expand(base: &Path, by_path: bool, entries: &mut Vec<Entry>) -> Result<(), Problem> {
    for name in dir::services(base)? {
        entries.push(Entry {
            dir: root::service_dir(base, &name),
            name,
            by_path,
        });
    }
    Ok(())
}

/// What `svc status` shows for one directory; a dead supervise is reported
/// as such rather than trusting its stale status file. `holder`: find
/// supervise's pid, which only some views show: from `info` when its
/// writer lives (one read), else the lock's holder (`sys::lock`, which may
/// scan /proc/locks).
pub fn look(dir: &Path, holder: bool) -> Result<Observed, Problem> {
    dir::check(dir)?;
    let liveness = dir::liveness(dir)?;
    let status = dir::read_status(dir);
    let why = match liveness {
        dir::Liveness::Alive => None,
        dir::Liveness::Dead(why) => Some(why),
    };
    if let Some(why) = why {
        let Ok(status) = status else {
            return Err(Problem::new(
                Code::NotRunning,
                format!("supervise not running ({why}) and no readable status file"),
            ));
        };
        let pid_alive = process::pid_alive(status.pid);
        let supervise = Supervise::NotRunning { pid_alive };
        return Ok(observed(status, supervise, dir::read_info(dir)));
    }
    let mut status = status?;
    let mut info = dir::live_info(dir);
    // Read between supervise's writes of the two files: look once more.
    if info.as_ref().is_some_and(|info| info.pid != status.pid) {
        status = dir::read_status(dir)?;
        info = dir::live_info(dir);
    }
    let pid = match &info {
        _ if !holder => None,
        Some(info) => Some(info.supervise_pid),
        None => dir::supervise_pid(dir),
    };
    Ok(observed(status, Supervise::Running { pid }, info))
}
