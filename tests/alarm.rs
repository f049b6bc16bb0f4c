//! Alarms end to end (issue 3, points 5 and 6): the real binary, real
//! senders. Mail goes through Debian's `mail` (bsd-mailx) and msmtp's
//! `sendmail` (msmtp-mta) to an SMTP sink on 127.0.0.1
//! (tests/fixtures/smtp_sink.py, aiosmtpd; `.ci/run` installs all three);
//! SMS and `alarm_command` go to recording scripts.
//!
//! Each test is self-contained and safe in parallel: its own temp dir, its
//! own SMTP port (chosen by the kernel), its own configuration. bsd-mailx
//! reads the file named by `MAILRC`, where `set sendmail=` names a wrapper in
//! the temp dir that runs `/usr/sbin/sendmail -C <per-test msmtprc>`; so
//! neither /etc/msmtprc nor ~/.mailrc is read or written. (bsd-mailx still
//! reads /etc/mail.rc first, and calls its sendmail as `-i -t`: recipients
//! come from the headers.)
//!
//! Every process a test starts — supervise, the services, the SMTP sink and
//! every sender script, which records its pid — is killed by pid in a Drop
//! guard, even when the test panics.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::*;

const SMTP_SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp_sink.py");

/// The host name supervise puts in `[Alarm: HOST]`.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0, "gethostname");
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `s` quoted for a POSIX shell script (single quotes).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A path quoted for a POSIX shell script.
fn sh_path(path: &Path) -> String {
    sh_quote(&path.display().to_string())
}

/// Writes `text` to `path` through a temporary name, so a reader (supervise
/// reading its config, say) never sees half of it.
fn write_file(path: &Path, text: &str, mode: u32) {
    let tmp = path.with_extension("tmp-write");
    fs::write(&tmp, text).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// Kills every process whose pid a script recorded in `pids_dir` (one
/// empty file per pid), with its process group when it leads its own:
/// senders run in a group of their own, and what they start stays in it.
fn kill_recorded(pids_dir: &Path) {
    let own_group = unsafe { libc::getpgrp() } as u32;
    let Ok(entries) = fs::read_dir(pids_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid <= 1 || !alive(pid) {
            continue;
        }
        let pgid = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit(')')
                    .next()?
                    .split_whitespace()
                    .nth(2)?
                    .parse::<u32>()
                    .ok()
            });
        if let Some(pgid) = pgid
            && pgid == pid
            && pgid != own_group
        {
            kill_group(pgid, libc::SIGKILL);
        }
        kill(pid, libc::SIGKILL);
    }
}

// ---------------------------------------------------------------------------
// The SMTP sink and the messages it receives.

/// tests/fixtures/smtp_sink.py on a free port of 127.0.0.1; killed on drop.
struct SmtpSink {
    child: Child,
    out: PathBuf,
    port: u16,
}

