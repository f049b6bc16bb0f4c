//! What a waiting command waits for, and the verdict on one observation.
//! Pure: the caller observes the status directory (status file, `info`,
//! whether supervise reads `ok`, whether the process groups it saw are
//! gone) and asks [`judge`]; the deadline and the polling belong to the
//! caller.
//!
//! A command waits until the status file shows everything it asked for at
//! once ([`Shows`]): `svc restart` is over when a new child runs, wanted
//! up, with alarms back on — not when the first of those shows. Readiness
//! comes from `info` ([`info::ready`]); without `info` a running service
//! counts as ready, as docs/status-files.md says.

use std::time::Duration;

use super::show::{on_off, want_word};
use crate::info::{self, Info, Readiness, State};
use crate::status::{Status, Want};

/// The state a command waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The status file shows all of it while supervise runs. When all it
    /// asks is the service down, supervise may have exited too (`dx`).
    Shows(Shows),
    /// Like [`Goal::Shows`], but supervise may be missing meanwhile:
    /// supervise-scan was asked to start it.
    Revived(Shows),
    /// supervise gone (`ok` has no reader) and every process group gone.
    Gone,
}

/// What the status directory must show; `None` accepts anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shows {
    /// The service running or down.
    pub service: Option<Service>,
    /// Status byte 13.
    pub want: Option<Want>,
    /// Status byte 14: alarms on (`true`) or silenced.
    pub alarms_on: Option<bool>,
    /// The running service ready too.
    pub ready: Option<Ready>,
    /// A back-off that begins during the wait ends it (the start failed).
    pub ends_at_backoff: Option<NewBackoff>,
}

/// When a running service must also be ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ready {
    /// When `info` says it declares readiness (`svc start`, `svc restart`).
    IfDeclared,
    /// Always (`svc wait ready`, `svc -w ready`): without `info`, running
    /// is ready.
    Always,
}

/// A back-off other than the one seen before the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewBackoff {
    /// The `since` of the back-off `info` showed before the command, if
    /// it showed one.
    pub before: Option<Duration>,
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The status file, `None` when it could not be read this time.
    pub status: Option<Status>,
    /// `info`, when there is one written by the supervise that runs.
    pub info: Option<Info>,
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
    /// The service went into a back-off: it will not be up before
    /// `next_start`.
    BackingOff,
}

