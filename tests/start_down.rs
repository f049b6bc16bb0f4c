//! Services that start down or run once (issue 13 item 6): `supervise
//! --down` / `--once`, and `start : down` / `start : once` sections under
//! supervise-scan (the runit `down` file, and `o`). A section's supervise
//! runs; its service waits for `svc start` (down) or runs one time (once).
//! Dependents of a service that starts down wait for it. A reload that
//! changes `start` leaves the running service alone.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::process::{Command, Output};

use scan_support::*;
use supervise::status::Want;
use support::*;

/// Runs svc with `args` in `dir` (the scanner's root is `-d root`).
fn svc(dir: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svc"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run svc")
}

/// The lines of a file, 0 when it is missing.
fn lines_of(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn supervise_down_waits_for_u_and_once_runs_one_time() {
    let mut sup = Supervise::start_with(
        TempDir::new("start-down"),
        &["--down", "-p", "status/svc", "-f", "sleep 1000"],
        &[],
    );
    let status = sup.status();
    assert_eq!((status.pid, status.want), (0, Want::Down));
    assert!(!sup.log().contains("service started"), "{}", sup.log());
    sup.control("u");
    let pid = sup.wait_running();
    assert_eq!(sup.status().want, Want::Up);
    assert!(alive(pid));

    let dir = TempDir::new("start-once");
    let runs = dir.join("runs");
    let script = format!("echo ran >> {}", runs.display());
    let mut once = Supervise::start_with(
        dir,
        &["--once", "-u", "status/svc", "sh", "-c", &script],
        &[],
    );
    wait_until("the service ran and exited", || {
        lines_of(&runs) == 1 && once.status().pid == 0 && once.log().contains("service exited")
    });
    assert_eq!(once.status().want, Want::Once);
    // Not started again: `x` makes supervise exit, after one run.
    once.control("x");
    assert!(once.wait_exit().success());
    assert_eq!(lines_of(&runs), 1);
}

#[test]
fn start_down_sections_wait_for_svc_start_and_their_dependents_wait_too() {
    let conf = "[global]\nstop_timeout : 2\n\
                [db]\ncommand : sleep 1000\nstart : down\n\
                [web]\ncommand : sleep 1001\nafter : db\n\
                [free]\ncommand : sleep 1002\n";
    let scan = Scan::start("scan-start-down", conf, &[]);
    scan.service_pid("free");
    // db's supervise runs, its service does not.
    scan.supervise_pid("db");
    wait_until("db's supervise writes its status", || {
        scan.status("db").is_some()
    });
    let status = scan.status("db").unwrap();
    assert_eq!((status.pid, status.want), (0, Want::Down));
    let out = svc(&scan.dir, &["-d", "root", "status", "db"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("down") && text.contains("want down"),
        "{text}"
    );
    // web waits for db: no supervise yet.
    scan.wait_err("web: waiting for db");
    assert!(!scan.status_dir("web").join("status").exists());
    // svc start db brings it up, and web after it.
    let out = svc(&scan.dir, &["-d", "root", "start", "db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    scan.service_pid("db");
    scan.service_pid("web");
}

#[test]
fn start_once_sections_run_one_time_and_stay_down() {
    let dir = TempDir::new("scan-start-once");
    let runs = dir.join("runs");
    let conf = format!(
        "[job]\ncommand : sh -c 'echo ran >> {}'\nstart : once\n[free]\ncommand : sleep 1000\n",
        runs.display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    scan.service_pid("free");
    wait_until("job ran once and is down", || {
        lines_of(&runs) == 1
            && scan
                .status("job")
                .is_some_and(|s| s.pid == 0 && s.want == Want::Once)
            && std::fs::read_to_string(scan.status_dir("job").join("supervise.log"))
                .is_ok_and(|l| l.contains("service exited"))
    });
    // A reload (which starts again what exited on purpose) does not run it
    // again: its supervise still runs, the service stays down.
    scan.wait_generation(1);
    scan.reload();
    assert_eq!(lines_of(&runs), 1);
    assert_eq!(scan.status("job").unwrap().pid, 0);
}

#[test]
fn a_reload_that_changes_start_leaves_the_running_service_alone() {
    let conf = "[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\nstart : down\n";
    let scan = Scan::start("scan-start-reload", conf, &[]);
    let a = scan.service_pid("a");
    wait_until("b's supervise writes its status", || {
        scan.status("b").is_some()
    });
    scan.wait_generation(1);
    scan.conf("[a]\ncommand : sleep 1000\nstart : down\n[b]\ncommand : sleep 1001\n");
    let report = scan.reload();
    // No change: the two first lines only.
    assert!(
        report.lines().next().unwrap().ends_with(" applied"),
        "{report}"
    );
    assert_eq!(report.lines().count(), 2, "{report}");
    // a runs on, b stays down: each takes its new start at the next start
    // of its supervise.
    assert_eq!(scan.service_pid("a"), a);
    assert_eq!(scan.status("b").unwrap().pid, 0);
}

#[test]
fn a_start_down_service_is_down_again_after_its_supervise_crashed() {
    let conf = "[global]\nstop_timeout : 2\n[db]\ncommand : sleep 1000\nstart : down\n";
    let scan = Scan::start("scan-start-down-crash", conf, &[]);
    wait_until("db's supervise writes its status", || {
        scan.status("db").is_some()
    });
    let out = svc(&scan.dir, &["-d", "root", "start", "db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let service = scan.service_pid("db");
    kill(scan.supervise_pid("db"), libc::SIGKILL);
    // The new supervise starts with --down again: it stops what its
    // predecessor left and starts nothing (`start` is what a supervise
    // wants when it starts).
    scan.nth_supervise_pid("db", 2);
    wait_until("the old service is stopped and db stays down", || {
        !alive(service)
            && scan
                .status("db")
                .is_some_and(|s| s.pid == 0 && s.want == Want::Down)
    });
}

#[test]
fn a_start_down_service_does_not_hold_the_scanners_readiness_back() {
    let conf = "[db]\ncommand : sleep 1000\nstart : down\n\
                [web]\ncommand : sleep 1001\nafter : db\n\
                [free]\ncommand : sleep 1002\n";
    let scan = Scan::start("scan-start-down-notify", conf, &["--notify"]);
    scan.service_pid("free");
    // db is down on purpose, web waits for it: neither will come up by
    // itself, so the scanner does not wait for them to say it is ready.
    scan.wait_err("every service is ready or settled (3 services, 1 waiting: web; 1 down: db)");
}
