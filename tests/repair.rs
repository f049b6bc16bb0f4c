//! The status directory damaged while supervise runs, as tmp cleaners,
//! `rm -rf` and hurried operators do: supervise notices the next time it
//! wakes (a control byte, the service's exit, any signal: `kill -HUP`,
//! otherwise ignored, makes it look at once) and puts it right, so that
//! `svc` and the original's scripts keep working. It holds no inotify
//! instance for this (a user has only 128 of them; see docs/faults.md), so
//! nothing wakes it while it is idle, and these tests wake it.

mod support;

use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::time::Duration;

use support::*;

fn is_fifo(path: &std::path::Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Whether a FIFO at `path` has a reader (opening it to write succeeds).
fn has_reader(path: &std::path::Path) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .is_ok()
}

#[test]
fn control_and_ok_removed_while_running_are_made_again() {
    let mut sup = Supervise::start("rm-fifos", "sleep 1000");
    let pid = sup.wait_running();
    let (control, ok) = (sup.status_dir.join("control"), sup.status_dir.join("ok"));
    std::fs::remove_file(&control).unwrap();
    std::fs::remove_file(&ok).unwrap();
    // Nothing wakes an idle supervise: the service's exit does.
    kill(pid, libc::SIGKILL);
    let pid = sup.wait_new_pid(pid);
    wait_until("control and ok are FIFOs again, read by supervise", || {
        is_fifo(&control) && is_fifo(&ok) && has_reader(&control) && has_reader(&ok)
    });
    sup.wait_log_wf("status/svc/control: was removed: made again");
    sup.control("d");
    wait_until("d is obeyed through the new control", || !alive(pid));
    sup.wait_down();
}

#[test]
fn a_control_replaced_by_a_regular_file_is_a_fifo_again() {
    let mut sup = Supervise::start("control-file", "sleep 1000");
    let pid = sup.wait_running();
    // What `echo d > control` does when the FIFO has just vanished.
    let tmp = sup.status_dir.join("control.tmp");
    std::fs::write(&tmp, "d").unwrap();
    std::fs::rename(&tmp, sup.status_dir.join("control")).unwrap();
    kill(sup.pid(), libc::SIGHUP);
    sup.wait_log_wf("was a regular file (written while the FIFO was missing?): replaced by a FIFO");
    assert!(is_fifo(&sup.status_dir.join("control")));
    assert!(alive(pid), "what the file held was not obeyed");
    sup.control("k");
    sup.wait_new_pid(pid);
}

#[test]
fn the_status_directory_removed_while_running_is_made_again() {
    let mut sup = Supervise::start("rm-dir", "sleep 1000");
    let pid = sup.wait_running();
    // `rm -rf` races with the repair (and may fail with "Directory not
    // empty"): supervise is stopped meanwhile, and catches up when continued.
    kill(sup.pid(), libc::SIGSTOP);
    wait_until("supervise is stopped", || state(sup.pid()) == Some('T'));
    std::fs::remove_dir_all(&sup.status_dir).unwrap();
    kill(sup.pid(), libc::SIGCONT);
    let dir = sup.status_dir.clone();
    wait_until("the directory, its FIFOs and its status are back", || {
        is_fifo(&dir.join("control"))
            && is_fifo(&dir.join("ok"))
            && supervise::status::read(&dir).is_ok_and(|s| s.pid == pid)
    });
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(
        supervise::sys::lock::holder_pid(&dir.join("lock")),
        Some(sup.pid()),
        "the new lock is held, and its record names supervise"
    );
    sup.wait_log_wf("status directory");
    assert!(
        sup.log_wf().contains("was removed: made again"),
        "{}",
        sup.log_wf()
    );
    // Supervision goes on in it: a restart, whose output goes to a new file.
    kill(pid, libc::SIGKILL);
    let new = sup.wait_new_pid(pid);
    wait_until("a new __stdout", || dir.join("__stdout").exists());
    assert!(alive(new));
}

#[test]
fn a_lock_removed_while_running_is_made_again_and_keeps_a_second_supervise_out() {
    let mut sup = Supervise::start("rm-lock-repair", "sleep 1000");
    sup.wait_running();
    let lock = sup.status_dir.join("lock");
    std::fs::remove_file(&lock).unwrap();
    kill(sup.pid(), libc::SIGHUP);
    wait_until("the lock is back and names supervise", || {
        supervise::sys::lock::holder_pid(&lock) == Some(sup.pid())
    });
    let out = run(sup.dir.path(), &["-p", "status/svc", "-f", "sleep 1000"]);
    let _detached = Detached(sup.status_dir.clone());
    assert_eq!(out.status.code(), Some(111));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "supervise already running for status/svc, pid {}",
            sup.pid()
        )),
        "{err}"
    );
}

#[test]
fn a_fifo_mode_loosened_while_running_is_tightened_again() {
    let mut sup = Supervise::start("chmod-fifo", "sleep 1000");
    sup.wait_running();
    let control = sup.status_dir.join("control");
    std::fs::set_permissions(&control, std::fs::Permissions::from_mode(0o666)).unwrap();
    kill(sup.pid(), libc::SIGHUP);
    wait_until("control is 0600 again", || {
        std::fs::metadata(&control).unwrap().permissions().mode() & 0o777 == 0o600
    });
    sup.wait_log_wf("status/svc/control: could be used by others: tightened to 0600");
}

#[test]
fn with_its_working_directory_removed_supervise_goes_on_and_stops_cleanly() {
    // Relative paths resolve against a removed directory: nothing can be
    // made again, which is retried with back-off; supervise still
    // supervises (signals, the service) and never spins.
    let mut sup = Supervise::start("rm-cwd", "sleep 1000");
    let pid = sup.wait_running();
    // Stopped meanwhile, or it would make the directory again as it goes.
    kill(sup.pid(), libc::SIGSTOP);
    wait_until("supervise is stopped", || state(sup.pid()) == Some('T'));
    std::fs::remove_dir_all(sup.dir.path()).unwrap();
    kill(sup.pid(), libc::SIGCONT);
    let before = context_switches(sup.pid());
    // Observing for a span is the point here: retries are on a back-off.
    std::thread::sleep(Duration::from_secs(3));
    let woken = context_switches(sup.pid()) - before;
    assert!(woken < 100, "{woken} wake-ups in 3 s: a busy loop");
    assert!(sup.running() && alive(pid));
    kill(sup.pid(), libc::SIGTERM);
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert!(!alive(pid), "the service was stopped");
}

#[test]
fn an_idle_supervise_holds_no_inotify_instance_and_never_wakes() {
    let mut sup = Supervise::start("no-inotify", "sleep 1000");
    let pid = sup.wait_running();
    assert_eq!(inotify_instances(sup.pid()), 0);
    // Its directory damaged while it sleeps: still no wake-up, until one.
    wait_until("supervise sleeps", || state(sup.pid()) == Some('S'));
    wait_asleep(sup.pid());
    let before = context_switches(sup.pid());
    std::fs::set_permissions(
        sup.status_dir.join("control"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    // Observing for a span is the point here: nothing may wake it.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(context_switches(sup.pid()) - before, 0, "woken while idle");
    sup.control("k");
    sup.wait_new_pid(pid);
    sup.wait_log_wf("status/svc/control: could be used by others: tightened to 0600");
}
