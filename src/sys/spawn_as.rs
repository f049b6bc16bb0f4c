//! Starting the service as another user. `posix_spawn` cannot change ids,
//! so this path does what the C library's `posix_spawn` does, plus the
//! ids: `clone(CLONE_VM | CLONE_VFORK)` onto a stack of its own, so no page
//! table is copied and supervise resumes once the child has exec'd (or
//! failed). In the child, in this order: every signal supervise ignores
//! back to default, its own process group, stdin/stdout/stderr from the
//! service's files (and the `notification_fd` pipe), setgroups, setgid, setuid (the user last: after it,
//! nothing else could be changed), an empty signal mask, then execve, and
//! `/bin/sh FILE` for an executable without `#!` (as `execvp` does).
//!
//! The child shares supervise's memory until it execs: it makes raw system
//! calls only (no allocation, no lock, no C library wrapper that keeps
//! state: glibc's set*id wrappers would signal supervise's "other threads"),
//! reads what the parent prepared, and writes one thing, the errno of what
//! failed, before `_exit(127)`. supervise is single-threaded; nothing runs
//! in it while the child lives.

use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;

use super::spawn::ServiceFiles;
use super::user::Identity;

/// The system calls that set 32-bit ids: the plain ones take 16-bit ids
/// on the 32-bit architectures that had them first.
#[cfg(any(target_arch = "x86", target_arch = "arm"))]
mod ids {
    pub const SETGROUPS: libc::c_long = libc::SYS_setgroups32;
    pub const SETGID: libc::c_long = libc::SYS_setgid32;
    pub const SETUID: libc::c_long = libc::SYS_setuid32;
}
#[cfg(not(any(target_arch = "x86", target_arch = "arm")))]
mod ids {
    pub const SETGROUPS: libc::c_long = libc::SYS_setgroups;
    pub const SETGID: libc::c_long = libc::SYS_setgid;
    pub const SETUID: libc::c_long = libc::SYS_setuid;
}

/// The child's stack: what `child_main` and the system calls it makes
/// need, with room to spare.
const STACK_SIZE: usize = 64 * 1024;

/// Everything the child reads, prepared before the clone.
struct Plan {
    /// The program, found in PATH as `execvp` would.
    path: CString,
    /// argv, NULL-terminated.
    argv: Vec<*const libc::c_char>,
    /// `/bin/sh PATH ARGS...`, NULL-terminated, for ENOEXEC.
    sh_argv: Vec<*const libc::c_char>,
    /// The environment.
    envp: *const *const libc::c_char,
    /// The service's stdin, stdout, stderr.
    fds: [libc::c_int; 3],
    /// A further descriptor and its number in the service.
    extra: Option<(libc::c_int, libc::c_int)>,
    groups: Vec<libc::gid_t>,
    uid: libc::uid_t,
    gid: libc::gid_t,
    /// The signals to set to SIG_DFL.
    defaults: Vec<i32>,
    /// Written by the child when a step fails: its errno.
    error: libc::c_int,
}

