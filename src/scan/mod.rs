//! `supervise-scan`: many services from one supervise.conf, each under its
//! own, unchanged `supervise` (per-service isolation kept), and the
//! container's PID 1 if need be. The scanner starts one supervise per
//! section with a `command` (in the start order `after` and `requires`
//! give), starts it again (with back-off) if it dies, reconciles on SIGHUP,
//! obeys `start NAME` and `stop NAME` on its control FIFO, reaps every
//! orphan, tells systemd when every service is ready, and on SIGTERM/SIGINT
//! stops all services, dependents first, and exits once all are down.
//!
//! [`plan`] reads what should run and [`machine`] decides what to do (both
//! pure); this module is the thin loop that carries it out: it waits in
//! `poll`, turns what woke it into machine inputs, and carries out the
//! effects, feeding their outcomes back. It decides nothing.

pub mod check;
pub mod cli;
pub mod control;
pub mod forward;
pub mod load;
pub mod machine;
pub mod metrics_file;
pub mod observe;
pub mod order;
pub mod output;
pub mod plan;

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::conf;
use crate::status;
use crate::status::Want;
use crate::supervisor::{Level, Now, Target};
use crate::sys::lock::{self, Acquired};
use crate::sys::notify::Notifier;
use crate::sys::pidfd::PidFd;
use crate::sys::signals::{Received, Signals};
use crate::sys::stdio::{self, Sink};
use crate::sys::{clock, localtime, logfile, poll, process, reap, spawn};
use load::{load_file, read_env_file};
use machine::{Command, Effect, Ended, Input, Load, Machine, Notice, Signal};
use observe::Observer;
use output::{Lines, Output, Stream};
use plan::ServiceSpec;

/// Exit code for a set-up failure: supervise's.
use crate::driver::EXIT_SETUP;

/// The scanner's lock, in the status root: one scanner per root.
pub const LOCK_FILE: &str = "supervise-scan.lock";
/// The outcome of the last load, in the status root (see docs/scan.md).
pub const RELOAD_FILE: &str = "supervise-scan.reload";
/// A copy of the configuration last applied, in the status root: what
/// `--check` compares with, and what a new scanner adopts by.
pub const APPLIED_FILE: &str = "supervise-scan.applied";
/// In each status directory: the service's settings as the scanner
/// resolved them ([`conf::render`]), the only file its supervise reads.
pub const SETTINGS_FILE: &str = "supervise.conf";
/// The scanner's control FIFO, in the status root (docs/status-files.md).
pub use control::CONTROL_FILE;

/// The scanner's command line, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// supervise.conf (absolute).
    pub conf: PathBuf,
    /// The status root: services live in `ROOT/status/NAME` (absolute).
    pub root: PathBuf,
    /// The supervise binary.
    pub supervise: PathBuf,
    /// The argv[0] it is run with, if not its path (`supervise` for
    /// `/proc/self/exe`, see [`crate::entry`]).
    pub supervise_arg0: Option<OsString>,
    /// Copy services' output to our stdout/stderr as `NAME: line`.
    pub forward_output: bool,
    /// `--notify`: tell (and log) when every service is ready.
    pub notify: bool,
    /// The value `NOTIFY_SOCKET` had (taken out of the environment).
    pub notify_socket: Option<OsString>,
    /// `--metrics-file PATH` (absolute).
    pub metrics_file: Option<PathBuf>,
}

/// The scanner's loop and what it holds.
struct Scanner {
    options: ScanOptions,
    machine: Machine,
    signals: Signals,
    /// Our stdout and stderr, never blocking.
    output: Output,
    /// What our children write to descriptors 1 and 2 (see
    /// [`crate::sys::stdio::capture`]), and its partial last line.
    captured: Option<(std::fs::File, Lines)>,
    forward: Option<forward::Forwarder>,
    /// Adopted supervise, each watched by a pidfd: pid -> (section, pidfd).
    watched: HashMap<u32, (String, PidFd)>,
    /// The status directories the start order reads (made at start, or
    /// when first needed if it could not be then).
    observer: Option<Observer>,
    /// The control FIFO, if it could be made.
    control: Option<control::Fifo>,
    /// `--metrics-file`, if given and inotify could be set up for it.
    metrics: Option<metrics_file::MetricsFile>,
    /// Where to tell our readiness, and the address as given.
    notifier: Option<(Notifier, String)>,
    /// The text of the last configuration read, kept until it is applied
    /// (then recorded in [`APPLIED_FILE`]) or refused.
    read_text: Option<Vec<u8>>,
    _lock: std::fs::File,
}

