//! Writes into the status directory that may fail — a full or read-only file
//! system, a directory made unwritable, a log replaced by a FIFO that nobody
//! reads — and the rules for them: when each write is due, how a failure is
//! retried (on a deadline, with back-off: never a busy loop, and no wake-up
//! at all once the write succeeds), what is kept meanwhile, and what is said
//! about it (the first failure, a change of error, the recovery; not every
//! retry). Pure: the driver attempts each write when this module says so and
//! reports the outcome; times are monotonic.

use std::collections::VecDeque;
use std::time::Duration;

use crate::status::Status;
use crate::supervisor::Level;

/// The first retry after a failure comes this soon...
pub const RETRY_FIRST: Duration = Duration::from_millis(100);

/// ...and each further one twice as late, up to this.
pub const RETRY_CAP: Duration = Duration::from_secs(5);

/// The longest a status change that leaves the pid alone waits to be
/// written together with the next one (`d` while the child runs: its exit
/// follows a moment later and needs a rename anyway).
pub const STATUS_COALESCE: Duration = Duration::from_millis(2);

/// How many bytes of log lines are kept while a log cannot be written; the
/// oldest lines go first (and are counted) when more arrive.
pub const BACKLOG_BYTES: usize = 64 * 1024;

/// The back-off schedule of a write that failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retry {
    failures: u32,
    next_at: Option<Duration>,
}

impl Retry {
    /// Records a failure at `now` and schedules the next attempt.
    pub fn failed(&mut self, now: Duration) {
        self.failures = self.failures.saturating_add(1);
        let doublings = (self.failures - 1).min(16);
        let delay = RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_CAP);
        self.next_at = Some(now + delay);
    }

    /// Records a success; returns how many attempts had failed before it.
    pub fn succeeded(&mut self) -> u32 {
        std::mem::take(self).failures
    }

    /// Whether an attempt may be made at `now`.
    pub fn ready(&self, now: Duration) -> bool {
        self.next_at.is_none_or(|t| now >= t)
    }

    /// When the next attempt is due; `None` unless a failure is pending.
    pub fn deadline(&self) -> Option<Duration> {
        self.next_at
    }

    /// Whether the last attempt failed.
    pub fn failing(&self) -> bool {
        self.failures > 0
    }
}

/// What to log once writes to `what` work again after a failure: that they
/// do, and how many `items` (`line(s) were lost`, say) did not make it.
pub(crate) fn recovery_report(
    retry: &mut Retry,
    error: &mut Option<String>,
    what: &str,
    lost: &mut u64,
    items: &str,
) -> Option<(Level, String)> {
    if !retry.failing() {
        return None;
    }
    retry.succeeded();
    *error = None;
    let lost = std::mem::take(lost);
    let tail = if lost > 0 {
        format!("; {lost} {items} meanwhile")
    } else {
        String::new()
    };
    Some((Level::Warning, format!("{what} written again{tail}")))
}

/// What to log about a failed attempt: the first failure and every change
/// of error, so that a long outage is one line, not one per retry.
pub(crate) fn failure_report(
    previous: &mut Option<String>,
    error: &str,
    first: impl FnOnce() -> String,
) -> Option<(Level, String)> {
    if previous.as_deref() == Some(error) {
        return None;
    }
    let line = match previous {
        None => first(),
        Some(_) => format!("the error changed: {error} (still retrying)"),
    };
    *previous = Some(error.to_owned());
    Some((Level::Warning, line))
}

/// A small file that is replaced as a whole (the status file, the lock's
/// record): only the newest value matters, a failed write is retried.
#[derive(Clone, Debug)]
pub struct Replace<T> {
    what: String,
    value: Option<T>,
    due: Duration,
    retry: Retry,
    error: Option<String>,
}

impl<T: Clone> Replace<T> {
    /// Nothing to write yet; `what` names the file in reports (its path).
    pub fn new(what: String) -> Replace<T> {
        Replace {
            what,
            value: None,
            due: Duration::ZERO,
            retry: Retry::default(),
            error: None,
        }
    }

    /// `value` replaces anything not yet written, due at `due` (or earlier,
    /// if the value it replaces was due earlier).
    pub fn set(&mut self, value: T, due: Duration) {
        if self.value.is_some() {
            self.due = self.due.min(due);
        } else {
            self.due = due;
        }
        self.value = Some(value);
    }

    /// The value to write at `now`, if one is due and no back-off holds it.
    /// `force` (supervise is exiting) makes one last attempt at once.
    pub fn due(&self, now: Duration, force: bool) -> Option<T> {
        let value = self.value.as_ref()?;
        (force || (now >= self.due && self.retry.ready(now))).then(|| value.clone())
    }

