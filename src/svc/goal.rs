//! What a waiting command waits for, and the verdict on one observation.
//! Pure: the caller observes the status directory (status file, whether
//! supervise reads `ok`, whether the process groups it saw are gone) and asks
//! [`judge`]; the deadline and the polling belong to the caller.
//!
//! A command waits until the status file shows everything it asked for at
//! once ([`Shows`]): `svc restart` is over when a new child runs, wanted
//! up, with alarms back on — not when the first of those shows.

use std::time::Duration;

use super::show::{on_off, want_word};
use crate::status::{Status, Want};

/// The state a command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The status file shows all of it while supervise runs. When all it
    /// asks is the service down, supervise may have exited too (`dx`).
    Shows(Shows),
    /// supervise gone (`ok` has no reader) and every process group gone.
    Gone,
}

/// What the status file must show; `None` accepts anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shows {
    /// The service running or down.
    pub service: Option<Service>,
    /// Status byte 13.
    pub want: Option<Want>,
    /// Status byte 14: alarms on (`true`) or silenced.
    pub alarms_on: Option<bool>,
}

/// The service's part of a [`Shows`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// A running child started after the status seen before the command:
    /// its `since` differs from `after` (so a reused pid still counts as
    /// new). `None` accepts any running child.
    Up {
        /// The `since` of the status seen before the command.
        after: Option<Duration>,
    },
    /// pid 0 in the status file and every process group seen is gone.
    Down,
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

impl Shows {
    /// Whether `status` (with the groups seen alive or not) shows it all.
    fn held_by(&self, status: &Status, groups_alive: bool) -> bool {
        let service = match self.service {
            None => true,
            Some(Service::Up { after }) => status.pid != 0 && after != Some(status.since),
            Some(Service::Down) => status.pid == 0 && !groups_alive,
        };
        service
            && self.want.is_none_or(|want| want == status.want)
            && self.alarms_on.is_none_or(|on| on == status.alarms_on)
    }

    /// Only the service down is asked: a fact a stale status file can still
    /// tell, since the groups are checked too.
    fn down_only(&self) -> bool {
        *self
            == Shows {
                service: Some(Service::Down),
                ..Shows::default()
            }
    }
}

/// Judges one observation against the goal.
pub fn judge(goal: Goal, seen: &Seen) -> Verdict {
    let reached = match goal {
        Goal::Gone => !seen.supervise_alive && !seen.groups_alive,
        Goal::Shows(shows) => {
            seen.status
                .is_some_and(|status| shows.held_by(&status, seen.groups_alive))
                && (seen.supervise_alive || shows.down_only())
        }
    };
    if reached {
        Verdict::Reached
    } else if !seen.supervise_alive && goal != Goal::Gone {
        Verdict::SuperviseExited
    } else {
        Verdict::Waiting
    }
}

