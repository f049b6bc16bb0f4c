//! Table tests of the start order (`after`, `requires`), the control
//! requests and the scanner's own readiness, then a property over random
//! runs: a service is never launched or let up before what it needs is
//! ready, never held down before what requires it is down, and a supervise
//! is never stopped for good while one that needs it is left.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use proptest::prelude::*;

use super::tests::{acts, exited, launch, launched, logs, report, secs, spec, term, valid};
use super::*;

fn after(mut s: ServiceSpec, names: &[&str]) -> ServiceSpec {
    s.after = names.iter().map(|n| n.to_string()).collect();
    s
}

fn requires(mut s: ServiceSpec, names: &[&str]) -> ServiceSpec {
    s.requires = names.iter().map(|n| n.to_string()).collect();
    s
}

fn seen(name: &str, pid: u32, ready: bool) -> Input {
    Input::Observed {
        name: name.into(),
        seen: Seen {
            pid,
            ready: ready && pid != 0,
            want_up: true,
            failing: false,
            supervise_pid: 0,
            since: Duration::from_secs(u64::from(pid)),
        },
    }
}

/// Down by `d`: status pid 0, wanted down.
fn seen_down(name: &str) -> Input {
    Input::Observed {
        name: name.into(),
        seen: Seen {
            pid: 0,
            ready: false,
            want_up: false,
            failing: false,
            supervise_pid: 0,
            since: secs(12_345),
        },
    }
}

fn observe(name: &str) -> Effect {
    Effect::Observe { name: name.into() }
}

fn send(name: &str, command: Command) -> Effect {
    Effect::Send {
        name: name.into(),
        command,
    }
}

fn control(request: Request) -> Input {
    Input::Control(request)
}

fn stop(name: &str) -> Input {
    control(Request::Stop(name.into()))
}

fn start(name: &str) -> Input {
    control(Request::Start(name.into()))
}

/// Feeds inputs one after the other; returns the acts of the last.
fn feed(m: &mut Machine, at: Duration, inputs: Vec<Input>) -> Vec<Effect> {
    let mut last = Vec::new();
    for input in inputs {
        last = m.handle(at, input);
    }
    acts(&last)
}

/// Brings every service of `specs` up (pid 100, 101...) and ready, in the
/// order given; panics if one is not launched when its turn comes.
fn run_all(m: &mut Machine, specs: &[ServiceSpec]) -> HashMap<String, u32> {
    let mut pids = HashMap::new();
    for (i, s) in specs.iter().enumerate() {
        let pid = 100 + i as u32;
        m.handle(secs(0), launched(&s.name, pid));
        m.handle(secs(0), seen(&s.name, 1000 + pid, true));
        pids.insert(s.name.clone(), pid);
    }
    pids
}

#[test]
fn a_chain_starts_one_after_the_other_each_once_the_one_before_is_ready() {
    let a = spec("a", "sleep 1");
    let b = after(spec("b", "sleep 2"), &["a"]);
    let c = after(spec("c", "sleep 3"), &["b"]);
    let mut m = Machine::new();
    let out = m.handle(secs(0), valid(&[a.clone(), b.clone(), c.clone()]));
    assert_eq!(
        acts(&out),
        [
            launch(&a),
            report(1, true, &["start a", "start b", "start c"])
        ]
    );
    assert_eq!(
        &logs(&out)[3..],
        [
            "b: waiting for a to be ready",
            "c: waiting for b to be ready"
        ]
    );
    assert_eq!(acts(&m.handle(secs(0), launched("a", 100))), [observe("a")]);
    assert!(feed(&mut m, secs(0), vec![seen("a", 1000, false)]).is_empty());
    assert_eq!(
        acts(&m.handle(secs(1), seen("a", 1000, true))),
        [launch(&b)]
    );
    assert_eq!(acts(&m.handle(secs(1), launched("b", 200))), [observe("b")]);
    assert_eq!(
        acts(&m.handle(secs(2), seen("b", 2000, true))),
        [launch(&c)]
    );
    // c is needed by nothing and requires nothing: not watched.
    assert!(acts(&m.handle(secs(2), launched("c", 300))).is_empty());
    assert_eq!(m.next_deadline(), None);
}

#[test]
fn a_thousand_independent_services_all_start_in_the_first_round() {
    let specs: Vec<ServiceSpec> = (0..1000)
        .map(|i| spec(&format!("s{i}"), "sleep 1"))
        .collect();
    let mut m = Machine::new();
    let out = m.handle(secs(0), valid(&specs));
    let launches = out
        .iter()
        .filter(|e| matches!(e, Effect::Launch(_)))
        .count();
    assert_eq!(launches, 1000);
    // And none is watched: no status directory is read for them.
    for i in 0..1000 {
        let out = m.handle(secs(0), launched(&format!("s{i}"), 10 + i));
        assert!(acts(&out).is_empty());
    }
}

#[test]
fn a_chain_of_a_hundred_starts_in_order_one_launch_per_ready() {
    let specs: Vec<ServiceSpec> = (0..100)
        .map(|i| {
            let s = spec(&format!("s{i}"), "sleep 1");
            if i == 0 {
                s
            } else {
                after(s, &[&format!("s{}", i - 1)])
            }
        })
        .collect();
    let mut m = Machine::new();
    let out = m.handle(secs(0), valid(&specs));
    assert_eq!(acts(&out)[0], launch(&specs[0]));
    for i in 0..100 {
        m.handle(secs(0), launched(&format!("s{i}"), 10 + i as u32));
        let out = acts(&m.handle(secs(0), seen(&format!("s{i}"), 1000 + i as u32, true)));
        if i < 99 {
            assert_eq!(out, [launch(&specs[i + 1])], "after s{i}");
        } else {
            assert!(out.is_empty());
        }
    }
}

