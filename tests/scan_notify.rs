//! The scanner's own readiness (issue 15 item 5): with `NOTIFY_SOCKET` set
//! (systemd's Type=notify) or `--notify`, supervise-scan sends `READY=1` on
//! that datagram socket once every service that should run is ready (or
//! has failed: a crash loop does not hold the unit's start for ever), and
//! `STOPPING=1` when it shuts down. The tests bind the socket themselves.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::process::Child;

use scan_support::*;
use support::*;

/// Starts a scanner on `dir` (s.conf written) with NOTIFY_SOCKET set.
fn spawn_with_socket(dir: TempDir, socket: &str, extra: &[&str]) -> Scan {
    let env_prefix = ["env", &format!("NOTIFY_SOCKET={socket}")];
    let prefix: Vec<&str> = env_prefix.iter().map(|s| &**s).collect();
    let child: Child = spawn_scanner(dir.path(), extra, &prefix, Stdout::File);
    Scan {
        dir,
        child: Some(child),
        inner_pid: None,
        earlier_logs: Vec::new(),
    }
}

fn receive(socket: &UnixDatagram) -> String {
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification in time");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn nothing_queued(socket: &UnixDatagram) -> bool {
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    let none = socket.recv(&mut buf).is_err();
    socket.set_nonblocking(false).unwrap();
    none
}

#[test]
fn ready_once_every_service_is_ready_then_stopping_at_shutdown() {
    let dir = TempDir::new("scan-notify");
    let path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    // a declares readiness and says it once `go-a` exists.
    let conf = format!(
        "[global]\nstop_timeout : 2\n[a]\n{}\
         [b]\ncommand : sleep 1001\nafter : a\n[c]\ncommand : sleep 1002\n",
        ready_on_go(&dir, "a")
    );
    dir.write("s.conf", &conf);
    let mut scan = spawn_with_socket(dir, &path.display().to_string(), &[]);
    let a = scan.service_pid("a");
    scan.service_pid("c");
    scan.wait_err("b: waiting for a to be ready");
    assert!(nothing_queued(&socket), "READY=1 before b even started");
    wait_until("a's info says starting", || {
        std::fs::read_to_string(scan.status_dir("a").join("info"))
            .is_ok_and(|t| t.contains(&format!("pid={a}\n")) && t.contains("state=starting\n"))
    });
    go(&scan.dir, "a");
    assert_eq!(receive(&socket), "READY=1");
    assert!(
        scan.status("b").is_some_and(|s| s.pid != 0),
        "READY=1 came before b ran"
    );
    scan.wait_err("every service is ready (3 services)");
    // The services do not see the scanner's socket.
    for name in ["a", "b", "c"] {
        let environ = std::fs::read(format!("/proc/{}/environ", scan.service_pid(name))).unwrap();
        assert!(
            !String::from_utf8_lossy(&environ).contains("NOTIFY_SOCKET"),
            "{name} inherited NOTIFY_SOCKET"
        );
    }
    kill(scan.pid(), libc::SIGTERM);
    assert_eq!(receive(&socket), "STOPPING=1");
    assert_eq!(scan.wait_exit(DEADLINE).code(), Some(0));
    assert!(nothing_queued(&socket), "one READY=1, one STOPPING=1");
}

#[test]
fn an_abstract_socket_and_a_crash_loop_does_not_hold_ready_back() {
    let dir = TempDir::new("scan-notify-abstract");
    let name = format!("supervise-test-notify-{}", std::process::id());
    let socket = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
    dir.write(
        "s.conf",
        "[global]\nstop_timeout : 2\nmax_tries : 0\n\
         [good]\ncommand : sleep 1000\n[bad]\ncommand : false\n",
    );
    let scan = spawn_with_socket(dir, &format!("@{name}"), &["--notify"]);
    assert_eq!(receive(&socket), "READY=1");
    scan.service_pid("good");
    // `false` may have been seen running once (ready, as it declares no
    // readiness) or only failing.
    scan.wait_err("every service is ready");
    assert!(scan.err().contains("(2 services"), "{}", scan.err());
}

#[test]
fn a_socket_that_cannot_be_used_is_a_warning_and_the_services_run() {
    let dir = TempDir::new("scan-notify-bad");
    dir.write("s.conf", "[a]\ncommand : sleep 1000\n");
    let missing = dir.join("no-such-dir/notify.sock").display().to_string();
    let scan = spawn_with_socket(dir, &missing, &[]);
    scan.service_pid("a");
    scan.wait_err(&format!("cannot send READY=1 to NOTIFY_SOCKET {missing}"));
    let dir = TempDir::new("scan-notify-garbage");
    dir.write("s.conf", "[a]\ncommand : sleep 1000\n");
    let scan = spawn_with_socket(dir, "not-a-socket-address", &[]);
    scan.service_pid("a");
    scan.wait_err("NOTIFY_SOCKET not-a-socket-address: not a path or @name");
}

#[test]
fn notify_without_a_socket_says_so() {
    let scan = Scan::start(
        "scan-notify-none",
        "[a]\ncommand : sleep 1000\n",
        &["--notify"],
    );
    scan.service_pid("a");
    scan.wait_err("--notify: NOTIFY_SOCKET is not set");
    scan.wait_err("every service is ready (1 service)");
}
