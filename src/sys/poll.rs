//! The one blocking call of the event loop: poll(2) on a few descriptors
//! until one is readable or the next deadline comes.

use std::io;
use std::time::Duration;

/// Waits until one of `fds` is readable or `timeout` passes (`None`: for
/// ever). Returns which descriptors are readable. EINTR counts as a wake-up.
pub fn wait(fds: &[i32], timeout: Option<Duration>) -> io::Result<Vec<bool>> {
    wait_for(fds, &[], timeout)
}

/// [`wait`] for `readable` descriptors and also for `writable` ones
/// (POLLOUT); returns which are ready, `readable` first.
pub fn wait_for(
    readable: &[i32],
    writable: &[i32],
    timeout: Option<Duration>,
) -> io::Result<Vec<bool>> {
    let interest = |events| {
        move |&fd| libc::pollfd {
            fd,
            events,
            revents: 0,
        }
    };
    let mut polls: Vec<libc::pollfd> = readable
        .iter()
        .map(interest(libc::POLLIN))
        .chain(writable.iter().map(interest(libc::POLLOUT)))
        .collect();
    // Round up so that a deadline is never woken for a moment too early.
    let ms = timeout.map_or(-1, |t| {
        let ms = t.as_nanos().div_ceil(1_000_000);
        ms.min(i32::MAX as u128) as libc::c_int
    });
    // SAFETY: polls is a valid array of pollfd of the given length.
    let rc = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(polls.iter().map(|p| p.revents != 0).collect())
}
