//! `svc` against a real supervise-scan: listing a root (table and JSON
//! array, with the leftover of a removed section), stop/start/restart by
//! NAME, and `svc reload` after the config changed. The scanner runs in the
//! test's temp dir as a child of the test; its guard stops it by pid.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use supervise::status::{self, Status};
use supervise::sys::lock;

use crate::listing::json_field;
use crate::support::*;

/// How long the guard lets the scanner shut down before killing.
const SHUTDOWN: Duration = Duration::from_secs(20);

/// A supervise-scan on `TMP/root` with config `TMP/supervise.conf`.
struct Scan {
    tmp: TempDir,
    root: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
}

impl Scan {
    /// Writes `conf`, starts the scanner, and waits until every section
    /// named in `up` runs.
    fn start(test: &str, conf: &str, up: &[&str]) -> Scan {
        let tmp = TempDir::new(test);
        let root = tmp.path().join("root");
        let conf_path = tmp.path().join("supervise.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = std::fs::File::create(tmp.path().join("scan.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_supervise-scan"))
            .arg("-F")
            .arg(&conf_path)
            .arg("-d")
            .arg(&root)
            .arg("--supervise")
            .arg(env!("CARGO_BIN_EXE_supervise"))
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn supervise-scan");
        let scan = Scan {
            tmp,
            root,
            conf: conf_path,
            child: Some(child),
        };
        for name in up {
            scan.wait_up(name);
        }
        scan
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.join("status").join(name)
    }

    fn status(&self, name: &str) -> Option<Status> {
        status::read(&self.dir(name)).ok()
    }

    /// The service's pid, 0 when down.
    fn service_pid(&self, name: &str) -> u32 {
        self.status(name).expect("readable status").pid
    }

    /// The pid of the service's supervise (the holder of its lock).
    fn supervise_pid(&self, name: &str) -> Option<u32> {
        lock::holder_pid(&self.dir(name).join("lock"))
    }

    /// Waits until the service runs under a live supervise; its pid.
    fn wait_up(&self, name: &str) -> u32 {
        let dir = self.dir(name);
        wait_until(&format!("{name} to be up"), || {
            self.status(name).is_some_and(|s| s.pid != 0) && supervise_alive(&dir)
        });
        self.service_pid(name)
    }

    /// Waits until the service's supervise has exited.
    fn wait_supervise_gone(&self, name: &str) {
        let dir = self.dir(name);
        wait_until(&format!("the supervise of {name} to exit"), || {
            !supervise_alive(&dir) && self.supervise_pid(name).is_none()
        });
    }

    /// `svc ARGS` run in the temp dir, `$SUPERVISE_ROOT` unset.
    fn svc(&self, args: &[&str]) -> Output {
        svc_command()
            .current_dir(self.tmp.path())
            .env_remove("SUPERVISE_ROOT")
            .args(args)
            .output()
            .unwrap()
    }

    fn root_arg(&self) -> &str {
        self.root.to_str().unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("scan.log")).unwrap_or_default()
    }
}

/// Whether a supervise reads the `ok` FIFO of `dir`.
fn supervise_alive(dir: &Path) -> bool {
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("ok"))
        .is_ok()
}

impl Drop for Scan {
    /// SIGTERM, up to [`SHUTDOWN`] for the orderly shutdown, then SIGKILL
    /// for the scanner, every supervise and every service found under the
    /// root. Never by name.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if std::thread::panicking() {
            eprintln!("supervise-scan's log:\n{}", self.log());
        }
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + SHUTDOWN;
        let mut exited = false;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                exited = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !exited {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = child.wait();
            eprintln!("supervise-scan did not stop in time; log:\n{}", self.log());
        }
        let Ok(entries) = std::fs::read_dir(self.root.join("status")) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let supervise = lock::holder_pid(&dir.join("lock"));
            let service = status::read(&dir).map_or(0, |s| s.pid);
            for target in [supervise.unwrap_or(0), service] {
                if target > 1 {
                    let _ = kill(Pid::from_raw(-(target as i32)), Signal::SIGKILL);
                    let _ = kill(Pid::from_raw(target as i32), Signal::SIGKILL);
                }
            }
        }
    }
}

const TWO: &str = "[a]\ncommand : sleep 1000\n[b]\ncommand : sleep 1000\n";

