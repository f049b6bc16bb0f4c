//! Output forwarding never blocks the scanner (issue 13): with a reader
//! that stalls (a pipe nobody reads, as when `docker logs` is paused) or is
//! gone, the scanner still reaps, replaces a dead supervise and obeys
//! SIGTERM; what cannot be written is dropped, counted and logged. And the
//! forwarding follows `__stdout` across a rotation (rename, new file).

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::time::Duration;

use scan_support::*;
use support::*;

/// A service that writes far more than a pipe holds, then sleeps; and one
/// that only sleeps.
fn chatty(dir: &TempDir) -> String {
    let talk = dir.script(
        "talk.sh",
        "i=0; while [ $i -lt 10000 ]; do echo \"line $i of a service that talks a lot, far more than a pipe holds\"; i=$((i+1)); done; exec sleep 1000",
    );
    format!(
        "[global]\nstop_timeout : 2\n[talk]\ncommand : {}\n[quiet]\ncommand : sleep 1000\n",
        talk.display()
    )
}

/// A forwarding scanner of [`chatty`] services, its output as given, once
/// the talker has written all it writes.
fn start_chatty(
    tag: &str,
    stdout: impl FnOnce(std::io::PipeWriter) -> Stdout,
    keep_reader: bool,
) -> (Scan, Option<std::io::PipeReader>) {
    let dir = TempDir::new(tag);
    dir.write("s.conf", &chatty(&dir));
    let (reader, writer) = std::io::pipe().unwrap();
    let reader = keep_reader.then_some(reader);
    let scan = Scan::launch(dir, &["--forward-output"], &[], stdout(writer));
    wait_talked(&scan);
    (scan, reader)
}

/// Waits until the talker has written all it writes.
fn wait_talked(scan: &Scan) {
    let out = scan.status_dir("talk").join("__stdout");
    wait_until("the talker has written its 10000 lines", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() >= 10000)
    });
}

/// Kills quiet's supervise and waits until a new one runs a new service:
/// the scanner reaped and replaced it.
fn replace_quiet(scan: &Scan) {
    let service = scan.service_pid("quiet");
    // Its supervise is its parent (the scanner's log may be unreadable).
    let sup = parent_of(service).expect("quiet's supervise");
    kill(sup, libc::SIGKILL);
    scan.new_service_pid("quiet", service);
}

#[test]
fn a_stalled_stdout_reader_never_blocks_the_scanner() {
    let (mut scan, reader) = start_chatty("scan-stalled", Stdout::Pipe, true);
    let sup = scan.supervise_pid("quiet");
    kill(sup, libc::SIGKILL);
    scan.wait_err("quiet: supervise died (killed by signal 9 SIGKILL)");
    scan.new_service_pid("quiet", 0);
    kill(scan.pid(), libc::SIGTERM);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    let err = scan.err();
    assert!(err.contains("every service is down; exiting"), "{err}");
    assert!(
        err.contains("stdout is not keeping up: dropping forwarded output"),
        "{err}"
    );
    drop(reader);
}

#[test]
fn a_stalled_reader_of_both_stdout_and_stderr_never_blocks_the_scanner_or_its_supervise() {
    let (mut scan, reader) = start_chatty("scan-stalled-both", Stdout::BothPipe, true);
    // Its log cannot be read: watch what it does. A new supervise says on
    // stderr that it stops the old service: that must not block it either.
    replace_quiet(&scan);
    replace_quiet(&scan);
    let talk = scan.service_pid("talk");
    kill(scan.pid(), libc::SIGTERM);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0));
    assert!(!alive(talk));
    drop(reader);
}

#[test]
fn a_reader_that_is_gone_costs_nothing_but_the_output() {
    let (mut scan, _) = start_chatty("scan-gone", Stdout::Pipe, false);
    scan.wait_err("stdout is closed");
    replace_quiet(&scan);
    kill(scan.pid(), libc::SIGTERM);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    let err = scan.err();
    assert!(
        err.contains("lines of forwarded output were dropped"),
        "{err}"
    );
}

#[test]
fn forwarding_follows_stdout_across_a_rotation() {
    let dir = TempDir::new("scan-rotate");
    let go = dir.join("go");
    let talk = dir.script(
        "talk.sh",
        &format!(
            "echo \"start $$\"; while [ ! -e {} ]; do sleep 0.01; done; echo \"after $$\"; exec sleep 1000",
            go.display()
        ),
    );
    let conf = format!("[talk]\ncommand : {}\n", talk.display());
    let scan = Scan::start_in(dir, &conf, &["--forward-output"], &[]);
    let first = scan.service_pid("talk");
    wait_until("the first line is forwarded", || {
        scan.out().contains(&format!("talk: start {first}\n"))
    });
    // Rotated: renamed away; the service still writes to it.
    let out = scan.status_dir("talk").join("__stdout");
    std::fs::rename(&out, scan.status_dir("talk").join("__stdout.1")).unwrap();
    std::fs::write(&go, "").unwrap();
    wait_until("a line written to the renamed file is forwarded", || {
        scan.out().contains(&format!("talk: after {first}\n"))
    });
    // The next instance writes to a new __stdout.
    kill(first, libc::SIGTERM);
    let second = scan.new_service_pid("talk", first);
    wait_until("the new file is followed", || {
        let out = scan.out();
        out.contains(&format!("talk: start {second}\n"))
            && out.contains(&format!("talk: after {second}\n"))
    });
    assert_eq!(
        scan.out()
            .matches(&format!("talk: after {first}\n"))
            .count(),
        1,
        "{}",
        scan.out()
    );
}