/// Runs `argv` (searched in PATH as `execvp` does, `/bin/sh` for an
/// executable without `#!`) with `files` as its stdin, stdout and stderr,
/// in its own process group, as `who`; returns its pid. An exec failure,
/// or a failure to become `who`, comes back as the error (and the failed
/// child is reaped here).
pub fn service(argv: &[OsString], files: &ServiceFiles, who: &Identity) -> io::Result<u32> {
    let invalid = |_| io::Error::new(io::ErrorKind::InvalidInput, "argument contains NUL");
    let args: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(invalid)?;
    let path = super::spawn::find_in_path(argv[0].as_bytes())
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
    let mut argv_ptrs: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut sh_argv = vec![c"/bin/sh".as_ptr(), path.as_ptr()];
    sh_argv.extend(args[1..].iter().map(|a| a.as_ptr()));
    sh_argv.push(std::ptr::null());
    unsafe extern "C" {
        static environ: *const *const libc::c_char;
    }
    let mut env_ptrs: Vec<*const libc::c_char> = Vec::new();
    if let Some(env) = files.env() {
        env_ptrs = env.iter().map(|e| e.as_ptr()).collect();
        env_ptrs.push(std::ptr::null());
    }
    let envp = if files.env().is_some() {
        env_ptrs.as_ptr()
    } else {
        // SAFETY: reading the pointer the C library keeps.
        unsafe { environ }
    };
    let mut plan = Plan {
        path,
        argv: argv_ptrs,
        sh_argv,
        envp,
        fds: files.raw_fds(),
        extra: files.extra(),
        groups: who.groups.clone(),
        uid: who.uid,
        gid: who.gid,
        defaults: super::spawn::signals_to_default(),
        error: 0,
    };
    let mut stack = vec![0u8; STACK_SIZE];
    // SAFETY: the stack grows down from its end, 16-byte aligned; `plan`
    // and the stack outlive the child's use of them (CLONE_VFORK: clone
    // returns once the child has exec'd or exited); child_main makes only
    // raw system calls.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(STACK_SIZE) as usize & !15;
        libc::clone(
            child_main,
            top as *mut libc::c_void,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&mut plan as *mut Plan).cast(),
        )
    };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the child is gone or has exec'd: nothing else writes `error`.
    let error = unsafe { std::ptr::read_volatile(&plan.error) };
    if error != 0 {
        super::reap::reap_failed_spawn(pid);
        return Err(io::Error::from_raw_os_error(error));
    }
    Ok(pid as u32)
}

/// The child, between clone and exec. Returns only by `_exit`.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the parent's Plan, alive and not touched by the
    // parent until this child execs or exits; every call is a raw system
    // call on prepared data.
    unsafe {
        let plan = &mut *arg.cast::<Plan>();
        for &signal in &plan.defaults {
            super::spawn::reset_to_default(signal);
        }
        if libc::syscall(libc::SYS_setpgid, 0, 0) != 0 {
            fail(plan);
        }
        let extra = plan.extra.iter().map(|&(fd, target)| (target, fd));
        let dups = plan
            .fds
            .iter()
            .enumerate()
            .map(|(t, &fd)| (t as libc::c_int, fd));
        for (target, fd) in dups.chain(extra) {
            let rc = if fd == target {
                // Already in place: only let it survive exec.
                libc::syscall(libc::SYS_fcntl, fd, libc::F_SETFD, 0)
            } else {
                // dup3, not dup2: some architectures (arm64, riscv64)
                // have no dup2 system call.
                libc::syscall(libc::SYS_dup3, fd, target, 0)
            };
            if rc < 0 {
                fail(plan);
            }
        }
        if libc::syscall(ids::SETGROUPS, plan.groups.len(), plan.groups.as_ptr()) != 0
            || libc::syscall(ids::SETGID, plan.gid) != 0
            || libc::syscall(ids::SETUID, plan.uid) != 0
        {
            fail(plan);
        }
        // All zero: the empty set, whatever the kernel's set size.
        let empty = super::spawn::ZEROED_KERNEL_SIGACTION;
        if libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            empty.as_ptr(),
            std::ptr::null_mut::<u64>(),
            super::spawn::KERNEL_SIGSET_BYTES,
        ) != 0
        {
            fail(plan);
        }
        libc::syscall(
            libc::SYS_execve,
            plan.path.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp,
        );
        if *libc::__errno_location() == libc::ENOEXEC {
            libc::syscall(
                libc::SYS_execve,
                c"/bin/sh".as_ptr(),
                plan.sh_argv.as_ptr(),
                plan.envp,
            );
        }
        fail(plan)
    }
}

/// The child's way out: the errno of what failed, for the parent, then
/// `_exit` (the exit_group system call; no atexit handler, no flush).
///
/// # Safety
/// Only in the child of [`service`].
unsafe fn fail(plan: &mut Plan) -> ! {
    // SAFETY: errno is readable; `plan` is the parent's, which waits.
    unsafe {
        std::ptr::write_volatile(&mut plan.error, *libc::__errno_location());
        libc::_exit(127)
    }
}
