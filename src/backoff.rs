//! Crash-loop back-off, shared by supervise (for its service) and
//! supervise-scan (for its supervise processes). Pure: run times in, delays
//! out.

use std::time::Duration;

/// How long to wait before starting something again that keeps exiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Consecutive exits that came sooner than `healthy_after`.
    quick_exits: u32,
}

/// The back-off settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A run at least this long resets the streak.
    pub healthy_after: Duration,
    /// The delay before the second quick restart in a row.
    pub start: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Backoff {
    /// Quick exits in a row so far.
    pub fn quick_exits(&self) -> u32 {
        self.quick_exits
    }

    /// Forgets the streak (the next start is wanted, not a crash).
    pub fn reset(&mut self) {
        self.quick_exits = 0;
    }

    /// The delay after an exit that ran `run_time`: none after a healthy
    /// run or for the first quick exit, then `start` doubling up to `cap`.
    pub fn after_exit(&mut self, run_time: Duration, policy: Policy) -> Duration {
        if run_time >= policy.healthy_after {
            self.quick_exits = 0;
            return Duration::ZERO;
        }
        self.quick_exits = self.quick_exits.saturating_add(1);
        if self.quick_exits == 1 {
            return Duration::ZERO;
        }
        let doublings = (self.quick_exits - 2).min(30);
        policy.start.saturating_mul(1 << doublings).min(policy.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_quick_exit_is_free_then_doubling_to_the_cap_and_a_healthy_run_resets() {
        let policy = Policy {
            healthy_after: Duration::from_secs(1),
            start: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        };
        let quick = Duration::from_millis(10);
        let mut backoff = Backoff::default();
        let delays: Vec<u128> = (0..6)
            .map(|_| backoff.after_exit(quick, policy).as_millis())
            .collect();
        assert_eq!(delays, vec![0, 100, 200, 400, 500, 500]);
        assert_eq!(
            backoff.after_exit(Duration::from_secs(2), policy),
            Duration::ZERO
        );
        assert_eq!(backoff.quick_exits(), 0);
        assert_eq!(backoff.after_exit(quick, policy), Duration::ZERO);
    }
}
