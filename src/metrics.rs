//! The metrics of docs/status-files.md in the Prometheus text exposition
//! format (version 0.0.4): for each metric a `# HELP` and a `# TYPE` line,
//! then one series per service, labelled `service="NAME"` (and
//! `dir="PATH"` when a directory was named directly), label values
//! escaped. Pure: what a reader observed of each status directory in, the
//! text out. `svc metrics` prints it; `supervise-scan --metrics-file` can
//! write the same text.
//!
//! Without `info` (an older or the original supervise) a service has only
//! what `status` tells: up, want up, ready (= up), its start time while up,
//! and whether its supervise runs.

use std::fmt::Write as _;
use std::time::Duration;

use crate::info::{self, Info, State};
use crate::supervisor::Exit;

/// What a reader observed of one status directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// The service's NAME.
    pub service: String,
    /// The status directory, when it was named directly.
    pub dir: Option<String>,
    /// The running service's pid, 0 when it is down (or its supervise is
    /// gone and the pid with it).
    pub pid: u32,
    /// `status`'s time of the last change: the start, while it runs.
    pub since: Duration,
    /// Status byte 13 is `u`.
    pub want_up: bool,
    /// supervise is alive (`ok` has a reader).
    pub supervisor_up: bool,
    /// `info`, when there is one.
    pub info: Option<Info>,
}

/// A metric: its name, type and help text, and its value for a sample
/// (`None`: no series for that sample).
struct Metric {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Sample, Duration) -> Option<String>,
}

fn flag(on: bool) -> Option<String> {
    Some(u8::from(on).to_string())
}

fn seconds(d: Duration) -> Option<String> {
    Some(crate::duration::millis(d))
}

/// Every metric, in the contract's order.
const METRICS: [Metric; 10] = [
    Metric {
        name: "supervise_up",
        kind: "gauge",
        help: "1 when the status file names a running pid.",
        value: |s, _| flag(s.pid != 0),
    },
    Metric {
        name: "supervise_want_up",
        kind: "gauge",
        help: "1 when supervise wants the service up (status byte 13 is u).",
        value: |s, _| flag(s.want_up),
    },
    Metric {
        name: "supervise_ready",
        kind: "gauge",
        help: "1 when the service is ready (without info: when it is up).",
        value: |s, _| flag(info::ready(s.pid, s.info.as_ref())),
    },
    Metric {
        name: "supervise_restarts_total",
        kind: "counter",
        help: "Restarts since this supervise started.",
        value: |s, _| s.info.as_ref().map(|i| i.restarts_total.to_string()),
    },
    Metric {
        name: "supervise_last_exit_code",
        kind: "gauge",
        help: "The exit code of the last run (absent after a signal).",
        value: |s, _| match s.info.as_ref()?.last_exit? {
            Exit::Code(code) => Some(code.to_string()),
            Exit::Signal { .. } => None,
        },
    },
    Metric {
        name: "supervise_last_exit_signal",
        kind: "gauge",
        help: "The signal that ended the last run (absent after an exit code).",
        value: |s, _| match s.info.as_ref()?.last_exit? {
            Exit::Signal { signal, .. } => Some(signal.to_string()),
            Exit::Code(_) => None,
        },
    },
    Metric {
        name: "supervise_start_time_seconds",
        kind: "gauge",
        help: "When the current run started, in Unix seconds.",
        value: |s, _| match &s.info {
            Some(info) => info.started.and_then(seconds),
            None if s.pid != 0 => seconds(s.since),
            None => None,
        },
    },
    Metric {
        name: "supervise_gave_up",
        kind: "gauge",
        help: "1 when supervise gave up restarting the service (max_tries).",
        value: |s, _| {
            let info = s.info.as_ref()?;
            flag(!info.gave_up.is_empty() || info.state == State::GaveUp)
        },
    },
    Metric {
        name: "supervise_backoff_seconds",
        kind: "gauge",
        help: "Seconds until the next start of a back-off, 0 when none.",
        value: |s, now| {
            let next = s.info.as_ref()?.next_start;
            seconds(next.map_or(Duration::ZERO, |at| at.saturating_sub(now)))
        },
    },
    Metric {
        name: "supervise_supervisor_up",
        kind: "gauge",
        help: "1 when supervise itself is alive (ok has a reader).",
        value: |s, _| flag(s.supervisor_up),
    },
];

/// The exposition of `samples` at wall time `now` (for the back-off left).
/// A sample whose labels repeat an earlier one's is left out: a series
/// appears once.
pub fn render(samples: &[Sample], now: Duration) -> String {
    let mut unique: Vec<&Sample> = Vec::with_capacity(samples.len());
    let mut seen = std::collections::HashSet::new();
    for sample in samples {
        if seen.insert((sample.service.as_str(), sample.dir.as_deref())) {
            unique.push(sample);
        }
    }
    let labels: Vec<String> = unique.iter().map(|s| labels(s)).collect();
    let mut text = String::new();
    for metric in &METRICS {
        let series: Vec<(&String, String)> = unique
            .iter()
            .zip(&labels)
            .filter_map(|(sample, labels)| Some((labels, (metric.value)(sample, now)?)))
            .collect();
        if series.is_empty() {
            continue;
        }
        let _ = writeln!(text, "# HELP {} {}", metric.name, metric.help);
        let _ = writeln!(text, "# TYPE {} {}", metric.name, metric.kind);
        for (labels, value) in series {
            let _ = writeln!(text, "{}{labels} {value}", metric.name);
        }
    }
    text
}

