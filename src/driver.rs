//! The event loop: a single thread that waits (poll) on the control FIFO, the
//! signalfd and the next deadline, turns what woke it into supervisor inputs,
//! and carries out the effects the supervisor returns. It decides nothing.
//! While the service simply runs there is no deadline, so supervise sleeps
//! in poll with no timeout: no periodic wake-up.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alarm::AlarmFacts;
use crate::cli::Options;
use crate::conf;
use crate::conf::Conf;
use crate::control::Command;
use crate::status::{self, Status};
use crate::statusdir::{self, StatusDir};
use crate::supervisor::{
    Alarm, Effect, Input, Level, Now, RestartHook, Supervisor, Target, loaded_lines,
};
use crate::sys::signals::{Received, Signals};
use crate::sys::{clock, detach, localtime, logfile, memory, poll, process, reap, spawn};

/// Exit code when the status directory cannot be set up.
pub const EXIT_SETUP: i32 = 111;

/// The longest a status change that leaves the pid alone waits to be
/// written together with the next one.
const STATUS_COALESCE: Duration = Duration::from_millis(2);

/// How much of the end of `__stderr` an alarm mail quotes.
const STDERR_TAIL_BYTES: u64 = 4096;

/// At most this many control reads per wake-up, so a writer flooding the
/// FIFO cannot starve signal handling.
const MAX_CONTROL_READS: usize = 64;

/// Sets up the status directory, reports what a user can fix on stderr,
/// detaches (unless in the foreground) and supervises until told to exit.
/// Returns the process exit code.
pub fn start(options: Options) -> i32 {
    detach::cloexec_inherited();
    let verdict = if options.foreground {
        None
    } else {
        match detach::fork_and_wait() {
            Ok(verdict) => Some(verdict),
            Err(e) => {
                eprintln!("supervise: cannot detach: {e}");
                return EXIT_SETUP;
            }
        }
    };
    match set_up(options) {
        Ok(mut driver) => {
            if let Some(verdict) = verdict
                && let Err(e) = verdict.succeeded()
            {
                driver.log(Level::Warning, &format!("cannot detach stdio: {e}"));
            }
            driver.run()
        }
        Err(code) => {
            if let Some(verdict) = verdict {
                verdict.failed(code as u8);
            }
            code
        }
    }
}

