//! The text of `svc --help`; the exit-code table is generated from
//! [`code::TABLE`](super::code::TABLE).

use super::code::TABLE;

/// The usage lines, also printed after a usage error.
pub const USAGE: &str = "\
usage: svc [-w SECONDS] DIR start|stop|restart|status|reconf|exit
       svc [-w SECONDS] DIR alarm on|off
       svc [-udopchaitkxsnr]... [-w up|down] [-w SECONDS] DIR...
       svc status [--json] DIR...
       svc --help | --version";

const BODY: &str = "
DIR is a status directory kept by supervise (e.g. /home/work/status/redis).

Commands, each waiting for its result (at most -w SECONDS, default 30):
  start       send u; wait until the service runs; print its pid
  stop        silence alarms (if on), send d; wait until the service and its
              whole process group are gone; turn alarms back on
  restart     silence alarms (if on), send du; wait until a new child runs;
              turn alarms back on
  status      the original lines (pid:, start time:, alarm:), then more
  alarm on    send n (alarm off: send s); wait until the status file shows it
  reconf      send r (supervise re-reads its config; see DIR/supervise.log)
  exit        send dx; wait until the service and supervise are both gone
supervise stops a service with TERM (and CONT), then KILL after its stop
timeout; a stop or restart asked for this way never alarms and never counts
toward max_tries. If a wait ends early (timeout, Ctrl-C), alarms are still
turned back on.

daemontools form: each flag sends its control byte, in order, to every DIR:
  -u up   -d down   -o once   -x exit when down   -p pause (STOP)
  -c continue   -h HUP   -a ALRM   -i INT   -t TERM   -k KILL
  -s silence alarms   -n alarms on again   -r re-read config
  -w up|down   then wait until every DIR shows that state (down: pid 0 and
               the process group gone); silent on success
  svc -h with no DIR prints this help.

svc status DIR... prints one line per directory, e.g.
  status/redis: up (pid 4242) 3601 seconds, want up, alarm on
and with --json one object per line: dir, name, state (up, down,
supervise-not-running, error), pid, since (RFC 3339, UTC), seconds, want,
paused, alarm, supervise_pid, orphan. A directory whose supervise is dead is
reported as such, not from its stale status file.

Exit codes:
";

/// The whole `svc --help` text.
pub fn text() -> String {
    let mut text = format!("{USAGE}\n{BODY}");
    for (code, meaning) in TABLE {
        text.push_str(&format!("  {:>5}  {meaning}\n", code.status()));
    }
    text.push_str("  128+N  interrupted by signal N while waiting\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_exit_code() {
        let text = text();
        for (code, meaning) in TABLE {
            assert!(
                text.contains(&format!("{:>5}  {meaning}", code.status())),
                "{code:?}"
            );
        }
        assert!(text.starts_with("usage: svc"));
    }
}
