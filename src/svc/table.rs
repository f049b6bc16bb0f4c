//! What `svc status` prints: one line or JSON object per directory, or, for
//! a whole status root, one aligned table (a row per service) or one JSON
//! array of the same objects. Pure: everything is built from what the caller
//! observed.

use std::time::Duration;

use super::dir::Problem;
use super::show::{self, Observed, State, on_off, orphan, want_word};
use super::why;
use crate::info;

/// How `svc status` lays out what it saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One human line per directory.
    Lines,
    /// One JSON object per line.
    JsonLines,
    /// A whole root: one table.
    Table,
    /// A whole root with `--json`: one JSON array.
    JsonArray,
}

impl Layout {
    /// The layout for `--json` or not, a whole root listed or not.
    pub fn new(json: bool, whole_root: bool) -> Layout {
        match (json, whole_root) {
            (false, false) => Layout::Lines,
            (true, false) => Layout::JsonLines,
            (false, true) => Layout::Table,
            (true, true) => Layout::JsonArray,
        }
    }
}

/// One directory `svc status` shows: as typed, its NAME, and what was
/// learned about it or why nothing could be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// The directory as typed or found under the root.
    pub label: String,
    /// The service NAME.
    pub name: String,
    /// What was observed, or the problem that stopped it.
    pub seen: Result<Observed, Problem>,
}

/// The lines `svc status` prints for `shown` in `layout` at `now`.
pub fn render(layout: Layout, shown: &[Shown], now: Duration) -> Vec<String> {
    let object = |s: &Shown| match &s.seen {
        Ok(observed) => show::json(&s.label, &s.name, observed, now),
        Err(problem) => show::json_error(&s.label, &s.name, problem.code, &problem.message),
    };
    match layout {
        Layout::Lines => shown
            .iter()
            .map(|s| match &s.seen {
                Ok(observed) => show::line(&s.label, observed, now),
                Err(problem) => format!("{}: {}", s.label, problem.message),
            })
            .collect(),
        Layout::JsonLines => shown.iter().map(object).collect(),
        Layout::JsonArray => vec![json_array(&shown.iter().map(object).collect::<Vec<_>>())],
        Layout::Table => {
            let rows: Vec<Row> = shown
                .iter()
                .map(|s| match &s.seen {
                    Ok(observed) => row(&s.name, observed, now),
                    Err(problem) => error_row(&s.name, &problem.message),
                })
                .collect();
            vec![table(&rows)]
        }
    }
}

/// The column titles; the last column (a note) is not padded.
pub const HEADER: [&str; 7] = ["NAME", "STATE", "PID", "SECONDS", "WANT", "ALARM", "NOTE"];

/// One row of the table, a cell per column of [`HEADER`].
pub type Row = [String; 7];

/// The row of a service whose status directory could be read. STATE is
/// `up`, `paused`, `down`, or `supervise-not-running` (the status file is
/// stale: PID is shown only if that process still runs, unsupervised).
/// With `info`, STATE is its word instead (`ready`, `backoff`,
/// `gave-up`...; `paused` stays), and NOTE says the rest (see
/// [`why::note`]).
pub fn row(name: &str, observed: &Observed, now: Duration) -> Row {
    let status = &observed.status;
    let state = State::of(observed);
    let orphan = orphan(observed);
    let pid = if status.pid != 0 && (state != State::SuperviseNotRunning || orphan) {
        status.pid.to_string()
    } else {
        "-".to_string()
    };
    let mut notes = Vec::new();
    if orphan {
        notes.push("service left running, unsupervised".to_string());
    }
    let mut word = state.word();
    if let Some(facts) = &observed.facts {
        let info = &facts.info;
        let running = observed.supervise_running();
        if (running && state != State::Paused) || info.state == info::State::GaveUp {
            word = info.state.word();
        }
        notes.extend(why::note(info, now, running));
    }
    [
        name.to_string(),
        word.to_string(),
        pid,
        now.saturating_sub(status.since).as_secs().to_string(),
        want_word(status.want).to_string(),
        on_off(status.alarms_on).to_string(),
        notes.join("; "),
    ]
}

/// The row of a directory that could not be read: STATE `error`, the
/// message as the note.
pub fn error_row(name: &str, message: &str) -> Row {
    let dash = || "-".to_string();
    [
        name.to_string(),
        "error".to_string(),
        dash(),
        dash(),
        dash(),
        dash(),
        message.to_string(),
    ]
}

/// The header and the rows, columns left-aligned two spaces apart, no
/// trailing blanks; without a final newline.
pub fn table(rows: &[Row]) -> String {
    aligned(HEADER, rows)
}

/// `header` and `rows`, columns left-aligned two spaces apart, the last
/// one not padded, no trailing blanks; without a final newline.
pub fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(String::from);
    let all: Vec<&[String; N]> = std::iter::once(&header).chain(rows).collect();
    let mut widths = [0usize; N];
    for row in &all {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let lines: Vec<String> = all
        .iter()
        .map(|row| {
            let mut line = String::new();
            for (at, cell) in row.iter().enumerate() {
                if at + 1 < row.len() {
                    line.push_str(&format!("{cell:<width$}  ", width = widths[at]));
                } else {
                    line.push_str(cell);
                }
            }
            line.trim_end().to_string()
        })
        .collect();
    lines.join("\n")
}

