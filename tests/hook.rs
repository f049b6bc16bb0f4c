//! `-r RESTART_SH` and `-t SECONDS` (SPEC §5.3).

mod support;

use support::*;

/// Starts `supervise -r HOOK [EXTRA...] -p status/svc -f "sleep 1000"` in `dir`.
fn start_with_hook(dir: TempDir, hook: &std::path::Path, extra: &[&str]) -> Supervise {
    let mut args = vec!["-r", hook.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-p", "status/svc", "-f", "sleep 1000"]);
    Supervise::start_with(dir, &args, &[])
}

/// Kills the service `times` times, waiting for each restart.
fn crash(sup: &mut Supervise, times: usize) {
    let mut pid = sup.wait_running();
    for _ in 0..times {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
}

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
    let mut sup = start_with_hook(dir, &hook, &[]);
    crash(&mut sup, 3);
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
    let mut sup = start_with_hook(dir, &hook, &["-t", "3600"]);
    crash(&mut sup, 3);
    assert_eq!(hook_calls(&sup), vec!["1", "2", "3"]);
}

#[test]
fn a_failing_or_missing_hook_is_logged_and_supervision_goes_on() {
    let dir = TempDir::new("hook-fail");
    let hook = dir.script("hook.sh", "exit 7");
    let mut sup = start_with_hook(dir, &hook, &[]);
    crash(&mut sup, 1);
    sup.wait_log_wf("failed: exit code 7");
    let mut missing = start_with_hook(
        TempDir::new("hook-missing"),
        std::path::Path::new("/nonexistent/hook"),
        &[],
    );
    crash(&mut missing, 1);
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
    let mut sup = start_with_hook(dir, &hook, &[]);
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