    /// The value not yet written, if any.
    pub fn pending(&self) -> Option<T> {
        self.value.clone()
    }

    /// The outcome of writing what [`Replace::due`] gave at `now`; returns
    /// what to log about it.
    pub fn outcome(
        &mut self,
        now: Duration,
        result: Result<(), String>,
    ) -> Option<(Level, String)> {
        match result {
            Ok(()) => {
                self.value = None;
                self.error = None;
                let failures = self.retry.succeeded();
                (failures > 0).then(|| {
                    (
                        Level::Warning,
                        format!(
                            "{} written again after {failures} failed attempt(s)",
                            self.what
                        ),
                    )
                })
            }
            Err(error) => {
                self.retry.failed(now);
                let what = &self.what;
                failure_report(&mut self.error, &error, || {
                    format!("cannot write {what}: {error} (supervision goes on; retrying)")
                })
            }
        }
    }

    /// When the driver must wake up for this file; `None` once written.
    pub fn deadline(&self) -> Option<Duration> {
        self.value.as_ref()?;
        Some(self.retry.deadline().map_or(self.due, |t| t.max(self.due)))
    }

    /// Whether a write is held back on purpose (coalescing), not failing.
    pub fn holding_back(&self, now: Duration) -> bool {
        self.value.is_some() && !self.retry.failing() && self.due > now
    }
}

/// The status file: [`Replace`] plus the rule that a change leaving the pid
/// alone waits up to [`STATUS_COALESCE`] to share its rename with the next.
#[derive(Clone, Debug)]
pub struct StatusWrites {
    file: Replace<Status>,
    /// The pid the status file on disk names (after the last success).
    on_disk_pid: Option<u32>,
}

impl StatusWrites {
    /// Nothing written yet; `what` names the file in reports.
    pub fn new(what: String) -> StatusWrites {
        StatusWrites {
            file: Replace::new(what),
            on_disk_pid: None,
        }
    }

    /// The supervisor wants `status` written (at `now`).
    pub fn change(&mut self, now: Duration, status: Status) {
        let due = if self.on_disk_pid == Some(status.pid) {
            now + STATUS_COALESCE
        } else {
            now
        };
        self.file.set(status, due);
    }

    /// What to write at `now`, if anything (see [`Replace::due`]).
    pub fn due(&self, now: Duration, force: bool) -> Option<Status> {
        self.file.due(now, force)
    }

    /// The outcome of writing `status`; returns what to log about it.
    pub fn outcome(
        &mut self,
        now: Duration,
        status: Status,
        result: Result<(), String>,
    ) -> Option<(Level, String)> {
        if result.is_ok() {
            self.on_disk_pid = Some(status.pid);
        }
        self.file.outcome(now, result)
    }

    /// See [`Replace::deadline`].
    pub fn deadline(&self) -> Option<Duration> {
        self.file.deadline()
    }

    /// See [`Replace::holding_back`]: log lines wait with it, so that one
    /// wake-up's lines and its status rename go out together.
    pub fn holding_back(&self, now: Duration) -> bool {
        self.file.holding_back(now)
    }

    /// When a write that goes out with the status file (`info`) wants to be
    /// woken for: not before a held-back status write is due. Waking
    /// earlier would find it still held back, and wake again at once: a
    /// busy loop for the whole hold-back, on the CPU the service just
    /// signalled needs to die on.
    pub fn after_held_back(&self, deadline: Option<Duration>) -> Option<Duration> {
        let held = self.file.value.is_some() && !self.file.retry.failing();
        deadline.map(|at| if held { at.max(self.file.due) } else { at })
    }
}

/// The lines of one log file not yet written: appended in order, retried
/// after a failure, the oldest dropped (and counted) beyond [`BACKLOG_BYTES`].
#[derive(Clone, Debug)]
pub struct Backlog {
    what: String,
    lines: VecDeque<Vec<u8>>,
    /// Bytes of the front line already written (a short write).
    offset: usize,
    bytes: usize,
    lost: u64,
    retry: Retry,
    error: Option<String>,
}

impl Backlog {
    /// An empty backlog; `what` names the file in reports.
    pub fn new(what: String) -> Backlog {
        Backlog {
            what,
            lines: VecDeque::new(),
            offset: 0,
            bytes: 0,
            lost: 0,
            retry: Retry::default(),
            error: None,
        }
    }

    /// Queues one line.
    pub fn push(&mut self, line: Vec<u8>) {
        self.bytes += line.len();
        self.lines.push_back(line);
        // A front line already partly written is kept, so that it completes.
        let keep_front = usize::from(self.offset > 0);
        while self.bytes > BACKLOG_BYTES && self.lines.len() > keep_front + 1 {
            let dropped = self.lines.remove(keep_front).expect("a line to drop");
            self.bytes -= dropped.len();
            self.lost += 1;
        }
    }

