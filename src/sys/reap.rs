//! All `waitpid` calls of supervise live here: every child (the service,
//! orphans re-parented to us as subreaper, the restart hook, alarm senders)
//! is reaped in one place and the caller routes each pid.

use crate::supervisor::Exit;

/// Reaps one terminated child without blocking, if there is one.
pub fn reap_one() -> Option<(u32, Exit)> {
    let mut status: libc::c_int = 0;
    // SAFETY: waitpid writes the status into our integer.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    Some((pid as u32, decode(status)))
}

/// Reaps a child that failed before exec (sys::spawn_as), so that its exit
/// is not taken for the service's.
pub fn reap_failed_spawn(pid: libc::pid_t) {
    // The child has exited already (CLONE_VFORK returned), with 127.
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
}

/// Turns a wait status into an [`Exit`].
pub fn decode(status: libc::c_int) -> Exit {
    if libc::WIFSIGNALED(status) {
        Exit::Signal {
            signal: libc::WTERMSIG(status),
            core: libc::WCOREDUMP(status),
        }
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    }
}
