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

/// The glibc tunable that turns malloc's per-thread cache off. Small chunks
/// freed into it are never given back (`malloc_trim` leaves them): for a
/// supervise, 8 KiB of its heap. It can only be set in the environment a
/// program starts with, so the scanner sets it for its supervise (see
/// [`lean_malloc_env`]), which take it out again (see [`forget_lean_env`]).
const TCACHE_OFF: &str = "glibc.malloc.tcache_count=0";

/// Says that the scanner, not the user, set `GLIBC_TUNABLES`.
const LEAN_MARK: &str = "SUPERVISE_LEAN_MALLOC";

/// The variables the scanner adds to the environment of a supervise when
/// nobody set `GLIBC_TUNABLES` (neither the scanner's environment nor the
/// service's `env`, given as `set`).
pub fn lean_malloc_env(set: &[(String, String)]) -> Vec<(String, String)> {
    let taken = std::env::var_os("GLIBC_TUNABLES").is_some()
        || set.iter().any(|(k, _)| k == "GLIBC_TUNABLES");
    if taken {
        return Vec::new();
    }
    vec![
        ("GLIBC_TUNABLES".to_owned(), TCACHE_OFF.to_owned()),
        (LEAN_MARK.to_owned(), "1".to_owned()),
    ]
}

/// Takes what [`lean_malloc_env`] added out of our environment, so that
/// the service and the helpers supervise starts do not inherit it. Call it
/// first, while the process has one thread.
pub fn forget_lean_env() {
    if std::env::var_os(LEAN_MARK).is_none() {
        return;
    }
    // SAFETY: supervise has one thread, and nothing reads the environment
    // meanwhile.
    unsafe {
        std::env::remove_var(LEAN_MARK);
        if std::env::var_os("GLIBC_TUNABLES").is_some_and(|v| v == TCACHE_OFF) {
            std::env::remove_var("GLIBC_TUNABLES");
        }
    }
}

/// Returns free heap pages to the kernel (glibc `malloc_trim`).
pub fn release_free_heap() {
    // SAFETY: malloc_trim only walks malloc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
