//! `supervise.conf` (SPEC §7): the settings that the config file decides, their
//! defaults, and the parser that resolves them for one service. Pure: the
//! caller reads the file and hands the bytes in.

use std::time::Duration;

/// Settings for one service, as resolved from `supervise.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conf {
    /// Seconds of the alarm window; 0 disables alarms, windows and give-up.
    pub alarm_interval: u64,
    /// Exits tolerated in one window before giving up; 0 = unlimited.
    pub max_tries: u32,
    /// Core dumps tolerated in one window before giving up; 0 = unlimited.
    pub max_tries_if_coredumped: u32,
    /// Mail recipients of alarms.
    pub alarm_mail: Vec<String>,
    /// SMS numbers of alarms (10 at most).
    pub alarm_gsm: Vec<String>,
    /// Extension: delay before the second quick restart in a row.
    pub backoff_start: Duration,
    /// Extension: the longest delay between quick restarts.
    pub backoff_cap: Duration,
    /// Extension: a child that ran at least this long is restarted at once.
    pub healthy_after: Duration,
    /// Extension: time between TERM and KILL when stopping.
    pub stop_timeout: Duration,
    /// Extension: program run on every alarm-worthy event.
    pub alarm_command: Option<String>,
    /// Extension: the mail program (`mail -s SUBJECT ADDR...`).
    pub mail_program: String,
    /// Extension: the SMS program (`PROGRAM NUMBER@MESSAGE`).
    pub sms_program: String,
    /// Extension: how long an alarm sender may run before it is killed.
    pub alarm_timeout: Duration,
    /// Extension: how long the `-r` restart hook may run before it is killed.
    pub hook_timeout: Duration,
}

impl Conf {
    /// The values in force before any config file was read: no alarms and no
    /// limits (SPEC §7), our documented restart and stop defaults.
    pub fn unread() -> Conf {
        Conf {
            alarm_interval: 0,
            max_tries: 0,
            max_tries_if_coredumped: 0,
            alarm_mail: Vec::new(),
            alarm_gsm: Vec::new(),
            backoff_start: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(30),
            healthy_after: Duration::from_secs(1),
            stop_timeout: Duration::from_secs(10),
            alarm_command: None,
            mail_program: "mail".to_owned(),
            sms_program: "gsmsend-script".to_owned(),
            alarm_timeout: Duration::from_secs(30),
            hook_timeout: Duration::from_secs(60),
        }
    }
}

impl Default for Conf {
    fn default() -> Conf {
        Conf::unread()
    }
}
