//! Every refusal of `svc`, each with its exit code, on status directories
//! crafted by hand (no supervise needed) or served by the fake.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

#[test]
fn usage_errors_exit_1_with_the_usage_on_stderr() {
    // Fewer than two arguments print it on stdout (original.rs).
    for args in [
        vec!["dir", "bogus"],
        vec!["dir", "alarm"],
        vec!["dir", "alarm", "loud"],
        vec!["-q", "dir"],
        vec!["-w", "soon", "dir", "stop"],
        vec!["stop", "-w"],
        vec!["reload", "a", "b"],
        vec!["-d", "--json"],
    ] {
        let output = svc(&args);
        assert_exit(&output, 1);
        assert!(stderr(&output).contains("\nUsage: svc"), "{args:?}");
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for flag in ["--help", "-h"] {
        let output = svc([flag]);
        assert_exit(&output, 0);
        let text = stdout(&output);
        assert!(text.contains("\nExit codes"), "{text}");
        for code in [
            "    4      4  supervise is not running",
            "    8      4  permission denied",
            "    9      9  the -w deadline",
        ] {
            assert!(text.contains(code), "{text}");
        }
    }
    let output = svc(["--version"]);
    assert_exit(&output, 0);
    assert!(stdout(&output).starts_with("svc (supervise) "));
}

#[test]
fn missing_directory_or_plain_file_is_not_a_status_directory() {
    let tmp = TempDir::new("notdir");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    for dir in [tmp.path().join("nowhere"), file] {
        for args in [vec!["stop"], vec!["status"]] {
            let output = svc_command().arg(&dir).args(&args).output().unwrap();
            assert_exit(&output, 2);
            assert!(stderr(&output).starts_with(&format!("svc: {}: ", dir.display())));
        }
        assert_exit(&svc_command().arg("-d").arg(&dir).output().unwrap(), 2);
    }
}

#[test]
fn empty_directory_is_not_a_status_directory() {
    // In the original form it is 4, as the script's (original.rs).
    let tmp = TempDir::new("emptydir");
    let output = svc_command().arg("start").arg(tmp.path()).output().unwrap();
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("not a status directory"));
}

#[test]
fn ok_without_reader_means_supervise_is_not_running() {
    let tmp = TempDir::new("noreader");
    let dir = tmp.path().join("status/x");
    std::fs::create_dir_all(&dir).unwrap();
    make_fifo(&dir.join("ok"));
    make_fifo(&dir.join("control"));
    std::fs::write(dir.join("status"), [0u8; 20]).unwrap();
    for verb in ["start", "stop", "restart", "status", "reconf", "exit"] {
        let output = svc_command().arg(&dir).arg(verb).output().unwrap();
        assert_exit(&output, 4);
        assert!(
            stderr(&output).contains("supervise is not running (nobody reads the ok FIFO)"),
            "{verb}: {}",
            stderr(&output)
        );
    }
    // daemontools form: the control FIFO has no reader either.
    let output = svc_command().arg("-u").arg(&dir).output().unwrap();
    assert_exit(&output, 4);
}

#[test]
fn missing_ok_means_supervise_is_not_running() {
    let tmp = TempDir::new("nook");
    let dir = tmp.path().join("status/x");
    std::fs::create_dir_all(&dir).unwrap();
    make_fifo(&dir.join("control"));
    let output = svc_command().arg(&dir).arg("stop").output().unwrap();
    assert_exit(&output, 4);
    assert!(stderr(&output).contains("no ok FIFO"));
}

#[test]
fn missing_empty_or_short_status_exits_5() {
    let tmp = TempDir::new("nostatus");
    let fake = Fake::new(tmp.path(), "x");
    for content in [None, Some(&[][..]), Some(&[1u8; 7][..])] {
        let path = fake.dir.join("status");
        match content {
            None => std::fs::remove_file(&path).unwrap(),
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
        }
        let output = svc_command().arg(&fake.dir).arg("stop").output().unwrap();
        assert_exit(&output, 5);
        let text = stderr(&output);
        assert!(
            text.contains("no status file") || text.contains("empty") || text.contains("7 bytes"),
            "{text}"
        );
    }
}

#[test]
fn missing_control_or_control_not_a_fifo_exits_6() {
    let tmp = TempDir::new("nocontrol");
    let fake = Fake::new(tmp.path(), "x");
    let control = fake.dir.join("control");
    // `status` checks control too, as the original script does.
    for (control_file, says) in [(false, "no control FIFO"), (true, "control is not a FIFO")] {
        if control_file {
            std::fs::write(&control, "").unwrap();
        } else {
            std::fs::remove_file(&control).unwrap();
        }
        for verb in ["start", "status"] {
            let output = svc_command().arg(&fake.dir).arg(verb).output().unwrap();
            assert_exit(&output, 6);
            assert!(
                stderr(&output).contains(says),
                "{verb}: {}",
                stderr(&output)
            );
        }
    }
    let output = svc_command().arg("-u").arg(&fake.dir).output().unwrap();
    assert_exit(&output, 6);
    // The listing only reads the status file.
    let output = svc_command().arg("status").arg(&fake.dir).output().unwrap();
    assert_exit(&output, 0);
}

