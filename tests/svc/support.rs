//! Helpers for the `svc` tests: a temporary directory, running the `svc`
//! binary, and a *fake supervise* — a status directory whose `ok` and
//! `control` FIFOs this test process holds open for reading, so that `svc`
//! sees a live supervise, and whose reactions to control bytes the test
//! scripts. Every process a helper starts is killed (by pid, with its
//! process group) when its owner is dropped, even when the test fails.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use supervise::info::{self, Info};
use supervise::status::{self, Status, Want};
use supervise::sys::lock;

/// How long any test waits for anything before it fails: generous, the
/// machine has two shared cores and tests run in parallel.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The helpers shared by every integration-test crate (temp directories,
/// /proc readers); svc's own follow.
#[path = "../support/mod.rs"]
mod shared;

pub use shared::{Detached, TempDir, alive, group_members};

/// The `svc` binary under test.
pub fn svc_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_svc"))
}

/// Runs `svc ARGS` to completion.
pub fn svc<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    svc_command().args(args).output().unwrap()
}

/// Runs `svc ARGS` as user nobody (only possible as root); `None` otherwise.
pub fn svc_as_nobody<I, S>(args: I) -> Option<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: skipping the run as another user");
        return None;
    }
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_svc"))
        .args(args)
        .output()
        .unwrap();
    Some(output)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing both streams when it differs.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Polls `condition` until it holds; fails the test after [`PATIENCE`].
pub fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    shared::wait_until_for(PATIENCE, what, condition)
}

pub fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

/// Replaces `path` as a whole: `PATH.new`, then a rename.
pub fn write_atomically(path: &Path, text: &str) {
    let new = path.with_extension("new");
    std::fs::write(&new, text).unwrap();
    std::fs::rename(&new, path).unwrap();
}

pub fn make_fifo(path: &Path) {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)).unwrap();
}

/// Whether a process group still has members.
pub fn group_alive(pgid: u32) -> bool {
    pgid > 1 && kill(Pid::from_raw(-(pgid as i32)), None).is_ok()
}

/// A child process in its own process group, killed with its group on drop.
pub struct Service(Child);

