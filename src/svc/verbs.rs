//! The original verbs, `svc DIR start|stop|restart|status|alarm|reconf|exit`:
//! each checks the directory as the original script did, writes its control
//! bytes, and waits until the status file shows everything it asked for.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cli::Verb;
use super::code::Code;
use super::dir::{self, Control, Problem};
use super::goal::{Goal, NewBackoff, Ready, Seen, Service, Shows};
use super::run::{Failure, name, observed, say, wall_now};
use super::show::{self, Supervise};
use super::wait::{Waiting, backing_off, nonzero};
use super::why;
use crate::info::{Info, Readiness, State};
use crate::status::{Status, Want};

/// The checks of the original script, in its order: a directory we can
/// enter, supervise alive (`ok`), a readable 20-byte status, `control` a
/// FIFO. A supervise that gave up says so, with its rule.
fn prepare(dir: &Path) -> Result<Status, Problem> {
    dir::check(dir)?;
    dir::require_alive(dir).map_err(|problem| with_give_up(dir, problem))?;
    let status = dir::read_status(dir)?;
    dir::require_control(dir)?;
    Ok(status)
}

/// `problem` (supervise is not running), and why, when `info` tells: the
/// give-up rule and the last exit.
pub fn with_give_up(dir: &Path, problem: Problem) -> Problem {
    match dir::read_info(dir) {
        Some(info) if info.state == State::GaveUp => {
            let facts = why::facts(&info, wall_now(), false).join("; ");
            Problem {
                message: format!("{}; {facts}", problem.message),
                ..problem
            }
        }
        _ => problem,
    }
}

/// Who stops the service for `svc stop`.
#[derive(Clone, Copy, Debug)]
pub enum Stopper<'a> {
    /// Its supervise, sent `d`.
    Supervise,
    /// The supervise-scan of this root, asked `stop NAME` (it stops the
    /// services that require NAME first); `d` if it no longer reads.
    Scanner {
        /// Its status root.
        root: &'a Path,
        /// The service's section.
        section: &'a str,
    },
}

/// Runs one verb on `dir`.
pub fn run(dir: &Path, verb: Verb, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    run_with(dir, verb, wait, deadline, Stopper::Supervise)
}

/// Runs one verb on `dir`, `svc stop` through `stopper`.
pub fn run_with(
    dir: &Path,
    verb: Verb,
    wait: Duration,
    deadline: Instant,
    stopper: Stopper,
) -> Result<(), Failure> {
    let status = prepare(dir)?;
    let info = dir::live_info(dir).filter(|info| info.pid == status.pid);
    if verb == Verb::Status {
        let supervise = Supervise::Running {
            pid: dir::supervise_pid(dir),
        };
        let text = show::original_lines(&observed(status, supervise, info), wall_now());
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
    let before = Before {
        status,
        info: info.as_ref(),
    };
    match verb {
        Verb::Start => start(&waiting, &mut control, before, &name),
        Verb::Stop => stop(&waiting, &mut control, status, &name, stopper),
        Verb::Restart => restart(&waiting, &mut control, before, &name),
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

/// What the status directory showed before the command.
#[derive(Clone, Copy)]
struct Before<'a> {
    status: Status,
    /// `info`, when it speaks of the same run.
    info: Option<&'a Info>,
}

impl Before<'_> {
    /// The `info` of a service in a back-off: down, a start pending.
    fn backoff(&self) -> Option<&Info> {
        self.info
            .filter(|info| self.status.pid == 0 && info.state == State::Backoff)
    }
}

/// A running child (new unless it may be the one running now) that
/// supervise keeps up, ready if it declares readiness; a back-off that
/// begins meanwhile ends the wait.
pub fn kept_up(after: Option<Duration>, backoff_before: Option<Duration>) -> Shows {
    Shows {
        service: Some(Service::Up { after }),
        want: Some(Want::Up),
        ready: Some(Ready::IfDeclared),
        ends_at_backoff: Some(NewBackoff {
            before: backoff_before,
        }),
        ..Shows::default()
    }
}

/// ` and ready` when the service declares readiness (and so was waited
/// for), else nothing.
fn and_ready(seen: &Seen) -> &'static str {
    let declares = seen
        .info
        .as_ref()
        .is_some_and(|info| info.readiness != Readiness::None);
    if declares { " and ready" } else { "" }
}

