//! The daemontools form: `svc -udopchaitkxsnr DIR...` and `-w up|down`.

use supervise::status::Want;

use crate::support::*;

#[test]
fn grouped_flags_reach_every_directory_in_order() {
    let tmp = TempDir::new("flags");
    let mut a = Fake::new(tmp.path(), "a");
    let mut b = Fake::new(tmp.path(), "b");
    let output = svc_command()
        .args(["-dx", "-t"])
        .arg(&a.dir)
        .arg(&b.dir)
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert!(stdout(&output).is_empty(), "silent on success");
    assert_eq!(a.read_control(), b"dxt");
    assert_eq!(b.read_control(), b"dxt");
}

#[test]
fn every_control_letter_is_sent_as_itself() {
    let tmp = TempDir::new("letters");
    let mut fake = Fake::new(tmp.path(), "a");
    for letter in "udopchaitkxsnr".chars() {
        let output = svc_command()
            .arg(format!("-{letter}"))
            .arg(&fake.dir)
            .output()
            .unwrap();
        assert_exit(&output, 0);
    }
    assert_eq!(fake.read_control(), b"udopchaitkxsnr");
}

#[test]
fn one_bad_directory_does_not_stop_the_others() {
    let tmp = TempDir::new("flagsbad");
    let mut a = Fake::new(tmp.path(), "a");
    let output = svc_command()
        .arg("-u")
        .arg(tmp.path().join("nowhere"))
        .arg(&a.dir)
        .output()
        .unwrap();
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("nowhere: no such directory"));
    assert_eq!(a.read_control(), b"u");
}

#[test]
fn wait_up_and_down() {
    let tmp = TempDir::new("waitud");
    let mut fake = Fake::new(tmp.path(), "a");
    let dir = fake.dir.clone();
    let output = fake.serve(
        &[dir.as_os_str(), "-u".as_ref(), "-w".as_ref(), "up".as_ref()],
        Fake::react,
    );
    assert_exit(&output, 0);
    assert_ne!(fake.status.pid, 0);
    let pid = fake.status.pid;
    let output = fake.serve(&["-dwdown".as_ref(), dir.as_os_str()], Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.status.pid, 0);
    assert!(!group_alive(pid));
    assert_eq!(fake.received, b"ud", "-w sends nothing itself");
}

#[test]
fn wait_alone_times_out_with_code_9() {
    let tmp = TempDir::new("waittimeout");
    let fake = Fake::new(tmp.path(), "a");
    let output = svc_command()
        .args(["-w", "up", "-w", "0.2"])
        .arg(&fake.dir)
        .output()
        .unwrap();
    assert_exit(&output, 9);
    assert!(stderr(&output).contains("timed out after 0.2s waiting for: up; now: down "));
}

#[test]
fn wait_for_a_dead_supervise_fails_at_once() {
    let tmp = TempDir::new("waitdead");
    let mut fake = Fake::new(tmp.path(), "a");
    fake.status.want = Want::Up;
    fake.publish();
    fake.die();
    let output = svc_command()
        .args(["-w", "up"])
        .arg(&fake.dir)
        .output()
        .unwrap();
    assert_exit(&output, 4);
}
