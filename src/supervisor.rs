//! The supervision state machine: every rule of SPEC §4–5 as a pure
//! function of (state, input, now) → effects. It never makes a system call
//! and never reads a clock: the driver passes `now` in, carries out the
//! effects and feeds the outcomes (a pid, an exit) back as inputs. That is what
//! lets unit tests drive every rule without processes.

use std::time::Duration;

pub use crate::alarm::AlarmEvent;
use crate::backoff::{Backoff, Policy};
use crate::conf::Conf;
use crate::control::Command;
use crate::duration::millis_needed as seconds;
use crate::events::{Event, Kind};
use crate::info::{Cause, Exited, Info, State};
use crate::ready::{Facts, Phase, View};
use crate::status::{Status, Want};

/// The moment an input happened: monotonic time for windows, back-off and
/// timeouts; wall-clock time only for what is displayed (the status file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time, since this process first read the clock (`sys::clock`).
    pub mono: Duration,
    /// Since the Unix epoch.
    pub wall: Duration,
}

/// How a child ended, from its wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It called exit with this code.
    Code(i32),
    /// A signal killed it.
    Signal {
        /// The signal number.
        signal: i32,
        /// The wait status says a core was dumped.
        core: bool,
    },
}

impl Exit {
    /// `exit code 3` or `killed by signal 9 SIGKILL`, for logs.
    pub fn describe(self) -> String {
        match self {
            Exit::Code(code) => format!("exit code {code}"),
            Exit::Signal { signal, .. } => match crate::alarm::signal_name(signal) {
                name if name.starts_with("SIG") => format!("killed by signal {signal} {name}"),
                _ => format!("killed by signal {signal}"),
            },
        }
    }

    /// Whether the wait status reported a core dump.
    pub fn core_dumped(self) -> bool {
        matches!(self, Exit::Signal { core: true, .. })
    }
}

/// What happened, as the supervisor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// supervise has set up its directory: start the service.
    Start,
    /// The `Spawn` effect produced a child.
    Spawned {
        /// Its pid, which is also its process group.
        pid: u32,
    },
    /// The `Spawn` effect failed (fork or exec error).
    SpawnFailed {
        /// The command and why, for the log: `CMD: error`.
        reason: String,
    },
    /// The service's child was reaped.
    ChildExited {
        /// Its pid.
        pid: u32,
        /// Its wait status.
        how: Exit,
        /// Whether other members of its process group are still alive.
        group_alive: bool,
    },
    /// The process group we were waiting for has no members left.
    GroupGone,
    /// A control command.
    Control(Command),
    /// The deadline from [`Supervisor::next_deadline`] has passed.
    Deadline,
    /// SIGTERM or SIGINT to supervise itself.
    Terminate,
    /// A signal to supervise itself other than SIGCHLD (which the driver
    /// answers by reaping): its number. What each one means is decided here.
    Signal(i32),
    /// Before [`Input::Start`]: a process group that a previous supervise of
    /// this directory left running (it was killed). It is stopped like a
    /// group that outlived its leader before the service starts.
    LeftoverGroup {
        /// The group, whose leader was the previous service.
        pgid: u32,
        /// When its leader started (wall clock), as recorded.
        since: Duration,
    },
    /// The restart hook finished (or was killed at its timeout).
    HookFinished,
    /// The service said it is ready (a newline on its `notification_fd`).
    Ready {
        /// The child that said it.
        pid: u32,
    },
    /// A datagram on the service's `NOTIFY_SOCKET` (`notify : systemd`).
    Notified {
        /// The sender's pid.
        sender: u32,
        /// The sender is the service or in its process group.
        from_service: bool,
        /// What it says.
        notices: Vec<crate::ready::Notice>,
    },
    /// The `ready_check` ended (or was killed at its timeout).
    CheckFinished {
        /// It exited 0.
        ok: bool,
    },
    /// The config file was re-read (`r`), or could not be (`None`).
    Reloaded(Option<Box<Conf>>),
}

/// Where a signal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The child process only.
    Child(u32),
    /// The child's whole process group.
    Group(u32),
}

/// Log severity; NOTICE goes to supervise.log, the others to supervise.log.wf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Ordinary events.
    Notice,
    /// Something an operator should look at.
    Warning,
    /// Something failed.
    Fatal,
}

/// Facts for an alarm; the driver adds host, time and the stderr tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm {
    /// What happened.
    pub event: AlarmEvent,
    /// How the child ended.
    pub how: Exit,
    /// How long it ran.
    pub run_time: Duration,
    /// Exits counted in the current window.
    pub restarts_in_window: u32,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Start the child; answer with `Spawned` or `SpawnFailed`.
    Spawn,
    /// Send a signal.
    Signal {
        /// The signal number.
        signal: i32,
        /// To whom.
        target: Target,
    },
    /// Replace the status file.
    WriteStatus(Status),
    /// Replace `info` (the driver fills in `supervise_pid`).
    WriteInfo(Box<Info>),
    /// Run the `ready_check` of the child `pid`; answer with
    /// `CheckFinished`.
    RunCheck {
        /// The service's pid (for the check's environment).
        pid: u32,
        /// Which check.
        kind: crate::ready::CheckKind,
    },
    /// KILL the running `ready_check`'s process group; no `CheckFinished`
    /// follows.
    KillCheck,
    /// Write a log line.
    Log(Level, String),
    /// Write a line to supervise.log as it is, with no level and no time:
    /// the config dump after `Finished loading configurations!` (SPEC §2).
    LogBare(String),
    /// Send an alarm by every configured means.
    Alarm(Alarm),
    /// Run `RESTART_SH COUNT`; answer with `HookFinished`.
    RunRestartHook {
        /// The exit count passed as its argument.
        count: u32,
    },
    /// KILL the running restart hook's process group: `d`, `x` and SIGTERM
    /// do not wait for it. Its `HookFinished` is then ignored.
    KillHook,
    /// Re-read the config file; answer with `Reloaded`.
    ReloadConf,
    /// Append this exit to the `history` file (docs/status-files.md).
    RecordExit(Exited),
    /// Tell `event_command` of a state change (only when it is set).
    Event(Event),
    /// Exit supervise with this code.
    Exit(i32),
}

/// How many `MAINPID=` lines of one run are logged.
const MAINPID_LOGGED: u32 = 4;

/// Exit code when supervise gave up restarting the service (max_tries).
pub const EXIT_GAVE_UP: i32 = 2;

/// After KILL, how long to wait for the process group to empty before
/// declaring the service down anyway (a member stuck in uninterruptible
/// sleep, or a zombie whose parent is not ours).
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// Settings for the `-r` restart hook (SPEC §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartHook {
    /// `-t`: the count restarts at 1 when the previous exit was at least this
    /// long ago; `None` means always.
    pub reset_after: Option<Duration>,
}

/// A stop in progress: TERM was sent to the group, KILL follows at the
/// deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stop {
    /// When to send KILL; after it was sent, when to stop waiting; `None`
    /// once there is nothing left to do but wait for the exit.
    deadline: Option<Duration>,
    /// KILL has been sent.
    killed: bool,
}

/// The service's process, with exactly the data each state has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Child {
    /// Nothing runs.
    Down,
    /// The restart hook runs; the child starts when it finishes.
    Hook,
    /// The spawn effect was issued; waiting for its outcome.
    Spawning,
    /// The child runs.
    Running {
        pid: u32,
        started: Duration,
        /// When it started, on the wall clock (for the lock's record).
        since: Duration,
        /// TERM was sent to the group (`d`, SIGTERM) and the exit is awaited.
        stop: Option<Stop>,
        /// The operator sent a signal that ends it (`t`, `k`, `i`).
        signalled: bool,
        /// Stopped by `p` and not continued since (`c`, or a stop).
        paused: bool,
    },
    /// The child exited but its process group lives on, or a previous
    /// supervise left the group running: it is being stopped.
    Draining {
        pgid: u32,
        stop: Stop,
        /// When its leader started, on the wall clock.
        since: Duration,
    },
}

/// Exits counted in the current alarm window (SPEC §5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Window {
    /// When the open window closes; `None` when no window is open.
    closes_at: Option<Duration>,
    tries: u32,
    coredumps: u32,
}

/// The supervisor of one service.
#[derive(Debug)]
pub struct Supervisor {
    name: String,
    conf: Conf,
    hook: Option<RestartHook>,
    child: Child,
    want: Want,
    alarms_on: bool,
    since: Duration,
    /// `x` or SIGTERM: exit as soon as the service is down.
    exit_pending: bool,
    /// SIGTERM or SIGINT was received (a second one escalates to KILL).
    terminating: bool,
    /// Exit with this code once down (set by the give-up rule).
    exit_code: i32,
    /// A restart waits for the back-off deadline.
    restart_at: Option<Duration>,
    /// Whether the next start is a restart (logged, runs the hook).
    started_before: bool,
    /// The crash-loop streak.
    backoff: Backoff,
    window: Window,
    /// The status last handed to the driver to write.
    written: Option<Status>,
    /// `-r` mode: the exit count and when the last exit happened.
    hook_count: u32,
    last_exit_at: Option<Duration>,
    /// Stray signals to supervise, for logging each at most once per
    /// [`STRAY_REPORT_EVERY`].
    strays: Vec<Stray>,
    /// Readiness and the facts of `info` (see [`crate::ready`]).
    facts: Facts,
    /// The `info` last handed to the driver to write.
    info_written: Option<Info>,
}

/// How often the same stray signal is logged: a sender in a loop costs one
/// line per signal per 10 s, not one per wake-up.
pub const STRAY_REPORT_EVERY: Duration = Duration::from_secs(10);

/// A signal with no meaning for supervise, as far as it was logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stray {
    signal: i32,
    logged_at: Duration,
    unlogged: u32,
}

impl Supervisor {
    /// A supervisor for service `name`, wanting it up.
    pub fn new(name: &str, conf: Conf, hook: Option<RestartHook>) -> Supervisor {
        Supervisor {
            name: name.to_owned(),
            conf,
            hook,
            child: Child::Down,
            want: Want::Up,
            alarms_on: true,
            since: Duration::ZERO,
            exit_pending: false,
            terminating: false,
            exit_code: 0,
            restart_at: None,
            started_before: false,
            backoff: Backoff::default(),
            window: Window::default(),
            written: None,
            hook_count: 0,
            last_exit_at: None,
            strays: Vec::new(),
            facts: Facts::default(),
            info_written: None,
        }
    }

