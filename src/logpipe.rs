//! The service's output through supervise (`log_max_bytes`, `log_keep`,
//! `log_timestamps`): what becomes of the bytes read from the log pipe.
//! They are cut into lines (a line longer than [`MAX_LINE`] is split, not
//! lost), each line stamped with the time it was read (TAI64N, as
//! daemontools' `tai64n` and s6-log write it, or ISO 8601 UTC), and the
//! lines written to `__stdout`/`__stderr` up to `log_max_bytes`, where the
//! file is rotated (`__stdout.1` … `__stdout.N`) at a line boundary. Pure:
//! bytes and times in, bytes and decisions out; the pipe, the files and the
//! renames are in `sys::logpipe`.

use std::time::Duration;

/// The longest line written whole, without its `\n`: a longer one is
/// written in parts of this size, each a line of its own.
pub const MAX_LINE: usize = 8192;

/// Rotated files kept when `log_keep` is not given.
pub const DEFAULT_KEEP: u32 = 10;

/// The time put before each line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timestamps {
    /// None: the lines as the service wrote them.
    Off,
    /// `@4000000069...` (TAI64N label, 25 characters) and a space.
    Tai64n,
    /// `2026-12-01T23:45:00.123456Z` (UTC, microseconds) and a space.
    Iso8601,
}

impl Timestamps {
    /// The value of `log_timestamps`.
    pub fn word(self) -> &'static str {
        match self {
            Timestamps::Off => "off",
            Timestamps::Tai64n => "tai64n",
            Timestamps::Iso8601 => "iso8601",
        }
    }

    /// The setting a `log_timestamps` value names.
    pub fn from_word(word: &str) -> Option<Timestamps> {
        match word {
            "off" | "no" | "none" => Some(Timestamps::Off),
            "tai64n" | "on" | "yes" => Some(Timestamps::Tai64n),
            "iso8601" => Some(Timestamps::Iso8601),
            _ => None,
        }
    }

    /// The stamp for `wall` (since the Unix epoch), with its space.
    pub fn stamp(self, wall: Duration) -> String {
        match self {
            Timestamps::Off => String::new(),
            Timestamps::Tai64n => {
                // TAI64: 2^62 + TAI seconds; TAI is 10 s ahead of the Unix
                // count as daemontools and s6 reckon (leap seconds aside).
                let secs = (1u64 << 62) + wall.as_secs() + 10;
                format!("@{secs:016x}{:08x} ", wall.subsec_nanos())
            }
            Timestamps::Iso8601 => {
                let (y, mo, d, h, mi, s) = civil(wall.as_secs());
                format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z ",
                    wall.subsec_micros()
                )
            }
        }
    }
}

/// Unix seconds as UTC (year, month, day, hour, minute, second).
fn civil(secs: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = secs / 86_400;
    let rest = secs % 86_400;
    // Howard Hinnant's days-to-civil, for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
}

/// Cuts a byte stream into stamped lines; keeps the unfinished last line
/// (at most [`MAX_LINE`] bytes) for the next read.
#[derive(Clone, Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Appends to `out` every line that `input` completes, each after
    /// `stamp`; a line reaching [`MAX_LINE`] bytes is ended there. Returns
    /// how many lines were appended.
    pub fn feed(&mut self, input: &[u8], stamp: &[u8], out: &mut Vec<u8>) -> u64 {
        let mut lines = 0;
        let mut rest = input;
        while !rest.is_empty() {
            let room = MAX_LINE - self.partial.len();
            let window = &rest[..rest.len().min(room)];
            match memchr(b'\n', window) {
                Some(at) => {
                    out.extend_from_slice(stamp);
                    out.append(&mut self.partial);
                    out.extend_from_slice(&window[..=at]);
                    rest = &rest[at + 1..];
                    lines += 1;
                }
                None if window.len() == room => {
                    // A line of MAX_LINE bytes and more: this part ends here.
                    out.extend_from_slice(stamp);
                    out.append(&mut self.partial);
                    out.extend_from_slice(window);
                    out.push(b'\n');
                    rest = &rest[room..];
                    lines += 1;
                }
                None => {
                    self.partial.extend_from_slice(window);
                    rest = &[];
                }
            }
        }
        lines
    }

    /// Bytes of an unfinished line waiting for its end.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

