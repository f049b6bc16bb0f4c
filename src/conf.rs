//! `supervise.conf` (SPEC §7): the settings that the config file decides, their
//! defaults, and the parser that resolves them for one service. Pure: the
//! caller reads the file and hands the bytes in; nothing here touches the file
//! system, and no input makes it panic or fail — problems come back as
//! [`Warning`]s with a line number.
//!
//! Resolution follows the original program line for line (its `parse_conf`):
//! read from the top until a line starting with `[global]` or `[NAME]`; a
//! `[NAME]` found first stands alone over [`Conf::file_defaults`]; a
//! `[global]` found first applies, then the first `[NAME]` after it is laid on
//! top (mail appended, SMS numbers appended up to 10, numbers only when > 0).
//! A section ends at the next line that starts with `[`. Header matching is
//! the original's prefix match, so `[redis] # main cache` is `[redis]`.
//!
//! Where the original is sloppy we stay compatible but say so:
//! - A number with trailing junk (`10abc`) is read as its leading digits, as
//!   `sscanf("%u")` does, with a warning; no digits at all keeps the previous
//!   value, with a warning. An empty number is 0 (SPEC §7).
//! - After any `alarm_interval` line the value in force is raised to 60 when
//!   it is between 1 and 59 — also in a `[NAME]` section whose own value was
//!   0 or unreadable, as in the original. The default 2 stays 2 when no
//!   `alarm_interval` line is read.
//! - A line is cut at [`MAX_LINE`] bytes (not counting its `\n`), with a
//!   warning; the rest of it is dropped. (The original's `fgets` would read
//!   the rest as a new line; we do not reproduce that.) A line is also cut at
//!   a NUL byte, where the original's string functions stop.
//! - Bytes that are not UTF-8 are replaced (U+FFFD) and never rejected.
//!
//! Which lines get warnings: every line that resolution for NAME actually
//! reads — the body of `[global]` and of the `[NAME]` section that is applied
//! — and every header line anywhere in the file (a malformed header, text
//! after `]`). Lines of other services' sections and lines before the first
//! header are not read, so they are not judged: another service may use keys
//! that this one does not know.