impl Shows {
    /// Whether `status` and `info` (with the groups seen alive or not)
    /// show it all.
    fn held_by(&self, status: &Status, info: Option<&Info>, groups_alive: bool) -> bool {
        let service = match self.service {
            None => true,
            Some(Service::Up { after }) => status.pid != 0 && after != Some(status.since),
            Some(Service::Down) => status.pid == 0 && !groups_alive,
        };
        let ready = match (self.ready, info) {
            (None, _) | (Some(Ready::IfDeclared), None) => true,
            (Some(Ready::Always), info) => info::ready(status.pid, info),
            // An `info` of another run: wait until it catches up.
            (Some(Ready::IfDeclared), Some(info)) => {
                info.pid == status.pid
                    && (info.readiness == Readiness::None || info::ready(status.pid, Some(info)))
            }
        };
        service
            && ready
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

    /// `info` shows a back-off that ends the wait.
    fn backing_off(&self, info: Option<&Info>) -> bool {
        let (Some(ends), Some(info)) = (self.ends_at_backoff, info) else {
            return false;
        };
        info.state == State::Backoff && ends.before != Some(info.since)
    }
}

/// Judges one observation against the goal.
pub fn judge(goal: Goal, seen: &Seen) -> Verdict {
    let (shows, revived) = match goal {
        Goal::Gone if !seen.supervise_alive && !seen.groups_alive => return Verdict::Reached,
        Goal::Gone => return Verdict::Waiting,
        Goal::Shows(shows) => (shows, false),
        Goal::Revived(shows) => (shows, true),
    };
    let held = seen
        .status
        .is_some_and(|status| shows.held_by(&status, seen.info.as_ref(), seen.groups_alive));
    if held && (seen.supervise_alive || shows.down_only()) {
        Verdict::Reached
    } else if !seen.supervise_alive && !revived {
        Verdict::SuperviseExited
    } else if seen.supervise_alive && shows.backing_off(seen.info.as_ref()) {
        Verdict::BackingOff
    } else {
        Verdict::Waiting
    }
}

/// The goal asks for ready, and what was seen is a service that runs but
/// is not ready: a timeout then has a code of its own.
pub fn runs_unready(goal: Goal, seen: &Seen) -> bool {
    let (Goal::Shows(shows) | Goal::Revived(shows)) = goal else {
        return false;
    };
    let Some(status) = seen.status else {
        return false;
    };
    let but_ready = Shows {
        ready: None,
        ..shows
    };
    shows.ready.is_some()
        && seen.supervise_alive
        && but_ready.held_by(&status, None, seen.groups_alive)
        && !shows.held_by(&status, seen.info.as_ref(), seen.groups_alive)
}

/// The goal in words, for messages: `up, want up, alarm on`.
pub fn describe(goal: Goal) -> String {
    let (Goal::Shows(shows) | Goal::Revived(shows)) = goal else {
        return "the service and its supervise to exit".to_string();
    };
    let mut parts = Vec::new();
    match shows.service {
        Some(Service::Up { .. }) => parts.push("up".to_string()),
        Some(Service::Down) => parts.push("down with its process group gone".to_string()),
        None => {}
    }
    match shows.ready {
        Some(Ready::Always) => parts.push("ready".to_string()),
        Some(Ready::IfDeclared) => parts.push("ready if it declares readiness".to_string()),
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
            info: None,
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
    fn info(pid: u32, state: State, readiness: Readiness, since: u64) -> Option<Info> {
        Some(Info {
            pid,
            state,
            readiness,
            since: Duration::from_secs(since),
            ..Info::default()
        })
    }

    fn with_info(status: Option<Status>, info: Option<Info>) -> Seen {
        Seen {
            info,
            ..seen(status, true, true)
        }
    }

    #[test]
    fn ready_comes_from_info_about_the_same_run() {
        use Readiness::{None as Undeclared, Systemd};
        use Verdict::*;
        let always = Goal::Shows(Shows {
            ready: Some(Ready::Always),
            ..up(Some(100))
        });
        let declared = Goal::Shows(Shows {
            ready: Some(Ready::IfDeclared),
            ..up(Some(100))
        });
        let running = status(42, 101, Want::Up, ON);
        let table = [
            // Without info, running is ready.
            (always, with_info(running, None), Reached),
            (declared, with_info(running, None), Reached),
            (
                always,
                with_info(running, info(42, State::Starting, Systemd, 101)),
                Waiting,
            ),
            (
                declared,
                with_info(running, info(42, State::Starting, Systemd, 101)),
                Waiting,
            ),
            (
                declared,
                with_info(running, info(42, State::Ready, Systemd, 102)),
                Reached,
            ),
            (
                declared,
                with_info(running, info(42, State::Unhealthy, Systemd, 102)),
                Waiting,
            ),
            // A service that declares nothing is up as today.
            (
                declared,
                with_info(running, info(42, State::Starting, Undeclared, 101)),
                Reached,
            ),
            // info about the previous run: wait for the one about this run.
            (
                declared,
                with_info(running, info(41, State::Ready, Undeclared, 90)),
                Waiting,
            ),
            (
                always,
                with_info(running, info(41, State::Ready, Systemd, 90)),
                Waiting,
            ),
            (
                always,
                with_info(running, info(42, State::Ready, Undeclared, 101)),
                Reached,
            ),
        ];
        for (goal, seen, verdict) in table {
            assert_eq!(judge(goal, &seen), verdict, "{goal:?} {seen:?}");
        }
    }

    #[test]
    fn a_new_back_off_ends_a_start() {
        use Verdict::*;
        let start = |before| {
            Goal::Shows(Shows {
                ends_at_backoff: Some(NewBackoff { before }),
                ..up(Some(100))
            })
        };
        let down = status(0, 100, Want::Up, ON);
        let backoff = info(0, State::Backoff, Readiness::None, 103);
        assert_eq!(
            judge(start(None), &with_info(down, backoff.clone())),
            BackingOff
        );
        // The back-off seen before the command (restart sends u to end it).
        let before = Some(Duration::from_secs(103));
        assert_eq!(
            judge(start(before), &with_info(down, backoff.clone())),
            Waiting
        );
        let next = info(0, State::Backoff, Readiness::None, 104);
        assert_eq!(judge(start(before), &with_info(down, next)), BackingOff);
        // Waits that do not ask for it wait through back-offs.
        assert_eq!(
            judge(Goal::Shows(up(Some(100))), &with_info(down, backoff)),
            Waiting
        );
    }

    #[test]
    fn a_revived_supervise_may_be_missing_for_a_while() {
        use Verdict::*;
        let revived = Goal::Revived(Shows {
            want: Some(Want::Up),
            ..up(Some(100))
        });
        assert_eq!(judge(revived, &seen(None, false, false)), Waiting);
        assert_eq!(
            judge(revived, &seen(status(0, 100, Want::Down, ON), false, false)),
            Waiting
        );
        assert_eq!(
            judge(revived, &seen(status(0, 105, Want::Up, ON), true, false)),
            Waiting
        );
        assert_eq!(
            judge(revived, &seen(status(7, 106, Want::Up, ON), true, true)),
            Reached
        );
        // Its stale file is no answer.
        assert_eq!(
            judge(revived, &seen(status(7, 106, Want::Up, ON), false, true)),
            Waiting
        );
    }

    #[test]
    fn running_but_not_ready_is_told_apart() {
        let ready = Goal::Shows(Shows {
            ready: Some(Ready::Always),
            want: Some(Want::Up),
            ..up(None)
        });
        let starting = info(42, State::Starting, Readiness::Check, 1);
        let running = status(42, 1, Want::Up, ON);
        assert!(runs_unready(ready, &with_info(running, starting.clone())));
        assert!(!runs_unready(
            ready,
            &with_info(status(0, 1, Want::Up, ON), starting.clone())
        ));
        assert!(!runs_unready(
            ready,
            &with_info(status(42, 1, Want::Down, ON), starting.clone())
        ));
        assert!(!runs_unready(
            ready,
            &with_info(running, info(42, State::Ready, Readiness::Check, 2))
        ));
        assert!(!runs_unready(
            Goal::Shows(up(None)),
            &with_info(running, starting)
        ));
        assert_eq!(describe(ready), "up, ready, want up");
    }
}
