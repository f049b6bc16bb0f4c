//! Detaching like the original (fork, the parent returns, setsid, standard
//! descriptors on /dev/null, working directory kept), but with the set-up
//! done in the child *before* the parent returns: the parent waits on a pipe
//! for the child's verdict and exits with it, so errors still reach the
//! terminal with a non-zero exit, and the lock is taken by the process that
//! keeps it (so /proc/locks and `fuser` name the right pid).

use std::fs::File;
use std::io::{self, Read, Write};

use nix::unistd::ForkResult;

/// The child's end of the verdict pipe.
pub struct Verdict {
    pipe: File,
}

/// Forks. The parent waits for the child's [`Verdict`] and exits with it
/// (111 if the child dies first); the child returns in a new session.
pub fn fork_and_wait() -> io::Result<Verdict> {
    let (reader, writer) = super::pipe(false)?;
    let (mut reader, writer) = (File::from(reader), File::from(writer));
    // SAFETY: the process is single-threaded here.
    if let ForkResult::Parent { .. } = unsafe { nix::unistd::fork() }? {
        drop(writer);
        let mut code = [111u8];
        let _ = reader.read(&mut code);
        // SAFETY: _exit ends the parent without running anything else.
        unsafe { libc::_exit(i32::from(code[0])) };
    }
    drop(reader);
    nix::unistd::setsid()?;
    Ok(Verdict { pipe: writer })
}

impl Verdict {
    /// Set-up failed: the parent exits with `code`.
    pub fn failed(mut self, code: u8) {
        let _ = self.pipe.write_all(&[code]);
    }

    /// Set-up succeeded: the parent exits 0, and our standard descriptors
    /// move to /dev/null (the terminal is no longer ours to write to).
    pub fn succeeded(mut self) -> io::Result<()> {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")?;
        nix::unistd::dup2_stdin(&null)?;
        nix::unistd::dup2_stdout(&null)?;
        nix::unistd::dup2_stderr(&null)?;
        self.pipe.write_all(&[0])
    }
}

/// Closes every descriptor above 2 that supervise inherited, before it
/// opens any of its own: a caller that passed a pipe and waits for its EOF
/// (`$(supervise ...)`, a CI runner) must not wait for as long as supervise
/// lives, and nothing the caller left open reaches the service.
pub fn close_inherited() {
    // SAFETY: close_range has no memory arguments; nothing of ours is open
    // yet above 2 (the caller makes sure: this runs first).
    if unsafe { libc::close_range(3, libc::c_uint::MAX, 0) } == 0 {
        return;
    }
    // Before Linux 5.9: one close per descriptor /proc lists.
    for fd in inherited() {
        // SAFETY: closing a number that is not ours (the directory listing's
        // own descriptor, closed by now) just fails with EBADF.
        unsafe { libc::close(fd) };
    }
}

/// Marks every inherited descriptor above 2 close-on-exec, so nothing the
/// caller left open leaks into the service.
pub fn cloexec_inherited() {
    // SAFETY: close_range has no memory arguments; CLOSE_RANGE_CLOEXEC only
    // sets the flag (Linux 5.11). One call, and no 32 KiB directory buffer
    // on a heap that keeps its pages.
    if unsafe {
        libc::close_range(
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_int,
        )
    } == 0
    {
        return;
    }
    for fd in inherited() {
        // SAFETY: fcntl on a descriptor number; a closed one just fails.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// The descriptors above 2 that /proc says are open.
fn inherited() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|fd| *fd > 2)
        .collect()
}
