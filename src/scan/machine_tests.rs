//! Table tests of every rule of the scanner's machine, then properties over
//! random sequences of loads, exits, launch outcomes, deadlines and
//! shutdowns against a model of the processes.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::conf::Conf;

pub(super) fn spec(name: &str, command: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        line: 1,
        command: command.split(' ').map(String::from).collect(),
        directory: None,
        user: None,
        groups: Vec::new(),
        user_line: 0,
        start: crate::status::Want::Up,
        env: Vec::new(),
        environment_file: None,
        umask: None,
        after: Vec::new(),
        requires: Vec::new(),
        conf: Conf::file_defaults(),
    }
}

pub(super) fn with_max_tries(mut spec: ServiceSpec, n: u32) -> ServiceSpec {
    spec.conf.max_tries = n;
    spec
}

pub(super) fn valid(services: &[ServiceSpec]) -> Input {
    Input::Load(Load::Valid {
        services: services.to_vec(),
        warnings: Vec::new(),
    })
}

pub(super) fn refused(errors: &[&str]) -> Input {
    Input::Load(Load::Refused {
        errors: errors.iter().map(|e| e.to_string()).collect(),
    })
}

pub(super) const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Only the effects that act (no log lines).
pub(super) fn acts(effects: &[Effect]) -> Vec<Effect> {
    effects
        .iter()
        .filter(|e| !matches!(e, Effect::Log(..)))
        .cloned()
        .collect()
}

pub(super) fn logs(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Log(_, line) => Some(line.clone()),
            _ => None,
        })
        .collect()
}

pub(super) fn launch(spec: &ServiceSpec) -> Effect {
    Effect::Launch(Box::new(spec.clone()))
}

pub(super) fn term(pid: u32) -> Effect {
    Effect::Signal {
        pid,
        signal: Signal::Term,
    }
}

pub(super) fn report(generation: u64, applied: bool, lines: &[&str]) -> Effect {
    Effect::Report(Report {
        generation,
        applied,
        lines: lines.iter().map(|l| l.to_string()).collect(),
    })
}

pub(super) fn exited(pid: u32, code: i32) -> Input {
    Input::Exited {
        pid,
        ended: Ended::Reaped(Exit::Code(code)),
    }
}

pub(super) fn killed(pid: u32) -> Input {
    Input::Exited {
        pid,
        ended: Ended::Reaped(Exit::Signal {
            signal: 9,
            core: false,
        }),
    }
}

pub(super) fn launched(name: &str, pid: u32) -> Input {
    Input::Launched {
        name: name.into(),
        pid,
    }
}

/// A machine running `a` (pid 100) and `b` (pid 200), loaded at time 0.
fn running_ab() -> (Machine, ServiceSpec, ServiceSpec) {
    let (a, b) = (spec("a", "sleep 1"), spec("b", "sleep 2"));
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a.clone(), b.clone()]));
    m.handle(secs(0), launched("a", 100));
    m.handle(secs(0), launched("b", 200));
    (m, a, b)
}

#[test]
fn the_first_load_starts_every_service_and_reports_it() {
    let (a, b) = (spec("a", "sleep 1"), spec("b", "sleep 2"));
    let mut m = Machine::new();
    let out = m.handle(secs(0), valid(&[b.clone(), a.clone()]));
    assert_eq!(
        acts(&out),
        [
            launch(&a),
            launch(&b),
            report(1, true, &["start b", "start a"])
        ]
    );
    assert_eq!(
        logs(&out),
        ["b: new section, starting", "a: new section, starting"]
    );
    let out = m.handle(secs(0), launched("a", 100));
    assert_eq!(logs(&out), ["a: supervise started (pid 100)"]);
    assert!(acts(&out).is_empty());
    assert_eq!(m.next_deadline(), None, "nothing to wake up for");
}

