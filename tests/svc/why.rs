//! What `info` adds (docs/status-files.md), against the fake supervise,
//! which writes `info` by hand as supervise will: `svc status` says why
//! (the state word, the last exit, the restarts, the back-off, the give-up
//! rule, the STATUS= text) in the line, the table, JSON and the original
//! form; `svc start` in a back-off says so at once; `svc restart` in a
//! back-off starts at once; start and restart wait for ready when the
//! service declares readiness; `svc wait` and `svc -w ready`.

use std::process::Output;
use std::time::Duration;

use supervise::info::{Cause, Info, Readiness, State};
use supervise::status::Want;
use supervise::supervisor::Exit;

use crate::listing::json_field;
use crate::support::*;

/// A crash-looping service between two starts: down, wanted up, its
/// supervise backing off for `left`.
fn backing_off(fake: &mut Fake, left: Duration) -> Info {
    fake.status.want = Want::Up;
    fake.status.pid = 0;
    fake.publish();
    let info = Info {
        state: State::Backoff,
        last_exit: Some(Exit::Code(3)),
        last_exit_time: Some(now() - Duration::from_secs(1)),
        last_run: Some(Duration::from_millis(12)),
        last_exit_cause: Some(Cause::Crash),
        restarts_total: 12,
        restarts_window: 5,
        next_start: Some(now() + left),
        backoff: left,
        ..fake.info_now(State::Backoff, Readiness::None)
    };
    fake.write_info(&info);
    info
}

fn gave_up() -> Info {
    Info {
        state: State::GaveUp,
        last_exit: Some(Exit::Signal {
            signal: 11,
            core: true,
        }),
        last_exit_cause: Some(Cause::Crash),
        restarts_window: 11,
        restarts_total: 11,
        gave_up: "11 exits in 60 s > max_tries 10".into(),
        ..Info::default()
    }
}

fn root_arg(tmp: &TempDir) -> String {
    tmp.path().display().to_string()
}