    /// The same, wanting `want` at [`Input::Start`]: up, down (`--down`,
    /// nothing starts until `u` or `o`) or once (`--once`, as `o`).
    pub fn starting(mut self, want: Want) -> Supervisor {
        self.want = want;
        self
    }

    /// The settings in force.
    pub fn conf(&self) -> &Conf {
        &self.conf
    }

    /// The status file as it should read now.
    pub fn status(&self) -> Status {
        let (pid, paused) = match self.child {
            Child::Running { pid, paused, .. } => (pid, paused),
            _ => (0, false),
        };
        Status {
            since: self.since,
            paused,
            want: self.want,
            alarms_on: self.alarms_on,
            pid,
        }
    }

    /// The pid of the running child, if any.
    pub fn child_pid(&self) -> Option<u32> {
        match self.child {
            Child::Running { pid, .. } => Some(pid),
            _ => None,
        }
    }

    /// The process group supervise answers for, and when its leader
    /// started (wall clock): the running child, or a group being stopped.
    /// The driver records it in the lock file, so that a supervise started
    /// after this one is killed finds it even if the status file is stale.
    pub fn live_group(&self) -> Option<(u32, Duration)> {
        match self.child {
            Child::Running { pid, since, .. } => Some((pid, since)),
            Child::Draining { pgid, since, .. } => Some((pgid, since)),
            _ => None,
        }
    }

    /// The process group whose emptiness the driver must report with
    /// `GroupGone` (the child has exited but its group lives on).
    pub fn draining_group(&self) -> Option<u32> {
        match self.child {
            Child::Draining { pgid, .. } => Some(pgid),
            _ => None,
        }
    }

    /// When the driver must send `Deadline`, on the monotonic clock; `None`
    /// means wait for ever (no wake-up while the service simply runs).
    pub fn next_deadline(&self) -> Option<Duration> {
        let stop = match self.child {
            Child::Running {
                stop: Some(stop), ..
            }
            | Child::Draining { stop, .. } => stop.deadline,
            _ => None,
        };
        let restart = self.restart_at.filter(|_| self.child == Child::Down);
        let (ready, check, watchdog) = match self.child {
            Child::Running { stop: None, .. } => (
                self.facts.ready_due,
                self.facts
                    .check_due
                    .filter(|_| self.facts.check_running.is_none()),
                self.facts.watchdog_due,
            ),
            _ => (None, None, None),
        };
        [stop, restart, ready, check, watchdog]
            .into_iter()
            .flatten()
            .min()
    }

    /// `info` as it should read now (see [`crate::ready::Facts::info`]).
    pub fn info(&mut self, now: Now) -> Info {
        let (pid, started, phase) = match self.child {
            Child::Running {
                pid, since, stop, ..
            } => (
                pid,
                Some(since),
                Phase::Running {
                    stopping: stop.is_some() || self.facts.stopping,
                    ready: self.facts.ready_since.is_some(),
                    unhealthy: self.facts.health_failures > 0,
                },
            ),
            Child::Draining { .. } => (
                0,
                None,
                Phase::Running {
                    stopping: true,
                    ready: false,
                    unhealthy: false,
                },
            ),
            Child::Down | Child::Hook | Child::Spawning => (
                0,
                None,
                Phase::Down {
                    restart_due: self.child != Child::Down || self.restart_at.is_some(),
                    gave_up: self.exit_pending && self.exit_code == EXIT_GAVE_UP,
                },
            ),
        };
        let view = View {
            pid,
            started,
            phase,
            readiness: self.conf.ready.readiness(),
            restarts_window: self.window.tries,
        };
        self.facts.info(now.wall, view)
    }