/// The objects of a JSON array printed one per line.
fn array_objects(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"["), "{text}");
    assert_eq!(lines.last(), Some(&"]"), "{text}");
    let objects = &lines[1..lines.len() - 1];
    for (at, line) in objects.iter().enumerate() {
        assert_eq!(line.ends_with(','), at + 1 < objects.len(), "{text}");
    }
    objects
        .iter()
        .map(|l| l.trim().trim_end_matches(',').to_string())
        .collect()
}

#[test]
fn listing_shows_every_service_and_the_leftover_of_a_removed_section() {
    let conf = format!("{TWO}[gone]\ncommand : sleep 1000\n");
    let scan = Scan::start("scanlist", &conf, &["a", "b", "gone"]);
    std::fs::write(&scan.conf, TWO).unwrap();
    kill(Pid::from_raw(scan.pid() as i32), Signal::SIGHUP).unwrap();
    scan.wait_supervise_gone("gone");
    let (a, b) = (scan.service_pid("a"), scan.service_pid("b"));

    let output = scan.svc(&["-d", scan.root_arg(), "status"]);
    assert_exit(&output, 4);
    let text = stdout(&output);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME", "STATE", "PID", "SECONDS", "WANT", "ALARM", "NOTE"],
        "{text}"
    );
    assert_eq!(lines.len(), 4, "{text}");
    let a_pid = a.to_string();
    let b_pid = b.to_string();
    // supervise's info says ready: they declare no readiness and run.
    assert_eq!(lines[1][..3], ["a", "ready", a_pid.as_str()], "{text}");
    assert_eq!(lines[1][4..], ["up", "on"], "{text}");
    assert_eq!(lines[2][..3], ["b", "ready", b_pid.as_str()], "{text}");
    assert_eq!(
        lines[3][..3],
        ["gone", "supervise-not-running", "-"],
        "{text}"
    );
    assert_eq!(lines[3][4], "down", "{text}");

    // The root as an argument: the same table.
    let output = scan.svc(&["status", scan.root_arg()]);
    assert_exit(&output, 4);
    let names: Vec<String> = stdout(&output)
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["a", "b", "gone"]);

    let output = scan.svc(&["--json", "status", "root"]);
    assert_exit(&output, 4);
    let objects = array_objects(&stdout(&output));
    assert_eq!(objects.len(), 3, "{}", stdout(&output));
    assert_eq!(json_field(&objects[0], "name"), "\"a\"");
    assert_eq!(json_field(&objects[0], "dir"), "\"root/status/a\"");
    assert_eq!(json_field(&objects[0], "state"), "\"up\"");
    assert_eq!(json_field(&objects[0], "pid"), a_pid);
    assert_eq!(
        json_field(&objects[0], "supervise_pid"),
        scan.supervise_pid("a").unwrap().to_string()
    );
    assert_eq!(json_field(&objects[1], "pid"), b_pid);
    assert_eq!(json_field(&objects[2], "name"), "\"gone\"");
    assert_eq!(
        json_field(&objects[2], "state"),
        "\"supervise-not-running\""
    );
    assert_eq!(json_field(&objects[2], "supervise_pid"), "null");

    // Only the running ones, by name: lines, and all is well.
    let output = scan.svc(&["-d", scan.root_arg(), "status", "a", "b"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let prefix = scan.dir("a").display().to_string();
    assert!(
        text.starts_with(&format!("{prefix}: up (pid {a}) ")),
        "{text}"
    );
}

#[test]
fn stop_start_restart_by_name() {
    let scan = Scan::start("scanverbs", TWO, &["a", "b"]);
    let root = scan.root_arg();
    let (a, b) = (scan.service_pid("a"), scan.service_pid("b"));
    let supervise_a = scan.supervise_pid("a");

    let output = scan.svc(&["-d", root, "stop", "a"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("a: stopped (pid {a} and its process group are gone)\n")
    );
    assert_eq!(scan.service_pid("a"), 0);
    assert!(!group_alive(a));
    assert_eq!(scan.service_pid("b"), b, "b is left alone");

    let output = scan.svc(&["-d", root, "start", "a"]);
    assert_exit(&output, 0);
    let a2 = scan.service_pid("a");
    assert_ne!(a2, 0);
    assert_eq!(stdout(&output), format!("a: started, pid {a2}\n"));

    // Several names, in order; the root from the environment.
    let output = svc_command()
        .current_dir(scan.tmp.path())
        .env("SUPERVISE_ROOT", &scan.root)
        .args(["restart", "a", "b"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    let (a3, b3) = (scan.service_pid("a"), scan.service_pid("b"));
    assert!(a3 != a2 && b3 != b && a3 != 0 && b3 != 0);
    assert_eq!(
        stdout(&output),
        format!("a: restarted, pid {a2} -> {a3}\nb: restarted, pid {b} -> {b3}\n")
    );

    // A failure in the middle: the others are still done, the first
    // failure's code is the exit code.
    let output = scan.svc(&["-d", root, "stop", "a", "nosuch", "b"]);
    assert_exit(&output, 2);
    assert_eq!((scan.service_pid("a"), scan.service_pid("b")), (0, 0));
    let output = scan.svc(&["-d", root, "stop", "a"]);
    assert_exit(&output, 7);

    // A path with a slash, and the original form, still work.
    let path = scan.dir("a");
    let output = scan.svc(&["start", path.to_str().unwrap()]);
    assert_exit(&output, 0);
    let output = scan.svc(&[scan.dir("b").to_str().unwrap(), "start"]);
    assert_exit(&output, 0);
    scan.wait_up("a");
    scan.wait_up("b");
    // The same supervise all along: svc spoke to it, the scanner let it be.
    assert_eq!(scan.supervise_pid("a"), supervise_a);
}

#[test]
fn reload_by_svc_starts_a_new_section() {
    let scan = Scan::start("scanreload", "[a]\ncommand : sleep 1000\n", &["a"]);
    let a = scan.service_pid("a");
    std::fs::write(
        &scan.conf,
        "[a]\ncommand : sleep 1000\n[c]\ncommand : sleep 1000\n",
    )
    .unwrap();
    let output = scan.svc(&["reload", "root"]);
    assert_exit(&output, 0);
    let canonical = std::fs::canonicalize(&scan.root).unwrap();
    assert_eq!(
        stdout(&output),
        format!(
            "{}: supervise-scan (pid {}) applied its configuration:\nstart c\n",
            canonical.display(),
            scan.pid()
        )
    );
    // The new section appears in the listing, up; the old one kept its pid.
    let mut listing = String::new();
    wait_until("c to be listed up", || {
        let output = scan.svc(&["-d", scan.root_arg(), "status", "--json"]);
        listing = stdout(&output);
        output.status.code() == Some(0)
            && array_objects(&listing)
                .iter()
                .any(|o| json_field(o, "name") == "\"c\"" && json_field(o, "state") == "\"up\"")
    });
    assert_eq!(array_objects(&listing).len(), 2, "{listing}");
    assert_eq!(scan.service_pid("a"), a);

    // `-d ROOT reload` too: removing c brings its supervise down.
    std::fs::write(&scan.conf, "[a]\ncommand : sleep 1000\n").unwrap();
    let output = scan.svc(&["-d", scan.root_arg(), "reload"]);
    assert_exit(&output, 0);
    scan.wait_supervise_gone("c");
    let output = scan.svc(&["-d", scan.root_arg(), "status"]);
    assert_exit(&output, 4);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with("c ") && l.contains(" supervise-not-running ")),
        "{text}"
    );
    assert_eq!(scan.service_pid("a"), a);
}

#[test]
fn exit_and_reconf_by_name() {
    let scan = Scan::start("scanexit", TWO, &["a", "b"]);
    let b = scan.service_pid("b");
    let output = scan.svc(&["-d", scan.root_arg(), "reconf", "b"]);
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("b: asked supervise to re-read its configuration"),
        "{}",
        stdout(&output)
    );
    let supervise_a = scan.supervise_pid("a").unwrap();
    let output = scan.svc(&["-d", scan.root_arg(), "exit", "a"]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        format!("a: service and its supervise (pid {supervise_a}) are gone\n")
    );
    // The scanner leaves a supervise that exited on purpose alone; the
    // listing shows it as such, and exits 4.
    let output = scan.svc(&["-d", scan.root_arg(), "status"]);
    assert_exit(&output, 4);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with("a ") && l.contains(" supervise-not-running ")),
        "{text}"
    );
    assert_eq!(scan.service_pid("b"), b);
}