impl SmtpSink {
    fn start(dir: &Path) -> SmtpSink {
        let out = dir.join("smtp");
        fs::create_dir_all(&out).unwrap();
        let port_file = dir.join("smtp.port");
        let child = Command::new("python3")
            .arg(SMTP_SINK)
            .arg(&out)
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs the SMTP sink (see .ci/run for aiosmtpd)");
        let mut sink = SmtpSink {
            child,
            out,
            port: 0,
        };
        let mut port = None;
        wait_until("the SMTP sink listens and writes its port", || {
            if let Ok(Some(status)) = sink.child.try_wait() {
                panic!("the SMTP sink exited early ({status}): is aiosmtpd installed?");
            }
            port = fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok());
            port.is_some()
        });
        sink.port = port.unwrap();
        sink
    }

    /// Every message received so far, in order.
    fn messages(&self) -> Vec<Mail> {
        let mut numbered: Vec<(u32, PathBuf)> = fs::read_dir(&self.out)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name
                    .strip_prefix("msg-")?
                    .strip_suffix(".eml")?
                    .parse()
                    .ok()?;
                Some((n, e.path()))
            })
            .collect();
        numbered.sort();
        numbered
            .into_iter()
            .map(|(_, eml)| Mail::read(&eml))
            .collect()
    }

    /// Waits until `n` messages arrived and returns them.
    fn wait_messages(&self, n: usize) -> Vec<Mail> {
        let limit = DEADLINE * 2;
        wait_until_for(limit, &format!("{n} message(s) in the SMTP sink"), || {
            self.messages().len() >= n
        });
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message as the SMTP server got it.
#[derive(Debug)]
struct Mail {
    /// MAIL FROM.
    from: String,
    /// RCPT TO, sorted.
    rcpt: Vec<String>,
    /// Header fields, unfolded, in order.
    headers: Vec<(String, String)>,
    /// The body with `\n` line ends.
    body: String,
}

impl Mail {
    fn read(eml: &Path) -> Mail {
        let envelope = fs::read_to_string(eml.with_extension("envelope")).unwrap();
        let mut from = String::new();
        let mut rcpt = Vec::new();
        for line in envelope.lines() {
            if let Some(a) = line.strip_prefix("from ") {
                from = a.to_owned();
            } else if let Some(a) = line.strip_prefix("to ") {
                rcpt.push(a.to_owned());
            }
        }
        // msmtp -t gives the recipients in an order of its own.
        rcpt.sort();
        let raw = fs::read_to_string(eml).unwrap().replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                let last = headers.last_mut().expect("a continuation after a field");
                last.1.push(' ');
                last.1.push_str(line.trim());
            } else if let Some((k, v)) = line.split_once(':') {
                headers.push((k.to_owned(), v.trim().to_owned()));
            } else {
                panic!("not a header line: {line:?} in {raw}");
            }
        }
        Mail {
            from,
            rcpt,
            headers,
            body: body.to_owned(),
        }
    }

    /// The one header field `name` (case-insensitive); panics when absent
    /// or repeated.
    fn header(&self, name: &str) -> &str {
        let found: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(found.len(), 1, "one {name} header in {self:#?}");
        found[0]
    }

    /// The body line that starts with `prefix`, without the prefix.
    fn fact(&self, prefix: &str) -> &str {
        self.body
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in the body:\n{}", self.body))
    }
}

/// Asserts `text` is `YYYY-MM-DD HH:MM:SS` followed by `rest`.
fn assert_stamped(text: &str, rest: &str) {
    let (stamp, tail) = text.split_at(text.len().min(19));
    let pattern = "dddd-dd-dd dd:dd:dd";
    let shaped = stamp.len() == 19
        && stamp.chars().zip(pattern.chars()).all(|(c, p)| match p {
            'd' => c.is_ascii_digit(),
            _ => c == p,
        });
    assert!(
        shaped && tail == rest,
        "expected `{pattern}{rest}`, got {text:?}"
    );
}

/// Waits until a service of [`Setup::service_failing_once`] failed, was
/// restarted and runs; returns the pid of the run that goes on. (Its first
/// run may be too short to be seen, and the status file may still show it
/// after the restart is logged, so the second run announces its pid.)
fn wait_restarted(h: &mut Harness) -> u32 {
    let pid_file = h.root.join("service.pid");
    let mut pid = 0;
    wait_until("the service's second run writes service.pid", || {
        pid = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        pid != 0
    });
    let dir = h.sup.status_dir.clone();
    wait_until(&format!("the status file shows pid {pid}"), || {
        supervise::status::read(&dir).is_ok_and(|s| s.pid == pid)
    });
    assert_eq!(h.sup.service_pid(), pid);
    pid
}

/// Parses `3.250s`.
fn seconds(text: &str) -> f64 {
    text.strip_suffix('s')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a run time: {text:?}"))
}

// ---------------------------------------------------------------------------
// Building a test: a temp dir with a service, a config, recording senders.

