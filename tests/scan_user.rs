//! The `user` key as operators write it (issue 13 item 5): a name, a
//! number, `user:group`, supplementary groups (`groups : ...`); supervise
//! stays the scanner's user (root here) and only the service's process
//! becomes the user, so the status directory and the logs stay root's. An
//! unknown user or group is an error of the load, with its line; nothing
//! runs as root by mistake. Also `supervise --user` run by hand.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use scan_support::*;
use support::*;

/// The numbers of a `/proc/PID/status` line (`Uid:`, `Gid:`, `Groups:`).
fn proc_ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"));
    line[key.len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Every file of a status directory, and the directory, belongs to root.
fn owned_by_root(dir: &Path) {
    let meta = std::fs::metadata(dir).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 0), "{}", dir.display());
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (0, 0), "{}", path.display());
    }
}

#[test]
fn only_the_service_becomes_the_user_with_its_group_and_groups() {
    if !root() {
        return eprintln!("not root: cannot run a service as another user");
    }
    let conf = "[who]\ncommand : sh -c 'echo hello; echo oops >&2; exec sleep 1000'\n\
                user : nobody:adm\ngroups : tty 4243\n\
                [num]\ncommand : sleep 1001\nuser : 4242:4244\n";
    let scan = Scan::start("scan-user", conf, &[]);
    let who = scan.service_pid("who");
    assert_eq!(proc_ids(who, "Uid:"), vec![65534; 4]);
    assert_eq!(proc_ids(who, "Gid:"), vec![4; 4]);
    let mut groups = proc_ids(who, "Groups:");
    groups.sort();
    assert_eq!(groups, vec![4, 5, 4243]);
    // A number without a passwd entry, with the group given.
    let num = scan.service_pid("num");
    assert_eq!(proc_ids(num, "Uid:"), vec![4242; 4]);
    assert_eq!(proc_ids(num, "Gid:"), vec![4244; 4]);
    assert_eq!(proc_ids(num, "Groups:"), vec![4244]);
    // supervise itself stays root, and so do its files.
    for name in ["who", "num"] {
        let sup = scan.supervise_pid(name);
        assert_eq!(proc_ids(sup, "Uid:"), vec![0; 4], "{name}'s supervise");
    }
    let dir = scan.status_dir("who");
    wait_until("the service's output reaches its files", || {
        std::fs::read_to_string(dir.join("__stderr")).is_ok_and(|t| t == "oops\n")
    });
    assert_eq!(
        std::fs::read_to_string(dir.join("__stdout")).unwrap(),
        "hello\n"
    );
    owned_by_root(&dir);
    owned_by_root(&scan.status_dir("num"));
}

#[test]
fn an_unknown_user_or_group_is_an_error_with_its_line_and_nothing_runs() {
    let dir = TempDir::new("scan-user-unknown");
    let conf = "[a]\ncommand : sleep 1000\n\
                [b]\ncommand : sleep 1001\nuser : no-such-user-42\n\
                [c]\ncommand : sleep 1002\nuser : nobody:no-such-group-42\n\
                [d]\ncommand : sleep 1003\nuser : 4242\n\
                [e]\ncommand : sleep 1004\ngroups : adm\n";
    dir.write("s.conf", conf);
    let out = run_scan(dir.path(), &["--check", "-F", "s.conf"]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        "s.conf:5: [b]: user no-such-user-42: no user named no-such-user-42 in /etc/passwd",
        "s.conf:8: [c]: user nobody:no-such-group-42: no group named no-such-group-42 in /etc/group",
        "s.conf:11: [d]: user 4242: uid 4242 has no entry in /etc/passwd: name its group too (4242:GROUP)",
        "s.conf:14: [e]: `groups` needs `user`",
    ] {
        assert!(text.contains(expected), "{expected}\nnot in:\n{text}");
    }
    // A scanner refuses the file: nothing starts, not even the valid [a].
    let out = run_scan(dir.path(), &["-F", "s.conf", "-d", "root"]);
    assert_eq!(out.status.code(), Some(111));
    assert!(!dir.join("root/status/a/status").exists());
    assert!(!dir.join("root/status/b").exists());
}

#[test]
fn plain_supervise_takes_user_and_groups_flags() {
    if !root() {
        return eprintln!("not root: cannot run a service as another user");
    }
    let mut sup = Supervise::start_with(
        TempDir::new("user-flag"),
        &[
            "--user",
            "nobody",
            "--groups",
            "adm,5",
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
        &[],
    );
    let pid = sup.wait_running();
    assert_eq!(proc_ids(pid, "Uid:"), vec![65534; 4]);
    assert_eq!(proc_ids(pid, "Gid:"), vec![65534; 4]);
    let mut groups = proc_ids(pid, "Groups:");
    groups.sort();
    assert_eq!(groups, vec![4, 5, 65534]);
    assert_eq!(proc_ids(sup.pid(), "Uid:"), vec![0; 4]);
    // Restarted as the user too, through the same path.
    kill(pid, libc::SIGKILL);
    let again = sup.wait_new_pid(pid);
    assert_eq!(proc_ids(again, "Uid:"), vec![65534; 4]);
    owned_by_root(&sup.status_dir);
}

#[test]
fn plain_supervise_refuses_an_unknown_user_before_starting_anything() {
    let dir = TempDir::new("user-flag-unknown");
    let out = run(
        dir.path(),
        &[
            "--foreground",
            "--user",
            "no-such-user-42",
            "-p",
            "status/svc",
            "-f",
            "sleep 1000",
        ],
    );
    assert_eq!(out.status.code(), Some(111));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("user no-such-user-42: no user named no-such-user-42 in /etc/passwd"),
        "{err}"
    );
    assert!(!dir.join("status/svc/status").exists());
}