#[test]
fn a_supervise_that_dies_is_started_again_with_back_off() {
    let (mut m, a, _) = running_ab();
    // Ran 20 s: healthy, at once.
    let out = m.handle(secs(20), killed(100));
    assert_eq!(acts(&out), [launch(&a)]);
    assert_eq!(
        logs(&out),
        ["a: supervise died (killed by signal 9 SIGKILL); starting it again in 0 s"]
    );
    m.handle(secs(20), launched("a", 101));
    // Quick exits: the first at once, then 0.1 s, doubling.
    assert_eq!(acts(&m.handle(secs(21), killed(101))), [launch(&a)]);
    m.handle(secs(21), launched("a", 102));
    let out = m.handle(secs(22), killed(102));
    assert!(acts(&out).is_empty());
    assert!(logs(&out)[0].ends_with("starting it again in 0.1 s"));
    assert_eq!(m.next_deadline(), Some(secs(22) + ms(100)));
    assert!(acts(&m.handle(secs(22) + ms(50), Input::Deadline)).is_empty());
    assert_eq!(
        acts(&m.handle(secs(22) + ms(100), Input::Deadline)),
        [launch(&a)]
    );
}

#[test]
fn a_supervise_that_exits_on_purpose_waits_for_the_next_reload() {
    for code in [0, EXIT_GAVE_UP] {
        let (mut m, a, b) = running_ab();
        let out = m.handle(secs(5), exited(100, code));
        assert!(acts(&out).is_empty(), "{code}: {out:?}");
        assert!(logs(&out)[0].ends_with("not restarted until the next reload"));
        assert_eq!(m.next_deadline(), None);
        let out = m.handle(secs(6), valid(&[a.clone(), b.clone()]));
        assert_eq!(acts(&out), [launch(&a), report(2, true, &["start a"])]);
    }
}

#[test]
fn a_stopped_service_with_new_limits_is_started_with_them() {
    let (mut m, a, b) = running_ab();
    m.handle(secs(5), exited(100, EXIT_GAVE_UP));
    let a2 = with_max_tries(a, 9);
    let out = m.handle(secs(6), valid(&[a2.clone(), b]));
    assert_eq!(acts(&out), [launch(&a2), report(2, true, &["start a"])]);
}

#[test]
fn a_removed_section_is_stopped_and_forgotten() {
    let (mut m, a, _) = running_ab();
    let out = m.handle(secs(1), valid(std::slice::from_ref(&a)));
    assert_eq!(acts(&out), [term(200), report(2, true, &["stop b"])]);
    assert_eq!(logs(&out), ["b: section removed, stopping"]);
    let out = m.handle(secs(2), exited(200, 0));
    assert!(acts(&out).is_empty(), "not started again: {out:?}");
    assert_eq!(logs(&out), ["b: supervise exited (exit code 0)"]);
    // A later reload without it does nothing more.
    assert_eq!(
        acts(&m.handle(secs(3), valid(std::slice::from_ref(&a)))),
        [report(3, true, &[])]
    );
}

#[test]
fn a_section_back_while_its_removal_is_in_flight_starts_once_the_old_one_is_gone() {
    let (mut m, a, b) = running_ab();
    m.handle(secs(1), valid(std::slice::from_ref(&a)));
    let out = m.handle(secs(2), valid(&[a.clone(), b.clone()]));
    assert_eq!(
        acts(&out),
        [report(3, true, &["start b"])],
        "no second supervise"
    );
    assert_eq!(
        logs(&out),
        ["b: section back; starting it again once stopped"]
    );
    let out = m.handle(secs(3), exited(200, 0));
    assert_eq!(acts(&out), [launch(&b)]);
}

