//! The original verbs (`svc DIR start|stop|...`) against the fake supervise:
//! which bytes reach `control`, in which order, and what svc waits for.

use std::ffi::OsString;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use supervise::status::Want;

use crate::support::*;

fn args(dir: &std::path::Path, words: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![dir.into()];
    args.extend(words.iter().map(OsString::from));
    args
}

fn up(fake: &mut Fake) {
    fake.status.want = Want::Up;
    fake.start_service();
}

#[test]
fn start_sends_u_and_reports_the_new_pid() {
    let tmp = TempDir::new("start");
    let mut fake = Fake::new(tmp.path(), "web");
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["start"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"u");
    let pid = fake.status.pid;
    assert_ne!(pid, 0);
    assert_eq!(stdout(&output), format!("web: started, pid {pid}\n"));
}

#[test]
fn start_of_a_service_running_once_keeps_its_pid() {
    let tmp = TempDir::new("startonce");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Once;
    fake.start_service();
    let pid = fake.status.pid;
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["start"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"u");
    assert_eq!(stdout(&output), format!("web: started, pid {pid}\n"));
    assert_eq!(fake.status.want, Want::Up);
}

#[test]
fn start_during_a_stop_waits_for_the_next_child() {
    let tmp = TempDir::new("startstopping");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.start_service();
    let old = fake.status.pid;
    fake.status.want = Want::Down;
    fake.publish();
    let dir = fake.dir.clone();
    // This supervise finishes the stop, then starts again as `u` asks.
    let output = fake.serve(&args(&dir, &["start"]), |fake, byte| {
        if byte == b'u' {
            fake.stop_service();
        }
        fake.react(byte);
    });
    assert_exit(&output, 0);
    let new = fake.status.pid;
    assert_ne!(new, old);
    assert_eq!(stdout(&output), format!("web: started, pid {new}\n"));
}

#[test]
fn stop_silences_alarms_waits_for_down_then_turns_them_back_on() {
    let tmp = TempDir::new("stop");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    let pid = fake.status.pid;
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["stop"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sdn", "s and d in one write, then n");
    assert!(!group_alive(pid));
    assert_eq!(
        stdout(&output),
        format!("web: stopped (pid {pid} and its process group are gone)\n")
    );
    assert!(fake.status.alarms_on);
}

#[test]
fn stop_leaves_silenced_alarms_silenced() {
    let tmp = TempDir::new("stopquiet");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.alarms_on = false;
    up(&mut fake);
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["stop"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"d");
}

#[test]
fn stop_of_a_crash_looping_service_sends_d() {
    // pid 0 but wanted up: supervise is between restarts; d ends the loop.
    let tmp = TempDir::new("stoploop");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.publish();
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["stop"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sdn");
    assert_eq!(stdout(&output), "web: stopped\n");
}

#[test]
fn stop_waits_for_the_whole_process_group() {
    let tmp = TempDir::new("stopgroup");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    // A leader whose background child stays in its group after it dies.
    fake.start_script("sleep 1000 & exec sleep 1000");
    let pid = fake.status.pid;
    wait_until("the group to have two members", || {
        group_members(pid).len() == 2
    });
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["-w", "1", "stop"]), |fake, byte| {
        if byte == b'd' {
            // Reap the leader only and report the service down.
            let mut service = fake.service.take().unwrap();
            service.term_leader();
            fake.leftovers.push(service);
            fake.status.pid = 0;
            fake.status.want = Want::Down;
            fake.publish();
        } else {
            fake.react(byte);
        }
    });
    assert_exit(&output, 9);
    let text = stderr(&output);
    assert!(text.contains("timed out after 1s"), "{text}");
    assert!(
        text.contains(&format!("process group {pid} still has processes")),
        "{text}"
    );
    assert_eq!(
        fake.received, b"sdn",
        "alarms are turned back on after a timeout"
    );
}

#[test]
fn stop_that_times_out_still_turns_alarms_back_on() {
    let tmp = TempDir::new("stoptimeout");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    fake.obey_down = false;
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["-w", "0.3", "stop"]), Fake::react);
    assert_exit(&output, 9);
    assert!(
        stderr(&output)
            .contains("waiting for: down with its process group gone, want down; now: up (pid"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fake.received, b"sdn");
}

#[test]
fn interrupted_stop_turns_alarms_back_on_and_exits_128_plus_signal() {
    let tmp = TempDir::new("stopint");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    fake.obey_down = false;
    let child = svc_command()
        .arg(&fake.dir)
        .arg("stop")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let svc_pid = child.id();
    let mut interrupted = false;
    let output = fake.serve_child(child, &mut |fake, byte| {
        fake.react(byte);
        if byte == b'd' && !interrupted {
            interrupted = true;
            kill(Pid::from_raw(svc_pid as i32), Signal::SIGINT).unwrap();
        }
    });
    assert_exit(&output, 130);
    assert!(stderr(&output).contains("interrupted by signal 2"));
    assert_eq!(fake.received, b"sdn");
}

