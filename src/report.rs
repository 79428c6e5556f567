//! Everything husk prints: one-line messages on stderr assembled in a stack buffer and
//! written with a single write(2), so lines from several processes never interleave.
//! No core::fmt: numbers are formatted by hand. The line cuts what does not fit (a message
//! is better cut than lost); bytes that must be whole go in a `buf::Buf`.

const CAP: usize = 4608; // PATH_MAX plus room for the option and the reason

pub struct Line {
    buf: [u8; CAP],
    len: usize,
}

impl Line {
    /// A line starting with "husk: ".
    pub fn new() -> Self {
        let mut line = Self::empty();
        line.push(b"husk: ");
        line
    }

    /// An empty buffer, for output that is not a message (JSON status, proc files).
    pub fn empty() -> Self {
        Line {
            buf: [0; CAP],
            len: 0,
        }
    }

    /// Appends bytes; what does not fit is cut, keeping room for the newline.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        let room = CAP - 1 - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
        self
    }

    /// Appends a value from the command line or a path, with control characters and
    /// backslashes escaped (`\n`, `\x1b`, `\\`), so a message stays one line.
    pub fn push_escaped(&mut self, s: &[u8]) -> &mut Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Set on the first byte of a two-byte C1 control, so the second is escaped too.
        let mut c1 = false;
        for (i, &b) in s.iter().enumerate() {
            let control = c1 || is_control(&s[i..]);
            c1 = b == 0xc2 && control;
            let hex = [b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]];
            // One push for every case (each its own call was longer code).
            self.push(match b {
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\t' => b"\\t",
                _ if control => &hex,
                _ => core::slice::from_ref(&s[i]),
            });
        }
        self
    }

    pub fn num(&mut self, n: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        if n < 0 {
            self.push(b"-");
        }
        let s = crate::num::format(n.unsigned_abs(), &mut digits);
        self.push(s)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Writes the line and a newline to stderr.
    pub fn print(&mut self) {
        self.write_line(2);
    }

    /// Writes the line and a newline to `fd`.
    pub fn write_line(&mut self, fd: i32) {
        self.buf[self.len] = b'\n';
        write_all(fd, &self.buf[..self.len + 1]);
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `s` starts with a control character: C0, DEL, or a C1 control in UTF-8
/// (U+0080-U+009F, bytes C2 80-C2 9F: a terminal takes C2 9B as CSI).
pub fn is_control(s: &[u8]) -> bool {
    matches!(s, [0..=0x1f | 0x7f, ..] | [0xc2, 0x80..=0x9f, ..])
}

/// `husk: <parts...>`.
pub fn say(parts: &[&[u8]]) {
    let mut line = Line::new();
    for part in parts {
        line.push(part);
    }
    line.print();
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR; other errors are dropped
/// (there is nowhere left to report them).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    // SAFETY: fd is a descriptor number the caller names; it is only borrowed for the write.
    let fd = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                if e == rustix::io::Errno::PIPE {
                    // The write raised SIGPIPE at husk itself (blocked, so pending): it is
                    // husk's own, not a signal to forward to COMMAND. Take it now.
                    let pipe = crate::sys::sigbit(linux_raw_sys::general::SIGPIPE as i32);
                    crate::sys::sigtimedwait(pipe, Some(0));
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        let mut line = Line::empty();
        line.push_escaped(b"a\nb\x1b\xc2\x9b\xc3\xa9\\");
        assert_eq!(line.as_bytes(), b"a\\nb\\x1b\\xc2\\x9b\xc3\xa9\\\\");
    }

    #[test]
    fn line_is_cut_not_overflowed() {
        let mut line = Line::new();
        line.push(&[b'x'; 10000]).num(-5);
        assert_eq!(line.len, CAP - 1);
    }
}
