//! The scanner's decisions, as a pure state machine: `(state, input, now) ->
//! effects`, like [`crate::supervisor`] one level up. For each service it
//! knows whether its supervise is starting, running (started by us or
//! adopted from a scanner that died), backing off after a crash, being
//! stopped (to be removed, or to start again with new settings) or stopped
//! on purpose; and whether the whole scanner is shutting down. It never
//! makes a system call and never reads a clock: the loop in [`super`] passes
//! the monotonic `now` in, carries out the effects and feeds the outcomes
//! (a pid, an exit) back as inputs.
//!
//! It also keeps the services' start order (`after`, `requires`; those
//! rules are in `machine_order.rs`): what a service needs is
//! watched through its status directory (`Observed` inputs), a service
//! starts once what it needs is ready, one that requires another is held
//! down (`d`) while that one is down and let up (`u`) when it is ready
//! again, and stops go the other way round, dependents first. With
//! readiness on (`--notify`) it says when every service is ready.
//!
//! The rules it keeps, each unit- and property-tested below:
//! - never two supervise for one service: a start waits until the previous
//!   supervise of that section is known to be gone;
//! - a service is launched, or let up, only once everything it needs is
//!   ready; it is held down only once what requires it is down; a
//!   supervise is stopped for a removal or a shutdown only once every
//!   supervise that needs it is gone;
//! - a removed section is never started again (unless a later reload brings
//!   it back);
//! - a refused configuration changes nothing at all;
//! - a shutdown ends with every supervise gone, by SIGTERM and, past the
//!   deadline, SIGKILL.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::control::Request;
use super::order::Graph;
use super::plan::{self, Change, ServiceSpec};
use crate::backoff::{Backoff, Policy};
use crate::supervisor::{EXIT_GAVE_UP, Exit, Level};

/// Back-off for a supervise that keeps dying: one that ran at least 10 s is
/// restarted at once; otherwise 0, 0.1 s, doubling to 30 s (one instant
/// restart, earned back only by a healthy run).
pub const BACKOFF: Policy = Policy {
    healthy_after: Duration::from_secs(10),
    start: Duration::from_millis(100),
    cap: Duration::from_secs(30),
    burst: 1,
    refill: Duration::MAX,
};

/// After the longest stop timeout, how long a shutdown waits for supervise
/// before killing it (supervise's own KILL grace is 2 s).
pub const SHUTDOWN_SLACK: Duration = Duration::from_secs(5);

/// How often an adopted supervise that could not be watched with a pidfd is
/// checked for life.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The stop timeout assumed for a service whose settings are unknown.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Exit code when the first configuration is refused and nothing runs.
pub const EXIT_REFUSED: i32 = crate::driver::EXIT_SETUP;

/// How a supervise ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Our child, reaped: its wait status.
    Reaped(Exit),
    /// Adopted, so not our child: no wait status, only whether its status
    /// directory says it meant to go (wanted down, or gave up).
    Vanished {
        /// The status directory says so.
        on_purpose: bool,
    },
}

impl Ended {
    /// Whether supervise chose to exit (`x`, `svc exit`, or giving up on
    /// `max_tries`): it is then left down until the next reload.
    fn on_purpose(self) -> bool {
        match self {
            Ended::Reaped(how) => matches!(how, Exit::Code(0) | Exit::Code(EXIT_GAVE_UP)),
            Ended::Vanished { on_purpose } => on_purpose,
        }
    }

    fn describe(self) -> String {
        match self {
            Ended::Reaped(how) => how.describe(),
            Ended::Vanished { .. } => "not our child: exit status unknown".to_owned(),
        }
    }
}

/// A configuration read for a (re)load, checked as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Load {
    /// Valid: these services, in file order, and `FILE:LINE: warning: ...`
    /// lines that did not stop it.
    Valid {
        /// The services.
        services: Vec<ServiceSpec>,
        /// Warnings, formatted.
        warnings: Vec<String>,
    },
    /// Invalid: every error, formatted as `FILE:LINE: message`.
    Refused {
        /// The errors.
        errors: Vec<String>,
    },
}

