//! The `lock` file: `flock(LOCK_EX|LOCK_NB)` held for supervise's whole life,
//! and finding which process holds it (from /proc/locks, as `fuser` would).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Outcome of trying to take the lock.
pub enum Acquired {
    /// We hold it for as long as the file stays open.
    Held(File),
    /// Another process holds it; its pid when /proc/locks tells.
    Busy(Option<u32>),
}

/// Opens (creating, mode 0600) and locks `path` without blocking.
pub fn acquire(path: &Path) -> io::Result<Acquired> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(Acquired::Held(file));
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(Acquired::Busy(holder_pid(path)))
    } else {
        Err(err)
    }
}

/// The pid holding an flock on `path`, read from /proc/locks.
pub fn holder_pid(path: &Path) -> Option<u32> {
    let meta = std::fs::metadata(path).ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in_proc_locks(&locks, meta.dev(), meta.ino())
}

/// Finds the FLOCK line for (dev, inode) in the text of /proc/locks, whose
/// lines read `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`.
fn holder_in_proc_locks(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    let major = libc::major(dev);
    let minor = libc::minor(dev);
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // A blocked waiter's line has an extra "->" field after the index.
        let fields = if fields.get(1) == Some(&"->") {
            &fields[1..]
        } else {
            &fields[..]
        };
        if fields.get(1) != Some(&"FLOCK") || fields.len() < 6 {
            return None;
        }
        let mut id = fields[5].split(':');
        let maj = u32::from_str_radix(id.next()?, 16).ok()?;
        let min = u32::from_str_radix(id.next()?, 16).ok()?;
        let inode: u64 = id.next()?.parse().ok()?;
        (maj == major && min == minor && inode == ino)
            .then(|| fields[4].parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_flock_holder_by_device_and_inode() {
        let text = "1: POSIX  ADVISORY  WRITE 10 fd:01:77 0 EOF\n\
                    2: FLOCK  ADVISORY  WRITE 4242 fd:01:77 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 4343 fd:01:77 0 EOF\n";
        let dev = libc::makedev(0xfd, 1);
        assert_eq!(holder_in_proc_locks(text, dev, 77), Some(4242));
        assert_eq!(holder_in_proc_locks(text, dev, 78), None);
    }

    #[test]
    fn second_acquire_is_busy_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lock");
        let first = acquire(&path).unwrap();
        assert!(matches!(first, Acquired::Held(_)));
        match acquire(&path).unwrap() {
            Acquired::Busy(pid) => assert_eq!(pid, Some(std::process::id())),
            Acquired::Held(_) => panic!("a second flock on the same file must fail"),
        }
        drop(first);
        assert!(matches!(acquire(&path).unwrap(), Acquired::Held(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
