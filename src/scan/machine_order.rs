//! The machine's start-order rules (`after`, `requires`), its control
//! requests and its own readiness: the part of [`super::Machine`] that looks
//! at a service's neighbours. Every input that changes a service *touches*
//! it; before `handle` returns, [`Machine::settle`] looks again at the
//! touched services and their neighbours only, so 1,000 services without
//! dependencies cost nothing more than before, and a chain costs its length.
//!
//! What a service needs is known through its status directory: a service
//! others need, or that requires one, is watched (`Observe`), and each new
//! `status` or `info` comes back as `Observed`. The rules:
//!
//! - **held**: a service is held down while it was asked down (`stop NAME`)
//!   or something it requires is down, being stopped, or held itself;
//! - a service that waits (`Waiting`, no supervise yet) is launched, and one
//!   whose `u` is owed gets it, only when it is not held and everything it
//!   needs is **ready**: running, its status directory saying so, and not
//!   held or being stopped itself;
//! - a held service gets `d` only once everything that requires it is
//!   down, so stops go dependents first; the `u` is owed back unless it was
//!   asked down. It gets `d` again if its status shows it wanted up with
//!   no command of ours on its way (a late `u` of ours overtook a `d`
//!   that was lost, or a `svc -u`);
//! - a `d` or `u` that could not be written is as if not sent: the state
//!   is put back as it was before it (a lost `u` leaves the service down
//!   by us only if our `d` arrived), and a look a second later retries;
//! - a supervise queued to stop (a removal, a shutdown) is sent SIGTERM only
//!   once no supervise that needs it is left.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use super::{
    CHECK_EVERY, Command, Effect, Machine, Notice, Readiness, Request, Seen, Service, Signal, State,
};
use crate::supervisor::Level;

/// What a service's neighbours read of it; when it changes, they are looked
/// at again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Facts {
    alive: bool,
    down: bool,
    ready: bool,
    held: bool,
}

/// Names for a log line: `a`, `a, b`, or the first five and a count.
fn list(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN {
        return names.join(", ");
    }
    format!(
        "{} and {} more",
        names[..SHOWN].join(", "),
        names.len() - SHOWN
    )
}

impl Service {
    /// Its supervise exists (or is being started).
    fn alive(&self) -> bool {
        matches!(
            self.state,
            State::Starting { .. }
                | State::Running { .. }
                | State::StopQueued { .. }
                | State::Stopping { .. }
        )
    }

    /// Its service is down, as far as the scanner knows: no supervise, one
    /// being started or stopped, or its status says so.
    fn down(&self) -> bool {
        match self.state {
            State::Running { .. } | State::StopQueued { .. } => {
                self.seen.is_some_and(|seen| seen.pid == 0)
            }
            _ => true,
        }
    }

    /// Ready for what needs it: it runs, its status directory says it is
    /// ready, and nobody is taking it down.
    fn ready(&self) -> bool {
        matches!(self.state, State::Running { .. })
            && self.seen.is_some_and(|seen| seen.pid != 0 && seen.ready)
            && !self.down_sent
            && !self.asked_down
            && !self.held
    }

    /// Held, and not down by us as far as the scanner knows: no `d` of
    /// ours, or its status says it is wanted up again with none of our
    /// commands on its way (a `u` of ours that arrived after the `d`
    /// meant to follow it was lost, or someone's `svc -u`).
    fn needs_down(&self) -> bool {
        !self.down_sent || (self.in_flight.is_none() && self.seen.is_some_and(|seen| seen.want_up))
    }

    fn facts(&self) -> Facts {
        Facts {
            alive: self.alive(),
            down: self.down(),
            ready: self.ready(),
            held: self.held,
        }
    }
}

impl Machine {
    /// Marks a service to be looked at again before `handle` returns.
    pub(super) fn touch(&mut self, name: &str) {
        self.touched.push(name.to_owned());
    }

    /// Marks every service (a load, a shutdown).
    pub(super) fn touch_all(&mut self) {
        self.touched.extend(self.services.keys().cloned());
    }

    /// Drops a service; what it needed and what needs it are looked at
    /// again (a stop may have waited for it).
    pub(super) fn forget(&mut self, name: &str) {
        if let Some(service) = self.services.remove(name) {
            if let Readiness::Pending(unsettled) = &mut self.readiness {
                unsettled.remove(name);
            }
            self.touched.extend(service.needs().map(str::to_owned));
        }
        self.touched
            .extend(self.graph.needed_by(name).iter().cloned());
    }

