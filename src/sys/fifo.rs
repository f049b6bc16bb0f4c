//! The `control` and `ok` FIFOs: made if missing (mode 0600), refused if the
//! name is taken by something that is not a FIFO (reading a regular file would
//! spin on end-of-file for ever), opened non-blocking and close-on-exec.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::check;

/// Makes a FIFO at `path` unless one is already there.
pub fn make(path: &Path) -> io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: c_path is a valid C string for the duration of the call.
    match check(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if std::fs::symlink_metadata(path)?.file_type().is_fifo() {
                Ok(())
            } else {
                Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a FIFO",
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// Opens the read end without waiting for a writer.
///
/// Without access-time updates where the kernel allows it (we own the FIFO,
/// as when we made it): a writer's byte changes the FIFO's mtime, so under
/// `relatime` every read would otherwise dirty the inode and start a
/// journal transaction before the command is even seen.
pub fn open_reader(path: &Path) -> io::Result<File> {
    let open = |flags| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
    };
    match open(libc::O_NONBLOCK | libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(libc::O_NONBLOCK),
        result => result,
    }
}

/// Opens a write end; fails with ENXIO when nobody reads.
pub fn open_writer(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}
