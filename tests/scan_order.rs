//! Start order under supervise-scan (issue 15 item 4): `after` starts a
//! service once what it names is ready, `requires` also stops it while a
//! required one is down and starts it again when it is ready; shutdown
//! stops dependents first; a name that is not a service, or a cycle, is an
//! error of the load with its line. Readiness is what `status` and `info`
//! say (`info::ready`): the services that are slow to be ready declare it
//! (`notification_fd`) and say it once the test creates a file.

#[allow(unused_imports)]
mod scan_support;
mod support;

use scan_support::*;
use support::*;

const CHAIN: &str = "[global]\nstop_timeout : 2\n\
    [a]\ncommand : sleep 1000\n\
    [b]\ncommand : sleep 1001\nafter : a\n\
    [c]\ncommand : sleep 1002\nafter : b\n";

/// [`CHAIN`] with `a` ready only on `go-a`.
fn slow_chain(dir: &TempDir) -> String {
    CHAIN.replace("command : sleep 1000\n", &ready_on_go(dir, "a"))
}

#[test]
fn after_starts_a_chain_in_order_each_once_what_it_needs_is_ready() {
    let dir = TempDir::new("scan-chain");
    // a declares readiness and is not ready yet.
    let conf = slow_chain(&dir);
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let a = scan.service_pid("a");
    scan.wait_err("b: waiting for a to be ready");
    scan.wait_err("c: waiting for b to be ready");
    assert!(scan.status("b").is_none(), "b started before a was ready");
    assert!(scan.status("c").is_none(), "c started before b was ready");
    // supervise's info now says starting; once a says it is ready, b
    // starts, then c (b is ready as it runs).
    wait_until("a's info says starting", || {
        std::fs::read_to_string(scan.status_dir("a").join("info"))
            .is_ok_and(|t| t.contains(&format!("pid={a}\n")) && t.contains("state=starting\n"))
    });
    go(&scan.dir, "a");
    scan.service_pid("b");
    scan.service_pid("c");
    let (sa, sb, sc) = (
        since_of(&scan, "a"),
        since_of(&scan, "b"),
        since_of(&scan, "c"),
    );
    assert!(sa < sb && sb < sc, "started in order: {sa:?} {sb:?} {sc:?}");
    assert_eq!(scan.service_pid("a"), a, "a was left alone");
}

const REQUIRES: &str = "[global]\nstop_timeout : 2\n\
    [db]\ncommand : sleep 1000\n\
    [web]\ncommand : sleep 1001\nrequires : db\n";

#[test]
fn requires_stops_a_service_while_what_it_requires_is_down_and_starts_it_again() {
    let scan = Scan::start("scan-requires", REQUIRES, &[]);
    let db = scan.service_pid("db");
    let web = scan.service_pid("web");
    assert!(since_of(&scan, "db") < since_of(&scan, "web"));
    let web_supervise = scan.supervise_pid("web");
    // db is taken down by hand (svc -d): web follows.
    scan.control("db", "d");
    scan.wait_down("db");
    let status = scan.wait_down("web");
    assert_eq!(status.want, Want::Down, "held down, not restarting");
    wait_until("web's old process is gone", || !alive(web));
    scan.wait_err("web: stopping it: db, which it requires, is down");
    assert!(alive(web_supervise), "its supervise stays");
    // db comes back: web starts again after it.
    scan.control("db", "u");
    let db2 = scan.new_service_pid("db", db);
    let web2 = scan.new_service_pid("web", web);
    assert!(since_of(&scan, "db") < since_of(&scan, "web"));
    assert_eq!(scan.supervise_pid("web"), web_supervise);
    assert!(alive(db2) && alive(web2));
    assert_eq!(scan.status("web").unwrap().want, Want::Up);
}

#[test]
fn a_dependent_waits_while_what_it_requires_is_not_ready_and_starts_when_it_is() {
    let dir = TempDir::new("scan-requires-ready");
    let conf = REQUIRES.replace("command : sleep 1000\n", &ready_on_go(&dir, "db"));
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    scan.service_pid("db");
    scan.wait_err("web: waiting for db to be ready");
    assert!(scan.status("web").is_none());
    go(&scan.dir, "db");
    scan.service_pid("web");
}

#[test]
fn shutdown_stops_dependents_first_a_diamond_in_reverse_order() {
    let dir = TempDir::new("scan-diamond");
    let conf = format!(
        "[global]\nstop_timeout : 5\n\
         [top]\ncommand : {top}\nrequires : left right\n\
         [left]\ncommand : {left}\nrequires : base\n\
         [right]\ncommand : {right}\nafter : base\n\
         [base]\ncommand : {base}\n\
         [alone]\ncommand : {alone}\n",
        top = logs_its_stop(&dir, "top"),
        left = logs_its_stop(&dir, "left"),
        right = logs_its_stop(&dir, "right"),
        base = logs_its_stop(&dir, "base"),
        alone = logs_its_stop(&dir, "alone"),
    );
    let mut scan = Scan::start_in(dir, &conf, &[], &[]);
    for name in ["top", "left", "right", "base", "alone"] {
        scan.service_pid(name);
    }
    wait_trapping(&scan.dir, 5);
    let since = |n: &str| since_of(&scan, n);
    assert!(since("base") < since("left") && since("base") < since("right"));
    assert!(since("left") < since("top") && since("right") < since("top"));
    kill(scan.pid(), libc::SIGTERM);
    let status = scan.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    let order = stops(&scan.dir);
    let at = |n: &str| {
        order
            .iter()
            .position(|s| s == n)
            .unwrap_or_else(|| panic!("{n} in {order:?}"))
    };
    assert_eq!(order.len(), 5, "{order:?}");
    assert!(
        at("top") < at("left") && at("top") < at("right"),
        "{order:?}"
    );
    assert!(
        at("left") < at("base") && at("right") < at("base"),
        "{order:?}"
    );
}

