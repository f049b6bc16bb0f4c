//! `svc metrics [NAME|DIR|ROOT]...`: the Prometheus text exposition of
//! every service named (none: every service of the root), as
//! [`crate::metrics`] renders it from what [`list::look`] observes. A
//! directory that cannot be read is reported on stderr and has no series;
//! a dead supervise is a fact (`supervise_supervisor_up 0`), not a
//! failure: the exit status is 0 when every directory could be read.

use std::io::Write;

use super::cli::Operand;
use super::code::Form;
use super::list::{self, Entry};
use super::root::Root;
use super::run::{FirstFailure, complain, label, wall_now};
use super::show::{Observed, orphan};
use crate::metrics::{self, Sample};
use crate::status::Want;

/// Prints the metrics of the services `operands` name; returns the exit
/// status.
pub fn print(operands: &[Operand], root: &Root) -> i32 {
    let mut first = FirstFailure::default();
    let (entries, _) = list::gather(operands, root, &mut first);
    let mut samples = Vec::with_capacity(entries.len());
    for entry in entries {
        match list::look(&entry.dir, false) {
            Ok(observed) => samples.push(sample(&entry, observed)),
            Err(problem) => {
                complain(&entry.dir, &problem.message);
                first.record(problem.code.status(Form::Extended));
            }
        }
    }
    let text = metrics::render(&samples, wall_now());
    let _ = std::io::stdout().write_all(text.as_bytes());
    first.status()
}

/// The exposition of the services `(NAME, status directory)` as `svc
/// metrics` prints it, at wall time `now`: what `supervise-scan
/// --metrics-file` writes. A directory that cannot be read has no series.
pub fn render_services(
    services: &[(String, std::path::PathBuf)],
    now: std::time::Duration,
) -> String {
    let samples: Vec<Sample> = services
        .iter()
        .filter_map(|(name, dir)| {
            let entry = Entry {
                dir: dir.clone(),
                name: name.clone(),
                by_path: false,
            };
            let observed = list::look(dir, false).ok()?;
            Some(sample(&entry, observed))
        })
        .collect();
    metrics::render(&samples, now)
}

/// What the metrics need of one observation. The pid of a dead
/// supervise's status file counts only while that process still runs.
fn sample(entry: &Entry, observed: Observed) -> Sample {
    let running = observed.supervise_running();
    let status = observed.status;
    let pid = if running || orphan(&observed) {
        status.pid
    } else {
        0
    };
    Sample {
        service: entry.name.clone(),
        dir: entry.by_path.then(|| label(&entry.dir)),
        pid,
        since: status.since,
        want_up: status.want == Want::Up,
        supervisor_up: running,
        info: observed.facts.map(|facts| facts.info),
    }
}
