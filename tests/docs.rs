//! The documentation is exercised, so it cannot rot (issue 10 items 9, 10):
//! README's "Try it" walk-through runs as written, docs/example.conf passes
//! `supervise --check` and really runs under supervise-scan, the Dockerfile's
//! image has what that example needs, the Kubernetes liveness probe judges
//! the scanner and not its services, docs/contract.md lists the control
//! bytes supervise obeys, and every link stays inside the repository.

mod scanner;
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use scanner::{Scanner, scan_bin};
use support::*;

fn svc_bin() -> &'static str {
    env!("CARGO_BIN_EXE_svc")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo_file(rel: &str) -> String {
    let path = repo().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// PATH with the binaries under test first, as `cargo install` or the
/// walk-through's `export PATH` would have it.
fn path_with_binaries(rest: &str) -> String {
    let dir = Path::new(bin()).parent().unwrap();
    format!("{}:{rest}", dir.display())
}

/// The PATH of Debian's images (and of `docker run`).
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// --- Markdown, as little of it as the checks need -------------------------

/// The text under `heading` (a whole `## ...` line) up to the next heading
/// of the same level.
fn md_section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .lines()
        .position(|l| l == heading)
        .unwrap_or_else(|| panic!("no {heading:?} heading"));
    let lines: Vec<&str> = text.lines().collect();
    let end = (start + 1..lines.len())
        .find(|&i| lines[i].starts_with("## "))
        .unwrap_or(lines.len());
    let from = lines[..=start].iter().map(|l| l.len() + 1).sum::<usize>();
    let to = lines[..end].iter().map(|l| l.len() + 1).sum::<usize>();
    &text[from.min(text.len())..to.min(text.len())]
}

/// The fenced code blocks of `text`, as (info string, body).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is not closed");
    blocks
}

/// A line with every run of digits replaced by `N` (pids, times, sizes).
fn shape(line: &str) -> String {
    let mut out = String::new();
    for c in line.trim().chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('N') {
                out.push('N');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Asserts that every line of `expected` appears in `actual`, in order,
/// once digits are disregarded.
fn assert_output_shows(expected: &str, actual: &str, command: &str) {
    let mut actual_lines = actual.lines().map(shape);
    for want in expected.lines().map(shape).filter(|l| !l.is_empty()) {
        assert!(
            actual_lines.any(|got| got == want),
            "README shows {want:?} for\n{command}\nbut it printed:\n{actual}"
        );
    }
}

#[test]
fn links_in_readme_and_docs_stay_inside_the_repository() {
    let mut documents = vec![repo().join("README.md")];
    for entry in fs::read_dir(repo().join("docs")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "md") {
            documents.push(entry.path());
        }
    }
    let root = repo().canonicalize().unwrap();
    for document in documents {
        let text = fs::read_to_string(&document).unwrap();
        for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            let target = target.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let path = document.parent().unwrap().join(target);
            let resolved = path
                .canonicalize()
                .unwrap_or_else(|e| panic!("{}: link to {target}: {e}", document.display()));
            assert!(
                resolved.starts_with(&root),
                "{}: link to {target} leaves the repository",
                document.display()
            );
        }
    }
}

#[test]
fn readme_test_command_is_the_one_ci_runs_and_it_sets_up_what_the_tests_need() {
    let readme = repo_file("README.md");
    let blocks = code_blocks(md_section(&readme, "## Test"));
    assert_eq!(blocks[0], ("sh".to_owned(), "scripts/test\n".to_owned()));
    let ci = repo_file(".ci/run");
    assert!(
        ci.lines().any(|l| l == "scripts/test"),
        ".ci/run runs scripts/test"
    );
    let script = repo_file("scripts/test");
    assert!(script.contains("cargo test") && script.contains("--no-fail-fast"));
    // The one list: every Debian package and Python module a test needs.
    let deps = repo_file("scripts/test-deps");
    let listed: Vec<(&str, &str)> = deps
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .filter(|(kind, _)| !kind.starts_with('#'))
        .collect();
    for need in [
        ("apt", "bsd-mailx"),
        ("apt", "msmtp-mta"),
        ("apt", "zsh"),
        ("apt", "man-db"),
        ("pip", "aiosmtpd==1.4.6"),
    ] {
        assert!(listed.contains(&need), "scripts/test-deps lists {need:?}");
    }
}

