//! Integration tests of the `svc` binary, by feature. Most run `svc` against
//! a fake supervise (this test process holding the status directory's FIFOs
//! and lock, reacting to control bytes as scripted); `real` runs it against
//! our supervise, `scan` against supervise-scan. Helpers live in
//! `svc/support.rs`.

#[path = "svc/support.rs"]
mod support;

#[path = "svc/errors.rs"]
mod errors;
#[path = "svc/flags.rs"]
mod flags;
#[path = "svc/history.rs"]
mod history;
#[path = "svc/listing.rs"]
mod listing;
#[path = "svc/metrics.rs"]
mod metrics;
#[path = "svc/migration.rs"]
mod migration;
#[path = "svc/original.rs"]
mod original;
#[path = "svc/real.rs"]
mod real;
#[path = "svc/revive.rs"]
mod revive;
#[path = "svc/roots.rs"]
mod roots;
#[path = "svc/scan.rs"]
mod scan;
#[path = "svc/verbs.rs"]
mod verbs;
#[path = "svc/why.rs"]
mod why;
