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
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let mut flags = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL)?);
    flags.set(OFlag::O_NONBLOCK, on);
    fcntl(fd, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// A pipe, both ends close-on-exec, and non-blocking when `nonblocking`.
fn pipe(nonblocking: bool) -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use nix::fcntl::OFlag;
    let mut flags = OFlag::O_CLOEXEC;
    flags.set(OFlag::O_NONBLOCK, nonblocking);
    Ok(nix::unistd::pipe2(flags)?)
}

/// Turns a libc return value into an `io::Result`.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}