/// One call of a recording script.
#[derive(Debug)]
struct Call {
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

struct Setup {
    dir: TempDir,
    /// Put first on PATH for supervise and so for its senders.
    bin: PathBuf,
    /// Every sender script records its pid here (see [`kill_recorded`]).
    pids: PathBuf,
    env: Vec<(String, String)>,
    sink: Option<SmtpSink>,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        let dir = TempDir::new(tag);
        let bin = dir.join("bin");
        let pids = dir.join("pids");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&pids).unwrap();
        Setup {
            dir,
            bin,
            pids,
            env: Vec::new(),
            sink: None,
        }
    }

    /// The line a sender script starts with: record `$$` for clean-up.
    fn record_pid(&self) -> String {
        format!("touch {}/$$", sh_path(&self.pids))
    }

    /// Starts the SMTP sink and points `mail` at it through `MAILRC`.
    fn with_mail(&mut self) {
        for tool in ["/usr/bin/bsd-mailx", "/usr/sbin/sendmail"] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: install bsd-mailx and msmtp-mta (as .ci/run does)"
            );
        }
        let sink = SmtpSink::start(self.dir.path());
        let msmtprc = self.dir.join("msmtprc");
        write_file(
            &msmtprc,
            &format!(
                "defaults\nauth off\ntls off\nlogfile {}\n\naccount default\nhost 127.0.0.1\nport {}\nfrom supervise@localhost\n",
                self.dir.join("msmtp.log").display(),
                sink.port
            ),
            0o600,
        );
        let sendmail = self.dir.join("sendmail");
        write_file(
            &sendmail,
            &format!(
                "#!/bin/sh\n{}\nexec /usr/sbin/sendmail -C {} \"$@\"\n",
                self.record_pid(),
                sh_path(&msmtprc)
            ),
            0o755,
        );
        let mailrc = self.dir.join("mailrc");
        write_file(
            &mailrc,
            &format!("set sendmail={}\n", sendmail.display()),
            0o644,
        );
        self.env
            .push(("MAILRC".into(), mailrc.display().to_string()));
        self.sink = Some(sink);
    }

    /// A program `bin/NAME` that records each call: its arguments
    /// (NUL-separated, so any byte but NUL survives) and its environment,
    /// written under temporary names and renamed, arguments last.
    fn recorder(&self, name: &str) -> PathBuf {
        let calls = self.calls_dir(name);
        fs::create_dir_all(&calls).unwrap();
        let d = sh_path(&calls);
        self.dir.script(
            &format!("bin/{name}"),
            &format!(
                "{}\n\
                 printf '%s\\0' \"$@\" > {d}/.$$.args\n\
                 env -0 > {d}/.$$.env\n\
                 mv {d}/.$$.env {d}/$$.env\n\
                 mv {d}/.$$.args {d}/$$.args",
                self.record_pid()
            ),
        )
    }

    /// A program `bin/NAME` that records its pid in `NAME.pid` and hangs.
    fn hanging(&self, name: &str) -> PathBuf {
        let pid_file = sh_path(&self.dir.join(&format!("{name}.pid")));
        self.dir.script(
            &format!("bin/{name}"),
            &format!(
                "{}\necho $$ > {pid_file}.tmp\nmv {pid_file}.tmp {pid_file}\nexec sleep 1000",
                self.record_pid()
            ),
        )
    }

    fn calls_dir(&self, name: &str) -> PathBuf {
        self.dir.join(&format!("calls/{name}"))
    }

    /// A service that, on its first run, writes `stderr` lines to stderr,
    /// runs `then` and exits `code`; every later run writes its pid to
    /// `service.pid` and sleeps.
    fn service_failing_once(&self, stderr: &[&str], then: &str, code: i32) {
        let mut body = String::from(
            "if [ -e service.ran ]; then\n\
             \x20 echo $$ > service.pid.tmp && mv service.pid.tmp service.pid\n\
             \x20 exec sleep 1000\n\
             fi\n\
             : > service.ran\n",
        );
        for line in stderr {
            body.push_str(&format!("printf '%s\\n' {} >&2\n", sh_quote(line)));
        }
        body.push_str(&format!("{then}\nexit {code}"));
        self.dir.script("service.sh", &body);
    }

    fn conf(&self, text: &str) {
        self.dir.write("supervise.conf", text);
    }

    /// Starts supervise on `status/svc` with `bin/` first on PATH.
    fn start(self) -> Harness {
        self.start_as("status/svc")
    }

    /// Starts supervise on `status_dir`; unless it is `status/svc`, a
    /// symlink `status/svc` pointing at it lets the shared helpers work.
    fn start_as(self, status_dir: &str) -> Harness {
        if status_dir != "status/svc" {
            let target = status_dir.strip_prefix("status/").expect("status/NAME");
            fs::create_dir_all(self.dir.join("status")).unwrap();
            std::os::unix::fs::symlink(target, self.dir.join("status/svc")).unwrap();
        }
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut env: Vec<(&str, &str)> = vec![("PATH", &path)];
        env.extend(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let pids = self.pids.clone();
        let root = self.dir.path().to_owned();
        let sup = Supervise::start_with(self.dir, &["-p", status_dir, "-f", "./service.sh"], &env);
        Harness {
            sink: self.sink,
            sup,
            pids,
            root,
        }
    }
}

