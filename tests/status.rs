//! The status directory and the 20-byte status file (SPEC §2, §3), read the
//! way scripts in the field read them.

mod support;

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::*;

#[test]
fn od_one_liner_gives_the_child_pid() {
    let mut sup = Supervise::start("od", "sleep 1000");
    let pid = sup.wait_running();
    let out = Command::new("od")
        .args(["-An", "-j16", "-N4", "-tu4", "status"])
        .current_dir(&sup.status_dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
    let bytes = std::fs::read(sup.status_dir.join("status")).unwrap();
    assert_eq!(bytes.len(), 20);
    assert_eq!(
        (bytes[12], bytes[13], bytes[14], bytes[15]),
        (0, b'u', b'o', 0)
    );
    let tai = u64::from_be_bytes(bytes[0..8].try_into().unwrap());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let written = tai - (1 << 62) - 10;
    assert!(
        written <= now && now - written < 60,
        "TAI64 label {tai:#x} is not now"
    );
    assert!(u32::from_be_bytes(bytes[8..12].try_into().unwrap()) < 1_000_000_000);
}

#[test]
fn files_and_modes_of_the_status_directory() {
    let mut sup = Supervise::start("files", "sleep 1000");
    sup.wait_running();
    let mode = |name: &str| {
        std::fs::metadata(sup.status_dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("lock"), 0o600);
    assert_eq!(mode("status"), 0o644);
    assert_eq!(mode("supervise.log"), 0o600);
    assert_eq!(mode("supervise.log.wf"), 0o600);
    use std::os::unix::fs::FileTypeExt;
    for fifo in ["control", "ok"] {
        let meta = std::fs::metadata(sup.status_dir.join(fifo)).unwrap();
        assert!(meta.file_type().is_fifo(), "{fifo} is a FIFO");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    assert!(!sup.status_dir.join("status.new").exists());
}

#[test]
fn ok_has_a_reader_exactly_while_supervise_lives() {
    let mut sup = Supervise::start("ok", "sleep 1000");
    sup.wait_running();
    let ok = sup.status_dir.join("ok");
    let open = || {
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&ok)
    };
    assert!(open().is_ok(), "ok opens for writing while supervise lives");
    kill(sup.pid(), libc::SIGKILL);
    sup.wait_exit();
    let err = open().expect_err("no reader once supervise is gone");
    assert_eq!(err.raw_os_error(), Some(libc::ENXIO));
}

#[test]
fn fuser_and_proc_locks_name_supervise() {
    let mut sup = Supervise::start("fuser", "sleep 1000");
    sup.wait_running();
    let lock = sup.status_dir.join("lock");
    assert_eq!(supervise::sys::lock::holder_pid(&lock), Some(sup.pid()));
    if let Ok(out) = Command::new("fuser").arg(&lock).output() {
        let pids = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            pids.split_whitespace().collect::<Vec<_>>(),
            vec![sup.pid().to_string()]
        );
    }
}

#[test]
fn readers_never_see_a_partial_status_file() {
    let mut sup = Supervise::start("atomic", "sleep 1000");
    let mut pid = sup.wait_running();
    let path = sup.status_dir.join("status");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let bytes = std::fs::read(&path).expect("status exists at every moment");
                assert_eq!(bytes.len(), 20, "a reader saw {} bytes", bytes.len());
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..5 {
        sup.control("k");
        pid = sup.wait_new_pid(pid);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().expect("reader saw only whole files") > 0);
    assert!(!sup.status_dir.join("status.new").exists());
    let since = sup.status().since;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    assert!(now.saturating_sub(since) < Duration::from_secs(30));
}
