//! Output logs that rotate (issue 16 item 4): with `log_max_bytes`,
//! `log_keep` or `log_timestamps` set, the service's output goes through
//! pipes supervise keeps across restarts, so no line is lost across
//! restarts and rotations; lines are stamped; an operator's rename is
//! followed; a full file system drops and counts lines without holding the
//! service up. Without the keys, the service appends to the files itself.

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use support::*;

/// Every `__NAME` and `__NAME.N` file's lines, oldest file first.
fn all_lines(dir: &Path, name: &str) -> Vec<String> {
    let mut files: Vec<(u32, std::path::PathBuf)> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let n = match file.strip_prefix(name)? {
                "" => 0,
                rest => rest.strip_prefix('.')?.parse().ok()?,
            };
            Some((n, e.path()))
        })
        .collect();
    files.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    files
        .iter()
        .flat_map(|(_, p)| {
            fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn start(tag: &str, conf: &str, script: &str) -> Supervise {
    let dir = TempDir::new(tag);
    dir.write("supervise.conf", conf);
    let script = dir.script("service.sh", script);
    Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    )
}

#[test]
fn no_line_is_lost_across_restarts_and_rotations() {
    // Each run writes 3000 numbered lines and exits at once: what it wrote
    // last is still in the pipe when the next run starts.
    let conf = "[svc]\nalarm_interval: 0\nrestart_backoff_start: 0\nrestart_backoff_max: 0\n\
                log_max_bytes: 8192\nlog_keep: 1000\n";
    let sup = start(
        "logs-no-loss",
        conf,
        "n=$(cat runs 2>/dev/null || echo 0)\necho $((n + 1)) > runs\n\
         [ \"$n\" -ge 100 ] && exec sleep 1000\n\
         seq -f \"$$ %g\" 1 3000\necho \"$$ err\" >&2\n",
    );
    wait_until_for(DEADLINE * 6, "100 runs, then one that stays", || {
        fs::read_to_string(sup.dir.join("runs")).is_ok_and(|t| t == "101\n")
    });
    wait_until("100 exits logged", || {
        // supervise.log rotates with the same keys.
        all_lines(&sup.status_dir, "supervise.log")
            .iter()
            .filter(|l| l.contains("service exited!"))
            .count()
            == 100
    });
    let runs = 100;
    let mut by_pid: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    wait_until("every line of every run that ended is written", || {
        by_pid.clear();
        for line in all_lines(&sup.status_dir, "__stdout") {
            let (pid, n) = line.split_once(' ').expect("PID N");
            by_pid
                .entry(pid.parse().unwrap())
                .or_default()
                .push(n.parse().unwrap());
        }
        by_pid.len() >= runs && by_pid.values().all(|v| v.len() == 3000)
    });
    for (pid, numbers) in &by_pid {
        assert_eq!(
            numbers,
            &(1..=3000).collect::<Vec<u32>>(),
            "run {pid}: every line, in order"
        );
    }
    let files = fs::read_dir(&sup.status_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("__stdout."))
        .count();
    assert!(files >= 50, "rotated {files} times");
    for entry in fs::read_dir(&sup.status_dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("__stdout") {
            let len = entry.metadata().unwrap().len();
            assert!(len <= 8192, "{name}: {len} bytes");
        }
    }
    // stderr goes through its own pipe.
    assert_eq!(all_lines(&sup.status_dir, "__stderr").len(), runs);
}

#[test]
fn lines_are_stamped_tai64n_or_iso8601() {
    for (word, check) in [
        (
            "tai64n",
            (|l: &str| {
                l.len() > 26
                    && l.starts_with("@4000000")
                    && l[1..25].bytes().all(|b| b.is_ascii_hexdigit())
                    && &l[25..26] == " "
            }) as fn(&str) -> bool,
        ),
        ("iso8601", |l: &str| {
            let b = l.as_bytes();
            l.len() > 28 && b[4] == b'-' && b[10] == b'T' && &l[26..28] == "Z "
        }),
    ] {
        let conf = format!("[svc]\nlog_timestamps: {word}\n");
        let mut sup = start(
            &format!("logs-{word}"),
            &conf,
            "echo one\nprintf 'two\\nthree'\nexec sleep 1000\n",
        );
        sup.wait_running();
        wait_until("two lines written", || {
            all_lines(&sup.status_dir, "__stdout").len() >= 2
        });
        let lines = all_lines(&sup.status_dir, "__stdout");
        assert_eq!(lines.len(), 2, "the unfinished line waits: {lines:?}");
        assert!(lines.iter().all(|l| check(l)), "{word}: {lines:?}");
        assert!(lines[0].ends_with(" one") && lines[1].ends_with(" two"));
        // At exit the unfinished line is written too.
        sup.control("x");
        sup.control("d");
        sup.wait_exit();
        let lines = all_lines(&sup.status_dir, "__stdout");
        assert!(lines[2].ends_with(" three"), "{lines:?}");
    }
}

#[test]
fn an_external_rename_is_followed_at_the_next_write() {
    let conf = "[svc]\nlog_timestamps: off\n";
    let mut sup = start(
        "logs-rename",
        conf,
        "while :; do echo tick; sleep 0.02; done\n",
    );
    sup.wait_running();
    let out = sup.status_dir.join("__stdout");
    wait_until("ticks", || fs::metadata(&out).is_ok_and(|m| m.len() > 0));
    let old = sup.status_dir.join("__stdout.old");
    fs::rename(&out, &old).unwrap();
    wait_until("a new __stdout with ticks", || {
        fs::read_to_string(&out).is_ok_and(|t| t.contains("tick\n"))
    });
    let settled = fs::metadata(&old).unwrap().len();
    wait_until("the new file grows", || {
        fs::metadata(&out).is_ok_and(|m| m.len() > 50)
    });
    assert_eq!(
        fs::metadata(&old).unwrap().len(),
        settled,
        "nothing more into the renamed file"
    );
    // Removed, too.
    fs::remove_file(&out).unwrap();
    wait_until("__stdout made again", || out.exists());
}

#[test]
fn a_full_file_system_drops_and_counts_lines_and_never_holds_the_service() {
    if !root() {
        eprintln!("skipped: needs root to mount a tmpfs");
        return;
    }
    let dir = TempDir::new("logs-full");
    dir.write("supervise.conf", "[svc]\nlog_timestamps: tai64n\n");
    let tmpfs = Tmpfs::mount(&dir, "status", "size=256k");
    let script = dir.script(
        "service.sh",
        "i=0\nwhile :; do i=$((i+1)); echo \"line $i\"; echo $i > progress; sleep 0.002; done\n",
    );
    let mut sup = Supervise::start_with(
        dir,
        &["-p", "status/svc", "-f", script.to_str().unwrap()],
        &[],
    );
    sup.wait_running();
    let progress = || {
        fs::read_to_string(sup.dir.join("progress"))
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    wait_until("lines flow", || progress() > 10);
    let filler = tmpfs.fill_blocks();
    // The service keeps writing (it is not blocked on a full pipe), while
    // nothing can be written: not even supervise.log.wf, which says it all
    // once space is back.
    let at = progress();
    wait_until("the service goes on writing", || progress() > at + 500);
    fs::remove_file(&filler).unwrap();
    sup.wait_log_wf("__stdout written again;");
    assert_eq!(
        sup.log_wf()
            .matches("cannot write status/svc/__stdout")
            .count(),
        1,
        "said once: {}",
        sup.log_wf()
    );
    let wf = sup.log_wf();
    let dropped: u64 = wf
        .split("written again; ")
        .nth(1)
        .and_then(|t| t.split(' ').next()?.parse().ok())
        .unwrap();
    assert!(dropped >= 100, "{wf}");
    drop(sup);
    drop(tmpfs);
}

#[test]
fn without_the_keys_the_service_writes_the_files_itself() {
    let mut sup = start("logs-plain", "[svc]\n", "echo plain\nexec sleep 1000\n");
    let pid = sup.wait_running();
    wait_until("the line", || sup.file("__stdout") == "plain\n");
    let target = fs::read_link(format!("/proc/{pid}/fd/1")).unwrap();
    assert_eq!(
        target,
        sup.status_dir.join("__stdout").canonicalize().unwrap()
    );
}

#[test]
fn the_keys_work_under_supervise_scan() {
    let conf = "[global]\nlog_timestamps: iso8601\n[web]\ncommand : sh -c 'echo hello; exec sleep 1000'\n\
                log_max_bytes: 100000\n";
    let scan = scan_support::Scan::start("logs-scan", conf, &[]);
    scan.service_pid("web");
    let dir = scan.status_dir("web");
    let settings = fs::read_to_string(dir.join("supervise.conf")).unwrap();
    assert!(
        settings.contains("log_max_bytes: 100000\n")
            && settings.contains("log_timestamps: iso8601\n"),
        "{settings}"
    );
    wait_until("the stamped line", || {
        all_lines(&dir, "__stdout")
            .iter()
            .any(|l| l.ends_with("Z hello"))
    });
}

#[test]
fn an_idle_service_with_output_logs_costs_no_wake_up() {
    let conf = "[svc]\nlog_max_bytes: 100000\nlog_timestamps: tai64n\nevent_command: /bin/true\n";
    let mut sup = start("logs-idle", conf, "echo once\nexec sleep 1000\n");
    sup.wait_running();
    wait_until("the line", || {
        all_lines(&sup.status_dir, "__stdout").len() == 1
    });
    let pid = sup.pid();
    wait_asleep(pid);
    wait_until("the event command has run", || {
        children_of(pid).len() == 1 && state(pid) == Some('S')
    });
    let before = context_switches(pid);
    // Observing for a fixed span is the point here, not a way to
    // synchronise: any wake-up in it is a failure.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        context_switches(pid),
        before,
        "supervise woke up while idle"
    );
}

#[test]
fn supervise_log_rotates_with_the_same_keys() {
    let conf = "[svc]\nalarm_interval: 0\nrestart_backoff_start: 0\nrestart_backoff_max: 0\n\
                log_max_bytes: 4096\nlog_keep: 2\n";
    let sup = start("logs-own", conf, "exit 1\n");
    wait_until("supervise.log rotated twice", || {
        sup.status_dir.join("supervise.log.2").exists()
    });
    assert!(
        !sup.status_dir.join("supervise.log.3").exists(),
        "log_keep 2"
    );
    for name in ["supervise.log", "supervise.log.1", "supervise.log.2"] {
        let len = fs::metadata(sup.status_dir.join(name)).map_or(0, |m| m.len());
        assert!(len <= 4096, "{name}: {len} bytes");
    }
    let rotated = fs::read_to_string(sup.status_dir.join("supervise.log.1")).unwrap();
    assert!(rotated.ends_with('\n') && rotated.contains("service exited!"));
}
