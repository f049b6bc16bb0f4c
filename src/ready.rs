//! Readiness and the facts of `info` (docs/status-files.md), as the
//! supervisor keeps them: the readiness keys of `supervise.conf`
//! (`notification_fd`, `ready_timeout`, `ready_check`...), what a run's
//! readiness is, when its check runs, how the
//! last run ended, the restarts, the back-off, the give-up rule, and the
//! `state` word they add up to. Pure: times are passed in (wall clock for
//! what `info` shows, monotonic for deadlines); the supervisor calls in
//! here, the driver writes the file.

use std::time::Duration;

use crate::info::{Cause, Info, Readiness, State};
use crate::supervisor::Exit;

/// The lowest descriptor `notification_fd` may name: 0-2 are the service's
/// stdin, stdout and stderr.
pub const MIN_NOTIFICATION_FD: u32 = 3;

/// The highest descriptor `notification_fd` may name (s6 allows any; a
/// service's own descriptor table rarely needs more, and it keeps the
/// descriptor below the usual soft limit of 1024).
pub const MAX_NOTIFICATION_FD: u32 = 1023;

/// How often `ready_check` runs by default.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// How long one `ready_check` may run by default before it is killed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The readiness settings of one service (extension keys of
/// `supervise.conf`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// s6's protocol: the service gets the write end of a pipe as this
    /// descriptor and writes a newline once ready.
    pub notification_fd: Option<u32>,
    /// A run not ready this long after it started is a failed start.
    pub ready_timeout: Option<Duration>,
    /// A program run (no shell) until it exits 0: the service is ready.
    pub ready_check: Option<Check>,
    /// Time from the start of one check to the start of the next.
    pub ready_check_interval: Duration,
    /// How long one check may run before it is killed (a failed check).
    pub ready_check_timeout: Duration,
    /// `notify : systemd`: the service speaks sd_notify on `NOTIFY_SOCKET`.
    pub notify: bool,
    /// With `notify`: a service that sends no `WATCHDOG=1` for this long
    /// is stopped and restarted.
    pub watchdog: Option<Duration>,
    /// A program run (no shell) every `health_interval` once ready.
    pub health_check: Option<Check>,
    /// Time from the start of one health check to the start of the next.
    pub health_interval: Duration,
    /// How long one health check may run before it is killed (a failure).
    pub health_timeout: Duration,
    /// Failures in a row that make supervise restart the service.
    pub health_retries: u32,
}

/// How often `health_check` runs by default.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(10);

/// How long one `health_check` may run by default.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Failed health checks in a row before a restart, by default.
pub const HEALTH_RETRIES: u32 = 3;

/// Which check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// `ready_check`, until the run is ready.
    Ready,
    /// `health_check`, once it is.
    Health,
}

/// What the end of a check means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Nothing (a check no longer wanted, or a failed `ready_check`).
    Nothing,
    /// The `ready_check` passed: the run is ready.
    Ready,
    /// A health check passed after failures.
    Recovered,
    /// A health check failed, this many in a row, fewer than the retries.
    Failed(u32),
    /// A health check failed `health_retries` times in a row.
    Unhealthy(u32),
}

/// A check command: as written, and its words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The value as written in the file.
    pub text: String,
    /// Its words (split as the scanner's `command`): program, arguments.
    pub words: Vec<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            notification_fd: None,
            ready_timeout: None,
            ready_check: None,
            ready_check_interval: CHECK_INTERVAL,
            ready_check_timeout: CHECK_TIMEOUT,
            notify: false,
            watchdog: None,
            health_check: None,
            health_interval: HEALTH_INTERVAL,
            health_timeout: HEALTH_TIMEOUT,
            health_retries: HEALTH_RETRIES,
        }
    }
}

/// The keys [`Settings::set`] reads.
pub const KEYS: &[&str] = &[
    "notification_fd",
    "ready_timeout",
    "ready_check",
    "ready_check_interval",
    "ready_check_timeout",
    "notify",
    "watchdog",
    "health_check",
    "health_interval",
    "health_timeout",
    "health_retries",
];

impl Settings {
    /// How a service with these settings declares readiness (with both a
    /// `notification_fd` and a `ready_check`, the first to say ready wins;
    /// `info` names the descriptor).
    pub fn readiness(&self) -> Readiness {
        if self.notification_fd.is_some() {
            Readiness::NotificationFd
        } else if self.notify {
            Readiness::Systemd
        } else if self.ready_check.is_some() {
            Readiness::Check
        } else {
            Readiness::None
        }
    }

