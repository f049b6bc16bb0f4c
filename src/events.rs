//! `event_command : PROGRAM`: a program run, without a shell, on every
//! state change of the service (start, exit, backoff, give-up, stop; ready
//! and unhealthy where readiness and health checks tell them), with the
//! environment `alarm_command` gets plus the event. At most one runs at a
//! time per service; later events wait in a bounded queue (the oldest
//! dropped beyond [`QUEUE`], and counted: the next run is told how many in
//! `SUPERVISE_EVENTS_DROPPED`). Pure: the driver starts what [`Queue`]
//! hands it, kills a run at `alarm_timeout`, and reports its end.

use std::collections::VecDeque;
use std::time::Duration;

use crate::alarm::{Invocation, one_line, signal_name};
use crate::supervisor::Exit;

/// Events kept waiting while a run is under way.
pub const QUEUE: usize = 16;

/// A state change, as `event_command` is told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The service was started.
    Start,
    /// It is ready.
    Ready,
    /// Its health checks fail.
    Unhealthy,
    /// It exited.
    Exit,
    /// Its restart waits for a back-off.
    Backoff,
    /// supervise gave up restarting it.
    GiveUp,
    /// It is being stopped (TERM sent).
    Stop,
}

impl Kind {
    /// The word passed as the second argument and `SUPERVISE_EVENT`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Start => "start",
            Kind::Ready => "ready",
            Kind::Unhealthy => "unhealthy",
            Kind::Exit => "exit",
            Kind::Backoff => "backoff",
            Kind::GiveUp => "give-up",
            Kind::Stop => "stop",
        }
    }
}

/// One state change and its facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: Kind,
    /// The service's pid (0 when none runs).
    pub pid: u32,
    /// How it ended (exit, give-up).
    pub how: Option<Exit>,
    /// How long it ran (exit), or the back-off's length (backoff).
    pub duration: Duration,
    /// Exits counted in the current alarm window.
    pub restarts_in_window: u32,
}

/// The run of `program` for `event` of service `service` on `host`, with
/// `dropped` events left out since the last run.
pub fn invocation(
    program: &str,
    service: &str,
    host: &str,
    event: &Event,
    dropped: u64,
) -> Invocation {
    let no_nul = |s: &str| s.replace('\0', "");
    let (code, signal) = match event.how {
        Some(Exit::Code(code)) => (code.to_string(), None),
        Some(Exit::Signal { signal, .. }) => (String::new(), Some(signal)),
        None => (String::new(), None),
    };
    let core = event.how.is_some_and(Exit::core_dumped);
    let message = one_line(&match event.how {
        Some(how) => format!("{service} {}: {}", event.kind.word(), how.describe()),
        None => format!("{service} {}", event.kind.word()),
    });
    let seconds = crate::duration::millis(event.duration);
    let vars = [
        ("SUPERVISE_SERVICE", no_nul(service)),
        ("SUPERVISE_EVENT", event.kind.word().to_owned()),
        ("SUPERVISE_PID", event.pid.to_string()),
        ("SUPERVISE_EXIT_CODE", code),
        (
            "SUPERVISE_SIGNAL",
            signal.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "SUPERVISE_SIGNAL_NAME",
            signal.map(signal_name).unwrap_or_default(),
        ),
        ("SUPERVISE_CORE_DUMPED", u8::from(core).to_string()),
        (
            "SUPERVISE_RUN_TIME",
            if event.kind == Kind::Exit {
                event.duration.as_secs().to_string()
            } else {
                String::new()
            },
        ),
        (
            "SUPERVISE_BACKOFF_SECONDS",
            if event.kind == Kind::Backoff {
                seconds
            } else {
                String::new()
            },
        ),
        (
            "SUPERVISE_RESTARTS_IN_WINDOW",
            event.restarts_in_window.to_string(),
        ),
        ("SUPERVISE_HOST", no_nul(host)),
        ("SUPERVISE_MESSAGE", no_nul(&message)),
        ("SUPERVISE_EVENTS_DROPPED", dropped.to_string()),
    ];
    Invocation {
        program: program.to_owned(),
        args: vec![no_nul(service), event.kind.word().to_owned()],
        env: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        stdin: Vec::new(),
        mail_sent: None,
    }
}