/// `{service="NAME",dir="PATH"}`.
fn labels(sample: &Sample) -> String {
    let mut text = format!("{{service=\"{}\"", label_value(&sample.service));
    if let Some(dir) = &sample.dir {
        let _ = write!(text, ",dir=\"{}\"", label_value(dir));
    }
    text.push('}');
    text
}

/// A label value as the format wants it: backslash, double quote and
/// newline escaped.
pub fn label_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{Cause, Readiness};

    const NOW: Duration = Duration::from_secs(1_764_621_240);

    fn plain(service: &str, pid: u32) -> Sample {
        Sample {
            service: service.into(),
            pid,
            since: Duration::from_millis(1_764_621_000_500),
            want_up: true,
            supervisor_up: true,
            ..Sample::default()
        }
    }

    /// The lines of one metric family.
    fn family<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('{'))
            })
            .collect()
    }

    #[test]
    fn without_info_only_what_status_tells() {
        let text = render(&[plain("web", 42), plain("db", 0)], NOW);
        assert!(text.starts_with(
            "# HELP supervise_up 1 when the status file names a running pid.\n\
             # TYPE supervise_up gauge\n\
             supervise_up{service=\"web\"} 1\n\
             supervise_up{service=\"db\"} 0\n"
        ));
        assert_eq!(
            family(&text, "supervise_ready"),
            [
                "supervise_ready{service=\"web\"} 1",
                "supervise_ready{service=\"db\"} 0"
            ]
        );
        assert_eq!(
            family(&text, "supervise_start_time_seconds"),
            ["supervise_start_time_seconds{service=\"web\"} 1764621000.500"]
        );
        for absent in [
            "supervise_restarts_total",
            "supervise_last_exit_code",
            "supervise_gave_up",
            "supervise_backoff_seconds",
        ] {
            assert!(!text.contains(absent), "{absent} in\n{text}");
        }
        assert_eq!(
            family(&text, "supervise_supervisor_up"),
            [
                "supervise_supervisor_up{service=\"web\"} 1",
                "supervise_supervisor_up{service=\"db\"} 1"
            ]
        );
    }

    #[test]
    fn with_info_every_fact() {
        let backing_off = Sample {
            info: Some(Info {
                state: State::Backoff,
                readiness: Readiness::Systemd,
                last_exit: Some(Exit::Signal {
                    signal: 9,
                    core: false,
                }),
                last_exit_cause: Some(Cause::Crash),
                restarts_total: 12,
                next_start: Some(NOW + Duration::from_millis(3_200)),
                ..Info::default()
            }),
            ..plain("web", 0)
        };
        let ready = Sample {
            info: Some(Info {
                pid: 7,
                state: State::Ready,
                started: Some(Duration::from_millis(1_764_621_100_250)),
                last_exit: Some(Exit::Code(3)),
                gave_up: String::new(),
                ..Info::default()
            }),
            ..plain("api", 7)
        };
        let text = render(&[backing_off, ready], NOW);
        let expect = [
            ("supervise_ready", vec!["web\"} 0", "api\"} 1"]),
            ("supervise_restarts_total", vec!["web\"} 12", "api\"} 0"]),
            ("supervise_last_exit_code", vec!["api\"} 3"]),
            ("supervise_last_exit_signal", vec!["web\"} 9"]),
            (
                "supervise_start_time_seconds",
                vec!["api\"} 1764621100.250"],
            ),
            ("supervise_gave_up", vec!["web\"} 0", "api\"} 0"]),
            (
                "supervise_backoff_seconds",
                vec!["web\"} 3.200", "api\"} 0.000"],
            ),
        ];
        for (name, series) in expect {
            let lines = family(&text, name);
            assert_eq!(lines.len(), series.len(), "{name}:\n{text}");
            for (line, end) in lines.iter().zip(series) {
                assert!(line.ends_with(end), "{line} does not end with {end}");
            }
        }
        assert!(text.contains("# TYPE supervise_restarts_total counter\n"));
    }

    #[test]
    fn labels_are_escaped_and_series_unique() {
        let odd = Sample {
            dir: Some("/srv/a \"b\"\\c\nd".into()),
            ..plain("we\"b", 1)
        };
        let text = render(&[odd.clone(), odd], NOW);
        assert_eq!(
            family(&text, "supervise_up"),
            ["supervise_up{service=\"we\\\"b\",dir=\"/srv/a \\\"b\\\"\\\\c\\nd\"} 1"]
        );
        assert_eq!(render(&[], NOW), "");
    }

    #[test]
    fn a_give_up_is_seen_after_supervise_exited() {
        let gone = Sample {
            supervisor_up: false,
            info: Some(Info {
                state: State::GaveUp,
                gave_up: "11 exits in 60 s > max_tries 10".into(),
                ..Info::default()
            }),
            ..plain("web", 0)
        };
        let text = render(&[gone], NOW);
        assert_eq!(
            family(&text, "supervise_gave_up"),
            ["supervise_gave_up{service=\"web\"} 1"]
        );
        assert_eq!(
            family(&text, "supervise_supervisor_up"),
            ["supervise_supervisor_up{service=\"web\"} 0"]
        );
    }
}