    /// Reads one `key : value` line of [`KEYS`]; an empty value keeps the
    /// value in force. `Err` is the warning (the line is ignored).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Ok(());
        }
        match key {
            "notification_fd" => {
                let fd: u32 = value.parse().map_err(|_| {
                    format!("notification_fd: expected a descriptor number such as `3`, found `{value}`: line ignored")
                })?;
                if fd < MIN_NOTIFICATION_FD {
                    return Err(format!(
                        "notification_fd: {fd} is the service's {}: use 3 or more: line ignored",
                        ["stdin", "stdout", "stderr"][fd as usize]
                    ));
                }
                if fd > MAX_NOTIFICATION_FD {
                    return Err(format!(
                        "notification_fd: at most {MAX_NOTIFICATION_FD}, found {fd}: line ignored"
                    ));
                }
                self.notification_fd = Some(fd);
            }
            "ready_timeout" => self.ready_timeout = Some(positive_seconds(key, value)?),
            "ready_check_interval" => self.ready_check_interval = positive_seconds(key, value)?,
            "ready_check_timeout" => self.ready_check_timeout = positive_seconds(key, value)?,
            "notify" => match value {
                "systemd" => self.notify = true,
                "none" => self.notify = false,
                _ => {
                    return Err(format!(
                        "notify: expected `systemd` (or `none`), found `{value}`: line ignored"
                    ));
                }
            },
            "watchdog" => self.watchdog = Some(positive_seconds(key, value)?),
            "ready_check" => self.ready_check = Some(check(key, value)?),
            "health_check" => self.health_check = Some(check(key, value)?),
            "health_interval" => self.health_interval = positive_seconds(key, value)?,
            "health_timeout" => self.health_timeout = positive_seconds(key, value)?,
            "health_retries" => match value.parse::<u32>() {
                Ok(n) if n > 0 => self.health_retries = n,
                _ => {
                    return Err(format!(
                        "health_retries: expected a whole number > 0, found `{value}`: line ignored"
                    ));
                }
            },
            _ => {}
        }
        Ok(())
    }

    /// The keys that are set, as `key: value` lines (for the config dump
    /// and the file the scanner renders); none when nothing is set, so
    /// that the dump of a service without readiness is as before.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(fd) = self.notification_fd {
            lines.push(format!("notification_fd: {fd}"));
        }
        if let Some(t) = self.ready_timeout {
            lines.push(format!("ready_timeout: {}", crate::duration::setting(t)));
        }
        if self.notify {
            lines.push("notify: systemd".to_owned());
        }
        if let Some(t) = self.watchdog {
            lines.push(format!("watchdog: {}", crate::duration::setting(t)));
        }
        if let Some(check) = &self.ready_check {
            lines.push(format!("ready_check: {}", check.text));
        }
        let defaults = Settings::default();
        if self.ready_check.is_some() || self.ready_check_interval != defaults.ready_check_interval
        {
            let t = crate::duration::setting(self.ready_check_interval);
            lines.push(format!("ready_check_interval: {t}"));
        }
        if self.ready_check.is_some() || self.ready_check_timeout != defaults.ready_check_timeout {
            let t = crate::duration::setting(self.ready_check_timeout);
            lines.push(format!("ready_check_timeout: {t}"));
        }
        if let Some(check) = &self.health_check {
            lines.push(format!("health_check: {}", check.text));
        }
        let health = self.health_check.is_some();
        if health || self.health_interval != defaults.health_interval {
            let t = crate::duration::setting(self.health_interval);
            lines.push(format!("health_interval: {t}"));
        }
        if health || self.health_timeout != defaults.health_timeout {
            let t = crate::duration::setting(self.health_timeout);
            lines.push(format!("health_timeout: {t}"));
        }
        if health || self.health_retries != defaults.health_retries {
            lines.push(format!("health_retries: {}", self.health_retries));
        }
        lines
    }

    /// The command, interval and timeout of a check of `kind`.
    pub fn check(&self, kind: CheckKind) -> Option<(&Check, Duration, Duration)> {
        match kind {
            CheckKind::Ready => self
                .ready_check
                .as_ref()
                .map(|c| (c, self.ready_check_interval, self.ready_check_timeout)),
            CheckKind::Health => self
                .health_check
                .as_ref()
                .map(|c| (c, self.health_interval, self.health_timeout)),
        }
    }
}

/// A check command's words, or the warning.
fn check(key: &str, value: &str) -> Result<Check, String> {
    let words = crate::words::split(value).map_err(|e| format!("{key}: {e}: line ignored"))?;
    if words.is_empty() {
        return Err(format!("{key}: no program: line ignored"));
    }
    Ok(Check {
        text: value.to_owned(),
        words,
    })
}

/// A number of seconds above 0, or the warning.
fn positive_seconds(key: &str, value: &str) -> Result<Duration, String> {
    match crate::duration::parse_seconds(value) {
        Some(d) if d.is_zero() => Err(format!("{key}: must be more than 0 seconds: line ignored")),
        Some(d) => Ok(d),
        None => Err(format!(
            "{key}: expected seconds such as `10` or `0.5`, found `{value}`: line ignored"
        )),
    }
}

/// The longest `STATUS=` text kept, in bytes.
pub const MAX_STATUS_TEXT: usize = 512;

/// One assignment of an sd_notify datagram that supervise acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`.
    Ready,
    /// `STOPPING=1`.
    Stopping,
    /// `STATUS=TEXT` (cut at [`MAX_STATUS_TEXT`] bytes).
    Status(String),
    /// `MAINPID=N`, and whether N is in the service's process group (the
    /// driver looks).
    MainPid {
        /// The pid named.
        pid: u32,
        /// It is in the service's process group.
        in_group: bool,
    },
    /// `WATCHDOG=1`.
    Watchdog,
    /// `WATCHDOG=trigger`: the service asks to be treated as hung.
    WatchdogTrigger,
}

/// The assignments of one datagram that supervise knows, in order;
/// anything else (other keys, garbage, bytes that are not UTF-8) is
/// skipped. `MAINPID` comes with `in_group: false`, for the driver to
/// settle.
pub fn parse_notify(datagram: &[u8]) -> Vec<Notice> {
    let text = String::from_utf8_lossy(datagram);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let notice = match (key, value) {
            ("READY", "1") => Notice::Ready,
            ("STOPPING", "1") => Notice::Stopping,
            ("WATCHDOG", "1") => Notice::Watchdog,
            ("WATCHDOG", "trigger") => Notice::WatchdogTrigger,
            ("STATUS", text) => {
                let mut cut = text.len().min(MAX_STATUS_TEXT);
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                Notice::Status(text[..cut].to_owned())
            }
            ("MAINPID", pid) => match pid.parse() {
                Ok(pid) if pid > 0 => Notice::MainPid {
                    pid,
                    in_group: false,
                },
                _ => continue,
            },
            _ => continue,
        };
        out.push(notice);
    }
    out
}

/// How the last run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastExit {
    /// Its wait status.
    pub how: Exit,
    /// When (wall clock).
    pub at: Duration,
    /// How long it ran.
    pub ran: Duration,
    /// Why.
    pub cause: Cause,
}

/// Where the service is, as far as the `state` word goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// A child runs.
    Running {
        /// TERM was sent (or it exited and its group is being stopped).
        stopping: bool,
        /// It became ready.
        ready: bool,
        /// Health checks are failing.
        unhealthy: bool,
    },
    /// Nothing runs.
    Down {
        /// A restart is due (a back-off, or the restart hook runs).
        restart_due: bool,
        /// supervise gave up and exits.
        gave_up: bool,
    },
}

impl Phase {
    /// The `state` word of this phase.
    pub fn state(self) -> State {
        match self {
            Phase::Running { stopping: true, .. } => State::Stopping,
            Phase::Running {
                ready: true,
                unhealthy: true,
                ..
            } => State::Unhealthy,
            Phase::Running { ready: true, .. } => State::Ready,
            Phase::Running { .. } => State::Starting,
            Phase::Down { gave_up: true, .. } => State::GaveUp,
            Phase::Down {
                restart_due: true, ..
            } => State::Backoff,
            Phase::Down { .. } => State::Down,
        }
    }
}

