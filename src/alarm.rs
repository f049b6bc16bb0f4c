//! Alarm messages (SPEC §6, issue 3): the text of an alarm and the programs
//! that deliver it — mail, SMS and the `alarm_command` extension — as plain
//! data. Pure: it never spawns, never reads the clock or the host name; the
//! caller passes the facts in and runs the [`Invocation`]s without a shell.
//!
//! Every program gets its data as separate arguments, environment variables
//! or standard input, so quotes, `$()`, backticks and the like in a service
//! name are only characters. Two places still need care and get it here: a
//! mail subject (a newline would start a forged header) and an SMS text are
//! made one line by replacing control characters with spaces; and in the mail
//! body, where some `mail` programs obey `~` escapes at the start of a line,
//! every line either is one of ours with a fixed prefix or, for the
//! `__stderr` tail, is indented by two spaces.

use std::time::Duration;

use crate::conf::Conf;
use crate::supervisor::Exit;

/// What happened to the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlarmEvent {
    /// It exited (by itself or from a signal) without dumping core.
    Exit,
    /// It exited and dumped core.
    Coredump,
    /// supervise gave up restarting it (SPEC §5.2) and exits.
    GiveUp,
    /// It was not ready within `ready_timeout`: stopped, restarted.
    NotReady,
    /// It sent no `WATCHDOG=1` within `watchdog`: stopped, restarted.
    Watchdog,
    /// Its health checks failed `health_retries` times: restarted.
    Unhealthy,
}

impl AlarmEvent {
    /// `exit`, `coredump` or `give-up`, as passed to `alarm_command`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmEvent::Exit => "exit",
            AlarmEvent::Coredump => "coredump",
            AlarmEvent::GiveUp => "give-up",
            AlarmEvent::NotReady => "not-ready",
            AlarmEvent::Watchdog => "watchdog",
            AlarmEvent::Unhealthy => "unhealthy",
        }
    }
}

/// Everything an alarm tells, gathered by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlarmFacts {
    /// The service NAME (from `status/NAME`).
    pub service: String,
    /// The host name, as it should appear in `[Alarm: HOST]`.
    pub host: String,
    /// What happened.
    pub event: AlarmEvent,
    /// How the service ended: an exit code, or a signal (and a core).
    pub how: Exit,
    /// How long the service ran before this exit.
    pub run_time: Duration,
    /// Restarts counted in the current alarm window (the window's `tries`).
    pub restarts_in_window: u32,
    /// Local time of the event, `YYYY-MM-DD HH:MM:SS`.
    pub when_local: String,
    /// The last lines of `__stderr`, already capped by the caller.
    pub stderr_tail: String,
}

/// One program to run for an alarm: no shell, `args` exclude the program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The program, looked up in PATH when it has no `/`.
    pub program: String,
    /// Its arguments, one element each.
    pub args: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// Bytes to write to its standard input (empty: nothing to write).
    pub stdin: Vec<u8>,
    /// The original's log line for a started mail (`mail sent: TEXT to
    /// ADDRESSES`); `None` for the other senders.
    pub mail_sent: Option<String>,
}

/// The alarm text. Exit and core dump are the original's exactly:
/// `YYYY-MM-DD HH:MM:SS [Alarm: HOST] Service NAME exited!` and
/// `… exited with coredump!`. Giving up (which the original never alarmed
/// although its README promised it) reads
/// `YYYY-MM-DD HH:MM:SS [Alarm: HOST] Service NAME: supervise gave up restarting it!`,
/// so that filters on `[Alarm: HOST] Service NAME` catch all three.
pub fn message(f: &AlarmFacts) -> String {
    let what = match f.event {
        AlarmEvent::Exit => " exited!",
        AlarmEvent::Coredump => " exited with coredump!",
        AlarmEvent::GiveUp => ": supervise gave up restarting it!",
        AlarmEvent::NotReady => " was not ready in time!",
        AlarmEvent::Watchdog => " missed its watchdog!",
        AlarmEvent::Unhealthy => " is unhealthy!",
    };
    format!(
        "{} [Alarm: {}] Service {}{what}",
        f.when_local, f.host, f.service
    )
}

