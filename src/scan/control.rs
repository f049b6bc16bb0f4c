//! The scanner's control FIFO, `ROOT/supervise-scan.control`
//! (docs/status-files.md): one request a line, `start NAME` or `stop NAME`,
//! at most [`MAX_LINE`] bytes, written by `svc` in one `write(2)`. The
//! lines are cut and read here, purely ([`Lines`], [`parse`],
//! [`Complaints`]: bytes in, requests and complaints out); [`Fifo`] only
//! opens the FIFO and reads it without blocking. A line too long, not
//! UTF-8 or not a request is a complaint, and a flood of them is a few log
//! lines, not one per line.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::plan::safe_name;

/// The FIFO's name in the status root.
pub const CONTROL_FILE: &str = "supervise-scan.control";

/// The longest request line, in bytes, its newline not counted.
pub const MAX_LINE: usize = 512;

/// At most this many complaints are logged in [`QUIET_FOR`]; the others
/// are counted and the count is logged with the next one after it.
const COMPLAINTS: usize = 5;

/// See [`COMPLAINTS`].
pub const QUIET_FOR: Duration = Duration::from_secs(10);

/// What a line asks of the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Revive NAME's supervise if it exited, and want the service up, what
    /// it needs first.
    Start(String),
    /// Stop what requires NAME, in reverse order, then NAME (`d`).
    Stop(String),
}

impl std::fmt::Display for Request {
    /// The line that asks it, without its newline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Start(name) => write!(f, "start {name}"),
            Request::Stop(name) => write!(f, "stop {name}"),
        }
    }
}

/// Reads one line (without its newline): a request, or what is wrong.
pub fn parse(line: &[u8]) -> Result<Request, String> {
    let shown = || crate::info::escape(&String::from_utf8_lossy(line));
    let text = std::str::from_utf8(line).map_err(|_| format!("not UTF-8: `{}`", shown()))?;
    let mut words = text.split_ascii_whitespace();
    let (verb, name, rest) = (words.next(), words.next(), words.next());
    let request = match (verb, name) {
        (Some("start"), Some(name)) => Request::Start(name.to_owned()),
        (Some("stop"), Some(name)) => Request::Stop(name.to_owned()),
        (Some(verb @ ("start" | "stop")), None) => {
            return Err(format!("`{verb}` needs a service name"));
        }
        _ => return Err(format!("unknown request `{}`", shown())),
    };
    if rest.is_some() {
        return Err(format!("one service a line: `{}`", shown()));
    }
    let (Request::Start(name) | Request::Stop(name)) = &request;
    if !safe_name(name) {
        return Err(format!("not a service name: `{}`", shown()));
    }
    Ok(request)
}

/// Cuts the bytes read from the FIFO into lines, keeping a partial last
/// line for the next read; a line longer than [`MAX_LINE`] is dropped
/// whole, up to its newline, and reported once.
#[derive(Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
    /// Inside a line already too long: drop up to its newline.
    overlong: bool,
}

/// What one read gave.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// Requests, in order, a request repeated in a row kept once.
    pub requests: Vec<Request>,
    /// What was wrong with the other lines, in order.
    pub problems: Vec<String>,
}

impl Lines {
    /// Takes the bytes of one read.
    pub fn feed(&mut self, bytes: &[u8]) -> Read {
        let mut read = Read::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (chunk, ended) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], true),
                None => (rest, false),
            };
            rest = &rest[(chunk.len() + usize::from(ended))..];
            if !self.overlong {
                self.partial.extend_from_slice(chunk);
                if self.partial.len() > MAX_LINE {
                    self.overlong = true;
                    self.partial.clear();
                    read.problems
                        .push(format!("a line longer than {MAX_LINE} bytes, ignored"));
                }
            }
            if !ended {
                break;
            }
            if std::mem::take(&mut self.overlong) {
                continue;
            }
            let line = std::mem::take(&mut self.partial);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse(&line) {
                Ok(request) if read.requests.last() == Some(&request) => {}
                Ok(request) => read.requests.push(request),
                Err(problem) => read.problems.push(problem),
            }
        }
        read
    }
}

/// Logs at most [`COMPLAINTS`] complaints in [`QUIET_FOR`], and then how
/// many were left out.
#[derive(Debug, Default)]
pub struct Complaints {
    /// When the current span began, and how many were logged in it.
    span: Option<(Duration, usize)>,
    left_out: u64,
}

impl Complaints {
    /// The log lines for `problems` found at `now` (monotonic).
    pub fn lines(&mut self, now: Duration, problems: Vec<String>) -> Vec<String> {
        let mut lines = Vec::new();
        for problem in problems {
            let (start, logged) = match self.span {
                Some((start, logged)) if now < start + QUIET_FOR => (start, logged),
                _ => (now, 0),
            };
            if logged == 0 && self.left_out > 0 {
                lines.push(format!(
                    "control: {} more unreadable lines were ignored",
                    self.left_out
                ));
                self.left_out = 0;
            }
            if logged < COMPLAINTS {
                lines.push(format!("control: {problem}"));
                if logged + 1 == COMPLAINTS {
                    lines.push(format!(
                        "control: more unreadable lines in the next {} s are only counted",
                        QUIET_FOR.as_secs()
                    ));
                }
            } else {
                self.left_out += 1;
            }
            self.span = Some((start, logged + 1));
        }
        lines
    }
}

/// The most read from the FIFO in one wake-up, so that a flood cannot
/// keep the loop from the rest of its work (what is left wakes it again).
const READ_AT_MOST: usize = 64 * 1024;

