//! The `svc` command line, in two stages as in ripgrep: [`parse`] sorts the
//! words on lexopt into [`Options`] — the flags, the root, the deadline and
//! the positional words, wherever they stand — and [`Options::command`]
//! decides which form they make. Both are pure; the second asks one
//! question of the file system, and only when the same words could be read
//! two ways: "is this word a status directory?" The caller passes the
//! answer as a probe, so tests parse any argv without files. No argv makes
//! either panic: every word that fits no form is a [`Usage`] error.
//!
//! Forms, tried in this order:
//! - `svc --help`, `svc -h` (alone), `svc --version`;
//! - the root option: `-d ROOT` (a lone `-d` whose word is followed by a
//!   verb) or `--root ROOT`, for the verb-first forms below;
//! - daemontools: any control flag or `-w up|down` → `svc -dx -w down DIR...`;
//! - original: `svc DIR start|stop|restart|status|reconf|exit`, `svc DIR alarm on|off`;
//! - verb first: `svc start|stop|restart|reconf|exit NAME...`,
//!   `svc status [--json] [NAME|DIR|ROOT]...`, `svc reload [ROOT]`,
//!   `svc wait up|down|ready NAME...`, `svc history [--json] [-n N]
//!   NAME|DIR`, `svc metrics [NAME|DIR|ROOT]...`.
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
//! anywhere; `--` ends the options. `-n` after `history` is its count
//! (`svc history web -n 5`); anywhere else it is daemontools' `-n`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::duration;

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
    /// `svc reload [ROOT]`: SIGHUP to the supervise-scan of ROOT, then
    /// wait for the outcome of its load.
    Reload {
        /// The root given as an argument, `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
        /// The deadline for the outcome, from `-w SECONDS`.
        wait: Duration,
    },
    /// `svc wait up|down|ready NAME...`: wait, sending nothing, until every
    /// service shows the state, all within one `-w` deadline.
    Wait {
        /// The state.
        until: Target,
        /// The services, at least one.
        operands: Vec<Operand>,
        /// `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
        /// The deadline, from `-w SECONDS`.
        wait: Duration,
    },
    /// `svc history NAME|DIR`: the last exits.
    History {
        /// The service.
        operand: Operand,
        /// `--json`.
        json: bool,
        /// `-n N`: at most this many, the latest.
        count: Option<usize>,
        /// `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
    },
    /// `svc metrics [NAME|DIR|ROOT]...`: Prometheus text; none is the root.
    Metrics {
        /// What to measure.
        operands: Vec<Operand>,
        /// `-d ROOT` or `--root ROOT`.
        root: Option<PathBuf>,
    },
}

/// A service named on the command line in a verb-first form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A word without `/` (and not `.` or `..`): `ROOT/status/NAME`.
    Name(String),
    /// A word with `/`, `.` or `..`, or not UTF-8: a path, as typed.
    Path(PathBuf),
}

impl Operand {
    /// Sorts a word: a NAME, or a path.
    pub fn from_word(word: &OsString) -> Operand {
        match word.to_str() {
            Some(name)
                if !name.is_empty() && !name.contains('/') && name != "." && name != ".." =>
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

/// The state `-w up|down|ready` and `svc wait` wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A running child (pid not 0).
    Up,
    /// pid 0 and the process group gone.
    Down,
    /// A running child that is ready (`info`; without it, running).
    Ready,
}

impl Target {
    /// The state a word names: `up`, `down`, `ready`.
    fn from_word(word: &str) -> Option<Target> {
        match word {
            "up" => Some(Target::Up),
            "down" => Some(Target::Down),
            "ready" => Some(Target::Ready),
            _ => None,
        }
    }
}

/// A command line `svc` cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    /// What is wrong, for the line before the usage text.
    pub message: String,
    /// Fewer than two arguments: as the original script, the usage text
    /// goes to stdout.
    pub too_few: bool,
}

/// The words sorted, not yet interpreted: what the flags said, one field
/// each, and the positional words in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    /// How many arguments there were.
    args: usize,
    /// The daemontools control letters, in order.
    letters: Vec<u8>,
    /// `-w up|down|ready`.
    until: Option<Target>,
    /// `-w SECONDS`.
    wait: Option<Duration>,
    /// `--json`.
    json: bool,
    /// `--help`.
    help: bool,
    /// `--version`.
    version: bool,
    /// `--root ROOT`.
    root: Option<PathBuf>,
    /// Where the word after a lone `-d` stands in `words`: ROOT, if the
    /// words turn out to be a verb-first form.
    dash_d: Option<usize>,
    /// Where the word after a lone `-n` following `history` stands in
    /// `words`: its count, if the words are `svc history`.
    dash_n: Option<usize>,
    /// `-n N` of `svc history`.
    count: Option<usize>,
    /// The positional words.
    words: Vec<OsString>,
}

