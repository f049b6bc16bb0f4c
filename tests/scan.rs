//! supervise-scan: many services from one config, reload, replacement of a
//! killed supervise, orderly shutdown, output forwarding, and PID 1 in a new
//! PID namespace (issue 6).

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::path::Path;
use std::time::Duration;

use scan_support::*;
use support::*;

const TWO: &str =
    "[global]\nstop_timeout : 2\n\n[a]\ncommand : sleep 1000\n\n[b]\ncommand : sleep 1001\n";

#[test]
fn runs_a_supervise_per_section_with_a_command() {
    let scan = Scan::start(
        "scan-basic",
        "[a]\ncommand : sleep 1000\n[legacy]\nmax_tries : 3\n[b]\ncommand : sleep 1001\n",
        &[],
    );
    let a = scan.service_pid("a");
    let b = scan.service_pid("b");
    assert_ne!(a, b);
    assert!(
        !scan.dir.join("root/status/legacy").exists(),
        "a section without command is not run"
    );
    // Each service has its own supervise, whose parent is the scanner.
    let sup = scan.supervise_pid("a");
    assert_eq!(parent_of(sup), Some(scan.pid()));
    assert_eq!(parent_of(a), Some(sup));
    assert_eq!(parent_of(b), Some(scan.supervise_pid("b")));
}

#[test]
fn reload_adds_removes_and_changes_only_what_changed() {
    let dir = TempDir::new("scan-reload");
    let scan = Scan::start_in(
        dir,
        "[global]\nstop_timeout : 2\n[keep]\ncommand : sleep 1000\n[gone]\ncommand : sleep 1001\n\
         [cmd]\ncommand : sleep 1002\n[limits]\ncommand : sleep 1003\nmax_tries : 3\n",
        &[],
        &[],
    );
    let keep = scan.service_pid("keep");
    let gone = scan.service_pid("gone");
    let cmd = scan.service_pid("cmd");
    let limits = scan.service_pid("limits");
    let gone_sup = scan.supervise_pid("gone");
    scan.conf(
        "[global]\nstop_timeout : 2\n[keep]\ncommand : sleep 1000\n[cmd]\ncommand : sleep 1012\n\
         [limits]\ncommand : sleep 1003\nmax_tries : 4\n[new]\ncommand : sleep 1004\n",
    );
    kill(scan.pid(), libc::SIGHUP);
    let new = scan.service_pid("new");
    scan.wait_err("gone: section removed, stopping");
    scan.wait_err("cmd: command changed, restarting the service");
    scan.wait_err("limits: alarms or limits changed, sending r");
    wait_until("the removed service is gone", || {
        !alive(gone) && !alive(gone_sup)
    });
    let cmd_after = {
        let dir = scan.status_dir("cmd");
        let mut pid = 0;
        wait_until("cmd restarts with its new command", || {
            pid = supervise::status::read(&dir).map_or(0, |s| s.pid);
            pid != 0 && pid != cmd
        });
        pid
    };
    assert!(!alive(cmd));
    let cmdline = std::fs::read_to_string(format!("/proc/{cmd_after}/cmdline")).unwrap();
    assert!(cmdline.contains("1012"), "{cmdline:?}");
    let limits_log = scan.status_dir("limits").join("supervise.log");
    wait_until("limits re-reads its config", || {
        std::fs::read_to_string(&limits_log).is_ok_and(|t| t.contains("max_tries: 4"))
    });
    assert_eq!(scan.service_pid("limits"), limits, "r does not restart");
    assert_eq!(
        scan.service_pid("keep"),
        keep,
        "an unchanged service keeps its pid"
    );
    assert!(alive(new));
}

