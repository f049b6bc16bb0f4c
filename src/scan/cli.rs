//! supervise-scan's command line: `parse(argv) -> Result<Request, Usage>`,
//! on `lexopt` like svc's. Pure: no file system, no environment; the
//! binary makes the paths absolute and finds the supervise binary. Every
//! argv, whatever its bytes, gives a request or a usage error, never a
//! panic.

use std::ffi::OsString;
use std::path::PathBuf;

/// The one-line usage, printed after every usage error.
pub const USAGE: &str = "usage: supervise-scan -F CONF -d STATUS_ROOT [--forward-output] [--notify] [--metrics-file PATH] [--supervise PATH]\n       supervise-scan --check -F CONF [-d STATUS_ROOT]";

/// `--help`, after the usage.
pub const HELP: &str = "\
Runs one supervise per section of CONF that has a `command` key, each on
STATUS_ROOT/status/NAME, and keeps them running. Always in the foreground.

  -F CONF            supervise.conf (sections may carry command, directory,
                     user, env, environment_file, umask, after, requires)
  -d, --root STATUS_ROOT
                     where the status directories live (created if missing)
  -o, --forward-output
                     copy every service's __stdout/__stderr to our stdout/
                     stderr, each line prefixed with `NAME: `; never blocks
  --notify           tell when every service is ready: READY=1 to
                     NOTIFY_SOCKET (systemd's Type=notify), STOPPING=1 at
                     shutdown; also done whenever NOTIFY_SOCKET is set
  --metrics-file PATH
                     keep PATH current with every service's metrics in the
                     Prometheus text format (node_exporter's textfile
                     collector: name it *.prom), replaced atomically when a
                     service changes state, never on a timer
  --supervise PATH   the supervise binary (default: this very program, run
                     as `supervise`: they are one executable)
  --check            check CONF as a reload would, touching nothing; with
                     -d, print what a reload of the scanner running there
                     would do (start/stop/restart/reread NAME)
  -h, --help         this help
  -v, --version      the version

Signals: SIGHUP reloads CONF, all or nothing: a file with any error is
refused and every service left as it runs (an empty file needs a line
`# supervise-scan: no services`); new sections start, removed ones stop,
changed ones get `r` or a restart. The outcome of every load is in
STATUS_ROOT/supervise-scan.reload. `after : NAME...` starts a service once
those are ready; `requires : NAME...` also stops it while one is down.
STATUS_ROOT/supervise-scan.control takes `start NAME` and `stop NAME`.
SIGTERM/SIGINT stop every service, what needs another first, and exit once
all are down. As PID 1 it reaps every orphan.
A new scanner on a root whose scanner was killed adopts the supervise it
finds running there.

Exit codes: 0 every service stopped in time, or --check: CONF is valid;
1 some supervise had to be killed at shutdown, or --check: CONF has errors;
100 usage error; 111 set-up failure (STATUS_ROOT unusable, another
supervise-scan on the same root, a first CONF refused with nothing to keep
running).";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Run the scanner.
    Run(Args),
    /// Check CONF (against the scanner on `root`, if given) and exit.
    Check {
        /// The config file.
        conf: PathBuf,
        /// The status root to compare with.
        root: Option<PathBuf>,
    },
    /// `-h`, `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
}

/// The scanner's flags, as given (paths not yet made absolute).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// `-F CONF`.
    pub conf: PathBuf,
    /// `-d STATUS_ROOT`.
    pub root: PathBuf,
    /// `--supervise PATH`.
    pub supervise: Option<PathBuf>,
    /// `-o`, `--forward-output`.
    pub forward_output: bool,
    /// `--notify`.
    pub notify: bool,
    /// `--metrics-file PATH`.
    pub metrics_file: Option<PathBuf>,
}

