//! The `svc` command line, parsed into a typed [`Command`] in two stages: the
//! words are first sorted into options and positional words (`Raw`), then
//! the form is decided. Pure but for one question, asked only when the words
//! could be read two ways: "is this word a status directory?" The caller
//! passes the answer as a probe, so tests parse any argv without files.
//!
//! Forms, tried in this order:
//! - `svc --help`, `svc -h` (alone), `svc --version`;
//! - the root option: `-d ROOT` (a lone `-d` whose word is followed by a
//!   verb) or `--root ROOT`, for the verb-first forms below;
//! - daemontools: any control flag or `-w up|down` → `svc -dx -w down DIR...`;
//! - original: `svc DIR start|stop|restart|status|reconf|exit`, `svc DIR alarm on|off`;
//! - verb first: `svc start|stop|restart|reconf|exit NAME...`,
//!   `svc status [--json] [NAME|DIR|ROOT]...`, `svc reload [ROOT]`.
//!
//! The two readings meet when the first word is a verb: `svc status start`
//! is the original form (directory `status`, verb `start`) only when
//! `status` is a status directory; otherwise it is the status of the service
//! named `start`. Likewise `svc -d ROOT stop NAME` takes ROOT as the root
//! unless `stop` is a status directory (then it is daemontools `-d` sent to
//! ROOT and `stop`, as before). Either way, the reading chosen is the only
//! one that could succeed.
//!
//! `-w SECONDS` (the deadline for waiting commands) and `--json` may come
//! anywhere; `--` ends the options.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
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
    /// `svc status [NAME|DIR|ROOT]...`: one line (or JSON object) per
    /// directory; a table (or JSON array) when a whole root is listed.
    Status {
        /// What to show; none lists the root.
        operands: Vec<Operand>,
        /// `--json`.
        json: bool,
        /// `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
    },
    /// Verb first: `svc start|stop|restart|reconf|exit NAME...`, each
    /// service in turn, each with its own `-w` deadline.
    Named {
        /// What to do to each.
        verb: Verb,
        /// The services, at least one.
        operands: Vec<Operand>,
        /// `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
        /// The deadline for waiting, per service, from `-w SECONDS`.
        wait: Duration,
    },
    /// `svc reload [ROOT]`: SIGHUP to the supervise-scan of ROOT.
    Reload {
        /// The root given as an argument, `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
    },
}

/// A service named on the command line in a verb-first form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A word without `/` (and not `.` or `..`): `ROOT/status/NAME`.
    Name(String),
    /// A word with `/`, `.` or `..`: a path, as typed.
    Path(PathBuf),
}

impl Operand {
    /// Sorts a word: a NAME, or a path.
    pub fn from_word(word: &OsString) -> Operand {
        let bytes = word.as_encoded_bytes();
        match word.to_str() {
            Some(name)
                if !bytes.is_empty() && !bytes.contains(&b'/') && name != "." && name != ".." =>
            {
                Operand::Name(name.to_string())
            }
            _ => Operand::Path(PathBuf::from(word)),
        }
    }
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
    /// `--root ROOT`.
    root: Option<PathBuf>,
    /// Where the word after a lone `-d` stands in `words`: ROOT, if the
    /// words turn out to be a verb-first form.
    dash_d: Option<usize>,
    words: Vec<OsString>,
}

/// Parses the arguments after the program name. `is_status_dir` answers
/// whether a word names a status directory; it is asked only to choose
/// between two readings of the same words (see the module comment).
pub fn parse<I>(args: I, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let raw = sort(args.into_iter().map(Into::into).collect())?;
    decide(raw, is_status_dir)
}

/// The one-word verbs of the original `svc DIR VERB`. Each may also come
/// first, before NAMEs or a ROOT, and so may `reload`.
const VERBS: &[(&str, Verb)] = &[
    ("start", Verb::Start),
    ("stop", Verb::Stop),
    ("restart", Verb::Restart),
    ("status", Verb::Status),
    ("reconf", Verb::Reconf),
    ("exit", Verb::Exit),
];

/// The [`Verb`] a word of [`VERBS`] names.
fn verb_of(word: &str) -> Option<Verb> {
    VERBS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|&(_, verb)| verb)
}