#[test]
fn a_user_supervise_cannot_become_is_a_failed_start_retried_with_back_off() {
    if !root() {
        return eprintln!("not root: cannot run supervise as nobody");
    }
    // supervise as nobody may not setuid to root: each start fails in the
    // child, before exec; supervise logs it, backs off and goes on.
    let dir = TempDir::new("user-eperm");
    give_to_nobody(dir.path());
    let sup = Supervise::start_as_nobody(
        dir,
        &["--user", "root", "-p", "status/svc", "-f", "sleep 1000"],
    );
    sup.wait_log_wf("unable to start sleep 1000: Operation not permitted");
    sup.wait_log_wf("restarting in");
    assert_eq!(sup.status().pid, 0);
    assert!(alive(sup.pid()));
}

#[test]
fn supervise_check_says_who_the_service_would_run_as() {
    let dir = TempDir::new("user-check");
    dir.write("supervise.conf", "[svc]\nmax_tries : 3\n");
    let check = |user: &str| {
        run(
            dir.path(),
            &[
                "--check",
                "--user",
                user,
                "--groups",
                "5",
                "-p",
                "status/svc",
            ],
        )
    };
    let out = check("nobody:adm");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("user: uid 65534 gid 4 groups 4,5"), "{text}");
    let out = check("no-such-user-42");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error: user no-such-user-42: no user named no-such-user-42"),
        "{text}"
    );
}

#[test]
fn as_a_user_the_service_starts_as_any_other_does() {
    if !root() {
        return eprintln!("not root: cannot run a service as another user");
    }
    // An executable without `#!` (run by /bin/sh, as execvp does), found
    // through PATH, whose process reports its signal mask and ignored
    // signals (none of either) and its uid into supervise's files. (grep
    // reads its own status: a shell may block signals around a fork.)
    let dir = TempDir::new("user-exec");
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let script = bin.join("report");
    std::fs::write(
        &script,
        "exec grep -E '^(SigBlk|SigIgn|Uid)' /proc/self/status\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    give_to_nobody(dir.path());
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let sup = Supervise::start_with(
        dir,
        &[
            "--user",
            "nobody",
            "--once",
            "-p",
            "status/svc",
            "-f",
            "report",
        ],
        &[("PATH", &path)],
    );
    let out = sup.status_dir.join("__stdout");
    wait_until("the service reports", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 3)
    });
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "Uid:\t65534\t65534\t65534\t65534\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"
    );
    sup.wait_log("service exited");
    // A command that is not there: the same FATAL line as without a user.
    let mut missing = Supervise::start_with(
        TempDir::new("user-missing"),
        &[
            "--user",
            "nobody",
            "-p",
            "status/svc",
            "-f",
            "no-such-program-42",
        ],
        &[],
    );
    missing.wait_log_wf("unable to start no-such-program-42: No such file or directory");
    assert!(missing.running());
}

#[test]
fn as_a_user_the_service_gets_its_notification_fd_and_notify_socket() {
    if !root() {
        return eprintln!("not root: cannot run a service as another user");
    }
    // notification_fd : 3 reaches the user's process (it makes the service
    // ready), and so does the environment supervise sets (NOTIFY_SOCKET).
    let dir = TempDir::new("user-ready");
    dir.write(
        "supervise.conf",
        "[svc]\nnotification_fd : 3\nnotify : systemd\n",
    );
    let mut sup = Supervise::start_with(
        dir,
        &[
            "--user",
            "nobody",
            "-u",
            "status/svc",
            "sh",
            "-c",
            "echo >&3; exec sleep 1000",
        ],
        &[],
    );
    let pid = sup.wait_running();
    assert_eq!(proc_ids(pid, "Uid:"), vec![65534; 4]);
    let info = sup.status_dir.join("info");
    wait_until("the service is ready", || {
        std::fs::read_to_string(&info).is_ok_and(|t| t.contains("state=ready"))
    });
    // Read once `sh` has become `sleep`: during its exec, /proc/PID/environ
    // reads empty.
    wait_until("the service's environment names NOTIFY_SOCKET", || {
        std::fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|e| String::from_utf8_lossy(&e).contains("NOTIFY_SOCKET=@"))
    });
}

#[test]
fn as_a_user_the_service_writes_into_supervises_log_pipes() {
    if !root() {
        return eprintln!("not root: cannot run a service as another user");
    }
    // log_max_bytes sends the output through supervise's pipes: the user's
    // process writes into them as any service does; the files stay root's.
    let dir = TempDir::new("user-logpipe");
    dir.write("supervise.conf", "[svc]\nlog_max_bytes : 100000\n");
    let mut sup = Supervise::start_with(
        dir,
        &[
            "--user",
            "nobody",
            "-u",
            "status/svc",
            "sh",
            "-c",
            "echo through the pipe; exec sleep 1000",
        ],
        &[],
    );
    let pid = sup.wait_running();
    assert_eq!(proc_ids(pid, "Uid:"), vec![65534; 4]);
    let out = sup.status_dir.join("__stdout");
    wait_until("the line reaches __stdout", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains("through the pipe\n"))
    });
    owned_by_root(&sup.status_dir);
}
