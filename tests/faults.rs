//! Faults supervise must survive (issue 2, point 10): floods, unwritable
//! status, deleted or oversized logs, and being killed and started again.

mod support;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use support::*;

#[test]
fn a_megabyte_flood_into_control_is_survived() {
    let mut sup = Supervise::start("flood", "sleep 1000");
    let pid = sup.wait_running();
    let control = sup.status_dir.join("control");
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .open(&control)
        .unwrap();
    let junk = vec![b'z'; 64 * 1024];
    for _ in 0..16 {
        fifo.write_all(&junk).unwrap();
    }
    drop(fifo);
    wait_until("all the junk is read", || {
        let total: usize = sup
            .log_wf()
            .lines()
            .filter_map(|l| {
                l.split("ignored ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .sum();
        total == 16 * 64 * 1024
    });
    assert!(sup.running());
    assert_eq!(sup.status().pid, pid);
    sup.control("d");
    sup.wait_down();
}

#[test]
fn an_unwritable_status_file_is_logged_and_supervision_goes_on() {
    let dir = TempDir::new("unwritable");
    std::fs::create_dir_all(dir.join("status/svc/status.new")).unwrap();
    // Root ignores permissions, so block status.new with a directory.
    let mut child = std::process::Command::new(bin())
        .args(["-p", "status/svc", "-f", "sleep 1000"])
        .current_dir(dir.path())
        .env("SUPERVISE_FOREGROUND", "1")
        .spawn()
        .unwrap();
    let wf = dir.join("status/svc/supervise.log.wf");
    let log = dir.join("status/svc/supervise.log");
    let guard = ChildGuard(&mut child, dir.join("status/svc/__stdout"));
    wait_until("a warning about the status file", || {
        std::fs::read_to_string(&wf)
            .is_ok_and(|t| t.contains("cannot write") && t.contains("status"))
    });
    wait_until("the service starts anyway", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("service started, pid"))
    });
    std::fs::remove_dir(dir.join("status/svc/status.new")).unwrap();
    std::fs::write(dir.join("status/svc/control"), "s").unwrap();
    wait_until("the status file is written once it can be", || {
        supervise::status::read(&dir.join("status/svc")).is_ok_and(|s| s.pid != 0 && !s.alarms_on)
    });
    drop(guard);
}

/// Kills a directly spawned supervise and the service it started.
struct ChildGuard<'a>(&'a mut std::process::Child, std::path::PathBuf);

impl Drop for ChildGuard<'_> {
    fn drop(&mut self) {
        let status_dir = self.1.parent().unwrap();
        let _ = self.0.kill();
        let _ = self.0.wait();
        if let Ok(status) = supervise::status::read(status_dir) {
            kill_group(status.pid, libc::SIGKILL);
        }
        let log = std::fs::read_to_string(status_dir.join("supervise.log")).unwrap_or_default();
        for pid in log
            .lines()
            .filter_map(|l| l.split("service started, pid ").nth(1)?.parse().ok())
        {
            kill_group(pid, libc::SIGKILL);
        }
    }
}

#[test]
fn a_deleted_log_is_recreated() {
    let mut sup = Supervise::start("deleted-log", "sleep 1000");
    sup.wait_running();
    std::fs::remove_file(sup.status_dir.join("supervise.log")).unwrap();
    std::fs::remove_file(sup.status_dir.join("supervise.log.wf")).unwrap();
    sup.control("p");
    sup.wait_log("control: received p");
    sup.control("?");
    sup.wait_log_wf("ignored 1 unknown control byte(s)");
}

#[test]
fn a_log_past_its_limit_starts_over() {
    let dir = TempDir::new("log-limit");
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", "sleep 1000"],
        &[("SUPERVISE_LOG_MAX_BYTES", "300")],
    );
    sup.wait_running();
    // One log line per command: wait for each to take effect.
    for _ in 0..10 {
        sup.control("s");
        wait_until("alarms off", || !sup.status().alarms_on);
        sup.control("n");
        wait_until("alarms on", || sup.status().alarms_on);
    }
    sup.control("p");
    wait_until("the p command is logged", || {
        sup.log()
            .lines()
            .any(|l| l.contains("control: received") && l.ends_with(" p"))
    });
    let len = std::fs::metadata(sup.status_dir.join("supervise.log"))
        .unwrap()
        .len();
    assert!(
        len <= 300,
        "supervise.log is {len} bytes, over its 300-byte limit"
    );
    assert!(
        !sup.log().contains("supervise (pid"),
        "the early lines were dropped"
    );
}

