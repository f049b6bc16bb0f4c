//! Reading a configuration for a load: the file ([`plan::plan`]), then
//! what only the system can tell (users, directories, environment files),
//! as one [`Load`], every problem formatted `FILE:LINE: message`. Shared
//! by the scanner and `--check`, so that both judge a file alike.

use std::collections::HashMap;
use std::path::Path;

use super::machine::Load;
use super::one_line;
use super::plan::{self, ServiceSpec};
use crate::conf;
use crate::sys::user;

/// Reads CONF and checks it as a whole, the file ([`plan::plan`]) and then
/// what only the system can tell (users, directories, environment files);
/// returns the load and the text read.
pub fn load_file(path: &Path) -> (Load, Option<Vec<u8>>) {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            return (
                Load::Refused {
                    errors: vec![format!("{}: cannot read: {e}", path.display())],
                },
                None,
            );
        }
    };
    let mut plan = plan::plan(&text);
    plan.errors.extend(host_problems(&plan.services));
    plan.errors.sort_by_key(|w| w.line);
    let located = |w: &conf::Warning, kind: &str| {
        let at = if w.line == 0 {
            String::new()
        } else {
            format!(":{}", w.line)
        };
        one_line(&format!("{}{at}: {kind}{}", path.display(), w.message))
    };
    let load = if plan.errors.is_empty() {
        Load::Valid {
            warnings: plan
                .warnings
                .iter()
                .map(|w| located(w, "warning: "))
                .collect(),
            services: plan.services,
        }
    } else {
        Load::Refused {
            errors: plan.errors.iter().map(|w| located(w, "")).collect(),
        }
    };
    (load, Some(text))
}

/// What the system says against the services' settings: a user that does
/// not exist, a directory that is not one, an environment file that cannot
/// be read or holds a line that is not `KEY=VALUE`. Each user and each
/// file is looked at once, however many services name it.
fn host_problems(services: &[ServiceSpec]) -> Vec<conf::Warning> {
    let mut users: HashMap<(&str, &[String]), Option<String>> = HashMap::new();
    let mut files: HashMap<&Path, Option<String>> = HashMap::new();
    let mut problems = Vec::new();
    for spec in services {
        let user = spec.user.as_deref().and_then(|name| {
            users
                .entry((name, &spec.groups))
                .or_insert_with(|| resolve_user(name, &spec.groups).err())
                .clone()
        });
        let directory = spec
            .directory
            .as_deref()
            .and_then(|dir| match std::fs::metadata(dir) {
                Ok(meta) if meta.is_dir() => None,
                Ok(_) => Some(format!("directory {}: not a directory", dir.display())),
                Err(e) => Some(format!("directory {}: {e}", dir.display())),
            });
        let environment = spec.environment_file.as_deref().and_then(|file| {
            files
                .entry(file)
                .or_insert_with(|| read_env_file(file).err())
                .clone()
        });
        let at = |line: usize| {
            move |message: String| conf::Warning {
                line,
                message: format!("[{}]: {message}", spec.name),
            }
        };
        problems.extend(user.map(at(spec.user_line)));
        problems.extend(
            [directory, environment]
                .into_iter()
                .flatten()
                .map(at(spec.line)),
        );
    }
    problems
}

/// [`user::resolve`], its error naming the user as written; supervise
/// (`--user`) says it in the same words.
pub(crate) fn resolve_user(name: &str, groups: &[String]) -> Result<user::Identity, String> {
    user::resolve(name, groups).map_err(|e| format!("user {name}: {e}"))
}

/// The variables of an environment file, or what is wrong, naming it.
pub(crate) fn read_env_file(file: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("environment_file {}: {e}", file.display()))?;
    plan::parse_env_file(&text)
        .map_err(|(line, message)| format!("environment_file {}:{line}: {message}", file.display()))
}
