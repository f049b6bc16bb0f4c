//! Scale (issue 14): what many services cost, beyond the linear parse of
//! tests/scan_linear.rs. inotify instances are limited per user
//! (`fs.inotify.max_user_instances`, 128 by default): supervise holds none,
//! and the scanner makes its own before it starts any supervise, so no
//! number of services leaves the scanner without one.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::path::Path;

use scan_support::*;
use support::*;

/// The limit set inside the scanner's user namespace (the machine's own
/// setting is left alone: others rely on it).
const LIMIT: usize = 4;

/// `n` services; each after the one before it, so that the start order
/// watches every status directory.
fn chain(n: usize) -> String {
    let mut text = String::from("[global]\nstop_timeout : 2\n");
    for i in 0..n {
        text.push_str(&format!("[s{i:02}]\ncommand : sleep 100{i}\n"));
        if i > 0 {
            text.push_str(&format!("after : s{:02}\n", i - 1));
        }
    }
    text
}

#[test]
fn with_more_services_than_inotify_instances_the_scanner_keeps_its_own_and_no_supervise_holds_one()
{
    if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/bin/unshare").exists() {
        panic!("this test needs root and unshare(1) (util-linux), as CI has");
    }
    let n = 3 * LIMIT;
    // A user namespace of its own, whose inotify limit is LIMIT.
    let lower = format!("echo {LIMIT} > /proc/sys/user/max_inotify_instances && exec \"$@\"");
    let scan = Scan::start_in(
        TempDir::new("scale-limit"),
        &chain(n),
        &[],
        &["unshare", "-U", "-r", "sh", "-c", &lower, "sh"],
    );
    for i in 0..n {
        scan.service_pid(&format!("s{i:02}"));
    }
    assert_eq!(inotify_instances(scan.pid()), 1, "the scanner's own");
    for i in 0..n {
        let sup = scan.supervise_pid(&format!("s{i:02}"));
        assert_eq!(inotify_instances(sup), 0, "supervise of s{i:02} holds one");
    }
    let err = scan.err();
    assert!(!err.contains("inotify"), "{err}");
    assert!(!err.contains("cannot watch"), "{err}");
}

/// `/proc/PID/cmdline`'s first word.
fn arg0(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let first = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(first).into_owned()
}

#[test]
fn the_scanner_runs_its_supervise_from_its_own_executable_named_supervise() {
    let scan = Scan::start("scale-one-exe", "[a]\ncommand : sleep 1000\n", &[]);
    scan.service_pid("a");
    let sup = scan.supervise_pid("a");
    let exe = |pid: u32| std::fs::metadata(format!("/proc/{pid}/exe")).unwrap();
    use std::os::unix::fs::MetadataExt;
    let (ours, theirs) = (exe(scan.pid()), exe(sup));
    assert_eq!(
        (ours.dev(), ours.ino()),
        (theirs.dev(), theirs.ino()),
        "one file: the same text pages"
    );
    assert_eq!(arg0(sup), "supervise");
    let comm = std::fs::read_to_string(format!("/proc/{sup}/comm")).unwrap();
    assert_eq!(comm.trim_end(), "supervise", "what ps -C and pgrep match");
}

#[test]
fn one_file_is_each_program_by_the_name_it_is_run_by() {
    let dir = TempDir::new("scale-links");
    for name in ["svc", "supervise-scan", "supervise"] {
        std::os::unix::fs::symlink(bin(), dir.join(name)).unwrap();
    }
    let version = |argv: &[&str]| {
        let out = std::process::Command::new(dir.join(argv[0]))
            .args(&argv[1..])
            .output()
            .unwrap();
        assert!(out.status.success(), "{argv:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(version(&["svc", "--version"]).starts_with("svc "));
    assert!(version(&["supervise-scan", "--version"]).starts_with("supervise-scan "));
    assert!(version(&["supervise", "--version"]).starts_with("supervise "));
    assert!(version(&["supervise", "svc", "--version"]).starts_with("svc "));
    assert!(version(&["supervise", "scan", "--version"]).starts_with("supervise-scan "));
    // A link runs a real service: svc through its link reads supervise's status.
    let status = dir.join("status/x");
    let out = std::process::Command::new(dir.join("supervise"))
        .env_remove("SUPERVISE_FOREGROUND")
        .stdin(std::process::Stdio::null())
        .arg("-u")
        .arg(&status)
        .args(["sleep", "1000"])
        .output()
        .unwrap();
    let _detached = Detached(status.clone());
    assert!(out.status.success(), "{out:?}");
    wait_until("the service runs", || {
        supervise::status::read(&status).is_ok_and(|s| s.pid != 0)
    });
    let out = std::process::Command::new(dir.join("svc"))
        .arg(&status)
        .arg("status")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("up"),
        "{out:?}"
    );
}

/// The `NAME=VALUE` strings a process started with.
fn environ(pid: u32) -> Vec<String> {
    let bytes = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    bytes
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[test]
fn the_scanner_starts_supervise_with_malloc_cache_off_and_the_service_never_sees_it() {
    let scan = Scan::start(
        "scale-tcache",
        "[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\nenv : GLIBC_TUNABLES=glibc.malloc.check=0\n",
        &[],
    );
    let tunable = "GLIBC_TUNABLES=glibc.malloc.tcache_count=0".to_owned();
    let a = scan.service_pid("a");
    assert!(environ(scan.supervise_pid("a")).contains(&tunable));
    let service = environ(a);
    assert!(
        !service
            .iter()
            .any(|v| v.starts_with("GLIBC_TUNABLES") || v.starts_with("SUPERVISE_LEAN")),
        "{service:?}"
    );
    // A service whose own env sets it keeps what it set.
    let b = scan.service_pid("b");
    assert!(!environ(scan.supervise_pid("b")).contains(&tunable));
    assert!(environ(b).contains(&"GLIBC_TUNABLES=glibc.malloc.check=0".to_owned()));
}

#[test]
fn started_with_its_standard_descriptors_closed_supervise_puts_dev_null_there() {
    // No Rust runtime start (src/sys/start.rs): this is done by hand.
    use std::os::unix::process::CommandExt;
    let dir = TempDir::new("scale-closed-stdio");
    let status = dir.join("status/x");
    let mut command = std::process::Command::new(bin());
    command
        .arg("-p")
        .arg(&status)
        .args(["-f", "sleep 1000"])
        .env("SUPERVISE_FOREGROUND", "1");
    // SAFETY: close is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    let _guard = Detached(status.clone());
    let pid = child.id();
    wait_until("the service runs", || {
        supervise::status::read(&status).is_ok_and(|s| s.pid != 0)
    });
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"), "fd {fd}");
    }
    assert!(
        supervise::sys::lock::holder_pid(&status.join("lock")) == Some(pid),
        "the lock is a file of its own, with its record"
    );
    kill_child_tree(child);
}