#[test]
fn a_diamond_starts_its_top_once_both_sides_are_ready() {
    let base = spec("base", "x");
    let left = requires(spec("left", "x"), &["base"]);
    let right = after(spec("right", "x"), &["base"]);
    let top = requires(spec("top", "x"), &["left", "right"]);
    let mut m = Machine::new();
    let all = [top.clone(), left.clone(), right.clone(), base.clone()];
    assert_eq!(acts(&m.handle(secs(0), valid(&all)))[0], launch(&base));
    m.handle(secs(0), launched("base", 1));
    let out = acts(&m.handle(secs(0), seen("base", 11, true)));
    assert_eq!(out, [launch(&left), launch(&right)], "both sides at once");
    m.handle(secs(0), launched("left", 2));
    m.handle(secs(0), launched("right", 3));
    assert!(acts(&m.handle(secs(0), seen("left", 12, true))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(0), seen("right", 13, true))),
        [launch(&top)]
    );
}

#[test]
fn requires_holds_a_service_down_while_what_it_requires_is_down() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db, web]);
    // db goes down (svc -d): web is stopped, and owed a `u`.
    let out = m.handle(secs(1), seen_down("db"));
    assert_eq!(acts(&out), [send("web", Command::Down)]);
    assert_eq!(
        logs(&out),
        ["web: stopping it: db, which it requires, is down"]
    );
    assert!(acts(&m.handle(secs(1), seen_down("web"))).is_empty());
    // Up but not ready yet: web waits.
    assert!(acts(&m.handle(secs(2), seen("db", 2000, false))).is_empty());
    let out = m.handle(secs(2), seen("db", 2000, true));
    assert_eq!(acts(&out), [send("web", Command::Up)]);
    assert_eq!(
        logs(&out),
        ["web: what it needs is ready again; starting it"]
    );
    // after is a start order only: a service after db is left alone.
    let db = spec("db", "x");
    let report_ = after(spec("report", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), report_.clone()]));
    run_all(&mut m, &[db, report_]);
    assert!(acts(&m.handle(secs(1), seen_down("db"))).is_empty());
}

#[test]
fn a_required_service_that_gives_up_holds_its_dependents_until_a_reload_revives_it() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db.clone(), web.clone()]);
    let out = m.handle(secs(1), exited(100, crate::supervisor::EXIT_GAVE_UP));
    assert_eq!(acts(&out), [send("web", Command::Down)]);
    m.handle(secs(1), seen_down("web"));
    // A reload starts db's supervise again; web gets its `u` once db is
    // ready, its own supervise untouched.
    let out = m.handle(secs(2), valid(&[db.clone(), web]));
    assert_eq!(acts(&out), [launch(&db), report(2, true, &["start db"])]);
    m.handle(secs(2), launched("db", 102));
    let out = m.handle(secs(2), seen("db", 3000, true));
    assert_eq!(acts(&out), [send("web", Command::Up)]);
}

#[test]
fn a_service_down_on_purpose_is_not_brought_up_by_the_start_order() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db, web]);
    // web stopped by hand first, then db goes: web owes nothing.
    m.handle(secs(1), seen_down("web"));
    assert!(acts(&m.handle(secs(1), seen_down("db"))).is_empty());
    assert!(acts(&m.handle(secs(2), seen("db", 2000, true))).is_empty());
}

/// a, b requires a, c requires b, and x after a: running and ready.
fn chain() -> (Machine, HashMap<String, u32>) {
    let specs = [
        spec("a", "x"),
        requires(spec("b", "x"), &["a"]),
        requires(spec("c", "x"), &["b"]),
        after(spec("x", "x"), &["a"]),
    ];
    let mut m = Machine::new();
    m.handle(secs(0), valid(&specs));
    let pids = run_all(&mut m, &specs);
    (m, pids)
}

#[test]
fn stop_takes_what_requires_it_down_first_in_reverse_order() {
    let (mut m, _) = chain();
    let out = m.handle(secs(1), stop("a"));
    assert_eq!(acts(&out), [send("c", Command::Down)]);
    assert_eq!(
        logs(&out)[0],
        "control: stop a: stopping what requires it first (b)"
    );
    assert_eq!(
        acts(&m.handle(secs(1), seen_down("c"))),
        [send("b", Command::Down)]
    );
    assert_eq!(
        acts(&m.handle(secs(1), seen_down("b"))),
        [send("a", Command::Down)]
    );
    assert!(acts(&m.handle(secs(1), seen_down("a"))).is_empty());
    // `after` is no reason to stop: x runs on. Start c: a first, then b,
    // then c, each once the one before is ready.
    let out = m.handle(secs(2), start("c"));
    assert_eq!(acts(&out), [send("a", Command::Up)]);
    assert_eq!(
        acts(&m.handle(secs(2), seen("a", 3000, true))),
        [send("b", Command::Up)]
    );
    assert_eq!(
        acts(&m.handle(secs(2), seen("b", 3001, true))),
        [send("c", Command::Up)]
    );
    assert!(acts(&m.handle(secs(2), seen("c", 3002, true))).is_empty());
}

#[test]
fn a_service_asked_down_stays_down_until_started_even_if_its_supervise_dies() {
    let (mut m, pids) = chain();
    m.handle(secs(1), stop("c"));
    m.handle(secs(1), seen_down("c"));
    // Its supervise dies: not started again, as asked.
    let out = m.handle(secs(2), exited(pids["c"], 1));
    assert!(acts(&out).is_empty(), "{out:?}");
    // Nor by a reload.
    let out = m.handle(
        secs(3),
        valid(&[
            spec("a", "x"),
            requires(spec("b", "x"), &["a"]),
            requires(spec("c", "x"), &["b"]),
            after(spec("x", "x"), &["a"]),
        ]),
    );
    assert_eq!(acts(&out), [report(2, true, &[])]);
    // `start c` does.
    let out = m.handle(secs(4), start("c"));
    assert_eq!(acts(&out)[0], launch(&requires(spec("c", "x"), &["b"])));
}

