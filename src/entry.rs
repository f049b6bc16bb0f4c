//! The one executable (issue 14): supervise, svc and supervise-scan are one
//! program, installed as one file and two links to it, told apart by the
//! name they are run by (the last component of argv[0]); `supervise svc
//! ARGS` and `supervise scan ARGS` work too. A host keeps one file in its
//! page cache, and the scanner starts its supervise from its own executable
//! (`/proc/self/exe`, argv[0] `supervise`), so that they all share its text
//! pages. Here only the choice, and each program's front end: usage errors
//! and their exit codes, `--help`, `--version`, `--check`; the rest is the
//! library's.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cli::{self, Request, UsageError};
use crate::scan::{self, ScanOptions};

/// Exit code for usage errors, as the original.
const EXIT_USAGE: i32 = 100;

/// The path that names the running executable, for the scanner's children.
const SELF_EXE: &str = "/proc/self/exe";

/// One of the three programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `supervise`: one service.
    Supervise,
    /// `svc`: control and inspect services.
    Svc,
    /// `supervise-scan`: one supervise per section of a config file.
    Scan,
}

impl Program {
    /// The name it is installed under, and sets as its process name.
    pub fn name(self) -> &'static str {
        match self {
            Program::Supervise => "supervise",
            Program::Svc => "svc",
            Program::Scan => "supervise-scan",
        }
    }
}

/// Which program argv names, and how many words of argv come before its
/// arguments: `svc` and `supervise-scan` by their name; any other name is
/// supervise (the drop-in, under whatever name it was installed), unless
/// its first argument is `svc` or `scan` (supervise takes no operand, so
/// these were usage errors before).
pub fn choose(argv: &[OsString]) -> (Program, usize) {
    let name = argv.first().map_or(&[][..], |a| {
        let bytes = a.as_bytes();
        bytes.rsplit(|&b| b == b'/').next().unwrap_or(bytes)
    });
    match name {
        b"svc" => (Program::Svc, 1),
        b"supervise-scan" => (Program::Scan, 1),
        _ => match argv.get(1).map(|a| a.as_bytes()) {
            Some(b"svc") => (Program::Svc, 2),
            Some(b"scan") => (Program::Scan, 2),
            _ => (Program::Supervise, 1),
        },
    }
}

/// The C `main` of the three binaries (`#![no_main]`: Rust's runtime start
/// is [`crate::sys::start::init`]); exits with the program's code.
pub fn c_main() -> ! {
    crate::sys::start::init();
    std::process::exit(main())
}

/// Runs the program argv names; returns its exit code.
pub fn main() -> i32 {
    // First, while there is no other thread: no supervise or service of
    // the scanner inherits the socket of its own supervisor.
    let notify_socket = crate::sys::notify::take_from_environment();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let (program, skip) = choose(&argv);
    // Run through /proc/self/exe (by the scanner) the kernel names the
    // process `exe`: `ps -C supervise` and `pgrep supervise` must find it.
    crate::sys::process::set_name(program.name());
    let args = argv.into_iter().skip(skip);
    match program {
        Program::Supervise => supervise_main(args.collect()),
        Program::Svc => svc_main(args),
        Program::Scan => scan_main(args, notify_socket),
    }
}

/// supervise: parse, report usage errors (exit 100), hand over to the
/// driver. Nothing printed here may panic on a closed pipe. Each program
/// has a frame of its own (not inlined into [`main`]): supervise's stack,
/// which stays private memory for good, holds none of the others' locals.
#[inline(never)]
fn supervise_main(args: Vec<OsString>) -> i32 {
    crate::sys::memory::forget_lean_env();
    crate::sys::memory::lean_heap();
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
        Ok(Request::Run(options)) => crate::driver::start(options),
    }
}

