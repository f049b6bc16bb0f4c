//! The `lock` file: `flock(LOCK_EX|LOCK_NB)` held for supervise's whole
//! life, the record supervise keeps in it, and finding which process holds
//! it.
//!
//! The record (a few fixed-width text lines, rewritten in place) names the
//! holder — supervise's pid and the descriptor it holds the lock through —
//! and the process group it answers for, with its leader's start time. It
//! is written with `pwrite` into the file supervise keeps open, over bytes
//! already allocated, so it can still be updated when the directory has
//! been made unwritable or its file system is full (when the status file
//! cannot). A supervise started after this one was killed reads it to find
//! the service it must stop first; `holder_pid` reads it to name the holder
//! in O(1): `/proc/PID/fdinfo/FD` says whether that descriptor really holds
//! the flock. Only a directory held by the original C supervise (no record)
//! falls back to scanning /proc/locks, which is O(number of locks) and can
//! miss a line when other locks come and go while it is read.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use crate::duration;

/// Outcome of trying to take the lock.
pub enum Acquired {
    /// We hold it for as long as the file stays open.
    Held(File),
    /// Another process holds it; its pid when it can be found.
    Busy(Option<u32>),
}

/// Opens (creating, mode 0600) and locks `path` without blocking. A symlink
/// in the lock's place is refused (ELOOP), not followed.
pub fn acquire(path: &Path) -> io::Result<Acquired> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    // The plain call, not nix's `Flock` guard: its drop unlocks and panics
    // if that fails, and the lock is ours until close (exit) anyway.
    #[allow(deprecated)]
    match nix::fcntl::flock(
        file.as_raw_fd(),
        nix::fcntl::FlockArg::LockExclusiveNonblock,
    ) {
        Ok(()) => Ok(Acquired::Held(file)),
        Err(nix::errno::Errno::EWOULDBLOCK) => Ok(Acquired::Busy(holder_pid(path))),
        Err(e) => Err(e.into()),
    }
}

/// The process group a supervise answers for, as its record names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group, whose leader is (or was) the service.
    pub pgid: u32,
    /// When its leader started, since the Unix epoch.
    pub since: Duration,
}

/// What a supervise records in its lock file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The holder: supervise's pid.
    pub supervise: u32,
    /// The descriptor through which it holds the flock.
    pub fd: i32,
    /// The process group it answers for, if any.
    pub group: Option<Group>,
}

impl Record {
    /// Every record has this length, so that rewriting one in place never
    /// changes the file's size (and needs no new block).
    pub const LEN: usize = 78;

    /// `supervise PID fd FD` / `service PGID since SECS.NANOS`, padded.
    pub fn encode(&self) -> Vec<u8> {
        let (pgid, since) = self
            .group
            .map_or((0, Duration::ZERO), |g| (g.pgid, g.since));
        let since = duration::format(since, duration::Decimals::Fixed(9));
        let text = format!(
            "supervise {:<10} fd {:<6}\nservice {:<10} since {:<21}\n",
            self.supervise, self.fd, pgid, since
        );
        let mut bytes = text.into_bytes();
        bytes.resize(Record::LEN, b' ');
        bytes
    }

    /// Reads a record; `None` for anything else (an empty lock file, as the
    /// original C supervise leaves it).
    pub fn parse(bytes: &[u8]) -> Option<Record> {
        let text = std::str::from_utf8(bytes).ok()?;
        let words: Vec<&str> = text.split_whitespace().collect();
        let ["supervise", pid, "fd", fd, "service", pgid, "since", since] = words[..] else {
            return None;
        };
        let pgid: u32 = pgid.parse().ok()?;
        let since = duration::parse_decimal(since)?;
        Some(Record {
            supervise: pid.parse().ok()?,
            fd: fd.parse().ok()?,
            group: (pgid != 0).then_some(Group { pgid, since }),
        })
    }
}

/// The record in the lock file `file`, if it holds one.
pub fn read_record(file: &File) -> Option<Record> {
    let mut bytes = [0u8; 256];
    let n = file.read_at(&mut bytes, 0).ok()?;
    Record::parse(&bytes[..n])
}

/// Rewrites the record of the lock file `file` in place.
pub fn write_record(file: &File, record: &Record) -> io::Result<()> {
    file.write_all_at(&record.encode(), 0)
}

