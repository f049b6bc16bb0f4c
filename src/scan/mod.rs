//! `supervise-scan`: many services from one supervise.conf, each under its
//! own, unchanged `supervise` (per-service isolation kept), and the
//! container's PID 1 if need be. The scanner starts one supervise per
//! section with a `command`, starts it again (with back-off) if it dies,
//! reconciles on SIGHUP, reaps every orphan, and on SIGTERM/SIGINT stops all
//! services in parallel and exits once all are down.
//!
//! [`plan`] decides what should run (pure); this module carries it out with
//! one single-threaded poll loop, like supervise's own driver.

pub mod forward;
pub mod plan;

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backoff::{Backoff, Policy};
use crate::status;
use crate::supervisor::{Exit, Level, Now, Target};
use crate::sys::lock::{self, Acquired};
use crate::sys::signals::{Received, Signals};
use crate::sys::{clock, localtime, logfile, poll, process, reap, spawn, user};
use plan::{Change, ServiceSpec};

/// Exit code for a set-up failure: supervise's.
use crate::driver::EXIT_SETUP;

/// Back-off for a supervise that keeps dying: one that ran at least 10 s is
/// restarted at once; otherwise 0, 0.1 s, doubling to 30 s.
const BACKOFF: Policy = Policy {
    healthy_after: Duration::from_secs(10),
    start: Duration::from_millis(100),
    cap: Duration::from_secs(30),
};
/// After supervise's own stop timeout, how long to wait for it at shutdown
/// before killing it (its KILL grace is 2 s).
const SHUTDOWN_SLACK: Duration = Duration::from_secs(5);

/// The scanner's command line, checked.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// supervise.conf (absolute).
    pub conf: PathBuf,
    /// The status root: services live in `ROOT/status/NAME` (absolute).
    pub root: PathBuf,
    /// The supervise binary.
    pub supervise: PathBuf,
    /// Copy services' output to our stdout/stderr as `NAME: line`.
    pub forward_output: bool,
}

/// What one service's supervise is doing.
#[derive(Debug)]
enum State {
    Running {
        pid: u32,
        started: Duration,
    },
    /// Waiting to start (again) at this time.
    Waiting {
        until: Duration,
    },
    /// SIGTERM sent; when it exits, `then` happens.
    Stopping {
        pid: u32,
        then: Then,
    },
    /// Exited on purpose (`x`, or gave up): left alone until a reload.
    Stopped,
}

#[derive(Debug)]
enum Then {
    /// The section was removed.
    Remove,
    /// Start again, with the settings already in `Managed::spec`.
    Start,
}

#[derive(Debug)]
struct Managed {
    spec: ServiceSpec,
    state: State,
    backoff: Backoff,
}

/// The scanner.
pub struct Scanner {
    options: ScanOptions,
    services: Vec<Managed>,
    signals: Signals,
    forward: Option<forward::Forwarder>,
    /// SIGTERM/SIGINT received: when to give up waiting for supervise.
    shutdown_by: Option<Duration>,
    /// Some supervise had to be killed at shutdown.
    forced: bool,
    _lock: std::fs::File,
}

/// Sets up (lock, signals) and runs until shut down; returns the exit code.
pub fn run(options: ScanOptions) -> i32 {
    match Scanner::new(options) {
        Ok(mut scanner) => scanner.run(),
        Err(message) => {
            log(Level::Fatal, &message);
            EXIT_SETUP
        }
    }
}

/// Scanner log lines go to stderr, for `docker logs` and journald.
fn log(level: Level, message: &str) {
    use std::io::Write;
    let line = logfile::format_line(
        level,
        &localtime::format(clock::now().wall),
        &format!("supervise-scan: {message}"),
    );
    let _ = io::stderr().write_all(line.as_bytes());
}

