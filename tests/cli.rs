//! The command line: usage errors, help, version, detaching and the checks
//! made before detaching (SPEC §1, §9).

mod support;

use std::process::{Command, Stdio};

use support::*;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn usage_errors_exit_100_with_a_message_and_the_usage() {
    let dir = TempDir::new("usage");
    let cases: &[(&[&str], &str)] = &[
        (&[], "missing the status directory"),
        (&["-p", "status/a"], "missing -f COMMAND"),
        (
            &["-p", "/tmp/nothing-here", "-f", "true"],
            "must contain status/NAME",
        ),
        (&["-q"], "unknown option -q"),
        (&["-p"], "option -p requires an argument"),
        (&["-u", "status/a"], "must be followed by the command"),
    ];
    for (args, message) in cases {
        let out = run(dir.path(), args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(100), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            err.contains("usage: supervise -p STATUS_DIR"),
            "{args:?}: {err}"
        );
    }
    assert!(!dir.join("status").exists(), "usage errors create nothing");
}

#[test]
fn help_and_version_exit_0() {
    let dir = TempDir::new("help");
    for args in [&["-h"][..], &["--help"], &["-v"], &["--version"]] {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("supervise"), "{args:?}: {text}");
    }
}

#[test]
fn help_to_a_closed_pipe_does_not_panic() {
    let mut child = Command::new(bin())
        .arg("--help")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr_of(&out).contains("panicked"), "{}", stderr_of(&out));
}