/// A running supervise with its SMTP sink and senders; on drop supervise is
/// killed first (so it starts no more senders), then every recorded sender,
/// then (by the fields' own drops) the SMTP sink, the services and the dir.
struct Harness {
    sink: Option<SmtpSink>,
    sup: Supervise,
    pids: PathBuf,
    root: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // supervise first (with the senders it started), so that it starts
        // no more; then any sender that got away.
        if let Some(child) = self.sup.child.take() {
            kill_child_tree(child);
        }
        kill_recorded(&self.pids);
    }
}

impl Harness {
    fn sink(&self) -> &SmtpSink {
        self.sink.as_ref().expect("with_mail was called")
    }

    /// Every recorded call of the recorder `name` so far.
    fn calls(&self, name: &str) -> Vec<Call> {
        let dir = self.root.join(format!("calls/{name}"));
        let mut calls = Vec::new();
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "args")
                || entry.file_name().to_string_lossy().starts_with('.')
            {
                continue;
            }
            let split = |bytes: Vec<u8>| -> Vec<String> {
                let mut items: Vec<String> = bytes
                    .split(|b| *b == 0)
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect();
                assert_eq!(items.pop().as_deref(), Some(""), "NUL-terminated");
                items
            };
            let args = split(fs::read(&path).unwrap());
            let env = split(fs::read(path.with_extension("env")).unwrap())
                .into_iter()
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_owned(), v.to_owned()))
                })
                .collect();
            calls.push(Call { args, env });
        }
        calls
    }

    fn wait_calls(&self, name: &str, n: usize) -> Vec<Call> {
        wait_until(&format!("{n} call(s) of {name}"), || {
            self.calls(name).len() >= n
        });
        self.calls(name)
    }

    /// Files or directories under the test's dir whose name starts with
    /// `prefix` (markers an injected command would create).
    fn find(&self, prefix: &str) -> Vec<PathBuf> {
        fn walk(dir: &Path, prefix: &str, found: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_name().to_string_lossy().starts_with(prefix) {
                    found.push(path.clone());
                }
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&path, prefix, found);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.root, prefix, &mut found);
        found
    }
}

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn a_crash_sends_real_mail_to_every_address_with_the_facts() {
    let mut setup = Setup::new("mail");
    setup.with_mail();
    setup.service_failing_once(&["starting up", "boom: the disk is on fire"], "sleep 1", 3);
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_mail : ops@example.com oncall@example.com\n",
    );
    let mut h = setup.start();
    wait_restarted(&mut h); // the failed run was replaced

    let mails = h.sink().wait_messages(1);
    assert_eq!(mails.len(), 1, "one alarm per window: {mails:#?}");
    let mail = &mails[0];
    let host = hostname();
    let expected = format!(" [Alarm: {host}] Service svc exited!");

    assert_eq!(mail.rcpt, ["oncall@example.com", "ops@example.com"]);
    assert_eq!(mail.from, "supervise@localhost");
    // bsd-mailx sorts the addresses.
    assert_eq!(mail.header("To"), "oncall@example.com, ops@example.com");
    let subject = mail.header("Subject");
    assert_stamped(subject, &expected);

    assert_eq!(mail.body.lines().next(), Some(subject), "{}", mail.body);
    assert_eq!(mail.fact("service: "), "svc");
    assert_eq!(mail.fact("host: "), host);
    assert_eq!(mail.fact("event: "), "exit");
    assert_eq!(mail.fact("exit code: "), "3");
    assert_eq!(mail.fact("core dumped: "), "no");
    let ran = seconds(mail.fact("run time: "));
    assert!(
        (1.0..30.0).contains(&ran),
        "run time {ran}: the service slept 1 s"
    );
    assert_eq!(mail.fact("restarts in the window: "), "1");
    assert!(!mail.body.contains("signal:"), "{}", mail.body);
    assert!(
        mail.body
            .ends_with("last lines of __stderr:\n  starting up\n  boom: the disk is on fire\n"),
        "{}",
        mail.body
    );
    let sent = format!("mail sent: {subject} to ops@example.com oncall@example.com");
    h.sup.wait_log(&sent);
}

