//! Reading the clocks: the only place `now` comes from.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::supervisor::Now;

/// The monotonic and wall-clock time of this moment.
pub fn now() -> Now {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC
    // always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let mono = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Now { mono, wall }
}