    /// Whether writing may be attempted at `now` (`force`: supervise exits).
    pub fn ready(&self, now: Duration, force: bool) -> bool {
        !self.lines.is_empty() && (force || self.retry.ready(now))
    }

    /// The bytes to write next.
    pub fn front(&self) -> Option<&[u8]> {
        self.lines.front().map(|line| &line[self.offset..])
    }

    /// `n` bytes of [`Backlog::front`] were written.
    pub fn wrote(&mut self, n: usize) {
        let Some(front) = self.lines.front() else {
            return;
        };
        self.offset += n;
        if self.offset >= front.len() {
            self.bytes -= front.len();
            self.lines.pop_front();
            self.offset = 0;
        }
    }

    /// Writing failed with `error` at `now`; returns what to log about it.
    pub fn failed(&mut self, now: Duration, error: &str) -> Option<(Level, String)> {
        self.retry.failed(now);
        let what = &self.what;
        failure_report(&mut self.error, error, || {
            format!("cannot write {what}: {error} (its lines are kept and retried)")
        })
    }

    /// Called once the backlog is empty: after a failure, what to log about
    /// the recovery.
    pub fn drained(&mut self) -> Option<(Level, String)> {
        recovery_report(
            &mut self.retry,
            &mut self.error,
            &self.what,
            &mut self.lost,
            "line(s) were lost",
        )
    }

