//! The scanner's control FIFO, ROOT/supervise-scan.control
//! (docs/status-files.md; issue 13 item 7): `start NAME` revives a
//! supervise that exited or gave up and wants its service up, what it
//! needs first; `stop NAME` stops the services that require NAME first, in
//! reverse order, then NAME, and their supervise stay. Garbage and floods
//! change nothing but a log line.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};

use scan_support::*;
use support::*;

#[test]
fn the_control_fifo_is_made_in_the_root_mode_0600() {
    let scan = Scan::start("scan-control-fifo", "[a]\ncommand : sleep 1000\n", &[]);
    scan.service_pid("a");
    let path = scan.dir.join(CONTROL);
    wait_until("the control FIFO exists", || path.exists());
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn stop_stops_what_requires_it_first_in_reverse_order_and_start_brings_all_back_in_order() {
    let dir = TempDir::new("scan-control-chain");
    let conf = format!(
        "[global]\nstop_timeout : 5\n\
         [a]\ncommand : {a}\n\
         [b]\ncommand : {b}\nrequires : a\n\
         [c]\ncommand : {c}\nrequires : b\n\
         [other]\ncommand : {other}\nafter : a\n",
        a = logs_its_stop(&dir, "a"),
        b = logs_its_stop(&dir, "b"),
        c = logs_its_stop(&dir, "c"),
        other = logs_its_stop(&dir, "other"),
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let names = ["a", "b", "c", "other"];
    let services: Vec<u32> = names.iter().map(|n| scan.service_pid(n)).collect();
    let supervise: Vec<u32> = names.iter().map(|n| scan.supervise_pid(n)).collect();
    wait_trapping(&scan.dir, 4);
    scan.request("stop a");
    for name in ["a", "b", "c"] {
        assert_eq!(scan.wait_down(name).want, Want::Down, "{name}");
    }
    wait_until("the three logged their stop", || {
        stops(&scan.dir).len() == 3
    });
    assert_eq!(stops(&scan.dir), ["c", "b", "a"], "dependents first");
    for pid in &supervise {
        assert!(alive(*pid), "every supervise stays");
    }
    // `after` is only a start order: other goes on running.
    assert_eq!(scan.service_pid("other"), services[3]);
    // Starting c starts what it needs first.
    scan.request("start c");
    for (name, old) in names.iter().zip(&services).take(3) {
        scan.new_service_pid(name, *old);
    }
    let since = |n: &str| since_of(&scan, n);
    assert!(since("a") < since("b") && since("b") < since("c"));
    let now: Vec<u32> = names.iter().map(|n| scan.supervise_pid(n)).collect();
    assert_eq!(now, supervise, "the same supervise");
    assert_eq!(scan.generation(), 1, "no reload was needed");
}

#[test]
fn start_revives_a_supervise_that_gave_up_and_what_requires_it_follows() {
    let dir = TempDir::new("scan-control-revive");
    let flag = dir.join("db-may-run");
    std::fs::write(&flag, "").unwrap();
    let db = dir.script(
        "db.sh",
        &format!("test -e {} || exit 3\nexec sleep 1000", flag.display()),
    );
    let conf = format!(
        "[global]\nstop_timeout : 2\nalarm_interval : 60\n\
         [db]\ncommand : {}\nmax_tries : 2\n\
         [web]\ncommand : sleep 1001\nrequires : db\n",
        db.display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let db_pid = scan.service_pid("db");
    let web_pid = scan.service_pid("web");
    // db now fails until it gives up; its supervise exits; web is held down.
    std::fs::remove_file(&flag).unwrap();
    kill(db_pid, libc::SIGKILL);
    scan.wait_err("db: supervise exited (exit code 2); not restarted until the next reload");
    assert_eq!(scan.wait_down("web").want, Want::Down);
    wait_until("web's process is gone", || !alive(web_pid));
    // Revived without a reload.
    std::fs::write(&flag, "").unwrap();
    scan.request("start db");
    scan.new_service_pid("db", db_pid);
    scan.new_service_pid("web", web_pid);
    assert_eq!(starts_of(&scan, "db"), 2);
    assert_eq!(starts_of(&scan, "web"), 1, "web's supervise stayed");
    assert_eq!(scan.generation(), 1, "no reload was needed");
}

#[test]
fn stop_and_start_of_a_service_without_dependencies() {
    let scan = Scan::start(
        "scan-control-one",
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\n",
        &[],
    );
    let a = scan.service_pid("a");
    let b = scan.service_pid("b");
    let sup = scan.supervise_pid("a");
    scan.request("stop a");
    assert_eq!(scan.wait_down("a").want, Want::Down);
    assert!(alive(sup));
    scan.request("start a");
    scan.new_service_pid("a", a);
    assert_eq!(scan.service_pid("b"), b);
    assert_eq!(scan.supervise_pid("a"), sup);
}

#[test]
fn garbage_and_floods_change_nothing_but_a_log_line() {
    let scan = Scan::start(
        "scan-control-garbage",
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n",
        &[],
    );
    let a = scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    // A line cut short by a too long one (its `stop a` must not count),
    // garbage, lines that are no request, then a flood.
    let mut junk: Vec<u8> = b"stop a".to_vec();
    junk.extend(std::iter::repeat_n(b'y', 600));
    junk.push(b'\n');
    junk.extend(std::iter::repeat_n(b'x', 5000));
    junk.extend_from_slice(b"\n\xff\xfe\x00garbage\nstart\nstart nosuch\nstop ../a\nrestart a\n\n");
    for i in 0..20_000 {
        junk.extend_from_slice(format!("junk line {i}\n").as_bytes());
    }
    scan.request_bytes(&junk);
    scan.request("stop nosuch-either");
    scan.wait_err("control: stop nosuch-either: no service of that name");
    let log = scan.err();
    assert!(
        log.contains("control: start nosuch: no service of that name"),
        "{log}"
    );
    assert!(
        log.contains("control: a line longer than 512 bytes, ignored"),
        "{log}"
    );
    assert!(
        log.contains("control: more unreadable lines in the next 10 s are only counted"),
        "{log}"
    );
    let lines = log.lines().filter(|l| l.contains("control:")).count();
    assert!(lines < 60, "a flood is not a flood of log lines: {lines}");
    assert_eq!(scan.service_pid("a"), a, "nothing changed");
    assert_eq!(scan.status("a").unwrap().want, Want::Up);
    assert!(alive(sup));
    // And it still obeys.
    scan.request("stop a");
    scan.wait_down("a");
}

#[test]
fn a_service_stopped_through_the_scanner_then_started_by_hand_brings_back_what_requires_it() {
    let scan = Scan::start(
        "scan-control-by-hand",
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n\
         [b]\ncommand : sleep 1001\nrequires : a\n",
        &[],
    );
    let b = scan.service_pid("b");
    scan.request("stop a");
    scan.wait_down("b");
    scan.wait_down("a");
    // `svc start a` on a running supervise: a `u` of its own.
    scan.control("a", "u");
    scan.new_service_pid("b", b);
    scan.wait_err("a: started again by hand; no longer held down");
}

#[test]
fn a_start_that_reaches_a_supervise_as_it_exits_on_purpose_starts_it_again_once_reaped() {
    // The race of a supervise that gives up just as `start NAME` comes,
    // made deterministic: a's supervise is frozen with its service down and
    // an `x` waiting in its FIFO, so the scanner's `u` lands behind it;
    // thawed, it exits (0) without starting the service.
    let scan = Scan::start(
        "scan-control-late-start",
        "[a]\ncommand : sleep 1000\n",
        &[],
    );
    scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    scan.control("a", "d");
    scan.wait_down("a");
    kill(sup, libc::SIGSTOP);
    let thaw = Thaw(sup);
    scan.control("a", "x");
    scan.request("start a");
    scan.wait_err("control: start a");
    drop(thaw);
    scan.wait_err("a: supervise exited (exit code 0); starting it again: it was asked to start");
    let again = scan.nth_supervise_pid("a", 2);
    assert_ne!(again, sup);
    wait_until("a's new supervise runs its service", || {
        scan.status("a")
            .is_some_and(|s| s.pid != 0 && s.want == Want::Up)
    });
}

/// Sends SIGCONT to a frozen supervise when dropped (also on a panic).
struct Thaw(u32);

impl Drop for Thaw {
    fn drop(&mut self) {
        kill(self.0, libc::SIGCONT);
    }
}
