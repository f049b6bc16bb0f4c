//! The `svc` command line, parsed into a typed [`Command`] in two stages: the
//! words are first sorted into options and positional words (`Raw`), then
//! the form is decided. Pure: no file is looked at, so a directory that
//! happens to be called `start` is taken by its position, never by probing.
//!
//! Forms, tried in this order:
//! - `svc --help`, `svc -h` (alone), `svc --version`;
//! - daemontools: any control flag or `-w up|down` → `svc -dx -w down DIR...`;
//! - original: `svc DIR start|stop|restart|status|reconf|exit`, `svc DIR alarm on|off`;
//! - listing: `svc status [--json] DIR...`.
//!
//! `-w SECONDS` (the deadline for waiting commands) and `--json` may come
//! anywhere; `--` ends the options.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// The deadline for waiting commands without `-w SECONDS`: longer than
/// supervise's default 10 s stop timeout, so a stop that needs KILL still
/// finishes in time.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// The control letters the daemontools form accepts, each sent as itself.
pub const CONTROL_LETTERS: &[u8] = b"udopchaitkxsnr";

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `--help`, or `-h` with no directory.
    Help,
    /// `--version`.
    Version,
    /// The original form: one directory, one verb, waiting for its result.
    Verb {
        /// The status directory.
        dir: PathBuf,
        /// What to do.
        verb: Verb,
        /// The deadline for waiting, from `-w SECONDS`.
        wait: Duration,
    },
    /// The daemontools form: send `bytes` to every directory, then
    /// optionally wait for each to reach `until`.
    Send {
        /// The control bytes, in the order of the flags.
        bytes: Vec<u8>,
        /// The state `-w up|down` waits for after sending.
        until: Option<Target>,
        /// The status directories.
        dirs: Vec<PathBuf>,
        /// The deadline for waiting, from `-w SECONDS`.
        wait: Duration,
    },
    /// `svc status DIR...`: one line (or JSON object) per directory.
    Status {
        /// The status directories.
        dirs: Vec<PathBuf>,
        /// `--json`: one JSON object per line.
        json: bool,
    },
}

/// The verbs of the original `svc DIR VERB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `start`: `u`, wait for a running child.
    Start,
    /// `stop`: `d` (alarms silenced), wait until the service's group is gone.
    Stop,
    /// `restart`: `du` (alarms silenced), wait for a new child.
    Restart,
    /// `status`: the original's lines.
    Status,
    /// `alarm on`: `n`.
    AlarmOn,
    /// `alarm off`: `s`.
    AlarmOff,
    /// `reconf`: `r`.
    Reconf,
    /// `exit`: `dx`, wait until supervise and the service are gone.
    Exit,
}

/// The state `-w up|down` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A running child (pid not 0).
    Up,
    /// pid 0 and the process group gone.
    Down,
}

/// A usage error: the message to print before the usage line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// The words sorted but not yet interpreted.
#[derive(Default, Debug)]
struct Raw {
    letters: Vec<u8>,
    until: Option<Target>,
    wait: Option<Duration>,
    json: bool,
    help: bool,
    version: bool,
    words: Vec<OsString>,
}

/// Parses the arguments after the program name.
pub fn parse<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let raw = sort(args.into_iter().map(Into::into).collect())?;
    decide(raw)
}

fn usage(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

/// Stage one: options (wherever they stand) apart from positional words.
fn sort(args: Vec<OsString>) -> Result<Raw, UsageError> {
    let mut raw = Raw::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let bytes = arg.as_encoded_bytes();
        if arg == "--" {
            raw.words.extend(args.by_ref());
        } else if bytes.starts_with(b"--") {
            match arg.to_str() {
                Some("--help") => raw.help = true,
                Some("--version") => raw.version = true,
                Some("--json") => raw.json = true,
                _ => return Err(usage(format!("unknown option {}", arg.to_string_lossy()))),
            }
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            sort_group(&bytes[1..], &mut args, &mut raw)?;
        } else {
            raw.words.push(arg);
        }
    }
    Ok(raw)
}

/// One group of short flags such as `-dx` or `-uw5`; `w` takes the rest of
/// the group, or the next word, as its value (getopt style).
fn sort_group(
    group: &[u8],
    rest: &mut impl Iterator<Item = OsString>,
    raw: &mut Raw,
) -> Result<(), UsageError> {
    for (at, &letter) in group.iter().enumerate() {
        if letter == b'w' {
            let value = if at + 1 < group.len() {
                String::from_utf8_lossy(&group[at + 1..]).into_owned()
            } else {
                let next = rest
                    .next()
                    .ok_or_else(|| usage("-w needs up, down or SECONDS"))?;
                next.to_string_lossy().into_owned()
            };
            return wait_value(&value, raw);
        }
        if !CONTROL_LETTERS.contains(&letter) {
            return Err(usage(format!(
                "unknown flag -{}",
                String::from_utf8_lossy(&[letter])
            )));
        }
        raw.letters.push(letter);
    }
    Ok(())
}

