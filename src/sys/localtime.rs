//! Local time for log lines and alarm texts, through the C library's
//! `localtime_r`: it reads the one zone in /etc/localtime (or TZ) once, a few
//! kB, instead of a bundled time-zone database in every supervise process.

use std::time::Duration;

/// The broken-down local time of `secs`, or `None` when `localtime_r`
/// fails.
fn local(secs: libc::time_t) -> Option<libc::tm> {
    // SAFETY: tm is plain data; localtime_r fills it or returns null.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    ok.then_some(tm)
}

/// `YYYY-MM-DD HH:MM:SS` in local time.
pub fn format(wall: Duration) -> String {
    let Some(tm) = local(wall.as_secs() as libc::time_t) else {
        return format!("@{}", wall.as_secs());
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// The local time zone's offset from UTC at `wall`, in seconds (0 if
/// unknown).
pub fn utc_offset(wall: Duration) -> i64 {
    libc::time_t::try_from(wall.as_secs())
        .ok()
        .and_then(local)
        .map_or(0, |tm| tm.tm_gmtoff)
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_the_log_shape() {
        let text = super::format(std::time::Duration::from_secs(1_764_170_000));
        let shape: String = text
            .chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect();
        assert_eq!(shape, "9999-99-99 99:99:99");
    }

    #[test]
    fn utc_offset_is_within_a_day() {
        let offset = super::utc_offset(std::time::Duration::from_secs(1_764_170_000));
        assert!(offset.abs() < 24 * 3600, "{offset}");
    }
}
