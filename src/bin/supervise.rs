//! `supervise`: one of the three names of the one executable; what it runs is
//! chosen by the name it is run by (see [`supervise::entry`]).

fn main() {
    std::process::exit(supervise::entry::main());
}
