//! Signals to processes and groups, the subreaper flag, and what /proc says
//! about a process (used to recognise a service left behind by a previous
//! supervise); watching a process group we are not the parent of; the
//! open-file limit.

use std::io;
use std::time::Duration;

use crate::supervisor::Target;

/// `kill`'s first argument for `target`, or `None` for a pid that is not a
/// process of ours to signal: 0, 1 (init) and values beyond `pid_t`, which
/// would turn into "my group", "every process" or init once negated. Pids
/// come from status files too, which anyone may have written.
fn kill_target(target: Target) -> Option<libc::pid_t> {
    let positive = |pid: u32| libc::pid_t::try_from(pid).ok().filter(|&p| p > 1);
    match target {
        Target::Child(pid) => positive(pid),
        Target::Group(pgid) => positive(pgid).map(|p| -p),
    }
}

/// `kill(2)`: ESRCH when nobody is there (nor for a refused pid).
pub fn kill(target: Target, signal: i32) -> io::Result<()> {
    let pid = kill_target(target).ok_or_else(|| io::Error::from_raw_os_error(libc::ESRCH))?;
    // Signal 0 sends nothing: it asks whether `pid` is there.
    let signal = match signal {
        0 => None,
        n => Some(nix::sys::signal::Signal::try_from(n)?),
    };
    Ok(nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        signal,
    )?)
}

/// Sends `signal`; a target that is already gone is not an error.
pub fn signal(target: Target, signal: i32) -> io::Result<()> {
    match kill(target, signal) {
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
        other => other,
    }
}

/// Whether `target` exists: signal 0 sends nothing, and EPERM means someone
/// we may not signal is there.
fn exists(target: Target) -> bool {
    match kill(target, 0) {
        Ok(()) => true,
        Err(e) => e.raw_os_error() == Some(libc::EPERM),
    }
}

/// Whether process `pid` exists.
pub fn pid_alive(pid: u32) -> bool {
    exists(Target::Child(pid))
}

/// Whether any process that is not a zombie is left in process group
/// `pgid`. `kill(-pgid, 0)` alone also finds zombies, which never go away
/// where their parent does not reap them (a PID 1 that does not reap
/// orphans): a group of zombies is a dead group. The common case (nobody
/// left) costs one `kill`; only a group that answers is looked up in /proc.
pub fn group_alive(pgid: u32) -> bool {
    if !exists(Target::Group(pgid)) {
        return false;
    }
    // The leader first: one read when it still runs.
    if stat(pgid).is_some_and(|s| s.pgid == pgid && s.state != 'Z') {
        return true;
    }
    live_members(pgid, 1).is_none_or(|members| !members.is_empty())
}

/// Up to `max` members of process group `pgid` that are not zombies, from
/// /proc; `None` when /proc cannot be read.
pub fn live_members(pgid: u32, max: usize) -> Option<Vec<u32>> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if stat(pid).is_some_and(|s| s.pgid == pgid && s.state != 'Z') {
            members.push(pid);
            if members.len() >= max {
                break;
            }
        }
    }
    Some(members)
}

/// The fields of /proc/PID/stat that supervise uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stat {
    state: char,
    pgid: u32,
    /// Start time in clock ticks since boot.
    start_ticks: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Sets the process name (`/proc/self/comm`, what `ps -C` and `pgrep`
/// match) to `name` (at most 15 bytes), if it is not that already.
pub fn set_name(name: &str) {
    use nix::sys::prctl;
    let wanted = &name.as_bytes()[..name.len().min(15)];
    if prctl::get_name().is_ok_and(|now| now.as_bytes() == wanted) {
        return;
    }
    if let Ok(wanted) = std::ffi::CString::new(wanted) {
        let _ = prctl::set_name(&wanted);
    }
}

/// Makes orphaned descendants of the service our children, so they are
/// reaped here and a stop can wait for them.
pub fn become_subreaper() -> io::Result<()> {
    Ok(nix::sys::prctl::set_child_subreaper(true)?)
}

/// What /proc/PID/stat tells about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcInfo {
    /// Its process group.
    pub pgid: u32,
    /// When it started, since the Unix epoch.
    pub started: Duration,
}

/// Reads /proc/PID/stat; `None` when the process does not exist or is a
/// zombie (which has ended: it only waits for its parent to reap it).
pub fn info(pid: u32) -> Option<ProcInfo> {
    let stat = stat(pid).filter(|s| s.state != 'Z')?;
    let boot = boot_time()?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100)
        .max(1) as u64;
    let started = boot + Duration::from_millis(stat.start_ticks * 1000 / hz);
    Some(ProcInfo {
        pgid: stat.pgid,
        started,
    })
}

/// The fields we use from the text of /proc/PID/stat, whose second field
/// (the command) may hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<Stat> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the command: state(0) ppid(1) pgrp(2) ... starttime is field 22
    // of the whole line, index 19 here.
    Some(Stat {
        state: fields.first()?.chars().next()?,
        pgid: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

fn boot_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("btime "))?;
    Some(Duration::from_secs(line[6..].trim().parse().ok()?))
}

