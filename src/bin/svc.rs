//! `svc`: control and inspect services run by supervise. See `svc --help`.

fn main() {
    std::process::exit(supervise::svc::main(std::env::args_os().skip(1)));
}
