//! The exit codes of `svc`, one meaning each. Codes 1 to 7 are the ones the
//! original `svc` shell script defines (its 4 meant both "supervise not
//! alive" and "no permission"; permission now has its own code, 8), so
//! scripts that test them keep working. [`Code::meaning`] is the one place
//! each meaning is written: `svc --help` prints it for every code in
//! [`Code::ALL`], and a test holds README's exit-code table to it.

/// Why `svc` exits; the discriminant is the process exit status and
/// [`Code::meaning`] says what it means.
#[allow(
    missing_docs,
    reason = "each variant's meaning is written once, in Code::meaning"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    Usage = 1,
    NotStatusDir = 2,
    Inaccessible = 3,
    NotRunning = 4,
    StatusMissing = 5,
    ControlMissing = 6,
    AlreadyDone = 7,
    Permission = 8,
    Timeout = 9,
    SuperviseExited = 10,
    System = 11,
}

impl Code {
    /// Every code, in the order of its exit status.
    pub const ALL: [Code; 12] = [
        Code::Ok,
        Code::Usage,
        Code::NotStatusDir,
        Code::Inaccessible,
        Code::NotRunning,
        Code::StatusMissing,
        Code::ControlMissing,
        Code::AlreadyDone,
        Code::Permission,
        Code::Timeout,
        Code::SuperviseExited,
        Code::System,
    ];

    /// The process exit status.
    pub fn status(self) -> i32 {
        self as i32
    }

    /// The one line `svc --help` and the README print for this code.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::Ok => "done (for status: every DIR read and its supervise running)",
            Code::Usage => "usage error",
            Code::NotStatusDir => {
                "DIR is not a status directory (missing, not a directory, no ok/control/status); \
                 ROOT has no status/"
            }
            Code::Inaccessible => "DIR or ROOT cannot be entered or read",
            Code::NotRunning => {
                "supervise is not running (ok missing or has no reader); \
                 reload: no supervise-scan on ROOT"
            }
            Code::StatusMissing => "status file missing, empty or short",
            Code::ControlMissing => "control missing or not a FIFO",
            Code::AlreadyDone => {
                "nothing done: already up/down, alarm already on/off, restart of a stopped service"
            }
            Code::Permission => {
                "permission denied: may not write control, read status or signal supervise-scan"
            }
            Code::Timeout => "the -w deadline passed before the state was reached",
            Code::SuperviseExited => {
                "supervise exited before reading the command or while svc was waiting for the \
                 service"
            }
            Code::System => "unexpected system error",
        }
    }
}

/// What an exit status of [`interrupted`] means, after `128+N`.
pub const INTERRUPTED: &str = "interrupted by signal N while waiting";

/// Exit status when a signal interrupts a wait: the shell convention.
pub fn interrupted(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_code_once_in_order() {
        let statuses: Vec<i32> = Code::ALL.iter().map(|code| code.status()).collect();
        assert_eq!(statuses, (0..=11).collect::<Vec<_>>());
    }

    #[test]
    fn readme_table_says_what_meaning_says() {
        let readme = include_str!("../../README.md");
        for code in Code::ALL {
            let row = format!("\n| {} | {} |\n", code.status(), code.meaning());
            assert!(readme.contains(&row), "README lacks{row}");
        }
        let row = format!("\n| 128+N | {INTERRUPTED} |\n");
        assert!(readme.contains(&row), "README lacks{row}");
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
