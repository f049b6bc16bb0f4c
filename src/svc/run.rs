//! Carries out a parsed [`Command`]: the dispatch, and the output helpers
//! the verbs, the listing and the daemontools form share. Decisions come
//! from the pure modules; files and processes are touched only through
//! [`dir`] and [`proc`](super::proc).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use super::cli::Command;
use super::code::{self, Form};
use super::dir::Problem;
use super::show;
use super::{dir, flags, interrupt, list, named, reload, root, verbs};

/// Why a command stopped short.
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
        Command::Reload { root } => reload::reload(&choose_root(root)),
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
fn choose_root(option: Option<std::path::PathBuf>) -> root::Root {
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
