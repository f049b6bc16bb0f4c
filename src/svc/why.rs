//! What a status directory's `info` says about a service, in the words
//! every view of `svc` uses: the one-line form, the table's NOTE, the
//! original form's extra lines and the messages of `svc start`. Pure:
//! `info` and the current wall time in, phrases out. One wording for every
//! view, so that `backing off, next start in 3.2 s` reads the same
//! wherever it appears.

use std::time::Duration;

use crate::info::{self, Info, State};

/// The state in words for the one-line form: `ready`, `starting`,
/// `backing off, next start in 3.2 s`, `gave up: RULE`... `None` for
/// `down`, which the line says already.
pub fn state(info: &Info, now: Duration) -> Option<String> {
    let detail = detail(info, now);
    match info.state {
        State::Down => None,
        State::Backoff => Some(format!("backing off, {}", detail.unwrap_or_default())),
        State::Unhealthy => Some(format!("unhealthy, {}", detail.unwrap_or_default())),
        State::GaveUp => detail,
        state => Some(state.word().to_owned()),
    }
}

/// What the state word alone does not say, for the table's NOTE: the
/// next start of a back-off, the failed health checks, the give-up rule.
pub fn detail(info: &Info, now: Duration) -> Option<String> {
    match info.state {
        State::Backoff => Some(next_start(info, now)),
        State::Unhealthy => Some(format!(
            "{} health check{} failed in a row",
            info.health_failures,
            plural(u64::from(info.health_failures))
        )),
        State::GaveUp if info.gave_up.is_empty() => Some("gave up".to_owned()),
        State::GaveUp => Some(format!("gave up: {}", info.gave_up)),
        _ => None,
    }
}

/// `next start in 3.2 s`, or `next start due now` once its time has come.
pub fn next_start(info: &Info, now: Duration) -> String {
    match info.next_start.map(|at| at.saturating_sub(now)) {
        Some(left) if !left.is_zero() => format!("next start in {} s", tenths(left)),
        _ => "next start due now".to_owned(),
    }
}

/// `last exit: signal 11 SIGSEGV core (crash), 4 s ago, ran 12.345 s`;
/// `None` before the first exit.
pub fn last_exit(info: &Info, now: Duration) -> Option<String> {
    let exit = info.last_exit?;
    let mut text = format!("last exit: {}", info::exit_words(exit));
    if let Some(cause) = info.last_exit_cause {
        text.push_str(&format!(" ({})", cause.word()));
    }
    if let Some(at) = info.last_exit_time {
        text.push_str(&format!(", {} s ago", now.saturating_sub(at).as_secs()));
    }
    if let Some(ran) = info.last_run {
        text.push_str(&format!(", ran {} s", crate::duration::millis(ran)));
    }
    Some(text)
}

/// `restarts: 3 in window, 7 total`; `None` when there were none.
pub fn restarts(info: &Info) -> Option<String> {
    (info.restarts_total != 0 || info.restarts_window != 0).then(|| {
        format!(
            "restarts: {} in window, {} total",
            info.restarts_window, info.restarts_total
        )
    })
}

/// `status: TEXT`, the last `STATUS=` the service sent, kept on one line.
pub fn status_text(info: &Info) -> Option<String> {
    (!info.status_text.is_empty()).then(|| format!("status: {}", info::escape(&info.status_text)))
}

/// Every fact of `info`, in order: the state (only while supervise runs,
/// or when it gave up: a dead supervise's other states are stale), the
/// last exit, the restarts, the `STATUS=` text.
pub fn facts(info: &Info, now: Duration, supervise_running: bool) -> Vec<String> {
    in_order(info, now, supervise_running, state)
}

/// The facts for the table's NOTE: as [`facts`], with the state's
/// [`detail`] instead of its word (STATE shows the word).
pub fn note(info: &Info, now: Duration, supervise_running: bool) -> Vec<String> {
    in_order(info, now, supervise_running, detail)
}

/// The facts, the state said by `state_words`.
fn in_order(
    info: &Info,
    now: Duration,
    supervise_running: bool,
    state_words: fn(&Info, Duration) -> Option<String>,
) -> Vec<String> {
    let state = if supervise_running || info.state == State::GaveUp {
        state_words(info, now)
    } else {
        None
    };
    let live = supervise_running.then(|| status_text(info)).flatten();
    [state, last_exit(info, now), restarts(info), live]
        .into_iter()
        .flatten()
        .collect()
}

