//! The rules of writing `history` (docs/status-files.md): lines wait here
//! until the driver appends them, each with one `write(2)`; once the file
//! holds 2 × `history_size` lines it is compacted to the last
//! `history_size`; a failed append is retried on a back-off deadline with
//! the lines kept (the oldest dropped, and counted, past `history_size`),
//! and said once. Pure: the driver reads, appends and renames (through
//! `sys::history`) when this module says so and reports the outcome; times
//! are monotonic. The text itself is [`crate::info::Exited`]'s.

use std::collections::VecDeque;
use std::time::Duration;

use crate::info::Exited;
use crate::supervisor::Level;
use crate::writes::{Retry, failure_report, recovery_report};

/// The longest line supervise writes is far shorter; a reader of the file's
/// tail reads this many bytes per line kept.
pub const LINE_BYTES: u64 = 256;

/// Lines for `history` not yet appended, and what is known of the file.
#[derive(Clone, Debug)]
pub struct History {
    what: String,
    pending: VecDeque<String>,
    /// Lines in the file, once counted (at the first append of this
    /// supervise, which keeps the file of the one before).
    lines: Option<u64>,
    retry: Retry,
    error: Option<String>,
    lost: u64,
}

/// What the driver must do next for `history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// Nothing (no line, or a back-off holds them).
    Idle,
    /// Read the file's last [`History::read_bytes`] bytes and report them
    /// with [`History::counted`].
    Count,
    /// Append this text with one write, and report with
    /// [`History::appended`] or [`History::failed`].
    Append(&'a str),
    /// Rewrite the file with the last `keep` lines, through `history.new`
    /// ([`compact`] gives the text), and report with [`History::compacted`].
    Compact {
        /// Lines to keep.
        keep: u64,
    },
}

impl History {
    /// Nothing to write; `what` names the file in reports (its path).
    pub fn new(what: String) -> History {
        History {
            what,
            pending: VecDeque::new(),
            lines: None,
            retry: Retry::default(),
            error: None,
            lost: 0,
        }
    }

    /// Queues one exit, for a file of `size` lines (0: history is off).
    pub fn record(&mut self, exited: &Exited, size: u32) {
        if size == 0 {
            return;
        }
        self.pending.push_back(exited.render());
        while self.pending.len() > size as usize {
            self.pending.pop_front();
            self.lost += 1;
        }
    }

    /// How many bytes of the file's end to read to count (and compact) it
    /// for `size` lines.
    pub fn read_bytes(size: u32) -> u64 {
        2 * u64::from(size.max(1)) * LINE_BYTES
    }

    /// What to do at `now` for `size` lines (`force`: supervise exits, one
    /// last attempt).
    pub fn step(&self, now: Duration, force: bool, size: u32) -> Step<'_> {
        let limit = 2 * u64::from(size);
        if size > 0 && self.lines.is_some_and(|n| n >= limit) {
            return Step::Compact {
                keep: u64::from(size),
            };
        }
        let Some(line) = self.pending.front() else {
            return Step::Idle;
        };
        if !force && !self.retry.ready(now) {
            return Step::Idle;
        }
        if self.lines.is_none() {
            return Step::Count;
        }
        Step::Append(line)
    }

    /// The file's end as read (`None`: there is none); `whole` says
    /// whether that is the whole file.
    pub fn counted(&mut self, tail: Option<&[u8]>, whole: bool, size: u32) {
        let lines = tail.map_or(0, |t| t.iter().filter(|&&b| b == b'\n').count() as u64);
        // A file larger than what was read holds more than enough lines:
        // it is compacted before the next append.
        self.lines = Some(if whole { lines } else { 2 * u64::from(size) });
    }

    /// The front line was appended.
    pub fn appended(&mut self) -> Option<(Level, String)> {
        self.pending.pop_front();
        if let Some(n) = &mut self.lines {
            *n += 1;
        }
        self.recovered()
    }

    /// The file was compacted to `kept` lines.
    pub fn compacted(&mut self, kept: u64) -> Option<(Level, String)> {
        self.lines = Some(kept);
        self.recovered()
    }

    /// A step failed with `error` at `now`; returns what to log about it.
    /// The file is counted again at the next attempt (it may have been
    /// changed or removed meanwhile).
    pub fn failed(&mut self, now: Duration, error: &str) -> Option<(Level, String)> {
        self.retry.failed(now);
        self.lines = None;
        let what = &self.what;
        failure_report(&mut self.error, error, || {
            format!("cannot write {what}: {error} (its lines are kept and retried)")
        })
    }

    fn recovered(&mut self) -> Option<(Level, String)> {
        recovery_report(
            &mut self.retry,
            &mut self.error,
            &self.what,
            &mut self.lost,
            "exit(s) were left out",
        )
    }

    /// When to try again; `None` unless a failure is pending.
    pub fn deadline(&self) -> Option<Duration> {
        self.retry
            .deadline()
            .filter(|_| !self.pending.is_empty() || self.lines.is_none())
    }
}

