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
pub mod start;
pub mod stdio;
pub mod user;

use std::io;

/// Turns a libc return value into an `io::Result`.
fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}
