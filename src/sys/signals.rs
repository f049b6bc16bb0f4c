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

use std::io;
use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

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
    let action = SigAction::new(
        SigHandler::Handler(handler),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for &sig in signals {
        let sig = Signal::try_from(sig)?;
        // SAFETY: the handler is a plain function that the caller vouches
        // is async-signal-safe.
        unsafe { nix::sys::signal::sigaction(sig, &action) }?;
    }
    Ok(())
}

/// The signalfd.
pub struct Signals {
    fd: SignalFd,
}

const HANDLED: [libc::c_int; 4] = [libc::SIGCHLD, libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// Every signal supervise blocks and reads: all that can be caught, but
/// SIGPIPE (left ignored) and the C library's reserved 32 and 33, which its
/// `sigfillset` leaves out by itself.
fn catchable() -> SigSet {
    let mut set = SigSet::all();
    for sig in [Signal::SIGKILL, Signal::SIGSTOP, Signal::SIGPIPE] {
        set.remove(sig);
    }
    set
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
        let mut set = SigSet::empty();
        for sig in HANDLED {
            set.add(Signal::try_from(sig)?);
        }
        Signals::open_set(&set)
    }

    /// Blocks every catchable signal (see [`catchable`]) and opens the
    /// signalfd for them (supervise); read them with [`Signals::numbers`].
    pub fn open_all() -> io::Result<Signals> {
        Signals::open_set(&catchable())
    }

    fn open_set(set: &SigSet) -> io::Result<Signals> {
        handle(&HANDLED, never_runs)?;
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(set), None)?;
        let fd = SignalFd::with_flags(set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_fd().as_raw_fd()
    }

    /// Every signal pending now that the scanner handles, in arrival order.
    pub fn drain(&mut self) -> Vec<Received> {
        self.numbers().into_iter().filter_map(meaning).collect()
    }

    /// The number of every signal pending now, in arrival order. Standard
    /// signals do not queue: a storm of one signal is one entry per read.
    pub fn numbers(&mut self) -> Vec<libc::c_int> {
        let mut out = Vec::new();
        loop {
            match self.fd.read_signal() {
                Ok(Some(info)) => out.push(info.ssi_signo as libc::c_int),
                Err(Errno::EINTR) => {}
                Ok(None) | Err(_) => break, // None: drained
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
        let set = catchable();
        // SAFETY: sigismember reads the set nix initialised; it is the only
        // way to ask about real-time signals, which nix's Signal cannot name.
        let has = |sig| unsafe { libc::sigismember(set.as_ref(), sig) } == 1;
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
            assert!(has(sig), "{sig}");
        }
        for sig in [libc::SIGKILL, libc::SIGSTOP, libc::SIGPIPE, 32, 33] {
            assert!(!has(sig), "{sig}");
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