#[test]
fn a_service_asked_down_and_started_by_hand_is_no_longer_held() {
    let (mut m, _) = chain();
    m.handle(secs(1), stop("c"));
    m.handle(secs(1), seen_down("c"));
    let out = m.handle(secs(2), seen("c", 4000, true));
    assert_eq!(
        logs(&out),
        ["c: started again by hand; no longer held down"]
    );
    // It is held again by what it requires, as any other.
    assert_eq!(
        acts(&m.handle(secs(3), seen_down("b"))),
        [send("c", Command::Down)]
    );
}

#[test]
fn start_revives_a_supervise_that_gave_up_and_what_it_needs() {
    let (mut m, pids) = chain();
    m.handle(secs(1), exited(pids["a"], crate::supervisor::EXIT_GAVE_UP));
    m.handle(secs(1), seen_down("c"));
    m.handle(secs(1), seen_down("b"));
    let out = m.handle(secs(2), start("b"));
    assert_eq!(acts(&out), [launch(&spec("a", "x"))]);
    assert_eq!(
        logs(&out)[..2],
        [
            "control: start b",
            "a: starting its supervise again (asked)"
        ]
    );
    m.handle(secs(2), launched("a", 500));
    // b, owed a `u`, gets it; c, also owed one, follows b.
    assert_eq!(
        acts(&m.handle(secs(2), seen("a", 5000, true))),
        [send("b", Command::Up)]
    );
    assert_eq!(
        acts(&m.handle(secs(2), seen("b", 5001, true))),
        [send("c", Command::Up)]
    );
}

#[test]
fn requests_for_unknown_names_and_during_a_shutdown_change_nothing() {
    let (mut m, _) = chain();
    let before = m.clone();
    let out = m.handle(secs(1), start("zz"));
    assert!(acts(&out).is_empty());
    assert_eq!(logs(&out), ["control: start zz: no service of that name"]);
    assert_eq!(m, before);
    m.handle(secs(1), Input::Terminate);
    let out = m.handle(secs(1), stop("a"));
    assert!(acts(&out).is_empty());
    assert_eq!(logs(&out), ["control: stop a: shutting down, ignored"]);
}

#[test]
fn shutdown_stops_dependents_first_a_diamond_in_reverse_order() {
    let specs = [
        requires(spec("top", "x"), &["left", "right"]),
        requires(spec("left", "x"), &["base"]),
        after(spec("right", "x"), &["base"]),
        spec("base", "x"),
        spec("alone", "x"),
    ];
    let mut m = Machine::new();
    m.handle(secs(0), valid(&specs));
    let order = [&specs[3], &specs[4], &specs[1], &specs[2], &specs[0]];
    let pids = run_all(&mut m, &order.map(|s| s.clone()));
    let out = m.handle(secs(1), Input::Terminate);
    assert_eq!(acts(&out), [term(pids["alone"]), term(pids["top"])]);
    // Each stop timeout (10 s) along the longest chain, top-left-base.
    assert_eq!(m.next_deadline(), Some(secs(1) + secs(30) + SHUTDOWN_SLACK));
    assert!(acts(&m.handle(secs(2), exited(pids["alone"], 0))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(2), exited(pids["top"], 0))),
        [term(pids["left"]), term(pids["right"])]
    );
    assert!(acts(&m.handle(secs(3), exited(pids["left"], 0))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(3), exited(pids["right"], 0))),
        [term(pids["base"])]
    );
    assert_eq!(
        acts(&m.handle(secs(4), exited(pids["base"], 0))),
        [Effect::Exit(0)]
    );
}

#[test]
fn a_removal_waits_for_what_needs_it_to_go_first() {
    let a = spec("a", "x");
    let b = after(spec("b", "x"), &["a"]);
    let keep = spec("keep", "x");
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a.clone(), b.clone(), keep.clone()]));
    let pids = run_all(&mut m, &[a, b, keep.clone()]);
    let out = m.handle(secs(1), valid(std::slice::from_ref(&keep)));
    assert_eq!(
        acts(&out),
        [term(pids["b"]), report(2, true, &["stop a", "stop b"])]
    );
    assert_eq!(
        acts(&m.handle(secs(2), exited(pids["b"], 0))),
        [term(pids["a"])]
    );
}

#[test]
fn a_reload_that_adds_an_order_watches_what_is_needed_now() {
    let a = spec("a", "x");
    let b = spec("b", "x");
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a.clone(), b.clone()]));
    m.handle(secs(0), launched("a", 1));
    m.handle(secs(0), launched("b", 2));
    // b now requires a: a must be watched, b too (it requires).
    let b2 = requires(b, &["a"]);
    let out = m.handle(secs(1), valid(&[a, b2]));
    assert_eq!(
        acts(&out),
        [report(2, true, &[]), observe("a"), observe("b")]
    );
}

#[test]
fn an_info_left_by_another_supervise_is_not_believed() {
    let a = spec("a", "x");
    let b = after(spec("b", "x"), &["a"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a, b.clone()]));
    m.handle(secs(0), launched("a", 100));
    let stale = Input::Observed {
        name: "a".into(),
        seen: Seen {
            pid: 77,
            ready: true,
            want_up: true,
            failing: false,
            supervise_pid: 99,
            since: secs(1),
        },
    };
    assert!(acts(&m.handle(secs(0), stale)).is_empty());
    let fresh = Input::Observed {
        name: "a".into(),
        seen: Seen {
            pid: 78,
            ready: true,
            want_up: true,
            failing: false,
            supervise_pid: 100,
            since: secs(2),
        },
    };
    assert_eq!(acts(&m.handle(secs(0), fresh)), [launch(&b)]);
}

#[test]
fn a_status_directory_that_cannot_be_watched_is_read_every_second() {
    let a = spec("a", "x");
    let b = after(spec("b", "x"), &["a"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a, b]));
    m.handle(secs(0), launched("a", 100));
    let out = m.handle(
        secs(0),
        Input::NotObserved {
            name: "a".into(),
            error: "No space left on device".into(),
        },
    );
    assert!(logs(&out)[0].contains("reading it every 1 s"));
    assert_eq!(m.next_deadline(), Some(CHECK_EVERY));
    assert_eq!(
        acts(&m.handle(CHECK_EVERY, Input::Deadline)),
        [Effect::Look { name: "a".into() }]
    );
}