/// The pid holding an flock on the lock file `path`.
///
/// From the record supervise keeps in it, checked against
/// `/proc/PID/fdinfo/FD` (the descriptor is open on this file and holds the
/// flock): one small read, whatever the number of locks on the machine.
/// When there is no record (a directory of the original C supervise), or
/// /proc does not tell (another user's process), from /proc/locks.
pub fn holder_pid(path: &Path) -> Option<u32> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if let Some(record) = read_record_at(path) {
        match holds_flock(record.supervise, record.fd, meta.dev(), meta.ino()) {
            Some(true) => return Some(record.supervise),
            // A stale record, and nobody reads `ok`: no supervise, of ours or
            // the original, runs on this directory.
            Some(false) if !has_reader(&path.with_file_name("ok")) => return None,
            _ => {}
        }
    }
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in_proc_locks(&locks, meta.dev(), meta.ino())
}

fn read_record_at(path: &Path) -> Option<Record> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let mut bytes = [0u8; 256];
    let n = file.read(&mut bytes).ok()?;
    Record::parse(&bytes[..n])
}

/// Whether process `pid` holds an flock on the file (dev, ino) through its
/// descriptor `fd`; `None` when /proc does not let us see.
fn holds_flock(pid: u32, fd: i32, dev: u64, ino: u64) -> Option<bool> {
    match std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")) {
        // `lock:` lines have the format of /proc/locks after the prefix.
        Ok(info) => {
            let locks: String = info
                .lines()
                .filter_map(|l| l.strip_prefix("lock:"))
                .map(|l| format!("{l}\n"))
                .collect();
            Some(holder_in_proc_locks(&locks, dev, ino).is_some())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Some(false),
        Err(_) => None,
    }
}

/// Whether someone holds the FIFO at `path` open for reading (a supervise
/// holds its `ok` for its whole life); true when we cannot tell.
pub fn has_reader(path: &Path) -> bool {
    match std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
    {
        // Anything but a FIFO (a regular file put there) has no reader.
        Ok(file) => file.metadata().is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_fifo()
        }),
        Err(e) => !matches!(e.raw_os_error(), Some(libc::ENXIO | libc::ENOENT)),
    }
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
    fn a_record_has_a_fixed_length_and_reads_back() {
        let with = Record {
            supervise: 4242,
            fd: 3,
            group: Some(Group {
                pgid: 4243,
                since: Duration::new(1_764_170_000, 123_456_789),
            }),
        };
        let without = Record {
            supervise: u32::MAX,
            fd: i32::MAX,
            group: None,
        };
        for record in [with, without] {
            let bytes = record.encode();
            assert_eq!(bytes.len(), Record::LEN);
            assert_eq!(Record::parse(&bytes), Some(record));
        }
        assert!(String::from_utf8(with.encode()).unwrap().starts_with(
            "supervise 4242       fd 3     \nservice 4243       since 1764170000.123456789"
        ));
        for junk in [
            &b""[..],
            b"garbage",
            b"supervise x fd 3 service 0 since 0.0",
        ] {
            assert_eq!(Record::parse(junk), None);
        }
    }

    #[test]
    fn the_holder_is_named_from_the_record_and_fdinfo() {
        let dir = std::env::temp_dir().join(format!("lock-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lock");
        let Acquired::Held(file) = acquire(&path).unwrap() else {
            panic!("a fresh lock is ours");
        };
        let record = Record {
            supervise: std::process::id(),
            fd: file.as_raw_fd(),
            group: None,
        };
        write_record(&file, &record).unwrap();
        assert_eq!(read_record(&file), Some(record));
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(
            holds_flock(record.supervise, record.fd, meta.dev(), meta.ino()),
            Some(true)
        );
        assert_eq!(holder_pid(&path), Some(std::process::id()));
        // A record naming a descriptor that does not hold the lock is stale;
        // with nobody reading `ok` there is no holder.
        let stale = Record { fd: 0, ..record };
        write_record(&file, &stale).unwrap();
        drop(file);
        assert_eq!(holder_pid(&path), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn second_acquire_is_busy_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("lock-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lock");
        let first = acquire(&path).unwrap();
        let Acquired::Held(held) = &first else {
            panic!("a fresh lock is ours");
        };
        let record = Record {
            supervise: std::process::id(),
            fd: held.as_raw_fd(),
            group: None,
        };
        write_record(held, &record).unwrap();
        match acquire(&path).unwrap() {
            Acquired::Busy(pid) => assert_eq!(pid, Some(std::process::id())),
            Acquired::Held(_) => panic!("a second flock on the same file must fail"),
        }
        drop(first);
        assert!(matches!(acquire(&path).unwrap(), Acquired::Held(_)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