#[test]
fn giving_up_exits_2_logs_the_originals_line_and_mails_it() {
    let mut setup = Setup::new("giveup");
    setup.with_mail();
    setup
        .dir
        .script("service.sh", "echo 'no config, no luck' >&2\nexit 3");
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_mail : ops@example.com\n\
         [svc]\n\
         max_tries : 1\n",
    );
    let mut h = setup.start();
    let status = h.sup.wait_exit();
    assert_eq!(status.code(), Some(2), "supervise gave up: {status}");
    assert!(
        h.sup
            .log()
            .contains("supervise refused to restart svc any more and exited itself!")
    );
    assert_eq!(h.sup.status().pid, 0, "the service is left down");

    // The first exit alarms (it opens the window); the second gives up.
    let mails = h.sink().wait_messages(2);
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let host = hostname();
    let subjects: Vec<&str> = mails.iter().map(|m| m.header("Subject")).collect();
    let exited = mails
        .iter()
        .find(|m| m.header("Subject").ends_with(" exited!"))
        .unwrap_or_else(|| panic!("an exit alarm among {subjects:?}"));
    let gave_up = mails
        .iter()
        .find(|m| m.header("Subject").ends_with("gave up restarting it!"))
        .unwrap_or_else(|| panic!("a give-up alarm among {subjects:?}"));
    assert_stamped(
        exited.header("Subject"),
        &format!(" [Alarm: {host}] Service svc exited!"),
    );
    assert_stamped(
        gave_up.header("Subject"),
        &format!(" [Alarm: {host}] Service svc: supervise gave up restarting it!"),
    );
    assert_eq!(gave_up.rcpt, ["ops@example.com"]);
    assert_eq!(gave_up.fact("event: "), "give-up");
    assert_eq!(gave_up.fact("exit code: "), "3");
    assert_eq!(gave_up.fact("restarts in the window: "), "2");
    assert!(
        gave_up.body.contains("\n  no config, no luck\n"),
        "{}",
        gave_up.body
    );
}

#[test]
fn sms_is_one_number_at_message_argument_per_number() {
    let setup = Setup::new("sms");
    setup.recorder("gsmsend-script");
    setup.service_failing_once(&["sms me"], ":", 3);
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_gsm : 13800000000 13900000000\n\
         [svc]\n\
         alarm_gsm : 15000000000\n",
    );
    let mut h = setup.start();
    wait_restarted(&mut h);
    let calls = h.wait_calls("gsmsend-script", 3);
    let host = hostname();
    let mut numbers = Vec::new();
    for call in &calls {
        assert_eq!(call.args.len(), 1, "one argument: {call:?}");
        let (number, message) = call.args[0].split_once('@').expect("NUMBER@MESSAGE");
        assert_stamped(message, &format!(" [Alarm: {host}] Service svc exited!"));
        numbers.push(number.to_owned());
    }
    numbers.sort();
    assert_eq!(numbers, ["13800000000", "13900000000", "15000000000"]);
    h.sup.wait_log("alarm sender gsmsend-script started");
}

