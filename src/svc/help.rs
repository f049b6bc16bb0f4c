//! The text of `svc --help`; the exit-code table is generated from
//! [`Code::meaning`] and [`Code::status`].

use super::code::{Code, Form, INTERRUPTED};

/// The usage lines, also printed after a usage error; the first is the
/// original script's.
pub const USAGE: &str = "\
Usage: svc STATUSDIR COMMAND [ARGV]
       svc [-w SECONDS] DIR start|stop|restart|status|reconf|exit
       svc [-w SECONDS] DIR alarm on|off
       svc [-d ROOT] [-w SECONDS] start|stop|restart|reconf|exit NAME...
       svc [-d ROOT] status [--json] [NAME|DIR|ROOT]...
       svc [-d ROOT] [-w SECONDS] wait up|down|ready NAME...
       svc [-d ROOT] history [--json] [-n N] NAME|DIR
       svc [-d ROOT] metrics [NAME|DIR|ROOT]...
       svc [-d ROOT] [-w SECONDS] reload | svc reload ROOT
       svc [-udopchaitkxsnr]... [-w up|down|ready] [-w SECONDS] DIR...
       svc --help | --version";

const BODY: &str = "
DIR is a status directory kept by supervise (e.g. /home/work/status/redis).

Commands, each waiting until the status file shows all it asked for (at
most -w SECONDS, default 30):
  start       send u; wait until the service runs, wanted up, and is ready
              if it declares readiness (DIR/info says so); print its pid.
              In a back-off after a crash: say so at once, send nothing
  stop        silence alarms (if on), send d; wait until the service and its
              whole process group are gone; turn alarms back on and wait
              until the status file shows them on
  restart     silence alarms (if on), send du; wait until a new child runs
              (and is ready, as for start); turn alarms back on and wait for
              them too. In a back-off: send u, which starts it at once
  status      the original lines (pid:, start time:, alarm:), then more
  alarm on    send n (alarm off: send s); wait until the status file shows it
  reconf      send r (supervise re-reads its config; see DIR/supervise.log)
  exit        send dx; wait until the service and supervise are both gone
supervise stops a service with TERM (and CONT), then KILL after its stop
timeout; a stop or restart asked for this way never alarms and never counts
toward max_tries. If a wait ends early (timeout, Ctrl-C), alarms are still
turned back on. svc DIR COMMAND exits with the original script's codes (the
second column below).

daemontools form: each flag sends its control byte, in order, to every DIR:
  -u up   -d down   -o once   -x exit when down   -p pause (STOP)
  -c continue   -h HUP   -a ALRM   -i INT   -t TERM   -k KILL
  -s silence alarms   -n alarms on again   -r re-read config
  -w up|down|ready   then wait until every DIR shows that state (down: pid
               0 and the process group gone; ready: up, and ready as DIR/info
               says, or just up without it); silent on success
  svc -h with no DIR prints this help.

Services by name (e.g. under supervise-scan): the verb comes first.
  NAME        a word without /: ROOT/status/NAME. A word with / (or . or
              ..) is a path: svc stop ./web, svc stop /srv/status/web.
              Without -d, if ROOT/status/NAME is not a directory but ./NAME
              is, ./NAME is meant (as svc status NAME always read it).
  ROOT        -d ROOT or --root ROOT, else $SUPERVISE_ROOT, else the
              current directory
  start|stop|restart|reconf|exit NAME...
              the verb above on each NAME in turn, each with its own -w
              deadline; exit code: the first failure's. Under a
              supervise-scan that reads ROOT/supervise-scan.control, start
              of a service whose supervise is not running (it gave up) asks
              the scanner to start it again, and stop asks the scanner (it
              stops first what requires NAME)
  status      with no NAME, every service of ROOT (the directories in
              ROOT/status, sorted by name), removed ones included; so does
              a ROOT given as an argument (a directory holding status/ and
              not itself a status directory)
  wait up|down|ready NAME...
              send nothing; wait until every NAME shows the state, all
              within one -w deadline (as svc -w up|down|ready DIR...)
  history NAME|DIR
              its last exits from DIR/history, oldest first: local time,
              pid, exit code or signal, how long it ran, why (crash, asked,
              ...); -n N: the latest N (default 100); --json: one array
  metrics     the Prometheus text format of every NAME, DIR or ROOT (none:
              ROOT): supervise_up, _want_up, _ready, _restarts_total,
              _last_exit_code, _last_exit_signal, _start_time_seconds,
              _gave_up, _backoff_seconds, _supervisor_up; a dead supervise
              is a value (0), not an error
  reload      SIGHUP to the supervise-scan holding ROOT/supervise-scan.lock,
              then wait for the outcome of its load in
              ROOT/supervise-scan.reload: applied, its changes are printed
              (start, stop, restart, reread, warnings); refused, its errors,
              and every service runs as before
