//! Starting programs: the service (own process group, stdout/stderr appended
//! to `__stdout`/`__stderr`, stdin /dev/null) through `posix_spawnp` (as a
//! user: [`super::spawn_as`]), and helpers (restart hook, alarm senders,
//! the scanner's supervise) through `std::process::Command`. Never a
//! shell; exec errors come back to us;
//! every descriptor of ours is close-on-exec, so none leaks. supervise blocks
//! the signals it reads from its signalfd, and a blocked mask survives exec,
//! so each child clears it, and resets what supervise ignores.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Opens `path` for appending, creating it (mode 0600) if missing, for a
/// child's output.
///
/// The open never blocks: a FIFO with nobody reading it is ENXIO at once (a
/// blocking open would freeze supervise until a reader comes). Once open,
/// the file is made blocking again, so that a service writing into a pipe
/// whose reader is slow waits, as under a shell, instead of losing output
/// to EAGAIN. The service shares this open file description, so the flag
/// is the service's; supervise never writes to these files itself. A
/// symlink is followed (`__stdout -> /dev/null` is a common way to drop
/// output); nothing is ever truncated.
pub fn open_append(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    set_blocking(&file)?;
    Ok(file)
}

/// `e` with the path it concerns, for log lines that name what failed.
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
}

/// Clears O_NONBLOCK on the open file description of `file`.
fn set_blocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsFd;
    super::set_nonblocking(file.as_fd(), false)
}

/// The service's standard input and output as supervise opened them.
///
/// Held while the service runs so that its exit is not the last close of
/// these files: the last close releases the file (on ext4, discarding its
/// block preallocation), and that work would otherwise be done by the dying
/// service, delaying its exit as seen by whoever waits for it. supervise
/// drops them after the exit is handled, off that path.
pub struct ServiceFiles {
    _stdin: File,
    _stdout: File,
    _stderr: File,
    /// A further descriptor for the service and its number there.
    extra: Option<(i32, i32)>,
    /// Its environment, when it is not ours as it is.
    env: Option<Vec<std::ffi::CString>>,
}

/// Our environment with `set` laid over it, as `KEY=VALUE` strings;
/// `None` when there is nothing to set.
fn environment(set: Vec<(OsString, OsString)>) -> io::Result<Option<Vec<std::ffi::CString>>> {
    use std::os::unix::ffi::OsStrExt;
    if set.is_empty() {
        return Ok(None);
    }
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| !set.iter().any(|(s, _)| s == k))
        .collect();
    vars.extend(set);
    vars.into_iter()
        .map(|(k, v)| {
            let mut bytes = k.as_bytes().to_vec();
            bytes.push(b'=');
            bytes.extend_from_slice(v.as_bytes());
            std::ffi::CString::new(bytes)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the environment"))
        })
        .collect::<io::Result<Vec<_>>>()
        .map(Some)
}

impl ServiceFiles {
    /// The descriptors of stdin, stdout and stderr, for a child to dup.
    pub(super) fn raw_fds(&self) -> [libc::c_int; 3] {
        use std::os::fd::AsRawFd;
        [
            self._stdin.as_raw_fd(),
            self._stdout.as_raw_fd(),
            self._stderr.as_raw_fd(),
        ]
    }

    /// The further descriptor and its number in the service, if any.
    pub(super) fn extra(&self) -> Option<(i32, i32)> {
        self.extra
    }

    /// The service's environment when it is not ours as it is.
    pub(super) fn env(&self) -> Option<&[std::ffi::CString]> {
        self.env.as_deref()
    }
}

/// Starts the service `argv` with its output in `dir`; returns its pid and
/// its files (see [`ServiceFiles`]).
///
/// Through the C library's `posix_spawnp`, which clones with `CLONE_VFORK`
/// and a shared address space: supervise does not copy its page tables for
/// every restart (less CPU per restart, an earlier start), and an exec
/// failure comes back as the return value. The attributes give the child
/// its own process group, an empty signal mask and default handling of every
/// signal (see [`default_signals`]).
pub fn service(argv: &[OsString], dir: &Path) -> io::Result<(u32, ServiceFiles)> {
    service_with(argv, dir, None, None, Vec::new(), None)
}