#[test]
fn restart_sends_du_with_alarms_silenced_and_reports_both_pids() {
    let tmp = TempDir::new("restart");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    let old = fake.status.pid;
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["restart"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sdun");
    let new = fake.status.pid;
    assert_ne!(new, old);
    assert_eq!(
        stdout(&output),
        format!("web: restarted, pid {old} -> {new}\n")
    );
}

#[test]
fn restart_whose_supervise_exits_reports_it() {
    let tmp = TempDir::new("restartgone");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["restart"]), |fake, byte| {
        if byte == b'u' {
            fake.die();
        } else {
            fake.react(byte);
        }
    });
    assert_exit(&output, 10);
    assert!(stderr(&output).contains("supervise exited while svc waited"));
}

#[test]
fn exit_sends_sdx_and_waits_for_supervise_to_go() {
    let tmp = TempDir::new("exit");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    let pid = fake.status.pid;
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["exit"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sdx");
    assert!(!group_alive(pid));
    let me = std::process::id();
    assert_eq!(
        stdout(&output),
        format!("web: service and its supervise (pid {me}) are gone\n")
    );
}

#[test]
fn exit_waits_until_supervise_is_gone() {
    let tmp = TempDir::new("exitslow");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    let dir = fake.dir.clone();
    // This supervise stops the service but never exits.
    let output = fake.serve(&args(&dir, &["-w", "0.3", "exit"]), |fake, byte| {
        if byte != b'x' {
            fake.react(byte);
        }
    });
    assert_exit(&output, 9);
    assert!(stderr(&output).contains("and its supervise to exit"));
}

#[test]
fn alarm_off_and_on_wait_for_the_status_byte() {
    let tmp = TempDir::new("alarm");
    let mut fake = Fake::new(tmp.path(), "web");
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["alarm", "off"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "web: alarm off\n");
    assert!(!fake.status.alarms_on);
    let output = fake.serve(&args(&dir, &["alarm", "off"]), Fake::react);
    assert_exit(&output, 7);
    let output = fake.serve(&args(&dir, &["alarm", "on"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sn");
}

#[test]
fn reconf_sends_r() {
    let tmp = TempDir::new("reconf");
    let mut fake = Fake::new(tmp.path(), "web");
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["reconf"]), Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"r");
    assert!(stdout(&output).contains("supervise.log"));
}

#[test]
fn status_keeps_the_original_lines_first() {
    let tmp = TempDir::new("status");
    let mut fake = Fake::new(tmp.path(), "web");
    up(&mut fake);
    fake.status.since = Duration::from_secs(1_795_677_165);
    fake.publish();
    let pid = fake.status.pid;
    let output = svc_command()
        .arg(&fake.dir)
        .arg("status")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "showing status...");
    assert_eq!(lines[1], format!("pid: {pid}"));
    assert_eq!(lines[2], "start time: 20261126 07:12:45");
    assert_eq!(lines[3], "alarm: ON");
    assert!(lines[4].starts_with(&format!("state: up (pid {pid}) ")));
    assert_eq!(lines[5], format!("supervise pid: {}", std::process::id()));
    // The local calendar, eight hours east.
    let output = svc_command()
        .arg(&fake.dir)
        .arg("status")
        .env("TZ", "CST-8")
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("\nstart time: 20261126 15:12:45\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn stop_and_restart_wait_until_alarms_are_back_on() {
    // This supervise never reads `n`: svc may not report success.
    for (verb, sent) in [("stop", &b"sdn"[..]), ("restart", b"sdun")] {
        let tmp = TempDir::new("alarmsback");
        let mut fake = Fake::new(tmp.path(), "web");
        up(&mut fake);
        let dir = fake.dir.clone();
        let output = fake.serve(&args(&dir, &["-w", "0.5", verb]), |fake, byte| {
            if byte != b'n' {
                fake.react(byte);
            }
        });
        assert_exit(&output, 9);
        assert!(
            stderr(&output).contains("alarm on"),
            "{verb}: {}",
            stderr(&output)
        );
        assert_eq!(fake.received, sent, "{verb}");
    }
}

#[test]
fn start_of_a_service_running_once_waits_until_it_is_wanted_up() {
    // This supervise never reads `u`: the status file goes on saying `once`.
    let tmp = TempDir::new("startoncewait");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Once;
    fake.start_service();
    let dir = fake.dir.clone();
    let output = fake.serve(&args(&dir, &["-w", "0.5", "start"]), |_, _| {});
    assert_exit(&output, 9);
    assert!(stderr(&output).contains("want once"), "{}", stderr(&output));
}
