//! The child process: its process group, output files, descriptors, signal
//! state, and what happens when it cannot be started (SPEC §5.1).

mod support;

use support::*;

#[test]
fn child_leads_its_own_process_group_and_inherits_no_descriptor() {
    let mut sup = Supervise::start("fds", "sleep 1000");
    let pid = sup.wait_running();
    assert_eq!(
        group_members(pid),
        vec![pid],
        "the child leads its own group"
    );
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    assert_eq!(fds, vec!["0", "1", "2"], "no descriptor of supervise leaks");
    let target = |fd: u32| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
    assert_eq!(target(0), std::path::PathBuf::from("/dev/null"));
    assert!(target(1).ends_with("status/svc/__stdout"));
    assert!(target(2).ends_with("status/svc/__stderr"));
}

#[test]
fn child_starts_with_default_signal_handling() {
    let mut sup = Supervise::start("sigmask", "sleep 1000");
    let pid = sup.wait_running();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    for field in ["SigBlk:", "SigIgn:"] {
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        assert_eq!(
            line.split_whitespace().nth(1),
            Some("0000000000000000"),
            "{line}"
        );
    }
    // So `h` ends a service without a HUP handler (SPEC §9).
    sup.control("h");
    sup.wait_new_pid(pid);
}

#[test]
fn output_is_appended_across_restarts() {
    let dir = TempDir::new("output");
    let script = dir.script("talk.sh", "echo out-$$; echo err-$$ >&2; exec sleep 1000");
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    );
    let first = sup.wait_running();
    wait_until("first output", || {
        sup.file("__stdout").contains(&format!("out-{first}"))
    });
    sup.control("k");
    let second = sup.wait_new_pid(first);
    wait_until("second output", || {
        sup.file("__stderr").contains(&format!("err-{second}"))
    });
    assert_eq!(sup.file("__stdout"), format!("out-{first}\nout-{second}\n"));
    assert_eq!(sup.file("__stderr"), format!("err-{first}\nerr-{second}\n"));
}

/// How many of `pid`'s descriptors are open on the file `name` in `dir`.
fn descriptors_on(pid: u32, dir: &std::path::Path, name: &str) -> usize {
    let target = dir.join(name);
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|t| *t == target)
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn supervise_holds_one_set_of_output_files_while_the_service_runs_and_none_when_down() {
    let mut sup = Supervise::start("heldfiles", "sleep 1000");
    let sup_pid = sup.pid();
    let dir = std::fs::canonicalize(&sup.status_dir).unwrap();
    let mut pid = sup.wait_running();
    // Held so that the service's exit is not the files' last close (which
    // would make the dying service release them); one set, however many
    // restarts.
    for _ in 0..3 {
        sup.control("k");
        pid = sup.wait_new_pid(pid);
    }
    for name in ["__stdout", "__stderr"] {
        assert_eq!(descriptors_on(sup_pid, &dir, name), 1, "{name} while up");
    }
    sup.control("d");
    sup.wait_down();
    wait_until(
        "supervise closes the output files of a service that is down",
        || {
            descriptors_on(sup_pid, &dir, "__stdout") + descriptors_on(sup_pid, &dir, "__stderr")
                == 0
        },
    );
    sup.control("u");
    sup.wait_new_pid(pid);
    assert_eq!(
        descriptors_on(sup_pid, &dir, "__stdout"),
        1,
        "__stdout after u"
    );
}

#[test]
fn a_missing_command_is_fatal_in_the_log_and_supervision_goes_on() {
    let mut sup = Supervise::start("missing", "no-such-command-here --flag");
    sup.wait_log_wf("unable to start no-such-command-here --flag");
    let wf = sup.log_wf();
    assert!(wf.contains("[FATAL] "), "{wf}");
    sup.wait_log_wf("restarting in");
    assert!(
        sup.running(),
        "supervise survives a command that cannot start"
    );
    // Still obeys control while backing off.
    sup.control("dx");
    assert_eq!(sup.wait_exit().code(), Some(0));
}

#[test]
fn a_command_that_is_not_executable_is_fatal_too() {
    let dir = TempDir::new("noexec");
    dir.write("plain.txt", "not a program");
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "./plain.txt"], &[]);
    sup.wait_log_wf("unable to start ./plain.txt");
    assert!(
        sup.log_wf().contains("ermission denied"),
        "{}",
        sup.log_wf()
    );
    assert!(sup.running());
}

#[test]
fn sighup_to_supervise_is_ignored() {
    let mut sup = Supervise::start("sighup", "sleep 1000");
    let pid = sup.wait_running();
    kill(sup.pid(), libc::SIGHUP);
    sup.wait_log("SIGHUP received and ignored");
    assert!(sup.running());
    assert_eq!(sup.status().pid, pid, "the service is untouched");
}

#[test]
fn an_executable_without_a_shebang_runs_through_bin_sh_like_execvp() {
    // glibc's posix_spawnp answers ENOEXEC where execvp falls back to
    // /bin/sh (SPEC §5.1): legacy services started that way must run.
    let dir = TempDir::new("noshebang");
    let plain = dir.join("plain");
    std::fs::write(&plain, "echo \"$0 $*\" > ran; exec sleep 1000\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut sup = Supervise::start_with(dir, &["-u", "status/svc", "./plain", "one", "two"], &[]);
    sup.wait_running();
    let ran = sup.dir.join("ran");
    wait_until("the script runs", || {
        std::fs::read_to_string(&ran).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&ran).unwrap(), "./plain one two\n");
    assert!(
        !sup.log_wf().contains("unable to start"),
        "{}",
        sup.log_wf()
    );
    // Found through PATH too, as execvp does.
    let dir = TempDir::new("noshebang-path");
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let tool = bin_dir.join("legacy-tool");
    std::fs::write(&tool, "echo \"$0\" > ran-path; exec sleep 1000\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", "legacy-tool"],
        &[("PATH", &path)],
    );
    sup.wait_running();
    let ran = sup.dir.join("ran-path");
    wait_until("the script found through PATH runs", || {
        std::fs::read_to_string(&ran).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(
        std::fs::read_to_string(&ran).unwrap().trim(),
        tool.to_str().unwrap()
    );
}

#[test]
fn a_service_that_closes_its_stdout_and_stderr_is_supervised_as_ever() {
    let dir = TempDir::new("closes-stdout");
    let script = dir.script(
        "closes.sh",
        "echo before-$$\nexec >&- 2>&-\nexec sleep 1000",
    );
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    );
    let pid = sup.wait_running();
    wait_until("its last words", || {
        sup.file("__stdout").contains(&format!("before-{pid}"))
    });
    kill(pid, libc::SIGKILL);
    let new = sup.wait_new_pid(pid);
    wait_until("the next one writes again", || {
        sup.file("__stdout").contains(&format!("before-{new}"))
    });
}