/// What happened, as the scanner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A supervise holds service `name`'s status directory (found at
    /// start-up, or when about to start one): manage it as ours.
    Adopted {
        /// The section.
        name: String,
        /// The supervise.
        pid: u32,
        /// The settings it was started with, if known (from the record the
        /// previous scanner left); ignored when we were starting it.
        runs: Option<Box<ServiceSpec>>,
    },
    /// A configuration to apply (the first one, or after SIGHUP).
    Load(Load),
    /// The `Launch` effect started a supervise.
    Launched {
        /// The section.
        name: String,
        /// The new supervise.
        pid: u32,
    },
    /// The `Launch` effect failed; the message names what failed.
    LaunchFailed {
        /// The section.
        name: String,
        /// Why.
        error: String,
    },
    /// The `Watch` effect could not watch an adopted supervise.
    Unwatched {
        /// The supervise.
        pid: u32,
        /// Why.
        error: String,
    },
    /// A supervise is gone.
    Exited {
        /// The supervise.
        pid: u32,
        /// How.
        ended: Ended,
    },
    /// What the status directory of a service watched (`Observe`) or
    /// looked at (`Look`) says now.
    Observed {
        /// The section.
        name: String,
        /// What its `status` and `info` say.
        seen: Seen,
    },
    /// The `Observe` effect could not watch the status directory.
    NotObserved {
        /// The section.
        name: String,
        /// Why.
        error: String,
    },
    /// The `Send` effect could not write to the supervise's control FIFO
    /// (it has not opened it yet, or is gone).
    NotSent {
        /// The section.
        name: String,
        /// What was not sent.
        command: Command,
        /// Why.
        error: String,
    },
    /// A request read from the control FIFO.
    Control(Request),
    /// The deadline from [`Machine::next_deadline`] has passed.
    Deadline,
    /// SIGTERM or SIGINT to the scanner.
    Terminate,
}

/// What a service's status directory says of it: `status`, and `info`
/// when there is one (docs/status-files.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The service's pid, 0 when it is down.
    pub pid: u32,
    /// [`crate::info::ready`]: `info` says `ready`, or without `info` it
    /// runs.
    pub ready: bool,
    /// Wanted up (status byte 13 is `u`).
    pub want_up: bool,
    /// `info` says it is backing off or gave up.
    pub failing: bool,
    /// The supervise `info` names, 0 when it names none: an `info` left by
    /// another supervise is not this one's.
    pub supervise_pid: u32,
    /// `status`'s time of the last pid change (zero without a `status`):
    /// once it changes, the file is the new supervise's.
    pub since: Duration,
}

/// A command for a running supervise, through its control FIFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `u`: want the service up.
    Up,
    /// `d`: want it down.
    Down,
}

/// What the scanner tells its own supervisor (sd_notify).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: every service that should run is ready (or failed).
    Ready,
    /// `STOPPING=1`: shutting down.
    Stopping,
}

/// A signal for a supervise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: stop the service, then exit (a second one: kill it at once).
    Term,
    /// SIGKILL.
    Kill,
}

/// The outcome of one load, for the reload result file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Grows by one per load, from 1.
    pub generation: u64,
    /// Applied, or refused.
    pub applied: bool,
    /// `start NAME`, `stop NAME`, `restart NAME: WHAT changed`,
    /// `reread NAME`, then warnings; or the errors.
    pub lines: Vec<String>,
}

/// What the loop must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Start a supervise for this service (unless one already holds its
    /// directory); answer with `Launched`, `LaunchFailed` or `Adopted`.
    Launch(Box<ServiceSpec>),
    /// Give a running supervise new settings: rewrite its settings file,
    /// then send it `r`.
    Reread(Box<ServiceSpec>),
    /// Watch an adopted supervise (not our child) for its exit; answer
    /// `Unwatched` if that cannot be done.
    Watch {
        /// Its section.
        name: String,
        /// The supervise.
        pid: u32,
    },
    /// Stop watching it (it is gone).
    Unwatch {
        /// The supervise.
        pid: u32,
    },
    /// Answer `Exited` if this adopted supervise is gone.
    Check {
        /// Its section.
        name: String,
        /// The supervise.
        pid: u32,
    },
    /// Signal a supervise.
    Signal {
        /// The supervise.
        pid: u32,
        /// Which.
        signal: Signal,
    },
    /// Watch `name`'s status directory for new `status` and `info` files,
    /// and read it now: answer `Observed` now and on every change (or
    /// `NotObserved`).
    Observe {
        /// The section.
        name: String,
    },
    /// Read `name`'s status directory now; answer `Observed`.
    Look {
        /// The section.
        name: String,
    },
    /// Write a command to `name`'s supervise.
    Send {
        /// The section.
        name: String,
        /// Which.
        command: Command,
    },
    /// Tell our own supervisor (sd_notify), if it listens.
    Notify(Notice),
    /// Kill the process group of the service named in `name`'s status file
    /// (its supervise was killed and cannot do it any more).
    KillService {
        /// The section.
        name: String,
    },
    /// Log a line.
    Log(Level, String),
    /// Write the reload result file (and, when applied, the record of the
    /// applied configuration).
    Report(Report),
    /// Exit the scanner with this code.
    Exit(i32),
}