/// Stage one: sorts the arguments after the program name into
/// [`Options`].
pub fn parse<I>(args: I) -> Result<Options, Usage>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let count = args.len();
    let mut options = Options {
        args: count,
        ..Options::default()
    };
    match options.sort(lexopt::Parser::from_args(args)) {
        Ok(()) => Ok(options),
        Err(message) => Err(usage(message, count)),
    }
}

fn usage(message: String, args: usize) -> Usage {
    Usage {
        message,
        too_few: args < 2,
    }
}

/// Where `--json` may go.
const JSON_ONLY: &str = "--json goes with svc status and svc history only";

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

/// The verbs that only come first.
const FIRST_ONLY: &[&str] = &["reload", "wait", "history", "metrics"];

fn is_first_verb(word: &OsString) -> bool {
    word.to_str()
        .is_some_and(|w| FIRST_ONLY.contains(&w) || verb_of(w).is_some())
}

impl Options {
    /// Options wherever they stand, apart from the positional words.
    fn sort(&mut self, mut parser: lexopt::Parser) -> Result<(), String> {
        use lexopt::Arg::{Long, Short, Value};
        while let Some(arg) = parser.next().map_err(|err| err.to_string())? {
            match arg {
                Long("help") => self.help = true,
                Long("version") => self.version = true,
                Long("json") => self.json = true,
                Long("root") => {
                    let root = parser.value().map_err(|_| "--root needs a ROOT")?;
                    self.set_root(PathBuf::from(root))?;
                }
                Long(other) => return Err(format!("unknown option --{other}")),
                Short('w') => {
                    let value = parser
                        .value()
                        .map_err(|_| "-w needs up, down, ready or SECONDS")?;
                    self.wait_value(&value)?;
                }
                Short(letter) if letter.is_ascii() && CONTROL_LETTERS.contains(&(letter as u8)) => {
                    let ends_its_word = parser.try_raw_args().is_some();
                    // A `-d` that ends its word may be `-d ROOT`.
                    if letter == 'd' && ends_its_word {
                        self.dash_d = Some(self.words.len());
                    }
                    // And a `-n` after `history`, `-n N`.
                    if letter == 'n' && ends_its_word && self.after_history() {
                        self.dash_n = Some(self.words.len());
                    }
                    self.letters.push(letter as u8);
                }
                Short(other) => return Err(format!("unknown flag -{other}")),
                Value(word) => self.words.push(word),
            }
        }
        Ok(())
    }

    /// Whether the words so far start with `history` (or `ROOT history`
    /// after a lone `-d`).
    fn after_history(&self) -> bool {
        let at = if self.dash_d == Some(0) { 1 } else { 0 };
        self.words.get(at).is_some_and(|w| w == "history")
    }

    fn set_root(&mut self, root: PathBuf) -> Result<(), String> {
        if self.root.is_some() {
            return Err("the root is given twice".to_string());
        }
        self.root = Some(root);
        Ok(())
    }

