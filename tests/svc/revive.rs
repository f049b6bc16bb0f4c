//! `svc start NAME` and `svc stop NAME` under a supervise-scan that reads
//! requests on `ROOT/supervise-scan.control` (docs/status-files.md): a
//! *fake scanner* (this test process holding the root's lock and reading
//! that FIFO) revives a given-up supervise on `start NAME` and stops on
//! `stop NAME`; and, ignored until the scanner side is merged, the same
//! against the real supervise-scan.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Output, Stdio};

use supervise::info::{Info, Readiness, State};
use supervise::status::Want;
use supervise::sys::lock;

use crate::support::*;

/// A supervise-scan as svc sees one: the flock on the root's lock, and a
/// reader on its request FIFO.
struct FakeScanner {
    _lock: File,
    requests: File,
    /// Every line read so far.
    lines: Vec<String>,
    pending: String,
}

impl FakeScanner {
    fn new(root: &Path) -> FakeScanner {
        std::fs::create_dir_all(root.join("status")).unwrap();
        let lock = take_lock(&root.join("supervise-scan.lock"));
        let fifo = root.join("supervise-scan.control");
        make_fifo(&fifo);
        let requests = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
            .unwrap();
        FakeScanner {
            _lock: lock,
            requests,
            lines: Vec::new(),
            pending: String::new(),
        }
    }