/// [`service`], its output into `pipes` when given (the write ends of
/// supervise's log pipes), also giving the service `extra`: a descriptor
/// of ours (close-on-exec, not the target number) duplicated onto the
/// number given (the write end of the `notification_fd` pipe); and `env`,
/// variables set (or replaced) in its environment (`NOTIFY_SOCKET`). With
/// `who`, the service runs as that user, through [`super::spawn_as`]
/// (posix_spawn cannot change ids).
pub fn service_with(
    argv: &[OsString],
    dir: &Path,
    pipes: Option<[&File; 2]>,
    extra: Option<(i32, i32)>,
    env: Vec<(OsString, OsString)>,
    who: Option<&super::user::Identity>,
) -> io::Result<(u32, ServiceFiles)> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    if argv.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    }
    let output = |name: &str| {
        let path = dir.join(name);
        open_append(&path).map_err(|e| named(&path, e))
    };
    let (stdout, stderr) = match pipes {
        Some([out, err]) => (out.try_clone()?, err.try_clone()?),
        None => (output("__stdout")?, output("__stderr")?),
    };
    let null = File::open("/dev/null")?;
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "argument contains NUL"))?;
    let files = ServiceFiles {
        _stdin: null,
        _stdout: stdout,
        _stderr: stderr,
        extra,
        env: environment(env)?,
    };
    if let Some(who) = who {
        let pid = super::spawn_as::service(argv, &files, who)?;
        return Ok((pid, files));
    }
    let pid = match spawn_program(Program::Search(&args[0]), &args, &files) {
        // glibc's posix_spawnp does not do what execvp does for an
        // executable without `#!`: run it with /bin/sh (SPEC §5.1).
        Err(e) if e.raw_os_error() == Some(libc::ENOEXEC) => {
            let script = find_in_path(argv[0].as_bytes()).ok_or(e)?;
            let mut sh_args = vec![CString::from(c"/bin/sh"), script];
            sh_args.extend(args[1..].iter().cloned());
            spawn_program(Program::Path(c"/bin/sh"), &sh_args, &files)?
        }
        other => other?,
    };
    Ok((pid, files))
}

