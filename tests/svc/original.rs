//! The original form, `svc DIR COMMAND`, keeps every exit code of the
//! original `svc` script (SPEC §8), against a real supervise and against
//! status directories made by hand; the other forms keep one code per
//! outcome.

use std::os::unix::fs::PermissionsExt;

use crate::real::Real;
use crate::support::*;

/// The first line of the original script's usage text.
const USAGE: &str = "Usage: svc STATUSDIR COMMAND [ARGV]\n";

#[test]
fn fewer_than_two_arguments_print_the_usage_on_stdout_and_exit_1() {
    for args in [vec![], vec!["status/redis"], vec!["stop"], vec!["-u"]] {
        let output = svc(&args);
        assert_exit(&output, 1);
        assert!(
            stdout(&output).starts_with(USAGE),
            "{args:?}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn nothing_to_do_keeps_the_original_codes() {
    let mut real = Real::start("o-nothing", "sleep 1000");
    let pid = real.status().pid;
    let output = real.svc(&["DIR", "start"]);
    assert_exit(&output, 6);
    assert!(
        stderr(&output).contains("already up"),
        "{}",
        stderr(&output)
    );
    // The verb-first form keeps its own code for the same outcome.
    assert_exit(&real.svc(&["start", "DIR"]), 7);
    assert_exit(&real.svc(&["DIR", "alarm", "on"]), 7);
    assert_exit(&real.svc(&["DIR", "alarm", "off"]), 0);
    assert_exit(&real.svc(&["DIR", "alarm", "off"]), 7);
    assert_exit(&real.svc(&["DIR", "alarm", "on"]), 0);
    assert_eq!(real.status().pid, pid, "nothing was restarted");
    assert_exit(&real.svc(&["DIR", "stop"]), 0);
    assert_exit(&real.svc(&["DIR", "stop"]), 7);
    assert_exit(&real.svc(&["DIR", "restart"]), 7);
    assert_exit(&real.svc(&["stop", "DIR"]), 7);
    assert_exit(&real.svc(&["DIR", "start"]), 0);
}

#[test]
fn no_permission_is_4_in_the_original_form_and_8_in_the_others() {
    let mut real = Real::start("o-perm", "sleep 1000");
    let pid = real.status().pid;
    // supervise makes its status directory 0700; let others look inside.
    std::fs::set_permissions(&real.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = real.dir.clone();
    for verb in ["stop", "start", "restart", "exit", "reconf"] {
        let Some(output) = svc_as_nobody([dir.as_os_str(), verb.as_ref()]) else {
            return;
        };
        assert_exit(&output, 4);
        assert!(
            stderr(&output).contains("permission denied"),
            "{verb}: {}",
            stderr(&output)
        );
    }
    let output = svc_as_nobody([dir.as_os_str(), "alarm".as_ref(), "off".as_ref()]).unwrap();
    assert_exit(&output, 4);
    let output = svc_as_nobody(["stop".as_ref(), dir.as_os_str()]).unwrap();
    assert_exit(&output, 8);
    let output = svc_as_nobody(["-d".as_ref(), dir.as_os_str()]).unwrap();
    assert_exit(&output, 8);
    // Reading the status needs no write permission.
    let output = svc_as_nobody([dir.as_os_str(), "status".as_ref()]).unwrap();
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains(&format!("\npid: {pid}\n")),
        "{}",
        stdout(&output)
    );
    let status = real.status();
    assert_eq!((status.pid, status.alarms_on), (pid, true), "nothing done");
}

#[test]
fn a_directory_without_ok_is_4_in_the_original_form() {
    // The original script tests `ok` first: an empty directory means
    // "supervise is not alive". The other forms say it is no status
    // directory.
    let tmp = TempDir::new("o-empty");
    let dir = tmp.path().join("status/x");
    std::fs::create_dir_all(&dir).unwrap();
    for verb in ["start", "stop", "status"] {
        let output = svc_command().arg(&dir).arg(verb).output().unwrap();
        assert_exit(&output, 4);
        assert!(
            stderr(&output).contains("not a status directory (no ok, control or status in it)"),
            "{verb}: {}",
            stderr(&output)
        );
    }
    let output = svc_command().arg("status").arg(&dir).output().unwrap();
    assert_exit(&output, 2);
    let output = svc_command().arg("-u").arg(&dir).output().unwrap();
    assert_exit(&output, 2);
    // `ok` a plain file: supervise is not alive either.
    std::fs::write(dir.join("ok"), "").unwrap();
    let output = svc_command().arg(&dir).arg("stop").output().unwrap();
    assert_exit(&output, 4);
    assert!(stderr(&output).contains("ok is not a FIFO"));
}

#[test]
fn outcomes_the_original_never_had_keep_their_own_codes() {
    // A service that ignores TERM: supervise needs its stop timeout (10 s)
    // before KILL, so svc is still waiting when supervise is killed.
    let mut real = Real::start_script(
        "o-gone",
        "trap '' TERM; touch ready; while :; do sleep 0.2; done",
    );
    real.wait_ready();
    let dir = real.dir.clone();
    let mut stop = Svc(Some(
        svc_command()
            .arg(&dir)
            .arg("stop")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    real.wait_status("svc's d read", |s| s.want == supervise::status::Want::Down);
    let mut supervise = real.child.take().unwrap();
    supervise.kill().unwrap();
    supervise.wait().unwrap();
    let output = stop.0.take().unwrap().wait_with_output().unwrap();
    assert_exit(&output, 10);
    assert!(
        stderr(&output).contains("supervise exited while svc waited for: down"),
        "{}",
        stderr(&output)
    );
}
