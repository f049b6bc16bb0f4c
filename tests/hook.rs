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

/// A hook that hangs (60 s is its limit), with a grandchild in its group;
/// both write their pid.
fn hanging_hook(dir: &TempDir) -> std::path::PathBuf {
    dir.script(
        "hook.sh",
        "echo $$ > hook.pid\nsleep 1000 &\necho $! > grandchild.pid\nwait",
    )
}

fn pid_in(dir: &TempDir, name: &str) -> u32 {
    let path = dir.join(name);
    let mut pid = 0;
    wait_until(&format!("{name} is written"), || {
        pid = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    pid
}

#[test]
fn dx_during_a_hanging_hook_kills_its_group_and_exits_at_once() {
    // Issue 11 item 7: `d` and `x` never wait for the hook's 60 s limit.
    let dir = TempDir::new("hook-dx");
    let hook = hanging_hook(&dir);
    let mut sup = start_with_hook(dir, &hook, &[]);
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    let hook_pid = pid_in(&sup.dir, "hook.pid");
    let grandchild = pid_in(&sup.dir, "grandchild.pid");
    sup.control("dx");
    let child = sup.child.as_mut().unwrap();
    let mut exit = None;
    wait_until_for(
        std::time::Duration::from_secs(10),
        "supervise exits without waiting for the hook",
        || {
            exit = child.try_wait().unwrap();
            exit.is_some()
        },
    );
    assert_eq!(exit.unwrap().code(), Some(0));
    wait_until("the hook and its group are killed", || {
        !alive(hook_pid) && !alive(grandchild)
    });
    assert_eq!(
        sup.log().matches("service started").count(),
        1,
        "no restart after dx"
    );
}

#[test]
fn d_during_a_hanging_hook_kills_it_and_leaves_the_service_down() {
    let dir = TempDir::new("hook-d");
    let hook = hanging_hook(&dir);
    let mut sup = start_with_hook(dir, &hook, &[]);
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    let hook_pid = pid_in(&sup.dir, "hook.pid");
    sup.control("d");
    wait_until_for(
        std::time::Duration::from_secs(10),
        "the hook is killed at once",
        || !alive(hook_pid),
    );
    wait_until("the status says down", || {
        let s = sup.status();
        s.pid == 0 && s.want == Want::Down
    });
    assert!(sup.running());
    assert_eq!(sup.log().matches("service started").count(), 1);
    // `u` starts it again, without the hook (it is the operator's start).
    sup.control("u");
    sup.wait_new_pid(pid);
}
