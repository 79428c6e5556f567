//! `--help`, `-l`, the errno texts and husk's own messages, stored packed by build.rs (see
//! `pack` there) and unpacked only when asked for. A message is written `text!("...")`
//! where it is used (in the files build.rs reads for them), which stands for its number.

use crate::report;

include!(concat!(env!("OUT_DIR"), "/texts.rs"));

/// Writes `--help`, or with `license` the license, to stdout. Never inlined: the text's
/// buffer would otherwise sit in the frame of every start.
#[inline(never)]
pub fn write(license: bool) {
    let mut text = [0u8; TEXT_LEN];
    let n = unpack(&PACKED, &mut text);
    let range = if license {
        LICENSE_START..TEXT_LEN
    } else {
        NAMES_END..HELP_END
    };
    report::write_all(1, text[..n].get(range).unwrap_or_default());
}

/// The names of the options (`cli`'s table, long ones without their `--`), each followed
/// by a space: the first of the texts, so only they are unpacked, into `buf`.
pub fn names(buf: &mut [u8; NAMES_END]) -> &[u8] {
    let n = unpack(&PACKED, buf);
    &buf[..n]
}

/// A packed text: an errno's ("Unknown error" past the last Linux has), or one of husk's
/// own messages (`text!("missing value")`), by its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    Errno(crate::sys::Errno),
    Message(u16),
}

/// The words of `t`, unpacked into `buf`.
pub fn get(t: Text, buf: &mut [u8; TEXT_LEN]) -> &[u8] {
    // After the messages come the errno texts, then "Unknown error".
    let i = match t {
        Text::Message(message) => usize::from(message),
        Text::Errno(e) => {
            FIRST_ERRNO + (e.raw_os_error() as u32).min(UNKNOWN_ERRNO.into()) as usize
        }
    };
    let n = unpack(&PACKED, buf);
    // The i-th NUL-ended text: past i NULs, up to the next (a loop: core's Split is
    // longer code).
    let texts = buf.get(HELP_END..n).unwrap_or(&[]);
    let (mut start, mut seen) = (0, 0);
    for (at, &b) in texts.iter().enumerate() {
        if b == 0 {
            if seen == i {
                return &texts[start..at];
            }
            seen += 1;
            start = at + 1;
        }
    }
    b""
}

/// Unpacks into `out`; returns the length. A reference that does not fit ends it (the
/// data is build.rs's, checked by the tests).
fn unpack(packed: &[u8], out: &mut [u8]) -> usize {
    let mut n = 0;
    let mut bytes = packed.iter();
    while let (Some(&b), Some(slot)) = (bytes.next(), out.get_mut(n)) {
        if b < 0x80 {
            // A control character but the newline (and the NUL that ends a text) is the
            // code of a pair of bytes (build.rs).
            if b != 0 && b != b'\n' && b < 32 {
                let Some(two) = out.get_mut(n..n + 2) else {
                    return n;
                };
                two.copy_from_slice(&PAIRS[usize::from(b)]);
                n += 2;
            } else {
                *slot = b;
                n += 1;
            }
            continue;
        }
        let mut len = usize::from(b >> 4 & 7) + 3;
        let dist = (usize::from(b & 15) << 8 | usize::from(*bytes.next().unwrap_or(&0))) + 1;
        // A run of 10 or more: the rest of its length follows.
        if len == 10 {
            len += usize::from(*bytes.next().unwrap_or(&0));
        }
        // The run and what it repeats, which it may overlap: copied forwards, byte by byte.
        let Some(run) = n
            .checked_sub(dist)
            .and_then(|from| out.get_mut(from..n + len))
        else {
            return n;
        };
        for k in dist..run.len() {
            run[k] = run[k - dist];
        }
        n += len;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_texts_are_the_help_and_the_license() {
        let mut text = [0u8; TEXT_LEN];
        let n = unpack(&PACKED, &mut text);
        let help = &text[NAMES_END..HELP_END];
        let license = &text[LICENSE_START..];
        assert_eq!(n, TEXT_LEN);
        let mut names = [0u8; NAMES_END];
        assert_eq!(super::names(&mut names), crate::cli::NAMES);
        assert_eq!(core::str::from_utf8(help).unwrap(), crate::cli::HELP);
        assert_eq!(core::str::from_utf8(license).unwrap(), crate::cli::LICENSE);
        let mut buf = [0u8; TEXT_LEN];
        let mut errno = |e| {
            get(
                Text::Errno(crate::sys::Errno::from_raw_os_error(e)),
                &mut buf,
            )
            .to_vec()
        };
        assert_eq!(errno(2), b"No such file or directory");
        assert_eq!(errno(9), b"Bad file descriptor");
        assert_eq!(errno(133), b"Memory page has hardware error");
        assert_eq!(errno(134), b"Unknown error");
        assert_eq!(errno(4000), b"Unknown error");
        for (i, &m) in MESSAGES.iter().enumerate() {
            assert_eq!(get(Text::Message(i as u16), &mut buf), m.as_bytes());
        }
        assert!(
            PACKED.len() < TEXT_LEN * 2 / 3,
            "{} of {TEXT_LEN}",
            PACKED.len()
        );
    }
}
