//! Takeover after a crash (issue 13): after `kill -9` of supervise-scan its
//! supervise keep the services running; a new scanner on the same root
//! adopts each of them (watching it through a pidfd, not being its
//! parent), manages it as if it had started it (reload, a crash of it,
//! shutdown), starts only what is missing, and never logs as down a
//! service that is up.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::time::Duration;

use scan_support::*;
use support::*;

const ABC: &str = "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n\
                   [b]\ncommand : sleep 1001\n[c]\ncommand : sleep 1002\n";

#[test]
fn a_new_scanner_adopts_every_supervise_and_manages_them_to_the_end() {
    let mut scan = Scan::start("scan-takeover", ABC, &[]);
    let names = ["a", "b", "c"];
    let services: Vec<u32> = names.iter().map(|n| scan.service_pid(n)).collect();
    let sups: Vec<u32> = names.iter().map(|n| scan.supervise_pid(n)).collect();
    let old = scan.crash_and_restart(&[]);
    assert!(!alive(old));
    let report = scan.wait_generation(1);
    assert_eq!(
        report,
        format!("1 applied\npid {}\n", scan.pid()),
        "nothing to change"
    );
    for (name, sup) in names.iter().zip(&sups) {
        scan.wait_err(&format!(
            "{name}: adopted the supervise already running (pid {sup})"
        ));
        assert_ne!(parent_of(*sup), Some(scan.pid()), "adopted, not a child");
    }
    let after: Vec<u32> = names.iter().map(|n| scan.service_pid(n)).collect();
    assert_eq!(after, services, "the same services, untouched");
    let since_restart = scan
        .err()
        .split(&format!("started (pid {})", scan.pid()))
        .nth(1)
        .unwrap()
        .to_owned();
    for word in ["supervise started", "died", "exit code 111", "is down"] {
        assert!(
            !since_restart.contains(word),
            "{word:?} in\n{since_restart}"
        );
    }

    // A reload: b's command changes, c's limits; a is left alone.
    scan.conf(&ABC.replace("sleep 1001", "sleep 1011").replace(
        "[c]\ncommand : sleep 1002\n",
        "[c]\ncommand : sleep 1002\nmax_tries : 4\n",
    ));
    assert_eq!(
        scan.reload(),
        format!(
            "2 applied\npid {}\nrestart b: command changed\nreread c\n",
            scan.pid()
        )
    );
    let b = scan.new_service_pid("b", services[1]);
    wait_until("b's old supervise and service are gone", || {
        !alive(sups[1]) && !alive(services[1])
    });
    let cmdline = std::fs::read_to_string(format!("/proc/{b}/cmdline")).unwrap();
    assert!(cmdline.contains("1011"), "{cmdline:?}");
    let c_log = scan.status_dir("c").join("supervise.log");
    wait_until("c re-reads its settings", || {
        std::fs::read_to_string(&c_log).is_ok_and(|t| t.contains("max_tries: 4"))
    });
    assert_eq!(scan.service_pid("a"), services[0]);
    assert_eq!(scan.service_pid("c"), services[2]);

    // An adopted supervise that dies is seen through its pidfd and
    // replaced, its service with it (never two).
    kill(sups[0], libc::SIGKILL);
    scan.wait_err("a: supervise died (not our child: exit status unknown); starting it again");
    let a = scan.new_service_pid("a", services[0]);
    wait_until("a's old service is gone", || !alive(services[0]));
    // Reported: started by the first scanner, adopted, started again.
    assert_eq!(parent_of(a), Some(scan.nth_supervise_pid("a", 3)));

    // Shutdown: every supervise, adopted or ours, and every service, gone.
    let everything: Vec<u32> = [a, b, services[2], sups[2]]
        .into_iter()
        .chain([
            scan.nth_supervise_pid("a", 3),
            scan.nth_supervise_pid("b", 3),
        ])
        .collect();
    kill(scan.pid(), libc::SIGTERM);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    assert!(
        scan.err().ends_with("every service is down; exiting\n"),
        "{}",
        scan.err()
    );
    for pid in everything {
        assert!(!alive(pid), "pid {pid} outlived the scanner");
    }
}