use crate::duration::{self, parse_seconds};
use crate::logpipe::Timestamps;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Settings for one service, as resolved from `supervise.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conf {
    /// Seconds of the alarm window; 0 disables alarms, windows and give-up.
    pub alarm_interval: u64,
    /// Exits tolerated in one window before giving up; 0 = unlimited.
    pub max_tries: u32,
    /// Core dumps tolerated in one window before giving up; 0 = unlimited.
    pub max_tries_if_coredumped: u32,
    /// Mail recipients of alarms.
    pub alarm_mail: Vec<String>,
    /// SMS numbers of alarms (10 at most).
    pub alarm_gsm: Vec<String>,
    /// Extension: delay before the second quick restart in a row.
    pub backoff_start: Duration,
    /// Extension: the longest delay between quick restarts.
    pub backoff_cap: Duration,
    /// Extension: a child that ran at least this long is restarted at once.
    pub healthy_after: Duration,
    /// Extension: quick exits restarted at once before the back-off starts.
    pub restart_burst: u32,
    /// Extension: run time that earns one of those back.
    pub restart_burst_refill: Duration,
    /// Extension: time between TERM and KILL when stopping.
    pub stop_timeout: Duration,
    /// Extension: program run on every alarm-worthy event.
    pub alarm_command: Option<String>,
    /// Extension: the mail program (`mail -s SUBJECT ADDR...`).
    pub mail_program: String,
    /// Extension: the SMS program (`PROGRAM NUMBER@MESSAGE`).
    pub sms_program: String,
    /// Extension: how long an alarm sender may run before it is killed.
    pub alarm_timeout: Duration,
    /// Extension: how long the `-r` restart hook may run before it is killed.
    pub hook_timeout: Duration,
    /// Extension: exits kept in `history`; 0 writes none.
    pub history_size: u32,
    /// Extension: rotate `__stdout`/`__stderr` beyond this many bytes.
    pub log_max_bytes: Option<u64>,
    /// Extension: rotated output files kept (`__stdout.1` …).
    pub log_keep: Option<u32>,
    /// Extension: the time put before each output line.
    pub log_timestamps: Option<Timestamps>,
    /// Extension: program run on every state change.
    pub event_command: Option<String>,
    /// Extension: readiness (`notification_fd`, `ready_timeout`).
    pub ready: crate::ready::Settings,
}

impl Conf {
    /// Whether the service's output goes through supervise's log pipe: any
    /// of `log_max_bytes`, `log_keep`, `log_timestamps` is set.
    pub fn log_pipe(&self) -> bool {
        self.log_max_bytes.is_some() || self.log_keep.is_some() || self.log_timestamps.is_some()
    }
}

impl Conf {
    /// The values in force before any config file was read: no alarms and no
    /// limits (SPEC §7), our documented restart and stop defaults.
    pub fn unread() -> Conf {
        Conf {
            alarm_interval: 0,
            max_tries: 0,
            max_tries_if_coredumped: 0,
            alarm_mail: Vec::new(),
            alarm_gsm: Vec::new(),
            backoff_start: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(30),
            healthy_after: Duration::from_secs(1),
            restart_burst: 5,
            restart_burst_refill: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(10),
            alarm_command: None,
            mail_program: "mail".to_owned(),
            sms_program: "gsmsend-script".to_owned(),
            alarm_timeout: Duration::from_secs(30),
            hook_timeout: Duration::from_secs(60),
            history_size: DEFAULT_HISTORY_SIZE,
            log_max_bytes: None,
            log_keep: None,
            log_timestamps: None,
            event_command: None,
            ready: crate::ready::Settings::default(),
        }
    }

    /// The base that a config file is resolved over once it could be read:
    /// [`Conf::unread`] with the original's `alarm_interval 2`, `max_tries 20`
    /// and `max_tries_if_coredumped 5` (SPEC §7).
    pub fn file_defaults() -> Conf {
        Conf {
            alarm_interval: 2,
            max_tries: 20,
            max_tries_if_coredumped: 5,
            ..Conf::unread()
        }
    }
}

/// The smallest `log_max_bytes`: a file holds at least a few lines.
pub const MIN_LOG_BYTES: u64 = 4096;

/// The largest `log_keep`.
pub const MAX_LOG_KEEP: u32 = 1000;

/// Exits kept in `history` when no `history_size` line says otherwise.
pub const DEFAULT_HISTORY_SIZE: u32 = 100;

/// The largest `history_size` accepted: the file stays below a megabyte or so.
pub const MAX_HISTORY_SIZE: u32 = 10_000;

/// Longest line, in bytes without its `\n`, that is read whole; the original
/// reads lines with a 2048-byte buffer.
pub const MAX_LINE: usize = 2048;

/// Most `alarm_gsm` numbers kept, `[global]` and `[NAME]` together.
pub const MAX_GSM: usize = 10;

/// The extension keys that hold a duration in seconds: the key, whether the
/// value must be above 0, and the setting it sets.
type DurationKey = (&'static str, bool, fn(&mut Conf) -> &mut Duration);
const DURATION_KEYS: &[DurationKey] = &[
    ("restart_backoff_start", false, |c| &mut c.backoff_start),
    ("restart_backoff_max", false, |c| &mut c.backoff_cap),
    ("healthy_after", false, |c| &mut c.healthy_after),
    ("restart_burst_refill", true, |c| {
        &mut c.restart_burst_refill
    }),
    ("stop_timeout", true, |c| &mut c.stop_timeout),
    ("alarm_timeout", true, |c| &mut c.alarm_timeout),
    ("restart_hook_timeout", true, |c| &mut c.hook_timeout),
];

/// Keys that belong to the multi-service scanner (see [`sections`]): accepted
/// without a warning and ignored by [`resolve`].
pub const SCANNER_KEYS: &[&str] = &[
    "command",
    "directory",
    "user",
    "groups",
    "start",
    "env",
    "environment_file",
    "umask",
    "after",
    "requires",
];

/// A problem found in the config file; resolution goes on past it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what was done about it.
    pub message: String,
}

/// The settings for one service and the warnings met on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The settings in force for the service.
    pub conf: Conf,
    /// Warnings in line order.
    pub warnings: Vec<Warning>,
}

/// One well-formed section of the file, as written, for the multi-service
/// scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets.
    pub name: String,
    /// 1-based line number of the header.
    pub line: usize,
    /// The section's `key : value` lines, in order, values trimmed.
    pub entries: Vec<Entry>,
}

/// One `key : value` line of a [`Section`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// The key, as written.
    pub key: String,
    /// The value with surrounding blanks removed; may be empty.
    pub value: String,
}

/// Resolves the settings for service `name` from the text of
/// `supervise.conf`, over [`Conf::file_defaults`] (see the module doc for the
/// rules and for which lines are judged).
pub fn resolve(text: &[u8], name: &str) -> Resolved {
    Document::parse(text).resolve(name)
}

impl Resolved {
    /// The warnings as `FILE:LINE: message` lines.
    pub fn warnings_text(&self, path: &std::path::Path) -> Vec<String> {
        self.warnings
            .iter()
            .map(|w| format!("{}:{}: {}", path.display(), w.line, w.message))
            .collect()
    }
}

/// Every well-formed section of the file with its raw `key : value` lines,
/// for the scanner that runs many services from one file. Lines before the
/// first header, and the body of a malformed header, belong to no section.
/// No key is checked here.
pub fn sections(text: &[u8]) -> Vec<Section> {
    Document::parse(text).sections()
}

/// A config file split into lines and headers once, so that any number of
/// services can be resolved from it in time linear in the file: the
/// scanner resolves every section of a file of thousands, supervise its
/// one. [`resolve`] and [`sections`] are this for a single use.
pub struct Document {
    lines: Vec<Line>,
    /// Warnings of well-formed header lines (text after `]`) and of cuts
    /// in any header line.
    header_notes: Vec<Warning>,
    /// The malformed headers.
    malformed: Vec<Warning>,
    /// Index of the first `[global]` line and of the line ending its body.
    global: Option<(usize, usize)>,
    /// Index of each well-formed name's first header.
    first: HashMap<String, usize>,
    /// Index of each name's first header at or after the end of `[global]`.
    after_global: HashMap<String, usize>,
    /// `[global]`'s body applied over the defaults, computed once.
    base: OnceCell<Resolver>,
}

impl Document {
    /// Splits `text` into lines and finds every header.
    pub fn parse(text: &[u8]) -> Document {
        let lines = split_lines(text);
        let mut judge = Resolver::new();
        let mut malformed = Vec::new();
        let mut first = HashMap::new();
        let mut named = Vec::new();
        for (at, line) in lines.iter().enumerate() {
            if !line.text.starts_with('[') {
                continue;
            }
            judge.judge_cuts(line);
            match parse_header(&line.text) {
                Ok((name, remark)) => {
                    if let Some(remark) = remark {
                        judge.warn(line.number, remark);
                    }
                    first.entry(name.to_owned()).or_insert(at);
                    named.push((at, name));
                }
                Err(message) => malformed.push(Warning {
                    line: line.number,
                    message,
                }),
            }
        }
        let global = first
            .get("global")
            .map(|&at| (at, body_end(&lines, at + 1)));
        let mut after_global = HashMap::new();
        if let Some((_, end)) = global {
            for &(at, name) in named.iter().filter(|(at, _)| *at >= end) {
                after_global.entry(name.to_owned()).or_insert(at);
            }
        }
        Document {
            header_notes: judge.warnings,
            malformed,
            global,
            first,
            after_global,
            base: OnceCell::new(),
            lines,
        }
    }

    /// The settings for service `name` and every warning that resolving it
    /// meets, exactly as [`resolve`] describes.
    pub fn resolve(&self, name: &str) -> Resolved {
        let own = self.resolve_own(name);
        let mut warnings = self.header_notes.clone();
        warnings.extend(self.malformed.iter().cloned());
        if self.reads_global(name) {
            warnings.extend(self.base().warnings.iter().cloned());
        }
        warnings.extend(own.warnings);
        warnings.sort_by_key(|w| w.line);
        Resolved {
            conf: own.conf,
            warnings,
        }
    }

    /// The settings for service `name`, with only the warnings of its own
    /// section: those of the headers and of `[global]`, which every
    /// service shares, are [`Document::shared_warnings`] and
    /// [`Document::malformed_headers`].
    pub fn resolve_own(&self, name: &str) -> Resolved {
        let (first, after_global) = self.find(name);
        let mut resolver = Resolver::new();
        match first {
            Some(at) if self.global.is_some_and(|(global, _)| global == at) => {
                resolver.conf = self.base().conf.clone();
                if let Some(own) = after_global {
                    resolver.apply_section(&self.lines, own + 1, Mode::Override);
                }
            }
            Some(at) => {
                resolver.apply_section(&self.lines, at + 1, Mode::Alone);
            }
            None => {}
        }
        Resolved {
            conf: resolver.conf,
            warnings: resolver.warnings,
        }
    }

    /// The warnings of header lines (but the malformed ones) and of
    /// `[global]`'s body.
    pub fn shared_warnings(&self) -> Vec<Warning> {
        let mut warnings = self.header_notes.clone();
        if self.global.is_some() {
            warnings.extend(self.base().warnings.iter().cloned());
        }
        warnings.sort_by_key(|w| w.line);
        warnings
    }

    /// The malformed section headers, each with what is wrong.
    pub fn malformed_headers(&self) -> &[Warning] {
        &self.malformed
    }

    /// Every well-formed section with its raw `key : value` lines (see
    /// [`sections`]).
    pub fn sections(&self) -> Vec<Section> {
        let mut sections: Vec<Section> = Vec::new();
        let mut open = false;
        for line in &self.lines {
            if line.text.starts_with('[') {
                open = match parse_header(&line.text) {
                    Ok((name, _)) => {
                        sections.push(Section {
                            name: name.to_owned(),
                            line: line.number,
                            entries: Vec::new(),
                        });
                        true
                    }
                    Err(_) => false,
                };
                continue;
            }
            if let (true, Some(section)) = (open, sections.last_mut())
                && let Some((key, value)) = split_key(&line.text)
            {
                section.entries.push(Entry {
                    line: line.number,
                    key: key.to_owned(),
                    value: value.to_owned(),
                });
            }
        }
        sections
    }

    /// Whether resolving `name` reads `[global]` (it comes before any
    /// `[name]`).
    fn reads_global(&self, name: &str) -> bool {
        let (first, _) = self.find(name);
        first.is_some() && first == self.global.map(|(at, _)| at)
    }

    /// `[global]` applied over the defaults.
    fn base(&self) -> &Resolver {
        self.base.get_or_init(|| {
            let mut resolver = Resolver::new();
            if let Some((at, _)) = self.global {
                resolver.apply_section(&self.lines, at + 1, Mode::Base);
            }
            resolver
        })
    }

    /// The original's search for `name`: the index of the first line that
    /// starts with `[global]` or `[name]`, and of the first line at or
    /// after the end of `[global]`'s body that starts with `[name]`. The
    /// original matches by prefix; for a name that a well-formed header can
    /// hold (no `]`, no blanks) that is the header's name, found in the
    /// maps; any other name is searched for line by line.
    fn find(&self, name: &str) -> (Option<usize>, Option<usize>) {
        let global = self.global.map(|(at, _)| at);
        if plain_name(name) {
            let own = self.first.get(name).copied();
            let first = [global, own].into_iter().flatten().min();
            return (first, self.after_global.get(name).copied());
        }
        self.find_by_prefix(name)
    }

    /// [`Document::find`] line by line, as the original does.
    fn find_by_prefix(&self, name: &str) -> (Option<usize>, Option<usize>) {
        let tag = format!("[{name}]");
        let first = self
            .lines
            .iter()
            .position(|l| l.text.starts_with("[global]") || l.text.starts_with(&tag));
        let after = self.global.and_then(|(_, end)| {
            let own = self.lines[end..]
                .iter()
                .position(|l| l.text.starts_with(&tag))?;
            Some(end + own)
        });
        (first, after)
    }
}

/// A name that a well-formed header can hold.
fn plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(']') && !name.chars().any(is_blank_char)
}

/// The index of the line that ends the body starting at `start`: the next
/// line starting with `[`, or the line count.
fn body_end(lines: &[Line], start: usize) -> usize {
    lines[start..]
        .iter()
        .position(|l| l.text.starts_with('['))
        .map_or(lines.len(), |i| start + i)
}

impl Conf {
    /// The original's config dump (`alarm_interval: N` … `alarm_gsm[i]: …`),
    /// then one `key: value` line per extension setting, durations in seconds.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![
            format!("alarm_interval: {}", self.alarm_interval),
            format!("max_tries: {}", self.max_tries),
            format!("max_tries_if_coredumped: {}", self.max_tries_if_coredumped),
            format!("alarm_mail : {}", self.alarm_mail.join(" ")),
            format!("gsm_list_len: {}", self.alarm_gsm.len()),
        ];
        for (i, number) in self.alarm_gsm.iter().enumerate() {
            lines.push(format!("alarm_gsm[{i}]: {number}"));
        }
        // The table's accessors take `&mut`, for the parser; read a copy.
        let mut conf = self.clone();
        lines.push(format!("restart_burst: {}", self.restart_burst));
        for &(key, _, field) in DURATION_KEYS {
            lines.push(format!("{key}: {}", duration::setting(*field(&mut conf))));
        }
        lines.push(format!(
            "alarm_command: {}",
            self.alarm_command.as_deref().unwrap_or("")
        ));
        lines.push(format!("alarm_mail_program: {}", self.mail_program));
        lines.push(format!("alarm_sms_program: {}", self.sms_program));
        lines.push(format!("history_size: {}", self.history_size));
        lines.extend(self.ready.lines());
        lines.extend(self.log_lines().iter().map(|(k, v)| format!("{k}: {v}")));
        lines
    }

    /// The output-log keys that are set, as `(key, value)`.
    fn log_lines(&self) -> Vec<(&'static str, String)> {
        let mut lines = Vec::new();
        if let Some(max) = self.log_max_bytes {
            lines.push(("log_max_bytes", max.to_string()));
        }
        if let Some(keep) = self.log_keep {
            lines.push(("log_keep", keep.to_string()));
        }
        if let Some(stamps) = self.log_timestamps {
            lines.push(("log_timestamps", stamps.word().to_owned()));
        }
        if let Some(program) = &self.event_command {
            lines.push(("event_command", program.clone()));
        }
        lines
    }
}

/// The text of a config file of its own that gives service `name` exactly
/// `conf`: [`resolve`] of it for `name` returns `conf` again, with no
/// warning of its own making (a program path with blanks keeps the warning
/// it had). The scanner hands one to each supervise (`-F`), so that none
/// reads the whole file of every service.
///
/// Every key is written, in one `[NAME]` section; only when the mail
/// addresses need more than one line (at most [`MAX_LINE`] bytes each) do
/// the keys go under `[global]`, with the further `alarm_mail` lines under
/// `[NAME]`, where they are appended. `alarm_interval` 2 (the default when
/// no line sets it; a line would raise it to 60) is the one value written
/// as a comment. `conf` must be one that resolution can give: values no
/// longer than a line holds, `alarm_interval` 0, 2 or at least 60.
pub fn render(name: &str, conf: &Conf) -> String {
    let mail = list_lines("alarm_mail", &conf.alarm_mail);
    let (first_mail, more_mail) = mail.split_first().expect("at least one line");
    let mut out = format!(
        "# The settings of [{name}], written by supervise-scan from its config file:\n\
         # this service's supervise reads this file. Edit that file and reload.\n"
    );
    if more_mail.is_empty() {
        let _ = writeln!(out, "[{name}]");
    } else {
        out.push_str("[global]\n");
    }
    if conf.alarm_interval == 2 {
        out.push_str("# alarm_interval: 2 (the default: a line would raise it to 60)\n");
    } else {
        out.push_str(&key_line(
            "alarm_interval",
            &conf.alarm_interval.to_string(),
        ));
    }
    out.push_str(&key_line("max_tries", &conf.max_tries.to_string()));
    out.push_str(&key_line(
        "max_tries_if_coredumped",
        &conf.max_tries_if_coredumped.to_string(),
    ));
    out.push_str(first_mail);
    for line in list_lines("alarm_gsm", &conf.alarm_gsm) {
        out.push_str(&line);
    }
    let mut copy = conf.clone();
    out.push_str(&key_line("restart_burst", &conf.restart_burst.to_string()));
    for &(key, _, field) in DURATION_KEYS {
        out.push_str(&key_line(key, &duration::setting(*field(&mut copy))));
    }
    out.push_str(&key_line(
        "alarm_command",
        conf.alarm_command.as_deref().unwrap_or(""),
    ));
    out.push_str(&key_line("alarm_mail_program", &conf.mail_program));
    out.push_str(&key_line("alarm_sms_program", &conf.sms_program));
    out.push_str(&key_line("history_size", &conf.history_size.to_string()));
    for line in conf.ready.lines() {
        out.push_str(&line);
        out.push('\n');
    }
    for (key, value) in conf.log_lines() {
        out.push_str(&key_line(key, &value));
    }
    if !more_mail.is_empty() {
        let _ = writeln!(out, "[{name}]");
        for line in more_mail {
            out.push_str(line);
        }
    }
    out
}

/// `key: value\n`, or `key:value\n` when only that fits in a line.
fn key_line(key: &str, value: &str) -> String {
    let spaced = format!("{key}: {value}");
    if spaced.len() <= MAX_LINE {
        spaced + "\n"
    } else {
        format!("{key}:{value}\n")
    }
}

/// `items` as few `key: a b c` lines as fit in [`MAX_LINE`] bytes each;
/// one `key:` line when there are none.
fn list_lines(key: &str, items: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for item in items {
        if !current.is_empty() && current.len() + 1 + item.len() <= MAX_LINE {
            current.push(' ');
            current.push_str(item);
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current) + "\n");
        }
        current = key_line(key, item).trim_end().to_owned();
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(if current.is_empty() {
            format!("{key}:\n")
        } else {
            current + "\n"
        });
    }
    lines
}

/// One line of the file after the original's clean-up.
struct Line {
    /// 1-based.
    number: usize,
    /// Cut at NUL and at [`MAX_LINE`], trailing blanks (and `\r`) removed,
    /// made valid UTF-8.
    text: String,
    /// The line was longer than [`MAX_LINE`].
    long: bool,
    /// The line held a NUL byte.
    nul: bool,
}

fn split_lines(text: &[u8]) -> Vec<Line> {
    let mut raw: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if raw.last().is_some_and(|last| last.is_empty()) {
        raw.pop();
    }
    #[cfg(test)]
    work::add(raw.len());
    raw.into_iter()
        .enumerate()
        .map(|(i, mut bytes)| {
            let nul = bytes.contains(&0);
            if let Some(at) = bytes.iter().position(|&b| b == 0) {
                bytes = &bytes[..at];
            }
            let long = bytes.len() > MAX_LINE;
            bytes = &bytes[..bytes.len().min(MAX_LINE)];
            while let Some((&last, rest)) = bytes.split_last() {
                if !is_blank(last) {
                    break;
                }
                bytes = rest;
            }
            Line {
                number: i + 1,
                text: String::from_utf8_lossy(bytes).into_owned(),
                long,
                nul,
            }
        })
        .collect()
}

/// C's `isspace` in the C locale, which the original uses throughout.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_blank_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_blank)
}

/// Text from the file as quoted in a warning: control characters escaped (a
/// warning is one log line) and at most 80 characters.
fn shown(text: &str) -> String {
    const MAX: usize = 80;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// The name of a well-formed header line (`[NAME]`, no blanks inside), with
/// a remark when text other than a `#` comment follows the `]` (the line still
/// counts as that header, as in the original); or what is wrong with it.
fn parse_header(text: &str) -> Result<(&str, Option<String>), String> {
    let inner = &text[1..];
    let Some(close) = inner.find(']') else {
        let text = shown(text);
        return Err(format!(
            "malformed section header `{text}`: no closing `]`; \
             it ends the section above and starts none"
        ));
    };
    let name = &inner[..close];
    if name.is_empty() || name.chars().any(is_blank_char) {
        let text = shown(text);
        return Err(format!(
            "malformed section header `{text}`: write `[NAME]` with no blanks \
             inside the brackets; it ends the section above and starts none"
        ));
    }
    let rest = inner[close + 1..].trim_start_matches(is_blank_char);
    let remark = (!rest.is_empty() && !rest.starts_with('#')).then(|| {
        format!(
            "text after section header `[{}]` is ignored: `{}`",
            shown(name),
            shown(rest)
        )
    });
    Ok((name, remark))
}

/// `key : value` at column 0: the key has no blanks, the value is trimmed.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let (key, value) = text.split_once(':')?;
    let key = key.trim_end_matches(is_blank_char);
    if key.is_empty() || key.starts_with(['#', '[']) || key.chars().any(is_blank_char) {
        return None;
    }
    Some((key, value.trim_matches(is_blank_char)))
}

