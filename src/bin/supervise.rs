//! `supervise`: parse the command line, report usage errors (exit 100), and
//! hand over to the library. Nothing printed here may panic on a closed pipe.

use std::ffi::OsString;
use std::io::Write;

use supervise::cli::{self, Request, UsageError};

/// Exit code for usage errors, as the original.
const EXIT_USAGE: i32 = 100;

fn main() {
    std::process::exit(real_main());
}

fn real_main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let foreground_env =
        std::env::var_os("SUPERVISE_FOREGROUND").is_some_and(|v| !v.is_empty() && v != "0");
    match cli::parse(&args, foreground_env) {
        Err(UsageError(message)) => {
            let _ = writeln!(std::io::stderr(), "supervise: {message}\n{}", cli::USAGE);
            EXIT_USAGE
        }
        Ok(Request::Help) => {
            let _ = writeln!(std::io::stdout(), "{}\n\n{}", cli::USAGE, cli::HELP);
            0
        }
        Ok(Request::Version) => {
            let _ = writeln!(std::io::stdout(), "supervise {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Request::Check(options)) => check(&options),
        Ok(Request::Run(options)) => supervise::driver::start(options),
    }
}

/// `--check`: the resolved settings for NAME (and the `--user` it would
/// run the service as) and every warning; 0 when clean, 1 with warnings,
/// an unknown user, or when the file cannot be read. Starts nothing.
fn check(options: &supervise::cli::Options) -> i32 {
    let path = &options.conf;
    let resolved = match supervise::driver::read_conf(path, &options.name) {
        Ok(resolved) => resolved,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "supervise: cannot read config file {}: {e} (supervise would run with no alarms and no restart limits)",
                path.display()
            );
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "# settings for {} from {}",
        options.name,
        path.display()
    );
    for line in resolved.conf.describe() {
        let _ = writeln!(out, "{line}");
    }
    let mut problems = 0;
    if let Some(user) = &options.user {
        match supervise::sys::user::resolve(user, &options.groups) {
            Ok(who) => {
                let groups: Vec<String> = who.groups.iter().map(u32::to_string).collect();
                let _ = writeln!(
                    out,
                    "user: uid {} gid {} groups {}",
                    who.uid,
                    who.gid,
                    groups.join(",")
                );
            }
            Err(e) => {
                let _ = writeln!(out, "error: user {user}: {e}");
                problems += 1;
            }
        }
    }
    let warnings = resolved.warnings_text(path);
    for line in &warnings {
        let _ = writeln!(out, "warning: {line}");
    }
    i32::from(!warnings.is_empty() || problems > 0)
}