#[test]
fn status_says_why_a_service_is_down_in_every_view() {
    let tmp = TempDir::new("why-views");
    let mut web = Fake::new(tmp.path(), "web");
    backing_off(&mut web, Duration::from_secs(30));
    let mut api = Fake::new(tmp.path(), "api");
    api.status.want = Want::Up;
    api.start_service();
    api.write_info(&Info {
        status_text: "serving 12 requests".into(),
        ..api.info_now(State::Ready, Readiness::Systemd)
    });
    let root = root_arg(&tmp);

    // The one-line form: today's words, then the facts.
    let output = svc(["-d", &root, "status", "web", "api"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let web: Vec<&str> = lines[0].split("; ").collect();
    assert!(web[0].contains("/status/web: down "), "{text}");
    assert!(web[0].ends_with(" seconds, want up, alarm on"), "{text}");
    assert!(web[1].starts_with("backing off, next start in "), "{text}");
    assert!(web[2].starts_with("last exit: exit 3 (crash), "), "{text}");
    assert!(web[2].ends_with(" s ago, ran 0.012 s"), "{text}");
    assert_eq!(web[3..], ["restarts: 5 in window, 12 total"], "{text}");
    let api: Vec<&str> = lines[1].split("; ").collect();
    assert!(api[0].ends_with(", want up, alarm on"), "{text}");
    assert_eq!(api[1..], ["ready", "status: serving 12 requests"], "{text}");

    // The table: the state word, the rest in NOTE.
    let output = svc(["-d", &root, "status"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[1][..2], ["api", "ready"], "{text}");
    assert_eq!(rows[2][..3], ["web", "backoff", "-"], "{text}");
    let web_row = text.lines().nth(2).unwrap();
    let note: Vec<&str> = web_row
        .split("  ")
        .last()
        .unwrap()
        .trim()
        .split("; ")
        .collect();
    assert!(note[0].starts_with("next start in "), "{text}");
    assert!(note[1].starts_with("last exit: exit 3 (crash), "), "{text}");
    assert_eq!(note[2..], ["restarts: 5 in window, 12 total"], "{text}");

    // JSON: today's fields, then info's.
    let output = svc(["-d", &root, "status", "--json", "web"]);
    assert_exit(&output, 0);
    let object = stdout(&output);
    assert!(object.contains("\"state\":\"down\",\"pid\":0,"), "{object}");
    for (key, value) in [
        ("service_state", "\"backoff\""),
        ("readiness", "\"none\""),
        ("ready", "false"),
        ("last_exit", "\"exit 3\""),
        ("last_exit_code", "3"),
        ("last_exit_signal", "null"),
        ("last_exit_core", "false"),
        ("last_run_seconds", "0.012"),
        ("last_exit_cause", "\"crash\""),
        ("restarts_window", "5"),
        ("restarts_total", "12"),
        ("gave_up", "null"),
        ("status_text", "null"),
    ] {
        assert_eq!(json_field(&object, key), value, "{key} in {object}");
    }
    let next_in: f64 = json_field(&object, "next_start_in").parse().unwrap();
    assert!(next_in > 20.0 && next_in <= 30.0, "{object}");
    assert!(
        json_field(&object, "next_start").starts_with("\"20"),
        "{object}"
    );
    assert!(
        json_field(&object, "last_exit_time").starts_with("\"20"),
        "{object}"
    );
    let output = svc(["-d", &root, "status", "--json", "api"]);
    let object = stdout(&output);
    assert_eq!(json_field(&object, "service_state"), "\"ready\"");
    assert_eq!(json_field(&object, "ready"), "true");
    assert_eq!(
        json_field(&object, "status_text"),
        "\"serving 12 requests\""
    );
}

#[test]
fn the_original_status_keeps_its_lines_and_adds_the_facts() {
    let tmp = TempDir::new("why-original");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.start_service();
    let without = svc([fake.dir.as_os_str(), "status".as_ref()]);
    assert_exit(&without, 0);
    fake.write_info(&Info {
        status_text: "warming up".into(),
        restarts_total: 2,
        restarts_window: 1,
        last_exit: Some(Exit::Signal {
            signal: 9,
            core: false,
        }),
        last_exit_cause: Some(Cause::Crash),
        ..fake.info_now(State::Starting, Readiness::NotificationFd)
    });
    let with = svc([fake.dir.as_os_str(), "status".as_ref()]);
    assert_exit(&with, 0);
    let (without, with) = (stdout(&without), stdout(&with));
    // The lines of before, unchanged (seconds aside), first.
    let before: Vec<&str> = without.lines().collect();
    let after: Vec<&str> = with.lines().collect();
    assert_eq!(before.len(), 6, "{without}");
    assert_eq!(after[..4], before[..4], "{with}");
    assert!(after[4].starts_with("state: up (pid "), "{with}");
    assert!(!after[4].contains(';'), "{with}");
    assert_eq!(after[5], before[5], "{with}");
    assert_eq!(
        after[6..],
        [
            "service: starting",
            "last exit: signal 9 SIGKILL (crash)",
            "restarts: 1 in window, 2 total",
            "status: warming up",
        ],
        "{with}"
    );
}

#[test]
fn a_supervise_that_gave_up_says_why() {
    let tmp = TempDir::new("why-gaveup");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.write_info(&gave_up());
    fake.die();
    let root = root_arg(&tmp);
    let output = svc(["-d", &root, "status", "web"]);
    assert_exit(&output, 4);
    let text = stdout(&output);
    assert!(
        text.contains(
            "; gave up: 11 exits in 60 s > max_tries 10; last exit: signal 11 SIGSEGV core (crash); \
             restarts: 11 in window, 11 total"
        ),
        "{text}"
    );
    let output = svc(["-d", &root, "status"]);
    assert_exit(&output, 4);
    let text = stdout(&output);
    let row = text.lines().nth(1).unwrap();
    assert!(row.starts_with("web   gave-up  -  "), "{text}");
    assert!(
        row.contains("gave up: 11 exits in 60 s > max_tries 10"),
        "{text}"
    );
    // Both forms of start say it too.
    for args in [
        vec![fake.dir.display().to_string(), "start".into()],
        vec!["-d".into(), root.clone(), "start".into(), "web".into()],
    ] {
        let output = svc(&args);
        assert_exit(&output, 4);
        assert!(
            stderr(&output).contains(
                "supervise is not running (nobody reads the ok FIFO); gave up: 11 exits in 60 s \
                 > max_tries 10; last exit"
            ),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn start_in_a_back_off_says_so_at_once() {
    let tmp = TempDir::new("why-start-backoff");
    let mut fake = Fake::new(tmp.path(), "web");
    backing_off(&mut fake, Duration::from_secs(30));
    let dir = fake.dir.clone();
    for args in [
        vec![dir.display().to_string(), "start".into()],
        vec!["start".into(), dir.display().to_string()],
    ] {
        let output = fake.serve(&args, Fake::react);
        assert_exit(&output, 13);
        let message = stderr(&output);
        assert!(
            message
                .contains("service web is backing off after a crash (last exit: exit 3 (crash), "),
            "{message}"
        );
        assert!(
            message.contains(" s ago, ran 0.012 s), next start in "),
            "{message}"
        );
        assert!(
            message.contains("svc restart starts it at once"),
            "{message}"
        );
    }
    assert_eq!(fake.received, b"", "start sends nothing in a back-off");
}

#[test]
fn start_that_ends_in_a_back_off_says_so_at_once() {
    let tmp = TempDir::new("why-start-crash");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.write_info(&fake.info_now(State::Down, Readiness::None));
    let dir = fake.dir.clone();
    // This service fails at once: supervise backs off instead of starting.
    let output = fake.serve(&[dir.as_os_str(), "start".as_ref()], |fake, byte| {
        if byte == b'u' {
            backing_off(fake, Duration::from_secs(30));
        }
    });
    assert_exit(&output, 13);
    assert!(
        stderr(&output).contains("next start in "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn restart_in_a_back_off_starts_at_once() {
    let tmp = TempDir::new("why-restart-backoff");
    let mut fake = Fake::new(tmp.path(), "web");
    backing_off(&mut fake, Duration::from_secs(30));
    let dir = fake.dir.clone();
    let output = fake.serve(&["restart".as_ref(), dir.as_os_str()], |fake, byte| {
        fake.react(byte);
        if byte == b'u' {
            fake.write_info(&fake.info_now(State::Ready, Readiness::None));
        }
    });
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"u");
    assert_eq!(
        stdout(&output),
        format!(
            "web: restarted at once from its back-off, pid {}\n",
            fake.status.pid
        )
    );
}

/// Runs svc ARGS while the fake supervise starts the service on `u`
/// with `info` saying `starting`, then, if `ready`, `ready`; returns svc's
/// output.
fn serve_until_ready(fake: &mut Fake, args: &[&str], readiness: Readiness, ready: bool) -> Output {
    let mut started = false;
    serve_svc(spawn_svc(args), || {
        for byte in fake.read_control() {
            if byte == b'd' {
                fake.stop_service();
            }
            if byte == b'u' {
                fake.status.want = Want::Up;
                fake.start_service();
                fake.write_info(&fake.info_now(State::Starting, readiness));
                started = true;
            }
        }
        if started && ready {
            fake.write_info(&fake.info_now(State::Ready, readiness));
            started = false;
        }
    })
}

#[test]
fn start_and_restart_wait_for_a_service_that_declares_readiness() {
    let tmp = TempDir::new("why-start-ready");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.write_info(&fake.info_now(State::Down, Readiness::Systemd));
    let dir = fake.dir.display().to_string();
    let output = serve_until_ready(&mut fake, &[&dir, "start"], Readiness::Systemd, true);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("web: started and ready, pid {}\n", fake.status.pid)
    );
    let old = fake.status.pid;
    let output = serve_until_ready(&mut fake, &["restart", &dir], Readiness::Systemd, true);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!(
            "web: restarted and ready, pid {old} -> {}\n",
            fake.status.pid
        )
    );
}

#[test]
fn start_of_a_service_that_never_gets_ready_exits_14() {
    let tmp = TempDir::new("why-start-notready");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.write_info(&fake.info_now(State::Down, Readiness::Check));
    let dir = fake.dir.display().to_string();
    let output = serve_until_ready(
        &mut fake,
        &["-w", "0.5", &dir, "start"],
        Readiness::Check,
        false,
    );
    assert_exit(&output, 14);
    let message = stderr(&output);
    assert!(
        message.contains(
            "timed out after 0.5s waiting for: up, ready if it declares readiness, want up"
        ),
        "{message}"
    );
    assert!(message.contains("; starting"), "{message}");
}

#[test]
fn start_of_a_service_still_starting_is_already_up_and_says_so() {
    let tmp = TempDir::new("why-start-starting");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.start_service();
    fake.write_info(&fake.info_now(State::Starting, Readiness::Systemd));
    let dir = fake.dir.clone();
    let output = fake.serve(&["start".as_ref(), dir.as_os_str()], Fake::react);
    assert_exit(&output, 7);
    assert!(
        stderr(&output).contains("nothing done; it is not ready yet (svc wait ready waits for it)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fake.received, b"");
}

#[test]
fn start_of_a_service_that_declares_no_readiness_waits_for_up_as_before() {
    let tmp = TempDir::new("why-start-noready");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.write_info(&fake.info_now(State::Down, Readiness::None));
    let dir = fake.dir.display().to_string();
    // info says starting, but the service declares nothing: up is enough.
    let output = serve_until_ready(&mut fake, &[&dir, "start"], Readiness::None, false);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("web: started, pid {}\n", fake.status.pid)
    );
}

#[test]
fn wait_ready_up_and_down() {
    let tmp = TempDir::new("why-wait");
    let root = root_arg(&tmp);
    let mut web = Fake::new(tmp.path(), "web");
    web.status.want = Want::Up;
    web.start_service();
    web.write_info(&web.info_now(State::Starting, Readiness::Systemd));
    let _down = Fake::new(tmp.path(), "down");
    let mut plain = Fake::new(tmp.path(), "plain");
    plain.status.want = Want::Up;
    plain.start_service();

    // Running but not ready: its own code, in both spellings.
    let output = svc(["-d", &root, "-w", "0.3", "wait", "ready", "web"]);
    assert_exit(&output, 14);
    assert!(
        stderr(&output).contains("waiting for: up, ready; now: up (pid "),
        "{}",
        stderr(&output)
    );
    let output = svc([
        "-w".as_ref(),
        "ready".as_ref(),
        "-w".as_ref(),
        "0.3".as_ref(),
        web.dir.as_os_str(),
    ]);
    assert_exit(&output, 14);
    // Not even up: the timeout code.
    let output = svc(["-d", &root, "-w", "0.3", "wait", "ready", "down"]);
    assert_exit(&output, 9);
    let output = svc(["-d", &root, "-w", "0.3", "wait", "up", "down"]);
    assert_exit(&output, 9);

    // Up is up; without info, up is ready; down is down.
    let output = svc(["-d", &root, "wait", "up", "web", "plain"]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "");
    let output = svc(["-d", &root, "wait", "ready", "plain"]);
    assert_exit(&output, 0);
    let output = svc(["-d", &root, "wait", "down", "down"]);
    assert_exit(&output, 0);

    // Ready once info says so.
    web.write_info(&web.info_now(State::Ready, Readiness::Systemd));
    let output = svc(["-d", &root, "wait", "ready", "web", "plain"]);
    assert_exit(&output, 0);
    let output = svc([
        "-w".as_ref(),
        "ready".as_ref(),
        web.dir.as_os_str(),
        plain.dir.as_os_str(),
    ]);
    assert_exit(&output, 0);
    // info about an earlier run of another pid tells nothing of this one.
    web.write_info(&Info {
        pid: web.status.pid + 1,
        ..web.info_now(State::Ready, Readiness::Systemd)
    });
    let output = svc(["-d", &root, "-w", "0.3", "wait", "ready", "web"]);
    assert_exit(&output, 14);
}

#[test]
fn info_of_a_supervise_that_is_gone_is_not_believed() {
    let tmp = TempDir::new("why-stale");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.start_service();
    // Written by a supervise that has exited since (an earlier one).
    let gone = Service::shell("exit 0");
    let gone_pid = gone.pid();
    drop(gone);
    wait_until("the earlier supervise to be gone", || !alive(gone_pid));
    fake.write_info(&Info {
        supervise_pid: gone_pid,
        ..fake.info_now(State::Starting, Readiness::Systemd)
    });
    let root = root_arg(&tmp);
    let output = svc(["-d", &root, "wait", "ready", "web"]);
    assert_exit(&output, 0);
    let output = svc(["-d", &root, "status"]);
    assert_exit(&output, 0);
    let row = stdout(&output).lines().nth(1).unwrap().to_string();
    assert!(row.starts_with("web   up  "), "{row}");
}

#[test]
fn a_back_off_told_by_a_supervise_that_is_gone_does_not_stop_a_start() {
    let tmp = TempDir::new("why-stale-backoff");
    let mut fake = Fake::new(tmp.path(), "web");
    backing_off(&mut fake, Duration::from_secs(30));
    // That info was written by an earlier supervise, gone since; the one
    // that runs now (the original, say) writes none.
    let gone = Service::shell("exit 0");
    let gone_pid = gone.pid();
    drop(gone);
    wait_until("the earlier supervise to be gone", || !alive(gone_pid));
    let stale = Info {
        supervise_pid: gone_pid,
        ..Info::parse(&std::fs::read_to_string(fake.dir.join("info")).unwrap())
    };
    fake.write_info(&stale);
    let dir = fake.dir.clone();
    let output = fake.serve(&[dir.as_os_str(), "start".as_ref()], Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"u");
}

#[test]
fn garbage_in_info_or_history_is_read_as_nothing() {
    let tmp = TempDir::new("why-garbage");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.start_service();
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::write(fake.dir.join("info"), &garbage).unwrap();
    std::fs::write(fake.dir.join("history"), &garbage).unwrap();
    let root = root_arg(&tmp);
    let output = svc(["-d", &root, "status", "web"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).ends_with(", want up, alarm on\n"),
        "{}",
        stdout(&output)
    );
    let output = svc(["-d", &root, "status", "--json"]);
    assert_exit(&output, 0);
    assert!(
        !stdout(&output).contains("service_state"),
        "{}",
        stdout(&output)
    );
    let output = svc(["-d", &root, "history", "web"]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "");
    let output = svc(["-d", &root, "metrics"]);
    assert_exit(&output, 0);
    assert!(
        !stdout(&output).contains("supervise_restarts_total"),
        "{}",
        stdout(&output)
    );
    let output = svc(["-d", &root, "wait", "ready", "web"]);
    assert_exit(&output, 0);
}