/// What to do once a stopping supervise has exited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Then {
    /// The section was removed: forget it.
    Remove,
    /// Start again, with the settings in `Service::spec`.
    Start,
}

/// What one service's supervise is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// `Launch` was issued; its outcome is awaited. `then` is what was
    /// decided meanwhile (a removal, a restart).
    Starting { then: Option<Then> },
    /// Its supervise runs.
    Running { pid: u32, since: Duration },
    /// Waiting to start (again) at this time.
    BackingOff { until: Duration },
    /// Due to start, waiting for what it needs to be ready (no supervise).
    Waiting,
    /// Its supervise runs and is to be stopped (then `then`) once every
    /// supervise that needs it has exited: a removal or a shutdown.
    StopQueued { pid: u32, then: Then },
    /// SIGTERM sent; when it exits, `then` happens.
    Stopping { pid: u32, then: Then },
    /// Exited on purpose (`x`, or gave up): left down until a reload.
    Stopped,
}

/// One section the scanner manages.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Service {
    /// The settings it runs with (or will start with); `None` when adopted
    /// without a record of them.
    spec: Option<ServiceSpec>,
    state: State,
    backoff: Backoff,
    /// Its supervise is not our child.
    adopted: bool,
    /// Adopted and not watched by a pidfd: when to check it next.
    check_at: Option<Duration>,
    /// What its status directory said last, since its supervise started.
    seen: Option<Seen>,
    /// What `status` said of `since` when first read after a launch, while
    /// it may still be the previous supervise's file.
    baseline: Option<Duration>,
    /// `Observe` was issued for it (the watch outlives its supervise).
    watched: bool,
    /// When to read its status directory (again): every [`CHECK_EVERY`]
    /// when it cannot be watched, or once to retry a command.
    look_at: Option<Duration>,
    /// Its status directory cannot be watched.
    unwatchable: bool,
    /// Asked down (`stop NAME`) until `start NAME`, or until it is seen
    /// started again by someone else.
    asked_down: bool,
    /// The scanner sent it `d` (and no `u` since).
    down_sent: bool,
    /// The scanner owes it a `u` once it may run again.
    up_owed: bool,
    /// The `u` just sent undoes a `d` of ours: if it is not sent, the
    /// service is still down by us (`down_sent`), or was never.
    up_undoes_down: bool,
    /// The last command sent, until its status shows it obeyed.
    in_flight: Option<Command>,
    /// `start NAME` came while its supervise ran and its status has not
    /// shown it up since: should that supervise exit on purpose (it gave
    /// up just before, the `u` came too late), it is started again.
    start_asked: bool,
    /// Held down: asked, or something it requires is down or held.
    held: bool,
    /// It failed (exited, could not start) since the scanner started it,
    /// for the scanner's own readiness.
    failed: bool,
    /// Said that it waits for what it needs.
    said_waiting: bool,
}

impl Service {
    fn pid(&self) -> Option<u32> {
        match self.state {
            State::Running { pid, .. }
            | State::Stopping { pid, .. }
            | State::StopQueued { pid, .. } => Some(pid),
            _ => None,
        }
    }

    /// A service for a section of the configuration, about to start.
    fn new(spec: Option<ServiceSpec>, state: State) -> Service {
        Service {
            spec,
            state,
            backoff: Backoff::default(),
            adopted: false,
            check_at: None,
            seen: None,
            baseline: None,
            watched: false,
            look_at: None,
            unwatchable: false,
            asked_down: false,
            down_sent: false,
            up_owed: false,
            up_undoes_down: false,
            in_flight: None,
            start_asked: false,
            held: false,
            failed: false,
            said_waiting: false,
        }
    }

    /// What it waits for before it starts (`after` and `requires`).
    fn needs(&self) -> impl Iterator<Item = &str> {
        self.spec.iter().flat_map(ServiceSpec::needs)
    }

    /// What it requires.
    fn requires(&self) -> impl Iterator<Item = &str> {
        self.spec
            .iter()
            .flat_map(|s| s.requires.iter().map(String::as_str))
    }

    /// A new supervise: nothing known of its service yet.
    fn forget_service(&mut self) {
        self.seen = None;
        self.baseline = None;
        self.down_sent = false;
        self.up_owed = false;
        self.up_undoes_down = false;
        self.in_flight = None;
    }

    /// Waits to start again after a run of `ran` (nothing: a failed
    /// start); returns the delay.
    fn back_off(&mut self, ran: Duration, now: Duration) -> Duration {
        let delay = self.backoff.after_exit(ran, BACKOFF);
        self.state = State::BackingOff { until: now + delay };
        delay
    }

    fn stop_timeout(&self) -> Duration {
        self.spec
            .as_ref()
            .map_or(DEFAULT_STOP_TIMEOUT, |s| s.conf.stop_timeout)
    }
}