#[test]
fn a_changed_command_restarts_and_changed_limits_reread() {
    let (mut m, a, b) = running_ab();
    let a2 = spec("a", "sleep 10");
    let b2 = with_max_tries(b.clone(), 3);
    let out = m.handle(secs(1), valid(&[a2.clone(), b2.clone()]));
    assert_eq!(
        acts(&out),
        [
            term(100),
            Effect::Reread(Box::new(b2.clone())),
            report(2, true, &["restart a: command changed", "reread b"]),
        ]
    );
    assert_eq!(
        logs(&out),
        [
            "a: command changed, restarting the service",
            "b: alarms or limits changed, sending r"
        ]
    );
    // The new settings start once the old supervise is gone.
    assert_eq!(acts(&m.handle(secs(2), exited(100, 0))), [launch(&a2)]);
    // Unchanged: nothing at all.
    m.handle(secs(2), launched("a", 101));
    assert_eq!(
        acts(&m.handle(secs(3), valid(&[a2, b2]))),
        [report(3, true, &[])]
    );
    let _ = a;
}

#[test]
fn a_reload_acts_only_on_what_changed_however_many_services_run() {
    for n in [10u32, 1000] {
        let specs: Vec<ServiceSpec> = (0..n).map(|i| spec(&format!("s{i}"), "sleep 1")).collect();
        let mut m = Machine::new();
        m.handle(secs(0), valid(&specs));
        for i in 0..n {
            m.handle(secs(0), launched(&format!("s{i}"), 100 + i));
        }
        let mut changed = specs.clone();
        changed[1] = with_max_tries(changed[1].clone(), 9);
        assert_eq!(
            acts(&m.handle(secs(1), valid(&changed))),
            [
                Effect::Reread(Box::new(changed[1].clone())),
                report(2, true, &["reread s1"])
            ],
            "{n} services"
        );
    }
}

#[test]
fn a_refused_load_changes_nothing_and_says_so() {
    let (mut m, _, _) = running_ab();
    let before = m.clone();
    let out = m.handle(secs(1), refused(&["s.conf:3: bad", "s.conf:7: worse"]));
    assert_eq!(
        acts(&out),
        [report(2, false, &["s.conf:3: bad", "s.conf:7: worse"])]
    );
    assert_eq!(
        logs(&out),
        [
            "s.conf:3: bad",
            "s.conf:7: worse",
            "reload refused (2 errors): every service is left as it runs"
        ]
    );
    let mut expected = before;
    expected.generation = 2;
    assert_eq!(m, expected);
}

#[test]
fn a_refused_first_load_with_nothing_running_exits() {
    let mut m = Machine::new();
    let out = m.handle(secs(0), refused(&["s.conf:1: bad"]));
    assert_eq!(
        acts(&out),
        [
            report(1, false, &["s.conf:1: bad"]),
            Effect::Exit(EXIT_REFUSED)
        ]
    );
}

#[test]
fn a_refused_first_load_keeps_what_was_adopted() {
    let a = spec("a", "sleep 1");
    let mut m = Machine::new();
    let out = m.handle(
        secs(0),
        Input::Adopted {
            name: "a".into(),
            pid: 100,
            runs: Some(Box::new(a.clone())),
        },
    );
    assert_eq!(
        acts(&out),
        [Effect::Watch {
            name: "a".into(),
            pid: 100
        }]
    );
    let out = m.handle(secs(0), refused(&["s.conf:1: bad"]));
    assert_eq!(acts(&out), [report(1, false, &["s.conf:1: bad"])]);
    assert_eq!(m.supervise_pids().collect::<Vec<_>>(), [100]);
}

#[test]
fn adopted_supervise_are_managed_as_if_started_here() {
    let (a, b) = (spec("a", "sleep 1"), spec("b", "sleep 2"));
    let mut m = Machine::new();
    for (name, pid, s) in [("a", 100, &a), ("b", 200, &b)] {
        m.handle(
            secs(0),
            Input::Adopted {
                name: name.into(),
                pid,
                runs: Some(Box::new(s.clone())),
            },
        );
    }
    // The same file: nothing to do. A changed command: a restart.
    let b2 = spec("b", "sleep 20");
    let c = spec("c", "sleep 3");
    let out = m.handle(secs(0), valid(&[a.clone(), b2.clone(), c.clone()]));
    assert_eq!(
        acts(&out),
        [
            term(200),
            launch(&c),
            report(1, true, &["restart b: command changed", "start c"])
        ]
    );
    // Not our child: its end comes from its pidfd, and it is unwatched.
    let out = m.handle(
        secs(1),
        Input::Exited {
            pid: 200,
            ended: Ended::Vanished { on_purpose: false },
        },
    );
    assert_eq!(acts(&out), [Effect::Unwatch { pid: 200 }, launch(&b2)]);
    // An adopted one that dies on its own is started again; one whose
    // status directory says it meant to go is not.
    let out = m.handle(
        secs(30),
        Input::Exited {
            pid: 100,
            ended: Ended::Vanished { on_purpose: true },
        },
    );
    assert_eq!(acts(&out), [Effect::Unwatch { pid: 100 }]);
}