#[test]
fn try_it_runs_as_written() {
    let readme = repo_file("README.md");
    let blocks = code_blocks(md_section(&readme, "## Try it"));
    let dir = TempDir::new("try-it");
    fs::create_dir(dir.join("examples")).unwrap();
    fs::copy(
        repo().join("examples/clock.sh"),
        dir.join("examples/clock.sh"),
    )
    .unwrap();
    let status_dir = dir.join("example/status/clock");
    let _daemon = Detached(status_dir.clone());
    let path = path_with_binaries(&std::env::var("PATH").unwrap());
    let mut built = false;
    let mut ran = Vec::new();
    for (i, (info, body)) in blocks.iter().enumerate() {
        if info != "sh" {
            continue;
        }
        // The build is the one step not re-run here: these are its binaries.
        let script: Vec<&str> = body
            .lines()
            .filter(|line| {
                let cargo = line.starts_with("cargo build");
                built |= cargo;
                !cargo
            })
            .collect();
        let starts = script.iter().any(|l| l.starts_with("supervise "));
        let kills = script.iter().any(|l| l.starts_with("kill "));
        let before = supervise::status::read(&status_dir).map_or(0, |s| s.pid);
        let output = Command::new("bash")
            .arg("-ec")
            .arg(format!("exec 2>&1\n{}", script.join("\n")))
            .current_dir(dir.path())
            .env("PATH", &path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "README's\n{}\nfailed ({}):\n{printed}",
            script.join("\n"),
            output.status
        );
        if starts || kills {
            // A person types the next command; the test waits for what the
            // README promises: the service running (again, after a kill).
            wait_until("the service runs (again)", || {
                supervise::status::read(&status_dir)
                    .is_ok_and(|s| s.pid != 0 && s.pid != before && alive(s.pid))
            });
            // The log line follows the status write by a moment (logs are
            // written after the wake-up's work): so does a person's next look.
            let pid = supervise::status::read(&status_dir).unwrap().pid;
            wait_until("the log says the service started", || {
                fs::read_to_string(status_dir.join("supervise.log"))
                    .is_ok_and(|log| log.contains(&format!("service started, pid {pid}")))
            });
        }
        if let Some((info, expected)) = blocks.get(i + 1)
            && info == "text"
        {
            assert_output_shows(expected, &printed, &script.join("\n"));
        }
        ran.push(script.join("\n"));
    }
    assert!(
        built,
        "the walk-through starts with `cargo build --release`"
    );
    let all = ran.join("\n");
    for step in ["supervise -p", "svc ", "kill -9", "supervise.log", " exit"] {
        assert!(
            all.contains(step),
            "the walk-through has a step with {step:?}"
        );
    }
    // It ends with the service and its supervise gone.
    let lock = status_dir.join("lock");
    assert_eq!(supervise::sys::lock::holder_pid(&lock), None);
    assert_eq!(supervise::status::read(&status_dir).unwrap().pid, 0);
    // What README says about the missing supervise.conf is what happens.
    let section = md_section(&readme, "## Try it");
    assert!(
        section.contains("supervise.conf"),
        "Try it explains the missing supervise.conf"
    );
    let wf = fs::read_to_string(status_dir.join("supervise.log.wf")).unwrap();
    assert!(wf.contains("Cannot open config file. Old configurations unchanged."));
}

/// A start script's `supervise -p DIR ...; svc DIR status` (or `od ...
/// DIR/status`) should find the service. Today supervise returns once the
/// status directory is set up, but before its first status file is written
/// (src/driver.rs sends the verdict before `run` starts the service), so the
/// next command can find no status file; README's walk-through has the
/// status in a separate step for that reason.
#[test]
#[ignore = "supervise detaches before its first status write (src/driver.rs, supervise branch)"]
fn the_prompt_comes_back_with_the_service_running() {
    let dir = TempDir::new("prompt");
    for i in 0..20 {
        let status_dir = dir.join(&format!("status/s{i}"));
        let _daemon = Detached(status_dir.clone());
        let output = run(
            dir.path(),
            &["-p", &format!("status/s{i}"), "-f", "sleep 1000"],
        );
        assert!(output.status.success(), "{output:?}");
        let status = supervise::status::read(&status_dir);
        assert!(
            status.as_ref().is_ok_and(|s| s.pid != 0),
            "run {i}: supervise returned, and the status file says {status:?}"
        );
    }
}