/// The generation the scanner's reload file names, once it has written
/// one (its first load's report may follow the services' start).
fn generation(scan: &Scan) -> u64 {
    let file = scan.root.join("supervise-scan.reload");
    let read = || {
        let text = std::fs::read_to_string(&file).ok()?;
        text.split(' ').next()?.parse().ok()
    };
    wait_until("the scanner to report a load", || read().is_some());
    read().unwrap()
}

#[test]
fn reload_waits_for_the_scanner_and_prints_what_it_did() {
    let scan = Scan::start("scanreload-wait", "[a]\ncommand : sleep 1000\n", &["a"]);
    let before = generation(&scan);
    std::fs::write(
        &scan.conf,
        "[a]\ncommand : sleep 2000\n[b]\ncommand : sleep 1000\nmax_try : 3\n",
    )
    .unwrap();
    let output = scan.svc(&["-d", scan.root_arg(), "reload"]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with(&format!(
            ": supervise-scan (pid {}) applied its configuration:",
            scan.pid()
        )),
        "{text}"
    );
    let mut changes = lines[1..3].to_vec();
    changes.sort();
    assert_eq!(changes, ["restart a: command changed", "start b"], "{text}");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[3].contains("supervise.conf:5: warning: "), "{text}");
    assert!(lines[3].contains("max_try"), "{text}");
    // svc returned once the load was done: the file says so already.
    assert_eq!(generation(&scan), before + 1);
    scan.wait_up("b");

    // The same file again: no change, the warning still said.
    let output = scan.svc(&["reload", scan.root_arg()]);
    assert_exit(&output, 0);
    let again = stdout(&output);
    let lines: Vec<&str> = again.lines().collect();
    assert_eq!(lines.len(), 2, "{again}");
    assert!(lines[0].ends_with("applied its configuration:"), "{again}");
    assert!(
        lines[1].contains("warning: ") && lines[1].contains("max_try"),
        "{again}"
    );
    // A clean file that changes nothing: said so.
    std::fs::write(
        &scan.conf,
        "[a]\ncommand : sleep 2000\n[b]\ncommand : sleep 1000\n",
    )
    .unwrap();
    let output = scan.svc(&["reload", scan.root_arg()]);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.ends_with("applied its configuration; nothing changed\n") && text.lines().count() == 1,
        "{text}"
    );
}