#[test]
fn adopted_without_a_record_gets_the_new_settings_or_is_stopped() {
    let mut m = Machine::new();
    for (name, pid) in [("a", 100), ("gone", 300)] {
        m.handle(
            secs(0),
            Input::Adopted {
                name: name.into(),
                pid,
                runs: None,
            },
        );
    }
    let a = spec("a", "sleep 1");
    let out = m.handle(secs(0), valid(std::slice::from_ref(&a)));
    assert_eq!(
        acts(&out),
        [
            Effect::Reread(Box::new(a.clone())),
            term(300),
            report(1, true, &["reread a", "stop gone"])
        ]
    );
}

#[test]
fn a_supervise_found_when_starting_is_adopted_not_doubled() {
    let a = spec("a", "sleep 1");
    let mut m = Machine::new();
    m.handle(secs(0), valid(std::slice::from_ref(&a)));
    let out = m.handle(
        secs(0),
        Input::Adopted {
            name: "a".into(),
            pid: 100,
            runs: None,
        },
    );
    assert_eq!(
        acts(&out),
        [Effect::Watch {
            name: "a".into(),
            pid: 100
        }]
    );
    assert_eq!(m.supervise_pids().collect::<Vec<_>>(), [100]);
    // It keeps the settings it was being started with.
    assert_eq!(
        acts(&m.handle(secs(1), valid(std::slice::from_ref(&a)))),
        [report(2, true, &[])]
    );
}

#[test]
fn an_unwatchable_adopted_supervise_is_checked_every_second() {
    let mut m = Machine::new();
    m.handle(
        secs(0),
        Input::Adopted {
            name: "a".into(),
            pid: 100,
            runs: Some(Box::new(spec("a", "sleep 1"))),
        },
    );
    let out = m.handle(
        secs(0),
        Input::Unwatched {
            pid: 100,
            error: "Too many open files".into(),
        },
    );
    assert!(logs(&out)[0].contains("checking it every 1 s"));
    assert_eq!(m.next_deadline(), Some(CHECK_EVERY));
    assert_eq!(
        acts(&m.handle(CHECK_EVERY, Input::Deadline)),
        [Effect::Check {
            name: "a".into(),
            pid: 100
        }]
    );
    assert_eq!(m.next_deadline(), Some(CHECK_EVERY * 2));
}

#[test]
fn shutdown_stops_every_supervise_in_parallel_and_exits_0_when_all_are_gone() {
    let (mut m, _, _) = running_ab();
    let out = m.handle(secs(1), Input::Terminate);
    assert_eq!(acts(&out), [term(100), term(200)]);
    assert_eq!(logs(&out), ["stopping every service"]);
    assert_eq!(m.next_deadline(), Some(secs(1) + secs(10) + SHUTDOWN_SLACK));
    // A second signal is passed on (supervise then kills at once).
    assert_eq!(
        acts(&m.handle(secs(2), Input::Terminate)),
        [term(100), term(200)]
    );
    // A supervise that dies now is not started again, even a crashed one.
    assert!(acts(&m.handle(secs(2), killed(100))).is_empty());
    let out = m.handle(secs(3), exited(200, 0));
    assert_eq!(acts(&out), [Effect::Exit(0)]);
    assert_eq!(
        logs(&out),
        [
            "b: supervise exited (exit code 0)",
            "every service is down; exiting"
        ]
    );
}