// --- docs/example.conf --------------------------------------------------------

/// The service sections of a config file (those with a `command`).
fn services(conf: &Path) -> Vec<supervise::conf::Section> {
    supervise::conf::sections(&fs::read(conf).unwrap())
        .into_iter()
        .filter(|s| s.entries.iter().any(|e| e.key == "command"))
        .collect()
}

fn value<'a>(section: &'a supervise::conf::Section, key: &str) -> Option<&'a str> {
    section
        .entries
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}

/// `supervise --check -F CONF -p ROOT/status/NAME`: exit 0 and no warning.
fn assert_checks_clean(conf: &Path, name: &str) {
    let dir = TempDir::new("check");
    let status_dir = dir.join(&format!("status/{name}"));
    let args = [
        "--check".as_ref(),
        "-F".as_ref(),
        conf.as_os_str(),
        "-p".as_ref(),
        status_dir.as_os_str(),
    ];
    let output = run(dir.path(), &args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && !text.to_lowercase().contains("warning"),
        "supervise --check -F {} for {name}: {}\n{text}",
        conf.display(),
        output.status
    );
}

#[test]
fn example_conf_passes_supervise_check_for_every_section() {
    let conf = repo().join("docs/example.conf");
    let sections = services(&conf);
    assert!(sections.len() >= 2, "the example shows several services");
    for section in sections {
        assert_checks_clean(&conf, &section.name);
    }
}

#[test]
fn example_conf_passes_supervise_scan_check() {
    let dir = TempDir::new("scan-check");
    let output = Command::new(scan_bin())
        .args(["--check", "-F"])
        .arg(repo().join("docs/example.conf"))
        .arg("-d")
        .arg(dir.join("root"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{}\n{text}", output.status);
    for word in ["warning", "error"] {
        assert!(!text.to_lowercase().contains(word), "{text}");
    }
}

/// Whether process `pid` listens on TCP `port` (in its own network
/// namespace).
fn listens(pid: u32, port: u16) -> bool {
    ["tcp", "tcp6"].iter().any(|table| {
        fs::read_to_string(format!("/proc/{pid}/net/{table}"))
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(3) == Some(&"0A")
                    && fields
                        .get(1)
                        .is_some_and(|local| local.ends_with(&format!(":{port:04X}")))
            })
    })
}

#[test]
fn example_conf_runs_every_service_under_supervise_scan_and_stops_cleanly() {
    let conf = repo().join("docs/example.conf");
    let sections = services(&conf);
    // Its own network namespace: the example's port is free whatever else
    // runs on this machine.
    let mut scan = Scanner::start(
        TempDir::new("example"),
        &conf,
        &["unshare", "--net"],
        &[("PATH", IMAGE_PATH)],
    );
    let mut pids = Vec::new();
    for section in &sections {
        let pid = scan.wait_running(&section.name);
        let command = value(section, "command").unwrap();
        if let Some(port) = command
            .split_whitespace()
            .skip_while(|w| *w != "http.server")
            .nth(1)
        {
            let port: u16 = port.parse().unwrap();
            wait_until(&format!("{} listens on {port}", section.name), || {
                listens(pid, port)
            });
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = command.split_whitespace().next().unwrap();
        assert!(
            String::from_utf8_lossy(&cmdline).contains(argv0),
            "{} runs {argv0}",
            section.name
        );
        pids.push((section.name.clone(), pid));
    }
    for (name, pid) in &pids {
        let dir = scan.status_dir(name);
        let log = fs::read_to_string(dir.join("supervise.log")).unwrap();
        let wf = fs::read_to_string(dir.join("supervise.log.wf")).unwrap_or_default();
        assert!(alive(*pid), "{name} still runs");
        assert!(
            !log.contains("exited"),
            "{name} ran without exiting:\n{log}"
        );
        assert!(wf.is_empty(), "{name} logged no warning:\n{wf}");
    }
    assert!(!scan.log().contains("WARNING"), "{}", scan.log());
    let status = scan.stop();
    assert_eq!(status.code(), Some(0), "{}", scan.log());
    for (name, pid) in &pids {
        assert!(!alive(*pid), "{name} was stopped");
        assert_eq!(
            supervise::sys::lock::holder_pid(&scan.status_dir(name).join("lock")),
            None,
            "{name}'s supervise exited"
        );
    }
}

// --- docs/Dockerfile ----------------------------------------------------------

/// The Debian package that owns program `name` on this (Debian) machine.
fn owner_of_program(name: &str) -> String {
    for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let output = Command::new("dpkg")
            .arg("-S")
            .arg(format!("{dir}/{name}"))
            .output()
            .unwrap();
        if output.status.success() {
            let text = String::from_utf8_lossy(&output.stdout).into_owned();
            return text.split(':').next().unwrap().trim().to_owned();
        }
    }
    panic!("{name} is not a program of any Debian package here")
}