fn wait_value(value: &str, raw: &mut Raw) -> Result<(), UsageError> {
    match value {
        "up" => raw.until = Some(Target::Up),
        "down" => raw.until = Some(Target::Down),
        _ => raw.wait = Some(seconds(value)?),
    }
    Ok(())
}

/// A deadline in seconds: a non-negative decimal number, at most a year.
fn seconds(value: &str) -> Result<Duration, UsageError> {
    let bad = || {
        usage(format!(
            "-w wants up, down or a number of seconds, not {value:?}"
        ))
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let secs: f64 = value.parse().map_err(|_| bad())?;
    if secs > 365.0 * 86_400.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Stage two: which form the sorted words make.
fn decide(raw: Raw) -> Result<Command, UsageError> {
    if raw.help {
        return Ok(Command::Help);
    }
    if raw.version {
        return Ok(Command::Version);
    }
    if raw.letters == b"h" && raw.words.is_empty() && raw.until.is_none() {
        return Ok(Command::Help);
    }
    let wait = raw.wait.unwrap_or(DEFAULT_WAIT);
    if !raw.letters.is_empty() || raw.until.is_some() {
        if raw.json {
            return Err(usage("--json goes with svc status only"));
        }
        if raw.words.is_empty() {
            return Err(usage("no directory given"));
        }
        return Ok(Command::Send {
            bytes: raw.letters,
            until: raw.until,
            dirs: raw.words.into_iter().map(PathBuf::from).collect(),
            wait,
        });
    }
    if let Some(verb) = original_verb(&raw.words)? {
        let dir = PathBuf::from(&raw.words[0]);
        if raw.json {
            return match verb {
                Verb::Status => Ok(Command::Status {
                    dirs: vec![dir],
                    json: true,
                }),
                _ => Err(usage("--json goes with svc status only")),
            };
        }
        return Ok(Command::Verb { dir, verb, wait });
    }
    match raw.words.split_first() {
        Some((first, dirs)) if first == "status" => {
            if dirs.is_empty() {
                return Err(usage("svc status needs at least one directory"));
            }
            Ok(Command::Status {
                dirs: dirs.iter().map(PathBuf::from).collect(),
                json: raw.json,
            })
        }
        Some(_) if raw.words.len() < 2 => Err(usage("missing command")),
        Some(_) => Err(usage(format!(
            "unknown command {}",
            raw.words[1].to_string_lossy()
        ))),
        None => Err(usage("missing directory and command")),
    }
}

/// `DIR VERB` or `DIR alarm on|off`, when the second word is one of the
/// original's verbs; `None` when it is not that form at all.
fn original_verb(words: &[OsString]) -> Result<Option<Verb>, UsageError> {
    let Some(second) = words.get(1).and_then(|w| w.to_str()) else {
        return Ok(None);
    };
    let verb = match second {
        "start" => Verb::Start,
        "stop" => Verb::Stop,
        "restart" => Verb::Restart,
        "status" => Verb::Status,
        "reconf" => Verb::Reconf,
        "exit" => Verb::Exit,
        "alarm" => {
            return match words.get(2).and_then(|w| w.to_str()) {
                Some("on") if words.len() == 3 => Ok(Some(Verb::AlarmOn)),
                Some("off") if words.len() == 3 => Ok(Some(Verb::AlarmOff)),
                _ => Err(usage("svc DIR alarm wants exactly one of on, off")),
            };
        }
        _ => return Ok(None),
    };
    if words.len() > 2 {
        // `svc status a b` lists a and b; `svc DIR stop extra` is an error.
        if words[0] == "status" {
            return Ok(None);
        }
        return Err(usage(format!(
            "unexpected {} after {second}",
            words[2].to_string_lossy()
        )));
    }
    Ok(Some(verb))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(args: &[&str]) -> Command {
        parse(args.iter().copied()).unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
    }

    fn err(args: &[&str]) -> String {
        parse(args.iter().copied()).unwrap_err().0
    }

    fn dirs(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn original_verbs() {
        let cases = [
            ("start", Verb::Start),
            ("stop", Verb::Stop),
            ("restart", Verb::Restart),
            ("status", Verb::Status),
            ("reconf", Verb::Reconf),
            ("exit", Verb::Exit),
        ];
        for (word, verb) in cases {
            assert_eq!(
                ok(&["status/redis", word]),
                Command::Verb {
                    dir: "status/redis".into(),
                    verb,
                    wait: DEFAULT_WAIT
                }
            );
        }
        assert!(matches!(
            ok(&["d", "alarm", "on"]),
            Command::Verb {
                verb: Verb::AlarmOn,
                ..
            }
        ));
        assert!(matches!(
            ok(&["d", "alarm", "off"]),
            Command::Verb {
                verb: Verb::AlarmOff,
                ..
            }
        ));
    }

    #[test]
    fn wait_seconds_anywhere() {
        let want = Command::Verb {
            dir: "d".into(),
            verb: Verb::Stop,
            wait: Duration::from_millis(2500),
        };
        assert_eq!(ok(&["-w", "2.5", "d", "stop"]), want);
        assert_eq!(ok(&["d", "stop", "-w2.5"]), want);
        assert_eq!(ok(&["d", "-w", "2.5", "stop"]), want);
    }

    #[test]
    fn daemontools_flags_group_and_keep_order() {
        assert_eq!(
            ok(&["-dx", "a", "b"]),
            Command::Send {
                bytes: b"dx".to_vec(),
                until: None,
                dirs: dirs(&["a", "b"]),
                wait: DEFAULT_WAIT
            }
        );
        assert_eq!(
            ok(&["-u", "-t", "a"]),
            Command::Send {
                bytes: b"ut".to_vec(),
                until: None,
                dirs: dirs(&["a"]),
                wait: DEFAULT_WAIT
            }
        );
        for letter in "udopchaitkxsnr".chars() {
            let flag = format!("-{letter}");
            match ok(&[flag.as_str(), "a"]) {
                Command::Send { bytes, .. } => assert_eq!(bytes, vec![letter as u8]),
                other => panic!("{flag}: {other:?}"),
            }
        }
    }

    #[test]
    fn wait_for_a_state() {
        assert_eq!(
            ok(&["-w", "up", "a"]),
            Command::Send {
                bytes: vec![],
                until: Some(Target::Up),
                dirs: dirs(&["a"]),
                wait: DEFAULT_WAIT
            }
        );
        assert_eq!(
            ok(&["-dwdown", "-w", "3", "a", "b"]),
            Command::Send {
                bytes: b"d".to_vec(),
                until: Some(Target::Down),
                dirs: dirs(&["a", "b"]),
                wait: Duration::from_secs(3)
            }
        );
    }

    #[test]
    fn status_listing() {
        assert_eq!(
            ok(&["status", "status/a", "status/b"]),
            Command::Status {
                dirs: dirs(&["status/a", "status/b"]),
                json: false
            }
        );
        assert_eq!(
            ok(&["status", "--json", "x"]),
            Command::Status {
                dirs: dirs(&["x"]),
                json: true
            }
        );
        assert_eq!(
            ok(&["x", "status", "--json"]),
            Command::Status {
                dirs: dirs(&["x"]),
                json: true
            }
        );
    }

    #[test]
    fn two_words_ending_in_a_verb_are_the_original_form() {
        // A directory called `status`, as the original would read it.
        assert!(matches!(
            ok(&["status", "start"]),
            Command::Verb {
                verb: Verb::Start,
                ..
            }
        ));
        assert!(matches!(
            ok(&["status", "status"]),
            Command::Verb {
                verb: Verb::Status,
                ..
            }
        ));
        // Three words after `status` list three directories.
        assert!(matches!(
            ok(&["status", "start", "stop"]),
            Command::Status { .. }
        ));
    }

    #[test]
    fn help_and_version() {
        assert_eq!(ok(&["--help"]), Command::Help);
        assert_eq!(ok(&["-h"]), Command::Help);
        assert_eq!(ok(&["d", "stop", "--help"]), Command::Help);
        assert_eq!(ok(&["--version"]), Command::Version);
        // With a directory, -h is the daemontools HUP.
        assert!(matches!(ok(&["-h", "d"]), Command::Send { .. }));
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(
            ok(&["-d", "--", "-odd"]),
            Command::Send {
                bytes: b"d".to_vec(),
                until: None,
                dirs: dirs(&["-odd"]),
                wait: DEFAULT_WAIT
            }
        );
    }

    #[test]
    fn usage_errors() {
        assert!(err(&[]).contains("missing directory"));
        assert!(err(&["d"]).contains("missing command"));
        assert!(err(&["d", "bogus"]).contains("unknown command bogus"));
        assert!(err(&["d", "alarm"]).contains("on, off"));
        assert!(err(&["d", "alarm", "maybe"]).contains("on, off"));
        assert!(err(&["d", "stop", "now"]).contains("unexpected now"));
        assert!(err(&["-q", "d"]).contains("unknown flag -q"));
        assert!(err(&["--frobnicate"]).contains("unknown option"));
        assert!(err(&["-d"]).contains("no directory"));
        assert!(err(&["-w"]).contains("-w needs"));
        assert!(err(&["-w", "soon", "d", "stop"]).contains("not \"soon\""));
        assert!(err(&["-w", "-1", "d", "stop"]).contains("-w wants"));
        assert!(err(&["-d", "--json", "x"]).contains("--json"));
        assert!(err(&["x", "stop", "--json"]).contains("--json"));
        assert!(err(&["status"]).contains("at least one directory"));
    }
}
