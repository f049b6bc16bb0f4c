//! Starting programs: the service (own process group, stdout/stderr appended
//! to `__stdout`/`__stderr`, stdin /dev/null) and helpers (restart hook, alarm
//! senders). All go through `std::process::Command` without a shell, which
//! reports exec errors back to us; every descriptor of ours is close-on-exec,
//! so none leaks. supervise blocks the signals it reads from its signalfd, and
//! a blocked mask survives exec, so each child clears it before exec.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Opens `path` for appending, creating it (mode 0600) if missing.
pub fn open_append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
}

/// Starts the service `argv` with its output in `dir`; returns its pid.
pub fn service(argv: &[OsString], dir: &Path) -> io::Result<u32> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let stdout = open_append(&dir.join("__stdout"))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open __stdout: {e}")))?;
    let stderr = open_append(&dir.join("__stderr"))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open __stderr: {e}")))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let child = with_default_signal_mask(&mut command).spawn()?;
    // Dropping the Child neither waits nor kills: reap.rs reaps it.
    Ok(child.id())
}

/// Starts a helper program with `stdin` bytes piped in (written by the
/// caller) and its output appended to `output`; returns its pid and the pipe.
pub fn helper(
    program: &OsString,
    args: &[OsString],
    env: &[(String, String)],
    output: Option<&Path>,
) -> io::Result<(u32, Option<std::process::ChildStdin>)> {
    let (stdout, stderr) = match output {
        Some(path) => {
            let file = open_append(path)?;
            (Stdio::from(file.try_clone()?), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let mut child = with_default_signal_mask(&mut command).spawn()?;
    Ok((child.id(), child.stdin.take()))
}

/// Makes the child unblock every signal between fork and exec.
fn with_default_signal_mask(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs between fork and exec and only calls
    // sigemptyset and sigprocmask, which are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