#[test]
fn shutdown_past_its_deadline_kills_what_is_left_and_exits_1() {
    let (mut m, _, _) = running_ab();
    m.handle(secs(0), Input::Terminate);
    m.handle(secs(1), exited(100, 0));
    let by = secs(10) + SHUTDOWN_SLACK;
    assert!(acts(&m.handle(by - ms(1), Input::Deadline)).is_empty());
    let out = m.handle(by, Input::Deadline);
    assert_eq!(
        acts(&out),
        [
            Effect::Signal {
                pid: 200,
                signal: Signal::Kill
            },
            Effect::KillService { name: "b".into() },
            Effect::Exit(1)
        ]
    );
    assert_eq!(m.supervise_pids().count(), 0);
}

#[test]
fn shutdown_uses_the_longest_stop_timeout() {
    let mut slow = spec("slow", "sleep 1");
    slow.conf.stop_timeout = secs(600);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[slow, spec("quick", "sleep 1")]));
    m.handle(secs(0), launched("slow", 1));
    m.handle(secs(0), launched("quick", 2));
    m.handle(secs(1), Input::Terminate);
    assert_eq!(m.next_deadline(), Some(secs(601) + SHUTDOWN_SLACK));
}

#[test]
fn shutdown_with_nothing_running_exits_at_once_and_drops_pending_starts() {
    let (mut m, _, _) = running_ab();
    m.handle(secs(1), exited(100, 0)); // stopped on purpose
    m.handle(secs(1), killed(200)); // ran 1 s: restarted at once
    // b is starting: once it runs, it is stopped.
    let out = m.handle(secs(1), Input::Terminate);
    assert!(acts(&out).is_empty(), "{out:?}");
    assert_eq!(acts(&m.handle(secs(1), launched("b", 201))), [term(201)]);
    assert_eq!(acts(&m.handle(secs(2), exited(201, 0))), [Effect::Exit(0)]);
    // Nothing at all: exit at once.
    let mut empty = Machine::new();
    assert_eq!(
        acts(&empty.handle(secs(0), Input::Terminate)),
        [Effect::Exit(0)]
    );
}

#[test]
fn a_load_during_shutdown_is_refused() {
    let (mut m, a, b) = running_ab();
    m.handle(secs(1), Input::Terminate);
    let out = m.handle(secs(1), valid(&[a, b, spec("c", "true")]));
    assert_eq!(
        acts(&out),
        [report(
            2,
            false,
            &["supervise-scan is shutting down: nothing reloaded"]
        )]
    );
}

#[test]
fn a_launch_failure_is_retried_with_back_off() {
    let a = spec("a", "sleep 1");
    let mut m = Machine::new();
    m.handle(secs(0), valid(std::slice::from_ref(&a)));
    let fail = || Input::LaunchFailed {
        name: "a".into(),
        error: "directory /srv/x: No such file or directory".into(),
    };
    let out = m.handle(secs(0), fail());
    assert_eq!(acts(&out), [launch(&a)], "the first retry at once");
    assert_eq!(
        logs(&out),
        ["a: cannot start supervise: directory /srv/x: No such file or directory; retrying in 0 s"]
    );
    assert!(acts(&m.handle(secs(0), fail())).is_empty());
    assert_eq!(m.next_deadline(), Some(ms(100)));
}

#[test]
fn warnings_are_logged_and_reported_after_the_changes() {
    let mut m = Machine::new();
    let out = m.handle(
        secs(0),
        Input::Load(Load::Valid {
            services: vec![spec("a", "true")],
            warnings: vec!["s.conf:4: warning: unknown key `max_try`: line ignored".into()],
        }),
    );
    assert_eq!(
        out.last(),
        Some(&report(
            1,
            true,
            &[
                "start a",
                "s.conf:4: warning: unknown key `max_try`: line ignored"
            ]
        ))
    );
}

