//! Decimal numbers in and out, without core::fmt.

/// Decimal digits only, no sign, no overflow: "042" → 42.
pub fn parse(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Decimal digits of `n` in the tail of `buf`.
pub fn format(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_both_ways() {
        let mut b = [0; 20];
        assert_eq!(format(0, &mut b), b"0");
        assert_eq!(format(1234567890123, &mut b), b"1234567890123");
        assert_eq!(format(u64::MAX, &mut b), b"18446744073709551615");
        assert_eq!(parse(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse(b"18446744073709551616"), None);
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"-1"), None);
    }
}
