//! Services by NAME under a status root, and listing a whole root, against
//! fake supervises (quick; `scan.rs` does the same against supervise-scan).

use std::path::Path;
use std::process::Output;

use supervise::status::Want;

use crate::listing::json_field;
use crate::support::*;

/// `svc ARGS` run in `cwd`, with `$SUPERVISE_ROOT` set to `root` or unset.
fn svc_in(cwd: &Path, root: Option<&Path>, args: &[&str]) -> Output {
    let mut command = svc_command();
    command.current_dir(cwd).args(args);
    match root {
        Some(root) => command.env("SUPERVISE_ROOT", root),
        None => command.env_remove("SUPERVISE_ROOT"),
    };
    command.output().unwrap()
}

/// The table's rows (header dropped), each split into its cells.
fn table_rows(table: &str) -> Vec<Vec<String>> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("NAME  "), "{table}");
    lines
        .map(|line| line.split_whitespace().map(String::from).collect())
        .collect()
}

#[test]
fn a_root_lists_as_one_table_sorted_by_name() {
    let tmp = TempDir::new("roottable");
    let root = tmp.path();
    let mut web = Fake::new(root, "web");
    web.status.want = Want::Up;
    web.start_service();
    let _api = Fake::new(root, "api");
    let mut old = Fake::new(root, "old");
    old.die();
    // Not services: a hidden directory and a plain file.
    std::fs::create_dir(root.join("status/.cache")).unwrap();
    std::fs::write(root.join("status/README"), "x").unwrap();

    let output = svc_command().arg("status").arg(root).output().unwrap();
    assert_exit(&output, 4);
    let text = stdout(&output);
    let rows = table_rows(&text);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["api", "old", "web"], "{text}");
    assert_eq!(rows[0][1..3], ["down", "-"], "{text}");
    assert_eq!(rows[1][1..3], ["supervise-not-running", "-"], "{text}");
    assert_eq!(
        rows[2][1..3],
        ["up".to_string(), web.status.pid.to_string()]
    );
    assert_eq!(rows[2][4..], ["up", "on"], "{text}");
    // Aligned: every STATE cell starts where the header's does.
    let column = text.lines().next().unwrap().find("STATE").unwrap();
    for (line, row) in text.lines().skip(1).zip(&rows) {
        assert_eq!(line[column..].split(' ').next(), Some(row[1].as_str()));
    }
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    // The same from the root itself, from $SUPERVISE_ROOT, and from -d.
    let elsewhere = TempDir::new("rootcwd");
    for output in [
        svc_in(root, None, &["status"]),
        svc_in(elsewhere.path(), Some(root), &["status"]),
        svc_in(
            elsewhere.path(),
            None,
            &["-d", root.to_str().unwrap(), "status"],
        ),
        svc_in(
            elsewhere.path(),
            None,
            &["--root", root.to_str().unwrap(), "status"],
        ),
    ] {
        assert_exit(&output, 4);
        let listed: Vec<String> = table_rows(&stdout(&output))
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(listed, ["api", "old", "web"]);
    }
}

