//! The `control` and `ok` FIFOs: made if missing (mode 0600), refused if the
//! name is taken by something that is not a FIFO (reading a regular file would
//! spin on end-of-file for ever) or by a symlink, opened non-blocking and
//! close-on-exec; one that others may read or write is tightened.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::sys::stat::Mode;

/// Makes a FIFO at `path` unless one is already there.
pub fn make(path: &Path) -> io::Result<()> {
    match nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)).map_err(io::Error::from) {
        Ok(()) => Ok(()),
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
            .custom_flags(flags | libc::O_NONBLOCK | libc::O_NOFOLLOW)
            .open(path)
    };
    match open(libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(0),
        result => result,
    }
}

/// The permission bits of `file` if anyone but its owner may use it (a
/// reader could steal control bytes, a writer control the service).
pub fn loose_mode(file: &File) -> io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file.metadata()?.permissions().mode() & 0o7777;
    Ok((mode & 0o077 != 0).then_some(mode))
}

/// Sets `file`'s mode to 0600 (EPERM unless we own it).
pub fn tighten(file: &File) -> io::Result<()> {
    Ok(nix::sys::stat::fchmod(
        file,
        Mode::from_bits_truncate(0o600),
    )?)
}

/// Opens a write end; fails with ENXIO when nobody reads.
pub fn open_writer(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}