    /// The complete lines that arrived since the last call.
    fn read(&mut self) -> Vec<String> {
        let mut buf = [0u8; 512];
        while let Ok(n @ 1..) = self.requests.read(&mut buf) {
            self.pending.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let mut new = Vec::new();
        while let Some(end) = self.pending.find('\n') {
            new.push(self.pending[..end].to_string());
            self.pending.drain(..=end);
        }
        self.lines.extend(new.iter().cloned());
        new
    }
}

/// Runs svc ARGS while `fake` acts as the service's supervise (when it is
/// alive) and `scanner` as supervise-scan, `on_request` answering each of
/// its lines; returns svc's output.
fn serve(
    fake: &mut Fake,
    scanner: &mut FakeScanner,
    args: &[&str],
    mut on_request: impl FnMut(&mut Fake, &str),
) -> Output {
    serve_svc(spawn_svc(args), || {
        for byte in fake.read_control() {
            fake.react(byte);
        }
        for line in scanner.read() {
            on_request(fake, &line);
        }
    })
}

#[test]
fn start_of_a_given_up_service_asks_the_scanner_to_revive_it() {
    let tmp = TempDir::new("revive-start");
    let root = tmp.path().join("root");
    let mut scanner = FakeScanner::new(&root);
    let mut fake = Fake::new(&root, "web");
    fake.status.want = Want::Up;
    fake.publish();
    fake.write_info(&Info {
        state: State::GaveUp,
        gave_up: "11 exits in 60 s > max_tries 10".into(),
        ..Info::default()
    });
    fake.die();
    let root_arg = root.display().to_string();
    let output = serve(
        &mut fake,
        &mut scanner,
        &["-d", &root_arg, "start", "web"],
        |fake, line| {
            if line == "start web" {
                // A new supervise starts, and writes its info.
                fake.revive();
                fake.write_info(&fake.info_now(State::Ready, Readiness::None));
            }
        },
    );
    assert_exit(&output, 0);
    assert_eq!(scanner.lines, ["start web"]);
    assert_eq!(
        stdout(&output),
        format!(
            "web: started, pid {} (supervise-scan, pid {}, started its supervise again)\n",
            fake.status.pid,
            std::process::id()
        )
    );
    // Its supervise runs: now the usual `u` path, no request.
    let output = serve(
        &mut fake,
        &mut scanner,
        &["-d", &root_arg, "start", "web"],
        |_, _| {},
    );
    assert_exit(&output, 7);
    assert_eq!(scanner.lines, ["start web"]);
}

#[test]
fn a_revival_the_scanner_does_not_carry_out_times_out() {
    let tmp = TempDir::new("revive-timeout");
    let root = tmp.path().join("root");
    let mut scanner = FakeScanner::new(&root);
    let mut fake = Fake::new(&root, "web");
    fake.die();
    let root_arg = root.display().to_string();
    let output = serve(
        &mut fake,
        &mut scanner,
        &["-w", "0.3", "-d", &root_arg, "start", "web"],
        |_, _| {},
    );
    assert_exit(&output, 9);
    assert_eq!(scanner.lines, ["start web"]);
    assert!(
        stderr(&output).contains(&format!(
            "; supervise-scan (pid {}) was asked to start its supervise: see its log",
            std::process::id()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stop_under_a_scanner_asks_it_and_without_one_sends_d() {
    let tmp = TempDir::new("revive-stop");
    let root = tmp.path().join("root");
    let mut scanner = FakeScanner::new(&root);
    let mut fake = Fake::new(&root, "web");
    fake.status.want = Want::Up;
    fake.start_service();
    let pid = fake.status.pid;
    let root_arg = root.display().to_string();
    let output = serve(
        &mut fake,
        &mut scanner,
        &["-d", &root_arg, "stop", "web"],
        |fake, line| {
            if line == "stop web" {
                fake.react(b'd');
            }
        },
    );
    assert_exit(&output, 0);
    assert_eq!(scanner.lines, ["stop web"]);
    // Alarms silenced and back on through its supervise; no `d` from svc.
    assert_eq!(fake.received, b"sn");
    assert_eq!(
        stdout(&output),
        format!("web: stopped (pid {pid} and its process group are gone)\n")
    );

    // A scanner that does not read requests (an older one): `d` as before.
    drop(scanner);
    fake.status.want = Want::Up;
    fake.start_service();
    fake.received.clear();
    let output = fake.serve(&["-d", &root_arg, "stop", "web"], Fake::react);
    assert_exit(&output, 0);
    assert_eq!(fake.received, b"sdn");
}

mod real_scanner {
    //! Against the real supervise-scan, once it reads its request FIFO.

    use super::*;

    #[test]
    fn a_given_up_service_is_revived_by_svc_start() {
        let tmp = TempDir::new("revive-real");
        let ok = tmp.path().join("ok-to-run");
        let conf = tmp.write(
            "supervise.conf",
            &format!(
                "[web]\ncommand : sh -c 'test -e {} && exec sleep 1000; exit 1'\n\
                 alarm_interval : 60\nmax_tries : 2\n",
                ok.display()
            ),
        );
        let root = tmp.path().join("root");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_supervise-scan"))
            .arg("-F")
            .arg(&conf)
            .arg("-d")
            .arg(&root)
            .arg("--supervise")
            .arg(env!("CARGO_BIN_EXE_supervise"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(tmp.path().join("scan.log")).unwrap())
            .spawn()
            .unwrap();
        let scanner = Scanned {
            root: root.clone(),
            child: Some(child),
        };
        let dir = root.join("status/web");
        // It fails until supervise gives up and exits.
        wait_until("web's supervise to give up", || {
            dir.join("lock").exists() && lock::holder_pid(&dir.join("lock")).is_none()
        });
        // The lock is free a moment before the scanner reaps that supervise
        // (a process closes its files before its parent is told): a `start`
        // read in between finds it still running and only sends `u`.
        wait_until("the scanner to see web's supervise exit", || {
            std::fs::read_to_string(tmp.path().join("scan.log"))
                .is_ok_and(|log| log.contains("web: supervise exited"))
        });
        std::fs::write(&ok, "").unwrap();
        let root_arg = root.display().to_string();
        let output = svc(["-d", &root_arg, "start", "web"]);
        assert_exit(&output, 0);
        let pid = supervise::status::read(&dir).unwrap().pid;
        assert!(pid != 0 && alive(pid));
        assert!(
            stdout(&output).starts_with(&format!("web: started, pid {pid} (supervise-scan, pid ")),
            "{}",
            stdout(&output)
        );
        // svc stop goes through the scanner too.
        let output = svc(["-d", &root_arg, "stop", "web"]);
        assert_exit(&output, 0);
        assert_eq!(supervise::status::read(&dir).unwrap().pid, 0);
        drop(scanner);
    }

    /// The real scanner, and on drop every process it started, by pid.
    struct Scanned {
        root: std::path::PathBuf,
        child: Option<std::process::Child>,
    }

    impl Drop for Scanned {
        fn drop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            for entry in std::fs::read_dir(self.root.join("status"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let dir = entry.path();
                let supervise = lock::holder_pid(&dir.join("lock")).unwrap_or(0);
                let service = supervise::status::read(&dir).map_or(0, |s| s.pid);
                for pid in [supervise, service] {
                    if pid > 1 {
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(-(pid as i32)),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid as i32),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                }
            }
        }
    }
}