/// The goal in words, for messages: `up, want up, alarm on`.
pub fn describe(goal: Goal) -> String {
    let Goal::Shows(shows) = goal else {
        return "the service and its supervise to exit".to_string();
    };
    let mut parts = Vec::new();
    match shows.service {
        Some(Service::Up { .. }) => parts.push("up".to_string()),
        Some(Service::Down) => parts.push("down with its process group gone".to_string()),
        None => {}
    }
    if let Some(want) = shows.want {
        parts.push(format!("want {}", want_word(want)));
    }
    if let Some(on) = shows.alarms_on {
        parts.push(format!("alarm {}", on_off(on)));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(pid: u32, since: u64, want: Want, alarms_on: bool) -> Option<Status> {
        Some(Status {
            since: Duration::from_secs(since),
            paused: false,
            want,
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

    fn up(after: Option<u64>) -> Shows {
        Shows {
            service: Some(Service::Up {
                after: after.map(Duration::from_secs),
            }),
            ..Shows::default()
        }
    }

    fn down() -> Shows {
        Shows {
            service: Some(Service::Down),
            ..Shows::default()
        }
    }

    const ON: bool = true;

    #[test]
    fn up_needs_a_new_start() {
        use Verdict::*;
        let after = up(Some(100));
        let table = [
            (
                after,
                seen(status(42, 100, Want::Up, ON), true, true),
                Waiting,
            ),
            (
                after,
                seen(status(0, 105, Want::Up, ON), true, false),
                Waiting,
            ),
            (
                after,
                seen(status(43, 106, Want::Up, ON), true, true),
                Reached,
            ),
            // The same pid again, reused by a later start, is new.
            (
                after,
                seen(status(42, 107, Want::Up, ON), true, true),
                Reached,
            ),
            (
                after,
                seen(status(43, 106, Want::Up, ON), false, true),
                SuperviseExited,
            ),
            (after, seen(None, true, false), Waiting),
            (
                up(None),
                seen(status(42, 100, Want::Up, ON), true, true),
                Reached,
            ),
            (
                up(None),
                seen(status(0, 100, Want::Up, ON), true, false),
                Waiting,
            ),
        ];
        for (shows, seen, verdict) in table {
            assert_eq!(
                judge(Goal::Shows(shows), &seen),
                verdict,
                "{shows:?} {seen:?}"
            );
        }
    }

    #[test]
    fn down_needs_the_groups_gone_too() {
        use Verdict::*;
        let table = [
            (seen(status(42, 1, Want::Up, ON), true, true), Waiting),
            (seen(status(0, 2, Want::Up, ON), true, true), Waiting),
            (seen(status(0, 2, Want::Up, ON), true, false), Reached),
            // supervise may exit (`dx`) right after writing pid 0.
            (seen(status(0, 2, Want::Down, ON), false, false), Reached),
            (
                seen(status(42, 1, Want::Up, ON), false, true),
                SuperviseExited,
            ),
            (
                seen(status(0, 2, Want::Up, ON), false, true),
                SuperviseExited,
            ),
            (seen(None, true, false), Waiting),
        ];
        for (seen, verdict) in table {
            assert_eq!(judge(Goal::Shows(down()), &seen), verdict, "{seen:?}");
        }
    }

    #[test]
    fn everything_asked_for_must_show_at_once() {
        use Verdict::*;
        // svc stop with alarms on: down, wanted down, alarms back on.
        let stopped = Goal::Shows(Shows {
            want: Some(Want::Down),
            alarms_on: Some(true),
            ..down()
        });
        let table = [
            (seen(status(0, 2, Want::Down, false), true, false), Waiting),
            (seen(status(0, 2, Want::Up, true), true, false), Waiting),
            (seen(status(0, 2, Want::Down, true), true, true), Waiting),
            (seen(status(0, 2, Want::Down, true), true, false), Reached),
            // Alarms on in a file nobody keeps any more tells nothing.
            (
                seen(status(0, 2, Want::Down, true), false, false),
                SuperviseExited,
            ),
        ];
        for (seen, verdict) in table {
            assert_eq!(judge(stopped, &seen), verdict, "{seen:?}");
        }
        // svc start of a service running once: the same child, wanted up.
        let started = Goal::Shows(Shows {
            want: Some(Want::Up),
            ..up(None)
        });
        let once = seen(status(42, 1, Want::Once, ON), true, true);
        assert_eq!(judge(started, &once), Waiting);
        let kept = seen(status(42, 1, Want::Up, ON), true, true);
        assert_eq!(judge(started, &kept), Reached);
    }

    #[test]
    fn gone_needs_supervise_and_groups_gone() {
        use Verdict::*;
        let table = [
            (seen(status(42, 1, Want::Up, ON), true, true), Waiting),
            (seen(status(0, 1, Want::Up, ON), true, false), Waiting),
            (seen(status(0, 1, Want::Up, ON), false, true), Waiting),
            (seen(status(0, 1, Want::Up, ON), false, false), Reached),
            (seen(None, false, false), Reached),
        ];
        for (seen, verdict) in table {
            assert_eq!(judge(Goal::Gone, &seen), verdict, "{seen:?}");
        }
    }

    #[test]
    fn alarm_byte() {
        use Verdict::*;
        let alarm = |on| {
            Goal::Shows(Shows {
                alarms_on: Some(on),
                ..Shows::default()
            })
        };
        let table = [
            (
                alarm(true),
                seen(status(1, 1, Want::Up, true), true, true),
                Reached,
            ),
            (
                alarm(true),
                seen(status(1, 1, Want::Up, false), true, true),
                Waiting,
            ),
            (
                alarm(false),
                seen(status(1, 1, Want::Up, false), true, true),
                Reached,
            ),
            (
                alarm(false),
                seen(status(1, 1, Want::Up, true), false, true),
                SuperviseExited,
            ),
        ];
        for (goal, seen, verdict) in table {
            assert_eq!(judge(goal, &seen), verdict, "{goal:?} {seen:?}");
        }
    }

    #[test]
    fn goals_in_words() {
        let restarted = Goal::Shows(Shows {
            want: Some(Want::Up),
            alarms_on: Some(true),
            ..up(Some(1))
        });
        assert_eq!(describe(restarted), "up, want up, alarm on");
        assert_eq!(
            describe(Goal::Shows(down())),
            "down with its process group gone"
        );
        assert_eq!(
            describe(Goal::Shows(Shows {
                alarms_on: Some(false),
                ..Shows::default()
            })),
            "alarm off"
        );
        assert_eq!(
            describe(Goal::Gone),
            "the service and its supervise to exit"
        );
    }
}
