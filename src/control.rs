//! Control bytes (SPEC §4): the one place where a byte written to the
//! `control` FIFO becomes a typed [`Command`]. Pure; unknown bytes are `None`
//! and the caller ignores them.

/// A signal the operator asks supervise to pass on to the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildSignal {
    /// `h`
    Hup,
    /// `a`
    Alrm,
    /// `i`
    Int,
    /// `t`
    Term,
    /// `k`
    Kill,
}

impl ChildSignal {
    /// The signal number to send.
    pub fn number(self) -> i32 {
        match self {
            ChildSignal::Hup => libc::SIGHUP,
            ChildSignal::Alrm => libc::SIGALRM,
            ChildSignal::Int => libc::SIGINT,
            ChildSignal::Term => libc::SIGTERM,
            ChildSignal::Kill => libc::SIGKILL,
        }
    }

    /// Whether the child dying of this signal is the operator's doing (a
    /// restart or stop), not a failure.
    pub fn ends_the_child(self) -> bool {
        matches!(
            self,
            ChildSignal::Int | ChildSignal::Term | ChildSignal::Kill
        )
    }
}

/// One control command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `u`: want up.
    Up,
    /// `d`: want down.
    Down,
    /// `o`: run once.
    Once,
    /// `x`: exit once the service is down.
    Exit,
    /// `p`: SIGSTOP the child.
    Pause,
    /// `c`: SIGCONT the child.
    Continue,
    /// `h` `a` `i` `t` `k`: pass a signal on.
    Signal(ChildSignal),
    /// `s`: silence alarms.
    SilenceAlarms,
    /// `n`: re-enable alarms.
    EnableAlarms,
    /// `r`: re-read the config file.
    Reload,
}

impl Command {
    /// The command a control byte stands for, if any.
    pub fn from_byte(byte: u8) -> Option<Command> {
        Some(match byte {
            b'u' => Command::Up,
            b'd' => Command::Down,
            b'o' => Command::Once,
            b'x' => Command::Exit,
            b'p' => Command::Pause,
            b'c' => Command::Continue,
            b'h' => Command::Signal(ChildSignal::Hup),
            b'a' => Command::Signal(ChildSignal::Alrm),
            b'i' => Command::Signal(ChildSignal::Int),
            b't' => Command::Signal(ChildSignal::Term),
            b'k' => Command::Signal(ChildSignal::Kill),
            b's' => Command::SilenceAlarms,
            b'n' => Command::EnableAlarms,
            b'r' => Command::Reload,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_byte_is_a_command_and_nothing_else_is() {
        let known: Vec<u8> = (0..=255u8)
            .filter(|b| Command::from_byte(*b).is_some())
            .collect();
        assert_eq!(known, b"acdhiknoprstux".to_vec());
    }

    #[test]
    fn signals_map_to_their_numbers() {
        let table = [
            (b'h', libc::SIGHUP),
            (b'a', libc::SIGALRM),
            (b'i', libc::SIGINT),
            (b't', libc::SIGTERM),
            (b'k', libc::SIGKILL),
        ];
        for (byte, number) in table {
            match Command::from_byte(byte) {
                Some(Command::Signal(sig)) => assert_eq!(sig.number(), number),
                other => panic!("{} gave {other:?}", byte as char),
            }
        }
    }
}
