//! `svc` against our real supervise, run in the foreground as a child of the
//! test so the guard knows its pid and kills it, and every service pid it
//! saw (with its process group), when the test ends.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use supervise::status::{self, Status, Want};

use crate::listing::{json_field, od_pid};
use crate::support::*;

/// A foreground supervise on `TMP/status/svc`, working directory TMP.
pub struct Real {
    pub tmp: TempDir,
    pub dir: PathBuf,
    pub child: Option<Child>,
    seen: Vec<u32>,
}

impl Real {
    pub fn start(test: &str, command: &str) -> Real {
        Real::start_in(TempDir::new(test), command, None)
    }

    /// Runs `body` as a shell script (supervise's `-f` splits on blanks and
    /// knows no quoting, so scripts go in a file).
    pub fn start_script(test: &str, body: &str) -> Real {
        let tmp = TempDir::new(test);
        let script = tmp.path().join("run.sh");
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let command = script.to_str().unwrap().to_string();
        Real::start_in(tmp, &command, None)
    }

    pub fn start_in(tmp: TempDir, command: &str, path: Option<OsString>) -> Real {
        let mut supervise = Command::new(env!("CARGO_BIN_EXE_supervise"));
        supervise
            .args(["-p", "status/svc", "-f", command])
            .current_dir(tmp.path())
            .env("SUPERVISE_FOREGROUND", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(path) = path {
            supervise.env("PATH", path);
        }
        let child = supervise.spawn().expect("spawn supervise");
        let dir = tmp.path().join("status/svc");
        let mut real = Real {
            tmp,
            dir,
            child: Some(child),
            seen: Vec::new(),
        };
        real.wait_status("supervise to start the service", |s| s.pid != 0);
        real
    }

    pub fn status(&mut self) -> Status {
        let status = status::read(&self.dir).expect("readable status");
        if status.pid != 0 && !self.seen.contains(&status.pid) {
            self.seen.push(status.pid);
        }
        status
    }

    pub fn wait_status(&mut self, what: &str, mut test: impl FnMut(&Status) -> bool) -> Status {
        let dir = self.dir.clone();
        wait_until(what, || status::read(&dir).is_ok_and(|s| test(&s)));
        self.status()
    }

    /// `svc WORDS...` with the status directory wherever `DIR` stands.
    pub fn svc(&mut self, words: &[&str]) -> Output {
        let args: Vec<OsString> = words
            .iter()
            .map(|&w| {
                if w == "DIR" {
                    self.dir.clone().into_os_string()
                } else {
                    w.into()
                }
            })
            .collect();
        let output = svc(&args);
        self.status();
        output
    }

    /// Waits for supervise to exit; its exit status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let child = self.child.as_mut().unwrap();
        let mut status = None;
        wait_until("supervise to exit", || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }

    /// Waits for the service's script to create `ready` (its traps are set).
    pub fn wait_ready(&self) {
        let ready = self.tmp.path().join("ready");
        wait_until("the service's traps to be set", || ready.exists());
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join(name)).unwrap_or_default()
    }
}

impl Drop for Real {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Ok(status) = status::read(&self.dir) {
            self.seen.push(status.pid);
        }
        for &pid in &self.seen {
            if pid > 1 {
                let _ = kill(Pid::from_raw(-(pid as i32)), Signal::SIGKILL);
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        }
    }
}

