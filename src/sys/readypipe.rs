//! The pipe of s6's readiness protocol (`notification_fd`): its write end
//! goes to the service as descriptor N, supervise reads the other end
//! without blocking and learns "ready" from the first newline. Bounded:
//! each wake-up reads at most [`MAX_READ`] bytes, and a service that
//! writes without a newline changes nothing but its own state.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

/// The most read from the pipe per wake-up.
pub const MAX_READ: usize = 512;

/// A fresh pipe: the read end for supervise (non-blocking, close-on-exec),
/// the write end for the service (blocking; close-on-exec too, so that
/// only the descriptor the spawn duplicates it to reaches the service).
/// The write end is never `avoid`: a duplicate onto the same number would
/// keep its close-on-exec flag.
pub fn open(avoid: i32) -> io::Result<(File, OwnedFd)> {
    let (read, mut write) = super::pipe(true)?;
    let read = File::from(read);
    if write.as_raw_fd() == avoid {
        // The lowest free number above `avoid`; the old one closes on drop.
        use nix::fcntl::{FcntlArg, fcntl};
        let moved = fcntl(&write, FcntlArg::F_DUPFD_CLOEXEC(avoid + 1))?;
        // SAFETY: F_DUPFD_CLOEXEC returned a fresh descriptor, ours alone.
        write = unsafe { OwnedFd::from_raw_fd(moved) };
    }
    super::set_nonblocking(write.as_fd(), false)?;
    Ok((read, write))
}

/// What one look at the read end found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// A newline: the service is ready (the pipe is done with).
    Ready,
    /// Every writer closed it without a newline (the pipe is done with).
    Closed,
    /// Bytes without a newline, or nothing yet: keep listening.
    Nothing,
}

/// Reads what is waiting, at most [`MAX_READ`] bytes.
pub fn read(pipe: &mut File) -> Heard {
    let mut buf = [0u8; MAX_READ];
    loop {
        return match pipe.read(&mut buf) {
            Ok(0) => Heard::Closed,
            Ok(n) if buf[..n].contains(&b'\n') => Heard::Ready,
            Ok(_) => Heard::Nothing,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Heard::Nothing,
            Err(_) => Heard::Closed,
        };
    }
}
