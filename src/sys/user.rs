//! Users for the `user` and `groups` settings: what an operator writes
//! (`NAME`, `UID`, `USER:GROUP`, each part a name or a number, plus extra
//! groups) resolved to numbers before any fork, and the privilege drop in
//! the service's process. The binaries are linked statically (see
//! .cargo/config.toml), where the C library's NSS lookups cannot load their
//! modules, so names are read from /etc/passwd and /etc/group directly:
//! local users only. Resolution is pure over the two files' texts
//! ([`resolve_in`]), so its rules are table tests.

use std::io;

/// Who to run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups: the primary group first, then the groups of
    /// /etc/group that list the user (as `getgrouplist` gives them), then
    /// the extra ones asked for; each once.
    pub groups: Vec<u32>,
}

/// Resolves `user` (`NAME`, `UID`, `USER:GROUP`) and the extra `groups`
/// (names or numbers) against /etc/passwd and /etc/group. The error names
/// what is wrong, without the user text (callers add it).
pub fn resolve(user: &str, groups: &[String]) -> Result<Identity, String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    let group = match std::fs::read_to_string("/etc/group") {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("/etc/group: {e}")),
    };
    resolve_in(&passwd, &group, user, groups)
}

/// A user or group id as written: a number below 2^32 - 1 (which the
/// set*id calls take for "unchanged"), or `None` for a name.
fn number(text: &str) -> Option<Result<u32, String>> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.parse::<u32>()
            .ok()
            .filter(|&n| n != u32::MAX)
            .ok_or_else(|| format!("{text} is out of range (at most 4294967294)")),
    )
}

/// The records of a passwd or group file: the fields of each line that
/// has at least `min` of them.
fn records(text: &str, min: usize) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(move |fields| fields.len() >= min)
}

/// The gid of group `name` (or the number), from the text of /etc/group.
fn group_id(group: &str, name: &str) -> Result<u32, String> {
    if let Some(n) = number(name) {
        return n;
    }
    records(group, 3)
        .find(|f| f[0] == name)
        .and_then(|f| f[2].parse().ok())
        .ok_or_else(|| format!("no group named {name} in /etc/group"))
}

/// [`resolve`] over the texts of /etc/passwd and /etc/group.
///
/// A name must have a passwd entry; a number need not, but then it has no
/// primary group to take from there and the group must be given. A group
/// given with `:` replaces the passwd one as primary group; the groups
/// that list the user by name are added either way.
pub fn resolve_in(
    passwd: &str,
    group: &str,
    user: &str,
    extra: &[String],
) -> Result<Identity, String> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    if user_part.is_empty() {
        return Err("no user before the `:`".into());
    }
    if group_part == Some("") {
        return Err("no group after the `:`".into());
    }
    // (uid, the entry's name and gid if it has one)
    let (uid, entry) = match number(user_part) {
        Some(n) => {
            let uid = n?;
            let entry = records(passwd, 4)
                .find(|f| f[2].parse() == Ok(uid))
                .and_then(|f| Some((f[0].to_owned(), f[3].parse::<u32>().ok()?)));
            (uid, entry)
        }
        None => {
            let fields = records(passwd, 4)
                .find(|f| f[0] == user_part)
                .ok_or_else(|| format!("no user named {user_part} in /etc/passwd"))?;
            let uid = fields[2]
                .parse()
                .map_err(|_| format!("/etc/passwd: a bad uid for {user_part}"))?;
            let gid = fields[3]
                .parse()
                .map_err(|_| format!("/etc/passwd: a bad gid for {user_part}"))?;
            (uid, Some((user_part.to_owned(), gid)))
        }
    };
    let gid = match (group_part, &entry) {
        (Some(g), _) => group_id(group, g)?,
        (None, Some((_, gid))) => *gid,
        (None, None) => {
            return Err(format!(
                "uid {uid} has no entry in /etc/passwd: name its group too ({uid}:GROUP)"
            ));
        }
    };
    let mut groups = vec![gid];
    let mut add = |id: u32| {
        if !groups.contains(&id) {
            groups.push(id);
        }
    };
    if let Some((name, _)) = &entry {
        for fields in records(group, 4) {
            if fields[3].split(',').any(|member| member == name)
                && let Ok(id) = fields[2].parse::<u32>()
            {
                add(id);
            }
        }
    }
    for name in extra {
        add(group_id(group, name)?);
    }
    Ok(Identity { uid, gid, groups })
}

