//! Reloads that cannot hurt (issue 13, points 1 and 2): a configuration is
//! applied whole or refused whole, an emptied file is refused unless it
//! says so, every load leaves its outcome in ROOT/supervise-scan.reload,
//! and `--check` tells what a reload would do without touching anything.

#[allow(unused_imports)]
mod scan_support;
mod support;

use scan_support::*;
use support::*;

const AB: &str =
    "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1001\n";

/// The pids of a's and b's services and supervise.
fn pids(scan: &Scan) -> Vec<u32> {
    vec![
        scan.service_pid("a"),
        scan.service_pid("b"),
        scan.supervise_pid("a"),
        scan.supervise_pid("b"),
    ]
}

#[test]
fn a_broken_reload_is_refused_and_every_service_left_as_it_runs() {
    let scan = Scan::start("scan-refuse", AB, &[]);
    let before = pids(&scan);
    assert!(scan.wait_generation(1).starts_with("1 applied\n"));
    let missing_dir = scan.dir.join("no-such-dir");
    let cases: Vec<(Option<String>, Vec<String>)> = vec![
        // Emptied by mistake.
        (
            Some(String::new()),
            vec!["s.conf: no service section (none has a `command`)".into()],
        ),
        // A typo in a header.
        (
            Some(
                "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 1000\n[b\ncommand : sleep 1001\n"
                    .into(),
            ),
            vec!["s.conf:5: malformed section header `[b`".into()],
        ),
        // One bad env line, and a section that lost its command.
        (
            Some(format!("{AB}env : =x\n[c]\nuser : nobody\n")),
            vec![
                "s.conf:7: [b]: env needs KEY=VALUE, not '=x'".into(),
                "s.conf:8: [c]: no command".into(),
            ],
        ),
        // A directory that is not there: named (issue 10 item 10).
        (
            Some(format!("{AB}directory : {}\n", missing_dir.display())),
            vec![format!(
                "s.conf:5: [b]: directory {}: No such file or directory",
                missing_dir.display()
            )],
        ),
        // The file itself gone.
        (
            None,
            vec!["s.conf: cannot read: No such file or directory".into()],
        ),
    ];
    let mut generation = 1;
    for (text, errors) in cases {
        match &text {
            Some(text) => scan.conf(text),
            None => std::fs::remove_file(scan.dir.join("s.conf")).unwrap(),
        }
        let report = scan.reload();
        generation += 1;
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], format!("{generation} refused"), "{report}");
        assert_eq!(lines[1], format!("pid {}", scan.pid()), "{report}");
        assert_eq!(lines.len(), 2 + errors.len(), "{report}");
        for (line, error) in lines[2..].iter().zip(&errors) {
            assert!(
                line.ends_with(error.as_str()) || line.contains(&format!("/{error}")),
                "expected {error:?} in {line:?}"
            );
        }
        scan.wait_err_count("reload refused", generation as usize - 1);
        assert_eq!(pids(&scan), before, "after {text:?}:\n{}", scan.err());
    }
    let err = scan.err();
    assert!(!err.contains("section removed"), "{err}");
    assert!(!err.contains("stopping"), "{err}");
    // A good file is applied again.
    scan.conf(&format!("{AB}[c]\ncommand : sleep 1002\n"));
    let report = scan.reload();
    assert_eq!(
        report,
        format!("{} applied\npid {}\nstart c\n", generation + 1, scan.pid())
    );
    scan.service_pid("c");
    assert_eq!(pids(&scan), before);
}

#[test]
fn an_empty_file_is_applied_only_with_the_marker() {
    let scan = Scan::start("scan-empty", AB, &[]);
    let before = pids(&scan);
    scan.conf("# supervise-scan: no services\n");
    let report = scan.reload();
    assert_eq!(
        report,
        format!("2 applied\npid {}\nstop a\nstop b\n", scan.pid())
    );
    wait_until("both services and supervise are gone", || {
        before.iter().all(|pid| !alive(*pid))
    });
    // And back.
    scan.conf(AB);
    assert!(scan.reload().starts_with("3 applied\n"));
    scan.service_pid("a");
    scan.service_pid("b");
}

#[test]
fn the_reload_file_says_what_each_load_did_and_the_applied_file_is_kept() {
    let conf = "[global]\nstop_timeout : 2\n[keep]\ncommand : sleep 1000\n[gone]\ncommand : sleep 1001\n\
                [cmd]\ncommand : sleep 1002\n[limits]\ncommand : sleep 1003\nmax_tries : 3\n";
    let scan = Scan::start("scan-report", conf, &[]);
    let report = scan.wait_generation(1);
    assert_eq!(
        report,
        format!(
            "1 applied\npid {}\nstart keep\nstart gone\nstart cmd\nstart limits\n",
            scan.pid()
        )
    );
    let applied = scan.dir.join("root/supervise-scan.applied");
    assert_eq!(std::fs::read_to_string(&applied).unwrap(), conf);
    let keep = scan.service_pid("keep");
    for name in ["gone", "cmd", "limits"] {
        scan.service_pid(name);
    }
    let changed = "[global]\nstop_timeout : 2\n[keep]\ncommand : sleep 1000\n[cmd]\ncommand : sleep 1012\n\
                   [limits]\ncommand : sleep 1003\nmax_tries : 4\nbogus : 1\n[new]\ncommand : sleep 1004\n";
    scan.conf(changed);
    let report = scan.reload();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "2 applied".to_string(),
            format!("pid {}", scan.pid()),
            "restart cmd: command changed".into(),
            "reread limits".into(),
            "start new".into(),
            "stop gone".into(),
        ],
        "{report}"
    );
    assert_eq!(lines.len(), 7, "{report}");
    assert!(
        lines[6].ends_with("s.conf:10: warning: unknown key `bogus`: line ignored"),
        "{report}"
    );
    assert_eq!(std::fs::read_to_string(&applied).unwrap(), changed);
    // Refused: the record stays what was applied.
    scan.conf("[keep\n");
    assert!(scan.reload().starts_with("3 refused\n"));
    assert_eq!(std::fs::read_to_string(&applied).unwrap(), changed);
    assert_eq!(scan.service_pid("keep"), keep);
}

