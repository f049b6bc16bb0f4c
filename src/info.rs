//! The `info` and `history` files of a status directory, as
//! docs/status-files.md defines them: their text, both ways. supervise renders
//! them; `svc`, `supervise-scan` and metrics parse them. Pure: strings in and
//! out, no file system (the atomic write and the append live with their
//! writer), and no input makes the parsers panic or fail: what cannot be read
//! is left at its default, as the contract tells readers to do.

use std::fmt::Write as _;
use std::time::Duration;

use crate::alarm::signal_name;
use crate::duration;
use crate::supervisor::Exit;

/// The `version` this module writes.
pub const VERSION: u32 = 1;

/// The `state` word of `info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// Runs; declared readiness, not ready yet.
    Starting,
    /// Runs and is ready.
    Ready,
    /// Runs, health checks failing.
    Unhealthy,
    /// TERM sent, waiting for the group to end.
    Stopping,
    /// Down, a restart is due at `next_start`.
    Backoff,
    /// Down and not restarting.
    #[default]
    Down,
    /// supervise gave up restarting it.
    GaveUp,
}

impl State {
    const WORDS: [(State, &'static str); 7] = [
        (State::Starting, "starting"),
        (State::Ready, "ready"),
        (State::Unhealthy, "unhealthy"),
        (State::Stopping, "stopping"),
        (State::Backoff, "backoff"),
        (State::Down, "down"),
        (State::GaveUp, "gave-up"),
    ];

    /// The word written in `info`.
    pub fn word(self) -> &'static str {
        word_of(&State::WORDS, self)
    }

    /// The state a word names.
    pub fn from_word(word: &str) -> Option<State> {
        from_word(&State::WORDS, word)
    }
}

/// How a service declares that it is ready (`readiness` in `info`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Readiness {
    /// It is ready as soon as it runs.
    #[default]
    None,
    /// s6's protocol: a newline on descriptor `notification_fd`.
    NotificationFd,
    /// systemd's `READY=1` on `NOTIFY_SOCKET`.
    Systemd,
    /// `ready_check` exits 0.
    Check,
}

impl Readiness {
    const WORDS: [(Readiness, &'static str); 4] = [
        (Readiness::None, "none"),
        (Readiness::NotificationFd, "notification-fd"),
        (Readiness::Systemd, "systemd"),
        (Readiness::Check, "check"),
    ];

    /// The word written in `info`.
    pub fn word(self) -> &'static str {
        word_of(&Readiness::WORDS, self)
    }

    /// The readiness a word names.
    pub fn from_word(word: &str) -> Option<Readiness> {
        from_word(&Readiness::WORDS, word)
    }
}

/// Why a run ended (`last_exit_cause`, and `cause` in `history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The operator asked: `d`, `x`, `t`/`k`/`i`, a stop, SIGTERM to supervise.
    Asked,
    /// It ended on its own.
    Crash,
    /// It could not be started.
    SpawnFailed,
    /// No watchdog ping in time.
    Watchdog,
    /// Not ready within `ready_timeout`.
    NotReady,
    /// Health checks failed `health_retries` times in a row.
    Unhealthy,
}

impl Cause {
    const WORDS: [(Cause, &'static str); 6] = [
        (Cause::Asked, "asked"),
        (Cause::Crash, "crash"),
        (Cause::SpawnFailed, "spawn-failed"),
        (Cause::Watchdog, "watchdog"),
        (Cause::NotReady, "not-ready"),
        (Cause::Unhealthy, "unhealthy"),
    ];

    /// The word written in `info` and `history`.
    pub fn word(self) -> &'static str {
        word_of(&Cause::WORDS, self)
    }

    /// The cause a word names.
    pub fn from_word(word: &str) -> Option<Cause> {
        from_word(&Cause::WORDS, word)
    }
}

