//! The daemontools form, `svc -udopchaitkxsnr [-w up|down|ready] DIR...`:
//! send the bytes to every directory, then optionally wait for each to
//! reach a state. `svc wait up|down|ready NAME...` is the same wait, with
//! nothing sent.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cli::Target;
use super::code::Form;
use super::dir::{self, Problem};
use super::goal::{Goal, Ready, Service, Shows};
use super::run::{self, FirstFailure};
use super::wait::{Waiting, nonzero};
use crate::status::Status;

/// The daemontools form: send `bytes` to every directory, then wait for
/// each to reach `until`, all within one deadline. Silent on success.
pub fn send(bytes: &[u8], until: Option<Target>, dirs: &[PathBuf], wait: Duration) -> i32 {
    let deadline = Instant::now() + wait;
    let mut sent = Vec::new();
    let sending = run::each(dirs, Form::Extended, |dir| {
        let result = send_one(dir, bytes).map(|before| sent.push((dir, before)));
        (dir.clone(), result.map_err(Into::into))
    });
    let mut first = FirstFailure::default();
    first.record(sending);
    let Some(target) = until else {
        return first.status();
    };
    let goal = Goal::Shows(shows(target));
    let waits = run::each(sent, Form::Extended, |(dir, before)| {
        let waiting = Waiting {
            dir,
            wait,
            deadline,
        };
        let mut groups = before.map_or(Vec::new(), |s| nonzero(s.pid));
        let result = waiting.until(goal, &mut groups).map(drop);
        (dir.clone(), result)
    });
    first.record(waits);
    first.status()
}

/// What the status directory shows in the state `target`.
pub fn shows(target: Target) -> Shows {
    let (service, ready) = match target {
        Target::Up => (Service::Up { after: None }, None),
        Target::Down => (Service::Down, None),
        Target::Ready => (Service::Up { after: None }, Some(Ready::Always)),
    };
    Shows {
        service: Some(service),
        ready,
        ..Shows::default()
    }
}

/// Sends `bytes` (if any) to one directory; returns the status seen before,
/// whose pid a later `-w down` waits for.
fn send_one(dir: &Path, bytes: &[u8]) -> Result<Option<Status>, Problem> {
    dir::check(dir)?;
    let before = dir::read_status(dir).ok();
    if bytes.is_empty() {
        dir::require_alive(dir)?;
    } else {
        dir::open_control(dir)?.send(bytes)?;
    }
    Ok(before)
}
