//! The scanner's own stdout and stderr: its log lines, the forwarded lines
//! of services, what its supervise write. None of it may block the loop:
//! each stream keeps a bounded queue of whole lines ([`Queue`], pure),
//! written without blocking as the reader takes them ([`Output::flush`]); a
//! line that does not fit is dropped and counted, and the loss is said on
//! stderr when it starts, when the reader catches up, and at exit.

use std::collections::VecDeque;
use std::io;

use crate::sys::stdio::Sink;

/// Bytes a stream holds for a slow reader before it drops lines.
pub const CAPACITY: usize = 256 * 1024;

/// More room for the scanner's own log lines, so that a flood of
/// forwarded output does not drown what the scanner says.
pub const RESERVE: usize = 64 * 1024;

/// The longest partial line held back before it is passed on anyway.
pub const MAX_PENDING: usize = 16 * 1024;

/// Which stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// stdout.
    Out,
    /// stderr.
    Err,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Out => "stdout",
            Stream::Err => "stderr",
        }
    }
}

/// Something a queue's reader should be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Lines began to be dropped: the reader is too slow.
    Dropping,
    /// The queue emptied after dropping this much.
    CaughtUp {
        /// Lines dropped in this episode.
        lines: u64,
        /// Their bytes.
        bytes: u64,
    },
    /// The reader is gone: everything is dropped from now on.
    Gone,
}

/// A bounded queue of lines for one reader, and what it dropped. Pure.
#[derive(Debug, Default)]
pub struct Queue {
    bytes: VecDeque<u8>,
    /// Dropped in the current episode (since the queue was last empty).
    episode: (u64, u64),
    /// Dropped in all.
    total_lines: u64,
    gone: bool,
}

impl Queue {
    /// Queues `line` (one or more whole lines) if it fits: in
    /// [`CAPACITY`], or with the [`RESERVE`] for the scanner's `own` lines.
    /// Returns [`Notice::Dropping`] when this drop starts an episode.
    pub fn push(&mut self, line: &[u8], own: bool) -> Option<Notice> {
        let room = CAPACITY + if own { RESERVE } else { 0 };
        if !self.gone && self.bytes.len() + line.len() <= room {
            self.bytes.extend(line);
            return None;
        }
        let first = self.episode == (0, 0);
        let lines = line.iter().filter(|&&b| b == b'\n').count().max(1) as u64;
        self.episode.0 += lines;
        self.episode.1 += line.len() as u64;
        self.total_lines += lines;
        (first && !self.gone).then_some(Notice::Dropping)
    }

    /// The bytes to write next (a contiguous part of the queue).
    pub fn pending(&self) -> &[u8] {
        self.bytes.as_slices().0
    }

    /// `n` bytes were written; [`Notice::CaughtUp`] when that emptied the
    /// queue after drops.
    pub fn consumed(&mut self, n: usize) -> Option<Notice> {
        self.bytes.drain(..n.min(self.bytes.len()));
        if !self.bytes.is_empty() || self.episode == (0, 0) || self.gone {
            return None;
        }
        let (lines, bytes) = std::mem::take(&mut self.episode);
        Some(Notice::CaughtUp { lines, bytes })
    }

    /// The reader is gone: what is queued is dropped, and all that comes
    /// later. [`Notice::Gone`] the first time.
    pub fn gone(&mut self) -> Option<Notice> {
        if self.gone {
            return None;
        }
        self.total_lines += self.bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        self.bytes.clear();
        self.gone = true;
        Some(Notice::Gone)
    }

    /// Whether something waits to be written.
    pub fn is_waiting(&self) -> bool {
        !self.bytes.is_empty()
    }

    /// Lines dropped in all.
    pub fn dropped(&self) -> u64 {
        self.total_lines
    }
}

/// Splits a byte stream into lines, each handed on with a prefix; a line
/// longer than [`MAX_PENDING`] is handed on in parts.
#[derive(Debug, Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Feeds `chunk`; returns every complete line in it, each prefixed.
    pub fn split(&mut self, chunk: &[u8], prefix: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            out.extend_from_slice(prefix);
            out.extend(self.pending.drain(..=end));
        }
        if self.pending.len() > MAX_PENDING {
            out.extend_from_slice(prefix);
            out.append(&mut self.pending);
            out.push(b'\n');
        }
        out
    }
}

/// The two streams, each a queue in front of a sink.
pub struct Output {
    out: (Queue, Sink),
    err: (Queue, Sink),
}

impl Output {
    /// Output to these sinks.
    pub fn new(stdout: Sink, stderr: Sink) -> Output {
        Output {
            out: (Queue::default(), stdout),
            err: (Queue::default(), stderr),
        }
    }

    /// Queues lines for `stream` (`own`: the scanner's log lines).
    pub fn push(&mut self, stream: Stream, lines: &[u8], own: bool) {
        let queue = match stream {
            Stream::Out => &mut self.out.0,
            Stream::Err => &mut self.err.0,
        };
        if let Some(notice) = queue.push(lines, own) {
            self.tell(stream, notice);
        }
    }

    /// Writes what the readers take now, without blocking.
    pub fn flush(&mut self) {
        for stream in [Stream::Out, Stream::Err] {
            for notice in self.flush_one(stream) {
                self.tell(stream, notice);
            }
        }
        // What was just told about the streams.
        for notice in self.flush_one(Stream::Err) {
            self.tell(Stream::Err, notice);
        }
    }

