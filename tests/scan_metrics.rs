//! `supervise-scan --metrics-file PATH` (issue 16 item 3): a node_exporter
//! textfile kept current, read back by the `prometheus_client` Python
//! parser; rewritten when a service changes, and never while all is idle.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use scan_support::*;
use support::*;

/// Every sample the parser reads, `NAME{labels}` → value; fails the test
/// when the parser refuses the text.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let script = "\
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))
        print(s.name + '{' + labels + '}', repr(s.value))
";
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn read(path: &Path) -> BTreeMap<String, f64> {
    parse(&std::fs::read_to_string(path).unwrap_or_default())
}

fn value(path: &Path, key: &str) -> Option<f64> {
    read(path).get(key).copied()
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[test]
fn the_metrics_file_follows_the_services_and_rests_when_they_do() {
    let dir = TempDir::new("scan-metrics");
    let prom = dir.join("supervise.prom");
    let conf = "[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\n";
    let scan = Scan::start_in(dir, conf, &["--metrics-file", prom.to_str().unwrap()], &[]);
    let a = scan.service_pid("a");
    scan.service_pid("b");
    wait_until("both up in the metrics file", || {
        value(&prom, "supervise_up{service=a}") == Some(1.0)
            && value(&prom, "supervise_up{service=b}") == Some(1.0)
    });
    assert_eq!(value(&prom, "supervise_want_up{service=a}"), Some(1.0));
    assert_eq!(
        value(&prom, "supervise_supervisor_up{service=b}"),
        Some(1.0)
    );
    // No temporary file is left for the collector to trip on.
    assert!(!scan.dir.join("supervise.prom.tmp").exists());

    // Idle: nothing is rewritten, and the scanner does not wake.
    let pid = scan.pid();
    wait_until("the scanner sleeps", || state(pid) == Some('S'));
    let before = (modified(&prom), context_switches(pid));
    // Observing for a fixed span is the point here, not a way to
    // synchronise: any write or wake-up in it is a failure.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        (modified(&prom), context_switches(scan.pid())),
        before,
        "no write and no wake-up while idle"
    );

    // A service stopped (`d`): down, not wanted up.
    scan.control("a", "d");
    wait_until("a down in the metrics file", || {
        value(&prom, "supervise_up{service=a}") == Some(0.0)
            && value(&prom, "supervise_want_up{service=a}") == Some(0.0)
    });
    assert!(!alive(a) || wait_gone(a));
    // A crash is followed (a new pid, up again).
    let b = scan.service_pid("b");
    kill(b, libc::SIGKILL);
    scan.new_service_pid("b", b);
    wait_until("b up again", || {
        value(&prom, "supervise_up{service=b}") == Some(1.0)
    });
    // A reload that removes a service removes its series.
    scan.conf("[b]\ncommand : sleep 1001\n");
    scan.reload();
    wait_until("a gone from the metrics file", || {
        !read(&prom).keys().any(|k| k.contains("service=a"))
    });
}

fn wait_gone(pid: u32) -> bool {
    wait_until("the stopped service is gone", || !alive(pid));
    true
}

#[test]
fn a_metrics_file_that_cannot_be_written_is_said_once_and_services_run() {
    let dir = TempDir::new("scan-metrics-bad");
    let prom = dir.join("no/such/dir/supervise.prom");
    let conf = "[a]\ncommand : sleep 1000\n";
    let scan = Scan::start_in(dir, conf, &["--metrics-file", prom.to_str().unwrap()], &[]);
    let a = scan.service_pid("a");
    scan.wait_err("cannot write");
    kill(a, libc::SIGKILL);
    scan.new_service_pid("a", a);
    let said = scan.count_err("cannot write");
    assert_eq!(said, 1, "said once:\n{}", scan.err());
}