The verb-first reading is taken unless it could not work: svc status start
is the original form only if `status` is a status directory, and svc -d X
stop NAME sends daemontools -d to X and `stop` only if `stop` is one.
Use --root ROOT to avoid the question.

svc status DIR|NAME... prints one line per directory, e.g.
  status/redis: up (pid 4242) 3601 seconds, want up, alarm on
and with --json one object per line: dir, name, state (up, down,
supervise-not-running, error), pid, since (RFC 3339, local time with its
offset), seconds, want, paused, alarm, supervise_pid, orphan. A directory
whose supervise is dead is reported as such, not from its stale status
file. Listing a whole ROOT
prints one table instead,
  NAME  STATE                  PID   SECONDS  WANT  ALARM  NOTE
  a     up                     4242  3601     up    on
  old   supervise-not-running  -     12       down  on
(STATE: up, paused, down, supervise-not-running, error; NOTE: the error, or
a service left running unsupervised), and with --json one JSON array of the
same objects. Every service is listed; the exit code is 0 only if each
supervise runs.

Where supervise writes DIR/info (ours does; the original does not), status
says why too: the line goes on after `; ` with the state (ready, starting,
unhealthy, stopping, backing off, next start in 3.2 s, gave up: RULE), the
last exit (code or signal, core, when, how long it ran, why), the restarts
in the alarm window and in total, the last STATUS= text:
  status/web: down 0 seconds, want up, alarm on; backing off, next start in
  3.2 s; last exit: exit 3 (crash), 1 s ago, ran 0.012 s; restarts: 5 in
  window, 12 total
The table's STATE is then info's word (ready, starting, unhealthy,
stopping, backoff, down, gave-up) and NOTE the rest; JSON adds
service_state, readiness, ready, started, ready_since, health_failures,
status_text, last_exit, last_exit_code, last_exit_signal, last_exit_core,
last_exit_time, last_run_seconds, last_exit_cause, restarts_window,
restarts_total, next_start, next_start_in, backoff_seconds, gave_up; svc DIR
status adds lines after its own (service:, last exit:, restarts:,
status:). Without DIR/info, every view is as it was.

Exit codes, and in the second column the code of svc DIR COMMAND, which
keeps the original script's:
";

/// One line of the exit-code table: both codes, then the meaning.
fn code_line(extended: &str, original: &str, meaning: &str) -> String {
    format!("  {extended:>5}  {original:>5}  {meaning}\n")
}

/// The whole `svc --help` text.
pub fn text() -> String {
    let mut text = format!("{USAGE}\n{BODY}");
    for code in Code::ALL {
        let status = |form| code.status(form).to_string();
        text.push_str(&code_line(
            &status(Form::Extended),
            &status(Form::Original),
            code.meaning(),
        ));
    }
    text.push_str(&code_line("128+N", "128+N", INTERRUPTED));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_exit_code() {
        let text = text();
        for code in Code::ALL {
            let line = format!(
                "{:>5}  {:>5}  {}\n",
                code.status(Form::Extended),
                code.status(Form::Original),
                code.meaning()
            );
            assert!(text.contains(&line), "{code:?}");
        }
        assert!(text.starts_with("Usage: svc STATUSDIR COMMAND [ARGV]\n"));
    }

    #[test]
    fn readme_shows_the_same_usage() {
        let readme = include_str!("../../README.md");
        for line in USAGE.lines().skip(1) {
            let form = line.trim_start();
            assert!(
                readme.contains(&format!("\n{form}\n")),
                "README lacks {form}"
            );
        }
    }
}
