//! A supervise-scan started by a test (tests/docs.rs, tests/package.rs):
//! its output goes to files in the test's directory, and on drop it, every
//! supervise of its root and their services are killed by pid, even after
//! the scanner itself died.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

use crate::support::*;

/// The supervise-scan under test.
pub fn scan_bin() -> &'static str {
    env!("CARGO_BIN_EXE_supervise-scan")
}

pub struct Scanner {
    pub dir: TempDir,
    /// Its status root.
    pub root: PathBuf,
    pub child: Option<Child>,
}

impl Scanner {
    /// Runs `PREFIX... supervise-scan -F CONF -d DIR/root --supervise BIN`
    /// (the binaries under test) with extra environment.
    pub fn start(dir: TempDir, conf: &Path, prefix: &[&str], env: &[(&str, &str)]) -> Scanner {
        let root = dir.join("root");
        let mut words: Vec<&std::ffi::OsStr> = prefix.iter().map(|w| w.as_ref()).collect();
        words.push(scan_bin().as_ref());
        let mut command = Command::new(words[0]);
        command
            .args(&words[1..])
            .arg("-F")
            .arg(conf)
            .arg("-d")
            .arg(&root)
            .args(["--supervise", bin()])
            .envs(env.iter().copied());
        Scanner::spawn(dir, root, command)
    }

    /// Runs `command`, a scanner on `root`, in `dir`.
    pub fn spawn(dir: TempDir, root: PathBuf, mut command: Command) -> Scanner {
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("scan.out")).unwrap())
            .stderr(fs::File::create(dir.join("scan.err")).unwrap())
            .spawn()
            .unwrap();
        Scanner {
            dir,
            root,
            child: Some(child),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn status_dir(&self, name: &str) -> PathBuf {
        self.root.join("status").join(name)
    }

    /// What the scanner logged (its stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("scan.err")).unwrap_or_default()
    }

    /// Waits until service `name` runs; returns its pid.
    pub fn wait_running(&self, name: &str) -> u32 {
        let dir = self.status_dir(name);
        let mut pid = 0;
        wait_until(&format!("service {name} runs"), || {
            pid = supervise::status::read(&dir).map_or(0, |s| s.pid);
            pid != 0 && alive(pid)
        });
        pid
    }

    /// Waits for the scanner to exit.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let mut status = None;
        wait_until("supervise-scan exits", || {
            status = child.try_wait().unwrap();
            status.is_some()
        });
        status.unwrap()
    }

    /// SIGTERM, as `docker stop`, the kubelet and systemd send; waits for
    /// the exit.
    pub fn stop(&mut self) -> ExitStatus {
        kill(self.pid(), libc::SIGTERM);
        self.wait_exit()
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            kill_child_tree(child);
        }
        let status = self.root.join("status");
        for dir in fs::read_dir(status).into_iter().flatten().flatten() {
            let dir = dir.path();
            if let Some(supervise) = supervise::sys::lock::holder_pid(&dir.join("lock")) {
                kill_tree(supervise);
            }
            let last = supervise::status::read(&dir).map_or(0, |s| s.pid);
            for pid in started_pids(&dir).into_iter().chain([last]) {
                kill_group(pid, libc::SIGKILL);
                kill(pid, libc::SIGKILL);
            }
        }
    }
}