/// What [`Facts::info`] needs from the supervisor besides the facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// The child's pid, 0 when none runs.
    pub pid: u32,
    /// When the running child started (wall clock).
    pub started: Option<Duration>,
    /// Where the service is.
    pub phase: Phase,
    /// How it declares readiness.
    pub readiness: Readiness,
    /// Exits counted in the current alarm window.
    pub restarts_window: u32,
}

/// The facts of `info` that the supervisor's own state does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// How the last run ended; `None` before the first exit.
    pub last_exit: Option<LastExit>,
    /// Restarts since this supervise started.
    pub restarts_total: u64,
    /// The pending back-off: when it ends (wall clock) and its length.
    pub next_start: Option<(Duration, Duration)>,
    /// The rule that made supervise give up, in words.
    pub gave_up: String,
    /// When the current run became ready (wall clock).
    pub ready_since: Option<Duration>,
    /// When the current run is due to be ready (monotonic), if it declared
    /// readiness with a `ready_timeout` and is not ready yet.
    pub ready_due: Option<Duration>,
    /// When the next check is due (monotonic), while none runs: a
    /// `ready_check` before the run is ready, a `health_check` after.
    pub check_due: Option<Duration>,
    /// The check that runs.
    pub check_running: Option<CheckKind>,
    /// When the check that runs (or ran last) started (monotonic): the
    /// next one is due an interval after it, so that checks keep their
    /// period (`every health_interval`), one at a time.
    pub check_started: Duration,
    /// Health checks failed in a row.
    pub health_failures: u32,
    /// The last `STATUS=` of the current run.
    pub status_text: String,
    /// The run said `STOPPING=1`.
    pub stopping: bool,
    /// When the watchdog bites (monotonic), if armed.
    pub watchdog_due: Option<Duration>,
    /// A notification from outside the service's group was logged (once a
    /// run).
    pub stranger_logged: bool,
    /// `MAINPID=` lines logged this run.
    pub mainpid_logged: u32,
    /// Why supervise itself is stopping the current run (`not-ready`):
    /// its exit is then a failure, not an exit the operator asked for.
    pub failure: Option<Cause>,
    /// The state last shown and since when (wall clock).
    shown: Option<(State, Duration)>,
}

impl Facts {
    /// A run started at `now` (`mono`, `wall`).
    pub fn started(&mut self, mono: Duration, wall: Duration, settings: &Settings) {
        self.next_start = None;
        self.failure = None;
        self.status_text.clear();
        self.stopping = false;
        self.watchdog_due = None;
        self.stranger_logged = false;
        self.mainpid_logged = 0;
        self.health_failures = 0;
        if settings.readiness() == Readiness::None {
            self.ready_since = Some(wall);
            self.ready_due = None;
            self.check_due = settings
                .health_check
                .as_ref()
                .map(|_| mono + settings.health_interval);
        } else {
            self.ready_since = None;
            self.ready_due = settings.ready_timeout.map(|t| mono + t);
            // The first check at once: a service ready at start waits
            // for nothing.
            self.check_due = settings.ready_check.as_ref().map(|_| mono);
        }
    }

    /// The check due at `mono`, if any; it is then marked as running.
    pub fn start_check(&mut self, mono: Duration) -> Option<CheckKind> {
        if self.check_running.is_some() || self.check_due.is_none_or(|t| mono < t) {
            return None;
        }
        self.check_due = None;
        let kind = if self.ready_since.is_none() {
            CheckKind::Ready
        } else {
            CheckKind::Health
        };
        self.check_running = Some(kind);
        self.check_started = mono;
        Some(kind)
    }

    /// Whether the check that runs (if any) is still wanted: a check of a
    /// run that runs (and is not stopping), a `ready_check` only until it
    /// is ready.
    pub fn check_wanted(&self, running: bool) -> bool {
        match self.check_running {
            Some(CheckKind::Ready) => running && self.ready_since.is_none(),
            Some(CheckKind::Health) => running,
            None => true,
        }
    }

    /// The check ended at `mono` (`wall`): `ok` when it exited 0. The
    /// next is due its interval after this one started (at once if this
    /// one took longer).
    pub fn check_finished(
        &mut self,
        mono: Duration,
        wall: Duration,
        ok: bool,
        settings: &Settings,
    ) -> Checked {
        let Some(kind) = self.check_running.take() else {
            return Checked::Nothing;
        };
        let interval = settings.check(kind).map_or(CHECK_INTERVAL, |(_, i, _)| i);
        match kind {
            CheckKind::Ready if self.ready_since.is_some() => Checked::Nothing,
            CheckKind::Ready if ok => {
                self.ready(mono, wall, settings);
                Checked::Ready
            }
            CheckKind::Ready => {
                self.check_due = Some(mono.max(self.check_started + interval));
                Checked::Nothing
            }
            CheckKind::Health => {
                let failures = std::mem::take(&mut self.health_failures);
                if ok {
                    self.check_due = Some(mono.max(self.check_started + interval));
                    return if failures > 0 {
                        Checked::Recovered
                    } else {
                        Checked::Nothing
                    };
                }
                self.health_failures = failures + 1;
                if self.health_failures >= settings.health_retries {
                    return Checked::Unhealthy(self.health_failures);
                }
                self.check_due = Some(mono.max(self.check_started + interval));
                Checked::Failed(self.health_failures)
            }
        }
    }

    /// The running child is ready at `mono` (`wall`); `false` when it was
    /// already (a second newline changes nothing). Health checks start
    /// one interval later.
    pub fn ready(&mut self, mono: Duration, wall: Duration, settings: &Settings) -> bool {
        if self.ready_since.is_some() {
            return false;
        }
        self.ready_since = Some(wall);
        self.ready_due = None;
        self.check_due = settings
            .health_check
            .as_ref()
            .map(|_| mono + settings.health_interval);
        true
    }

