//! Users for the scanner's `user` key: looking a name up (uid, gid,
//! supplementary groups) before fork, since the lookup allocates and reads
//! files, and handing the status directory to that user.

use std::ffi::CString;
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

/// Looks `name` up in the user database.
pub fn lookup(name: &str) -> io::Result<Identity> {
    let c_name = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "user name contains NUL"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data; getpwnam_r writes into it and into buf,
    // and sets result to null when the user does not exist.
    let mut passwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let rc = unsafe {
        libc::getpwnam_r(
            c_name.as_ptr(),
            &mut passwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if result.is_null() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no user named {name}"),
        ));
    }
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut count = groups.len() as libc::c_int;
    // SAFETY: groups has room for count entries; getgrouplist reports how
    // many it wrote (or needs) in count.
    let rc = unsafe {
        libc::getgrouplist(
            c_name.as_ptr(),
            passwd.pw_gid,
            groups.as_mut_ptr(),
            &mut count,
        )
    };
    groups.truncate(if rc < 0 { 0 } else { count.max(0) as usize });
    Ok(Identity {
        uid: passwd.pw_uid,
        gid: passwd.pw_gid,
        groups,
    })
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
    fn root_is_uid_0_and_strangers_are_not_found() {
        let root = super::lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        let err = super::lookup("no-such-user-here-42").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