#[test]
fn readiness_is_told_once_every_service_is_ready_and_stopping_at_shutdown() {
    let a = spec("a", "x");
    let b = after(spec("b", "x"), &["a"]);
    let c = spec("c", "x");
    let mut m = Machine::telling_readiness();
    m.handle(secs(0), valid(&[a, b.clone(), c]));
    // Every service is watched until then.
    assert_eq!(acts(&m.handle(secs(0), launched("a", 1))), [observe("a")]);
    assert_eq!(acts(&m.handle(secs(0), launched("c", 3))), [observe("c")]);
    assert!(acts(&m.handle(secs(0), seen("c", 13, true))).is_empty());
    assert_eq!(acts(&m.handle(secs(0), seen("a", 11, true))), [launch(&b)]);
    m.handle(secs(0), launched("b", 2));
    let out = m.handle(secs(0), seen("b", 12, true));
    assert_eq!(acts(&out), [Effect::Notify(Notice::Ready)]);
    assert_eq!(logs(&out), ["every service is ready (3 services)"]);
    // Once only.
    assert!(acts(&m.handle(secs(1), seen("b", 0, false))).is_empty());
    assert!(acts(&m.handle(secs(1), seen("b", 14, true))).is_empty());
    let out = m.handle(secs(2), Input::Terminate);
    assert_eq!(acts(&out)[0], Effect::Notify(Notice::Stopping));
}

/// A section with `start : down`.
fn idle() -> ServiceSpec {
    let mut idle = spec("idle", "x");
    idle.start = crate::status::Want::Down;
    idle
}

/// `idle`'s supervise (pid `supervise_pid`) wrote its status: down, as
/// `start : down` asked.
fn idle_seen_down(supervise_pid: u32) -> Input {
    let Input::Observed { name, mut seen } = seen_down("idle") else {
        unreachable!()
    };
    seen.supervise_pid = supervise_pid;
    Input::Observed { name, seen }
}

#[test]
fn a_service_down_by_its_settings_is_told_as_down_not_failing() {
    let mut m = Machine::telling_readiness();
    m.handle(
        secs(0),
        valid(&[spec("good", "x"), idle(), spec("bad", "x")]),
    );
    m.handle(secs(0), launched("good", 1));
    m.handle(secs(0), launched("idle", 2));
    m.handle(secs(0), launched("bad", 3));
    m.handle(secs(0), seen("good", 11, true));
    m.handle(secs(0), idle_seen_down(2));
    m.handle(secs(0), seen("bad", 13, false));
    let out = m.handle(secs(0), seen("bad", 0, false));
    assert_eq!(acts(&out), [Effect::Notify(Notice::Ready)]);
    assert_eq!(
        logs(&out),
        ["every service is ready or settled (3 services, 1 failing: bad; 1 down: idle)"]
    );
    // Only down ones: no word of failing.
    let mut m = Machine::telling_readiness();
    m.handle(secs(0), valid(&[spec("good", "x"), idle()]));
    m.handle(secs(0), launched("good", 1));
    m.handle(secs(0), launched("idle", 2));
    m.handle(secs(0), idle_seen_down(2));
    let out = m.handle(secs(0), seen("good", 11, true));
    assert_eq!(
        logs(&out),
        ["every service is ready or settled (2 services, 1 down: idle)"]
    );
}

#[test]
fn a_crash_loop_or_a_need_that_gave_up_does_not_hold_readiness_back() {
    let good = spec("good", "x");
    let bad = spec("bad", "x");
    let blocked = after(spec("blocked", "x"), &["bad"]);
    let mut m = Machine::telling_readiness();
    m.handle(secs(0), valid(&[good, bad, blocked]));
    m.handle(secs(0), launched("good", 1));
    m.handle(secs(0), launched("bad", 2));
    assert!(acts(&m.handle(secs(0), seen("good", 11, true))).is_empty());
    // bad's service ran and ended: it failed once.
    m.handle(secs(0), seen("bad", 12, false));
    let out = m.handle(secs(0), seen("bad", 0, false));
    assert_eq!(acts(&out), [Effect::Notify(Notice::Ready)]);
    assert_eq!(
        logs(&out),
        ["every service is ready or settled (3 services, 1 failing: bad; 1 waiting: blocked)"]
    );
    // Without readiness, no Notify at all.
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[spec("a", "x")]));
    m.handle(secs(0), launched("a", 1));
    assert!(
        acts(&m.handle(secs(1), Input::Terminate))
            .iter()
            .all(|e| !matches!(e, Effect::Notify(_)))
    );
}

#[test]
fn nothing_to_run_is_ready_at_once() {
    let mut m = Machine::telling_readiness();
    let out = m.handle(secs(0), valid(&[]));
    assert_eq!(
        acts(&out),
        [report(1, true, &[]), Effect::Notify(Notice::Ready)]
    );
}

// ---------------------------------------------------------------------
// Properties over random runs with a start order, against a model of the
// processes that tells the machine every change, as inotify would.

const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];

/// One step of a random run.
#[derive(Clone, Debug)]
enum Step {
    /// Load these sections (indices), each with edges to earlier ones:
    /// (index, after mask, requires mask).
    Load(Vec<(usize, u8, u8)>),
    /// The oldest pending launch succeeds or fails.
    Outcome(bool),
    /// The n-th live service becomes ready.
    Ready(usize),
    /// The n-th live service's process ends (its supervise restarts it,
    /// not ready).
    Crash(usize),
    /// The n-th live supervise exits with this code.
    Exit(usize, i32),
    /// A pending `d` or `u` takes effect.
    Apply,
    /// A control request.
    Control(bool, usize),
    /// The next `d` or `u` does not reach its supervise.
    FailSend,
    /// Time passes.
    Wait(u64),
    /// SIGTERM.
    Terminate,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => prop::collection::vec((0..NAMES.len(), any::<u8>(), any::<u8>()), 1..8).prop_map(Step::Load),
        6 => prop::bool::weighted(0.9).prop_map(Step::Outcome),
        6 => (0..8usize).prop_map(Step::Ready),
        2 => (0..8usize).prop_map(Step::Crash),
        3 => (0..8usize, prop::sample::select(vec![0, 1, 2])).prop_map(|(w, c)| Step::Exit(w, c)),
        2 => Just(Step::Apply),
        2 => (any::<bool>(), 0..NAMES.len()).prop_map(|(s, i)| Step::Control(s, i)),
        3 => Just(Step::FailSend),
        2 => (0..40_000u64).prop_map(Step::Wait),
        1 => Just(Step::Terminate),
    ]
}

