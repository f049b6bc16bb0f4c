//! pidfd: watching a process that is not our child. A new supervise-scan
//! adopts the supervise processes a killed scanner left behind; it cannot
//! wait for them (their parent is someone else) but a pidfd, from
//! `pidfd_open` (Linux 5.3), becomes readable when the process exits, so
//! the scanner's poll wakes for it like for a signal. No polling, no
//! guessing from /proc.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::check;

/// A descriptor that becomes readable when its process exits.
#[derive(Debug)]
pub struct PidFd(OwnedFd);

impl PidFd {
    /// Opens a pidfd for `pid` (close-on-exec, as pidfd_open always makes
    /// it). ESRCH: no such process.
    pub fn open(pid: u32) -> io::Result<PidFd> {
        let pid = libc::pid_t::try_from(pid)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor, which we own from here on.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = check(libc::c_int::try_from(fd).unwrap_or(-1))?;
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_once_the_process_exits() {
        let mut child = std::process::Command::new("sleep")
            .arg("1000")
            .spawn()
            .unwrap();
        let pidfd = PidFd::open(child.id()).unwrap();
        let ready = crate::sys::poll::wait(&[pidfd.raw_fd()], Some(std::time::Duration::ZERO));
        assert_eq!(ready.unwrap(), [false], "alive: not readable");
        child.kill().unwrap();
        let ready =
            crate::sys::poll::wait(&[pidfd.raw_fd()], Some(std::time::Duration::from_secs(20)));
        assert_eq!(ready.unwrap(), [true], "exited: readable");
        child.wait().unwrap();
    }

    #[test]
    fn no_such_process() {
        for pid in [0, u32::MAX] {
            assert_eq!(
                PidFd::open(pid).unwrap_err().raw_os_error(),
                Some(libc::ESRCH)
            );
        }
    }
}