/// One JSON array of one-line objects, one per line; without a final newline.
pub fn json_array(objects: &[String]) -> String {
    if objects.is_empty() {
        return "[]".to_string();
    }
    format!("[\n  {}\n]", objects.join(",\n  "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{Status, Want};
    use crate::svc::show::{LocalTime, Supervise};

    const SINCE: u64 = 1_795_677_165;

    fn observed(pid: u32, supervise: Supervise) -> Observed {
        Observed {
            status: Status {
                since: Duration::from_secs(SINCE),
                paused: false,
                want: Want::Up,
                alarms_on: true,
                pid,
            },
            supervise,
            since: LocalTime {
                text: "2026-11-26 07:12:45".into(),
                utc_offset: 0,
            },
            facts: None,
        }
    }

    fn now(later: u64) -> Duration {
        Duration::from_secs(SINCE + later)
    }

    const RUNNING: Supervise = Supervise::Running { pid: Some(10) };

    #[test]
    fn rows_for_every_state() {
        assert_eq!(
            row("web", &observed(4242, RUNNING), now(3601)),
            ["web", "up", "4242", "3601", "up", "on", ""].map(String::from)
        );
        let mut paused = observed(7, RUNNING);
        paused.status.paused = true;
        paused.status.alarms_on = false;
        assert_eq!(
            row("p", &paused, now(0)),
            ["p", "paused", "7", "0", "up", "off", ""].map(String::from)
        );
        let mut down = observed(0, RUNNING);
        down.status.want = Want::Down;
        assert_eq!(
            row("d", &down, now(12)),
            ["d", "down", "-", "12", "down", "on", ""].map(String::from)
        );
        let gone = observed(0, Supervise::NotRunning { pid_alive: false });
        assert_eq!(
            row("g", &gone, now(5))[1..3],
            ["supervise-not-running", "-"]
        );
        // The pid of a stale file is shown only while that process lives.
        let stale = observed(99, Supervise::NotRunning { pid_alive: false });
        assert_eq!(row("s", &stale, now(5))[2], "-");
        let orphan = observed(99, Supervise::NotRunning { pid_alive: true });
        let cells = row("o", &orphan, now(5));
        assert_eq!(cells[2], "99");
        assert_eq!(cells[6], "service left running, unsupervised");
        assert_eq!(
            error_row("x", "no such directory"),
            ["x", "error", "-", "-", "-", "-", "no such directory"].map(String::from)
        );
    }

    #[test]
    fn table_is_aligned_without_trailing_blanks() {
        let rows = [
            row("a", &observed(4242, RUNNING), now(7)),
            row(
                "removed",
                &observed(0, Supervise::NotRunning { pid_alive: false }),
                now(12),
            ),
            error_row("x", "not a status directory"),
        ];
        assert_eq!(
            table(&rows),
            "\
NAME     STATE                  PID   SECONDS  WANT  ALARM  NOTE
a        up                     4242  7        up    on
removed  supervise-not-running  -     12       up    on
x        error                  -     -        -     -      not a status directory"
        );
        assert_eq!(table(&[]), "NAME  STATE  PID  SECONDS  WANT  ALARM  NOTE");
    }

    #[test]
    fn json_array_holds_one_object_per_line() {
        assert_eq!(json_array(&[]), "[]");
        assert_eq!(
            json_array(&["{\"a\":1}".to_string(), "{\"b\":2}".to_string()]),
            "[\n  {\"a\":1},\n  {\"b\":2}\n]"
        );
    }

    #[test]
    fn every_layout_shows_every_directory() {
        use crate::svc::code::Code;
        let shown = [
            Shown {
                label: "status/a".into(),
                name: "a".into(),
                seen: Ok(observed(4242, RUNNING)),
            },
            Shown {
                label: "status/x".into(),
                name: "x".into(),
                seen: Err(Problem::new(Code::NotDirectory, "no such directory")),
            },
        ];
        assert_eq!(Layout::new(false, false), Layout::Lines);
        assert_eq!(Layout::new(true, false), Layout::JsonLines);
        assert_eq!(Layout::new(false, true), Layout::Table);
        assert_eq!(Layout::new(true, true), Layout::JsonArray);
        assert_eq!(
            render(Layout::Lines, &shown, now(7)),
            [
                "status/a: up (pid 4242) 7 seconds, want up, alarm on",
                "status/x: no such directory",
            ]
        );
        let objects = render(Layout::JsonLines, &shown, now(7));
        assert_eq!(objects.len(), 2);
        assert!(objects[0].starts_with("{\"dir\":\"status/a\",\"name\":\"a\",\"state\":\"up\""));
        assert!(objects[1].ends_with("\"error\":\"no such directory\",\"code\":2}"));
        assert_eq!(
            render(Layout::JsonArray, &shown, now(7)),
            [json_array(&objects)]
        );
        let table = render(Layout::Table, &shown, now(7));
        assert_eq!(table.len(), 1);
        assert!(table[0].ends_with("\nx     error  -     -        -     -      no such directory"));
    }
}
