//! The one error type of husk: the option or step at fault, up to two operands (and a
//! number), and an errno or a reason of husk's own. Printed as one line,
//! `husk: <what> [<operand>...]: <reason or errno text>`, with what came from the user
//! escaped, by the process in which the failure happened (a parent learns only the exit
//! status).

use crate::report::Line;
use crate::sys::Errno;
use core::ffi::CStr;

#[derive(Debug, PartialEq, Eq)]
pub struct Error<'a> {
    /// The option as given (`--ro-bind`) or the step (`pivot_root (staging)`).
    pub what: &'a [u8],
    pub operands: [Option<&'a [u8]>; 2],
    /// A numeric operand (a descriptor), after the others.
    pub number: Option<i32>,
    pub why: Why<'a>,
}

/// What the message ends with. One or the other, never both: as an enum it takes the 16
/// bytes of the reason alone, and every `?` across husk copies the error (72 bytes instead
/// of 80 saved 704 bytes of code).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Why<'a> {
    /// Its text (`No such file or directory`).
    Errno(Errno),
    /// Words of husk's own (or a helper's) instead of an errno text.
    Reason(&'a [u8]),
}

pub type Result<'a, T> = core::result::Result<T, Error<'a>>;

impl<'a> Error<'a> {
    pub fn new(what: &'a [u8], errno: Errno) -> Self {
        Error {
            what,
            operands: [None, None],
            number: None,
            why: Why::Errno(errno),
        }
    }

    /// A failure husk finds itself (a bad option, a refused layout): `reason` says why.
    pub fn refused(what: &'a [u8], reason: &'a [u8]) -> Self {
        Error {
            what,
            operands: [None, None],
            number: None,
            why: Why::Reason(reason),
        }
    }

    pub fn because(self, reason: &'a [u8]) -> Self {
        Error {
            why: Why::Reason(reason),
            ..self
        }
    }

    /// Adds an operand (a value or path as given).
    pub fn with_bytes(mut self, operand: &'a [u8]) -> Self {
        let slot = usize::from(self.operands[0].is_some());
        self.operands[slot] = Some(operand);
        self
    }

    pub fn with(self, operand: &'a CStr) -> Self {
        self.with_bytes(operand.to_bytes())
    }

    /// A number (a descriptor) as the operand.
    pub fn with_number(self, n: i32) -> Self {
        Error {
            number: Some(n),
            ..self
        }
    }

    /// Never inlined: the errno texts are unpacked in its frame.
    #[inline(never)]
    pub fn report(&self) {
        let mut texts = [0u8; crate::text::TEXT_LEN];
        let mut line = Line::new();
        line.push_escaped(self.what);
        for operand in self.operands.iter().flatten() {
            line.push(b" ").push_escaped(operand);
        }
        if let Some(n) = self.number {
            line.push(b" ").num(n.into());
        }
        line.push(b": ")
            .push_escaped(match self.why {
                Why::Reason(reason) => reason,
                Why::Errno(errno) => crate::text::errno_text(errno, &mut texts),
            })
            .print();
    }
}

/// The errno of a step, as an error naming the step.
pub fn step<'a, T>(r: core::result::Result<T, Errno>, what: &'a [u8]) -> Result<'a, T> {
    r.map_err(|e| Error::new(what, e))
}
