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
    let child = with_default_signals(&mut command).spawn()?;
    // Dropping the Child neither waits nor kills: reap.rs reaps it.
    Ok(child.id())
}

/// Starts a helper program in its own process group with a pipe as stdin
/// (for [`feed`]) and its output appended to `output`; returns its pid and
/// the pipe.
pub fn helper(
    program: &std::ffi::OsStr,
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
    let mut child = with_default_signals(&mut command).spawn()?;
    Ok((child.id(), child.stdin.take()))
}

/// The kernel's sigaction with every field zero: SIG_DFL, no flags, empty
/// mask. Used through the raw system call, because the C library refuses to
/// touch the real-time signals it reserves (32, 33), which may arrive ignored.
const DEFAULT_ACTION: [u64; 4] = [0; 4];

/// The signals supervise has as SIG_IGN (SIGPIPE from the Rust runtime, and
/// any it inherited, say from nohup), found once: caught signals fall back
/// to default at exec by themselves, ignored ones would pass on.
fn ignored_signals() -> &'static [i32] {
    static IGNORED: std::sync::OnceLock<Vec<i32>> = std::sync::OnceLock::new();
    IGNORED.get_or_init(|| {
        (1..=64)
            .filter(|&signal| {
                let mut old = [0u64; 4];
                // SAFETY: reads the current action into `old`; sets nothing.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_rt_sigaction,
                        signal,
                        std::ptr::null::<u64>(),
                        old.as_mut_ptr(),
                        8,
                    )
                };
                rc == 0 && old[0] == libc::SIG_IGN as u64
            })
            .collect()
    })
}

/// Makes the child start with default signal handling: every signal
/// unblocked, none ignored.
fn with_default_signals(command: &mut Command) -> &mut Command {
    let ignored = ignored_signals();
    // SAFETY: the closure runs between fork and exec and only makes the
    // rt_sigaction and sigprocmask system calls, which are async-signal-safe;
    // `ignored` was computed before the fork.
    unsafe {
        command.pre_exec(move || {
            for &signal in ignored {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    DEFAULT_ACTION.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8,
                );
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            if libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Writes as much of `bytes` into a helper's stdin as fits without blocking
/// (a helper that does not read must not stall supervise), then closes it.
/// Returns how many bytes went in.
pub fn feed(stdin: std::process::ChildStdin, bytes: &[u8]) -> usize {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(stdin.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(stdin.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut stdin = stdin;
    let mut written = 0;
    while written < bytes.len() {
        match stdin.write(&bytes[written..]) {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    written
}

/// How the scanner starts one supervise.
pub struct SuperviseLaunch<'a> {
    /// The supervise binary.
    pub program: &'a Path,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its (and so the service's) working directory.
    pub directory: Option<&'a Path>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// The file-mode creation mask.
    pub umask: Option<u32>,
    /// Run as this user.
    pub user: Option<&'a super::user::Identity>,
}

/// Starts a supervise for the scanner, in its own process group (so a
/// terminal's Ctrl-C reaches only the scanner, which stops everything in
/// order), with default signal handling; returns its pid.
pub fn supervise(launch: SuperviseLaunch<'_>) -> io::Result<u32> {
    let mut command = Command::new(launch.program);
    command
        .args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .env_remove("SUPERVISE_FOREGROUND")
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(dir) = launch.directory {
        command.current_dir(dir);
    }
    let umask = launch.umask;
    let user = launch.user.cloned();
    // SAFETY: umask and the set*id calls are async-signal-safe; `user` was
    // looked up before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(mask) = umask {
                libc::umask(mask as libc::mode_t);
            }
            if let Some(who) = &user {
                super::user::become_user(who)?;
            }
            Ok(())
        });
    }
    let child = with_default_signals(&mut command).spawn()?;
    Ok(child.id())
}