/// Descriptors of live members of a process group we may not be the
/// parent of (a service left by a killed supervise, or members of our own
/// service's group whose parent is not us): each becomes readable when its
/// process ends, so the event loop learns that the group may be empty
/// without polling. At most [`GroupWatch::MAX`] members are watched at a
/// time; when one ends the caller looks again.
pub struct GroupWatch {
    pgid: u32,
    pidfds: Vec<std::fs::File>,
}

impl GroupWatch {
    /// The most members watched at once (descriptors are counted).
    pub const MAX: usize = 4;

    /// Watches the live members of `pgid`. Without pidfds (Linux before
    /// 5.3) the watch is empty and [`GroupWatch::blind`] says so.
    pub fn new(pgid: u32) -> GroupWatch {
        let members = live_members(pgid, Self::MAX).unwrap_or_default();
        let pidfds = members.into_iter().filter_map(pidfd_open).collect();
        GroupWatch { pgid, pidfds }
    }

    /// The group watched.
    pub fn pgid(&self) -> u32 {
        self.pgid
    }

    /// The descriptors to poll.
    pub fn fds(&self) -> impl Iterator<Item = i32> + '_ {
        use std::os::fd::AsRawFd;
        self.pidfds.iter().map(|f| f.as_raw_fd())
    }

    /// Whether no member could be watched: the caller must look again on a
    /// deadline instead.
    pub fn blind(&self) -> bool {
        self.pidfds.is_empty()
    }
}

/// A pidfd for `pid` (close-on-exec), or `None` (gone, or no pidfds).
fn pidfd_open(pid: u32) -> Option<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes integers; the descriptor it returns is ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    (fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(fd as i32) })
}

/// The soft limit on open descriptors (RLIMIT_NOFILE).
pub fn open_file_limit() -> io::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit};
    let (soft, _hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(soft)
}

/// A process other than us that has the file (dev, ino) open, found by
/// walking /proc/*/fd: O(every descriptor on the machine), for the rare
/// error path that must name a process and has no other way to.
pub fn opener_of(dev: u64, ino: u64) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            if pid == me {
                return None;
            }
            let fds = std::fs::read_dir(entry.path().join("fd")).ok()?;
            fds.flatten()
                .filter_map(|fd| std::fs::metadata(fd.path()).ok())
                .any(|meta| (meta.dev(), meta.ino()) == (dev, ino))
                .then_some(pid)
        })
}

/// This machine's host name, for alarms.
pub fn hostname() -> String {
    match nix::unistd::gethostname() {
        Ok(name) => name.to_string_lossy().into_owned(),
        Err(_) => "localhost".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn only_real_pids_and_groups_are_signalled() {
        assert_eq!(kill_target(Target::Child(4242)), Some(4242));
        assert_eq!(kill_target(Target::Group(4242)), Some(-4242));
        for pid in [0, 1, u32::MAX, 1 << 31] {
            assert_eq!(kill_target(Target::Child(pid)), None, "{pid}");
            assert_eq!(kill_target(Target::Group(pid)), None, "{pid}");
        }
        assert!(!group_alive(u32::MAX), "not init's group by wrap-around");
        assert!(!pid_alive(0) && !pid_alive(1) && !group_alive(0) && !group_alive(1));
    }

    #[test]
    fn our_own_process_and_group_exist() {
        assert!(pid_alive(std::process::id()));
        assert!(group_alive(nix::unistd::getpgrp().as_raw() as u32));
    }

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 123456 2 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'S',
                pgid: 4242,
                start_ticks: 123456
            })
        );
    }

    #[test]
    fn a_group_of_zombies_is_a_dead_group() {
        // A child of ours in its own group, left a zombie (not reaped yet).
        let mut child = std::process::Command::new("true")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id();
        let zombie = || stat(pgid).is_some_and(|s| s.state == 'Z');
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !zombie() {
            assert!(std::time::Instant::now() < deadline, "no zombie");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(exists(Target::Group(pgid)), "kill(-pgid, 0) finds a zombie");
        assert!(!group_alive(pgid), "but the group is dead");
        assert_eq!(info(pgid), None, "and it is not a live process");
        assert!(GroupWatch::new(pgid).blind(), "nothing to watch");
        child.wait().unwrap();
    }

    #[test]
    fn a_live_group_is_watched_until_its_members_end() {
        let mut child = std::process::Command::new("sleep")
            .arg("1000")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = child.id();
        assert!(group_alive(pgid));
        let watch = GroupWatch::new(pgid);
        assert_eq!((watch.pgid(), watch.fds().count()), (pgid, 1));
        let fd = watch.fds().next().unwrap();
        assert_eq!(
            crate::sys::poll::wait(&[fd], Some(Duration::ZERO)).unwrap(),
            vec![false]
        );
        child.kill().unwrap();
        let readable = crate::sys::poll::wait(&[fd], Some(Duration::from_secs(20))).unwrap();
        assert_eq!(readable, vec![true], "readable once the member ended");
        child.wait().unwrap();
        assert!(!group_alive(pgid));
    }

    #[test]
    fn reads_our_own_process() {
        let me = info(std::process::id()).expect("our own /proc entry");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(me.started <= now + Duration::from_secs(2));
        assert!(now - me.started < Duration::from_secs(24 * 3600));
    }
}
