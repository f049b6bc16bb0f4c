//! The verb-first form, `svc [-d ROOT] start|stop|restart|reconf|exit
//! NAME...`: the original verb on each service in turn, in the order given,
//! each with its own `-w` deadline. Exits with the first failure's code, as
//! the daemontools form does; a signal stops the round.
//!
//! Under a supervise-scan (a scanner holds the lock of the root the
//! service's directory is in, `ROOT/status/NAME`), two verbs go through
//! the scanner's request FIFO (docs/status-files.md): `start` of a service
//! whose supervise is not running (it gave up, or exited) asks `start
//! NAME`, which starts that supervise again, and waits for the service to
//! be up; `stop` asks `stop NAME`, so that the services requiring NAME
//! stop first. Without a scanner reading its FIFO, both are as before.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cli::{Operand, Verb};
use super::code::{Code, Form};
use super::dir::{self, Problem};
use super::goal::Goal;
use super::root::Root;
use super::run::{self, Failure, say};
use super::verbs::{self, Stopper};
use super::wait::Waiting;

/// Runs `verb` on every operand; returns 0 or the first failure's code.
pub fn each(verb: Verb, operands: &[Operand], root: &Root, wait: Duration) -> i32 {
    run::each(operands, Form::Extended, |operand| {
        let dir = root.resolve(operand, &dir::is_dir);
        let result = one(&dir, verb, wait, Instant::now() + wait);
        (dir, result)
    })
}

fn one(dir: &Path, verb: Verb, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    let scanner = match verb {
        Verb::Start | Verb::Stop => Scanner::of(dir),
        _ => None,
    };
    match (verb, scanner) {
        (Verb::Start, Some(scanner)) if dir::check(dir).is_ok() && !dir::supervise_alive(dir) => {
            revive(dir, &scanner, wait, deadline)
        }
        (Verb::Stop, Some(scanner)) => {
            let stopper = Stopper::Scanner {
                root: &scanner.root,
                section: &scanner.section,
            };
            verbs::run_with(dir, verb, wait, deadline, stopper)
        }
        _ => verbs::run(dir, verb, wait, deadline),
    }
}

/// The supervise-scan a status directory belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scanner {
    /// Its status root.
    pub root: PathBuf,
    /// The service's section: the directory's name.
    pub section: String,
    /// The scanner's pid.
    pub pid: u32,
}

impl Scanner {
    /// The scanner running on the root `dir` is in, if `dir` is
    /// `ROOT/status/NAME` and a scanner holds ROOT's lock.
    pub fn of(dir: &Path) -> Option<Scanner> {
        let (root, section) = root_of(dir)?;
        let pid = dir::scanner_pid(&root).ok()?;
        Some(Scanner { root, section, pid })
    }
}

/// `(ROOT, NAME)` for a directory `ROOT/status/NAME`; a relative
/// `status/NAME` is in the root `.`. Pure.
pub fn root_of(dir: &Path) -> Option<(PathBuf, String)> {
    let section = dir.file_name()?.to_str()?.to_owned();
    let status = dir.parent()?;
    if status.file_name()? != "status" {
        return None;
    }
    let root = match status.parent()? {
        root if root.as_os_str().is_empty() => PathBuf::from("."),
        root => root.to_path_buf(),
    };
    Some((root, section))
}

/// `svc start NAME` for a service whose supervise is not running: asks
/// the scanner to start it again, and waits for it as `start` does.
fn revive(dir: &Path, scanner: &Scanner, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    let before = dir::read_status(dir).ok();
    if !dir::ask_scanner(&scanner.root, &format!("start {}", scanner.section))? {
        // The scanner reads no requests: the usual refusal.
        return verbs::run(dir, Verb::Start, wait, deadline);
    }
    let waiting = Waiting {
        dir,
        wait,
        deadline,
    };
    let up = verbs::kept_up(before.map(|status| status.since), None);
    let seen =
        waiting
            .until(Goal::Revived(up), &mut Vec::new())
            .map_err(|failure| match failure {
                Failure::Problem(problem) if problem.code == Code::Timeout => Problem {
                    message: format!(
                        "{}; supervise-scan (pid {}) was asked to start its supervise: see its log",
                        problem.message, scanner.pid
                    ),
                    ..problem
                }
                .into(),
                other => other,
            })?;
    say(&format!(
        "{} (supervise-scan, pid {}, started its supervise again)",
        verbs::started(&run::name(dir), &seen),
        scanner.pid
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_directory_is_in_the_root_above_status() {
        let of = |dir: &str| root_of(Path::new(dir));
        assert_eq!(
            of("/srv/status/web"),
            Some(("/srv".into(), "web".to_string()))
        );
        assert_eq!(of("status/web"), Some((".".into(), "web".to_string())));
        assert_eq!(of("./status/web"), Some((".".into(), "web".to_string())));
        assert_eq!(of("r/status/web/"), Some(("r".into(), "web".to_string())));
        assert_eq!(of("/srv/web"), None);
        assert_eq!(of("web"), None);
        assert_eq!(of("/"), None);
    }
}
