//! Giving freed heap back to the kernel. Reading a large supervise.conf
//! (one shared by a thousand services) touches heap pages that malloc keeps
//! after they are freed; in a process that then lives for months, once per
//! service, that is the biggest item of its private memory.

/// Returns free heap pages to the kernel (glibc `malloc_trim`).
pub fn release_free_heap() {
    // SAFETY: malloc_trim only walks malloc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
