//! `command` is split like a shell splits words (issue 13 point 4): single
//! and double quotes and backslashes, but no shell is run and nothing is
//! expanded. An unterminated quote refuses the file, with its line.

#[allow(unused_imports)]
mod scan_support;
mod support;

use scan_support::*;
use support::*;

fn argv(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap()
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn a_command_with_quotes_runs_as_written() {
    let dir = TempDir::new("scan-quotes");
    let out = dir.join("said");
    let conf = format!(
        "[sh]\ncommand : sh -c 'echo \"$0: a  b\" > {}; exec sleep 1000' \"first word\"\n\
         [plain]\ncommand : sleep   1001\n[escaped]\ncommand : sleep\\ 1002 \\$HOME 'it'\\''s' \"\"\n",
        out.display()
    );
    let scan = Scan::start_in(dir, &conf, &[], &[]);
    let sh = scan.service_pid("sh");
    wait_until("the shell wrote", || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.ends_with('\n'))
    });
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "first word: a  b\n");
    wait_until("sh execs sleep", || argv(sh) == ["sleep", "1000"]);
    assert_eq!(argv(scan.service_pid("plain")), ["sleep", "1001"]);
    // `escaped` cannot run (no program `sleep 1002`): what matters is the
    // words supervise was given.
    let sup = scan.supervise_pid("escaped");
    let words = argv(sup);
    let at = words.iter().position(|w| w == "-u").unwrap() + 2;
    let expected: Vec<String> = ["sleep 1002", "$HOME", "it's", ""]
        .map(String::from)
        .to_vec();
    let got: Vec<String> = std::fs::read(format!("/proc/{sup}/cmdline"))
        .unwrap()
        .split(|b| *b == 0)
        .skip(at)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .take(4)
        .collect();
    assert_eq!(got, expected, "{words:?}");
}

#[test]
fn an_unterminated_quote_refuses_the_file_with_its_line() {
    let scan = Scan::start("scan-quote-error", "[a]\ncommand : sleep 1000\n", &[]);
    let a = scan.service_pid("a");
    scan.conf("[a]\ncommand : sleep 1000\n[b]\ncommand : sh -c 'echo hi\n[c]\ncommand : x\\\n");
    let report = scan.reload();
    assert!(report.starts_with("2 refused\n"), "{report}");
    assert!(
        report.contains("s.conf:4: [b]: command: unterminated single quote"),
        "{report}"
    );
    assert!(
        report.contains("s.conf:6: [c]: command: a backslash at the end escapes nothing"),
        "{report}"
    );
    assert_eq!(scan.service_pid("a"), a);
}
