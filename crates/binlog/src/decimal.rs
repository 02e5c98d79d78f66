//! MySQL packed DECIMAL (NEWDECIMAL) support: sizes and the canonical decimal string.
//!
//! Format (MySQL `decimal2bin`): the integer part and the fraction are each split into groups
//! of 9 decimal digits stored as 4-byte big-endian integers; a leftover group of fewer digits
//! takes 1-4 bytes. The first byte's top bit is set for non-negative numbers; negative numbers
//! store every byte inverted.
#![warn(missing_docs)]

use crate::value::Decimal;

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Size in bytes of a packed DECIMAL(precision, scale); `None` for an impossible definition
/// (scale > precision or precision > 65... MySQL's maximum is 65 digits, 30 of scale).
pub fn decimal_bin_size(precision: u8, scale: u8) -> Option<usize> {
    if scale > precision || precision == 0 || precision > 90 {
        return None;
    }
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    Some((intg / 9) * 4 + DIG2BYTES[intg % 9] + (frac / 9) * 4 + DIG2BYTES[frac % 9])
}

impl<'a> Decimal<'a> {
    /// Builds a packed decimal, checking that `bytes` has exactly the right size.
    pub fn new(precision: u8, scale: u8, bytes: &'a [u8]) -> Option<Self> {
        (decimal_bin_size(precision, scale)? == bytes.len()).then_some(Self {
            precision,
            scale,
            bytes,
        })
    }

    /// True when the number is negative (and not zero).
    pub fn is_negative(&self) -> bool {
        let mut s = String::new();
        self.write_canonical(&mut s);
        s.starts_with('-')
    }

    /// Appends MySQL's canonical text: optional `-`, the integer part without leading zeros
    /// (`0` if none), then `.` and exactly `scale` fraction digits when scale > 0.
    pub fn write_canonical(&self, out: &mut String) {
        let (intg_digits, frac_digits, neg) = self.digits();
        let int_trim = intg_digits
            .iter()
            .position(|&d| d != 0)
            .map_or(&[][..], |p| &intg_digits[p..]);
        let all_zero = int_trim.is_empty() && frac_digits.iter().all(|&d| d == 0);
        if neg && !all_zero {
            out.push('-');
        }
        if int_trim.is_empty() {
            out.push('0');
        } else {
            out.extend(int_trim.iter().map(|d| (b'0' + d) as char));
        }
        if !frac_digits.is_empty() {
            out.push('.');
            out.extend(frac_digits.iter().map(|d| (b'0' + d) as char));
        }
    }

    /// Decimal digits of the integer part (`precision - scale` of them, leading zeros kept),
    /// of the fraction (`scale` of them) and the sign. Malformed groups (>= 10^9) are clamped
    /// digit-wise, never panicking.
    pub fn digits(&self) -> (Vec<u8>, Vec<u8>, bool) {
        let intg = self.precision.saturating_sub(self.scale) as usize;
        let frac = self.scale as usize;
        let mut buf = [0u8; 64];
        let n = self.bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        let neg = n > 0 && buf[0] & 0x80 == 0;
        if n > 0 {
            buf[0] ^= 0x80;
        }
        if neg {
            for b in &mut buf[..n] {
                *b = !*b;
            }
        }
        let mut pos = 0usize;
        let mut read = |len: usize| -> u64 {
            let end = (pos + len).min(n);
            let v = crate::read::be_uint(buf.get(pos..end).unwrap_or(&[]));
            pos += len;
            v
        };
        let mut int_digits = Vec::with_capacity(intg);
        let mut frac_digits = Vec::with_capacity(frac);
        let push = |out: &mut Vec<u8>, v: u64, ndig: usize| {
            let mut tmp = [0u8; 20];
            let mut v = v;
            for i in (0..ndig).rev() {
                tmp[i] = (v % 10) as u8;
                v /= 10;
            }
            out.extend_from_slice(&tmp[..ndig]);
        };
        let lead = intg % 9;
        if lead > 0 {
            let v = read(DIG2BYTES[lead]);
            push(&mut int_digits, v, lead);
        }
        for _ in 0..intg / 9 {
            let v = read(4);
            push(&mut int_digits, v, 9);
        }
        for _ in 0..frac / 9 {
            let v = read(4);
            push(&mut frac_digits, v, 9);
        }
        let trail = frac % 9;
        if trail > 0 {
            let v = read(DIG2BYTES[trail]);
            push(&mut frac_digits, v, trail);
        }
        (int_digits, frac_digits, neg)
    }
}

impl std::fmt::Display for Decimal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write_canonical(&mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from MySQL's documented decimal2bin example (strings/decimal.cc comment):
    // DECIMAL(14,4) 1234567890.1234 -> 81 0D FB 38 D2 04 D2; negative inverts every byte.
    #[test]
    fn mysql_doc_example() {
        let b = [0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2];
        let d = Decimal::new(14, 4, &b).unwrap();
        assert_eq!(d.to_string(), "1234567890.1234");
        let n: Vec<u8> = b.iter().map(|x| !x).collect();
        let d = Decimal::new(14, 4, &n).unwrap();
        assert_eq!(d.to_string(), "-1234567890.1234");
    }

    #[test]
    fn sizes() {
        assert_eq!(decimal_bin_size(14, 4), Some(7));
        assert_eq!(decimal_bin_size(10, 2), Some(5));
        assert_eq!(decimal_bin_size(65, 30), Some(30));
        assert_eq!(decimal_bin_size(5, 6), None);
        assert!(Decimal::new(10, 2, &[0; 4]).is_none());
    }

    #[test]
    fn zero_and_scale_zero() {
        // DECIMAL(10,2) 0.00: sign bit set, all zero.
        let d = Decimal::new(10, 2, &[0x80, 0, 0, 0, 0]).unwrap();
        assert_eq!(d.to_string(), "0.00");
        // DECIMAL(5,0) 7 -> 3 bytes: 0x80 0x00 0x07
        let d = Decimal::new(5, 0, &[0x80, 0, 7]).unwrap();
        assert_eq!(d.to_string(), "7");
    }
}
