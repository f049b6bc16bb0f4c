//! Reading the clocks: the only place `now` comes from.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::supervisor::Now;

/// The moment the monotonic clock is counted from: its first reading in
/// this process. The core takes durations, not `Instant`s, so that its
/// tables can name any moment; only differences between them matter.
static BASE: OnceLock<Instant> = OnceLock::new();

/// The monotonic and wall-clock time of this moment.
pub fn now() -> Now {
    let mono = BASE.get_or_init(Instant::now).elapsed();
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    Now { mono, wall }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_never_goes_back() {
        let first = now();
        let second = now();
        assert!(second.mono >= first.mono);
        assert!(first.wall > Duration::from_secs(1_600_000_000));
    }
}
