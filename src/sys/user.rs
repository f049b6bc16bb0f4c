//! Users for the scanner's `user` key: looking a name up (uid, gid,
//! supplementary groups) before fork, and handing the status directory to
//! that user. The binaries are linked statically (see .cargo/config.toml),
//! where the C library's NSS lookups cannot load their modules, so names
//! are read from /etc/passwd and /etc/group directly: local users only.

use std::io;
use std::path::Path;

/// Who to run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// Looks `name` up in /etc/passwd and /etc/group.
pub fn lookup(name: &str) -> io::Result<Identity> {
    let passwd = std::fs::read_to_string("/etc/passwd")?;
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    find(&passwd, &group, name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no user named {name} in /etc/passwd"),
        )
    })
}

/// The identity of `name` from the texts of /etc/passwd and /etc/group.
fn find(passwd: &str, group: &str, name: &str) -> Option<Identity> {
    let (uid, gid) = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 4 && fields[0] == name)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })?;
    let mut groups = vec![gid];
    for line in group.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() >= 4
            && fields[3].split(',').any(|member| member == name)
            && let Ok(id) = fields[2].parse::<u32>()
            && !groups.contains(&id)
        {
            groups.push(id);
        }
    }
    Some(Identity { uid, gid, groups })
}

/// Gives `dir` and the files directly in it to `who`.
pub fn hand_over(dir: &Path, who: &Identity) -> io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(who.uid), Some(who.gid))?;
    for entry in std::fs::read_dir(dir)? {
        std::os::unix::fs::lchown(entry?.path(), Some(who.uid), Some(who.gid))?;
    }
    Ok(())
}

/// Between fork and exec: become `who`. Only async-signal-safe calls.
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
    #[test]
    fn reads_passwd_and_group_lines() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/usr/sbin/nologin\n";
        let group = "root:x:0:\nwww:x:33:\nlog:x:4:syslog,www\nother:x:9:root\n";
        let www = super::find(passwd, group, "www").unwrap();
        assert_eq!((www.uid, www.gid, www.groups), (33, 33, vec![33, 4]));
        assert_eq!(super::find(passwd, group, "ww"), None);
    }

    #[test]
    fn root_is_uid_0_and_strangers_are_not_found() {
        let root = super::lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        let err = super::lookup("no-such-user-here-42").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
