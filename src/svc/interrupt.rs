//! Catching SIGINT, SIGTERM and SIGHUP while `svc` waits, so that an operator
//! pressing Ctrl-C during `svc DIR stop` does not leave the service's alarms
//! silenced: the handler only records the signal; the wait loop sees it,
//! turns alarms back on and exits 128+signal.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// Installs the recording handler for SIGINT, SIGTERM and SIGHUP.
pub fn catch() {
    let action = SigAction::new(
        SigHandler::Handler(record),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores into an atomic, which is
        // async-signal-safe; no previous handler is relied upon.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// The signal caught since [`catch`], if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}
