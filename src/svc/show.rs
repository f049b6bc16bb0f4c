//! How `svc` shows a service: the human line, the JSON object, the original's
//! `pid:` / `start time:` / `alarm:` lines, and the time formats they use.
//! Pure: the caller passes the decoded status, whether supervise lives, the
//! current time and the local UTC offset; nothing here reads a file or a
//! clock.

use std::time::Duration;

use super::code::{Code, Form};
use crate::status::{Status, Want};

/// What `svc` learned about one status directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The decoded status file.
    pub status: Status,
    /// Whether supervise itself is alive.
    pub supervise: Supervise,
}

/// Whether supervise is alive, and what else that tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervise {
    /// `ok` has a reader.
    Running {
        /// The pid holding `lock`, when /proc/locks tells.
        pid: Option<u32>,
    },
    /// Nobody reads `ok`: the status file is stale.
    NotRunning {
        /// The pid the status file names still exists: a service left
        /// behind, unsupervised.
        pid_alive: bool,
    },
}

/// The word for what the service wants (status byte 13).
pub fn want_word(want: Want) -> &'static str {
    match want {
        Want::Up => "up",
        Want::Down => "down",
        Want::Once => "once",
    }
}

/// `on` or `off`, as svc shows status byte 14.
pub fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn elapsed(since: Duration, now: Duration) -> u64 {
    now.saturating_sub(since).as_secs()
}

/// What follows `DIR: ` in the human line, e.g.
/// `up (pid 4242) 3601 seconds, want up, alarm on`.
pub fn describe(observed: &Observed, now: Duration) -> String {
    let status = &observed.status;
    let secs = elapsed(status.since, now);
    match observed.supervise {
        Supervise::Running { .. } => {
            let state = if status.pid == 0 {
                format!("down {secs} seconds")
            } else if status.paused {
                format!("up (pid {}) {secs} seconds, paused", status.pid)
            } else {
                format!("up (pid {}) {secs} seconds", status.pid)
            };
            format!(
                "{state}, want {}, alarm {}",
                want_word(status.want),
                on_off(status.alarms_on)
            )
        }
        Supervise::NotRunning { pid_alive } => {
            let since = rfc3339(status.since);
            if status.pid == 0 {
                format!("supervise not running; stale status file says down since {since}")
            } else if pid_alive {
                format!(
                    "supervise not running; pid {} from its stale status file is still alive, unsupervised",
                    status.pid
                )
            } else {
                format!(
                    "supervise not running; stale status file says up (pid {}) since {since}",
                    status.pid
                )
            }
        }
    }
}

/// The human line of `svc status DIR...`.
pub fn line(label: &str, observed: &Observed, now: Duration) -> String {
    format!("{label}: {}", describe(observed, now))
}

/// The lines of the original `svc DIR status`, which scripts parse, then ours.
/// `utc_offset` is the local time zone's offset at `status.since`, in seconds.
pub fn original_lines(observed: &Observed, now: Duration, utc_offset: i64) -> String {
    let status = &observed.status;
    let mut text = format!(
        "showing status...\npid: {}\nstart time: {}\nalarm: {}\nstate: {}\n",
        status.pid,
        original_time(status.since, utc_offset),
        if status.alarms_on { "ON" } else { "OFF" },
        describe(observed, now),
    );
    if let Supervise::Running { pid: Some(pid) } = observed.supervise {
        text.push_str(&format!("supervise pid: {pid}\n"));
    }
    text
}

/// One JSON object (one line) for a directory that could be read.
pub fn json(label: &str, name: &str, observed: &Observed, now: Duration) -> String {
    let status = &observed.status;
    let (state, supervise_pid, orphan) = match observed.supervise {
        Supervise::Running { pid } => {
            let state = if status.pid == 0 { "down" } else { "up" };
            (
                state,
                pid.map_or("null".to_string(), |p| p.to_string()),
                false,
            )
        }
        Supervise::NotRunning { pid_alive } => (
            "supervise-not-running",
            "null".to_string(),
            pid_alive && status.pid != 0,
        ),
    };
    format!(
        "{{\"dir\":{},\"name\":{},\"state\":\"{state}\",\"pid\":{},\"since\":\"{}\",\
         \"seconds\":{},\"want\":\"{}\",\"paused\":{},\"alarm\":{},\
         \"supervise_pid\":{supervise_pid},\"orphan\":{orphan}}}",
        json_string(label),
        json_string(name),
        status.pid,
        rfc3339(status.since),
        elapsed(status.since, now),
        want_word(status.want),
        status.paused,
        status.alarms_on,
    )
}

/// One JSON object for a directory that could not be read.
pub fn json_error(label: &str, name: &str, code: Code, message: &str) -> String {
    format!(
        "{{\"dir\":{},\"name\":{},\"state\":\"error\",\"error\":{},\"code\":{}}}",
        json_string(label),
        json_string(name),
        json_string(message),
        code.status(Form::Extended)
    )
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The service NAME as supervise derives it: everything after `status/` in
/// the path as typed, else in the canonical path, else the last component.
pub fn service_name(typed: &str, canonical: Option<&str>) -> String {
    let after_status =
        |path: &str| crate::cli::service_name(&crate::cli::trim_dir(path.as_bytes()));
    after_status(typed)
        .or_else(|| canonical.and_then(after_status))
        .unwrap_or_else(|| {
            let path = canonical.unwrap_or(typed).trim_end_matches('/');
            path.rsplit('/').next().unwrap_or(path).to_string()
        })
}

/// Calendar date and time of a count of seconds since the epoch (UTC).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3_600, rem % 3_600 / 60, rem % 60);
    (year, month, day, h as u32, m as u32, s as u32)
}