#[test]
fn mail_and_sms_through_one_program_are_both_sent_and_logged() {
    let setup = Setup::new("one-sender");
    setup.recorder("send-all");
    setup.service_failing_once(&["twice told"], ":", 3);
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_mail : ops@example.com\n\
         alarm_gsm : 13800000000\n\
         alarm_mail_program : send-all\n\
         alarm_sms_program : send-all\n",
    );
    let mut h = setup.start();
    wait_restarted(&mut h);
    let calls = h.wait_calls("send-all", 2);
    let mut args: Vec<usize> = calls.iter().map(|c| c.args.len()).collect();
    args.sort();
    assert_eq!(args, [1, 3], "one SMS call and one mail call: {calls:?}");
    h.sup.wait_log("to ops@example.com");
    h.sup.wait_log("alarm sender send-all started");
    assert!(h.sup.running(), "supervise goes on");
}

#[test]
fn alarm_command_gets_name_event_and_supervise_environment() {
    let setup = Setup::new("command");
    let program = setup.recorder("page-me");
    setup.service_failing_once(&["paging"], "sleep 1", 3);
    setup.conf(&format!(
        "[global]\nalarm_interval : 60\nalarm_command : {}\n",
        program.display()
    ));
    let h = setup.start();
    let calls = h.wait_calls("page-me", 1);
    let call = &calls[0];
    assert_eq!(call.args, ["svc", "exit"]);
    let host = hostname();
    let var = |k: &str| {
        call.env
            .get(k)
            .unwrap_or_else(|| panic!("{k} not set: {:?}", call.env))
            .as_str()
    };
    assert_eq!(var("SUPERVISE_SERVICE"), "svc");
    assert_eq!(var("SUPERVISE_EVENT"), "exit");
    assert_eq!(var("SUPERVISE_EXIT_CODE"), "3");
    assert_eq!(var("SUPERVISE_SIGNAL"), "");
    assert_eq!(var("SUPERVISE_SIGNAL_NAME"), "");
    assert_eq!(var("SUPERVISE_CORE_DUMPED"), "0");
    let run_time: u64 = var("SUPERVISE_RUN_TIME").parse().unwrap();
    assert!((1..30).contains(&run_time), "run time {run_time}");
    assert_eq!(var("SUPERVISE_RESTARTS_IN_WINDOW"), "1");
    assert_eq!(var("SUPERVISE_HOST"), host);
    assert_stamped(
        var("SUPERVISE_MESSAGE"),
        &format!(" [Alarm: {host}] Service svc exited!"),
    );
    // The rest of supervise's environment is passed on.
    assert!(var("PATH").starts_with(&h.root.join("bin").display().to_string()));
}

#[test]
fn alarm_command_reports_a_signal() {
    let setup = Setup::new("command-signal");
    let program = setup.recorder("page-me");
    setup.dir.script("service.sh", "exec sleep 1000");
    setup.conf(&format!(
        "[global]\nalarm_interval : 60\nalarm_command : {}\n",
        program.display()
    ));
    let mut h = setup.start();
    let pid = h.sup.wait_running();
    kill(pid, libc::SIGKILL); // not through control: a crash, not a request
    let calls = h.wait_calls("page-me", 1);
    let env = &calls[0].env;
    assert_eq!(calls[0].args, ["svc", "exit"]);
    assert_eq!(env["SUPERVISE_EXIT_CODE"], "");
    assert_eq!(env["SUPERVISE_SIGNAL"], "9");
    assert_eq!(env["SUPERVISE_SIGNAL_NAME"], "SIGKILL");
    assert_eq!(env["SUPERVISE_CORE_DUMPED"], "0");
    h.sup.wait_new_pid(pid);
}

