//! Crash-loop back-off, shared by supervise (for its service) and
//! supervise-scan (for its supervise processes). Pure: run times in, delays
//! out.
//!
//! Quick exits (runs shorter than `healthy_after`) draw on a budget of
//! instant restarts, a token bucket of `burst` tokens that running earns
//! back: one token per `refill` of run time, and a healthy run (which
//! resets the doubling too) all of them. So a service killed a few times in
//! a row (the OOM killer, an operator's `kill -9` script, a dependency
//! flapping) comes back at once each time, and again the next time it is
//! killed after it ran healthy,
//! while a crash loop, whose runs earn nothing, spends the budget once and
//! then waits `start`, doubling up to `cap`, as before. No clock is read:
//! only run times earn, so a crash loop waiting at the cap earns nothing
//! either, and its restarts per minute are what they were without a budget.

use std::time::Duration;

/// How long to wait before starting something again that keeps exiting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Consecutive exits that came sooner than `healthy_after`.
    quick_exits: u32,
    /// Of those, the ones that found no instant restart left (they set
    /// the doubling).
    backed_off: u32,
    /// Run time owed for the instant restarts spent: `refill` per token,
    /// paid back by running. 0: the bucket is full.
    spent: Duration,
}

/// The back-off settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// A run at least this long resets the streak.
    pub healthy_after: Duration,
    /// The delay once the instant restarts are spent.
    pub start: Duration,
    /// The longest delay.
    pub cap: Duration,
    /// Instant restarts of quick exits before the doubling delay starts.
    pub burst: u32,
    /// Run time that earns one instant restart back (above 0).
    pub refill: Duration,
}

impl Backoff {
    /// Quick exits in a row so far.
    pub fn quick_exits(&self) -> u32 {
        self.quick_exits
    }

    /// Instant restarts left now.
    pub fn instant_left(&self, policy: Policy) -> u32 {
        if policy.refill.is_zero() {
            return policy.burst;
        }
        let full = policy.refill.saturating_mul(policy.burst);
        let left = full.saturating_sub(self.spent);
        (left.as_nanos() / policy.refill.as_nanos()) as u32
    }

    /// Forgets the streak (the next start is wanted, not a crash); the
    /// instant restarts spent stay spent.
    pub fn reset(&mut self) {
        self.quick_exits = 0;
        self.backed_off = 0;
    }

