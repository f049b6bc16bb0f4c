//! What Rust's runtime start does on Linux, for a `#![no_main]` program,
//! less the part that costs a supervise private memory for good: it reads
//! `/proc/self/maps` through stdio (`pthread_getattr_np`, to place a guard
//! for the main thread's stack), which leaves a page of `.bss` (stdio's
//! locks) and heap chunks written (16 kB per supervise, measured). What is
//! kept: descriptors 0, 1 and 2 are open (on /dev/null if they were
//! closed, so that nothing we open later lands there and gets our
//! messages), and SIGPIPE is ignored (a write to a closed pipe is an error,
//! not death). What is left out: the handler that turns a stack overflow
//! into a message (it is still a crash, SIGSEGV) and the main thread's name
//! in panic messages. Arguments need nothing: glibc hands them to std's
//! own `.init_array` function.

/// Call first thing in `main`, while the process has one thread.
pub fn init() {
    for fd in 0..3 {
        // SAFETY: fcntl on a descriptor number; open of a constant path.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF)
            {
                // The lowest free number: this very `fd`.
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
    }
    // SAFETY: setting a disposition to SIG_IGN has no memory arguments.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