/// A duration in seconds to one decimal, rounded up so that `0.01` s left
/// is not shown as `0.0`: `3.2`.
pub fn tenths(d: Duration) -> String {
    let tenths = d.as_millis().div_ceil(100);
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::{Cause, Readiness};
    use crate::supervisor::Exit;

    const NOW: u64 = 1_764_621_240;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(NOW * 1000 + ms)
    }

    fn backing_off() -> Info {
        Info {
            pid: 0,
            state: State::Backoff,
            readiness: Readiness::None,
            last_exit: Some(Exit::Code(3)),
            last_exit_time: Some(Duration::from_secs(NOW - 4)),
            last_run: Some(Duration::from_millis(12)),
            last_exit_cause: Some(Cause::Crash),
            restarts_total: 12,
            restarts_window: 5,
            next_start: Some(at(3_200)),
            backoff: Duration::from_millis(6_400),
            ..Info::default()
        }
    }

    #[test]
    fn a_back_off_says_when_the_next_start_comes() {
        let info = backing_off();
        let now = at(0);
        assert_eq!(
            state(&info, now).unwrap(),
            "backing off, next start in 3.2 s"
        );
        assert_eq!(detail(&info, now).unwrap(), "next start in 3.2 s");
        assert_eq!(
            facts(&info, now, true),
            [
                "backing off, next start in 3.2 s",
                "last exit: exit 3 (crash), 4 s ago, ran 0.012 s",
                "restarts: 5 in window, 12 total",
            ]
        );
        assert_eq!(next_start(&info, at(3_200)), "next start due now");
        assert_eq!(next_start(&info, at(3_199)), "next start in 0.1 s");
        assert_eq!(next_start(&info, at(9_000)), "next start due now");
    }

    #[test]
    fn a_give_up_names_its_rule_even_after_supervise_exited() {
        let info = Info {
            state: State::GaveUp,
            gave_up: "11 exits in 60 s > max_tries 10".into(),
            last_exit: Some(Exit::Signal {
                signal: 11,
                core: true,
            }),
            last_exit_cause: Some(Cause::Crash),
            ..Info::default()
        };
        assert_eq!(
            facts(&info, at(0), false),
            [
                "gave up: 11 exits in 60 s > max_tries 10",
                "last exit: signal 11 SIGSEGV core (crash)"
            ]
        );
        assert_eq!(
            note(&info, at(0), false)[0],
            "gave up: 11 exits in 60 s > max_tries 10"
        );
        let unnamed = Info {
            gave_up: String::new(),
            ..info
        };
        assert_eq!(state(&unnamed, at(0)).unwrap(), "gave up");
    }

    #[test]
    fn the_states_of_a_running_service() {
        let running = |state| Info {
            pid: 7,
            state,
            health_failures: 2,
            status_text: "serving\n50%".into(),
            ..Info::default()
        };
        let now = at(0);
        assert_eq!(state(&running(State::Ready), now).unwrap(), "ready");
        assert_eq!(state(&running(State::Starting), now).unwrap(), "starting");
        assert_eq!(state(&running(State::Stopping), now).unwrap(), "stopping");
        assert_eq!(
            state(&running(State::Unhealthy), now).unwrap(),
            "unhealthy, 2 health checks failed in a row"
        );
        assert_eq!(state(&running(State::Down), now), None);
        assert_eq!(
            facts(&running(State::Ready), now, true),
            ["ready", "status: serving\\n50%"]
        );
        assert_eq!(
            note(&running(State::Ready), now, true),
            ["status: serving\\n50%"]
        );
        // A dead supervise's info is history: its exits, not its state.
        assert!(facts(&running(State::Ready), now, false).is_empty());
        let one = Info {
            health_failures: 1,
            ..running(State::Unhealthy)
        };
        assert_eq!(detail(&one, now).unwrap(), "1 health check failed in a row");
    }

    #[test]
    fn tenths_round_up() {
        assert_eq!(tenths(Duration::from_millis(3_200)), "3.2");
        assert_eq!(tenths(Duration::from_millis(3_201)), "3.3");
        assert_eq!(tenths(Duration::from_millis(1)), "0.1");
        assert_eq!(tenths(Duration::ZERO), "0.0");
    }
}
