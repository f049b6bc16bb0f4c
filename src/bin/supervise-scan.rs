//! `supervise-scan`: one of the three names of the one executable; what it runs is
//! chosen by the name it is run by (see [`supervise::entry`]). No Rust
//! runtime start: see [`supervise::sys::start`].

#![no_main]

/// The C entry point.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    supervise::entry::c_main()
}
