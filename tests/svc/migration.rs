//! A user migrating from the original C supervise keeps their `control`
//! wrapper and, for a while, their `svc` script: both run here against our
//! supervise, through imitations of their behaviour in
//! `tests/fixtures/svc/` (SPEC §8), side by side with our `svc`. supervise
//! detaches as it does for them; a guard kills what it left when the test
//! ends. The script's fixed sleeps are the original's; the test itself waits
//! for conditions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

/// The imitation of a script of the original under `tests/fixtures/svc`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/svc")
        .join(name)
}

/// The status directory, relative to the working directory, as the
/// original `control` names it.
const STATUS: &str = "status/redis";

/// A working directory with `status/redis` run by a detached supervise.
struct Migration {
    /// Kills the detached supervise and its service when the test ends.
    /// First: fields drop in order, and the guard finds supervise through
    /// the lock and status files, which `tmp` removes.
    _guard: Detached,
    tmp: TempDir,
    dir: PathBuf,
}

impl Migration {
    fn new(test: &str) -> Migration {
        let tmp = TempDir::new(test);
        let dir = tmp.path().join(STATUS);
        let _guard = Detached(dir.clone());
        Migration { _guard, tmp, dir }
    }

    /// `control ACTION`, whose svc is `svc`.
    fn control(&self, action: &str, svc: &Path) -> Output {
        Command::new(fixture("control.sh"))
            .arg(action)
            .current_dir(self.tmp.path())
            .env("SUPERVISE", env!("CARGO_BIN_EXE_supervise"))
            .env("SVC", svc)
            .env("STATUS", STATUS)
            .env("COMMAND", "sleep 1000")
            .env_remove("SUPERVISE_FOREGROUND")
            .output()
            .unwrap()
    }

    /// The original script: `svc status/redis WORDS...`.
    fn original(&self, words: &[&str]) -> Output {
        Command::new(fixture("svc-original.sh"))
            .arg(STATUS)
            .args(words)
            .current_dir(self.tmp.path())
            .output()
            .unwrap()
    }

    /// Ours, the same way.
    fn ours(&self, words: &[&str]) -> Output {
        svc_command()
            .arg(STATUS)
            .args(words)
            .current_dir(self.tmp.path())
            .output()
            .unwrap()
    }

    /// The child's pid, as the original's users read it.
    fn pid(&self) -> u32 {
        let output = Command::new("od")
            .args(["-An", "-j16", "-N4", "-tu4"])
            .arg(self.dir.join("status"))
            .output()
            .unwrap();
        stdout(&output).trim().parse().unwrap_or(0)
    }

    /// supervise's pid, as the original's users find it: the service's
    /// parent (`PPid:` in /proc/PID/status).
    fn supervise_pid(&self) -> u32 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("PPid:"))
            .and_then(|ppid| ppid.trim().parse().ok())
            .unwrap()
    }

    fn alarm_byte(&self) -> char {
        char::from(std::fs::read(self.dir.join("status")).unwrap()[14])
    }

    fn wait_pid(&self, what: &str, test: impl Fn(u32) -> bool) -> u32 {
        wait_until(what, || test(self.pid()));
        self.pid()
    }

    fn wait_alarm(&self, byte: char) {
        wait_until(&format!("status byte 14 to read {byte}"), || {
            self.alarm_byte() == byte
        });
    }

    /// Starts the service as the original `control start` does.
    fn start(&self) -> u32 {
        let output = self.control("start", Path::new(env!("CARGO_BIN_EXE_svc")));
        assert_exit(&output, 0);
        self.wait_pid("the service to run", |pid| pid != 0)
    }
}

/// Asserts that the original script and ours exit with `code`.
#[track_caller]
fn both_exit(m: &Migration, words: &[&str], code: i32) {
    assert_exit(&m.original(words), code);
    assert_exit(&m.ours(words), code);
}