#[test]
fn a_hostile_service_name_is_only_data() {
    // Quotes, $(), backticks, ;, |, &&, ${IFS}, a newline that would start a
    // forged mail header: a directory name can hold all of it (not `/`).
    let name = "x'y\"z $(touch pwned-dollar) `touch pwned-tick` ;touch pwned-semi |touch pwned-pipe &&touch${IFS}pwned-and\nBcc: victim@example.org";
    let mut setup = Setup::new("hostile");
    setup.with_mail();
    setup.recorder("gsmsend-script");
    let program = setup.recorder("page-me");
    // The stderr tail goes into the mail body, where some mail programs
    // obey `~` escapes and a lone `.` (bsd-mailx only from a terminal):
    // they arrive indented, as text.
    setup.service_failing_once(
        &["~!touch pwned-tilde", "~s forged subject", ".", name],
        ":",
        3,
    );
    setup.conf(&format!(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_mail : ops@example.com oncall@example.com\n\
         alarm_gsm : 13800000000\n\
         alarm_command : {}\n",
        program.display()
    ));
    let mut h = setup.start_as(&format!("status/{name}"));
    wait_restarted(&mut h);

    let host = hostname();
    let flat = name.replace('\n', " ");
    let expected = format!(" [Alarm: {host}] Service {flat} exited!");

    let commands = h.wait_calls("page-me", 1);
    assert_eq!(
        commands[0].args,
        [name, "exit"],
        "verbatim, newline and all"
    );
    assert_eq!(commands[0].env["SUPERVISE_SERVICE"], name);
    assert_stamped(&commands[0].env["SUPERVISE_MESSAGE"], &expected);

    let sms = h.wait_calls("gsmsend-script", 1);
    assert_eq!(sms[0].args.len(), 1, "{:?}", sms[0]);
    let message = sms[0].args[0].strip_prefix("13800000000@").unwrap();
    assert_stamped(message, &expected);

    let mails = h.sink().wait_messages(1);
    let mail = &mails[0];
    assert_eq!(
        mail.rcpt,
        ["oncall@example.com", "ops@example.com"],
        "no forged recipient"
    );
    assert_stamped(mail.header("Subject"), &expected);
    assert!(
        !mail
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("bcc")),
        "{mail:#?}"
    );
    assert_eq!(mail.fact("service: "), flat);
    assert!(
        mail.body.ends_with(&format!(
            "last lines of __stderr:\n  ~!touch pwned-tilde\n  ~s forged subject\n  .\n  {}\n",
            name.replace('\n', "\n  ")
        )),
        "{}",
        mail.body
    );

    // Everything was delivered, so every sender has run: had anything been
    // executed, its marker would be there by now.
    assert_eq!(h.find("pwned"), Vec::<PathBuf>::new());
}

