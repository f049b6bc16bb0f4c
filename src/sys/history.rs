//! The file system side of `history` (the rules are in `crate::history`):
//! reading its end, appending one line with one `write(2)`, replacing it
//! through `history.new`. Nothing here blocks: every open is `O_NONBLOCK`
//! and `O_NOFOLLOW`, and anything but a regular file in the file's place is
//! refused (a FIFO with no reader is ENXIO, never a hang).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// The file's name in the status directory.
pub const NAME: &str = "history";

fn regular(file: File) -> io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ))
    }
}

/// The last `max` bytes of `dir/history` and whether they are the whole
/// file; `None` when there is no file.
pub fn read_tail(dir: &Path, max: u64) -> io::Result<Option<(Vec<u8>, bool)>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOATIME)
        .open(dir.join(NAME));
    let mut file = match file {
        Ok(file) => regular(file)?,
        // O_NOATIME is refused on a file that is not ours: read it anyway.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => regular(
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
                .open(dir.join(NAME))?,
        )?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let from = len.saturating_sub(max);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::with_capacity((len - from) as usize);
    file.take(max).read_to_end(&mut tail)?;
    Ok(Some((tail, from == 0)))
}

/// Appends `line` (which ends in `\n`) with one write, created 0644. When a
/// crash left the file's last line without its `\n`, the write starts
/// with one, so that the new line stays whole.
pub fn append(dir: &Path, line: &str) -> io::Result<()> {
    let mut file = regular(
        std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o644)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir.join(NAME))?,
    )?;
    let len = file.metadata()?.len();
    let mut last = [b'\n'];
    if len > 0 {
        file.read_at(&mut last, len - 1)?;
    }
    let bytes = if last[0] == b'\n' {
        line.as_bytes().to_vec()
    } else {
        format!("\n{line}").into_bytes()
    };
    let n = file.write(&bytes)?;
    if n < bytes.len() {
        // The torn line is made whole by the next append's leading `\n`.
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
    }
    Ok(())
}

/// Replaces `dir/history` with `text`: `history.new` (a leftover one is
/// removed first), then a rename, as every file of the status directory is.
pub fn replace(dir: &Path, text: &str) -> io::Result<()> {
    crate::status::replace_file(dir, NAME, text.as_bytes())
}