/// How a section's keys combine with what is already in force.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `[NAME]` before `[global]`: its keys over the defaults.
    Alone,
    /// `[global]`: its keys over the defaults.
    Base,
    /// `[NAME]` after `[global]`: appended lists, numbers only when > 0.
    Override,
}

struct Resolver {
    conf: Conf,
    warnings: Vec<Warning>,
}

impl Resolver {
    fn new() -> Resolver {
        Resolver {
            conf: Conf::file_defaults(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Warning { line, message });
    }

    fn judge_cuts(&mut self, line: &Line) {
        if line.nul {
            self.warn(
                line.number,
                "NUL byte: the rest of the line is ignored".to_owned(),
            );
        }
        if line.long {
            self.warn(
                line.number,
                format!("line longer than {MAX_LINE} bytes: the rest is ignored"),
            );
        }
    }

    /// Applies the body that starts at `start`, up to the next line starting
    /// with `[`.
    fn apply_section(&mut self, lines: &[Line], start: usize, mode: Mode) {
        let end = body_end(lines, start);
        #[cfg(test)]
        work::add(end - start);
        let mut mail_line = None;
        for line in &lines[start..end] {
            self.judge_cuts(line);
            self.apply_line(line, mode, &mut mail_line);
        }
    }

    fn apply_line(&mut self, line: &Line, mode: Mode, mail_line: &mut Option<usize>) {
        let text = line.text.as_str();
        let trimmed = text.trim_start_matches(is_blank_char);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return;
        }
        if trimmed.len() != text.len() {
            self.warn(
                line.number,
                "keys must start at column 0: line ignored".to_owned(),
            );
            return;
        }
        let Some((key, value)) = split_key(text) else {
            self.warn(
                line.number,
                "expected `key : value`, a `[section]` header, a `#` comment or a blank line: line ignored".to_owned(),
            );
            return;
        };
        let n = line.number;
        match key {
            "alarm_interval" => {
                if let Some(v) = self.count(n, key, value, mode) {
                    self.conf.alarm_interval = u64::from(v);
                }
                if (1..60).contains(&self.conf.alarm_interval) {
                    self.conf.alarm_interval = 60;
                }
            }
            "max_tries" => {
                if let Some(v) = self.count(n, key, value, mode) {
                    self.conf.max_tries = v;
                }
            }
            "max_tries_if_coredumped" => {
                if let Some(v) = self.count(n, key, value, mode) {
                    self.conf.max_tries_if_coredumped = v;
                }
            }
            "restart_burst" => {
                // An extension: 0 in [NAME] overrides [global] too.
                if let Some(v) = self.count(n, key, value, Mode::Base) {
                    self.conf.restart_burst = v;
                }
            }
            "alarm_mail" => self.mail(n, value, mode, mail_line),
            "alarm_gsm" => self.gsm(n, value),
            _ if let Some(&(_, positive, field)) = DURATION_KEYS.iter().find(|k| k.0 == key) => {
                if let Some(d) = self.duration(n, key, value, positive) {
                    *field(&mut self.conf) = d;
                }
            }
            "alarm_command" => {
                if let Some(p) = self.program(n, key, value) {
                    self.conf.alarm_command = Some(p);
                }
            }
            "event_command" => {
                if let Some(p) = self.program(n, key, value) {
                    self.conf.event_command = Some(p);
                }
            }
            "alarm_mail_program" => {
                if let Some(p) = self.program(n, key, value) {
                    self.conf.mail_program = p;
                }
            }
            "alarm_sms_program" => {
                if let Some(p) = self.program(n, key, value) {
                    self.conf.sms_program = p;
                }
            }
            _ if crate::ready::KEYS.contains(&key) => {
                if let Err(warning) = self.conf.ready.set(key, value) {
                    self.warn(n, warning);
                }
            }
            "log_max_bytes" => {
                if let Some(v) = self.bytes(n, key, value) {
                    self.conf.log_max_bytes = Some(v);
                }
            }
            "log_keep" => {
                if let Some(v) = self.bounded(n, key, value, MAX_LOG_KEEP) {
                    self.conf.log_keep = Some(v);
                }
            }
            "log_timestamps" if !value.is_empty() => match Timestamps::from_word(value) {
                Some(t) => self.conf.log_timestamps = Some(t),
                None => self.warn(
                    n,
                    format!(
                        "log_timestamps: expected tai64n, iso8601 or off, found `{}`: line ignored",
                        shown(value)
                    ),
                ),
            },
            "log_timestamps" => {}
            "history_size" => {
                if let Some(v) = self.bounded(n, key, value, MAX_HISTORY_SIZE) {
                    self.conf.history_size = v;
                }
            }
            _ if SCANNER_KEYS.contains(&key) => {}
            _ => self.warn(n, format!("unknown key `{}`: line ignored", shown(key))),
        }
    }