/// A live supervise and its service, as the world sees them.
#[derive(Clone, Debug)]
struct Live {
    name: String,
    /// The service's pid, 0 when down.
    service: u32,
    ready: bool,
    want_up: bool,
}

#[derive(Default)]
struct World {
    now: Duration,
    next_pid: u32,
    live: HashMap<u32, Live>,
    pending: Vec<String>,
    /// Commands sent and not yet in effect: (supervise pid, up).
    commands: Vec<(u32, bool)>,
    /// Each section's latest `after`+`requires` and `requires`.
    needs: HashMap<String, (Vec<String>, Vec<String>)>,
    /// The names of the last applied load.
    wanted: HashSet<String>,
    terminated: bool,
    exited: bool,
    /// Supervise sent SIGTERM already.
    signalled: HashSet<u32>,
    /// The next command is lost.
    fail_send: bool,
}

impl World {
    fn live_of(&self, name: &str) -> Option<(u32, &Live)> {
        self.live
            .iter()
            .find(|(_, l)| l.name == name)
            .map(|(p, l)| (*p, l))
    }

    fn ready(&self, name: &str) -> bool {
        self.live_of(name)
            .is_some_and(|(_, l)| l.service != 0 && l.ready)
    }

    fn down(&self, name: &str) -> bool {
        self.live_of(name).is_none_or(|(_, l)| l.service == 0)
    }

    fn feed(&mut self, m: &mut Machine, input: Input) {
        if let Input::Load(Load::Valid { services, .. }) = &input
            && !self.terminated
        {
            self.wanted = services.iter().map(|s| s.name.clone()).collect();
            for s in services {
                let needs = s.needs().map(String::from).collect();
                self.needs
                    .insert(s.name.clone(), (needs, s.requires.clone()));
            }
        }
        let effects = m.handle(self.now, input);
        for effect in effects {
            self.carry_out(m, effect);
        }
    }

    /// Checks each effect against the rules, then makes it happen.
    fn carry_out(&mut self, m: &mut Machine, effect: Effect) {
        assert!(!self.exited, "an effect after Exit: {effect:?}");
        match effect {
            Effect::Launch(spec) => {
                for need in spec.needs() {
                    if m.services.contains_key(need) {
                        assert!(
                            self.ready(need),
                            "{} launched before {need} was ready",
                            spec.name
                        );
                    }
                }
                assert!(self.live_of(&spec.name).is_none() && !self.pending.contains(&spec.name));
                self.pending.push(spec.name.clone());
            }
            Effect::Send { name, command } => {
                let (pid, _) = self.live_of(&name).expect("a command to a live supervise");
                let up = command == Command::Up;
                if up {
                    for need in &self.needs[&name].0 {
                        if m.services.contains_key(need) {
                            assert!(self.ready(need), "{name} let up before {need} was ready");
                        }
                    }
                } else {
                    // What requires it is down, or its supervise was told
                    // to stop it (SIGTERM).
                    for (other, (_, requires)) in &self.needs {
                        if let Some((other_pid, _)) = self.live_of(other)
                            && requires.contains(&name)
                        {
                            assert!(
                                self.down(other) || self.signalled.contains(&other_pid),
                                "{name} held down before {other}, which requires it"
                            );
                        }
                    }
                }
                if std::mem::take(&mut self.fail_send) {
                    self.feed(
                        m,
                        Input::NotSent {
                            name,
                            command,
                            error: "lost".into(),
                        },
                    );
                } else {
                    self.commands.push((pid, up));
                }
            }
            Effect::Signal { pid, signal } => {
                let name = self.live[&pid].name.clone();
                let removal = self.terminated || !self.wanted.contains(&name);
                // A second TERM only hurries a supervise already stopping.
                let first = self.signalled.insert(pid);
                if removal && signal == Signal::Term && first {
                    for (other, (needs, _)) in &self.needs {
                        assert!(
                            !(needs.contains(&name) && self.live_of(other).is_some()),
                            "{name} stopped for good before {other}, which needs it"
                        );
                    }
                }
                if signal == Signal::Kill {
                    self.live.remove(&pid);
                }
            }
            Effect::Observe { name } | Effect::Look { name } => {
                if let Some((_, l)) = self.live_of(&name) {
                    let seen = self.seen(l);
                    self.feed(m, Input::Observed { name, seen });
                }
            }
            Effect::Exit(_) => self.exited = true,
            _ => {}
        }
    }

    fn seen(&self, l: &Live) -> Seen {
        Seen {
            pid: l.service,
            ready: l.ready && l.service != 0,
            want_up: l.want_up,
            failing: false,
            supervise_pid: 0,
            since: Duration::from_secs(u64::from(l.service)),
        }
    }

    /// Tells the machine what `pid`'s status directory says now.
    fn report(&mut self, m: &mut Machine, pid: u32) {
        if let Some(l) = self.live.get(&pid) {
            let input = Input::Observed {
                name: l.name.clone(),
                seen: self.seen(l),
            };
            self.feed(m, input);
        }
    }

    fn nth_live(&self, n: usize) -> Option<u32> {
        let mut pids: Vec<u32> = self.live.keys().copied().collect();
        pids.sort_unstable();
        (!pids.is_empty()).then(|| pids[n % pids.len()])
    }

