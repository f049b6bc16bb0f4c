//! `supervise-scan`: many services from one supervise.conf, each under its
//! own, unchanged `supervise` (per-service isolation kept), and the
//! container's PID 1 if need be. The scanner starts one supervise per
//! section with a `command`, starts it again (with back-off) if it dies,
//! reconciles on SIGHUP, reaps every orphan, and on SIGTERM/SIGINT stops all
//! services in parallel and exits once all are down.
//!
//! [`plan`] reads what should run and [`machine`] decides what to do (both
//! pure); this module is the thin loop that carries it out: it waits in
//! `poll`, turns what woke it into machine inputs, and carries out the
//! effects, feeding their outcomes back. It decides nothing.

pub mod cli;
pub mod forward;
pub mod machine;
pub mod plan;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use crate::status;
use crate::supervisor::{Level, Now, Target};
use crate::sys::lock::{self, Acquired};
use crate::sys::signals::{Received, Signals};
use crate::sys::{clock, localtime, logfile, poll, process, reap, spawn, user};
use machine::{Effect, Ended, Input, Load, Machine, Signal};
use plan::ServiceSpec;

/// Exit code for a set-up failure: supervise's.
use crate::driver::EXIT_SETUP;

/// The scanner's command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The scanner's loop and what it holds.
struct Scanner {
    options: ScanOptions,
    machine: Machine,
    signals: Signals,
    forward: Option<forward::Forwarder>,
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

/// `--check`: reads CONF as a reload would; exit 0 when it would be
/// applied, 1 when refused.
pub fn check(conf: &Path, _root: Option<&Path>) -> i32 {
    let _ = conf;
    1
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
            machine: Machine::new(),
            signals,
            forward,
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
        let first = self.read_load();
        if let Some(code) = self.feed(clock::now(), Input::Load(first)) {
            return code;
        }
        loop {
            let now = clock::now();
            let mut fds = vec![self.signals.raw_fd()];
            fds.extend(self.forward.as_ref().map(|f| f.raw_fd()));
            let timeout = self
                .machine
                .next_deadline()
                .map(|t| t.saturating_sub(now.mono));
            if let Err(e) = poll::wait(&fds, timeout) {
                log(Level::Fatal, &format!("poll failed: {e}"));
                return EXIT_SETUP;
            }
            let now = clock::now();
            let mut inputs = Vec::new();
            for received in self.signals.drain() {
                match received {
                    Received::Child => {
                        while let Some((pid, how)) = reap::reap_one() {
                            inputs.push(Input::Exited {
                                pid,
                                ended: Ended::Reaped(how),
                            });
                        }
                    }
                    Received::Hangup => inputs.push(Input::Load(self.read_load())),
                    Received::Terminate => inputs.push(Input::Terminate),
                }
            }
            if let Some(forward) = &mut self.forward {
                forward.pump();
            }
            if self.machine.next_deadline().is_some_and(|t| t <= now.mono) {
                inputs.push(Input::Deadline);
            }
            for input in inputs {
                if let Some(code) = self.feed(now, input) {
                    return code;
                }
            }
        }
    }

    /// Gives the machine one input, carries out its effects and feeds their
    /// outcomes back; returns the exit code once the machine says to exit.
    fn feed(&mut self, now: Now, input: Input) -> Option<i32> {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            for effect in self.machine.handle(now.mono, input) {
                if let Effect::Exit(code) = effect {
                    return Some(code);
                }
                queue.extend(self.carry_out(effect));
            }
        }
        None
    }

    /// Does what one effect says; returns its outcome, if it has one.
    fn carry_out(&mut self, effect: Effect) -> Option<Input> {
        match effect {
            Effect::Launch(spec) => {
                let name = spec.name.clone();
                Some(match self.launch(&spec) {
                    Ok(pid) => Input::Launched { name, pid },
                    Err(e) => Input::LaunchFailed {
                        name,
                        error: e.to_string(),
                    },
                })
            }
            Effect::Reread(spec) => {
                if let Err(e) = send_control(&self.status_dir(&spec.name), b"r") {
                    log(
                        Level::Warning,
                        &format!("{}: cannot send r: {e}", spec.name),
                    );
                }
                None
            }
            Effect::Signal { pid, signal } => {
                let number = match signal {
                    Signal::Term => libc::SIGTERM,
                    Signal::Kill => libc::SIGKILL,
                };
                let _ = process::signal(Target::Child(pid), number);
                None
            }
            Effect::KillService { name } => {
                if let Ok(status) = status::read(&self.status_dir(&name))
                    && status.pid > 1
                {
                    let _ = process::signal(Target::Group(status.pid), libc::SIGKILL);
                }
                None
            }
            Effect::Log(level, message) => {
                log(level, &message);
                None
            }
            Effect::Watch { .. }
            | Effect::Unwatch { .. }
            | Effect::Check { .. }
            | Effect::Report(_)
            | Effect::Exit(_) => None,
        }
    }

    fn status_dir(&self, name: &str) -> PathBuf {
        self.options.root.join("status").join(name)
    }

    /// Reads and checks the config file as a whole.
    fn read_load(&self) -> Load {
        let path = &self.options.conf;
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) => {
                return Load::Refused {
                    errors: vec![format!("cannot read {}: {e}", path.display())],
                };
            }
        };
        let plan = plan::plan(&text);
        Load::Valid {
            warnings: plan
                .warnings
                .iter()
                .map(|w| format!("{}:{}: {}", path.display(), w.line, w.message))
                .collect(),
            services: plan.services,
        }
    }

    fn launch(&mut self, spec: &ServiceSpec) -> io::Result<u32> {
        let dir = self.status_dir(&spec.name);
        // Followed from before the start, so the service's first lines are
        // not taken for old output.
        if let Some(forward) = &mut self.forward
            && std::fs::create_dir_all(&dir).is_ok()
        {
            forward.watch(&spec.name, &dir);
        }
        let identity = spec.user.as_deref().map(user::lookup).transpose()?;
        std::fs::create_dir_all(&dir)?;
        if let Some(who) = &identity {
            user::hand_over(&dir, who)?;
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
}

/// Writes control bytes to a status directory without blocking.
fn send_control(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    crate::sys::fifo::open_writer(&dir.join("control"))?.write_all(bytes)
}
