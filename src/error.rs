//! The one error type of husk: the option or step at fault, up to two operands (and a
//! number), and an errno or a reason of husk's own. Printed as one line,
//! `husk: <what> [<operand>...]: <reason or errno text>`, with what came from the user
//! escaped, by the process in which the failure happened (a parent learns only the exit
//! status).

use crate::report::Line;
use crate::sys::Errno;
use crate::text::Text;
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

/// What the message ends with: a packed text (an errno's, or husk's own), or words given.
/// As an enum of the two it takes the 16 bytes of the words alone, and every `?` across
/// husk copies the error.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Why<'a> {
    /// `No such file or directory`, or a message of husk's own (`text!`).
    Text(Text),
    /// Words of husk's own (or a helper's).
    Reason(&'a [u8]),
}

impl<'a> From<&'a [u8]> for Why<'a> {
    fn from(reason: &'a [u8]) -> Self {
        Why::Reason(reason)
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for Why<'a> {
    fn from(reason: &'a [u8; N]) -> Self {
        Why::Reason(reason)
    }
}

impl From<Text> for Why<'_> {
    fn from(text: Text) -> Self {
        Why::Text(text)
    }
}

pub type Result<'a, T> = core::result::Result<T, Error<'a>>;

impl<'a> Error<'a> {
    pub fn new(what: &'a [u8], errno: Errno) -> Self {
        Error {
            what,
            operands: [None, None],
            number: None,
            why: Why::Text(Text::Errno(errno)),
        }
    }

    /// A failure husk finds itself (a bad option, a refused layout): `reason` says why.
    pub fn refused(what: &'a [u8], reason: impl Into<Why<'a>>) -> Self {
        Error {
            what,
            operands: [None, None],
            number: None,
            why: reason.into(),
        }
    }

    pub fn because(self, reason: impl Into<Why<'a>>) -> Self {
        Error {
            why: reason.into(),
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

    /// Never inlined: the texts are unpacked in its frame.
    #[inline(never)]
    pub fn report(&self) {
        let mut texts = [0u8; crate::text::TEXT_LEN];
        let mut line = Line::new();
        // A fault in a --config file: the file and the line first.
        if let (true, Some((path, n))) = (crate::SANDBOX, crate::config::at()) {
            line.push_escaped(path).push(b":").num(n.into());
            if !self.what.is_empty() {
                line.push(b": ");
            }
        }
        line.push_escaped(self.what);
        for operand in self.operands.iter().flatten() {
            line.push(b" ").push_escaped(operand);
        }
        if let Some(n) = self.number {
            line.push(b" ").num(n.into());
        }
        line.push(b": ")
            .push_escaped(self.words(&mut texts))
            .print();
    }

    /// The end of the message: the reason, or the text unpacked into `texts`.
    pub fn words<'b>(&'b self, texts: &'b mut [u8; crate::text::TEXT_LEN]) -> &'b [u8] {
        match self.why {
            Why::Reason(reason) => reason,
            Why::Text(text) => crate::text::get(text, texts),
        }
    }
}

/// Reports `what operand: <reason, or the errno's text>`. Never inlined, and the error
/// built in one piece (each of Error's builders copies it whole): the one copy for the
/// sandbox's `die_with` and the machine's set-up.
#[inline(never)]
pub fn report_about(what: &[u8], e: Errno, operand: &CStr, reason: Option<Text>) {
    let base = Error::new(what, e);
    Error {
        operands: [Some(operand.to_bytes()), None],
        why: reason.map_or(base.why, Why::Text),
        ..base
    }
    .report()
}

/// The errno of a step, as an error naming the step.
pub fn step<'a, T>(r: core::result::Result<T, Errno>, what: &'a [u8]) -> Result<'a, T> {
    r.map_err(|e| Error::new(what, e))
}