/// A usage error: what is wrong, in one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage(pub String);

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Request, Usage> {
    use lexopt::Arg::{Long, Short};

    let usage = |e: lexopt::Error| Usage(e.to_string());
    let mut parser = lexopt::Parser::from_args(args);
    let (mut conf, mut root, mut supervise) = (None, None, None);
    let mut metrics_file = None;
    let (mut forward_output, mut check, mut notify) = (false, false, false);
    fn once(slot: &mut Option<PathBuf>, flag: &str, value: OsString) -> Result<(), Usage> {
        if slot.replace(PathBuf::from(value)).is_some() {
            return Err(Usage(format!("{flag} given more than once")));
        }
        Ok(())
    }
    while let Some(arg) = parser.next().map_err(usage)? {
        match arg {
            Short('F') => once(&mut conf, "-F", parser.value().map_err(usage)?)?,
            Short('d') | Long("root") => once(&mut root, "-d", parser.value().map_err(usage)?)?,
            Long("supervise") => once(
                &mut supervise,
                "--supervise",
                parser.value().map_err(usage)?,
            )?,
            Long("metrics-file") => once(
                &mut metrics_file,
                "--metrics-file",
                parser.value().map_err(usage)?,
            )?,
            Short('o') | Long("forward-output") => forward_output = true,
            Long("check") => check = true,
            Long("notify") => notify = true,
            Short('h') | Long("help") => return Ok(Request::Help),
            Short('v') | Long("version") => return Ok(Request::Version),
            other => return Err(usage(other.unexpected())),
        }
    }
    let conf = conf.ok_or_else(|| Usage("-F CONF is required".into()))?;
    if check {
        return Ok(Request::Check { conf, root });
    }
    let root = root.ok_or_else(|| Usage("-d STATUS_ROOT is required".into()))?;
    Ok(Request::Run(Args {
        conf,
        root,
        supervise,
        forward_output,
        notify,
        metrics_file,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::OsStringExt;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn args(conf: &str, root: &str, supervise: Option<&str>, forward_output: bool) -> Args {
        Args {
            conf: conf.into(),
            root: root.into(),
            supervise: supervise.map(PathBuf::from),
            forward_output,
            notify: false,
            metrics_file: None,
        }
    }

    fn run(conf: &str, root: &str, supervise: Option<&str>, forward_output: bool) -> Request {
        Request::Run(args(conf, root, supervise, forward_output))
    }

    #[test]
    fn every_form_of_the_synopsis() {
        let table: Vec<(Vec<&str>, Request)> = vec![
            (
                vec!["-F", "s.conf", "-d", "root"],
                run("s.conf", "root", None, false),
            ),
            (
                vec!["-Fs.conf", "-droot"],
                run("s.conf", "root", None, false),
            ),
            (
                vec!["--root", "r", "-F", "c", "-o", "--supervise", "/bin/sv"],
                run("c", "r", Some("/bin/sv"), true),
            ),
            (
                vec!["-F", "c", "-d", "r", "--forward-output"],
                run("c", "r", None, true),
            ),
            (vec!["--root=r", "-F=c"], run("c", "r", None, false)),
            (
                vec!["-F", "c", "-d", "r", "--notify"],
                Request::Run(Args {
                    notify: true,
                    ..args("c", "r", None, false)
                }),
            ),
            (
                vec!["--check", "-F", "c"],
                Request::Check {
                    conf: "c".into(),
                    root: None,
                },
            ),
            (
                vec!["-F", "c", "-d", "r", "--check", "-o"],
                Request::Check {
                    conf: "c".into(),
                    root: Some("r".into()),
                },
            ),
            (
                vec!["-F", "c", "-d", "r", "--metrics-file", "m.prom"],
                Request::Run(Args {
                    metrics_file: Some("m.prom".into()),
                    ..args("c", "r", None, false)
                }),
            ),
            (vec!["-h"], Request::Help),
            (vec!["-F", "c", "--help", "--bogus"], Request::Help),
            (vec!["--version"], Request::Version),
            (vec!["-v"], Request::Version),
            (vec!["-F", "-d", "-d", "r"], run("-d", "r", None, false)),
            (vec!["-F", "c", "-d", "r", "--"], run("c", "r", None, false)),
        ];
        for (args, expected) in table {
            assert_eq!(parse(words(&args)), Ok(expected), "{args:?}");
        }
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        let cases: &[(&[&str], &str)] = &[
            (&[], "-F CONF is required"),
            (&["-F", "c"], "-d STATUS_ROOT is required"),
            (&["-d", "r"], "-F CONF is required"),
            (&["-F"], "missing argument for option '-F'"),
            (&["-F", "c", "-d"], "missing argument for option '-d'"),
            (
                &["--supervise"],
                "missing argument for option '--supervise'",
            ),
            (
                &["-F", "c", "-d", "r", "--metrics-file"],
                "missing argument for option '--metrics-file'",
            ),
            (&["-x"], "invalid option '-x'"),
            (&["-é"], "invalid option '-é'"),
            (&["--bogus"], "invalid option '--bogus'"),
            (
                &["-F", "a", "-F", "b", "-d", "r"],
                "-F given more than once",
            ),
            (
                &["-F", "a", "-d", "r", "--root", "s"],
                "-d given more than once",
            ),
            (
                &["-F", "a", "-d", "r", "word"],
                "unexpected argument \"word\"",
            ),
            (
                &["-F", "a", "-d", "r", "--", "-o"],
                "unexpected argument \"-o\"",
            ),
            (
                &["-Fa", "-dr", "--check=yes"],
                "unexpected argument for option '--check': \"yes\"",
            ),
            (&["-of"], "invalid option '-f'"),
        ];
        for (args, message) in cases {
            assert_eq!(
                parse(words(args)),
                Err(Usage((*message).into())),
                "{args:?}"
            );
        }
    }

    #[test]
    fn words_that_are_not_utf8() {
        let bytes = |b: &[u8]| OsString::from_vec(b.to_vec());
        // As values they are paths like any other.
        assert_eq!(
            parse(vec![bytes(b"-F"), bytes(b"c\xff"), bytes(b"-d\xfe")]),
            Ok(Request::Run(Args {
                conf: PathBuf::from(bytes(b"c\xff")),
                root: PathBuf::from(bytes(b"\xfe")),
                supervise: None,
                forward_output: false,
                notify: false,
                metrics_file: None,
            }))
        );
        // As flags they are refused.
        for word in [&b"-\xff"[..], b"--\xff", b"\xff", b"-o\xff"] {
            let got = parse(vec![bytes(word)]);
            assert!(
                matches!(&got, Err(Usage(m)) if m.contains("invalid option") || m.contains("unexpected argument")),
                "{word:?}: {got:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn no_argv_panics(
            args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 0..6),
        ) {
            let _ = parse(args.into_iter().map(OsString::from_vec));
        }

        #[test]
        fn no_argv_of_flag_like_words_panics(
            args in prop::collection::vec(
                prop::sample::select(vec![
                    "-F", "-d", "-o", "--root", "--check", "--supervise", "-Fx", "-é",
                    "--", "-", "x", "--forward-output=", "-h", "-oF", "-dé", "--notify",
                ]),
                0..8,
            ),
        ) {
            let _ = parse(args.into_iter().map(OsString::from));
        }
    }
}
