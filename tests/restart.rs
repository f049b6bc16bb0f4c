//! Restarts: at once after a crash (a burst budget of them, then backing
//! off: src/backoff.rs), backing off in a crash loop, control
//! obeyed during the back-off, and no wake-up while the service just runs.

mod support;

use std::time::Duration;

use support::*;

#[test]
fn a_killed_child_is_restarted_at_once() {
    let mut sup = Supervise::start("restart", "sleep 1000");
    let first = sup.wait_running();
    let seen_running = std::time::Instant::now();
    // A healthy run first (healthy_after defaults to 1 s), as in production.
    wait_until("the first child has run for 1.5 s", || {
        seen_running.elapsed() >= Duration::from_millis(1500)
    });
    kill(first, libc::SIGKILL);
    let second = sup.wait_new_pid(first);
    kill(second, libc::SIGKILL);
    let third = sup.wait_new_pid(second);
    assert!(alive(third));
    let log = sup.log();
    assert!(
        log.contains("supervise is trying to restart svc..."),
        "{log}"
    );
    assert!(log.contains("killed by signal 9 SIGKILL"), "{log}");
    // The second crash came at once after a start: the first quick exit in
    // a row is restarted without delay too.
    assert!(!sup.log_wf().contains("restarting in"), "{}", sup.log_wf());
}

/// The delays announced in supervise.log.wf, in seconds.
fn delays(wf: &str) -> Vec<f64> {
    wf.lines()
        .filter_map(|l| {
            l.split("restarting in ")
                .nth(1)?
                .strip_suffix(" s")?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn a_crash_loop_backs_off_with_growing_delays_and_little_cpu() {
    let mut sup = Supervise::start("crashloop", "false");
    let pid = sup.pid();
    wait_until_for(Duration::from_secs(30), "four announced delays", || {
        delays(&sup.log_wf()).len() >= 4
    });
    let seen = delays(&sup.log_wf());
    assert!(
        seen.windows(2).all(|w| w[1] >= w[0]),
        "delays grow: {seen:?}"
    );
    assert!(seen[3] > seen[0], "delays grow: {seen:?}");
    let cpu = cpu_time(pid);
    assert!(
        cpu < Duration::from_secs(2),
        "supervise used {cpu:?} of CPU in a crash loop"
    );
    // Control is obeyed during the back-off.
    sup.control("d");
    sup.wait_log("control: received d");
    let starts = sup.log().matches("service started").count();
    sup.control("x");
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert_eq!(
        sup.log().matches("service started").count(),
        starts,
        "no start after d"
    );
}

#[test]
fn up_during_back_off_starts_at_once() {
    // A back-off far longer than the wait below, so only `u` can start it.
    let dir = TempDir::new("backoff-up");
    dir.write(
        "supervise.conf",
        "[svc]\nrestart_backoff_start : 600\nrestart_backoff_max : 600\n",
    );
    let sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "false"], &[]);
    wait_until("a back-off of 600 s", || {
        delays(&sup.log_wf()).iter().any(|d| *d >= 600.0)
    });
    let starts = sup.log().matches("service started").count();
    sup.control("u");
    wait_until_for(
        Duration::from_secs(10),
        "u starts the service without waiting out the back-off",
        || sup.log().matches("service started").count() > starts,
    );
}

#[test]
fn no_wake_up_while_the_service_runs() {
    let mut sup = Supervise::start("idle", "sleep 1000");
    sup.wait_running();
    sup.wait_log("service started");
    // Back in poll: a count taken earlier may include the end of the
    // wake-up that started the service, which is no idle wake-up.
    wait_asleep(sup.pid());
    let before = context_switches(sup.pid());
    // Observing for a fixed span is the point of this test, not a way to
    // synchronise: any wake-up in it is a failure.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        context_switches(sup.pid()),
        before,
        "supervise woke up while idle"
    );
}

#[test]
fn a_service_killed_again_and_again_comes_back_at_once_until_its_burst_is_spent() {
    // Every run is quick (healthy_after 600 s), as in a kill script that
    // kills each new instance as soon as it runs.
    let dir = TempDir::new("burst");
    dir.write(
        "supervise.conf",
        "[svc]\nhealthy_after : 600\nrestart_burst : 4\n",
    );
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let mut pid = sup.wait_running();
    for _ in 0..4 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    assert!(delays(&sup.log_wf()).is_empty(), "{}", sup.log_wf());
    // The budget is spent: the fifth waits restart_backoff_start.
    kill(pid, libc::SIGKILL);
    wait_until("a back-off is announced", || {
        !delays(&sup.log_wf()).is_empty()
    });
    assert_eq!(delays(&sup.log_wf()), [0.1]);
    sup.wait_new_pid(pid);
}

#[test]
fn with_no_burst_the_first_quick_exit_already_waits() {
    let dir = TempDir::new("no-burst");
    dir.write("supervise.conf", "[svc]\nrestart_burst : 0\n");
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    wait_until("a back-off is announced", || {
        !delays(&sup.log_wf()).is_empty()
    });
    assert_eq!(delays(&sup.log_wf())[0], 0.1);
    sup.wait_new_pid(pid);
}
