//! What the scanner should run, from the text of supervise.conf, and what a
//! reload must change. Pure: text in, service specs, problems and changes
//! out. The file is parsed once ([`conf::Document`]), whatever the number
//! of sections.
//!
//! A section is a scanner service when it has a `command` key. A section
//! with other scanner keys (`directory`, `user`, `env`, `environment_file`,
//! `umask`) but no `command` is a mistake; a section with neither is config
//! for a supervise started some other way and is left alone. `[global]` is
//! never a service.
//!
//! A load is all or nothing, so every problem is either an error, which
//! refuses the whole file (a malformed header, a bad or duplicate service
//! section, a second `[global]`, scanner keys in `[global]`, a file with no
//! service at all unless it says so with [`NO_SERVICES`]), or a warning,
//! which does not (what supervise itself only warns about: an unknown key,
//! a malformed number, text after a header...).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::order;
use crate::conf::{self, Conf, Document, SCANNER_KEYS, Warning};
use crate::status::Want;

/// The line that makes a file with no service sections a valid request
/// to run none (without it such a file is refused, so that emptying or
/// truncating the file by mistake cannot stop every service).
pub const NO_SERVICES: &str = "# supervise-scan: no services";

/// One service the scanner runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The section name: also the status directory name.
    pub name: String,
    /// Line of the section header.
    pub line: usize,
    /// The command, split into words as a shell would ([`super::words`]).
    pub command: Vec<String>,
    /// The working directory of supervise and the service.
    pub directory: Option<PathBuf>,
    /// The user the service runs as, as written (`NAME`, `UID`,
    /// `USER:GROUP`; resolved by [`crate::sys::user::resolve`]).
    pub user: Option<String>,
    /// `groups : G...`: more supplementary groups, as written.
    pub groups: Vec<String>,
    /// The line of the `user` key (or of `groups`), for the errors of the
    /// lookup; not a setting (a change of line is no change).
    pub user_line: usize,
    /// `start : up|down|once`: what its supervise wants when it starts.
    /// Not a setting of the running service either: a change applies at
    /// the next start of its supervise.
    pub start: Want,
    /// `env : KEY=VALUE` lines, in order.
    pub env: Vec<(String, String)>,
    /// A file of `KEY=VALUE` lines.
    pub environment_file: Option<PathBuf>,
    /// The file-mode creation mask.
    pub umask: Option<u32>,
    /// `after : NAME...`: started once these are ready (each name once).
    pub after: Vec<String>,
    /// `requires : NAME...`: like `after`, and stopped while one is down.
    pub requires: Vec<String>,
    /// The settings supervise resolves for this service (alarms, limits,
    /// timeouts); a change to them needs only an `r`.
    pub conf: Conf,
}

impl ServiceSpec {
    /// What it waits for before it starts: `after` and `requires`.
    pub fn needs(&self) -> impl Iterator<Item = &str> {
        let required = self.requires.iter().filter(|r| !self.after.contains(r));
        self.after.iter().chain(required).map(String::as_str)
    }