    fn flush_one(&mut self, stream: Stream) -> Vec<Notice> {
        let (queue, sink) = match stream {
            Stream::Out => (&mut self.out.0, &self.out.1),
            Stream::Err => (&mut self.err.0, &self.err.1),
        };
        let mut notices = Vec::new();
        while queue.is_waiting() {
            match sink.write(queue.pending()) {
                Ok(0) => break,
                Ok(n) => notices.extend(queue.consumed(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => notices.extend(queue.gone()),
            }
        }
        notices
    }

    /// The descriptors to poll for POLLOUT: those whose writes wait.
    pub fn writable_fds(&self) -> Vec<i32> {
        [&self.out, &self.err]
            .into_iter()
            .filter(|(queue, _)| queue.is_waiting())
            .filter_map(|(_, sink)| sink.raw_fd())
            .collect()
    }

    /// A line for the summary at exit, if anything was dropped.
    pub fn summary(&self) -> Option<String> {
        let (out, err) = (self.out.0.dropped(), self.err.0.dropped());
        (out + err > 0).then(|| {
            format!("{out} lines of forwarded output were dropped on stdout, {err} on stderr")
        })
    }

    /// Says on stderr what happened to `stream`.
    fn tell(&mut self, stream: Stream, notice: Notice) {
        let name = stream.name();
        let line = match notice {
            Notice::Dropping => {
                format!("{name} is not keeping up: dropping forwarded output")
            }
            Notice::CaughtUp { lines, bytes } => format!(
                "{name} caught up: {lines} lines ({bytes} bytes) of forwarded output were dropped"
            ),
            Notice::Gone => {
                format!("{name} is closed: forwarded output is dropped from now on")
            }
        };
        let line = super::log_line(crate::supervisor::Level::Warning, &line);
        // Not `push`: a drop of this line must not tell about itself.
        let _ = self.err.0.push(line.as_bytes(), true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_holds_up_to_its_capacity_and_counts_what_it_drops() {
        let mut q = Queue::default();
        let line = vec![b'x'; 1023];
        let line = [line, b"\n".to_vec()].concat();
        for _ in 0..CAPACITY / 1024 {
            assert_eq!(q.push(&line, false), None);
        }
        assert_eq!(q.push(&line, false), Some(Notice::Dropping));
        assert_eq!(q.push(&line, false), None, "told once per episode");
        // The scanner's own lines still fit, in the reserve.
        assert_eq!(q.push(b"own\n", true), None);
        assert_eq!(q.dropped(), 2);
        // Written bit by bit; caught up once empty.
        let mut left = CAPACITY + 4;
        while left > 0 {
            let n = q.pending().len().min(5000);
            let notice = q.consumed(n);
            left -= n;
            if left > 0 {
                assert_eq!(notice, None);
            } else {
                assert_eq!(
                    notice,
                    Some(Notice::CaughtUp {
                        lines: 2,
                        bytes: 2048
                    })
                );
            }
        }
        assert!(!q.is_waiting());
        assert_eq!(q.push(&line, false), None, "a new episode starts clean");
    }

    #[test]
    fn a_gone_reader_drops_everything_from_then_on() {
        let mut q = Queue::default();
        q.push(b"a\nb\n", false);
        assert_eq!(q.gone(), Some(Notice::Gone));
        assert_eq!(q.gone(), None);
        assert!(!q.is_waiting());
        assert_eq!(q.push(b"c\n", true), None, "no more notices");
        assert_eq!(q.dropped(), 3);
    }

    #[test]
    fn lines_are_prefixed_and_a_partial_line_waits() {
        let mut lines = Lines::default();
        assert_eq!(lines.split(b"one\ntw", b"x: "), b"x: one\n");
        assert_eq!(lines.split(b"o\n", b"x: "), b"x: two\n");
        let long = vec![b'y'; MAX_PENDING + 1];
        let out = lines.split(&long, b"x: ");
        assert_eq!(out.len(), 3 + MAX_PENDING + 2);
        assert!(out.ends_with(b"y\n"));
    }

    #[test]
    fn output_to_a_stalled_pipe_drops_and_tells_then_catches_up() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (mut out_reader, out_writer) = std::io::pipe().unwrap();
        let (mut err_reader, err_writer) = std::io::pipe().unwrap();
        let sink = Sink::of;
        let mut output = Output::new(sink(out_writer.as_raw_fd()), sink(err_writer.as_raw_fd()));
        let line = [vec![b'x'; 1023], b"\n".to_vec()].concat();
        // Far more than the pipe and the queue hold.
        for _ in 0..1000 {
            output.push(Stream::Out, &line, false);
            output.flush();
        }
        assert_eq!(output.writable_fds().len(), 1, "waits for stdout");
        let mut told = vec![0; 4096];
        let n = err_reader.read(&mut told).unwrap();
        let told = String::from_utf8_lossy(&told[..n]);
        assert!(told.contains("stdout is not keeping up"), "{told}");
        // The reader comes back and takes everything.
        let mut taken = 0;
        let mut buf = vec![0; 1 << 16];
        while output
            .writable_fds()
            .contains(&output.out.1.raw_fd().unwrap())
        {
            taken += out_reader.read(&mut buf).unwrap();
            output.flush();
        }
        assert!(taken >= CAPACITY);
        let n = err_reader.read(&mut buf).unwrap();
        let told = String::from_utf8_lossy(&buf[..n]);
        assert!(told.contains("stdout caught up:"), "{told}");
        assert!(output.summary().unwrap().contains("on stdout, 0 on stderr"));
    }
}