    fn run(&mut self, m: &mut Machine, step: Step) {
        if self.exited {
            return;
        }
        match step {
            Step::Load(sections) => {
                let mut seen = HashSet::new();
                let picked: Vec<(usize, u8, u8)> = sections
                    .into_iter()
                    .filter(|(i, _, _)| seen.insert(*i))
                    .collect();
                let names: HashSet<usize> = picked.iter().map(|(i, _, _)| *i).collect();
                let edges = |i: usize, mask: u8| -> Vec<String> {
                    (0..i)
                        .filter(|j| mask & (1 << j) != 0 && names.contains(j))
                        .map(|j| NAMES[j].to_owned())
                        .collect()
                };
                let services: Vec<ServiceSpec> = picked
                    .iter()
                    .map(|&(i, after_mask, requires_mask)| {
                        let mut s = spec(NAMES[i], "sleep 1");
                        s.after = edges(i, after_mask);
                        s.requires = edges(i, requires_mask);
                        s
                    })
                    .collect();
                self.feed(m, valid(&services));
            }
            Step::Outcome(ok) => {
                if self.pending.is_empty() {
                    return;
                }
                let name = self.pending.remove(0);
                if ok {
                    self.next_pid += 1;
                    let pid = self.next_pid;
                    self.next_pid += 1;
                    self.live.insert(
                        pid,
                        Live {
                            name: name.clone(),
                            service: self.next_pid,
                            ready: false,
                            want_up: true,
                        },
                    );
                    self.feed(m, Input::Launched { name, pid });
                    self.report(m, pid);
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
            Step::Ready(n) => {
                if let Some(pid) = self.nth_live(n) {
                    let l = self.live.get_mut(&pid).unwrap();
                    if l.service != 0 && !l.ready {
                        l.ready = true;
                        self.report(m, pid);
                    }
                }
            }
            Step::Crash(n) => {
                if let Some(pid) = self.nth_live(n) {
                    self.next_pid += 1;
                    let l = self.live.get_mut(&pid).unwrap();
                    if l.service != 0 {
                        l.service = 0;
                        l.ready = false;
                        self.report(m, pid);
                        let l = self.live.get_mut(&pid).unwrap();
                        if l.want_up {
                            l.service = self.next_pid;
                            self.report(m, pid);
                        }
                    }
                }
            }
            Step::Exit(n, code) => {
                if let Some(pid) = self.nth_live(n) {
                    self.live.remove(&pid);
                    self.commands.retain(|(p, _)| *p != pid);
                    self.feed(
                        m,
                        Input::Exited {
                            pid,
                            ended: Ended::Reaped(Exit::Code(code)),
                        },
                    );
                }
            }
            Step::Apply => {
                if self.commands.is_empty() {
                    return;
                }
                let (pid, up) = self.commands.remove(0);
                self.next_pid += 1;
                let next = self.next_pid;
                if let Some(l) = self.live.get_mut(&pid) {
                    l.want_up = up;
                    match (up, l.service) {
                        (true, 0) => l.service = next,
                        (false, p) if p != 0 => {
                            l.service = 0;
                            l.ready = false;
                        }
                        _ => return,
                    }
                    self.report(m, pid);
                }
            }
            Step::Control(start, i) => {
                let name = NAMES[i].to_owned();
                let request = if start {
                    Request::Start(name)
                } else {
                    Request::Stop(name)
                };
                self.feed(m, Input::Control(request));
            }
            Step::Wait(ms) => {
                self.now += Duration::from_millis(ms);
                if m.next_deadline().is_some_and(|d| d <= self.now) {
                    self.feed(m, Input::Deadline);
                }
            }
            Step::FailSend => self.fail_send = true,
            Step::Terminate => {
                self.terminated = true;
                self.feed(m, Input::Terminate);
            }
        }
    }
}

impl World {
    /// Lets every launch answer and every command take effect, until
    /// nothing is left in flight.
    fn quiesce(&mut self, m: &mut Machine) {
        for _ in 0..200 {
            if self.exited {
                return;
            }
            self.fail_send = false;
            if !self.pending.is_empty() {
                self.run(m, Step::Outcome(true));
            } else if !self.commands.is_empty() {
                self.run(m, Step::Apply);
            } else if m
                .next_deadline()
                .is_some_and(|d| d <= self.now + CHECK_EVERY)
            {
                // A retry (a look a second later) is due.
                self.run(m, Step::Wait(1_000));
            } else {
                return;
            }
        }
    }

    /// Once quiet: a service that requires one that is down is down.
    fn check_requires_hold(&self, m: &Machine) {
        for (pid, live) in &self.live {
            let running = m
                .services
                .get(&live.name)
                .is_some_and(|s| matches!(s.state, State::Running { pid: p, .. } if p == *pid));
            if !running {
                continue;
            }
            for required in &self.needs[&live.name].1 {
                if m.services.contains_key(required) && self.down(required) {
                    assert!(
                        live.service == 0,
                        "{} runs while {required}, which it requires, is down",
                        live.name
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// The start-order rules hold in every run (checked on each effect),
    /// and a shutdown still ends with every supervise gone.
    #[test]
    fn random_runs_keep_the_start_order(
        steps in prop::collection::vec(step(), 0..100),
        readiness in any::<bool>(),
    ) {
        let mut m = if readiness { Machine::telling_readiness() } else { Machine::new() };
        let mut world = World::default();
        for step in steps {
            world.run(&mut m, step);
        }
        world.quiesce(&mut m);
        if !world.exited {
            world.check_requires_hold(&m);
            world.terminated = true;
            world.feed(&mut m, Input::Terminate);
        }
        while !world.exited && !world.pending.is_empty() {
            world.run(&mut m, Step::Outcome(true));
        }
        // Supervise exit once signalled, in a world that behaves.
        let mut rounds = 0;
        while !world.exited && !world.live.is_empty() && rounds < 100 {
            rounds += 1;
            let signalled: Vec<u32> = m
                .services
                .values()
                .filter_map(|s| match s.state {
                    State::Stopping { pid, .. } => Some(pid),
                    _ => None,
                })
                .collect();
            let Some(&pid) = signalled.first() else { break };
            world.live.remove(&pid);
            world.feed(&mut m, exited(pid, 0));
        }
        if !world.exited {
            world.run(&mut m, Step::Wait(10_000_000));
        }
        prop_assert!(world.exited, "no exit after shutdown");
        prop_assert!(world.live.is_empty(), "left alive: {:?}", world.live);
    }
}

#[test]
fn a_status_left_by_the_previous_supervise_is_not_believed_after_a_launch() {
    let a = spec("a", "x");
    let b = requires(spec("b", "x"), &["a"]);
    let mut m = Machine::telling_readiness();
    m.handle(secs(0), valid(&[a, b.clone()]));
    m.handle(secs(0), launched("a", 1));
    // The old file: down, wanted down. Not a's state yet: nothing.
    let stale = Input::Observed {
        name: "a".into(),
        seen: Seen {
            pid: 0,
            want_up: false,
            since: secs(5),
            ..Seen::default()
        },
    };
    assert!(m.handle(secs(0), stale.clone()).is_empty());
    assert!(m.handle(secs(0), stale).is_empty(), "read again: the same");
    // The new supervise writes: its service runs.
    assert_eq!(acts(&m.handle(secs(0), seen("a", 11, true))), [launch(&b)]);
    // A crash loop too fast to see a pid: a new `since`, down, wanted up.
    let mut m = Machine::telling_readiness();
    m.handle(secs(0), valid(&[spec("bad", "x")]));
    m.handle(secs(0), launched("bad", 1));
    let down = |since| Input::Observed {
        name: "bad".into(),
        seen: Seen {
            pid: 0,
            want_up: true,
            since,
            ..Seen::default()
        },
    };
    assert!(acts(&m.handle(secs(0), down(Duration::ZERO))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(1), down(secs(1)))),
        [Effect::Notify(Notice::Ready)],
        "failing counts as settled"
    );
}

#[test]
fn a_required_service_that_crashes_then_gives_up_holds_its_dependent_each_time() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    let pids = run_all(&mut m, &[db, web]);
    // A crash: down while wanted up, then up again.
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 0, false))),
        [send("web", Command::Down)]
    );
    m.handle(secs(1), seen_down("web"));
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 2001, true))),
        [send("web", Command::Up)]
    );
    m.handle(secs(1), seen("web", 2002, true));
    // Then it gives up: web is held down again.
    assert_eq!(
        acts(&m.handle(secs(2), exited(pids["db"], crate::supervisor::EXIT_GAVE_UP))),
        [send("web", Command::Down)]
    );
}

