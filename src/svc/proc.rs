//! Processes as `svc` sees them: whether a pid or a process group still
//! exists (`kill(…, 0)`, which sends nothing). No signal is ever sent to a
//! service or a supervise; the one signal `svc` sends is [`hang_up`],
//! SIGHUP to a supervise-scan for `svc reload`. The clocks come from
//! [`sys::clock`](crate::sys::clock) and
//! [`sys::localtime`](crate::sys::localtime).

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// `kill(target, 0)`: only ESRCH means nobody is there; EPERM means someone
/// we may not signal is.
fn exists(target: i32) -> bool {
    !matches!(kill(Pid::from_raw(target), None), Err(Errno::ESRCH))
}

/// A pid as a positive `pid_t`, refusing 0 and values that would turn
/// `-pid` into "every process" or "my own group".
fn positive(pid: u32) -> Option<i32> {
    i32::try_from(pid).ok().filter(|&p| p > 1)
}

/// Whether process `pid` exists.
pub fn pid_alive(pid: u32) -> bool {
    positive(pid).is_some_and(exists)
}

/// Whether process group `pgid` has any member left.
pub fn group_alive(pgid: u32) -> bool {
    positive(pgid).is_some_and(|p| exists(-p))
}

/// SIGHUP to supervise-scan `pid`: re-read your configuration.
pub fn hang_up(pid: u32) -> Result<(), Errno> {
    let pid = positive(pid).ok_or(Errno::ESRCH)?;
    kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGHUP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_and_group_exist() {
        assert!(pid_alive(std::process::id()));
        let pgid = nix::unistd::getpgrp().as_raw() as u32;
        assert!(group_alive(pgid));
    }

    #[test]
    fn zero_and_one_are_never_probed() {
        assert!(!pid_alive(0));
        assert!(!group_alive(0));
        assert!(!group_alive(1));
        assert!(!pid_alive(u32::MAX));
    }
}
