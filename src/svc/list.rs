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
struct Entry {
    dir: PathBuf,
    name: String,
}

/// `svc status`: resolves the operands against the root, expands roots into
/// their services, and shows them all. Returns 0 when every directory was
/// read and its supervise runs, else the code of the first that was not.
pub fn status(operands: &[Operand], json: bool, root: &Root) -> i32 {
    let mut first = FirstFailure::default();
    let (entries, whole_root) = gather(operands, root, &mut first);
    let shown: Vec<Shown> = entries
        .into_iter()
        .map(|Entry { dir, name }| {
            let seen = look(&dir);
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
    let layout = Layout::new(json, whole_root);
    // A root that could not be listed gets its complaint, not an empty table.
    if layout != Layout::Table || !shown.is_empty() || first.status() == 0 {
        for line in table::render(layout, &shown, wall_now()) {
            say(&line);
        }
    }
    first.status()
}

/// The directories the operands name, a status root expanded into its
/// services; and whether a whole root is listed.
fn gather(operands: &[Operand], root: &Root, first: &mut FirstFailure) -> (Vec<Entry>, bool) {
    let mut entries = Vec::new();
    let mut fail = |dir: &Path, problem: Problem| {
        complain(dir, &problem.message);
        first.record(problem.code.status(Form::Extended));
    };
    if operands.is_empty() {
        if let Err(problem) = expand(&root.path, &mut entries) {
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
        if dir::is_status_root(&dir) {
            whole_root = true;
            if let Err(problem) = expand(&dir, &mut entries) {
                fail(&dir, problem);
            }
        } else {
            let name = name(&dir);
            entries.push(Entry { dir, name });
        }
    }
    (entries, whole_root)
}

/// Adds every service of the status root `base`, sorted by name.
fn expand(base: &Path, entries: &mut Vec<Entry>) -> Result<(), Problem> {
    for name in dir::services(base)? {
        entries.push(Entry {
            dir: root::service_dir(base, &name),
            name,
        });
    }
    Ok(())
}

/// What `svc status` shows for one directory; a dead supervise is reported
/// as such rather than trusting its stale status file.
fn look(dir: &Path) -> Result<Observed, Problem> {
    dir::check(dir)?;
    let liveness = dir::liveness(dir)?;
    let status = dir::read_status(dir);
    let supervise = match liveness {
        dir::Liveness::Alive => Supervise::Running {
            pid: dir::supervise_pid(dir),
        },
        dir::Liveness::Dead(why) => {
            let Ok(status) = status else {
                return Err(Problem::new(
                    Code::NotRunning,
                    format!("supervise not running ({why}) and no readable status file"),
                ));
            };
            let pid_alive = process::pid_alive(status.pid);
            return Ok(observed(status, Supervise::NotRunning { pid_alive }));
        }
    };
    Ok(observed(status?, supervise))
}
