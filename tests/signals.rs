//! Signals to supervise itself (issue 11 item 3): every catchable signal is
//! handled — TERM and INT stop the service and exit, the others are logged
//! and ignored — so only SIGKILL can end supervise without stopping its
//! service. Also storms of signals and supervise being stopped (SIGSTOP)
//! and continued.

mod support;

use support::*;

#[test]
fn stray_signals_are_logged_and_ignored_and_the_service_stays_supervised() {
    let mut sup = Supervise::start("stray", "sleep 1000");
    let pid = sup.wait_running();
    // The ones the issue saw kill supervise, and the rest whose default
    // action would end or stop it.
    let signals = [
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGPWR, "SIGPWR"),
        (libc::SIGVTALRM, "SIGVTALRM"),
        (libc::SIGPROF, "SIGPROF"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGSYS, "SIGSYS"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGSTKFLT, "SIGSTKFLT"),
        (libc::SIGWINCH, "SIGWINCH"),
        (libc::SIGURG, "SIGURG"),
        (libc::SIGIO, "SIGIO"),
        (libc::SIGRTMIN(), ""),
        (libc::SIGRTMAX(), ""),
    ];
    for (signal, name) in signals {
        kill(sup.pid(), signal);
        let line =
            format!("signal {signal} {name}").trim_end().to_owned() + " received and ignored";
        sup.wait_log_wf(&line);
        assert!(sup.running(), "{name} ({signal}) ended supervise");
        assert_eq!(
            state(sup.pid()),
            Some('S'),
            "{name} ({signal}) stopped supervise"
        );
    }
    assert_eq!(sup.status().pid, pid, "the service is untouched");
    assert!(alive(pid));
    // Still supervising.
    kill(pid, libc::SIGKILL);
    let new = sup.wait_new_pid(pid);
    assert!(alive(new));
    // And SIGTERM still stops the service, then supervise.
    kill(sup.pid(), libc::SIGTERM);
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert!(!alive(new));
}

#[test]
fn a_storm_of_signals_changes_nothing_and_costs_one_line_per_signal() {
    let mut sup = Supervise::start("storm", "sleep 1000");
    let mut pid = sup.wait_running();
    let target = sup.pid();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storm = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for signal in [libc::SIGUSR1, libc::SIGUSR2, libc::SIGWINCH, libc::SIGHUP] {
                    kill(target, signal);
                }
                sent += 4;
            }
            sent
        })
    };
    // Supervision goes on in the storm: restarts and control.
    for _ in 0..3 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    sup.control("s");
    wait_until("s obeyed in the storm", || !sup.status().alarms_on);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = storm.join().unwrap();
    assert!(sup.running());
    // Each stray signal is logged at most once per 10 s (the storm lasted
    // less than a minute): the log cannot be flooded.
    let lines = sup.log_wf().matches("SIGUSR1 received and ignored").count();
    assert!(
        (1..=6).contains(&lines),
        "{lines} lines for {sent} signals sent"
    );
}

#[test]
fn supervise_stopped_then_continued_catches_up() {
    let mut sup = Supervise::start("stopped", "sleep 1000");
    let pid = sup.wait_running();
    kill(sup.pid(), libc::SIGSTOP);
    wait_until("supervise is stopped", || state(sup.pid()) == Some('T'));
    // While it is stopped: the service dies and a command is written.
    kill(pid, libc::SIGKILL);
    wait_until("the service is gone", || !alive(pid));
    sup.control("s");
    kill(sup.pid(), libc::SIGCONT);
    let new = sup.wait_new_pid(pid);
    wait_until("the command is obeyed", || !sup.status().alarms_on);
    // SIGTSTP, SIGTTIN and SIGTTOU (a terminal's ^Z, a background read or
    // write) cannot stop it: only SIGSTOP can.
    for signal in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        kill(sup.pid(), signal);
        sup.control("n");
        wait_until("control is still obeyed", || sup.status().alarms_on);
        sup.control("s");
        wait_until("control is still obeyed", || !sup.status().alarms_on);
    }
    sup.wait_log_wf("SIGTTOU received and ignored");
    sup.wait_log("SIGCONT received: supervise goes on");
    assert_eq!(sup.status().pid, new);
}