/// Sets up (lock, signals) and runs until shut down; returns the exit code.
pub fn run(options: ScanOptions) -> i32 {
    match Scanner::new(options) {
        Ok(mut scanner) => scanner.run(),
        Err(message) => {
            log_now(Level::Fatal, &message);
            EXIT_SETUP
        }
    }
}

/// `text` as one line of a file that is read line by line.
pub(crate) fn one_line(text: &str) -> String {
    text.replace('\n', "\\n")
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that
/// a reader sees the old contents or the new, never a part.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// A scanner log line, as it goes to stderr (for `docker logs` and
/// journald): `[LEVEL] TIME  supervise-scan: message`.
pub(crate) fn log_line(level: Level, message: &str) -> String {
    logfile::format_line(
        level,
        &localtime::format(clock::now().wall),
        &format!("supervise-scan: {message}"),
    )
}

/// Logs straight to stderr, before the output queues exist (a set-up
/// failure, just before exiting).
fn log_now(level: Level, message: &str) {
    use std::io::Write;
    let _ = io::stderr().write_all(log_line(level, message).as_bytes());
}

impl Scanner {
    fn new(options: ScanOptions) -> Result<Scanner, String> {
        std::fs::create_dir_all(options.root.join("status"))
            .map_err(|e| format!("cannot create {}/status: {e}", options.root.display()))?;
        let lock_path = options.root.join(LOCK_FILE);
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
        let mut problems = Vec::new();
        let control = control::Fifo::open(&options.root)
            .map_err(|e| problems.push(format!("no control FIFO: {e}")))
            .ok();
        let notifier = options.notify_socket.as_ref().and_then(|address| {
            let shown = address.to_string_lossy().into_owned();
            Notifier::new(address)
                .map(|n| (n, shown.clone()))
                .map_err(|e| problems.push(format!("NOTIFY_SOCKET {shown}: {e}")))
                .ok()
        });
        if options.notify && options.notify_socket.is_none() {
            problems
                .push("--notify: NOTIFY_SOCKET is not set: readiness is only logged".to_owned());
        }
        let machine = if options.notify || options.notify_socket.is_some() {
            Machine::telling_readiness()
        } else {
            Machine::new()
        };
        if std::process::id() != 1
            && let Err(e) = process::become_subreaper()
        {
            problems.push(format!("cannot become a subreaper: {e}"));
        }
        let metrics = options.metrics_file.clone().and_then(|path| {
            metrics_file::MetricsFile::new(path)
                .map_err(|e| problems.push(format!("--metrics-file: cannot set up inotify: {e}")))
                .ok()
        });
        let forward = if options.forward_output {
            Some(forward::Forwarder::new().map_err(|e| format!("cannot watch output: {e}"))?)
        } else {
            None
        };
        // Made before any supervise starts, so that no number of services
        // can leave none for the scanner (fs.inotify.max_user_instances is
        // per user, 128 by default); supervise itself holds none.
        let observer = Observer::new()
            .map_err(|e| {
                problems.push(format!(
                    "cannot set up inotify: {e} (fs.inotify.max_user_instances reached?): the start order (after, requires) falls back to reading status directories every second"
                ))
            })
            .ok();
        let (output, captured) = match stdio::capture() {
            Ok(c) => (
                Output::new(c.stdout, c.stderr),
                Some((c.pipe, Lines::default())),
            ),
            Err(e) => {
                problems.push(format!(
                    "cannot route the output of supervise through a pipe: {e}"
                ));
                (Output::new(Sink::of(1), Sink::of(2)), None)
            }
        };
        let mut scanner = Scanner {
            options,
            machine,
            signals,
            output,
            captured,
            forward,
            watched: HashMap::new(),
            observer,
            control,
            metrics,
            notifier,
            read_text: None,
            _lock: lock,
        };
        for problem in problems {
            scanner.log(Level::Warning, &problem);
        }
        Ok(scanner)
    }

    /// Queues a log line on stderr.
    fn log(&mut self, level: Level, message: &str) {
        let line = log_line(level, message);
        self.output.push(Stream::Err, line.as_bytes(), true);
    }

    fn run(&mut self) -> i32 {
        let started = format!(
            "started (pid {}) with {} under {}",
            std::process::id(),
            self.options.conf.display(),
            self.options.root.display()
        );
        self.log(Level::Notice, &started);
        let mut inputs = self.adoptions();
        inputs.push(Input::Load(self.read_load()));
        let code = self.feed_all(clock::now(), inputs).unwrap_or_else(|| {
            loop {
                self.write_metrics();
                let woken = match self.wait() {
                    Ok(woken) => woken,
                    Err(e) => {
                        self.log(Level::Fatal, &format!("poll failed: {e}"));
                        break EXIT_SETUP;
                    }
                };
                let now = clock::now();
                let inputs = self.inputs(woken, now);
                if let Some(code) = self.feed_all(now, inputs) {
                    break code;
                }
            }
        });
        if let Some(summary) = self.output.summary() {
            self.log(Level::Warning, &summary);
        }
        self.output.flush();
        code
    }

    /// Sleeps in poll until a signal, a watched exit, output to forward,
    /// room for our output, a request, a status directory that changed, or
    /// the machine's deadline; returns what woke it.
    fn wait(&mut self) -> io::Result<Woken> {
        self.output.flush();
        let mut fds = vec![self.signals.raw_fd()];
        fds.extend(self.forward.as_ref().map(|f| f.raw_fd()));
        fds.extend(self.captured.as_ref().map(|(pipe, _)| pipe.as_raw_fd()));
        let control_at = fds.len();
        fds.extend(self.control.as_ref().map(control::Fifo::raw_fd));
        let observer_at = fds.len();
        fds.extend(self.observer.as_ref().map(Observer::raw_fd));
        let metrics_at = fds.len();
        fds.extend(self.metrics.as_ref().map(metrics_file::MetricsFile::raw_fd));
        let watched: Vec<u32> = self.watched.keys().copied().collect();
        let first_pidfd = fds.len();
        fds.extend(watched.iter().map(|pid| self.watched[pid].1.raw_fd()));
        let now = clock::now();
        let timeout = self
            .machine
            .next_deadline()
            .map(|t| t.saturating_sub(now.mono));
        let ready = poll::wait_for(&fds, &self.output.writable_fds(), timeout)?;
        Ok(Woken {
            control: self.control.is_some() && ready[control_at],
            observer: self.observer.is_some() && ready[observer_at],
            metrics: self.metrics.is_some() && ready[metrics_at],
            exited: watched
                .into_iter()
                .zip(&ready[first_pidfd..])
                .filter_map(|(pid, ready)| ready.then_some(pid))
                .collect(),
        })
    }

    /// Turns what woke the loop into inputs, in a fixed order: exits of
    /// adopted supervise, then signals (reaping every child), then what
    /// the watched status directories say, then requests, then the
    /// deadline. Passes on output on the way.
    fn inputs(&mut self, woken: Woken, now: Now) -> Vec<Input> {
        let mut inputs = Vec::new();
        let mut reload = false;
        if let Some(metrics) = &mut self.metrics {
            if woken.metrics {
                metrics.read_events();
            }
            if !woken.exited.is_empty() {
                metrics.touch();
            }
        }
        for pid in woken.exited {
            if let Some((name, _)) = self.watched.remove(&pid) {
                inputs.push(self.vanished(&name, pid));
            }
        }
        for received in self.signals.drain() {
            match received {
                Received::Child => {
                    while let Some((pid, how)) = reap::reap_one() {
                        if let Some(metrics) = &mut self.metrics {
                            metrics.touch();
                        }
                        inputs.push(Input::Exited {
                            pid,
                            ended: Ended::Reaped(how),
                        });
                    }
                }
                // Several at once are one reload.
                Received::Hangup if reload => {}
                Received::Hangup => {
                    reload = true;
                    inputs.push(Input::Load(self.read_load()));
                }
                Received::Terminate => inputs.push(Input::Terminate),
            }
        }
        if woken.observer {
            let changed = self.observer.as_mut().map(Observer::changed);
            for name in changed.unwrap_or_default() {
                let seen = observe::look(&self.status_dir(&name));
                inputs.push(Input::Observed { name, seen });
            }
        }
        if woken.control
            && let Some(fifo) = &mut self.control
        {
            let (requests, complaints) = fifo.read(now.mono);
            for line in complaints {
                self.log(Level::Warning, &line);
            }
            inputs.extend(requests.into_iter().map(Input::Control));
        }
        self.pass_on_output();
        if self.machine.next_deadline().is_some_and(|t| t <= now.mono) {
            inputs.push(Input::Deadline);
        }
        inputs
    }

    /// Queues what supervise wrote to the captured pipe, and the services'
    /// new output when forwarding.
    fn pass_on_output(&mut self) {
        if let Some((pipe, lines)) = &mut self.captured {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let out = lines.split(&buf[..n], b"");
                self.output.push(Stream::Err, &out, true);
            }
        }
        if let Some(forward) = &mut self.forward {
            for problem in forward.pump(&mut self.output) {
                self.log(Level::Warning, &problem);
            }
        }
    }

    /// [`Scanner::feed`] for each input in turn.
    fn feed_all(&mut self, now: Now, inputs: Vec<Input>) -> Option<i32> {
        inputs.into_iter().find_map(|input| self.feed(now, input))
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
                let dir = self.status_dir(&name);
                if let Some(metrics) = &mut self.metrics {
                    // Made now, if the launch does not: watched from the start.
                    let _ = std::fs::create_dir_all(&dir);
                    metrics.started(&name, &dir);
                }
                if let Some(pid) = self.holder(&name) {
                    return Some(Input::Adopted {
                        name,
                        pid,
                        runs: None,
                    });
                }
                Some(match self.launch(&spec) {
                    Ok(pid) => Input::Launched { name, pid },
                    Err(e) => Input::LaunchFailed {
                        name,
                        error: e.to_string(),
                    },
                })
            }
            Effect::Reread(spec) => {
                let dir = self.status_dir(&spec.name);
                let sent = write_settings(&dir, &spec).and_then(|()| send_control(&dir, b"r"));
                if let Err(e) = sent {
                    self.log(
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
                self.log(level, &message);
                None
            }
            Effect::Report(report) => {
                self.report(report);
                None
            }
            Effect::Watch { name, pid } => {
                self.follow_output(&name);
                match PidFd::open(pid) {
                    Ok(pidfd) => {
                        self.watched.insert(pid, (name, pidfd));
                        None
                    }
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                        Some(self.vanished(&name, pid))
                    }
                    Err(e) => Some(Input::Unwatched {
                        pid,
                        error: e.to_string(),
                    }),
                }
            }
            Effect::Unwatch { pid } => {
                self.watched.remove(&pid);
                None
            }
            Effect::Check { name, pid } => {
                (!process::pid_alive(pid)).then(|| self.vanished(&name, pid))
            }
            Effect::Observe { name } => Some(self.observe(name)),
            Effect::Look { name } => {
                let seen = observe::look(&self.status_dir(&name));
                Some(Input::Observed { name, seen })
            }
            Effect::Send { name, command } => {
                let byte = match command {
                    Command::Up => b"u",
                    Command::Down => b"d",
                };
                send_control(&self.status_dir(&name), byte)
                    .err()
                    .map(|e| Input::NotSent {
                        name,
                        command,
                        error: e.to_string(),
                    })
            }
            Effect::Notify(notice) => {
                self.notify(notice);
                None
            }
            Effect::Exit(_) => None,
        }
    }

    /// Watches a service's status directory (the watcher made on first
    /// use) and reads it.
    fn observe(&mut self, name: String) -> Input {
        let dir = self.status_dir(&name);
        if self.observer.is_none() {
            match Observer::new() {
                Ok(observer) => self.observer = Some(observer),
                Err(e) => {
                    let error = format!("cannot set up inotify: {e}");
                    return Input::NotObserved { name, error };
                }
            }
        }
        let watched = self.observer.as_mut().map(|o| o.watch(&name, &dir));
        match watched {
            Some(Err(e)) => Input::NotObserved {
                name,
                error: format!("{}: {e}", dir.display()),
            },
            _ => Input::Observed {
                seen: observe::look(&dir),
                name,
            },
        }
    }

    /// Brings `--metrics-file` up to date, if something changed.
    fn write_metrics(&mut self) {
        let line = self
            .metrics
            .as_mut()
            .and_then(|m| m.write_if_changed(clock::now().wall));
        if let Some(line) = line {
            self.log(Level::Warning, &line);
        }
    }

    /// Tells our supervisor (NOTIFY_SOCKET), if it listens.
    fn notify(&mut self, notice: Notice) {
        let message = match notice {
            Notice::Ready => "READY=1",
            Notice::Stopping => "STOPPING=1",
        };
        let Some((notifier, address)) = &self.notifier else {
            return;
        };
        if let Err(e) = notifier.send(message) {
            let line = format!("cannot send {message} to NOTIFY_SOCKET {address}: {e}");
            self.log(Level::Warning, &line);
        }
    }

    /// The supervise a previous scanner left running for the sections it
    /// had applied (its record): each is adopted with the settings it was
    /// started with, so that the first load is a reload against them.
    fn adoptions(&mut self) -> Vec<Input> {
        let record = self.options.root.join(APPLIED_FILE);
        let text = match std::fs::read(&record) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                let message = format!(
                    "cannot read {}: {e}; supervise left running by an earlier scanner are adopted only as their sections start",
                    record.display()
                );
                self.log(Level::Warning, &message);
                return Vec::new();
            }
        };
        plan::plan(&text)
            .services
            .into_iter()
            .filter_map(|spec| {
                let pid = self.holder(&spec.name)?;
                Some(Input::Adopted {
                    name: spec.name.clone(),
                    pid,
                    runs: Some(Box::new(spec)),
                })
            })
            .collect()
    }

    /// With `--forward-output`, follows the service's output files.
    fn follow_output(&mut self, name: &str) {
        let dir = self.status_dir(name);
        if let Some(problem) = self.forward.as_mut().and_then(|f| f.watch(name, &dir)) {
            self.log(Level::Warning, &problem);
        }
    }

    /// The live supervise holding section `name`'s lock, if any.
    fn holder(&self, name: &str) -> Option<u32> {
        let lock = self.status_dir(name).join("lock");
        if !lock.exists() {
            return None;
        }
        lock::holder_pid(&lock).filter(|&pid| pid != std::process::id() && process::pid_alive(pid))
    }

    /// An adopted supervise is gone; its status directory says whether it
    /// meant to go: wanted down (`svc exit`), or gave up (its log says so).
    fn vanished(&self, name: &str, pid: u32) -> Input {
        let dir = self.status_dir(name);
        let wanted_down = status::read(&dir).is_ok_and(|s| s.want == status::Want::Down);
        // The give-up line is followed by `supervise exiting`; a supervise
        // that started since writes far more than three lines.
        let gave_up = logfile::tail(&dir.join("supervise.log"), 4096, 3)
            .lines()
            .any(|l| l.contains("refused to restart"));
        Input::Exited {
            pid,
            ended: Ended::Vanished {
                on_purpose: wanted_down || gave_up,
            },
        }
    }

    fn status_dir(&self, name: &str) -> PathBuf {
        self.options.root.join("status").join(name)
    }

    /// Reads and checks the config file as a whole; keeps its text for
    /// the record, should it be applied.
    fn read_load(&mut self) -> Load {
        let (load, text) = load_file(&self.options.conf);
        self.read_text = text;
        load
    }

    /// Writes the reload result file, and the record of the configuration
    /// when it was applied (first, so that a reader of the result finds
    /// the record already there).
    fn report(&mut self, report: machine::Report) {
        if report.applied
            && let Some(text) = self.read_text.take()
        {
            if let Some(metrics) = &mut self.metrics {
                let services = plan::plan(&text)
                    .services
                    .into_iter()
                    .map(|spec| {
                        let dir = self.options.root.join("status").join(&spec.name);
                        (spec.name, dir)
                    })
                    .collect();
                metrics.serve(services);
            }
            let path = self.options.root.join(APPLIED_FILE);
            if let Err(e) = write_atomically(&path, &text) {
                self.log(
                    Level::Warning,
                    &format!("cannot write {}: {e}", path.display()),
                );
            }
        }
        let mut body = format!(
            "{} {}\npid {}\n",
            report.generation,
            if report.applied { "applied" } else { "refused" },
            std::process::id()
        );
        for line in &report.lines {
            body.push_str(&one_line(line));
            body.push('\n');
        }
        let path = self.options.root.join(RELOAD_FILE);
        if let Err(e) = write_atomically(&path, body.as_bytes()) {
            self.log(
                Level::Warning,
                &format!("cannot write {}: {e}", path.display()),
            );
        }
    }

    fn launch(&mut self, spec: &ServiceSpec) -> io::Result<u32> {
        let dir = self.status_dir(&spec.name);
        // Followed from before the start, so the service's first lines are
        // not taken for old output.
        if std::fs::create_dir_all(&dir).is_ok() {
            self.follow_output(&spec.name);
        }
        std::fs::create_dir_all(&dir).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
        })?;
        write_settings(&dir, spec)?;
        let mut env = Vec::new();
        if let Some(file) = &spec.environment_file {
            env = read_env_file(file).map_err(io::Error::other)?;
        }
        env.extend(spec.env.iter().cloned());
        let lean = crate::sys::memory::lean_malloc_env(&env);
        env.extend(lean);
        if let Some(dir) = &spec.directory
            && let Err(e) = std::fs::read_dir(dir)
        {
            return Err(io::Error::new(
                e.kind(),
                format!("directory {}: {e}", dir.display()),
            ));
        }
        let mut args: Vec<OsString> = vec![
            "--foreground".into(),
            "-F".into(),
            dir.join(SETTINGS_FILE).into(),
        ];
        args.extend(run_as_flags(spec).into_iter().map(OsString::from));
        args.extend(["-u".into(), dir.as_os_str().to_owned()]);
        args.extend(spec.command.iter().map(OsString::from));
        let program = &self.options.supervise;
        spawn::supervise(spawn::SuperviseLaunch {
            program,
            arg0: self.options.supervise_arg0.as_deref(),
            args,
            directory: spec.directory.as_deref(),
            env,
            umask: spec.umask,
        })
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", program.display())))
    }
}