#[test]
fn a_killed_supervise_is_replaced_without_duplicating_its_service() {
    let scan = Scan::start("scan-replace", TWO, &[]);
    let old_service = scan.service_pid("a");
    let old_sup = scan.supervise_pid("a");
    kill(old_sup, libc::SIGKILL);
    scan.wait_err("a: supervise died (killed by signal 9 SIGKILL); starting it again");
    let dir = scan.status_dir("a");
    let mut new_service = 0;
    wait_until("a new service replaces the old one", || {
        new_service = supervise::status::read(&dir).map_or(0, |s| s.pid);
        new_service != 0 && new_service != old_service
    });
    wait_until("the old service is gone", || !alive(old_service));
    let new_sup = scan.nth_supervise_pid("a", 2);
    assert_ne!(new_sup, old_sup);
    // Exactly one `sleep 1000` belongs to a: the new supervise's only child,
    // alone in its group.
    assert!(alive(new_service));
    assert_eq!(children_of(new_sup), vec![new_service]);
    assert_eq!(group_members(new_service), vec![new_service]);
}

#[test]
fn sigterm_stops_every_service_in_parallel_and_exits_0() {
    let dir = TempDir::new("scan-stop");
    // Two services that ignore TERM, with a stop timeout no test waits out:
    // a scanner stopping one at a time would never reach the second.
    let stubborn = dir.script(
        "stubborn.sh",
        "trap '' TERM\necho ready > ready-$1\nwhile :; do sleep 0.05; done",
    );
    let conf = format!(
        "[global]\nstop_timeout : 600\n[a]\ncommand : sleep 1000\n\
         [c]\ncommand : {0} c\n[d]\ncommand : {0} d\n",
        stubborn.display()
    );
    let mut scan = Scan::start_in(dir, &conf, &[], &[]);
    let pids: Vec<u32> = ["a", "c", "d"]
        .iter()
        .map(|n| scan.service_pid(n))
        .collect();
    let sups: Vec<u32> = ["a", "c", "d"]
        .iter()
        .map(|n| scan.supervise_pid(n))
        .collect();
    for name in ["c", "d"] {
        let ready = scan.dir.join(&format!("ready-{name}"));
        wait_until(&format!("{name} ignores TERM"), || ready.exists());
    }
    kill(scan.pid(), libc::SIGTERM);
    for name in ["c", "d"] {
        let log = scan.status_dir(name).join("supervise.log");
        wait_until(&format!("{name}'s supervise is told to stop"), || {
            std::fs::read_to_string(&log)
                .is_ok_and(|l| l.contains("received a signal to terminate"))
        });
    }
    // Both are stopping at once; end them, as a stop timeout would.
    kill(pids[1], libc::SIGKILL);
    kill(pids[2], libc::SIGKILL);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    for pid in pids.iter().chain(&sups) {
        assert!(!alive(*pid), "pid {pid} outlived the scanner");
    }
    assert!(scan.err().contains("every service is down; exiting"));
}

#[test]
fn forwards_output_with_a_name_prefix() {
    let dir = TempDir::new("scan-forward");
    let talk = dir.script(
        "talk.sh",
        "echo \"hello from $1\"; echo \"oops from $1\" >&2; exec sleep 1000",
    );
    let conf = format!(
        "[one]\ncommand : {} one\n[two]\ncommand : {} two\n",
        talk.display(),
        talk.display()
    );
    let scan = Scan::start_in(dir, &conf, &["--forward-output"], &[]);
    wait_until("both services' stdout is forwarded", || {
        let out = scan.out();
        out.contains("one: hello from one\n") && out.contains("two: hello from two\n")
    });
    wait_until("stderr is forwarded to stderr", || {
        scan.err().contains("two: oops from two\n")
    });
}