    /// Whether the process itself must be restarted to apply `other`.
    fn runs_differently(&self, other: &ServiceSpec) -> Option<&'static str> {
        if self.command != other.command {
            Some("command")
        } else if self.user != other.user || self.groups != other.groups {
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

/// The services of a config file and the problems found. Line 0 in a
/// problem means the file as a whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Services in file order, each name once.
    pub services: Vec<ServiceSpec>,
    /// Problems that refuse the file.
    pub errors: Vec<Warning>,
    /// Problems that do not.
    pub warnings: Vec<Warning>,
}

/// Reads the services from the text of supervise.conf.
pub fn plan(text: &[u8]) -> Plan {
    let doc = Document::parse(text);
    let mut plan = Plan {
        errors: doc.malformed_headers().to_vec(),
        warnings: doc.shared_warnings(),
        ..Plan::default()
    };
    // Where each name was first seen, and whether that one is a service.
    let mut first: HashMap<String, (usize, bool)> = HashMap::new();
    // Each service section's `after` and `requires` names, checked once
    // every section is known.
    let mut deps: Vec<(String, Vec<Dep>)> = Vec::new();
    for section in doc.sections() {
        let line = section.line;
        let is_service = section
            .entries
            .iter()
            .any(|e| SCANNER_KEYS.contains(&e.key.as_str()));
        let mut error = |message: String| {
            plan.errors.push(Warning {
                line,
                message: format!("[{}]: {message}", section.name),
            })
        };
        if let Some(&(earlier, was_service)) = first.get(&section.name) {
            if section.name == "global" {
                error(format!(
                    "a second [global] would be ignored (the first is on line {earlier}): merge them"
                ));
            } else if is_service || was_service {
                error(format!("duplicate of the section on line {earlier}"));
            } else {
                plan.warnings.push(Warning {
                    line,
                    message: format!(
                        "[{}]: only the first section of this name (line {earlier}) is read",
                        section.name
                    ),
                });
            }
            continue;
        }
        first.insert(section.name.clone(), (line, is_service));
        if section.name == "global" {
            for entry in &section.entries {
                if SCANNER_KEYS.contains(&entry.key.as_str()) {
                    plan.errors.push(Warning {
                        line: entry.line,
                        message: format!(
                            "[global]: `{}` is not inherited by the sections after it: put it in each service's section",
                            entry.key
                        ),
                    });
                }
            }
            continue;
        }
        let resolved = doc.resolve_own(&section.name);
        plan.warnings.extend(resolved.warnings);
        if !is_service {
            continue;
        }
        if !safe_name(&section.name) {
            error(
                "not a safe directory name (use letters, digits, '.', '_', '-', '@', '+')".into(),
            );
            continue;
        }
        let (spec, names) = spec(&section, resolved.conf);
        match spec {
            Ok(spec) => plan.services.push(spec),
            Err(problems) => plan.errors.extend(problems),
        }
        deps.push((section.name.clone(), names));
    }
    check_start_order(&mut plan, &deps, &first);
    let marked = text
        .split(|&b| b == b'\n')
        .any(|l| l.trim_ascii() == NO_SERVICES.as_bytes());
    if plan.services.is_empty() && plan.errors.is_empty() && !marked {
        plan.errors.push(Warning {
            line: 0,
            message: format!(
                "no service section (none has a `command`): refused, so that an emptied file \
                 cannot stop every service; to run none, write the line `{NO_SERVICES}`"
            ),
        });
    }
    plan.errors.sort_by_key(|w| w.line);
    plan.warnings.sort_by_key(|w| w.line);
    plan
}

/// One name of an `after` or `requires` line.
struct Dep {
    name: String,
    line: usize,
    key: &'static str,
}

/// Gives each service of its `after` and `requires` only the names of
/// services of the file, each once; the other names, and the cycles, are
/// errors on the line that names them.
fn check_start_order(
    plan: &mut Plan,
    deps: &[(String, Vec<Dep>)],
    first: &HashMap<String, (usize, bool)>,
) {
    let mut kept: HashMap<&str, Vec<&Dep>> = HashMap::new();
    for (name, names) in deps {
        for dep in names {
            let problem = if !safe_name(&dep.name) {
                let hint = if dep.name.contains(',') {
                    " (names are separated by blanks)"
                } else {
                    ""
                };
                format!("`{}` is not a service name{hint}", dep.name)
            } else {
                match first.get(&dep.name) {
                    Some((_, true)) => {
                        kept.entry(name).or_default().push(dep);
                        continue;
                    }
                    Some((_, false)) if dep.name != "global" => {
                        format!("`{}` has no command: not a service", dep.name)
                    }
                    _ => format!("no service named `{}`", dep.name),
                }
            };
            plan.errors.push(Warning {
                line: dep.line,
                message: format!("[{name}]: {}: {problem}", dep.key),
            });
        }
    }
    let mut lines: HashMap<(&str, &str), usize> = HashMap::new();
    for (&owner, names) in &kept {
        for dep in names {
            lines.entry((owner, &dep.name)).or_insert(dep.line);
        }
    }
    for spec in &mut plan.services {
        for dep in kept.get(spec.name.as_str()).into_iter().flatten() {
            let list = if dep.key == "after" {
                &mut spec.after
            } else {
                &mut spec.requires
            };
            if !list.contains(&dep.name) {
                list.push(dep.name.clone());
            }
        }
    }
    let nodes: Vec<(&str, Vec<&str>)> = plan
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.needs().collect()))
        .collect();
    for cycle in order::cycles(&nodes) {
        let line = lines.get(&(cycle[0], cycle[1])).copied().unwrap_or(0);
        plan.errors.push(Warning {
            line,
            message: format!(
                "[{}]: a cycle in the start order: {}",
                cycle[0],
                order::describe(&cycle)
            ),
        });
    }
}