    /// Feeds one input; returns what the driver must do, in order.
    pub fn handle(&mut self, now: Now, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                self.since = now.wall;
                self.start_if_wanted(now, &mut out);
            }
            Input::Spawned { pid } => self.on_spawned(now, pid, &mut out),
            Input::SpawnFailed { reason } => {
                out.push(Effect::Log(
                    Level::Fatal,
                    format!("unable to start {reason}"),
                ));
                self.child = Child::Down;
                self.facts.failure = Some(Cause::SpawnFailed);
                self.after_exit(now, 0, Exit::Code(1), Duration::ZERO, false, &mut out);
            }
            Input::ChildExited {
                pid,
                how,
                group_alive,
            } => self.on_exit(now, pid, how, group_alive, &mut out),
            Input::GroupGone => {
                if let Child::Draining { .. } = self.child {
                    self.child = Child::Down;
                    self.settle(now, &mut out);
                }
            }
            Input::Control(command) => self.on_command(now, command, &mut out),
            Input::Deadline => self.on_deadline(now, &mut out),
            Input::Terminate => self.on_terminate(now, &mut out),
            Input::Signal(signal) => self.on_signal(now, signal, &mut out),
            Input::LeftoverGroup { pgid, since } => {
                if self.child == Child::Down {
                    out.push(Effect::Log(
                        Level::Warning,
                        format!(
                            "pid {pgid} (process group {pgid}) of a previous supervise of this directory is still running; stopping it (TERM, then KILL after {} s) before starting a new one",
                            seconds(self.conf.stop_timeout)
                        ),
                    ));
                    self.signal_group_to_stop(pgid, &mut out);
                    self.child = Child::Draining {
                        pgid,
                        since,
                        stop: Stop {
                            deadline: Some(now.mono + self.conf.stop_timeout),
                            killed: false,
                        },
                    };
                }
            }
            Input::HookFinished => {
                if self.child == Child::Hook {
                    self.child = Child::Down;
                    if self.want != Want::Down && !self.exit_pending {
                        self.spawn(&mut out);
                    } else {
                        self.settle(now, &mut out);
                    }
                }
            }
            Input::Ready { pid } => {
                if let Child::Running {
                    pid: running,
                    started,
                    stop: None,
                    ..
                } = self.child
                    && running == pid
                    && self.facts.ready(now.mono, now.wall, &self.conf.ready)
                {
                    out.push(Effect::Log(
                        Level::Notice,
                        format!(
                            "service ready, pid {pid} ({} s after it started)",
                            seconds(now.mono.saturating_sub(started))
                        ),
                    ));
                }
            }
            Input::Notified {
                sender,
                from_service,
                notices,
            } => self.on_notified(now, sender, from_service, notices, &mut out),
            Input::CheckFinished { ok } => self.on_checked(now, ok, &mut out),
            Input::Reloaded(conf) => match conf {
                Some(conf) => {
                    // The window's counters survive: they describe what the
                    // service did, not the settings. A new alarm_interval
                    // applies from the next window.
                    self.conf = *conf;
                    out.extend(loaded(&self.conf));
                }
                None => out.push(Effect::Log(
                    Level::Warning,
                    "Cannot open config file. Old configurations unchanged.".to_owned(),
                )),
            },
        }
        // A check runs only for a run that runs and is not stopping; a
        // ready_check only until the run is ready.
        let running = matches!(self.child, Child::Running { stop: None, .. });
        if !self.facts.check_wanted(running) {
            self.facts.check_running = None;
            out.push(Effect::KillCheck);
        }
        if !out.contains(&Effect::Spawn) {
            let info = self.info(now);
            if self.info_written.as_ref() != Some(&info) {
                // Readiness and health, as `info` tells them, for
                // event_command: the state entered, once per run.
                let before = self.info_written.as_ref().map(|i| (i.pid, i.state));
                let entered = match info.state {
                    State::Ready => Some(Kind::Ready),
                    State::Unhealthy => Some(Kind::Unhealthy),
                    _ => None,
                };
                if let Some(kind) = entered
                    && before != Some((info.pid, info.state))
                {
                    self.event(kind, info.pid, None, Duration::ZERO, &mut out);
                }
                self.info_written = Some(info.clone());
                out.push(Effect::WriteInfo(Box::new(info)));
            }
        }
        let status = self.status();
        // When a spawn follows, the status file is written once the new pid
        // is known: one atomic rename per restart instead of two (the pid
        // goes straight from the dead child to the new one), and the spawn
        // does not wait for the file system.
        if self.written != Some(status) && !out.contains(&Effect::Spawn) {
            self.written = Some(status);
            out.push(Effect::WriteStatus(status));
        }
        out
    }

    fn on_spawned(&mut self, now: Now, pid: u32, out: &mut Vec<Effect>) {
        self.child = Child::Running {
            pid,
            started: now.mono,
            since: now.wall,
            stop: None,
            signalled: false,
            paused: false,
        };
        self.since = now.wall;
        self.facts.started(now.mono, now.wall, &self.conf.ready);
        out.push(Effect::Log(
            Level::Notice,
            format!("service started, pid {pid}"),
        ));
        self.event(Kind::Start, pid, None, Duration::ZERO, out);
        // A `d` or `x` that arrived while the spawn was under way still counts.
        if self.want == Want::Down {
            self.begin_stop(now, pid, out);
        }
    }

    /// A `ready_check` or `health_check` ended.
    fn on_checked(&mut self, now: Now, ok: bool, out: &mut Vec<Effect>) {
        use crate::ready::Checked;
        let Child::Running {
            pid,
            started,
            stop: None,
            ..
        } = self.child
        else {
            self.facts.check_running = None;
            return;
        };
        let retries = self.conf.ready.health_retries;
        let line = match self
            .facts
            .check_finished(now.mono, now.wall, ok, &self.conf.ready)
        {
            Checked::Nothing => return,
            Checked::Ready => (
                Level::Notice,
                format!(
                    "service ready, pid {pid} ({} s after it started; ready_check passed)",
                    seconds(now.mono.saturating_sub(started))
                ),
            ),
            Checked::Recovered => (
                Level::Notice,
                format!("health_check passed again, pid {pid}"),
            ),
            Checked::Failed(n) => (
                Level::Warning,
                format!("health_check failed ({n} of {retries} in a row), pid {pid}"),
            ),
            Checked::Unhealthy(n) => {
                self.facts.failure = Some(Cause::Unhealthy);
                out.push(Effect::Log(
                    Level::Warning,
                    format!(
                        "health_check failed {n} times in a row (health_retries {retries}): stopping pid {pid}, a failed run"
                    ),
                ));
                self.begin_stop(now, pid, out);
                return;
            }
        };
        out.push(Effect::Log(line.0, line.1));
    }

    /// sd_notify from the service (see [`crate::ready::parse_notify`]).
    fn on_notified(
        &mut self,
        now: Now,
        sender: u32,
        from_service: bool,
        notices: Vec<crate::ready::Notice>,
        out: &mut Vec<Effect>,
    ) {
        use crate::ready::Notice;
        let Child::Running {
            pid, started, stop, ..
        } = self.child
        else {
            return;
        };
        if !from_service {
            if !std::mem::replace(&mut self.facts.stranger_logged, true) {
                out.push(Effect::Log(
                    Level::Warning,
                    format!("notification from pid {sender} refused: it is not in the service's process group {pid}"),
                ));
            }
            return;
        }
        let watchdog = self.conf.ready.watchdog;
        for notice in notices {
            match notice {
                Notice::Status(text) => self.facts.status_text = text,
                Notice::Ready
                    if stop.is_none() && self.facts.ready(now.mono, now.wall, &self.conf.ready) =>
                {
                    self.facts.watchdog_due = watchdog.map(|t| now.mono + t);
                    out.push(Effect::Log(
                        Level::Notice,
                        format!(
                            "service ready, pid {pid} ({} s after it started; READY=1)",
                            seconds(now.mono.saturating_sub(started))
                        ),
                    ));
                }
                Notice::Ready => {}
                Notice::Stopping => {
                    if !std::mem::replace(&mut self.facts.stopping, true) {
                        out.push(Effect::Log(
                            Level::Notice,
                            format!("service says it is stopping (STOPPING=1), pid {pid}"),
                        ));
                    }
                }
                // Said a few times a run at most: a service repeating it
                // floods no log.
                Notice::MainPid { .. } if self.facts.mainpid_logged >= MAINPID_LOGGED => {}
                Notice::MainPid {
                    pid: main,
                    in_group,
                } => {
                    self.facts.mainpid_logged += 1;
                    out.push(if in_group {
                    Effect::Log(
                        Level::Notice,
                        format!("MAINPID={main}: in the service's process group, which supervise watches and stops as a whole"),
                    )
                } else {
                    Effect::Log(
                        Level::Warning,
                        format!("MAINPID={main} refused: not in the service's process group {pid}"),
                    )
                });
                }
                Notice::Watchdog => {
                    if stop.is_none() {
                        self.facts.watchdog_due = watchdog.map(|t| now.mono + t);
                    }
                }
                Notice::WatchdogTrigger => {
                    if stop.is_none() && watchdog.is_some() {
                        self.facts.watchdog_due = Some(now.mono);
                    }
                }
            }
        }
        if self.facts.watchdog_due.is_some_and(|t| now.mono >= t) {
            self.watchdog_bites(now, out);
        }
    }

    /// No `WATCHDOG=1` in time (or `WATCHDOG=trigger`): a failed run,
    /// stopped, then restarted with back-off.
    fn watchdog_bites(&mut self, now: Now, out: &mut Vec<Effect>) {
        let Child::Running {
            pid, stop: None, ..
        } = self.child
        else {
            return;
        };
        self.facts.watchdog_due = None;
        self.facts.failure = Some(Cause::Watchdog);
        let limit = self.conf.ready.watchdog.unwrap_or_default();
        out.push(Effect::Log(
            Level::Warning,
            format!(
                "no WATCHDOG=1 from the service within {} s (watchdog): stopping it, a failed run",
                seconds(limit)
            ),
        ));
        self.begin_stop(now, pid, out);
    }

    fn on_exit(&mut self, now: Now, pid: u32, how: Exit, group_alive: bool, out: &mut Vec<Effect>) {
        let Child::Running {
            pid: running,
            started,
            since,
            stop,
            signalled,
            ..
        } = self.child
        else {
            return;
        };
        if running != pid {
            return;
        }
        let run_time = now.mono.saturating_sub(started);
        self.since = now.wall;
        out.push(Effect::Log(Level::Notice, exit_line(how, run_time, pid)));
        // A stop supervise made because the run failed (not ready in
        // time) is a failure, not an exit the operator asked for.
        let requested =
            self.facts.failure.is_none() && (stop.is_some() || signalled || self.exit_pending);
        self.event(Kind::Exit, pid, Some(how), run_time, out);
        self.child = if group_alive {
            let stop = stop.unwrap_or_else(|| {
                out.push(Effect::Log(
                    Level::Warning,
                    format!("process group {pid} outlived the service; stopping it"),
                ));
                self.signal_group_to_stop(pid, out);
                Stop {
                    deadline: Some(now.mono + self.conf.stop_timeout),
                    killed: false,
                }
            });
            Child::Draining {
                pgid: pid,
                stop,
                since,
            }
        } else {
            Child::Down
        };
        self.after_exit(now, pid, how, run_time, requested, out);
    }

    /// Counting, alarms, give-up and the restart decision after any exit
    /// (of `pid`, 0 for a start that failed); its line of `history`.
    fn after_exit(
        &mut self,
        now: Now,
        pid: u32,
        how: Exit,
        run_time: Duration,
        requested: bool,
        out: &mut Vec<Effect>,
    ) {
        let mut delay = Duration::ZERO;
        let cause = self.facts.exited(now.wall, how, run_time, requested);
        out.push(Effect::RecordExit(Exited {
            time: now.wall,
            pid,
            exit: how,
            ran: run_time,
            cause,
        }));
        if !requested {
            if self.hook.is_some() {
                self.count_for_hook(now);
            } else if self.account_exit(now, how, run_time, cause, out) {
                self.facts.gave_up = crate::ready::give_up_rule(
                    self.window.tries,
                    self.window.coredumps,
                    self.conf.alarm_interval,
                    self.conf.max_tries,
                    self.conf.max_tries_if_coredumped,
                );
                let line = format!(
                    "supervise refused to restart {} any more and exited itself!",
                    self.name
                );
                // The original's notice, which scripts grep in supervise.log,
                // and a warning with the facts where operators look for trouble.
                let facts = format!(
                    "{line} ({} exits, {} with core dump, in a {} s window; max_tries {}, max_tries_if_coredumped {})",
                    self.window.tries,
                    self.window.coredumps,
                    self.conf.alarm_interval,
                    self.conf.max_tries,
                    self.conf.max_tries_if_coredumped
                );
                out.push(Effect::Log(Level::Notice, line));
                out.push(Effect::Log(Level::Warning, facts));
                self.event(Kind::GiveUp, 0, Some(how), run_time, out);
                self.exit_pending = true;
                self.exit_code = EXIT_GAVE_UP;
            }
            // A failed start backs off as a quick exit does, however long
            // it ran.
            delay = self.backoff(if cause == Cause::Crash {
                run_time
            } else {
                Duration::ZERO
            });
        }
        if self.want == Want::Up && !self.exit_pending {
            if delay > Duration::ZERO {
                out.push(Effect::Log(
                    Level::Warning,
                    format!(
                        "{} exited {} times in a row within {} s of starting; restarting in {} s",
                        self.name,
                        self.backoff.quick_exits(),
                        seconds(self.conf.healthy_after),
                        seconds(delay)
                    ),
                ));
                self.event(Kind::Backoff, 0, None, delay, out);
            }
            self.restart_at = Some(now.mono + delay);
            self.facts.next_start = (!delay.is_zero()).then(|| (now.wall + delay, delay));
        }
        self.settle(now, out);
    }

    /// SPEC §5.2: opens and closes windows, counts, alarms. Returns whether
    /// supervise must give up.
    fn account_exit(
        &mut self,
        now: Now,
        how: Exit,
        run_time: Duration,
        cause: Cause,
        out: &mut Vec<Effect>,
    ) -> bool {
        let interval = self.conf.alarm_interval;
        if interval == 0 {
            return false;
        }
        if self.window.closes_at.is_some_and(|t| now.mono >= t) {
            self.window = Window::default();
        }
        let mut alarm = false;
        if self.alarms_on {
            if self.window.closes_at.is_none() {
                self.window.closes_at = Some(now.mono + Duration::from_secs(interval));
                alarm = true;
            }
            self.window.tries += 1;
        }
        if how.core_dumped() {
            self.window.coredumps += 1;
        }
        let event = if how.core_dumped() {
            AlarmEvent::Coredump
        } else if cause == Cause::NotReady {
            AlarmEvent::NotReady
        } else if cause == Cause::Watchdog {
            AlarmEvent::Watchdog
        } else if cause == Cause::Unhealthy {
            AlarmEvent::Unhealthy
        } else {
            AlarmEvent::Exit
        };
        let facts = |event| Alarm {
            event,
            how,
            run_time,
            restarts_in_window: self.window.tries,
        };
        if alarm {
            out.push(Effect::Alarm(facts(event)));
        }
        let conf = &self.conf;
        let give_up = (conf.max_tries > 0 && self.window.tries > conf.max_tries)
            || (conf.max_tries_if_coredumped > 0
                && self.window.coredumps > conf.max_tries_if_coredumped);
        if give_up && self.alarms_on {
            out.push(Effect::Alarm(facts(AlarmEvent::GiveUp)));
        }
        give_up
    }

    /// SPEC §5.3: the count passed to the restart hook.
    fn count_for_hook(&mut self, now: Now) {
        let reset = match (self.hook.and_then(|h| h.reset_after), self.last_exit_at) {
            (Some(after), Some(last)) => now.mono.saturating_sub(last) >= after,
            _ => true,
        };
        self.hook_count = if reset { 1 } else { self.hook_count + 1 };
        self.last_exit_at = Some(now.mono);
    }

    /// The delay before restarting after an unrequested exit: none after a
    /// healthy run or while the burst budget lasts, then doubling up to the
    /// cap (see [`crate::backoff`]).
    fn backoff(&mut self, run_time: Duration) -> Duration {
        let policy = Policy {
            healthy_after: self.conf.healthy_after,
            start: self.conf.backoff_start,
            cap: self.conf.backoff_cap,
            burst: self.conf.restart_burst,
            refill: self.conf.restart_burst_refill,
        };
        self.backoff.after_exit(run_time, policy)
    }

    /// Once nothing runs: exit if asked to, or start now if a restart is due.
    fn settle(&mut self, now: Now, out: &mut Vec<Effect>) {
        if self.child != Child::Down {
            return;
        }
        if self.exit_pending {
            self.restart_at = None;
            out.push(Effect::Log(Level::Notice, "supervise exiting".to_owned()));
            out.push(Effect::Exit(self.exit_code));
            return;
        }
        if self.restart_at.is_some_and(|t| now.mono >= t) {
            self.restart_at = None;
            self.begin_start(out);
        }
    }

    fn start_if_wanted(&mut self, now: Now, out: &mut Vec<Effect>) {
        if self.want != Want::Down {
            self.restart_at = Some(now.mono);
        }
        self.settle(now, out);
    }

    /// Starts the child, running the restart hook first when this is a
    /// restart under `-r`.
    fn begin_start(&mut self, out: &mut Vec<Effect>) {
        if self.started_before {
            self.facts.restarts_total += 1;
            out.push(Effect::Log(
                Level::Notice,
                format!("supervise is trying to restart {}...", self.name),
            ));
            if self.hook.is_some() {
                self.child = Child::Hook;
                out.push(Effect::RunRestartHook {
                    count: self.hook_count.max(1),
                });
                return;
            }
        }
        self.spawn(out);
    }

    fn spawn(&mut self, out: &mut Vec<Effect>) {
        self.started_before = true;
        self.child = Child::Spawning;
        out.push(Effect::Spawn);
    }

    fn signal_group_to_stop(&self, pgid: u32, out: &mut Vec<Effect>) {
        for signal in [libc::SIGTERM, libc::SIGCONT] {
            out.push(Effect::Signal {
                signal,
                target: Target::Group(pgid),
            });
        }
    }

    fn begin_stop(&mut self, now: Now, pid: u32, out: &mut Vec<Effect>) {
        if let Child::Running { stop, paused, .. } = &mut self.child
            && stop.is_none()
        {
            *stop = Some(Stop {
                deadline: Some(now.mono + self.conf.stop_timeout),
                killed: false,
            });
            *paused = false;
            self.signal_group_to_stop(pid, out);
            self.event(Kind::Stop, pid, None, Duration::ZERO, out);
        }
    }

    /// An event for `event_command`, when one is set.
    fn event(
        &self,
        kind: Kind,
        pid: u32,
        how: Option<Exit>,
        duration: Duration,
        out: &mut Vec<Effect>,
    ) {
        if self.conf.event_command.is_some() {
            out.push(Effect::Event(Event {
                kind,
                pid,
                how,
                duration,
                restarts_in_window: self.window.tries,
            }));
        }
    }

    fn on_command(&mut self, now: Now, command: Command, out: &mut Vec<Effect>) {
        match command {
            Command::Up | Command::Once => {
                self.want = if command == Command::Up {
                    Want::Up
                } else {
                    Want::Once
                };
                if self.child == Child::Down && !self.exit_pending {
                    // The operator asked: a pending back-off does not apply.
                    self.restart_at = None;
                    self.spawn(out);
                } else if matches!(self.child, Child::Draining { .. }) {
                    self.restart_at = Some(now.mono);
                }
            }
            Command::Down => {
                self.want = Want::Down;
                self.facts.failure = None;
                self.restart_at = None;
                self.abandon_hook(out);
                if let Some(pid) = self.child_pid() {
                    self.begin_stop(now, pid, out);
                }
            }
            Command::Exit => {
                self.exit_pending = true;
                self.facts.failure = None;
                self.restart_at = None;
                self.abandon_hook(out);
                self.settle(now, out);
            }
            Command::Pause | Command::Continue => {
                if let Child::Running { pid, paused, .. } = &mut self.child {
                    let pause = command == Command::Pause;
                    *paused = pause;
                    out.push(Effect::Signal {
                        signal: if pause { libc::SIGSTOP } else { libc::SIGCONT },
                        target: Target::Child(*pid),
                    });
                }
            }
            Command::Signal(sig) => {
                if let Child::Running { pid, signalled, .. } = &mut self.child {
                    *signalled |= sig.ends_the_child();
                    out.push(Effect::Signal {
                        signal: sig.number(),
                        target: Target::Child(*pid),
                    });
                }
            }
            Command::SilenceAlarms => self.alarms_on = false,
            Command::EnableAlarms => self.alarms_on = true,
            Command::Reload => out.push(Effect::ReloadConf),
        }
    }

    fn on_terminate(&mut self, now: Now, out: &mut Vec<Effect>) {
        let already = self.terminating;
        self.terminating = true;
        self.want = Want::Down;
        self.facts.failure = None;
        self.exit_pending = true;
        self.restart_at = None;
        if already {
            // A second SIGTERM/SIGINT: do not wait for the stop timeout.
            self.escalate(now, out);
            return;
        }
        out.push(Effect::Log(
            Level::Notice,
            "received a signal to terminate: stopping the service, then exiting".to_owned(),
        ));
        self.abandon_hook(out);
        if let Some(pid) = self.child_pid() {
            self.begin_stop(now, pid, out);
        }
        self.settle(now, out);
    }

    /// A restart hook that runs while the operator stops or exits is killed
    /// at once: `d`, `x` and SIGTERM never wait for it (it may hang).
    fn abandon_hook(&mut self, out: &mut Vec<Effect>) {
        if self.child == Child::Hook {
            self.child = Child::Down;
            out.push(Effect::Log(
                Level::Notice,
                "killing the restart hook: the service is not restarted".to_owned(),
            ));
            out.push(Effect::KillHook);
        }
    }

    /// What a signal to supervise means: TERM and INT stop the service and
    /// exit; HUP is ignored, as the original does; CONT (supervise was
    /// stopped and goes on) is noted; every other catchable signal is logged
    /// and ignored, so that a stray `pkill -USR1 -f CMD`, which matches
    /// supervise's own command line too, never leaves the service
    /// unsupervised. Only SIGKILL (and SIGSTOP, until SIGCONT) escape this.
    fn on_signal(&mut self, now: Now, signal: i32, out: &mut Vec<Effect>) {
        match signal {
            libc::SIGTERM | libc::SIGINT => self.on_terminate(now, out),
            libc::SIGHUP => out.push(Effect::Log(
                Level::Notice,
                "SIGHUP received and ignored".to_owned(),
            )),
            libc::SIGCONT => out.push(Effect::Log(
                Level::Notice,
                "SIGCONT received: supervise goes on (if it was stopped, it catches up now)"
                    .to_owned(),
            )),
            libc::SIGCHLD => {}
            _ => self.on_stray(now, signal, out),
        }
    }

    fn on_stray(&mut self, now: Now, signal: i32, out: &mut Vec<Effect>) {
        let at = self.strays.iter().position(|s| s.signal == signal);
        if let Some(stray) = at.map(|i| &mut self.strays[i])
            && now.mono.saturating_sub(stray.logged_at) < STRAY_REPORT_EVERY
        {
            stray.unlogged = stray.unlogged.saturating_add(1);
            return;
        }
        let unlogged = at.map_or(0, |i| self.strays[i].unlogged);
        let stray = Stray {
            signal,
            logged_at: now.mono,
            unlogged: 0,
        };
        match at {
            Some(i) => self.strays[i] = stray,
            None => self.strays.push(stray),
        }
        let name = crate::alarm::signal_name(signal);
        let name = if name.starts_with("SIG") {
            format!("signal {signal} {name}")
        } else {
            format!("signal {signal}")
        };
        let more = if unlogged > 0 {
            format!(" ({unlogged} more since the last report)")
        } else {
            String::new()
        };
        out.push(Effect::Log(
            Level::Warning,
            format!(
                "{name} received and ignored{more}: only SIGTERM and SIGINT stop supervise (and its service)"
            ),
        ));
    }

    fn on_deadline(&mut self, now: Now, out: &mut Vec<Effect>) {
        if self.restart_at.is_some_and(|t| now.mono >= t) {
            self.settle(now, out);
        }
        if self.facts.watchdog_due.is_some_and(|t| now.mono >= t) {
            self.watchdog_bites(now, out);
        }
        if let Child::Running {
            pid, stop: None, ..
        } = self.child
            && let Some(kind) = self.facts.start_check(now.mono)
        {
            out.push(Effect::RunCheck { pid, kind });
        }
        if let Child::Running {
            pid, stop: None, ..
        } = self.child
            && self.facts.ready_due.is_some_and(|t| now.mono >= t)
        {
            self.facts.ready_due = None;
            self.facts.failure = Some(Cause::NotReady);
            let limit = self.conf.ready.ready_timeout.unwrap_or_default();
            out.push(Effect::Log(
                Level::Warning,
                format!(
                    "service not ready within {} s of starting (ready_timeout): stopping it, a failed start",
                    seconds(limit)
                ),
            ));
            self.begin_stop(now, pid, out);
        }
        let due = match self.child {
            Child::Running {
                stop: Some(stop), ..
            }
            | Child::Draining { stop, .. } => stop.deadline.is_some_and(|t| now.mono >= t),
            _ => false,
        };
        if due {
            self.escalate(now, out);
        }
    }

    /// Stop timeout reached: KILL the group; after the grace, give up waiting.
    fn escalate(&mut self, now: Now, out: &mut Vec<Effect>) {
        let draining = matches!(self.child, Child::Draining { .. });
        let (pgid, stop) = match &mut self.child {
            Child::Running {
                pid,
                stop: Some(stop),
                ..
            } => (*pid, stop),
            Child::Draining { pgid, stop, .. } => (*pgid, stop),
            _ => return,
        };
        if !stop.killed {
            stop.killed = true;
            stop.deadline = Some(now.mono + KILL_GRACE);
            out.push(Effect::Log(
                Level::Warning,
                format!(
                    "service did not stop within {} s of TERM: sending KILL to process group {pgid}",
                    seconds(self.conf.stop_timeout)
                ),
            ));
            out.push(Effect::Signal {
                signal: libc::SIGKILL,
                target: Target::Group(pgid),
            });
        } else if draining {
            out.push(Effect::Log(
                Level::Warning,
                format!("process group {pgid} still has members after KILL; no longer waiting"),
            ));
            self.child = Child::Down;
            self.settle(now, out);
        } else {
            // KILL cannot be ignored: the child is stuck in the kernel
            // (uninterruptible sleep). Its exit will still be reaped.
            stop.deadline = None;
            out.push(Effect::Log(
                Level::Warning,
                format!("pid {pgid} is still alive after KILL; waiting for it to exit"),
            ));
        }
    }
}

