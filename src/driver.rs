//! The event loop: a single thread that waits (poll) on the control FIFO, the
//! signalfd and the next deadline, turns what woke it into supervisor inputs,
//! and carries out the effects the supervisor returns. It decides nothing.
//! While the service simply runs there is no deadline, so supervise sleeps
//! in poll with no timeout: no periodic wake-up.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alarm::AlarmFacts;
use crate::cli::Options;
use crate::conf;
use crate::conf::Conf;
use crate::control::Command;
use crate::history::{self, History, Step};
use crate::info::Info;
use crate::status;
use crate::statusdir::{self, Leftover, StatusDir};
use crate::supervisor::{Alarm, Effect, Input, Level, Now, RestartHook, Supervisor, loaded};
use crate::sys::history as history_file;
use crate::sys::lock::{self, Record};
use crate::sys::logfile::{self, Log};
use crate::sys::logpipe::{self, Stream};
use crate::sys::notify_socket::Listener;
use crate::sys::process::GroupWatch;
use crate::sys::readypipe::{self, Heard};
use crate::sys::signals::Signals;
use crate::sys::{clock, detach, localtime, memory, poll, process, reap, spawn, user};
use crate::writes::{Backlog, Replace, StatusWrites};

/// Exit code when the status directory cannot be set up.
pub const EXIT_SETUP: i32 = 111;

/// How much of the end of `__stderr` an alarm mail quotes.
const STDERR_TAIL_BYTES: u64 = 4096;

/// At most this many control reads per wake-up, so a writer flooding the
/// FIFO cannot starve signal handling.
const MAX_CONTROL_READS: usize = 64;

/// How much of `control` one read takes (a command is a byte or a few).
const CONTROL_SLICE: usize = 512;

/// The open-file limit supervise needs: 3 for stdio; lock, control (read
/// and write ends), ok, the signalfd and the two logs (7); the service's
/// stdin, stdout and stderr, held while it runs (3); the read end of its
/// `notification_fd` pipe until it is ready, and the write end while it is
/// started (2); the `NOTIFY_SOCKET` and a `ready_check`'s pipe (2); at most 6 more at one
/// moment (starting an alarm sender or the restart hook takes a pipe for
/// its stdin, one for exec errors, and its output files; writing the status
/// file, reading the config or /proc takes one or two); pidfds watching a
/// group that is being stopped ([`GroupWatch::MAX`], 4). That is 28; with
/// the two log pipes, when the output-log keys ask for them (4), 32: the
/// limit. Below it supervise refuses to start, so that it never
/// runs with a service it cannot fully supervise.
pub const DESCRIPTORS_NEEDED: u64 = 32;

/// The largest config file read: reading must never stall supervise.
const MAX_CONF_BYTES: u64 = 16 << 20;

/// How soon a group being stopped is looked at again when no pidfd can
/// watch it (kernels before 5.3).
const BLIND_RECHECK: Duration = Duration::from_millis(50);

/// The longest command line quoted in a log line.
const MAX_COMMAND_SHOWN: usize = 1024;

