//! Waiting for a goal: look at the status directory, ask
//! [`goal::judge`], and look again after a short pause that doubles up to
//! `MAX_PAUSE`, until the goal is reached, supervise exits, a signal
//! comes, or the deadline passes. Polling with a deadline, never a fixed
//! sleep: a quick change is seen within milliseconds.

use std::path::Path;
use std::time::{Duration, Instant};

use super::code::Code;
use super::dir::{self, Problem};
use super::goal::{self, Goal, Seen, Verdict};
use super::interrupt;
use super::run::{Failure, observed, wall_now};
use super::show::{self, Supervise};
use super::why;
use crate::duration;
use crate::info::Info;
use crate::sys::process;

/// The first pause between two looks at the status file.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
/// The longest pause between two looks.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// `[pid]`, or nothing for pid 0.
pub fn nonzero(pid: u32) -> Vec<u32> {
    if pid == 0 { Vec::new() } else { vec![pid] }
}

/// A directory and the deadline its waits share.
pub struct Waiting<'a> {
    /// The status directory.
    pub dir: &'a Path,
    /// The `-w` budget, for messages.
    pub wait: Duration,
    /// When every wait of the command gives up.
    pub deadline: Instant,
}

impl Waiting<'_> {
    /// Polls until `goal` is reached, supervise exits, a signal comes, or
    /// the deadline passes. Every pid seen running joins `groups`, whose
    /// process groups must be gone for the service to count as down.
    pub fn until(&self, goal: Goal, groups: &mut Vec<u32>) -> Result<Seen, Failure> {
        let mut pause = FIRST_PAUSE;
        loop {
            let seen = observe(self.dir, groups);
            match goal::judge(goal, &seen) {
                Verdict::Reached => return Ok(seen),
                Verdict::SuperviseExited => {
                    let gave_up = seen
                        .info
                        .as_ref()
                        .filter(|info| !info.gave_up.is_empty())
                        .map_or(String::new(), |info| {
                            format!("; it gave up: {}", info.gave_up)
                        });
                    return Err(Problem::new(
                        Code::SuperviseExited,
                        format!(
                            "supervise exited while svc waited for: {}{gave_up}; see {}",
                            goal::describe(goal),
                            self.dir.join("supervise.log.wf").display()
                        ),
                    )
                    .into());
                }
                Verdict::BackingOff => {
                    let info = seen.info.clone().unwrap_or_default();
                    return Err(backing_off(&info, wall_now()).into());
                }
                Verdict::Waiting => {}
            }
            if let Some(signal) = interrupt::caught() {
                return Err(Failure::Interrupted(signal));
            }
            let now = Instant::now();
            if now >= self.deadline {
                let code = if goal::runs_unready(goal, &seen) {
                    Code::NotReady
                } else {
                    Code::Timeout
                };
                return Err(Problem::new(
                    code,
                    format!(
                        "timed out after {} waiting for: {}; now: {}",
                        duration::setting(self.wait),
                        goal::describe(goal),
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

/// The refusal of a start in a back-off, naming the last exit and the
/// next start.
pub fn backing_off(info: &Info, now: Duration) -> Problem {
    let last = why::last_exit(info, now).map_or(String::new(), |exit| format!(" ({exit})"));
    Problem::new(
        Code::BackingOff,
        format!(
            "backing off after a crash{last}, {}; svc restart starts it at once",
            why::next_start(info, now)
        ),
    )
}

/// Looks at the directory once. `info` counts only while its writer
/// lives: one left by an earlier supervise tells nothing of this one.
fn observe(dir: &Path, groups: &mut Vec<u32>) -> Seen {
    let status = dir::read_status(dir).ok();
    if let Some(status) = status
        && status.pid != 0
        && !groups.contains(&status.pid)
    {
        groups.push(status.pid);
    }
    let info = dir::live_info(dir);
    Seen {
        status,
        info,
        supervise_alive: dir::supervise_alive(dir),
        groups_alive: groups.iter().any(|&pgid| process::group_alive(pgid)),
    }
}

/// The last observation in words, for a timeout message.
fn explain(seen: &Seen, groups: &[u32]) -> String {
    let Some(status) = seen.status else {
        return "the status file cannot be read".to_string();
    };
    let supervise = if seen.supervise_alive {
        Supervise::Running { pid: None }
    } else {
        Supervise::NotRunning {
            pid_alive: process::pid_alive(status.pid),
        }
    };
    let observed = observed(status, supervise, seen.info.clone());
    let mut text = show::describe(&observed, wall_now());
    let alive: Vec<String> = groups
        .iter()
        .filter(|&&pgid| process::group_alive(pgid))
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