fn word_of<T: PartialEq + Copy>(table: &[(T, &'static str)], value: T) -> &'static str {
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("", |(_, w)| w)
}

fn from_word<T: Copy>(table: &[(T, &'static str)], word: &str) -> Option<T> {
    table.iter().find(|(_, w)| *w == word).map(|(v, _)| *v)
}

/// The contents of `info`. Times are since the Unix epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// supervise's own pid.
    pub supervise_pid: u32,
    /// The service's pid, 0 when down.
    pub pid: u32,
    /// The state, in one word.
    pub state: State,
    /// When `state` last changed.
    pub since: Duration,
    /// When the current run started.
    pub started: Option<Duration>,
    /// How the service declares readiness.
    pub readiness: Readiness,
    /// When the current run became ready.
    pub ready_since: Option<Duration>,
    /// Health checks failed in a row.
    pub health_failures: u32,
    /// The last `STATUS=` text.
    pub status_text: String,
    /// How the last run ended.
    pub last_exit: Option<Exit>,
    /// When it ended.
    pub last_exit_time: Option<Duration>,
    /// How long it ran.
    pub last_run: Option<Duration>,
    /// Why it ended.
    pub last_exit_cause: Option<Cause>,
    /// Restarts since supervise started.
    pub restarts_total: u64,
    /// Exits counted in the current alarm window.
    pub restarts_window: u32,
    /// When the pending back-off ends.
    pub next_start: Option<Duration>,
    /// The length of that back-off.
    pub backoff: Duration,
    /// Empty, or the rule that made supervise give up.
    pub gave_up: String,
}

impl Info {
    /// The text of the file, keys in the documented order.
    pub fn render(&self) -> String {
        let time = |t: Option<Duration>| t.map(duration::millis).unwrap_or_default();
        let fields: [(&str, String); 19] = [
            ("version", VERSION.to_string()),
            ("supervise_pid", self.supervise_pid.to_string()),
            ("pid", self.pid.to_string()),
            ("state", self.state.word().to_owned()),
            ("since", duration::millis(self.since)),
            ("started", time(self.started)),
            ("readiness", self.readiness.word().to_owned()),
            ("ready_since", time(self.ready_since)),
            ("health_failures", self.health_failures.to_string()),
            ("status_text", escape(&self.status_text)),
            (
                "last_exit",
                self.last_exit.map(exit_words).unwrap_or_default(),
            ),
            ("last_exit_time", time(self.last_exit_time)),
            ("last_run_seconds", time(self.last_run)),
            (
                "last_exit_cause",
                self.last_exit_cause
                    .map(Cause::word)
                    .unwrap_or("")
                    .to_owned(),
            ),
            ("restarts_total", self.restarts_total.to_string()),
            ("restarts_window", self.restarts_window.to_string()),
            ("next_start", time(self.next_start)),
            ("backoff_seconds", duration::millis(self.backoff)),
            ("gave_up", escape(&self.gave_up)),
        ];
        let mut text = String::new();
        for (key, value) in fields {
            let _ = writeln!(text, "{key}={value}");
        }
        text
    }

    /// Reads the text of an `info` file; unknown keys and unreadable values
    /// are skipped.
    pub fn parse(text: &str) -> Info {
        let mut info = Info::default();
        for (key, value) in text.lines().filter_map(|l| l.split_once('=')) {
            let time = || duration::parse_decimal(value);
            let number = || value.parse().ok();
            match key {
                "supervise_pid" => info.supervise_pid = number().unwrap_or(0),
                "pid" => info.pid = number().unwrap_or(0),
                "state" => info.state = State::from_word(value).unwrap_or_default(),
                "since" => info.since = time().unwrap_or_default(),
                "started" => info.started = time(),
                "readiness" => info.readiness = Readiness::from_word(value).unwrap_or_default(),
                "ready_since" => info.ready_since = time(),
                "health_failures" => info.health_failures = number().unwrap_or(0),
                "status_text" => info.status_text = unescape(value),
                "last_exit" => info.last_exit = parse_exit_words(value),
                "last_exit_time" => info.last_exit_time = time(),
                "last_run_seconds" => info.last_run = time(),
                "last_exit_cause" => info.last_exit_cause = Cause::from_word(value),
                "restarts_total" => info.restarts_total = value.parse().unwrap_or(0),
                "restarts_window" => info.restarts_window = number().unwrap_or(0),
                "next_start" => info.next_start = time(),
                "backoff_seconds" => info.backoff = time().unwrap_or_default(),
                "gave_up" => info.gave_up = unescape(value),
                _ => {}
            }
        }
        info
    }
}

/// Whether a service counts as ready: its `info` says so about the pid
/// `status` names (an `info` about another run, read between the two
/// files' writes, tells nothing yet) or, without an `info` file (an older
/// or the original supervise), it runs.
pub fn ready(status_pid: u32, info: Option<&Info>) -> bool {
    match info {
        Some(info) => status_pid != 0 && info.pid == status_pid && info.state == State::Ready,
        None => status_pid != 0,
    }
}

/// One line of `history`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exited {
    /// When it ended, since the Unix epoch.
    pub time: Duration,
    /// Its pid.
    pub pid: u32,
    /// How it ended.
    pub exit: Exit,
    /// How long it ran.
    pub ran: Duration,
    /// Why.
    pub cause: Cause,
}

impl Exited {
    /// The line, with its `\n`.
    pub fn render(&self) -> String {
        let (exit, core) = match self.exit {
            Exit::Code(code) => (format!("exit:{code}"), false),
            Exit::Signal { signal, core } => (format!("signal:{signal}"), core),
        };
        format!(
            "time={} pid={} exit={exit} core={} ran={} cause={}\n",
            duration::millis(self.time),
            self.pid,
            u8::from(core),
            duration::millis(self.ran),
            self.cause.word()
        )
    }

    /// Reads one line (without its `\n`); `None` when a field is missing or
    /// unreadable.
    pub fn parse(line: &str) -> Option<Exited> {
        let field = |key: &str| {
            line.split(' ')
                .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
        };
        let core = field("core")? == "1";
        let exit = match field("exit")?.split_once(':')? {
            ("exit", code) => Exit::Code(code.parse().ok()?),
            ("signal", signal) => Exit::Signal {
                signal: signal.parse().ok()?,
                core,
            },
            _ => return None,
        };
        Some(Exited {
            time: duration::parse_decimal(field("time")?)?,
            pid: field("pid")?.parse().ok()?,
            exit,
            ran: duration::parse_decimal(field("ran")?)?,
            cause: Cause::from_word(field("cause")?)?,
        })
    }
}

/// Every complete, readable line of a `history` file, oldest first; a last
/// line without its newline (a crash mid-write) is left out.
pub fn parse_history(text: &str) -> Vec<Exited> {
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return Vec::new(),
    };
    complete.lines().filter_map(Exited::parse).collect()
}

/// `exit 3`, `signal 9 SIGKILL`, `signal 11 SIGSEGV core`.
pub fn exit_words(exit: Exit) -> String {
    match exit {
        Exit::Code(code) => format!("exit {code}"),
        Exit::Signal { signal, core } => {
            let name = signal_name(signal);
            let name = if name.starts_with("SIG") {
                format!(" {name}")
            } else {
                String::new()
            };
            format!("signal {signal}{name}{}", if core { " core" } else { "" })
        }
    }
}

fn parse_exit_words(text: &str) -> Option<Exit> {
    let mut words = text.split(' ');
    let kind = words.next()?;
    let number = words.next()?.parse().ok()?;
    match kind {
        "exit" => Some(Exit::Code(number)),
        "signal" => Some(Exit::Signal {
            signal: number,
            core: text.split(' ').any(|w| w == "core"),
        }),
        _ => None,
    }
}

/// A value on one line: `\\`, `\n`, `\t`, and `\xHH` for other control
/// characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape`]; an escape it does not know is kept as written.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => match rest.get(1..3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(byte) => {
                    out.push(char::from(byte));
                    chars.nth(1);
                }
                None => out.push_str("\\x"),
            },
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Info {
        Info {
            supervise_pid: 100,
            pid: 4242,
            state: State::Backoff,
            since: Duration::from_millis(1_764_621_234_123),
            started: Some(Duration::from_secs(1_764_621_000)),
            readiness: Readiness::Systemd,
            ready_since: None,
            health_failures: 2,
            status_text: "serving\n50% \\ done".into(),
            last_exit: Some(Exit::Signal {
                signal: 11,
                core: true,
            }),
            last_exit_time: Some(Duration::from_millis(1_764_621_234_000)),
            last_run: Some(Duration::from_millis(12_345)),
            last_exit_cause: Some(Cause::Crash),
            restarts_total: 7,
            restarts_window: 3,
            next_start: Some(Duration::from_millis(1_764_621_237_323)),
            backoff: Duration::from_millis(3_200),
            gave_up: String::new(),
        }
    }

    #[test]
    fn renders_the_documented_keys_in_order() {
        let text = sample().render();
        let keys: Vec<&str> = text.lines().map(|l| l.split('=').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "version",
                "supervise_pid",
                "pid",
                "state",
                "since",
                "started",
                "readiness",
                "ready_since",
                "health_failures",
                "status_text",
                "last_exit",
                "last_exit_time",
                "last_run_seconds",
                "last_exit_cause",
                "restarts_total",
                "restarts_window",
                "next_start",
                "backoff_seconds",
                "gave_up"
            ]
        );
        assert!(text.contains("\nstate=backoff\n"));
        assert!(text.contains("\nlast_exit=signal 11 SIGSEGV core\n"));
        assert!(text.contains("\nsince=1764621234.123\n"));
        assert!(text.contains("\nready_since=\n"));
        assert!(text.contains("\nstatus_text=serving\\n50% \\\\ done\n"));
        assert_eq!(Info::parse(&text), sample());
    }

    #[test]
    fn readers_skip_what_they_do_not_know() {
        let info =
            Info::parse("pid=12\nstate=flying\nfuture_key=1\nno equals sign\nrestarts_total=x\n");
        assert_eq!(info.pid, 12);
        assert_eq!(info.state, State::Down);
        assert_eq!(info.restarts_total, 0);
    }

    #[test]
    fn ready_falls_back_to_the_pid_without_info() {
        assert!(ready(5, None));
        assert!(!ready(0, None));
        let mut info = sample();
        assert!(!ready(4242, Some(&info)));
        info.state = State::Ready;
        assert!(ready(4242, Some(&info)));
        // About another run: not yet.
        assert!(!ready(4243, Some(&info)));
        assert!(!ready(0, Some(&info)));
    }

    #[test]
    fn history_lines_and_a_torn_last_line() {
        let one = Exited {
            time: Duration::from_millis(1_764_621_234_123),
            pid: 4242,
            exit: Exit::Code(3),
            ran: Duration::from_millis(12_345),
            cause: Cause::Crash,
        };
        assert_eq!(
            one.render(),
            "time=1764621234.123 pid=4242 exit=exit:3 core=0 ran=12.345 cause=crash\n"
        );
        let two = Exited {
            exit: Exit::Signal {
                signal: 9,
                core: false,
            },
            cause: Cause::Asked,
            ..one
        };
        let text = format!("{}garbage line\n{}time=17646", one.render(), two.render());
        assert_eq!(parse_history(&text), vec![one, two]);
        assert_eq!(parse_history("time=1 pid=2"), vec![]);
    }

    #[test]
    fn exit_words_name_the_signal() {
        assert_eq!(exit_words(Exit::Code(0)), "exit 0");
        let kill = Exit::Signal {
            signal: 9,
            core: false,
        };
        assert_eq!(exit_words(kill), "signal 9 SIGKILL");
        assert_eq!(parse_exit_words("signal 9 SIGKILL"), Some(kill));
        assert_eq!(parse_exit_words("exit 3"), Some(Exit::Code(3)));
        assert_eq!(parse_exit_words("exit"), None);
    }

    proptest! {
        #[test]
        fn escape_is_one_line_and_reversible(text in ".*") {
            let escaped = escape(&text);
            prop_assert!(!escaped.contains('\n'));
            prop_assert_eq!(unescape(&escaped), text);
        }

        #[test]
        fn info_survives_its_text(
            pid in any::<u32>(),
            total in any::<u64>(),
            ms in 0u64..10_000_000_000_000,
            text in ".*",
            exit in prop_oneof![
                any::<i32>().prop_map(Exit::Code),
                (1i32..65, any::<bool>()).prop_map(|(signal, core)| Exit::Signal { signal, core }),
            ],
        ) {
            let info = Info {
                pid,
                restarts_total: total,
                since: Duration::from_millis(ms),
                status_text: text.clone(),
                gave_up: text,
                last_exit: Some(exit),
                ..sample()
            };
            prop_assert_eq!(Info::parse(&info.render()), info);
        }

        #[test]
        fn parsers_never_panic(text in "(?s).{0,300}") {
            let _ = Info::parse(&text);
            let _ = parse_history(&text);
        }
    }
}