#[test]
fn killed_supervise_started_again_does_not_duplicate_the_service() {
    let mut first = Supervise::start("takeover", "sleep 1000");
    let old = first.wait_running();
    kill(first.pid(), libc::SIGKILL);
    first.wait_exit();
    assert!(alive(old), "SIGKILL to supervise leaves its child running");
    // A new supervise on the same directory.
    let dir = std::mem::replace(&mut first.dir, TempDir::new("takeover-spare"));
    let mut second = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let new = second.wait_new_pid(old);
    assert!(!alive(old), "the old service was stopped");
    assert!(group_members(old).is_empty());
    assert!(alive(new));
    // The status file is written before the log lines of the same
    // wake-up: the new pid may be read a moment before the line.
    second.wait_log_wf(&format!(
        "pid {old} (process group {old}) of a previous supervise"
    ));
    // `first` names the same status directory: `second` (whose supervise
    // would restart what `first` kills) goes first.
    drop(second);
    drop(first);
}

#[test]
fn a_recycled_pid_in_a_stale_status_file_is_left_alone() {
    // The status file names a live process that is not the service (it does
    // not lead its own group and started long before): it must not be touched.
    let dir = TempDir::new("stale");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    let bystander = std::process::id();
    let stale = supervise::status::Status {
        since: std::time::Duration::from_secs(1_000_000_000),
        paused: false,
        want: Want::Up,
        alarms_on: true,
        pid: bystander,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(status_dir.join("status"))
        .unwrap();
    file.write_all(&stale.encode()).unwrap();
    drop(file);
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    sup.wait_new_pid(bystander);
    assert!(!sup.log_wf().contains("previous supervise"));
}

/// Kills the service of `sup` with SIGKILL and returns the pid of the copy
/// supervise started instead, seen as its child (the status file may not
/// say: that is the point of these tests).
fn kill_and_find_the_new_child(sup: &mut Supervise, old: u32) -> u32 {
    kill(old, libc::SIGKILL);
    let mut new = 0;
    wait_until("supervise starts a new child", || {
        new = children_of(sup.pid())
            .into_iter()
            .find(|&p| p != old && alive(p))
            .unwrap_or(0);
        new != 0
    });
    new
}

#[test]
fn a_status_write_failing_on_a_full_file_system_is_retried_until_it_succeeds() {
    if !root() {
        return eprintln!("not root: no tmpfs");
    }
    for fill in ["blocks", "inodes"] {
        let dir = TempDir::new(&format!("full-{fill}"));
        let tmpfs = Tmpfs::mount(&dir, "status", "size=64k,nr_inodes=64");
        let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
        let old = sup.wait_running();
        let filler = match fill {
            "blocks" => tmpfs.fill_blocks(),
            _ => tmpfs.fill_inodes(),
        };
        let new = kill_and_find_the_new_child(&mut sup, old);
        // It tried (and failed) to write the status before space comes back.
        wait_idle(sup.pid());
        // Nothing can be written; supervision goes on, the file is stale.
        assert_eq!(
            sup.status().pid,
            old,
            "{fill}: the status could not be written"
        );
        if fill == "blocks" {
            std::fs::remove_file(&filler).unwrap();
        } else {
            std::fs::remove_dir_all(&filler).unwrap();
        }
        // Space is back: the status names the new child without any event.
        wait_until(
            &format!("{fill}: the status file names {new} again"),
            || sup.status().pid == new,
        );
        sup.wait_log_wf("written again after");
        let wf = sup.log_wf();
        assert!(
            wf.contains("cannot write") && wf.contains("status/svc/status"),
            "{fill}: {wf}"
        );
        drop(sup);
        drop(tmpfs);
    }
}

#[test]
fn a_status_directory_made_unwritable_is_written_again_once_it_is_writable() {
    if !root() {
        return eprintln!("not root: cannot run supervise as another user");
    }
    let dir = TempDir::new("unwritable-dir");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    give_to_nobody(&dir.join("status"));
    let mut sup = Supervise::start_as_nobody(dir, &["-p", "status/svc", "-f", "sleep 1000"]);
    let old = sup.wait_running();
    use std::os::unix::fs::PermissionsExt;
    let mode = |m| std::fs::set_permissions(&status_dir, std::fs::Permissions::from_mode(m));
    mode(0o500).unwrap();
    let new = kill_and_find_the_new_child(&mut sup, old);
    sup.wait_log_wf("Permission denied");
    assert_eq!(sup.status().pid, old);
    mode(0o700).unwrap();
    wait_until("the status file names the new child", || {
        sup.status().pid == new
    });
    sup.wait_log_wf("status written again after");
    // Once it succeeded, nothing wakes supervise any more.
    wait_asleep(sup.pid());
    let before = context_switches(sup.pid());
    // Observing for a span is the point here, not synchronisation.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        context_switches(sup.pid()),
        before,
        "woke up after recovering"
    );
}

