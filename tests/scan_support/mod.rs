//! Helpers for the supervise-scan tests: a scanner in its own temp dir,
//! guarded so that it and every process it started are killed by pid when
//! the test ends, even by panic; and waits on what the scanner itself says
//! (its log lines, the pids it reports, its reload result file) rather than
//! on snapshots of /proc/locks, which other tests' locks can make miss a
//! line.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::*;

/// The scanner binary under test.
pub fn scan_bin() -> &'static str {
    env!("CARGO_BIN_EXE_supervise-scan")
}

/// Runs supervise-scan to completion with `args` in `dir`.
pub fn run_scan(dir: &Path, args: &[impl AsRef<OsStr>]) -> Output {
    Command::new(scan_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run supervise-scan")
}

/// Where the scanner's stdout (and stderr) go.
pub enum Stdout {
    /// `out.log` and `err.log` (appended) in the temp dir.
    File,
    /// stdout to this pipe, stderr to `err.log`.
    Pipe(std::io::PipeWriter),
    /// Both to this pipe.
    BothPipe(std::io::PipeWriter),
}

/// A running supervise-scan in a temp dir (`-F s.conf -d root`, in the
/// temp dir); on drop it and every process it started are killed by pid.
pub struct Scan {
    pub dir: TempDir,
    pub child: Option<Child>,
    /// The scanner's pid if it is not `child` (under unshare).
    pub inner_pid: Option<u32>,
    /// Scanners started before this one on the same root (their logs count
    /// for the clean-up).
    pub earlier_logs: Vec<String>,
}

impl Scan {
    pub fn start(tag: &str, conf: &str, extra: &[&str]) -> Scan {
        Scan::start_in(TempDir::new(tag), conf, extra, &[])
    }

    pub fn start_in(dir: TempDir, conf: &str, extra: &[&str], prefix: &[&str]) -> Scan {
        dir.write("s.conf", conf);
        Scan::launch(dir, extra, prefix, Stdout::File)
    }

    /// Starts a scanner on `dir` as it is (its s.conf already written).
    pub fn launch(dir: TempDir, extra: &[&str], prefix: &[&str], stdout: Stdout) -> Scan {
        let child = spawn_scanner(dir.path(), extra, prefix, stdout);
        Scan {
            dir,
            child: Some(child),
            inner_pid: None,
            earlier_logs: Vec::new(),
        }
    }

    /// Kills the scanner with SIGKILL (only it: its supervise and
    /// services live on) and starts a new one on the same root, with the
    /// same log; returns the old scanner's pid.
    pub fn crash_and_restart(&mut self, extra: &[&str]) -> u32 {
        let mut old = self.child.take().expect("a scanner to crash");
        let pid = old.id();
        kill(pid, libc::SIGKILL);
        let _ = old.wait();
        self.earlier_logs.push(self.err());
        self.child = Some(spawn_scanner(self.dir.path(), extra, &[], Stdout::File));
        pid
    }

    pub fn pid(&self) -> u32 {
        self.inner_pid
            .unwrap_or_else(|| self.child.as_ref().unwrap().id())
    }

    pub fn status_dir(&self, name: &str) -> PathBuf {
        self.dir.join(&format!("root/status/{name}"))
    }

    pub fn err(&self) -> String {
        std::fs::read_to_string(self.dir.join("err.log")).unwrap_or_default()
    }

    pub fn out(&self) -> String {
        std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default()
    }

    pub fn wait_err(&self, needle: &str) {
        wait_until(&format!("the scanner to log {needle:?}"), || {
            self.err().contains(needle)
        });
    }

    /// How many times the scanner logged `needle`.
    pub fn count_err(&self, needle: &str) -> usize {
        self.err().matches(needle).count()
    }

    /// Waits for `needle` to be logged `n` times in all.
    pub fn wait_err_count(&self, needle: &str, n: usize) {
        wait_until(&format!("the scanner to log {needle:?} {n} times"), || {
            self.count_err(needle) >= n
        });
    }

    /// Waits for service `name` to run and returns its pid.
    pub fn service_pid(&self, name: &str) -> u32 {
        let dir = self.status_dir(name);
        let mut pid = 0;
        wait_until(&format!("service {name} runs"), || {
            pid = supervise::status::read(&dir).map_or(0, |s| s.pid);
            pid != 0 && alive(pid)
        });
        pid
    }

    /// Waits until service `name` runs with a pid other than `old`.
    pub fn new_service_pid(&self, name: &str, old: u32) -> u32 {
        let dir = self.status_dir(name);
        let mut pid = 0;
        wait_until(&format!("service {name} runs again, not as {old}"), || {
            pid = supervise::status::read(&dir).map_or(0, |s| s.pid);
            pid != 0 && pid != old && alive(pid)
        });
        pid
    }

    /// The pid of `name`'s supervise, as the scanner last reported it
    /// (started or adopted); waits until it has reported one.
    pub fn supervise_pid(&self, name: &str) -> u32 {
        let mut pid = None;
        wait_until(&format!("the scanner to report {name}'s supervise"), || {
            pid = reported_pids(&self.err(), name).last().copied();
            pid.is_some()
        });
        pid.unwrap()
    }

    /// Waits until the scanner reports `n` supervise for `name` in all;
    /// returns the last.
    pub fn nth_supervise_pid(&self, name: &str, n: usize) -> u32 {
        let mut pids = Vec::new();
        wait_until(
            &format!("the scanner to report supervise #{n} of {name}"),
            || {
                pids = reported_pids(&self.err(), name);
                pids.len() >= n
            },
        );
        pids[n - 1]
    }

    pub fn conf(&self, text: &str) {
        self.dir.write("s.conf", text);
    }

    /// Sends SIGHUP and waits for the reload result file to show the next
    /// generation; returns the file's text.
    pub fn reload(&self) -> String {
        let before = self.generation();
        kill(self.pid(), libc::SIGHUP);
        self.wait_generation(before + 1)
    }

    /// The generation in the reload result file, if this scanner wrote it
    /// (0 when there is none, or an earlier scanner's).
    pub fn generation(&self) -> u64 {
        let text = self.reload_file();
        if self.wrote(&text) {
            generation_of(&text)
        } else {
            0
        }
    }

    /// Whether a reload result names this scanner on its second line.
    fn wrote(&self, report: &str) -> bool {
        report.lines().nth(1) == Some(&format!("pid {}", self.pid()))
    }

    pub fn reload_file(&self) -> String {
        std::fs::read_to_string(self.dir.join("root/supervise-scan.reload")).unwrap_or_default()
    }

    /// Waits until the reload result file shows generation `n`, written by
    /// this scanner.
    pub fn wait_generation(&self, n: u64) -> String {
        let mut text = String::new();
        wait_until(&format!("reload result generation {n}"), || {
            text = self.reload_file();
            self.wrote(&text) && generation_of(&text) >= n
        });
        text
    }

    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().unwrap();
        let mut status = None;
        wait_until_for(limit, "supervise-scan exits", || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }

    /// Every pid this test may have left behind: the scanner's supervise
    /// (as it reported them), their services (status files, supervise.log).
    fn candidates(&self) -> Vec<u32> {
        let mut pids = vec![self.pid()];
        let mut logs = self.earlier_logs.clone();
        logs.push(self.err());
        for log in &logs {
            pids.extend(all_reported_pids(log));
        }
        let root = self.dir.join("root/status");
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let dir = entry.path();
            pids.extend(supervise::status::read(&dir).map(|s| s.pid).ok());
            pids.extend(started_pids(&dir));
            pids.extend(supervise::sys::lock::holder_pid(&dir.join("lock")));
        }
        pids.sort_unstable();
        pids.dedup();
        pids
    }
}