/// The scanner keys that may appear once in a section.
const SINGLE_KEYS: [&str; 7] = [
    "command",
    "directory",
    "user",
    "groups",
    "start",
    "environment_file",
    "umask",
];

/// A service section's spec, or its problems; and its `after`/`requires`
/// names, not checked yet.
fn spec(section: &conf::Section, conf: Conf) -> (Result<ServiceSpec, Vec<Warning>>, Vec<Dep>) {
    let mut spec = ServiceSpec {
        name: section.name.clone(),
        line: section.line,
        command: Vec::new(),
        directory: None,
        user: None,
        groups: Vec::new(),
        user_line: 0,
        start: Want::Up,
        env: Vec::new(),
        environment_file: None,
        umask: None,
        after: Vec::new(),
        requires: Vec::new(),
        conf,
    };
    let mut deps = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for entry in &section.entries {
        let key = entry.key.as_str();
        let value = entry.value.as_str();
        let mut problem = |message: String| {
            problems.push(Warning {
                line: entry.line,
                message: format!("[{}]: {message}", section.name),
            })
        };
        if SINGLE_KEYS.contains(&key)
            && let Some(earlier) = seen.insert(key, entry.line)
        {
            problem(format!("`{key}` given twice (first on line {earlier})"));
            continue;
        }
        if value.is_empty() && SINGLE_KEYS.contains(&key) {
            problem(format!("empty {key}"));
            continue;
        }
        match key {
            "command" => match crate::words::split(value) {
                Ok(words) if words.is_empty() => problem("empty command".into()),
                Ok(words) => spec.command = words,
                Err(why) => problem(format!("command: {why}")),
            },
            "directory" => spec.directory = Some(PathBuf::from(value)),
            "user" => {
                spec.user = Some(value.to_owned());
                spec.user_line = entry.line;
            }
            "groups" => {
                spec.groups = value.split_ascii_whitespace().map(str::to_owned).collect();
                if spec.user_line == 0 {
                    spec.user_line = entry.line;
                }
            }
            "start" => match value {
                "up" => spec.start = Want::Up,
                "down" => spec.start = Want::Down,
                "once" => spec.start = Want::Once,
                _ => problem(format!("start needs up, down or once, not '{value}'")),
            },
            "environment_file" => spec.environment_file = Some(PathBuf::from(value)),
            "env" => match parse_env(value) {
                Some(pair) => spec.env.push(pair),
                None => problem(format!("env needs KEY=VALUE, not '{value}'")),
            },
            "umask" => match u32::from_str_radix(value, 8).ok().filter(|m| *m <= 0o777) {
                Some(mask) => spec.umask = Some(mask),
                None => problem(format!("umask needs an octal mode like 022, not '{value}'")),
            },
            "after" | "requires" if value.is_empty() => problem(format!("empty {key}")),
            "after" | "requires" => deps.extend(value.split_ascii_whitespace().map(|name| Dep {
                name: name.to_owned(),
                line: entry.line,
                key: if key == "after" { "after" } else { "requires" },
            })),
            _ => {}
        }
    }
    if let (Some(&line), None) = (seen.get("groups"), seen.get("user")) {
        problems.push(Warning {
            line,
            message: format!("[{}]: `groups` needs `user`", section.name),
        });
    }
    if !seen.contains_key("command") {
        problems.push(Warning {
            line: section.line,
            message: format!(
                "[{}]: no command (add `command : PROGRAM ARGS`)",
                section.name
            ),
        });
    }
    if problems.is_empty() {
        (Ok(spec), deps)
    } else {
        (Err(problems), deps)
    }
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

/// The variables of an `environment_file`: `KEY=VALUE` lines, blank lines
/// and `#` comments; or the first line that is none of these, with what is
/// wrong with it.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut vars = Vec::new();
    for (at, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_env(line) {
            Some(pair) => vars.push(pair),
            None => return Err((at + 1, format!("expected KEY=VALUE, not '{line}'"))),
        }
    }
    Ok(vars)
}

