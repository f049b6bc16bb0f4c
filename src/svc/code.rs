//! What `svc` ran into, one meaning each, and the exit status each outcome
//! has. The original form, `svc DIR COMMAND`, keeps every code of the
//! original `svc` shell script (SPEC §8), because scripts in the field test
//! them: there "no permission" is 4 like "supervise not alive", "start:
//! already up" is 6 like "control is not a FIFO", and a directory without
//! `ok` is 4 (the script tests `ok` first). The other forms give each of
//! those outcomes a code of its own. Outcomes the original never had (a
//! deadline passed, supervise gone while waiting) have codes it never used,
//! in every form.
//!
//! [`Code::meaning`] is the one place each meaning is written: `svc --help`
//! prints it for every code in [`Code::ALL`], and a test holds README's
//! exit-code table to it.

/// What `svc` ran into; [`Code::status`] gives the exit status for a form,
/// [`Code::meaning`] says what it means.
#[allow(
    missing_docs,
    reason = "each variant's meaning is written once, in Code::meaning"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Ok,
    Usage,
    NotDirectory,
    NotStatusDir,
    Inaccessible,
    NotRunning,
    StatusMissing,
    ControlMissing,
    AlreadyUp,
    AlreadyDone,
    Permission,
    Timeout,
    SuperviseExited,
    System,
    Refused,
    BackingOff,
    NotReady,
}

/// Which form of the command line ran: the exit status of three outcomes
/// depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `svc DIR COMMAND`: the codes of the original script.
    Original,
    /// Every other form: a code of its own for each outcome.
    Extended,
}

impl Code {
    /// Every code, in the order of its exit status in the extended forms.
    pub const ALL: [Code; 17] = [
        Code::Ok,
        Code::Usage,
        Code::NotDirectory,
        Code::NotStatusDir,
        Code::Inaccessible,
        Code::NotRunning,
        Code::StatusMissing,
        Code::ControlMissing,
        Code::AlreadyUp,
        Code::AlreadyDone,
        Code::Permission,
        Code::Timeout,
        Code::SuperviseExited,
        Code::System,
        Code::Refused,
        Code::BackingOff,
        Code::NotReady,
    ];

    /// The process exit status in `form`.
    pub fn status(self, form: Form) -> i32 {
        match (self, form) {
            (Code::NotStatusDir | Code::Permission, Form::Original) => 4,
            (Code::AlreadyUp, Form::Original) => 6,
            (code, _) => code.extended(),
        }
    }

    fn extended(self) -> i32 {
        match self {
            Code::Ok => 0,
            Code::Usage => 1,
            Code::NotDirectory | Code::NotStatusDir => 2,
            Code::Inaccessible => 3,
            Code::NotRunning => 4,
            Code::StatusMissing => 5,
            Code::ControlMissing => 6,
            Code::AlreadyUp | Code::AlreadyDone => 7,
            Code::Permission => 8,
            Code::Timeout => 9,
            Code::SuperviseExited => 10,
            Code::System => 11,
            Code::Refused => 12,
            Code::BackingOff => 13,
            Code::NotReady => 14,
        }
    }

    /// The one line `svc --help` and the README print for this code.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::Ok => "done (for status: every DIR read and its supervise running)",
            Code::Usage => "usage error (with fewer than two arguments, the usage is on stdout)",
            Code::NotDirectory => "DIR or ROOT is missing or not a directory",
            Code::NotStatusDir => {
                "not a status directory: DIR holds none of ok, control, status; ROOT has no \
                 status/"
            }
            Code::Inaccessible => "DIR or ROOT cannot be entered or read",
            Code::NotRunning => {
                "supervise is not running (ok missing, not a FIFO, or without a reader); \
                 reload: no supervise-scan on ROOT"
            }
            Code::StatusMissing => "status file missing, empty or short",
            Code::ControlMissing => "control missing or not a FIFO",
            Code::AlreadyUp => "start: the service is already up, nothing done",
            Code::AlreadyDone => {
                "nothing done: already down, alarm already on/off, restart of a stopped service"
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
            Code::Refused => {
                "reload: supervise-scan refused the configuration (its errors are printed); \
                 every service runs as before"
            }
            Code::BackingOff => {
                "start: the service is in a back-off after a crash (its last exit and next \
                 start are printed)"
            }
            Code::NotReady => "the service runs but was not ready within -w",
        }
    }
}

/// What an exit status of [`interrupted`] means, after `128+N`.
pub const INTERRUPTED: &str = "interrupted by signal N while waiting";

/// Exit status when a signal interrupts a wait: the shell convention, in
/// every form.
pub fn interrupted(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_its_code_in_each_form() {
        use Code::*;
        // (outcome, extended forms, `svc DIR COMMAND` as the original script)
        let table = [
            (Ok, 0, 0),
            (Usage, 1, 1),
            (NotDirectory, 2, 2),
            (NotStatusDir, 2, 4),
            (Inaccessible, 3, 3),
            (NotRunning, 4, 4),
            (StatusMissing, 5, 5),
            (ControlMissing, 6, 6),
            (AlreadyUp, 7, 6),
            (AlreadyDone, 7, 7),
            (Permission, 8, 4),
            (Timeout, 9, 9),
            (SuperviseExited, 10, 10),
            (System, 11, 11),
            (Refused, 12, 12),
            (BackingOff, 13, 13),
            (NotReady, 14, 14),
        ];
        assert_eq!(table.map(|row| row.0), Code::ALL);
        for (code, extended, original) in table {
            assert_eq!(code.status(Form::Extended), extended, "{code:?}");
            assert_eq!(code.status(Form::Original), original, "{code:?}");
        }
    }

    #[test]
    fn the_original_form_uses_only_the_original_codes_for_its_outcomes() {
        // The script knew 1 to 7; the codes it never had are for outcomes
        // it never had.
        for code in Code::ALL {
            let status = code.status(Form::Original);
            let new_outcome = matches!(
                code,
                Code::Timeout
                    | Code::SuperviseExited
                    | Code::System
                    | Code::Refused
                    | Code::BackingOff
                    | Code::NotReady
            );
            assert_eq!(status > 7, new_outcome, "{code:?}");
        }
        assert_eq!(interrupted(2), 130);
    }

    #[test]
    fn readme_table_says_what_meaning_says() {
        let readme = include_str!("../../README.md");
        for code in Code::ALL {
            let row = format!(
                "\n| {} | {} | {} |\n",
                code.status(Form::Extended),
                code.status(Form::Original),
                code.meaning()
            );
            assert!(readme.contains(&row), "README lacks{row}");
        }
        let row = format!("\n| 128+N | 128+N | {INTERRUPTED} |\n");
        assert!(readme.contains(&row), "README lacks{row}");
    }
}
