//! The exit codes of `svc`, one meaning each. Codes 1 to 7 are the ones the
//! original `svc` shell script defines (its 4 meant both "supervise not
//! alive" and "no permission"; permission now has its own code, 8), so
//! scripts that test them keep working. The table is printed by
//! `svc --help`, generated from [`TABLE`] so the two cannot drift apart.

/// Why `svc` exits; the discriminant is the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// Everything asked for was done.
    Ok = 0,
    /// Bad command line.
    Usage = 1,
    /// DIR does not exist, is not a directory, or holds none of `ok`,
    /// `control`, `status`; or ROOT is not a status root.
    NotStatusDir = 2,
    /// DIR or a file in it cannot be looked at (permission on the directory).
    Inaccessible = 3,
    /// supervise is not running: `ok` is missing or has no reader; for
    /// `reload`, no supervise-scan holds the root's lock.
    NotRunning = 4,
    /// `status` is missing, empty or shorter than 20 bytes.
    StatusMissing = 5,
    /// `control` is missing or is not a FIFO.
    ControlMissing = 6,
    /// Nothing was done: the service is already in the state asked for.
    AlreadyDone = 7,
    /// The caller may not write `control` or read `status`, or signal
    /// supervise-scan.
    Permission = 8,
    /// The state asked for was not reached before the `-w` deadline.
    Timeout = 9,
    /// supervise exited while svc was waiting for the service.
    SuperviseExited = 10,
    /// An unexpected system error (the message says which).
    System = 11,
}

impl Code {
    /// The process exit status.
    pub fn status(self) -> i32 {
        self as i32
    }
}

/// Every code with the one line `svc --help` and the README print for it.
pub const TABLE: &[(Code, &str)] = &[
    (
        Code::Ok,
        "done (for status: every DIR read and its supervise running)",
    ),
    (Code::Usage, "usage error"),
    (
        Code::NotStatusDir,
        "DIR is not a status directory (missing, not a directory, no ok/control/status); \
         ROOT has no status/",
    ),
    (Code::Inaccessible, "DIR cannot be entered or read"),
    (
        Code::NotRunning,
        "supervise is not running (ok missing or has no reader); \
         reload: no supervise-scan on ROOT",
    ),
    (Code::StatusMissing, "status file missing, empty or short"),
    (Code::ControlMissing, "control FIFO missing"),
    (
        Code::AlreadyDone,
        "nothing done: already up/down, alarm already on/off, restart of a stopped service",
    ),
    (
        Code::Permission,
        "permission denied: may not write control, read status or signal supervise-scan",
    ),
    (
        Code::Timeout,
        "the -w deadline passed before the state was reached",
    ),
    (
        Code::SuperviseExited,
        "supervise exited while svc was waiting for the service",
    ),
    (Code::System, "unexpected system error"),
];

/// Exit status when a signal interrupts a wait: the shell convention.
pub fn interrupted(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_code_once_in_order() {
        let statuses: Vec<i32> = TABLE.iter().map(|(code, _)| code.status()).collect();
        assert_eq!(statuses, (0..=11).collect::<Vec<_>>());
    }

    #[test]
    fn codes_the_original_script_defines_are_kept() {
        assert_eq!(Code::Usage.status(), 1);
        assert_eq!(Code::NotStatusDir.status(), 2);
        assert_eq!(Code::Inaccessible.status(), 3);
        assert_eq!(Code::NotRunning.status(), 4);
        assert_eq!(Code::StatusMissing.status(), 5);
        assert_eq!(Code::ControlMissing.status(), 6);
        assert_eq!(Code::AlreadyDone.status(), 7);
    }
}
