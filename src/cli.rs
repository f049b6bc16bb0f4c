//! Command-line parsing for `supervise` (SPEC §1), getopt-style: `-pDIR` and
//! `-p DIR`, grouped flags, `--` ends options, and `-u DIR` ends them too
//! (every later word is the child's argv). Pure: the caller passes argv and
//! the environment switches in, and maps errors to exit code 100.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::time::Duration;

use crate::status::Want;

/// The one-line synopsis printed with usage errors and `-h`.
pub const USAGE: &str = "\
usage: supervise -p STATUS_DIR -f \"COMMAND ARG...\" [-F CONF] [-r RESTART_SH] [-t SECONDS] [OPTIONS]
       supervise [-F CONF] [-r RESTART_SH] [-t SECONDS] [OPTIONS] -u STATUS_DIR COMMAND [ARG...]
       supervise --check [-F CONF] [--user USER[:GROUP] [--groups G,G]] -p STATUS_DIR
       supervise -h | --help | -v | --version";

/// The full help text for `-h`.
pub const HELP: &str = "\
supervise runs COMMAND, restarts it when it exits, and keeps its state in
STATUS_DIR (which must contain status/NAME; NAME selects the [NAME] section
of the config file and appears in alarms).

  -p STATUS_DIR     status directory (created, mode 0700, with its parents)
  -f \"CMD ARGS\"     the command, split on blanks (no quoting)
  -u STATUS_DIR     the status directory; every later word is the command
  -F CONF           config file (default: supervise.conf)
  -r RESTART_SH     run RESTART_SH COUNT before every restart (no config,
                    no alarms, no restart limits)
  -t SECONDS        with -r: the count restarts at 1 after SECONDS quiet
  --check           print the resolved settings for NAME and every config
                    warning; exit 0 when clean, 1 with warnings
  --foreground      do not detach (also: SUPERVISE_FOREGROUND=1)
  --user USER[:GROUP]  run the service (not supervise) as USER, a name or
                    a uid, with GROUP (name or gid) as its group instead of
                    USER's; its supplementary groups are those /etc/group
                    lists it in
  --groups G,G...   more supplementary groups (names or gids), with --user
  --down            start with the service down (until u or o)
  --once            run the service once at start (as o), not again
  -h, --help        this help
  -v, --version     the version

Exit codes: 0 done (x, SIGTERM), 2 gave up restarting (max_tries),
100 usage error, 111 the status directory cannot be set up (locked by
another supervise, not writable, bad FIFO, a symlink in a log's place) or
the open-file limit is below 32. A config file that cannot be read is a
warning: supervise runs with no alarms and no limits.";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// Supervise a service.
    Run(Options),
    /// `--check`: print resolved settings and warnings.
    Check(Options),
    /// `-h`.
    Help,
    /// `-v`.
    Version,
}

/// Checked options for one service.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    /// The status directory, trailing `/` and blanks trimmed.
    pub dir: PathBuf,
    /// The service name: what follows `status/` in `dir`.
    pub name: String,
    /// The child's argv (may be empty for `--check`).
    pub argv: Vec<OsString>,
    /// The config file.
    pub conf: PathBuf,
    /// Whether `-F` was given.
    pub conf_given: bool,
    /// `-r`.
    pub restart_hook: Option<PathBuf>,
    /// `-t`.
    pub reset_after: Option<Duration>,
    /// Stay in the foreground.
    pub foreground: bool,
    /// `--user USER[:GROUP]`: the service runs as this user, as written.
    pub user: Option<String>,
    /// `--groups`: more supplementary groups, as written.
    pub groups: Vec<String>,
    /// What is wanted at start: up, down (`--down`) or once (`--once`).
    pub start: Want,
}

/// A usage error: the message names the problem.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// The flags exactly as given, before they are checked.
#[derive(Default)]
struct Raw {
    p: Option<OsString>,
    f: Option<OsString>,
    u: Option<(OsString, Vec<OsString>)>,
    conf: Option<OsString>,
    r: Option<OsString>,
    t: Option<OsString>,
    help: bool,
    version: bool,
    check: bool,
    foreground: bool,
    user: Option<OsString>,
    groups: Option<OsString>,
    down: bool,
    once: bool,
}

