//! The one checked stack buffer for paths and bytes husk composes (proc paths, id maps,
//! mount options): what does not fit is an error (ENAMETOOLONG), never a cut. The bytes
//! after the content are always zero, so the content is also a C string.

use crate::sys::Errno;
use core::ffi::CStr;

pub const PATH_MAX: usize = 4096;

pub struct Buf<const N: usize = PATH_MAX> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    pub fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }

    /// Empties the buffer for reuse.
    pub fn clear(&mut self) {
        self.bytes[..self.len].fill(0);
        self.len = 0;
    }

    /// Appends `s`; fails, leaving the buffer as it was, when it and the final NUL do not fit.
    pub fn push(&mut self, s: &[u8]) -> Result<&mut Self, Errno> {
        append(&mut self.bytes, &mut self.len, s).map(|()| self)
    }

    /// Appends `n` in decimal.
    pub fn num(&mut self, n: i64) -> Result<&mut Self, Errno> {
        let mut digits = [0u8; 20];
        if n < 0 {
            self.push(b"-")?;
        }
        self.push(crate::num::format(n.unsigned_abs(), &mut digits))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The content as a C string; EINVAL if it holds a NUL of its own.
    pub fn as_cstr(&self) -> Result<&CStr, Errno> {
        CStr::from_bytes_with_nul(&self.bytes[..=self.len]).map_err(|_| Errno::INVAL)
    }
}

/// The one copy of the append, whatever the buffer's size.
#[inline(never)]
fn append(bytes: &mut [u8], len: &mut usize, s: &[u8]) -> Result<(), Errno> {
    let end = *len + s.len();
    if end >= bytes.len() {
        return Err(Errno::NAMETOOLONG);
    }
    bytes[*len..end].copy_from_slice(s);
    *len = end;
    Ok(())
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_an_error_and_keeps_the_content() {
        let mut b = Buf::<8>::new();
        b.push(b"/proc/").unwrap().num(1).unwrap();
        assert_eq!(b.as_cstr().unwrap().to_bytes(), b"/proc/1");
        assert_eq!(b.push(b"x").err(), Some(Errno::NAMETOOLONG));
        assert_eq!(b.as_bytes(), b"/proc/1");
        let mut n = Buf::<8>::new();
        n.push(b"a\0b").unwrap();
        assert_eq!(n.as_cstr().err(), Some(Errno::INVAL));
        assert_eq!(Buf::<4>::new().num(-12).unwrap().as_bytes(), b"-12");
    }
}
