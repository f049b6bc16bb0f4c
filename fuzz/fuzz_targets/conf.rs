//! Fuzzes the supervise.conf parser: no input may make it panic, and the
//! resolved settings keep their invariants. The first line of the input (up
//! to 16 bytes) is the service name, the rest is the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervise::conf::{self, MAX_GSM};

fuzz_target!(|data: &[u8]| {
    let (name, text) = match data.iter().position(|&b| b == b'\n') {
        Some(at) if at <= 16 => (&data[..at], &data[at + 1..]),
        _ => (&b"redis"[..], data),
    };
    let name = String::from_utf8_lossy(name);
    let resolved = conf::resolve(text, &name);
    let c = &resolved.conf;
    assert!(c.alarm_gsm.len() <= MAX_GSM);
    assert!(matches!(c.alarm_interval, 0 | 2) || c.alarm_interval >= 60);
    for s in c.alarm_mail.iter().chain(&c.alarm_gsm) {
        let c_blank = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
        assert!(!s.is_empty() && !s.contains(c_blank) && !s.contains('\0'));
    }
    let lines = text.split(|&b| b == b'\n').count();
    assert!(
        resolved
            .warnings
            .iter()
            .all(|w| (1..=lines).contains(&w.line))
    );
    assert!(resolved.warnings.windows(2).all(|w| w[0].line <= w[1].line));
    assert_eq!(c.describe().len(), 5 + c.alarm_gsm.len() + 9);
    for section in conf::sections(text) {
        assert!(!section.name.is_empty());
        assert!(section.entries.iter().all(|e| e.line > section.line));
    }
});