/// `1 error`, `2 errors`: for messages.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
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

impl Change {
    /// The section it changes.
    pub fn name(&self) -> &str {
        match self {
            Change::Start(name) | Change::Stop(name) | Change::Reread(name) => name,
            Change::Restart { name, .. } => name,
        }
    }
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

    fn errors(text: &str) -> Vec<(usize, String)> {
        plan(text.as_bytes())
            .errors
            .into_iter()
            .map(|w| (w.line, w.message))
            .collect()
    }

    #[test]
    fn bad_service_sections_are_errors_with_their_line() {
        let plan = plan(
            b"[ok]\ncommand : true\n[nocmd]\ndirectory : /tmp\n[ok]\ncommand : false\n\
              [bad..name/x]\ncommand : true\n[..]\ncommand : true\n[badenv]\ncommand : true\nenv : 1X=2\n\
              [badmask]\ncommand : true\numask : 999\n[fine]\ncommand : sleep 1\n\
              [twice]\ncommand : a\ncommand : b\nuser :\n",
        );
        assert_eq!(names(&plan), vec!["ok", "fine"]);
        let lines: Vec<usize> = plan.errors.iter().map(|w| w.line).collect();
        assert_eq!(lines, vec![3, 5, 7, 9, 13, 16, 21, 22]);
        let message = |i: usize| plan.errors[i].message.as_str();
        assert_eq!(
            message(0),
            "[nocmd]: no command (add `command : PROGRAM ARGS`)"
        );
        assert_eq!(message(1), "[ok]: duplicate of the section on line 1");
        assert!(message(2).starts_with("[bad..name/x]: not a safe directory name"));
        assert_eq!(message(4), "[badenv]: env needs KEY=VALUE, not '1X=2'");
        assert_eq!(
            message(5),
            "[badmask]: umask needs an octal mode like 022, not '999'"
        );
        assert_eq!(
            message(6),
            "[twice]: `command` given twice (first on line 20)"
        );
        assert_eq!(message(7), "[twice]: empty user");
    }

    #[test]
    fn file_level_mistakes_are_errors() {
        let cases: &[(&str, &[(usize, &str)])] = &[
            // A typo in a header would silently drop its section.
            (
                "[a]\ncommand : true\n[web\ncommand : sleep 1\n",
                &[(3, "malformed section header `[web`")],
            ),
            (
                "[global]\nmax_tries : 3\n[a]\ncommand : true\n[global]\nmax_tries : 5\n",
                &[(
                    5,
                    "[global]: a second [global] would be ignored (the first is on line 1)",
                )],
            ),
            (
                "[global]\nuser : www\n[a]\ncommand : true\n",
                &[(
                    2,
                    "[global]: `user` is not inherited by the sections after it",
                )],
            ),
            ("", &[(0, "no service section")]),
            (
                "[global]\nmax_tries : 3\n[legacy]\nmax_tries : 1\n",
                &[(0, "no service section")],
            ),
        ];
        for (text, expected) in cases {
            let got = errors(text);
            assert_eq!(got.len(), expected.len(), "{text:?}: {got:?}");
            for ((line, message), (want_line, want)) in got.iter().zip(*expected) {
                assert_eq!(line, want_line, "{text:?}: {message}");
                assert!(message.starts_with(want), "{text:?}: {message}");
            }
        }
    }