/// The FIFO, open for reading without blocking.
pub struct Fifo {
    path: PathBuf,
    reader: File,
    /// Held so that the FIFO never reads end-of-file (which would make it
    /// readable for ever) and a writer never finds it without a reader
    /// while we live.
    _writer: File,
    lines: Lines,
    complaints: Complaints,
}

impl Fifo {
    /// Makes the FIFO (mode 0600) in `root` if need be and opens it.
    pub fn open(root: &Path) -> io::Result<Fifo> {
        let path = root.join(CONTROL_FILE);
        let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        crate::sys::fifo::make(&path).map_err(named)?;
        let reader = crate::sys::fifo::open_reader(&path).map_err(named)?;
        let writer = crate::sys::fifo::open_writer(&path).map_err(named)?;
        Ok(Fifo {
            path,
            reader,
            _writer: writer,
            lines: Lines::default(),
            complaints: Complaints::default(),
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.reader.as_raw_fd()
    }

    /// Reads what is there (up to [`READ_AT_MOST`]); returns the requests
    /// and the log lines for what was wrong, at `now` (monotonic).
    pub fn read(&mut self, now: Duration) -> (Vec<Request>, Vec<String>) {
        let mut buf = [0u8; 8192];
        let mut requests: Vec<Request> = Vec::new();
        let mut problems = Vec::new();
        let mut total = 0;
        while total < READ_AT_MOST {
            match self.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    total += n;
                    let read = self.lines.feed(&buf[..n]);
                    for request in read.requests {
                        if requests.last() != Some(&request) {
                            requests.push(request);
                        }
                    }
                    problems.extend(read.problems);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    problems.push(format!("cannot read {}: {e}", self.path.display()));
                    break;
                }
            }
        }
        (requests, self.complaints.lines(now, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_and_what_is_wrong_with_the_rest() {
        let start = |n: &str| Ok(Request::Start(n.into()));
        assert_eq!(parse(b"start web"), start("web"));
        assert_eq!(parse(b"  start\tweb-1@x  \r"), start("web-1@x"));
        assert_eq!(parse(b"stop db"), Ok(Request::Stop("db".into())));
        let cases: &[(&[u8], &str)] = &[
            (b"start", "`start` needs a service name"),
            (b"stop  ", "`stop` needs a service name"),
            (b"restart a", "unknown request `restart a`"),
            (b"START a", "unknown request `START a`"),
            (b"start a b", "one service a line: `start a b`"),
            (b"stop ../a", "not a service name: `stop ../a`"),
            (
                b"\xff\xfe\x00garbage",
                "not UTF-8: `\u{fffd}\u{fffd}\\x00garbage`",
            ),
        ];
        for (line, problem) in cases {
            assert_eq!(parse(line), Err((*problem).to_owned()), "{line:?}");
        }
    }

    #[test]
    fn lines_across_reads_and_a_line_too_long() {
        let mut lines = Lines::default();
        let read = lines.feed(b"start a\nsto");
        assert_eq!(read.requests, [Request::Start("a".into())]);
        let read = lines.feed(b"p b\n\n \nstart a\nstart a\nstop b\n");
        assert_eq!(
            read.requests,
            [
                Request::Stop("b".into()),
                Request::Start("a".into()),
                Request::Stop("b".into())
            ],
            "a request repeated in a row is one"
        );
        // A line too long is dropped to its newline, even across reads:
        // the `stop a` that starts it does not count.
        let long = [b'x'; MAX_LINE];
        let mut bytes = b"stop a".to_vec();
        bytes.extend_from_slice(&long);
        let read = lines.feed(&bytes);
        assert_eq!(read.problems.len(), 1);
        let read = lines.feed(b"more of it\nstart c\n");
        assert_eq!(read.requests, [Request::Start("c".into())]);
        assert!(read.problems.is_empty());
        // Exactly MAX_LINE bytes is a line.
        let mut exact = b"start a".to_vec();
        exact.extend(std::iter::repeat_n(b' ', MAX_LINE - 7));
        exact.push(b'\n');
        let read = lines.feed(&exact);
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.requests.len(), 1);
    }

    #[test]
    fn a_flood_of_complaints_is_a_few_lines() {
        let mut complaints = Complaints::default();
        let problems = |n: usize| (0..n).map(|i| format!("bad {i}")).collect::<Vec<_>>();
        let first = complaints.lines(Duration::ZERO, problems(10_000));
        assert_eq!(
            first,
            [
                "control: bad 0",
                "control: bad 1",
                "control: bad 2",
                "control: bad 3",
                "control: bad 4",
                "control: more unreadable lines in the next 10 s are only counted"
            ]
        );
        assert!(complaints.lines(QUIET_FOR / 2, problems(3)).is_empty());
        assert_eq!(
            complaints.lines(QUIET_FOR, problems(1)),
            [
                "control: 9998 more unreadable lines were ignored",
                "control: bad 0"
            ]
        );
    }

    proptest! {
        #[test]
        fn no_bytes_make_it_panic_or_grow(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..700), 0..20)) {
            let mut lines = Lines::default();
            for chunk in chunks {
                let _ = lines.feed(&chunk);
                prop_assert!(lines.partial.len() <= MAX_LINE);
            }
        }

        #[test]
        fn every_request_line_reads_back(name in "[a-z0-9._@+-]{1,40}", stop in any::<bool>()) {
            prop_assume!(safe_name(&name));
            let request = if stop { Request::Stop(name) } else { Request::Start(name) };
            let mut lines = Lines::default();
            let read = lines.feed(format!("{request}\n").as_bytes());
            prop_assert_eq!(read.requests, vec![request]);
        }
    }
}