/// The programs to run for an alarm, in this order: mail (one run for all
/// addresses, only when `alarm_mail` is set), one SMS per `alarm_gsm`
/// number, then `alarm_command` when set.
pub fn invocations(f: &AlarmFacts, conf: &Conf) -> Vec<Invocation> {
    let text = one_line(&message(f));
    let mut runs = Vec::new();
    if !conf.alarm_mail.is_empty() {
        let addresses: Vec<String> = conf.alarm_mail.iter().map(|a| no_nul(a)).collect();
        let mail_sent = format!("mail sent: {} to {}", message(f), addresses.join(" "));
        let mut args = vec!["-s".to_owned(), text.clone()];
        args.extend(addresses);
        runs.push(Invocation {
            program: conf.mail_program.clone(),
            args,
            env: Vec::new(),
            stdin: mail_body(f).into_bytes(),
            mail_sent: Some(mail_sent),
        });
    }
    for number in &conf.alarm_gsm {
        runs.push(Invocation {
            program: conf.sms_program.clone(),
            args: vec![format!("{}@{text}", no_nul(number))],
            env: Vec::new(),
            stdin: Vec::new(),
            mail_sent: None,
        });
    }
    if let Some(program) = &conf.alarm_command {
        runs.push(Invocation {
            program: program.clone(),
            args: vec![no_nul(&f.service), f.event.as_str().to_owned()],
            env: command_env(f, &text),
            stdin: Vec::new(),
            mail_sent: None,
        });
    }
    runs
}

/// The mail body: the message, the facts one per line, then the tail of
/// `__stderr` indented by two spaces (see the module doc for why).
pub fn mail_body(f: &AlarmFacts) -> String {
    let mut lines = vec![
        one_line(&message(f)),
        String::new(),
        format!("service: {}", one_line(&f.service)),
        format!("host: {}", one_line(&f.host)),
        format!("event: {}", f.event.as_str()),
        format!("time: {}", one_line(&f.when_local)),
    ];
    lines.push(match f.how {
        Exit::Code(code) => format!("exit code: {code}"),
        Exit::Signal { signal, .. } => format!("signal: {signal} ({})", signal_name(signal)),
    });
    lines.push(format!(
        "core dumped: {}",
        if f.how.core_dumped() { "yes" } else { "no" }
    ));
    lines.push(format!(
        "run time: {}s",
        crate::duration::millis(f.run_time)
    ));
    lines.push(format!("restarts in the window: {}", f.restarts_in_window));
    lines.push(String::new());
    let tail = f.stderr_tail.trim_end_matches('\n');
    if tail.is_empty() {
        lines.push("last lines of __stderr: (none)".to_owned());
    } else {
        lines.push("last lines of __stderr:".to_owned());
        lines.extend(
            tail.split('\n')
                .map(|l| format!("  {}", l.trim_end_matches('\r'))),
        );
    }
    let mut body = lines.join("\n");
    body.push('\n');
    body
}

