//! Linear work (issue 14 item 1): each supervise reads a settings file of
//! its own (one section, every key explicit) instead of the whole
//! supervise.conf, so what it reads does not grow with the number of
//! services; a reload rewrites only the settings that changed and sends
//! `r` only there. (That the scanner parses the file once per load, not
//! once per section, is a unit test in src/scan/plan.rs.)

#[allow(unused_imports)]
mod scan_support;
mod support;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use scan_support::*;
use support::*;

fn conf(n: usize, changed: Option<usize>) -> String {
    let mut text = String::from("[global]\nstop_timeout : 2\nalarm_mail : ops@example.com\n");
    for i in 0..n {
        let tries = if Some(i) == changed { 7 } else { 3 };
        text.push_str(&format!(
            "[s{i:02}]\ncommand : sleep 100{i}\nmax_tries : {tries}\n"
        ));
    }
    text
}

/// The `-F` argument of a supervise, from its command line.
fn conf_arg(pid: u32) -> PathBuf {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let at = args
        .iter()
        .position(|a| *a == b"-F")
        .expect("a -F argument");
    PathBuf::from(String::from_utf8(args[at + 1].to_vec()).unwrap())
}

/// How many times a service's supervise has read its settings.
fn reads(scan: &Scan, name: &str) -> usize {
    std::fs::read_to_string(scan.status_dir(name).join("supervise.log"))
        .unwrap_or_default()
        .matches("Finished loading configurations!")
        .count()
}

/// Runs `n` services (names of one width, so that equal settings make
/// files of one size), changes the limits of one, reloads; returns the
/// size of the settings file each supervise read.
fn run(n: usize) -> u64 {
    let scan = Scan::start(&format!("scan-linear-{n}"), &conf(n, None), &[]);
    let names: Vec<String> = (0..n).map(|i| format!("s{i:02}")).collect();
    let mut sizes = Vec::new();
    let mut inodes = Vec::new();
    for name in &names {
        scan.service_pid(name);
        let file = conf_arg(scan.supervise_pid(name));
        assert_eq!(file, scan.status_dir(name).join("supervise.conf"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with('['))
                .collect::<Vec<_>>(),
            [format!("[{name}]")],
            "one section, its own:\n{text}"
        );
        assert!(
            text.contains("\nmax_tries: 3\n") && text.contains("\nalarm_mail: ops@example.com\n")
        );
        sizes.push(std::fs::metadata(&file).unwrap().len());
        inodes.push(std::fs::metadata(&file).unwrap().ino());
        wait_until(&format!("{name}'s supervise read its settings"), || {
            reads(&scan, name) == 1
        });
    }
    scan.conf(&conf(n, Some(1)));
    let report = scan.reload();
    assert!(report.ends_with("\nreread s01\n"), "{report}");
    wait_until("s01 re-reads its settings", || reads(&scan, "s01") == 2);
    let log = std::fs::read_to_string(scan.status_dir("s01").join("supervise.log")).unwrap();
    assert!(log.contains("max_tries: 7"), "{log}");
    // Only s01's file was rewritten, and only s01 read again.
    for (i, name) in names.iter().enumerate() {
        let inode = std::fs::metadata(scan.status_dir(name).join("supervise.conf"))
            .unwrap()
            .ino();
        assert_eq!(inode == inodes[i], i != 1, "{name}");
        if i != 1 {
            assert_eq!(reads(&scan, name), 1, "{name} read its settings again");
        }
    }
    sizes.dedup();
    assert_eq!(sizes.len(), 1, "the same settings make the same file");
    sizes[0]
}

#[test]
fn what_each_supervise_reads_does_not_grow_with_the_number_of_services() {
    let small = run(3);
    let large = run(30);
    assert_eq!(
        small, large,
        "a supervise of 30 services reads as much as one of 3"
    );
}