/// What `posix_spawn` runs.
enum Program<'a> {
    /// Searched in PATH when it has no `/` (posix_spawnp).
    Search(&'a std::ffi::CStr),
    /// This file (posix_spawn).
    Path(&'a std::ffi::CStr),
}

/// One `posix_spawn[p]` of `args` with the service's files and attributes.
fn spawn_program(
    program: Program<'_>,
    args: &[std::ffi::CString],
    files: &ServiceFiles,
) -> io::Result<u32> {
    use std::os::fd::AsRawFd;

    let mut arg_ptrs: Vec<*mut libc::c_char> = args.iter().map(|a| a.as_ptr().cast_mut()).collect();
    arg_ptrs.push(std::ptr::null_mut());
    unsafe extern "C" {
        static environ: *const *mut libc::c_char;
    }
    let mut env_ptrs: Vec<*mut libc::c_char> = Vec::new();
    if let Some(env) = &files.env {
        env_ptrs = env.iter().map(|e| e.as_ptr().cast_mut()).collect();
        env_ptrs.push(std::ptr::null_mut());
    }
    // SAFETY: reading the C library's pointer to our environment.
    let envp = if files.env.is_some() {
        env_ptrs.as_ptr()
    } else {
        unsafe { environ }
    };
    let mut pid: libc::pid_t = 0;
    // SAFETY: the attribute and file-action objects are initialised before
    // use and destroyed after; every pointer passed lives until the call
    // returns; the descriptors are ours and open.
    let rc = unsafe {
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        let mut actions: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        libc::posix_spawnattr_init(&mut attr);
        libc::posix_spawn_file_actions_init(&mut actions);
        let mut mask: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut mask);
        libc::posix_spawnattr_setsigmask(&mut attr, &mask);
        libc::posix_spawnattr_setsigdefault(&mut attr, &default_signals());
        libc::posix_spawnattr_setpgroup(&mut attr, 0);
        let flags = libc::POSIX_SPAWN_SETPGROUP
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        libc::posix_spawnattr_setflags(&mut attr, flags as libc::c_short);
        libc::posix_spawn_file_actions_adddup2(&mut actions, files._stdin.as_raw_fd(), 0);
        libc::posix_spawn_file_actions_adddup2(&mut actions, files._stdout.as_raw_fd(), 1);
        libc::posix_spawn_file_actions_adddup2(&mut actions, files._stderr.as_raw_fd(), 2);
        if let Some((fd, target)) = files.extra {
            libc::posix_spawn_file_actions_adddup2(&mut actions, fd, target);
        }
        let rc = match program {
            Program::Search(file) => libc::posix_spawnp(
                &mut pid,
                file.as_ptr(),
                &actions,
                &attr,
                arg_ptrs.as_ptr(),
                envp,
            ),
            Program::Path(path) => libc::posix_spawn(
                &mut pid,
                path.as_ptr(),
                &actions,
                &attr,
                arg_ptrs.as_ptr(),
                envp,
            ),
        };
        libc::posix_spawn_file_actions_destroy(&mut actions);
        libc::posix_spawnattr_destroy(&mut attr);
        rc
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(pid as u32)
}

/// The file `posix_spawnp` ran for `name`, as execvp finds it: `name`
/// itself when it holds a `/`, else the first executable regular file
/// `DIR/name` for DIR in PATH (default `/bin:/usr/bin`; an empty entry is
/// the working directory).
pub(super) fn find_in_path(name: &[u8]) -> Option<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    if name.contains(&b'/') {
        return std::ffi::CString::new(name).ok();
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    path.as_bytes().split(|&b| b == b':').find_map(|dir| {
        let mut candidate = if dir.is_empty() {
            b".".to_vec()
        } else {
            dir.to_vec()
        };
        candidate.push(b'/');
        candidate.extend_from_slice(name);
        let candidate = std::ffi::CString::new(candidate).ok()?;
        let file = Path::new(std::ffi::OsStr::from_bytes(candidate.as_bytes()));
        // SAFETY: a valid C string for the duration of the call.
        let executable = unsafe { libc::access(candidate.as_ptr(), libc::X_OK) } == 0;
        (executable && file.is_file()).then_some(candidate)
    })
}

/// The signals `posix_spawn` must set to SIG_DFL in the child: those
/// supervise ignores (caught ones fall back to default by themselves), and
/// the C library's two reserved real-time signals (32, 33), which its
/// `posix_spawn` otherwise sets to SIG_IGN in every child. `sigaddset`
/// refuses those two, so their bits are set as glibc's own `__sigaddset`
/// does: bit (N-1) % W of word (N-1) / W, W the bits of an `unsigned long`.
fn default_signals() -> libc::sigset_t {
    const WORD: usize = libc::c_ulong::BITS as usize;
    // SAFETY: sigset_t is plain data, glibc's array of unsigned long that
    // sigemptyset clears; every index written is below 64 / WORD + 1,
    // inside its 1024 bits.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        let words = (&mut set as *mut libc::sigset_t).cast::<libc::c_ulong>();
        for &signal in ignored_signals().iter().chain(&[32, 33]) {
            let bit = (signal - 1) as usize;
            *words.add(bit / WORD) |= 1 << (bit % WORD);
        }
        set
    }
}

