//! execvp(3) without the C library's copy of the environment: searches PATH the way musl
//! does (keep looking past EACCES, stop at other errors) using a stack buffer.

use crate::buf::Buf;
use crate::spec::{Argv, Env};
use crate::sys::{self, Errno};
use core::ffi::CStr;

const DEFAULT_PATH: &[u8] = b"/usr/local/bin:/bin:/usr/bin";

/// Executes `file` with `argv` and the environment `env`, looking `file` up in that
/// environment's PATH when it has no slash. Returns only on failure.
pub fn exec(file: &CStr, argv: Argv, env: Env) -> Errno {
    let envp = env.as_ptr();
    let name = file.to_bytes();
    if name.is_empty() {
        return Errno::NOENT;
    }
    if crate::buf::holds(name, b'/') {
        // SAFETY: Argv is NULL-terminated by construction; envp is the caller's environment
        // block, NULL-terminated (Env's contract).
        return unsafe { sys::execve(file, argv.as_ptr(), envp) };
    }
    let path = env.get(b"PATH").map_or(DEFAULT_PATH, CStr::to_bytes);
    let mut seen_eacces = false;
    let mut buf = Buf::new();
    // Each entry of PATH up to a colon or the end (a loop: core's Split is longer code).
    let mut rest = path;
    loop {
        let end = rest.iter().position(|&b| b == b':').unwrap_or(rest.len());
        if let Ok(full) = join(&mut buf, &rest[..end], name) {
            // SAFETY: as above.
            match unsafe { sys::execve(full, argv.as_ptr(), envp) } {
                Errno::ACCESS => seen_eacces = true,
                Errno::NOENT => {}
                Errno::NOTDIR => {}
                e => return e,
            }
        }
        match rest.get(end + 1..) {
            Some(next) => rest = next,
            None => break,
        }
    }
    if seen_eacces {
        Errno::ACCESS
    } else {
        Errno::NOENT
    }
}

/// `dir/name` as a C string in `buf` (an empty dir means the current one); an error if too
/// long.
fn join<'b>(buf: &'b mut Buf, dir: &[u8], name: &[u8]) -> Result<&'b CStr, Errno> {
    let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
    buf.clear();
    buf.push(dir).push(b"/").push(name).as_cstr()
}

/// The exit status husk reports for a failed exec: 127 when nothing was found, else 126.
pub fn status_for(errno: Errno) -> i32 {
    if errno == Errno::NOENT || errno == Errno::NOTDIR {
        127
    } else {
        126
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_refuses_overflow() {
        let mut buf = Buf::new();
        assert_eq!(
            join(&mut buf, b"/bin", b"sh").unwrap().to_bytes(),
            b"/bin/sh"
        );
        assert_eq!(join(&mut buf, b"", b"sh").unwrap().to_bytes(), b"./sh");
        let long = [b'a'; crate::buf::PATH_MAX];
        assert!(join(&mut buf, &long, b"sh").is_err());
    }
}
