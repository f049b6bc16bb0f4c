//! supervise-scan's command line as a user meets it: no argv makes it panic
//! (issue 10 item 12), a usage error is one line naming the problem, then
//! the usage, on stderr, and exit 100; `--help` and `--version` exit 0.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use scan_support::*;
use support::*;

fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

#[test]
fn no_argv_makes_it_panic_and_usage_errors_exit_100() {
    let dir = TempDir::new("scan-args");
    let cases: Vec<(Vec<OsString>, &str)> = vec![
        (vec![], "-F CONF is required"),
        (vec![os(b"-\xc3\xa9")], "invalid option '-\u{e9}'"),
        (vec![os(b"-\xff")], "invalid option"),
        (vec![os(b"--\xff")], "invalid option"),
        (vec![os(b"\xff")], "unexpected argument"),
        (vec![os(b"--bogus")], "invalid option '--bogus'"),
        (vec![os(b"-F")], "missing argument for option '-F'"),
        (
            vec![os(b"-Fs.conf"), os(b"-d")],
            "missing argument for option '-d'",
        ),
        (vec![os(b"-F"), os(b"s.conf")], "-d STATUS_ROOT is required"),
        (
            vec![os(b"-Fa"), os(b"-Fb"), os(b"-dr")],
            "-F given more than once",
        ),
        (
            vec![os(b"-Fa"), os(b"-dr"), os(b"--forward-output=yes")],
            "unexpected argument for option '--forward-output'",
        ),
        (
            vec![os(b"-Fa"), os(b"-dr"), os(b"extra")],
            "unexpected argument \"extra\"",
        ),
        (vec![os(b"--check")], "-F CONF is required"),
    ];
    for (args, message) in cases {
        let output = run_scan(dir.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(100), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("supervise-scan: ") && first.contains(message),
            "{args:?}: expected {message:?} in\n{stderr}"
        );
        assert!(
            stderr
                .lines()
                .nth(1)
                .unwrap_or_default()
                .starts_with("usage: supervise-scan"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn help_and_version_print_on_stdout_and_exit_0() {
    let dir = TempDir::new("scan-help");
    for flag in ["-h", "--help"] {
        let output = run_scan(dir.path(), &[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(text.starts_with("usage: supervise-scan"), "{text}");
        assert!(text.contains("--check"), "{text}");
    }
    for flag in ["-v", "--version"] {
        let output = run_scan(dir.path(), &[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            format!("supervise-scan {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}
