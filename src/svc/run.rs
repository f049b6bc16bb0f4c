//! Carries out a parsed [`Command`]: the dispatch, and what the verbs, the
//! listing and the daemontools form share — the output helpers, the one
//! "first failure wins" round over many directories, and what `svc` reads
//! of the clock and the calendar. Decisions come from the pure modules;
//! files and processes are touched only through [`dir`] and `sys`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::cli::Command;
use super::code::{self, Form};
use super::dir::Problem;
use super::show::{self, Facts, LocalTime, Observed, Supervise};
use super::{dir, flags, history, interrupt, list, metrics, named, reload, root, verbs};
use crate::info::Info;
use crate::status::Status;
use crate::sys::localtime;

/// Why a command stopped short.
#[derive(Debug)]
pub enum Failure {
    /// A refusal or an error, with its exit code.
    Problem(Problem),
    /// A signal came while waiting.
    Interrupted(i32),
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Failure {
        Failure::Problem(problem)
    }
}

/// Prints to stdout, ignoring a closed pipe: `svc` must go on to turn
/// alarms back on even if nobody reads what it says.
pub fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// Prints `svc: DIR: message` to stderr.
pub fn complain(dir: &Path, message: &str) {
    let _ = writeln!(std::io::stderr(), "svc: {}: {message}", dir.display());
}

/// The directory as the user typed it.
pub fn label(dir: &Path) -> String {
    dir.to_string_lossy().into_owned()
}

/// The service NAME, as supervise derives it.
pub fn name(dir: &Path) -> String {
    show::service_name(&label(dir), dir::canonical(dir).as_deref())
}

/// The wall clock, as the status file counts time: since the epoch.
pub fn wall_now() -> Duration {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A moment on the local calendar (`sys::localtime`).
pub fn local(at: Duration) -> LocalTime {
    LocalTime {
        text: localtime::format(at),
        utc_offset: localtime::utc_offset(at),
    }
}

/// What `svc` learned about a directory, its times on the local calendar;
/// `info` only if it agrees with the rest ([`show::agrees`]).
pub fn observed(status: Status, supervise: Supervise, info: Option<Info>) -> Observed {
    let facts = info
        .filter(|info| show::agrees(info, &status, supervise))
        .map(|info| Facts {
            started: info.started.map(local),
            ready_since: info.ready_since.map(local),
            last_exit_time: info.last_exit_time.map(local),
            next_start: info.next_start.map(local),
            info,
        });
    Observed {
        since: local(status.since),
        status,
        supervise,
        facts,
    }
}

/// Runs `command` and returns the process exit status.
pub fn run(command: Command) -> i32 {
    match command {
        Command::Help => {
            say(&super::help::text());
            0
        }
        Command::Version => {
            say(&format!("svc (supervise) {}", env!("CARGO_PKG_VERSION")));
            0
        }
        Command::Status {
            operands,
            json,
            root,
        } => list::status(&operands, json, &choose_root(root)),
        Command::Named {
            verb,
            operands,
            root,
            wait,
        } => {
            interrupt::catch();
            named::each(verb, &operands, &choose_root(root), wait)
        }
        Command::Reload { root, wait } => {
            interrupt::catch();
            reload::reload(&choose_root(root), wait)
        }
        Command::Wait {
            until,
            operands,
            root,
            wait,
        } => {
            interrupt::catch();
            let root = choose_root(root);
            let dirs: Vec<PathBuf> = operands
                .iter()
                .map(|operand| root.resolve(operand, &dir::is_dir))
                .collect();
            flags::send(&[], Some(until), &dirs, wait)
        }
        Command::History {
            operand,
            json,
            count,
            root,
        } => history::show(&operand, json, count, &choose_root(root)),
        Command::Metrics { operands, root } => metrics::print(&operands, &choose_root(root)),
        Command::Verb { dir, verb, wait } => {
            interrupt::catch();
            let deadline = Instant::now() + wait;
            match verbs::run(&dir, verb, wait, deadline) {
                Ok(()) => 0,
                Err(failure) => report(&dir, failure, Form::Original),
            }
        }
        Command::Send {
            bytes,
            until,
            dirs,
            wait,
        } => {
            interrupt::catch();
            flags::send(&bytes, until, &dirs, wait)
        }
    }
}

/// The root from the command line, else `$SUPERVISE_ROOT`, else `.`.
fn choose_root(option: Option<PathBuf>) -> root::Root {
    root::choose(option, std::env::var_os(root::ENV))
}

/// Prints a failure; returns its exit status in `form`.
pub fn report(dir: &Path, failure: Failure, form: Form) -> i32 {
    match failure {
        Failure::Problem(problem) => {
            complain(dir, &problem.message);
            problem.code.status(form)
        }
        Failure::Interrupted(signal) => {
            complain(dir, &format!("interrupted by signal {signal}"));
            code::interrupted(signal)
        }
    }
}

/// The exit status of a command over many directories: the first
/// failure's, 0 when there was none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FirstFailure(Option<i32>);

impl FirstFailure {
    /// Remembers `status` unless it is 0 or a failure came before.
    pub fn record(&mut self, status: i32) {
        if status != 0 && self.0.is_none() {
            self.0 = Some(status);
        }
    }

    /// The first failure's exit status, or 0.
    pub fn status(self) -> i32 {
        self.0.unwrap_or(0)
    }
}

/// The one round over many directories: runs `step` on each item in
/// order; `step` names the directory it worked on and how it went. Each
/// failure is reported under its directory; the exit status is the first
/// failure's; a signal ends the round.
pub fn each<T>(
    items: impl IntoIterator<Item = T>,
    form: Form,
    mut step: impl FnMut(T) -> (PathBuf, Result<(), Failure>),
) -> i32 {
    let mut first = FirstFailure::default();
    for item in items {
        let (dir, result) = step(item);
        if let Err(failure) = result {
            let interrupted = matches!(failure, Failure::Interrupted(_));
            first.record(report(&dir, failure, form));
            if interrupted {
                break;
            }
        }
    }
    first.status()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_wins() {
        let mut first = FirstFailure::default();
        assert_eq!(first.status(), 0);
        first.record(0);
        assert_eq!(first.status(), 0);
        first.record(7);
        first.record(2);
        first.record(0);
        assert_eq!(first.status(), 7);
    }
}