    /// Whether some supervise that needs `name` is still there.
    pub(super) fn any_needer_alive(&self, name: &str) -> bool {
        self.graph
            .needed_by(name)
            .iter()
            .any(|n| self.services.get(n).is_some_and(Service::alive))
    }

    /// Everything `name` needs is ready (what the machine does not manage
    /// does not hold it back).
    fn needs_ready(&self, name: &str) -> bool {
        self.not_ready_needs(name).is_empty()
    }

    /// What `name` needs that is not ready, in its order.
    fn not_ready_needs(&self, name: &str) -> Vec<&str> {
        let Some(service) = self.services.get(name) else {
            return Vec::new();
        };
        service
            .needs()
            .filter(|n| self.services.get(*n).is_some_and(|s| !s.ready()))
            .collect()
    }

    /// Everything that requires `name` is down.
    fn requirers_down(&self, name: &str) -> bool {
        self.graph
            .required_by(name)
            .iter()
            .all(|n| self.services.get(n).is_none_or(Service::down))
    }

    /// Whether `name` is held down: asked, or what it requires is down or
    /// held (as last computed).
    fn compute_held(&self, name: &str) -> bool {
        let Some(service) = self.services.get(name) else {
            return false;
        };
        service.asked_down
            || service
                .requires()
                .filter_map(|r| self.services.get(r))
                .any(|r| r.held || r.down())
    }

    /// Looks again at the touched services and at their neighbours, until
    /// nothing changes: first whether each is held (down the `requires`
    /// edges, so that a service is never judged on a stale fact of what it
    /// requires), then what each must do.
    pub(super) fn settle(&mut self, out: &mut Vec<Effect>) {
        // Each round acts at least once, and each service can act only a
        // few times per input: this bound is never reached.
        let mut rounds = 4 * self.services.len() + 8;
        while !self.touched.is_empty() && rounds > 0 {
            rounds -= 1;
            let mut batch: Vec<String> = std::mem::take(&mut self.touched);
            batch.sort();
            batch.dedup();
            let before: HashMap<String, Facts> = batch
                .iter()
                .filter_map(|n| Some((n.clone(), self.services.get(n)?.facts())))
                .collect();
            let held_changed = self.update_held(&batch);
            let mut act_on: BTreeSet<String> = BTreeSet::new();
            for name in batch.iter().chain(&held_changed) {
                act_on.insert(name.clone());
                act_on.extend(self.graph.needed_by(name).iter().cloned());
                if let Some(service) = self.services.get(name) {
                    act_on.extend(service.needs().map(str::to_owned));
                }
            }
            for name in &act_on {
                self.act(name, out);
            }
            // A change seen by the neighbours: they are looked at again.
            for (name, facts) in before {
                if self.services.get(&name).is_some_and(|s| s.facts() != facts) {
                    self.touched.push(name);
                }
            }
        }
    }

    /// Recomputes `held` for `names` and for what requires them (a touched
    /// service may have gone down or up), and on down the `requires` edges
    /// wherever it changed; returns the services whose `held` changed.
    fn update_held(&mut self, names: &[String]) -> Vec<String> {
        let mut changed = Vec::new();
        let mut queue: Vec<String> = names.to_vec();
        for name in names {
            queue.extend(self.graph.required_by(name).iter().cloned());
        }
        // Each service changes a few times at most: a bound never reached,
        // should the graph ever hold a cycle.
        let mut steps = 16 * (self.services.len() + queue.len() + 1);
        while let Some(name) = queue.pop() {
            if steps == 0 {
                break;
            }
            steps -= 1;
            let held = self.compute_held(&name);
            let Some(service) = self.services.get_mut(&name) else {
                continue;
            };
            if service.held != held {
                service.held = held;
                changed.push(name.clone());
                queue.extend(self.graph.required_by(&name).iter().cloned());
            }
        }
        changed
    }