#[test]
fn a_first_configuration_with_errors_is_refused_and_the_scanner_exits_111() {
    let mut scan = Scan::start(
        "scan-first-refused",
        "[a]\ncommand : sleep 1000\n[nocmd]\ndirectory : /tmp\n[a]\ncommand : true\n\
         [bad$name]\ncommand : true\n[legacy]\nmax_tries : 3\n[b]\ncommand : sleep 1001\n",
        &[],
    );
    let status = scan.wait_exit(std::time::Duration::from_secs(20));
    assert_eq!(status.code(), Some(111), "{}", scan.err());
    let err = scan.err();
    for line in [
        "s.conf:3: [nocmd]: no command",
        "s.conf:5: [a]: duplicate of the section on line 1",
        "s.conf:7: [bad$name]: not a safe directory name",
        "configuration refused (3 errors); nothing runs, so exiting",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    assert!(!err.contains("supervise started"), "{err}");
    assert!(scan.reload_file().starts_with("1 refused\n"));
    assert!(!scan.dir.join("root/status/a").exists());
}

#[test]
fn check_validates_and_tells_what_a_reload_would_do_without_touching_anything() {
    let scan = Scan::start("scan-check", AB, &[]);
    let before = pids(&scan);
    scan.wait_generation(1);
    let dir = scan.dir.path();
    let check = |conf: &str, with_root: bool| {
        std::fs::write(dir.join("new.conf"), conf).unwrap();
        let mut args = vec!["--check", "-F", "new.conf"];
        if with_root {
            args.extend(["-d", "root"]);
        }
        let output = run_scan(dir, &args);
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    // Valid, alone: exit 0.
    let (code, out) = check(AB, false);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.ends_with("new.conf: valid, 2 services\n"), "{out}");
    // Against the running scanner.
    let changed = "[global]\nstop_timeout : 2\n[a]\ncommand : sleep 2000\n[c]\ncommand : sleep 1002\nmax_tries : 2\n";
    let (code, out) = check(changed, true);
    assert_eq!(code, Some(0), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        ["restart a: command changed", "start c", "stop b"],
        "{out}"
    );
    let (code, out) = check(AB, true);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with(&format!(
            "a reload of supervise-scan (pid {}) would change nothing\n",
            scan.pid()
        )),
        "{out}"
    );
    // Errors: exit 1, each with its line.
    let (code, out) = check("[a]\ncommand : sleep 1\nenv : nope\n[b\n", true);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with("new.conf:3: [a]: env needs KEY=VALUE, not 'nope'"),
        "{out}"
    );
    assert!(lines[1].ends_with("new.conf:4: malformed section header `[b`: no closing `]`; it ends the section above and starts none"), "{out}");
    assert!(
        lines[2].contains("would keep every service as it runs"),
        "{out}"
    );
    assert!(
        lines[3].ends_with("new.conf: a reload would be refused (2 errors)"),
        "{out}"
    );
    // Nothing was touched: no reload happened, nothing restarted.
    assert_eq!(generation_of(&scan.reload_file()), 1);
    assert_eq!(pids(&scan), before);
    // No scanner on that root.
    std::fs::create_dir_all(dir.join("other")).unwrap();
    let output = run_scan(dir, &["--check", "-F", "new.conf", "-d", "other"]);
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("no supervise-scan runs on"), "{out}");
}

#[test]
fn check_counts_a_supervise_that_exited_on_purpose_as_a_start() {
    let scan = Scan::start("scan-check-revive", AB, &[]);
    scan.service_pid("b");
    let sup = scan.supervise_pid("b");
    std::fs::write(scan.status_dir("b").join("control"), "dx").unwrap();
    scan.wait_err("b: supervise exited (exit code 0); not restarted until the next reload");
    wait_until("b's supervise is gone", || !alive(sup));
    let output = run_scan(scan.dir.path(), &["--check", "-F", "s.conf", "-d", "root"]);
    assert_eq!(output.status.code(), Some(0));
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.starts_with("start b\n"), "{out}");
    // And a reload does start it.
    assert_eq!(
        scan.reload(),
        format!("2 applied\npid {}\nstart b\n", scan.pid())
    );
    assert_ne!(scan.nth_supervise_pid("b", 2), sup);
}
