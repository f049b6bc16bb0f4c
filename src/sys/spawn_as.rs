//! Starting the service as another user. `posix_spawn` cannot change ids,
//! so this path forks (`std::process::Command` with a pre-exec step) and,
//! in the child, after the output files are in place and the process group
//! is made: every signal back to default and unblocked, then setgroups,
//! setgid, setuid, in that order, then exec. Only services with a `user`
//! take it; the others keep the `posix_spawn` path of [`super::spawn`],
//! which copies no page tables. supervise is single-threaded, so the fork
//! is safe; the child makes only async-signal-safe calls.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use super::spawn::ServiceFiles;
use super::user::Identity;

/// Runs `argv` (searched in PATH as `execvp` does, `/bin/sh` for an
/// executable without `#!`) with `files` as its stdin, stdout and stderr,
/// in its own process group, as `who`; returns its pid. An exec failure,
/// or a failure to become `who`, comes back as the error.
pub fn service(argv: &[OsString], files: &ServiceFiles, who: &Identity) -> io::Result<u32> {
    let (stdin, stdout, stderr) = files.clones()?;
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .process_group(0);
    let who = who.clone();
    super::spawn::with_default_signals(&mut command);
    // SAFETY: the closure runs between fork and exec and makes only the
    // setgroups, setgid and setuid system calls; `who` was resolved
    // before the fork.
    unsafe {
        command.pre_exec(move || super::user::become_user(&who));
    }
    // The Child is dropped without waiting: supervise reaps it with every
    // other exit (sys::reap).
    Ok(command.spawn()?.id())
}
