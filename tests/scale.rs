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