#[test]
fn as_pid_1_it_reaps_orphans_and_shuts_down_in_order() {
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/unshare").exists() {
        panic!("this test needs root and unshare(1) (util-linux), as CI has");
    }
    let mut scan = Scan::start_in(
        TempDir::new("scan-pid1"),
        TWO,
        &[],
        &["unshare", "--pid", "--fork", "--mount-proc"],
    );
    let unshare = scan.child.as_ref().unwrap().id();
    let mut inner = 0;
    wait_until("the scanner runs under unshare", || {
        inner = children_of(unshare).into_iter().next().unwrap_or(0);
        inner != 0
    });
    scan.inner_pid = Some(inner);
    let status = std::fs::read_to_string(format!("/proc/{inner}/status")).unwrap();
    let ns_pid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert!(
        ns_pid.trim_end().ends_with("\t1"),
        "the scanner is PID 1: {ns_pid}"
    );
    // Orphan a service: kill its supervise; the service is re-parented to
    // the scanner, the new supervise stops it, and the scanner must reap it.
    // (Status files hold pids as seen inside the namespace.)
    let orphan = host_pid(inner, scan.service_pid("a"));
    let sup = parent_of(orphan).unwrap();
    assert_ne!(sup, inner);
    kill(sup, libc::SIGKILL);
    wait_until("the orphan is re-parented to the scanner", || {
        !alive(orphan) || parent_of(orphan) == Some(inner)
    });
    wait_until("the orphan is stopped and reaped (not a zombie)", || {
        !Path::new(&format!("/proc/{orphan}")).exists()
    });
    let b = host_pid(inner, scan.service_pid("b"));
    kill(inner, libc::SIGTERM);
    let status = scan.wait_exit(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", scan.err());
    assert!(!alive(b));
    assert!(!alive(inner));
}

/// The host pid of the process that is `ns_pid` inside the namespace whose
/// init is `init` (a host pid), found among init's descendants.
fn host_pid(init: u32, ns_pid: u32) -> u32 {
    let mut found = None;
    wait_until(&format!("namespace pid {ns_pid} under {init}"), || {
        let mut queue = vec![init];
        while let Some(pid) = queue.pop() {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let inner = status
                .lines()
                .find(|l| l.starts_with("NSpid:"))
                .and_then(|l| l.split_whitespace().last()?.parse::<u32>().ok());
            if inner == Some(ns_pid) {
                found = Some(pid);
                return true;
            }
            queue.extend(children_of(pid));
        }
        false
    });
    found.unwrap()
}

#[test]
fn directory_user_env_and_umask_apply_to_the_service() {
    let dir = TempDir::new("scan-identity");
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o777)).unwrap();
    dir.write("env.list", "# comment\nFROM_FILE=file value\n");
    let report = dir.script(
        "report.sh",
        "echo \"uid=$(id -u) cwd=$(pwd) a=$A from_file=$FROM_FILE umask=$(umask)\" > report.txt\nexec sleep 1000",
    );
    let conf = format!(
        "[who]\ncommand : {}\ndirectory : {}\nuser : nobody\nenv : A=two words\nenvironment_file : {}\numask : 027\n",
        report.display(),
        work.display(),
        dir.join("env.list").display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let service = scan.service_pid("who");
    let out = work.join("report.txt");
    wait_until("the service reports who it is", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n'))
    });
    let nobody = supervise::sys::user::lookup("nobody").unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().trim(),
        format!(
            "uid={} cwd={} a=two words from_file=file value umask=0027",
            nobody.uid,
            work.display()
        )
    );
    // supervise itself stays the scanner's user (root); only the service
    // became nobody (tests/scan_user.rs has the groups and the files).
    let sup = scan.supervise_pid("who");
    let status = std::fs::read_to_string(format!("/proc/{sup}/status")).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == "0"),
        "{uid_line}"
    );
    assert!(alive(service));
}

#[test]
fn sigterm_during_a_restart_exits_at_once_without_spinning() {
    // Force deadline: stop_timeout 2 s + 5 s of slack after the SIGTERM.
    let mut scan = Scan::start(
        "scan-term-restart",
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n",
        &[],
    );
    scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    // A supervise slow to stop: it cannot act on the TERM until SIGCONT,
    // so the restart is surely still in flight when the SIGTERM arrives.
    kill(sup, libc::SIGSTOP);
    scan.conf("[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1010\n");
    kill(scan.pid(), libc::SIGHUP);
    scan.wait_err("a: command changed, restarting the service");
    kill(scan.pid(), libc::SIGTERM);
    scan.wait_err("stopping every service");
    let before = cpu_time(scan.pid());
    kill(sup, libc::SIGCONT);
    wait_until("the old supervise exits", || !alive(sup));
    // Well before the force deadline; then the CPU it used while waiting,
    // read from its zombie before it is reaped: a scanner that polls with a
    // zero timeout until the deadline burns seconds.
    let pid = scan.pid();
    let mut cpu = before;
    let child = scan.child.as_mut().unwrap();
    let mut status = None;
    wait_until_for(
        Duration::from_secs(4),
        "supervise-scan exits after the restarting supervise did",
        || {
            cpu = cpu_time(pid);
            status = child.try_wait().unwrap();
            status.is_some()
        },
    );
    assert_eq!(status.unwrap().code(), Some(0), "{}", scan.err());
    let spent = cpu.saturating_sub(before);
    assert!(
        spent < Duration::from_millis(500),
        "the scanner used {spent:?} of CPU waiting to exit"
    );
    assert_eq!(starts_of(&scan, "a"), 1, "nothing is started at shutdown");
    assert!(scan.err().contains("every service is down; exiting"));
}