/// `alarm_command`'s environment: every variable is always set, empty when
/// it does not apply (no exit code after a signal, and so on).
fn command_env(f: &AlarmFacts, text: &str) -> Vec<(String, String)> {
    let (code, signal) = match f.how {
        Exit::Code(code) => (code.to_string(), None),
        Exit::Signal { signal, .. } => (String::new(), Some(signal)),
    };
    let vars = [
        ("SUPERVISE_SERVICE", no_nul(&f.service)),
        ("SUPERVISE_EVENT", f.event.as_str().to_owned()),
        ("SUPERVISE_EXIT_CODE", code),
        (
            "SUPERVISE_SIGNAL",
            signal.map(|n| n.to_string()).unwrap_or_default(),
        ),
        (
            "SUPERVISE_SIGNAL_NAME",
            signal.map(signal_name).unwrap_or_default(),
        ),
        (
            "SUPERVISE_CORE_DUMPED",
            if f.how.core_dumped() { "1" } else { "0" }.to_owned(),
        ),
        ("SUPERVISE_RUN_TIME", f.run_time.as_secs().to_string()),
        (
            "SUPERVISE_RESTARTS_IN_WINDOW",
            f.restarts_in_window.to_string(),
        ),
        ("SUPERVISE_HOST", no_nul(&f.host)),
        ("SUPERVISE_MESSAGE", text.to_owned()),
    ];
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The name of signal `signo` (`SIGSEGV` for 11 on Linux), or `signal N`
/// for one without a name here (real-time signals among them).
pub fn signal_name(signo: i32) -> String {
    const NAMES: &[(i32, &str)] = &[
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGSTKFLT, "SIGSTKFLT"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGCHLD, "SIGCHLD"),
        (libc::SIGCONT, "SIGCONT"),
        (libc::SIGSTOP, "SIGSTOP"),
        (libc::SIGTSTP, "SIGTSTP"),
        (libc::SIGTTIN, "SIGTTIN"),
        (libc::SIGTTOU, "SIGTTOU"),
        (libc::SIGURG, "SIGURG"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGVTALRM, "SIGVTALRM"),
        (libc::SIGPROF, "SIGPROF"),
        (libc::SIGWINCH, "SIGWINCH"),
        (libc::SIGIO, "SIGIO"),
        (libc::SIGPWR, "SIGPWR"),
        (libc::SIGSYS, "SIGSYS"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == signo)
        .map_or_else(|| format!("signal {signo}"), |(_, name)| (*name).to_owned())
}

/// Control characters (newlines, carriage returns, tabs, escapes, NUL…)
/// replaced by spaces: safe as a mail subject, an SMS text or a body line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// NUL, which no argument or environment value can carry, as a space.
fn no_nul(text: &str) -> String {
    text.replace('\0', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(event: AlarmEvent) -> AlarmFacts {
        AlarmFacts {
            service: "redis".into(),
            host: "web01".into(),
            event,
            how: Exit::Code(1),
            run_time: Duration::from_millis(3250),
            restarts_in_window: 2,
            when_local: "2026-11-26 15:12:45".into(),
            stderr_tail: "oops\nfatal: out of cheese\n".into(),
        }
    }

    fn conf_with(mail: &[&str], gsm: &[&str], command: Option<&str>) -> Conf {
        Conf {
            alarm_mail: mail.iter().map(|s| s.to_string()).collect(),
            alarm_gsm: gsm.iter().map(|s| s.to_string()).collect(),
            alarm_command: command.map(str::to_owned),
            ..Conf::file_defaults()
        }
    }

    fn env<'a>(run: &'a Invocation, key: &str) -> &'a str {
        run.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{key} not set"))
    }

    #[test]
    fn messages_are_the_originals() {
        let cases = [
            (
                AlarmEvent::Exit,
                "2026-11-26 15:12:45 [Alarm: web01] Service redis exited!",
            ),
            (
                AlarmEvent::Coredump,
                "2026-11-26 15:12:45 [Alarm: web01] Service redis exited with coredump!",
            ),
            (
                AlarmEvent::GiveUp,
                "2026-11-26 15:12:45 [Alarm: web01] Service redis: supervise gave up restarting it!",
            ),
        ];
        for (event, text) in cases {
            assert_eq!(message(&facts(event)), text);
        }
    }

    #[test]
    fn event_names() {
        let names =
            [AlarmEvent::Exit, AlarmEvent::Coredump, AlarmEvent::GiveUp].map(AlarmEvent::as_str);
        assert_eq!(names, ["exit", "coredump", "give-up"]);
    }

    #[test]
    fn mail_is_one_run_with_every_address_and_the_facts_on_stdin() {
        let conf = conf_with(&["a@x", "b@x"], &[], None);
        let runs = invocations(&facts(AlarmEvent::Exit), &conf);
        assert_eq!(runs.len(), 1);
        let mail = &runs[0];
        assert_eq!(mail.program, "mail");
        assert_eq!(
            mail.args,
            [
                "-s",
                "2026-11-26 15:12:45 [Alarm: web01] Service redis exited!",
                "a@x",
                "b@x"
            ]
        );
        assert!(mail.env.is_empty());
        assert_eq!(
            mail.mail_sent.as_deref(),
            Some("mail sent: 2026-11-26 15:12:45 [Alarm: web01] Service redis exited! to a@x b@x")
        );
        assert_eq!(
            String::from_utf8(mail.stdin.clone()).unwrap(),
            "2026-11-26 15:12:45 [Alarm: web01] Service redis exited!\n\
             \n\
             service: redis\n\
             host: web01\n\
             event: exit\n\
             time: 2026-11-26 15:12:45\n\
             exit code: 1\n\
             core dumped: no\n\
             run time: 3.250s\n\
             restarts in the window: 2\n\
             \n\
             last lines of __stderr:\n\
             \x20 oops\n\
             \x20 fatal: out of cheese\n"
        );
    }

    #[test]
    fn the_body_names_the_signal_and_the_core() {
        let f = AlarmFacts {
            how: Exit::Signal {
                signal: 11,
                core: true,
            },
            stderr_tail: String::new(),
            ..facts(AlarmEvent::Coredump)
        };
        let body = mail_body(&f);
        assert!(body.contains("\nsignal: 11 (SIGSEGV)\n"), "{body}");
        assert!(!body.contains("exit code"), "{body}");
        assert!(body.contains("\ncore dumped: yes\n"), "{body}");
        assert!(body.contains("\nevent: coredump\n"), "{body}");
        assert!(body.ends_with("last lines of __stderr: (none)\n"), "{body}");
    }

    #[test]
    fn no_mail_without_addresses_and_one_sms_per_number() {
        let conf = Conf {
            sms_program: "/opt/gsm/send".into(),
            ..conf_with(&[], &["13800000000", "13900000000"], None)
        };
        let runs = invocations(&facts(AlarmEvent::Exit), &conf);
        let expected: Vec<Invocation> = ["13800000000", "13900000000"]
            .iter()
            .map(|n| Invocation {
                program: "/opt/gsm/send".into(),
                args: vec![format!(
                    "{n}@2026-11-26 15:12:45 [Alarm: web01] Service redis exited!"
                )],
                env: Vec::new(),
                stdin: Vec::new(),
                mail_sent: None,
            })
            .collect();
        assert_eq!(runs, expected);
        assert!(invocations(&facts(AlarmEvent::Exit), &Conf::file_defaults()).is_empty());
    }

    #[test]
    fn alarm_command_gets_the_facts_as_arguments_and_environment() {
        let conf = conf_with(&["a@x"], &["1"], Some("/usr/local/bin/page-me"));
        let f = AlarmFacts {
            how: Exit::Signal {
                signal: 9,
                core: false,
            },
            run_time: Duration::from_millis(61_900),
            ..facts(AlarmEvent::GiveUp)
        };
        let runs = invocations(&f, &conf);
        assert_eq!(
            runs.iter().map(|r| r.program.as_str()).collect::<Vec<_>>(),
            ["mail", "gsmsend-script", "/usr/local/bin/page-me"]
        );
        let cmd = &runs[2];
        assert_eq!(cmd.args, ["redis", "give-up"]);
        assert!(cmd.stdin.is_empty());
        let expected = [
            ("SUPERVISE_SERVICE", "redis"),
            ("SUPERVISE_EVENT", "give-up"),
            ("SUPERVISE_EXIT_CODE", ""),
            ("SUPERVISE_SIGNAL", "9"),
            ("SUPERVISE_SIGNAL_NAME", "SIGKILL"),
            ("SUPERVISE_CORE_DUMPED", "0"),
            ("SUPERVISE_RUN_TIME", "61"),
            ("SUPERVISE_RESTARTS_IN_WINDOW", "2"),
            ("SUPERVISE_HOST", "web01"),
            (
                "SUPERVISE_MESSAGE",
                "2026-11-26 15:12:45 [Alarm: web01] Service redis: supervise gave up restarting it!",
            ),
        ];
        for (key, value) in expected {
            assert_eq!(env(cmd, key), value, "{key}");
        }
        assert_eq!(cmd.env.len(), expected.len());
        let exited = invocations(&facts(AlarmEvent::Exit), &conf);
        assert_eq!(env(&exited[2], "SUPERVISE_EXIT_CODE"), "1");
        assert_eq!(env(&exited[2], "SUPERVISE_SIGNAL"), "");
        assert_eq!(env(&exited[2], "SUPERVISE_SIGNAL_NAME"), "");
    }

    #[test]
    fn signal_names() {
        let cases = [
            (1, "SIGHUP"),
            (2, "SIGINT"),
            (6, "SIGABRT"),
            (9, "SIGKILL"),
            (11, "SIGSEGV"),
            (15, "SIGTERM"),
            (0, "signal 0"),
            (40, "signal 40"),
            (-3, "signal -3"),
        ];
        for (signo, name) in cases {
            assert_eq!(signal_name(signo), name, "{signo}");
        }
        assert_eq!(signal_name(libc::SIGBUS), "SIGBUS");
    }

    #[test]
    fn one_line_replaces_every_control_character() {
        assert_eq!(
            one_line("a\nb\r\nc\td\0e\x1bf\u{7f}g\u{85}h"),
            "a b  c d e f g h"
        );
        assert_eq!(one_line("plain ünïcode"), "plain ünïcode");
    }

    /// Service names an attacker (or an unlucky operator) might choose.
    const HOSTILE: &[&str] = &[
        "'; rm -rf / #",
        "$(id)",
        "`id`",
        "\"; id; echo \"",
        "a\nSubject: forged\nBcc: victim@example.com",
        "a\r\nX-Injected: 1",
        "x\n~! id\n.\n",
        "-oQ/tmp",
    ];

    #[test]
    fn hostile_names_stay_single_arguments_and_forge_no_header() {
        let conf = conf_with(&["ops@x", "oncall@x"], &["138"], Some("/bin/page"));
        for &name in HOSTILE {
            let f = AlarmFacts {
                service: name.to_owned(),
                stderr_tail: format!("{name}\n~! id\n.\n"),
                ..facts(AlarmEvent::Exit)
            };
            let runs = invocations(&f, &conf);
            assert_eq!(runs.len(), 3, "{name:?}");

            // Mail: same argument count whatever the name; the subject is
            // one line holding the name's characters, the addresses intact.
            let mail = &runs[0];
            assert_eq!(mail.args.len(), 4, "{name:?}");
            assert_eq!(mail.args[0], "-s");
            let subject = &mail.args[1];
            assert!(!subject.chars().any(char::is_control), "{subject:?}");
            assert_eq!(subject, &one_line(&message(&f)));
            assert!(subject.contains(&one_line(name)), "{subject:?}");
            assert_eq!(&mail.args[2..], ["ops@x", "oncall@x"]);

            // The body: no line that a mail program could take as a `~`
            // escape or the `.` end of input.
            let body = String::from_utf8(mail.stdin.clone()).unwrap();
            for line in body.lines() {
                assert!(!line.starts_with('~') && line != ".", "{name:?}: {line:?}");
            }
            assert!(body.contains("\n  ~! id\n"), "{body}");

            // SMS: one argument, one line.
            let sms = &runs[1];
            assert_eq!(sms.args.len(), 1);
            assert!(sms.args[0].starts_with("138@"));
            assert!(!sms.args[0].chars().any(char::is_control));

            // alarm_command: the name is passed through unchanged, as one
            // argument and one variable; only the message is made one line.
            let cmd = &runs[2];
            assert_eq!(cmd.args, [name, "exit"]);
            assert_eq!(env(cmd, "SUPERVISE_SERVICE"), name);
            assert!(!env(cmd, "SUPERVISE_MESSAGE").chars().any(char::is_control));
        }
    }

    #[test]
    fn nul_never_reaches_an_argument_or_the_environment() {
        let conf = conf_with(&["a@x"], &["1"], Some("/bin/page"));
        let f = AlarmFacts {
            service: "re\0dis".into(),
            host: "h\0st".into(),
            ..facts(AlarmEvent::Exit)
        };
        for run in invocations(&f, &conf) {
            for text in run.args.iter().chain(run.env.iter().map(|(_, v)| v)) {
                assert!(!text.contains('\0'), "{text:?}");
            }
        }
    }
}
