//! `svc reload [ROOT]`: asks the supervise-scan running on a status root to
//! load its configuration again, and waits for the outcome. The scanner
//! writes the outcome of every load to `ROOT/supervise-scan.reload`
//! (docs/status-files.md): `GENERATION applied|refused`, `pid PID`, then
//! one line per change or per error. svc reads GENERATION and PID, sends
//! SIGHUP to the holder of `ROOT/supervise-scan.lock`, waits (within `-w`)
//! for a larger GENERATION of the same PID, prints the lines and exits 0
//! when the load was applied, with a code of its own when it was refused.
//! [`parse`] is pure; the rest polls the file with a deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use super::code::{Code, Form};
use super::dir::{self, Problem};
use super::interrupt;
use super::root::Root;
use super::run::{self, Failure, say};
use crate::duration;
use crate::scan::RELOAD_FILE;
use crate::supervisor::Target;
use crate::sys::process;

/// The first pause between two looks at the reload file.
const FIRST_PAUSE: Duration = Duration::from_millis(2);
/// The longest pause between two looks.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// What the reload file says about one load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 1 for a scanner's first load, one more for each load after it.
    pub generation: u64,
    /// Applied, or refused.
    pub applied: bool,
    /// The scanner that wrote it.
    pub pid: u32,
    /// The changes and warnings of an applied load, the errors of a
    /// refused one.
    pub lines: Vec<String>,
}

/// Reads the text of a reload file; `None` unless its two first lines are
/// `GENERATION applied|refused` and `pid PID`.
pub fn parse(text: &str) -> Option<Outcome> {
    let mut lines = text.lines();
    let (generation, word) = lines.next()?.split_once(' ')?;
    let applied = match word {
        "applied" => true,
        "refused" => false,
        _ => return None,
    };
    let pid = lines.next()?.strip_prefix("pid ")?.parse().ok()?;
    Some(Outcome {
        generation: generation.parse().ok()?,
        applied,
        pid,
        lines: lines.map(str::to_owned).collect(),
    })
}

/// Asks the scanner of `root` to load its configuration and waits at
/// most `wait` for the outcome; returns the exit status.
pub fn reload(root: &Root, wait: Duration) -> i32 {
    let shown = dir::canonical(&root.path).unwrap_or_else(|| root.path.display().to_string());
    let shown = Path::new(&shown);
    match reload_and_wait(&root.path, wait) {
        Ok(outcome) if outcome.applied => {
            let changes = if outcome.lines.is_empty() {
                "; nothing changed"
            } else {
                ":"
            };
            say(&format!(
                "{}: supervise-scan (pid {}) applied its configuration{changes}",
                shown.display(),
                outcome.pid
            ));
            for line in &outcome.lines {
                say(line);
            }
            0
        }
        Ok(outcome) => {
            let mut message = format!(
                "supervise-scan (pid {}) refused its configuration; every service runs as before:",
                outcome.pid
            );
            for line in &outcome.lines {
                message.push('\n');
                message.push_str(line);
            }
            run::complain(shown, &message);
            Code::Refused.status(Form::Extended)
        }
        Err(failure) => run::report(shown, failure, Form::Extended),
    }
}

fn reload_and_wait(root: &Path, wait: Duration) -> Result<Outcome, Failure> {
    let deadline = Instant::now() + wait;
    let pid = dir::scanner_pid(root)?;
    let poll = Polling {
        root,
        pid,
        wait,
        deadline,
    };
    // A scanner that has not reported its first load yet is still
    // starting: the outcome to wait for comes after that one.
    let before = poll.until("report its first load", |_| true, None)?;
    hang_up(pid)?;
    let newer = |outcome: &Outcome| outcome.generation > before.generation;
    poll.until("load its configuration", newer, Some(before.generation))
}

/// Looking at the reload file of one scanner until a deadline.
struct Polling<'a> {
    root: &'a Path,
    pid: u32,
    wait: Duration,
    deadline: Instant,
}

impl Polling<'_> {
    /// Polls until the file holds an outcome of this scanner for which
    /// `wanted` holds; fails when the scanner exits, a signal comes or the
    /// deadline passes (`what` and the generation seen before say, then,
    /// what was awaited).
    fn until(
        &self,
        what: &str,
        wanted: impl Fn(&Outcome) -> bool,
        before: Option<u64>,
    ) -> Result<Outcome, Failure> {
        let mut pause = FIRST_PAUSE;
        loop {
            let outcome = dir::read_reload(self.root)?.as_deref().and_then(parse);
            if let Some(outcome) = outcome.filter(|o| o.pid == self.pid && wanted(o)) {
                return Ok(outcome);
            }
            if !process::pid_alive(self.pid) {
                return Err(Problem::new(
                    Code::NotRunning,
                    format!(
                        "supervise-scan (pid {}) exited before it answered",
                        self.pid
                    ),
                )
                .into());
            }
            if let Some(signal) = interrupt::caught() {
                return Err(Failure::Interrupted(signal));
            }
            let now = Instant::now();
            if now >= self.deadline {
                let file = self.root.join(RELOAD_FILE);
                let still = before.map_or(String::new(), |generation| {
                    format!("; {} still says generation {generation}", file.display())
                });
                return Err(Problem::new(
                    Code::Timeout,
                    format!(
                        "timed out after {} waiting for supervise-scan (pid {}) to {what}{still}",
                        duration::setting(self.wait),
                        self.pid
                    ),
                )
                .into());
            }
            std::thread::sleep(pause.min(self.deadline - now));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

fn hang_up(pid: u32) -> Result<(), Problem> {
    match process::kill(Target::Child(pid), libc::SIGHUP) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Err(Problem::new(
            Code::NotRunning,
            format!("supervise-scan (pid {pid}) exited before it could be asked"),
        )),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Err(Problem::new(
            Code::Permission,
            format!("permission denied: may not signal supervise-scan (pid {pid})"),
        )),
        Err(err) => Err(Problem::new(
            Code::System,
            format!("cannot signal supervise-scan (pid {pid}): {err}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_outcome_of_a_load() {
        assert_eq!(
            parse("3 applied\npid 4242\nrestart web: command changed\nreread db\n"),
            Some(Outcome {
                generation: 3,
                applied: true,
                pid: 4242,
                lines: vec!["restart web: command changed".into(), "reread db".into()],
            })
        );
        assert_eq!(
            parse("4 refused\npid 4242\n/etc/s.conf:3: unknown section header `[web`\n"),
            Some(Outcome {
                generation: 4,
                applied: false,
                pid: 4242,
                lines: vec!["/etc/s.conf:3: unknown section header `[web`".into()],
            })
        );
        assert_eq!(
            parse("1 applied\npid 7\n").unwrap().lines,
            Vec::<String>::new()
        );
    }

    #[test]
    fn anything_else_is_no_outcome() {
        for text in [
            "",
            "3 applied\n",
            "3 maybe\npid 1\n",
            "x applied\npid 1\n",
            "3 applied\npid\n",
            "3 applied\nprocess 1\n",
            "3applied\npid 1\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