#[test]
fn a_section_re_added_while_its_removal_is_in_flight_runs_once() {
    let scan = Scan::start(
        "scan-readd",
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n",
        &[],
    );
    let old_service = scan.service_pid("a");
    let old_sup = scan.supervise_pid("a");
    // Slow to stop: the removal stays in flight until SIGCONT.
    kill(old_sup, libc::SIGSTOP);
    scan.conf("[global]\nstop_timeout : 2\n# supervise-scan: no services\n");
    kill(scan.pid(), libc::SIGHUP);
    scan.wait_err("a: section removed, stopping");
    // Back, with b after it: b's start is logged once the reload has dealt
    // with a (changes and starts go in file order).
    scan.conf("[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\n");
    kill(scan.pid(), libc::SIGHUP);
    scan.wait_err("b: supervise started");
    assert_eq!(
        starts_of(&scan, "a"),
        1,
        "no second supervise for a while the first still runs:\n{}",
        scan.err()
    );
    kill(old_sup, libc::SIGCONT);
    wait_until("the old supervise and service are gone", || {
        !alive(old_sup) && !alive(old_service)
    });
    let new_service = {
        let dir = scan.status_dir("a");
        let mut pid = 0;
        wait_until("a runs again", || {
            pid = supervise::status::read(&dir).map_or(0, |s| s.pid);
            pid != 0 && pid != old_service && alive(pid)
        });
        pid
    };
    let new_sup = scan.nth_supervise_pid("a", 2);
    assert_ne!(new_sup, old_sup);
    assert_eq!(parent_of(new_service), Some(new_sup));
    // Exactly one supervise of the scanner's is a's.
    let dir = scan.status_dir("a");
    let supervises: Vec<u32> = children_of(scan.pid())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .unwrap_or_default()
                .split(|b| *b == 0)
                .any(|arg| arg == dir.as_os_str().as_encoded_bytes())
        })
        .collect();
    assert_eq!(supervises, vec![new_sup]);
    let err = scan.err();
    assert_eq!(starts_of(&scan, "a"), 2, "{err}");
    assert!(!err.contains("exit code 111"), "{err}");
}

#[test]
fn a_failed_start_names_the_directory_or_program_that_failed() {
    // issue 10 item 10: a missing directory used to be logged as a bare
    // "No such file or directory (os error 2)", retried for ever.
    let dir = TempDir::new("scan-paths");
    let work = dir.join("work");
    std::fs::create_dir(&work).unwrap();
    let conf = format!(
        "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\ndirectory : {}\n",
        work.display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    std::fs::remove_dir(&work).unwrap_or_else(|_| {
        // The service runs in it; move it away instead.
        std::fs::rename(&work, scan.dir.join("moved")).unwrap()
    });
    kill(sup, libc::SIGKILL);
    scan.wait_err(&format!(
        "a: cannot start supervise: directory {}: No such file or directory",
        work.display()
    ));
    // A supervise binary that is not there.
    let mut scan2 = Scan::start(
        "scan-paths-bin",
        "[b]\ncommand : sleep 1000\n",
        &["--supervise", "/nonexistent/supervise"],
    );
    scan2.wait_err("b: cannot start supervise: /nonexistent/supervise: No such file or directory");
    kill(scan2.pid(), libc::SIGTERM);
    assert_eq!(scan2.wait_exit(Duration::from_secs(20)).code(), Some(0));
}