/// `dpkg-query -W -f=FORMAT package`.
fn dpkg_field(package: &str, format: &str) -> String {
    let output = Command::new("dpkg-query")
        .args(["-W", &format!("-f={format}"), package])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Packages every Debian base image has (debian:*-slim included).
fn in_base_image(package: &str) -> bool {
    let fields = dpkg_field(package, "${Essential} ${Priority}");
    fields.starts_with("yes") || fields.ends_with("required")
}

/// `packages` and everything they depend on (as installed here).
fn with_dependencies(packages: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = packages.to_vec();
    while let Some(package) = queue.pop() {
        if !seen.insert(package.clone()) {
            continue;
        }
        let depends = dpkg_field(&package, "${Depends}, ${Pre-Depends}");
        for alternative in depends.split([',', '|']) {
            let name = alternative.split_whitespace().next().unwrap_or("");
            let name = name.split(':').next().unwrap();
            if !name.is_empty() && !dpkg_field(name, "${Status}").is_empty() {
                queue.push(name.to_owned());
            }
        }
    }
    seen
}

/// The packages the final stage of a Dockerfile installs with apt-get.
fn apt_installs(dockerfile: &str) -> Vec<String> {
    let final_stage = dockerfile.rsplit("\nFROM ").next().unwrap();
    let joined = final_stage.replace("\\\n", " ");
    let mut packages = Vec::new();
    for line in joined.lines().filter(|l| l.starts_with("RUN ")) {
        for command in line.split("&&") {
            let words: Vec<&str> = command.split_whitespace().collect();
            if let Some(at) = words.iter().position(|w| *w == "install")
                && words[..at].contains(&"apt-get")
            {
                packages.extend(
                    words[at + 1..]
                        .iter()
                        .filter(|w| !w.starts_with('-'))
                        .map(|w| w.to_string()),
                );
            }
        }
    }
    packages
}

#[test]
fn dockerfile_image_has_every_program_user_and_directory_the_example_uses() {
    let dockerfile = repo_file("docs/Dockerfile");
    assert!(
        dockerfile.contains("COPY docs/example.conf /etc/supervise/supervise.conf"),
        "the image runs docs/example.conf"
    );
    let base = dockerfile
        .lines()
        .rfind(|l| l.starts_with("FROM "))
        .unwrap();
    assert!(base.starts_with("FROM debian:"), "{base}");
    let installed = with_dependencies(&apt_installs(&dockerfile));
    for section in services(&repo().join("docs/example.conf")) {
        let command = value(&section, "command").unwrap();
        let program = command.split_whitespace().next().unwrap();
        let package = owner_of_program(program);
        assert!(
            in_base_image(&package) || installed.contains(&package),
            "[{}] runs {program} (package {package}), which {base} lacks and the Dockerfile \
             does not install (it installs {installed:?})",
            section.name
        );
        if let Some(user) = value(&section, "user") {
            let passwd = fs::read_to_string("/usr/share/base-passwd/passwd.master").unwrap();
            assert!(
                passwd.lines().any(|l| l.starts_with(&format!("{user}:"))),
                "[{}] user {user} is in every Debian image",
                section.name
            );
        }
        if let Some(directory) = value(&section, "directory") {
            let output = Command::new("dpkg")
                .args(["-S", directory])
                .output()
                .unwrap();
            let owners = String::from_utf8_lossy(&output.stdout).into_owned();
            let owners = owners.rsplit_once(':').map_or("", |(o, _)| o);
            assert!(
                owners.split(", ").any(in_base_image),
                "[{}] directory {directory} is in every Debian image",
                section.name
            );
        }
    }
}

// --- docs/kubernetes.yaml -----------------------------------------------------

/// The items of the YAML block sequence `key:` found after `after:`: plain
/// or double-quoted scalars, or `|` block scalars.
fn yaml_list(text: &str, after: &str, key: &str) -> Vec<String> {
    let from = text.find(after).unwrap_or_else(|| panic!("no {after}"));
    let lines: Vec<&str> = text[from..].lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no {key} after {after}"));
    assert_eq!(lines[at].trim(), key, "{key} is a block sequence");
    let indent = |l: &str| l.len() - l.trim_start().len();
    let item_indent = indent(lines[at + 1]);
    let mut items = Vec::new();
    let mut i = at + 1;
    while i < lines.len() && indent(lines[i]) == item_indent {
        let Some(item) = lines[i].trim_start().strip_prefix("- ") else {
            break;
        };
        i += 1;
        if item == "|" {
            let mut block = String::new();
            let body_indent = indent(lines[i]);
            while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) >= body_indent)
            {
                block.push_str(lines[i].get(body_indent..).unwrap_or(""));
                block.push('\n');
                i += 1;
            }
            items.push(block);
        } else {
            items.push(unquote(item.trim_matches('"')));
        }
    }
    items
}

