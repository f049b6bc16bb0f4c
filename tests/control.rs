//! Control bytes (SPEC §4) and stopping: each byte's effect on the child and
//! on the status bytes, several bytes per write, unknown bytes, stop
//! escalation and whole-group stops, SIGTERM to supervise.

mod support;

use support::*;

/// Supervises a shell script with `body` (`-f` splits on blanks, no quoting).
fn start_script(tag: &str, body: &str) -> Supervise {
    start_script_in(TempDir::new(tag), body)
}

/// The same in a prepared directory (a supervise.conf in it, say).
fn start_script_in(dir: TempDir, body: &str) -> Supervise {
    let script = dir.script("run.sh", body);
    Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    )
}

#[test]
fn down_and_up() {
    let mut sup = Supervise::start("down-up", "sleep 1000");
    let first = sup.wait_running();
    sup.control("d");
    sup.wait_down();
    wait_until("the child is gone", || !alive(first));
    assert_eq!(sup.status().want, Want::Down);
    sup.wait_log("control: received d");
    sup.control("u");
    let second = sup.wait_new_pid(first);
    assert!(alive(second));
    assert_eq!(sup.status().want, Want::Up);
}

#[test]
fn a_loose_control_fifo_owned_by_someone_else_is_replaced_by_one_of_our_own() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: skipping the run as another user");
        return;
    }
    // Here root made the FIFO, mode 0666 (anyone may steal or write
    // commands), and user nobody runs supervise, which may not chmod it but
    // owns the directory: it is replaced by a FIFO of supervise's own.
    let dir = TempDir::new("foreign-fifo");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    let c_dir = std::ffi::CString::new(status_dir.to_str().unwrap()).unwrap();
    let control = std::ffi::CString::new(status_dir.join("control").to_str().unwrap()).unwrap();
    // SAFETY: both are valid C strings for the duration of the calls.
    unsafe {
        assert_eq!(libc::chown(c_dir.as_ptr(), 65534, 65534), 0, "chown");
        assert_eq!(libc::mkfifo(control.as_ptr(), 0o666), 0, "mkfifo");
        assert_eq!(libc::chmod(control.as_ptr(), 0o666), 0, "chmod");
    }
    let mut sup = Supervise::start_as_nobody(dir, &["-p", "status/svc", "-f", "sleep 1000"]);
    let first = sup.wait_running();
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(sup.status_dir.join("control")).unwrap();
    assert_eq!((meta.uid(), meta.mode() & 0o777), (65534, 0o600));
    sup.wait_log_wf("was not ours: replaced by a FIFO of our own, mode 0600");
    sup.control("d");
    sup.wait_down();
    wait_until("the child is gone", || !alive(first));
}

#[test]
fn once_runs_without_restart() {
    let mut sup = Supervise::start("once", "sleep 1000");
    let first = sup.wait_running();
    sup.control("o");
    wait_until("want byte 0", || sup.status().want == Want::Once);
    sup.control("k");
    sup.wait_down();
    sup.wait_log("service exited!");
    assert_eq!(sup.status().pid, 0, "not restarted after o");
    assert!(!alive(first));
}

#[test]
fn pause_and_continue() {
    let mut sup = Supervise::start("pause", "sleep 1000");
    let pid = sup.wait_running();
    sup.control("p");
    wait_until("the child is stopped", || state(pid) == Some('T'));
    // A flag-only change reaches the status file within 2 ms.
    wait_until("the paused byte is set", || sup.status().paused);
    sup.control("c");
    wait_until("the child runs again", || state(pid) == Some('S'));
    wait_until("the paused byte is cleared", || !sup.status().paused);
}

#[test]
fn signal_bytes_reach_the_child() {
    let mut sup = start_script(
        "signals",
        "for s in HUP ALRM INT TERM; do trap \"echo $s >> got\" $s; done\n\
         echo ready > ready\n\
         while :; do sleep 0.05; done",
    );
    let pid = sup.wait_running();
    let ready = sup.dir.join("ready");
    wait_until("the script set its traps", || ready.exists());
    let got = sup.dir.join("got");
    for (byte, name) in [("h", "HUP"), ("a", "ALRM"), ("i", "INT"), ("t", "TERM")] {
        sup.control(byte);
        wait_until(&format!("the child reports {name}"), || {
            std::fs::read_to_string(&got).is_ok_and(|t| t.lines().any(|l| l == name))
        });
    }
    assert_eq!(sup.status().pid, pid, "trapped signals do not end it");
    sup.control("k");
    sup.wait_new_pid(pid);
}

#[test]
fn alarm_bytes() {
    let mut sup = Supervise::start("alarm-bytes", "sleep 1000");
    sup.wait_running();
    sup.control("s");
    wait_until("alarms silenced", || !sup.status().alarms_on);
    let bytes = std::fs::read(sup.status_dir.join("status")).unwrap();
    assert_eq!(bytes[14], b'x');
    sup.control("n");
    wait_until("alarms on", || sup.status().alarms_on);
}