impl Scanner {
    fn new(options: ScanOptions) -> Result<Scanner, String> {
        std::fs::create_dir_all(options.root.join("status"))
            .map_err(|e| format!("cannot create {}/status: {e}", options.root.display()))?;
        let lock_path = options.root.join("supervise-scan.lock");
        let lock = match lock::acquire(&lock_path) {
            Ok(Acquired::Held(file)) => file,
            Ok(Acquired::Busy(pid)) => {
                return Err(format!(
                    "supervise-scan already running for {}{}",
                    options.root.display(),
                    pid.map(|p| format!(", pid {p}")).unwrap_or_default()
                ));
            }
            Err(e) => return Err(format!("cannot lock {}: {e}", lock_path.display())),
        };
        std::fs::read(&options.conf)
            .map_err(|e| format!("cannot read {}: {e}", options.conf.display()))?;
        let signals = Signals::open().map_err(|e| format!("cannot set up signals: {e}"))?;
        if std::process::id() != 1
            && let Err(e) = process::become_subreaper()
        {
            log(Level::Warning, &format!("cannot become a subreaper: {e}"));
        }
        let forward = if options.forward_output {
            Some(forward::Forwarder::new().map_err(|e| format!("cannot watch output: {e}"))?)
        } else {
            None
        };
        Ok(Scanner {
            options,
            services: Vec::new(),
            signals,
            forward,
            shutdown_by: None,
            forced: false,
            _lock: lock,
        })
    }