/// Parses `args` (without the program name). `foreground_env` is whether
/// SUPERVISE_FOREGROUND asks for the foreground.
pub fn parse(args: &[OsString], foreground_env: bool) -> Result<Request, UsageError> {
    let raw = parse_raw(args)?;
    if raw.help {
        return Ok(Request::Help);
    }
    if raw.version {
        return Ok(Request::Version);
    }
    check(raw, foreground_env)
}

/// The first stage, on `lexopt` like svc's and supervise-scan's parsers:
/// getopt's rules (`-p DIR`, `-pDIR`, `-p=DIR` is the value `=DIR`,
/// grouped flags, `--`), and `-u DIR` takes every later word as the command.
fn parse_raw(args: &[OsString]) -> Result<Raw, UsageError> {
    use lexopt::Arg::{Long, Short, Value};
    let mut parser = lexopt::Parser::from_args(args.iter().cloned());
    parser.set_short_equals(false);
    let mut raw = Raw::default();
    // lexopt refuses nothing of ours: every error is phrased here.
    while let Some(arg) = parser.next().map_err(|e| err(e.to_string()))? {
        match arg {
            Short(letter @ ('p' | 'f' | 'F' | 'r' | 't' | 'u')) => {
                let value = value_of(&mut parser, &format!("-{letter}"))?;
                let slot = match letter {
                    'p' => &mut raw.p,
                    'f' => &mut raw.f,
                    'F' => &mut raw.conf,
                    'r' => &mut raw.r,
                    't' => &mut raw.t,
                    _ => {
                        let rest = parser.raw_args().map_err(|e| err(e.to_string()))?;
                        raw.u = Some((value, rest.collect()));
                        return Ok(raw);
                    }
                };
                *slot = Some(value);
            }
            Short('h') => raw.help = true,
            Short('v') => raw.version = true,
            Short(other) => return Err(err(format!("unknown option -{other}"))),
            Long(name) => {
                let name = name.to_owned();
                let flag = match name.as_str() {
                    "user" => {
                        raw.user = Some(value_of(&mut parser, "--user")?);
                        continue;
                    }
                    "groups" => {
                        raw.groups = Some(value_of(&mut parser, "--groups")?);
                        continue;
                    }
                    "help" => &mut raw.help,
                    "version" => &mut raw.version,
                    "check" => &mut raw.check,
                    "foreground" => &mut raw.foreground,
                    "down" => &mut raw.down,
                    "once" => &mut raw.once,
                    _ => {
                        return Err(err(format!(
                            "unknown option --{name}{}",
                            attached(&mut parser)
                        )));
                    }
                };
                // A flag takes no value: `--down=x` is an option of its own.
                let value = attached(&mut parser);
                if !value.is_empty() {
                    return Err(err(format!("unknown option --{name}{value}")));
                }
                *flag = true;
            }
            Value(word) => {
                return Err(err(format!(
                    "unexpected argument '{}'",
                    word.to_string_lossy()
                )));
            }
        }
    }
    Ok(raw)
}

/// The value of the option just read, attached or the next word.
fn value_of(parser: &mut lexopt::Parser, option: &str) -> Result<OsString, UsageError> {
    parser
        .value()
        .map_err(|_| err(format!("option {option} requires an argument")))
}

/// `=VALUE` when a value was attached to the long option just read, for
/// messages that quote the option as given; empty otherwise.
fn attached(parser: &mut lexopt::Parser) -> String {
    parser
        .optional_value()
        .map_or_else(String::new, |v| format!("={}", v.to_string_lossy()))
}

