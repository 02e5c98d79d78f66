//! A bounds-checked little-endian cursor over event bytes (never panics on short input).

/// Marker for "not enough bytes"; callers turn it into a [`crate::DecodeError`] with context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Short {
    pub need: usize,
    pub have: usize,
}

pub(crate) type R<T> = Result<T, Short>;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }
    #[inline]
    pub fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let have = self.remaining();
        if n > have {
            return Err(Short { need: n, have });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    #[inline]
    pub fn skip(&mut self, n: usize) -> R<()> {
        self.take(n).map(|_| ())
    }
    #[inline]
    pub fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }
    #[inline]
    pub fn u16(&mut self) -> R<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    #[inline]
    pub fn u32(&mut self) -> R<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    #[inline]
    pub fn u64(&mut self) -> R<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// Little-endian unsigned integer of `n` (<= 8) bytes.
    #[inline]
    pub fn uint(&mut self, n: usize) -> R<u64> {
        let b = self.take(n)?;
        Ok(le_uint(b))
    }
    /// MySQL length-encoded integer (`net_field_length`). 0xfb (NULL marker) reads as 0xfb.
    #[inline]
    pub fn lenenc(&mut self) -> R<u64> {
        let first = self.u8()?;
        match first {
            0xfc => self.uint(2),
            0xfd => self.uint(3),
            0xfe => self.uint(8),
            x => Ok(x as u64),
        }
    }
    /// Length-encoded integer then that many bytes.
    #[inline]
    pub fn lenenc_bytes(&mut self) -> R<&'a [u8]> {
        let n = self.lenenc()?;
        let n = usize::try_from(n).map_err(|_| Short {
            need: usize::MAX,
            have: self.remaining(),
        })?;
        self.take(n)
    }
}

/// Little-endian unsigned of up to 8 bytes.
#[inline]
pub(crate) fn le_uint(b: &[u8]) -> u64 {
    let mut v = 0u64;
    for (i, x) in b.iter().take(8).enumerate() {
        v |= (*x as u64) << (8 * i);
    }
    v
}

/// Big-endian unsigned of up to 8 bytes.
#[inline]
pub(crate) fn be_uint(b: &[u8]) -> u64 {
    let mut v = 0u64;
    for x in b.iter().take(8) {
        v = (v << 8) | *x as u64;
    }
    v
}
