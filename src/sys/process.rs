//! Signals to processes and groups, the subreaper flag, and what /proc says
//! about a process (used to recognise a service left behind by a previous
//! supervise).

use std::io;
use std::time::Duration;

use super::check;
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
    // SAFETY: kill has no memory arguments.
    check(unsafe { libc::kill(pid, signal) }).map(drop)
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

/// Whether any process is left in process group `pgid`.
pub fn group_alive(pgid: u32) -> bool {
    exists(Target::Group(pgid))
}

/// Makes orphaned descendants of the service our children, so they are
/// reaped here and a stop can wait for them.
pub fn become_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }).map(drop)
}

/// What /proc/PID/stat tells about a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcInfo {
    /// Its process group.
    pub pgid: u32,
    /// When it started, since the Unix epoch.
    pub started: Duration,
}

/// Reads /proc/PID/stat; `None` when the process does not exist.
pub fn info(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (pgid, ticks) = parse_stat(&stat)?;
    let boot = boot_time()?;
    // SAFETY: sysconf has no memory arguments.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let started = boot + Duration::from_millis(ticks * 1000 / hz);
    Some(ProcInfo { pgid, started })
}

/// (pgid, start time in clock ticks since boot) from the text of
/// /proc/PID/stat, whose second field (the command) may hold spaces and
/// parentheses.
fn parse_stat(stat: &str) -> Option<(u32, u64)> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // After the command: state(0) ppid(1) pgrp(2) ... starttime is field 22
    // of the whole line, index 19 here.
    let pgid = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((pgid, start))
}

fn boot_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("btime "))?;
    Some(Duration::from_secs(line[6..].trim().parse().ok()?))
}

/// This machine's host name, for alarms.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_owned();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // SAFETY: getpgrp has no preconditions and cannot fail.
        assert!(group_alive(unsafe { libc::getpgrp() } as u32));
    }

    #[test]
    fn parses_stat_with_a_hostile_command_name() {
        let line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 123456 2 0";
        assert_eq!(parse_stat(line), Some((4242, 123456)));
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
