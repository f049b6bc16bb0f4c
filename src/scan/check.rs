//! `supervise-scan --check -F CONF [-d ROOT]`: reads CONF exactly as a
//! reload would ([`super::load::load_file`]) and prints every error and
//! warning; with ROOT, and a scanner running there, also what a reload
//! would do, computed against the record of what that scanner applied
//! ([`super::APPLIED_FILE`]) and what runs. Touches nothing: no signal, no
//! file written, no lock taken.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use super::load::load_file;
use super::machine::Load;
use super::observe;
use super::plan::{self, Change, ServiceSpec};
use super::{APPLIED_FILE, LOCK_FILE};
use crate::sys::lock;

/// `--check`: reads CONF as a reload would and prints every error and
/// warning; with `root`, and a scanner running there, also what a reload
/// would do (`start NAME`...). Touches nothing. Exit 0 when a reload would
/// apply it, 1 when it would be refused.
pub fn check(conf: &Path, root: Option<&Path>) -> i32 {
    let (load, _) = load_file(conf);
    let mut lines = match &load {
        Load::Valid { warnings, .. } => warnings.clone(),
        Load::Refused { errors } => errors.clone(),
    };
    if let Some(root) = root {
        lines.extend(compare_with_scanner(root, &load));
    }
    lines.push(match &load {
        Load::Valid { services, .. } => {
            format!(
                "{}: valid, {}",
                conf.display(),
                plan::count(services.len(), "service")
            )
        }
        Load::Refused { errors } => format!(
            "{}: a reload would be refused ({})",
            conf.display(),
            plan::count(errors.len(), "error")
        ),
    });
    let mut out = io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    i32::from(matches!(load, Load::Refused { .. }))
}

/// What a reload of the scanner running on `root` would do with `load`.
fn compare_with_scanner(root: &Path, load: &Load) -> Vec<String> {
    let Some(pid) = lock::holder_pid(&root.join(LOCK_FILE)) else {
        return vec![format!(
            "no supervise-scan runs on {}: nothing to compare with",
            root.display()
        )];
    };
    let Load::Valid { services, .. } = load else {
        return vec![format!(
            "supervise-scan (pid {pid}) on {} would keep every service as it runs",
            root.display()
        )];
    };
    let record = root.join(APPLIED_FILE);
    let applied = match std::fs::read(&record) {
        Ok(text) => plan::plan(&text).services,
        Err(e) => {
            return vec![format!(
                "cannot read {}: {e}: cannot tell what a reload of supervise-scan (pid {pid}) would do",
                record.display()
            )];
        }
    };
    let old: Vec<&ServiceSpec> = applied.iter().collect();
    let dir = |name: &str| root.join("status").join(name);
    let by_name: HashMap<&str, &ServiceSpec> =
        services.iter().map(|s| (s.name.as_str(), s)).collect();
    // A reload also starts again a supervise that exited on purpose, with
    // whatever settings it now has; but not one that waits for what it
    // needs (it has no supervise either): that one goes on waiting.
    let revived_by_reload = |name: &str| {
        let running = crate::sys::fifo::open_writer(&dir(name).join("ok")).is_ok();
        let waits = by_name
            .get(name)
            .is_some_and(|s| s.needs().any(|n| !observe::look(&dir(n)).ready));
        !running && !waits
    };
    let changes: Vec<Change> = plan::diff(&old, services)
        .into_iter()
        .map(|change| match change {
            Change::Reread(name) if revived_by_reload(&name) => Change::Start(name),
            change => change,
        })
        .collect();
    let changed: HashSet<&str> = changes.iter().map(Change::name).collect();
    let was_applied: HashSet<&str> = applied.iter().map(|s| s.name.as_str()).collect();
    let revived = services
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| {
            was_applied.contains(name) && !changed.contains(name) && revived_by_reload(name)
        })
        .map(|name| Change::Start(name.to_owned()));
    let mut changes: Vec<String> = changes
        .iter()
        .cloned()
        .chain(revived)
        .map(|change| change.to_string())
        .collect();
    if changes.is_empty() {
        changes.push(format!(
            "a reload of supervise-scan (pid {pid}) would change nothing"
        ));
    }
    changes
}