fn check(raw: Raw, foreground_env: bool) -> Result<Request, UsageError> {
    let (dir, argv) = match (raw.p, raw.f, raw.u) {
        (Some(_), _, Some(_)) => {
            return Err(err("give either -p DIR -f CMD or -u DIR CMD, not both"));
        }
        (None, Some(_), Some(_)) => {
            return Err(err(
                "-f cannot be combined with -u (the command follows -u DIR)",
            ));
        }
        (_, _, Some((dir, argv))) => {
            if argv.is_empty() && !raw.check {
                return Err(err("-u STATUS_DIR must be followed by the command"));
            }
            (dir, argv)
        }
        (Some(dir), Some(command), None) => {
            let argv = crate::words::split_blanks(command.as_bytes());
            if argv.is_empty() {
                return Err(err("-f needs a non-empty command"));
            }
            (dir, argv)
        }
        (Some(dir), None, None) if raw.check => (dir, Vec::new()),
        (Some(_), None, None) => return Err(err("missing -f COMMAND")),
        (None, _, None) => {
            return Err(err(
                "missing the status directory (-p STATUS_DIR or -u STATUS_DIR)",
            ));
        }
    };
    let dir = trim_dir(dir.as_bytes());
    let name = service_name(&dir).ok_or_else(|| {
        err(format!(
            "the status directory '{}' must contain status/NAME",
            lossy(&dir)
        ))
    })?;
    let reset_after = match raw.t {
        None => None,
        Some(t) => Some(
            std::str::from_utf8(t.as_bytes())
                .ok()
                .and_then(|t| crate::duration::parse_seconds(t.trim()))
                .ok_or_else(|| {
                    err(format!(
                        "-t needs a number of seconds, not '{}'",
                        lossy(t.as_bytes())
                    ))
                })?,
        ),
    };
    let text = |flag: &str, value: OsString| {
        value
            .into_string()
            .map_err(|v| err(format!("--{flag} '{}' is not UTF-8", v.to_string_lossy())))
    };
    let user = raw.user.map(|u| text("user", u)).transpose()?;
    if user.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(err("--user needs a user (NAME, UID or USER:GROUP)"));
    }
    let groups: Vec<String> = match raw.groups {
        None => Vec::new(),
        Some(_) if user.is_none() => return Err(err("--groups needs --user")),
        Some(g) => text("groups", g)?
            .split(',')
            .map(|g| g.trim().to_owned())
            .collect(),
    };
    if groups.iter().any(String::is_empty) {
        return Err(err("--groups needs names or gids separated by commas"));
    }
    let start = match (raw.down, raw.once) {
        (true, true) => return Err(err("give --down or --once, not both")),
        (true, false) => Want::Down,
        (false, true) => Want::Once,
        (false, false) => Want::Up,
    };
    let options = Options {
        dir: PathBuf::from(OsString::from_vec(dir)),
        name,
        argv,
        conf_given: raw.conf.is_some(),
        conf: raw
            .conf
            .map_or_else(|| PathBuf::from("supervise.conf"), PathBuf::from),
        restart_hook: raw.r.map(PathBuf::from),
        reset_after,
        foreground: raw.foreground || foreground_env,
        user,
        groups,
        start,
    };
    Ok(if raw.check {
        Request::Check(options)
    } else {
        Request::Run(options)
    })
}

/// `dir` without trailing slashes and blanks (a lone `/` stays).
pub fn trim_dir(dir: &[u8]) -> Vec<u8> {
    let mut end = dir.len();
    while end > 1 && matches!(dir[end - 1], b'/' | b' ' | b'\t') {
        end -= 1;
    }
    dir[..end].to_vec()
}