#[test]
fn a_supervise_started_after_one_killed_with_a_stale_status_finds_the_service() {
    if !root() {
        return eprintln!("not root: no tmpfs");
    }
    // The status file names a dead pid (it could not be written when the
    // service was restarted), then supervise is SIGKILLed: the next one
    // must find the live service anyway, and never run a second copy.
    let secs = unique_seconds();
    let command = format!("sleep {secs}");
    let _guard = KillAll(vec!["sleep".into(), secs.clone()]);
    let dir = TempDir::new("stale-takeover");
    let tmpfs = Tmpfs::mount(&dir, "status", "size=64k,nr_inodes=64");
    let mut first = Supervise::start_with(dir, &["-p", "status/svc", "-f", &command], &[]);
    let old = first.wait_running();
    let filler = tmpfs.fill_blocks();
    let live = kill_and_find_the_new_child(&mut first, old);
    // The record is written right after the spawn; the status file cannot be.
    wait_idle(first.pid());
    assert_eq!(first.status().pid, old, "the status file is stale");
    kill(first.pid(), libc::SIGKILL);
    first.wait_exit();
    assert!(
        alive(live),
        "SIGKILL to supervise leaves its service running"
    );
    let dir = std::mem::replace(&mut first.dir, TempDir::new("stale-takeover-spare"));
    let second = Supervise::start_with(dir, &["-p", "status/svc", "-f", &command], &[]);
    wait_until("the service left running is stopped", || !alive(live));
    let mut newest = 0;
    wait_until(
        "exactly one copy runs, started by the new supervise",
        || {
            let copies = processes_running(&["sleep", &secs]);
            newest = copies.first().copied().unwrap_or(0);
            copies.len() == 1 && parent_of(newest) == Some(second.pid())
        },
    );
    std::fs::remove_file(&filler).unwrap();
    wait_until("the status file names it", || second.status().pid == newest);
    assert_eq!(processes_running(&["sleep", &secs]), vec![newest]);
    drop(second);
    drop(first);
    drop(tmpfs);
}

