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

#[test]
fn holder_pid_names_supervise_while_other_locks_come_and_go() {
    // /proc/locks is read in page-sized chunks, and its lines move when
    // other locks are taken and dropped between two chunks: a scan can miss
    // the line it looks for (a scanner test failed once in ~17 runs). The
    // record in the lock file, checked through /proc/PID/fdinfo, cannot.
    use std::os::fd::AsRawFd;
    let sup = Supervise::start("holder", "sleep 1000");
    let lock = sup.status_dir.join("lock");
    let files = TempDir::new("holder-churn");
    // Enough locks that /proc/locks spans pages, ours somewhere inside.
    let held: Vec<std::fs::File> = (0..300)
        .map(|n| {
            let file = std::fs::File::create(files.join(&format!("held-{n}"))).unwrap();
            // SAFETY: flock on a descriptor we own.
            assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) }, 0);
            file
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn: Vec<_> = (0..2)
        .map(|t| {
            let (stop, dir) = (stop.clone(), files.path().to_owned());
            std::thread::spawn(move || {
                let churned: Vec<std::fs::File> = (0..50)
                    .map(|n| std::fs::File::create(dir.join(format!("churn-{t}-{n}"))).unwrap())
                    .collect();
                // Fifty taken, then fifty dropped: lines move by dozens.
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    for operation in [libc::LOCK_EX, libc::LOCK_UN] {
                        for file in &churned {
                            // SAFETY: flock on descriptors we own.
                            unsafe { libc::flock(file.as_raw_fd(), operation) };
                        }
                    }
                }
            })
        })
        .collect();
    let misses = (0..3000)
        .filter(|_| supervise::sys::lock::holder_pid(&lock) != Some(sup.pid()))
        .count();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.into_iter().for_each(|t| t.join().unwrap());
    drop(held);
    assert_eq!(
        misses, 0,
        "holder_pid missed supervise {misses} times in 3000"
    );
}
