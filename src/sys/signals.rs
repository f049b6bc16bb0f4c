//! Signals to a supervisor itself arrive on a signalfd: they are blocked and
//! read as data from one descriptor that the event loop polls beside the
//! control FIFO. No handler ever runs (the signals stay blocked), so nothing
//! races. supervise blocks every signal that can be caught
//! ([`Signals::open_all`]), so that none can kill it by its default action
//! and orphan its service: what each means is the supervisor's decision.
//! SIGPIPE stays ignored instead (a write to a helper that is gone is just
//! EPIPE), SIGKILL and SIGSTOP cannot be caught, and the C library's two
//! reserved signals (32, 33) are left to it. SIGCHLD, SIGTERM, SIGINT and
//! SIGHUP also get a do-nothing handler: the kernel drops a signal whose
//! disposition is default when it is sent to the PID 1 of a namespace (a
//! container's init). Children start with every signal unblocked and at
//! its default (see `spawn`), SPEC §9.

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

/// Every signal supervise blocks and reads: all that can be caught, but
/// SIGPIPE (left ignored) and the C library's reserved 32 and 33.
pub fn catchable() -> impl Iterator<Item = libc::c_int> {
    (1..=libc::SIGRTMAX()).filter(|&sig| {
        !matches!(sig, libc::SIGKILL | libc::SIGSTOP | libc::SIGPIPE) && !(32..=33).contains(&sig)
    })
}

/// What a signal number asks of the scanner, which reads only [`HANDLED`].
fn meaning(signal: libc::c_int) -> Option<Received> {
    match signal {
        libc::SIGCHLD => Some(Received::Child),
        libc::SIGHUP => Some(Received::Hangup),
        libc::SIGTERM | libc::SIGINT => Some(Received::Terminate),
        _ => None,
    }
}

impl Signals {
    /// Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP and opens the signalfd for
    /// them (the scanner).
    pub fn open() -> io::Result<Signals> {
        Signals::open_set(&HANDLED)
    }

    /// Blocks every catchable signal (see [`catchable`]) and opens the
    /// signalfd for them (supervise); read them with [`Signals::numbers`].
    pub fn open_all() -> io::Result<Signals> {
        Signals::open_set(&catchable().collect::<Vec<_>>())
    }

    fn open_set(signals: &[libc::c_int]) -> io::Result<Signals> {
        // SAFETY: sigset_t is plain data initialised by sigemptyset.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for &sig in signals {
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

    /// Every signal pending now that the scanner handles, in arrival order.
    pub fn drain(&mut self) -> Vec<Received> {
        self.numbers().into_iter().filter_map(meaning).collect()
    }

    /// The number of every signal pending now, in arrival order. Standard
    /// signals do not queue: a storm of one signal is one entry per read.
    #[inline(never)] // its buffer stays off the caller's frame
    pub fn numbers(&mut self) -> Vec<libc::c_int> {
        const SIZE: usize = std::mem::size_of::<libc::signalfd_siginfo>();
        let mut out = Vec::new();
        let mut buf = [0u8; SIZE * 16];
        loop {
            match self.fd.read(&mut buf) {
                Ok(n) => {
                    for info in buf[..n].chunks_exact(SIZE) {
                        let signo = u32::from_ne_bytes(info[0..4].try_into().expect("4 bytes"));
                        out.push(signo as libc::c_int);
                    }
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break, // WouldBlock: drained
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catchable_signal_but_pipe_and_the_c_librarys_own() {
        let all: Vec<i32> = catchable().collect();
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGUSR1,
            libc::SIGUSR2,
            libc::SIGALRM,
            libc::SIGTERM,
            libc::SIGCHLD,
            libc::SIGCONT,
            libc::SIGTSTP,
            libc::SIGVTALRM,
            libc::SIGPROF,
            libc::SIGPWR,
            libc::SIGSEGV,
            34,
            64,
        ] {
            assert!(all.contains(&sig), "{sig}");
        }
        for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGPIPE, 32, 33] {
            assert!(!all.contains(&sig), "{sig}");
        }
    }

    #[test]
    fn the_scanner_reads_only_its_four() {
        assert_eq!(meaning(libc::SIGCHLD), Some(Received::Child));
        assert_eq!(meaning(libc::SIGINT), Some(Received::Terminate));
        assert_eq!(meaning(libc::SIGHUP), Some(Received::Hangup));
        assert_eq!(meaning(libc::SIGUSR1), None);
    }
}