    /// What one service must do now, by the rules of the module's page.
    fn act(&mut self, name: &str, out: &mut Vec<Effect>) {
        let shutting_down = self.shutdown.is_some();
        let Some(service) = self.services.get(name) else {
            return;
        };
        match service.state {
            State::Waiting if !shutting_down => {
                if service.held {
                    return;
                }
                let waiting = self.not_ready_needs(name);
                if waiting.is_empty() {
                    self.launch_waiting(name, out);
                } else if !service.said_waiting {
                    let line = format!("{name}: waiting for {} to be ready", list(&waiting));
                    out.push(Effect::Log(Level::Notice, line));
                    if let Some(service) = self.services.get_mut(name) {
                        service.said_waiting = true;
                    }
                }
            }
            State::Running { .. } => {
                self.watch_if_needed(name, out);
                let service = &self.services[name];
                if service.held && service.needs_down() && self.requirers_down(name) {
                    self.hold_down(name, out);
                } else if !service.held && service.up_owed && self.needs_ready(name) {
                    self.let_up(name, out);
                }
            }
            State::StopQueued { pid, then } if !self.any_needer_alive(name) => {
                out.push(Effect::Signal {
                    pid,
                    signal: Signal::Term,
                });
                if let Some(service) = self.services.get_mut(name) {
                    service.state = State::Stopping { pid, then };
                }
                self.touch(name);
            }
            _ => {}
        }
    }