#[test]
fn another_user_may_not_control_the_service() {
    let tmp = TempDir::new("perm");
    let fake = Fake::new(tmp.path(), "x");
    // The temp dirs are 0755: nobody can look inside but not open the 0600 FIFOs.
    let Some(output) = svc_as_nobody(["stop".as_ref(), fake.dir.as_os_str()]) else {
        return;
    };
    assert_exit(&output, 8);
    assert!(
        stderr(&output).contains("permission denied"),
        "{}",
        stderr(&output)
    );
    let output = svc_as_nobody(["-d".as_ref(), fake.dir.as_os_str()]).unwrap();
    assert_exit(&output, 8);
    // Reading the status needs no write permission: lock tells supervise lives.
    let output = svc_as_nobody(["status".as_ref(), fake.dir.as_os_str()]).unwrap();
    assert_exit(&output, 0);
    assert!(stdout(&output).contains(": down "), "{}", stdout(&output));
    // Once supervise is gone, nobody holds the lock: it is reported dead.
    let mut fake = fake;
    fake.die();
    let output = svc_as_nobody(["status".as_ref(), fake.dir.as_os_str()]).unwrap();
    assert_exit(&output, 4);
    assert!(
        stdout(&output).contains("supervise not running"),
        "{}",
        stdout(&output)
    );
    let output = svc_as_nobody([fake.dir.as_os_str(), "stop".as_ref()]).unwrap();
    assert_exit(&output, 4);
    assert!(
        stderr(&output).contains("nobody holds its lock"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_directory_we_cannot_enter_exits_3() {
    let tmp = TempDir::new("inaccessible");
    let fake = Fake::new(tmp.path(), "x");
    std::fs::set_permissions(&fake.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let Some(output) = svc_as_nobody([fake.dir.as_os_str(), "status".as_ref()]) else {
        return;
    };
    assert_exit(&output, 3);
    assert!(
        stderr(&output).contains("cannot look inside"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn nothing_to_do_exits_7_and_sends_nothing() {
    let tmp = TempDir::new("already");
    let mut fake = Fake::new(tmp.path(), "x");
    let dir = fake.dir.clone();
    // Down and wanted down: stop and restart have nothing to do.
    for verb in ["stop", "restart"] {
        let output = fake.serve(&[dir.as_os_str(), verb.as_ref()], Fake::react);
        assert_exit(&output, 7);
    }
    // Alarms are on: alarm on has nothing to do.
    let output = fake.serve(
        &[dir.as_os_str(), "alarm".as_ref(), "on".as_ref()],
        Fake::react,
    );
    assert_exit(&output, 7);
    assert!(stderr(&output).contains("already on"));
    // Up and wanted up: start has nothing to do (6, as the original's).
    fake.status.want = supervise::status::Want::Up;
    fake.start_service();
    let output = fake.serve(&[dir.as_os_str(), "start".as_ref()], Fake::react);
    assert_exit(&output, 6);
    assert!(
        stderr(&output).contains("already up"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fake.received, b"", "nothing may be sent");
}

#[test]
fn status_listing_exit_code_is_the_first_failure() {
    let tmp = TempDir::new("listcodes");
    let live = Fake::new(tmp.path(), "live");
    let mut dead = Fake::new(tmp.path(), "dead");
    dead.die();
    let output = svc_command()
        .arg("status")
        .arg(&live.dir)
        .arg(tmp.path().join("nowhere"))
        .arg(&dead.dir)
        .output()
        .unwrap();
    assert_exit(&output, 2);
    let lines: Vec<String> = stdout(&output).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].ends_with("nowhere: no such directory"),
        "{lines:?}"
    );
    let output = svc_command()
        .arg("status")
        .arg(&live.dir)
        .arg(&dead.dir)
        .output()
        .unwrap();
    assert_exit(&output, 4);
    let output = svc_command().arg("status").arg(&live.dir).output().unwrap();
    assert_exit(&output, 0);
}

#[test]
fn a_path_through_a_plain_file_is_not_a_directory_in_every_form() {
    // ENOTDIR, not ENOENT: a component of the path is a plain file.
    let tmp = TempDir::new("enotdir");
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let path = file.join("x");
    let shown = path.display().to_string();
    let forms: [Vec<&std::ffi::OsStr>; 6] = [
        vec![path.as_ref(), "stop".as_ref()],
        vec![path.as_ref(), "status".as_ref()],
        vec!["--root".as_ref(), path.as_ref(), "status".as_ref()],
        vec!["-d".as_ref(), path.as_ref(), "status".as_ref()],
        vec!["reload".as_ref(), path.as_ref()],
        vec!["-d".as_ref(), path.as_ref(), "reload".as_ref()],
    ];
    for args in forms {
        let output = svc(&args);
        assert_exit(&output, 2);
        let err = stderr(&output);
        assert!(
            err.starts_with(&format!("svc: {shown}: not a directory")),
            "{args:?}: {err}"
        );
        assert!(!err.contains("os error"), "{args:?}: {err}");
    }
    let output = svc(["status".as_ref(), path.as_os_str()]);
    assert_exit(&output, 2);
    assert!(
        stdout(&output).ends_with(&format!("{shown}: not a directory\n")),
        "{}",
        stdout(&output)
    );
}