#[test]
fn check_names_every_bad_start_order_line_and_prints_cycles() {
    let dir = TempDir::new("scan-order-check");
    dir.write(
        "s.conf",
        "[web]\ncommand : sleep 1\nrequires : db cache,\n\
         [db]\ncommand : sleep 1\nafter : web\n\
         [cache]\ncommand : sleep 1\nrequires :\nafter : gone\n\
         [global]\nrequires : db\n",
    );
    let output = run_scan(dir.path(), &["--check", "-F", "s.conf"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    for expected in [
        "s.conf:3: [web]: requires: `cache,` is not a service name (names are separated by blanks)",
        "s.conf:3: [web]: a cycle in the start order: web -> db -> web",
        "s.conf:9: [cache]: empty requires",
        "s.conf:10: [cache]: after: no service named `gone`",
        "s.conf:12: [global]: `requires` is not inherited",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in\n{stdout}");
    }
    assert!(
        stdout.contains("a reload would be refused (5 errors)"),
        "{stdout}"
    );
    // A file whose start order is sound is valid.
    dir.write("good.conf", CHAIN);
    let output = run_scan(dir.path(), &["--check", "-F", "good.conf"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_reload_naming_a_missing_service_is_refused_whole() {
    let scan = Scan::start("scan-order-refuse", REQUIRES, &[]);
    let (db, web) = (scan.service_pid("db"), scan.service_pid("web"));
    scan.conf(&format!(
        "{REQUIRES}[api]\ncommand : sleep 1002\nrequires : db cache\n"
    ));
    let report = scan.reload();
    assert!(report.starts_with("2 refused\n"), "{report}");
    assert!(
        report.contains("s.conf:10: [api]: requires: no service named `cache`"),
        "{report}"
    );
    assert!(scan.status("api").is_none());
    assert_eq!((scan.service_pid("db"), scan.service_pid("web")), (db, web));
}

#[test]
fn an_idle_scanner_with_start_order_does_not_wake_up() {
    let scan = Scan::start("scan-order-idle", REQUIRES, &[]);
    scan.service_pid("web");
    scan.wait_generation(1);
    let pid = scan.pid();
    // Let the last status writes (each supervise's, which wake the
    // scanner) and their reads pass.
    wait_asleep(scan.supervise_pid("db"));
    wait_asleep(scan.supervise_pid("web"));
    wait_asleep(pid);
    let before = context_switches(pid);
    // Observing for a fixed span is the point of this test, not a way to
    // synchronise: any wake-up in it is a failure.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        context_switches(pid),
        before,
        "the scanner woke up while idle"
    );
}

#[test]
fn a_new_scanner_adopts_a_requires_pair_without_stopping_either() {
    let mut scan = Scan::start("scan-order-takeover", REQUIRES, &[]);
    let db = scan.service_pid("db");
    let web = scan.service_pid("web");
    scan.crash_and_restart(&[]);
    scan.wait_generation(1);
    scan.wait_err_count("web: adopted the supervise already running", 1);
    scan.wait_err_count("db: adopted the supervise already running", 1);
    assert_eq!((scan.service_pid("db"), scan.service_pid("web")), (db, web));
    assert_eq!(scan.count_err("web: stopping it"), 0, "{}", scan.err());
    // The new scanner watches both: db going down still takes web down,
    // and its return brings web back.
    scan.control("db", "d");
    scan.wait_down("web");
    scan.control("db", "u");
    scan.new_service_pid("web", web);
    assert_eq!(scan.count_err("web: stopping it"), 1);
}

#[test]
fn check_against_a_scanner_does_not_promise_to_start_what_waits() {
    let dir = TempDir::new("scan-order-check-waiting");
    let conf = slow_chain(&dir);
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    scan.service_pid("a");
    scan.wait_err("c: waiting for b to be ready");
    scan.wait_generation(1);
    let output = run_scan(scan.dir.path(), &["--check", "-F", "s.conf", "-d", "root"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("would change nothing"),
        "b and c wait for a, a reload would not start them:\n{stdout}"
    );
}

#[test]
fn readiness_and_health_keys_reach_each_supervise_under_the_scanner() {
    let dir = TempDir::new("scan-ready-keys");
    let go = dir.join("go-x");
    let conf = format!(
        "[global]\nstop_timeout : 2\n\
         [x]\ncommand : sleep 1000\nready_check : sh -c 'test -e {go}'\n\
         ready_check_interval : 0.05\nready_timeout : 60\n\
         health_check : true\nhealth_interval : 30\n\
         [y]\ncommand : sleep 1001\nafter : x\n",
        go = go.display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let x = scan.service_pid("x");
    scan.wait_err("y: waiting for x to be ready");
    let info = || std::fs::read_to_string(scan.status_dir("x").join("info")).unwrap_or_default();
    wait_until("x is starting, by its check", || {
        let info = info();
        info.contains(&format!("pid={x}\n"))
            && info.contains("state=starting\n")
            && info.contains("readiness=check\n")
    });
    std::fs::write(&go, "").unwrap();
    scan.service_pid("y");
    assert!(info().contains("state=ready\n"), "{}", info());
    let rendered =
        std::fs::read_to_string(scan.status_dir("x").join(supervise::scan::SETTINGS_FILE)).unwrap();
    for line in [
        format!("ready_check: sh -c 'test -e {}'", go.display()),
        "ready_timeout: 60s".to_owned(),
        "health_check: true".to_owned(),
        "health_interval: 30s".to_owned(),
    ] {
        assert!(rendered.contains(&line), "{line:?} in\n{rendered}");
    }
}
