//! sd_notify, the sending side of systemd's readiness protocol, as a
//! `Type=notify` service speaks it: `NOTIFY_SOCKET` names a datagram socket
//! (a path, or `@name` in the abstract namespace), and each message is one
//! datagram of `KEY=VALUE` lines (`READY=1`, `STOPPING=1`). Written here on
//! `sendto(2)`, without libsystemd; a send never blocks.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use super::check;

/// The variable that names the socket.
pub const VARIABLE: &str = "NOTIFY_SOCKET";

/// Takes [`VARIABLE`] out of this process's environment, so that nothing it
/// starts inherits it (a service that speaks sd_notify would otherwise talk
/// to our supervisor), and returns its value. Call it before any thread
/// exists.
pub fn take_from_environment() -> Option<OsString> {
    let value = std::env::var_os(VARIABLE)?;
    // SAFETY: the scanner calls this first thing in main, when it has no
    // other thread that could read the environment at the same time.
    unsafe { std::env::remove_var(VARIABLE) };
    Some(value)
}

/// `sun_path`'s bytes for the value of `NOTIFY_SOCKET`: a path as it is,
/// `@name` as a NUL and the name; or what is wrong with it.
pub fn socket_path(address: &[u8]) -> Result<Vec<u8>, &'static str> {
    const SUN_PATH: usize = 108;
    match address.first() {
        Some(b'/') if address.len() < SUN_PATH && !address.contains(&0) => Ok(address.to_vec()),
        Some(b'@') if address.len() > 1 && address.len() <= SUN_PATH => {
            let mut path = address.to_vec();
            path[0] = 0;
            Ok(path)
        }
        Some(b'/' | b'@') => Err("too long for a socket address"),
        _ => Err("not a path or @name"),
    }
}

/// A datagram socket that sends to one address.
#[derive(Debug)]
pub struct Notifier {
    socket: OwnedFd,
    address: libc::sockaddr_un,
    length: libc::socklen_t,
}

impl Notifier {
    /// A socket for the address in `NOTIFY_SOCKET`'s value.
    pub fn new(address: &OsStr) -> io::Result<Notifier> {
        let path = socket_path(address.as_bytes())
            .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
        // SAFETY: an all-zero sockaddr_un is a valid value of it.
        let mut sockaddr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        sockaddr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (to, from) in sockaddr.sun_path.iter_mut().zip(&path) {
            *to = *from as libc::c_char;
        }
        // The family, then the path; an abstract name has no NUL after it.
        let length = std::mem::size_of::<libc::sa_family_t>() + path.len();
        // SAFETY: socket takes integer arguments and returns a new
        // descriptor (or -1).
        let fd = check(unsafe {
            libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
        })?;
        Ok(Notifier {
            // SAFETY: a fresh descriptor that nothing else owns.
            socket: unsafe { OwnedFd::from_raw_fd(fd) },
            address: sockaddr,
            length: length as libc::socklen_t,
        })
    }

    /// Sends one message, without blocking (a full socket is an error).
    pub fn send(&self, message: &str) -> io::Result<()> {
        // SAFETY: the buffer and the address are valid for the call, the
        // address for `length` bytes.
        let sent = unsafe {
            libc::sendto(
                self.socket.as_raw_fd(),
                message.as_ptr().cast(),
                message.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                (&raw const self.address).cast(),
                self.length,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    #[test]
    fn addresses() {
        assert_eq!(socket_path(b"/run/x.sock"), Ok(b"/run/x.sock".to_vec()));
        assert_eq!(socket_path(b"@name"), Ok(b"\0name".to_vec()));
        for bad in [&b""[..], b"relative", b"@", b"vsock:2:3", b"/a\0b"] {
            assert!(socket_path(bad).is_err(), "{bad:?}");
        }
        assert!(socket_path(&[b'/'; 108]).is_err());
        assert!(socket_path(&[b'/'; 107]).is_ok());
    }

    #[test]
    fn a_datagram_reaches_a_path_and_an_abstract_socket() {
        let dir = std::env::temp_dir().join(format!("notify-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("n.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        Notifier::new(path.as_os_str())
            .unwrap()
            .send("READY=1")
            .unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let name = format!("notify-test-{}", std::process::id());
        let listener =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        let notifier = Notifier::new(OsStr::new(&format!("@{name}"))).unwrap();
        notifier.send("STOPPING=1").unwrap();
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
        // Nobody listening: an error, not a block.
        drop(listener);
        assert!(notifier.send("READY=1").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
