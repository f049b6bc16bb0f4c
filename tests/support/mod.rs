//! Shared helpers for the integration tests: a temp directory per test, a
//! guard that runs a real `supervise` and kills it and every process it
//! started (by pid, never by name) when the test ends, even by panic, and
//! `wait_until` for polling a condition with a deadline instead of sleeping.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use supervise::status::{Status, Want};

/// Generous: the machines have 2 shared cores and tests run in parallel.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The supervise binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_supervise")
}

/// A fresh directory, removed (after killing what ran in it) on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("supervise-test-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.join(rel);
        fs::write(&path, text).unwrap();
        path
    }

    /// Writes an executable shell script.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        let path = self.join(rel);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o755)
            .open(&path)
            .unwrap();
        use std::io::Write;
        writeln!(file, "#!/bin/sh\n{body}").unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Polls `condition` every 5 ms until it holds; panics naming `what` after
/// [`DEADLINE`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    wait_until_for(DEADLINE, what, &mut condition)
}

pub fn wait_until_for(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The fields of /proc/PID/stat after the command (which may hold spaces
/// and parentheses): state, ppid, pgrp, session, ...; empty if it is gone.
pub fn stat_fields(pid: u32) -> Vec<String> {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default()
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    !matches!(
        stat_fields(pid).first().map(String::as_str),
        Some("Z") | Some("X") | None
    )
}

/// The process state letter from /proc/PID/stat (`S`, `T`, ...).
pub fn state(pid: u32) -> Option<char> {
    stat_fields(pid).first()?.chars().next()
}

/// The parent of `pid`.
pub fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid).get(1)?.parse().ok()
}

/// Every live process whose process group is `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let fields = stat_fields(pid);
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
            && fields.first().map(String::as_str) != Some("Z")
        {
            pids.push(pid);
        }
    }
    pids
}

/// The children of `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kills `root` and every descendant. Each process is stopped before its
/// children are read, so none can start another (a supervise restarting
/// its service, a scanner restarting a supervise) while we work.
pub fn kill_tree(root: u32) {
    let mut stopped = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        if pid <= 1 || stopped.contains(&pid) {
            continue;
        }
        kill(pid, libc::SIGSTOP);
        stopped.push(pid);
        queue.extend(children_of(pid));
    }
    for pid in stopped {
        kill(pid, libc::SIGKILL);
    }
}

