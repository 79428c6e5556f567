//! `--help` and `-l`, stored packed by build.rs (see `pack` there) and unpacked only when
//! asked for.

use crate::report;

include!(concat!(env!("OUT_DIR"), "/texts.rs"));

/// Writes `--help`, or with `license` the license, to stdout. Never inlined: the text's
/// buffer would otherwise sit in the frame of every start.
#[inline(never)]
pub fn write(license: bool) {
    let mut text = [0u8; TEXT_LEN];
    let n = unpack(&PACKED, &mut text);
    let (help, rest) = text[..n].split_at(HELP_LEN.min(n));
    let license_text = &rest[..(LICENSE_END - HELP_LEN).min(rest.len())];
    report::write_all(1, if license { license_text } else { help });
}

/// The text for an errno ("No such file or directory"), unpacked into `buf`.
pub fn errno_text(e: crate::sys::Errno, buf: &mut [u8; TEXT_LEN]) -> &[u8] {
    let n = unpack(&PACKED, buf);
    let texts = buf.get(LICENSE_END..n).unwrap_or(&[]);
    let nth = texts.split(|&b| b == 0).nth(e.raw_os_error() as usize);
    nth.unwrap_or(b"Unknown error")
}

/// Unpacks into `out`; returns the length. A reference that does not fit ends it (the
/// data is build.rs's, checked by the tests).
fn unpack(packed: &[u8], out: &mut [u8]) -> usize {
    let (mut n, mut i) = (0, 0);
    while let (Some(&b), true) = (packed.get(i), n < out.len()) {
        if b < 0x80 {
            out[n] = b;
            n += 1;
            i += 1;
            continue;
        }
        let len = usize::from(b >> 3 & 15) + 3;
        let dist = (usize::from(b & 7) << 8 | usize::from(*packed.get(i + 1).unwrap_or(&0))) + 1;
        if dist > n || n + len > out.len() {
            return n;
        }
        for _ in 0..len {
            out[n] = out[n - dist];
            n += 1;
        }
        i += 2;
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
        let (help, rest) = text[..n].split_at(HELP_LEN);
        let license = &rest[..LICENSE_END - HELP_LEN];
        assert_eq!(core::str::from_utf8(help).unwrap(), crate::cli::HELP);
        assert_eq!(core::str::from_utf8(license).unwrap(), crate::cli::LICENSE);
        let mut buf = [0u8; TEXT_LEN];
        let enoent = errno_text(crate::sys::Errno::NOENT, &mut buf);
        assert_eq!(enoent, b"No such file or directory");
        assert_eq!(
            errno_text(crate::sys::Errno::BADF, &mut buf),
            b"Bad file descriptor"
        );
        assert_eq!(
            errno_text(crate::sys::Errno::from_raw_os_error(4000), &mut buf),
            b"Unknown error"
        );
        assert!(
            PACKED.len() < TEXT_LEN * 2 / 3,
            "{} of {TEXT_LEN}",
            PACKED.len()
        );
    }
}
