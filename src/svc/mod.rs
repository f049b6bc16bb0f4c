//! `svc`: the operator's control and status tool for a status directory kept
//! by supervise (ours or the original C one: the files are the same).
//!
//! It owns the `svc` command line and behaviour: it sends control bytes and
//! waits, by polling the status file with a deadline, for the state it asked
//! for. It never signals a service itself: stopping, and escalating to KILL,
//! is supervise's job.
//!
//! Pure parts, unit-tested without processes: [`cli`] (argv → [`cli::Command`]),
//! [`root`] (which root, which directory a NAME is), [`show`] (status lines,
//! JSON, time formats), [`table`] (the listing of a whole root), [`goal`]
//! (is a wait over?), [`code`] (exit codes). Thin parts: [`dir`] (the status
//! directory's files, a root's services, the scanner's lock), [`interrupt`] (signals
//! during a wait), [`wait`] (polling for a goal with a deadline); the
//! commands: [`verbs`] (the original `svc DIR VERB`), [`named`] (`svc VERB
//! NAME...`), [`flags`] (daemontools `svc -dx DIR...`), [`list`] (`svc status
//! [NAME|DIR|ROOT]...`), [`reload`] (`svc reload [ROOT]`); and [`run`], which
//! dispatches.

#![warn(missing_docs)]

pub mod cli;
pub mod code;
pub mod dir;
pub mod flags;
pub mod goal;
pub mod help;
pub mod history;
pub mod interrupt;
pub mod list;
pub mod metrics;
pub mod named;
pub mod reload;
pub mod root;
pub mod run;
pub mod show;
pub mod table;
pub mod verbs;
pub mod wait;
pub mod why;

use std::ffi::OsString;
use std::io::Write;

/// Parses `args` (without the program name), runs the command, and returns
/// the process exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let command = cli::parse(args).and_then(|options| options.command(&dir::is_status_dir));
    match command {
        Ok(command) => run::run(command),
        Err(usage) => {
            let _ = writeln!(std::io::stderr(), "svc: {}", usage.message);
            let text = format!("{}\nTry 'svc --help' for more.", help::USAGE);
            // Fewer than two arguments: the usage on stdout, as the original.
            let _ = if usage.too_few {
                writeln!(std::io::stdout(), "{text}")
            } else {
                writeln!(std::io::stderr(), "{text}")
            };
            code::Code::Usage.status(code::Form::Original)
        }
    }
}
