//! `supervise-scan`: parse the command line (see [`supervise::scan::cli`])
//! and run the scanner, or check a config file.

use std::io::Write;
use std::path::PathBuf;

use supervise::scan::cli::{self, Request, Usage};
use supervise::scan::{self, ScanOptions};

fn main() {
    std::process::exit(real_main());
}

fn real_main() -> i32 {
    // First, while there is no other thread: no supervise or service
    // inherits the socket of our own supervisor.
    let notify_socket = supervise::sys::notify::take_from_environment();
    let request = match cli::parse(std::env::args_os().skip(1)) {
        Ok(request) => request,
        Err(Usage(message)) => {
            let _ = writeln!(
                std::io::stderr(),
                "supervise-scan: {message}\n{}",
                cli::USAGE
            );
            return 100;
        }
    };
    match request {
        Request::Help => {
            let _ = writeln!(std::io::stdout(), "{}\n\n{}", cli::USAGE, cli::HELP);
            0
        }
        Request::Version => {
            let _ = writeln!(
                std::io::stdout(),
                "supervise-scan {}",
                env!("CARGO_PKG_VERSION")
            );
            0
        }
        Request::Check { conf, root } => {
            scan::check::check(&absolute(conf), root.map(absolute).as_deref())
        }
        Request::Run(args) => {
            let supervise = args.supervise.unwrap_or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| Some(exe.parent()?.join("supervise")))
                    .filter(|p| p.exists())
                    .unwrap_or_else(|| PathBuf::from("supervise"))
            });
            scan::run(ScanOptions {
                conf: absolute(args.conf),
                root: absolute(args.root),
                supervise,
                forward_output: args.forward_output,
                notify: args.notify,
                notify_socket,
                metrics_file: args.metrics_file.map(absolute),
            })
        }
    }
}

/// `path` from the working directory, so that it stays right wherever
/// supervise runs.
fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map(|d| d.join(&path))
            .unwrap_or(path)
    }
}