/// Sets up the status directory, reports what a user can fix on stderr,
/// detaches (unless in the foreground) and supervises until told to exit.
/// Returns the process exit code.
pub fn start(options: Options) -> i32 {
    // First, before anything of ours is open. A supervise in the
    // foreground belongs to its caller (systemd, the scanner), which may
    // mean what it passes: those are only kept from the service.
    let verdict = if options.foreground {
        detach::cloexec_inherited();
        None
    } else {
        detach::close_inherited();
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
/// Not inlined into the loop's frame: its temporaries would be stack pages
/// kept for the life of supervise.
#[inline(never)]
fn set_up(options: Options) -> Result<Box<Driver>, i32> {
    let fail = |message: &str| {
        eprintln!("supervise: {message}");
        EXIT_SETUP
    };
    match process::open_file_limit() {
        Ok(limit) if limit < DESCRIPTORS_NEEDED => {
            return Err(fail(&format!(
                "the open-file limit (RLIMIT_NOFILE, ulimit -n) is {limit}; supervise needs at least {DESCRIPTORS_NEEDED}"
            )));
        }
        _ => {}
    }
    let max_log_bytes = std::env::var("SUPERVISE_LOG_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(logfile::DEFAULT_MAX_BYTES);
    // Before the status directory: an unknown user starts nothing.
    let identity = match &options.user {
        None => None,
        Some(who) => Some(
            user::resolve(who, &options.groups).map_err(|e| fail(&format!("user {who}: {e}")))?,
        ),
    };
    let opened = statusdir::open(&options.dir, max_log_bytes).map_err(|e| fail(&e.to_string()))?;
    let mut early = Vec::new();
    // A warning for the terminal (set-up comes before detaching) and the log.
    let warn = |early: &mut Vec<Effect>, line: String| {
        eprintln!("supervise: {line}");
        early.push(Effect::Log(Level::Warning, line));
    };
    for line in &opened.warnings {
        warn(&mut early, line.clone());
    }
    let conf_path = options.restart_hook.is_none().then(|| options.conf.clone());
    let conf = match &conf_path {
        // SPEC §1: with -r the config file is not read.
        None => Conf::unread(),
        Some(path) => match read_conf(path, &options.name) {
            Ok(resolved) => {
                for line in resolved.warnings_text(path) {
                    warn(&mut early, line);
                }
                early.extend(loaded(&resolved.conf));
                resolved.conf
            }
            // SPEC §9: as the original, a config file that cannot be read
            // leaves the previous values, which at start are no alarms and
            // no limits; it does not stop supervise.
            Err(e) => {
                early.push(Effect::Log(
                    Level::Warning,
                    "Cannot open config file. Old configurations unchanged.".to_owned(),
                ));
                warn(
                    &mut early,
                    format!(
                        "cannot read config file {}: {e}; running with no alarms and no restart limits",
                        path.display()
                    ),
                );
                Conf::unread()
            }
        },
    };
    let leftover = statusdir::find_leftover(&options.dir, opened.previous.as_ref());
    if let Some(Leftover { pgid, .. }) = leftover {
        eprintln!(
            "supervise: pid {pgid} (process group {pgid}) of a previous supervise of this directory is still running; it is stopped before the service starts"
        );
    }
    let mut dir = opened.dir;
    let signals = Signals::open_all().map_err(|e| {
        let message = format!("cannot set up signal handling: {e}");
        dir.logs.log(Level::Fatal, clock::now().wall, &message);
        fail(&message)
    })?;
    if let Err(e) = process::become_subreaper() {
        early.push(Effect::Log(
            Level::Warning,
            format!(
                "cannot become a subreaper (orphans of the service will not be reaped here): {e}"
            ),
        ));
    }
    let hook = options.restart_hook.as_ref().map(|_| RestartHook {
        reset_after: options.reset_after,
    });
    let shown = dir.path.display().to_string();
    // Boxed: moved about by pointer, not copied between stack frames.
    Ok(Box::new(Driver {
        supervisor: Supervisor::new(&options.name, conf, hook).starting(options.start),
        identity,
        name: options.name,
        host: process::hostname(),
        command: command_line(&options.argv),
        argv: options.argv,
        conf_path,
        hook_program: options.restart_hook,
        signals,
        hook: None,
        senders: Vec::new(),
        service_files: None,
        status: StatusWrites::new(format!("{shown}/status")),
        info: Replace::new(format!("{shown}/info")),
        info_last: None,
        ready_pipe: None,
        check: None,
        check_error: None,
        notify: None,
        record: Replace::new(format!("the record in {shown}/lock")),
        history: History::new(format!("{shown}/history")),
        log_pipes: None,
        events: crate::events::Queue::default(),
        event_pid: None,
        recorded: None,
        logs: [
            Backlog::new(format!("{shown}/supervise.log")),
            Backlog::new(format!("{shown}/supervise.log.wf")),
        ],
        watch: None,
        blind_recheck_at: None,
        repair: Replace::new(format!("{shown}/lock, control and ok")),
        leftover,
        early,
        exit: None,
        dir,
    }))
}

/// The command line for log lines, cut at [`MAX_COMMAND_SHOWN`] bytes.
fn command_line(argv: &[OsString]) -> String {
    let mut line = argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    if line.len() > MAX_COMMAND_SHOWN {
        let total = line.len();
        let mut cut = MAX_COMMAND_SHOWN;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push_str(&format!("... ({total} bytes)"));
    }
    line
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
        let _ = process::signal(crate::supervisor::Target::Group(self.pid), libc::SIGKILL);
    }
}

struct Driver {
    dir: StatusDir,
    name: String,
    host: String,
    argv: Vec<OsString>,
    /// `--user`: who the service runs as (resolved once, at set-up).
    identity: Option<user::Identity>,
    /// The command line as shown in log lines.
    command: String,
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
    /// The status file: what to write, when, and its retries.
    status: StatusWrites,
    /// `info` (docs/status-files.md): what to write and its retries.
    info: Replace<Info>,
    /// The `info` last handed over, for a repair to write again.
    info_last: Option<Info>,
    /// The read end of the running service's `notification_fd` pipe,
    /// until it said it is ready (or closed it).
    ready_pipe: Option<std::fs::File>,
    /// The service's `NOTIFY_SOCKET` (`notify : systemd`), made at its
    /// first start and kept for every run.
    notify: Option<Listener>,
    /// The running `ready_check`, killed at `ready_check_timeout`.
    check: Option<Helper>,
    /// The last reason a `ready_check` could not be run (said once).
    check_error: Option<String>,
    /// The record in the lock file: what to write and its retries.
    record: Replace<Record>,
    /// The exits for `history` not yet appended.
    history: History,
    /// The service's stdout and stderr pipes, once the output-log keys
    /// asked for them: made at the first spawn, kept across restarts.
    log_pipes: Option<[Stream; 2]>,
    /// Events waiting for `event_command`.
    events: crate::events::Queue,
    /// The `event_command` run under way (also among the senders).
    event_pid: Option<u32>,
    /// The group the record names (as last set).
    recorded: Option<(u32, Duration)>,
    /// Lines for supervise.log and supervise.log.wf not yet written.
    logs: [Backlog; 2],
    /// The group being stopped, watched through pidfds.
    watch: Option<GroupWatch>,
    /// When to look at that group again if nothing can watch it.
    blind_recheck_at: Option<Duration>,
    /// A repair of the directory to make (see `StatusDir::repair`): looked
    /// for at every wake-up, never by a watch of its own (see
    /// [`Driver::look_at_dir`]).
    repair: Replace<()>,
    /// A group a previous supervise left running, stopped before starting.
    leftover: Option<Leftover>,
    /// What set-up had to say, logged once the loop starts.
    early: Vec<Effect>,
    exit: Option<i32>,
}

impl Driver {
    #[inline(never)] // a frame of its own, apart from set-up's
    fn run(mut self: Box<Self>) -> i32 {
        let now = clock::now();
        let started = format!(
            "supervise (pid {}) started: {}",
            std::process::id(),
            self.command
        );
        self.log(Level::Notice, &started);
        for effect in std::mem::take(&mut self.early) {
            self.carry_out(now, effect);
        }
        self.record.set(self.dir.record(None), now.mono);
        self.dir
            .logs
            .set_rotation(log_rotation(self.supervisor.conf()));
        if let Some(Leftover { pgid, since }) = self.leftover.take() {
            self.apply(now, Input::LeftoverGroup { pgid, since });
        }
        // In a directory without `info`, one before the first start: else
        // a reader that sees the new pid in `status` before its `info`
        // would take the service for ready (no `info` means an older
        // supervise, whose running services count as ready). It names no
        // pid. (An `info` left by an earlier supervise names another pid
        // and supervise: readers do not believe it.)
        if !self.dir.path.join("info").exists() {
            let mut first = self.supervisor.info(now);
            first.supervise_pid = std::process::id();
            self.info.set(first, now.mono);
            self.write_due(now);
        }
        self.apply(now, Input::Start);
        self.check_group(now, false);
        loop {
            self.write_due(clock::now());
            if self.supervisor.child_pid().is_none() {
                self.service_files = None;
                self.ready_pipe = None;
            }
            if let Some(code) = self.exit {
                // Alarm senders still running (a give-up alarm, say) are
                // waited for, and killed at their timeout, before we go: no
                // sender outlives its supervision.
                if self.senders.is_empty() {
                    // The output the service left in the pipes, and what
                    // that had to say.
                    self.pump_logs(clock::now(), true);
                    self.write_due(clock::now());
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
            let mut fds = vec![self.dir.control.as_raw_fd(), self.signals.raw_fd()];
            // The pipe polled now (a restart below may replace it: a
            // look at a fresh pipe finds nothing, which is harmless).
            let ready_at = self.ready_pipe.is_some().then_some(fds.len());
            fds.extend(self.ready_pipe.as_ref().map(AsRawFd::as_raw_fd));
            let notify_at = self.notify.is_some().then_some(fds.len());
            fds.extend(self.notify.as_ref().map(Listener::raw_fd));
            let pipes_from = fds.len();
            fds.extend(self.log_pipes.iter().flatten().map(Stream::raw_fd));
            let watches_from = fds.len();
            fds.extend(self.watch.iter().flat_map(GroupWatch::fds));
            let readable = match poll::wait(&fds, timeout) {
                Ok(readable) => readable,
                Err(e) => {
                    self.log(Level::Fatal, &format!("poll failed: {e}"));
                    self.exit = Some(EXIT_SETUP);
                    self.write_due(clock::now());
                    return EXIT_SETUP;
                }
            };
            let now = clock::now();
            self.dir.logs.recheck();
            // The service's output first: an alarm for its exit, below,
            // quotes the end of `__stderr`.
            if readable[pipes_from..watches_from].contains(&true) {
                self.pump_logs(now, false);
            }
            // Control first: a `d` or `x` that arrived with the child's death
            // is obeyed before the death is handled, so it is never restarted.
            if readable[0] {
                self.read_control(now);
            }
            for signal in self.signals.numbers() {
                match signal {
                    libc::SIGCHLD => self.reap(now),
                    // Exiting, waiting for alarm senders: a second TERM
                    // kills them.
                    libc::SIGTERM | libc::SIGINT if self.exit.is_some() => self.kill_senders(),
                    _ => self.apply(now, Input::Signal(signal)),
                }
            }
            if ready_at.is_some_and(|at| readable[at]) {
                self.read_ready_pipe(now);
            }
            if notify_at.is_some_and(|at| readable[at]) {
                self.read_notify(now);
            }
            self.look_at_dir(now);
            self.on_deadlines(now);
            let woken = readable[watches_from..].contains(&true)
                || self.blind_recheck_at.is_some_and(|t| now.mono >= t);
            self.check_group(now, woken);
        }
    }

    /// Has the status directory looked at (and repaired if need be) before
    /// this wake-up's writes. Every wake-up does it (a control byte, a
    /// signal, the service's exit, a deadline, a write being retried), for a
    /// few `stat` calls; nothing wakes supervise for it. An inotify watch
    /// would notice at once, but costs an inotify instance per supervise,
    /// and a user has only `fs.inotify.max_user_instances` (128) of them:
    /// the scanner of a few hundred services would find none left.
    fn look_at_dir(&mut self, now: Now) {
        self.repair.set((), now.mono);
    }

    /// Repairs the status directory when one of its files was removed or
    /// replaced (retried with back-off while it cannot be), then rewrites
    /// what a repair may have lost: the record and the status file.
    fn repair_due(&mut self, now: Now) {
        if self.repair.due(now.mono, false).is_none() {
            return;
        }
        let result = self.dir.repair();
        if let Ok(done) = &result {
            for line in done {
                self.log(Level::Warning, line);
            }
            if !done.is_empty() {
                let group = self
                    .recorded
                    .map(|(pgid, since)| lock::Group { pgid, since });
                self.record.set(self.dir.record(group), now.mono);
                self.status.change(now.mono, self.supervisor.status());
                if let Some(info) = self.info_last.clone() {
                    self.info.set(info, now.mono);
                }
            }
        }
        let result = result.map(drop).map_err(|e| e.to_string());
        if let Some((level, line)) = self.repair.outcome(now.mono, result) {
            self.log(level, &line);
        }
    }

    fn next_wakeup(&self) -> Option<Duration> {
        let helpers = self.hook.iter().chain(&self.senders).chain(&self.check);
        helpers
            .filter_map(|h| h.kill_at)
            .chain(self.supervisor.next_deadline())
            .chain(self.status.deadline())
            .chain(self.status.after_held_back(self.info.deadline()))
            .chain(self.record.deadline())
            .chain(self.history.deadline())
            .chain(self.repair.deadline())
            .chain(self.logs.iter().filter_map(Backlog::deadline))
            .chain(self.blind_recheck_at)
            .min()
    }

    fn log(&mut self, level: Level, message: &str) {
        self.log_at(level, clock::now().wall, message);
    }

    fn log_at(&mut self, level: Level, wall: Duration, message: &str) {
        let line = logfile::format_line(level, &localtime::format(wall), message);
        self.logs[Log::of(level) as usize].push(line.into_bytes());
    }

    /// Writes what is due: the lock's record (what a supervise started
    /// after us relies on), the status file, then the log lines. Each is
    /// retried after a failure (see [`crate::writes`]); when exiting, each
    /// gets one last attempt.
    fn write_due(&mut self, now: Now) {
        let force = self.exit.is_some();
        if !force {
            self.repair_due(now);
        }
        self.write_record(now, force);
        if let Some(status) = self.status.due(now.mono, force) {
            let result =
                status::write_atomically(&self.dir.path, &status).map_err(|e| e.to_string());
            if let Some((level, line)) = self.status.outcome(now.mono, status, result) {
                self.log(level, &line);
            }
        }
        // `info` goes with the status write: held back with it, written
        // after it (readers compare the pids of both: an `info` about
        // another pid tells nothing yet; see `run` for the first one).
        if (force || !self.status.holding_back(now.mono))
            && let Some(info) = self.info.due(now.mono, force)
        {
            let result = status::replace_file(&self.dir.path, "info", info.render().as_bytes())
                .map_err(|e| e.to_string());
            if let Some((level, line)) = self.info.outcome(now.mono, result) {
                self.log(level, &line);
            }
        }
        self.write_history(now, force);
        // Log lines wait with a status write held back (after `d`, say):
        // the service just signalled finds the CPU free to die on, and both
        // are written together, at most STATUS_COALESCE later.
        if force || !self.status.holding_back(now.mono) {
            self.flush_logs(now.mono, force);
        }
    }

    /// Appends the exits waiting for `history`, counting the file first
    /// and compacting it when it is due (see [`crate::history`]).
    fn write_history(&mut self, now: Now, force: bool) {
        let size = self.supervisor.conf().history_size;
        let dir = self.dir.path.clone();
        let tail = || history_file::read_tail(&dir, History::read_bytes(size));
        loop {
            let done = match self.history.step(now.mono, force, size) {
                Step::Idle => return,
                Step::Count => tail().map(|tail| {
                    let (text, whole) = tail.unzip();
                    self.history
                        .counted(text.as_deref(), whole.unwrap_or(true), size);
                    None
                }),
                Step::Append(line) => {
                    history_file::append(&dir, line).map(|()| self.history.appended())
                }
                Step::Compact { keep } => tail()
                    .and_then(|tail| {
                        let (text, whole) = tail.unwrap_or((Vec::new(), true));
                        let (text, kept) = history::compact(&text, whole, keep);
                        history_file::replace(&dir, &text).map(|()| kept)
                    })
                    .map(|kept| self.history.compacted(kept)),
            };
            let (report, stop) = match done {
                Ok(report) => (report, false),
                Err(e) => (self.history.failed(now.mono, &e.to_string()), true),
            };
            if let Some((level, line)) = report {
                self.log(level, &line);
            }
            if stop {
                return;
            }
        }
    }

    fn flush_logs(&mut self, now: Duration, force: bool) {
        for log in [Log::Notice, Log::Warning] {
            let backlog = &mut self.logs[log as usize];
            if !backlog.ready(now, force) {
                continue;
            }
            let mut report = None;
            while let Some(bytes) = backlog.front() {
                match self.dir.logs.write(log, bytes) {
                    Ok(n) => backlog.wrote(n),
                    Err(e) => {
                        report = backlog.failed(now, &e.to_string());
                        break;
                    }
                }
            }
            if backlog.is_empty() {
                report = report.or_else(|| backlog.drained());
            }
            // Into supervise.log.wf, which the second round writes (or keeps).
            if let Some((level, line)) = report {
                self.log(level, &line);
            }
        }
    }

    fn kill_senders(&mut self) {
        self.senders.iter_mut().for_each(Helper::kill);
    }

    /// The record in the lock file names the group supervise answers for.
    /// It is written at once (one `pwrite`, after the spawn, so the restart
    /// does not wait for it): if supervise is killed a moment after starting
    /// a service, the next supervise must still find that service.
    fn sync_record(&mut self, now: Now) {
        let group = self.supervisor.live_group();
        if group != self.recorded {
            self.recorded = group;
            let group = group.map(|(pgid, since)| lock::Group { pgid, since });
            self.record.set(self.dir.record(group), now.mono);
            self.write_record(now, false);
        }
    }

    fn write_record(&mut self, now: Now, force: bool) {
        if let Some(record) = self.record.due(now.mono, force) {
            let result = self.dir.write_record(&record).map_err(|e| e.to_string());
            if let Some((level, line)) = self.record.outcome(now.mono, result) {
                self.log(level, &line);
            }
        }
    }

    /// A group being stopped (the service's, whose leader has exited, or
    /// one a previous supervise left) is reported gone once no live member
    /// is left. Its members need not be our children: they are watched
    /// through pidfds, and looked at again when one of them ends (`woken`).
    fn check_group(&mut self, now: Now, woken: bool) {
        let Some(pgid) = self.supervisor.draining_group() else {
            self.watch = None;
            self.blind_recheck_at = None;
            return;
        };
        if !process::group_alive(pgid) {
            // A group of zombies is gone. Ours are reaped here, after that
            // check and before the restart: a member seen a zombie is one
            // now, and no pid of the old group outlives the restart (its
            // SIGCHLD may not be queued yet; a reap before the check missed
            // a member still exiting).
            self.reap(now);
            if self.supervisor.draining_group() != Some(pgid) {
                return self.check_group(now, woken);
            }
            self.watch = None;
            self.blind_recheck_at = None;
            self.apply(now, Input::GroupGone);
            return;
        }
        if woken || self.watch.as_ref().map(GroupWatch::pgid) != Some(pgid) {
            let watch = GroupWatch::new(pgid);
            self.blind_recheck_at = watch.blind().then_some(now.mono + BLIND_RECHECK);
            self.watch = Some(watch);
        }
    }

    /// Reads every byte waiting in `control` and obeys each known command.
    /// Not inlined, and its buffer small: every stack page it touches (with
    /// a start below it, on `u`) stays private memory for good.
    #[inline(never)]
    fn read_control(&mut self, now: Now) {
        if self.exit.is_some() {
            return; // exiting: the bytes are for a supervise to come
        }
        let mut buf = [0u8; CONTROL_SLICE];
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
        let mut event_done = false;
        let mut check_done = None;
        while let Some((pid, how)) = reap::reap_one() {
            if Some(pid) == self.supervisor.child_pid() {
                service_exit = Some((pid, how));
                continue;
            }
            if self.check.as_ref().is_some_and(|c| c.pid == pid) {
                // A failed check is no warning: it is how a service that is
                // not ready yet answers.
                self.check = None;
                check_done = Some(how == crate::supervisor::Exit::Code(0));
                continue;
            }
            let helper = if self.hook.as_ref().is_some_and(|h| h.pid == pid) {
                hook_done = true;
                self.hook.take()
            } else if let Some(at) = self.senders.iter().position(|h| h.pid == pid) {
                if self.event_pid == Some(pid) {
                    self.event_pid = None;
                    event_done = true;
                }
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
        if let Some(ok) = check_done {
            self.apply(now, Input::CheckFinished { ok });
        }
        if event_done {
            let next = self.events.finished();
            self.run_event(now, next);
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
        // A check that overstays is killed: reaped, it is a failed check.
        if let Some(check) = &mut self.check
            && check.kill_at.is_some_and(|t| now.mono >= t)
        {
            check.kill();
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
        self.sync_record(now);
    }

    fn carry_out(&mut self, now: Now, effect: Effect) -> Option<Input> {
        match effect {
            Effect::Spawn => Some(self.spawn_service()),
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
                self.status.change(now.mono, status);
                None
            }
            Effect::WriteInfo(info) => {
                let info = Info {
                    supervise_pid: std::process::id(),
                    ..*info
                };
                self.info_last = Some(info.clone());
                self.info.set(info, now.mono);
                None
            }
            Effect::Log(level, message) => {
                self.log_at(level, now.wall, &message);
                None
            }
            Effect::LogBare(line) => {
                self.logs[Log::Notice as usize].push(logfile::format_bare(&line).into_bytes());
                None
            }
            Effect::Alarm(alarm) => {
                self.send_alarm(now, &alarm);
                None
            }
            Effect::RunRestartHook { count } => self.run_hook(now, count),
            Effect::KillHook => {
                if let Some(hook) = &mut self.hook {
                    hook.kill();
                }
                None
            }
            Effect::ReloadConf => self.reload_conf(),
            Effect::Event(event) => {
                let now_run = self.events.push(event);
                self.run_event(now, now_run);
                None
            }
            Effect::RecordExit(exited) => {
                self.history
                    .record(&exited, self.supervisor.conf().history_size);
                None
            }
            Effect::RunCheck { pid, kind } => self.run_check(now, pid, kind),
            Effect::KillCheck => {
                // Reaped later as any orphan is: nothing is reported.
                if let Some(mut check) = self.check.take() {
                    check.kill();
                }
                None
            }
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

    /// Starts the service, with the write end of a fresh readiness pipe as
    /// its `notification_fd` when it declares one (supervise keeps the
    /// read end; its own copy of the write end is closed once the service
    /// has it, so that the service closing it is seen).
    fn spawn_service(&mut self) -> Input {
        self.ready_pipe = None;
        let fd = self
            .supervisor
            .conf()
            .ready
            .notification_fd
            .map(|n| n as i32);
        let pipe = match fd.map(readypipe::open).transpose() {
            Ok(pipe) => pipe,
            Err(e) => {
                return Input::SpawnFailed {
                    reason: format!(
                        "{}: cannot make the notification_fd pipe: {e}",
                        self.command
                    ),
                };
            }
        };
        let extra = pipe
            .as_ref()
            .zip(fd)
            .map(|((_, write), n)| (write.as_raw_fd(), n));
        let mut env = Vec::new();
        let settings = &self.supervisor.conf().ready;
        if settings.notify {
            if self.notify.is_none() {
                match Listener::bind() {
                    Ok(listener) => self.notify = Some(listener),
                    Err(e) => {
                        return Input::SpawnFailed {
                            reason: format!("{}: cannot make its NOTIFY_SOCKET: {e}", self.command),
                        };
                    }
                }
            }
            if let Some(listener) = &self.notify {
                env.push((OsString::from("NOTIFY_SOCKET"), listener.address().clone()));
            }
            if let Some(watchdog) = settings.watchdog {
                let usec = watchdog.as_micros().to_string();
                env.push((OsString::from("WATCHDOG_USEC"), OsString::from(usec)));
            }
        }
        if self.supervisor.conf().log_pipe() && self.log_pipes.is_none() {
            let made = Stream::new(&self.dir.path, "__stdout")
                .and_then(|out| Ok([out, Stream::new(&self.dir.path, "__stderr")?]));
            match made {
                Ok(pipes) => self.log_pipes = Some(pipes),
                Err(e) => self.log(
                    Level::Warning,
                    &format!("cannot make the log pipes (output goes to the files directly): {e}"),
                ),
            }
        }
        let pipes = self
            .log_pipes
            .as_ref()
            .filter(|_| self.supervisor.conf().log_pipe())
            .map(|[out, err]| [out.writer(), err.writer()]);
        match spawn::service_with(
            &self.argv,
            &self.dir.path,
            pipes,
            extra,
            env,
            self.identity.as_ref(),
        ) {
            Ok((pid, files)) => {
                self.service_files = Some(files);
                self.ready_pipe = pipe.map(|(read, _write)| read);
                Input::Spawned { pid }
            }
            Err(e) => Input::SpawnFailed {
                reason: format!("{}: {e}", self.command),
            },
        }
    }

    /// Datagrams on the service's `NOTIFY_SOCKET`: each is heard only
    /// from the service or a member of its process group (the kernel says
    /// who sent it); what it says is the supervisor's to judge.
    fn read_notify(&mut self, now: Now) {
        let Some(listener) = &self.notify else {
            return;
        };
        let datagrams = listener.receive();
        for datagram in datagrams {
            let Some(child) = self.supervisor.child_pid() else {
                continue; // nothing runs: nobody to hear
            };
            let in_group =
                |pid: u32| pid == child || process::info(pid).is_some_and(|i| i.pgid == child);
            let mut notices = crate::ready::parse_notify(&datagram.text);
            for notice in &mut notices {
                if let crate::ready::Notice::MainPid { pid, in_group: is } = notice {
                    *is = in_group(*pid);
                }
            }
            let from_service = datagram.pid != 0 && in_group(datagram.pid);
            self.apply(
                now,
                Input::Notified {
                    sender: datagram.pid,
                    from_service,
                    notices,
                },
            );
        }
    }

    /// The service wrote on its `notification_fd`: a newline is ready.
    fn read_ready_pipe(&mut self, now: Now) {
        let Some(pipe) = &mut self.ready_pipe else {
            return;
        };
        let heard = readypipe::read(pipe);
        if heard == Heard::Nothing {
            return;
        }
        self.ready_pipe = None;
        if heard == Heard::Ready
            && let Some(pid) = self.supervisor.child_pid()
        {
            self.apply(now, Input::Ready { pid });
        }
    }

    /// Moves what the service wrote from the log pipes to the files.
    fn pump_logs(&mut self, now: Now, last: bool) {
        let conf = self.supervisor.conf();
        let settings = logpipe::Settings {
            timestamps: conf
                .log_timestamps
                .unwrap_or(crate::logpipe::Timestamps::Off),
            max_bytes: conf.log_max_bytes,
            keep: conf.log_keep.unwrap_or(crate::logpipe::DEFAULT_KEEP),
        };
        let mut said = Vec::new();
        for stream in self.log_pipes.iter_mut().flatten() {
            said.extend(stream.pump(now.wall, settings, last));
        }
        for line in said {
            self.log(Level::Warning, &line);
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
                self.dir.logs.set_rotation(log_rotation(&resolved.conf));
                let input = Input::Reloaded(Some(Box::new(resolved.conf)));
                memory::release_free_heap();
                Some(input)
            }
            Err(e) => {
                self.log(
                    Level::Warning,
                    &format!("cannot read config file {}: {e}", path.display()),
                );
                Some(Input::Reloaded(None))
            }
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

    /// Starts the `ready_check` (no shell; its own process group; output
    /// appended to `__stderr`), killed at `ready_check_timeout`.
    fn run_check(&mut self, now: Now, pid: u32, kind: crate::ready::CheckKind) -> Option<Input> {
        let settings = &self.supervisor.conf().ready;
        let Some((check, _, timeout)) = settings.check(kind) else {
            return Some(Input::CheckFinished { ok: false });
        };
        let check = check.clone();
        let what = match kind {
            crate::ready::CheckKind::Ready => "ready_check",
            crate::ready::CheckKind::Health => "health_check",
        };
        let (program, args) = check.words.split_first()?;
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let env = [
            ("SUPERVISE_SERVICE".to_owned(), self.name.clone()),
            ("SUPERVISE_PID".to_owned(), pid.to_string()),
        ];
        let output = self.dir.path.join("__stderr");
        match spawn::helper(OsStr::new(program), &args, &env, Some(&output)) {
            Ok((pid, _stdin)) => {
                self.check_error = None;
                self.check = Some(Helper {
                    pid,
                    kill_at: Some(now.mono + timeout),
                    name: format!("{what} {}", check.text),
                });
                None
            }
            Err(e) => {
                let error = e.to_string();
                if self.check_error.as_deref() != Some(error.as_str()) {
                    let line = format!("{what} {} could not be run: {error}", check.text);
                    self.log(Level::Warning, &line);
                    self.check_error = Some(error);
                }
                Some(Input::CheckFinished { ok: false })
            }
        }
    }

    /// Starts `event_command` for `next` (an event and the count dropped
    /// before it), if there is one; one that cannot start passes the turn
    /// to the next event.
    fn run_event(&mut self, now: Now, mut next: Option<(crate::events::Event, u64)>) {
        while let Some((event, dropped)) = next.take() {
            let Some(program) = self.supervisor.conf().event_command.clone() else {
                next = self.events.finished();
                continue;
            };
            if dropped > 0 {
                self.log(
                    Level::Warning,
                    &format!(
                        "event_command: {dropped} event(s) dropped (one run at a time, {} waiting at most)",
                        crate::events::QUEUE
                    ),
                );
            }
            let run = crate::events::invocation(&program, &self.name, &self.host, &event, dropped);
            let args: Vec<OsString> = run.args.iter().map(OsString::from).collect();
            let what = format!("event_command {program}");
            match spawn::helper(OsStr::new(&run.program), &args, &run.env, None) {
                Ok((pid, _stdin)) => {
                    self.event_pid = Some(pid);
                    self.senders.push(Helper {
                        pid,
                        kill_at: Some(now.mono + self.supervisor.conf().alarm_timeout),
                        name: what,
                    });
                }
                Err(e) => {
                    self.log(Level::Warning, &format!("{what} could not be run: {e}"));
                    next = self.events.finished();
                }
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

/// How supervise.log and supervise.log.wf rotate: as the service's output
/// when an output-log key is set, else (`None`) the original's rule.
fn log_rotation(conf: &Conf) -> Option<(Option<u64>, u32)> {
    conf.log_pipe().then(|| {
        (
            conf.log_max_bytes,
            conf.log_keep.unwrap_or(crate::logpipe::DEFAULT_KEEP),
        )
    })
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

/// Reads and resolves the config file for service `name`. The open does not
/// block (a FIFO in the file's place is refused, as is anything that is not
/// a regular file, or a file over 16 MiB): reading it must never stall
/// supervise, at start or on `r`.
pub fn read_conf(path: &Path, name: &str) -> io::Result<conf::Resolved> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > MAX_CONF_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_CONF_BYTES >> 20),
        ));
    }
    let mut text = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONF_BYTES).read_to_end(&mut text)?;
    Ok(conf::resolve(&text, name))
}
