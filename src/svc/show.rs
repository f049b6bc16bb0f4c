//! How `svc` shows a service: its [`State`], the human line, the JSON
//! object, the original's `pid:` / `start time:` / `alarm:` lines, and the
//! time formats they use. Pure: the caller passes the decoded status,
//! whether supervise lives, what `info` said ([`Facts`], when there is an
//! `info`), the current time and the times as the local calendar shows
//! them ([`LocalTime`], from `sys::localtime`, the program's one calendar);
//! nothing here reads a file or a clock. Without `info` every view is
//! exactly what it was before `info` existed; with it, the facts follow
//! (worded by [`why`]).

use std::time::Duration;

use super::code::{Code, Form};
use super::why;
use crate::info::{self, Info};
use crate::status::{Status, Want};
use crate::supervisor::Exit;

/// What `svc` learned about one status directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    /// The decoded status file.
    pub status: Status,
    /// Whether supervise itself is alive.
    pub supervise: Supervise,
    /// `status.since` on the local calendar.
    pub since: LocalTime,
    /// What `info` said, when there is one that agrees with `status`.
    pub facts: Option<Facts>,
}

/// What a status directory's `info` said, with its times on the local
/// calendar (for JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The file's contents.
    pub info: Info,
    /// `started`.
    pub started: Option<LocalTime>,
    /// `ready_since`.
    pub ready_since: Option<LocalTime>,
    /// `last_exit_time`.
    pub last_exit_time: Option<LocalTime>,
    /// `next_start`.
    pub next_start: Option<LocalTime>,
}

impl Observed {
    /// Whether supervise runs.
    pub fn supervise_running(&self) -> bool {
        matches!(self.supervise, Supervise::Running { .. })
    }

    /// The facts of `info` in words (see [`why::facts`]); none without it.
    pub fn facts_in_words(&self, now: Duration) -> Vec<String> {
        self.facts.as_ref().map_or_else(Vec::new, |facts| {
            why::facts(&facts.info, now, self.supervise_running())
        })
    }
}

/// A moment as the local calendar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalTime {
    /// `YYYY-MM-DD HH:MM:SS`, as `sys::localtime::format` writes it.
    pub text: String,
    /// Seconds east of UTC at that moment.
    pub utc_offset: i64,
}

/// The state of a service, as every view names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// A child runs.
    Up,
    /// A child runs, stopped with `p`.
    Paused,
    /// No child runs.
    Down,
    /// Nobody reads `ok`: the status file is stale.
    SuperviseNotRunning,
}

impl State {
    /// The state `observed` shows.
    pub fn of(observed: &Observed) -> State {
        match (
            observed.supervise,
            observed.status.pid,
            observed.status.paused,
        ) {
            (Supervise::NotRunning { .. }, _, _) => State::SuperviseNotRunning,
            (Supervise::Running { .. }, 0, _) => State::Down,
            (Supervise::Running { .. }, _, true) => State::Paused,
            (Supervise::Running { .. }, _, false) => State::Up,
        }
    }

    /// Its word in the table and the JSON object.
    pub fn word(self) -> &'static str {
        match self {
            State::Up => "up",
            State::Paused => "paused",
            State::Down => "down",
            State::SuperviseNotRunning => "supervise-not-running",
        }
    }
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

