//! The original verbs, `svc DIR start|stop|restart|status|alarm|reconf|exit`:
//! each checks the directory as the original script did, writes its control
//! bytes, and waits for the result.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cli::Verb;
use super::code::Code;
use super::dir::{self, Control, Problem};
use super::goal::{Goal, Seen};
use super::run::{Failure, name, say};
use super::show::{self, Observed, Supervise};
use super::wait::{Waiting, nonzero};
use crate::status::{Status, Want};
use crate::sys::{clock, localtime};

/// The checks of the original script, in its order: a status directory,
/// supervise alive, a readable 20-byte status; then `control` when the verb
/// writes.
fn prepare(dir: &Path) -> Result<Status, Problem> {
    dir::check(dir)?;
    dir::require_alive(dir)?;
    dir::read_status(dir)
}

/// Runs one verb on `dir`.
pub fn run(dir: &Path, verb: Verb, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    let status = prepare(dir)?;
    if verb == Verb::Status {
        let observed = Observed {
            status,
            supervise: Supervise::Running {
                pid: dir::supervise_pid(dir),
            },
        };
        let text = show::original_lines(
            &observed,
            clock::now().wall,
            localtime::utc_offset(status.since),
        );
        let _ = write!(std::io::stdout(), "{text}");
        return Ok(());
    }
    let mut control = dir::open_control(dir)?;
    let name = name(dir);
    let waiting = Waiting {
        dir,
        wait,
        deadline,
    };
    match verb {
        Verb::Start => start(&waiting, &mut control, status, &name),
        Verb::Stop => stop(&waiting, &mut control, status, &name),
        Verb::Restart => restart(&waiting, &mut control, status, &name),
        Verb::Exit => exit(&waiting, &mut control, status, &name),
        Verb::AlarmOn | Verb::AlarmOff => {
            let on = verb == Verb::AlarmOn;
            alarm(&waiting, &mut control, status, &name, on)
        }
        Verb::Reconf => {
            control.send(b"r")?;
            say(&format!(
                "{name}: asked supervise to re-read its configuration; \
                 the result is in {}",
                dir.join("supervise.log").display()
            ));
            Ok(())
        }
        Verb::Status => unreachable!("handled above"),
    }
}

fn start(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    if status.pid != 0 && status.want == Want::Up {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!(
                "service {name} is already up (pid {}), nothing done",
                status.pid
            ),
        )
        .into());
    }
    control.send(b"u")?;
    // Running once (`o`): `u` only makes supervise keep it up. Running but
    // wanted down: it is being stopped; wait for the start that follows.
    let goal = Goal::Up {
        after: (status.want == Want::Down || status.pid == 0).then_some(status.since),
    };
    let seen = w.until(goal, &mut Vec::new(), "to be up")?;
    say(&format!("{name}: started, pid {}", pid_of(&seen)));
    Ok(())
}

fn stop(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    if status.pid == 0 && status.want != Want::Up {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("service {name} is already down, nothing done"),
        )
        .into());
    }
    let mut groups = nonzero(status.pid);
    let result = with_alarms_silenced(control, status, b"d", || {
        w.until(Goal::Down, &mut groups, "to be down")
    });
    result?;
    let gone = if status.pid == 0 {
        String::new()
    } else {
        format!(" (pid {} and its process group are gone)", status.pid)
    };
    say(&format!("{name}: stopped{gone}"));
    Ok(())
}

fn restart(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    if status.pid == 0 {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("service {name} is down, nothing done; use start to start it"),
        )
        .into());
    }
    let goal = Goal::Up {
        after: Some(status.since),
    };
    let seen = with_alarms_silenced(control, status, b"du", || {
        w.until(goal, &mut Vec::new(), "to be up again")
    })?;
    say(&format!(
        "{name}: restarted, pid {} -> {}",
        status.pid,
        pid_of(&seen)
    ));
    Ok(())
}

fn exit(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    let supervise = dir::supervise_pid(w.dir);
    // Silence alarms for the original C supervise, which alarms on the exit
    // `d` causes; there is nobody left to turn them back on afterwards.
    let bytes: &[u8] = if status.alarms_on { b"sdx" } else { b"dx" };
    control.send(bytes)?;
    let mut groups = nonzero(status.pid);
    w.until(Goal::Gone, &mut groups, "and its supervise to exit")?;
    let supervise = supervise.map_or(String::new(), |pid| format!(" (pid {pid})"));
    say(&format!(
        "{name}: service and its supervise{supervise} are gone"
    ));
    Ok(())
}

fn alarm(
    w: &Waiting,
    control: &mut Control,
    status: Status,
    name: &str,
    on: bool,
) -> Result<(), Failure> {
    let word = if on { "on" } else { "off" };
    if status.alarms_on == on {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("alarm of {name} is already {word}, nothing done"),
        )
        .into());
    }
    control.send(if on { b"n" } else { b"s" })?;
    w.until(
        Goal::Alarm(on),
        &mut Vec::new(),
        &format!("to turn alarm {word}"),
    )?;
    say(&format!("{name}: alarm {word}"));
    Ok(())
}

/// Sends `bytes` with alarms silenced around them when they were on (the
/// original C supervise counts and alarms exits caused by `d`), runs `wait`,
/// and turns alarms back on whatever the wait's outcome: a stop that timed
/// out or was interrupted must not leave the service unmonitored.
fn with_alarms_silenced<T>(
    control: &mut Control,
    status: Status,
    bytes: &[u8],
    wait: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    if !status.alarms_on {
        control.send(bytes)?;
        return wait();
    }
    let mut silenced = b"s".to_vec();
    silenced.extend_from_slice(bytes);
    control.send(&silenced)?;
    let result = wait();
    // If supervise has exited there is nothing to turn back on.
    let _ = control.send(b"n");
    result
}

fn pid_of(seen: &Seen) -> u32 {
    seen.status.map_or(0, |s| s.pid)
}
