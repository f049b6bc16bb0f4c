//! A supervise started on a directory whose previous supervise was killed
//! (SIGKILL) finds the service it left running and stops it before starting
//! one: never two copies. The leftover is a group being stopped in the state
//! machine (issue 12 item 2): control is obeyed meanwhile, and a group of
//! zombies is a dead group (issue 11 item 8).

mod support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

/// Kills a process tree (by its root's pid) on drop.
struct TreeGuard(u32);

impl Drop for TreeGuard {
    fn drop(&mut self) {
        kill_tree(self.0);
    }
}

#[test]
fn a_leftover_group_of_zombies_is_dead_at_once() {
    // Where nobody reaps orphans (a PID 1 that does not), the old service
    // dies on TERM and stays a zombie: kill(-pgid, 0) still succeeds. A
    // non-reaping subreaper above the first supervise plays that PID 1.
    let secs = unique_seconds();
    let command = format!("sleep {secs}");
    let _copies = KillAll(vec!["sleep".into(), secs.clone()]);
    let dir = TempDir::new("zombie-leftover");
    dir.write("supervise.conf", "[svc]\nstop_timeout : 30\n");
    let script = "import ctypes, subprocess, sys, signal\n\
                  assert ctypes.CDLL(None).prctl(36, 1, 0, 0, 0) == 0\n\
                  p = subprocess.Popen(sys.argv[1:])\n\
                  print(p.pid, flush=True)\n\
                  while True: signal.pause()\n";
    let mut reaper = Command::new("python3")
        .args(["-c", script, bin(), "-p", "status/svc", "-f", &command])
        .current_dir(dir.path())
        .env("SUPERVISE_FOREGROUND", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let _reaper = TreeGuard(reaper.id());
    let mut line = String::new();
    std::io::BufReader::new(reaper.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let first: u32 = line.trim().parse().expect("the first supervise's pid");
    let status_dir = dir.join("status/svc");
    wait_until("the first service runs", || {
        supervise::status::read(&status_dir).is_ok_and(|s| s.pid != 0)
    });
    let old = supervise::status::read(&status_dir).unwrap().pid;
    kill(first, libc::SIGKILL);
    wait_until(
        "the old service is an orphan of the non-reaping subreaper",
        || parent_of(old) == Some(reaper.id()),
    );
    let sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", &command], &[]);
    wait_until("the old service died on TERM, left a zombie", || {
        state(old) == Some('Z')
    });
    // Not the 30 s stop timeout: a group of zombies is dead at once.
    wait_until_for(Duration::from_secs(10), "a new service, at once", || {
        supervise::status::read(&sup.status_dir).is_ok_and(|s| s.pid != 0 && s.pid != old)
    });
    let wf = sup.log_wf();
    assert!(
        !wf.contains("sent KILL") && !wf.contains("sending KILL"),
        "no false 'ignored TERM; sent KILL':\n{wf}"
    );
    assert_eq!(processes_running(&["sleep", &secs]).len(), 1);
    drop(sup);
    let _ = reaper.kill();
    let _ = reaper.wait();
}

#[test]
fn control_is_obeyed_while_the_leftover_of_a_killed_supervise_is_stopped() {
    // The leftover ignores TERM: stopping it takes stop_timeout (3 s), then
    // KILL. Meanwhile supervise runs its loop: `x` written then is obeyed
    // once the leftover is gone, and no service is started.
    let secs = unique_seconds();
    let _copies = KillAll(vec!["sleep".into(), secs.clone()]);
    let dir = TempDir::new("leftover-control");
    dir.write("supervise.conf", "[svc]\nstop_timeout : 3\n");
    let script = dir.script("stubborn.sh", &format!("trap '' TERM\nexec sleep {secs}"));
    let args = ["-p", "status/svc", "-f", script.to_str().unwrap()];
    let mut first = Supervise::start_with(dir, &args, &[]);
    let old = first.wait_running();
    // The status file is written before the log lines of the same wake-up:
    // killed in between, the first supervise would leave no such line.
    first.wait_log("service started");
    kill(first.pid(), libc::SIGKILL);
    first.wait_exit();
    let dir = std::mem::replace(&mut first.dir, TempDir::new("leftover-control-spare"));
    let mut second = Supervise::start_with(dir, &args, &[]);
    second.control("x");
    assert_eq!(second.wait_exit().code(), Some(0), "x obeyed");
    assert!(!alive(old), "the leftover was stopped (KILL after 3 s)");
    let log = second.log();
    assert_eq!(
        log.matches("service started").count(),
        1,
        "only the first supervise started one:\n{log}"
    );
    assert!(
        second
            .log_wf()
            .contains("did not stop within 3 s of TERM: sending KILL to process group"),
        "{}",
        second.log_wf()
    );
    assert!(processes_running(&["sleep", &secs]).is_empty());
    drop(second);
    drop(first);
}

#[test]
fn a_leftover_whose_leader_is_gone_but_whose_group_lives_on_is_stopped_too() {
    // The service forked a worker into its group and died; its supervise
    // was killed while stopping the worker. The worker must not run beside
    // the next copy.
    let secs = unique_seconds();
    let _copies = KillAll(vec!["sleep".into(), secs.clone()]);
    let dir = TempDir::new("leftover-worker");
    dir.write("supervise.conf", "[svc]\nstop_timeout : 60\n");
    let script = dir.script(
        "forks.sh",
        &format!("trap '' TERM\nsleep {secs} &\necho $! > worker\nexec sleep 1000"),
    );
    let args = ["-p", "status/svc", "-f", script.to_str().unwrap()];
    let mut first = Supervise::start_with(dir, &args, &[]);
    let leader = first.wait_running();
    let worker_file = first.dir.join("worker");
    wait_until("the worker runs", || worker_file.exists());
    let worker: u32 = std::fs::read_to_string(&worker_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The leader exits; the worker (TERM ignored) keeps the group alive.
    kill(leader, libc::SIGKILL);
    first.wait_log_wf("outlived the service; stopping it");
    kill(first.pid(), libc::SIGKILL);
    first.wait_exit();
    assert!(alive(worker));
    let dir = std::mem::replace(&mut first.dir, TempDir::new("leftover-worker-spare"));
    let second = Supervise::start_with(dir, &args, &[]);
    second.wait_log_wf(&format!(
        "pid {leader} (process group {leader}) of a previous supervise"
    ));
    assert!(
        alive(worker),
        "TERM is ignored: KILL comes after stop_timeout"
    );
    kill(second.pid(), libc::SIGTERM);
    second.wait_log("received a signal to terminate");
    // A second SIGTERM does not wait for the 60 s stop timeout.
    kill(second.pid(), libc::SIGTERM);
    wait_until_for(Duration::from_secs(10), "the worker is killed", || {
        !alive(worker)
    });
    drop(second);
    drop(first);
}