/// `NAME: started, pid N`, or `NAME: started and ready, pid N`.
pub fn started(name: &str, seen: &Seen) -> String {
    format!("{name}: started{}, pid {}", and_ready(seen), pid_of(seen))
}

fn start(w: &Waiting, control: &mut Control, before: Before, name: &str) -> Result<(), Failure> {
    let status = before.status;
    if status.pid != 0 && status.want == Want::Up {
        let starting = before
            .info
            .is_some_and(|info| info.state == State::Starting);
        let hint = if starting {
            "; it is not ready yet (svc wait ready waits for it)"
        } else {
            ""
        };
        return Err(Problem::new(
            Code::AlreadyUp,
            format!(
                "service {name} is already up (pid {}), nothing done{hint}",
                status.pid
            ),
        )
        .into());
    }
    if let Some(info) = before.backoff() {
        let problem = backing_off(info, wall_now());
        return Err(Problem {
            message: format!("service {name} is {}", problem.message),
            ..problem
        }
        .into());
    }
    control.send(b"u")?;
    // Running once (`o`): `u` only makes supervise keep it up. Running but
    // wanted down: it is being stopped; wait for the start that follows.
    let after = (status.want == Want::Down || status.pid == 0).then_some(status.since);
    let seen = w.until(Goal::Shows(kept_up(after, None)), &mut Vec::new())?;
    say(&started(name, &seen));
    Ok(())
}

fn stop(
    w: &Waiting,
    control: &mut Control,
    status: Status,
    name: &str,
    stopper: Stopper,
) -> Result<(), Failure> {
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
        ..Shows::default()
    };
    let mut groups = nonzero(status.pid);
    let send = |control: &mut Control, silence: &[u8]| match stopper {
        Stopper::Supervise => control.send(&[silence, b"d"].concat()),
        Stopper::Scanner { root, section } => {
            if !silence.is_empty() {
                control.send(silence)?;
            }
            let asked = dir::ask_scanner(root, &format!("stop {section}"))?;
            if asked { Ok(()) } else { control.send(b"d") }
        }
    };
    with_alarms_silenced(w, control, status, &send, down, &mut groups)?;
    let gone = if status.pid == 0 {
        String::new()
    } else {
        format!(" (pid {} and its process group are gone)", status.pid)
    };
    say(&format!("{name}: stopped{gone}"));
    Ok(())
}

fn restart(w: &Waiting, control: &mut Control, before: Before, name: &str) -> Result<(), Failure> {
    let status = before.status;
    if let Some(info) = before.backoff() {
        // `u` ends the back-off: supervise starts it at once.
        control.send(b"u")?;
        let up = kept_up(Some(status.since), Some(info.since));
        let seen = w.until(Goal::Shows(up), &mut Vec::new())?;
        say(&format!(
            "{name}: restarted{} at once from its back-off, pid {}",
            and_ready(&seen),
            pid_of(&seen)
        ));
        return Ok(());
    }
    if status.pid == 0 {
        return Err(Problem::new(
            Code::AlreadyDone,
            format!("service {name} is down, nothing done; use start to start it"),
        )
        .into());
    }
    let up = kept_up(Some(status.since), None);
    let send = |control: &mut Control, silence: &[u8]| control.send(&[silence, b"du"].concat());
    let seen = with_alarms_silenced(w, control, status, &send, up, &mut Vec::new())?;
    say(&format!(
        "{name}: restarted{}, pid {} -> {}",
        and_ready(&seen),
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

/// How a command is sent, given the bytes that silence alarms first (or
/// none).
type Sender<'a> = dyn Fn(&mut Control, &[u8]) -> Result<(), Problem> + 'a;

/// Sends the command (`send`, given the bytes that silence alarms, or
/// none) and waits until the status file shows `shows`; when alarms were
/// on, silences them first, in the same write (the original C supervise
/// counts and alarms exits caused by `d`), then turns them back on and
/// waits until the file shows that too: the command is not over while the
/// service is unmonitored. A wait that fails (timeout, signal, supervise
/// gone) still turns alarms back on, without waiting.
fn with_alarms_silenced(
    w: &Waiting,
    control: &mut Control,
    status: Status,
    send: &Sender<'_>,
    shows: Shows,
    groups: &mut Vec<u32>,
) -> Result<Seen, Failure> {
    if !status.alarms_on {
        send(control, b"")?;
        return w.until(Goal::Shows(shows), groups);
    }
    send(control, b"s")?;
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