/// `--check`: the resolved settings for NAME and every warning; 0 when clean,
/// 1 with warnings (or when the file cannot be read). Starts nothing.
fn check(options: &cli::Options) -> i32 {
    let path = &options.conf;
    let resolved = match crate::driver::read_conf(path, &options.name) {
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
    let warnings = resolved.warnings_text(path);
    for line in &warnings {
        let _ = writeln!(out, "warning: {line}");
    }
    i32::from(!warnings.is_empty())
}

/// svc, in a frame of its own (see [`supervise_main`]).
#[inline(never)]
fn svc_main(args: impl Iterator<Item = OsString>) -> i32 {
    crate::svc::main(args)
}

/// supervise-scan: parse (see [`crate::scan::cli`]), then run the scanner
/// or check a config file.
#[inline(never)]
fn scan_main(args: impl Iterator<Item = OsString>, notify_socket: Option<OsString>) -> i32 {
    use crate::scan::cli::{Request, Usage};
    let request = match scan::cli::parse(args) {
        Ok(request) => request,
        Err(Usage(message)) => {
            let _ = writeln!(
                std::io::stderr(),
                "supervise-scan: {message}\n{}",
                scan::cli::USAGE
            );
            return EXIT_USAGE;
        }
    };
    match request {
        Request::Help => {
            let _ = writeln!(
                std::io::stdout(),
                "{}\n\n{}",
                scan::cli::USAGE,
                scan::cli::HELP
            );
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
            let (supervise, supervise_arg0) = match args.supervise {
                Some(program) => (program, None),
                None => own_supervise(),
            };
            scan::run(ScanOptions {
                conf: absolute(args.conf),
                root: absolute(args.root),
                supervise,
                supervise_arg0,
                forward_output: args.forward_output,
                notify: args.notify,
                notify_socket,
                metrics_file: args.metrics_file.map(absolute),
            })
        }
    }
}

/// The supervise the scanner runs unless told (`--supervise`): this very
/// executable, as `supervise`; without /proc, `supervise` beside it or on
/// PATH.
fn own_supervise() -> (PathBuf, Option<OsString>) {
    if Path::new(SELF_EXE).exists() {
        return (PathBuf::from(SELF_EXE), Some("supervise".into()));
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("supervise")))
        .filter(|p| p.exists());
    (beside.unwrap_or_else(|| PathBuf::from("supervise")), None)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(argv: &[&str]) -> (Program, usize) {
        let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
        choose(&argv)
    }

    #[test]
    fn the_program_is_the_one_argv_names() {
        let table: &[(&[&str], (Program, usize))] = &[
            (&["supervise", "-p", "d"], (Program::Supervise, 1)),
            (
                &["/usr/bin/supervise", "-u", "d", "x"],
                (Program::Supervise, 1),
            ),
            (&["svc", "-u", "d"], (Program::Svc, 1)),
            (&["/usr/local/bin/svc", "status"], (Program::Svc, 1)),
            (&["supervise-scan", "-F", "c"], (Program::Scan, 1)),
            (&["./supervise-scan"], (Program::Scan, 1)),
            (&["supervise", "svc", "-u", "d"], (Program::Svc, 2)),
            (&["supervise", "scan", "-F", "c"], (Program::Scan, 2)),
            // The scanner's own children: /proc/self/exe run as supervise.
            (
                &["supervise", "--foreground", "-F", "f"],
                (Program::Supervise, 1),
            ),
            // Another name is supervise, under whatever name it was put.
            (&["daemon-supervise", "-p", "d"], (Program::Supervise, 1)),
            (&["supervise-1.2", "scan"], (Program::Scan, 2)),
            // svc's arguments are svc's, whatever they are.
            (&["svc", "scan"], (Program::Svc, 1)),
            (&["supervise-scan", "svc"], (Program::Scan, 1)),
            (&[], (Program::Supervise, 1)),
        ];
        for (argv, want) in table {
            assert_eq!(chosen(argv), *want, "{argv:?}");
        }
    }
}
