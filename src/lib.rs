//! supervise: a drop-in successor to the C `supervise` (daemontools family).
//!
//! The tree is the architecture: pure decision code ([`supervisor`],
//! [`control`], [`status`] encoding, [`conf`], [`cli`], [`writes`]) never makes a system
//! call; [`sys`] holds every `unsafe` block and system call; [`driver`] waits on
//! file descriptors and deadlines and turns them into inputs for the
//! supervisor, then carries out the effects it returns.

pub mod alarm;
pub mod backoff;
pub mod cli;
pub mod conf;
pub mod control;
pub mod driver;
pub mod duration;
pub mod entry;
pub mod events;
pub mod history;
pub mod info;
pub mod logpipe;
pub mod metrics;
pub mod ready;
pub mod scan;
pub mod status;
pub mod statusdir;
pub mod supervisor;
pub mod svc;
pub mod sys;
pub mod words;
pub mod writes;
