//! inotify: for the scanner's output forwarding and its start order (a
//! watch per status directory, and the names of the files that changed;
//! watch id -1: the queue overflowed, events were lost). supervise holds
//! none: a user has only `fs.inotify.max_user_instances` of them (128 by
//! default), and one per service would leave none for the scanner.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::check;

/// An inotify instance.
pub struct Inotify {
    fd: File,
}

impl Inotify {
    /// A new, non-blocking, close-on-exec instance.
    pub fn new() -> io::Result<Inotify> {
        // SAFETY: inotify_init1 takes flags only; the descriptor is ours.
        let fd = check(unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) })?;
        Ok(Inotify {
            fd: unsafe { File::from_raw_fd(fd) },
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Watches `dir` for files written or created in it; returns the watch id.
    pub fn watch_dir(&self, dir: &Path) -> io::Result<i32> {
        self.watch(dir, libc::IN_MODIFY | libc::IN_CREATE | libc::IN_MOVED_TO)
    }

    /// Watches `dir` only for files renamed into it (an atomic replace, as
    /// of `status`); returns the watch id.
    pub fn watch_renames_into(&self, dir: &Path) -> io::Result<i32> {
        self.watch(dir, libc::IN_MOVED_TO)
    }

    fn watch(&self, path: &Path, mask: u32) -> io::Result<i32> {
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))?;
        // SAFETY: c_path is a valid C string for the call.
        check(unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c_path.as_ptr(), mask) })
    }

    /// Every pending event as (watch id, file name).
    pub fn read_events(&mut self) -> Vec<(i32, String)> {
        let mut events = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = self.fd.read(&mut buf) {
            let mut at = 0;
            let header = std::mem::size_of::<libc::inotify_event>();
            while at + header <= n {
                let wd = i32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes"));
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().expect("4 bytes"));
                let name_bytes = &buf[at + header..(at + header + len as usize).min(n)];
                let end = name_bytes
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(name_bytes.len());
                events.push((wd, String::from_utf8_lossy(&name_bytes[..end]).into_owned()));
                at += header + len as usize;
            }
            if n == 0 {
                break;
            }
        }
        events
    }
}
