//! What the start order reads of a service: its status directory's `status`
//! and `info` (docs/status-files.md), read when the machine asks (`Look`) and
//! whenever supervise replaces one of them, which inotify tells (a rename
//! into the directory, `IN_MOVED_TO`: supervise writes both files through a
//! temporary file and a rename). Only the directories the machine asks for
//! are watched, so an idle scanner still sleeps without a wake-up.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read};
use std::path::Path;

use super::machine::Seen;
use crate::info::{self, Info, State};
use crate::status::{self, Want};
use crate::sys::inotify::Inotify;
use crate::sys::process;

/// The most of an `info` file that is read: it is a few hundred bytes.
const MAX_INFO: u64 = 64 * 1024;

/// The status directories being watched.
pub struct Observer {
    inotify: Inotify,
    /// Watch id → service name.
    names: HashMap<i32, String>,
}

impl Observer {
    /// An observer watching nothing yet.
    pub fn new() -> io::Result<Observer> {
        Ok(Observer {
            inotify: Inotify::new()?,
            names: HashMap::new(),
        })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.inotify.raw_fd()
    }

    /// Watches service `name`'s status directory `dir`.
    pub fn watch(&mut self, name: &str, dir: &Path) -> io::Result<()> {
        let wd = self.inotify.watch_renames_into(dir)?;
        self.names.insert(wd, name.to_owned());
        Ok(())
    }

    /// The services whose `status` or `info` was replaced since the last
    /// call, each once, in name order; every watched one if the kernel's
    /// queue overflowed and events were lost.
    pub fn changed(&mut self) -> Vec<String> {
        let mut changed = BTreeSet::new();
        for (wd, file) in self.inotify.read_events() {
            if wd == -1 {
                changed.extend(self.names.values().cloned());
            } else if file == "status" || file == "info" {
                changed.extend(self.names.get(&wd).cloned());
            }
        }
        changed.into_iter().collect()
    }
}

/// What the status directory `dir` says of its service now. A `status` that
/// names a process that is gone (left by a supervise that was killed) says
/// down; an `info` that names another pid than `status` does is about to
/// be replaced, and does not say ready.
pub fn look(dir: &Path) -> Seen {
    let status = status::read(dir).ok();
    let pid = status
        .map(|s| s.pid)
        .filter(|&pid| pid != 0 && process::pid_alive(pid))
        .unwrap_or(0);
    let info = read_info(&dir.join("info"));
    let agrees = info.as_ref().is_none_or(|i| i.pid == pid);
    Seen {
        pid,
        ready: pid != 0 && agrees && info::ready(pid, info.as_ref()),
        want_up: status.is_some_and(|s| s.want == Want::Up),
        failing: info
            .as_ref()
            .is_some_and(|i| matches!(i.state, State::Backoff | State::GaveUp)),
        // An `info` before any `status` is of a supervise that has not
        // started its service yet: nothing to believe.
        supervise_pid: info
            .as_ref()
            .filter(|_| status.is_some())
            .map_or(0, |i| i.supervise_pid),
        since: status.map(|s| s.since).unwrap_or_default(),
    }
}

/// The `info` file, if there is one (an older supervise writes none).
/// Bytes that are not UTF-8 are replaced: they only fail to be keys.
fn read_info(path: &Path) -> Option<Info> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_INFO)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(Info::parse(&String::from_utf8_lossy(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;
    use std::time::Duration;

    fn dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("observe-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn status(dir: &Path, pid: u32, want: Want) {
        let status = Status {
            since: Duration::from_secs(1),
            paused: false,
            want,
            alarms_on: true,
            pid,
        };
        status::write_atomically(dir, &status).unwrap();
    }

    #[test]
    fn readiness_from_status_and_info() {
        let d = dir("ready");
        let me = std::process::id();
        assert_eq!(look(&d), Seen::default(), "nothing written yet");
        // supervise's first info, before its first status: nothing yet.
        std::fs::write(d.join("info"), "pid=0\nstate=down\nsupervise_pid=7\n").unwrap();
        assert_eq!(look(&d), Seen::default(), "info before any status");
        std::fs::remove_file(d.join("info")).unwrap();
        status(&d, me, Want::Up);
        let seen = look(&d);
        assert!(
            seen.ready && seen.want_up && seen.pid == me,
            "no info: it runs"
        );
        std::fs::write(
            d.join("info"),
            format!("pid={me}\nstate=starting\nsupervise_pid=7\n"),
        )
        .unwrap();
        let seen = look(&d);
        assert!(!seen.ready);
        assert_eq!(seen.supervise_pid, 7);
        std::fs::write(d.join("info"), format!("pid={me}\nstate=ready\n")).unwrap();
        assert!(look(&d).ready);
        // An info about another pid is about to be replaced.
        std::fs::write(d.join("info"), "pid=1\nstate=ready\n").unwrap();
        assert!(!look(&d).ready);
        std::fs::write(d.join("info"), "pid=0\nstate=gave-up\n").unwrap();
        status(&d, 0, Want::Up);
        let seen = look(&d);
        assert!(seen.failing && !seen.ready && seen.pid == 0);
        std::fs::write(d.join("info"), b"\xff\xfe garbage\n\0\0").unwrap();
        assert!(!look(&d).ready);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_status_naming_a_process_that_is_gone_says_down() {
        let d = dir("gone");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        status(&d, pid, Want::Up);
        assert_eq!(look(&d).pid, 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn renames_into_a_watched_directory_are_told_by_name() {
        let d = dir("watch");
        let mut observer = Observer::new().unwrap();
        observer.watch("svc", &d).unwrap();
        assert!(observer.changed().is_empty());
        std::fs::write(d.join("supervise.log"), "written, not renamed\n").unwrap();
        std::fs::write(d.join("other.new"), "").unwrap();
        std::fs::rename(d.join("other.new"), d.join("other")).unwrap();
        assert!(observer.changed().is_empty(), "neither status nor info");
        status(&d, 0, Want::Down);
        std::fs::write(d.join("info.new"), "").unwrap();
        std::fs::rename(d.join("info.new"), d.join("info")).unwrap();
        assert_eq!(observer.changed(), ["svc"], "once for both");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