/// What woke the loop, besides signals and output.
struct Woken {
    /// The control FIFO is readable.
    control: bool,
    /// A watched status directory changed.
    observer: bool,
    /// A status directory the metrics file reports on changed.
    metrics: bool,
    /// Adopted supervise whose pidfd says they exited.
    exited: Vec<u32>,
}

/// The flags of supervise that carry a section's `user`, `groups` and
/// `start`: supervise, not the scanner, resolves the user (as the load
/// checked it) and drops privileges in the service's process only.
fn run_as_flags(spec: &ServiceSpec) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(user) = &spec.user {
        flags.extend(["--user".to_owned(), user.clone()]);
        if !spec.groups.is_empty() {
            flags.extend(["--groups".to_owned(), spec.groups.join(",")]);
        }
    }
    match spec.start {
        Want::Up => {}
        Want::Down => flags.push("--down".to_owned()),
        Want::Once => flags.push("--once".to_owned()),
    }
    flags
}

/// Writes a service's settings file in its status directory, atomically:
/// its supervise may read it (`r`) at any moment.
fn write_settings(dir: &Path, spec: &ServiceSpec) -> io::Result<()> {
    let path = dir.join(SETTINGS_FILE);
    write_atomically(&path, conf::render(&spec.name, &spec.conf).as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

/// Writes control bytes to a status directory without blocking.
fn send_control(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let control = dir.join("control");
    crate::sys::fifo::open_writer(&control)
        .and_then(|mut fifo| fifo.write_all(bytes))
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", control.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sections_user_groups_and_start_become_supervise_flags() {
        let text = b"[a]\ncommand : x\n\
            [b]\ncommand : x\nuser : www:log\ngroups : adm 5\nstart : down\n\
            [c]\ncommand : x\nuser : 33\nstart : once\n";
        let plan = plan::plan(text);
        let flags: Vec<Vec<String>> = plan.services.iter().map(run_as_flags).collect();
        let expected: [&[&str]; 3] = [
            &[],
            &["--user", "www:log", "--groups", "adm,5", "--down"],
            &["--user", "33", "--once"],
        ];
        for (got, want) in flags.iter().zip(expected) {
            assert_eq!(got, want);
        }
    }
}