    /// The delay after an exit that ran `run_time`: none after a healthy
    /// run or while instant restarts are left, then `start` doubling up to
    /// `cap`.
    pub fn after_exit(&mut self, run_time: Duration, policy: Policy) -> Duration {
        if run_time >= policy.healthy_after {
            self.spent = Duration::ZERO;
            self.reset();
            return Duration::ZERO;
        }
        self.spent = self.spent.saturating_sub(run_time);
        self.quick_exits = self.quick_exits.saturating_add(1);
        let full = policy.refill.saturating_mul(policy.burst);
        // checked: a refill of Duration::MAX (earned back only by healthy
        // runs) must not saturate into a second free token.
        if let Some(spent) = self.spent.checked_add(policy.refill)
            && spent <= full
            && policy.burst > 0
        {
            self.spent = spent;
            return Duration::ZERO;
        }
        self.backed_off = self.backed_off.saturating_add(1);
        let doublings = (self.backed_off - 1).min(30);
        policy.start.saturating_mul(1 << doublings).min(policy.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: Duration = Duration::from_millis(1);

    fn policy(burst: u32, refill: Duration) -> Policy {
        Policy {
            healthy_after: Duration::from_secs(1),
            start: Duration::from_millis(100),
            cap: Duration::from_millis(500),
            burst,
            refill,
        }
    }

    /// The delays (ms) after exits that ran the given times (ms).
    fn delays(policy: Policy, runs: &[u64]) -> Vec<u128> {
        let mut backoff = Backoff::default();
        runs.iter()
            .map(|&ms| backoff.after_exit(MS * ms as u32, policy).as_millis())
            .collect()
    }

    /// The back-off before the burst budget (issue 14), as a reference.
    fn old_delays(policy: Policy, runs: &[u64]) -> Vec<u128> {
        let mut quick = 0u32;
        runs.iter()
            .map(|&ms| {
                if MS * ms as u32 >= policy.healthy_after {
                    quick = 0;
                    return 0;
                }
                quick += 1;
                if quick == 1 {
                    return 0;
                }
                policy
                    .start
                    .saturating_mul(1 << (quick - 2).min(30))
                    .min(policy.cap)
                    .as_millis()
            })
            .collect()
    }

    #[test]
    fn the_delays_for_each_budget() {
        let ten = Duration::from_secs(10);
        let table: &[(u32, Duration, &[u64], &[u128])] = &[
            // A budget of 1 that only a healthy run earns back: as before.
            (1, Duration::MAX, &[5; 6], &[0, 100, 200, 400, 500, 500]),
            (1, Duration::MAX, &[5, 5, 2000, 5, 5], &[0, 100, 0, 0, 100]),
            // 5 instant restarts, then the doubling from `start`.
            (5, ten, &[5; 9], &[0, 0, 0, 0, 0, 100, 200, 400, 500]),
            // A healthy run fills the bucket again and restarts the
            // doubling from `start`.
            (
                5,
                ten,
                &[5, 5, 5, 5, 5, 5, 2000, 5, 5, 5, 5, 5, 5],
                &[0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 100],
            ),
            // Quick runs earn too, by their length: two of 0.9 s earn a
            // token of 1.8 s (the doubling goes on meanwhile).
            (1, MS * 1800, &[5, 900, 900, 5, 5], &[0, 100, 0, 200, 400]),
            // No budget: every quick exit waits.
            (0, ten, &[5; 4], &[100, 200, 400, 500]),
            // A healthy run is restarted at once, whatever the budget.
            (0, ten, &[5, 1000, 5], &[100, 0, 100]),
        ];
        for &(burst, refill, runs, want) in table {
            assert_eq!(
                delays(policy(burst, refill), runs),
                want,
                "burst {burst}, refill {refill:?}, runs {runs:?}"
            );
        }
    }

    #[test]
    fn the_budget_left_is_counted_in_tokens() {
        let p = policy(5, Duration::from_secs(10));
        let mut backoff = Backoff::default();
        assert_eq!(backoff.instant_left(p), 5);
        backoff.after_exit(MS, p);
        backoff.after_exit(MS, p);
        assert_eq!(backoff.instant_left(p), 3);
        backoff.after_exit(Duration::from_millis(900), p);
        assert_eq!(backoff.instant_left(p), 2, "0.9 s of running earns 0.09");
        backoff.after_exit(Duration::from_secs(2), p);
        assert_eq!(backoff.instant_left(p), 5, "a healthy run: full");
        backoff.reset();
        assert_eq!(backoff.instant_left(p), 5);
    }

    proptest! {
        #[test]
        fn a_budget_of_one_earned_back_only_by_healthy_runs_is_the_old_back_off(
            runs in prop::collection::vec(prop_oneof![0..1000u64, 1000..5000u64], 0..40),
        ) {
            let p = policy(1, Duration::MAX);
            prop_assert_eq!(delays(p, &runs), old_delays(p, &runs));
        }

        #[test]
        fn instant_restarts_of_quick_exits_never_exceed_the_budget_and_what_was_earned(
            burst in 0..8u32,
            refill_ms in 1..20_000u64,
            runs in prop::collection::vec(prop_oneof![0..1000u64, 1000..30_000u64], 0..60),
        ) {
            let p = policy(burst, MS * refill_ms as u32);
            let got = delays(p, &runs);
            let mut earned_ms = 0u64;
            let mut instant = 0u64;
            for (&run, &delay) in runs.iter().zip(&got) {
                prop_assert!(delay <= p.cap.as_millis());
                if run >= 1000 {
                    prop_assert_eq!(delay, 0, "a healthy run restarts at once");
                    // ... and fills the bucket: count from here.
                    earned_ms = 0;
                    instant = 0;
                } else {
                    earned_ms += run;
                    instant += u64::from(delay == 0);
                }
                // Since the last healthy run, never more instant restarts
                // than the bucket holds plus what running earned back.
                prop_assert!(instant <= u64::from(burst) + earned_ms / refill_ms);
            }
        }

        #[test]
        fn a_crash_loop_waits_the_same_once_its_budget_is_spent(
            burst in 0..8u32,
            n in 0..30usize,
        ) {
            // Runs of 0 ms earn nothing: `burst` instant restarts, then the
            // old sequence after its first (free) one.
            let p = policy(burst, Duration::from_secs(10));
            let runs = vec![0u64; burst as usize + n];
            let got = delays(p, &runs);
            prop_assert!(got[..burst as usize].iter().all(|&d| d == 0));
            let old = old_delays(p, &vec![0u64; n + 1]);
            prop_assert_eq!(&got[burst as usize..], &old[1..]);
        }
    }
}
