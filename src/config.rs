//! `--config FILE`: a service's options in a file, one option and its values to a line as on
//! the command line (`--ro-bind /usr /usr`), `#` starting a comment, blank lines ignored, a
//! value in double quotes for spaces (`\"` and `\\` inside), and COMMAND on a last line
//! after `--`.
//!
//! No heap: the file (at most 64 KiB) is read as an `--args` file is, into storage of its
//! own that is never freed (`argfile`), and turned there into the parser's form, an `--args`
//! file's: arguments each ended by a NUL, with a lone `\n` argument ending each line, so
//! the parser keeps an option and its values to a line and can say which line is at fault.
//! COMMAND's line is not among them: it becomes an argv of its own.

use crate::spec::Argv;
use crate::text::Text;
use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

/// The bytes a file may have.
pub const MAX_BYTES: usize = 64 << 10;

/// A file's arguments in the parser's form, and its COMMAND if it has one.
pub type Read = (&'static [u8], Option<Argv<'static>>);

/// The file at `path` in the parser's form; or why not: an errno's text (line 0), or husk's
/// own reason and the line at fault.
#[inline(never)]
pub fn read(path: &'static CStr) -> Result<Read, (u32, Text)> {
    let too_big = (0, text!("more than 64 KiB"));
    let (input, room) = crate::argfile::read_path(path).map_err(|e| match e {
        crate::sys::Errno::TOOBIG => too_big,
        e => (0, Text::Errno(e)),
    })?;
    if input.len() > MAX_BYTES {
        return Err(too_big);
    }
    // At most two bytes out for each byte in, and a last line's end, then COMMAND's
    // pointers (one for every two bytes at most, and the NULL).
    let (out, rest) = room.split_at_mut(2 * MAX_BYTES + 4);
    // SAFETY: zeroed bytes are null pointers, valid values of the type.
    let (_, pointers, _) = unsafe { rest.align_to_mut::<*const c_char>() };
    AT.store(path.as_ptr() as usize, Relaxed);
    let (mut o, mut line, mut start) = (0, 1, 0);
    // In a token, in its quotes; in a comment; at the first token of a line; COMMAND's
    // line begun (where the arguments end) and its words; COMMAND's line over.
    let (mut token, mut quoted, mut comment, mut first) = (false, false, false, true);
    let (mut command, mut words, mut done) = (None, 0, false);
    let mut bytes = input.iter().chain(b"\n");
    while let Some(&b) = bytes.next() {
        let at = |why| Err((line, why));
        let ends = !quoted && matches!(b, b' ' | b'\t' | b'\r' | b'\n');
        let put = match b {
            0 => return at(text!("a NUL byte")),
            b'\n' if quoted => return at(text!("a quote is not closed on its line")),
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
                    return at(text!(
                        "in quotes a backslash escapes only a quote or a backslash"
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
        if put == Some(0) {
            // A word ends: an option's, a value's, or COMMAND's.
            if done {
                return at(text!("COMMAND's line must be the last"));
            }
            if command.is_some() {
                pointers[words] = out[start..].as_ptr().cast();
                words += 1;
            } else if first && out[start..o] == *b"--\0" {
                command = Some(start);
            }
            (first, start) = (false, o);
        }
        if b == b'\n' {
            done = command.is_some();
            if !done {
                out[o..o + 2].copy_from_slice(b"\n\0");
                o += 2;
                start = o;
            }
            (line, comment, first) = (line + 1, false, true);
        }
    }
    let out: &'static [u8] = out;
    // SAFETY: the first `words` pointers name words of `out`, each ended by its NUL, in
    // storage never freed or written again; the pointer after them is still NULL (zero).
    let argv = (words > 0).then(|| unsafe { Argv::new(pointers.as_mut_ptr(), words) });
    Ok((&out[..command.unwrap_or(o)], argv))
}

/// Where the parser is in the file: a fault found there names the file and the line
/// (`husk: web.conf:12: --bind: missing value`).
static AT: AtomicUsize = AtomicUsize::new(0);
static AT_LINE: AtomicU32 = AtomicU32::new(0);

/// The parser is at `line` of the file (0: past it).
pub fn set_line(line: u32) {
    AT_LINE.store(line, Relaxed);
}

/// The file and the line the parser is at, if in a file.
pub fn at() -> Option<(&'static [u8], u32)> {
    let line = AT_LINE.load(Relaxed);
    if line == 0 {
        return None;
    }
    // SAFETY: a line is set only once `read` has stored the path of a file, a C string
    // that lives as long as husk (husk's own argv).
    let path = unsafe { CStr::from_ptr(AT.load(Relaxed) as *const c_char) };
    Some((path.to_bytes(), line))
}
