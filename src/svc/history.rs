//! `svc history NAME|DIR [--json] [-n N]`: the last exits of a service,
//! from the `history` file supervise keeps in its status directory
//! (docs/status-files.md), oldest first: one aligned table (local time,
//! pid, how it ended, how long it ran, why) or one JSON array. A last line
//! without its newline (supervise killed mid-write) is not shown, as the
//! contract tells readers. [`text`] and [`json`] are pure; [`show`] reads.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::cli::Operand;
use super::code::Form;
use super::dir::{self, Problem};
use super::root::Root;
use super::run::{self, complain, local};
use super::show::{LocalTime, exit_fields, json_string, rfc3339};
use super::table::{aligned, json_array};
use crate::info::{self, Exited};

/// How many exits are shown without `-n`: `history_size`'s default.
pub const DEFAULT_COUNT: usize = 100;

/// The column titles of the text form.
pub const HEADER: [&str; 5] = ["TIME", "PID", "EXIT", "RAN", "CAUSE"];

/// Prints the last `count` exits of the service `operand` names; returns
/// the exit status.
pub fn show(operand: &Operand, as_json: bool, count: Option<usize>, root: &Root) -> i32 {
    let dir = root.resolve(operand, &dir::is_dir);
    let exits = match read(&dir) {
        Ok(exits) => exits,
        Err(problem) => return run::report(&dir, problem.into(), Form::Extended),
    };
    let exits = match exits {
        Some(exits) => exits,
        None => {
            complain(
                &dir,
                "no history file: no exit recorded yet, or a supervise that keeps none \
                 (an older one, the original, or history_size 0)",
            );
            Vec::new()
        }
    };
    let count = count.unwrap_or(DEFAULT_COUNT);
    let last = &exits[exits.len().saturating_sub(count)..];
    let out = if as_json {
        json(last, &local)
    } else if last.is_empty() {
        String::new()
    } else {
        text(last, &local)
    };
    if !out.is_empty() {
        let _ = writeln!(std::io::stdout(), "{out}");
    }
    0
}

/// The exits `DIR/history` holds, `None` without the file.
fn read(dir: &Path) -> Result<Option<Vec<Exited>>, Problem> {
    dir::check(dir)?;
    Ok(dir::read_history(dir)?.map(|text| info::parse_history(&text)))
}

/// The table, times on the calendar `local` gives; without a final newline.
pub fn text(exits: &[Exited], local: &dyn Fn(Duration) -> LocalTime) -> String {
    let rows: Vec<[String; 5]> = exits
        .iter()
        .map(|exit| {
            [
                local(exit.time).text,
                exit.pid.to_string(),
                info::exit_words(exit.exit),
                format!("{} s", crate::duration::millis(exit.ran)),
                exit.cause.word().to_owned(),
            ]
        })
        .collect();
    aligned(HEADER, &rows)
}

/// One JSON array, an object per exit: `time` (RFC 3339, local, as `svc
/// status --json`), `unix_time`, `pid`, `exit` (its words), `code` and
/// `signal` (one of them `null`), `core`, `ran` (seconds), `cause`.
pub fn json(exits: &[Exited], local: &dyn Fn(Duration) -> LocalTime) -> String {
    let objects: Vec<String> = exits
        .iter()
        .map(|exit| {
            let (code, signal, core) = exit_fields(exit.exit);
            let null = || "null".to_owned();
            format!(
                "{{\"time\":{},\"unix_time\":{},\"pid\":{},\"exit\":{},\"code\":{},\
                 \"signal\":{},\"core\":{core},\"ran\":{},\"cause\":\"{}\"}}",
                json_string(&rfc3339(&local(exit.time))),
                crate::duration::millis(exit.time),
                exit.pid,
                json_string(&info::exit_words(exit.exit)),
                code.unwrap_or_else(null),
                signal.unwrap_or_else(null),
                crate::duration::millis(exit.ran),
                exit.cause.word(),
            )
        })
        .collect();
    json_array(&objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::Cause;
    use crate::supervisor::Exit;

    fn utc(at: Duration) -> LocalTime {
        let text = match at.as_secs() {
            1_764_621_234 => "2025-12-01 20:33:54",
            1_764_621_240 => "2025-12-01 20:34:00",
            other => panic!("no calendar for {other}"),
        };
        LocalTime {
            text: text.into(),
            utc_offset: 0,
        }
    }

    fn exits() -> Vec<Exited> {
        vec![
            Exited {
                time: Duration::from_millis(1_764_621_234_123),
                pid: 4242,
                exit: Exit::Code(3),
                ran: Duration::from_millis(12_345),
                cause: Cause::Crash,
            },
            Exited {
                time: Duration::from_millis(1_764_621_240_002),
                pid: 4250,
                exit: Exit::Signal {
                    signal: 11,
                    core: true,
                },
                ran: Duration::from_millis(5_879),
                cause: Cause::Asked,
            },
        ]
    }

    #[test]
    fn a_table_of_exits() {
        assert_eq!(
            text(&exits(), &utc),
            "\
TIME                 PID   EXIT                    RAN       CAUSE
2025-12-01 20:33:54  4242  exit 3                  12.345 s  crash
2025-12-01 20:34:00  4250  signal 11 SIGSEGV core  5.879 s   asked"
        );
    }

    #[test]
    fn a_json_array_of_exits() {
        assert_eq!(
            json(&exits(), &utc),
            "[\n  {\"time\":\"2025-12-01T20:33:54Z\",\"unix_time\":1764621234.123,\"pid\":4242,\
             \"exit\":\"exit 3\",\"code\":3,\"signal\":null,\"core\":false,\"ran\":12.345,\
             \"cause\":\"crash\"},\n  {\"time\":\"2025-12-01T20:34:00Z\",\
             \"unix_time\":1764621240.002,\"pid\":4250,\"exit\":\"signal 11 SIGSEGV core\",\
             \"code\":null,\"signal\":11,\"core\":true,\"ran\":5.879,\"cause\":\"asked\"}\n]"
        );
        assert_eq!(json(&[], &utc), "[]");
    }
}
