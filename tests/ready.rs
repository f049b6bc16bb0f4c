//! `info` as supervise writes it (docs/status-files.md) and readiness
//! (issue 15 items 1-3, issue 16 item 1), end to end: real services, the
//! real `svc` reading what supervise wrote.

mod support;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use supervise::info::{Cause, Info, Readiness, State};
use support::*;

/// The environment of `pid` once it has one (a process in the middle of
/// an exec shows none for a moment).
fn environ_of(pid: u32) -> String {
    let mut text = String::new();
    wait_until(&format!("the environment of {pid}"), || {
        text = std::fs::read(format!("/proc/{pid}/environ"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        text.contains("NOTIFY_SOCKET=")
    });
    text
}

fn svc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svc"))
        .args(args.iter().map(|a| {
            if *a == "DIR" {
                dir.as_os_str()
            } else {
                OsStr::new(a)
            }
        }))
        .env_remove("SUPERVISE_ROOT")
        .output()
        .expect("run svc")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn info(sup: &Supervise) -> Option<Info> {
    std::fs::read_to_string(sup.status_dir.join("info"))
        .ok()
        .map(|t| Info::parse(&t))
}

/// Waits until `info` satisfies `condition`; returns it.
fn wait_info(sup: &Supervise, what: &str, condition: impl Fn(&Info) -> bool) -> Info {
    let mut found = None;
    wait_until(&format!("info: {what}"), || {
        found = info(sup).filter(|i| condition(i));
        found.is_some()
    });
    found.unwrap()
}

fn start(dir: TempDir, conf: &str, command: &str) -> Supervise {
    dir.write("supervise.conf", conf);
    Supervise::start_with(dir, &["-p", "status/svc", "-f", command], &[])
}

#[test]
fn a_running_service_is_ready_in_info_with_every_key() {
    let mut sup = start(TempDir::new("ready-info"), "[svc]\n", "sleep 1000");
    let pid = sup.wait_running();
    let info = wait_info(&sup, "ready", |i| i.state == State::Ready);
    assert_eq!(info.pid, pid);
    assert_eq!(info.supervise_pid, sup.pid());
    assert_eq!(info.readiness, Readiness::None);
    assert!(info.started.is_some() && info.ready_since == info.started);
    assert_eq!(info.last_exit, None);
    let text = sup.file("info");
    let keys: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
    assert_eq!(
        keys,
        [
            "version",
            "supervise_pid",
            "pid",
            "state",
            "since",
            "started",
            "readiness",
            "ready_since",
            "health_failures",
            "status_text",
            "last_exit",
            "last_exit_time",
            "last_run_seconds",
            "last_exit_cause",
            "restarts_total",
            "restarts_window",
            "next_start",
            "backoff_seconds",
            "gave_up"
        ],
        "{text}"
    );
    assert!(!sup.status_dir.join("info.new").exists());
    // A stop: down, the exit asked for.
    sup.control("d");
    sup.wait_down();
    let info = wait_info(&sup, "down", |i| i.state == State::Down);
    assert_eq!(info.last_exit_cause, Some(Cause::Asked));
    assert_eq!(info.pid, 0);
    assert_eq!(info.started, None);
}

#[test]
fn a_crash_loop_shows_its_back_off_and_last_signal_and_start_says_so_at_once() {
    let dir = TempDir::new("ready-backoff");
    let command = dir
        .script("crash.sh", "kill -KILL $$")
        .display()
        .to_string();
    let sup = start(
        dir,
        "[svc]\nrestart_backoff_start : 30\nhealthy_after : 5\nrestart_burst : 1\n",
        &command,
    );
    // Two quick exits in a row: the second waits 30 s.
    let info = wait_info(&sup, "a back-off", |i| i.state == State::Backoff);
    assert_eq!(info.pid, 0);
    assert_eq!(info.backoff.as_secs(), 30);
    assert!(info.next_start.is_some());
    assert_eq!(
        info.last_exit,
        Some(supervise::supervisor::Exit::Signal {
            signal: 9,
            core: false
        })
    );
    assert_eq!(info.last_exit_cause, Some(Cause::Crash));
    assert_eq!(info.restarts_total, 1);
    let dir = sup.status_dir.clone();
    let status = svc(&dir, &["status", "DIR"]);
    let shown = text(&status);
    assert!(shown.contains("backing off, next start in"), "{shown}");
    assert!(
        shown.contains("last exit: signal 9 SIGKILL (crash)"),
        "{shown}"
    );
    let json = text(&svc(&dir, &["status", "--json", "DIR"]));
    assert!(json.contains("\"service_state\":\"backoff\""), "{json}");
    assert!(json.contains("\"last_exit_signal\":9"), "{json}");
    // svc start in the back-off says so at once, with code 13.
    let started = std::time::Instant::now();
    let output = svc(&dir, &["-w", "20", "DIR", "start"]);
    assert_eq!(output.status.code(), Some(13), "{}", text(&output));
    assert!(started.elapsed().as_secs() < 10, "at once");
    assert!(text(&output).contains("next start"), "{}", text(&output));
}

#[test]
fn a_supervise_that_gives_up_tells_the_rule_in_info_and_svc() {
    let dir = TempDir::new("ready-giveup");
    let mut sup = start(
        dir,
        "[svc]\nalarm_interval : 60\nmax_tries : 2\nrestart_backoff_start : 0.01\nrestart_backoff_max : 0.01\n",
        "false",
    );
    let status = sup.wait_exit();
    assert_eq!(status.code(), Some(2));
    let info = info(&sup).expect("info");
    assert_eq!(info.state, State::GaveUp);
    assert_eq!(info.gave_up, "3 exits in 60 s > max_tries 2");
    assert_eq!(info.last_exit, Some(supervise::supervisor::Exit::Code(1)));
    assert_eq!(info.restarts_window, 3);
    let dir = sup.status_dir.clone();
    let shown = text(&svc(&dir, &["status", "DIR"]));
    assert!(
        shown.contains("gave up: 3 exits in 60 s > max_tries 2"),
        "{shown}"
    );
}

/// A service of s6's protocol: it writes a newline on descriptor 3 once
/// the file `go` exists, then sleeps.
fn notifier(dir: &TempDir) -> String {
    let go = dir.join("go");
    dir.script(
        "notifier.sh",
        &format!(
            "while [ ! -e {go} ]; do sleep 0.05; done\necho >&3\nexec sleep 1000",
            go = go.display()
        ),
    )
    .display()
    .to_string()
}

#[test]
fn notification_fd_makes_a_service_starting_then_ready_and_svc_waits_for_it() {
    let dir = TempDir::new("ready-fd");
    let command = notifier(&dir);
    let go = dir.join("go");
    let mut sup = start(dir, "[svc]\nnotification_fd : 3\n", &command);
    let pid = sup.wait_running();
    let info = wait_info(&sup, "starting", |i| i.pid == pid);
    assert_eq!(info.state, State::Starting);
    assert_eq!(info.readiness, Readiness::NotificationFd);
    assert_eq!(info.ready_since, None);
    let dir = sup.status_dir.clone();
    // Not ready: svc wait ready times out with 14.
    let output = svc(&dir, &["-w", "1", "-w", "ready", "DIR"]);
    assert_ne!(output.status.code(), Some(0), "{}", text(&output));
    // The service's descriptor 3 is the pipe's write end; the others
    // supervise holds are not the service's.
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let target = std::fs::read_link(format!("/proc/{pid}/fd/3")).unwrap();
    assert!(
        target.to_string_lossy().starts_with("pipe:"),
        "{target:?} {fds:?}"
    );
    std::fs::write(&go, "").unwrap();
    let info = wait_info(&sup, "ready", |i| i.state == State::Ready);
    assert_eq!(info.pid, pid);
    assert!(info.ready_since.is_some());
    sup.wait_log(&format!("service ready, pid {pid}"));
    let output = svc(&dir, &["-w", "10", "-w", "ready", "DIR"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // svc restart waits for the new run to be ready: `go` is there, so
    // the new run is ready at once.
    let output = svc(&dir, &["-w", "20", "DIR", "restart"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let new = sup.wait_new_pid(pid);
    assert!(text(&output).contains("ready"), "{}", text(&output));
    let info = wait_info(&sup, "the new run ready", |i| i.pid == new);
    assert_eq!(info.state, State::Ready);
}

#[test]
fn svc_start_waits_until_the_service_is_ready() {
    let dir = TempDir::new("ready-start");
    let command = notifier(&dir);
    let go = dir.join("go");
    let mut sup = start(dir, "[svc]\nnotification_fd : 3\n", &command);
    let pid = sup.wait_running();
    let dir = sup.status_dir.clone();
    let output = svc(&dir, &["DIR", "stop"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    wait_until("the first run is gone", || !alive(pid));
    let waiter = std::thread::spawn(move || svc(&dir, &["-w", "20", "DIR", "start"]));
    let new = sup.wait_new_pid(pid);
    wait_info(&sup, "starting", |i| {
        i.pid == new && i.state == State::Starting
    });
    assert!(!waiter.is_finished(), "svc start returned before ready");
    std::fs::write(&go, "").unwrap();
    let output = waiter.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("started and ready"),
        "{}",
        text(&output)
    );
}

#[test]
fn not_ready_in_time_is_a_failed_start_restarted_with_back_off() {
    let dir = TempDir::new("ready-timeout");
    // It never says it is ready.
    let mut sup = start(
        dir,
        "[svc]\nnotification_fd : 3\nready_timeout : 0.3\nstop_timeout : 2\nrestart_backoff_start : 30\nrestart_burst : 1\n",
        "sleep 1000",
    );
    let first = sup.wait_running();
    sup.wait_log_wf("service not ready within 0.3 s of starting (ready_timeout)");
    wait_until("the first run is stopped", || !alive(first));
    // Restarted at once (the first quick failure), then the second failure
    // backs off.
    let info = wait_info(&sup, "a back-off", |i| i.state == State::Backoff);
    assert_eq!(info.last_exit_cause, Some(Cause::NotReady));
    assert_eq!(info.restarts_total, 1);
    assert_eq!(info.backoff.as_secs(), 30);
    assert_eq!(
        info.last_exit,
        Some(supervise::supervisor::Exit::Signal {
            signal: 15,
            core: false
        })
    );
    for pid in started_pids(&sup.status_dir) {
        assert!(!alive(pid), "pid {pid} is gone");
    }
}

#[test]
fn check_refuses_a_notification_fd_of_0_to_2_with_its_line() {
    let dir = TempDir::new("ready-check");
    dir.write(
        "s.conf",
        "[svc]\nnotification_fd : 1\nready_timeout : soon\nnotification_fd : 4\n",
    );
    let output = run(dir.path(), &["--check", "-F", "s.conf", "-p", "status/svc"]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("s.conf:2: notification_fd: 1 is the service's stdout"),
        "{shown}"
    );
    assert!(
        shown.contains("s.conf:3: ready_timeout: expected seconds"),
        "{shown}"
    );
    assert!(
        shown.contains("notification_fd: 4"),
        "the dump shows it: {shown}"
    );
}

#[test]
fn a_service_that_closes_its_notification_fd_stays_starting_and_costs_no_wake_up() {
    let dir = TempDir::new("ready-closed");
    let command = dir
        .script("closer.sh", "exec 3>&-\nexec sleep 1000")
        .display()
        .to_string();
    let mut sup = start(dir, "[svc]\nnotification_fd : 3\n", &command);
    let pid = sup.wait_running();
    wait_until("it closed descriptor 3", || {
        std::fs::read_link(format!("/proc/{pid}/fd/3")).is_err()
            && std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|e| e.to_string_lossy().contains("sleep"))
    });
    wait_idle(sup.pid());
    let before = context_switches(sup.pid());
    // Observing for a fixed span is the point here, not synchronisation:
    // any wake-up in it (a pipe at EOF still polled) is a failure.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(context_switches(sup.pid()), before, "supervise woke up");
    assert_eq!(info(&sup).unwrap().state, State::Starting);
}

#[test]
fn a_flood_on_the_notification_fd_without_a_newline_changes_nothing_but_its_state() {
    let dir = TempDir::new("ready-flood");
    let command = dir
        .script(
            "flood.sh",
            "head -c 1000000 /dev/zero | tr '\\0' x >&3\necho >&3\nexec sleep 1000",
        )
        .display()
        .to_string();
    let mut sup = start(dir, "[svc]\nnotification_fd : 3\n", &command);
    let pid = sup.wait_running();
    // The newline after a megabyte: ready, with no more memory than a
    // service that sent only the newline.
    let info = wait_info(&sup, "ready", |i| i.state == State::Ready);
    assert_eq!(info.pid, pid);
    let rss = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("VmRSS:")?
                    .trim()
                    .strip_suffix(" kB")?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap()
    };
    assert!(rss(sup.pid()) < 16 * 1024, "{} kB", rss(sup.pid()));
}

#[test]
fn an_info_that_cannot_be_written_is_retried_and_the_status_goes_on() {
    let dir = TempDir::new("ready-info-fault");
    std::fs::create_dir_all(dir.join("status/svc/info.new/x")).unwrap();
    let mut sup = start(dir, "[svc]\n", "sleep 1000");
    sup.wait_running();
    sup.wait_log_wf("info: ");
    let wf = sup.log_wf();
    assert!(
        wf.contains("cannot write") && wf.contains("info") && wf.contains("retrying"),
        "{wf}"
    );
    assert!(info(&sup).is_none());
    std::fs::remove_dir_all(sup.status_dir.join("info.new")).unwrap();
    let info = wait_info(&sup, "written at last", |i| i.state == State::Ready);
    assert_eq!(info.pid, sup.status().pid);
    sup.wait_log_wf("info written again after");
}

/// A server that listens on 127.0.0.1 (a port of its own) once `go`
/// exists, writing the port to `port`; and a check that connects to it.
fn server_and_check(dir: &TempDir) -> (String, String) {
    dir.write(
        "serve.py",
        "import os, socket, sys, time\n\
         port_file, go = sys.argv[1], sys.argv[2]\n\
         while not os.path.exists(go):\n    time.sleep(0.05)\n\
         s = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen(16)\n\
         open(port_file + '.new', 'w').write(str(s.getsockname()[1]))\n\
         os.rename(port_file + '.new', port_file)\n\
         while True:\n    s.accept()[0].close()\n",
    );
    dir.write(
        "check.py",
        "import socket, sys\n\
         port = int(open(sys.argv[1]).read())\n\
         socket.create_connection(('127.0.0.1', port), 1).close()\n",
    );
    let (port, go) = (dir.join("port"), dir.join("go"));
    let serve = dir.script(
        "serve.sh",
        &format!(
            "exec python3 {} {} {}",
            dir.join("serve.py").display(),
            port.display(),
            go.display()
        ),
    );
    let check = format!(
        "python3 '{}' '{}'",
        dir.join("check.py").display(),
        port.display()
    );
    (serve.display().to_string(), check)
}

#[test]
fn ready_check_against_a_real_listening_socket() {
    let dir = TempDir::new("ready-check-socket");
    let (serve, check) = server_and_check(&dir);
    let go = dir.join("go");
    let conf = format!("[svc]\nready_check : {check}\nready_check_interval : 0.1\n");
    let mut sup = start(dir, &conf, &serve);
    let pid = sup.wait_running();
    let info = wait_info(&sup, "starting", |i| i.pid == pid);
    assert_eq!(
        (info.state, info.readiness),
        (State::Starting, Readiness::Check)
    );
    let dir = sup.status_dir.clone();
    let output = svc(&dir, &["-w", "0.5", "-w", "ready", "DIR"]);
    assert_ne!(output.status.code(), Some(0), "{}", text(&output));
    let waiter = std::thread::spawn(move || svc(&dir, &["-w", "20", "-w", "ready", "DIR"]));
    std::fs::write(&go, "").unwrap();
    let output = waiter.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let info = wait_info(&sup, "ready", |i| i.state == State::Ready);
    assert_eq!(info.pid, pid);
    sup.wait_log(&format!("service ready, pid {pid}"));
    assert!(sup.log().contains("ready_check passed"), "{}", sup.log());
    // Ready: no more checks, no wake-up.
    wait_asleep(sup.pid());
    let before = context_switches(sup.pid());
    // A fixed span of observation is the point, not synchronisation.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(context_switches(sup.pid()), before, "supervise woke up");
}

#[test]
fn a_ready_check_that_hangs_is_killed_at_its_timeout_and_tried_again() {
    let dir = TempDir::new("ready-check-hang");
    let checks = dir.join("checks");
    let hang = dir.script(
        "hang.sh",
        &format!("echo $$ >> {}\nexec sleep 1000", checks.display()),
    );
    let conf = format!(
        "[svc]\nready_check : {}\nready_check_interval : 0.05\nready_check_timeout : 0.5\n",
        hang.display()
    );
    let mut sup = start(dir, &conf, "sleep 1000");
    sup.wait_running();
    let pids = |n: usize| {
        let mut found = Vec::new();
        wait_until(&format!("{n} checks ran"), || {
            found = std::fs::read_to_string(&checks)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.parse::<u32>().ok())
                .collect();
            found.len() >= n
        });
        found
    };
    let ran = pids(3);
    for pid in &ran[..2] {
        wait_until(&format!("check {pid} killed"), || !alive(*pid));
    }
    assert_eq!(info(&sup).unwrap().state, State::Starting);
    // A stop kills the check that runs.
    sup.control("d");
    sup.wait_down();
    let last = pids(1).last().copied().unwrap();
    wait_until("the last check killed with the stop", || !alive(last));
}

/// A `Type=notify`-style service: `STATUS=warming up`, then once `go`
/// exists `READY=1` with `STATUS=serving`; then, while `ping` exists,
/// `WATCHDOG=1` every 0.1 s; each line written to the file `say` (then
/// removed) is sent as one datagram.
fn notify_service(dir: &TempDir) -> String {
    dir.write(
        "notify.py",
        "import os, socket, sys, time\n\
         here = sys.argv[1]\n\
         addr = os.environ['NOTIFY_SOCKET']\n\
         if addr.startswith('@'):\n    addr = '\\0' + addr[1:]\n\
         s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
         def send(m):\n    s.sendto(m.encode(), addr)\n\
         send('STATUS=warming up')\n\
         while not os.path.exists(here + '/go'):\n    time.sleep(0.05)\n\
         send('READY=1\\nSTATUS=serving')\n\
         while True:\n\
         \x20   if os.path.exists(here + '/ping'):\n        send('WATCHDOG=1')\n\
         \x20   try:\n        lines = open(here + '/say').read().splitlines()\n        os.remove(here + '/say')\n\
         \x20   except FileNotFoundError:\n        lines = []\n\
         \x20   for line in lines:\n        send(line.replace('\\\\n', '\\n'))\n\
         \x20   time.sleep(0.1)\n",
    );
    dir.script(
        "notify.sh",
        &format!(
            "exec python3 {} {}",
            dir.join("notify.py").display(),
            dir.path().display()
        ),
    )
    .display()
    .to_string()
}

/// Has the service send `lines` (one datagram each), and waits until it has.
fn say(dir: &Path, lines: &[&str]) {
    let path = dir.join("say");
    std::fs::write(dir.join("say.new"), lines.join("\n") + "\n").unwrap();
    std::fs::rename(dir.join("say.new"), &path).unwrap();
    wait_until("the service sent what it was told", || !path.exists());
}

#[test]
fn notify_systemd_ready_status_stopping_and_mainpid() {
    let dir = TempDir::new("ready-notify");
    let command = notify_service(&dir);
    let here = dir.path().to_path_buf();
    let mut sup = start(dir, "[svc]\nnotify : systemd\nstop_timeout : 2\n", &command);
    let pid = sup.wait_running();
    let environ = environ_of(pid);
    assert!(
        environ.contains("NOTIFY_SOCKET=@supervise-notify-"),
        "{environ}"
    );
    let info = wait_info(&sup, "the warming-up status", |i| {
        i.status_text == "warming up"
    });
    assert_eq!(
        (info.state, info.readiness),
        (State::Starting, Readiness::Systemd)
    );
    let dir = sup.status_dir.clone();
    let shown = text(&svc(&dir, &["status", "DIR"]));
    assert!(
        shown.contains("starting") && shown.contains("status: warming up"),
        "{shown}"
    );
    std::fs::write(here.join("go"), "").unwrap();
    let output = svc(&dir, &["-w", "20", "-w", "ready", "DIR"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let info = wait_info(&sup, "serving", |i| i.status_text == "serving");
    assert_eq!(info.state, State::Ready);
    sup.wait_log(&format!("service ready, pid {pid}"));
    // MAINPID outside the group is refused; inside, noted.
    say(&here, &["MAINPID=1", &format!("MAINPID={pid}")]);
    sup.wait_log_wf("MAINPID=1 refused: not in the service's process group");
    sup.wait_log(&format!("MAINPID={pid}: in the service's process group"));
    // Garbage, unknown keys and a flood change nothing but its own state.
    let garbage: Vec<String> = (0..200).map(|i| format!("\u{1}junk{i}=\\n==x")).collect();
    let garbage: Vec<&str> = garbage.iter().map(String::as_str).collect();
    say(&here, &garbage);
    say(&here, &["FDSTORE=1", "READY=0", "STATUS=still serving"]);
    let info = wait_info(&sup, "still serving", |i| i.status_text == "still serving");
    assert_eq!((info.state, info.pid), (State::Ready, pid));
    // STOPPING=1: the state says so.
    say(&here, &["STOPPING=1"]);
    wait_info(&sup, "stopping", |i| i.state == State::Stopping);
    sup.wait_log("service says it is stopping (STOPPING=1)");
}

#[test]
fn a_notification_from_outside_the_service_is_refused() {
    let dir = TempDir::new("ready-notify-stranger");
    let command = notify_service(&dir);
    let mut sup = start(dir, "[svc]\nnotify : systemd\n", &command);
    let pid = sup.wait_running();
    wait_info(&sup, "warming up", |i| {
        i.pid == pid && i.status_text == "warming up"
    });
    let environ = environ_of(pid);
    let address = environ
        .split('\0')
        .find_map(|v| v.strip_prefix("NOTIFY_SOCKET="))
        .unwrap()
        .to_owned();
    // The test itself is no member of the service's group.
    let notifier = supervise::sys::notify::Notifier::new(OsStr::new(&address)).unwrap();
    notifier.send("READY=1\nSTATUS=forged").unwrap();
    sup.wait_log_wf(&format!(
        "notification from pid {} refused",
        std::process::id()
    ));
    let info = info(&sup).unwrap();
    assert_eq!(info.state, State::Starting);
    assert_eq!(info.status_text, "warming up");
}

#[test]
fn a_missed_watchdog_stops_and_restarts_the_service() {
    let dir = TempDir::new("ready-watchdog");
    let command = notify_service(&dir);
    std::fs::write(dir.join("go"), "").unwrap();
    std::fs::write(dir.join("ping"), "").unwrap();
    let here = dir.path().to_path_buf();
    let mut sup = start(
        dir,
        "[svc]\nnotify : systemd\nwatchdog : 1.5\nstop_timeout : 2\n",
        &command,
    );
    let pid = sup.wait_running();
    let environ = environ_of(pid);
    assert!(environ.contains("WATCHDOG_USEC=1500000"), "{environ}");
    wait_info(&sup, "ready", |i| i.pid == pid && i.state == State::Ready);
    // Pinging: it stays (a span of observation, not synchronisation).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(sup.status().pid, pid, "{}", sup.log_wf());
    std::fs::remove_file(here.join("ping")).unwrap();
    sup.wait_log_wf("no WATCHDOG=1 from the service within 1.5 s (watchdog)");
    let new = sup.wait_new_pid(pid);
    assert!(!alive(pid));
    let info = wait_info(&sup, "the new run", |i| i.pid == new);
    assert_eq!(info.last_exit_cause, Some(Cause::Watchdog));
    assert_eq!(info.restarts_total, 1);
}

#[test]
fn failing_health_checks_make_it_unhealthy_then_restart_it() {
    let dir = TempDir::new("ready-health");
    let healthy = dir.join("healthy");
    std::fs::write(&healthy, "").unwrap();
    let conf = format!(
        "[svc]\nalarm_interval : 60\nmax_tries : 10\nhealth_check : test -e '{}'\n\
         health_interval : 0.3\nhealth_timeout : 2\nhealth_retries : 3\nstop_timeout : 2\n",
        healthy.display()
    );
    let mut sup = start(dir, &conf, "sleep 1000");
    let pid = sup.wait_running();
    wait_info(&sup, "ready", |i| i.pid == pid && i.state == State::Ready);
    std::fs::remove_file(&healthy).unwrap();
    let info = wait_info(&sup, "unhealthy", |i| i.state == State::Unhealthy);
    assert!(info.health_failures >= 1 && info.pid == pid, "{info:?}");
    let dir = sup.status_dir.clone();
    let shown = text(&svc(&dir, &["status", "DIR"]));
    assert!(shown.contains("health check"), "{shown}");
    sup.wait_log_wf("health_check failed 3 times in a row (health_retries 3)");
    // Healthy again for the next run.
    std::fs::write(&healthy, "").unwrap();
    let new = sup.wait_new_pid(pid);
    assert!(!alive(pid));
    let info = wait_info(&sup, "the new run ready", |i| {
        i.pid == new && i.state == State::Ready
    });
    assert_eq!(info.last_exit_cause, Some(Cause::Unhealthy));
    assert_eq!((info.restarts_total, info.restarts_window), (1, 1));
}

#[test]
fn a_service_without_checks_costs_no_wake_up_while_idle_and_one_with_them_does() {
    let idle = |conf: &str, tag: &str| {
        let mut sup = start(TempDir::new(tag), conf, "sleep 1000");
        let pid = sup.wait_running();
        wait_info(&sup, "ready", |i| i.pid == pid && i.state == State::Ready);
        wait_idle(sup.pid());
        let before = context_switches(sup.pid());
        // Observing for a fixed span is the point of this test.
        std::thread::sleep(std::time::Duration::from_secs(1));
        context_switches(sup.pid()) - before
    };
    assert_eq!(
        idle("[svc]\nready_timeout : 5\nwatchdog : 1\n", "ready-idle"),
        0
    );
    let checked = idle(
        "[svc]\nhealth_check : true\nhealth_interval : 0.1\n",
        "ready-idle-health",
    );
    assert!(checked > 0, "health checks wake supervise");
}
