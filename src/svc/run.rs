//! Carries out a parsed [`Command`]: checks the directory, writes control
//! bytes, waits (polling with a deadline, never a fixed sleep) for the state
//! asked for, and says what happened. Decisions come from [`goal::judge`];
//! files and processes are touched only through [`dir`] and [`proc`].

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cli::{Command, Target, Verb};
use super::code::{self, Code};
use super::dir::{self, Control, Problem};
use super::goal::{self, Goal, Seen, Verdict};
use super::show::{self, Observed, Supervise};
use super::{interrupt, proc};
use crate::status::{Status, Want};

/// The first pause between two looks at the status file; it doubles up to
/// [`MAX_PAUSE`], so a quick state change is seen within milliseconds and a
/// slow one costs little CPU.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// Why a command stopped short.
enum Failure {
    Problem(Problem),
    Interrupted(i32),
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Failure {
        Failure::Problem(problem)
    }
}

/// Prints to stdout, ignoring a closed pipe: `svc` must go on to turn
/// alarms back on even if nobody reads what it says.
fn say(text: &str) {
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// Prints `svc: DIR: message` to stderr.
fn complain(dir: &Path, message: &str) {
    let _ = writeln!(std::io::stderr(), "svc: {}: {message}", dir.display());
}

fn label(dir: &Path) -> String {
    dir.to_string_lossy().into_owned()
}

fn name(dir: &Path) -> String {
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
        Command::Status { dirs, json } => list(&dirs, json),
        Command::Verb { dir, verb, wait } => {
            interrupt::catch();
            let deadline = Instant::now() + wait;
            match run_verb(&dir, verb, wait, deadline) {
                Ok(()) => 0,
                Err(failure) => report(&dir, failure),
            }
        }
        Command::Send {
            bytes,
            until,
            dirs,
            wait,
        } => {
            interrupt::catch();
            send(&bytes, until, &dirs, wait)
        }
    }
}

fn report(dir: &Path, failure: Failure) -> i32 {
    match failure {
        Failure::Problem(problem) => {
            complain(dir, &problem.message);
            problem.code.status()
        }
        Failure::Interrupted(signal) => {
            complain(dir, &format!("interrupted by signal {signal}"));
            code::interrupted(signal)
        }
    }
}

/// The checks of the original script, in its order: a status directory,
/// supervise alive, a readable 20-byte status; then `control` when the verb
/// writes.
fn prepare(dir: &Path) -> Result<Status, Problem> {
    dir::check(dir)?;
    dir::require_alive(dir)?;
    dir::read_status(dir)
}

fn run_verb(dir: &Path, verb: Verb, wait: Duration, deadline: Instant) -> Result<(), Failure> {
    let status = prepare(dir)?;
    if verb == Verb::Status {
        let observed = Observed {
            status,
            supervise: Supervise::Running {
                pid: dir::supervise_pid(dir),
            },
        };
        let text = show::original_lines(&observed, proc::now(), proc::utc_offset(status.since));
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

fn nonzero(pid: u32) -> Vec<u32> {
    if pid == 0 { Vec::new() } else { vec![pid] }
}

fn pid_of(seen: &Seen) -> u32 {
    seen.status.map_or(0, |s| s.pid)
}

/// A directory and the deadline its waits share.
struct Waiting<'a> {
    dir: &'a Path,
    wait: Duration,
    deadline: Instant,
}

impl Waiting<'_> {
    /// Polls until `goal` is reached, supervise exits, a signal comes, or
    /// the deadline passes. Every pid seen running joins `groups`, whose
    /// process groups must be gone for [`Goal::Down`] and [`Goal::Gone`].
    fn until(&self, goal: Goal, groups: &mut Vec<u32>, what: &str) -> Result<Seen, Failure> {
        let mut pause = FIRST_PAUSE;
        loop {
            let seen = observe(self.dir, groups);
            match goal::judge(goal, &seen) {
                Verdict::Reached => return Ok(seen),
                Verdict::SuperviseExited => {
                    return Err(Problem::new(
                        Code::SuperviseExited,
                        format!(
                            "supervise exited while svc waited for the service {what}; \
                             see {}",
                            self.dir.join("supervise.log.wf").display()
                        ),
                    )
                    .into());
                }
                Verdict::Waiting => {}
            }
            if let Some(signal) = interrupt::caught() {
                return Err(Failure::Interrupted(signal));
            }
            let now = Instant::now();
            if now >= self.deadline {
                return Err(Problem::new(
                    Code::Timeout,
                    format!(
                        "timed out after {} s waiting for the service {what}; now {}",
                        self.wait.as_secs_f64(),
                        explain(&seen, groups)
                    ),
                )
                .into());
            }
            std::thread::sleep(pause.min(self.deadline - now));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

/// Looks at the directory once.
fn observe(dir: &Path, groups: &mut Vec<u32>) -> Seen {
    let status = dir::read_status(dir).ok();
    if let Some(status) = status
        && status.pid != 0
        && !groups.contains(&status.pid)
    {
        groups.push(status.pid);
    }
    Seen {
        status,
        supervise_alive: dir::supervise_alive(dir),
        groups_alive: groups.iter().any(|&pgid| proc::group_alive(pgid)),
    }
}

/// The last observation in words, for a timeout message.
fn explain(seen: &Seen, groups: &[u32]) -> String {
    let Some(status) = seen.status else {
        return "the status file cannot be read".to_string();
    };
    let observed = Observed {
        status,
        supervise: if seen.supervise_alive {
            Supervise::Running { pid: None }
        } else {
            Supervise::NotRunning {
                pid_alive: proc::pid_alive(status.pid),
            }
        },
    };
    let mut text = show::describe(&observed, proc::now());
    let alive: Vec<String> = groups
        .iter()
        .filter(|&&pgid| proc::group_alive(pgid))
        .map(u32::to_string)
        .collect();
    if status.pid == 0 && !alive.is_empty() {
        text.push_str(&format!(
            "; process group {} still has processes",
            alive.join(", ")
        ));
    }
    text
}

/// `svc status DIR...`: one line or JSON object per directory. Returns 0
/// when every directory was read and its supervise runs, else the code of
/// the first that failed.
fn list(dirs: &[std::path::PathBuf], json: bool) -> i32 {
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

/// The daemontools form: send `bytes` to every directory, then wait for
/// each to reach `until`, all within one deadline. Silent on success.
fn send(bytes: &[u8], until: Option<Target>, dirs: &[std::path::PathBuf], wait: Duration) -> i32 {
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
                fail(problem.code.status());
            }
        }
    }
    let Some(target) = until else {
        return first_failure;
    };
    for (dir, before) in sent {
        let (goal, what) = match target {
            Target::Up => (Goal::Up { after: None }, "to be up"),
            Target::Down => (Goal::Down, "to be down"),
        };
        let waiting = Waiting {
            dir,
            wait,
            deadline,
        };
        let mut groups = before.map_or(Vec::new(), |s| nonzero(s.pid));
        if let Err(failure) = waiting.until(goal, &mut groups, what) {
            let interrupted = matches!(failure, Failure::Interrupted(_));
            fail(report(dir, failure));
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