fn unquote(s: &str) -> String {
    s.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The value of the container's environment variable `name` in the pod.
fn yaml_env(text: &str, name: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no env {name}"));
    lines[at + 1]
        .trim()
        .strip_prefix("value: ")
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

/// Runs the pod's liveness probe, as the kubelet would (in the container's
/// environment), with the status root at `root`.
fn probe(command: &[String], root: &Path) -> Output {
    Command::new(&command[0])
        .args(&command[1..])
        .env("SUPERVISE_ROOT", root)
        .env("PATH", path_with_binaries(IMAGE_PATH))
        .output()
        .unwrap()
}

fn liveness_probe() -> Vec<String> {
    yaml_list(
        &repo_file("docs/kubernetes.yaml"),
        "livenessProbe:",
        "command:",
    )
}

#[test]
fn kubernetes_pod_runs_its_config_where_its_probe_looks() {
    let yaml = repo_file("docs/kubernetes.yaml");
    let command = yaml_list(&yaml, "containers:", "command:");
    let root = yaml_env(&yaml, "SUPERVISE_ROOT");
    let d = command.iter().position(|w| w == "-d").unwrap();
    assert_eq!(command[d + 1], root, "the scanner's -d is $SUPERVISE_ROOT");
    assert!(command[0] == "supervise-scan", "{command:?}");
    let probe = liveness_probe().join(" ");
    assert!(
        probe.contains("$SUPERVISE_ROOT") || probe.contains(&root),
        "the probe looks at the scanner's root: {probe}"
    );
    // The ConfigMap's supervise.conf checks clean too.
    let conf_text: String = yaml
        .split("supervise.conf: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.get(4..).unwrap_or("")))
        .collect();
    let dir = TempDir::new("k8s-conf");
    let conf = dir.write("supervise.conf", &conf_text);
    let sections = services(&conf);
    assert!(!sections.is_empty(), "{conf_text}");
    for section in sections {
        assert_checks_clean(&conf, &section.name);
    }
}

/// A scanner with one healthy service and one that gives up at once.
fn scanner_with_a_quitter(tag: &str) -> Scanner {
    let dir = TempDir::new(tag);
    let conf = dir.write(
        "s.conf",
        "[global]\nalarm_interval : 60\n\n[ok]\ncommand : sleep 1000\n\n\
         [quitter]\ncommand : false\nmax_tries : 1\n",
    );
    let scan = Scanner::start(dir, &conf, &[], &[]);
    scan.wait_running("ok");
    let quitter = scan.status_dir("quitter");
    wait_until("quitter gives up", || {
        fs::read_to_string(quitter.join("supervise.log"))
            .is_ok_and(|l| l.contains("refused to restart"))
            && supervise::sys::lock::holder_pid(&quitter.join("lock")).is_none()
    });
    scan
}

fn assert_probe(command: &[String], root: &Path, passes: bool, when: &str) {
    let output = probe(command, root);
    assert_eq!(
        output.status.success(),
        passes,
        "the liveness probe {} {when}: {}{}",
        if passes { "passes" } else { "fails" },
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn kubernetes_probe_passes_while_a_service_is_given_up_or_removed() {
    let probe_command = liveness_probe();
    let scan = scanner_with_a_quitter("probe-pass");
    // `svc status` (the probe before) fails here and would restart the pod.
    let status = Command::new(svc_bin())
        .args(["status", "-d"])
        .arg(&scan.root)
        .output()
        .unwrap();
    assert!(!status.status.success(), "svc status reports the quitter");
    assert_probe(&probe_command, &scan.root, true, "with a service given up");
    // The section removed (and one added, which shows the reload was
    // applied once it runs).
    scan.dir.write(
        "s.conf",
        "[ok]\ncommand : sleep 1000\n\n[added]\ncommand : sleep 1000\n",
    );
    kill(scan.pid(), libc::SIGHUP);
    scan.wait_running("added");
    assert_probe(&probe_command, &scan.root, true, "with a section removed");
}

#[test]
fn kubernetes_probe_fails_when_the_scanner_is_stopped_or_dead() {
    let probe_command = liveness_probe();
    let mut scan = scanner_with_a_quitter("probe-fail");
    assert_probe(&probe_command, &scan.root, true, "while the scanner runs");
    kill(scan.pid(), libc::SIGSTOP);
    wait_until("the scanner is stopped", || state(scan.pid()) == Some('T'));
    assert_probe(
        &probe_command,
        &scan.root,
        false,
        "while the scanner is stopped",
    );
    kill(scan.pid(), libc::SIGCONT);
    wait_until("the scanner runs again", || state(scan.pid()) != Some('T'));
    assert_probe(
        &probe_command,
        &scan.root,
        true,
        "once the scanner runs again",
    );
    // Killed: its supervise and services live on, but nothing would reload,
    // restart a dead supervise or stop them in order.
    let ok = scan.wait_running("ok");
    kill(scan.pid(), libc::SIGKILL);
    let child = scan.child.as_mut().unwrap();
    wait_until("the scanner is dead", || {
        child.try_wait().unwrap().is_some()
    });
    assert!(alive(ok), "the service outlives the scanner");
    assert_probe(
        &probe_command,
        &scan.root,
        false,
        "once the scanner is dead",
    );
}

// --- docs/contract.md ---------------------------------------------------------

/// The first cells of the rows of the Markdown table whose header row
/// starts with `| first |`.
fn table_first_cells(text: &str, first: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with(&format!("| {first} |")))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split('|').nth(1).unwrap().trim().to_owned())
        .collect()
}

#[test]
fn contract_lists_exactly_the_control_bytes_supervise_obeys() {
    let contract = repo_file("docs/contract.md");
    let listed: BTreeSet<u8> = table_first_cells(&contract, "byte")
        .iter()
        .flat_map(|cell| {
            cell.split_whitespace()
                .filter_map(|w| w.strip_prefix('`')?.strip_suffix('`'))
                .map(|w| {
                    assert_eq!(w.len(), 1, "one byte per code span: {cell}");
                    w.as_bytes()[0]
                })
                .collect::<Vec<u8>>()
        })
        .collect();
    let obeyed: BTreeSet<u8> = (0..=255u8)
        .filter(|b| supervise::control::Command::from_byte(*b).is_some())
        .collect();
    assert_eq!(
        listed.iter().map(|b| *b as char).collect::<String>(),
        obeyed.iter().map(|b| *b as char).collect::<String>(),
        "docs/contract.md's control table and supervise::control"
    );
}

#[test]
fn examples_are_executable_scripts() {
    for entry in fs::read_dir(repo().join("examples")).unwrap().flatten() {
        let mode = entry.metadata().unwrap().permissions().mode();
        assert!(
            mode & 0o111 != 0,
            "{} is executable",
            entry.path().display()
        );
        let text = fs::read_to_string(entry.path()).unwrap();
        assert!(
            text.starts_with("#!"),
            "{} has a #! line",
            entry.path().display()
        );
    }
}