fn is_first_verb(word: &OsString) -> bool {
    word.to_str()
        .is_some_and(|w| w == "reload" || verb_of(w).is_some())
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
                Some("--root") => {
                    let root = args.next().ok_or_else(|| usage("--root needs a ROOT"))?;
                    set_root(&mut raw, PathBuf::from(root))?;
                }
                Some(long) if long.starts_with("--root=") => {
                    set_root(&mut raw, PathBuf::from(&long["--root=".len()..]))?;
                }
                _ => return Err(usage(format!("unknown option {}", arg.to_string_lossy()))),
            }
        } else if arg == "-d" {
            raw.letters.push(b'd');
            raw.dash_d = Some(raw.words.len());
        } else if bytes.len() > 1 && bytes[0] == b'-' {
            sort_group(&bytes[1..], &mut args, &mut raw)?;
        } else {
            raw.words.push(arg);
        }
    }
    Ok(raw)
}

fn set_root(raw: &mut Raw, root: PathBuf) -> Result<(), UsageError> {
    if raw.root.is_some() {
        return Err(usage("the root is given twice"));
    }
    raw.root = Some(root);
    Ok(())
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
fn decide(mut raw: Raw, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<Command, UsageError> {
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
    take_dash_d_root(&mut raw, is_status_dir)?;
    if !raw.letters.is_empty() || raw.until.is_some() {
        if raw.json {
            return Err(usage("--json goes with svc status only"));
        }
        if raw.root.is_some() {
            return Err(usage("--root goes with the verb-first forms only"));
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
    let verb_first = raw.words.first().is_some_and(is_first_verb);
    let original_possible =
        raw.root.is_none() && (!verb_first || is_status_dir(Path::new(&raw.words[0])));
    if original_possible && let Some(verb) = original_verb(&raw.words)? {
        let dir = PathBuf::from(&raw.words[0]);
        if raw.json {
            return match verb {
                Verb::Status => Ok(Command::Status {
                    operands: vec![Operand::Path(dir)],
                    json: true,
                    root: None,
                }),
                _ => Err(usage("--json goes with svc status only")),
            };
        }
        return Ok(Command::Verb { dir, verb, wait });
    }
    if verb_first {
        return verb_first_form(raw, wait);
    }
    if raw.root.is_some() {
        return Err(usage(
            "with a root, the verb comes first: svc -d ROOT start|stop|restart|reconf|exit|status|reload",
        ));
    }
    match raw.words.len() {
        0 => Err(usage("missing directory and command")),
        1 => Err(usage("missing command")),
        _ => Err(usage(format!(
            "unknown command {}",
            raw.words[1].to_string_lossy()
        ))),
    }
}

/// A lone `-d` whose word is followed by a verb that is not a status
/// directory gives the root: `svc -d ROOT stop NAME`. As daemontools `-d`,
/// the same words would have failed on the directory named like the verb.
fn take_dash_d_root(
    raw: &mut Raw,
    is_status_dir: &dyn Fn(&Path) -> bool,
) -> Result<(), UsageError> {
    let Some(at) = raw.dash_d else {
        return Ok(());
    };
    if raw.letters != b"d" || raw.until.is_some() || at >= raw.words.len() {
        return Ok(());
    }
    let mut rest = raw.words.clone();
    let root = rest.remove(at);
    let verb = rest.first().filter(|w| is_first_verb(w));
    if verb.is_none_or(|w| is_status_dir(Path::new(w))) {
        return Ok(());
    }
    raw.letters.clear();
    raw.words = rest;
    set_root(raw, PathBuf::from(root))
}

/// `svc start|stop|restart|reconf|exit NAME...`, `svc status [NAME...]`,
/// `svc reload [ROOT]`; the first word is known to be one of these verbs.
fn verb_first_form(raw: Raw, wait: Duration) -> Result<Command, UsageError> {
    let (first, rest) = raw.words.split_first().expect("a verb comes first");
    let word = first.to_str().unwrap_or_default();
    let operands: Vec<Operand> = rest.iter().map(Operand::from_word).collect();
    if word == "status" {
        return Ok(Command::Status {
            operands,
            json: raw.json,
            root: raw.root,
        });
    }
    if raw.json {
        return Err(usage("--json goes with svc status only"));
    }
    if word == "reload" {
        return match rest {
            [] => Ok(Command::Reload { root: raw.root }),
            [root] if raw.root.is_none() => Ok(Command::Reload {
                root: Some(PathBuf::from(root)),
            }),
            [_] => Err(usage(
                "svc reload takes the root once: -d ROOT or an argument",
            )),
            [_, extra, ..] => Err(usage(format!(
                "unexpected {} after reload ROOT",
                extra.to_string_lossy()
            ))),
        };
    }
    let verb = verb_of(word).expect("status and reload are taken above");
    if operands.is_empty() {
        return Err(usage(format!("svc {word} needs at least one NAME or DIR")));
    }
    Ok(Command::Named {
        verb,
        operands,
        root: raw.root,
        wait,
    })
}

/// `DIR VERB` or `DIR alarm on|off`, when the second word is one of the
/// original's verbs; `None` when it is not that form at all.
fn original_verb(words: &[OsString]) -> Result<Option<Verb>, UsageError> {
    let Some(second) = words.get(1).and_then(|w| w.to_str()) else {
        return Ok(None);
    };
    if second == "alarm" {
        return match words.get(2).and_then(|w| w.to_str()) {
            Some("on") if words.len() == 3 => Ok(Some(Verb::AlarmOn)),
            Some("off") if words.len() == 3 => Ok(Some(Verb::AlarmOff)),
            _ => Err(usage("svc DIR alarm wants exactly one of on, off")),
        };
    }
    let Some(verb) = verb_of(second) else {
        return Ok(None);
    };
    if words.len() > 2 {
        // `svc status a b` lists a and b; `svc DIR stop extra` is an error.
        if is_first_verb(&words[0]) {
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

    /// Parses with no status directory anywhere.
    fn ok(args: &[&str]) -> Command {
        ok_with(args, &[])
    }

    /// Parses as if exactly `status_dirs` were status directories.
    fn ok_with(args: &[&str], status_dirs: &[&str]) -> Command {
        let probe = |path: &Path| status_dirs.iter().any(|d| Path::new(d) == path);
        parse(args.iter().copied(), &probe).unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
    }

    fn err(args: &[&str]) -> String {
        parse(args.iter().copied(), &|_: &Path| false)
            .unwrap_err()
            .0
    }

    fn dirs(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    fn operands(words: &[&str]) -> Vec<Operand> {
        words
            .iter()
            .map(|w| Operand::from_word(&OsString::from(w)))
            .collect()
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
                operands: operands(&["status/a", "status/b"]),
                json: false,
                root: None,
            }
        );
        assert_eq!(
            ok(&["status", "--json", "x"]),
            Command::Status {
                operands: vec![Operand::Name("x".into())],
                json: true,
                root: None,
            }
        );
        // The original form names a directory, whatever its spelling.
        assert_eq!(
            ok(&["x", "status", "--json"]),
            Command::Status {
                operands: vec![Operand::Path("x".into())],
                json: true,
                root: None,
            }
        );
        assert_eq!(
            ok(&["status"]),
            Command::Status {
                operands: vec![],
                json: false,
                root: None,
            }
        );
    }

    #[test]
    fn words_with_a_slash_are_paths_others_names() {
        assert_eq!(
            operands(&["web", "./web", "status/web", "/srv", ".", "..", "web/"]),
            vec![
                Operand::Name("web".into()),
                Operand::Path("./web".into()),
                Operand::Path("status/web".into()),
                Operand::Path("/srv".into()),
                Operand::Path(".".into()),
                Operand::Path("..".into()),
                Operand::Path("web/".into()),
            ]
        );
    }

    #[test]
    fn two_words_ending_in_a_verb_are_the_original_form_for_a_status_dir() {
        // A status directory called `status`, as the original would read it.
        assert!(matches!(
            ok_with(&["status", "start"], &["status"]),
            Command::Verb {
                verb: Verb::Start,
                ..
            }
        ));
        assert!(matches!(
            ok_with(&["status", "status"], &["status"]),
            Command::Verb {
                verb: Verb::Status,
                ..
            }
        ));
        assert!(matches!(
            ok_with(&["stop", "alarm", "on"], &["stop"]),
            Command::Verb {
                verb: Verb::AlarmOn,
                ..
            }
        ));
        // Three words after `status` list three directories.
        assert!(matches!(
            ok_with(&["status", "start", "stop"], &["status"]),
            Command::Status { .. }
        ));
        // Not a status directory: the verb comes first.
        assert_eq!(
            ok(&["status", "start"]),
            Command::Status {
                operands: operands(&["start"]),
                json: false,
                root: None,
            }
        );
        assert!(matches!(
            ok(&["stop", "status"]),
            Command::Named {
                verb: Verb::Stop,
                ..
            }
        ));
        // Not a verb first: the original form, unprobed.
        assert!(matches!(
            ok(&["web", "stop"]),
            Command::Verb {
                verb: Verb::Stop,
                ..
            }
        ));
    }

    #[test]
    fn verb_first_acts_on_names_in_order() {
        let cases = [
            ("start", Verb::Start),
            ("stop", Verb::Stop),
            ("restart", Verb::Restart),
            ("reconf", Verb::Reconf),
            ("exit", Verb::Exit),
        ];
        for (word, verb) in cases {
            assert_eq!(
                ok(&[word, "a", "status/b", "-w", "5"]),
                Command::Named {
                    verb,
                    operands: operands(&["a", "status/b"]),
                    root: None,
                    wait: Duration::from_secs(5),
                }
            );
        }
    }

    #[test]
    fn the_root_option() {
        let want = Command::Named {
            verb: Verb::Stop,
            operands: operands(&["a", "b"]),
            root: Some("/srv".into()),
            wait: DEFAULT_WAIT,
        };
        assert_eq!(ok(&["-d", "/srv", "stop", "a", "b"]), want);
        assert_eq!(ok(&["--root", "/srv", "stop", "a", "b"]), want);
        assert_eq!(ok(&["stop", "a", "b", "--root=/srv"]), want);
        assert_eq!(ok(&["stop", "-d", "/srv", "a", "b"]), want);
        assert_eq!(
            ok(&["-d", "/srv", "status", "--json"]),
            Command::Status {
                operands: vec![],
                json: true,
                root: Some("/srv".into()),
            }
        );
        // A status directory named like the verb: daemontools `-d`, as before.
        assert_eq!(
            ok_with(&["-d", "/srv", "stop"], &["stop"]),
            Command::Send {
                bytes: b"d".to_vec(),
                until: None,
                dirs: dirs(&["/srv", "stop"]),
                wait: DEFAULT_WAIT
            }
        );
        // No verb after the word, grouped or repeated flags: daemontools.
        for args in [
            &["-d", "a", "b"][..],
            &["-dx", "a", "stop"],
            &["-d", "-d", "a", "stop"],
            &["-d", "-w", "down", "a", "stop"],
        ] {
            assert!(matches!(ok(args), Command::Send { .. }), "{args:?}");
        }
    }

    #[test]
    fn reload() {
        assert_eq!(ok(&["reload"]), Command::Reload { root: None });
        assert_eq!(
            ok(&["reload", "srv"]),
            Command::Reload {
                root: Some("srv".into())
            }
        );
        assert_eq!(
            ok(&["-d", "srv", "reload"]),
            Command::Reload {
                root: Some("srv".into())
            }
        );
        assert!(err(&["-d", "a", "reload", "b"]).contains("root once"));
        assert!(err(&["reload", "a", "b"]).contains("unexpected b"));
        assert!(err(&["reload", "--json"]).contains("--json"));
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
        assert!(err(&["stop"]).contains("svc stop needs at least one NAME"));
        assert!(err(&["stop", "a", "--json"]).contains("--json"));
        assert!(err(&["--root"]).contains("--root needs"));
        assert!(err(&["--root", "a", "--root", "b", "status"]).contains("twice"));
        assert!(err(&["--root", "a", "-u", "b"]).contains("verb-first"));
        assert!(err(&["--root", "a", "b", "stop"]).contains("the verb comes first"));
    }
}