/// Everything after the first `status/`, when not empty: the service NAME
/// of a (trimmed) status directory path; `svc` derives names the same way.
pub fn service_name(dir: &[u8]) -> Option<String> {
    let at = dir.windows(7).position(|w| w == b"status/")?;
    let name = &dir[at + 7..];
    (!name.is_empty()).then(|| lossy(name))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn err(message: impl Into<String>) -> UsageError {
    UsageError(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn run(words: &[&str]) -> Options {
        match parse(&args(words), false) {
            Ok(Request::Run(options)) => options,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    fn usage_error(words: &[&str]) -> String {
        match parse(&args(words), false) {
            Err(UsageError(message)) => message,
            other => panic!("{words:?} should be a usage error, gave {other:?}"),
        }
    }

    #[test]
    fn p_and_f_split_on_blanks() {
        let o = run(&[
            "-p",
            "/home/work/status/redis",
            "-f",
            " redis-server \t/etc/r.conf  ",
        ]);
        assert_eq!(o.dir, PathBuf::from("/home/work/status/redis"));
        assert_eq!(o.name, "redis");
        assert_eq!(o.argv, args(&["redis-server", "/etc/r.conf"]));
        assert_eq!(o.conf, PathBuf::from("supervise.conf"));
        assert!(!o.conf_given && !o.foreground);
    }

    #[test]
    fn u_ends_option_parsing() {
        let o = run(&[
            "-F", "x.conf", "-u", "status/x", "ls", "-l", "-p", "--", "-h",
        ]);
        assert_eq!(o.argv, args(&["ls", "-l", "-p", "--", "-h"]));
        assert_eq!(o.conf, PathBuf::from("x.conf"));
        assert!(o.conf_given);
    }

    #[test]
    fn getopt_attached_values_and_grouped_flags() {
        let o = run(&["-pstatus/a", "-fsleep 1", "-r./hook.sh", "-t30"]);
        assert_eq!(o.name, "a");
        assert_eq!(o.restart_hook, Some(PathBuf::from("./hook.sh")));
        assert_eq!(o.reset_after, Some(Duration::from_secs(30)));
        let o = run(&["-Fc.conf", "-ustatus/b", "true"]);
        assert_eq!((o.name.as_str(), o.argv.len()), ("b", 1));
        assert_eq!(parse(&args(&["-vh"]), false), Ok(Request::Help));
        assert_eq!(parse(&args(&["-v"]), false), Ok(Request::Version));
        assert_eq!(parse(&args(&["--version"]), false), Ok(Request::Version));
        assert_eq!(parse(&args(&["--help"]), false), Ok(Request::Help));
    }

    #[test]
    fn name_is_what_follows_status_and_trailing_junk_is_trimmed() {
        let o = run(&["-p", "./status/some-app/ \t/", "-f", "true"]);
        assert_eq!(o.dir, PathBuf::from("./status/some-app"));
        assert_eq!(o.name, "some-app");
        assert_eq!(run(&["-p", "/srv/mystatus/x", "-f", "true"]).name, "x");
    }

    #[test]
    fn foreground_by_flag_or_environment() {
        let o = match parse(&args(&["--foreground", "-u", "status/a", "true"]), false) {
            Ok(Request::Run(o)) => o,
            other => panic!("{other:?}"),
        };
        assert!(o.foreground);
        match parse(&args(&["-u", "status/a", "true"]), true) {
            Ok(Request::Run(o)) => assert!(o.foreground),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn check_needs_no_command() {
        match parse(&args(&["--check", "-F", "c", "-p", "status/a"]), false) {
            Ok(Request::Check(o)) => assert!(o.argv.is_empty() && o.name == "a"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn user_groups_down_and_once() {
        // (flags, --user, --groups, start)
        type Row<'a> = (&'a [&'a str], Option<&'a str>, &'a [&'a str], Want);
        let table: &[Row] = &[
            (&[], None, &[], Want::Up),
            (&["--user", "www"], Some("www"), &[], Want::Up),
            (&["--user=33:log"], Some("33:log"), &[], Want::Up),
            (
                &["--user", "www", "--groups", "adm, 5"],
                Some("www"),
                &["adm", "5"],
                Want::Up,
            ),
            (&["--groups=a", "--user", "b"], Some("b"), &["a"], Want::Up),
            (&["--down"], None, &[], Want::Down),
            (&["--once", "--foreground"], None, &[], Want::Once),
        ];
        for (flags, user, groups, start) in table {
            let mut words = flags.to_vec();
            words.extend(["-p", "status/a", "-f", "true"]);
            let o = run(&words);
            assert_eq!(o.user.as_deref(), *user, "{flags:?}");
            assert_eq!(
                o.groups,
                args(groups)
                    .iter()
                    .map(|g| g.to_string_lossy().into_owned())
                    .collect::<Vec<_>>(),
                "{flags:?}"
            );
            assert_eq!(o.start, *start, "{flags:?}");
        }
        // Before -u, which ends the options.
        let o = run(&["--down", "-u", "status/a", "x", "--once"]);
        assert_eq!((o.start, o.argv.len()), (Want::Down, 2));
    }

    /// A word of bytes, not necessarily UTF-8.
    fn word(bytes: &[u8]) -> OsString {
        OsString::from_vec(bytes.to_vec())
    }

    #[test]
    fn words_that_are_not_utf8() {
        // (argv, Ok((dir, name, argv)) or Err(part of the message))
        type Row = (
            Vec<OsString>,
            Result<(&'static [u8], &'static str, Vec<OsString>), &'static str>,
        );
        let table: Vec<Row> = vec![
            (
                vec![
                    word(b"-p"),
                    word(b"status/\xff"),
                    word(b"-f"),
                    word(b"run \xfe"),
                ],
                Ok((
                    b"status/\xff",
                    "\u{fffd}",
                    vec![word(b"run"), word(b"\xfe")],
                )),
            ),
            (
                vec![word(b"-ustatus/a"), word(b"\xff"), word(b"-\xfe")],
                Ok((b"status/a", "a", vec![word(b"\xff"), word(b"-\xfe")])),
            ),
            (vec![word(b"-\xff")], Err("unknown option -\u{fffd}")),
            (vec![word(b"--\xffx")], Err("unknown option --\u{fffd}x")),
            (
                vec![
                    word(b"-p"),
                    word(b"status/a"),
                    word(b"-f"),
                    word(b"true"),
                    word(b"\xff"),
                ],
                Err("unexpected argument '\u{fffd}'"),
            ),
            (
                vec![
                    word(b"--user=\xff"),
                    word(b"-p"),
                    word(b"status/a"),
                    word(b"-f"),
                    word(b"x"),
                ],
                Err("--user '\u{fffd}' is not UTF-8"),
            ),
        ];
        for (argv, expected) in table {
            let got = parse(&argv, false);
            match (&got, &expected) {
                (Ok(Request::Run(o)), Ok((dir, name, command))) => {
                    assert_eq!(o.dir.as_os_str().as_bytes(), *dir, "{argv:?}");
                    assert_eq!((o.name.as_str(), &o.argv), (*name, command), "{argv:?}");
                }
                (Err(UsageError(message)), Err(part)) => {
                    assert!(
                        message.contains(part),
                        "{argv:?}: '{message}' lacks '{part}'"
                    );
                }
                _ => panic!("{argv:?} gave {got:?}, not {expected:?}"),
            }
        }
    }

    #[test]
    fn getopt_corners() {
        // `-p=DIR` is the value `=DIR`, as getopt has it.
        let o = run(&["-p=status/a", "-f", "true"]);
        assert_eq!(o.dir, PathBuf::from("=status/a"));
        // A value may look like an option.
        let o = run(&["-p", "status/a", "-f", "-x", "--user", "--down"]);
        assert_eq!((o.argv, o.user.as_deref()), (args(&["-x"]), Some("--down")));
        // `--` ends the options; what follows is not the command.
        let table: &[(&[&str], &str)] = &[
            (
                &["-p", "status/a", "-f", "x", "--", "y"],
                "unexpected argument 'y'",
            ),
            (&["--help=x"], "unknown option --help=x"),
            (
                &["--down=", "-p", "status/a", "-f", "x"],
                "unknown option --down=",
            ),
            (&["--nope=1"], "unknown option --nope=1"),
            (&["-h", "-z"], "unknown option -z"),
            (
                &["-p", "status/a", "-f", "x", "-"],
                "unexpected argument '-'",
            ),
            (&["--user"], "option --user requires an argument"),
            (&["-p", "status/a", "-f"], "option -f requires an argument"),
        ];
        for (words, expected) in table {
            let message = usage_error(words);
            assert!(
                message.contains(expected),
                "{words:?}: '{message}' lacks '{expected}'"
            );
        }
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let table: &[(&[&str], &str)] = &[
            (&[], "missing the status directory"),
            (&["-p", "status/a"], "missing -f COMMAND"),
            (&["-f", "true"], "missing the status directory"),
            (&["-p", "status/a", "-f", "  "], "non-empty command"),
            (&["-p", "/tmp/a", "-f", "true"], "must contain status/NAME"),
            (
                &["-p", "/tmp/status/", "-f", "true"],
                "must contain status/NAME",
            ),
            (&["-p", "status/a", "-f", "true", "-z"], "unknown option -z"),
            (&["--frobnicate"], "unknown option --frobnicate"),
            (&["-p"], "option -p requires an argument"),
            (&["-u", "status/a"], "must be followed by the command"),
            (&["-p", "status/a", "-u", "status/b", "true"], "not both"),
            (
                &["-p", "status/a", "-f", "true", "stray"],
                "unexpected argument 'stray'",
            ),
            (
                &["-p", "status/a", "-f", "true", "-t", "soon"],
                "-t needs a number",
            ),
            (
                &["-p", "status/a", "-f", "true", "--user"],
                "--user requires",
            ),
            (
                &["-p", "status/a", "-f", "true", "--user="],
                "--user needs a user",
            ),
            (
                &["-p", "status/a", "-f", "true", "--groups", "a"],
                "--groups needs --user",
            ),
            (
                &[
                    "--user", "a", "--groups", "a,,b", "-p", "status/a", "-f", "true",
                ],
                "separated by commas",
            ),
            (
                &["--down", "--once", "-p", "status/a", "-f", "true"],
                "not both",
            ),
        ];
        for (words, expected) in table {
            let message = usage_error(words);
            assert!(
                message.contains(expected),
                "{words:?}: '{message}' lacks '{expected}'"
            );
        }
    }
}