#[test]
fn detaches_and_keeps_running_with_the_lock_held_by_the_daemon() {
    let dir = TempDir::new("detach");
    let out = run(
        dir.path(),
        &["-p", "deep/er/status/app", "-f", "sleep 1000"],
    );
    let status_dir = dir.join("deep/er/status/app");
    let _detached = Detached(status_dir.clone());
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lock = status_dir.join("lock");
    let daemon = supervise::sys::lock::holder_pid(&lock).expect("a process holds the lock");
    wait_until("the detached supervise starts the service", || {
        supervise::status::read(&status_dir).is_ok_and(|s| s.pid != 0)
    });
    assert!(alive(daemon));
    // A new session, away from the test's terminal and process group.
    let fields = stat_fields(daemon);
    assert_eq!(
        fields[3],
        daemon.to_string(),
        "supervise leads its own session"
    );
    // Its stdio is /dev/null.
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{daemon}/fd/{fd}")).unwrap();
        assert_eq!(target, std::path::PathBuf::from("/dev/null"));
    }
    // The working directory is kept, so relative paths work.
    assert_eq!(
        std::fs::read_link(format!("/proc/{daemon}/cwd")).unwrap(),
        dir.path().canonicalize().unwrap()
    );
    // A second supervise on the same directory names the first.
    let second = run(
        dir.path(),
        &["-p", "deep/er/status/app", "-f", "sleep 1000"],
    );
    assert_eq!(second.status.code(), Some(111));
    assert!(
        stderr_of(&second).contains(&format!(
            "supervise already running for deep/er/status/app, pid {daemon}"
        )),
        "{}",
        stderr_of(&second)
    );
    let wf = std::fs::read_to_string(status_dir.join("supervise.log.wf")).unwrap();
    assert!(
        wf.contains("Unable to acquier deep/er/status/app/lock"),
        "{wf}"
    );
    // The status directory is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&status_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn an_unusable_status_directory_is_reported_before_detaching() {
    let dir = TempDir::new("unusable");
    dir.write("file", "not a directory");
    let out = run(dir.path(), &["-p", "file/status/a", "-f", "true"]);
    let _detached = Detached(dir.join("file/status/a"));
    assert_eq!(out.status.code(), Some(111));
    assert!(
        stderr_of(&out).contains("cannot create"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_control_that_is_not_a_fifo_is_reported_before_detaching() {
    let dir = TempDir::new("badfifo");
    std::fs::create_dir_all(dir.join("status/a")).unwrap();
    dir.write("status/a/control", "regular file");
    let out = run(dir.path(), &["-p", "status/a", "-f", "true"]);
    let _detached = Detached(dir.join("status/a"));
    assert_eq!(out.status.code(), Some(111));
    let err = stderr_of(&out);
    assert!(
        err.contains("control") && err.contains("not a FIFO"),
        "{err}"
    );
}

#[test]
fn everything_after_the_u_directory_is_the_child_argv() {
    let dir = TempDir::new("dash-u");
    let mut sup = Supervise::start_with(
        dir,
        &[
            "-u",
            "status/svc",
            "sh",
            "-c",
            "echo \"$@\" > out; exec sleep 1000",
            "sh",
            "-l",
            "-p",
            "--",
        ],
        &[],
    );
    sup.wait_running();
    let out = sup.dir.join("out");
    wait_until("the child writes its arguments", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "-l -p --\n");
}

#[test]
fn a_log_that_cannot_be_opened_is_reported_before_detaching() {
    let dir = TempDir::new("badlog");
    // A directory where the log file should be: no one can append to it.
    std::fs::create_dir_all(dir.join("status/a/supervise.log")).unwrap();
    let out = run(dir.path(), &["-p", "status/a", "-f", "sleep 1000"]);
    let _detached = Detached(dir.join("status/a"));
    assert_eq!(out.status.code(), Some(111));
    let err = stderr_of(&out);
    assert!(err.contains("cannot open the logs in status/a"), "{err}");
    assert!(
        supervise::sys::lock::holder_pid(&dir.join("status/a/lock")).is_none(),
        "no supervise was left running"
    );
}

#[test]
fn rm_lock_does_not_let_a_second_supervise_in() {
    // Issue 11 item 5: after `rm lock` a second supervise took the
    // directory and started a second copy of the service.
    let secs = unique_seconds();
    let command = format!("sleep {secs}");
    let _guard = KillAll(vec!["sleep".into(), secs.clone()]);
    let mut first = Supervise::start("rm-lock", &command);
    let pid = first.wait_running();
    std::fs::remove_file(first.status_dir.join("lock")).unwrap();
    let out = run(first.dir.path(), &["-p", "status/svc", "-f", &command]);
    let _detached = Detached(first.status_dir.clone());
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(111), "{err}");
    assert!(
        err.contains(&format!(
            "supervise already running for status/svc, pid {}",
            first.pid()
        )),
        "{err}"
    );
    assert_eq!(processes_running(&["sleep", &secs]), vec![pid], "one copy");
    assert!(first.running());
}

#[test]
fn a_detached_supervise_closes_the_descriptors_it_inherited() {
    // Issue 11 item 6: a caller waiting for EOF on a pipe it passed (as
    // `$(supervise ...)` or a CI runner does) waited as long as supervise
    // lived.
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("inherited");
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the array; both ends are ours.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (reader, writer) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    let passed = writer.as_raw_fd();
    let mut command = Command::new(bin());
    command
        .args(["-p", "status/a", "-f", "sleep 1000"])
        .current_dir(dir.path())
        .env_remove("SUPERVISE_FOREGROUND")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: dup2 between fork and exec; only supervise gets fd 5 (the
    // other tests' children, started meanwhile, do not: O_CLOEXEC).
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(passed, 5) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = command.status().unwrap();
    let status_dir = dir.join("status/a");
    let _detached = Detached(status_dir.clone());
    assert!(status.success());
    drop(writer);
    wait_until("the service runs", || {
        supervise::status::read(&status_dir).is_ok_and(|s| s.pid != 0)
    });
    // EOF: no one holds the write end any more, supervise included.
    let fd = reader.as_raw_fd();
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut poll, 1, 10_000) };
    assert_eq!(ready, 1, "EOF within 10 s");
    let mut byte = [0u8; 1];
    use std::io::Read;
    assert_eq!((&reader).read(&mut byte).unwrap(), 0, "EOF, not data");
    let daemon = supervise::sys::lock::holder_pid(&status_dir.join("lock")).unwrap();
    assert!(alive(daemon), "while supervise still runs");
}
