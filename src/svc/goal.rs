//! What a waiting command waits for, and the verdict on one observation.
//! Pure: the caller observes the status directory (status file, whether
//! supervise reads `ok`, whether the process groups it saw are gone) and asks
//! [`judge`]; the deadline and the polling belong to the caller.

use std::time::Duration;

use crate::status::Status;

/// The state a command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// A running child started after the status seen before the command:
    /// its `since` differs from `after` (so a reused pid still counts as new).
    /// `None` accepts any running child.
    Up {
        /// The `since` of the status seen before the command.
        after: Option<Duration>,
    },
    /// pid 0 in the status file and every process group seen is gone.
    Down,
    /// supervise gone (`ok` has no reader) and every process group gone.
    Gone,
    /// Status byte 14 shows alarms on (`true`) or silenced.
    Alarm(bool),
}

/// One observation of a status directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The status file, `None` when it could not be read this time.
    pub status: Option<Status>,
    /// supervise reads `ok`.
    pub supervise_alive: bool,
    /// Some process group of a pid seen during the wait still exists.
    pub groups_alive: bool,
}

/// The verdict on one observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The goal is reached.
    Reached,
    /// Not yet; look again until the deadline.
    Waiting,
    /// supervise exited: the goal can no longer be reached.
    SuperviseExited,
}

/// Judges one observation against the goal.
pub fn judge(goal: Goal, seen: &Seen) -> Verdict {
    let reached = match (goal, seen.status) {
        (Goal::Gone, _) => !seen.supervise_alive && !seen.groups_alive,
        (_, None) => false,
        (Goal::Up { after }, Some(status)) => {
            seen.supervise_alive && status.pid != 0 && after != Some(status.since)
        }
        (Goal::Down, Some(status)) => status.pid == 0 && !seen.groups_alive,
        (Goal::Alarm(on), Some(status)) => seen.supervise_alive && status.alarms_on == on,
    };
    if reached {
        Verdict::Reached
    } else if !seen.supervise_alive && goal != Goal::Gone {
        Verdict::SuperviseExited
    } else {
        Verdict::Waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Want;

    fn status(pid: u32, since: u64, alarms_on: bool) -> Option<Status> {
        Some(Status {
            since: Duration::from_secs(since),
            paused: false,
            want: Want::Up,
            alarms_on,
            pid,
        })
    }

    fn seen(status: Option<Status>, supervise_alive: bool, groups_alive: bool) -> Seen {
        Seen {
            status,
            supervise_alive,
            groups_alive,
        }
    }

    #[test]
    fn up_needs_a_new_start() {
        use Verdict::*;
        let after = Goal::Up {
            after: Some(Duration::from_secs(100)),
        };
        let table = [
            (after, seen(status(42, 100, true), true, true), Waiting),
            (after, seen(status(0, 105, true), true, false), Waiting),
            (after, seen(status(43, 106, true), true, true), Reached),
            // The same pid again, reused by a later start, is new.
            (after, seen(status(42, 107, true), true, true), Reached),
            (
                after,
                seen(status(43, 106, true), false, true),
                SuperviseExited,
            ),
            (after, seen(None, true, false), Waiting),
            (
                Goal::Up { after: None },
                seen(status(42, 100, true), true, true),
                Reached,
            ),
            (
                Goal::Up { after: None },
                seen(status(0, 100, true), true, false),
                Waiting,
            ),
        ];
        for (goal, seen, verdict) in table {
            assert_eq!(judge(goal, &seen), verdict, "{goal:?} {seen:?}");
        }
    }

    #[test]
    fn down_needs_the_groups_gone_too() {
        use Verdict::*;
        let table = [
            (seen(status(42, 1, true), true, true), Waiting),
            (seen(status(0, 2, true), true, true), Waiting),
            (seen(status(0, 2, true), true, false), Reached),
            // supervise may exit (`dx`) right after writing pid 0.
            (seen(status(0, 2, true), false, false), Reached),
            (seen(status(42, 1, true), false, true), SuperviseExited),
            (seen(status(0, 2, true), false, true), SuperviseExited),
            (seen(None, true, false), Waiting),
        ];
        for (seen, verdict) in table {
            assert_eq!(judge(Goal::Down, &seen), verdict, "{seen:?}");
        }
    }

    #[test]
    fn gone_needs_supervise_and_groups_gone() {
        use Verdict::*;
        let table = [
            (seen(status(42, 1, true), true, true), Waiting),
            (seen(status(0, 1, true), true, false), Waiting),
            (seen(status(0, 1, true), false, true), Waiting),
            (seen(status(0, 1, true), false, false), Reached),
            (seen(None, false, false), Reached),
        ];
        for (seen, verdict) in table {
            assert_eq!(judge(Goal::Gone, &seen), verdict, "{seen:?}");
        }
    }

    #[test]
    fn alarm_byte() {
        use Verdict::*;
        assert_eq!(
            judge(Goal::Alarm(true), &seen(status(1, 1, true), true, true)),
            Reached
        );
        assert_eq!(
            judge(Goal::Alarm(true), &seen(status(1, 1, false), true, true)),
            Waiting
        );
        assert_eq!(
            judge(Goal::Alarm(false), &seen(status(1, 1, false), true, true)),
            Reached
        );
        assert_eq!(
            judge(Goal::Alarm(false), &seen(status(1, 1, true), false, true)),
            SuperviseExited
        );
    }
}
