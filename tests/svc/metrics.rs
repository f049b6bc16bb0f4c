//! `svc metrics`: the Prometheus text exposition of docs/status-files.md's
//! metrics, read back by the real parser of the `prometheus_client`
//! Python package (scripts/test-deps), for services with and without
//! `info`, a dead supervise, and a real supervise.

use std::collections::BTreeMap;
use std::process::Output;
use std::time::Duration;

use supervise::info::{Cause, Info, Readiness, State};
use supervise::status::Want;
use supervise::supervisor::Exit;

use crate::real::Real;
use crate::support::*;

/// Every sample the parser reads, `NAME{label=value,...}` → value; fails
/// the test when the parser refuses the text.
fn parse(output: &Output) -> BTreeMap<String, f64> {
    let script = "\
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))
        print(family.type, s.name + '{' + labels + '}', repr(s.value))
";
    let parsed = python(script, &output.stdout);
    assert!(
        parsed.status.success(),
        "the parser refused:\n{}\n{}",
        stdout(output),
        stderr(&parsed)
    );
    stdout(&parsed)
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            let kind = words[0];
            let name = words[1];
            let expected = if name.starts_with("supervise_restarts_total") {
                "counter"
            } else {
                "gauge"
            };
            assert_eq!(kind, expected, "{line}");
            (name.to_string(), words[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn metrics_of_a_root_read_by_prometheus_client() {
    let tmp = TempDir::new("metrics-root");
    let root = tmp.path().display().to_string();
    let mut web = Fake::new(tmp.path(), "web");
    web.status.want = Want::Up;
    web.publish();
    web.write_info(&Info {
        state: State::Backoff,
        last_exit: Some(Exit::Signal {
            signal: 9,
            core: false,
        }),
        last_exit_cause: Some(Cause::Crash),
        restarts_total: 12,
        next_start: Some(now() + Duration::from_secs(30)),
        ..web.info_now(State::Backoff, Readiness::None)
    });
    let mut api = Fake::new(tmp.path(), "api");
    api.status.want = Want::Up;
    api.start_service();
    let started = api.status.since;
    api.write_info(&Info {
        last_exit: Some(Exit::Code(3)),
        restarts_total: 1,
        ..api.info_now(State::Ready, Readiness::Systemd)
    });
    let mut plain = Fake::new(tmp.path(), "plain");
    plain.status.want = Want::Up;
    plain.start_service();
    let mut gone = Fake::new(tmp.path(), "gone");
    gone.write_info(&Info {
        state: State::GaveUp,
        gave_up: "11 exits in 60 s > max_tries 10".into(),
        ..Info::default()
    });
    gone.die();

    let output = svc(["-d", &root, "metrics"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("# TYPE supervise_up gauge\n"), "{text}");
    assert!(text.contains("# HELP supervise_restarts_total "), "{text}");
    let samples = parse(&output);
    let value = |name: &str, service: &str| {
        samples
            .get(&format!("{name}{{service={service}}}"))
            .copied()
    };
    for (service, up, want, ready, supervisor) in [
        ("web", 0.0, 1.0, 0.0, 1.0),
        ("api", 1.0, 1.0, 1.0, 1.0),
        ("plain", 1.0, 1.0, 1.0, 1.0),
        ("gone", 0.0, 0.0, 0.0, 0.0),
    ] {
        assert_eq!(
            value("supervise_up", service),
            Some(up),
            "{service}\n{text}"
        );
        assert_eq!(value("supervise_want_up", service), Some(want), "{service}");
        assert_eq!(value("supervise_ready", service), Some(ready), "{service}");
        assert_eq!(
            value("supervise_supervisor_up", service),
            Some(supervisor),
            "{service}"
        );
    }
    assert_eq!(value("supervise_restarts_total", "web"), Some(12.0));
    assert_eq!(value("supervise_restarts_total", "api"), Some(1.0));
    assert_eq!(value("supervise_last_exit_signal", "web"), Some(9.0));
    assert_eq!(value("supervise_last_exit_code", "web"), None);
    assert_eq!(value("supervise_last_exit_code", "api"), Some(3.0));
    assert_eq!(value("supervise_last_exit_signal", "api"), None);
    assert_eq!(value("supervise_gave_up", "gone"), Some(1.0));
    assert_eq!(value("supervise_gave_up", "web"), Some(0.0));
    let backoff = value("supervise_backoff_seconds", "web").unwrap();
    assert!(backoff > 20.0 && backoff <= 30.0, "{backoff}");
    assert_eq!(value("supervise_backoff_seconds", "api"), Some(0.0));
    let start = value("supervise_start_time_seconds", "api").unwrap();
    assert!((start - started.as_secs_f64()).abs() < 0.002, "{start}");
    // Without info, only what status tells.
    assert!(value("supervise_start_time_seconds", "plain").is_some());
    for name in [
        "supervise_restarts_total",
        "supervise_gave_up",
        "supervise_backoff_seconds",
    ] {
        assert_eq!(value(name, "plain"), None, "{name}");
    }
}

#[test]
fn a_directory_named_directly_has_its_dir_label_escaped() {
    let tmp = TempDir::new("metrics-dir");
    let mut odd = Fake::new(tmp.path(), "we\"b\\x");
    odd.status.want = Want::Up;
    odd.start_service();
    let output = svc(["metrics".as_ref(), odd.dir.as_os_str()]);
    assert_exit(&output, 0);
    let samples = parse(&output);
    let key = format!("supervise_up{{dir={},service=we\"b\\x}}", odd.dir.display());
    assert_eq!(samples.get(&key), Some(&1.0), "{samples:?}");
    // A directory that cannot be read: on stderr, the others still shown.
    let output = svc([
        "metrics".as_ref(),
        odd.dir.as_os_str(),
        tmp.path().join("nowhere").as_os_str(),
    ]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("no such directory"),
        "{}",
        stderr(&output)
    );
    assert_eq!(parse(&output).get(&key), Some(&1.0));
}

#[test]
fn metrics_of_a_real_supervise() {
    let mut real = Real::start("metrics-real", "sleep 1000");
    let output = real.svc(&["metrics", "DIR"]);
    assert_exit(&output, 0);
    let samples = parse(&output);
    let labels = format!("{{dir={},service=svc}}", real.dir.display());
    for (name, value) in [
        ("supervise_up", 1.0),
        ("supervise_want_up", 1.0),
        ("supervise_ready", 1.0),
        ("supervise_supervisor_up", 1.0),
    ] {
        assert_eq!(
            samples.get(&format!("{name}{labels}")),
            Some(&value),
            "{name}: {samples:?}"
        );
    }
    let since = real.status().since.as_secs_f64();
    let start = samples[&format!("supervise_start_time_seconds{labels}")];
    assert!((start - since).abs() < 0.002, "{start} {since}");
}