#[test]
fn a_config_changed_while_no_scanner_ran_is_applied_against_what_runs() {
    let mut scan = Scan::start("scan-takeover-changed", ABC, &[]);
    let (a, b, c) = (
        scan.service_pid("a"),
        scan.service_pid("b"),
        scan.service_pid("c"),
    );
    let b_sup = scan.supervise_pid("b");
    scan.conf(
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n[c]\ncommand : sleep 1012\n\
         [d]\ncommand : sleep 1003\n",
    );
    scan.crash_and_restart(&[]);
    assert_eq!(
        scan.wait_generation(1),
        format!(
            "1 applied\npid {}\nrestart c: command changed\nstart d\nstop b\n",
            scan.pid()
        )
    );
    wait_until("b is stopped, its supervise gone", || {
        !alive(b) && !alive(b_sup)
    });
    scan.new_service_pid("c", c);
    scan.service_pid("d");
    assert_eq!(scan.service_pid("a"), a);
    assert_eq!(
        starts_of(&scan, "a"),
        1,
        "a was never started twice:\n{}",
        scan.err()
    );
}

#[test]
fn a_broken_file_at_takeover_keeps_what_runs_until_a_good_one_comes() {
    let mut scan = Scan::start("scan-takeover-broken", ABC, &[]);
    let services: Vec<u32> = ["a", "b", "c"]
        .iter()
        .map(|n| scan.service_pid(n))
        .collect();
    scan.conf("[a]\ncommand : sleep 1000\n[b\n");
    scan.crash_and_restart(&[]);
    let report = scan.wait_generation(1);
    assert!(report.starts_with("1 refused\n"), "{report}");
    assert!(
        report.contains("s.conf:3: malformed section header `[b`"),
        "{report}"
    );
    scan.wait_err("reload refused (1 error): every service is left as it runs");
    let after: Vec<u32> = ["a", "b", "c"]
        .iter()
        .map(|n| scan.service_pid(n))
        .collect();
    assert_eq!(after, services);
    scan.conf(ABC);
    assert_eq!(scan.reload(), format!("2 applied\npid {}\n", scan.pid()));
    let after: Vec<u32> = ["a", "b", "c"]
        .iter()
        .map(|n| scan.service_pid(n))
        .collect();
    assert_eq!(after, services);
}

#[test]
fn an_adopted_supervise_that_gives_up_is_left_down() {
    let dir = TempDir::new("scan-takeover-giveup");
    let crash = dir.join("crash");
    let conf = format!(
        "[global]\nstop_timeout : 2\nalarm_interval : 60\nmax_tries : 1\n\
         [flaky]\ncommand : sh -c 'while [ ! -e {} ]; do sleep 0.05; done; exit 1'\n",
        crash.display()
    );
    let mut scan = Scan::start_in(dir, &conf, &[], &[]);
    scan.service_pid("flaky");
    let sup = scan.supervise_pid("flaky");
    scan.crash_and_restart(&[]);
    scan.wait_err(&format!(
        "flaky: adopted the supervise already running (pid {sup})"
    ));
    std::fs::write(&crash, "").unwrap();
    scan.wait_err("flaky: supervise exited (not our child: exit status unknown); not restarted until the next reload");
    assert_eq!(starts_of(&scan, "flaky"), 1, "{}", scan.err());
    let log = std::fs::read_to_string(scan.status_dir("flaky").join("supervise.log")).unwrap();
    assert!(
        log.contains("supervise refused to restart flaky any more"),
        "{log}"
    );
}

#[test]
fn an_adopted_supervise_told_to_exit_is_left_down_and_a_reload_brings_it_back() {
    let mut scan = Scan::start("scan-takeover-exit", ABC, &[]);
    let a = scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    scan.crash_and_restart(&[]);
    scan.wait_err(&format!(
        "a: adopted the supervise already running (pid {sup})"
    ));
    std::fs::write(scan.status_dir("a").join("control"), "dx").unwrap();
    scan.wait_err("a: supervise exited (not our child: exit status unknown); not restarted until the next reload");
    assert!(!alive(a) && !alive(sup));
    assert_eq!(
        scan.reload(),
        format!("2 applied\npid {}\nstart a\n", scan.pid())
    );
    scan.new_service_pid("a", a);
}