#[test]
fn several_bytes_in_one_write_and_unknown_bytes() {
    let mut sup = Supervise::start("multi", "sleep 1000");
    let pid = sup.wait_running();
    sup.control("Z?\n");
    sup.wait_log_wf("ignored 3 unknown control byte(s)");
    assert!(sup.running());
    sup.control("dx");
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert!(!alive(pid));
    assert_eq!(sup.status().pid, 0);
}

#[test]
fn exit_waits_for_the_service_and_does_not_restart_it() {
    let mut sup = Supervise::start("exit", "sleep 1000");
    let pid = sup.wait_running();
    sup.control("x");
    sup.wait_log("control: received x");
    assert!(sup.running(), "x does not stop the service");
    assert!(alive(pid));
    kill(pid, libc::SIGTERM);
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert_eq!(sup.status().pid, 0);
    assert!(!sup.log().contains("trying to restart"));
}

#[test]
fn stop_escalates_to_kill_when_term_is_ignored() {
    let dir = TempDir::new("stubborn");
    dir.write("supervise.conf", "[global]\nstop_timeout : 1\n");
    let mut sup = start_script_in(
        dir,
        "trap '' TERM\necho ready > ready\nwhile :; do sleep 0.05; done",
    );
    let pid = sup.wait_running();
    let ready = sup.dir.join("ready");
    wait_until("the script ignores TERM", || ready.exists());
    sup.control("d");
    sup.wait_log_wf("sending KILL to process group");
    sup.wait_down();
    wait_until("the whole group is gone", || group_members(pid).is_empty());
}

#[test]
fn stop_leaves_no_grandchild_alive() {
    let mut sup = start_script("grandchildren", "sleep 1000 & sleep 1000 & wait");
    let pid = sup.wait_running();
    wait_until("three processes in the group", || {
        group_members(pid).len() == 3
    });
    sup.control("d");
    sup.wait_down();
    wait_until("no member of the group is left", || {
        group_members(pid).is_empty()
    });
}

#[test]
fn leftover_group_members_are_stopped_before_a_restart() {
    // The first run leaves a grandchild behind and exits; the second notes
    // whether the grandchild still lives as it starts, and stays.
    let mut sup = start_script(
        "leftover",
        "if [ -e ran ]; then\n\
         \x20 if kill -0 $(cat grandchild) 2>/dev/null; then echo alive; else echo gone; fi > seen.tmp\n\
         \x20 mv seen.tmp seen\n\
         \x20 exec sleep 1000\n\
         fi\n\
         touch ran\nsleep 1000 &\necho $! > grandchild\nexit 3",
    );
    sup.wait_log_wf("outlived the service");
    let grandchild: u32 = std::fs::read_to_string(sup.dir.join("grandchild"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    sup.wait_running();
    let seen = sup.dir.join("seen");
    wait_until("the second run looks for the grandchild", || seen.exists());
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap().trim(),
        "gone",
        "the old group was stopped before the restart"
    );
    assert!(!alive(grandchild));
}

#[test]
fn sigterm_to_supervise_stops_the_service_and_exits() {
    let mut sup = start_script("sigterm", "sleep 1000 & wait");
    let pid = sup.wait_running();
    wait_until("two processes in the group", || {
        group_members(pid).len() == 2
    });
    kill(sup.pid(), libc::SIGTERM);
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert_eq!(sup.status().pid, 0);
    assert!(group_members(pid).is_empty(), "no orphan left behind");
    assert!(!sup.log().contains("trying to restart"));
}

#[test]
fn other_users_cannot_control_the_service() {
    if unsafe { libc::geteuid() } != 0 {
        return eprintln!("not root: cannot act as another user");
    }
    let mut sup = Supervise::start("foreign-user", "sleep 1000");
    let pid = sup.wait_running();
    // User nobody may not reach the FIFOs (the directory is 0700 and the
    // FIFOs 0600), nor signal supervise.
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .args(["sh", "-c", "printf dx > \"$0/control\"; kill -TERM $1"])
        .arg(&sup.status_dir)
        .arg(sup.pid().to_string())
        .current_dir("/")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Permission denied"), "{err}");
    assert!(sup.running());
    assert_eq!(sup.status().pid, pid);
    assert!(alive(pid));
}

#[test]
fn shell_metacharacters_in_the_command_are_never_run() {
    // -f splits on blanks and execs: no shell sees `;`, `$(...)` or `>`.
    let dir = TempDir::new("metachar");
    let sup = Supervise::start_with(
        dir,
        &[
            "-p",
            "status/svc",
            "-f",
            "echo $(touch pwned1) ;touch pwned2 >pwned3 `touch pwned4` && sleep 1000",
        ],
        &[],
    );
    sup.wait_log("service exited!");
    wait_until("the words were echoed", || {
        sup.file("__stdout")
            .contains("$(touch pwned1) ;touch pwned2 >pwned3 `touch pwned4` && sleep 1000")
    });
    for n in 1..=4 {
        assert!(!sup.dir.join(&format!("pwned{n}")).exists(), "pwned{n}");
    }
}