    /// Launches a service whose wait is over.
    fn launch_waiting(&mut self, name: &str, out: &mut Vec<Effect>) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let Some(spec) = service.spec.clone() else {
            return;
        };
        if std::mem::take(&mut service.said_waiting) {
            out.push(Effect::Log(
                Level::Notice,
                format!("{name}: what it needs is ready; starting its supervise"),
            ));
        }
        service.state = State::Starting { then: None };
        out.push(Effect::Launch(Box::new(spec)));
        self.touch(name);
    }

    /// Whether the scanner must know what `name`'s status directory says.
    fn must_watch(&self, name: &str, service: &Service) -> bool {
        matches!(self.readiness, Readiness::Pending(_) | Readiness::Waiting)
            || !self.graph.needed_by(name).is_empty()
            || service.requires().next().is_some()
            || service.asked_down
            || service.start_asked
    }

    /// Starts watching `name`'s status directory if it must be watched.
    fn watch_if_needed(&mut self, name: &str, out: &mut Vec<Effect>) {
        let Some(service) = self.services.get(name) else {
            return;
        };
        if service.watched || !self.must_watch(name, service) {
            return;
        }
        if let Some(service) = self.services.get_mut(name) {
            service.watched = true;
        }
        out.push(Effect::Observe {
            name: name.to_owned(),
        });
    }

    /// Sends `d` to a held service whose dependents are down.
    fn hold_down(&mut self, name: &str, out: &mut Vec<Effect>) {
        let why = self.why_held(name);
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        service.down_sent = true;
        service.up_owed = !service.asked_down;
        // Down and wanted down by someone else than us (no command of ours
        // is still on its way).
        let down_already =
            service.in_flight.is_none() && service.seen.is_some_and(|s| s.pid == 0 && !s.want_up);
        if down_already && !service.asked_down {
            // Down on someone's purpose: it stays as they left it.
            service.up_owed = false;
        } else {
            service.in_flight = Some(Command::Down);
            out.push(Effect::Send {
                name: name.to_owned(),
                command: Command::Down,
            });
            out.push(Effect::Log(
                Level::Notice,
                format!("{name}: stopping it: {why}"),
            ));
        }
        self.touch(name);
    }

    /// Why a service is held, for the log.
    fn why_held(&self, name: &str) -> String {
        let Some(service) = self.services.get(name) else {
            return String::new();
        };
        if service.asked_down {
            return "asked to (stop)".to_owned();
        }
        for required in service.requires() {
            match self.services.get(required) {
                Some(r) if r.down() => return format!("{required}, which it requires, is down"),
                Some(r) if r.held => {
                    return format!("{required}, which it requires, is being stopped");
                }
                _ => {}
            }
        }
        "what it requires is down".to_owned()
    }

    /// Sends the owed `u`.
    fn let_up(&mut self, name: &str, out: &mut Vec<Effect>) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let was_down = service.down_sent;
        service.up_owed = false;
        service.down_sent = false;
        service.up_undoes_down = was_down;
        service.in_flight = Some(Command::Up);
        out.push(Effect::Send {
            name: name.to_owned(),
            command: Command::Up,
        });
        let line = if was_down {
            format!("{name}: what it needs is ready again; starting it")
        } else {
            format!("{name}: starting it")
        };
        out.push(Effect::Log(Level::Notice, line));
        self.touch(name);
    }

    /// What a service's status directory says now.
    pub(super) fn observed(&mut self, name: &str, seen: Seen, out: &mut Vec<Effect>) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        let (State::Running { pid, .. } | State::StopQueued { pid, .. }) = service.state else {
            return;
        };
        if seen.supervise_pid != 0 && seen.supervise_pid != pid {
            // Left by another supervise: this one has not written yet.
            return;
        }
        // Right after a launch the files may be the previous supervise's
        // (or not there yet): believed once they prove to be this one's.
        let fresh = service.adopted
            || service.seen.is_some()
            || seen.supervise_pid == pid
            || seen.pid != 0
            || service.baseline.is_some_and(|since| since != seen.since);
        if !fresh {
            service.baseline.get_or_insert(seen.since);
            return;
        }
        if seen.pid == 0 && seen.want_up {
            // Down while wanted up, since it started: failing.
            service.failed = true;
        }
        if let Some(before) = service.seen {
            let restarted = before.pid != 0 && before.pid != seen.pid;
            if restarted && seen.want_up {
                service.failed = true;
            }
            if service.asked_down && service.down_sent && before.pid == 0 && seen.pid != 0 {
                // Started again by someone else (`svc -u`): no longer
                // held down on our side.
                service.asked_down = false;
                service.down_sent = false;
                out.push(Effect::Log(
                    Level::Notice,
                    format!("{name}: started again by hand; no longer held down"),
                ));
            }
        }
        if seen.failing {
            service.failed = true;
        }
        if seen.pid != 0 && seen.want_up {
            // A `start NAME` is carried out.
            service.start_asked = false;
        }
        if service.in_flight
            == Some(if seen.want_up {
                Command::Up
            } else {
                Command::Down
            })
        {
            service.in_flight = None;
        }
        service.seen = Some(seen);
        self.touch(name);
    }

    /// A status directory that cannot be watched is looked at every
    /// [`CHECK_EVERY`] instead.
    pub(super) fn not_observed(
        &mut self,
        name: &str,
        error: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        service.look_at = Some(now + CHECK_EVERY);
        service.unwatchable = true;
        out.push(Effect::Log(
            Level::Warning,
            format!(
                "{name}: cannot watch its status directory: {error}; reading it every {} s",
                CHECK_EVERY.as_secs()
            ),
        ));
    }

    /// A `d` or `u` that did not reach the supervise is as if not sent; a
    /// look at its status directory a second later tries again.
    pub(super) fn not_sent(
        &mut self,
        name: &str,
        command: Command,
        error: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) {
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        service.in_flight = None;
        match command {
            Command::Down => service.down_sent = false,
            // Back to before the `u`: down by our `d` only if one arrived
            // (a `d` lost too leaves it running, and held it must get one).
            Command::Up => {
                service.up_owed = true;
                service.down_sent = service.up_undoes_down;
            }
        }
        service.look_at = Some(
            service
                .look_at
                .map_or(now + CHECK_EVERY, |at| at.min(now + CHECK_EVERY)),
        );
        let byte = match command {
            Command::Up => 'u',
            Command::Down => 'd',
        };
        out.push(Effect::Log(
            Level::Warning,
            format!(
                "{name}: cannot send {byte}: {error}; trying again in {} s",
                CHECK_EVERY.as_secs()
            ),
        ));
    }

    /// A request from the control FIFO.
    pub(super) fn control(&mut self, request: Request, now: Duration, out: &mut Vec<Effect>) {
        let (Request::Start(name) | Request::Stop(name)) = &request;
        let known = self.services.get(name).is_some_and(|s| !s.removing());
        if self.shutdown.is_some() {
            out.push(Effect::Log(
                Level::Notice,
                format!("control: {request}: shutting down, ignored"),
            ));
            return;
        }
        if !known {
            out.push(Effect::Log(
                Level::Warning,
                format!("control: {request}: no service of that name"),
            ));
            return;
        }
        match request {
            Request::Start(name) => self.start_request(&name, now, out),
            Request::Stop(name) => self.stop_request(&name, out),
        }
    }

    /// `start NAME`: NAME and what it needs, transitively, are no longer
    /// asked down; those whose supervise exited are started again, those
    /// running get `u` once what they need is ready.
    fn start_request(&mut self, name: &str, now: Duration, out: &mut Vec<Effect>) {
        let mut closure: Vec<String> = vec![name.to_owned()];
        let mut seen: HashSet<String> = closure.iter().cloned().collect();
        let mut at = 0;
        while let Some(next) = closure.get(at).cloned() {
            at += 1;
            let needs: Vec<String> = self
                .services
                .get(&next)
                .map(|s| s.needs().map(str::to_owned).collect())
                .unwrap_or_default();
            for need in needs {
                if self.services.contains_key(&need) && seen.insert(need.clone()) {
                    closure.push(need);
                }
            }
        }
        out.push(Effect::Log(Level::Notice, format!("control: start {name}")));
        let mut revived = Vec::new();
        for member in &closure {
            let Some(service) = self.services.get_mut(member) else {
                continue;
            };
            service.asked_down = false;
            match service.state {
                State::Stopped => {
                    service.backoff.reset();
                    service.state = State::BackingOff { until: now };
                    revived.push(member.clone());
                    out.push(Effect::Log(
                        Level::Notice,
                        format!("{member}: starting its supervise again (asked)"),
                    ));
                }
                State::BackingOff { .. } => {
                    service.backoff.reset();
                    service.state = State::BackingOff { until: now };
                    revived.push(member.clone());
                }
                // Up and wanted up already: nothing to send. Otherwise
                // its supervise may be exiting (it gave up): remembered
                // until its status shows it up, watched for that.
                State::Running { .. } => {
                    service.up_owed = !service.seen.is_some_and(|s| s.pid != 0 && s.want_up);
                    service.start_asked = service.up_owed;
                }
                _ => {}
            }
            self.touch(member);
        }
        for member in revived.iter().rev() {
            self.start_if_due(member, now, out);
        }
    }

    /// `stop NAME`: held down, which takes what requires it down first.
    fn stop_request(&mut self, name: &str, out: &mut Vec<Effect>) {
        let first: Vec<&str> = self
            .graph
            .required_by(name)
            .iter()
            .filter(|n| self.services.get(*n).is_some_and(|s| !s.down()))
            .map(String::as_str)
            .collect();
        let line = if first.is_empty() {
            format!("control: stop {name}")
        } else {
            format!(
                "control: stop {name}: stopping what requires it first ({})",
                list(&first)
            )
        };
        out.push(Effect::Log(Level::Notice, line));
        let Some(service) = self.services.get_mut(name) else {
            return;
        };
        service.asked_down = true;
        service.up_owed = false;
        service.start_asked = false;
        if matches!(service.state, State::BackingOff { .. } | State::Waiting) {
            service.state = State::Stopped;
        }
        self.touch(name);
    }

    /// How long a shutdown may take before the rest is killed: along the
    /// longest chain of what needs what, the stop timeouts one after the
    /// other (dependents stop first).
    pub(super) fn longest_stop(&self) -> Duration {
        let mut memo: HashMap<&str, Duration> = HashMap::new();
        let mut longest = Duration::ZERO;
        for start in self.services.keys() {
            // An explicit stack: a chain may be long.
            let mut stack: Vec<(&str, bool)> = vec![(start.as_str(), false)];
            while let Some((name, expanded)) = stack.pop() {
                if memo.contains_key(name) {
                    continue;
                }
                let needers: Vec<&str> = self
                    .graph
                    .needed_by(name)
                    .iter()
                    .map(String::as_str)
                    .filter(|n| self.services.get(*n).is_some_and(Service::alive))
                    .collect();
                if !expanded {
                    stack.push((name, true));
                    stack.extend(
                        needers
                            .iter()
                            .filter(|n| !memo.contains_key(*n))
                            .map(|n| (*n, false)),
                    );
                    continue;
                }
                let after = needers
                    .iter()
                    .filter_map(|n| memo.get(n))
                    .max()
                    .copied()
                    .unwrap_or_default();
                let own = self
                    .services
                    .get(name)
                    .map_or(Duration::ZERO, Service::stop_timeout);
                memo.insert(name, own + after);
            }
            longest = longest.max(memo.get(start.as_str()).copied().unwrap_or_default());
        }
        longest
    }

    /// Once every service that should run is ready or failed, says so,
    /// once.
    pub(super) fn tell_readiness(&mut self, out: &mut Vec<Effect>) {
        let Readiness::Pending(unsettled) = &self.readiness else {
            return;
        };
        if self.shutdown.is_some() {
            return;
        }
        let mut settled = Vec::new();
        let mut all = true;
        for name in unsettled {
            if self.settled(name) {
                settled.push(name.clone());
            } else {
                all = false;
                break;
            }
        }
        if let Readiness::Pending(unsettled) = &mut self.readiness {
            for name in settled {
                unsettled.remove(&name);
            }
        }
        if !all {
            return;
        }
        self.readiness = Readiness::Told;
        let count = super::plan::count(self.services.len(), "service");
        let mut failing: Vec<&str> = Vec::new();
        let mut waiting: Vec<&str> = Vec::new();
        let mut down: Vec<&str> = Vec::new();
        for (name, service) in &self.services {
            if service.ready_for_readiness() {
                continue;
            }
            match service.why_not_ready() {
                NotReady::Failing => failing.push(name),
                NotReady::Waiting => waiting.push(name),
                NotReady::Down => down.push(name),
            }
        }
        let parts: Vec<String> = [("failing", failing), ("waiting", waiting), ("down", down)]
            .into_iter()
            .filter(|(_, names)| !names.is_empty())
            .map(|(word, mut names)| {
                names.sort_unstable();
                format!("{} {word}: {}", names.len(), list(&names))
            })
            .collect();
        let line = match parts.as_slice() {
            [] => format!("every service is ready ({count})"),
            [only] if only.contains(" failing: ") => {
                format!("every service is ready or failed ({count}, {only})")
            }
            _ => format!(
                "every service is ready or settled ({count}, {})",
                parts.join("; ")
            ),
        };
        out.push(Effect::Log(Level::Notice, line));
        out.push(Effect::Notify(Notice::Ready));
    }

    /// Whether a service no longer holds the scanner's readiness back: it
    /// is settled on its own account (ready, failed since the scanner
    /// started it, stopped, down on purpose), or it waits or is held for
    /// something that is settled without being ready, however far down.
    fn settled(&self, name: &str) -> bool {
        let Some(service) = self.services.get(name) else {
            return true;
        };
        if service.settled_itself() {
            return true;
        }
        if !(matches!(service.state, State::Waiting) || service.held) {
            return false;
        }
        let mut stack: Vec<&str> = service.needs().collect();
        let mut visited: HashSet<&str> = HashSet::from([name]);
        while let Some(need) = stack.pop() {
            if !visited.insert(need) {
                continue;
            }
            let Some(need_service) = self.services.get(need) else {
                continue;
            };
            if need_service.ready_for_readiness() {
                continue;
            }
            if need_service.settled_itself() {
                return true;
            }
            if matches!(need_service.state, State::Waiting) || need_service.held {
                stack.extend(need_service.needs());
            }
        }
        false
    }
}