#[test]
fn outcomes_for_unknown_pids_and_names_are_ignored() {
    let (mut m, _, _) = running_ab();
    let before = m.clone();
    for input in [
        exited(999, 1),
        launched("zz", 5),
        launched("a", 5), // a is running, not starting
        Input::LaunchFailed {
            name: "a".into(),
            error: "x".into(),
        },
        Input::Unwatched {
            pid: 999,
            error: "x".into(),
        },
        Input::Deadline,
    ] {
        assert!(m.handle(secs(1), input.clone()).is_empty(), "{input:?}");
    }
    assert_eq!(m, before);
}

// ---------------------------------------------------------------------
// Properties over random runs, against a model of the processes.

/// One step of a random run.
#[derive(Clone, Debug)]
enum Step {
    /// Load these sections (by index into NAMES), each with a variant of
    /// its settings (0: base, 1: other command, 2: other limits).
    Load(Vec<(usize, u8)>),
    /// A refused load.
    Refuse,
    /// Deliver the oldest pending launch outcome: started, or failed.
    Outcome { ok: bool, found: bool },
    /// The n-th live supervise (modulo) exits with this code.
    Exit { which: usize, code: i32 },
    /// Time passes (ms), then the deadline input if one is due.
    Wait(u64),
    /// SIGTERM to the scanner.
    Terminate,
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

fn variant(name: &str, v: u8) -> ServiceSpec {
    match v {
        0 => spec(name, "sleep 1"),
        1 => spec(name, "sleep 2"),
        _ => with_max_tries(spec(name, "sleep 1"), 3),
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => prop::collection::vec((0..NAMES.len(), 0..3u8), 0..4).prop_map(Step::Load),
        1 => Just(Step::Refuse),
        4 => (any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(ok, found)| Step::Outcome { ok, found }),
        3 => (0..8usize, prop::sample::select(vec![0, 1, 2, 111]))
            .prop_map(|(which, code)| Step::Exit { which, code }),
        3 => (0..40_000u64).prop_map(Step::Wait),
        1 => Just(Step::Terminate),
    ]
}

/// The processes as the world sees them, and the checks on every effect.
#[derive(Default)]
struct World {
    now: Duration,
    next_pid: u32,
    /// Live supervise: pid -> section.
    live: HashMap<u32, String>,
    /// Launches not yet answered, oldest first.
    pending: Vec<String>,
    /// Sections of the last applied load (None before any).
    wanted: Option<HashSet<String>>,
    terminated: bool,
    exited: Option<i32>,
}

impl World {
    fn feed(&mut self, m: &mut Machine, input: Input) {
        let before = m.clone();
        let is_refusal = matches!(input, Input::Load(Load::Refused { .. }));
        let load = match &input {
            Input::Load(Load::Valid { services, .. }) if !self.terminated => {
                Some(services.iter().map(|s| s.name.clone()).collect())
            }
            _ => None,
        };
        let effects = m.handle(self.now, input);
        if is_refusal {
            let mut expected = before;
            expected.generation += 1;
            assert_eq!(*m, expected, "a refused load changed the state");
            assert!(
                effects
                    .iter()
                    .all(|e| matches!(e, Effect::Log(..) | Effect::Report(_) | Effect::Exit(_))),
                "a refused load acted: {effects:?}"
            );
        }
        if let Some(names) = load {
            self.wanted = Some(names);
        }
        for effect in effects {
            self.carry_out(effect);
        }
    }

    fn carry_out(&mut self, effect: Effect) {
        assert!(self.exited.is_none(), "an effect after Exit: {effect:?}");
        match effect {
            Effect::Launch(spec) => {
                let name = &spec.name;
                assert!(!self.terminated, "a launch during shutdown");
                assert!(
                    !self.live.values().any(|n| n == name) && !self.pending.contains(name),
                    "two supervise for {name}"
                );
                if let Some(wanted) = &self.wanted {
                    assert!(wanted.contains(name), "removed section {name} started");
                }
                self.pending.push(name.clone());
            }
            Effect::Signal { pid, signal } => {
                assert!(self.live.contains_key(&pid), "signal to a dead pid {pid}");
                if signal == Signal::Kill {
                    self.live.remove(&pid);
                }
            }
            Effect::Reread(spec) => assert!(self.live.values().any(|n| *n == spec.name)),
            Effect::Exit(code) => self.exited = Some(code),
            Effect::Watch { .. }
            | Effect::Observe { .. }
            | Effect::Look { .. }
            | Effect::Send { .. }
            | Effect::Notify(_)
            | Effect::Unwatch { .. }
            | Effect::Check { .. }
            | Effect::KillService { .. }
            | Effect::Log(..)
            | Effect::Report(_) => {}
        }
    }

