//! The scanner's standard output and error, which must never block it: a
//! reader that stalls (`docker logs` paused, a full pipe) would otherwise
//! stop it reaping and obeying SIGTERM. Each becomes a [`Sink`] that writes
//! without blocking: a private, non-blocking description of the same pipe
//! or terminal (setting O_NONBLOCK on the shared one would hand it to every
//! other process writing there, whose writes would then fail), `send` with
//! MSG_DONTWAIT on a socket (journald), a plain write to a regular file.
//!
//! And descriptors 1 and 2 themselves become a pipe the scanner reads
//! ([`capture`]): every supervise inherits them, so a stalled reader cannot
//! block a supervise at its start either; the scanner passes their lines
//! on through its own sinks. A panic message goes to the old stderr.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

use super::check;

/// How a sink writes without blocking.
#[derive(Debug)]
enum Kind {
    /// Its own description of a pipe, FIFO or terminal, with O_NONBLOCK.
    Nonblocking,
    /// A socket: `send` with MSG_DONTWAIT.
    Socket,
    /// A regular file (or anything else): a write does not wait for a
    /// reader.
    Plain,
    /// Not open, or a FIFO with no reader: every write fails with EPIPE.
    Closed,
}

/// Somewhere the scanner writes without ever blocking.
#[derive(Debug)]
pub struct Sink {
    kind: Kind,
    fd: Option<OwnedFd>,
}

impl Sink {
    /// A sink for what descriptor `fd` is now.
    pub fn of(fd: RawFd) -> Sink {
        let closed = Sink {
            kind: Kind::Closed,
            fd: None,
        };
        let Ok(dup) = duplicate(fd) else {
            return closed;
        };
        let file = File::from(dup);
        let Ok(meta) = file.metadata() else {
            return closed;
        };
        let kind = meta.file_type();
        if kind.is_fifo() || kind.is_char_device() {
            let private = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
                .open(format!("/proc/self/fd/{fd}"));
            return match private {
                Ok(private) => Sink {
                    kind: Kind::Nonblocking,
                    fd: Some(private.into()),
                },
                // A FIFO nobody reads.
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => closed,
                // No /proc: the shared description, as it is. It may
                // block, but output is not lost.
                Err(_) => Sink {
                    kind: Kind::Plain,
                    fd: Some(file.into()),
                },
            };
        }
        Sink {
            kind: if kind.is_socket() {
                Kind::Socket
            } else {
                Kind::Plain
            },
            fd: Some(file.into()),
        }
    }

    /// Writes what it can of `bytes` now; `WouldBlock` when nothing can be.
    pub fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let Some(fd) = &self.fd else {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        };
        let fd = fd.as_raw_fd();
        // SAFETY: `bytes` is valid for its length; the descriptor is ours.
        let n = unsafe {
            match self.kind {
                Kind::Socket => libc::send(
                    fd,
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                ),
                _ => libc::write(fd, bytes.as_ptr().cast(), bytes.len()),
            }
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// The descriptor to poll for POLLOUT while writes would block.
    pub fn raw_fd(&self) -> Option<RawFd> {
        match self.kind {
            Kind::Nonblocking | Kind::Socket => self.fd.as_ref().map(AsRawFd::as_raw_fd),
            Kind::Plain | Kind::Closed => None,
        }
    }
}

/// What [`capture`] returns.
pub struct Captured {
    /// What stdout was.
    pub stdout: Sink,
    /// What stderr was.
    pub stderr: Sink,
    /// The read end of the pipe that descriptors 1 and 2 now are
    /// (non-blocking, close-on-exec).
    pub pipe: File,
}

/// Makes sinks of stdout and stderr as they are, then makes descriptors 1
/// and 2 a pipe whose read end is returned: children inherit the pipe.
pub fn capture() -> io::Result<Captured> {
    let stdout = Sink::of(1);
    let stderr = Sink::of(2);
    // A panic message written to descriptor 2 would now go into the pipe,
    // unread: it goes where stderr was, without blocking.
    let panics: &'static Sink = Box::leak(Box::new(Sink::of(2)));
    std::panic::set_hook(Box::new(move |info| {
        let _ = panics.write(format!("supervise-scan: {info}\n").as_bytes());
    }));
    let (read, write) = super::pipe(true)?;
    let read = File::from(read);
    // The write end is for the children: blocking, as a pipe they were
    // given would be.
    super::set_nonblocking(write.as_fd(), false)?;
    // Replaces 1 and 2: their old descriptions live on in the sinks.
    nix::unistd::dup2_stdout(&write)?;
    nix::unistd::dup2_stderr(&write)?;
    Ok(Captured {
        stdout,
        stderr,
        pipe: read,
    })
}

/// A close-on-exec duplicate of `fd`.
fn duplicate(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor, which we own.
    let new = check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: fresh.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_pipe_sink_never_blocks_and_reports_a_full_pipe() {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let sink = Sink::of(writer.as_raw_fd());
        assert!(matches!(sink.kind, Kind::Nonblocking));
        assert!(sink.raw_fd().is_some());
        let chunk = [b'x'; 4096];
        let mut written = 0;
        loop {
            match sink.write(&chunk) {
                Ok(n) => written += n,
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                    break;
                }
            }
            assert!(written < 16 << 20, "a pipe holds less than that");
        }
        // The shared description was left blocking.
        // SAFETY: F_GETFL on a descriptor we own.
        let flags = unsafe { libc::fcntl(writer.as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0);
        let mut got = vec![0; written];
        reader.read_exact(&mut got).unwrap();
        drop(reader);
        let e = sink.write(b"gone").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
    }

    #[test]
    fn a_file_sink_writes_plainly() {
        let path = std::env::temp_dir().join(format!("stdio-test-{}", std::process::id()));
        let file = File::create(&path).unwrap();
        let sink = Sink::of(file.as_raw_fd());
        assert!(matches!(sink.kind, Kind::Plain));
        assert_eq!(sink.raw_fd(), None);
        assert_eq!(sink.write(b"hello\n").unwrap(), 6);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_closed_descriptor_is_a_closed_sink() {
        let sink = Sink::of(-1);
        assert!(matches!(sink.kind, Kind::Closed));
        assert_eq!(
            sink.write(b"x").unwrap_err().raw_os_error(),
            Some(libc::EPIPE)
        );
    }
}