/// What the original logs after reading the config file: a notice, then
/// the settings as bare lines (`max_tries: 20`), which monitoring greps.
pub fn loaded(conf: &Conf) -> impl Iterator<Item = Effect> {
    let notice = Effect::Log(Level::Notice, "Finished loading configurations!".to_owned());
    std::iter::once(notice).chain(conf.describe().into_iter().map(Effect::LogBare))
}

/// `service exited! (exit code 3, ran 1.250 s, pid 42)` and its variants.
fn exit_line(how: Exit, run_time: Duration, pid: u32) -> String {
    let head = if how.core_dumped() {
        "service exited with coredump!"
    } else {
        "service exited!"
    };
    format!(
        "{head} ({}, ran {} s, pid {pid})",
        how.describe(),
        seconds(run_time)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::ChildSignal;

    fn at(ms: u64) -> Now {
        Now {
            mono: Duration::from_millis(ms),
            wall: Duration::from_secs(1_700_000_000) + Duration::from_millis(ms),
        }
    }

    /// No alarms, no limits; one instant restart (the back-off before the
    /// burst budget, which most tests here are written for).
    fn quiet_conf() -> Conf {
        Conf {
            restart_burst: 1,
            ..Conf::unread()
        }
    }

    fn alarm_conf(max_tries: u32, max_core: u32) -> Conf {
        Conf {
            alarm_interval: 60,
            max_tries,
            max_tries_if_coredumped: max_core,
            ..quiet_conf()
        }
    }

    /// A supervisor whose child `pid` was started at `ms`.
    fn running(conf: Conf, pid: u32, ms: u64) -> Supervisor {
        let mut sup = Supervisor::new("svc", conf, None);
        assert!(sup.handle(at(ms), Input::Start).contains(&Effect::Spawn));
        sup.handle(at(ms), Input::Spawned { pid });
        sup
    }

    fn exited(pid: u32, code: i32) -> Input {
        Input::ChildExited {
            pid,
            how: Exit::Code(code),
            group_alive: false,
        }
    }

    fn control(byte: u8) -> Input {
        Input::Control(Command::from_byte(byte).unwrap())
    }

    fn spawns(effects: &[Effect]) -> bool {
        effects.contains(&Effect::Spawn)
    }

    fn logs(effects: &[Effect], needle: &str) -> bool {
        effects
            .iter()
            .any(|e| matches!(e, Effect::Log(_, line) if line.contains(needle)))
    }

    fn last_status(effects: &[Effect]) -> Status {
        effects
            .iter()
            .rev()
            .find_map(|e| match e {
                Effect::WriteStatus(s) => Some(*s),
                _ => None,
            })
            .expect("a status write")
    }

    fn group_signal(signal: i32, pgid: u32) -> Effect {
        Effect::Signal {
            signal,
            target: Target::Group(pgid),
        }
    }

    #[test]
    fn start_spawns_and_records_the_pid() {
        let mut sup = Supervisor::new("svc", quiet_conf(), None);
        let effects = sup.handle(at(0), Input::Start);
        assert!(spawns(&effects));
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::WriteStatus(_))),
            "the status waits for the pid"
        );
        let effects = sup.handle(at(5), Input::Spawned { pid: 42 });
        let status = last_status(&effects);
        assert_eq!((status.pid, status.want), (42, Want::Up));
        assert_eq!(status.since, at(5).wall);
        assert!(logs(&effects, "service started, pid 42"));
    }

    #[test]
    fn the_start_wanted_decides_the_first_spawn_and_the_next() {
        // (wanted at start, spawned at Start, wanted after, respawned after
        // an exit, status `want` once down)
        let table = [
            (Want::Up, true, Want::Up, true),
            (Want::Down, false, Want::Down, false),
            (Want::Once, true, Want::Once, false),
        ];
        for (want, first, shown, again) in table {
            let mut sup = Supervisor::new("svc", quiet_conf(), None).starting(want);
            let effects = sup.handle(at(0), Input::Start);
            assert_eq!(spawns(&effects), first, "{want:?}");
            if !first {
                let status = last_status(&effects);
                assert_eq!((status.pid, status.want), (0, shown), "{want:?}");
                assert_eq!(sup.next_deadline(), None, "{want:?}: idle");
                // Nothing starts until `u` (or `o`).
                assert!(!spawns(&sup.handle(at(60_000), Input::Deadline)));
                assert!(spawns(&sup.handle(at(60_001), control(b'u'))), "{want:?}");
                continue;
            }
            let effects = sup.handle(at(1), Input::Spawned { pid: 42 });
            assert_eq!(last_status(&effects).want, shown, "{want:?}");
            let effects = sup.handle(at(5_000), exited(42, 0));
            assert_eq!(spawns(&effects), again, "{want:?}");
            if !again {
                let status = last_status(&effects);
                assert_eq!((status.pid, status.want), (0, shown), "{want:?}");
                assert_eq!(sup.next_deadline(), None, "{want:?}: idle");
            }
        }
    }

    #[test]
    fn a_leftover_group_delays_the_once_start_until_it_is_gone() {
        let mut sup = Supervisor::new("svc", quiet_conf(), None).starting(Want::Once);
        let since = at(0).wall;
        sup.handle(at(0), Input::LeftoverGroup { pgid: 7, since });
        assert!(!spawns(&sup.handle(at(0), Input::Start)));
        assert!(spawns(&sup.handle(at(10), Input::GroupGone)));
    }

    #[test]
    fn a_restart_writes_the_status_once_with_the_new_pid() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(5_000), exited(42, 1));
        assert!(spawns(&effects));
        assert!(!effects.iter().any(|e| matches!(e, Effect::WriteStatus(_))));
        assert_eq!(
            last_status(&sup.handle(at(5_001), Input::Spawned { pid: 43 })).pid,
            43
        );
        // Failed spawns (the first is retried at once) leave pid 0 written.
        sup.handle(at(9_000), exited(43, 1));
        let failed = || Input::SpawnFailed {
            reason: "x: gone".into(),
        };
        assert!(spawns(&sup.handle(at(9_000), failed())));
        let effects = sup.handle(at(9_000), failed());
        assert!(!spawns(&effects));
        assert_eq!(last_status(&effects).pid, 0);
    }

    fn recorded(effects: &[Effect]) -> Vec<Exited> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::RecordExit(exited) => Some(*exited),
                _ => None,
            })
            .collect()
    }

    fn kinds(effects: &[Effect]) -> Vec<Kind> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Event(event) => Some(event.kind),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn state_changes_are_events_only_with_an_event_command() {
        let mut quiet = running(quiet_conf(), 42, 0);
        assert_eq!(kinds(&quiet.handle(at(10), exited(42, 1))), []);
        let conf = Conf {
            event_command: Some("/bin/hook".into()),
            alarm_interval: 60,
            max_tries: 2,
            restart_burst: 1,
            ..Conf::unread()
        };
        let mut sup = Supervisor::new("svc", conf, None);
        sup.handle(at(0), Input::Start);
        assert_eq!(
            kinds(&sup.handle(at(0), Input::Spawned { pid: 1 })),
            [Kind::Start, Kind::Ready]
        );
        // A quick exit: restarted at once; the second quick one backs off.
        assert_eq!(kinds(&sup.handle(at(10), exited(1, 1))), [Kind::Exit]);
        sup.handle(at(10), Input::Spawned { pid: 2 });
        let effects = sup.handle(at(20), exited(2, 1));
        assert_eq!(kinds(&effects), [Kind::Exit, Kind::Backoff]);
        sup.handle(at(500), Input::Deadline);
        sup.handle(at(500), Input::Spawned { pid: 3 });
        // The third exit in the window is one too many: give-up.
        let effects = sup.handle(at(600), exited(3, 1));
        assert_eq!(kinds(&effects), [Kind::Exit, Kind::GiveUp]);
        let mut sup = Supervisor::new("svc", sup.conf().clone(), None);
        sup.handle(at(0), Input::Start);
        sup.handle(at(0), Input::Spawned { pid: 7 });
        assert_eq!(kinds(&sup.handle(at(5), control(b'd'))), [Kind::Stop]);
    }

    #[test]
    fn every_exit_is_recorded_for_history_with_its_cause() {
        let mut sup = running(quiet_conf(), 42, 0);
        let crash = Input::ChildExited {
            pid: 42,
            how: Exit::Signal {
                signal: 11,
                core: true,
            },
            group_alive: false,
        };
        let effects = sup.handle(at(2_500), crash);
        let expect = Exited {
            time: at(2_500).wall,
            pid: 42,
            exit: Exit::Signal {
                signal: 11,
                core: true,
            },
            ran: Duration::from_millis(2_500),
            cause: Cause::Crash,
        };
        assert_eq!(recorded(&effects), [expect]);
        sup.handle(at(2_500), Input::Spawned { pid: 43 });
        // `d`: the exit that follows was asked for.
        assert_eq!(recorded(&sup.handle(at(3_000), control(b'd'))), []);
        let effects = sup.handle(at(3_100), exited(43, 0));
        assert_eq!(
            recorded(&effects),
            [Exited {
                time: at(3_100).wall,
                pid: 43,
                exit: Exit::Code(0),
                ran: Duration::from_millis(600),
                cause: Cause::Asked,
            }]
        );
        // A `t` ends it too: asked. A spawn failure: pid 0.
        sup.handle(at(4_000), control(b'u'));
        sup.handle(at(4_000), Input::Spawned { pid: 44 });
        sup.handle(at(4_100), control(b't'));
        let effects = sup.handle(at(4_200), exited(44, 143));
        assert_eq!(recorded(&effects)[0].cause, Cause::Asked);
        let effects = sup.handle(
            at(4_300),
            Input::SpawnFailed {
                reason: "x: gone".into(),
            },
        );
        let failed = recorded(&effects);
        assert_eq!((failed[0].pid, failed[0].cause), (0, Cause::SpawnFailed));
        // An exit of a pid that is not the child's records nothing.
        assert_eq!(recorded(&sup.handle(at(5_000), exited(99, 0))), []);
    }

    #[test]
    fn exit_after_a_healthy_run_restarts_at_once() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(5_000), exited(42, 3));
        assert!(logs(
            &effects,
            "service exited! (exit code 3, ran 5 s, pid 42)"
        ));
        assert!(logs(&effects, "supervise is trying to restart svc..."));
        assert!(spawns(&effects));
        assert_eq!(sup.next_deadline(), None);
    }

    /// The restart delays (ms) of `n` exits in a row, each 10 ms after its
    /// start; the supervisor and the time after them.
    fn crash_delays(conf: Conf, n: u32) -> (Vec<u64>, Supervisor, u64) {
        let mut sup = running(conf, 1, 0);
        let mut now = 0;
        let mut delays = Vec::new();
        for pid in 1..=n {
            now += 10;
            let effects = sup.handle(at(now), exited(pid, 1));
            if spawns(&effects) {
                delays.push(0);
            } else {
                let due = sup.next_deadline().expect("a restart deadline");
                delays.push((due - at(now).mono).as_millis() as u64);
                now = due.as_millis() as u64;
                assert!(sup.handle(at(now - 1), Input::Deadline).is_empty());
                assert!(spawns(&sup.handle(at(now), Input::Deadline)));
            }
            sup.handle(at(now), Input::Spawned { pid: pid + 1 });
        }
        (delays, sup, now)
    }

    #[test]
    fn crash_loop_backs_off_doubling_to_the_cap() {
        let conf = Conf {
            backoff_start: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(500),
            ..quiet_conf()
        };
        let (delays, mut sup, now) = crash_delays(conf, 6);
        assert_eq!(delays, vec![0, 100, 200, 400, 500, 500]);
        // A healthy run resets the streak.
        let effects = sup.handle(at(now + 2_000), exited(7, 1));
        assert!(spawns(&effects));
    }

    #[test]
    fn quick_exits_restart_at_once_until_the_burst_is_spent_then_back_off() {
        let table: &[(u32, &[u64])] = &[
            (0, &[100, 200, 400, 500]),
            (1, &[0, 100, 200, 400]),
            (5, &[0, 0, 0, 0, 0, 100, 200, 400, 500]),
        ];
        for &(burst, want) in table {
            let conf = Conf {
                backoff_start: Duration::from_millis(100),
                backoff_cap: Duration::from_millis(500),
                restart_burst: burst,
                ..Conf::unread()
            };
            let (delays, _, _) = crash_delays(conf, want.len() as u32);
            assert_eq!(delays, want, "restart_burst {burst}");
        }
        // The default: 5, one earned back per 10 s of running.
        assert_eq!(Conf::unread().restart_burst, 5);
        assert_eq!(Conf::unread().restart_burst_refill, Duration::from_secs(10));
    }

    #[test]
    fn down_stops_the_group_and_does_not_restart() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(10), control(b'd'));
        assert_eq!(
            effects[..2],
            [
                group_signal(libc::SIGTERM, 42),
                group_signal(libc::SIGCONT, 42)
            ]
        );
        assert_eq!(last_status(&effects).want, Want::Down);
        let effects = sup.handle(at(20), exited(42, 0));
        assert!(!spawns(&effects));
        assert_eq!(last_status(&effects).pid, 0);
        assert_eq!(sup.next_deadline(), None);
    }

    #[test]
    fn stop_escalates_to_kill_after_the_timeout() {
        let mut sup = running(quiet_conf(), 42, 0);
        sup.handle(at(10), control(b'd'));
        assert_eq!(sup.next_deadline(), Some(Duration::from_millis(10_010)));
        let effects = sup.handle(at(10_010), Input::Deadline);
        assert!(effects.contains(&group_signal(libc::SIGKILL, 42)));
        assert!(logs(&effects, "sending KILL to process group 42"));
        let effects = sup.handle(
            at(10_020),
            Input::ChildExited {
                pid: 42,
                how: Exit::Signal {
                    signal: libc::SIGKILL,
                    core: false,
                },
                group_alive: false,
            },
        );
        assert!(!spawns(&effects));
    }

    #[test]
    fn control_before_the_exit_wins_the_race() {
        // `d` (or `x`) read just before the child's death: no restart.
        for byte in [b'd', b'x'] {
            let mut sup = running(quiet_conf(), 42, 0);
            sup.handle(at(5_000), control(byte));
            let effects = sup.handle(at(5_001), exited(42, 1));
            assert!(!spawns(&effects), "restarted after {}", byte as char);
        }
    }

    #[test]
    fn exit_waits_for_the_service_without_stopping_it() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(10), control(b'x'));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Signal { .. } | Effect::Exit(_)))
        );
        let effects = sup.handle(at(20), exited(42, 0));
        assert!(!spawns(&effects));
        assert_eq!(effects.last(), Some(&Effect::WriteStatus(sup.status())));
        assert!(effects.contains(&Effect::Exit(0)));
    }

    #[test]
    fn control_is_obeyed_during_back_off() {
        let mut sup = running(quiet_conf(), 1, 0);
        sup.handle(at(10), exited(1, 1));
        sup.handle(at(10), Input::Spawned { pid: 2 });
        assert!(!spawns(&sup.handle(at(20), exited(2, 1))));
        assert!(sup.next_deadline().is_some(), "backing off");
        // `u` starts at once.
        assert!(spawns(&sup.handle(at(30), control(b'u'))));
        sup.handle(at(30), Input::Spawned { pid: 3 });
        assert!(!spawns(&sup.handle(at(40), exited(3, 1))));
        // `d` cancels the pending restart.
        sup.handle(at(50), control(b'd'));
        assert_eq!(sup.next_deadline(), None);
        assert!(!spawns(&sup.handle(at(100_000), Input::Deadline)));
        // `x` exits at once when down.
        assert!(
            sup.handle(at(100_001), control(b'x'))
                .contains(&Effect::Exit(0))
        );
    }

    #[test]
    fn terminate_stops_then_exits_and_a_second_one_kills() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(10), Input::Terminate);
        assert!(effects.contains(&group_signal(libc::SIGTERM, 42)));
        let effects = sup.handle(at(20), Input::Terminate);
        assert!(effects.contains(&group_signal(libc::SIGKILL, 42)));
        let effects = sup.handle(at(30), exited(42, 0));
        assert!(effects.contains(&Effect::Exit(0)));
        assert_eq!(sup.status().pid, 0);
    }

    #[test]
    fn leftover_group_members_are_stopped_before_restarting() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(
            at(5_000),
            Input::ChildExited {
                pid: 42,
                how: Exit::Code(1),
                group_alive: true,
            },
        );
        assert!(effects.contains(&group_signal(libc::SIGTERM, 42)));
        assert!(!spawns(&effects));
        assert_eq!(sup.draining_group(), Some(42));
        assert_eq!(last_status(&effects).pid, 0);
        assert!(spawns(&sup.handle(at(5_100), Input::GroupGone)));
    }

    #[test]
    fn a_group_that_will_not_die_is_killed_then_abandoned() {
        let mut sup = running(quiet_conf(), 42, 0);
        sup.handle(at(10), control(b'd'));
        sup.handle(
            at(20),
            Input::ChildExited {
                pid: 42,
                how: Exit::Code(0),
                group_alive: true,
            },
        );
        let effects = sup.handle(at(10_010), Input::Deadline);
        assert!(effects.contains(&group_signal(libc::SIGKILL, 42)));
        let effects = sup.handle(at(12_010), Input::Deadline);
        assert!(logs(&effects, "still has members after KILL"));
        assert_eq!(sup.draining_group(), None);
        assert_eq!(sup.next_deadline(), None);
    }

    #[test]
    fn pause_continue_and_alarm_bytes() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(1), control(b'p'));
        assert!(effects.contains(&Effect::Signal {
            signal: libc::SIGSTOP,
            target: Target::Child(42)
        }));
        assert!(last_status(&effects).paused);
        assert!(!last_status(&sup.handle(at(2), control(b'c'))).paused);
        assert!(!last_status(&sup.handle(at(3), control(b's'))).alarms_on);
        assert!(last_status(&sup.handle(at(4), control(b'n'))).alarms_on);
        assert!(
            sup.handle(at(5), control(b'r'))
                .contains(&Effect::ReloadConf)
        );
    }

    #[test]
    fn once_runs_without_restarting() {
        let mut sup = running(quiet_conf(), 42, 0);
        assert_eq!(
            last_status(&sup.handle(at(1), control(b'o'))).want,
            Want::Once
        );
        assert!(!spawns(&sup.handle(at(5_000), exited(42, 0))));
        assert!(spawns(&sup.handle(at(6_000), control(b'o'))));
    }

    #[test]
    fn operator_signals_are_passed_to_the_child_and_their_exit_is_not_a_failure() {
        let mut sup = running(alarm_conf(1, 0), 42, 0);
        let effects = sup.handle(at(1), Input::Control(Command::Signal(ChildSignal::Kill)));
        assert_eq!(
            effects,
            vec![Effect::Signal {
                signal: libc::SIGKILL,
                target: Target::Child(42)
            }]
        );
        let effects = sup.handle(at(2), exited(42, 1));
        assert!(!effects.iter().any(|e| matches!(e, Effect::Alarm(_))));
        assert!(spawns(&effects), "restarted at once, no back-off");
    }

    #[test]
    fn first_exit_of_a_window_alarms_and_later_ones_only_log() {
        let mut sup = running(alarm_conf(0, 0), 1, 0);
        let alarms = |e: &[Effect]| e.iter().filter(|e| matches!(e, Effect::Alarm(_))).count();
        let effects = sup.handle(at(5_000), exited(1, 1));
        assert_eq!(alarms(&effects), 1);
        sup.handle(at(5_000), Input::Spawned { pid: 2 });
        assert_eq!(alarms(&sup.handle(at(10_000), exited(2, 1))), 0);
        sup.handle(at(10_000), Input::Spawned { pid: 3 });
        // The window (60 s) closed: the next exit alarms again.
        assert_eq!(alarms(&sup.handle(at(70_000), exited(3, 1))), 1);
    }

    #[test]
    fn gives_up_after_max_tries_in_a_window() {
        let mut sup = running(alarm_conf(2, 0), 1, 0);
        for pid in 1..=2 {
            let effects = sup.handle(at(pid as u64 * 2_000), exited(pid, 1));
            assert!(spawns(&effects));
            sup.handle(at(pid as u64 * 2_000), Input::Spawned { pid: pid + 1 });
        }
        let effects = sup.handle(at(6_000), exited(3, 1));
        assert!(logs(
            &effects,
            "supervise refused to restart svc any more and exited itself!"
        ));
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Alarm(Alarm {
                event: AlarmEvent::GiveUp,
                restarts_in_window: 3,
                ..
            })
        )));
        assert!(effects.contains(&Effect::Exit(EXIT_GAVE_UP)));
        assert!(!spawns(&effects));
        // Both the original's notice and a warning with the facts.
        let levels: Vec<Level> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Log(level, line) if line.starts_with("supervise refused") => Some(*level),
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![Level::Notice, Level::Warning]);
        assert!(logs(
            &effects,
            "(3 exits, 0 with core dump, in a 60 s window; max_tries 2"
        ));
    }

    #[test]
    fn a_reload_logs_the_notice_then_the_settings_as_bare_lines() {
        let mut sup = running(quiet_conf(), 42, 0);
        let effects = sup.handle(at(1), Input::Reloaded(Some(Box::new(alarm_conf(7, 3)))));
        assert_eq!(
            effects[0],
            Effect::Log(Level::Notice, "Finished loading configurations!".into())
        );
        let bare: Vec<&str> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::LogBare(line) => Some(line.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            bare[..5],
            [
                "alarm_interval: 60",
                "max_tries: 7",
                "max_tries_if_coredumped: 3",
                "alarm_mail : ",
                "gsm_list_len: 0"
            ]
        );
    }

    #[test]
    fn silenced_exits_are_not_counted_but_core_dumps_are() {
        let mut sup = running(alarm_conf(1, 1), 1, 0);
        sup.handle(at(1), control(b's'));
        let core = |pid| Input::ChildExited {
            pid,
            how: Exit::Signal {
                signal: libc::SIGSEGV,
                core: true,
            },
            group_alive: false,
        };
        let effects = sup.handle(at(2_000), exited(1, 1));
        assert!(
            spawns(&effects),
            "silenced exits never give up on max_tries"
        );
        sup.handle(at(2_000), Input::Spawned { pid: 2 });
        assert!(spawns(&sup.handle(at(4_000), core(2))));
        sup.handle(at(4_000), Input::Spawned { pid: 3 });
        let effects = sup.handle(at(6_000), core(3));
        assert!(effects.contains(&Effect::Exit(EXIT_GAVE_UP)));
        assert!(logs(&effects, "service exited with coredump!"));
        assert!(!effects.iter().any(|e| matches!(e, Effect::Alarm(_))));
    }

    #[test]
    fn restart_hook_runs_before_each_restart_with_the_count() {
        let hook = RestartHook {
            reset_after: Some(Duration::from_secs(10)),
        };
        let mut sup = Supervisor::new("svc", alarm_conf(1, 0), Some(hook));
        sup.handle(at(0), Input::Start);
        sup.handle(at(0), Input::Spawned { pid: 1 });
        let mut counts = Vec::new();
        for (pid, ms) in [(1u32, 2_000u64), (2, 4_000), (3, 20_000)] {
            let effects = sup.handle(at(ms), exited(pid, 1));
            assert!(!spawns(&effects), "the hook runs first");
            assert!(
                !effects
                    .iter()
                    .any(|e| matches!(e, Effect::Alarm(_) | Effect::Exit(_)))
            );
            counts.extend(effects.iter().filter_map(|e| match e {
                Effect::RunRestartHook { count } => Some(*count),
                _ => None,
            }));
            assert!(spawns(&sup.handle(at(ms), Input::HookFinished)));
            sup.handle(at(ms), Input::Spawned { pid: pid + 1 });
        }
        assert_eq!(counts, vec![1, 2, 1]);
    }

    #[test]
    fn spawn_failure_is_an_exit_that_backs_off() {
        let mut sup = Supervisor::new("svc", quiet_conf(), None);
        sup.handle(at(0), Input::Start);
        let reason = || Input::SpawnFailed {
            reason: "svc: No such file or directory".into(),
        };
        let effects = sup.handle(at(1), reason());
        assert!(effects.iter().any(
            |e| matches!(e, Effect::Log(Level::Fatal, l) if l.contains("unable to start svc"))
        ));
        assert!(spawns(&effects), "first quick exit restarts at once");
        let effects = sup.handle(at(2), reason());
        assert!(!spawns(&effects));
        assert!(sup.next_deadline().is_some());
    }

    #[test]
    fn signals_to_supervise_each_have_one_meaning() {
        let warnings = |e: &[Effect]| {
            e.iter()
                .filter(|e| matches!(e, Effect::Log(Level::Warning, _)))
                .count()
        };
        let table: &[(i32, &str)] = &[
            (libc::SIGHUP, "SIGHUP received and ignored"),
            (libc::SIGCONT, "SIGCONT received: supervise goes on"),
            (libc::SIGUSR1, "signal 10 SIGUSR1 received and ignored"),
            (libc::SIGQUIT, "signal 3 SIGQUIT received and ignored"),
            (libc::SIGPWR, "signal 30 SIGPWR received and ignored"),
            (40, "signal 40 received and ignored"),
        ];
        for &(signal, line) in table {
            let mut sup = running(quiet_conf(), 42, 0);
            let effects = sup.handle(at(5), Input::Signal(signal));
            assert!(logs(&effects, line), "{signal}: {effects:?}");
            assert!(
                !effects
                    .iter()
                    .any(|e| matches!(e, Effect::Signal { .. } | Effect::Exit(_))),
                "{signal} touches nothing: {effects:?}"
            );
            assert_eq!(sup.child_pid(), Some(42));
        }
        // TERM and INT stop the service, then exit.
        for signal in [libc::SIGTERM, libc::SIGINT] {
            let mut sup = running(quiet_conf(), 42, 0);
            let effects = sup.handle(at(5), Input::Signal(signal));
            assert!(
                effects.contains(&group_signal(libc::SIGTERM, 42)),
                "{signal}"
            );
            assert!(sup.handle(at(6), exited(42, 0)).contains(&Effect::Exit(0)));
        }
        // A stray in a loop is one line per 10 s, with the count it hid.
        let mut sup = running(quiet_conf(), 42, 0);
        assert_eq!(
            warnings(&sup.handle(at(0), Input::Signal(libc::SIGUSR1))),
            1
        );
        for ms in 1..=500 {
            assert_eq!(
                warnings(&sup.handle(at(ms), Input::Signal(libc::SIGUSR1))),
                0
            );
        }
        assert_eq!(
            warnings(&sup.handle(at(600), Input::Signal(libc::SIGUSR2))),
            1,
            "each signal has its own count"
        );
        let effects = sup.handle(at(10_000), Input::Signal(libc::SIGUSR1));
        assert!(
            logs(&effects, "(500 more since the last report)"),
            "{effects:?}"
        );
    }

    #[test]
    fn d_x_and_sigterm_kill_a_hook_that_runs_and_do_not_wait_for_it() {
        let hook = RestartHook { reset_after: None };
        for input in [control(b'd'), control(b'x'), Input::Terminate] {
            let mut sup = Supervisor::new("svc", quiet_conf(), Some(hook));
            sup.handle(at(0), Input::Start);
            sup.handle(at(0), Input::Spawned { pid: 1 });
            let effects = sup.handle(at(2_000), exited(1, 1));
            assert!(effects.contains(&Effect::RunRestartHook { count: 1 }));
            let effects = sup.handle(at(2_001), input.clone());
            assert!(
                effects.contains(&Effect::KillHook),
                "{input:?}: {effects:?}"
            );
            assert!(!spawns(&effects));
            let exits = input != control(b'd');
            assert_eq!(effects.contains(&Effect::Exit(0)), exits, "{input:?}");
            // The killed hook's end is still reaped: it starts nothing.
            if !exits {
                assert!(!spawns(&sup.handle(at(2_002), Input::HookFinished)));
                assert!(spawns(&sup.handle(at(2_003), control(b'u'))), "u starts it");
            }
        }
    }

    #[test]
    fn a_leftover_group_is_stopped_before_the_first_start() {
        let mut sup = Supervisor::new("svc", quiet_conf(), None);
        let since = Duration::from_secs(1_600_000_000);
        let effects = sup.handle(at(0), Input::LeftoverGroup { pgid: 77, since });
        assert_eq!(
            effects[1..3],
            [
                group_signal(libc::SIGTERM, 77),
                group_signal(libc::SIGCONT, 77)
            ]
        );
        assert!(logs(
            &effects,
            "pid 77 (process group 77) of a previous supervise"
        ));
        assert_eq!(sup.live_group(), Some((77, since)), "recorded until gone");
        assert!(!spawns(&sup.handle(at(1), Input::Start)), "not beside it");
        assert_eq!(sup.draining_group(), Some(77));
        // Control is read meanwhile: `x` exits once it is gone, with no start.
        sup.handle(at(2), control(b'x'));
        let effects = sup.handle(at(3), Input::GroupGone);
        assert!(!spawns(&effects) && effects.contains(&Effect::Exit(0)));
        // One that ignores TERM gets KILL after stop_timeout, then the start.
        let mut sup = Supervisor::new("svc", quiet_conf(), None);
        sup.handle(at(0), Input::LeftoverGroup { pgid: 77, since });
        sup.handle(at(0), Input::Start);
        let effects = sup.handle(at(10_000), Input::Deadline);
        assert!(effects.contains(&group_signal(libc::SIGKILL, 77)));
        let effects = sup.handle(at(10_050), Input::GroupGone);
        assert!(spawns(&effects));
        sup.handle(at(10_051), Input::Spawned { pid: 78 });
        assert_eq!(sup.live_group(), Some((78, at(10_051).wall)));
        // A leftover reported once supervision runs changes nothing.
        let effects = sup.handle(at(10_052), Input::LeftoverGroup { pgid: 5, since });
        assert!(effects.is_empty());
    }

    #[test]
    fn the_live_group_is_the_child_then_its_draining_group_then_none() {
        let mut sup = running(quiet_conf(), 42, 1_000);
        assert_eq!(sup.live_group(), Some((42, at(1_000).wall)));
        sup.handle(
            at(5_000),
            Input::ChildExited {
                pid: 42,
                how: Exit::Code(1),
                group_alive: true,
            },
        );
        assert_eq!(sup.live_group(), Some((42, at(1_000).wall)), "its start");
        sup.handle(at(5_001), control(b'd'));
        sup.handle(at(5_002), Input::GroupGone);
        assert_eq!(sup.live_group(), None);
    }

    #[test]
    fn a_wall_clock_jump_changes_no_window_and_no_delay() {
        // Windows and back-off run on the monotonic clock; the wall clock
        // (set back a year, then forward) only stamps the status file.
        let jump = |mono_ms: u64, wall_secs: u64| Now {
            mono: Duration::from_millis(mono_ms),
            wall: Duration::from_secs(wall_secs),
        };
        let mut sup = Supervisor::new("svc", alarm_conf(2, 0), None);
        sup.handle(jump(0, 1_700_000_000), Input::Start);
        sup.handle(jump(0, 1_700_000_000), Input::Spawned { pid: 1 });
        let alarms = |e: &[Effect]| e.iter().filter(|e| matches!(e, Effect::Alarm(_))).count();
        let effects = sup.handle(jump(2_000, 1_668_000_000), exited(1, 1));
        assert_eq!(alarms(&effects), 1);
        assert!(spawns(&effects));
        sup.handle(jump(2_000, 1_668_000_000), Input::Spawned { pid: 2 });
        assert_eq!(sup.status().since, Duration::from_secs(1_668_000_000));
        let effects = sup.handle(jump(4_000, 1_900_000_000), exited(2, 1));
        assert_eq!(
            alarms(&effects),
            0,
            "the same window: a wall jump opens none"
        );
        assert!(spawns(&effects), "no back-off from a clock jump");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// What the outside world can do next.
        #[derive(Clone, Debug)]
        enum Step {
            Wait(u64),
            ChildDies {
                code: i32,
                core: bool,
                group_alive: bool,
            },
            Byte(u8),
            Deadline,
            Terminate,
            Signal(i32),
            GroupEmpties,
            HookEnds,
            Reload,
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                (0u64..3_000).prop_map(Step::Wait),
                (0i32..3, any::<bool>(), any::<bool>()).prop_map(|(code, core, group_alive)| {
                    Step::ChildDies {
                        code,
                        core,
                        group_alive,
                    }
                }),
                prop::sample::select(b"udoxpchaitksnr".to_vec()).prop_map(Step::Byte),
                Just(Step::Deadline),
                Just(Step::Terminate),
                prop::sample::select(vec![
                    libc::SIGTERM,
                    libc::SIGINT,
                    libc::SIGHUP,
                    libc::SIGCONT,
                    libc::SIGUSR1,
                    libc::SIGQUIT,
                    40
                ])
                .prop_map(Step::Signal),
                Just(Step::GroupEmpties),
                Just(Step::HookEnds),
                Just(Step::Reload),
            ]
        }

        /// The world as the driver would see it.
        #[derive(Default)]
        struct World {
            now: u64,
            next_pid: u32,
            live: Option<u32>,
            draining: Option<u32>,
            spawning: bool,
            hook_running: bool,
            /// A hook that was killed and not reaped yet: its end is still
            /// reported, and must change nothing.
            hook_killed: bool,
            wanted_down: bool,
            exited: bool,
        }

        impl World {
            fn feed(&mut self, sup: &mut Supervisor, input: Input) {
                let mut queue = vec![input];
                while let Some(input) = queue.pop() {
                    let effects = sup.handle(at(self.now), input);
                    assert!(
                        !self.exited || effects.is_empty(),
                        "effects after Exit: {effects:?}"
                    );
                    for effect in effects {
                        match effect {
                            Effect::Spawn => {
                                assert!(self.live.is_none(), "spawn beside a live child");
                                assert!(self.draining.is_none(), "spawn beside a draining group");
                                assert!(!self.wanted_down, "spawn after d without u/o");
                                assert!(!self.hook_running, "spawn while the hook runs");
                                self.next_pid += 1;
                                self.spawning = true;
                                queue.push(Input::Spawned {
                                    pid: self.next_pid + 100,
                                });
                            }
                            Effect::RunRestartHook { .. } => self.hook_running = true,
                            Effect::KillHook => {
                                assert!(self.hook_running, "kill of a hook that is not running");
                                self.hook_running = false;
                                self.hook_killed = true;
                            }
                            // The one sanctioned way out: KILL and its grace
                            // passed and the group is abandoned.
                            Effect::Log(_, line) if line.contains("no longer waiting") => {
                                self.draining = None;
                            }
                            Effect::Exit(_) => self.exited = true,
                            _ => {}
                        }
                    }
                    if let Some(pid) = sup.child_pid() {
                        self.live = Some(pid);
                        self.spawning = false;
                    }
                }
            }

            /// After the driver reports a deadline, the next one lies in the
            /// future: otherwise the event loop would spin.
            fn deadline(&mut self, sup: &mut Supervisor) {
                if let Some(t) = sup.next_deadline() {
                    self.now = self.now.max(t.as_millis() as u64);
                    self.feed(sup, Input::Deadline);
                    if let Some(next) = sup.next_deadline() {
                        assert!(
                            next > Duration::from_millis(self.now),
                            "a deadline in the past would spin the event loop"
                        );
                    }
                }
            }
        }

        fn run(steps: Vec<Step>, hook: bool, leftover: bool) {
            run_from(steps, hook, leftover, Want::Up);
        }

        /// [`run`] from a supervisor that wants `start` at start
        /// (`--down`: wanted down until `u`/`o`, so never a spawn before).
        fn run_from(steps: Vec<Step>, hook: bool, leftover: bool, start: Want) {
            let conf = Conf {
                alarm_interval: 60,
                max_tries: 3,
                max_tries_if_coredumped: 2,
                ..Conf::unread()
            };
            let hook = hook.then_some(RestartHook { reset_after: None });
            let mut sup = Supervisor::new("svc", conf, hook).starting(start);
            let mut world = World {
                wanted_down: start == Want::Down,
                ..World::default()
            };
            if leftover {
                world.draining = Some(7);
                world.feed(
                    &mut sup,
                    Input::LeftoverGroup {
                        pgid: 7,
                        since: Duration::ZERO,
                    },
                );
            }
            world.feed(&mut sup, Input::Start);
            for step in steps {
                if world.exited {
                    break;
                }
                match step {
                    Step::Wait(ms) => world.now += ms,
                    Step::ChildDies {
                        code,
                        core,
                        group_alive,
                    } => {
                        if let Some(pid) = world.live.take() {
                            let how = if core {
                                Exit::Signal {
                                    signal: libc::SIGSEGV,
                                    core: true,
                                }
                            } else {
                                Exit::Code(code)
                            };
                            if group_alive {
                                world.draining = Some(pid);
                            }
                            world.feed(
                                &mut sup,
                                Input::ChildExited {
                                    pid,
                                    how,
                                    group_alive,
                                },
                            );
                        }
                    }
                    Step::Byte(byte) => {
                        match byte {
                            b'd' => world.wanted_down = true,
                            b'u' | b'o' => world.wanted_down = false,
                            _ => {}
                        }
                        world.feed(&mut sup, control(byte));
                    }
                    Step::Deadline => world.deadline(&mut sup),
                    Step::Terminate => {
                        world.wanted_down = true;
                        world.feed(&mut sup, Input::Terminate);
                    }
                    Step::Signal(signal) => {
                        if matches!(signal, libc::SIGTERM | libc::SIGINT) {
                            world.wanted_down = true;
                        }
                        world.feed(&mut sup, Input::Signal(signal));
                    }
                    Step::GroupEmpties => {
                        if world.draining.take().is_some() {
                            world.feed(&mut sup, Input::GroupGone);
                        }
                    }
                    Step::HookEnds => {
                        if world.hook_running || world.hook_killed {
                            world.hook_running = false;
                            world.hook_killed = false;
                            world.feed(&mut sup, Input::HookFinished);
                        }
                    }
                    Step::Reload => world.feed(&mut sup, Input::Reloaded(None)),
                }
                if sup.draining_group().is_none() {
                    world.draining = None;
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn invariants_hold_for_any_sequence(steps in prop::collection::vec(step(), 0..80)) {
                run(steps, false, false);
            }

            #[test]
            fn invariants_hold_with_a_restart_hook(steps in prop::collection::vec(step(), 0..80)) {
                run(steps, true, false);
            }

            /// A group a previous supervise left is stopped before any
            /// spawn: never two copies of the service.
            #[test]
            fn invariants_hold_with_a_leftover_group(steps in prop::collection::vec(step(), 0..80)) {
                run(steps, false, true);
            }

            /// Started down (`--down`) or once (`--once`), with or without a
            /// group left behind: the same invariants, and nothing spawns
            /// before `u` or `o` when started down.
            #[test]
            fn invariants_hold_from_down_or_once(
                steps in prop::collection::vec(step(), 0..80),
                once in any::<bool>(),
                leftover in any::<bool>(),
            ) {
                run_from(steps, false, leftover, if once { Want::Once } else { Want::Down });
            }

            /// With alarms on and no operator in the way, a window never sees
            /// more than max_tries restarts: the exit after them gives up.
            #[test]
            fn never_more_than_max_tries_restarts_in_a_window(
                gaps in prop::collection::vec(0u64..20_000, 1..30),
            ) {
                let conf = Conf { alarm_interval: 60, max_tries: 3, ..Conf::unread() };
                let mut sup = running(conf, 1, 0);
                let mut now = 0;
                let mut restarts: Vec<u64> = Vec::new();
                for (pid, gap) in (1u32..).zip(gaps) {
                    now += gap;
                    let effects = sup.handle(at(now), exited(pid, 1));
                    if effects.contains(&Effect::Exit(EXIT_GAVE_UP)) {
                        prop_assert!(!spawns(&effects));
                        return Ok(());
                    }
                    if !spawns(&effects) {
                        let due = sup.next_deadline().unwrap();
                        now = due.as_millis() as u64;
                        prop_assert!(spawns(&sup.handle(at(now), Input::Deadline)));
                    }
                    restarts.push(now);
                    sup.handle(at(now), Input::Spawned { pid: pid + 1 });
                    // A window holds at most max_tries (3) restarts; a sliding
                    // minute can straddle the end of one window and the start
                    // of the next.
                    let in_last_minute = restarts.iter().filter(|t| now - **t < 60_000).count();
                    prop_assert!(in_last_minute <= 3 * 2, "{restarts:?}");
                }
            }
        }
    }
}
