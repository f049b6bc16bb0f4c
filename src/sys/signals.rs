//! Signals to supervise itself arrive on a signalfd: SIGCHLD, SIGTERM, SIGINT
//! and SIGHUP are blocked and read as data from one descriptor that the
//! driver polls beside the control FIFO. No handler ever runs (the signals
//! stay blocked), so nothing races. Each still gets a do-nothing handler:
//! the kernel drops a signal whose disposition is default when it is sent to
//! the PID 1 of a namespace (a container's init), and caught signals fall
//! back to default at exec, so children start with default handling
//! (SPEC §9).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};

use super::check;

/// What a signal to supervise asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// A child changed state: reap.
    Child,
    /// SIGTERM or SIGINT: stop the service and exit.
    Terminate,
    /// SIGHUP: ignored, as the original does.
    Hangup,
}

/// Installed but never run: the signals are blocked and read from the
/// signalfd.
extern "C" fn never_runs(_: libc::c_int) {}

/// Installs `handler` for each of `signals`, with SA_RESTART. The handler
/// must be async-signal-safe (store into an atomic, or nothing at all).
pub fn handle(signals: &[libc::c_int], handler: extern "C" fn(libc::c_int)) -> io::Result<()> {
    for &sig in signals {
        // SAFETY: an all-zero sigaction is a valid value of this plain C
        // struct (empty mask); the handler is a plain function.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            check(libc::sigaction(sig, &action, std::ptr::null_mut()))?;
        }
    }
    Ok(())
}

/// The signalfd.
pub struct Signals {
    fd: File,
}

const HANDLED: [libc::c_int; 4] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

impl Signals {
    /// Blocks the handled signals and opens the signalfd for them.
    pub fn open() -> io::Result<Signals> {
        // SAFETY: sigset_t is plain data initialised by sigemptyset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in HANDLED {
                libc::sigaddset(&mut set, sig);
            }
            handle(&HANDLED, never_runs)?;
            check(libc::sigprocmask(
                libc::SIG_BLOCK,
                &set,
                std::ptr::null_mut(),
            ))?;
            let fd = check(libc::signalfd(
                -1,
                &set,
                libc::SFD_NONBLOCK | libc::SFD_CLOEXEC,
            ))?;
            Ok(Signals {
                fd: File::from_raw_fd(fd),
            })
        }
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Every signal pending now, in arrival order.
    pub fn drain(&mut self) -> Vec<Received> {
        const SIZE: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut out = Vec::new();
        // Room for every kind we handle: one read takes all that is pending.
        let mut buf = [0u8; SIZE * HANDLED.len()];
        while let Ok(n) = self.fd.read(&mut buf) {
            for info in buf[..n].chunks_exact(SIZE) {
                let signo = u32::from_ne_bytes(info[0..4].try_into().expect("4 bytes")) as i32;
                out.push(match signo {
                    libc::SIGCHLD => Received::Child,
                    libc::SIGHUP => Received::Hangup,
                    _ => Received::Terminate,
                });
            }
            if n < buf.len() {
                break;
            }
        }
        out
    }
}