    /// The run ended at `wall`; `asked` when the operator asked for it.
    /// Returns its cause (a failure supervise stopped it for comes first).
    pub fn exited(&mut self, wall: Duration, how: Exit, ran: Duration, asked: bool) -> Cause {
        let cause = match self.failure.take() {
            Some(cause) => cause,
            None if asked => Cause::Asked,
            None => Cause::Crash,
        };
        self.last_exit = Some(LastExit {
            how,
            at: wall,
            ran,
            cause,
        });
        self.ready_since = None;
        self.ready_due = None;
        self.check_due = None;
        self.watchdog_due = None;
        self.stopping = false;
        self.health_failures = 0;
        cause
    }

    /// The `info` of this moment (`supervise_pid` is the driver's to fill).
    pub fn info(&mut self, wall: Duration, view: View) -> Info {
        let state = view.phase.state();
        let since = match self.shown {
            Some((shown, since)) if shown == state => since,
            _ => {
                self.shown = Some((state, wall));
                wall
            }
        };
        let running = matches!(view.phase, Phase::Running { .. });
        let backoff = self.next_start.filter(|_| state == State::Backoff);
        let last = self.last_exit;
        Info {
            supervise_pid: 0,
            pid: view.pid,
            state,
            since,
            started: view.started.filter(|_| running),
            readiness: view.readiness,
            ready_since: self.ready_since.filter(|_| running),
            health_failures: self.health_failures,
            status_text: self.status_text.clone(),
            last_exit: last.map(|l| l.how),
            last_exit_time: last.map(|l| l.at),
            last_run: last.map(|l| l.ran),
            last_exit_cause: last.map(|l| l.cause),
            restarts_total: self.restarts_total,
            restarts_window: view.restarts_window,
            next_start: backoff.map(|(at, _)| at),
            backoff: backoff.map_or(Duration::ZERO, |(_, d)| d),
            gave_up: self.gave_up.clone(),
        }
    }
}

