//! inotify: for the scanner's output forwarding and its start order (a
//! watch per status directory, and the names of the files that changed;
//! watch id -1: the queue overflowed, events were lost). supervise holds
//! none: a user has only `fs.inotify.max_user_instances` of them (128 by
//! default), and one per service would leave none for the scanner.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use nix::sys::inotify::{AddWatchFlags, InitFlags};

/// An inotify instance.
pub struct Inotify {
    fd: nix::sys::inotify::Inotify,
}

impl Inotify {
    /// A new, non-blocking, close-on-exec instance.
    pub fn new() -> io::Result<Inotify> {
        let fd = nix::sys::inotify::Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        Ok(Inotify { fd })
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_fd().as_raw_fd()
    }

    /// Watches `dir` for files written or created in it; returns the watch id.
    pub fn watch_dir(&self, dir: &Path) -> io::Result<i32> {
        self.watch(
            dir,
            AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO,
        )
    }

    /// Watches `dir` only for files renamed into it (an atomic replace, as
    /// of `status`); returns the watch id.
    pub fn watch_renames_into(&self, dir: &Path) -> io::Result<i32> {
        self.watch(dir, AddWatchFlags::IN_MOVED_TO)
    }

    fn watch(&self, path: &Path, mask: AddWatchFlags) -> io::Result<i32> {
        Ok(self.fd.add_watch(path, mask)?.as_raw())
    }

    /// Every pending event as (watch id, file name).
    pub fn read_events(&mut self) -> Vec<(i32, String)> {
        let mut events = Vec::new();
        // Until EAGAIN: one read returns at most a buffer's worth.
        while let Ok(batch) = self.fd.read_events() {
            if batch.is_empty() {
                break;
            }
            events.extend(batch.into_iter().map(|event| {
                let name = event.name.unwrap_or_default();
                (event.wd.as_raw(), name.to_string_lossy().into_owned())
            }));
        }
        events
    }
}