/// The events waiting for `event_command`, and whether a run is under way.
#[derive(Clone, Debug, Default)]
pub struct Queue {
    running: bool,
    waiting: VecDeque<Event>,
    dropped: u64,
}

impl Queue {
    /// A new event; returns it, with the count of events dropped before
    /// it, when it is to be run now.
    pub fn push(&mut self, event: Event) -> Option<(Event, u64)> {
        if !self.running {
            self.running = true;
            return Some((event, std::mem::take(&mut self.dropped)));
        }
        if self.waiting.len() == QUEUE {
            self.waiting.pop_front();
            self.dropped += 1;
        }
        self.waiting.push_back(event);
        None
    }

    /// The run under way ended (or could not start); returns the next to
    /// run, if one waits.
    pub fn finished(&mut self) -> Option<(Event, u64)> {
        match self.waiting.pop_front() {
            Some(event) => Some((event, std::mem::take(&mut self.dropped))),
            None => {
                self.running = false;
                None
            }
        }
    }

    /// Events dropped and not yet reported to a run.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: Kind, pid: u32) -> Event {
        Event {
            kind,
            pid,
            how: None,
            duration: Duration::ZERO,
            restarts_in_window: 0,
        }
    }

    #[test]
    fn one_runs_at_a_time_the_rest_wait_in_order() {
        let mut q = Queue::default();
        assert_eq!(
            q.push(event(Kind::Start, 1)),
            Some((event(Kind::Start, 1), 0))
        );
        assert_eq!(q.push(event(Kind::Exit, 1)), None);
        assert_eq!(q.push(event(Kind::Start, 2)), None);
        assert_eq!(q.finished(), Some((event(Kind::Exit, 1), 0)));
        assert_eq!(q.finished(), Some((event(Kind::Start, 2), 0)));
        assert_eq!(q.finished(), None);
        assert_eq!(
            q.push(event(Kind::Stop, 2)),
            Some((event(Kind::Stop, 2), 0))
        );
    }

    #[test]
    fn past_the_bound_the_oldest_are_dropped_and_the_next_run_told() {
        let mut q = Queue::default();
        q.push(event(Kind::Start, 0));
        for pid in 1..=(QUEUE as u32 + 5) {
            assert_eq!(q.push(event(Kind::Exit, pid)), None);
        }
        assert_eq!(q.dropped(), 5);
        let (next, dropped) = q.finished().unwrap();
        assert_eq!((next.pid, dropped), (6, 5));
        assert_eq!(q.dropped(), 0);
    }

    #[test]
    fn the_invocation_has_the_alarm_variables_and_the_event() {
        let e = Event {
            kind: Kind::Exit,
            pid: 42,
            how: Some(Exit::Signal {
                signal: 11,
                core: true,
            }),
            duration: Duration::from_millis(2_500),
            restarts_in_window: 3,
        };
        let run = invocation("/bin/hook", "web", "box", &e, 2);
        assert_eq!(run.args, ["web", "exit"]);
        let env = |k: &str| {
            run.env
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(env("SUPERVISE_EVENT"), "exit");
        assert_eq!(env("SUPERVISE_PID"), "42");
        assert_eq!(env("SUPERVISE_SIGNAL"), "11");
        assert_eq!(env("SUPERVISE_SIGNAL_NAME"), "SIGSEGV");
        assert_eq!(env("SUPERVISE_CORE_DUMPED"), "1");
        assert_eq!(env("SUPERVISE_RUN_TIME"), "2");
        assert_eq!(env("SUPERVISE_EXIT_CODE"), "");
        assert_eq!(env("SUPERVISE_EVENTS_DROPPED"), "2");
        assert_eq!(
            env("SUPERVISE_MESSAGE"),
            "web exit: killed by signal 11 SIGSEGV"
        );
        let b = Event {
            kind: Kind::Backoff,
            how: None,
            duration: Duration::from_millis(3_200),
            ..e
        };
        let run = invocation("/bin/hook", "web", "box", &b, 0);
        assert!(
            run.env
                .contains(&("SUPERVISE_BACKOFF_SECONDS".into(), "3.200".into()))
        );
    }
}