#[test]
fn a_root_lists_as_one_json_array() {
    let tmp = TempDir::new("rootjson");
    let mut web = Fake::new(tmp.path(), "web");
    web.status.want = Want::Up;
    web.start_service();
    let _api = Fake::new(tmp.path(), "api");
    let output = svc_in(tmp.path(), None, &["status", "--json"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!((lines[0], lines[3]), ("[", "]"), "{text}");
    let api = lines[1].trim().strip_suffix(',').expect("a comma between");
    let web_object = lines[2].trim();
    assert_eq!(json_field(api, "name"), "\"api\"");
    assert_eq!(json_field(api, "dir"), "\"status/api\"");
    assert_eq!(json_field(api, "state"), "\"down\"");
    assert_eq!(json_field(web_object, "state"), "\"up\"");
    assert_eq!(json_field(web_object, "pid"), web.status.pid.to_string());
}

#[test]
fn an_empty_root_is_a_header_or_an_empty_array() {
    let tmp = TempDir::new("rootempty");
    std::fs::create_dir(tmp.path().join("status")).unwrap();
    let output = svc_in(tmp.path(), None, &["status"]);
    assert_exit(&output, 0);
    assert_eq!(table_rows(&stdout(&output)).len(), 0);
    let output = svc_in(tmp.path(), None, &["status", "--json"]);
    assert_exit(&output, 0);
    assert_eq!(stdout(&output), "[]\n");
}

#[test]
fn no_root_is_refused_with_a_hint() {
    let tmp = TempDir::new("noroot");
    let output = svc_in(tmp.path(), None, &["status"]);
    assert_exit(&output, 2);
    assert!(stdout(&output).is_empty());
    assert!(
        stderr(&output).contains("svc: .: not a status root (no status/ directory in it)"),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("SUPERVISE_ROOT"));
    let missing = tmp.path().join("nowhere");
    let output = svc_in(tmp.path(), Some(&missing), &["status"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("no such directory"));
}

#[test]
fn names_are_found_under_the_root() {
    let tmp = TempDir::new("names");
    let root = tmp.path();
    let _web = Fake::new(root, "web");
    let elsewhere = TempDir::new("namescwd");
    // From the root: status/NAME.
    let output = svc_in(root, None, &["status", "web"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("status/web: down "),
        "{}",
        stdout(&output)
    );
    // From elsewhere, with -d or $SUPERVISE_ROOT: ROOT/status/NAME.
    let full = root.join("status/web");
    for output in [
        svc_in(elsewhere.path(), Some(root), &["status", "web"]),
        svc_in(
            elsewhere.path(),
            None,
            &["-d", root.to_str().unwrap(), "status", "web"],
        ),
    ] {
        assert_exit(&output, 0);
        assert!(
            stdout(&output).starts_with(&format!("{}: down ", full.display())),
            "{}",
            stdout(&output)
        );
    }
    // Not there: the error names the directory looked for.
    let output = svc_in(
        elsewhere.path(),
        None,
        &["-d", root.to_str().unwrap(), "stop", "nosuch"],
    );
    assert_exit(&output, 2);
    assert_eq!(
        stderr(&output),
        format!(
            "svc: {}: no such directory\n",
            root.join("status/nosuch").display()
        )
    );
}

#[test]
fn a_bare_status_directory_in_the_working_directory_still_works() {
    // As `cd /home/work/status && svc status redis` always did.
    let tmp = TempDir::new("bare");
    let _web = Fake::new(tmp.path(), "web");
    let status = tmp.path().join("status");
    let output = svc_in(&status, None, &["status", "web"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("web: down "),
        "{}",
        stdout(&output)
    );
    // Unless the root was given: then it is ROOT/status/web only.
    let output = svc_in(&status, None, &["-d", ".", "status", "web"]);
    assert_exit(&output, 2);
}

#[test]
fn verb_first_acts_on_each_name_in_order_and_exits_with_the_first_failure() {
    let tmp = TempDir::new("each");
    let mut a = Fake::new(tmp.path(), "a");
    a.status.want = Want::Up;
    a.start_service();
    let args = [
        "-d",
        tmp.path().to_str().unwrap(),
        "-w",
        "60",
        "stop",
        "nosuch",
        "a",
    ];
    let output = a.serve(&args, Fake::react);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("status/nosuch: no such directory"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).starts_with("a: stopped (pid "),
        "{}",
        stdout(&output)
    );
    assert_eq!(a.status.pid, 0);
}

#[test]
fn the_original_form_is_kept_for_a_status_directory_named_like_a_verb() {
    let tmp = TempDir::new("verbdir");
    // TMP/status/status is a status directory called `status`.
    let _fake = Fake::new(tmp.path(), "status");
    let inside = tmp.path().join("status");
    let output = svc_in(&inside, None, &["status", "status"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("showing status...\npid: 0\n"),
        "{}",
        stdout(&output)
    );
    // From TMP, `status` is the root's directory, not a status directory:
    // the verb comes first and `status` is a NAME.
    let output = svc_in(tmp.path(), None, &["status", "status"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("status/status: down "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn reload_without_a_scanner_is_refused() {
    let tmp = TempDir::new("noscan");
    std::fs::create_dir(tmp.path().join("status")).unwrap();
    let output = svc_in(tmp.path(), None, &["reload"]);
    assert_exit(&output, 4);
    assert!(
        stderr(&output)
            .contains("supervise-scan is not running here (there is no supervise-scan.lock)"),
        "{}",
        stderr(&output)
    );
    // A lock left by a scanner that is gone.
    std::fs::write(tmp.path().join("supervise-scan.lock"), "").unwrap();
    let output = svc_command()
        .arg("reload")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_exit(&output, 4);
    assert_eq!(
        stderr(&output),
        format!(
            "svc: {}: supervise-scan is not running here (nobody holds supervise-scan.lock)\n",
            tmp.path().display()
        )
    );
    let output = svc_command()
        .arg("-d")
        .arg(tmp.path().join("nowhere"))
        .arg("reload")
        .output()
        .unwrap();
    assert_exit(&output, 2);
}
