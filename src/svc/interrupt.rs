//! Catching SIGINT, SIGTERM and SIGHUP while `svc` waits, so that an operator
//! pressing Ctrl-C during `svc DIR stop` does not leave the service's alarms
//! silenced: the handler only records the signal; the wait loop sees it,
//! turns alarms back on and exits 128+signal.

use std::sync::atomic::{AtomicI32, Ordering};

static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn record(signal: libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// Installs the recording handler (it only stores into an atomic) for
/// SIGINT, SIGTERM and SIGHUP.
pub fn catch() {
    let _ = crate::sys::signals::handle(&[libc::SIGINT, libc::SIGTERM, libc::SIGHUP], record);
}

/// The signal caught since [`catch`], if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}
