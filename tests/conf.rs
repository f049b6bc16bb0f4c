//! supervise.conf at start, on `r`, and through `--check` (SPEC §5.2, §7);
//! the give-up rule end to end.

mod support;

use support::*;

fn start_in(dir: TempDir, command: &str) -> Supervise {
    Supervise::start_with(dir, &["-p", "status/svc", "-f", command], &[])
}

/// The lines of `log` exactly as written (no prefix stripped).
fn lines(log: &str) -> Vec<&str> {
    log.lines().collect()
}

#[test]
fn settings_are_loaded_and_logged_at_start_as_bare_lines() {
    let dir = TempDir::new("conf-start");
    dir.write(
        "supervise.conf",
        "[global]\nalarm_interval : 30\nalarm_mail : a@b c@d\nalarm_gsm : 111 222\nmax_tries : 7\n\n[svc]\nmax_tries : 9\nstop_timeout : 2\n",
    );
    let mut sup = start_in(dir, "sleep 1000");
    sup.wait_running();
    let log = sup.log();
    let lines = lines(&log);
    // SPEC §2: the notice is stamped, the dump that follows is bare, so
    // that monitoring can grep `^max_tries:`.
    let at = lines
        .iter()
        .position(|l| {
            l.starts_with("[NOTICE] ") && l.ends_with("  Finished loading configurations!")
        })
        .unwrap_or_else(|| panic!("no stamped Finished line in\n{log}"));
    let dump = &lines[at + 1..];
    for line in [
        "alarm_interval: 60",
        "max_tries: 9",
        "max_tries_if_coredumped: 5",
        "alarm_mail : a@b c@d",
        "gsm_list_len: 2",
        "alarm_gsm[0]: 111",
        "alarm_gsm[1]: 222",
        "stop_timeout: 2s",
    ] {
        assert!(dump.contains(&line), "no bare line {line:?} in\n{log}");
    }
    assert_eq!(
        dump.iter().position(|l| *l == "alarm_interval: 60"),
        Some(0),
        "the dump starts right after the notice:\n{log}"
    );
}

#[test]
fn a_missing_default_config_is_a_warning_and_means_no_limits() {
    let mut sup = start_in(TempDir::new("conf-missing"), "false");
    sup.wait_log_wf("Cannot open config file. Old configurations unchanged.");
    // No limits: a crash loop goes on and supervise does not give up.
    wait_until("several restarts", || {
        sup.log().matches("service exited!").count() >= 4
    });
    assert!(sup.running());
}

#[test]
fn an_explicit_config_that_cannot_be_read_runs_with_no_alarms_and_no_limits() {
    // SPEC §9 / issue 10 item 2: as the original, a missing -F file is a
    // warning; the service starts with no alarms and no limits.
    let dir = TempDir::new("conf-explicit");
    let out = run(
        dir.path(),
        &["-F", "nope.conf", "-p", "status/a", "-f", "false"],
    );
    let status_dir = dir.join("status/a");
    let _detached = Detached(status_dir.clone());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("cannot read config file nope.conf")
            && err.contains("no alarms and no restart limits"),
        "the warning reaches the terminal before detaching: {err}"
    );
    let wf = status_dir.join("supervise.log.wf");
    let log = status_dir.join("supervise.log");
    wait_until("several restarts of the crashing service", || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.matches("service exited!").count() >= 4)
    });
    let wf = std::fs::read_to_string(&wf).unwrap();
    assert!(
        wf.contains("Cannot open config file. Old configurations unchanged."),
        "{wf}"
    );
    assert!(wf.contains("nope.conf"), "the warning names the path: {wf}");
    // --check still says the file is a problem.
    let check = run(
        dir.path(),
        &["--check", "-F", "nope.conf", "-p", "status/a"],
    );
    assert_ne!(check.status.code(), Some(0));
}

#[test]
fn an_unreadable_explicit_config_is_the_same_warning() {
    let dir = TempDir::new("conf-unreadable");
    // A directory cannot be read as a file (root reads any file).
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let mut sup = Supervise::start_with(
        dir,
        &["-F", "conf.d", "-p", "status/svc", "-f", "sleep 1000"],
        &[],
    );
    sup.wait_running();
    sup.wait_log_wf("Cannot open config file. Old configurations unchanged.");
    assert!(sup.log_wf().contains("conf.d"), "{}", sup.log_wf());
}

#[test]
fn config_warnings_reach_the_terminal_and_the_log_with_line_numbers() {
    let dir = TempDir::new("conf-warn");
    dir.write(
        "supervise.conf",
        "[global]\nmax_tries : lots\nfrobnicate : 1\n",
    );
    let mut child = std::process::Command::new(bin())
        .args(["-p", "status/svc", "-f", "sleep 1000"])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let status_dir = dir.join("status/svc");
    let _detached = Detached(status_dir.clone());
    assert_eq!(
        child.status.code(),
        Some(0),
        "warnings do not stop supervise"
    );
    let err = String::from_utf8_lossy(&child.stderr).into_owned();
    assert!(
        err.contains("supervise.conf:2:") && err.contains("supervise.conf:3:"),
        "{err}"
    );
    wait_until("the service runs", || {
        supervise::status::read(&status_dir).is_ok_and(|s| s.pid != 0)
    });
    let wf = std::fs::read_to_string(status_dir.join("supervise.log.wf")).unwrap();
    assert!(wf.contains("supervise.conf:3:"), "{wf}");
    child.stderr.clear();
}

