//! The verb-first form, `svc [-d ROOT] start|stop|restart|reconf|exit
//! NAME...`: the original verb on each service in turn, in the order given,
//! each with its own `-w` deadline. Exits with the first failure's code, as
//! the daemontools form does; a signal stops the round.

use std::time::{Duration, Instant};

use super::cli::{Operand, Verb};
use super::code::Form;
use super::dir;
use super::root::Root;
use super::run;
use super::verbs;

/// Runs `verb` on every operand; returns 0 or the first failure's code.
pub fn each(verb: Verb, operands: &[Operand], root: &Root, wait: Duration) -> i32 {
    run::each(operands, Form::Extended, |operand| {
        let dir = root.resolve(operand, &dir::is_dir);
        let result = verbs::run(&dir, verb, wait, Instant::now() + wait);
        (dir, result)
    })
}
