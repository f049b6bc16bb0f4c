//! `svc status DIR...`: one human line or JSON object per directory, with
//! a dead supervise reported as such instead of its stale status file.

use std::path::{Path, PathBuf};

use super::code::Code;
use super::dir::{self, Problem};
use super::proc;
use super::run::{label, name, say};
use super::show::{self, Observed, Supervise};

/// `svc status DIR...`: one line or JSON object per directory. Returns 0
/// when every directory was read and its supervise runs, else the code of
/// the first that failed.
pub fn list(dirs: &[PathBuf], json: bool) -> i32 {
    let now = proc::now();
    let mut first_failure = Code::Ok;
    for dir in dirs {
        let label = label(dir);
        let name = name(dir);
        match look(dir) {
            Ok(observed) => {
                if matches!(observed.supervise, Supervise::NotRunning { .. })
                    && first_failure == Code::Ok
                {
                    first_failure = Code::NotRunning;
                }
                if json {
                    say(&show::json(&label, &name, &observed, now));
                } else {
                    say(&show::line(&label, &observed, now));
                }
            }
            Err(problem) => {
                if first_failure == Code::Ok {
                    first_failure = problem.code;
                }
                if json {
                    say(&show::json_error(
                        &label,
                        &name,
                        problem.code,
                        &problem.message,
                    ));
                } else {
                    say(&format!("{label}: {}", problem.message));
                }
            }
        }
    }
    first_failure.status()
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
                    pid_alive: proc::pid_alive(status.pid),
                },
            });
        }
    };
    Ok(Observed {
        status: status?,
        supervise,
    })
}
