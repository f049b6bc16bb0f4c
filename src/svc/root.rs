//! Where services named on the command line live: the status root (`-d
//! ROOT` or `--root ROOT`, else `$SUPERVISE_ROOT`, else the working
//! directory) and the directory a NAME or a path stands for. Pure: the
//! environment is read by the caller, and the one fact about the file system
//! a NAME needs (does a directory exist?) comes from a probe.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::cli::Operand;

/// The environment variable naming the default status root.
pub const ENV: &str = "SUPERVISE_ROOT";

/// Where the root came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `-d ROOT`, `--root ROOT` or `svc reload ROOT`.
    Option,
    /// `$SUPERVISE_ROOT`.
    Environment,
    /// Neither: the working directory.
    WorkingDirectory,
}

/// A status root: services live in `ROOT/status/NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// The root as given; `.` for the working directory.
    pub path: PathBuf,
    /// Where it came from.
    pub source: Source,
}

/// Picks the root: the option, else `$SUPERVISE_ROOT` (when not empty),
/// else the working directory.
pub fn choose(option: Option<PathBuf>, env: Option<OsString>) -> Root {
    match (option, env) {
        (Some(path), _) => Root {
            path,
            source: Source::Option,
        },
        (None, Some(env)) if !env.is_empty() => Root {
            path: PathBuf::from(env),
            source: Source::Environment,
        },
        _ => Root {
            path: PathBuf::from("."),
            source: Source::WorkingDirectory,
        },
    }
}

/// `BASE/status/NAME`, written `status/NAME` when BASE is `.`.
pub fn service_dir(base: &Path, name: &str) -> PathBuf {
    let dir = Path::new("status").join(name);
    if base == Path::new(".") {
        dir
    } else {
        base.join(dir)
    }
}

impl Root {
    /// The status directory an operand stands for. A NAME is
    /// `ROOT/status/NAME`; when that is not a directory, the root was not
    /// given on the command line, and `./NAME` is a directory, it is
    /// `./NAME`, as `svc status NAME` always read it. A path is itself.
    pub fn resolve(&self, operand: &Operand, is_dir: &dyn Fn(&Path) -> bool) -> PathBuf {
        match operand {
            Operand::Path(path) => path.clone(),
            Operand::Name(name) => {
                let dir = service_dir(&self.path, name);
                if self.source != Source::Option && !is_dir(&dir) && is_dir(Path::new(name)) {
                    PathBuf::from(name)
                } else {
                    dir
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(word: &str) -> Operand {
        Operand::Name(word.to_string())
    }

    #[test]
    fn option_then_environment_then_working_directory() {
        let root = choose(Some("/a".into()), Some("/b".into()));
        assert_eq!((root.path, root.source), ("/a".into(), Source::Option));
        let root = choose(None, Some("/b".into()));
        assert_eq!((root.path, root.source), ("/b".into(), Source::Environment));
        let root = choose(None, Some("".into()));
        assert_eq!(
            (root.path, root.source),
            (".".into(), Source::WorkingDirectory)
        );
        let root = choose(None, None);
        assert_eq!(
            (root.path, root.source),
            (".".into(), Source::WorkingDirectory)
        );
    }

    #[test]
    fn names_live_under_status() {
        let nothing = |_: &Path| false;
        let root = choose(Some("/srv".into()), None);
        assert_eq!(
            root.resolve(&name("web"), &nothing),
            Path::new("/srv/status/web")
        );
        let here = choose(None, None);
        assert_eq!(
            here.resolve(&name("web"), &nothing),
            Path::new("status/web")
        );
        let path = Operand::Path("./web".into());
        assert_eq!(root.resolve(&path, &nothing), Path::new("./web"));
    }

    #[test]
    fn a_bare_directory_is_still_found_unless_the_root_was_given() {
        let only_web = |p: &Path| p == Path::new("web");
        let here = choose(None, None);
        assert_eq!(here.resolve(&name("web"), &only_web), Path::new("web"));
        let env = choose(None, Some("/srv".into()));
        assert_eq!(env.resolve(&name("web"), &only_web), Path::new("web"));
        let given = choose(Some("/srv".into()), None);
        assert_eq!(
            given.resolve(&name("web"), &only_web),
            Path::new("/srv/status/web")
        );
        // When both exist, the root wins.
        let both = |p: &Path| p == Path::new("web") || p == Path::new("status/web");
        assert_eq!(here.resolve(&name("web"), &both), Path::new("status/web"));
    }
}