/// Makes a FIFO at `path` (mode 0600).
fn mkfifo(path: &std::path::Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Opens the read end of a FIFO without blocking.
fn fifo_reader(path: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// Everything readable from a non-blocking reader now.
fn read_available(reader: &mut std::fs::File) -> String {
    use std::io::Read;
    let mut buf = [0u8; 65536];
    let mut text = Vec::new();
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&text).into_owned()
}

#[test]
fn a_log_replaced_by_a_fifo_without_reader_never_freezes_supervise() {
    // Issue 11 item 2: `rm supervise.log; mkfifo supervise.log; kill -9
    // CHILD` froze supervise in open(2): d, x and SIGTERM were never obeyed.
    for (log, stop) in [("supervise.log", "dx"), ("supervise.log.wf", "TERM")] {
        let mut sup = Supervise::start("log-fifo", "sleep 1000");
        let pid = sup.wait_running();
        let path = sup.status_dir.join(log);
        std::fs::remove_file(&path).unwrap();
        mkfifo(&path);
        sup.control("?"); // a warning, for supervise.log.wf
        kill(pid, libc::SIGKILL);
        let new = sup.wait_new_pid(pid);
        // Nobody ever reads the FIFO.
        match stop {
            "dx" => sup.control("dx"),
            _ => kill(sup.pid(), libc::SIGTERM),
        }
        assert_eq!(sup.wait_exit().code(), Some(0), "{log}: {stop} obeyed");
        assert!(!alive(new));
    }
}

#[test]
fn lines_for_a_log_that_cannot_be_opened_are_kept_until_it_can() {
    for (log, expected) in [
        ("supervise.log", "service exited!"),
        ("supervise.log.wf", "ignored 1 unknown control byte(s)"),
    ] {
        let mut sup = Supervise::start("log-fifo-kept", "sleep 1000");
        let pid = sup.wait_running();
        let path = sup.status_dir.join(log);
        std::fs::remove_file(&path).unwrap();
        mkfifo(&path);
        sup.control("?");
        kill(pid, libc::SIGKILL);
        sup.wait_new_pid(pid);
        // Supervise goes on meanwhile.
        sup.control("s");
        wait_until("s is obeyed", || !sup.status().alarms_on);
        // A reader comes: the kept lines reach it, on the next retry.
        let mut reader = fifo_reader(&path);
        let mut seen = String::new();
        wait_until(&format!("the kept lines reach the reader of {log}"), || {
            seen.push_str(&read_available(&mut reader));
            seen.contains(expected)
        });
    }
}

#[test]
fn a_stdout_fifo_without_reader_does_not_hang_the_detaching_command() {
    let dir = TempDir::new("stdout-fifo");
    let status_dir = dir.join("status/a");
    std::fs::create_dir_all(&status_dir).unwrap();
    mkfifo(&status_dir.join("__stdout"));
    let script = dir.script("talk.sh", "echo hello from $$; exec sleep 1000");
    let command = detaching(
        dir.path(),
        &["-p", "status/a", "-f", script.to_str().unwrap()],
    );
    let detached = Detached(status_dir.clone());
    let out = output_within(command, Duration::from_secs(10)).expect("supervise returns");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("status/a/__stdout is a FIFO with no reader"),
        "warned on the terminal: {err}"
    );
    let wf = status_dir.join("supervise.log.wf");
    wait_until("a failed start names the file", || {
        std::fs::read_to_string(&wf)
            .is_ok_and(|t| t.contains("status/a/__stdout: No such device or address"))
    });
    // Once someone reads it, the service starts (a retry with back-off)
    // and its output arrives.
    let mut reader = fifo_reader(&status_dir.join("__stdout"));
    let mut seen = String::new();
    wait_until("the service writes into the FIFO", || {
        seen.push_str(&read_available(&mut reader));
        seen.contains("hello from")
    });
    drop(detached);
}

#[test]
fn a_stdout_fifo_with_a_slow_reader_blocks_the_service_not_supervise() {
    // People pipe __stdout into a logger: the service must see a blocking
    // pipe (no EAGAIN, nothing lost), and supervise must stay responsive.
    let dir = TempDir::new("stdout-reader");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    let fifo = status_dir.join("__stdout");
    mkfifo(&fifo);
    let mut reader = fifo_reader(&fifo);
    // 300 kB, far more than a pipe holds, then a marker.
    let script = dir.script(
        "flood.sh",
        "head -c 300000 /dev/zero | tr '\\0' x; echo; echo done-$$; exec sleep 1000",
    );
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    );
    let pid = sup.wait_running();
    // The pipe is full and the service blocked in write: supervise answers.
    sup.control("s");
    wait_until("supervise obeys while the service is blocked", || {
        !sup.status().alarms_on
    });
    let mut seen = String::new();
    wait_until("every byte arrives", || {
        seen.push_str(&read_available(&mut reader));
        seen.contains("done-")
    });
    assert_eq!(seen.matches('x').count(), 300_000, "nothing lost to EAGAIN");
    assert_eq!(sup.status().pid, pid);
}

#[test]
fn a_config_that_is_a_fifo_never_hangs_the_start_or_r() {
    let dir = TempDir::new("conf-fifo");
    mkfifo(&dir.join("fifo.conf"));
    let command = detaching(
        dir.path(),
        &["-F", "fifo.conf", "-p", "status/a", "-f", "sleep 1000"],
    );
    let detached = Detached(dir.join("status/a"));
    let out = output_within(command, Duration::from_secs(10)).expect("supervise returns");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("fifo.conf: not a regular file"), "{err}");
    drop(detached);
    // `r` after the config became a FIFO.
    let dir = TempDir::new("conf-fifo-r");
    dir.write("supervise.conf", "[global]\nmax_tries : 4\n");
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let pid = sup.wait_running();
    std::fs::remove_file(sup.dir.join("supervise.conf")).unwrap();
    mkfifo(&sup.dir.join("supervise.conf"));
    sup.control("r");
    sup.wait_log_wf("supervise.conf: not a regular file");
    sup.control("d");
    wait_until("d is obeyed after r", || !alive(pid));
    sup.wait_down();
}