/// A shutdown in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shutdown {
    /// When to kill what is left.
    by: Duration,
}

/// The scanner's state: every service it manages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    services: HashMap<String, Service>,
    /// Which service each live supervise belongs to.
    by_pid: HashMap<u32, String>,
    shutdown: Option<Shutdown>,
    /// Loads so far.
    generation: u64,
    /// A load was applied at least once.
    applied_once: bool,
    /// The start order of the services' settings, the other way round.
    graph: Graph,
    /// The services to look at again before `handle` returns (their state
    /// changed), for the start order.
    touched: Vec<String>,
    /// The scanner's own readiness.
    readiness: Readiness,
}

/// Whether the scanner tells when every service is ready.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Readiness {
    /// It does not.
    #[default]
    Off,
    /// It will, once the first load is in.
    Waiting,
    /// It will once these are ready (or failed); the names are dropped as
    /// they do, for good.
    Pending(std::collections::BTreeSet<String>),
    /// It did.
    Told,
}

impl Machine {
    /// A scanner with nothing loaded yet.
    pub fn new() -> Machine {
        Machine::default()
    }

    /// A scanner that says when every service is ready (`Notify`), and
    /// when it stops.
    pub fn telling_readiness() -> Machine {
        Machine {
            readiness: Readiness::Waiting,
            ..Machine::default()
        }
    }

