//! `svc history NAME|DIR [--json] [-n N]` on status directories whose
//! `history` the test writes as docs/status-files.md says supervise does.

use std::process::Command;

use supervise::info::{Cause, Exited};
use supervise::supervisor::Exit;

use crate::support::*;

fn exits() -> Vec<Exited> {
    let at = |ms| std::time::Duration::from_millis(ms);
    vec![
        Exited {
            time: at(1_764_621_234_123),
            pid: 4242,
            exit: Exit::Code(3),
            ran: at(12_345),
            cause: Cause::Crash,
        },
        Exited {
            time: at(1_764_621_240_002),
            pid: 4250,
            exit: Exit::Signal {
                signal: 9,
                core: false,
            },
            ran: at(5_879),
            cause: Cause::Asked,
        },
        Exited {
            time: at(1_764_621_250_500),
            pid: 4260,
            exit: Exit::Signal {
                signal: 11,
                core: true,
            },
            ran: at(500),
            cause: Cause::Crash,
        },
    ]
}

/// The lines, and a last one torn by a crash mid-write.
fn history_text() -> String {
    let mut text: String = exits().iter().map(Exited::render).collect();
    text.push_str("time=1764621260.000 pid=4270 exit=ex");
    text
}

/// `date` of a Unix time, in the same zone as svc (the test's).
fn local(seconds: u64) -> String {
    let output = Command::new("date")
        .arg("-d")
        .arg(format!("@{seconds}"))
        .arg("+%Y-%m-%d %H:%M:%S")
        .output()
        .unwrap();
    stdout(&output).trim().to_string()
}

#[test]
fn the_last_exits_as_a_table() {
    let tmp = TempDir::new("history-text");
    let fake = Fake::new(tmp.path(), "web");
    std::fs::write(fake.dir.join("history"), history_text()).unwrap();
    let root = tmp.path().display().to_string();
    let output = svc(["-d", &root, "history", "web"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 4, "the torn line is left out:\n{text}");
    let cells = |row: &str| {
        row.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(cells(rows[0]), ["TIME", "PID", "EXIT", "RAN", "CAUSE"]);
    assert_eq!(
        cells(rows[1]),
        [
            local(1_764_621_234),
            "4242".into(),
            "exit 3".into(),
            "12.345 s".into(),
            "crash".into()
        ]
    );
    assert_eq!(
        cells(rows[2]),
        [
            local(1_764_621_240),
            "4250".into(),
            "signal 9 SIGKILL".into(),
            "5.879 s".into(),
            "asked".into()
        ]
    );
    assert_eq!(
        cells(rows[3]),
        [
            local(1_764_621_250),
            "4260".into(),
            "signal 11 SIGSEGV core".into(),
            "0.500 s".into(),
            "crash".into()
        ]
    );

    // -n N: the latest N; a path works as well as a NAME.
    let output = svc([
        "history".as_ref(),
        fake.dir.as_os_str(),
        "-n".as_ref(),
        "1".as_ref(),
    ]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().nth(1).unwrap().contains("  4260  "), "{text}");
}

#[test]
fn the_last_exits_as_json() {
    let tmp = TempDir::new("history-json");
    let fake = Fake::new(tmp.path(), "web");
    std::fs::write(fake.dir.join("history"), history_text()).unwrap();
    let root = tmp.path().display().to_string();
    let output = svc(["-d", &root, "history", "--json", "web", "-n", "2"]);
    assert_exit(&output, 0);
    // A real JSON parser reads it.
    let script = "import json,sys; a=json.load(sys.stdin); \
                  print(len(a)); [print(o['pid'], o['exit'], o['code'], o['signal'], o['core'], o['ran'], o['cause'], o['unix_time'], o['time'][:4]) for o in a]";
    let parsed = python(script, &output.stdout);
    assert!(parsed.status.success(), "{}", stdout(&output));
    assert_eq!(
        stdout(&parsed),
        "2\n\
         4250 signal 9 SIGKILL None 9 False 5.879 asked 1764621240.002 2025\n\
         4260 signal 11 SIGSEGV core None 11 True 0.5 crash 1764621250.5 2025\n"
    );
}

#[test]
fn no_history_file_is_no_exit_yet() {
    let tmp = TempDir::new("history-none");
    let fake = Fake::new(tmp.path(), "web");
    let output = svc(["history".as_ref(), fake.dir.as_os_str()]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("no history file"),
        "{}",
        stderr(&output)
    );
    let output = svc(["history".as_ref(), "--json".as_ref(), fake.dir.as_os_str()]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "[]\n");
    // Not a status directory at all: the usual refusal.
    let output = svc(["history".as_ref(), tmp.path().join("nowhere").as_os_str()]);
    assert_exit(&output, 2);
}