#[test]
fn a_symlink_planted_at_status_new_is_never_followed() {
    // Issue 11 item 4: the victim was overwritten with 20 status bytes and
    // `status` became a symlink to it.
    let dir = TempDir::new("status-new-link");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    let victim = dir.write("victim", "precious\n");
    std::os::unix::fs::symlink(&victim, status_dir.join("status.new")).unwrap();
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    sup.wait_running();
    let check = |sup: &Supervise| {
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        let status = std::fs::symlink_metadata(sup.status_dir.join("status")).unwrap();
        assert!(status.file_type().is_file(), "status is a file of its own");
        assert_eq!(status.len(), 20);
    };
    check(&sup);
    // Planted again while supervise runs, before a change.
    std::os::unix::fs::symlink(&victim, sup.status_dir.join("status.new")).unwrap();
    sup.control("s");
    wait_until("the change is written", || !sup.status().alarms_on);
    check(&sup);
}

#[test]
fn a_symlink_in_a_logs_place_is_refused_never_followed() {
    // At start: refused before detaching.
    let dir = TempDir::new("log-link");
    let status_dir = dir.join("status/a");
    std::fs::create_dir_all(&status_dir).unwrap();
    let victim = dir.write("victim", "precious\n");
    std::os::unix::fs::symlink(&victim, status_dir.join("supervise.log")).unwrap();
    let out = run(dir.path(), &["-p", "status/a", "-f", "sleep 1000"]);
    let _detached = Detached(status_dir.clone());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(111), "{err}");
    assert!(
        err.contains("cannot open the logs in status/a") && err.contains("symbolic links"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    // While running: the lines are kept, the victim untouched.
    let mut sup = Supervise::start("log-link-run", "sleep 1000");
    let pid = sup.wait_running();
    let victim = sup.dir.write("victim", "precious\n");
    let log = sup.status_dir.join("supervise.log");
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    kill(pid, libc::SIGKILL);
    sup.wait_new_pid(pid);
    sup.wait_log_wf("supervise.log: Too many levels of symbolic links");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn output_behind_a_symlink_is_appended_never_truncated() {
    // `__stdout -> /dev/null` is a common way to drop output: symlinks are
    // followed for the service's output, which is only ever appended.
    let dir = TempDir::new("stdout-link");
    let status_dir = dir.join("status/svc");
    std::fs::create_dir_all(&status_dir).unwrap();
    let target = dir.write("elsewhere.log", "kept\n");
    std::os::unix::fs::symlink(&target, status_dir.join("__stdout")).unwrap();
    let script = dir.script("talk.sh", "echo said-$$; exec sleep 1000");
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    );
    let pid = sup.wait_running();
    wait_until("the output arrives", || {
        std::fs::read_to_string(&target).is_ok_and(|t| t == format!("kept\nsaid-{pid}\n"))
    });
}

#[test]
fn loose_modes_of_the_status_directory_and_its_fifos_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("loose");
    let status_dir = dir.join("status/a");
    std::fs::create_dir_all(&status_dir).unwrap();
    let set = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for fifo in ["control", "ok"] {
        mkfifo(&status_dir.join(fifo));
        set(&status_dir.join(fifo), 0o666);
    }
    set(&status_dir, 0o777);
    let out = run(dir.path(), &["-p", "status/a", "-f", "sleep 1000"]);
    let _detached = Detached(status_dir.clone());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    let mode = |name: &str| {
        std::fs::metadata(status_dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode(""), 0o700, "the directory");
    assert_eq!((mode("control"), mode("ok")), (0o600, 0o600));
    for said in [
        "status directory status/a was writable by others (mode 0777): tightened to 0700",
        "status/a/control could be used by others (mode 0666): tightened to 0600",
        "status/a/ok could be used by others (mode 0666): tightened to 0600",
    ] {
        assert!(err.contains(said), "on the terminal: {said}\n{err}");
        wait_until("the warning in the log", || {
            std::fs::read_to_string(status_dir.join("supervise.log.wf"))
                .is_ok_and(|t| t.contains(said))
        });
    }
}

#[test]
fn log_lines_written_on_a_full_file_system_are_kept_until_space_returns() {
    if !root() {
        return eprintln!("not root: no tmpfs");
    }
    let dir = TempDir::new("full-logs");
    // Restarted at once however often it is killed (no back-off).
    dir.write(
        "supervise.conf",
        "[svc]\nhealthy_after : 0\nalarm_interval : 0\n",
    );
    let tmpfs = Tmpfs::mount(&dir, "status", "size=64k");
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let mut pid = sup.wait_running();
    let filler = tmpfs.fill_blocks();
    let mut killed = Vec::new();
    for _ in 0..40 {
        // Enough lines to fill the last page of the log, and more.
        killed.push(pid);
        pid = kill_and_find_the_new_child(&mut sup, pid);
    }
    std::fs::remove_file(&filler).unwrap();
    wait_until("every exit is in the log, late but there", || {
        let log = sup.log();
        killed.iter().all(|p| log.contains(&format!("pid {p})")))
    });
    sup.wait_log_wf(
        "supervise.log: No space left on device (os error 28) (its lines are kept and retried)",
    );
    sup.wait_log_wf("status/svc/supervise.log written again");
    drop(sup);
    drop(tmpfs);
}

/// An ext4 file system in a file, mounted with `errors=remount-ro`, which
/// the kernel turns read-only on demand as it does after a disk error.
struct Ext4 {
    mount: std::path::PathBuf,
}

impl Ext4 {
    fn mount(dir: &TempDir) -> Option<Ext4> {
        let image = dir.join("disk.img");
        let mount = dir.join("status");
        std::fs::create_dir_all(&mount).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(8 << 20)
            .unwrap();
        let ok = |c: &mut std::process::Command| c.output().is_ok_and(|o| o.status.success());
        if !ok(std::process::Command::new("mkfs.ext4")
            .args(["-q", "-F"])
            .arg(&image))
            || !ok(std::process::Command::new("mount")
                .args(["-o", "loop,errors=remount-ro"])
                .arg(&image)
                .arg(&mount))
        {
            return None;
        }
        Some(Ext4 { mount })
    }

    /// What the kernel does on an I/O error: the file system goes read-only.
    fn fail(&self) {
        let out = std::process::Command::new("findmnt")
            .args(["-n", "-o", "SOURCE"])
            .arg(&self.mount)
            .output()
            .unwrap();
        let source = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let device = source.rsplit('/').next().unwrap().to_owned();
        std::fs::write(
            format!("/sys/fs/ext4/{device}/trigger_fs_error"),
            "test error\n",
        )
        .unwrap();
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let c_path = std::ffi::CString::new(self.mount.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string for the duration of the call.
        unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) };
    }
}