    /// `-w up`, `-w down`, `-w ready`, or `-w SECONDS`: a decimal number
    /// of seconds, read by the project's one duration parser.
    fn wait_value(&mut self, value: &OsString) -> Result<(), String> {
        if let Some(target) = value.to_str().and_then(Target::from_word) {
            self.until = Some(target);
            return Ok(());
        }
        let wait = value
            .to_str()
            .and_then(duration::parse_seconds)
            .ok_or_else(|| {
                format!(
                    "-w wants up, down, ready or a number of seconds, not {:?}",
                    value.to_string_lossy()
                )
            })?;
        self.wait = Some(wait);
        Ok(())
    }

    /// Stage two: which form the sorted words make. `is_status_dir` answers
    /// whether a word names a status directory; it is asked only to choose
    /// between two readings of the same words (see the module comment).
    pub fn command(mut self, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<Command, Usage> {
        let args = self.args;
        self.decide(is_status_dir)
            .map_err(|message| usage(message, args))
    }

    fn decide(&mut self, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<Command, String> {
        if self.help || (self.letters == b"h" && self.words.is_empty() && self.until.is_none()) {
            return Ok(Command::Help);
        }
        if self.version {
            return Ok(Command::Version);
        }
        let wait = self.wait.unwrap_or(DEFAULT_WAIT);
        self.take_history_count(is_status_dir)?;
        self.take_dash_d_root(is_status_dir)?;
        if !self.letters.is_empty() || self.until.is_some() {
            return self.daemontools(wait);
        }
        let verb_first = self.words.first().is_some_and(is_first_verb);
        let original_possible =
            self.root.is_none() && (!verb_first || is_status_dir(Path::new(&self.words[0])));
        if original_possible && let Some(verb) = original_verb(&self.words)? {
            return self.original(verb, wait);
        }
        if verb_first {
            return self.verb_first(wait);
        }
        if self.root.is_some() {
            return Err("with a root, the verb comes first: \
                 svc -d ROOT start|stop|restart|reconf|exit|status|reload"
                .to_string());
        }
        Err(match self.words.as_slice() {
            [] => "missing directory and command".to_string(),
            [_] => "missing command".to_string(),
            [_, command, ..] => format!("unknown command {}", command.to_string_lossy()),
        })
    }

    /// `svc history ... -n N`: takes N out of the words and `n` out of the
    /// letters, unless `history` is a status directory given to the
    /// daemontools form (`svc history -n`, alarms on again).
    fn take_history_count(&mut self, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<(), String> {
        let Some(at) = self.dash_n else {
            return Ok(());
        };
        let plain = self.root.is_none() && self.dash_d.is_none();
        if plain && is_status_dir(Path::new("history")) {
            return Ok(());
        }
        let word = self.words.get(at).ok_or("-n needs a number of exits")?;
        let count = word.to_str().and_then(|w| w.parse().ok()).ok_or_else(|| {
            format!(
                "-n wants a number of exits, not {:?}",
                word.to_string_lossy()
            )
        })?;
        self.words.remove(at);
        if let Some(n) = self.letters.iter().rposition(|&l| l == b'n') {
            self.letters.remove(n);
        }
        self.count = Some(count);
        Ok(())
    }

    /// A lone `-d` whose word is followed by a verb that is not a status
    /// directory gives the root: `svc -d ROOT stop NAME`. As daemontools
    /// `-d`, the same words would have failed on the directory named like
    /// the verb.
    fn take_dash_d_root(&mut self, is_status_dir: &dyn Fn(&Path) -> bool) -> Result<(), String> {
        let Some(at) = self.dash_d else {
            return Ok(());
        };
        if self.letters != b"d" || self.until.is_some() || at >= self.words.len() {
            return Ok(());
        }
        // The first word once ROOT is taken out must be a verb.
        let first = if at == 0 {
            self.words.get(1)
        } else {
            self.words.first()
        };
        let verb = first.filter(|w| is_first_verb(w));
        if verb.is_none_or(|w| is_status_dir(Path::new(w))) {
            return Ok(());
        }
        self.letters.clear();
        let root = self.words.remove(at);
        self.set_root(PathBuf::from(root))
    }

    /// `svc -udopchaitkxsnr [-w up|down] DIR...`.
    fn daemontools(&mut self, wait: Duration) -> Result<Command, String> {
        if self.json {
            return Err(JSON_ONLY.to_string());
        }
        if self.root.is_some() {
            return Err("--root goes with the verb-first forms only".to_string());
        }
        if self.words.is_empty() {
            return Err("no directory given".to_string());
        }
        Ok(Command::Send {
            bytes: std::mem::take(&mut self.letters),
            until: self.until,
            dirs: self.words.drain(..).map(PathBuf::from).collect(),
            wait,
        })
    }

    /// `svc DIR VERB`; with `--json`, `svc DIR status` lists DIR.
    fn original(&mut self, verb: Verb, wait: Duration) -> Result<Command, String> {
        let dir = PathBuf::from(&self.words[0]);
        match (verb, self.json) {
            (_, false) => Ok(Command::Verb { dir, verb, wait }),
            (Verb::Status, true) => Ok(Command::Status {
                operands: vec![Operand::Path(dir)],
                json: true,
                root: None,
            }),
            (_, true) => Err(JSON_ONLY.to_string()),
        }
    }

    /// `svc start|stop|restart|reconf|exit NAME...`, `svc status
    /// [NAME...]`, `svc reload [ROOT]`; the first word is one of these verbs.
    fn verb_first(&mut self, wait: Duration) -> Result<Command, String> {
        let words = std::mem::take(&mut self.words);
        let (first, rest) = words.split_first().ok_or("a verb comes first")?;
        let word = first.to_str().unwrap_or_default();
        let operands: Vec<Operand> = rest.iter().map(Operand::from_word).collect();
        let root = self.root.take();
        if word == "status" {
            return Ok(Command::Status {
                operands,
                json: self.json,
                root,
            });
        }
        if word == "history" {
            let [operand] = <[Operand; 1]>::try_from(operands)
                .map_err(|_| "svc history takes one NAME or DIR".to_string())?;
            return Ok(Command::History {
                operand,
                json: self.json,
                count: self.count,
                root,
            });
        }
        if self.json {
            return Err(JSON_ONLY.to_string());
        }
        if word == "metrics" {
            return Ok(Command::Metrics { operands, root });
        }
        if word == "wait" {
            let until = rest
                .first()
                .and_then(|w| w.to_str())
                .and_then(Target::from_word)
                .ok_or("svc wait wants up, down or ready, then NAME...")?;
            if operands.len() < 2 {
                return Err("svc wait needs at least one NAME or DIR".to_string());
            }
            return Ok(Command::Wait {
                until,
                operands: operands[1..].to_vec(),
                root,
                wait,
            });
        }
        if word == "reload" {
            return match (rest, root) {
                ([], root) => Ok(Command::Reload { root, wait }),
                ([given], None) => Ok(Command::Reload {
                    root: Some(PathBuf::from(given)),
                    wait,
                }),
                ([_], Some(_)) => {
                    Err("svc reload takes the root once: -d ROOT or an argument".to_string())
                }
                ([_, extra, ..], _) => Err(format!(
                    "unexpected {} after reload ROOT",
                    extra.to_string_lossy()
                )),
            };
        }
        let verb = verb_of(word).ok_or("the first-only verbs are taken above")?;
        if operands.is_empty() {
            return Err(format!("svc {word} needs at least one NAME or DIR"));
        }
        Ok(Command::Named {
            verb,
            operands,
            root,
            wait,
        })
    }
}

/// `DIR VERB` or `DIR alarm on|off`, when the second word is one of the
/// original's verbs; `None` when it is not that form at all.
fn original_verb(words: &[OsString]) -> Result<Option<Verb>, String> {
    let Some(second) = words.get(1).and_then(|w| w.to_str()) else {
        return Ok(None);
    };
    if second == "alarm" {
        return match words.get(2).and_then(|w| w.to_str()) {
            Some("on") if words.len() == 3 => Ok(Some(Verb::AlarmOn)),
            Some("off") if words.len() == 3 => Ok(Some(Verb::AlarmOff)),
            _ => Err("svc DIR alarm wants exactly one of on, off".to_string()),
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
        return Err(format!(
            "unexpected {} after {second}",
            words[2].to_string_lossy()
        ));
    }
    Ok(Some(verb))
}
#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::OsStringExt;

    /// Parses with no status directory anywhere.
    fn ok(args: &[&str]) -> Command {
        ok_with(args, &[])
    }

    /// Both stages, as if exactly `status_dirs` were status directories.
    fn both<I>(args: I, status_dirs: &[&str]) -> Result<Command, Usage>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let probe = |path: &Path| status_dirs.iter().any(|d| Path::new(d) == path);
        parse(args).and_then(|options| options.command(&probe))
    }

    fn ok_with(args: &[&str], status_dirs: &[&str]) -> Command {
        both(args.iter().copied(), status_dirs).unwrap_or_else(|e| panic!("{args:?}: {e:?}"))
    }

    fn usage_of(args: &[&str]) -> Usage {
        both(args.iter().copied(), &[]).unwrap_err()
    }

    fn err(args: &[&str]) -> String {
        usage_of(args).message
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
        assert_eq!(
            ok(&["reload"]),
            Command::Reload {
                root: None,
                wait: DEFAULT_WAIT
            }
        );
        assert_eq!(
            ok(&["reload", "srv"]),
            Command::Reload {
                root: Some("srv".into()),
                wait: DEFAULT_WAIT,
            }
        );
        assert_eq!(
            ok(&["-d", "srv", "reload"]),
            Command::Reload {
                root: Some("srv".into()),
                wait: DEFAULT_WAIT,
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
        assert!(err(&["wait", "web"]).contains("up, down or ready"));
        assert!(err(&["wait", "ready"]).contains("at least one NAME"));
        assert!(err(&["history"]).contains("one NAME or DIR"));
        assert!(err(&["history", "a", "b"]).contains("one NAME or DIR"));
        assert!(err(&["history", "a", "-n"]).contains("-n needs a number"));
        assert!(err(&["history", "a", "-n", "x"]).contains("-n wants a number of exits"));
        assert!(err(&["metrics", "--json"]).contains("--json"));
        assert!(err(&["wait", "up", "a", "--json"]).contains("--json"));
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

    fn bytes(word: &[u8]) -> OsString {
        OsString::from_vec(word.to_vec())
    }

    #[test]
    fn every_form_of_the_synopsis() {
        let five = Duration::from_secs(5);
        let table: Vec<(&[&str], Command)> = vec![
            (
                &["-w", "5", "d", "restart"],
                Command::Verb {
                    dir: "d".into(),
                    verb: Verb::Restart,
                    wait: five,
                },
            ),
            (
                &["d", "alarm", "off", "-w5"],
                Command::Verb {
                    dir: "d".into(),
                    verb: Verb::AlarmOff,
                    wait: five,
                },
            ),
            (
                &["-d", "/srv", "-w", "5", "exit", "a", "b"],
                Command::Named {
                    verb: Verb::Exit,
                    operands: operands(&["a", "b"]),
                    root: Some("/srv".into()),
                    wait: five,
                },
            ),
            (
                &["-d", "/srv", "status", "--json", "a", "/x/status/b", "/y"],
                Command::Status {
                    operands: operands(&["a", "/x/status/b", "/y"]),
                    json: true,
                    root: Some("/srv".into()),
                },
            ),
            (
                &["-d", "/srv", "reload"],
                Command::Reload {
                    root: Some("/srv".into()),
                    wait: DEFAULT_WAIT,
                },
            ),
            (
                &["reload", "/srv"],
                Command::Reload {
                    root: Some("/srv".into()),
                    wait: DEFAULT_WAIT,
                },
            ),
            (
                &["-udo", "-p", "-chaitkxsnr", "-w", "up", "-w", "5", "a", "b"],
                Command::Send {
                    bytes: b"udopchaitkxsnr".to_vec(),
                    until: Some(Target::Up),
                    dirs: dirs(&["a", "b"]),
                    wait: five,
                },
            ),
            (&["--help"], Command::Help),
            (&["--version"], Command::Version),
        ];
        for (args, want) in table {
            assert_eq!(ok(args), want, "{args:?}");
        }
    }

    #[test]
    fn words_that_are_not_utf8() {
        let dir = bytes(b"status/\xff");
        assert_eq!(
            both([dir.clone(), "stop".into()], &[]),
            Ok(Command::Verb {
                dir: PathBuf::from(&dir),
                verb: Verb::Stop,
                wait: DEFAULT_WAIT,
            })
        );
        // Not UTF-8, so never a NAME: a path, as typed.
        assert_eq!(
            both(["stop".into(), bytes(b"\xfe")], &[]),
            Ok(Command::Named {
                verb: Verb::Stop,
                operands: vec![Operand::Path(PathBuf::from(bytes(b"\xfe")))],
                root: None,
                wait: DEFAULT_WAIT,
            })
        );
        assert_eq!(
            both([bytes(b"--root"), bytes(b"/\xfd"), "reload".into()], &[]),
            Ok(Command::Reload {
                root: Some(PathBuf::from(bytes(b"/\xfd"))),
                wait: DEFAULT_WAIT,
            })
        );
        assert_eq!(
            both(["-u".into(), dir.clone()], &[]),
            Ok(Command::Send {
                bytes: b"u".to_vec(),
                until: None,
                dirs: vec![PathBuf::from(&dir)],
                wait: DEFAULT_WAIT,
            })
        );
        let refused = |args: Vec<OsString>| both(args, &[]).unwrap_err().message;
        assert!(refused(vec![bytes(b"-\xff"), "d".into()]).contains("unknown flag -"));
        assert!(refused(vec![bytes(b"-\xc3\xa9"), "d".into()]).contains("unknown flag -é"));
        assert!(refused(vec![bytes(b"--\xff"), "d".into()]).contains("unknown option --"));
        assert!(refused(vec!["-w".into(), bytes(b"\xff"), "d".into()]).contains("-w wants"));
        assert!(refused(vec!["d".into(), bytes(b"\xff")]).contains("unknown command"));
    }

    #[test]
    fn fewer_than_two_arguments_that_make_no_command_are_too_few() {
        for args in [&[][..], &["x"], &["stop"], &["-u"], &["-q"], &["--json"]] {
            assert!(usage_of(args).too_few, "{args:?}");
        }
        for args in [&["x", "bogus"][..], &["-q", "x"], &["stop", "--json"]] {
            assert!(!usage_of(args).too_few, "{args:?}");
        }
        // One word that is a command of ours is no usage error.
        for args in [&["status"][..], &["reload"], &["-h"], &["--help"]] {
            assert!(both(args.iter().copied(), &[]).is_ok(), "{args:?}");
        }
    }

    #[test]
    fn values_stuck_to_their_option() {
        assert_eq!(
            ok(&["-w=5", "d", "stop"]),
            Command::Verb {
                dir: "d".into(),
                verb: Verb::Stop,
                wait: Duration::from_secs(5),
            }
        );
        assert!(err(&["--json=yes", "status"]).contains("--json"));
        assert!(err(&["--help=me"]).contains("--help"));
        assert_eq!(
            ok(&["-w", "1.5s", "d", "stop"]),
            Command::Verb {
                dir: "d".into(),
                verb: Verb::Stop,
                wait: Duration::from_millis(1500),
            }
        );
    }

    /// Words that make the parser work: options, verbs, odd bytes.
    fn word() -> impl Strategy<Value = OsString> {
        let known = prop::sample::select(vec![
            "-d", "-w", "-dx", "-wup", "-h", "--", "-", "--root", "--root=", "--json", "--help",
            "stop", "status", "reload", "alarm", "on", "start", "5", "up", "/srv", "a",
        ])
        .prop_map(OsString::from);
        let any = prop::collection::vec(any::<u8>(), 0..5).prop_map(OsString::from_vec);
        prop_oneof![known, any]
    }

    proptest! {
        #[test]
        fn no_argv_panics(args in prop::collection::vec(word(), 0..6), probe: bool) {
            let options = parse(args.clone());
            if let Ok(options) = options {
                let _ = options.command(&|_: &Path| probe);
            }
        }
    }

    #[test]
    fn reload_waits_within_w() {
        assert_eq!(
            ok(&["-w", "5", "reload", "srv"]),
            Command::Reload {
                root: Some("srv".into()),
                wait: Duration::from_secs(5),
            }
        );
    }

    #[test]
    fn waiting_for_ready() {
        assert_eq!(
            ok(&["-w", "ready", "-w", "2", "a", "b"]),
            Command::Send {
                bytes: vec![],
                until: Some(Target::Ready),
                dirs: dirs(&["a", "b"]),
                wait: Duration::from_secs(2),
            }
        );
        for (word, until) in [
            ("up", Target::Up),
            ("down", Target::Down),
            ("ready", Target::Ready),
        ] {
            assert_eq!(
                ok(&["-d", "/srv", "wait", word, "web", "status/db", "-w", "3"]),
                Command::Wait {
                    until,
                    operands: operands(&["web", "status/db"]),
                    root: Some("/srv".into()),
                    wait: Duration::from_secs(3),
                }
            );
        }
        // A status directory named wait: the original form.
        assert!(matches!(
            ok_with(&["wait", "start"], &["wait"]),
            Command::Verb {
                verb: Verb::Start,
                ..
            }
        ));
    }

    #[test]
    fn history_and_its_count() {
        let history = |count, json| Command::History {
            operand: Operand::Name("web".into()),
            json,
            count,
            root: None,
        };
        assert_eq!(ok(&["history", "web"]), history(None, false));
        assert_eq!(ok(&["history", "web", "-n", "5"]), history(Some(5), false));
        assert_eq!(ok(&["history", "-n", "5", "web"]), history(Some(5), false));
        assert_eq!(
            ok(&["history", "--json", "web", "-n", "0"]),
            history(Some(0), true)
        );
        assert_eq!(
            ok(&["-d", "/srv", "history", "web", "-n", "2"]),
            Command::History {
                operand: Operand::Name("web".into()),
                json: false,
                count: Some(2),
                root: Some("/srv".into()),
            }
        );
        assert_eq!(
            ok(&["history", "./web"]),
            Command::History {
                operand: Operand::Path("./web".into()),
                json: false,
                count: None,
                root: None,
            }
        );
        // -n anywhere else is daemontools' alarms on.
        assert_eq!(
            ok(&["-n", "history", "web"]),
            Command::Send {
                bytes: b"n".to_vec(),
                until: None,
                dirs: dirs(&["history", "web"]),
                wait: DEFAULT_WAIT,
            }
        );
        // As is -n after a status directory named history.
        assert_eq!(
            ok_with(&["history", "-n"], &["history"]),
            Command::Send {
                bytes: b"n".to_vec(),
                until: None,
                dirs: dirs(&["history"]),
                wait: DEFAULT_WAIT,
            }
        );
    }

    #[test]
    fn metrics_of_names_dirs_and_roots() {
        assert_eq!(
            ok(&["metrics"]),
            Command::Metrics {
                operands: vec![],
                root: None
            }
        );
        assert_eq!(
            ok(&["--root", "/srv", "metrics", "web", "/x/status/db"]),
            Command::Metrics {
                operands: operands(&["web", "/x/status/db"]),
                root: Some("/srv".into())
            }
        );
    }
}
