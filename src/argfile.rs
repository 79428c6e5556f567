//! `--args FD`: more arguments, read from a descriptor until EOF, each ended by a NUL
//! (bubblewrap's format; the last may lack its NUL). With no heap each file is read into
//! storage of its own that is never freed, so it lives as long as argv does and the `Spec`
//! borrows its arguments as it borrows argv; the parser walks them in place (no table of
//! pointers). The storage is a private anonymous mapping made by `--args` itself: no bytes
//! in the file, nothing done without `--args`, and its pages stay the kernel's zero page
//! until read into. (Not a static: in .bss it would sit between the variables musl's
//! start-up touches, the linkers putting husk's before libc's: a page fault more at every
//! start.)

use crate::error::{Error, Result};
use crate::sys::Errno;

/// Bytes of one `--args` file, each argument with its NUL.
pub const MAX_BYTES: usize = 1 << 20;

/// `--args FD` (`option` as given): reads FD to its end and closes it; its arguments, each
/// ended by a NUL. E2BIG when they do not fit in MAX_BYTES.
#[inline(never)]
pub fn read(option: &[u8], fd: i32) -> Result<'_, &'static [u8]> {
    read_fd(fd).map_err(|e| Error::new(option, e).with_number(fd))
}

fn read_fd(fd: i32) -> core::result::Result<&'static [u8], Errno> {
    let (room, got) = fill(fd)?;
    keep(room, got)
}

/// A file read whole, as an `--args` file is, into storage of its own that is never freed
/// (`--config`'s file, and `--user`'s /etc/passwd and /etc/group): its bytes, and the rest
/// of the storage (zero, at least one byte) for what the reader makes of them. E2BIG when
/// the file does not fit in MAX_BYTES.
pub fn read_path(
    path: &core::ffi::CStr,
) -> core::result::Result<(&'static [u8], &'static mut [u8]), Errno> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let (room, got) = fill(rustix::fd::IntoRawFd::into_raw_fd(fd))?;
    match got {
        MAX_BYTES.. => Err(Errno::TOOBIG),
        _ => Ok(room.split_at_mut(got)).map(|(data, rest)| (&*data, rest)),
    }
}

/// New storage, filled from `fd` to its end (or to the storage's), and the count read; the
/// descriptor is closed.
fn fill(fd: i32) -> core::result::Result<(&'static mut [u8], usize), Errno> {
    let room = storage()?;
    // SAFETY: the user handed this descriptor to husk to read; a closed one fails it.
    let file = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    let mut left = &mut *room;
    let mut got = 0;
    while let n @ 1.. = rustix::io::read(file, &mut *left)? {
        (left, got) = (left.get_mut(n..).unwrap_or_default(), got + n);
    }
    // SAFETY: it was open (the reads succeeded), husk holds no other handle to it, and
    // nothing uses the number again (COMMAND must not inherit it).
    unsafe { rustix::io::close(fd) };
    Ok((room, got))
}

/// MAX_BYTES and one byte more, zero, never freed: a file that does not fit shows it by
/// filling them all.
#[cfg(not(all(test, miri)))]
fn storage() -> core::result::Result<&'static mut [u8], Errno> {
    use rustix::mm::{mmap_anonymous, MapFlags, ProtFlags};
    let (len, rw) = (MAX_BYTES + 1, ProtFlags::READ | ProtFlags::WRITE);
    // SAFETY: a new mapping, placed where the kernel chooses, replaces nothing.
    let at = unsafe { mmap_anonymous(core::ptr::null_mut(), len, rw, MapFlags::PRIVATE)? };
    // SAFETY: `at` is a fresh private mapping of `len` readable, writable, zeroed bytes,
    // never unmapped, and this is the only reference to it.
    Ok(unsafe { core::slice::from_raw_parts_mut(at.cast(), len) })
}

/// Under Miri (no system calls): a leaked allocation instead.
#[cfg(all(test, miri))]
fn storage() -> core::result::Result<&'static mut [u8], Errno> {
    Ok(vec![0; MAX_BYTES + 1].leak())
}

/// The `got` bytes read into `room` (up to all of it), with the NUL after the last
/// argument: the file's own, or the zero byte after it.
fn keep(room: &'static mut [u8], got: usize) -> core::result::Result<&'static [u8], Errno> {
    let last = room.get(got.wrapping_sub(1));
    let end = got + usize::from(last.is_some_and(|&b| b != 0));
    match room.get(..end) {
        Some(data) if end < room.len() => Ok(data),
        _ => Err(Errno::TOOBIG),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `data` as if read into new storage, then kept.
    fn kept(data: &[u8]) -> core::result::Result<&'static [u8], Errno> {
        let room = storage().unwrap();
        room[..data.len()].copy_from_slice(data);
        keep(room, data.len())
    }

    /// Each argument ends in a NUL, the last one's added where the file has none.
    #[test]
    fn each_file_ends_in_a_nul() {
        assert_eq!(kept(b""), Ok(&b""[..]));
        assert_eq!(kept(b"--setenv\0A\0\0"), Ok(&b"--setenv\0A\0\0"[..]));
        assert_eq!(kept(b"b\0c"), Ok(&b"b\0c\0"[..]));
        assert_eq!(kept(b"\0"), Ok(&b"\0"[..]));
    }

    #[test]
    fn at_most_1_mib() {
        let mut exact = vec![b'x'; MAX_BYTES];
        assert_eq!(kept(&exact), Err(Errno::TOOBIG));
        exact[MAX_BYTES - 1] = 0;
        assert_eq!(kept(&exact).map(<[u8]>::len), Ok(MAX_BYTES));
        let short = vec![b'x'; MAX_BYTES - 1];
        assert_eq!(kept(&short).map(<[u8]>::len), Ok(MAX_BYTES));
        assert_eq!(kept(&vec![0; MAX_BYTES + 1]), Err(Errno::TOOBIG));
    }
}
