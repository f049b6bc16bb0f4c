//! What the scanner should run, from the text of supervise.conf, and what a
//! reload must change. Pure: sections in, service specs and changes out.
//!
//! A section is a scanner service when it has a `command` key. A section with
//! other scanner keys (`directory`, `user`, `env`, `environment_file`,
//! `umask`) but no `command` is a mistake and is reported; a section with
//! neither is config for a supervise started some other way and is left
//! alone. `[global]` is never a service.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::conf::{self, Conf, SCANNER_KEYS, Warning};

/// One service the scanner runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The section name: also the status directory name.
    pub name: String,
    /// Line of the section header.
    pub line: usize,
    /// The command, split on blanks as `supervise -f` does.
    pub command: Vec<String>,
    /// The working directory of supervise and the service.
    pub directory: Option<PathBuf>,
    /// The user to run supervise and the service as.
    pub user: Option<String>,
    /// `env : KEY=VALUE` lines, in order.
    pub env: Vec<(String, String)>,
    /// A file of `KEY=VALUE` lines.
    pub environment_file: Option<PathBuf>,
    /// The file-mode creation mask.
    pub umask: Option<u32>,
    /// The settings supervise resolves for this service (alarms, limits,
    /// timeouts); a change to them needs only an `r`.
    pub conf: Conf,
}

impl ServiceSpec {
    /// Whether the process itself must be restarted to apply `other`.
    fn runs_differently(&self, other: &ServiceSpec) -> Option<&'static str> {
        if self.command != other.command {
            Some("command")
        } else if self.user != other.user {
            Some("user")
        } else if self.directory != other.directory {
            Some("directory")
        } else if self.env != other.env || self.environment_file != other.environment_file {
            Some("environment")
        } else if self.umask != other.umask {
            Some("umask")
        } else {
            None
        }
    }
}

/// The services of a config file and the problems found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Services in file order, each name once.
    pub services: Vec<ServiceSpec>,
    /// Bad sections, skipped: the others still run.
    pub warnings: Vec<Warning>,
}

/// Reads the services from the text of supervise.conf.
pub fn plan(text: &[u8]) -> Plan {
    let mut plan = Plan::default();
    for section in conf::sections(text) {
        let is_scanner_key = |key: &str| SCANNER_KEYS.contains(&key);
        if section.name == "global" || !section.entries.iter().any(|e| is_scanner_key(&e.key)) {
            continue;
        }
        let warn = |plan: &mut Plan, message: String| {
            plan.warnings.push(Warning {
                line: section.line,
                message: format!("[{}]: {message}; section skipped", section.name),
            })
        };
        if !safe_name(&section.name) {
            warn(
                &mut plan,
                "not a safe directory name (use letters, digits, '.', '_', '-', '@', '+')".into(),
            );
            continue;
        }
        if let Some(first) = plan.services.iter().find(|s| s.name == section.name) {
            let message = format!("duplicate of the section on line {}", first.line);
            warn(&mut plan, message);
            continue;
        }
        match spec(&section, text) {
            Ok(spec) => plan.services.push(spec),
            Err(message) => warn(&mut plan, message),
        }
    }
    plan
}

fn spec(section: &conf::Section, text: &[u8]) -> Result<ServiceSpec, String> {
    let mut spec = ServiceSpec {
        name: section.name.clone(),
        line: section.line,
        command: Vec::new(),
        directory: None,
        user: None,
        env: Vec::new(),
        environment_file: None,
        umask: None,
        conf: conf::resolve(text, &section.name).conf,
    };
    for entry in &section.entries {
        let value = entry.value.as_str();
        let non_empty = |what: &str| {
            if value.is_empty() {
                Err(format!("line {}: empty {what}", entry.line))
            } else {
                Ok(value.to_owned())
            }
        };
        match entry.key.as_str() {
            "command" => {
                spec.command = value
                    .split([' ', '\t'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "directory" => spec.directory = Some(PathBuf::from(non_empty("directory")?)),
            "user" => spec.user = Some(non_empty("user")?),
            "environment_file" => {
                spec.environment_file = Some(PathBuf::from(non_empty("environment_file")?))
            }
            "env" => spec.env.push(parse_env(value).ok_or_else(|| {
                format!("line {}: env needs KEY=VALUE, not '{value}'", entry.line)
            })?),
            "umask" => {
                spec.umask = Some(
                    u32::from_str_radix(value, 8)
                        .ok()
                        .filter(|m| *m <= 0o777)
                        .ok_or_else(|| {
                            format!(
                                "line {}: umask needs an octal mode like 022, not '{value}'",
                                entry.line
                            )
                        })?,
                )
            }
            _ => {}
        }
    }
    if spec.command.is_empty() {
        return Err("no command (add `command : PROGRAM ARGS`)".into());
    }
    Ok(spec)
}

/// `KEY=VALUE` with a non-empty key of letters, digits and `_`.
pub fn parse_env(text: &str) -> Option<(String, String)> {
    let (key, value) = text.split_once('=')?;
    let key = key.trim();
    let valid = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| (key.to_owned(), value.to_owned()))
}

/// A name that is one safe path component.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
}

/// What a reload must do to one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new section: start its supervise.
    Start(String),
    /// A removed section: bring the service down and its supervise exits.
    Stop(String),
    /// The process must change: stop it and start it again.
    Restart {
        /// The service.
        name: String,
        /// Which setting changed.
        because: &'static str,
    },
    /// Alarms, limits or timeouts changed: send `r`.
    Reread(String),
}