    fn run(&mut self) -> i32 {
        log(
            Level::Notice,
            &format!(
                "started (pid {}) with {} under {}",
                std::process::id(),
                self.options.conf.display(),
                self.options.root.display()
            ),
        );
        self.reload(clock::now());
        loop {
            let now = clock::now();
            if self.shutdown_by.is_some() && self.services.is_empty() {
                log(Level::Notice, "every service is down; exiting");
                return i32::from(self.forced);
            }
            let mut fds = vec![self.signals.raw_fd()];
            fds.extend(self.forward.as_ref().map(|f| f.raw_fd()));
            let timeout = self.next_deadline().map(|t| t.saturating_sub(now.mono));
            if let Err(e) = poll::wait(&fds, timeout) {
                log(Level::Fatal, &format!("poll failed: {e}"));
                return EXIT_SETUP;
            }
            let now = clock::now();
            for received in self.signals.drain() {
                match received {
                    Received::Child => self.reap(now),
                    Received::Hangup if self.shutdown_by.is_none() => self.reload(now),
                    Received::Hangup => {}
                    Received::Terminate => self.shut_down(now),
                }
            }
            if let Some(forward) = &mut self.forward {
                forward.pump();
            }
            self.on_deadlines(now);
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.services
            .iter()
            .filter_map(|m| match m.state {
                State::Waiting { until } => Some(until),
                _ => None,
            })
            .chain(self.shutdown_by)
            .min()
    }

    fn managed(&mut self, name: &str) -> Option<&mut Managed> {
        self.services.iter_mut().find(|m| m.spec.name == name)
    }

    fn status_dir(&self, name: &str) -> PathBuf {
        self.options.root.join("status").join(name)
    }

    /// Reads the config file and makes the running set match it.
    fn reload(&mut self, now: Now) {
        let text = match std::fs::read(&self.options.conf) {
            Ok(text) => text,
            Err(e) => {
                log(
                    Level::Warning,
                    &format!(
                        "cannot read {}: {e}; nothing changed",
                        self.options.conf.display()
                    ),
                );
                return;
            }
        };
        let plan = plan::plan(&text);
        for warning in &plan.warnings {
            log(
                Level::Warning,
                &format!(
                    "{}:{}: {}",
                    self.options.conf.display(),
                    warning.line,
                    warning.message
                ),
            );
        }
        let current: Vec<ServiceSpec> = self
            .services
            .iter()
            .filter(|m| {
                !matches!(
                    m.state,
                    State::Stopping {
                        then: Then::Remove,
                        ..
                    }
                )
            })
            .map(|m| m.spec.clone())
            .collect();
        for change in plan::diff(&current, &plan.services) {
            let spec_of = |name: &str| {
                plan.services
                    .iter()
                    .find(|s| s.name == name)
                    .cloned()
                    .expect("a started or changed service is in the plan")
            };
            match change {
                // Left out of `current` only while its removal is in
                // flight: start it again once its supervise has exited
                // (two would fight over the lock).
                Change::Start(name) => match self.managed(&name) {
                    Some(m) => {
                        log(
                            Level::Notice,
                            &format!("{name}: section back; starting it again once stopped"),
                        );
                        m.spec = spec_of(&name);
                        if let State::Stopping { then, .. } = &mut m.state {
                            *then = Then::Start;
                        }
                    }
                    None => {
                        log(Level::Notice, &format!("{name}: new section, starting"));
                        self.services.push(Managed {
                            spec: spec_of(&name),
                            state: State::Waiting { until: now.mono },
                            backoff: Backoff::default(),
                        });
                    }
                },
                Change::Stop(name) => {
                    log(Level::Notice, &format!("{name}: section removed, stopping"));
                    self.stop(&name, Then::Remove);
                }
                Change::Restart { name, because } => {
                    log(
                        Level::Notice,
                        &format!("{name}: {because} changed, restarting the service"),
                    );
                    if let Some(m) = self.managed(&name) {
                        m.spec = spec_of(&name);
                    }
                    self.stop(&name, Then::Start);
                }
                Change::Reread(name) => {
                    log(
                        Level::Notice,
                        &format!("{name}: alarms or limits changed, sending r"),
                    );
                    let dir = self.status_dir(&name);
                    if let Err(e) = send_control(&dir, b"r") {
                        log(Level::Warning, &format!("{name}: cannot send r: {e}"));
                    }
                    if let Some(m) = self.managed(&name) {
                        m.spec = spec_of(&name);
                    }
                }
            }
        }
        // A reload also revives services that were left stopped.
        for m in &mut self.services {
            if matches!(m.state, State::Stopped) {
                m.state = State::Waiting { until: now.mono };
            }
        }
        self.on_deadlines(now);
    }

    /// Asks a service's supervise to stop its service and exit.
    fn stop(&mut self, name: &str, then: Then) {
        let Some(at) = self.services.iter().position(|m| m.spec.name == name) else {
            return;
        };
        let managed = &mut self.services[at];
        match managed.state {
            State::Running { pid, .. } | State::Stopping { pid, .. } => {
                let _ = process::signal(Target::Child(pid), libc::SIGTERM);
                managed.state = State::Stopping { pid, then };
            }
            State::Waiting { .. } | State::Stopped => match then {
                Then::Remove => {
                    self.services.remove(at);
                }
                Then::Start => {
                    managed.state = State::Waiting {
                        until: clock::now().mono,
                    };
                }
            },
        }
    }

    fn on_deadlines(&mut self, now: Now) {
        if self.shutdown_by.is_some_and(|t| now.mono >= t) {
            self.force_shutdown();
            return;
        }
        if self.shutdown_by.is_some() {
            return;
        }
        for at in 0..self.services.len() {
            if let State::Waiting { until } = self.services[at].state
                && now.mono >= until
            {
                self.start(at, now);
            }
        }
    }

    fn start(&mut self, at: usize, now: Now) {
        let spec = self.services[at].spec.clone();
        let dir = self.status_dir(&spec.name);
        // Followed from before the start, so the service's first lines are
        // not taken for old output.
        if let Some(forward) = &mut self.forward
            && std::fs::create_dir_all(&dir).is_ok()
        {
            forward.watch(&spec.name, &dir);
        }
        match self.launch(&spec, &dir) {
            Ok(pid) => {
                log(
                    Level::Notice,
                    &format!("{}: supervise started (pid {pid})", spec.name),
                );
                self.services[at].state = State::Running {
                    pid,
                    started: now.mono,
                };
            }
            Err(e) => {
                let delay = self.backoff(at, Duration::ZERO);
                log(
                    Level::Warning,
                    &format!(
                        "{}: cannot start supervise: {e}; retrying in {} s",
                        spec.name,
                        delay.as_secs_f64()
                    ),
                );
                self.services[at].state = State::Waiting {
                    until: now.mono + delay,
                };
            }
        }
    }

    fn launch(&self, spec: &ServiceSpec, dir: &Path) -> io::Result<u32> {
        let identity = spec.user.as_deref().map(user::lookup).transpose()?;
        std::fs::create_dir_all(dir)?;
        if let Some(who) = &identity {
            user::hand_over(dir, who)?;
        }
        let mut env = Vec::new();
        if let Some(file) = &spec.environment_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("environment_file {}: {e}", file.display()),
                )
            })?;
            env.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .filter_map(plan::parse_env),
            );
        }
        env.extend(spec.env.iter().cloned());
        let mut args: Vec<OsString> = vec![
            "--foreground".into(),
            "-F".into(),
            self.options.conf.clone().into(),
            "-u".into(),
            dir.as_os_str().to_owned(),
        ];
        args.extend(spec.command.iter().map(OsString::from));
        spawn::supervise(spawn::SuperviseLaunch {
            program: &self.options.supervise,
            args,
            directory: spec.directory.as_deref(),
            env,
            umask: spec.umask,
            user: identity.as_ref(),
        })
    }

    /// The delay before restarting a supervise that ran for `ran`.
    fn backoff(&mut self, at: usize, ran: Duration) -> Duration {
        self.services[at].backoff.after_exit(ran, BACKOFF)
    }

    /// Reaps every child: our supervise processes, and as PID 1 or
    /// subreaper any orphan re-parented to us.
    fn reap(&mut self, now: Now) {
        while let Some((pid, how)) = reap::reap_one() {
            if let Some(at) = self.services.iter().position(|m| match m.state {
                State::Running { pid: p, .. } | State::Stopping { pid: p, .. } => p == pid,
                _ => false,
            }) {
                self.supervise_exited(at, how, now);
            }
        }
    }

    fn supervise_exited(&mut self, at: usize, how: Exit, now: Now) {
        let name = self.services[at].spec.name.clone();
        // Shutting down: whatever was planned for it (a restart included),
        // nothing is started again.
        if self.shutdown_by.is_some() {
            log(
                Level::Notice,
                &format!("{name}: supervise exited ({})", how.describe()),
            );
            self.services.remove(at);
            return;
        }
        let state = std::mem::replace(&mut self.services[at].state, State::Stopped);
        match state {
            State::Stopping { then, .. } => {
                log(
                    Level::Notice,
                    &format!("{name}: supervise exited ({})", how.describe()),
                );
                match then {
                    Then::Remove => {
                        self.services.remove(at);
                    }
                    Then::Start => {
                        self.services[at].backoff.reset();
                        self.services[at].state = State::Waiting { until: now.mono };
                        self.on_deadlines(now);
                    }
                }
            }
            State::Running { started, .. } => {
                match how {
                    // `x` (or `svc exit`), and give-up: supervise chose to go.
                    Exit::Code(0) | Exit::Code(crate::supervisor::EXIT_GAVE_UP) => {
                        log(
                            Level::Warning,
                            &format!(
                                "{name}: supervise exited ({}); not restarted until the next reload",
                                how.describe()
                            ),
                        );
                    }
                    _ => {
                        let delay = self.backoff(at, now.mono.saturating_sub(started));
                        log(
                            Level::Warning,
                            &format!(
                                "{name}: supervise died ({}); starting it again in {} s",
                                how.describe(),
                                delay.as_secs_f64()
                            ),
                        );
                        self.services[at].state = State::Waiting {
                            until: now.mono + delay,
                        };
                        self.on_deadlines(now);
                    }
                }
            }
            other => self.services[at].state = other,
        }
    }

    /// SIGTERM/SIGINT: every supervise brings its service down in parallel.
    /// A second signal is passed on too, and supervise then kills at once.
    fn shut_down(&mut self, now: Now) {
        if self.shutdown_by.is_none() {
            log(Level::Notice, "stopping every service");
            let longest = self
                .services
                .iter()
                .map(|m| m.spec.conf.stop_timeout)
                .max()
                .unwrap_or_default();
            self.shutdown_by = Some(now.mono + longest + SHUTDOWN_SLACK);
        }
        self.services
            .retain(|m| matches!(m.state, State::Running { .. } | State::Stopping { .. }));
        for m in &self.services {
            if let State::Running { pid, .. } | State::Stopping { pid, .. } = m.state {
                let _ = process::signal(Target::Child(pid), libc::SIGTERM);
            }
        }
    }

    /// The shutdown deadline passed: kill what is left, services included.
    fn force_shutdown(&mut self) {
        for m in std::mem::take(&mut self.services) {
            if let State::Running { pid, .. } | State::Stopping { pid, .. } = m.state {
                log(
                    Level::Warning,
                    &format!(
                        "{}: supervise did not exit in time; killing it",
                        m.spec.name
                    ),
                );
                let _ = process::signal(Target::Child(pid), libc::SIGKILL);
                if let Ok(status) = status::read(&self.status_dir(&m.spec.name))
                    && status.pid > 1
                {
                    let _ = process::signal(Target::Group(status.pid), libc::SIGKILL);
                }
                self.forced = true;
            }
        }
    }
}

/// Writes control bytes to a status directory without blocking.
fn send_control(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    crate::sys::fifo::open_writer(&dir.join("control"))?.write_all(bytes)
}