    /// A count or number of seconds of the original's keys, read as
    /// `sscanf("%u")` would; `None` when the value in force must not change.
    fn count(&mut self, n: usize, key: &str, value: &str, mode: Mode) -> Option<u32> {
        let v = if value.is_empty() {
            0
        } else {
            let unsigned = value.strip_prefix('+').unwrap_or(value);
            let digits = unsigned.len()
                - unsigned
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            if digits == 0 {
                self.warn(
                    n,
                    format!(
                        "{key}: expected a whole number >= 0, found `{}`: line ignored",
                        shown(value)
                    ),
                );
                return None;
            }
            let Ok(v) = unsigned[..digits].parse::<u32>() else {
                self.warn(
                    n,
                    format!(
                        "{key}: `{}` is too large (at most {}): line ignored",
                        shown(value),
                        u32::MAX
                    ),
                );
                return None;
            };
            if digits < unsigned.len() {
                self.warn(n, format!("{key}: expected a whole number >= 0, found `{}`: using {v}, as the original does", shown(value)));
            }
            v
        };
        if mode == Mode::Override && v == 0 {
            if !value.is_empty() {
                self.warn(n, format!("{key}: 0 does not override the [global] value (only values > 0 do): line has no effect"));
            }
            return None;
        }
        Some(v)
    }

    fn mail(&mut self, n: usize, value: &str, mode: Mode, mail_line: &mut Option<usize>) {
        let addresses: Vec<String> = value
            .split(is_blank_char)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        if addresses.is_empty() {
            return;
        }
        if mode == Mode::Override {
            self.conf.alarm_mail.extend(addresses);
            return;
        }
        if let Some(earlier) = mail_line.replace(n) {
            self.warn(n, format!("alarm_mail: replaces the addresses of line {earlier}, as the original does: put all addresses on one line"));
        }
        self.conf.alarm_mail = addresses;
    }

    fn gsm(&mut self, n: usize, value: &str) {
        let mut dropped = Vec::new();
        for number in value.split(is_blank_char).filter(|a| !a.is_empty()) {
            if self.conf.alarm_gsm.len() < MAX_GSM {
                self.conf.alarm_gsm.push(number.to_owned());
            } else {
                dropped.push(number);
            }
        }
        if !dropped.is_empty() {
            self.warn(
                n,
                format!(
                    "alarm_gsm: at most {MAX_GSM} numbers in all, ignored: {}",
                    shown(&dropped.join(" "))
                ),
            );
        }
    }

    /// An extension duration: seconds, decimals allowed, an optional `s`.
    /// Empty keeps the value in force without a warning.
    fn duration(&mut self, n: usize, key: &str, value: &str, positive: bool) -> Option<Duration> {
        if value.is_empty() {
            return None;
        }
        match parse_seconds(value) {
            Some(d) if positive && d.is_zero() => {
                self.warn(
                    n,
                    format!("{key}: must be more than 0 seconds: line ignored"),
                );
                None
            }
            Some(d) => Some(d),
            None => {
                self.warn(
                    n,
                    format!(
                        "{key}: expected seconds such as `10` or `0.5`, found `{}`: line ignored",
                        shown(value)
                    ),
                );
                None
            }
        }
    }

    /// An extension whole number from 0 to `max`; any mode sets it (0
    /// included). Empty keeps the value in force without a warning.
    fn bounded(&mut self, n: usize, key: &str, value: &str, max: u32) -> Option<u32> {
        if value.is_empty() {
            return None;
        }
        match value.parse::<u32>() {
            Ok(v) if value.bytes().all(|b| b.is_ascii_digit()) && v <= max => Some(v),
            _ => {
                self.warn(
                    n,
                    format!(
                        "{key}: expected a whole number from 0 to {max}, found `{}`: line ignored",
                        shown(value)
                    ),
                );
                None
            }
        }
    }

    /// A size in bytes, at least [`MIN_LOG_BYTES`]. Empty keeps the value.
    fn bytes(&mut self, n: usize, key: &str, value: &str) -> Option<u64> {
        if value.is_empty() {
            return None;
        }
        match value.parse::<u64>() {
            Ok(v) if value.bytes().all(|b| b.is_ascii_digit()) && v >= MIN_LOG_BYTES => Some(v),
            _ => {
                self.warn(
                    n,
                    format!(
                        "{key}: expected a whole number of bytes of at least {MIN_LOG_BYTES}, found `{}`: line ignored",
                        shown(value)
                    ),
                );
                None
            }
        }
    }

    /// An extension program path. Empty keeps the value in force.
    fn program(&mut self, n: usize, key: &str, value: &str) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        if value.chars().any(is_blank_char) {
            self.warn(n, format!("{key}: `{}` is run as one program path, without a shell: blanks are not argument separators", shown(value)));
        }
        Some(value.to_owned())
    }
}