#[test]
fn a_hanging_sender_is_killed_and_supervision_goes_on() {
    let setup = Setup::new("hang");
    setup.hanging("gsmsend-script");
    setup.service_failing_once(&["hang up"], ":", 3);
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_gsm : 13800000000\n\
         alarm_timeout : 1\n",
    );
    let mut h = setup.start();
    // The failed run is replaced while the sender hangs or after: either
    // way the sender does not hold the restart up for its timeout.
    let second = wait_restarted(&mut h);
    let pid_file = h.root.join("gsmsend-script.pid");
    let mut sender = 0;
    wait_until("the hanging sender records its pid", || {
        sender = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        sender != 0
    });

    h.sup
        .wait_log_wf("alarm sender gsmsend-script did not finish in time: killed");
    wait_until("the hanging sender is gone", || !alive(sender));
    h.sup
        .wait_log_wf("alarm sender gsmsend-script failed: killed by signal 9");
    assert!(h.sup.running());
    assert_eq!(
        h.sup.service_pid(),
        second,
        "the service runs on: {}{}",
        h.sup.log(),
        h.sup.log_wf()
    );

    // supervise still obeys control bytes.
    h.sup.control("d");
    h.sup.wait_down();
    h.sup.control("u");
    let third = h.sup.wait_new_pid(second);
    h.sup.control("s");
    wait_until("alarms silenced", || !h.sup.status().alarms_on);
    kill(third, libc::SIGKILL);
    h.sup.wait_new_pid(third);
    h.sup.control("dx");
    let status = h.sup.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn silenced_alarms_send_nothing_until_re_enabled() {
    let setup = Setup::new("silenced");
    let program = setup.recorder("page-me");
    setup.recorder("gsmsend-script");
    setup.dir.script("service.sh", "exec sleep 1000");
    setup.conf(&format!(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_gsm : 13800000000\n\
         alarm_command : {}\n",
        program.display()
    ));
    let mut h = setup.start();
    let first = h.sup.wait_running();
    h.sup.control("s");
    wait_until("alarms silenced (status byte 14)", || {
        !h.sup.status().alarms_on
    });
    kill(first, libc::SIGKILL);
    let second = h.sup.wait_new_pid(first);
    // Senders are started while the exit is handled, before the restart:
    // once the restart is logged, an alarm would have been logged too.
    h.sup.wait_log("supervise is trying to restart svc...");
    let log = h.sup.log();
    assert!(log.contains("service exited!"), "{log}");
    assert!(!log.contains("alarm sender"), "{log}");
    assert!(!h.sup.log_wf().contains("alarm sender"));

    // The same exit with alarms back on does alarm: the recorders work.
    h.sup.control("n");
    wait_until("alarms on again", || h.sup.status().alarms_on);
    kill(second, libc::SIGKILL);
    h.sup.wait_new_pid(second);
    let commands = h.wait_calls("page-me", 1);
    let sms = h.wait_calls("gsmsend-script", 1);
    assert_eq!(commands[0].env["SUPERVISE_SIGNAL"], "9");
    assert_eq!(commands.len(), 1);
    assert_eq!(sms.len(), 1);
}

/// When supervise gives up, the senders it just started (the give-up alarm
/// among them) are still waited for and killed at `alarm_timeout` before it
/// exits: none outlives its supervision, and its failure is logged.
#[test]
fn senders_running_at_give_up_are_still_timed_out() {
    let setup = Setup::new("giveup-hang");
    setup.hanging("gsmsend-script");
    setup.dir.script("service.sh", "exit 3");
    setup.conf(
        "[global]\n\
         alarm_interval : 60\n\
         alarm_gsm : 13800000000\n\
         alarm_timeout : 1\n\
         max_tries : 1\n",
    );
    let mut h = setup.start();
    assert_eq!(h.sup.wait_exit().code(), Some(2));
    // One SMS for the exit, one for the give-up: both hang.
    let senders: Vec<u32> = fs::read_dir(&h.pids)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    assert_eq!(senders.len(), 2, "two senders ran: {senders:?}");
    wait_until_for(
        std::time::Duration::from_secs(5),
        "both hanging senders are killed (alarm_timeout 1 s)",
        || senders.iter().all(|&pid| !alive(pid)),
    );
    assert_eq!(
        h.sup
            .log_wf()
            .matches("did not finish in time: killed")
            .count(),
        2,
        "{}",
        h.sup.log_wf()
    );
}

#[test]
fn missing_alarm_programs_are_warnings_and_supervision_goes_on() {
    // mail, SMS and alarm_command all missing: each is a warning naming the
    // program; the service is restarted as ever.
    let dir = TempDir::new("alarm-missing");
    dir.write(
        "supervise.conf",
        "[svc]\nalarm_interval : 60\nmax_tries : 0\nalarm_mail : ops@example.com\n\
         alarm_gsm : 123\nalarm_mail_program : /no/such/mail\n\
         alarm_sms_program : /no/such/sms\nalarm_command : /no/such/command\n",
    );
    let mut sup = Supervise::start_with(dir, &["-p", "status/svc", "-f", "sleep 1000"], &[]);
    let pid = sup.wait_running();
    kill(pid, libc::SIGKILL);
    let new = sup.wait_new_pid(pid);
    for program in ["/no/such/mail", "/no/such/sms", "/no/such/command"] {
        sup.wait_log_wf(&format!("alarm sender {program} could not be run"));
    }
    assert!(alive(new));
    assert!(sup.running());
}
