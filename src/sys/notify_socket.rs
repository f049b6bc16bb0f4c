//! The receiving side of systemd's readiness protocol (`notify : systemd`):
//! a datagram socket of supervise's in the abstract namespace, named for
//! the service in `NOTIFY_SOCKET`. Every datagram carries its sender's
//! credentials (`SO_PASSCRED`), so that only the service's own processes
//! are heard. Reads never block and are bounded: at most
//! [`MAX_DATAGRAMS`] of at most [`MAX_DATAGRAM`] bytes a wake-up; a longer
//! datagram is dropped whole.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::check;

/// The longest datagram read; a longer one is dropped (systemd's own limit
/// is larger, but no message a service sends needs more).
pub const MAX_DATAGRAM: usize = 4096;

/// The most datagrams read per wake-up: a flood cannot starve the rest of
/// the loop.
pub const MAX_DATAGRAMS: usize = 32;

/// A bound socket and the value of `NOTIFY_SOCKET` that names it.
#[derive(Debug)]
pub struct Listener {
    socket: OwnedFd,
    address: OsString,
}

/// One datagram: its text and the sender's pid (0 when the kernel sent no
/// credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// The bytes.
    pub text: Vec<u8>,
    /// The sender's pid, as seen in our pid namespace.
    pub pid: u32,
}

impl Listener {
    /// Binds a fresh socket named `@supervise-notify-PID-N`.
    pub fn bind() -> io::Result<Listener> {
        // SAFETY: socket takes integer arguments and returns a new descriptor.
        let fd = check(unsafe {
            libc::socket(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        })?;
        // SAFETY: a fresh descriptor that nothing else owns.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads `on` for its size.
        check(unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        let now = super::clock::now().mono.as_nanos();
        let name = format!("supervise-notify-{}-{now}", std::process::id());
        // SAFETY: an all-zero sockaddr_un is a valid value of it.
        let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        address.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // sun_path[0] stays NUL: the abstract namespace.
        for (to, from) in address.sun_path[1..].iter_mut().zip(name.bytes()) {
            *to = from as libc::c_char;
        }
        let length = std::mem::size_of::<libc::sa_family_t>() + 1 + name.len();
        // SAFETY: the address is valid for `length` bytes.
        check(unsafe { libc::bind(fd, (&raw const address).cast(), length as libc::socklen_t) })?;
        Ok(Listener {
            socket,
            address: format!("@{name}").into(),
        })
    }

    /// The value of `NOTIFY_SOCKET` for the service.
    pub fn address(&self) -> &OsString {
        &self.address
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.socket.as_raw_fd()
    }

    /// The datagrams waiting, at most [`MAX_DATAGRAMS`]; too long ones and
    /// errors are skipped.
    pub fn receive(&self) -> Vec<Datagram> {
        let mut out = Vec::new();
        for _ in 0..MAX_DATAGRAMS {
            match self.receive_one() {
                Ok(Some(datagram)) => out.push(datagram),
                Ok(None) => continue, // dropped: too long
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break, // WouldBlock: drained
            }
        }
        out
    }

    fn receive_one(&self) -> io::Result<Option<Datagram>> {
        let mut buf = [0u8; MAX_DATAGRAM];
        // Room for one SCM_CREDENTIALS message (and a few descriptors a
        // sender may attach, which are closed at once).
        let mut control = [0u64; 16];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero msghdr is a valid value of it.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: every pointer in msg is valid for the lengths given.
        let n = unsafe {
            libc::recvmsg(
                self.socket.as_raw_fd(),
                &raw mut msg,
                libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut pid = 0;
        // SAFETY: the CMSG macros walk the control buffer recvmsg filled,
        // within msg_controllen; each header's data is read for its type.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
            while !cmsg.is_null() {
                let data = libc::CMSG_DATA(cmsg);
                if (*cmsg).cmsg_level == libc::SOL_SOCKET {
                    if (*cmsg).cmsg_type == libc::SCM_CREDENTIALS {
                        let cred: libc::ucred = std::ptr::read_unaligned(data.cast());
                        pid = cred.pid.max(0) as u32;
                    } else if (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                        let bytes = (*cmsg).cmsg_len as usize - (data as usize - cmsg as usize);
                        for i in 0..bytes / std::mem::size_of::<libc::c_int>() {
                            let fd: libc::c_int =
                                std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                            libc::close(fd);
                        }
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
            }
        }
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Ok(None);
        }
        Ok(Some(Datagram {
            text: buf[..n as usize].to_vec(),
            pid,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::notify::Notifier;

    #[test]
    fn a_datagram_arrives_with_its_senders_pid_and_a_long_one_is_dropped() {
        let listener = Listener::bind().unwrap();
        let address = listener.address().clone();
        assert!(address.to_string_lossy().starts_with("@supervise-notify-"));
        let notifier = Notifier::new(&address).unwrap();
        notifier.send("READY=1\nSTATUS=hi").unwrap();
        notifier.send(&"x".repeat(MAX_DATAGRAM + 1)).unwrap();
        notifier.send("WATCHDOG=1").unwrap();
        let got = listener.receive();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].text, b"READY=1\nSTATUS=hi");
        assert_eq!(got[0].pid, std::process::id());
        assert_eq!(got[1].text, b"WATCHDOG=1");
        assert!(listener.receive().is_empty());
    }
}
