//! Resource limits (issue 11 item 9 and what a production machine meets):
//! a descriptor limit too small to supervise fully is refused at start,
//! naming it; at the limit supervise needs everything works; running out of
//! descriptors or processes when starting the service is retried with
//! back-off; a huge command line costs bounded log lines; a tight crash
//! loop keeps memory flat.

mod support;

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use support::*;

/// `command` with RLIMIT_NOFILE set to `limit` (soft and hard) in the child.
fn with_nofile(command: &mut Command, limit: u64) -> &mut Command {
    // SAFETY: setrlimit between fork and exec is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Sets a limit of the running process `pid` with prlimit(1).
fn prlimit(pid: u32, resource: &str, value: &str) {
    let status = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--{resource}={value}"))
        .status()
        .unwrap();
    assert!(status.success(), "prlimit {resource}={value}");
}

#[test]
fn a_descriptor_limit_too_small_is_refused_at_start_naming_it() {
    // Issue 11 item 9: under RLIMIT_NOFILE 13 supervise ran the service
    // but never wrote a status file, and said nothing.
    let dir = TempDir::new("nofile-13");
    let mut command = detaching(dir.path(), &["-p", "status/a", "-f", "sleep 1000"]);
    with_nofile(&mut command, 13);
    let detached = Detached(dir.join("status/a"));
    let out = output_within(command, Duration::from_secs(10)).expect("supervise returns");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(111), "{err}");
    assert!(
        err.contains(
            "the open-file limit (RLIMIT_NOFILE, ulimit -n) is 13; supervise needs at least 32"
        ),
        "{err}"
    );
    drop(detached);
}

#[test]
fn at_the_descriptor_limit_it_needs_supervise_works_fully() {
    // Everything at once: a group being stopped (watched through pidfds),
    // an alarm sender started, the status written, the config re-read.
    let dir = TempDir::new("nofile-32");
    let calls = dir.join("alarms");
    let alarm = dir.script("alarm.sh", &format!("echo \"$2\" >> {}", calls.display()));
    dir.write(
        "supervise.conf",
        &format!(
            "[svc]\nalarm_interval : 60\nmax_tries : 0\nalarm_command : {}\nstop_timeout : 5\n",
            alarm.display()
        ),
    );
    let service = dir.script(
        "workers.sh",
        "for i in 1 2 3 4 5 6; do sleep 1000 & done\nexec sleep 1000",
    );
    let mut command = Command::new(bin());
    with_nofile(&mut command, 32);
    let mut sup = Supervise::start_command(
        dir,
        command,
        &["-p", "status/svc", "-f", service.to_str().unwrap()],
        &[],
    );
    let mut pid = sup.wait_running();
    for round in 1..=3 {
        let mut workers = Vec::new();
        wait_until("the leader and 6 workers run", || {
            workers = group_members(pid);
            workers.len() == 7
        });
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
        assert!(
            workers.iter().all(|&w| !alive(w)),
            "round {round}: the group was stopped"
        );
        wait_until("the alarm sender ran", || {
            std::fs::read_to_string(&calls).is_ok_and(|t| !t.is_empty())
        });
        sup.control("r");
        wait_until("the config is read again", || {
            sup.log()
                .matches("Finished loading configurations!")
                .count()
                > round
        });
    }
    sup.control("s");
    wait_until("the status file is written", || !sup.status().alarms_on);
    assert!(
        !sup.log_wf().contains("Too many open files"),
        "{}",
        sup.log_wf()
    );
}

#[test]
fn running_out_of_descriptors_when_starting_the_service_is_retried() {
    let mut sup = Supervise::start("emfile", "sleep 1000");
    let pid = sup.wait_running();
    // Below what a start needs (its files are opened beside the old ones).
    prlimit(sup.pid(), "nofile", "13:20000");
    kill(pid, libc::SIGKILL);
    sup.wait_log_wf("Too many open files");
    sup.wait_log_wf("restarting in");
    assert!(sup.running());
    prlimit(sup.pid(), "nofile", "1024:20000");
    let new = sup.wait_new_pid(pid);
    assert!(alive(new));
}