impl Service {
    /// Settled on its own account (see [`Machine::settled`]).
    fn settled_itself(&self) -> bool {
        self.failed || self.down_on_purpose() || self.ready_for_readiness()
    }

    /// Not running because it is meant to be down (`start : down`, `stop
    /// NAME`, stopped), not because the scanner holds it down for a need.
    fn down_on_purpose(&self) -> bool {
        self.asked_down
            || match self.state {
                State::Stopped | State::Stopping { .. } | State::StopQueued { .. } => true,
                State::Running { .. } => self
                    .seen
                    .is_some_and(|s| s.pid == 0 && !s.want_up && !self.down_sent),
                _ => false,
            }
    }

    /// Why a service that does not hold readiness back is not ready: it
    /// failed, it waits for a need that will not come up, or it is meant
    /// to be down.
    fn why_not_ready(&self) -> NotReady {
        if self.failed {
            NotReady::Failing
        } else if self.down_on_purpose() {
            NotReady::Down
        } else if matches!(self.state, State::Waiting) || self.held {
            NotReady::Waiting
        } else {
            NotReady::Failing
        }
    }

    /// Ready, for the scanner's readiness.
    fn ready_for_readiness(&self) -> bool {
        matches!(self.state, State::Running { .. })
            && self.seen.is_some_and(|s| s.pid != 0 && s.ready)
    }
}

/// Why a settled service is not ready, as the readiness line tells it.
enum NotReady {
    Failing,
    Waiting,
    Down,
}
