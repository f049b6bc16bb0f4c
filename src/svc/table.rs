//! The listing of many services at once: one aligned table, one row per
//! service, or one JSON array of the objects `svc status --json` prints per
//! directory. Pure: rows are built from what the caller observed.

use std::time::Duration;

use super::show::{Observed, Supervise, want_word};

/// The column titles; the last column (a note) is not padded.
pub const HEADER: [&str; 7] = ["NAME", "STATE", "PID", "SECONDS", "WANT", "ALARM", "NOTE"];

/// One row of the table, a cell per column of [`HEADER`].
pub type Row = [String; 7];

/// The row of a service whose status directory could be read. STATE is
/// `up`, `paused`, `down`, or `supervise-not-running` (the status file is
/// stale: PID is shown only if that process still runs, unsupervised).
pub fn row(name: &str, observed: &Observed, now: Duration) -> Row {
    let status = &observed.status;
    let pid = |shown: bool| {
        if shown && status.pid != 0 {
            status.pid.to_string()
        } else {
            "-".to_string()
        }
    };
    let (state, pid, note) = match observed.supervise {
        Supervise::Running { .. } => {
            let state = match (status.pid, status.paused) {
                (0, _) => "down",
                (_, true) => "paused",
                (_, false) => "up",
            };
            (state, pid(true), "")
        }
        Supervise::NotRunning { pid_alive } => (
            "supervise-not-running",
            pid(pid_alive),
            if pid_alive && status.pid != 0 {
                "service left running, unsupervised"
            } else {
                ""
            },
        ),
    };
    [
        name.to_string(),
        state.to_string(),
        pid,
        now.saturating_sub(status.since).as_secs().to_string(),
        want_word(status.want).to_string(),
        if status.alarms_on { "on" } else { "off" }.to_string(),
        note.to_string(),
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
pub fn render(rows: &[Row]) -> String {
    let header: Row = HEADER.map(String::from);
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let mut widths = [0usize; 7];
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
            render(&rows),
            "\
NAME     STATE                  PID   SECONDS  WANT  ALARM  NOTE
a        up                     4242  7        up    on
removed  supervise-not-running  -     12       up    on
x        error                  -     -        -     -      not a status directory"
        );
        assert_eq!(render(&[]), "NAME  STATE  PID  SECONDS  WANT  ALARM  NOTE");
    }

    #[test]
    fn json_array_holds_one_object_per_line() {
        assert_eq!(json_array(&[]), "[]");
        assert_eq!(
            json_array(&["{\"a\":1}".to_string(), "{\"b\":2}".to_string()]),
            "[\n  {\"a\":1},\n  {\"b\":2}\n]"
        );
    }
}
