//! `event_command` (issue 16 item 5): run without a shell on every state
//! change with the alarm variables and the event, one at a time per
//! service, later events queued (bounded, the dropped ones counted), a
//! hanging one killed at `alarm_timeout` while supervision goes on.

mod support;

use std::fs;

use support::*;

fn start(tag: &str, conf: &str, hook: &str) -> Supervise {
    let dir = TempDir::new(tag);
    let hook = dir.script("event.sh", hook);
    dir.write(
        "supervise.conf",
        &format!(
            "[svc]\nalarm_interval: 0\n{conf}event_command: {}\n",
            hook.display()
        ),
    );
    Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[])
}

fn events(sup: &Supervise) -> Vec<String> {
    fs::read_to_string(sup.dir.join("events"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_state_change_runs_the_command_in_order_with_its_facts() {
    let mut sup = start(
        "events-order",
        "",
        "echo \"$1 $2 pid=$SUPERVISE_PID signal=$SUPERVISE_SIGNAL_NAME code=$SUPERVISE_EXIT_CODE\" >> events\n",
    );
    let first = sup.wait_running();
    wait_until("the start and ready events", || events(&sup).len() == 2);
    kill(first, libc::SIGKILL);
    let second = sup.wait_new_pid(first);
    wait_until("exit, start, ready", || events(&sup).len() == 5);
    sup.control("d");
    sup.wait_down();
    wait_until("stop and exit", || events(&sup).len() == 7);
    assert_eq!(
        events(&sup),
        [
            format!("svc start pid={first} signal= code="),
            format!("svc ready pid={first} signal= code="),
            format!("svc exit pid={first} signal=SIGKILL code="),
            format!("svc start pid={second} signal= code="),
            format!("svc ready pid={second} signal= code="),
            format!("svc stop pid={second} signal= code="),
            format!("svc exit pid={second} signal=SIGTERM code="),
        ]
    );
}

#[test]
fn a_hanging_event_command_is_killed_and_later_events_wait_bounded() {
    // The first run hangs; meanwhile the service crashes again and again.
    let mut sup = start(
        "events-hang",
        "alarm_timeout: 2\nrestart_backoff_start: 0\nrestart_backoff_max: 0\n",
        "echo \"$2 dropped=$SUPERVISE_EVENTS_DROPPED\" >> events\n\
         [ ! -e hung ] && echo $$ > hung && exec sleep 1000\nexit 0\n",
    );
    let mut pid = sup.wait_running();
    wait_until("the first run hangs", || {
        fs::read_to_string(sup.dir.join("hung")).is_ok_and(|t| !t.trim().is_empty())
    });
    let hung: u32 = fs::read_to_string(sup.dir.join("hung"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(hung));
    // Supervision goes on: 15 crashes, each restarted at once (45 events:
    // exit, start, ready).
    for _ in 0..15 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    assert_eq!(events(&sup).len(), 1, "one run at a time");
    sup.wait_log_wf("did not finish in time: killed");
    wait_until("the hung run is gone", || !alive(hung));
    wait_until("the queued events ran", || events(&sup).len() == 1 + 16);
    let lines = events(&sup);
    // The oldest 30 of the 46 waiting were dropped; the next run is told.
    assert_eq!(lines[1], "ready dropped=30", "{lines:?}");
    assert!(
        lines[2..].iter().all(|l| l.ends_with("dropped=0")),
        "{lines:?}"
    );
    assert!(
        sup.log_wf().contains("event_command: 30 event(s) dropped"),
        "{}",
        sup.log_wf()
    );
    assert!(alive(pid));
}

#[test]
fn ready_comes_when_a_service_that_declares_readiness_says_so() {
    let dir = TempDir::new("events-ready");
    let hook = dir.script("event.sh", "echo \"$2\" >> events\n");
    let service = dir.script("service.sh", "read go < go\necho >&3\nexec sleep 1000\n");
    let fifo = std::ffi::CString::new(dir.join("go").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    dir.write(
        "supervise.conf",
        &format!(
            "[svc]\nnotification_fd: 3\nevent_command: {}\n",
            hook.display()
        ),
    );
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", service.to_str().unwrap()],
        &[],
    );
    sup.wait_running();
    wait_until("the start event", || events(&sup) == ["start"]);
    fs::write(sup.dir.join("go"), "go\n").unwrap();
    wait_until("then ready", || events(&sup) == ["start", "ready"]);
}
