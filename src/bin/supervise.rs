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
        Ok(Request::Check(_options)) => {
            let _ = writeln!(std::io::stderr(), "supervise: --check is not available yet");
            EXIT_USAGE
        }
        Ok(Request::Run(options)) => supervise::driver::start(options),
    }
}
