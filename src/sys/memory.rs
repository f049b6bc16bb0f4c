//! Giving freed heap back to the kernel. Reading a large supervise.conf
//! (one shared by a thousand services) touches heap pages that malloc keeps
//! after they are freed; in a process that then lives for months, once per
//! service, that is the biggest item of its private memory.

/// Allocations from this size up get pages of their own (mmap), given back
/// when freed: the few large buffers supervise ever needs (stdio's for the
/// time zone file, a config file read) never leave the heap grown or
/// holed, and the heap keeps only what lives.
const OWN_PAGES_FROM: libc::c_int = 4096;

/// Sets malloc up for a process that lives for months with little on its
/// heap: large allocations mapped apart (see [`OWN_PAGES_FROM`]), no
/// padding when the heap grows, and free space at its top given back as
/// soon as it is a page.
pub fn lean_heap() {
    // SAFETY: mallopt only sets malloc's parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_PAGES_FROM);
        libc::mallopt(libc::M_TOP_PAD, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 4096);
    }
}

/// Returns free heap pages to the kernel (glibc `malloc_trim`).
pub fn release_free_heap() {
    // SAFETY: malloc_trim only walks malloc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