#[test]
fn a_refused_reload_prints_the_errors_and_exits_12() {
    let scan = Scan::start("scanreload-refused", TWO, &["a", "b"]);
    let (a, b) = (scan.service_pid("a"), scan.service_pid("b"));
    // A typo in a header: the whole file is refused.
    std::fs::write(
        &scan.conf,
        "[a\ncommand : sleep 1000\n[b]\ncommand : sleep 1000\n",
    )
    .unwrap();
    let output = scan.svc(&["-d", scan.root_arg(), "reload"]);
    assert_exit(&output, 12);
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            ": supervise-scan (pid {}) refused its configuration; every service runs as before:\n",
            scan.pid()
        )),
        "{message}"
    );
    assert!(message.contains("supervise.conf:1: "), "{message}");
    assert_eq!((scan.service_pid("a"), scan.service_pid("b")), (a, b));
}

/// SIGCONT to a stopped scanner when the test ends, even by a panic.
struct Continue(u32);

impl Drop for Continue {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0 as i32), Signal::SIGCONT);
    }
}

#[test]
fn a_reload_the_scanner_does_not_answer_times_out_with_9() {
    let scan = Scan::start("scanreload-timeout", "[a]\ncommand : sleep 1000\n", &["a"]);
    let before = generation(&scan);
    kill(Pid::from_raw(scan.pid() as i32), Signal::SIGSTOP).unwrap();
    let _continue = Continue(scan.pid());
    let output = scan.svc(&["-w", "0.5", "-d", scan.root_arg(), "reload"]);
    assert_exit(&output, 9);
    let message = stderr(&output);
    assert!(
        message.contains(&format!(
            "timed out after 0.5s waiting for supervise-scan (pid {}) to load its configuration; ",
            scan.pid()
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "supervise-scan.reload still says generation {before}"
        )),
        "{message}"
    );
    // Woken, it loads (the SIGHUP waited for it) and answers the next one.
    drop(_continue);
    wait_until("the pending load to be reported", || {
        generation(&scan) > before
    });
    let output = scan.svc(&["-d", scan.root_arg(), "reload"]);
    assert_exit(&output, 0);
}