/// Whether `info` speaks of what `status` shows: written by the supervise
/// that runs (when its pid is known) about the pid `status` names. A
/// dead supervise's `info` still tells its last exit and why it gave up.
pub fn agrees(info: &Info, status: &Status, supervise: Supervise) -> bool {
    match supervise {
        Supervise::Running { pid } => {
            pid.is_none_or(|pid| pid == info.supervise_pid) && info.pid == status.pid
        }
        Supervise::NotRunning { .. } => true,
    }
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
/// What `info` adds (the state word, the last exit, the restarts, the
/// `STATUS=` text) follows after `; `.
pub fn describe(observed: &Observed, now: Duration) -> String {
    let mut text = describe_status(observed, now);
    for fact in observed.facts_in_words(now) {
        text.push_str("; ");
        text.push_str(&fact);
    }
    text
}

/// What the status file alone tells.
fn describe_status(observed: &Observed, now: Duration) -> String {
    let status = &observed.status;
    let secs = elapsed(status.since, now);
    let since = rfc3339(&observed.since);
    let state = match State::of(observed) {
        State::SuperviseNotRunning => return stale(observed, &since),
        State::Down => format!("down {secs} seconds"),
        State::Paused => format!("up (pid {}) {secs} seconds, paused", status.pid),
        State::Up => format!("up (pid {}) {secs} seconds", status.pid),
    };
    format!(
        "{state}, want {}, alarm {}",
        want_word(status.want),
        on_off(status.alarms_on)
    )
}

/// What a status file nobody keeps any more says, and whether its service
/// was left behind.
fn stale(observed: &Observed, since: &str) -> String {
    let pid = observed.status.pid;
    if pid == 0 {
        format!("supervise not running; stale status file says down since {since}")
    } else if orphan(observed) {
        format!(
            "supervise not running; pid {pid} from its stale status file is still alive, \
             unsupervised"
        )
    } else {
        format!("supervise not running; stale status file says up (pid {pid}) since {since}")
    }
}

/// supervise is dead but the service its status file names still runs.
pub fn orphan(observed: &Observed) -> bool {
    matches!(
        observed.supervise,
        Supervise::NotRunning { pid_alive: true }
    ) && observed.status.pid != 0
}

/// The human line of `svc status DIR...`.
pub fn line(label: &str, observed: &Observed, now: Duration) -> String {
    format!("{label}: {}", describe(observed, now))
}

/// The lines of the original `svc DIR status`, which scripts parse, then
/// ours: `state:` and `supervise pid:` as before `info` existed, then one
/// line per fact of `info` (`service: ready`, `last exit: ...`).
pub fn original_lines(observed: &Observed, now: Duration) -> String {
    let status = &observed.status;
    let mut text = format!(
        "showing status...\npid: {}\nstart time: {}\nalarm: {}\nstate: {}\n",
        status.pid,
        original_time(&observed.since),
        if status.alarms_on { "ON" } else { "OFF" },
        describe_status(observed, now),
    );
    if let Supervise::Running { pid: Some(pid) } = observed.supervise {
        text.push_str(&format!("supervise pid: {pid}\n"));
    }
    if let Some(facts) = &observed.facts {
        let info = &facts.info;
        let state = why::state(info, now).unwrap_or_else(|| info.state.word().to_owned());
        text.push_str(&format!("service: {state}\n"));
        let rest = [
            why::last_exit(info, now),
            why::restarts(info),
            why::status_text(info),
        ];
        for line in rest.into_iter().flatten() {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

/// One JSON object (one line) for a directory that could be read. Its
/// `state` of a paused service is `up`: `paused` is a field of its own.
pub fn json(label: &str, name: &str, observed: &Observed, now: Duration) -> String {
    let status = &observed.status;
    let state = match State::of(observed) {
        State::Paused => State::Up,
        state => state,
    };
    let supervise_pid = match observed.supervise {
        Supervise::Running { pid: Some(pid) } => pid.to_string(),
        _ => "null".to_string(),
    };
    let facts = observed
        .facts
        .as_ref()
        .map_or_else(String::new, |facts| json_facts(facts, status, now));
    format!(
        "{{\"dir\":{},\"name\":{},\"state\":\"{}\",\"pid\":{},\"since\":\"{}\",\
         \"seconds\":{},\"want\":\"{}\",\"paused\":{},\"alarm\":{},\
         \"supervise_pid\":{supervise_pid},\"orphan\":{}{facts}}}",
        json_string(label),
        json_string(name),
        state.word(),
        status.pid,
        rfc3339(&observed.since),
        elapsed(status.since, now),
        want_word(status.want),
        status.paused,
        status.alarms_on,
        orphan(observed),
    )
}

/// The fields `info` adds to the JSON object, each with a leading comma;
/// `null` where a value does not apply. Times are RFC 3339 like `since`;
/// durations are seconds with milliseconds.
fn json_facts(facts: &Facts, status: &Status, now: Duration) -> String {
    let info = &facts.info;
    let time = |at: &Option<LocalTime>| {
        at.as_ref()
            .map_or("null".to_owned(), |t| json_string(&rfc3339(t)))
    };
    let or_null = |value: Option<String>| value.unwrap_or_else(|| "null".to_owned());
    let text = |value: &str| {
        if value.is_empty() {
            "null".to_owned()
        } else {
            json_string(value)
        }
    };
    let (code, signal, core) = match info.last_exit.map(exit_fields) {
        Some((code, signal, core)) => (code, signal, Some(core)),
        None => (None, None, None),
    };
    let next_start_in = info
        .next_start
        .map(|at| crate::duration::millis(at.saturating_sub(now)));
    let fields = [
        ("service_state", json_string(info.state.word())),
        ("readiness", json_string(info.readiness.word())),
        ("ready", info::ready(status.pid, Some(info)).to_string()),
        ("started", time(&facts.started)),
        ("ready_since", time(&facts.ready_since)),
        ("health_failures", info.health_failures.to_string()),
        ("status_text", text(&info.status_text)),
        (
            "last_exit",
            or_null(
                info.last_exit
                    .map(|exit| json_string(&info::exit_words(exit))),
            ),
        ),
        ("last_exit_code", or_null(code)),
        ("last_exit_signal", or_null(signal)),
        ("last_exit_core", or_null(core.map(|c| c.to_string()))),
        ("last_exit_time", time(&facts.last_exit_time)),
        (
            "last_run_seconds",
            or_null(info.last_run.map(crate::duration::millis)),
        ),
        (
            "last_exit_cause",
            or_null(info.last_exit_cause.map(|c| json_string(c.word()))),
        ),
        ("restarts_window", info.restarts_window.to_string()),
        ("restarts_total", info.restarts_total.to_string()),
        ("next_start", time(&facts.next_start)),
        ("next_start_in", or_null(next_start_in)),
        ("backoff_seconds", crate::duration::millis(info.backoff)),
        ("gave_up", text(&info.gave_up)),
    ];
    fields
        .iter()
        .map(|(key, value)| format!(",\"{key}\":{value}"))
        .collect()
}

/// An exit's code (or `None`), signal (or `None`) and core flag, as JSON
/// numbers and booleans.
pub fn exit_fields(exit: Exit) -> (Option<String>, Option<String>, bool) {
    match exit {
        Exit::Code(code) => (Some(code.to_string()), None, false),
        Exit::Signal { signal, core } => (None, Some(signal.to_string()), core),
    }
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

/// The date and the time of a [`LocalTime`], when its text has the shape
/// `YYYY-MM-DD HH:MM:SS` (`sys::localtime` writes `@SECONDS` if the C
/// library fails).
fn date_and_time(at: &LocalTime) -> Option<(&str, &str)> {
    let (date, time) = at.text.split_once(' ')?;
    (date.len() == 10 && time.len() == 8).then_some((date, time))
}

/// RFC 3339 to the second, with the local offset: `2026-11-26T15:12:45+08:00`,
/// `2026-11-26T07:12:45Z` in UTC.
pub fn rfc3339(at: &LocalTime) -> String {
    let Some((date, time)) = date_and_time(at) else {
        return at.text.clone();
    };
    let offset = if at.utc_offset == 0 {
        "Z".to_string()
    } else {
        let sign = if at.utc_offset < 0 { '-' } else { '+' };
        let minutes = at.utc_offset.unsigned_abs() / 60;
        format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    };
    format!("{date}T{time}{offset}")
}

/// The original's `start time:` format, local time: `20261126 15:12:45`.
pub fn original_time(at: &LocalTime) -> String {
    match date_and_time(at) {
        Some((date, time)) => format!("{} {time}", date.replace('-', "")),
        None => at.text.clone(),
    }
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

    /// SINCE in UTC, as `sys::localtime` writes it with TZ=UTC.
    fn utc() -> LocalTime {
        LocalTime {
            text: "2026-11-26 07:12:45".into(),
            utc_offset: 0,
        }
    }

    fn running(status: Status) -> Observed {
        Observed {
            status,
            supervise: Supervise::Running { pid: Some(4100) },
            since: utc(),
            facts: None,
        }
    }

    fn now(later: u64) -> Duration {
        Duration::from_secs(SINCE + later)
    }

    #[test]
    fn time_formats() {
        let at = |text: &str, utc_offset| LocalTime {
            text: text.into(),
            utc_offset,
        };
        assert_eq!(rfc3339(&utc()), "2026-11-26T07:12:45Z");
        assert_eq!(
            rfc3339(&at("2026-11-26 15:12:45", 8 * 3600)),
            "2026-11-26T15:12:45+08:00"
        );
        assert_eq!(
            rfc3339(&at("2026-11-25 21:42:45", -(9 * 3600 + 1800))),
            "2026-11-25T21:42:45-09:30"
        );
        assert_eq!(
            original_time(&at("2026-11-26 15:12:45", 8 * 3600)),
            "20261126 15:12:45"
        );
        assert_eq!(original_time(&utc()), "20261126 07:12:45");
        // What sys::localtime writes when the C library fails is shown as is.
        assert_eq!(rfc3339(&at("@1795677165", 0)), "@1795677165");
        assert_eq!(original_time(&at("@1795677165", 0)), "@1795677165");
    }

    #[test]
    fn one_state_for_every_view() {
        let with = |pid, paused, supervise| Observed {
            status: Status {
                paused,
                ..status(pid)
            },
            supervise,
            since: utc(),
            facts: None,
        };
        let running = Supervise::Running { pid: None };
        let dead = Supervise::NotRunning { pid_alive: true };
        let table = [
            (with(7, false, running), State::Up, "up"),
            (with(7, true, running), State::Paused, "paused"),
            (with(0, false, running), State::Down, "down"),
            (
                with(7, false, dead),
                State::SuperviseNotRunning,
                "supervise-not-running",
            ),
        ];
        for (observed, state, word) in table {
            assert_eq!(State::of(&observed), state);
            assert_eq!(state.word(), word);
        }
        assert!(orphan(&with(7, false, dead)));
        assert!(!orphan(&with(0, false, dead)));
        assert!(!orphan(&with(7, false, running)));
        // JSON keeps paused apart, in a field of its own.
        let paused = json("d", "d", &with(7, true, running), now(1));
        assert!(paused.contains("\"state\":\"up\""), "{paused}");
        assert!(paused.contains("\"paused\":true"), "{paused}");
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
            since: utc(),
            facts: None,
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
            since: utc(),
            facts: None,
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
        let text = original_lines(&running(status(4242)), now(5));
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
        assert!(original_lines(&running(silenced), now(5)).contains("\nalarm: OFF\n"));
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

    #[test]
    fn info_facts_follow_in_every_view() {
        use crate::info::{Cause, Readiness, State as Word};
        let info = Info {
            supervise_pid: 4100,
            pid: 4242,
            state: Word::Ready,
            readiness: Readiness::Systemd,
            last_exit: Some(Exit::Code(3)),
            last_exit_cause: Some(Cause::Crash),
            restarts_total: 2,
            restarts_window: 1,
            ..Info::default()
        };
        let observed = Observed {
            facts: Some(Facts {
                info: info.clone(),
                started: Some(utc()),
                ready_since: None,
                last_exit_time: None,
                next_start: None,
            }),
            ..running(status(4242))
        };
        assert_eq!(
            describe(&observed, now(5)),
            "up (pid 4242) 5 seconds, want up, alarm on; ready; last exit: exit 3 (crash); \
             restarts: 1 in window, 2 total"
        );
        let lines = original_lines(&observed, now(5));
        assert!(
            lines.ends_with(
                "state: up (pid 4242) 5 seconds, want up, alarm on\nsupervise pid: 4100\n\
                 service: ready\nlast exit: exit 3 (crash)\nrestarts: 1 in window, 2 total\n"
            ),
            "{lines}"
        );
        let object = json("d", "d", &observed, now(5));
        assert!(
            object.ends_with(
                ",\"orphan\":false,\"service_state\":\"ready\",\"readiness\":\"systemd\",\
                 \"ready\":true,\"started\":\"2026-11-26T07:12:45Z\",\"ready_since\":null,\
                 \"health_failures\":0,\"status_text\":null,\"last_exit\":\"exit 3\",\
                 \"last_exit_code\":3,\"last_exit_signal\":null,\"last_exit_core\":false,\
                 \"last_exit_time\":null,\"last_run_seconds\":null,\"last_exit_cause\":\"crash\",\
                 \"restarts_window\":1,\"restarts_total\":2,\"next_start\":null,\
                 \"next_start_in\":null,\"backoff_seconds\":0.000,\"gave_up\":null}"
            ),
            "{object}"
        );
        // Another supervise's info, or another run's, is not shown.
        let running_other = Supervise::Running { pid: Some(9) };
        assert!(!agrees(&info, &status(4242), running_other));
        assert!(!agrees(
            &info,
            &status(4243),
            Supervise::Running { pid: None }
        ));
        assert!(agrees(
            &info,
            &status(4242),
            Supervise::Running { pid: Some(4100) }
        ));
        assert!(agrees(
            &info,
            &status(0),
            Supervise::NotRunning { pid_alive: false }
        ));
    }
}