    /// Whether no line waits.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// When to try again; `None` unless a failure is pending.
    pub fn deadline(&self) -> Option<Duration> {
        self.retry.deadline().filter(|_| !self.lines.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Want;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn status(pid: u32, alarms_on: bool) -> Status {
        Status {
            since: Duration::from_secs(1_700_000_000),
            paused: false,
            want: Want::Up,
            alarms_on,
            pid,
        }
    }

    #[test]
    fn retries_back_off_doubling_to_the_cap_and_a_success_resets() {
        let mut retry = Retry::default();
        assert!(retry.ready(ms(0)) && retry.deadline().is_none());
        let mut now = 0;
        let mut delays = Vec::new();
        for _ in 0..8 {
            retry.failed(ms(now));
            let next = retry.deadline().unwrap().as_millis() as u64;
            delays.push(next - now);
            assert!(!retry.ready(ms(next - 1)) && retry.ready(ms(next)));
            now = next;
        }
        assert_eq!(delays, vec![100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(retry.succeeded(), 8);
        assert_eq!(retry, Retry::default(), "no deadline once it works");
    }

    #[test]
    fn what_goes_out_with_a_held_back_status_wakes_no_earlier_than_it() {
        let mut writes = StatusWrites::new("d/status".into());
        assert_eq!(writes.after_held_back(Some(ms(5))), Some(ms(5)));
        assert_eq!(writes.after_held_back(None), None);
        writes.change(ms(10), status(42, true));
        writes.outcome(ms(10), status(42, true), Ok(()));
        // `d`: the flags change (held back 2 ms), `info` is due at once.
        writes.change(ms(20), status(42, false));
        assert_eq!(writes.after_held_back(Some(ms(20))), Some(ms(22)));
        assert_eq!(writes.after_held_back(Some(ms(30))), Some(ms(30)));
        // A failing status write does not hold `info` back.
        writes.outcome(ms(22), status(42, false), Err("disk full".into()));
        assert_eq!(writes.after_held_back(Some(ms(23))), Some(ms(23)));
    }

    #[test]
    fn a_status_change_of_the_pid_is_due_at_once_a_flag_change_waits_2_ms() {
        let mut writes = StatusWrites::new("d/status".into());
        assert_eq!(writes.deadline(), None);
        writes.change(ms(10), status(42, true));
        assert_eq!(writes.due(ms(10), false), Some(status(42, true)));
        assert_eq!(writes.outcome(ms(10), status(42, true), Ok(())), None);
        assert_eq!(writes.deadline(), None, "nothing left: no wake-up");
        // Only a flag changed: coalesced with whatever follows within 2 ms.
        writes.change(ms(20), status(42, false));
        assert!(writes.holding_back(ms(21)));
        assert_eq!(writes.due(ms(21), false), None);
        assert_eq!(writes.deadline(), Some(ms(22)));
        assert_eq!(
            writes.due(ms(21), true),
            Some(status(42, false)),
            "forced at exit"
        );
        // The exit that follows is due at once, and is the one written.
        writes.change(ms(21), status(0, false));
        assert_eq!(writes.due(ms(21), false), Some(status(0, false)));
    }

    #[test]
    fn a_failed_status_write_is_retried_with_back_off_and_reported_once() {
        let mut writes = StatusWrites::new("d/status".into());
        writes.change(ms(0), status(42, true));
        let report = writes.outcome(ms(0), status(42, true), Err("No space left".into()));
        assert_eq!(
            report,
            Some((
                Level::Warning,
                "cannot write d/status: No space left (supervision goes on; retrying)".into()
            ))
        );
        assert!(
            !writes.holding_back(ms(1)),
            "a failing write holds no log line back"
        );
        assert_eq!(writes.deadline(), Some(ms(100)));
        assert_eq!(writes.due(ms(99), false), None);
        // A newer status replaces the pending one but keeps the schedule.
        writes.change(ms(50), status(43, true));
        assert_eq!(writes.due(ms(50), false), None);
        assert_eq!(writes.due(ms(100), false), Some(status(43, true)));
        assert_eq!(
            writes.outcome(ms(100), status(43, true), Err("No space left".into())),
            None,
            "the same error again is not logged again"
        );
        assert_eq!(writes.deadline(), Some(ms(300)));
        let changed = writes.outcome(ms(300), status(43, true), Err("Permission denied".into()));
        assert!(changed.is_some_and(|(_, l)| l.contains("Permission denied")));
        let recovered = writes.outcome(ms(700), status(43, true), Ok(()));
        assert_eq!(
            recovered,
            Some((
                Level::Warning,
                "d/status written again after 3 failed attempt(s)".into()
            ))
        );
        assert_eq!(writes.deadline(), None);
        // The pid on disk is now 43: a flag change is coalesced again.
        writes.change(ms(800), status(43, false));
        assert!(writes.holding_back(ms(800)));
    }

    #[test]
    fn a_backlog_keeps_lines_in_order_and_completes_a_short_write() {
        let mut log = Backlog::new("d/supervise.log".into());
        assert!(!log.ready(ms(0), false));
        log.push(b"one\n".to_vec());
        log.push(b"two\n".to_vec());
        assert!(log.ready(ms(0), false));
        assert_eq!(log.front(), Some(&b"one\n"[..]));
        log.wrote(2);
        assert_eq!(log.front(), Some(&b"e\n"[..]), "the rest of a short write");
        log.wrote(2);
        let report = log.failed(ms(5), "No such device or address").unwrap();
        assert!(
            report
                .1
                .contains("cannot write d/supervise.log: No such device")
        );
        assert!(!log.ready(ms(104), false) && log.ready(ms(105), false));
        assert!(log.ready(ms(6), true), "one last attempt when exiting");
        assert_eq!(log.deadline(), Some(ms(105)));
        assert_eq!(log.front(), Some(&b"two\n"[..]));
        log.wrote(4);
        assert!(log.is_empty());
        assert_eq!(log.deadline(), None);
        assert_eq!(
            log.drained(),
            Some((Level::Warning, "d/supervise.log written again".into()))
        );
        assert_eq!(log.drained(), None, "the recovery is said once");
    }

    #[test]
    fn a_backlog_drops_the_oldest_whole_lines_past_its_size_and_counts_them() {
        let mut log = Backlog::new("d/supervise.log.wf".into());
        let line = vec![b'x'; 1000];
        log.push(b"first, half written\n".to_vec());
        log.wrote(5);
        log.failed(ms(0), "No space left");
        for _ in 0..100 {
            log.push(line.clone());
        }
        assert!(log.bytes <= BACKLOG_BYTES, "{} bytes kept", log.bytes);
        assert_eq!(
            log.front(),
            Some(&b", half written\n"[..]),
            "the started line stays"
        );
        let kept = log.lines.len() as u64 - 1;
        assert_eq!(log.lost + kept, 100);
        while log.front().is_some() {
            let n = log.front().unwrap().len();
            log.wrote(n);
        }
        let (_, report) = log.drained().unwrap();
        assert!(report.ends_with(&format!("{} line(s) were lost meanwhile", 100 - kept)));
    }

    #[test]
    fn a_record_is_written_at_once_and_retried() {
        let mut record: Replace<u32> = Replace::new("d/lock".into());
        record.set(7, ms(3));
        assert_eq!(record.due(ms(3), false), Some(7));
        assert!(
            record
                .outcome(ms(3), Err("Read-only file system".into()))
                .is_some()
        );
        record.set(8, ms(4));
        assert_eq!(record.due(ms(4), false), None, "the back-off holds");
        assert_eq!(record.pending(), Some(8));
        assert_eq!(record.due(ms(103), false), Some(8));
        assert!(record.outcome(ms(103), Ok(())).is_some());
        assert_eq!((record.pending(), record.deadline()), (None, None));
    }
}
