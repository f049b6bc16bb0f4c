//! `-r RESTART_SH` and `-t SECONDS` (SPEC §5.3).

mod support;

use support::*;

fn hook_calls(sup: &Supervise) -> Vec<String> {
    std::fs::read_to_string(sup.dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_hook_runs_with_the_count_before_each_restart() {
    let dir = TempDir::new("hook");
    let hook = dir.script("hook.sh", "echo \"$#:$1\" >> calls");
    // With -r no config is read: this max_tries must not apply.
    dir.write(
        "supervise.conf",
        "[global]\nalarm_interval : 60\nmax_tries : 1\n",
    );
    let mut sup = Supervise::start_with(
        dir,
        &[
            "-r",
            hook.to_str().unwrap(),
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let mut pid = sup.wait_running();
    for _ in 0..3 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    // Without -t the count is always 1.
    assert_eq!(hook_calls(&sup), vec!["1:1", "1:1", "1:1"]);
    let log = sup.log();
    assert!(
        log.contains(&format!("restart_cmd: {} 1 is called.", hook.display())),
        "{log}"
    );
    assert!(
        !log.contains("Finished loading configurations!"),
        "-r reads no config"
    );
}

#[test]
fn with_t_the_count_grows_until_a_quiet_period() {
    let dir = TempDir::new("hook-t");
    let hook = dir.script("hook.sh", "echo \"$1\" >> calls");
    let mut sup = Supervise::start_with(
        dir,
        &[
            "-r",
            hook.to_str().unwrap(),
            "-t",
            "3600",
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let mut pid = sup.wait_running();
    for _ in 0..3 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    assert_eq!(hook_calls(&sup), vec!["1", "2", "3"]);
}

#[test]
fn a_failing_or_missing_hook_is_logged_and_supervision_goes_on() {
    let dir = TempDir::new("hook-fail");
    let hook = dir.script("hook.sh", "exit 7");
    let mut sup = Supervise::start_with(
        dir,
        &[
            "-r",
            hook.to_str().unwrap(),
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    sup.wait_new_pid(pid);
    sup.wait_log_wf("failed: exit code 7");
    let mut missing = Supervise::start_with(
        TempDir::new("hook-missing"),
        &[
            "-r",
            "/nonexistent/hook",
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let pid = missing.wait_running();
    kill(pid, libc::SIGKILL);
    missing.wait_new_pid(pid);
    missing.wait_log_wf("could not be run");
}

#[test]
fn exit_during_the_hook_waits_for_it_and_does_not_restart() {
    let dir = TempDir::new("hook-x");
    let hook = dir.script(
        "hook.sh",
        "echo started > started\n\
         for i in $(seq 1000); do [ -e release ] && break; sleep 0.02; done\necho done > done",
    );
    let mut sup = Supervise::start_with(
        dir,
        &[
            "-r",
            hook.to_str().unwrap(),
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    let started = sup.dir.join("started");
    wait_until("the hook runs", || started.exists());
    sup.control("x");
    sup.wait_log("control: received x");
    assert!(sup.running(), "x waits for the running hook");
    sup.dir.write("release", "");
    assert_eq!(sup.wait_exit().code(), Some(0));
    assert!(sup.dir.join("done").exists(), "the hook ran to completion");
    assert_eq!(
        sup.log().matches("service started").count(),
        1,
        "no restart after x"
    );
}
