//! The `history` file (docs/status-files.md): one line per exit, the
//! cause, kept across a SIGKILL of supervise, bounded, a torn line left by
//! a crash mid-write ignored, and `svc history` reading what supervise
//! wrote.

mod support;

use std::process::Command;
use std::time::Duration;

use supervise::info::{Cause, Exited, parse_history};
use supervise::supervisor::Exit;
use support::*;

fn history(sup: &Supervise) -> Vec<Exited> {
    parse_history(&sup.file("history"))
}

fn start(tag: &str, conf: &str, command: &str) -> Supervise {
    let dir = TempDir::new(tag);
    dir.write("supervise.conf", conf);
    Supervise::start_with(dir, &["-p", "status/svc", "-f", command], &[])
}

#[test]
fn each_exit_is_one_line_with_its_cause() {
    let mut sup = start("history-cause", "[svc]\nalarm_interval: 0\n", "sleep 1000");
    let first = sup.wait_running();
    kill(first, libc::SIGKILL);
    let second = sup.wait_new_pid(first);
    wait_until("the crash is in history", || history(&sup).len() == 1);
    sup.control("d");
    sup.wait_down();
    wait_until("the stop is in history", || history(&sup).len() == 2);
    let lines = history(&sup);
    assert_eq!(lines[0].pid, first);
    assert_eq!(
        lines[0].exit,
        Exit::Signal {
            signal: 9,
            core: false
        }
    );
    assert_eq!(lines[0].cause, Cause::Crash);
    assert_eq!((lines[1].pid, lines[1].cause), (second, Cause::Asked));
    assert_eq!(
        lines[1].exit,
        Exit::Signal {
            signal: 15,
            core: false
        }
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!(
        lines
            .iter()
            .all(|l| l.time <= now && l.time + DEADLINE > now)
    );
    // Every line is complete, and `svc history` prints them.
    assert!(sup.file("history").ends_with('\n'));
    let out = Command::new(env!("CARGO_BIN_EXE_svc"))
        .arg("history")
        .arg(&sup.status_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&first.to_string()) && text.contains("asked"),
        "{text}"
    );
}

#[test]
fn history_survives_a_sigkill_of_supervise_and_a_torn_last_line() {
    let conf = "[svc]\nalarm_interval: 0\n";
    let mut sup = start("history-kill", conf, "sleep 1000");
    let first = sup.wait_running();
    kill(first, libc::SIGKILL);
    let second = sup.wait_new_pid(first);
    wait_until("one exit recorded", || history(&sup).len() == 1);
    // supervise dies without a word; a crash mid-write left half a line.
    kill(sup.pid(), libc::SIGKILL);
    sup.wait_exit();
    kill_group(second, libc::SIGKILL);
    let path = sup.status_dir.join("history");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("time=17646212 pid=12");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(parse_history(&text).len(), 1, "readers skip the torn line");

    let dir = std::mem::replace(&mut sup.dir, TempDir::new("history-kill-spare"));
    let mut again = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let third = again.wait_new_pid(second);
    kill(third, libc::SIGKILL);
    again.wait_new_pid(third);
    wait_until("the new supervise appends", || history(&again).len() == 2);
    let lines = history(&again);
    assert_eq!(lines[0].pid, first, "the old line is kept");
    assert_eq!(lines[1].pid, third);
    let text = again.file("history");
    assert!(
        text.contains("pid=12\ntime="),
        "the torn line is ended before the new one: {text:?} {}",
        again.log_wf()
    );
}

#[test]
fn history_is_bounded_and_0_turns_it_off() {
    // A crash loop with no back-off: 3 lines kept, compacted at 6.
    let conf = "[svc]\nalarm_interval: 0\nhistory_size: 3\nrestart_backoff_start: 0\n\
                restart_backoff_max: 0\n";
    let mut sup = start("history-bounded", conf, "false");
    wait_until_for(Duration::from_secs(60), "20 exits logged", || {
        sup.log().matches("service exited!").count() >= 20
    });
    let text = sup.file("history");
    let lines = text.lines().count();
    // 3 to 6 lines: compacted to 3 whenever an append made 6 (a read
    // between that append and the compaction's rename sees the 6).
    assert!((3..=6).contains(&lines), "{lines} lines: {text}");
    assert!(
        sup.log_wf().lines().all(|l| !l.contains("history")),
        "{}",
        sup.log_wf()
    );
    assert!(history(&sup).iter().all(|e| e.exit == Exit::Code(1)));
    // While the loop runs, a compaction may be between its write and its
    // rename; once it is down and supervise sleeps, none is left over.
    sup.control("d");
    sup.wait_down();
    wait_asleep(sup.pid());
    assert!(!sup.status_dir.join("history.new").exists());

    let off = start(
        "history-off",
        "[svc]\nalarm_interval: 0\nhistory_size: 0\n",
        "false",
    );
    wait_until("a few exits", || {
        off.log().matches("service exited!").count() >= 3
    });
    assert!(!off.status_dir.join("history").exists());
}

#[test]
fn a_fifo_in_the_place_of_history_never_blocks_supervise() {
    let dir = TempDir::new("history-fifo");
    dir.write("supervise.conf", "[svc]\nalarm_interval: 0\n");
    std::fs::create_dir_all(dir.join("status/svc")).unwrap();
    let fifo = dir.join("status/svc/history");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let first = sup.wait_running();
    kill(first, libc::SIGKILL);
    let second = sup.wait_new_pid(first);
    sup.wait_log_wf("cannot write status/svc/history");
    // Supervision goes on: the next crash is restarted too.
    kill(second, libc::SIGKILL);
    sup.wait_new_pid(second);
    assert_eq!(
        sup.log_wf().matches("history").count(),
        1,
        "said once: {}",
        sup.log_wf()
    );
}