fn line(output: &Output, key: &str) -> String {
    stdout(output)
        .lines()
        .find(|line| line.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in {}", stdout(output)))
        .to_string()
}

#[test]
fn the_original_script_and_ours_agree_step_by_step() {
    let m = Migration::new("m-steps");
    let first = m.start();
    let supervise = m.supervise_pid();

    let original = m.original(&["status"]);
    let ours = m.ours(&["status"]);
    assert_exit(&original, 0);
    assert_exit(&ours, 0);
    for key in ["showing status...", "pid: ", "start time: ", "alarm: "] {
        assert_eq!(line(&original, key), line(&ours, key));
    }
    assert_eq!(line(&ours, "pid: "), format!("pid: {first}"));

    both_exit(&m, &["start"], 6);
    both_exit(&m, &["alarm", "on"], 7);
    assert_exit(&m.original(&["alarm", "off"]), 0);
    m.wait_alarm('x');
    assert_exit(&m.ours(&["alarm", "off"]), 7);
    assert_exit(&m.ours(&["alarm", "on"]), 0);
    assert_eq!(m.alarm_byte(), 'o');
    assert_exit(&m.original(&["alarm", "on"]), 7);

    // restart: the original kills the session's processes; supervise
    // restarts the service.
    let output = m.original(&["restart"]);
    assert_exit(&output, 0);
    assert!(!stdout(&output).contains("Error"), "{}", stdout(&output));
    let second = m.wait_pid("a new service", |pid| pid != 0 && pid != first);
    m.wait_alarm('o');
    assert_exit(&m.ours(&["restart"]), 0);
    let third = m.pid();
    assert!(third != 0 && third != second);
    assert_eq!(m.alarm_byte(), 'o');

    let output = m.original(&["stop"]);
    assert_exit(&output, 0);
    assert!(!stdout(&output).contains("Error"), "{}", stdout(&output));
    assert_eq!(m.pid(), 0);
    assert!(!group_alive(third));
    m.wait_alarm('o');
    both_exit(&m, &["stop"], 7);
    both_exit(&m, &["restart"], 7);

    let output = m.original(&["start"]);
    assert_exit(&output, 0);
    assert!(!stdout(&output).contains("Error"), "{}", stdout(&output));
    let fourth = m.wait_pid("the service to run again", |pid| pid != 0);
    both_exit(&m, &["start"], 6);
    assert_exit(&m.original(&["reconf"]), 0);
    assert_eq!(m.supervise_pid(), supervise, "one supervise all along");

    // exit: supervise exits once the service is gone; the script removes ok.
    let output = m.original(&["exit"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).contains("stopped"), "{}", stdout(&output));
    wait_until("supervise to exit", || !alive(supervise));
    assert!(!group_alive(fourth));
    assert!(!m.dir.join("ok").exists());
    both_exit(&m, &["status"], 4);

    // The wrapper starts it again in the same directory.
    let fifth = m.start();
    assert_ne!(m.supervise_pid(), supervise);
    assert_exit(&m.ours(&["status"]), 0);
    assert_eq!(
        line(&m.original(&["status"]), "pid: "),
        format!("pid: {fifth}")
    );
}

#[test]
fn the_control_wrapper_works_with_either_svc() {
    let m = Migration::new("m-control");
    let ours = Path::new(env!("CARGO_BIN_EXE_svc"));
    let original = fixture("svc-original.sh");

    let first = m.start();
    assert_exit(&m.control("restart", ours), 0);
    let second = m.pid();
    assert!(second != 0 && second != first);
    assert_eq!(m.alarm_byte(), 'o');
    assert_exit(&m.control("restart", &original), 0);
    let third = m.wait_pid("a new service", |pid| pid != 0 && pid != second);
    m.wait_alarm('o');

    let supervise = m.supervise_pid();
    assert_exit(&m.control("stop", ours), 0);
    // svc exit returned once ok lost its reader: supervise is exiting.
    wait_until("supervise to exit", || !alive(supervise));
    assert!(!group_alive(third));

    let fourth = m.start();
    let supervise = m.supervise_pid();
    assert_exit(&m.control("stop", &original), 0);
    wait_until("supervise to exit", || !alive(supervise));
    assert!(!group_alive(fourth));
    assert_exit(&m.ours(&["status"]), 4);
}

#[test]
fn killing_as_the_readme_says_stops_service_and_supervise() {
    // The seed README: the pid from the status file, supervise as its
    // parent, `kill -15` to both.
    let m = Migration::new("m-readme");
    let pid = m.start();
    let supervise = m.supervise_pid();
    let script = "pid=$(od -An -j16 -N4 -tu4 status/redis/status | tr -d ' ')
        sv_pid=$(grep PPid /proc/$pid/status | awk '{print $2}')
        kill -15 $sv_pid
        kill -15 $pid 2>/dev/null";
    let output = Command::new("sh")
        .args(["-c", script])
        .current_dir(m.tmp.path())
        .output()
        .unwrap();
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    wait_until("supervise to exit", || !alive(supervise));
    wait_until("the service to be gone", || !group_alive(pid));
    assert_exit(&m.ours(&["status"]), 4);
    assert_exit(&m.original(&["status"]), 0);
}