/// The text of a compacted file: the last `keep` complete lines of `tail`
/// that readers can read. `whole` says whether `tail` starts at the
/// file's start (otherwise its first line is a part, left out).
pub fn compact(tail: &[u8], whole: bool, keep: u64) -> (String, u64) {
    let text = String::from_utf8_lossy(tail);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end + 1],
        None => "",
    };
    let mut lines: Vec<&str> = complete.split_inclusive('\n').collect();
    if !whole && !lines.is_empty() {
        lines.remove(0);
    }
    let readable: Vec<&str> = lines
        .into_iter()
        .filter(|l| Exited::parse(l.trim_end_matches('\n')).is_some())
        .collect();
    let from = readable.len().saturating_sub(keep as usize);
    (readable[from..].concat(), (readable.len() - from) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::Cause;
    use crate::supervisor::Exit;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn exit(pid: u32) -> Exited {
        Exited {
            time: Duration::from_secs(1_764_621_234),
            pid,
            exit: Exit::Code(1),
            ran: ms(50),
            cause: Cause::Crash,
        }
    }

    #[test]
    fn counts_once_then_appends_then_compacts_at_twice_the_size() {
        let mut h = History::new("d/history".into());
        assert_eq!(h.step(ms(0), false, 2), Step::Idle);
        h.record(&exit(1), 2);
        assert_eq!(h.step(ms(0), false, 2), Step::Count);
        h.counted(Some(exit(0).render().as_bytes()), true, 2);
        let line = exit(1).render();
        assert_eq!(h.step(ms(0), false, 2), Step::Append(&line));
        assert_eq!(h.appended(), None);
        assert_eq!(h.step(ms(0), false, 2), Step::Idle);
        h.record(&exit(2), 2);
        h.record(&exit(3), 2);
        h.appended();
        // Three lines now, four after the next append: then compact.
        assert_eq!(h.step(ms(0), false, 2), Step::Append(&exit(3).render()));
        h.appended();
        assert_eq!(h.step(ms(0), false, 2), Step::Compact { keep: 2 });
        h.compacted(2);
        assert_eq!(h.step(ms(0), false, 2), Step::Idle);
    }

    #[test]
    fn size_0_records_nothing_and_a_large_file_is_compacted_first() {
        let mut h = History::new("d/history".into());
        h.record(&exit(1), 0);
        assert_eq!(h.step(ms(0), false, 0), Step::Idle);
        h.record(&exit(1), 100);
        h.counted(Some(b"x\n"), false, 100);
        assert_eq!(h.step(ms(0), false, 100), Step::Compact { keep: 100 });
        assert_eq!(History::read_bytes(100), 51_200);
    }

    #[test]
    fn a_failure_keeps_the_newest_lines_retries_and_says_it_once() {
        let mut h = History::new("d/history".into());
        h.counted(None, true, 2);
        h.record(&exit(1), 2);
        let report = h.failed(ms(0), "No space left on device");
        assert!(report.unwrap().1.contains("cannot write d/history"));
        assert_eq!(h.step(ms(50), false, 2), Step::Idle, "back-off");
        assert_eq!(h.deadline(), Some(ms(100)));
        assert_eq!(h.failed(ms(100), "No space left on device"), None);
        h.record(&exit(2), 2);
        h.record(&exit(3), 2);
        assert_eq!(h.step(ms(300), false, 2), Step::Count, "counted again");
        h.counted(None, true, 2);
        assert_eq!(h.step(ms(300), false, 2), Step::Append(&exit(2).render()));
        let (_, line) = h.appended().unwrap();
        assert_eq!(
            line,
            "d/history written again; 1 exit(s) were left out meanwhile"
        );
        assert_eq!(h.appended(), None);
        assert_eq!(h.deadline(), None);
    }

    #[test]
    fn compaction_keeps_the_last_readable_complete_lines() {
        let text = format!(
            "{}garbage\n{}{}time=17",
            exit(1).render(),
            exit(2).render(),
            exit(3).render()
        );
        let (kept, n) = compact(text.as_bytes(), true, 2);
        assert_eq!((kept, n), (exit(2).render() + &exit(3).render(), 2));
        let (kept, n) = compact(text.as_bytes(), true, 10);
        assert_eq!(n, 3);
        assert!(kept.starts_with(&exit(1).render()));
        // A tail that starts mid-line leaves that part out.
        let tail = &text.as_bytes()[5..];
        assert_eq!(compact(tail, false, 10).1, 2);
        assert_eq!(compact(b"", true, 10), (String::new(), 0));
    }
}
