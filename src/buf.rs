//! The one checked stack buffer for paths and bytes husk composes (proc paths, id maps,
//! mount options): what does not fit is an error (ENAMETOOLONG), never a cut. Appends chain
//! without a check each; an append that does not fit marks the buffer overflowed, and
//! reading the content then fails. The bytes after the content are always zero, so the
//! content is also a C string.

use crate::sys::Errno;
use core::ffi::CStr;

pub const PATH_MAX: usize = 4096;

pub struct Buf<const N: usize = PATH_MAX> {
    bytes: [u8; N],
    len: usize,
    /// An append did not fit.
    overflowed: bool,
}

impl<const N: usize> Buf<N> {
    pub fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
            overflowed: false,
        }
    }

    /// Empties the buffer for reuse.
    pub fn clear(&mut self) {
        self.bytes[..self.len].fill(0);
        self.len = 0;
        self.overflowed = false;
    }

    /// Appends `s`, with room kept for the final NUL.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        self.overflowed |= !append(&mut self.bytes, &mut self.len, s);
        self
    }

    /// Appends `n` in decimal.
    pub fn num(&mut self, n: i64) -> &mut Self {
        self.overflowed |= !append_num(&mut self.bytes, &mut self.len, n);
        self
    }

    /// The content; ENAMETOOLONG if an append did not fit.
    pub fn as_bytes(&self) -> Result<&[u8], Errno> {
        as_bytes(&self.bytes, self.len, self.overflowed)
    }

    /// The content as a C string; EINVAL if it holds a NUL of its own.
    pub fn as_cstr(&self) -> Result<&CStr, Errno> {
        as_cstr(&self.bytes, self.len, self.overflowed)
    }
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

// The work is done by functions of slices, so that each size of buffer costs no code.

/// The content and its final NUL; ENAMETOOLONG if an append did not fit.
fn content(bytes: &[u8], len: usize, overflowed: bool) -> Result<&[u8], Errno> {
    match overflowed {
        true => Err(Errno::NAMETOOLONG),
        false => Ok(&bytes[..=len]),
    }
}

fn as_bytes(bytes: &[u8], len: usize, overflowed: bool) -> Result<&[u8], Errno> {
    Ok(&content(bytes, len, overflowed)?[..len])
}

#[inline(never)]
fn as_cstr(bytes: &[u8], len: usize, overflowed: bool) -> Result<&CStr, Errno> {
    let with_nul = content(bytes, len, overflowed)?;
    if holds(&with_nul[..len], 0) {
        return Err(Errno::INVAL);
    }
    // SAFETY: the content holds no NUL and the byte after it is one (the bytes after the
    // content are always zero).
    Ok(unsafe { CStr::from_bytes_with_nul_unchecked(with_nul) })
}

/// The part of a C string after its first `at` bytes, itself a C string (the empty one if
/// `at` is past its end). Not core's `CStr::from_bytes_with_nul`: that looks for a NUL
/// inside with core's memchr, 279 bytes, where the suffix of a C string holds none.
pub fn suffix(s: &CStr, at: usize) -> &CStr {
    match s.to_bytes_with_nul().get(at..) {
        // SAFETY: the tail of a C string's bytes ends with its NUL and holds no other.
        Some(tail) if !tail.is_empty() => unsafe { CStr::from_bytes_with_nul_unchecked(tail) },
        _ => c"",
    }
}

#[inline(never)]
fn append_num(bytes: &mut [u8], len: &mut usize, n: i64) -> bool {
    let mut digits = [0u8; 20];
    (n >= 0 || append(bytes, len, b"-"))
        && append(
            bytes,
            len,
            crate::num::format(n.unsigned_abs(), &mut digits),
        )
}

/// Whether `s` holds `byte`. A loop, not `<[u8]>::contains`: that links core's memchr, 200
/// bytes of code for the few short searches husk makes.
pub fn holds(s: &[u8], byte: u8) -> bool {
    for &b in s {
        if b == byte {
            return true;
        }
    }
    false
}

/// `a/b//c/` → (`a/b//`, `c`): the last component, which must name an entry (not `.` or
/// `..`, and not the root), and what leads to it.
pub fn split_last(path: &[u8]) -> Result<(&[u8], &[u8]), Errno> {
    let mut trimmed = path;
    while let [rest @ .., b'/'] = trimmed {
        trimmed = rest;
    }
    let cut = trimmed
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |i| i + 1);
    let (dir, name) = trimmed.split_at(cut);
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::INVAL);
    }
    Ok((dir, name))
}

/// Whether `s` fitted (with a zero byte after it) and was appended.
#[inline(never)]
fn append(bytes: &mut [u8], len: &mut usize, s: &[u8]) -> bool {
    let end = *len + s.len();
    if end >= bytes.len() {
        return false;
    }
    bytes[*len..end].copy_from_slice(s);
    *len = end;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_an_error_not_a_cut() {
        let mut b = Buf::<8>::new();
        b.push(b"/proc/").num(1);
        assert_eq!(b.as_cstr().unwrap().to_bytes(), b"/proc/1");
        assert_eq!(b.as_bytes().unwrap(), b"/proc/1");
        b.push(b"x").push(b"");
        assert_eq!(b.as_cstr().err(), Some(Errno::NAMETOOLONG));
        assert_eq!(b.as_bytes().err(), Some(Errno::NAMETOOLONG));
        b.clear();
        assert_eq!(b.push(b"a\0b").as_cstr().err(), Some(Errno::INVAL));
        assert_eq!(Buf::<4>::new().num(-12).as_bytes().unwrap(), b"-12");
        assert!(Buf::<4>::new().num(-123).as_bytes().is_err());
    }

    #[test]
    fn a_suffix_is_the_tail_of_the_c_string() {
        assert_eq!(suffix(c"/a/b", 1), c"a/b");
        assert_eq!(suffix(c"/a/b", 4), c"");
        assert_eq!(suffix(c"/a/b", 9), c"");
    }
}