/// Kills `child` and its descendants, unless it was already reaped: its
/// pid may then belong to someone else.
pub fn kill_child_tree(mut child: Child) {
    if child.try_wait().ok().flatten().is_none() {
        kill_tree(child.id());
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub fn kill(pid: u32, signal: i32) {
    if pid > 1 {
        unsafe { libc::kill(pid as i32, signal) };
    }
}

pub fn kill_group(pgid: u32, signal: i32) {
    if pgid > 1 {
        unsafe { libc::kill(-(pgid as i32), signal) };
    }
}

/// Kills, when dropped, what a detaching supervise left running for the
/// status directory: the lock holder with its descendants, then the group
/// of the service named in the status file. Made right after the run, so a
/// failed assertion cannot leave a daemon behind.
pub struct Detached(pub PathBuf);

impl Drop for Detached {
    fn drop(&mut self) {
        if let Some(daemon) = supervise::sys::lock::holder_pid(&self.0.join("lock")) {
            kill_tree(daemon);
        }
        if let Ok(status) = supervise::status::read(&self.0) {
            kill_group(status.pid, libc::SIGKILL);
            kill(status.pid, libc::SIGKILL);
        }
    }
}

/// A running supervise (foreground, a child of the test) in a temp dir.
pub struct Supervise {
    pub dir: TempDir,
    /// The status directory, absolute.
    pub status_dir: PathBuf,
    pub child: Option<Child>,
    /// Every service pid seen, killed (with its group) on drop.
    seen: Vec<u32>,
}

impl Supervise {
    /// Starts `supervise -p status/NAME -f COMMAND` in the foreground.
    pub fn start(tag: &str, command: &str) -> Supervise {
        Supervise::start_with(TempDir::new(tag), &["-p", "status/svc", "-f", command], &[])
    }

    /// Starts supervise in `dir` (its working directory) with `args` and
    /// extra environment; the status directory must be `status/svc`.
    pub fn start_with(dir: TempDir, args: &[&str], env: &[(&str, &str)]) -> Supervise {
        Supervise::start_command(dir, Command::new(bin()), args, env)
    }

    /// The same as user nobody (uid 65534), through `setpriv`, which execs
    /// supervise in its own pid; only root can do it.
    pub fn start_as_nobody(dir: TempDir, args: &[&str]) -> Supervise {
        let mut setpriv = Command::new("setpriv");
        setpriv
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin());
        Supervise::start_command(dir, setpriv, args, &[])
    }

    pub fn start_command(
        dir: TempDir,
        mut command: Command,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Supervise {
        let child = command
            .args(args)
            .current_dir(dir.path())
            .env("SUPERVISE_FOREGROUND", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn supervise");
        let status_dir = dir.join("status/svc");
        let sup = Supervise {
            dir,
            status_dir,
            child: Some(child),
            seen: Vec::new(),
        };
        let status_dir = sup.status_dir.clone();
        wait_until("supervise writes its status file", || {
            supervise::status::read(&status_dir).is_ok()
        });
        sup
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    pub fn status(&self) -> Status {
        supervise::status::read(&self.status_dir).expect("readable status file")
    }

    /// The service pid in the status file (remembered for clean-up).
    pub fn service_pid(&mut self) -> u32 {
        let pid = self.status().pid;
        if pid != 0 && !self.seen.contains(&pid) {
            self.seen.push(pid);
        }
        pid
    }

    /// Waits for a running service and returns its pid.
    pub fn wait_running(&mut self) -> u32 {
        let dir = self.status_dir.clone();
        wait_until("the service runs", || {
            supervise::status::read(&dir).is_ok_and(|s| s.pid != 0)
        });
        self.service_pid()
    }

    /// Waits until the status file shows a pid other than `old` (and not 0).
    pub fn wait_new_pid(&mut self, old: u32) -> u32 {
        let dir = self.status_dir.clone();
        wait_until(&format!("a new service pid replacing {old}"), || {
            supervise::status::read(&dir).is_ok_and(|s| s.pid != 0 && s.pid != old)
        });
        self.service_pid()
    }

    pub fn wait_down(&mut self) {
        let dir = self.status_dir.clone();
        wait_until("the status file says down", || {
            supervise::status::read(&dir).is_ok_and(|s| s.pid == 0)
        });
    }

    /// Writes control bytes.
    pub fn control(&self, bytes: &str) {
        fs::write(self.status_dir.join("control"), bytes).expect("write control");
    }

    pub fn file(&self, name: &str) -> String {
        fs::read_to_string(self.status_dir.join(name)).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        self.file("supervise.log")
    }

    pub fn log_wf(&self) -> String {
        self.file("supervise.log.wf")
    }

    pub fn wait_log(&self, needle: &str) {
        wait_until(&format!("supervise.log to contain {needle:?}"), || {
            self.log().contains(needle)
        });
    }

    pub fn wait_log_wf(&self, needle: &str) {
        wait_until(&format!("supervise.log.wf to contain {needle:?}"), || {
            self.log_wf().contains(needle)
        });
    }

    /// Waits for supervise to exit and returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("supervise was started");
        let mut result = None;
        wait_until("supervise exits", || {
            result = child.try_wait().expect("try_wait");
            result.is_some()
        });
        result.unwrap()
    }

    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

impl Drop for Supervise {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            kill_child_tree(child);
        }
        let last = supervise::status::read(&self.status_dir)
            .map(|s| s.pid)
            .unwrap_or(0);
        for pid in self.seen.iter().copied().chain([last]) {
            kill_group(pid, libc::SIGKILL);
            kill(pid, libc::SIGKILL);
        }
    }
}

/// Every service pid supervise logged as started in `status_dir`: the
/// guards kill them all, even those a test never looked at.
pub fn started_pids(status_dir: &Path) -> Vec<u32> {
    fs::read_to_string(status_dir.join("supervise.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split("service started, pid ").nth(1)?.trim().parse().ok())
        .collect()
}

/// Runs supervise to completion with `args` in `dir` (for usage errors and
/// detaching runs).
pub fn run(dir: &Path, args: &[impl AsRef<OsStr>]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("SUPERVISE_FOREGROUND")
        .stdin(Stdio::null())
        .output()
        .expect("run supervise")
}

/// Context switches (voluntary + involuntary) of `pid` so far.
pub fn context_switches(pid: u32) -> u64 {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .filter(|l| l.contains("ctxt_switches"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// How many inotify instances `pid` holds (its descriptors that are
/// `anon_inode:inotify`).
pub fn inotify_instances(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(Result::ok)
                .filter_map(|fd| fs::read_link(fd.path()).ok())
                .filter(|target| target.as_os_str() == "anon_inode:inotify")
                .count()
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of `pid` so far.
pub fn cpu_time(pid: u32) -> Duration {
    let fields = stat_fields(pid);
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// Whether the tests run as root (mounts, other users, bind mounts).
pub fn root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A small tmpfs mounted on `dir/rel` for one test (root only), unmounted
/// (lazily, so a process still in it cannot block the unmount) on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs with `options` (`size=64k`, `nr_inodes=40`...).
    pub fn mount(dir: &TempDir, rel: &str, options: &str) -> Tmpfs {
        let path = dir.join(rel);
        fs::create_dir_all(&path).unwrap();
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let c_options = std::ffi::CString::new(options).unwrap();
        // SAFETY: valid C strings for the duration of the call.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                c_path.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c_options.as_ptr().cast(),
            )
        };
        assert_eq!(rc, 0, "mount tmpfs: {}", std::io::Error::last_os_error());
        Tmpfs(path)
    }

    /// Fills every free block with one file; returns it (remove it to free
    /// the space).
    pub fn fill_blocks(&self) -> PathBuf {
        use std::io::Write;
        let path = self.0.join("filler");
        let mut file = fs::File::create(&path).unwrap();
        let chunk = [b'f'; 512];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&chunk[..1]).is_ok() {}
        path
    }

    /// Uses every free inode with empty files in a directory of their own;
    /// returns it (remove it to free them).
    pub fn fill_inodes(&self) -> PathBuf {
        let dir = self.0.join("inodes");
        fs::create_dir(&dir).unwrap();
        for n in 0.. {
            if fs::File::create(dir.join(n.to_string())).is_err() {
                break;
            }
        }
        dir
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let c_path = std::ffi::CString::new(self.0.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string for the duration of the call.
        unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Gives `path` and everything under it to user nobody (65534).
pub fn give_to_nobody(path: &Path) {
    let status = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs `command` to completion, or kills it after `limit`: a command that
/// hangs is an error, not a hung test.
pub fn output_within(mut command: Command, limit: Duration) -> Result<Output, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return Ok(child.wait_with_output().expect("output"));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}: {command:?}"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The supervise command line that [`run`] uses, to be run some other way.
pub fn detaching(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(bin());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("SUPERVISE_FOREGROUND");
    command
}

/// The live processes whose command line is exactly `argv`.
pub fn processes_running(argv: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    let mut pids = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted) && alive(pid) {
            pids.push(pid);
        }
    }
    pids
}

/// A number no other test uses, for a service whose copies are counted by
/// command line (`sleep 4100017`).
pub fn unique_seconds() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{}{:03}", 4_000_000 + std::process::id() % 1_000_000, n)
}

/// Kills, on drop, every process whose command line is `argv` (a service
/// counted by [`processes_running`]).
pub struct KillAll(pub Vec<String>);

impl Drop for KillAll {
    fn drop(&mut self) {
        let argv: Vec<&str> = self.0.iter().map(String::as_str).collect();
        for pid in processes_running(&argv) {
            kill_group(pid, libc::SIGKILL);
            kill(pid, libc::SIGKILL);
        }
    }
}

/// Waits until `pid` sleeps in poll with no deadline (an infinite timeout):
/// nothing is due, so only an event can wake it. Stricter than
/// [`wait_idle`], which a process waiting out a 2 ms coalescing delay
/// also passes.
pub fn wait_asleep(pid: u32) {
    wait_until("the process sleeps in poll with no deadline", || {
        match syscall(pid).as_deref() {
            // poll(fds, nfds, timeout): -1 as an int.
            Some([n, _, _, timeout, ..]) if *n == libc::SYS_poll as u64 => {
                *timeout as u32 == u32::MAX
            }
            // ppoll(fds, nfds, timespec, sigmask): no timespec.
            Some([n, _, _, timespec, ..]) if *n == libc::SYS_ppoll as u64 => *timespec == 0,
            _ => false,
        }
    });
}

/// Waits until `pid` (a supervise) is blocked in poll(2) again: it has
/// done all the work of its last wake-up (spawns, status and log writes).
/// From /proc/PID/syscall, which shows the call a blocked task is in.
pub fn wait_idle(pid: u32) {
    wait_until("supervise is back in poll", || {
        syscall(pid).is_some_and(|call| {
            call.first()
                .is_some_and(|&n| n == libc::SYS_poll as u64 || n == libc::SYS_ppoll as u64)
        })
    });
}

/// The system call `pid` is blocked in and its arguments, from
/// /proc/PID/syscall (`None` while it runs, or when it is gone).
fn syscall(pid: u32) -> Option<Vec<u64>> {
    let text = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut words = text.split_whitespace();
    let number = words.next()?.parse::<u64>().ok()?;
    let args = words.map(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
    std::iter::once(Some(number)).chain(args).collect()
}