#[test]
fn check_prints_the_resolved_settings_and_warnings() {
    let dir = TempDir::new("check");
    dir.write(
        "clean.conf",
        "[global]\nalarm_interval : 120\n[redis]\nmax_tries : 3\n",
    );
    dir.write(
        "dirty.conf",
        "[global]\nalarm_interval : 120\nmax_trie : 3\n",
    );
    let out = run(
        dir.path(),
        &["--check", "-F", "clean.conf", "-p", "status/redis"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("alarm_interval: 120") && text.contains("max_tries: 3"),
        "{text}"
    );
    let out = run(
        dir.path(),
        &["--check", "-F", "dirty.conf", "-p", "status/redis"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("warning: dirty.conf:3:"), "{text}");
    assert!(!dir.join("status").exists(), "--check starts nothing");
}

#[test]
fn r_rereads_the_config_and_logs_the_new_values() {
    let dir = TempDir::new("reload");
    dir.write("supervise.conf", "[global]\nmax_tries : 4\n");
    let mut sup = start_in(dir, "sleep 1000");
    let pid = sup.wait_running();
    sup.wait_log("max_tries: 4");
    sup.dir.write(
        "supervise.conf",
        "[global]\nmax_tries : 6\nstop_timeout : 1\n",
    );
    sup.control("r");
    wait_until("the new values, as bare lines", || {
        sup.log().lines().any(|l| l == "max_tries: 6")
    });
    assert!(
        sup.log().lines().any(|l| l == "stop_timeout: 1s"),
        "{}",
        sup.log()
    );
    std::fs::remove_file(sup.dir.join("supervise.conf")).unwrap();
    sup.control("r");
    wait_until("a warning for the vanished file", || {
        sup.log_wf().matches("Cannot open config file").count() >= 1
    });
    assert_eq!(
        sup.status().pid,
        pid,
        "reloading does not touch the service"
    );
}

#[test]
fn gives_up_after_max_tries_and_exits_2() {
    let dir = TempDir::new("give-up");
    dir.write(
        "supervise.conf",
        "[global]\nalarm_interval : 60\nmax_tries : 2\n",
    );
    let mut sup = start_in(dir, "false");
    assert_eq!(sup.wait_exit().code(), Some(2));
    let log = sup.log();
    assert!(
        log.contains("supervise refused to restart svc any more and exited itself!"),
        "{log}"
    );
    assert_eq!(
        log.matches("service exited!").count(),
        3,
        "max_tries 2: the third exit gives up"
    );
    assert_eq!(sup.status().pid, 0);
    // Issue 13 item 8: also a WARNING, where operators look for trouble.
    let wf = sup.log_wf();
    assert!(
        wf.lines().any(|l| l.starts_with("[WARNING] ")
            && l.contains("supervise refused to restart svc any more")),
        "{wf}"
    );
}

#[test]
fn silenced_exits_do_not_count_toward_max_tries() {
    let dir = TempDir::new("silenced");
    dir.write(
        "supervise.conf",
        "[global]\nalarm_interval : 60\nmax_tries : 1\n",
    );
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let mut pid = sup.wait_running();
    sup.control("s");
    wait_until("alarms silenced", || !sup.status().alarms_on);
    for _ in 0..3 {
        kill(pid, libc::SIGKILL);
        pid = sup.wait_new_pid(pid);
    }
    assert!(sup.running(), "silenced exits never reach max_tries");
}

#[test]
fn garbage_configs_at_start_and_on_r_are_only_warnings() {
    // Binary junk, NUL bytes, a 100 kB line, unbalanced headers: supervise
    // starts, says what it could not read, and `r` of more junk changes
    // nothing it should not.
    let dir = TempDir::new("conf-garbage");
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    junk.extend_from_slice(
        b"\n[svc\n[svc]\nmax_tries : \xff\xfe\nalarm_interval : 99999999999999999999\n",
    );
    junk.extend(std::iter::repeat_n(b'x', 100_000));
    junk.extend_from_slice(b"\nstop_timeout : -3\n\0\0\0\n[global]]\n");
    std::fs::write(dir.join("supervise.conf"), &junk).unwrap();
    let mut sup = start_in(dir, "sleep 1000");
    let pid = sup.wait_running();
    sup.wait_log("Finished loading configurations!");
    let mut reversed = junk.clone();
    reversed.reverse();
    std::fs::write(sup.dir.join("supervise.conf"), &reversed).unwrap();
    sup.control("r");
    wait_until("r read the junk again", || {
        sup.log()
            .matches("Finished loading configurations!")
            .count()
            == 2
    });
    assert!(sup.running());
    assert_eq!(
        sup.status().pid,
        pid,
        "reloading junk leaves the service alone"
    );
    kill(pid, libc::SIGKILL);
    sup.wait_new_pid(pid);
}
