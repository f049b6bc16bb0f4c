//! The 20-byte `status` file of SPEC §3: its encoding, decoding, and the
//! atomic write (`status.new`, then rename) that readers such as `svc` and
//! `od -An -j16 -N4 -tu4 status` rely on. Encoding is pure; only
//! [`write_atomically`] and [`read`] touch the file system.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// Size of the status file in bytes.
pub const LEN: usize = 20;

/// TAI64 labels count from 2^62, and TAI ran 10 s ahead of UTC in 1970.
const TAI64_BASE: u64 = (1 << 62) + 10;

/// What the service wants, byte 13 of the status file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// `u`: keep it running.
    Up,
    /// `d`: keep it down.
    Down,
    /// `o`: ran once; do not restart (stored as byte 0).
    Once,
}

impl Want {
    fn to_byte(self) -> u8 {
        match self {
            Want::Up => b'u',
            Want::Down => b'd',
            Want::Once => 0,
        }
    }

    fn from_byte(byte: u8) -> Want {
        match byte {
            b'u' => Want::Up,
            b'd' => Want::Down,
            _ => Want::Once,
        }
    }
}

/// The decoded contents of a status file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Wall-clock time of the last pid change, since the Unix epoch.
    pub since: Duration,
    /// Byte 12: the service is paused (`p`) and running.
    pub paused: bool,
    /// Byte 13.
    pub want: Want,
    /// Byte 14: `o` when alarms are on, `x` when silenced.
    pub alarms_on: bool,
    /// Bytes 16..20: the child's pid, 0 when the service is down.
    pub pid: u32,
}

impl Status {
    /// The 20 bytes of SPEC §3.
    pub fn encode(&self) -> [u8; LEN] {
        let mut bytes = [0u8; LEN];
        let tai = TAI64_BASE.wrapping_add(self.since.as_secs());
        bytes[0..8].copy_from_slice(&tai.to_be_bytes());
        bytes[8..12].copy_from_slice(&self.since.subsec_nanos().to_be_bytes());
        bytes[12] = u8::from(self.paused);
        bytes[13] = self.want.to_byte();
        bytes[14] = if self.alarms_on { b'o' } else { b'x' };
        bytes[15] = 0;
        bytes[16..20].copy_from_slice(&self.pid.to_le_bytes());
        bytes
    }

    /// Reads 20 bytes written by us or by the original C supervise.
    pub fn decode(bytes: &[u8; LEN]) -> Status {
        let tai = u64::from_be_bytes(bytes[0..8].try_into().expect("8 bytes"));
        let nanos = u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let secs = tai.saturating_sub(TAI64_BASE);
        Status {
            since: Duration::new(secs, nanos.min(999_999_999)),
            paused: bytes[12] != 0,
            want: Want::from_byte(bytes[13]),
            alarms_on: bytes[14] != b'x',
            pid: u32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes")),
        }
    }
}

/// Writes `status.new` in `dir` and renames it over `status`, so a reader
/// never sees a partial file.
///
/// `status.new` is always a file of our own, new: whatever has the name is
/// unlinked first (a symlink planted there is removed, never followed; its
/// target is not touched), then the file is created with `O_EXCL` and
/// `O_NOFOLLOW`, so no existing file is ever reused or truncated. A failed
/// write removes it again; the caller retries.
pub fn write_atomically(dir: &Path, status: &Status) -> io::Result<()> {
    replace_file(dir, "status", &status.encode())
}

/// Replaces `dir/name` by `bytes` as a whole: written to `name.new` (a new
/// file: whatever has that name is unlinked first, and it is created with
/// `O_EXCL|O_NOFOLLOW`), then renamed over `name`.
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.new"));
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| std::fs::rename(&tmp, dir.join(name)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Why a status file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read.
    Io(io::Error),
    /// The file holds fewer than 20 bytes (empty while the original starts).
    Short(usize),
}

/// Reads and decodes `dir/status`.
pub fn read(dir: &Path) -> Result<Status, ReadError> {
    let bytes = std::fs::read(dir.join("status")).map_err(ReadError::Io)?;
    let exact: &[u8; LEN] = bytes
        .get(..LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(ReadError::Short(bytes.len()))?;
    Ok(Status::decode(exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Status {
        Status {
            since: Duration::new(1_764_170_000, 123_456_789),
            paused: false,
            want: Want::Up,
            alarms_on: true,
            pid: 0x0102_0304,
        }
    }

    #[test]
    fn layout_matches_spec_section_3() {
        let bytes = sample().encode();
        let tai = (1u64 << 62) + 10 + 1_764_170_000;
        assert_eq!(&bytes[0..8], &tai.to_be_bytes());
        assert_eq!(&bytes[8..12], &123_456_789u32.to_be_bytes());
        assert_eq!(bytes[12], 0);
        assert_eq!(bytes[13], b'u');
        assert_eq!(bytes[14], b'o');
        assert_eq!(bytes[15], 0);
        assert_eq!(&bytes[16..20], &[4, 3, 2, 1], "pid is little-endian");
    }

    #[test]
    fn flag_bytes() {
        let status = Status {
            paused: true,
            want: Want::Once,
            alarms_on: false,
            ..sample()
        };
        let bytes = status.encode();
        assert_eq!((bytes[12], bytes[13], bytes[14]), (1, 0, b'x'));
        assert_eq!(
            Status {
                want: Want::Down,
                ..sample()
            }
            .encode()[13],
            b'd'
        );
    }

    #[test]
    fn status_new_never_follows_a_planted_symlink() {
        let dir = std::env::temp_dir().join(format!("status-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("status.new")).unwrap();
        write_atomically(&dir, &sample()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(dir.join("status")).unwrap();
        assert!(meta.file_type().is_file() && meta.len() == LEN as u64);
        assert_eq!(read(&dir).unwrap(), sample());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn decode_inverts_encode() {
        for want in [Want::Up, Want::Down, Want::Once] {
            let status = Status {
                want,
                paused: true,
                ..sample()
            };
            assert_eq!(Status::decode(&status.encode()), status);
        }
    }
}