/// Looks user `name` (or a `USER:GROUP`) up, with no extra groups.
pub fn lookup(name: &str) -> io::Result<Identity> {
    resolve(name, &[]).map_err(|e| io::Error::new(io::ErrorKind::NotFound, e))
}

/// Between fork and exec: become `who`, in the one safe order: the
/// supplementary groups and the group while still root, the user last
/// (after setuid nothing else could be changed). Only async-signal-safe
/// calls.
///
/// # Safety
/// Call only in a forked child before exec.
pub unsafe fn become_user(who: &Identity) -> io::Result<()> {
    // SAFETY: plain system calls; groups outlives the call.
    unsafe {
        if libc::setgroups(who.groups.len(), who.groups.as_ptr()) != 0
            || libc::setgid(who.gid) != 0
            || libc::setuid(who.uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        www:x:33:33::/var/www:/usr/sbin/nologin\n\
        broken\n\
        pg:x:70:70::/var/lib/pg:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nlog:x:4:syslog,www\nother:x:9:root\n\
        ssl:x:103:pg,www\nstaff:x:50:\n";

    fn resolved(user: &str, extra: &[&str]) -> Result<(u32, u32, Vec<u32>), String> {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        resolve_in(PASSWD, GROUP, user, &extra).map(|i| (i.uid, i.gid, i.groups))
    }

    #[test]
    fn what_operators_write_resolves_to_ids() {
        // (user, extra groups, (uid, gid, groups))
        type Row<'a> = (&'a str, &'a [&'a str], (u32, u32, Vec<u32>));
        let table: &[Row] = &[
            // A name: its passwd group, then the groups listing it.
            ("www", &[], (33, 33, vec![33, 4, 103])),
            ("pg", &[], (70, 70, vec![70, 103])),
            // A number with an entry is that entry, groups included.
            ("33", &[], (33, 33, vec![33, 4, 103])),
            // user:group, each a name or a number; the group replaces the
            // primary one, the user's groups stay.
            ("www:staff", &[], (33, 50, vec![50, 4, 103])),
            ("www:9", &[], (33, 9, vec![9, 4, 103])),
            ("33:log", &[], (33, 4, vec![4, 103])),
            // A number without an entry, with its group.
            ("4242:4243", &[], (4242, 4243, vec![4243])),
            ("4242:staff", &[], (4242, 50, vec![50])),
            // Extra groups, names or numbers, each once.
            (
                "www",
                &["staff", "4", "7"],
                (33, 33, vec![33, 4, 103, 50, 7]),
            ),
            ("4242:4243", &["4243", "root"], (4242, 4243, vec![4243, 0])),
        ];
        for (user, extra, expected) in table {
            assert_eq!(
                resolved(user, extra).as_ref(),
                Ok(expected),
                "{user} {extra:?}"
            );
        }
    }

    #[test]
    fn what_cannot_be_resolved_says_why() {
        let table: &[(&str, &[&str], &str)] = &[
            (
                "nobody-here",
                &[],
                "no user named nobody-here in /etc/passwd",
            ),
            ("ww", &[], "no user named ww in /etc/passwd"),
            ("www:nogroup", &[], "no group named nogroup in /etc/group"),
            ("www", &["wheel"], "no group named wheel in /etc/group"),
            (
                "4242",
                &[],
                "uid 4242 has no entry in /etc/passwd: name its group too (4242:GROUP)",
            ),
            ("4294967295", &[], "4294967295 is out of range"),
            ("www:99999999999", &[], "99999999999 is out of range"),
            (":www", &[], "no user before the `:`"),
            ("www:", &[], "no group after the `:`"),
        ];
        for (user, extra, expected) in table {
            let error = resolved(user, extra).unwrap_err();
            assert!(
                error.contains(expected),
                "{user}: '{error}' lacks '{expected}'"
            );
        }
    }

    #[test]
    fn root_is_uid_0_and_strangers_are_not_found() {
        let root = lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        let err = lookup("no-such-user-here-42").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