#[test]
fn a_dependent_let_up_but_not_seen_up_yet_is_held_down_again() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db, web]);
    m.handle(secs(1), seen("db", 0, false));
    m.handle(secs(1), seen_down("web"));
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 2001, true))),
        [send("web", Command::Up)]
    );
    // db fails again before web's status shows the `u`: web's "down,
    // wanted down" is ours, not an operator's, and it gets `d` again.
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 0, false))),
        [send("web", Command::Down)]
    );
}

#[test]
fn a_reload_restarting_a_required_service_holds_its_dependent_meanwhile() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    let pids = run_all(&mut m, &[db, web.clone()]);
    let db2 = spec("db", "x --new");
    let out = m.handle(secs(1), valid(&[db2.clone(), web]));
    assert_eq!(
        acts(&out),
        [
            term(pids["db"]),
            report(2, true, &["restart db: command changed"]),
            send("web", Command::Down)
        ]
    );
    m.handle(secs(1), seen_down("web"));
    assert_eq!(
        acts(&m.handle(secs(2), exited(pids["db"], 0))),
        [launch(&db2)]
    );
    m.handle(secs(2), launched("db", 300));
    assert_eq!(
        acts(&m.handle(secs(2), seen("db", 3000, true))),
        [send("web", Command::Up)]
    );
}

#[test]
fn a_command_that_could_not_be_sent_is_tried_again_a_second_later() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db, web]);
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 0, false))),
        [send("web", Command::Down)]
    );
    let out = m.handle(
        secs(1),
        Input::NotSent {
            name: "web".into(),
            command: Command::Down,
            error: "No such device or address".into(),
        },
    );
    assert_eq!(
        logs(&out),
        ["web: cannot send d: No such device or address; trying again in 1 s"]
    );
    assert_eq!(m.next_deadline(), Some(secs(1) + CHECK_EVERY));
    let out = m.handle(secs(2), Input::Deadline);
    assert_eq!(acts(&out), [Effect::Look { name: "web".into() }]);
    assert_eq!(m.next_deadline(), None, "once: web's directory is watched");
    assert_eq!(
        acts(&m.handle(secs(2), seen("web", 1101, true))),
        [send("web", Command::Down)]
    );
}

#[test]
fn a_service_stopped_on_request_then_started_by_hand_brings_back_what_requires_it() {
    let (mut m, _) = chain();
    m.handle(secs(1), stop("a"));
    m.handle(secs(1), seen_down("c"));
    m.handle(secs(1), seen_down("b"));
    m.handle(secs(1), seen_down("a"));
    // `svc -u a`, not through the scanner.
    let out = m.handle(secs(2), seen("a", 3000, true));
    assert_eq!(acts(&out), [send("b", Command::Up)]);
    assert_eq!(
        acts(&m.handle(secs(2), seen("b", 3001, true))),
        [send("c", Command::Up)]
    );
}