impl Service {
    /// Starts `sh -c SCRIPT` as the leader of a new process group.
    pub fn shell(script: &str) -> Service {
        let child = Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        Service(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// TERMs the leader only and reaps it; the rest of the group stays.
    pub fn term_leader(&mut self) {
        let _ = kill(Pid::from_raw(self.pid() as i32), Signal::SIGTERM);
        let _ = self.0.wait();
    }

    /// KILLs the whole group and reaps the leader.
    pub fn kill_group(&mut self) {
        let _ = kill(Pid::from_raw(-(self.pid() as i32)), Signal::SIGKILL);
        let _ = self.0.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// A status directory `ROOT/status/NAME` with a fake supervise: this process
/// reads `ok` and `control` and holds the flock on `lock`.
pub struct Fake {
    pub dir: PathBuf,
    ok: Option<File>,
    lock: Option<File>,
    control: File,
    pub status: Status,
    /// Every control byte read so far.
    pub received: Vec<u8>,
    /// The running service, if any, plus ones left behind on purpose.
    pub service: Option<Service>,
    pub leftovers: Vec<Service>,
    /// When false, `d` leaves the service running (a stop that hangs).
    pub obey_down: bool,
    /// When set, `x` is pending: exit as soon as the service is down.
    exit_pending: bool,
}

impl Fake {
    /// A live fake supervise with the service down, wanted down, alarms on.
    pub fn new(root: &Path, name: &str) -> Fake {
        let dir = root.join("status").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        make_fifo(&dir.join("ok"));
        make_fifo(&dir.join("control"));
        let ok = reader(&dir.join("ok"));
        let control = reader(&dir.join("control"));
        let lock = take_lock(&dir.join("lock"));
        let fake = Fake {
            dir,
            ok: Some(ok),
            lock: Some(lock),
            control,
            status: Status {
                since: now(),
                paused: false,
                want: Want::Down,
                alarms_on: true,
                pid: 0,
            },
            received: Vec::new(),
            service: None,
            leftovers: Vec::new(),
            obey_down: true,
            exit_pending: false,
        };
        fake.publish();
        fake
    }

    /// Writes `self.status` to the status file.
    pub fn publish(&self) {
        status::write_atomically(&self.dir, &self.status).unwrap();
    }

    /// Writes `info` as supervise does (docs/status-files.md): the whole
    /// file through `info.new` and a rename. Its `supervise_pid` is this
    /// process, the fake supervise, unless the test set one.
    pub fn write_info(&self, info: &Info) {
        let info = Info {
            supervise_pid: if info.supervise_pid == 0 {
                std::process::id()
            } else {
                info.supervise_pid
            },
            ..info.clone()
        };
        write_atomically(&self.dir.join("info"), &info.render());
    }

    /// The `info` of the service as it runs now: its pid, `state`, the
    /// readiness it declares.
    pub fn info_now(&self, state: info::State, readiness: info::Readiness) -> Info {
        Info {
            pid: self.status.pid,
            state,
            since: now(),
            started: (self.status.pid != 0).then_some(self.status.since),
            readiness,
            ..Info::default()
        }
    }

    /// supervise starts again on this directory (it reads `ok` and holds
    /// `lock` again) and the service with it, wanted up.
    pub fn revive(&mut self) {
        self.ok = Some(reader(&self.dir.join("ok")));
        self.lock = Some(take_lock(&self.dir.join("lock")));
        self.status.want = Want::Up;
        self.start_service();
    }

    /// Starts `sleep` as the service (in its own group) and publishes it.
    pub fn start_service(&mut self) {
        self.start_script("exec sleep 1000");
    }

    pub fn start_script(&mut self, script: &str) {
        let service = Service::shell(script);
        self.status.pid = service.pid();
        self.status.since = now();
        self.service = Some(service);
        self.publish();
    }

    /// Stops the service (group KILL) and publishes pid 0.
    pub fn stop_service(&mut self) {
        if let Some(mut service) = self.service.take() {
            service.kill_group();
        }
        self.status.pid = 0;
        self.status.paused = false;
        self.status.since = now();
        self.publish();
    }

    /// supervise dies: nobody reads `ok` or holds `lock` any more.
    pub fn die(&mut self) {
        self.ok = None;
        self.lock = None;
        // A child forked by a parallel test holds copies of our descriptors
        // until it execs; wait until the reader is really gone.
        let ok = self.dir.join("ok");
        wait_until("ok to lose its reader", || {
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&ok)
                .is_err()
        });
    }

    /// Reads what is waiting in `control`.
    pub fn read_control(&mut self) -> Vec<u8> {
        let mut buf = [0u8; 512];
        let mut new = Vec::new();
        while let Ok(n @ 1..) = self.control.read(&mut buf) {
            new.extend_from_slice(&buf[..n]);
        }
        self.received.extend_from_slice(&new);
        new
    }

    /// Reacts to one control byte roughly as supervise does.
    pub fn react(&mut self, byte: u8) {
        match byte {
            b'u' | b'o' => {
                self.status.want = if byte == b'u' { Want::Up } else { Want::Once };
                if self.status.pid == 0 {
                    self.start_service();
                }
                self.publish();
            }
            b'd' => {
                self.status.want = Want::Down;
                if self.status.pid != 0 && self.obey_down {
                    self.stop_service();
                }
                self.publish();
            }
            b'x' => self.exit_pending = true,
            b's' | b'n' => {
                self.status.alarms_on = byte == b'n';
                self.publish();
            }
            b'p' | b'c' => {
                self.status.paused = byte == b'p' && self.status.pid != 0;
                self.publish();
            }
            _ => {}
        }
        if self.exit_pending && self.status.pid == 0 {
            self.die();
        }
    }

    /// Runs `svc ARGS` while acting as supervise, passing every byte read
    /// from `control` to `react`; returns svc's output once it exits.
    pub fn serve<S: AsRef<OsStr>>(
        &mut self,
        args: &[S],
        mut react: impl FnMut(&mut Fake, u8),
    ) -> Output {
        self.serve_child(spawn_svc(args), &mut react)
    }

    /// Like [`Fake::serve`] for an already spawned svc (`Svc` kills it if
    /// the test fails).
    pub fn serve_child(&mut self, child: Child, react: &mut dyn FnMut(&mut Fake, u8)) -> Output {
        serve_svc(child, || {
            for byte in self.read_control() {
                react(self, byte);
            }
        })
    }
}

/// A FIFO's read end, opened without waiting for a writer.
fn reader(path: &Path) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// The flock on `path`, which nobody may hold yet.
pub fn take_lock(path: &Path) -> File {
    match lock::acquire(path).unwrap() {
        lock::Acquired::Held(file) => file,
        lock::Acquired::Busy(_) => panic!("{} is already locked", path.display()),
    }
}

/// Starts `svc ARGS`, its output piped.
pub fn spawn_svc<S: AsRef<OsStr>>(args: &[S]) -> Child {
    svc_command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `step` (what the test plays: supervise, a scanner) until the svc
/// `child` exits, then once more; returns svc's output. Fails the test
/// after [`PATIENCE`]; `Svc` kills svc then.
pub fn serve_svc(child: Child, mut step: impl FnMut()) -> Output {
    let mut svc = Svc(Some(child));
    let deadline = Instant::now() + PATIENCE;
    loop {
        step();
        if svc.child().try_wait().unwrap().is_some() {
            step();
            return svc.0.take().unwrap().wait_with_output().unwrap();
        }
        assert!(Instant::now() < deadline, "svc did not finish");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `python3 -c SCRIPT` with `input` on its stdin; its output.
pub fn python(script: &str, input: &[u8]) -> Output {
    use std::io::Write;
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    python.stdin.take().unwrap().write_all(input).unwrap();
    python.wait_with_output().unwrap()
}

impl Drop for Fake {
    fn drop(&mut self) {
        // Services are killed by their own Drop; make it explicit and early.
        self.service.take();
        self.leftovers.clear();
    }
}

/// A running svc, killed by pid on drop if the test did not reap it.
pub struct Svc(pub Option<Child>);

impl Svc {
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }
}

impl Drop for Svc {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