/// A process the test started, killed by pid even when the test fails.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn running_out_of_processes_when_starting_the_service_is_retried() {
    if !root() {
        return eprintln!("not root: cannot run supervise as a user of its own");
    }
    // A uid with no other process: under RLIMIT_NPROC 2, supervise and one
    // other process of that user leave no room for the service.
    let uid = 60_000 + std::process::id() % 5_000;
    let as_uid = |program: &str| {
        let mut command = Command::new("setpriv");
        command
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={uid}"))
            .args(["--clear-groups", "--", program]);
        command
    };
    let mut blocker = KilledOnDrop(as_uid("sleep").arg("1000").spawn().unwrap());
    // spawn returns once setpriv runs, still as root: only after its
    // setresuid does the blocker count against the uid's limit.
    let status = format!("/proc/{}/status", blocker.0.id());
    wait_until("the blocker to run as the test's uid", || {
        std::fs::read_to_string(&status).is_ok_and(|text| {
            text.lines()
                .any(|line| line.starts_with(&format!("Uid:\t{uid}\t")))
        })
    });
    let dir = TempDir::new("nproc");
    std::fs::create_dir_all(dir.join("status")).unwrap();
    let owner = Command::new("chown")
        .args(["-R", &format!("{uid}:{uid}")])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(owner.success());
    let mut command = as_uid(bin());
    // SAFETY: setrlimit between fork and exec is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let rlimit = libc::rlimit {
                rlim_cur: 2,
                rlim_max: 2,
            };
            if libc::setrlimit(libc::RLIMIT_NPROC, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut sup =
        Supervise::start_command(dir, command, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    sup.wait_log_wf("unable to start sleep 1000: Resource temporarily unavailable");
    sup.wait_log_wf("restarting in");
    assert!(sup.running());
    // The other process ends: the next retry starts the service.
    blocker.0.kill().unwrap();
    blocker.0.wait().unwrap();
    let pid = sup.wait_running();
    assert!(alive(pid));
}

#[test]
fn a_huge_command_line_costs_bounded_log_lines() {
    // 1 MB of arguments for a command that cannot start: every line that
    // quotes it is cut, and supervise stays responsive.
    let dir = TempDir::new("huge-argv");
    let word = "w".repeat(10_000);
    let mut args = vec!["-u", "status/svc", "/no/such/command"];
    args.extend(std::iter::repeat_n(word.as_str(), 100));
    let mut sup = Supervise::start_with(dir, &args, &[]);
    sup.wait_log_wf("restarting in");
    for (name, text) in [
        ("supervise.log", sup.log()),
        ("supervise.log.wf", sup.log_wf()),
    ] {
        let longest = text.lines().map(str::len).max().unwrap_or(0);
        assert!(longest < 4096, "{name} has a line of {longest} bytes");
    }
    assert!(
        sup.log_wf()
            .contains("unable to start /no/such/command www")
    );
    let total = "/no/such/command".len() + 100 * (1 + word.len());
    assert!(
        sup.log().contains(&format!("... ({total} bytes)")),
        "the cut is said"
    );
    sup.control("dx");
    assert_eq!(sup.wait_exit().code(), Some(0));
}

/// Resident memory of `pid`, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn a_tight_crash_loop_keeps_memory_flat() {
    // No back-off at all (every run counts as healthy): as many restarts as
    // the machine allows; the memory of supervise must not grow with them.
    let dir = TempDir::new("crash-memory");
    dir.write(
        "supervise.conf",
        "[svc]\nhealthy_after : 0\nalarm_interval : 0\n",
    );
    let sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "true"], &[]);
    let starts = || sup.log().matches("service started").count();
    wait_until_for(Duration::from_secs(60), "300 restarts", || starts() >= 300);
    let before = rss_kb(sup.pid());
    let counted = starts();
    wait_until_for(Duration::from_secs(120), "1000 more restarts", || {
        starts() >= counted + 1000
    });
    let after = rss_kb(sup.pid());
    assert!(
        after <= before + 256,
        "RSS grew from {before} kB to {after} kB over 1000 restarts"
    );
}