#[test]
fn a_status_directory_whose_file_system_turns_read_only_keeps_its_service_supervised() {
    if !root() {
        return eprintln!("not root: no loop mount");
    }
    let dir = TempDir::new("read-only");
    let Some(disk) = Ext4::mount(&dir) else {
        return eprintln!("no mkfs.ext4 or loop device: skipped");
    };
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let pid = sup.wait_running();
    disk.fail();
    wait_until("the file system is read-only", || {
        std::fs::write(sup.status_dir.join("probe"), "").is_err()
    });
    // Nothing can be written: the status and the logs wait, the service's
    // output file cannot be opened for a new start. Supervise neither dies
    // nor spins, and still obeys (FIFOs work on a read-only file system).
    kill(pid, libc::SIGKILL);
    wait_until("the old service is reaped", || !alive(pid));
    sup.control("s");
    let before = context_switches(sup.pid());
    // Observing for a span is the point here: retries are on a back-off.
    std::thread::sleep(Duration::from_secs(3));
    let woken = context_switches(sup.pid()) - before;
    assert!(woken < 100, "{woken} wake-ups in 3 s: a busy loop");
    assert!(sup.running());
    kill(sup.pid(), libc::SIGTERM);
    assert_eq!(sup.wait_exit().code(), Some(0));
    drop(sup);
    drop(disk);
}

#[test]
fn the_fault_catalogue_names_tests_that_exist() {
    // docs/faults.md says which test shows each fault: `file::test` for
    // tests/file.rs, `module::tests::test` for a unit test in src/.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogue = std::fs::read_to_string(root.join("docs/faults.md")).unwrap();
    let mut named = 0;
    for quoted in catalogue.split('`').skip(1).step_by(2) {
        let parts: Vec<&str> = quoted.split("::").collect();
        let (file, test) = match parts[..] {
            [file, test] => (root.join(format!("tests/{file}.rs")), test),
            [module, "tests", test] => (root.join(format!("src/{module}.rs")), test),
            _ => continue,
        };
        if !test
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        let source = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{quoted}: {}: {e}", file.display()));
        assert!(
            source.contains(&format!("fn {test}(")),
            "docs/faults.md names {quoted}, which {} does not have",
            file.display()
        );
        named += 1;
    }
    assert!(named >= 60, "only {named} tests named");
}