    fn outcome(&mut self, m: &mut Machine, ok: bool, found: bool) {
        if self.pending.is_empty() {
            return;
        }
        let name = self.pending.remove(0);
        if ok {
            self.next_pid += 1;
            let pid = self.next_pid;
            self.live.insert(pid, name.clone());
            let input = if found {
                Input::Adopted {
                    name,
                    pid,
                    runs: None,
                }
            } else {
                Input::Launched { name, pid }
            };
            self.feed(m, input);
        } else {
            self.feed(
                m,
                Input::LaunchFailed {
                    name,
                    error: "no".into(),
                },
            );
        }
    }

    fn exit(&mut self, m: &mut Machine, which: usize, code: i32) {
        let mut pids: Vec<u32> = self.live.keys().copied().collect();
        if pids.is_empty() {
            return;
        }
        pids.sort_unstable();
        let pid = pids[which % pids.len()];
        self.live.remove(&pid);
        self.feed(
            m,
            Input::Exited {
                pid,
                ended: Ended::Reaped(Exit::Code(code)),
            },
        );
    }

    fn wait(&mut self, m: &mut Machine, ms: u64) {
        self.now += Duration::from_millis(ms);
        if m.next_deadline().is_some_and(|d| d <= self.now) {
            self.feed(m, Input::Deadline);
        }
    }

    fn run(&mut self, m: &mut Machine, step: Step) {
        if self.exited.is_some() {
            return;
        }
        match step {
            Step::Load(sections) => {
                let mut seen = HashSet::new();
                let services = sections
                    .into_iter()
                    .filter(|(i, _)| seen.insert(*i))
                    .map(|(i, v)| variant(NAMES[i], v))
                    .collect::<Vec<_>>();
                self.feed(m, valid(&services));
            }
            Step::Refuse => self.feed(m, refused(&["s.conf:1: no"])),
            Step::Outcome { ok, found } => self.outcome(m, ok, found),
            Step::Exit { which, code } => self.exit(m, which, code),
            Step::Wait(ms) => self.wait(m, ms),
            Step::Terminate => {
                self.terminated = true;
                self.feed(m, Input::Terminate);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Never two supervise for one section, never a removed section
    /// started, never a launch during shutdown, a refused load changes
    /// nothing; and a shutdown always ends, with every supervise gone.
    #[test]
    fn random_runs_keep_the_rules_and_shut_down_cleanly(
        steps in prop::collection::vec(step(), 0..60),
        graceful in any::<bool>(),
    ) {
        let mut m = Machine::new();
        let mut world = World::default();
        for step in steps {
            world.run(&mut m, step);
        }
        if world.exited.is_none() {
            world.terminated = true;
            world.feed(&mut m, Input::Terminate);
        }
        // Outcomes still in flight arrive; then the supervise exit (a
        // graceful world) or time runs out (a stubborn one).
        while world.exited.is_none() && !world.pending.is_empty() {
            world.outcome(&mut m, true, false);
        }
        if graceful {
            while world.exited.is_none() && !world.live.is_empty() {
                world.exit(&mut m, 0, 0);
            }
        }
        if world.exited.is_none() {
            world.wait(&mut m, 700_000);
        }
        prop_assert!(world.exited.is_some(), "no exit after shutdown");
        prop_assert!(world.live.is_empty(), "left alive: {:?}", world.live);
        prop_assert_eq!(m.supervise_pids().count(), 0);
    }
}
