//! `--config FILE`: a service's options in a file, one option and its values to a line as on
//! the command line (`--ro-bind /usr /usr`), `#` starting a comment, blank lines ignored, a
//! value in double quotes for spaces (`\"` and `\\` inside), and COMMAND on a last line
//! after `--`.
//!
//! No heap: the file (at most 64 KiB) is read into storage of its own that is never freed,
//! and turned there into the parser's form, as an `--args` file's: arguments each ended by
//! a NUL, with a lone `\n` argument ending each line, so the parser keeps an option and its
//! values to a line and can say which line is at fault. Its pages stay the kernel's zero
//! page unless `--config` is given.

use crate::spec::Argv;
use crate::sys::Errno;
use crate::text::Text;
use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

/// The bytes a file may have.
pub const MAX_BYTES: usize = 64 << 10;
/// Arguments from the file: at most two bytes for each byte read, and a last line's end.
const ARGS: usize = 2 * MAX_BYTES + 4;
/// COMMAND's pointers (at most one argument for every two bytes), and the NULL after them.
const POINTERS: usize = MAX_BYTES / 2 + 2;

/// The storage: COMMAND's pointers, the arguments, then the file as read.
struct Storage {
    args: &'static mut [u8],
    pointers: &'static mut [*const c_char],
    file: &'static mut [u8],
}

/// The file at `path`, in the parser's form, or why not: an errno's text, or husk's own
/// reason with the line at fault.
#[inline(never)]
pub fn read(path: &CStr) -> Result<&'static [u8], (u32, Text)> {
    let errno = |e| (0, Text::Errno(e));
    let room = storage().map_err(errno)?;
    let got = read_all(path, room.file).map_err(errno)?;
    if got > MAX_BYTES {
        return Err((0, text!("more than 64 KiB")));
    }
    let (input, out) = (&room.file[..got], &mut *room.args);
    let mut o = 0;
    let mut line = 1;
    // In a token, in its quotes, past its last byte; and a comment to skip.
    let (mut token, mut quoted, mut comment) = (false, false, false);
    let mut bytes = input.iter().chain(b"\n");
    while let Some(&b) = bytes.next() {
        let ends = !quoted && matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let put = match b {
            0 => return Err((line, text!("a NUL byte"))),
            b'\n' if quoted => return Err((line, text!("a quote is not closed on its line"))),
            _ if ends && token => Some(0),
            _ if comment || ends => None,
            b'#' if !token => {
                comment = true;
                None
            }
            b'"' => {
                quoted = !quoted;
                None
            }
            b'\\' if quoted => match bytes.next() {
                Some(&e @ (b'"' | b'\\')) => Some(e),
                _ => {
                    return Err((
                        line,
                        text!("in quotes a backslash escapes only a quote or a backslash"),
                    ))
                }
            },
            b => Some(b),
        };
        token = !ends && (token || put.is_some() || quoted);
        if let Some(p) = put {
            out[o] = p;
            o += 1;
        }
        if b == b'\n' {
            out[o..o + 2].copy_from_slice(b"\n\0");
            (o, line, comment) = (o + 2, line + 1, false);
        }
    }
    Ok(&room.args[..o])
}

/// COMMAND from a file's `--` line: `args` up to the line's end (the `\n` argument), as an
/// Argv over pointers kept with the arguments; and what is left after it and the blank
/// lines that follow.
#[inline(never)]
pub fn command<'a>(args: &'a [u8]) -> Result<(Argv<'a>, &'a [u8]), Errno> {
    // Made by `read` already: the file's arguments are in it.
    let room = storage()?;
    let mut rest = args;
    let mut n = 0;
    while let Some(end) = rest.iter().position(|&b| b == 0) {
        let (arg, after) = rest.split_at(end + 1);
        if arg == b"\n\0" {
            break;
        }
        room.pointers[n] = arg.as_ptr().cast();
        n += 1;
        rest = after;
    }
    room.pointers[n] = core::ptr::null();
    // Blank lines may follow.
    while let Some(after) = rest.strip_prefix(b"\n\0") {
        rest = after;
    }
    // SAFETY: the first n pointers name arguments of `args` (which live for 'a), each
    // ended by its NUL, and a NULL follows them; nothing else borrows the pointers.
    let argv = unsafe { Argv::new(room.pointers.as_mut_ptr(), n) };
    Ok((argv, rest))
}

/// The file and the line the parser is at, while it walks a file's options: a fault found
/// there names them (`husk: web.conf:12: --bind: missing value`).
static AT: AtomicUsize = AtomicUsize::new(0);
static AT_LEN: AtomicUsize = AtomicUsize::new(0);
static AT_LINE: AtomicU32 = AtomicU32::new(0);

/// The parser is at `line` of `path` (0: past the file).
pub fn set_at(path: &'static CStr, line: u32) {
    let path = path.to_bytes();
    AT.store(path.as_ptr() as usize, Relaxed);
    AT_LEN.store(path.len(), Relaxed);
    AT_LINE.store(line, Relaxed);
}

/// Where the parser is, if in a file.
pub fn at() -> Option<(&'static [u8], u32)> {
    let line = AT_LINE.load(Relaxed);
    // SAFETY: set_at stored a slice that lives as long as husk, and its length with it.
    let path =
        unsafe { core::slice::from_raw_parts(AT.load(Relaxed) as *const u8, AT_LEN.load(Relaxed)) };
    (line != 0).then_some((path, line))
}

/// Reads `path` into `room`: the count read, more than MAX_BYTES when it did not fit.
fn read_all(path: &CStr, room: &mut [u8]) -> Result<usize, Errno> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut got = 0;
    while let n @ 1.. = rustix::io::read(&fd, room.get_mut(got..).unwrap_or_default())? {
        got += n;
    }
    Ok(got)
}

/// The storage, made once: a private anonymous mapping, never unmapped.
fn storage() -> Result<&'static mut Storage, Errno> {
    static mut STORAGE: Option<Storage> = None;
    // SAFETY: husk is one thread, and the parser calls these one at a time: no other
    // reference to STORAGE is alive while this one is.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(STORAGE) };
    if let Some(room) = slot {
        return Ok(room);
    }
    use rustix::mm::{mmap_anonymous, MapFlags, ProtFlags};
    const PTR: usize = core::mem::size_of::<*const c_char>();
    let len = POINTERS * PTR + ARGS + MAX_BYTES + 1;
    let rw = ProtFlags::READ | ProtFlags::WRITE;
    // SAFETY: a new mapping, placed where the kernel chooses, replaces nothing.
    let at = unsafe { mmap_anonymous(core::ptr::null_mut(), len, rw, MapFlags::PRIVATE)? };
    // SAFETY: `at` is a fresh private mapping of `len` zeroed bytes, page-aligned, never
    // unmapped; the pointers come first (aligned), and the three parts do not overlap.
    let room = unsafe {
        let bytes = at.cast::<u8>().add(POINTERS * PTR);
        Storage {
            pointers: core::slice::from_raw_parts_mut(at.cast(), POINTERS),
            args: core::slice::from_raw_parts_mut(bytes, ARGS),
            file: core::slice::from_raw_parts_mut(bytes.add(ARGS), MAX_BYTES + 1),
        }
    };
    Ok(slot.insert(room))
}