impl std::fmt::Display for Change {
    /// The line of the reload result file: `start NAME`, `stop NAME`,
    /// `restart NAME: WHAT changed`, `reread NAME`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Start(name) => write!(f, "start {name}"),
            Change::Stop(name) => write!(f, "stop {name}"),
            Change::Restart { name, because } => write!(f, "restart {name}: {because} changed"),
            Change::Reread(name) => write!(f, "reread {name}"),
        }
    }
}

/// The changes that take `old` to `new`; unchanged services are absent.
/// Starts, restarts and rereads in the order of `new`, then stops in the
/// order of `old`. Linear: one map of the old services, one set of the new.
pub fn diff(old: &[&ServiceSpec], new: &[ServiceSpec]) -> Vec<Change> {
    let before: HashMap<&str, &ServiceSpec> = old.iter().map(|s| (s.name.as_str(), *s)).collect();
    let mut changes = Vec::new();
    for spec in new {
        match before.get(spec.name.as_str()) {
            None => changes.push(Change::Start(spec.name.clone())),
            Some(before) => {
                if let Some(because) = before.runs_differently(spec) {
                    changes.push(Change::Restart {
                        name: spec.name.clone(),
                        because,
                    });
                } else if before.conf != spec.conf {
                    changes.push(Change::Reread(spec.name.clone()));
                }
            }
        }
    }
    let after: HashSet<&str> = new.iter().map(|s| s.name.as_str()).collect();
    for before in old {
        if !after.contains(before.name.as_str()) {
            changes.push(Change::Stop(before.name.clone()));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(plan: &Plan) -> Vec<&ServiceSpec> {
        plan.services.iter().collect()
    }

    fn names(plan: &Plan) -> Vec<&str> {
        plan.services.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn sections_with_a_command_are_services() {
        let plan = plan(
            b"[global]\nalarm_interval : 60\n\n[web]\ncommand : bin/web --port 80\ndirectory : /srv/web\n\
              user : www\nenv : A=1\nenv : B=two words\numask : 027\n\n[legacy]\nmax_tries : 3\n\n\
              [db]\ncommand:postgres -D /data\n",
        );
        assert_eq!(names(&plan), vec!["web", "db"]);
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        let web = &plan.services[0];
        assert_eq!(web.command, vec!["bin/web", "--port", "80"]);
        assert_eq!(web.directory, Some(PathBuf::from("/srv/web")));
        assert_eq!(web.user.as_deref(), Some("www"));
        assert_eq!(
            web.env,
            vec![("A".into(), "1".into()), ("B".into(), "two words".into())]
        );
        assert_eq!(web.umask, Some(0o027));
        assert_eq!(web.conf.alarm_interval, 60, "resolved like supervise does");
        assert_eq!(web.line, 4);
    }

    #[test]
    fn bad_sections_are_reported_with_their_line_and_skipped() {
        let plan = plan(
            b"[ok]\ncommand : true\n[nocmd]\ndirectory : /tmp\n[ok]\ncommand : false\n\
              [bad..name/x]\ncommand : true\n[..]\ncommand : true\n[badenv]\ncommand : true\nenv : 1X=2\n\
              [badmask]\ncommand : true\numask : 999\n[fine]\ncommand : sleep 1\n",
        );
        assert_eq!(names(&plan), vec!["ok", "fine"]);
        let lines: Vec<usize> = plan.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, vec![3, 5, 7, 9, 11, 14]);
        assert!(plan.warnings[0].message.contains("no command"));
        assert!(
            plan.warnings[1]
                .message
                .contains("duplicate of the section on line 1")
        );
        assert!(
            plan.warnings[2]
                .message
                .contains("not a safe directory name")
        );
        assert!(plan.warnings[4].message.contains("KEY=VALUE"));
        assert!(plan.warnings[5].message.contains("octal"));
    }

    #[test]
    fn reload_changes() {
        let before = plan(
            b"[a]\ncommand : sleep 1\n[b]\ncommand : sleep 2\nmax_tries : 3\n[c]\ncommand : sleep 3\n\
              [d]\ncommand : sleep 4\nuser : nobody\n[e]\ncommand : sleep 5\n",
        );
        let after = plan(
            b"[a]\ncommand : sleep 1\n[b]\ncommand : sleep 2\nmax_tries : 4\n[c]\ncommand : sleep 33\n\
              [d]\ncommand : sleep 4\nuser : root\n[f]\ncommand : sleep 6\n",
        );
        assert_eq!(
            diff(&refs(&before), &after.services),
            vec![
                Change::Reread("b".into()),
                Change::Restart {
                    name: "c".into(),
                    because: "command"
                },
                Change::Restart {
                    name: "d".into(),
                    because: "user"
                },
                Change::Start("f".into()),
                Change::Stop("e".into()),
            ]
        );
        assert!(diff(&refs(&after), &after.services).is_empty());
    }

    #[test]
    fn global_changes_reach_every_service_after_it_as_a_reread() {
        let before = plan(b"[global]\nmax_tries : 3\n[a]\ncommand : true\n");
        let after = plan(b"[global]\nmax_tries : 5\n[a]\ncommand : true\n");
        assert_eq!(
            diff(&refs(&before), &after.services),
            vec![Change::Reread("a".into())]
        );
    }

    #[test]
    fn safe_names() {
        for good in ["redis", "web-1", "a.b_c", "x@y+z"] {
            assert!(safe_name(good), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "$(id)", "a\nb"] {
            assert!(!safe_name(bad), "{bad:?}");
        }
    }
}