#[test]
fn a_dependent_whose_d_and_u_were_both_lost_is_held_down_when_what_it_requires_exits() {
    // The seed in proptest-regressions/scan/machine_order_tests.txt, made
    // small: the `d` for a crash of db is lost, db comes back, the owed
    // `u` is lost too; web never went down, so when db exits for good web
    // must get `d` again (the lost `u` does not make it "down by us").
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    let pids = run_all(&mut m, &[db, web]);
    let lost = |command| Input::NotSent {
        name: "web".into(),
        command,
        error: "No such device or address".into(),
    };
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 0, false))),
        [send("web", Command::Down)]
    );
    m.handle(secs(1), lost(Command::Down));
    assert!(acts(&m.handle(secs(1), seen("db", 2001, false))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 2001, true))),
        [send("web", Command::Up)]
    );
    m.handle(secs(1), lost(Command::Up));
    assert_eq!(
        acts(&m.handle(secs(2), exited(pids["db"], 0))),
        [send("web", Command::Down)]
    );
}

#[test]
fn a_lost_u_after_a_d_that_arrived_is_still_owed() {
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[db.clone(), web.clone()]));
    run_all(&mut m, &[db, web]);
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 0, false))),
        [send("web", Command::Down)]
    );
    m.handle(secs(1), seen_down("web"));
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 2001, true))),
        [send("web", Command::Up)]
    );
    m.handle(
        secs(1),
        Input::NotSent {
            name: "web".into(),
            command: Command::Up,
            error: "No such device or address".into(),
        },
    );
    // The retry a second later: web is still down by our `d`.
    assert_eq!(
        acts(&m.handle(secs(2), Input::Deadline)),
        [Effect::Look { name: "web".into() }]
    );
    assert_eq!(
        acts(&m.handle(secs(2), seen_down("web"))),
        [send("web", Command::Up)]
    );
}

#[test]
fn a_dependent_brought_up_by_a_late_u_of_ours_after_a_lost_d_is_held_down_again() {
    // The second seed in the regressions file, made small: web got `d`
    // (a reload made it require db), then `u` (db ready), both still in
    // its FIFO, then db died and the `d` meant to follow was lost. The
    // first `d` arrives (down, wanted down: not someone's `svc -d`, our
    // `u` is behind it), then the `u`: web runs while db is down.
    let db = spec("db", "x");
    let web = requires(spec("web", "y"), &["db"]);
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[spec("web", "y")]));
    m.handle(secs(0), launched("web", 100));
    m.handle(secs(0), seen("web", 1100, true));
    let out = acts(&m.handle(secs(1), valid(&[db.clone(), web])));
    assert!(out.contains(&send("web", Command::Down)), "{out:?}");
    m.handle(secs(1), launched("db", 101));
    assert_eq!(
        acts(&m.handle(secs(1), seen("db", 1101, true))),
        [send("web", Command::Up)]
    );
    let out = acts(&m.handle(secs(2), exited(101, 1)));
    assert!(out.contains(&send("web", Command::Down)), "{out:?}");
    m.handle(
        secs(2),
        Input::NotSent {
            name: "web".into(),
            command: Command::Down,
            error: "Resource temporarily unavailable".into(),
        },
    );
    assert!(acts(&m.handle(secs(2), seen_down("web"))).is_empty());
    assert_eq!(
        acts(&m.handle(secs(2), seen("web", 1200, false))),
        [send("web", Command::Down)]
    );
    // Its `u` is owed again: db back and ready, web gets it.
    m.handle(secs(2), seen_down("web"));
    m.handle(secs(3), launched("db", 102));
    assert_eq!(
        acts(&m.handle(secs(3), seen("db", 1300, true))),
        [send("web", Command::Up)]
    );
}

/// What a supervise that gave up says just before it exits: down, wanted
/// up, failing.
fn seen_gave_up(name: &str) -> Input {
    Input::Observed {
        name: name.into(),
        seen: Seen {
            pid: 0,
            ready: false,
            want_up: true,
            failing: true,
            supervise_pid: 0,
            since: secs(777),
        },
    }
}

#[test]
fn a_start_that_reaches_a_supervise_about_to_give_up_starts_it_again_once_reaped() {
    let a = spec("a", "x");
    let mut m = Machine::new();
    m.handle(secs(0), valid(std::slice::from_ref(&a)));
    m.handle(secs(0), launched("a", 100));
    // It gave up; `start a` comes before the scanner reaps it: the `u`
    // goes to a supervise that is exiting.
    assert_eq!(
        acts(&m.handle(secs(1), start("a"))),
        [observe("a"), send("a", Command::Up)]
    );
    assert!(acts(&m.handle(secs(1), seen_gave_up("a"))).is_empty());
    let out = m.handle(secs(1), exited(100, crate::supervisor::EXIT_GAVE_UP));
    assert_eq!(acts(&out), [launch(&a)]);
    assert_eq!(
        logs(&out)[0],
        "a: supervise exited (exit code 2); starting it again: it was asked to start"
    );
    // Once: the next one that gives up waits for a reload, as usual.
    m.handle(secs(2), launched("a", 101));
    m.handle(secs(2), seen_gave_up("a"));
    assert!(acts(&m.handle(secs(3), exited(101, crate::supervisor::EXIT_GAVE_UP))).is_empty());
}

#[test]
fn a_start_seen_obeyed_or_taken_back_by_a_stop_is_not_remembered() {
    let a = spec("a", "x");
    let mut m = Machine::new();
    m.handle(secs(0), valid(std::slice::from_ref(&a)));
    m.handle(secs(0), launched("a", 100));
    m.handle(secs(1), start("a"));
    // The `u` took effect: the start is done; a later give-up is left.
    m.handle(secs(1), seen("a", 1100, true));
    assert!(acts(&m.handle(secs(9), exited(100, crate::supervisor::EXIT_GAVE_UP))).is_empty());
    // `start a` then `stop a` before it exits (`svc exit`): left down.
    let mut m = Machine::new();
    m.handle(secs(0), valid(&[a]));
    m.handle(secs(0), launched("a", 100));
    m.handle(secs(1), seen_gave_up("a"));
    m.handle(secs(1), start("a"));
    m.handle(secs(1), stop("a"));
    assert!(acts(&m.handle(secs(2), exited(100, 0))).is_empty());
}
