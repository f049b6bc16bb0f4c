//! The original verbs, `svc DIR start|stop|restart|status|alarm|reconf|exit`:
//! each checks the directory as the original script did, writes its control
//! bytes, and waits until the status file shows everything it asked for.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cli::Verb;
use super::code::Code;
use super::dir::{self, Control, Problem};
use super::goal::{Goal, Seen, Service, Shows};
use super::run::{Failure, name, observed, say, wall_now};
use super::show::{self, Supervise};
use super::wait::{Waiting, nonzero};
use crate::status::{Status, Want};

/// The checks of the original script, in its order: a directory we can
/// enter, supervise alive (`ok`), a readable 20-byte status, `control` a
/// FIFO.
fn prepare(dir: &Path) -> Result<Status, Problem> {
    dir::check(dir)?;
    dir::require_alive(dir)?;
    let status = dir::read_status(dir)?;
    dir::require_control(dir)?;
    Ok(status)
}

/// Runs one verb on `dir`.
pub fn run(dir: &Path, verb: Verb, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    let status = prepare(dir)?;
    if verb == Verb::Status {
        let supervise = Supervise::Running {
            pid: dir::supervise_pid(dir),
        };
        let text = show::original_lines(&observed(status, supervise), wall_now());
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
        Verb::AlarmOn => alarm(&waiting, &mut control, status, &name, true),
        Verb::AlarmOff => alarm(&waiting, &mut control, status, &name, false),
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

/// A running child (new unless it may be the one running now) that
/// supervise keeps up.
fn kept_up(after: Option<Duration>) -> Shows {
    Shows {
        service: Some(Service::Up { after }),
        want: Some(Want::Up),
        alarms_on: None,
    }
}

fn start(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    if status.pid != 0 && status.want == Want::Up {
        return Err(Problem::new(
            Code::AlreadyUp,
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
    let after = (status.want == Want::Down || status.pid == 0).then_some(status.since);
    let seen = w.until(Goal::Shows(kept_up(after)), &mut Vec::new())?;
    say(&format!("{name}: started, pid {}", pid_of(&seen)));
    Ok(())
}

fn stop(w: &Waiting, control: &mut Control, status: Status, name: &str) -> Result<(), Failure> {
    // pid 0 but wanted up is a service between two restarts: `d` ends that.
    if status.pid == 0 && status.want != Want::Up {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("service {name} is already down, nothing done"),
        )
        .into());
    }
    let down = Shows {
        service: Some(Service::Down),
        want: Some(Want::Down),
        alarms_on: None,
    };
    let mut groups = nonzero(status.pid);
    with_alarms_silenced(w, control, status, b"d", down, &mut groups)?;
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
    let up = kept_up(Some(status.since));
    let seen = with_alarms_silenced(w, control, status, b"du", up, &mut Vec::new())?;
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
    w.until(Goal::Gone, &mut groups)?;
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
    let word = show::on_off(on);
    if status.alarms_on == on {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("alarm of {name} is already {word}, nothing done"),
        )
        .into());
    }
    control.send(if on { b"n" } else { b"s" })?;
    let shows = Shows {
        alarms_on: Some(on),
        ..Shows::default()
    };
    w.until(Goal::Shows(shows), &mut Vec::new())?;
    say(&format!("{name}: alarm {word}"));
    Ok(())
}

/// Sends `bytes` and waits until the status file shows `shows`; when
/// alarms were on, silences them first, in the same write (the original C
/// supervise counts and alarms exits caused by `d`), then turns them back
/// on and waits until the file shows that too: the command is not over
/// while the service is unmonitored. A wait that fails (timeout, signal,
/// supervise gone) still turns alarms back on, without waiting.
fn with_alarms_silenced(
    w: &Waiting,
    control: &mut Control,
    status: Status,
    bytes: &[u8],
    shows: Shows,
    groups: &mut Vec<u32>,
) -> Result<Seen, Failure> {
    if !status.alarms_on {
        control.send(bytes)?;
        return w.until(Goal::Shows(shows), groups);
    }
    control.send(&[b"s", bytes].concat())?;
    let result = w.until(Goal::Shows(shows), groups);
    // If supervise has exited there is nothing to turn back on.
    let sent = control.send(b"n");
    result?;
    sent?;
    let monitored = Shows {
        alarms_on: Some(true),
        ..shows
    };
    w.until(Goal::Shows(monitored), groups)
}

fn pid_of(seen: &Seen) -> u32 {
    seen.status.map_or(0, |s| s.pid)
}