fn epoch_secs(at: Duration) -> i64 {
    i64::try_from(at.as_secs()).unwrap_or(i64::MAX / 2)
}

/// RFC 3339 in UTC, to the second: `2026-11-26T07:12:45Z`.
pub fn rfc3339(at: Duration) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch_secs(at));
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// The original's `start time:` format, local time: `20261126 15:12:45`.
pub fn original_time(at: Duration, utc_offset: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch_secs(at) + utc_offset);
    format!("{y:04}{mo:02}{d:02} {h:02}:{mi:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SINCE: u64 = 1_795_677_165; // 2026-11-26T07:12:45Z

    fn status(pid: u32) -> Status {
        Status {
            since: Duration::new(SINCE, 0),
            paused: false,
            want: Want::Up,
            alarms_on: true,
            pid,
        }
    }

    fn running(status: Status) -> Observed {
        Observed {
            status,
            supervise: Supervise::Running { pid: Some(4100) },
        }
    }

    fn now(later: u64) -> Duration {
        Duration::from_secs(SINCE + later)
    }

    #[test]
    fn time_formats() {
        assert_eq!(rfc3339(Duration::from_secs(SINCE)), "2026-11-26T07:12:45Z");
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(Duration::from_secs(4_107_542_399)),
            "2100-02-28T23:59:59Z"
        );
        assert_eq!(
            original_time(Duration::from_secs(SINCE), 8 * 3600),
            "20261126 15:12:45"
        );
        assert_eq!(
            original_time(Duration::from_secs(SINCE), -8 * 3600),
            "20261125 23:12:45"
        );
    }

    #[test]
    fn human_lines() {
        assert_eq!(
            line("status/redis", &running(status(4242)), now(3601)),
            "status/redis: up (pid 4242) 3601 seconds, want up, alarm on"
        );
        let down = Status {
            pid: 0,
            want: Want::Down,
            alarms_on: false,
            ..status(0)
        };
        assert_eq!(
            line("status/redis", &running(down), now(12)),
            "status/redis: down 12 seconds, want down, alarm off"
        );
        let paused = Status {
            paused: true,
            want: Want::Once,
            ..status(7)
        };
        assert_eq!(
            line("s/x", &running(paused), now(0)),
            "s/x: up (pid 7) 0 seconds, paused, want once, alarm on"
        );
        // A clock behind the status file shows 0, not a wrap-around.
        assert!(
            line("s/x", &running(status(7)), now(0) - Duration::from_secs(5))
                .contains(" 0 seconds")
        );
    }

    #[test]
    fn stale_status_is_reported_as_such() {
        let dead = |pid, pid_alive| Observed {
            status: status(pid),
            supervise: Supervise::NotRunning { pid_alive },
        };
        assert_eq!(
            describe(&dead(4242, true), now(9)),
            "supervise not running; pid 4242 from its stale status file is still alive, unsupervised"
        );
        assert_eq!(
            describe(&dead(4242, false), now(9)),
            "supervise not running; stale status file says up (pid 4242) since 2026-11-26T07:12:45Z"
        );
        assert_eq!(
            describe(&dead(0, false), now(9)),
            "supervise not running; stale status file says down since 2026-11-26T07:12:45Z"
        );
        assert!(
            json("d", "n", &dead(4242, true), now(1))
                .contains("\"state\":\"supervise-not-running\",\"pid\":4242")
        );
        assert!(
            json("d", "n", &dead(4242, true), now(1))
                .ends_with("\"supervise_pid\":null,\"orphan\":true}")
        );
    }

    #[test]
    fn json_object() {
        assert_eq!(
            json("status/redis", "redis", &running(status(4242)), now(3601)),
            "{\"dir\":\"status/redis\",\"name\":\"redis\",\"state\":\"up\",\"pid\":4242,\
             \"since\":\"2026-11-26T07:12:45Z\",\"seconds\":3601,\"want\":\"up\",\
             \"paused\":false,\"alarm\":true,\"supervise_pid\":4100,\"orphan\":false}"
        );
        let unknown_holder = Observed {
            status: status(0),
            supervise: Supervise::Running { pid: None },
        };
        let text = json("d", "d", &unknown_holder, now(1));
        assert!(text.contains("\"state\":\"down\",\"pid\":0"));
        assert!(text.contains("\"supervise_pid\":null"));
    }

    #[test]
    fn json_errors_and_escaping() {
        assert_eq!(
            json_error("a\"b", "n\\", Code::StatusMissing, "line\nbreak\u{1}"),
            "{\"dir\":\"a\\\"b\",\"name\":\"n\\\\\",\"state\":\"error\",\
             \"error\":\"line\\nbreak\\u0001\",\"code\":5}"
        );
        assert_eq!(json_string("tab\there é"), "\"tab\\there é\"");
    }

    #[test]
    fn original_status_lines_come_first() {
        let text = original_lines(&running(status(4242)), now(5), 0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "showing status...",
                "pid: 4242",
                "start time: 20261126 07:12:45",
                "alarm: ON",
                "state: up (pid 4242) 5 seconds, want up, alarm on",
                "supervise pid: 4100",
            ]
        );
        let silenced = Status {
            alarms_on: false,
            ..status(0)
        };
        assert!(original_lines(&running(silenced), now(5), 0).contains("\nalarm: OFF\n"));
    }

    #[test]
    fn names_follow_supervise() {
        assert_eq!(service_name("status/redis", None), "redis");
        assert_eq!(service_name("/home/work/status/redis/", None), "redis");
        assert_eq!(service_name("./status/a/b", None), "a/b");
        assert_eq!(service_name("redis", Some("/srv/status/redis")), "redis");
        assert_eq!(service_name(".", Some("/srv/svc/web")), "web");
        assert_eq!(service_name("web", None), "web");
    }
}
