//! The daemontools form, `svc -udopchaitkxsnr [-w up|down] DIR...`: send the
//! bytes to every directory, then optionally wait for each to reach a state.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cli::Target;
use super::code::Form;
use super::dir::{self, Problem};
use super::goal::{Goal, Service, Shows};
use super::run::{Failure, complain, report};
use super::wait::{Waiting, nonzero};
use crate::status::Status;

/// The daemontools form: send `bytes` to every directory, then wait for
/// each to reach `until`, all within one deadline. Silent on success.
pub fn send(bytes: &[u8], until: Option<Target>, dirs: &[PathBuf], wait: Duration) -> i32 {
    let deadline = Instant::now() + wait;
    let mut first_failure = 0;
    let mut fail = |status: i32| {
        if first_failure == 0 {
            first_failure = status;
        }
    };
    let mut sent = Vec::new();
    for dir in dirs {
        match send_one(dir, bytes) {
            Ok(before) => sent.push((dir, before)),
            Err(problem) => {
                complain(dir, &problem.message);
                fail(problem.code.status(Form::Extended));
            }
        }
    }
    let Some(target) = until else {
        return first_failure;
    };
    for (dir, before) in sent {
        let service = match target {
            Target::Up => Service::Up { after: None },
            Target::Down => Service::Down,
        };
        let goal = Goal::Shows(Shows {
            service: Some(service),
            ..Shows::default()
        });
        let waiting = Waiting {
            dir,
            wait,
            deadline,
        };
        let mut groups = before.map_or(Vec::new(), |s| nonzero(s.pid));
        if let Err(failure) = waiting.until(goal, &mut groups) {
            let interrupted = matches!(failure, Failure::Interrupted(_));
            fail(report(dir, failure, Form::Extended));
            if interrupted {
                break;
            }
        }
    }
    first_failure
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
