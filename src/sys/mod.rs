//! The thin OS layer: every system call and every `unsafe` block of the
//! program lives below this module, each file named for what it touches.
//! Nothing here decides policy; the supervisor decides, this layer acts.

pub mod lock;