    #[test]
    fn no_services_is_valid_only_when_the_file_says_so() {
        for text in [
            "# supervise-scan: no services\n",
            "[global]\nmax_tries : 3\n  # supervise-scan: no services  \n",
        ] {
            let plan = plan(text.as_bytes());
            assert!(plan.errors.is_empty(), "{text:?}: {:?}", plan.errors);
            assert!(plan.services.is_empty());
        }
    }

    #[test]
    fn what_supervise_only_warns_about_is_a_warning() {
        let plan = plan(
            b"[global]\nmax_try : 3\n[a] # web\ncommand : true\nstop_timeout : soon\n\
              [legacy]\nbogus : 1\n[legacy]\nmax_tries : 2\n",
        );
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        assert_eq!(names(&plan), ["a"]);
        let lines: Vec<usize> = plan.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [2, 5, 7, 8], "{:?}", plan.warnings);
        assert!(
            plan.warnings[3]
                .message
                .contains("only the first section of this name")
        );
    }

    #[test]
    fn environment_files() {
        assert_eq!(
            parse_env_file("# c\n\nA=1\n B = two words \n"),
            Ok(vec![
                ("A".into(), "1".into()),
                ("B".into(), " two words".into())
            ])
        );
        assert_eq!(
            parse_env_file("A=1\nnot a pair\n"),
            Err((2, "expected KEY=VALUE, not 'not a pair'".into()))
        );
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
    fn user_groups_and_start_keys() {
        let plan = plan(
            b"[a]\ncommand : sleep 1\nstart : down\ngroups : adm  5\nuser : www:log\n\
              [b]\ncommand : sleep 2\nstart : once\n[c]\ncommand : sleep 3\nstart : up\n",
        );
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let a = &plan.services[0];
        assert_eq!(a.user.as_deref(), Some("www:log"));
        assert_eq!(
            (a.groups.as_slice(), a.user_line),
            (&["adm".to_owned(), "5".to_owned()][..], 5)
        );
        let starts: Vec<Want> = plan.services.iter().map(|s| s.start).collect();
        assert_eq!(starts, [Want::Down, Want::Once, Want::Up]);
        let got = errors(
            "[a]\ncommand : x\nstart : later\n[b]\ncommand : x\ngroups : adm\n\
             [c]\ncommand : x\nuser : u\ngroups : a\ngroups : b\nstart :\n",
        );
        let got: Vec<(usize, &str)> = got.iter().map(|(l, m)| (*l, m.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "[a]: start needs up, down or once, not 'later'"),
                (6, "[b]: `groups` needs `user`"),
                (11, "[c]: `groups` given twice (first on line 10)"),
                (12, "[c]: empty start"),
            ]
        );
    }

    #[test]
    fn groups_restart_and_start_changes_nothing_that_runs() {
        let before = plan(b"[a]\ncommand : x\nuser : u\n[b]\ncommand : y\n");
        let after =
            plan(b"[a]\ncommand : x\nuser : u\ngroups : adm\n[b]\ncommand : y\nstart : down\n");
        assert_eq!(
            diff(&refs(&before), &after.services),
            vec![Change::Restart {
                name: "a".into(),
                because: "user"
            }]
        );
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
    fn planning_reads_the_file_once_whatever_the_number_of_sections() {
        // Issue 14 item 1: the work grows with the file, not with
        // sections × lines (each section used to resolve the whole file).
        for n in [10, 100, 1000] {
            let mut text = String::from("[global]\nmax_tries : 3\n");
            for i in 0..n {
                text.push_str(&format!("[s{i}]\ncommand : sleep {i}\nmax_tries : 5\n"));
            }
            crate::conf::work::take();
            let plan = plan(text.as_bytes());
            let visited = crate::conf::work::take();
            assert_eq!(plan.services.len(), n);
            let lines = text.lines().count();
            assert!(
                visited <= 3 * lines,
                "{n} sections: {visited} line visits for {lines} lines"
            );
        }
    }

    #[test]
    fn after_and_requires_name_services_of_the_file() {
        let plan = plan(
            b"[db]\ncommand : sleep 1\n[cache]\ncommand : sleep 2\n\
              [web]\ncommand : sleep 3\nafter : cache  db\nrequires : db\nafter : cache\n",
        );
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let web = &plan.services[2];
        assert_eq!(web.after, ["cache", "db"], "each name once, in order");
        assert_eq!(web.requires, ["db"]);
        assert_eq!(
            web.needs().collect::<Vec<_>>(),
            ["cache", "db"],
            "what it waits for: after and requires"
        );
        assert!(plan.services[0].after.is_empty());
    }

    #[test]
    fn start_order_mistakes_are_errors_with_their_line() {
        let got = errors(
            "[a]\ncommand : sleep 1\nrequires : b\n\
             [b]\ncommand : sleep 1\nafter : c\n\
             [c]\ncommand : sleep 1\nafter : a\n\
             [d]\ncommand : sleep 1\nafter : nosuch legacy d, e\nrequires :\n\
             [e]\ncommand : sleep 1\nafter : e\n\
             [legacy]\nmax_tries : 3\n\
             [broken]\ncommand : sleep 1\nenv : =\n\
             [f]\ncommand : sleep 1\nrequires : broken\n\
             [g]\nafter : a\n",
        );
        let expected: &[(usize, &str)] = &[
            (3, "[a]: a cycle in the start order: a -> b -> c -> a"),
            (12, "[d]: after: no service named `nosuch`"),
            (12, "[d]: after: `legacy` has no command: not a service"),
            (
                12,
                "[d]: after: `d,` is not a service name (names are separated by blanks)",
            ),
            (13, "[d]: empty requires"),
            (16, "[e]: a cycle in the start order: e -> e"),
            (21, "[broken]: env needs KEY=VALUE, not '='"),
            (25, "[g]: no command (add `command : PROGRAM ARGS`)"),
        ];
        let got: Vec<(usize, &str)> = got.iter().map(|(l, m)| (*l, m.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn every_cycle_is_printed_once() {
        let got = errors(
            "[a]\ncommand : x\nafter : b\n[b]\ncommand : x\nrequires : a\n\
             [c]\ncommand : x\nafter : d\n[d]\ncommand : x\nafter : c\n",
        );
        assert_eq!(
            got,
            [
                (3, "[a]: a cycle in the start order: a -> b -> a".to_owned()),
                (9, "[c]: a cycle in the start order: c -> d -> c".to_owned()),
            ]
        );
    }

    #[test]
    fn start_order_does_not_restart_or_reread() {
        let before = plan(b"[a]\ncommand : sleep 1\n[b]\ncommand : sleep 2\n");
        let after = plan(b"[a]\ncommand : sleep 1\nafter : b\n[b]\ncommand : sleep 2\n");
        assert!(diff(&refs(&before), &after.services).is_empty());
    }

    #[test]
    fn a_long_chain_is_checked_without_deep_recursion_and_a_long_cycle_is_cut() {
        let chain = |closed: bool| {
            let mut text = String::new();
            for i in 0..20_000 {
                text.push_str(&format!("[s{i}]\ncommand : x\n"));
                if i > 0 {
                    text.push_str(&format!("after : s{}\n", i - 1));
                } else if closed {
                    text.push_str("after : s19999\n");
                }
            }
            text
        };
        let plan = plan(chain(false).as_bytes());
        assert!(plan.errors.is_empty(), "{:?}", plan.errors.first());
        assert_eq!(plan.services.len(), 20_000);
        assert_eq!(
            errors(&chain(true)),
            [(
                3,
                "[s0]: a cycle in the start order: s0 -> s19999 -> s19998 -> s19997 -> s19996 \
                 -> ... (19992 more) -> s3 -> s2 -> s1 -> s0"
                    .to_owned()
            )]
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