#[test]
fn status_shows_the_original_lines() {
    let mut real = Real::start("r-status", "sleep 1000");
    let pid = real.status().pid;
    let output = real.svc(&["DIR", "status"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "showing status...");
    assert_eq!(lines[1], format!("pid: {pid}"));
    assert!(lines[2].starts_with("start time: 20"), "{text}");
    assert_eq!(lines[3], "alarm: ON");
    let supervise = real.child.as_ref().unwrap().id();
    assert!(
        text.contains(&format!("\nsupervise pid: {supervise}\n")),
        "{text}"
    );
}

#[test]
fn stop_then_start() {
    let mut real = Real::start("r-stopstart", "sleep 1000");
    let old = real.status().pid;
    let output = real.svc(&["DIR", "stop"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("svc: stopped (pid {old} and its process group are gone)\n")
    );
    let status = real.status();
    assert_eq!((status.pid, status.want), (0, Want::Down));
    assert!(!group_alive(old));
    // Alarms were on: svc turned them back on; give supervise the byte.
    real.wait_status("alarms back on", |s| s.alarms_on);
    assert_exit(&real.svc(&["DIR", "stop"]), 7);

    let output = real.svc(&["DIR", "start"]);
    assert_exit(&output, 0);
    let status = real.status();
    assert_ne!(status.pid, 0);
    assert_eq!(
        stdout(&output),
        format!("svc: started, pid {}\n", status.pid)
    );
    assert_exit(&real.svc(&["DIR", "start"]), 6);
}

#[test]
fn restart_runs_a_new_pid_and_keeps_alarms_as_they_were() {
    let mut real = Real::start("r-restart", "sleep 1000");
    let first = real.status().pid;
    let output = real.svc(&["DIR", "restart"]);
    assert_exit(&output, 0);
    let second = real.status().pid;
    assert_ne!(second, first);
    assert_eq!(
        stdout(&output),
        format!("svc: restarted, pid {first} -> {second}\n")
    );
    assert!(!group_alive(first));
    real.wait_status("alarms back on", |s| s.alarms_on);

    assert_exit(&real.svc(&["DIR", "alarm", "off"]), 0);
    assert!(!real.status().alarms_on);
    assert_exit(&real.svc(&["DIR", "restart"]), 0);
    let third = real.status();
    assert!(third.pid != second && third.pid != 0);
    assert!(!third.alarms_on, "alarms that were off stay off");
    assert_exit(&real.svc(&["DIR", "alarm", "on"]), 0);
    assert!(real.status().alarms_on);
}

#[test]
fn restart_of_a_stopped_service_is_refused() {
    let mut real = Real::start("r-restartdown", "sleep 1000");
    assert_exit(&real.svc(&["DIR", "stop"]), 0);
    let output = real.svc(&["DIR", "restart"]);
    assert_exit(&output, 7);
    assert!(stderr(&output).contains("use start"));
}

#[test]
fn stop_waits_for_group_members_that_outlive_the_leader() {
    // The background member ignores TERM and lives 3 s; the leader dies at
    // once. svc stop must not return while the member lives.
    let mut real = Real::start_script(
        "r-straggler",
        "(trap '' TERM; touch ready; exec sleep 3) & exec sleep 1000",
    );
    let pid = real.status().pid;
    real.wait_ready();
    wait_until("the group to have two members", || {
        group_members(pid).len() == 2
    });
    let output = real.svc(&["DIR", "stop"]);
    assert_exit(&output, 0);
    assert!(!group_alive(pid), "svc stop returned while the group lived");
}

#[test]
fn stop_of_a_service_that_ignores_term_ends_with_kill() {
    // TERM first: the trap records it; KILL after supervise's stop timeout.
    let mut real = Real::start_script(
        "r-ignoreterm",
        "trap 'echo term >> got-term' TERM; touch ready; while :; do sleep 0.2; done",
    );
    let pid = real.status().pid;
    real.wait_ready();
    let output = real.svc(&["DIR", "stop"]);
    assert_exit(&output, 0);
    assert!(!group_alive(pid));
    assert!(real.file("got-term").starts_with("term"), "TERM came first");
}

#[test]
fn stop_that_times_out_restores_alarms_and_exits_9() {
    let mut real = Real::start_script(
        "r-stoptimeout",
        "trap '' TERM; touch ready; while :; do sleep 0.2; done",
    );
    real.wait_ready();
    let output = real.svc(&["-w", "0.5", "DIR", "stop"]);
    assert_exit(&output, 9);
    assert!(
        stderr(&output).contains("timed out after 0.5s"),
        "{}",
        stderr(&output)
    );
    real.wait_status("alarms back on after the timeout", |s| s.alarms_on);
    // supervise still finishes the stop with KILL.
    real.wait_status("the service down", |s| s.pid == 0);
}

#[test]
fn exit_stops_the_service_and_supervise() {
    let mut real = Real::start("r-exit", "sleep 1000");
    let pid = real.status().pid;
    let supervise = real.child.as_ref().unwrap().id();
    let output = real.svc(&["DIR", "exit"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("svc: service and its supervise (pid {supervise}) are gone\n")
    );
    assert!(real.wait_exit().success());
    assert!(!group_alive(pid));
    assert_exit(&real.svc(&["DIR", "status"]), 4);
}

#[test]
fn reconf_is_accepted() {
    let mut real = Real::start("r-reconf", "sleep 1000");
    let output = real.svc(&["DIR", "reconf"]);
    assert_exit(&output, 0);
    assert!(real.child.as_mut().unwrap().try_wait().unwrap().is_none());
}

#[test]
fn od_one_liner_and_json_agree() {
    let mut real = Real::start("r-od", "sleep 1000");
    for step in ["up", "down"] {
        if step == "down" {
            assert_exit(&real.svc(&["DIR", "stop"]), 0);
        }
        let output = real.svc(&["status", "--json", "DIR"]);
        assert_exit(&output, 0);
        let object = stdout(&output);
        assert_eq!(json_field(&object, "pid"), od_pid(&real.dir), "{step}");
        assert_eq!(json_field(&object, "state"), format!("\"{step}\""));
        assert_eq!(json_field(&object, "name"), "\"svc\"");
        let supervise = real.child.as_ref().unwrap().id();
        assert_eq!(json_field(&object, "supervise_pid"), supervise.to_string());
    }
}

#[test]
fn a_killed_supervise_is_reported_with_its_orphan() {
    let mut real = Real::start("r-orphan", "sleep 1000");
    let pid = real.status().pid;
    let mut supervise = real.child.take().unwrap();
    supervise.kill().unwrap();
    supervise.wait().unwrap();
    let output = real.svc(&["status", "DIR"]);
    assert_exit(&output, 4);
    assert!(
        stdout(&output).contains(&format!(
            "pid {pid} from its stale status file is still alive"
        )),
        "{}",
        stdout(&output)
    );
    assert_exit(&real.svc(&["DIR", "stop"]), 4);
    assert_exit(&real.svc(&["-d", "DIR"]), 4);
}

#[test]
fn daemontools_flags_and_waits() {
    let mut real = Real::start("r-flags", "sleep 1000");
    let pid = real.status().pid;
    assert_exit(&real.svc(&["-d", "-w", "down", "DIR"]), 0);
    assert_eq!(real.status().pid, 0);
    assert!(!group_alive(pid));
    assert_exit(&real.svc(&["-uwup", "DIR"]), 0);
    let status = real.status();
    assert_ne!(status.pid, 0);

    assert_exit(&real.svc(&["-p", "DIR"]), 0);
    real.wait_status("paused", |s| s.paused);
    let output = real.svc(&["status", "DIR"]);
    assert!(
        stdout(&output).contains(", paused, want up"),
        "{}",
        stdout(&output)
    );
    assert_exit(&real.svc(&["-c", "DIR"]), 0);
    real.wait_status("continued", |s| !s.paused);

    assert_exit(&real.svc(&["-dx", "-w", "down", "DIR"]), 0);
    assert!(real.wait_exit().success());
}

#[test]
fn stop_and_restart_never_alarm_nor_count_toward_max_tries() {
    // max_tries 1 would give up at the second counted exit; alarms would run
    // the `mail` program, here a script that records its calls.
    let tmp = TempDir::new("r-nocount");
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let mail = bin.join("mail");
    std::fs::write(&mail, "#!/bin/sh\necho \"$@\" >> \"$0.calls\"\n").unwrap();
    std::fs::set_permissions(&mail, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        tmp.path().join("supervise.conf"),
        "[global]\nalarm_interval : 60\nalarm_mail : ops@example.com\nmax_tries : 1\n",
    )
    .unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut real = Real::start_in(tmp, "sleep 1000", Some(path));
    for _ in 0..3 {
        assert_exit(&real.svc(&["DIR", "restart"]), 0);
    }
    assert_exit(&real.svc(&["DIR", "stop"]), 0);
    assert_exit(&real.svc(&["DIR", "start"]), 0);
    assert!(
        real.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "supervise gave up"
    );
    assert!(
        !Path::new(&bin.join("mail.calls")).exists(),
        "an alarm was sent"
    );
    assert!(!real.file("status/svc/supervise.log").contains("refused"));
    // The limits are in force: two crashes in the window alarm and give up.
    for _ in 0..2 {
        let pid = real.wait_status("a running service", |s| s.pid != 0).pid;
        kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        real.wait_status("the crash seen", |s| s.pid != pid);
    }
    real.wait_exit();
    wait_until("the alarm mail", || bin.join("mail.calls").exists());
}

/// Status byte 14 as `od -c` shows it: `o` alarms on, `x` silenced.
fn alarm_byte(dir: &Path) -> char {
    char::from(std::fs::read(dir.join("status")).expect("status file")[14])
}

#[test]
fn restart_and_stop_return_with_alarms_back_on() {
    // A race before: svc sent `n` and returned before supervise had read it.
    let mut real = Real::start("r-alarmback", "sleep 1000");
    for round in 0..10 {
        let before = real.status().pid;
        assert_exit(&real.svc(&["DIR", "restart"]), 0);
        assert_eq!(
            alarm_byte(&real.dir),
            'o',
            "round {round}: right after restart"
        );
        let status = real.status();
        assert!(status.pid != 0 && status.pid != before, "round {round}");
        assert_eq!(status.want, Want::Up, "round {round}");
    }
    for round in 0..5 {
        assert_exit(&real.svc(&["DIR", "stop"]), 0);
        assert_eq!(
            alarm_byte(&real.dir),
            'o',
            "round {round}: right after stop"
        );
        let status = real.status();
        assert_eq!((status.pid, status.want), (0, Want::Down), "round {round}");
        assert_exit(&real.svc(&["DIR", "start"]), 0);
        let status = real.status();
        assert_ne!(status.pid, 0, "round {round}");
        assert_eq!(status.want, Want::Up, "round {round}");
    }
}

#[test]
fn a_service_that_declares_no_readiness_is_ready_when_up() {
    let mut real = Real::start("r-ready", "sleep 1000");
    let pid = real.status().pid;
    // It declares no readiness: supervise's info says ready as it runs.
    let output = real.svc(&["-w", "ready", "DIR"]);
    assert_exit(&output, 0);
    let output = real.svc(&["wait", "ready", "DIR"]);
    assert_exit(&output, 0);
    let output = real.svc(&["DIR", "status"]);
    assert_exit(&output, 0);
    // The original's lines, then info's: `service: ready`.
    assert_eq!(stdout(&output).lines().count(), 7, "{}", stdout(&output));
    assert_eq!(
        stdout(&output).lines().last(),
        Some("service: ready"),
        "{}",
        stdout(&output)
    );
    // wait down sends nothing: it times out while the service runs.
    let output = real.svc(&["-w", "0.2", "wait", "down", "DIR"]);
    assert_exit(&output, 9);
    assert_eq!(real.status().pid, pid);
    let output = real.svc(&["-w", "down", "-d", "DIR"]);
    assert_exit(&output, 0);
    assert!(!group_alive(pid));
    let output = real.svc(&["history", "DIR"]);
    assert_exit(&output, 0);
}
