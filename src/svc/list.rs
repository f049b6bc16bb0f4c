//! `svc status [NAME|DIR|ROOT]...`: one human line or JSON object per
//! directory, or, when a whole status root is listed (no operand, or an
//! operand holding `status/`), one table or JSON array of every service.
//! A dead supervise is reported as such instead of its stale status file.

use std::path::{Path, PathBuf};

use super::cli::Operand;
use super::code::{Code, Form};
use super::dir::{self, Problem};
use super::root::{self, Root};
use super::run::{complain, label, name, say};
use super::show::{self, Observed, Supervise};
use super::table;
use crate::sys::{clock, process};

/// One directory to show: as typed (or found under a root), and its NAME.
struct Entry {
    dir: PathBuf,
    name: String,
}

/// `svc status`: resolves the operands against the root, expands roots into
/// their services, and shows them all. Returns 0 when every directory was
/// read and its supervise runs, else the code of the first that was not.
pub fn status(operands: &[Operand], json: bool, root: &Root) -> i32 {
    let mut first_failure = Code::Ok;
    let mut fail = |code: Code| {
        if first_failure == Code::Ok {
            first_failure = code;
        }
    };
    let mut entries = Vec::new();
    let mut whole_root = operands.is_empty();
    if operands.is_empty()
        && let Err(problem) = expand(&root.path, &mut entries)
    {
        complain(
            &root.path,
            &format!(
                "{}; name the services, or give the root with -d ROOT or ${}",
                problem.message,
                root::ENV
            ),
        );
        fail(problem.code);
    }
    for operand in operands {
        let dir = root.resolve(operand, &dir::is_dir);
        if dir::is_status_root(&dir) {
            whole_root = true;
            if let Err(problem) = expand(&dir, &mut entries) {
                complain(&dir, &problem.message);
                fail(problem.code);
            }
        } else {
            let name = name(&dir);
            entries.push(Entry { dir, name });
        }
    }
    let now = clock::now().wall;
    let mut objects = Vec::new();
    let mut rows = Vec::new();
    for Entry { dir, name } in &entries {
        let label = label(dir);
        match look(dir) {
            Ok(observed) => {
                if matches!(observed.supervise, Supervise::NotRunning { .. }) {
                    fail(Code::NotRunning);
                }
                if json {
                    objects.push(show::json(&label, name, &observed, now));
                } else if whole_root {
                    rows.push(table::row(name, &observed, now));
                } else {
                    say(&show::line(&label, &observed, now));
                }
            }
            Err(problem) => {
                fail(problem.code);
                if json {
                    objects.push(show::json_error(
                        &label,
                        name,
                        problem.code,
                        &problem.message,
                    ));
                } else if whole_root {
                    rows.push(table::error_row(name, &problem.message));
                } else {
                    say(&format!("{label}: {}", problem.message));
                }
            }
        }
    }
    if json && whole_root {
        say(&table::json_array(&objects));
    } else if json {
        for object in &objects {
            say(object);
        }
    } else if whole_root && (first_failure == Code::Ok || !entries.is_empty()) {
        say(&table::render(&rows));
    }
    first_failure.status(Form::Extended)
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
            return Ok(Observed {
                status,
                supervise: Supervise::NotRunning {
                    pid_alive: process::pid_alive(status.pid),
                },
            });
        }
    };
    Ok(Observed {
        status: status?,
        supervise,
    })
}
