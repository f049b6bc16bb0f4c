//! The thin OS layer: every system call and every `unsafe` block of the
//! program lives below this module, each file named for what it touches.
//! Nothing here decides policy; the supervisor decides, this layer acts.

pub mod clock;
pub mod detach;
pub mod fifo;
pub mod history;
pub mod inotify;
pub mod localtime;
pub mod lock;
pub mod logfile;
pub mod logpipe;
pub mod memory;
pub mod notify;
pub mod notify_socket;
pub mod pidfd;
pub mod poll;
pub mod process;
pub mod readypipe;
pub mod reap;
pub mod signals;
pub mod spawn;
pub mod spawn_as;
pub mod start;
pub mod stdio;
pub mod user;

use std::io;

/// Sets or clears O_NONBLOCK on the open file description of `fd`.
fn set_nonblocking(fd: std::os::fd::BorrowedFd, on: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor the caller lends us; no memory is passed.
    unsafe {
        let flags = check(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        check(libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags))?;
    }
    Ok(())
}

/// Turns a libc return value into an `io::Result`.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}