/// The give-up rule in words: `11 exits in 60 s > max_tries 10`, or
/// `6 core dumps in 60 s > max_tries_if_coredumped 5`.
pub fn give_up_rule(
    tries: u32,
    coredumps: u32,
    interval: u64,
    max_tries: u32,
    max_core: u32,
) -> String {
    if max_tries > 0 && tries > max_tries {
        format!("{tries} exits in {interval} s > max_tries {max_tries}")
    } else {
        format!("{coredumps} core dumps in {interval} s > max_tries_if_coredumped {max_core}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_state_word_of_each_phase() {
        let run = |stopping, ready| Phase::Running {
            stopping,
            ready,
            unhealthy: false,
        };
        let down = |restart_due, gave_up| Phase::Down {
            restart_due,
            gave_up,
        };
        for (phase, state) in [
            (run(false, false), State::Starting),
            (run(false, true), State::Ready),
            (run(true, true), State::Stopping),
            (run(true, false), State::Stopping),
            (
                Phase::Running {
                    stopping: false,
                    ready: true,
                    unhealthy: true,
                },
                State::Unhealthy,
            ),
            (down(false, false), State::Down),
            (down(true, false), State::Backoff),
            (down(true, true), State::GaveUp),
            (down(false, true), State::GaveUp),
        ] {
            assert_eq!(phase.state(), state, "{phase:?}");
        }
    }

    #[test]
    fn settings_are_checked() {
        let mut s = Settings::default();
        for (key, value, ok) in [
            ("notification_fd", "3", true),
            ("notification_fd", "0", false),
            ("notification_fd", "2", false),
            ("notification_fd", "-1", false),
            ("notification_fd", "x", false),
            ("notification_fd", "1024", false),
            ("ready_timeout", "0", false),
            ("ready_timeout", "abc", false),
            ("ready_timeout", "1.5", true),
            ("ready_timeout", "", true),
        ] {
            assert_eq!(s.set(key, value).is_ok(), ok, "{key} {value}");
        }
        assert_eq!(s.notification_fd, Some(3));
        assert_eq!(s.ready_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(s.readiness(), Readiness::NotificationFd);
        assert_eq!(s.lines(), ["notification_fd: 3", "ready_timeout: 1.5s"]);
        assert!(
            Settings::default()
                .set("notification_fd", "1")
                .unwrap_err()
                .contains("stdout")
        );
        assert!(Settings::default().lines().is_empty());
    }

    fn view(phase: Phase, readiness: Readiness) -> View {
        View {
            pid: 42,
            started: Some(100 * S),
            phase,
            readiness,
            restarts_window: 2,
        }
    }

    #[test]
    fn a_run_with_readiness_is_starting_then_ready_and_since_follows_the_state() {
        let settings = Settings {
            notification_fd: Some(3),
            ready_timeout: Some(5 * S),
            ..Settings::default()
        };
        let mut facts = Facts::default();
        facts.started(10 * S, 100 * S, &settings);
        assert_eq!(facts.ready_due, Some(15 * S));
        let starting = Phase::Running {
            stopping: false,
            ready: facts.ready_since.is_some(),
            unhealthy: false,
        };
        let info = facts.info(100 * S, view(starting, settings.readiness()));
        assert_eq!((info.state, info.since), (State::Starting, 100 * S));
        assert_eq!(info.ready_since, None);
        // The same state later keeps its since.
        assert_eq!(
            facts
                .info(101 * S, view(starting, settings.readiness()))
                .since,
            100 * S
        );
        assert!(facts.ready(12 * S, 102 * S, &settings));
        assert!(!facts.ready(13 * S, 103 * S, &settings), "once");
        assert_eq!(facts.ready_due, None);
        let ready = Phase::Running {
            stopping: false,
            ready: true,
            unhealthy: false,
        };
        let info = facts.info(102 * S, view(ready, Readiness::NotificationFd));
        assert_eq!((info.state, info.since), (State::Ready, 102 * S));
        assert_eq!(info.ready_since, Some(102 * S));
        assert_eq!(info.readiness, Readiness::NotificationFd);
    }

    #[test]
    fn exits_have_causes_and_the_back_off_shows_only_while_down() {
        let mut facts = Facts::default();
        facts.started(Duration::ZERO, 100 * S, &Settings::default());
        assert_eq!(
            facts.ready_since,
            Some(100 * S),
            "no readiness: ready at once"
        );
        let code = Exit::Code(3);
        assert_eq!(facts.exited(101 * S, code, S, false), Cause::Crash);
        assert_eq!(facts.exited(101 * S, code, S, true), Cause::Asked);
        facts.failure = Some(Cause::NotReady);
        assert_eq!(facts.exited(102 * S, code, S, true), Cause::NotReady);
        assert_eq!(facts.failure, None);
        facts.next_start = Some((105 * S, 3 * S));
        facts.restarts_total = 4;
        let backoff = Phase::Down {
            restart_due: true,
            gave_up: false,
        };
        let info = facts.info(102 * S, view(backoff, Readiness::None));
        assert_eq!(info.state, State::Backoff);
        assert_eq!((info.next_start, info.backoff), (Some(105 * S), 3 * S));
        assert_eq!(info.started, None, "down");
        assert_eq!(info.last_exit, Some(code));
        assert_eq!(info.last_exit_cause, Some(Cause::NotReady));
        assert_eq!((info.restarts_total, info.restarts_window), (4, 2));
        let down = Phase::Down {
            restart_due: false,
            gave_up: false,
        };
        let info = facts.info(103 * S, view(down, Readiness::None));
        assert_eq!((info.next_start, info.backoff), (None, Duration::ZERO));
    }

    #[test]
    fn the_give_up_rule_names_what_was_exceeded() {
        assert_eq!(
            give_up_rule(11, 0, 60, 10, 5),
            "11 exits in 60 s > max_tries 10"
        );
        assert_eq!(
            give_up_rule(3, 6, 60, 10, 5),
            "6 core dumps in 60 s > max_tries_if_coredumped 5"
        );
    }

    /// Through the supervisor: the `info` it hands over for each input.
    mod supervisor {
        use super::*;
        use crate::conf::Conf;
        use crate::control::Command;
        use crate::supervisor::{AlarmEvent, Effect, Input, Now, Supervisor};

        fn at(ms: u64) -> Now {
            Now {
                mono: Duration::from_millis(ms),
                wall: Duration::from_secs(1_700_000_000) + Duration::from_millis(ms),
            }
        }

        fn wall(ms: u64) -> Duration {
            at(ms).wall
        }

        fn info_of(effects: &[Effect]) -> Option<Info> {
            effects.iter().rev().find_map(|e| match e {
                Effect::WriteInfo(info) => Some((**info).clone()),
                _ => None,
            })
        }

        fn exited(pid: u32, code: i32) -> Input {
            Input::ChildExited {
                pid,
                how: Exit::Code(code),
                group_alive: false,
            }
        }

        fn conf(ready: Settings) -> Conf {
            Conf {
                alarm_interval: 60,
                max_tries: 3,
                max_tries_if_coredumped: 5,
                ready,
                // One instant restart, then the back-off: these tables
                // are about the back-off, not the burst budget.
                restart_burst: 1,
                ..Conf::unread()
            }
        }

        #[test]
        fn a_crash_loop_shows_its_back_off_last_exit_and_give_up_rule() {
            let mut sup = Supervisor::new("svc", conf(Settings::default()), None);
            sup.handle(at(0), Input::Start);
            let info = info_of(&sup.handle(at(0), Input::Spawned { pid: 10 })).unwrap();
            assert_eq!((info.pid, info.state), (10, State::Ready));
            assert_eq!(
                (info.started, info.ready_since),
                (Some(wall(0)), Some(wall(0)))
            );
            assert_eq!(info.readiness, Readiness::None);
            // The first quick exit restarts at once; the second backs off.
            sup.handle(at(10), exited(10, 3));
            sup.handle(at(10), Input::Spawned { pid: 11 });
            let effects = sup.handle(at(20), exited(11, 3));
            let info = info_of(&effects).unwrap();
            assert_eq!(info.state, State::Backoff);
            assert_eq!(info.since, wall(20));
            assert_eq!(info.next_start, Some(wall(120)));
            assert_eq!(info.backoff, Duration::from_millis(100));
            assert_eq!(info.last_exit, Some(Exit::Code(3)));
            assert_eq!(info.last_exit_cause, Some(Cause::Crash));
            assert_eq!(info.last_exit_time, Some(wall(20)));
            assert_eq!(info.last_run, Some(Duration::from_millis(10)));
            assert_eq!((info.restarts_total, info.restarts_window), (1, 2));
            assert_eq!(info.started, None);
            // `u` in the back-off starts at once.
            sup.handle(at(30), Input::Control(Command::Up));
            let info = info_of(&sup.handle(at(30), Input::Spawned { pid: 12 })).unwrap();
            assert_eq!((info.state, info.next_start), (State::Ready, None));
            sup.handle(at(40), exited(12, 3));
            sup.handle(at(200), Input::Deadline);
            sup.handle(at(200), Input::Spawned { pid: 13 });
            let effects = sup.handle(at(210), exited(13, 139));
            assert!(effects.contains(&Effect::Exit(crate::supervisor::EXIT_GAVE_UP)));
            let info = info_of(&effects).unwrap();
            assert_eq!(info.state, State::GaveUp);
            assert_eq!(info.gave_up, "4 exits in 60 s > max_tries 3");
            assert_eq!(info.restarts_window, 4);
        }

        #[test]
        fn info_is_handed_over_only_when_it_changes() {
            let mut sup = Supervisor::new("svc", conf(Settings::default()), None);
            sup.handle(at(0), Input::Start);
            assert!(info_of(&sup.handle(at(0), Input::Spawned { pid: 10 })).is_some());
            assert!(info_of(&sup.handle(at(5), Input::Control(Command::SilenceAlarms))).is_none());
            assert!(info_of(&sup.handle(at(6), Input::Deadline)).is_none());
            let info = info_of(&sup.handle(at(7), Input::Control(Command::Down))).unwrap();
            assert_eq!(info.state, State::Stopping);
            let info = info_of(&sup.handle(at(8), exited(10, 0))).unwrap();
            assert_eq!(
                (info.state, info.last_exit_cause),
                (State::Down, Some(Cause::Asked))
            );
            assert_eq!(info.restarts_window, 0, "asked for: not counted");
        }

        #[test]
        fn a_service_that_declares_readiness_starts_then_is_ready() {
            let settings = Settings {
                notification_fd: Some(3),
                ready_timeout: None,
                ..Settings::default()
            };
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            let info = info_of(&sup.handle(at(0), Input::Spawned { pid: 10 })).unwrap();
            assert_eq!(info.state, State::Starting);
            assert_eq!(info.readiness, Readiness::NotificationFd);
            assert_eq!(sup.next_deadline(), None, "no timeout: no wake-up");
            // Another pid's word does not count.
            assert!(info_of(&sup.handle(at(5), Input::Ready { pid: 9 })).is_none());
            let info = info_of(&sup.handle(at(50), Input::Ready { pid: 10 })).unwrap();
            assert_eq!(
                (info.state, info.ready_since),
                (State::Ready, Some(wall(50)))
            );
            assert!(info_of(&sup.handle(at(60), Input::Ready { pid: 10 })).is_none());
        }

        #[test]
        fn not_ready_in_time_is_a_failed_start_stopped_counted_and_backed_off() {
            let settings = Settings {
                notification_fd: Some(3),
                ready_timeout: Some(2 * S),
                ..Settings::default()
            };
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 10 });
            assert_eq!(sup.next_deadline(), Some(Duration::from_millis(2_000)));
            let effects = sup.handle(at(2_000), Input::Deadline);
            assert!(
                effects.contains(&Effect::Signal {
                    signal: libc::SIGTERM,
                    target: crate::supervisor::Target::Group(10)
                }),
                "{effects:?}"
            );
            assert_eq!(info_of(&effects).unwrap().state, State::Stopping);
            let effects = sup.handle(at(2_100), exited(10, 143 - 128));
            let alarm = effects.iter().find_map(|e| match e {
                Effect::Alarm(a) => Some(a.event),
                _ => None,
            });
            assert_eq!(alarm, Some(AlarmEvent::NotReady));
            assert!(
                effects.contains(&Effect::Spawn),
                "first quick failure: at once"
            );
            let info = sup.info(at(2_100));
            assert_eq!(info.last_exit_cause, Some(Cause::NotReady));
            assert_eq!(info.restarts_window, 1);
            // The second one backs off although it ran 2 s.
            sup.handle(at(2_100), Input::Spawned { pid: 11 });
            sup.handle(at(4_100), Input::Deadline);
            let info = info_of(&sup.handle(at(4_200), exited(11, 15))).unwrap();
            assert_eq!(info.state, State::Backoff);
            assert_eq!(info.backoff, Duration::from_millis(100));
            // Ready in time: no deadline left.
            sup.handle(at(4_300), Input::Deadline);
            sup.handle(at(4_300), Input::Spawned { pid: 12 });
            sup.handle(at(4_500), Input::Ready { pid: 12 });
            assert_eq!(sup.next_deadline(), None);
            // `d` during a not-ready stop: the exit was asked for.
            let settings = Settings {
                notification_fd: Some(3),
                ready_timeout: Some(2 * S),
                ..Settings::default()
            };
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 10 });
            sup.handle(at(2_000), Input::Deadline);
            sup.handle(at(2_001), Input::Control(Command::Down));
            let info = info_of(&sup.handle(at(2_100), exited(10, 0))).unwrap();
            assert_eq!(
                (info.state, info.last_exit_cause),
                (State::Down, Some(Cause::Asked))
            );
        }

        fn with_check() -> Settings {
            let mut settings = Settings::default();
            settings
                .set("ready_check", "curl -fs 'http://x/a b'")
                .unwrap();
            settings.set("ready_timeout", "10").unwrap();
            settings
        }

        #[test]
        fn a_ready_check_runs_at_once_then_every_interval_until_it_passes() {
            let settings = with_check();
            assert_eq!(
                settings.ready_check.as_ref().unwrap().words,
                ["curl", "-fs", "http://x/a b"]
            );
            assert_eq!(settings.readiness(), Readiness::Check);
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            let info = info_of(&sup.handle(at(0), Input::Spawned { pid: 10 })).unwrap();
            assert_eq!(
                (info.state, info.readiness),
                (State::Starting, Readiness::Check)
            );
            assert_eq!(
                sup.next_deadline(),
                Some(Duration::ZERO),
                "the first check at once"
            );
            let effects = sup.handle(at(1), Input::Deadline);
            assert!(
                effects.contains(&Effect::RunCheck {
                    pid: 10,
                    kind: CheckKind::Ready
                }),
                "{effects:?}"
            );
            // While it runs, only the ready_timeout is a deadline.
            assert_eq!(sup.next_deadline(), Some(Duration::from_secs(10)));
            assert!(
                !sup.handle(at(2), Input::Deadline)
                    .contains(&Effect::RunCheck {
                        pid: 10,
                        kind: CheckKind::Ready
                    })
            );
            // The next is due an interval after this one started.
            sup.handle(at(100), Input::CheckFinished { ok: false });
            assert_eq!(sup.next_deadline(), Some(Duration::from_millis(501)));
            assert!(
                sup.handle(at(501), Input::Deadline)
                    .contains(&Effect::RunCheck {
                        pid: 10,
                        kind: CheckKind::Ready
                    })
            );
            let info = info_of(&sup.handle(at(700), Input::CheckFinished { ok: true })).unwrap();
            assert_eq!(
                (info.state, info.ready_since),
                (State::Ready, Some(wall(700)))
            );
            assert_eq!(
                sup.next_deadline(),
                None,
                "ready: no more checks, no timeout"
            );
        }

        #[test]
        fn a_check_that_runs_when_the_run_ends_or_is_ready_otherwise_is_killed() {
            let mut settings = with_check();
            settings.notification_fd = Some(3);
            let mut sup = Supervisor::new("svc", conf(settings.clone()), None);
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 10 });
            sup.handle(at(1), Input::Deadline);
            // The descriptor says ready first: the check goes.
            let effects = sup.handle(at(5), Input::Ready { pid: 10 });
            assert!(effects.contains(&Effect::KillCheck), "{effects:?}");
            // Its late answer changes nothing.
            assert!(info_of(&sup.handle(at(6), Input::CheckFinished { ok: false })).is_none());
            // A stop while a check runs kills it too.
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 10 });
            sup.handle(at(1), Input::Deadline);
            let effects = sup.handle(at(5), Input::Control(Command::Down));
            assert!(effects.contains(&Effect::KillCheck), "{effects:?}");
            assert!(
                !sup.handle(at(6), exited(10, 0))
                    .contains(&Effect::KillCheck)
            );
        }

        #[test]
        fn sd_notify_ready_status_watchdog_and_strangers() {
            let settings = Settings {
                notify: true,
                watchdog: Some(S),
                ..Settings::default()
            };
            assert_eq!(settings.readiness(), Readiness::Systemd);
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 10 });
            let notified = |from_service, text: &str| Input::Notified {
                sender: 11,
                from_service,
                notices: parse_notify(text.as_bytes()),
            };
            // A stranger changes nothing, and is logged once.
            let effects = sup.handle(at(1), notified(false, "READY=1"));
            assert!(info_of(&effects).is_none());
            assert_eq!(effects.len(), 1, "{effects:?}");
            assert!(sup.handle(at(2), notified(false, "READY=1")).is_empty());
            let info = info_of(&sup.handle(at(3), notified(true, "STATUS=warming"))).unwrap();
            assert_eq!(
                (info.state, info.status_text.as_str()),
                (State::Starting, "warming")
            );
            assert_eq!(sup.next_deadline(), None, "the watchdog waits for ready");
            let info = info_of(&sup.handle(at(10), notified(true, "READY=1\nSTATUS=up"))).unwrap();
            assert_eq!(
                (info.state, info.status_text.as_str()),
                (State::Ready, "up")
            );
            assert_eq!(sup.next_deadline(), Some(Duration::from_millis(1_010)));
            // MAINPID lines are logged a few times a run, no more.
            let flood = "MAINPID=1\n".repeat(50);
            let logged = sup
                .handle(at(20), notified(true, &flood))
                .iter()
                .filter(|e| matches!(e, Effect::Log(_, l) if l.contains("MAINPID=1 refused")))
                .count();
            assert_eq!(logged, 4);
            sup.handle(at(900), notified(true, "WATCHDOG=1"));
            assert_eq!(sup.next_deadline(), Some(Duration::from_millis(1_900)));
            let effects = sup.handle(at(1_900), Input::Deadline);
            assert!(logs_watchdog(&effects), "{effects:?}");
            let effects = sup.handle(at(1_950), exited(10, 0));
            let alarm = effects.iter().find_map(|e| match e {
                Effect::Alarm(a) => Some(a.event),
                _ => None,
            });
            assert_eq!(alarm, Some(AlarmEvent::Watchdog));
            assert_eq!(sup.info(at(1_950)).last_exit_cause, Some(Cause::Watchdog));
            // WATCHDOG=trigger bites at once; STOPPING=1 shows.
            sup.handle(at(2_000), Input::Spawned { pid: 12 });
            let info = info_of(&sup.handle(at(2_001), notified(true, "STOPPING=1"))).unwrap();
            assert_eq!(info.state, State::Stopping);
            let effects = sup.handle(at(2_002), notified(true, "WATCHDOG=trigger"));
            assert!(logs_watchdog(&effects), "{effects:?}");
        }

        fn logs_watchdog(effects: &[Effect]) -> bool {
            effects.iter().any(|e| {
                matches!(e, Effect::Log(_, line) if line.contains("no WATCHDOG=1 from the service within 1 s"))
            })
        }

        #[test]
        fn health_checks_run_once_ready_and_restart_after_the_retries() {
            let mut settings = Settings::default();
            settings.set("health_check", "true").unwrap();
            settings.set("health_interval", "1").unwrap();
            settings.set("health_retries", "2").unwrap();
            assert!(Settings::default().set("health_retries", "0").is_err());
            assert_eq!(
                settings.readiness(),
                Readiness::None,
                "health is not readiness"
            );
            let mut sup = Supervisor::new("svc", conf(settings), None);
            sup.handle(at(0), Input::Start);
            let info = info_of(&sup.handle(at(0), Input::Spawned { pid: 10 })).unwrap();
            assert_eq!((info.state, info.health_failures), (State::Ready, 0));
            assert_eq!(sup.next_deadline(), Some(S), "one interval after ready");
            let health = Effect::RunCheck {
                pid: 10,
                kind: CheckKind::Health,
            };
            assert!(sup.handle(at(1_000), Input::Deadline).contains(&health));
            assert_eq!(sup.next_deadline(), None, "while it runs");
            assert!(info_of(&sup.handle(at(1_100), Input::CheckFinished { ok: true })).is_none());
            assert!(sup.handle(at(2_100), Input::Deadline).contains(&health));
            let info = info_of(&sup.handle(at(2_200), Input::CheckFinished { ok: false })).unwrap();
            assert_eq!((info.state, info.health_failures), (State::Unhealthy, 1));
            // A pass clears it.
            sup.handle(at(3_200), Input::Deadline);
            let info = info_of(&sup.handle(at(3_300), Input::CheckFinished { ok: true })).unwrap();
            assert_eq!((info.state, info.health_failures), (State::Ready, 0));
            // Two failures in a row: stopped, a failed run, alarmed.
            for ms in [4_300, 5_400] {
                sup.handle(at(ms), Input::Deadline);
                sup.handle(at(ms + 50), Input::CheckFinished { ok: false });
            }
            assert_eq!(sup.info(at(5_450)).state, State::Stopping);
            let effects = sup.handle(at(5_500), exited(10, 0));
            assert!(
                effects
                    .iter()
                    .any(|e| matches!(e, Effect::Alarm(a) if a.event == AlarmEvent::Unhealthy))
            );
            let info = sup.info(at(5_500));
            assert_eq!(
                (info.last_exit_cause, info.health_failures),
                (Some(Cause::Unhealthy), 0)
            );
            // A stop while a health check runs kills it.
            sup.handle(at(5_500), Input::Spawned { pid: 11 });
            sup.handle(at(6_500), Input::Deadline);
            assert!(
                sup.handle(at(6_600), Input::Control(Command::Down))
                    .contains(&Effect::KillCheck)
            );
        }
    }

    #[test]
    fn sd_notify_datagrams_are_read_line_by_line_and_garbage_is_skipped() {
        assert_eq!(
            parse_notify(b"READY=1\nSTATUS=a=b\nFDSTORE=1\nWATCHDOG=1\nMAINPID=42\nMAINPID=x\n\xff\xfe\nSTOPPING=1\nWATCHDOG=trigger\nREADY=0"),
            [
                Notice::Ready,
                Notice::Status("a=b".into()),
                Notice::Watchdog,
                Notice::MainPid { pid: 42, in_group: false },
                Notice::Stopping,
                Notice::WatchdogTrigger,
            ]
        );
        let long = format!("STATUS={}", "é".repeat(MAX_STATUS_TEXT));
        match &parse_notify(long.as_bytes())[..] {
            [Notice::Status(text)] => assert!(text.len() <= MAX_STATUS_TEXT),
            other => panic!("{other:?}"),
        }
        let mut s = Settings::default();
        assert!(s.set("notify", "systemd").is_ok() && s.notify);
        assert!(s.set("notify", "s6").is_err());
        assert!(s.set("watchdog", "0").is_err());
        assert!(s.set("watchdog", "2.5").is_ok());
        assert_eq!(s.lines(), ["notify: systemd", "watchdog: 2.5s"]);
    }

    /// Random sequences through the supervisor with every readiness
    /// input: the driver's side is simulated as it behaves (a check's end
    /// is fed only while one runs, readiness only from the child).
    mod properties {
        use super::*;
        use crate::control::Command;
        use crate::supervisor::{Effect, Input, Now, Supervisor};
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Step {
            Wait(u64),
            Exit(i32),
            Ready,
            Checked(bool),
            Notify(bool, &'static str),
            Control(u8),
            Deadline,
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (1u64..3_000).prop_map(Step::Wait),
                (0i32..3).prop_map(Step::Exit),
                Just(Step::Ready),
                any::<bool>().prop_map(Step::Checked),
                (
                    any::<bool>(),
                    prop::sample::select(vec![
                        "READY=1",
                        "WATCHDOG=1",
                        "WATCHDOG=trigger",
                        "STOPPING=1",
                        "STATUS=x",
                        "MAINPID=1",
                        "\u{0}junk",
                    ])
                )
                    .prop_map(|(from, text)| Step::Notify(from, text)),
                prop::sample::select(vec![b'd', b'u', b'o', b't', b'x']).prop_map(Step::Control),
                Just(Step::Deadline),
            ]
        }

        fn settings() -> impl Strategy<Value = Settings> {
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(fd, notify, ready_check, health, timeout)| {
                    let mut s = Settings::default();
                    if fd {
                        s.set("notification_fd", "3").unwrap();
                    }
                    if notify {
                        s.set("notify", "systemd").unwrap();
                        s.set("watchdog", "1").unwrap();
                    }
                    if ready_check {
                        s.set("ready_check", "true").unwrap();
                    }
                    if health {
                        s.set("health_check", "true").unwrap();
                        s.set("health_interval", "1").unwrap();
                    }
                    if timeout {
                        s.set("ready_timeout", "2").unwrap();
                    }
                    s
                })
        }

        fn run(settings: Settings, steps: Vec<Step>) {
            let conf = crate::conf::Conf {
                alarm_interval: 60,
                max_tries: 50,
                ready: settings,
                ..crate::conf::Conf::unread()
            };
            let mut sup = Supervisor::new("svc", conf, None);
            let mut ms = 0u64;
            let now = |ms: u64| Now {
                mono: Duration::from_millis(ms),
                wall: Duration::from_secs(1_700_000_000) + Duration::from_millis(ms),
            };
            let mut next_pid = 100;
            let mut check_running = false;
            let mut exited = false;
            let mut queue = vec![Input::Start];
            for step in steps.into_iter().map(Some).chain([None]) {
                let mut rounds = 0;
                loop {
                    while let Some(input) = queue.pop() {
                        let effects = sup.handle(now(ms), input);
                        for effect in effects {
                            match effect {
                                Effect::Spawn => {
                                    next_pid += 1;
                                    queue.push(Input::Spawned { pid: next_pid });
                                }
                                Effect::RunCheck { pid, .. } => {
                                    assert!(!check_running, "two checks at once");
                                    assert_eq!(Some(pid), sup.child_pid());
                                    check_running = true;
                                }
                                Effect::KillCheck => {
                                    assert!(check_running, "KillCheck without a check");
                                    check_running = false;
                                }
                                Effect::WriteInfo(info) => {
                                    assert_eq!(info.pid, sup.status().pid, "{info:?}");
                                    if matches!(info.state, State::Ready | State::Starting) {
                                        assert_ne!(info.pid, 0);
                                    }
                                }
                                Effect::Exit(_) => exited = true,
                                _ => {}
                            }
                        }
                    }
                    if exited {
                        return;
                    }
                    // A deadline that is due is consumed: never a busy loop.
                    let mono = Duration::from_millis(ms);
                    match sup.next_deadline().filter(|&t| t <= mono) {
                        Some(t) => {
                            // One deadline may bring the next at the same
                            // moment (a restart, then its first check),
                            // never for ever.
                            rounds += 1;
                            assert!(rounds < 5, "a deadline at {t:?} is still due");
                            queue.push(Input::Deadline);
                        }
                        None => break,
                    }
                }
                let Some(step) = step else {
                    break;
                };
                let pid = sup.child_pid();
                match step {
                    Step::Wait(d) => ms += d,
                    Step::Exit(code) => {
                        if let Some(pid) = pid {
                            queue.push(Input::ChildExited {
                                pid,
                                how: Exit::Code(code),
                                group_alive: false,
                            });
                        }
                    }
                    Step::Ready => {
                        if let Some(pid) = pid {
                            queue.push(Input::Ready { pid });
                        }
                    }
                    Step::Checked(ok) => {
                        if check_running {
                            check_running = false;
                            queue.push(Input::CheckFinished { ok });
                        }
                    }
                    Step::Notify(from_service, text) => queue.push(Input::Notified {
                        sender: 7,
                        from_service,
                        notices: parse_notify(text.as_bytes()),
                    }),
                    Step::Control(byte) => {
                        queue.push(Input::Control(Command::from_byte(byte).unwrap()))
                    }
                    Step::Deadline => {
                        if let Some(t) = sup.next_deadline() {
                            ms = ms.max(t.as_millis() as u64);
                            queue.push(Input::Deadline);
                        }
                    }
                }
            }
            // Nothing runs: no check may be left running.
            if sup.child_pid().is_none() {
                assert!(!check_running, "a check outlived its run");
            }
        }

        proptest! {
            #[test]
            fn readiness_invariants_hold_for_any_sequence(
                settings in settings(),
                steps in prop::collection::vec(step(), 0..60),
            ) {
                run(settings, steps);
            }
        }
    }
}