/// The signals a child must set to SIG_DFL itself (see [`default_signals`]).
pub(super) fn signals_to_default() -> Vec<i32> {
    ignored_signals().iter().copied().chain([32, 33]).collect()
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
            let file = open_append(path).map_err(|e| named(path, e))?;
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

/// The size of the kernel's signal set, rt_sigaction's and
/// rt_sigprocmask's last argument: 64 signals but on MIPS, which has 128.
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
pub(super) const KERNEL_SIGSET_BYTES: usize = 8;
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
pub(super) const KERNEL_SIGSET_BYTES: usize = 16;

/// Zero bytes enough for the kernel's `struct sigaction` and its signal
/// set on every Linux architecture (32 bytes at most: handler, flags, a
/// restorer on some, the mask). Its layout differs between them, but all
/// zero is the same value on all: SIG_DFL, no flags, an empty mask.
pub(super) const ZEROED_KERNEL_SIGACTION: [u64; 4] = [0; 4];

/// Sets `signal` to SIG_DFL through the raw rt_sigaction system call: the
/// C library refuses to touch the real-time signals it reserves (32, 33),
/// which may arrive ignored. Makes no C library call but `syscall`, so the
/// `CLONE_VM` child of [`super::spawn_as`] may use it too.
///
/// # Safety
/// Only in a child between fork (or clone) and exec: it changes a
/// disposition the parent may rely on.
pub(super) unsafe fn reset_to_default(signal: i32) {
    // SAFETY: the kernel reads at most its struct's size from a buffer of
    // at least that size, and writes nothing (no old action asked for).
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            signal,
            ZEROED_KERNEL_SIGACTION.as_ptr(),
            std::ptr::null_mut::<u64>(),
            KERNEL_SIGSET_BYTES,
        );
    }
}

/// The signals supervise has as SIG_IGN (SIGPIPE from the Rust runtime, and
/// any it inherited, say from nohup), found once: caught signals fall back
/// to default at exec by themselves, ignored ones would pass on. The C
/// library's 32 and 33, which it will not report, are reset regardless
/// (see [`signals_to_default`]).
fn ignored_signals() -> &'static [i32] {
    static IGNORED: std::sync::OnceLock<Vec<i32>> = std::sync::OnceLock::new();
    IGNORED.get_or_init(|| {
        (1..=64)
            .filter(|signal| !(32..=33).contains(signal))
            .filter(|&signal| {
                // SAFETY: sigaction only reads the current action into
                // `old`, a plain C struct; it sets nothing.
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                        && old.sa_sigaction == libc::SIG_IGN
                }
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
            for &signal in ignored.iter().chain(&[32, 33]) {
                reset_to_default(signal);
            }
            use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
            sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
            Ok(())
        })
    }
}

/// Writes as much of `bytes` into a helper's stdin as fits without blocking
/// (a helper that does not read must not stall supervise), then closes it.
/// Returns how many bytes went in.
pub fn feed(stdin: std::process::ChildStdin, bytes: &[u8]) -> usize {
    use std::io::Write;
    use std::os::fd::AsFd;
    let _ = super::set_nonblocking(stdin.as_fd(), true);
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
    /// Its argv[0], if not `program`.
    pub arg0: Option<&'a std::ffi::OsStr>,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// Its (and so the service's) working directory.
    pub directory: Option<&'a Path>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// The file-mode creation mask.
    pub umask: Option<u32>,
}

/// Starts a supervise for the scanner, in its own process group (so a
/// terminal's Ctrl-C reaches only the scanner, which stops everything in
/// order), with default signal handling; returns its pid.
pub fn supervise(launch: SuperviseLaunch<'_>) -> io::Result<u32> {
    let mut command = Command::new(launch.program);
    if let Some(arg0) = launch.arg0 {
        command.arg0(arg0);
    }
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
    // SAFETY: umask is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            if let Some(mask) = umask {
                libc::umask(mask as libc::mode_t);
            }
            Ok(())
        });
    }
    let child = with_default_signals(&mut command).spawn()?;
    Ok(child.id())
}
