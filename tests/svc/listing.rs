//! `svc status DIR...`, human and `--json`, and the `od` one-liner the
//! original's users rely on.

use std::process::Command;

use supervise::status::Want;

use crate::support::*;

/// The value of `"key":` in a one-line JSON object, as raw text.
pub fn json_field<'a>(object: &'a str, key: &str) -> &'a str {
    let start = object
        .find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("no {key} in {object}"))
        + key.len()
        + 3;
    let rest = &object[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').unwrap() + 2
    } else {
        rest.find([',', '}']).unwrap()
    };
    &rest[..end]
}

/// What `od -An -j16 -N4 -tu4 DIR/status` prints, trimmed.
pub fn od_pid(dir: &std::path::Path) -> String {
    let output = Command::new("od")
        .args(["-An", "-j16", "-N4", "-tu4"])
        .arg(dir.join("status"))
        .output()
        .unwrap();
    assert!(output.status.success());
    stdout(&output).trim().to_string()
}

#[test]
fn human_lines_for_up_down_and_paused() {
    let tmp = TempDir::new("human");
    let mut up = Fake::new(tmp.path(), "up");
    up.status.want = Want::Up;
    up.start_service();
    let mut paused = Fake::new(tmp.path(), "paused");
    paused.status.want = Want::Up;
    paused.start_service();
    paused.status.paused = true;
    paused.status.alarms_on = false;
    paused.publish();
    let down = Fake::new(tmp.path(), "down");
    let output = svc_command()
        .arg("status")
        .args([&up.dir, &paused.dir, &down.dir])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let prefix = |dir: &std::path::Path| format!("{}: ", dir.display());
    assert!(
        lines[0].starts_with(&format!("{}up (pid {}) ", prefix(&up.dir), up.status.pid)),
        "{text}"
    );
    assert!(lines[0].ends_with(" seconds, want up, alarm on"), "{text}");
    assert!(
        lines[1].ends_with(" seconds, paused, want up, alarm off"),
        "{text}"
    );
    assert!(
        lines[2].starts_with(&format!("{}down ", prefix(&down.dir))),
        "{text}"
    );
    assert!(
        lines[2].ends_with(" seconds, want down, alarm on"),
        "{text}"
    );
}

#[test]
fn json_has_every_field_and_matches_od() {
    let tmp = TempDir::new("json");
    let mut fake = Fake::new(tmp.path(), "redis");
    fake.status.want = Want::Up;
    fake.start_service();
    let output = svc_command()
        .args(["status", "--json"])
        .arg(&fake.dir)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "one object per directory");
    let object = text.trim();
    assert_eq!(json_field(object, "name"), "\"redis\"");
    assert_eq!(json_field(object, "state"), "\"up\"");
    assert_eq!(json_field(object, "pid"), od_pid(&fake.dir));
    assert_eq!(json_field(object, "pid"), fake.status.pid.to_string());
    assert_eq!(json_field(object, "want"), "\"up\"");
    assert_eq!(json_field(object, "paused"), "false");
    assert_eq!(json_field(object, "alarm"), "true");
    assert_eq!(
        json_field(object, "supervise_pid"),
        std::process::id().to_string()
    );
    assert_eq!(json_field(object, "orphan"), "false");
    let since = json_field(object, "since");
    assert!(since.len() == 22 && since.ends_with("Z\""), "{since}");
    // Local time with its offset, from the C library's zone (no tzdata
    // needed for a POSIX TZ string).
    let output = svc_command()
        .args(["status", "--json"])
        .arg(&fake.dir)
        .env("TZ", "CST-8")
        .output()
        .unwrap();
    let since = json_field(stdout(&output).trim(), "since").to_string();
    assert!(since.len() == 27 && since.ends_with("+08:00\""), "{since}");
    let seconds: u64 = json_field(object, "seconds").parse().unwrap();
    assert!(seconds < 60);
}

#[test]
fn a_dead_supervise_is_reported_not_its_stale_status() {
    let tmp = TempDir::new("stale");
    let mut fake = Fake::new(tmp.path(), "web");
    fake.status.want = Want::Up;
    fake.start_service();
    let pid = fake.status.pid;
    fake.die();
    let output = svc_command().arg("status").arg(&fake.dir).output().unwrap();
    assert_exit(&output, 4);
    assert_eq!(
        stdout(&output),
        format!(
            "{}: supervise not running; pid {pid} from its stale status file is still alive, unsupervised\n",
            fake.dir.display()
        )
    );
    let output = svc_command()
        .args(["status", "--json"])
        .arg(&fake.dir)
        .output()
        .unwrap();
    assert_exit(&output, 4);
    let object = stdout(&output);
    assert_eq!(json_field(&object, "state"), "\"supervise-not-running\"");
    assert_eq!(json_field(&object, "orphan"), "true");
    assert_eq!(json_field(&object, "supervise_pid"), "null");
    // Once the service is gone too, the line says what the file last said.
    fake.stop_service();
    let output = svc_command().arg("status").arg(&fake.dir).output().unwrap();
    assert!(
        stdout(&output).contains("supervise not running; stale status file says down since "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn json_reports_errors_as_objects_too() {
    let tmp = TempDir::new("jsonerr");
    let output = svc_command()
        .args(["status", "--json"])
        .arg(tmp.path().join("nowhere"))
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let object = stdout(&output);
    assert_eq!(json_field(&object, "state"), "\"error\"");
    assert_eq!(json_field(&object, "code"), "2");
    assert_eq!(json_field(&object, "error"), "\"no such directory\"");
}

#[test]
fn original_form_with_json_lists_one_directory() {
    let tmp = TempDir::new("origjson");
    let fake = Fake::new(tmp.path(), "web");
    let output = svc_command()
        .arg(&fake.dir)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(json_field(&stdout(&output), "state"), "\"down\"");
}