/// Everything that can fail before supervision begins; errors go to stderr.
fn set_up(options: Options) -> Result<Driver, i32> {
    let max_log_bytes = std::env::var("SUPERVISE_LOG_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(logfile::DEFAULT_MAX_BYTES);
    let mut dir = statusdir::open(&options.dir, max_log_bytes).map_err(|e| {
        eprintln!("supervise: {e}");
        EXIT_SETUP
    })?;
    let conf_path = options.restart_hook.is_none().then(|| options.conf.clone());
    let conf = match &conf_path {
        // SPEC §1: with -r the config file is not read.
        None => Conf::unread(),
        Some(path) => match read_conf(path, &options.name) {
            Ok(resolved) => {
                let now = clock::now().wall;
                for line in resolved.warnings_text(path) {
                    eprintln!("supervise: {line}");
                    dir.logs.log(Level::Warning, now, &line);
                }
                for line in loaded_lines(&resolved.conf) {
                    dir.logs.log(Level::Notice, now, &line);
                }
                resolved.conf
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !options.conf_given => {
                dir.logs.log(
                    Level::Warning,
                    clock::now().wall,
                    "Cannot open config file. Old configurations unchanged.",
                );
                Conf::unread()
            }
            Err(e) => {
                let message = format!("cannot read config file {}: {e}", path.display());
                eprintln!("supervise: {message}");
                dir.logs.log(Level::Fatal, clock::now().wall, &message);
                return Err(EXIT_SETUP);
            }
        },
    };
    if let Some(pid) = statusdir::find_leftover(&options.dir) {
        let message = format!(
            "pid {pid} (process group {pid}) of a previous supervise of this directory is still running; stopping it before starting a new one"
        );
        eprintln!("supervise: {message}");
        dir.logs.log(Level::Warning, clock::now().wall, &message);
        if statusdir::stop_leftover(pid, conf.stop_timeout) {
            dir.logs.log(
                Level::Warning,
                clock::now().wall,
                &format!("process group {pid} ignored TERM; sent KILL"),
            );
        }
    }
    let signals = Signals::open().map_err(|e| {
        let message = format!("cannot set up signal handling: {e}");
        eprintln!("supervise: {message}");
        dir.logs.log(Level::Fatal, clock::now().wall, &message);
        EXIT_SETUP
    })?;
    if let Err(e) = process::become_subreaper() {
        dir.logs.log(
            Level::Warning,
            clock::now().wall,
            &format!(
                "cannot become a subreaper (orphans of the service will not be reaped here): {e}"
            ),
        );
    }
    let hook = options.restart_hook.as_ref().map(|_| RestartHook {
        reset_after: options.reset_after,
    });
    Ok(Driver {
        dir,
        supervisor: Supervisor::new(&options.name, conf, hook),
        name: options.name,
        host: process::hostname(),
        argv: options.argv,
        conf_path,
        hook_program: options.restart_hook,
        signals,
        hook: None,
        senders: Vec::new(),
        service_files: None,
        pending_status: None,
        written_pid: None,
        pending_logs: Vec::new(),
        exit: None,
    })
}

/// A helper process (the restart hook) that is killed if it overstays.
struct Helper {
    pid: u32,
    /// When to kill it; `None` once it was killed.
    kill_at: Option<Duration>,
    name: String,
}

impl Helper {
    /// KILLs its process group (what it started goes with it), once.
    fn kill(&mut self) {
        self.kill_at = None;
        let _ = process::signal(Target::Group(self.pid), libc::SIGKILL);
    }
}

struct Driver {
    dir: StatusDir,
    name: String,
    host: String,
    argv: Vec<OsString>,
    /// The config file; `None` under `-r`, which reads none.
    conf_path: Option<PathBuf>,
    hook_program: Option<PathBuf>,
    supervisor: Supervisor,
    signals: Signals,
    hook: Option<Helper>,
    /// Alarm senders still running.
    senders: Vec<Helper>,
    /// The running service's stdin, stdout and stderr, kept open until its
    /// exit has been handled (see [`spawn::ServiceFiles`]).
    service_files: Option<spawn::ServiceFiles>,
    /// The status file as the last wake-up left it, not yet written, and
    /// when to write it: after the wake-up's signals and spawns when the pid
    /// changed; up to [`STATUS_COALESCE`] later when only a flag byte did.
    pending_status: Option<(Status, Duration)>,
    /// The pid in the status file as last written.
    written_pid: Option<u32>,
    /// Log lines of this wake-up, written after its work so that logging
    /// never delays a restart or a signal.
    pending_logs: Vec<(Level, Duration, String)>,
    exit: Option<i32>,
}

impl Driver {
    fn run(mut self) -> i32 {
        let now = clock::now();
        let command = self.command_line();
        self.dir.logs.log(
            Level::Notice,
            now.wall,
            &format!("supervise (pid {}) started: {command}", std::process::id()),
        );
        self.apply(now, Input::Start);
        let fds = [self.dir.control.as_raw_fd(), self.signals.raw_fd()];
        loop {
            if self.exit.is_some()
                || self
                    .pending_status
                    .is_some_and(|(_, at)| at <= clock::now().mono)
            {
                self.write_status();
            }
            // Log lines wait with a status write held back (after `d`, say):
            // the service just signalled finds the CPU free to die on, and
            // both are written together, at most STATUS_COALESCE later.
            if self.pending_status.is_none() {
                self.flush_logs();
            }
            if self.supervisor.child_pid().is_none() {
                self.service_files = None;
            }
            if let Some(code) = self.exit {
                // Alarm senders still running (a give-up alarm, say) are
                // waited for, and killed at their timeout, before we go: no
                // sender outlives its supervision.
                if self.senders.is_empty() {
                    return code;
                }
            }
            let timeout = self
                .next_wakeup()
                .map(|at| at.saturating_sub(clock::now().mono));
            if timeout.is_none() {
                // About to sleep until something happens, possibly for
                // months: what the last burst of work left free on the heap
                // goes back to the kernel. (Never on a deadline, so a crash
                // loop does not pay for it.)
                memory::release_free_heap();
            }
            let readable = match poll::wait(&fds, timeout) {
                Ok(readable) => readable,
                Err(e) => {
                    self.log(Level::Fatal, &format!("poll failed: {e}"));
                    self.write_status();
                    self.flush_logs();
                    return EXIT_SETUP;
                }
            };
            let now = clock::now();
            self.dir.logs.recheck();
            // Control first: a `d` or `x` that arrived with the child's death
            // is obeyed before the death is handled, so it is never restarted.
            if readable[0] {
                self.read_control(now);
            }
            for received in self.signals.drain() {
                match received {
                    Received::Child => self.reap(now),
                    Received::Terminate if self.exit.is_some() => self.kill_senders(),
                    Received::Terminate => self.apply(now, Input::Terminate),
                    Received::Hangup => self.log(Level::Notice, "SIGHUP received and ignored"),
                }
            }
            self.on_deadlines(now);
        }
    }

    fn command_line(&self) -> String {
        self.argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn next_wakeup(&self) -> Option<Duration> {
        let helpers = self.hook.iter().chain(&self.senders);
        helpers
            .filter_map(|h| h.kill_at)
            .chain(self.supervisor.next_deadline())
            .chain(self.pending_status.map(|(_, at)| at))
            .min()
    }

    fn log(&mut self, level: Level, message: &str) {
        self.pending_logs
            .push((level, clock::now().wall, message.to_owned()));
    }

    fn write_status(&mut self) {
        let Some((status, _)) = self.pending_status.take() else {
            return;
        };
        self.written_pid = Some(status.pid);
        if let Err(e) = status::write_atomically(&self.dir.path, &status) {
            self.log(
                Level::Warning,
                &format!(
                    "cannot write {}/status: {e} (supervision goes on)",
                    self.dir.path.display()
                ),
            );
        }
    }

    fn flush_logs(&mut self) {
        for (level, wall, message) in self.pending_logs.drain(..) {
            self.dir.logs.log(level, wall, &message);
        }
    }

    fn kill_senders(&mut self) {
        self.senders.iter_mut().for_each(Helper::kill);
    }

    /// Reads every byte waiting in `control` and obeys each known command.
    fn read_control(&mut self, now: Now) {
        if self.exit.is_some() {
            return; // exiting: the bytes are for a supervise to come
        }
        let mut buf = [0u8; 4096];
        let mut unknown = 0usize;
        for _ in 0..MAX_CONTROL_READS {
            let n = match self.dir.control.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break, // WouldBlock: drained
            };
            let known: Vec<u8> = buf[..n]
                .iter()
                .copied()
                .filter(|&b| Command::from_byte(b).is_some())
                .collect();
            unknown += n - known.len();
            if !known.is_empty() {
                self.log(Level::Notice, &describe_commands(&known));
            }
            for command in known.into_iter().filter_map(Command::from_byte) {
                self.apply(now, Input::Control(command));
                if self.exit.is_some() {
                    return;
                }
            }
        }
        if unknown > 0 {
            self.log(
                Level::Warning,
                &format!("ignored {unknown} unknown control byte(s)"),
            );
        }
    }

    /// Reaps every child that has ended and routes each pid.
    fn reap(&mut self, now: Now) {
        let mut service_exit = None;
        let mut hook_done = false;
        while let Some((pid, how)) = reap::reap_one() {
            if Some(pid) == self.supervisor.child_pid() {
                service_exit = Some((pid, how));
                continue;
            }
            let helper = if self.hook.as_ref().is_some_and(|h| h.pid == pid) {
                hook_done = true;
                self.hook.take()
            } else if let Some(at) = self.senders.iter().position(|h| h.pid == pid) {
                Some(self.senders.swap_remove(at))
            } else {
                None // an orphan re-parented to us: reaping it is all
            };
            if let Some(helper) = helper
                && how != crate::supervisor::Exit::Code(0)
            {
                self.log(
                    Level::Warning,
                    &format!("{} failed: {}", helper.name, how.describe()),
                );
            }
        }
        if let Some((pid, how)) = service_exit {
            let group_alive = process::group_alive(pid);
            self.apply(
                now,
                Input::ChildExited {
                    pid,
                    how,
                    group_alive,
                },
            );
        }
        if hook_done {
            self.apply(now, Input::HookFinished);
        }
        if let Some(pgid) = self.supervisor.draining_group()
            && !process::group_alive(pgid)
        {
            self.apply(now, Input::GroupGone);
        }
    }

    fn on_deadlines(&mut self, now: Now) {
        if self
            .supervisor
            .next_deadline()
            .is_some_and(|t| now.mono >= t)
        {
            self.apply(now, Input::Deadline);
        }
        // Overdue helpers are killed; they are reaped like any child, and
        // the reap of the hook reports HookFinished.
        let mut overdue = Vec::new();
        for helper in self.hook.iter_mut().chain(self.senders.iter_mut()) {
            if helper.kill_at.is_some_and(|t| now.mono >= t) {
                helper.kill();
                overdue.push(helper.name.clone());
            }
        }
        for name in overdue {
            self.log(
                Level::Warning,
                &format!("{name} did not finish in time: killed"),
            );
        }
    }

    /// Feeds `input` and carries out the effects, feeding back the outcomes.
    /// Once the supervisor has exited, nothing is fed any more.
    fn apply(&mut self, now: Now, input: Input) {
        if self.exit.is_some() {
            return;
        }
        let mut inputs = VecDeque::from([input]);
        while let Some(input) = inputs.pop_front() {
            for effect in self.supervisor.handle(now, input) {
                if let Some(next) = self.carry_out(now, effect) {
                    inputs.push_back(next);
                }
            }
        }
    }

    fn carry_out(&mut self, now: Now, effect: Effect) -> Option<Input> {
        match effect {
            Effect::Spawn => Some(match spawn::service(&self.argv, &self.dir.path) {
                Ok((pid, files)) => {
                    self.service_files = Some(files);
                    Input::Spawned { pid }
                }
                Err(e) => Input::SpawnFailed {
                    reason: format!("{}: {e}", self.command_line()),
                },
            }),
            Effect::Signal { signal, target } => {
                if let Err(e) = process::signal(target, signal) {
                    self.log(
                        Level::Warning,
                        &format!("cannot send signal {signal} to {target:?}: {e}"),
                    );
                }
                None
            }
            Effect::WriteStatus(status) => {
                let due = if self.written_pid == Some(status.pid) {
                    // Only a flag changed (`d` while the child still runs,
                    // `s`, `p`...): the child's exit, usually a moment away,
                    // will need a write anyway; one rename serves both.
                    let later = now.mono + STATUS_COALESCE;
                    self.pending_status.map_or(later, |(_, at)| at.min(later))
                } else {
                    now.mono
                };
                self.pending_status = Some((status, due));
                None
            }
            Effect::Log(level, message) => {
                self.pending_logs.push((level, now.wall, message));
                None
            }
            Effect::Alarm(alarm) => {
                self.send_alarm(now, &alarm);
                None
            }
            Effect::RunRestartHook { count } => self.run_hook(now, count),
            Effect::ReloadConf => self.reload_conf(),
            Effect::Exit(code) => {
                self.exit = Some(code);
                if !self.senders.is_empty() {
                    self.log(
                        Level::Notice,
                        &format!(
                            "waiting for {} alarm sender(s) to finish before exiting",
                            self.senders.len()
                        ),
                    );
                }
                None
            }
        }
    }

    fn reload_conf(&mut self) -> Option<Input> {
        let Some(path) = self.conf_path.clone() else {
            self.log(Level::Notice, "r ignored: with -r no config file is read");
            return None;
        };
        match read_conf(&path, &self.name) {
            Ok(resolved) => {
                for line in resolved.warnings_text(&path) {
                    self.log(Level::Warning, &line);
                }
                let input = Input::Reloaded(Some(Box::new(resolved.conf)));
                memory::release_free_heap();
                Some(input)
            }
            Err(_) => Some(Input::Reloaded(None)),
        }
    }

    /// Starts every configured sender of an alarm in the background; they
    /// are reaped (and killed at `alarm_timeout`) by the event loop.
    fn send_alarm(&mut self, now: Now, alarm: &Alarm) {
        let facts = AlarmFacts {
            service: self.name.clone(),
            host: self.host.clone(),
            event: alarm.event,
            how: alarm.how,
            run_time: alarm.run_time,
            restarts_in_window: alarm.restarts_in_window,
            when_local: localtime::format(now.wall),
            stderr_tail: logfile::tail(&self.dir.path.join("__stderr"), STDERR_TAIL_BYTES, 20),
        };
        let message = crate::alarm::message(&facts);
        let timeout = self.supervisor.conf().alarm_timeout;
        for run in crate::alarm::invocations(&facts, self.supervisor.conf()) {
            let what = format!("alarm sender {}", run.program);
            let args: Vec<OsString> = run.args.iter().map(OsString::from).collect();
            match spawn::helper(OsStr::new(&run.program), &args, &run.env, None) {
                Ok((pid, stdin)) => {
                    if let Some(stdin) = stdin {
                        spawn::feed(stdin, &run.stdin);
                    }
                    let line = run
                        .mail_sent
                        .unwrap_or_else(|| format!("{what} started (pid {pid}): {message}"));
                    self.log(Level::Notice, &line);
                    self.senders.push(Helper {
                        pid,
                        kill_at: Some(now.mono + timeout),
                        name: what,
                    });
                }
                Err(e) => self.log(Level::Warning, &format!("{what} could not be run: {e}")),
            }
        }
    }

    fn run_hook(&mut self, now: Now, count: u32) -> Option<Input> {
        let program = self.hook_program.clone()?;
        let name = format!("restart_cmd: {} {count}", program.display());
        let output = self.dir.path.join("__stderr");
        match spawn::helper(
            program.as_os_str(),
            &[OsString::from(count.to_string())],
            &[],
            Some(&output),
        ) {
            Ok((pid, _stdin)) => {
                self.log(Level::Notice, &format!("{name} is called."));
                self.hook = Some(Helper {
                    pid,
                    kill_at: Some(now.mono + self.supervisor.conf().hook_timeout),
                    name,
                });
                None
            }
            Err(e) => {
                self.log(Level::Warning, &format!("{name} could not be run: {e}"));
                Some(Input::HookFinished)
            }
        }
    }
}

/// `control: received d x` with at most 64 commands shown.
fn describe_commands(commands: &[u8]) -> String {
    let shown: Vec<String> = commands
        .iter()
        .take(64)
        .map(|&b| (b as char).to_string())
        .collect();
    let more = commands.len().saturating_sub(64);
    let tail = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    format!("control: received {}{tail}", shown.join(" "))
}

/// Reads and resolves the config file for service `name`.
pub fn read_conf(path: &Path, name: &str) -> io::Result<conf::Resolved> {
    let text = std::fs::read(path)?;
    Ok(conf::resolve(&text, name))
}