/// How many bytes of `lines` (whole lines) go into a file that holds `size`
/// bytes and may hold `max` (`None`: no limit) before it must be rotated;
/// `lines.len()` when all of them fit. A file that is empty takes at least
/// its first line, however long: a rotation never leaves an empty file.
pub fn fits(size: u64, max: Option<u64>, lines: &[u8]) -> usize {
    let Some(max) = max else {
        return lines.len();
    };
    let room = max.saturating_sub(size);
    if lines.len() as u64 <= room {
        return lines.len();
    }
    // The last line end within the room.
    let within = &lines[..room as usize];
    match within.iter().rposition(|&b| b == b'\n') {
        Some(end) => end + 1,
        None if size == 0 => memchr(b'\n', lines).map_or(lines.len(), |end| end + 1),
        None => 0,
    }
}

/// The renames of a rotation, in order, for `keep` files kept: `NAME.N-1`
/// → `NAME.N` … `NAME` → `NAME.1` (suffixes; 0 is the file itself). With
/// `keep` 0 there is none: the file is removed instead.
pub fn rotation(keep: u32) -> Vec<(u32, u32)> {
    (0..keep).rev().map(|n| (n, n + 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]], stamp: &[u8]) -> (Vec<u8>, u64, usize) {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        let n = chunks.iter().map(|c| lines.feed(c, stamp, &mut out)).sum();
        (out, n, lines.pending())
    }

    /// Chunks read, what is written, lines, bytes left waiting.
    type Case<'a> = (&'a [&'a [u8]], &'a [u8], u64, usize);

    #[test]
    fn lines_are_cut_stamped_and_a_partial_one_waits() {
        let table: &[Case] = &[
            (&[b"a\nb\n"], b"T a\nT b\n", 2, 0),
            (&[b"a", b"b\nc"], b"T ab\n", 1, 1),
            (&[b"", b"\n"], b"T \n", 1, 0),
            (&[b"x\n\n"], b"T x\nT \n", 2, 0),
        ];
        for &(chunks, expect, n, pending) in table {
            let (out, lines, left) = feed_all(chunks, b"T ");
            assert_eq!(
                (String::from_utf8_lossy(&out).as_ref(), lines, left),
                (String::from_utf8_lossy(expect).as_ref(), n, pending),
                "{chunks:?}"
            );
        }
    }

    #[test]
    fn a_long_line_is_split_not_lost() {
        let long = vec![b'x'; MAX_LINE * 2 + 10];
        let mut input = long.clone();
        input.push(b'\n');
        // In one read and byte by byte: the same parts.
        let (out, n, left) = feed_all(&[&input], b"");
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        let (out2, n2, _) = feed_all(&bytes, b"");
        assert_eq!((n, n2, left), (3, 3, 0));
        assert_eq!(out, out2);
        let parts: Vec<usize> = out.split(|&b| b == b'\n').map(<[u8]>::len).collect();
        assert_eq!(parts, [MAX_LINE, MAX_LINE, 10, 0]);
        assert_eq!(out.iter().filter(|&&b| b == b'x').count(), long.len());
    }

    #[test]
    fn rotation_happens_at_line_boundaries() {
        let lines = b"aaaa\nbbbb\ncccc\n";
        assert_eq!(fits(0, None, lines), 15);
        assert_eq!(fits(0, Some(100), lines), 15);
        assert_eq!(fits(0, Some(12), lines), 10);
        assert_eq!(fits(5, Some(12), lines), 5);
        assert_eq!(fits(10, Some(12), lines), 0, "rotate first");
        assert_eq!(fits(0, Some(2), lines), 5, "an empty file takes a line");
        assert_eq!(fits(0, Some(2), b"abc"), 3);
        assert_eq!(rotation(3), [(2, 3), (1, 2), (0, 1)]);
        assert_eq!(rotation(0), []);
    }

    #[test]
    fn timestamps_as_tai64n_and_iso8601() {
        let t = Duration::new(1_764_632_700, 123_456_789);
        assert_eq!(Timestamps::Off.stamp(t), "");
        let tai = Timestamps::Tai64n.stamp(t);
        assert_eq!(
            tai,
            format!("@{:016x}075bcd15 ", (1u64 << 62) + 1_764_632_710)
        );
        assert_eq!(tai.len(), 26);
        assert_eq!(Timestamps::Iso8601.stamp(t), "2025-12-01T23:45:00.123456Z ");
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(4_102_444_799), (2099, 12, 31, 23, 59, 59));
        for w in ["off", "tai64n", "iso8601"] {
            assert_eq!(Timestamps::from_word(w).unwrap().word(), w);
        }
        assert_eq!(Timestamps::from_word("on"), Some(Timestamps::Tai64n));
        assert_eq!(Timestamps::from_word("rfc3339"), None);
    }
}