    /// When the loop must send `Deadline`; `None`: wait for ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        let services = self.services.values().filter_map(|s| {
            let start = match s.state {
                State::BackingOff { until } if self.shutdown.is_none() => Some(until),
                _ => None,
            };
            [start, s.check_at, s.look_at].into_iter().flatten().min()
        });
        services.chain(self.shutdown.map(|s| s.by)).min()
    }

    /// The pids of every supervise the scanner knows to be alive.
    pub fn supervise_pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_pid.keys().copied()
    }

    /// Feeds one input; returns what the loop must do, in order.
    pub fn handle(&mut self, now: Duration, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Adopted { name, pid, runs } => self.adopted(name, pid, runs, now, &mut out),
            Input::Load(load) => self.load(load, now, &mut out),
            Input::Launched { name, pid } => self.launched(&name, pid, now, &mut out),
            Input::LaunchFailed { name, error } => self.launch_failed(&name, &error, now, &mut out),
            Input::Unwatched { pid, error } => {
                if let Some(service) = self.by_pid.get(&pid).and_then(|n| self.services.get_mut(n))
                {
                    service.check_at = Some(now + CHECK_EVERY);
                    out.push(Effect::Log(
                        Level::Warning,
                        format!(
                            "cannot watch adopted supervise (pid {pid}): {error}; checking it every {} s",
                            CHECK_EVERY.as_secs()
                        ),
                    ));
                }
            }
            Input::Exited { pid, ended } => self.exited(pid, ended, now, &mut out),
            Input::Observed { name, seen } => self.observed(&name, seen, &mut out),
            Input::NotObserved { name, error } => self.not_observed(&name, &error, now, &mut out),
            Input::NotSent {
                name,
                command,
                error,
            } => self.not_sent(&name, command, &error, now, &mut out),
            Input::Control(request) => self.control(request, now, &mut out),
            Input::Deadline => self.deadline(now, &mut out),
            Input::Terminate => self.terminate(now, &mut out),
        }
        self.settle(&mut out);
        self.tell_readiness(&mut out);
        out
    }

    fn adopted(
        &mut self,
        name: String,
        pid: u32,
        runs: Option<Box<ServiceSpec>>,
        now: Duration,
        out: &mut Vec<Effect>,
    ) {
        let then = match self.services.get(&name).map(|s| s.state) {
            None => None,
            Some(State::Starting { then }) => then,
            // Not something we were about to start: already known.
            Some(_) => return,
        };
        out.push(Effect::Log(
            Level::Notice,
            format!("{name}: adopted the supervise already running (pid {pid})"),
        ));
        out.push(Effect::Watch {
            name: name.clone(),
            pid,
        });
        let service = self
            .services
            .entry(name.clone())
            .or_insert_with(|| Service::new(runs.map(|b| *b), State::Stopped));
        service.adopted = true;
        service.check_at = None;
        service.state = State::Running { pid, since: now };
        service.forget_service();
        if service.watched {
            // Its status will not change by itself: read it.
            out.push(Effect::Look { name: name.clone() });
        }
        self.by_pid.insert(pid, name.clone());
        self.touch(&name);
        self.after_start(&name, then, out);
    }

    /// A supervise now runs for `name`: carry out what was decided while it
    /// was being started (a removal, a restart, a shutdown).
    fn after_start(&mut self, name: &str, then: Option<Then>, out: &mut Vec<Effect>) {
        let then = if self.shutdown.is_some() {
            Some(Then::Remove)
        } else {
            then
        };
        if let Some(then) = then {
            self.stop(name, then, out);
        }
    }

    fn launched(&mut self, name: &str, pid: u32, now: Duration, out: &mut Vec<Effect>) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let State::Starting { then } = service.state else {
            return;
        };
        service.state = State::Running { pid, since: now };
        service.adopted = false;
        service.check_at = None;
        service.forget_service();
        self.by_pid.insert(pid, name.to_owned());
        self.touch(name);
        out.push(Effect::Log(
            Level::Notice,
            format!("{name}: supervise started (pid {pid})"),
        ));
        self.after_start(name, then, out);
    }

    fn launch_failed(&mut self, name: &str, error: &str, now: Duration, out: &mut Vec<Effect>) {
        let shutting_down = self.shutdown.is_some();
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let State::Starting { then } = service.state else {
            return;
        };
        service.failed = true;
        if then == Some(Then::Remove) || shutting_down {
            out.push(Effect::Log(
                Level::Warning,
                format!("{name}: cannot start supervise: {error}"),
            ));
            self.forget(name);
            self.exit_if_done(out);
            return;
        }
        self.touch(name);
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let delay = service.back_off(Duration::ZERO, now);
        out.push(Effect::Log(
            Level::Warning,
            format!(
                "{name}: cannot start supervise: {error}; retrying in {} s",
                crate::duration::exact(delay)
            ),
        ));
        self.start_if_due(name, now, out);
    }

    /// Applies a configuration, or refuses it and changes nothing.
    fn load(&mut self, load: Load, now: Duration, out: &mut Vec<Effect>) {
        self.generation += 1;
        match load {
            _ if self.shutdown.is_some() => {
                let line = "supervise-scan is shutting down: nothing reloaded".to_owned();
                self.refuse(vec![line], false, out);
            }
            Load::Refused { errors } => self.refuse(errors, true, out),
            Load::Valid { services, warnings } => self.apply_load(services, warnings, now, out),
        }
        if self.readiness == Readiness::Waiting {
            // The first load says what should run: from now on, the
            // scanner is ready once all of that is.
            self.readiness = Readiness::Pending(self.services.keys().cloned().collect());
        }
    }

    /// Refuses a load: logs and reports `errors` (with a summary line),
    /// touches no service. The first configuration refused with nothing
    /// running ends the scanner.
    fn refuse(&mut self, errors: Vec<String>, summarise: bool, out: &mut Vec<Effect>) {
        for error in &errors {
            out.push(Effect::Log(Level::Warning, error.clone()));
        }
        let fatal = summarise && !self.applied_once && self.services.is_empty();
        if fatal {
            let line = format!(
                "configuration refused ({}); nothing runs, so exiting",
                plan::count(errors.len(), "error")
            );
            out.push(Effect::Log(Level::Fatal, line));
        } else if summarise {
            let line = format!(
                "reload refused ({}): every service is left as it runs",
                plan::count(errors.len(), "error")
            );
            out.push(Effect::Log(Level::Warning, line));
        }
        out.push(Effect::Report(Report {
            generation: self.generation,
            applied: false,
            lines: errors,
        }));
        if fatal {
            out.push(Effect::Exit(EXIT_REFUSED));
        }
    }

    /// Makes the services match a valid configuration; reports each change.
    fn apply_load(
        &mut self,
        services: Vec<ServiceSpec>,
        warnings: Vec<String>,
        now: Duration,
        out: &mut Vec<Effect>,
    ) {
        for warning in &warnings {
            out.push(Effect::Log(Level::Warning, warning.clone()));
        }
        let changes = self.changes(&services);
        self.rebuild_graph(&services);
        let mut specs: HashMap<String, ServiceSpec> =
            services.into_iter().map(|s| (s.name.clone(), s)).collect();
        let mut lines: Vec<String> = changes
            .into_iter()
            .filter_map(|change| self.apply(change, &mut specs, now, out))
            .collect();
        // The others are unchanged but for their start order, which
        // needs no restart: they take it as it is now.
        for (name, spec) in specs {
            if let Some(service) = self.services.get_mut(&name)
                && !service.removing()
            {
                service.spec = Some(spec);
            }
        }
        lines.extend(self.revive_stopped(now, out));
        self.applied_once = true;
        self.touch_all();
        self.start_due(now, out);
        lines.extend(warnings);
        out.push(Effect::Report(Report {
            generation: self.generation,
            applied: true,
            lines,
        }));
    }

    /// The graph of the start order of `services`, and of the old
    /// settings of the services that are not among them (their removal
    /// waits for what needs them).
    fn rebuild_graph(&mut self, services: &[ServiceSpec]) {
        let named: HashSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let old = self
            .services
            .iter()
            .filter(|(name, _)| !named.contains(name.as_str()))
            .filter_map(|(_, s)| s.spec.as_ref());
        self.graph = Graph::new(services.iter().chain(old));
    }

    /// What it takes to go from the services managed now to `services`.
    fn changes(&self, services: &[ServiceSpec]) -> Vec<Change> {
        let current: Vec<&ServiceSpec> = self
            .services
            .values()
            .filter(|s| !s.removing())
            .filter_map(|s| s.spec.as_ref())
            .collect();
        let mut changes = plan::diff(&current, services);
        // Adopted without a record of their settings, so outside the diff:
        // removed unless the new file names them.
        let named: HashSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
        changes.extend(
            self.services
                .iter()
                .filter(|(name, s)| {
                    s.spec.is_none() && !s.removing() && !named.contains(name.as_str())
                })
                .map(|(name, _)| Change::Stop(name.clone())),
        );
        // The stops come last, in the map's order: sorted by name, for a
        // stable log.
        let stops = changes
            .iter()
            .position(|c| matches!(c, Change::Stop(_)))
            .unwrap_or(changes.len());
        changes[stops..].sort_by_key(ToString::to_string);
        changes
    }

    /// A reload also starts again what stopped on purpose; returns the
    /// report lines.
    fn revive_stopped(&mut self, now: Duration, out: &mut Vec<Effect>) -> Vec<String> {
        let mut revived: Vec<String> = self
            .services
            .iter()
            .filter(|(_, s)| s.state == State::Stopped && !s.asked_down)
            .map(|(n, _)| n.clone())
            .collect();
        revived.sort();
        for name in &revived {
            out.push(Effect::Log(
                Level::Notice,
                format!("{name}: starting its supervise again (it had exited on purpose)"),
            ));
            if let Some(service) = self.services.get_mut(name) {
                service.state = State::BackingOff { until: now };
                service.backoff.reset();
            }
        }
        revived.into_iter().map(|n| format!("start {n}")).collect()
    }

    /// Carries out one change of a reload; returns its report line.
    fn apply(
        &mut self,
        change: Change,
        specs: &mut HashMap<String, ServiceSpec>,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Option<String> {
        let line = change.to_string();
        match change {
            Change::Start(name) => {
                let spec = specs.remove(&name)?;
                return Some(self.start_section(name, spec, now, out));
            }
            Change::Stop(name) => {
                out.push(Effect::Log(
                    Level::Notice,
                    format!("{name}: section removed, stopping"),
                ));
                self.stop(&name, Then::Remove, out);
            }
            Change::Restart { name, because } => {
                out.push(Effect::Log(
                    Level::Notice,
                    format!("{name}: {because} changed, restarting the service"),
                ));
                let service = self.services.get_mut(&name)?;
                service.spec = specs.remove(&name);
                self.stop(&name, Then::Start, out);
            }
            Change::Reread(name) => {
                let service = self.services.get_mut(&name)?;
                service.spec = specs.remove(&name);
                match service.state {
                    State::Running { .. } => {
                        out.push(Effect::Log(
                            Level::Notice,
                            format!("{name}: alarms or limits changed, sending r"),
                        ));
                        let spec = service.spec.clone()?;
                        out.push(Effect::Reread(Box::new(spec)));
                    }
                    // Started again below, with them.
                    State::Stopped => return None,
                    // It reads the new settings when it starts.
                    _ => {}
                }
            }
        }
        Some(line)
    }

    /// A section new to the diff: a new service, one whose removal is in
    /// flight, or one adopted without a record of its settings. Returns
    /// the report line.
    fn start_section(
        &mut self,
        name: String,
        spec: ServiceSpec,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> String {
        let start = Change::Start(name.clone()).to_string();
        let Some(service) = self.services.get_mut(&name) else {
            out.push(Effect::Log(
                Level::Notice,
                format!("{name}: new section, starting"),
            ));
            if let Readiness::Pending(unsettled) = &mut self.readiness {
                unsettled.insert(name.clone());
            }
            self.services.insert(
                name,
                Service::new(Some(spec), State::BackingOff { until: now }),
            );
            return start;
        };
        if service.removing() {
            // Start it again once its supervise has exited: two would
            // fight over the lock.
            out.push(Effect::Log(
                Level::Notice,
                format!("{name}: section back; starting it again once stopped"),
            ));
            service.spec = Some(spec);
            service.set_then(Then::Start);
            return start;
        }
        service.spec = Some(spec.clone());
        match service.state {
            State::Running { .. } => {
                out.push(Effect::Log(
                    Level::Notice,
                    format!("{name}: settings not known; sending r with the new ones"),
                ));
                out.push(Effect::Reread(Box::new(spec)));
                Change::Reread(name).to_string()
            }
            State::Stopped => {
                service.state = State::BackingOff { until: now };
                start
            }
            _ => start,
        }
    }

    /// Asks a service's supervise to stop its service and exit; then `then`.
    fn stop(&mut self, name: &str, then: Then, out: &mut Vec<Effect>) {
        let wait_for_needers = then == Then::Remove && self.any_needer_alive(name);
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        match service.state {
            State::Running { pid, .. } | State::StopQueued { pid, .. } if wait_for_needers => {
                if let Some(service) = self.services.get_mut(name) {
                    service.state = State::StopQueued { pid, then };
                }
                self.touch(name);
            }
            State::Running { pid, .. }
            | State::Stopping { pid, .. }
            | State::StopQueued { pid, .. } => {
                out.push(Effect::Signal {
                    pid,
                    signal: Signal::Term,
                });
                service.state = State::Stopping { pid, then };
                self.touch(name);
            }
            State::Starting { .. } => service.state = State::Starting { then: Some(then) },
            State::BackingOff { .. } | State::Stopped | State::Waiting => match then {
                Then::Remove => self.forget(name),
                Then::Start => {
                    service.backoff.reset();
                    service.state = State::BackingOff {
                        until: Duration::ZERO,
                    };
                }
            },
        }
    }

    fn exited(&mut self, pid: u32, ended: Ended, now: Duration, out: &mut Vec<Effect>) {
        let Some(name) = self.by_pid.remove(&pid) else {
            return;
        };
        let shutting_down = self.shutdown.is_some();
        let Some(service) = self.services.get_mut(&name) else {
            return;
        };
        if service.adopted {
            out.push(Effect::Unwatch { pid });
        }
        service.check_at = None;
        service.adopted = false;
        service.forget_service();
        let how = ended.describe();
        // Used up by this exit, whichever way it went.
        let start_asked = std::mem::take(&mut service.start_asked);
        let exited = Effect::Log(Level::Notice, format!("{name}: supervise exited ({how})"));
        let remove = match service.state {
            // Whatever was planned for it, nothing is started again.
            _ if shutting_down => {
                out.push(exited);
                true
            }
            State::Stopping { then, .. } | State::StopQueued { then, .. } => {
                out.push(exited);
                if then == Then::Start {
                    service.backoff.reset();
                    service.state = State::BackingOff { until: now };
                }
                then == Then::Remove
            }
            State::Running { .. } if ended.on_purpose() && start_asked => {
                service.backoff.reset();
                service.state = State::BackingOff { until: now };
                out.push(Effect::Log(
                    Level::Notice,
                    format!(
                        "{name}: supervise exited ({how}); starting it again: it was asked to start"
                    ),
                ));
                false
            }
            State::Running { .. } if ended.on_purpose() => {
                service.state = State::Stopped;
                out.push(Effect::Log(
                    Level::Warning,
                    format!(
                        "{name}: supervise exited ({how}); not restarted until the next reload"
                    ),
                ));
                false
            }
            State::Running { since, .. } => {
                service.failed = true;
                let delay = service.back_off(now.saturating_sub(since), now);
                out.push(Effect::Log(
                    Level::Warning,
                    format!(
                        "{name}: supervise died ({how}); starting it again in {} s",
                        crate::duration::exact(delay)
                    ),
                ));
                false
            }
            _ => false,
        };
        if remove {
            self.forget(&name);
        } else {
            self.touch(&name);
        }
        if shutting_down {
            self.exit_if_done(out);
        } else {
            self.start_if_due(&name, now, out);
        }
    }

    fn deadline(&mut self, now: Duration, out: &mut Vec<Effect>) {
        let mut checks: Vec<(String, u32)> = Vec::new();
        for (name, service) in &mut self.services {
            if let (Some(at), Some(pid)) = (service.check_at, service.pid())
                && at <= now
            {
                service.check_at = Some(now + CHECK_EVERY);
                checks.push((name.clone(), pid));
            }
        }
        checks.sort_unstable();
        out.extend(
            checks
                .into_iter()
                .map(|(name, pid)| Effect::Check { name, pid }),
        );
        let mut looks: Vec<String> = Vec::new();
        for (name, service) in &mut self.services {
            if service.look_at.is_some_and(|at| at <= now) {
                service.look_at = service.unwatchable.then_some(now + CHECK_EVERY);
                looks.push(name.clone());
            }
        }
        looks.sort_unstable();
        out.extend(looks.into_iter().map(|name| Effect::Look { name }));
        if self.shutdown.is_some_and(|s| now >= s.by) {
            self.force_shutdown(out);
            return;
        }
        self.start_due(now, out);
    }

    /// Launches every service whose start time has come (none while
    /// shutting down), in name order. Linear: for loads and deadlines.
    fn start_due(&mut self, now: Duration, out: &mut Vec<Effect>) {
        let mut due: Vec<String> = self
            .services
            .iter()
            .filter(|(_, s)| matches!(s.state, State::BackingOff { until } if until <= now))
            .map(|(n, _)| n.clone())
            .collect();
        due.sort();
        for name in due {
            self.start_if_due(&name, now, out);
        }
    }

    /// Launches service `name` if its start time has come (and the scanner
    /// is not shutting down). For one exit, so that a storm of them does
    /// not look at every service each time.
    fn start_if_due(&mut self, name: &str, now: Duration, out: &mut Vec<Effect>) {
        if self.shutdown.is_some() {
            return;
        }
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        if !matches!(service.state, State::BackingOff { until } if until <= now) {
            return;
        }
        let Some(spec) = service.spec.clone() else {
            // Only adopted services lack settings, and they are not
            // started by us until a load gives them some.
            service.state = State::Stopped;
            return;
        };
        if service.asked_down {
            // `stop NAME` holds until `start NAME`, its supervise too.
            service.state = State::Stopped;
            return;
        }
        if spec.needs().next().is_some() {
            // Started by the start order's rules once what it needs is.
            service.state = State::Waiting;
            self.touch(name);
            return;
        }
        service.state = State::Starting { then: None };
        out.push(Effect::Launch(Box::new(spec)));
    }

    /// SIGTERM/SIGINT: every supervise brings its service down, in
    /// parallel. A second signal is passed on too: supervise then kills at
    /// once.
    fn terminate(&mut self, now: Duration, out: &mut Vec<Effect>) {
        if self.shutdown.is_none() {
            out.push(Effect::Log(Level::Notice, "stopping every service".into()));
            if self.readiness != Readiness::Off {
                out.push(Effect::Notify(Notice::Stopping));
            }
            self.shutdown = Some(Shutdown {
                by: now + self.longest_stop() + SHUTDOWN_SLACK,
            });
        }
        self.services.retain(|_, s| {
            matches!(
                s.state,
                State::Running { .. }
                    | State::Stopping { .. }
                    | State::Starting { .. }
                    | State::StopQueued { .. }
            )
        });
        let mut names: Vec<String> = self.services.keys().cloned().collect();
        names.sort();
        for name in names {
            self.stop(&name, Then::Remove, out);
        }
        self.exit_if_done(out);
    }

    /// The shutdown deadline passed: kill what is left, services included,
    /// and exit with 1.
    fn force_shutdown(&mut self, out: &mut Vec<Effect>) {
        let mut left: Vec<(String, Option<u32>)> = self
            .services
            .drain()
            .map(|(name, s)| (name, s.pid()))
            .collect();
        left.sort();
        for (name, pid) in left {
            let Some(pid) = pid else { continue };
            out.push(Effect::Log(
                Level::Warning,
                format!("{name}: supervise did not exit in time; killing it"),
            ));
            out.push(Effect::Signal {
                pid,
                signal: Signal::Kill,
            });
            out.push(Effect::KillService { name });
        }
        self.by_pid.clear();
        out.push(Effect::Log(
            Level::Warning,
            "killed every supervise that was left; exiting".into(),
        ));
        out.push(Effect::Exit(1));
    }

    /// Shutting down and nothing left: exit 0.
    fn exit_if_done(&mut self, out: &mut Vec<Effect>) {
        if self.shutdown.is_some() && self.services.is_empty() {
            out.push(Effect::Log(
                Level::Notice,
                "every service is down; exiting".into(),
            ));
            out.push(Effect::Exit(0));
        }
    }
}

impl Service {
    /// Its section was removed and its supervise is being stopped.
    fn removing(&self) -> bool {
        matches!(
            self.state,
            State::Stopping {
                then: Then::Remove,
                ..
            } | State::StopQueued {
                then: Then::Remove,
                ..
            } | State::Starting {
                then: Some(Then::Remove)
            }
        )
    }

    fn set_then(&mut self, then: Then) {
        match &mut self.state {
            State::Stopping { then: t, .. } | State::StopQueued { then: t, .. } => *t = then,
            State::Starting { then: t } => *t = Some(then),
            _ => {}
        }
    }
}

#[path = "machine_order.rs"]
mod ordering;

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "machine_order_tests.rs"]
mod order_tests;
