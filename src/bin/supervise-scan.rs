//! `supervise-scan`: parse the command line and run the scanner.

use std::io::Write;
use std::path::PathBuf;

use supervise::scan::{self, ScanOptions};

const USAGE: &str =
    "usage: supervise-scan -F CONF -d STATUS_ROOT [--forward-output] [--supervise PATH]";

const HELP: &str = "\
Runs one supervise per section of CONF that has a `command` key, each on
STATUS_ROOT/status/NAME, and keeps them running. Always in the foreground.

  -F CONF            supervise.conf (sections may carry command, directory,
                     user, env, environment_file, umask)
  -d STATUS_ROOT     where the status directories live (created if missing)
  -o, --forward-output
                     copy every service's __stdout/__stderr to our stdout/
                     stderr, each line prefixed with `NAME: `
  --supervise PATH   the supervise binary (default: next to this program,
                     else `supervise` on PATH)
  -h, --help         this help
  -v, --version      the version

Signals: SIGHUP re-reads CONF (new sections start, removed ones stop,
changed ones get `r` or a restart); SIGTERM/SIGINT stop every service in
parallel and exit once all are down. As PID 1 it reaps every orphan.

Exit codes: 0 every service stopped in time; 1 some supervise had to be
killed at shutdown; 100 usage error; 111 set-up failure (CONF unreadable,
STATUS_ROOT unusable, another supervise-scan on the same root).";

fn main() {
    std::process::exit(real_main());
}

fn usage_error(message: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "supervise-scan: {message}\n{USAGE}");
    100
}

fn real_main() -> i32 {
    let mut args = std::env::args_os().skip(1);
    let (mut conf, mut root, mut supervise, mut forward) = (None, None, None, false);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let (flag, attached) = match arg.as_str() {
            a if a.starts_with("--") => (a.to_owned(), None),
            a if a.len() > 2 && a.starts_with('-') => (a[..2].to_owned(), Some(a[2..].to_owned())),
            a => (a.to_owned(), None),
        };
        let mut value = |name: &str| {
            attached
                .clone()
                .map(PathBuf::from)
                .or_else(|| args.next().map(PathBuf::from))
                .ok_or_else(|| format!("option {name} requires an argument"))
        };
        let result = match flag.as_str() {
            "-F" => value("-F").map(|v| conf = Some(v)),
            "-d" => value("-d").map(|v| root = Some(v)),
            "--supervise" => value("--supervise").map(|v| supervise = Some(v)),
            "-o" | "--forward-output" => {
                forward = true;
                Ok(())
            }
            "-h" | "--help" => {
                let _ = writeln!(std::io::stdout(), "{USAGE}\n\n{HELP}");
                return 0;
            }
            "-v" | "--version" => {
                let _ = writeln!(
                    std::io::stdout(),
                    "supervise-scan {}",
                    env!("CARGO_PKG_VERSION")
                );
                return 0;
            }
            other => Err(format!("unexpected argument '{other}'")),
        };
        if let Err(message) = result {
            return usage_error(&message);
        }
    }
    let (Some(conf), Some(root)) = (conf, root) else {
        return usage_error("both -F CONF and -d STATUS_ROOT are required");
    };
    let absolute = |p: PathBuf| {
        if p.is_absolute() {
            p
        } else {
            std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
        }
    };
    let supervise = supervise.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("supervise")))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("supervise"))
    });
    scan::run(ScanOptions {
        conf: absolute(conf),
        root: absolute(root),
        supervise,
        forward_output: forward,
    })
}