/// Counts the lines the parser visits, per thread, so that tests can show
/// the work is linear in the file (not in sections × lines).
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;

    thread_local! {
        static LINES: Cell<usize> = const { Cell::new(0) };
    }

    /// Adds `n` visited lines.
    pub fn add(n: usize) {
        LINES.with(|l| l.set(l.get() + n));
    }

    /// The lines visited since the last call.
    pub fn take() -> usize {
        LINES.with(|l| l.replace(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn conf(text: &str, name: &str) -> Conf {
        resolve(text.as_bytes(), name).conf
    }

    /// Warnings as (line, message) pairs.
    fn warnings(text: &[u8], name: &str) -> Vec<(usize, String)> {
        resolve(text, name)
            .warnings
            .into_iter()
            .map(|w| (w.line, w.message))
            .collect()
    }

    fn warned_lines(text: &str, name: &str) -> Vec<usize> {
        warnings(text.as_bytes(), name)
            .into_iter()
            .map(|(l, _)| l)
            .collect()
    }

    fn with(f: impl FnOnce(&mut Conf)) -> Conf {
        let mut c = Conf::file_defaults();
        f(&mut c);
        c
    }

    #[test]
    fn defaults_before_and_after_reading() {
        let unread = Conf::unread();
        assert_eq!(
            (
                unread.alarm_interval,
                unread.max_tries,
                unread.max_tries_if_coredumped
            ),
            (0, 0, 0)
        );
        let read = Conf::file_defaults();
        assert_eq!(
            (
                read.alarm_interval,
                read.max_tries,
                read.max_tries_if_coredumped
            ),
            (2, 20, 5)
        );
        assert_eq!(
            Conf {
                alarm_interval: 0,
                max_tries: 0,
                max_tries_if_coredumped: 0,
                ..read
            },
            unread
        );
        // A file with nothing for the service: the defaults, 2 not raised.
        for text in [
            "",
            "\n\n",
            "# nothing\n",
            "[other]\nmax_tries: 3\n",
            "max_tries: 3\n",
        ] {
            let r = resolve(text.as_bytes(), "redis");
            assert_eq!(r.conf, Conf::file_defaults(), "{text:?}");
            assert!(r.warnings.is_empty(), "{text:?}");
        }
    }

    #[test]
    fn global_applies_over_the_defaults() {
        let text = "[global]\nalarm_interval : 60\nalarm_mail : a@x b@x\nalarm_gsm : 1 2\nmax_tries : 10\nmax_tries_if_coredumped : 7\n";
        let expected = with(|c| {
            c.alarm_interval = 60;
            c.alarm_mail = vec!["a@x".into(), "b@x".into()];
            c.alarm_gsm = vec!["1".into(), "2".into()];
            c.max_tries = 10;
            c.max_tries_if_coredumped = 7;
        });
        assert_eq!(conf(text, "redis"), expected);
        assert!(resolve(text.as_bytes(), "redis").warnings.is_empty());
    }

    #[test]
    fn the_spec_example() {
        let text = "[someModuleThatNoNeedNewFunction]\n\n[global]\nalarm_interval : 60\n\
                    alarm_mail : ops@example.com oncall@example.com\nalarm_gsm : 13800000000\n\
                    max_tries : 10\nmax_tries_if_coredumped : 10\n\n[redis]\nalarm_interval : 120\nmax_tries : 3\n";
        let global = with(|c| {
            c.alarm_interval = 60;
            c.alarm_mail = vec!["ops@example.com".into(), "oncall@example.com".into()];
            c.alarm_gsm = vec!["13800000000".into()];
            c.max_tries = 10;
            c.max_tries_if_coredumped = 10;
        });
        let redis = Conf {
            alarm_interval: 120,
            max_tries: 3,
            ..global.clone()
        };
        assert_eq!(conf(text, "redis"), redis);
        assert_eq!(conf(text, "web"), global);
        // Before [global]: stands alone, with no keys of its own.
        assert_eq!(
            conf(text, "someModuleThatNoNeedNewFunction"),
            Conf::file_defaults()
        );
        assert!(resolve(text.as_bytes(), "redis").warnings.is_empty());
    }

    #[test]
    fn a_section_before_global_stands_alone() {
        let text = "[redis]\nmax_tries : 3\n[global]\nalarm_interval: 120\nalarm_mail: a@x\n[redis]\nmax_tries: 4\n";
        assert_eq!(conf(text, "redis"), with(|c| c.max_tries = 3));
        // Its numbers replace the defaults even when 0: no "> 0" rule alone.
        assert_eq!(
            conf("[redis]\nmax_tries: 0\n", "redis"),
            with(|c| c.max_tries = 0)
        );
        // Its mail is not appended to anything.
        assert_eq!(
            conf(
                "[redis]\nalarm_mail: a@x\n[global]\nalarm_mail: g@x\n",
                "redis"
            )
            .alarm_mail,
            ["a@x"]
        );
    }

    #[test]
    fn global_is_inherited_only_by_sections_after_it() {
        let text = "[early]\nmax_tries: 3\n[global]\nmax_tries: 10\nalarm_interval: 90\n[late]\nmax_tries_if_coredumped: 2\n";
        assert_eq!(conf(text, "early"), with(|c| c.max_tries = 3));
        assert_eq!(
            conf(text, "late"),
            with(|c| {
                c.max_tries = 10;
                c.alarm_interval = 90;
                c.max_tries_if_coredumped = 2;
            })
        );
    }

    #[test]
    fn only_the_first_own_section_after_global_is_applied() {
        let text = "[global]\n[redis]\nmax_tries: 3\n[redis]\nmax_tries: 4\n";
        assert_eq!(conf(text, "redis").max_tries, 3);
    }

    #[test]
    fn headers_and_keys_start_at_column_0() {
        // An indented header is not a header: [global] is never found.
        assert_eq!(
            conf(" [global]\nmax_tries: 3\n", "redis"),
            Conf::file_defaults()
        );
        // An indented key is ignored, with a warning.
        let text = "[global]\n  max_tries: 3\n\tmax_tries_if_coredumped: 1\n";
        assert_eq!(conf(text, "redis"), Conf::file_defaults());
        assert_eq!(warned_lines(text, "redis"), [2, 3]);
    }

    #[test]
    fn malformed_headers_match_nothing_end_sections_and_warn_anywhere() {
        for header in [
            "[ redis ]",
            "[redis",
            "[ redis]",
            "[redis ]",
            "[]",
            "[re dis]",
        ] {
            let text = format!("[global]\nmax_tries: 3\n{header}\nmax_tries: 4\n");
            let r = resolve(text.as_bytes(), "redis");
            assert_eq!(r.conf.max_tries, 3, "{header}");
            assert_eq!(r.warnings.len(), 1, "{header}");
            assert_eq!(r.warnings[0].line, 3, "{header}");
            assert!(
                r.warnings[0].message.contains("malformed section header"),
                "{header}"
            );
            // Anywhere: also after the sections that resolution reads.
            let text = format!("[redis]\n[other]\n{header}\n");
            assert_eq!(warned_lines(&text, "redis"), [3], "{header}");
        }
    }

    #[test]
    fn headers_match_by_prefix_as_in_the_original() {
        // A comment after the header is fine.
        let r = resolve(
            b"[global] # shared\nmax_tries: 3\n[redis]   # cache\nmax_tries: 4\n",
            "redis",
        );
        assert_eq!((r.conf.max_tries, r.warnings.len()), (4, 0));
        // Other text after `]` still counts as the header, with a warning.
        let r = resolve(b"[global]x\nmax_tries: 3\n", "redis");
        assert_eq!(r.conf.max_tries, 3);
        assert_eq!(r.warnings[0].line, 1);
        assert!(r.warnings[0].message.contains("text after section header"));
        // A longer name is another section.
        assert_eq!(
            conf("[global]\n[redis2]\nmax_tries: 4\n", "redis").max_tries,
            20
        );
        assert_eq!(conf("[redis2]\nmax_tries: 4\n", "redis2").max_tries, 4);
    }

    #[test]
    fn a_section_ends_at_the_next_line_starting_with_a_bracket() {
        let text = "[global]\nmax_tries: 3\n[anything at all\nmax_tries: 4\n[redis]\nmax_tries_if_coredumped: 9\n[x]\nmax_tries: 5\n";
        let c = conf(text, "redis");
        assert_eq!((c.max_tries, c.max_tries_if_coredumped), (3, 9));
    }

    #[test]
    fn alarm_interval_from_1_to_59_becomes_60() {
        let cases = [
            ("0", 0),
            ("", 0),
            ("1", 60),
            ("2", 60),
            ("59", 60),
            ("60", 60),
            ("61", 61),
            ("3600", 3600),
        ];
        for (value, expected) in cases {
            let text = format!("[global]\nalarm_interval : {}\n", shown(value));
            assert_eq!(
                conf(&text, "x").alarm_interval,
                expected,
                "global {value:?}"
            );
            let text = format!("[x]\nalarm_interval : {}\n", shown(value));
            assert_eq!(conf(&text, "x").alarm_interval, expected, "alone {value:?}");
        }
        // After [global]: the value only replaces when > 0, but the raise
        // applies to whatever is in force after the line, as in the original.
        let cases = [
            ("alarm_interval: 120", "30", 60),
            ("alarm_interval: 120", "0", 120),
            ("alarm_interval: 120", "240", 240),
            ("alarm_interval: 0", "0", 0),
            ("alarm_interval: 0", "5", 60),
            ("", "", 60),  // the default 2 is raised by the NAME line
            ("", "0", 60), // likewise
            ("", "abc", 60),
        ];
        for (global, own, expected) in cases {
            let text = format!("[global]\n{global}\n[x]\nalarm_interval: {own}\n");
            assert_eq!(
                conf(&text, "x").alarm_interval,
                expected,
                "{global:?} {own:?}"
            );
        }
        // The default 2 stays when no alarm_interval line is read.
        assert_eq!(conf("[global]\n[x]\nmax_tries: 1\n", "x").alarm_interval, 2);
    }

    #[test]
    fn numbers_after_global_override_only_when_greater_than_0() {
        let global =
            "[global]\nalarm_interval: 120\nmax_tries: 10\nmax_tries_if_coredumped: 7\n[x]\n";
        let cases = [
            ("max_tries: 3", (120, 3, 7), 0),
            ("max_tries: 0", (120, 10, 7), 1),
            ("max_tries:", (120, 10, 7), 0),
            ("max_tries_if_coredumped: 1", (120, 10, 1), 0),
            ("max_tries_if_coredumped: 0", (120, 10, 7), 1),
            ("alarm_interval: 300", (300, 10, 7), 0),
            ("alarm_interval: 0", (120, 10, 7), 1),
            ("alarm_interval:", (120, 10, 7), 0),
        ];
        for (line, (interval, tries, cores), warned) in cases {
            let r = resolve(format!("{global}{line}\n").as_bytes(), "x");
            let got = (
                r.conf.alarm_interval,
                r.conf.max_tries,
                r.conf.max_tries_if_coredumped,
            );
            assert_eq!(got, (interval, tries, cores), "{line}");
            assert_eq!(r.warnings.len(), warned, "{line}: {:?}", r.warnings);
        }
    }

    #[test]
    fn alarm_mail_is_appended_after_global() {
        let text = "[global]\nalarm_mail: a@x b@x\n[x]\nalarm_mail: c@x\nalarm_mail:\nalarm_mail:  d@x\te@x \n";
        assert_eq!(
            conf(text, "x").alarm_mail,
            ["a@x", "b@x", "c@x", "d@x", "e@x"]
        );
        assert_eq!(conf(text, "y").alarm_mail, ["a@x", "b@x"]);
    }

    #[test]
    fn alarm_mail_lines_in_one_base_section_replace_as_in_the_original() {
        let text = "[global]\nalarm_mail: a@x\nalarm_mail:\nalarm_mail: b@x\n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf.alarm_mail, ["b@x"]);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].line, 4);
        assert!(r.warnings[0].message.contains("line 2"));
    }

    #[test]
    fn alarm_gsm_numbers_are_appended_up_to_10_in_all() {
        let text = "[global]\nalarm_gsm: 1 2 3\nalarm_gsm: 4\t5\n[x]\nalarm_gsm: 6 7 8 9 10 11 12\nalarm_gsm: 13\n";
        let r = resolve(text.as_bytes(), "x");
        let expected: Vec<String> = (1..=10).map(|n| n.to_string()).collect();
        assert_eq!(r.conf.alarm_gsm, expected);
        let lines: Vec<usize> = r.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [5, 6]);
        assert!(r.warnings[0].message.contains("11 12"));
        // An empty gsm line changes nothing.
        assert!(conf("[global]\nalarm_gsm :\n", "x").alarm_gsm.is_empty());
    }

    #[test]
    fn blanks_around_the_colon_are_optional() {
        for line in [
            "max_tries:3",
            "max_tries :3",
            "max_tries: 3",
            "max_tries : 3",
            "max_tries\t:\t3",
            "max_tries   :   3   ",
            "max_tries:3\r",
        ] {
            let r = resolve(format!("[global]\n{line}\n").as_bytes(), "x");
            assert_eq!(r.conf.max_tries, 3, "{line:?}");
            assert!(r.warnings.is_empty(), "{line:?}");
        }
    }

    #[test]
    fn empty_numbers_are_0() {
        let text = "[global]\nalarm_interval :\nmax_tries:\nmax_tries_if_coredumped :   \n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf, Conf { ..Conf::unread() });
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn malformed_numbers_are_read_as_sscanf_would_with_a_warning() {
        let cases = [
            ("10", 10, false),
            ("+10", 10, false),
            ("007", 7, false),
            ("10abc", 10, true),
            ("10 # ten", 10, true),
            ("1.5", 1, true),
            ("abc", 20, true),
            ("-5", 20, true),
            ("+", 20, true),
            ("4294967295", u32::MAX, false),
            ("4294967296", 20, true),
            ("99999999999999999999999", 20, true),
        ];
        for (value, expected, warned) in cases {
            let r = resolve(
                format!("[global]\nmax_tries: {}\n", shown(value)).as_bytes(),
                "x",
            );
            assert_eq!(r.conf.max_tries, expected, "{value:?}");
            assert_eq!(r.warnings.len(), usize::from(warned), "{value:?}");
            if warned {
                assert_eq!(r.warnings[0].line, 2);
                assert!(
                    r.warnings[0].message.starts_with("max_tries: "),
                    "{value:?}"
                );
            }
        }
    }

    #[test]
    fn comments_and_blank_lines_are_ignored_silently() {
        let text = "# top\n[global]\n# max_tries: 3\n\n   \n\t# indented comment\n#max_tries:4\nmax_tries: 5\n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf.max_tries, 5);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn crlf_line_endings_read_like_lf() {
        let lf = "[global]\nalarm_interval : 90\nalarm_mail : a@x b@x\nalarm_gsm : 1 2\n[redis]\nmax_tries : 3\nstop_timeout : 2.5\n";
        let crlf = lf.replace('\n', "\r\n");
        let r = resolve(crlf.as_bytes(), "redis");
        assert_eq!(r.conf, conf(lf, "redis"));
        assert!(r.warnings.is_empty());
        assert_eq!(r.conf.alarm_mail, ["a@x", "b@x"]);
    }

    #[test]
    fn overlong_lines_are_cut_at_2048_bytes_with_a_warning() {
        // 2048 bytes exactly are read whole.
        let prefix = "alarm_mail: ";
        let exact = format!("{prefix}{}", "a".repeat(MAX_LINE - prefix.len()));
        let r = resolve(format!("[global]\n{exact}\n").as_bytes(), "x");
        assert_eq!(r.conf.alarm_mail[0].len(), MAX_LINE - prefix.len());
        assert!(r.warnings.is_empty());
        // Longer: cut, the rest dropped (not read as a line of its own).
        let long = format!("{exact}bbbb\nmax_tries: 3");
        let r = resolve(format!("[global]\n{long}\n").as_bytes(), "x");
        assert_eq!(r.conf.alarm_mail[0].len(), MAX_LINE - prefix.len());
        assert!(!r.conf.alarm_mail[0].contains('b'));
        assert_eq!(r.conf.max_tries, 3);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].line, 2);
        assert!(r.warnings[0].message.contains("2048"));
        // A cut that splits a UTF-8 character is harmless.
        let split = format!(
            "[global]\n{prefix}{}é\n",
            "a".repeat(MAX_LINE - prefix.len() - 1)
        );
        let r = resolve(split.as_bytes(), "x");
        assert!(r.conf.alarm_mail[0].ends_with('\u{FFFD}'));
    }

    #[test]
    fn non_utf8_bytes_are_replaced_not_rejected() {
        let text = b"[global]\nalarm_mail: a\xffb@x\nmax_tries: 3\xfe\n[\xc3x]\n";
        let r = resolve(text, "x");
        assert_eq!(r.conf.alarm_mail, ["a\u{FFFD}b@x"]);
        assert_eq!(r.conf.max_tries, 3);
        assert_eq!(r.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [3]);
        // A name that is not UTF-8 in the file cannot be asked for, but
        // resolution does not trip over it.
        assert_eq!(
            resolve(b"[\xff]\nmax_tries: 1\n", "\u{FFFD}")
                .conf
                .max_tries,
            1
        );
    }

    #[test]
    fn a_nul_byte_ends_the_line() {
        let r = resolve(b"[global]\nalarm_mail: a@x\0 b@x\nmax_tries: 3\n", "x");
        assert_eq!(r.conf.alarm_mail, ["a@x"]);
        assert_eq!(r.conf.max_tries, 3);
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].message.contains("NUL"));
    }

    #[test]
    fn history_size_takes_0_to_the_maximum_with_line_numbers() {
        assert_eq!(conf("[global]\n", "x").history_size, 100);
        let r = resolve(b"[global]\nhistory_size: 5\n[x]\nhistory_size: 0\n", "x");
        assert_eq!(
            (r.conf.history_size, r.warnings.len()),
            (0, 0),
            "0 overrides: off"
        );
        let text =
            "[x]\nhistory_size: many\nhistory_size: 10001\nhistory_size: -1\nhistory_size:\n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf.history_size, 100);
        assert_eq!(warned_lines(text, "x"), [2, 3, 4]);
        assert!(r.warnings[0].message.contains("from 0 to 10000"));
        assert_renders_back("x", &with(|c| c.history_size = 0));
    }

    #[test]
    fn event_command_is_a_program_path() {
        let r = resolve(
            b"[global]\nevent_command: /bin/a\n[x]\nevent_command: /bin/b\n",
            "x",
        );
        assert_eq!(r.conf.event_command.as_deref(), Some("/bin/b"));
        assert!(
            r.conf
                .describe()
                .contains(&"event_command: /bin/b".to_owned())
        );
        assert_renders_back("x", &r.conf);
        assert_eq!(conf("[x]\n", "x").event_command, None);
    }

    #[test]
    fn output_log_keys_turn_the_pipe_on_and_are_checked() {
        assert!(!conf("[global]\n", "x").log_pipe());
        let text = "[x]\nlog_max_bytes: 1000000\nlog_keep: 3\nlog_timestamps: iso8601\n";
        let c = conf(text, "x");
        assert_eq!(
            (c.log_max_bytes, c.log_keep, c.log_timestamps),
            (Some(1_000_000), Some(3), Some(Timestamps::Iso8601))
        );
        assert!(c.log_pipe());
        assert!(conf("[x]\nlog_timestamps: off\n", "x").log_pipe());
        assert_renders_back("x", &c);
        let bad = "[x]\nlog_max_bytes: 10\nlog_max_bytes: 1M\nlog_keep: 1001\nlog_timestamps: rfc\nlog_keep:\n";
        let r = resolve(bad.as_bytes(), "x");
        assert!(!r.conf.log_pipe());
        assert_eq!(warned_lines(bad, "x"), [2, 3, 4, 5]);
        assert!(r.warnings[0].message.contains("at least 4096"));
        assert!(r.conf.describe().iter().all(|l| !l.starts_with("log_")));
        assert!(c.describe().contains(&"log_timestamps: iso8601".to_owned()));
    }

    #[test]
    fn extension_keys_set_their_fields() {
        let text = "[global]\nrestart_backoff_start: 0.1\nrestart_backoff_max : 45s\nhealthy_after: 2.5\n\
                    stop_timeout: 7\nalarm_timeout: 12\nrestart_hook_timeout: 0.75\n\
                    alarm_command: /usr/local/bin/page-me\nalarm_mail_program: /usr/bin/mailx\n\
                    alarm_sms_program: /opt/sms/send\n";
        let r = resolve(text.as_bytes(), "x");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(
            r.conf,
            with(|c| {
                c.backoff_start = Duration::from_millis(100);
                c.backoff_cap = Duration::from_secs(45);
                c.healthy_after = Duration::from_millis(2500);
                c.stop_timeout = Duration::from_secs(7);
                c.alarm_timeout = Duration::from_secs(12);
                c.hook_timeout = Duration::from_millis(750);
                c.alarm_command = Some("/usr/local/bin/page-me".into());
                c.mail_program = "/usr/bin/mailx".into();
                c.sms_program = "/opt/sms/send".into();
            })
        );
    }

    #[test]
    fn extension_keys_in_the_own_section_replace_global_when_valid() {
        let text = "[global]\nstop_timeout: 7\nalarm_command: /bin/a\nrestart_backoff_start: 1\n\
                    [x]\nstop_timeout: 3\nalarm_command: /bin/b\nrestart_backoff_start: soon\n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf.stop_timeout, Duration::from_secs(3));
        assert_eq!(r.conf.alarm_command.as_deref(), Some("/bin/b"));
        assert_eq!(r.conf.backoff_start, Duration::from_secs(1));
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].line, 8);
        assert!(r.warnings[0].message.contains("expected seconds"));
        // Empty values keep what is in force, without a warning.
        let r = resolve(b"[global]\nstop_timeout: 7\nalarm_command: /bin/a\n[x]\nstop_timeout:\nalarm_command:\n", "x");
        assert_eq!(r.conf.stop_timeout, Duration::from_secs(7));
        assert_eq!(r.conf.alarm_command.as_deref(), Some("/bin/a"));
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn zero_is_refused_only_for_timeouts() {
        for key in [
            "stop_timeout",
            "alarm_timeout",
            "restart_hook_timeout",
            "restart_burst_refill",
        ] {
            let r = resolve(format!("[global]\n{key}: 0\n").as_bytes(), "x");
            assert_eq!(r.conf, Conf::file_defaults(), "{key}");
            assert!(r.warnings[0].message.contains("more than 0"), "{key}");
        }
        for key in [
            "restart_backoff_start",
            "restart_backoff_max",
            "healthy_after",
        ] {
            let r = resolve(format!("[global]\n{key}: 0\n").as_bytes(), "x");
            assert!(r.warnings.is_empty(), "{key}");
        }
        assert_eq!(
            conf("[global]\nhealthy_after: 0\n", "x").healthy_after,
            Duration::ZERO
        );
    }

    #[test]
    fn restart_burst_is_a_count_that_0_sets_even_over_global() {
        let text = "[global]\nrestart_burst: 3\nrestart_burst_refill: 2.5\n[x]\nrestart_burst: 0\n";
        let r = resolve(text.as_bytes(), "x");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.conf.restart_burst, 0);
        assert_eq!(r.conf.restart_burst_refill, Duration::from_millis(2500));
        assert_eq!(conf("[global]\nrestart_burst: 3\n", "x").restart_burst, 3);
        assert_eq!(Conf::file_defaults().restart_burst, 5);
        let r = resolve(b"[x]\nrestart_burst: many\n", "x");
        assert!(r.warnings[0].message.contains("whole number"));
    }

    #[test]
    fn a_program_path_with_blanks_is_kept_with_a_warning() {
        let r = resolve(b"[global]\nalarm_command: /bin/notify --urgent\n", "x");
        assert_eq!(
            r.conf.alarm_command.as_deref(),
            Some("/bin/notify --urgent")
        );
        assert!(r.warnings[0].message.contains("without a shell"));
    }

    #[test]
    fn scanner_keys_are_accepted_silently() {
        let text = "[global]\ncommand: /bin/true\n[x]\ncommand: bin/redis-server conf/redis.conf\ndirectory: /srv/redis\n\
                    user: redis\nenv: A=1\nenvironment_file: /etc/redis.env\numask: 022\n";
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf, Conf::file_defaults());
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn unknown_keys_and_stray_lines_warn_with_their_line_number() {
        let text =
            "[global]\nmax_try: 3\nalarm interval: 60\njust words\nalarm_mail a@x\n: value\n";
        let w = warnings(text.as_bytes(), "x");
        assert_eq!(
            w.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            [2, 3, 4, 5, 6]
        );
        assert!(w[0].1.contains("unknown key `max_try`"));
        for (_, message) in &w[1..] {
            assert!(message.contains("expected `key : value`"), "{message}");
        }
    }

    #[test]
    fn quoted_text_in_warnings_is_escaped_and_short() {
        let long = "y".repeat(500);
        let text = format!("[global]\nbo\x1bgus\x07: 1\nmax_tries: {long}\n");
        let w = warnings(text.as_bytes(), "x");
        assert!(w[0].1.contains(r"bo\u{1b}gus\u{7}"), "{}", w[0].1);
        assert!(w[1].1.len() < 200, "{}", w[1].1);
        assert!(w.iter().all(|(_, m)| !m.chars().any(char::is_control)));
    }

    #[test]
    fn only_the_sections_that_resolution_reads_are_judged() {
        let text = "junk before\n[other]\nbogus: 1\nmax_tries: lots\n[global]\nbogus: 2\n[redis]\nbogus: 3\n[late]\nbogus: 4\n[bad\n";
        assert_eq!(warned_lines(text, "redis"), [6, 8, 11]);
        assert_eq!(warned_lines(text, "other"), [3, 4, 11]);
        assert_eq!(warned_lines(text, "nobody"), [6, 11]);
    }

    #[test]
    fn warnings_come_in_line_order() {
        let text = "[global]\nbogus: 1\n[ bad ]\n[x]\nbogus: 2\n";
        assert_eq!(warned_lines(text, "x"), [2, 3, 5]);
        let text = "[global]\nbogus: 1\n[x]\nbogus: 2\n[ bad ]\n";
        assert_eq!(warned_lines(text, "x"), [2, 4, 5]);
    }

    #[test]
    fn describe_prints_the_original_dump_then_the_extensions() {
        let c = with(|c| {
            c.alarm_interval = 60;
            c.max_tries = 10;
            c.max_tries_if_coredumped = 3;
            c.alarm_mail = vec!["a@x".into(), "b@x".into(), "c@x".into()];
            c.alarm_gsm = vec!["138".into(), "139".into()];
            c.alarm_command = Some("/bin/page".into());
        });
        assert_eq!(
            c.describe(),
            [
                "alarm_interval: 60",
                "max_tries: 10",
                "max_tries_if_coredumped: 3",
                "alarm_mail : a@x b@x c@x",
                "gsm_list_len: 2",
                "alarm_gsm[0]: 138",
                "alarm_gsm[1]: 139",
                "restart_burst: 5",
                "restart_backoff_start: 0.1s",
                "restart_backoff_max: 30s",
                "healthy_after: 1s",
                "restart_burst_refill: 10s",
                "stop_timeout: 10s",
                "alarm_timeout: 30s",
                "restart_hook_timeout: 60s",
                "alarm_command: /bin/page",
                "alarm_mail_program: mail",
                "alarm_sms_program: gsmsend-script",
                "history_size: 100",
            ]
        );
        let empty = Conf::file_defaults().describe();
        assert_eq!(empty[3], "alarm_mail : ");
        assert_eq!(empty[4], "gsm_list_len: 0");
        assert_eq!(empty[13], "alarm_command: ");
    }

    #[test]
    fn describe_reads_back_as_the_same_settings() {
        let c = with(|c| {
            c.alarm_interval = 90;
            c.alarm_mail = vec!["a@x".into()];
            c.stop_timeout = Duration::from_millis(2500);
            c.alarm_command = Some("/bin/page".into());
            c.sms_program = "/bin/sms".into();
        });
        let text = format!("[global]\n{}\n", c.describe().join("\n"));
        let r = resolve(text.as_bytes(), "x");
        assert_eq!(r.conf, c);
        // Only the read-only `gsm_list_len` is not a key.
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    }

    #[test]
    fn sections_lists_every_well_formed_section_with_its_raw_pairs() {
        let text = "top: 1\n[web]\ncommand : bin/web --port 80\nenv: A=1\nenv: B=2\n# comment\n  indented: no\nwords\n\
                    [ bad ]\ncommand: lost\n[global]\nalarm_mail:\n[db] # main\r\nuser: pg\r\n";
        let got = sections(text.as_bytes());
        let entry = |line, key: &str, value: &str| Entry {
            line,
            key: key.into(),
            value: value.into(),
        };
        assert_eq!(
            got,
            [
                Section {
                    name: "web".into(),
                    line: 2,
                    entries: vec![
                        entry(3, "command", "bin/web --port 80"),
                        entry(4, "env", "A=1"),
                        entry(5, "env", "B=2"),
                    ],
                },
                Section {
                    name: "global".into(),
                    line: 11,
                    entries: vec![entry(12, "alarm_mail", "")],
                },
                Section {
                    name: "db".into(),
                    line: 13,
                    entries: vec![entry(14, "user", "pg")],
                },
            ]
        );
    }

    /// `render` read back: the same settings, and no warning but the one a
    /// program path with blanks always gets.
    fn assert_renders_back(name: &str, conf: &Conf) {
        let text = render(name, conf);
        let back = resolve(text.as_bytes(), name);
        assert_eq!(&back.conf, conf, "{text}");
        assert!(
            back.warnings
                .iter()
                .all(|w| w.message.contains("without a shell")),
            "{:?}\n{text}",
            back.warnings
        );
        assert!(text.lines().all(|l| l.len() <= MAX_LINE));
    }

    #[test]
    fn render_writes_every_key_in_one_section() {
        let c = with(|c| {
            c.alarm_interval = 120;
            c.max_tries = 0;
            c.alarm_mail = vec!["a@x".into(), "b@x".into()];
            c.alarm_gsm = vec!["138".into()];
            c.stop_timeout = Duration::from_millis(2500);
            c.alarm_command = Some("/bin/page".into());
        });
        assert_eq!(
            render("web", &c),
            "# The settings of [web], written by supervise-scan from its config file:\n\
             # this service's supervise reads this file. Edit that file and reload.\n\
             [web]\nalarm_interval: 120\nmax_tries: 0\nmax_tries_if_coredumped: 5\n\
             alarm_mail: a@x b@x\nalarm_gsm: 138\nrestart_burst: 5\nrestart_backoff_start: 0.1s\n\
             restart_backoff_max: 30s\nhealthy_after: 1s\nrestart_burst_refill: 10s\nstop_timeout: 2.5s\n\
             alarm_timeout: 30s\nrestart_hook_timeout: 60s\nalarm_command: /bin/page\n\
             alarm_mail_program: mail\nalarm_sms_program: gsmsend-script\nhistory_size: 100\n"
        );
        for conf in [
            c,
            Conf::file_defaults(),
            with(|c| c.alarm_interval = 0),
            with(|c| c.alarm_interval = 60),
            with(|c| c.alarm_command = Some("/bin/notify --urgent".into())),
        ] {
            assert_renders_back("web", &conf);
        }
    }

    #[test]
    fn render_spreads_long_lists_over_lines() {
        // Mail that needs three lines: the keys go under [global], the
        // rest of the mail is appended in [NAME].
        let mail: Vec<String> = (0..300)
            .map(|i| format!("someone{i}@example.com"))
            .collect();
        let c = with(|c| c.alarm_mail = mail.clone());
        let text = render("web", &c);
        assert!(text.contains("[global]\n") && text.contains("\n[web]\nalarm_mail: "));
        assert_renders_back("web", &c);
        // Values as long as a line can hold.
        let long = |n| "x".repeat(n);
        let c = with(|c| {
            c.alarm_mail = vec![long(MAX_LINE - "alarm_mail:".len())];
            c.alarm_gsm = vec![long(2000), long(2000), long(10)];
            c.alarm_command = Some(long(MAX_LINE - "alarm_command:".len()));
        });
        assert_renders_back("web", &c);
    }

    #[test]
    fn resolving_every_section_reads_the_file_once() {
        // The scanner's use: one document, every section resolved. The
        // lines visited grow with the file, not with sections × lines.
        let file = |n: usize| {
            let mut text = String::from("[global]\nmax_tries: 3\nalarm_mail: a@x\n");
            for i in 0..n {
                text.push_str(&format!("[s{i}]\ncommand: sleep {i}\nmax_tries: 5\n"));
            }
            text
        };
        let visits = |n: usize| {
            let text = file(n);
            work::take();
            let doc = Document::parse(text.as_bytes());
            for section in doc.sections() {
                let _ = doc.resolve_own(&section.name);
            }
            (work::take(), text.lines().count())
        };
        for n in [10, 100, 1000] {
            let (visited, lines) = visits(n);
            assert!(
                visited <= 2 * lines,
                "{n} sections: {visited} visits of {lines} lines"
            );
        }
    }

    /// Lines that exercise the parser's paths, for the structured property.
    fn line_strategy() -> impl Strategy<Value = String> {
        let header = prop::sample::select(vec![
            "[global]",
            "[redis]",
            "[other]",
            "[ redis ]",
            "[redis",
            "[]",
            "[redis] # c",
            " [global]",
        ])
        .prop_map(str::to_owned);
        let key = prop::sample::select(vec![
            "alarm_interval",
            "max_tries",
            "max_tries_if_coredumped",
            "alarm_mail",
            "alarm_gsm",
            "stop_timeout",
            "restart_backoff_start",
            "alarm_command",
            "command",
            "bogus",
        ]);
        let value = "[ 0-9a-z.@+\\-\t]{0,40}";
        let pair = (key, "[ \t]{0,2}", value).prop_map(|(k, s, v)| format!("{k}{s}:{v}"));
        let other = "[^\n]{0,20}";
        prop_oneof![header, pair.clone(), pair, other.prop_map(|s| s)]
    }

    /// What must hold for any input.
    fn check_invariants(text: &[u8], r: &Resolved) {
        let c = &r.conf;
        assert!(c.alarm_gsm.len() <= MAX_GSM);
        assert!(matches!(c.alarm_interval, 0 | 2) || c.alarm_interval >= 60);
        for s in c.alarm_mail.iter().chain(&c.alarm_gsm) {
            assert!(!s.is_empty() && !s.chars().any(is_blank_char) && !s.contains('\0'));
        }
        for s in [&c.mail_program, &c.sms_program]
            .into_iter()
            .chain(&c.alarm_command)
        {
            assert!(!s.is_empty() && !s.contains('\0'));
        }
        assert!(
            !c.stop_timeout.is_zero() && !c.alarm_timeout.is_zero() && !c.hook_timeout.is_zero()
        );
        let count = text.split(|&b| b == b'\n').count();
        assert!(r.warnings.iter().all(|w| w.line >= 1 && w.line <= count));
        assert!(r.warnings.windows(2).all(|w| w[0].line <= w[1].line));
        assert_eq!(
            c.describe().len(),
            5 + c.alarm_gsm.len() + 12 + c.log_lines().len()
        );
        assert!(!c.restart_burst_refill.is_zero());
    }

    proptest! {
        #[test]
        fn any_bytes_resolve_without_panic(
            text in prop::collection::vec(any::<u8>(), 0..3000),
            name in prop::sample::select(vec!["redis", "global", "x", "[", "a]b"]),
        ) {
            let r = resolve(&text, name);
            check_invariants(&text, &r);
            let _ = sections(&text);
        }

        #[test]
        fn the_maps_find_what_the_line_by_line_search_finds(
            lines in prop::collection::vec(line_strategy(), 0..40),
        ) {
            let text = lines.join("\n");
            let doc = Document::parse(text.as_bytes());
            let mut names: Vec<String> = doc.sections().into_iter().map(|s| s.name).collect();
            names.extend(["redis", "other", "global", "nobody"].map(String::from));
            for name in names {
                prop_assert_eq!(doc.find(&name), doc.find_by_prefix(&name), "{}", name);
            }
        }

        #[test]
        fn render_reads_back_as_the_settings_of_any_file(
            lines in prop::collection::vec(line_strategy(), 0..40),
            name in prop::sample::select(vec!["redis", "other", "x"]),
        ) {
            let text = lines.join("\n");
            let conf = resolve(text.as_bytes(), name).conf;
            assert_renders_back(name, &conf);
        }

        #[test]
        fn render_reads_back_as_any_settings(
            interval in prop_oneof![Just(0u64), Just(2), 60..=u64::from(u32::MAX)],
            numbers in (any::<u32>(), any::<u32>()),
            mail in prop::collection::vec("[a-z0-9.@+]{1,300}", 0..40),
            gsm in prop::collection::vec("[0-9+]{1,1500}", 0..=MAX_GSM),
            durations in prop::collection::vec((0..=duration::MAX_SECONDS, 0..1_000_000_000u32), DURATION_KEYS.len()),
            burst in any::<u32>(),
            command in prop::option::of("[a-z/ ._-]{1,2000}"),
            programs in ("[a-z/._-]{1,100}", "[a-z/._-]{1,100}"),
        ) {
            let mut conf = with(|c| {
                c.alarm_interval = interval;
                c.max_tries = numbers.0;
                c.max_tries_if_coredumped = numbers.1;
                c.restart_burst = burst;
                c.alarm_mail = mail;
                c.alarm_gsm = gsm;
                c.alarm_command = command.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
                c.mail_program = programs.0;
                c.sms_program = programs.1;
            });
            for (&(_, positive, field), &(secs, nanos)) in DURATION_KEYS.iter().zip(&durations) {
                let d = Duration::new(secs, nanos);
                if !(positive && d.is_zero()) {
                    *field(&mut conf) = d;
                }
            }
            assert_renders_back("web", &conf);
        }

        #[test]
        fn structured_files_keep_the_invariants_and_read_alike_with_crlf(
            lines in prop::collection::vec(line_strategy(), 0..40),
        ) {
            let lf = lines.join("\n");
            let r = resolve(lf.as_bytes(), "redis");
            check_invariants(lf.as_bytes(), &r);
            let crlf = lines.join("\r\n");
            prop_assert_eq!(resolve(crlf.as_bytes(), "redis").conf, r.conf);
        }
    }
}