/// Starts `PREFIX... supervise-scan -F s.conf -d root EXTRA...` in `dir`,
/// stderr appended to `dir/err.log` (so that a second scanner on the same
/// dir keeps the first one's lines). Without `--supervise` in EXTRA the
/// scanner runs its supervise from its own executable, as installed.
pub fn spawn_scanner(dir: &Path, extra: &[&str], prefix: &[&str], stdout: Stdout) -> Child {
    let mut args: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    args.extend([scan_bin(), "-F", "s.conf", "-d", "root"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let err_log = || -> Stdio {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("err.log"))
            .unwrap()
            .into()
    };
    let (stdout, err): (Stdio, Stdio) = match stdout {
        Stdout::File => (
            std::fs::File::create(dir.join("out.log")).unwrap().into(),
            err_log(),
        ),
        Stdout::Pipe(pipe) => (pipe.into(), err_log()),
        Stdout::BothPipe(pipe) => (pipe.try_clone().unwrap().into(), pipe.into()),
    };
    Command::new(&args[0])
        .args(&args[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(err)
        .spawn()
        .unwrap()
}

/// The generation on the first line of a reload result file.
pub fn generation_of(text: &str) -> u64 {
    text.split_whitespace()
        .next()
        .and_then(|g| g.parse().ok())
        .unwrap_or(0)
}

/// The supervise pids the scanner reported for `name`, in order.
pub fn reported_pids(log: &str, name: &str) -> Vec<u32> {
    let started = format!("supervise-scan: {name}: supervise started (pid ");
    let adopted = format!("supervise-scan: {name}: adopted the supervise already running (pid ");
    log.lines()
        .filter_map(|l| {
            let rest = l.split_once(&started).or_else(|| l.split_once(&adopted))?.1;
            rest.split(')').next()?.parse().ok()
        })
        .collect()
}

/// Every supervise pid the scanner reported, for any service.
fn all_reported_pids(log: &str) -> Vec<u32> {
    log.lines()
        .filter(|l| {
            l.contains(": supervise started (pid ") || l.contains(": adopted the supervise")
        })
        .filter_map(|l| l.rsplit("(pid ").next()?.split(')').next()?.parse().ok())
        .collect()
}

/// Whether `pid` is a process of the test in `dir`: its working directory
/// or its command line lies there. A pid read from a log may have been
/// reused by another test's process since; that one is never touched.
pub fn belongs_to(pid: u32, dir: &Path) -> bool {
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
    if cwd.starts_with(dir) {
        return true;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let needle = dir.as_os_str().as_bytes();
    cmdline.windows(needle.len()).any(|w| w == needle)
}

impl Drop for Scan {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("supervise-scan's log:\n{}", self.err());
        }
        if let Some(init) = self.inner_pid {
            // The namespace's PID 1: killing it kills every process in the
            // namespace. The status files hold namespace pids, which must
            // not be used out here.
            kill_tree(init);
            kill(init, libc::SIGKILL);
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            return;
        }
        // First the scanner and everything under it, frozen before it can
        // start a supervise again; then whatever is not its child (adopted
        // supervise, services re-parented away).
        let scanner_alive = self
            .child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none());
        if scanner_alive {
            kill_tree(self.pid());
        }
        let dir = self.dir.path().to_owned();
        for pid in self.candidates() {
            if pid > 1 && belongs_to(pid, &dir) {
                kill_tree(pid);
                kill_group(pid, libc::SIGKILL);
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The number of `NAME: supervise started` lines in the scanner's log.
pub fn starts_of(scan: &Scan, name: &str) -> usize {
    scan.err()
        .matches(&format!("supervise-scan: {name}: supervise started"))
        .count()
}

/// The scanner's control FIFO, in the status root.
pub const CONTROL: &str = "root/supervise-scan.control";

impl Scan {
    /// The status file of service `name`, if its supervise wrote one.
    pub fn status(&self, name: &str) -> Option<supervise::status::Status> {
        supervise::status::read(&self.status_dir(name)).ok()
    }

    /// Waits until service `name` is down (its status says pid 0) and
    /// returns that status.
    pub fn wait_down(&self, name: &str) -> supervise::status::Status {
        let mut status = None;
        wait_until(&format!("service {name} is down"), || {
            status = self.status(name).filter(|s| s.pid == 0);
            status.is_some()
        });
        status.unwrap()
    }

    /// Writes `line` and a newline to the scanner's control FIFO in one
    /// write, as svc does; waits for the FIFO to exist first.
    pub fn request(&self, line: &str) {
        self.request_bytes(format!("{line}\n").as_bytes());
    }

    /// Writes `bytes` to the scanner's control FIFO (blocking while it is
    /// full: the scanner reads it).
    pub fn request_bytes(&self, bytes: &[u8]) {
        use std::io::Write;
        let path = self.dir.join(CONTROL);
        let mut fifo = None;
        wait_until("the scanner's control FIFO to have a reader", || {
            fifo = supervise::sys::fifo::open_writer(&path).ok();
            fifo.is_some()
        });
        let fifo = fifo.unwrap();
        // Back to blocking, so that a flood waits for the reader.
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        drop(fifo);
        file.write_all(bytes).unwrap();
    }

    /// Writes `bytes` to service `name`'s own control FIFO, as `svc` does.
    pub fn control(&self, name: &str, bytes: &str) {
        use std::io::Write;
        let path = self.status_dir(name).join("control");
        let mut fifo = supervise::sys::fifo::open_writer(&path).unwrap();
        fifo.write_all(bytes.as_bytes()).unwrap();
    }

    /// Replaces service `name`'s `info` file by hand, atomically as
    /// supervise would (docs/status-files.md), for a state no real service
    /// of the tests reaches.
    pub fn write_info(&self, name: &str, text: &str) {
        write_info(&self.status_dir(name), text);
    }
}

/// A section's lines for a service that declares readiness (s6's
/// protocol, descriptor 3) and is ready once `dir/go-NAME` exists.
pub fn ready_on_go(dir: &TempDir, name: &str) -> String {
    let go = dir.join(&format!("go-{name}"));
    let script = dir.script(
        &format!("{name}-notifier.sh"),
        &format!(
            "while [ ! -e {go} ]; do sleep 0.05; done\necho >&3\nexec sleep 1000",
            go = go.display()
        ),
    );
    format!("command : {}\nnotification_fd : 3\n", script.display())
}

/// Makes `dir/go-NAME`: that service says it is ready.
pub fn go(dir: &TempDir, name: &str) {
    std::fs::write(dir.join(&format!("go-{name}")), "").unwrap();
}

/// Writes `dir/info` through `info.new` and a rename (creating `dir`).
pub fn write_info(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("info.new"), text).unwrap();
    std::fs::rename(dir.join("info.new"), dir.join("info")).unwrap();
}

/// The `since` of each service's status, for start order: a service
/// started after another has a later `since`.
pub fn since_of(scan: &Scan, name: &str) -> Duration {
    scan.status(name).map(|s| s.since).unwrap_or_default()
}

/// A service that logs its name to `stops` when it gets SIGTERM, and to
/// `trapping` once it is ready to.
pub fn logs_its_stop(dir: &TempDir, name: &str) -> String {
    let script = dir.script(
        &format!("{name}.sh"),
        &format!(
            "trap 'echo {name} >> {stops}; exit 0' TERM\necho {name} >> {trapping}\nsleep 1000 &\nwait $!\n",
            stops = dir.join("stops").display(),
            trapping = dir.join("trapping").display()
        ),
    );
    script.display().to_string()
}

/// Waits until `n` services of [`logs_its_stop`] are ready to log their stop.
pub fn wait_trapping(dir: &TempDir, n: usize) {
    wait_until(&format!("{n} services to trap SIGTERM"), || {
        std::fs::read_to_string(dir.join("trapping")).is_ok_and(|t| t.lines().count() >= n)
    });
}

/// The names [`logs_its_stop`] services logged, in order.
pub fn stops(dir: &TempDir) -> Vec<String> {
    std::fs::read_to_string(dir.join("stops"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}
