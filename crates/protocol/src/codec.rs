//! The frame codec: `[len: i32 big-endian][payload: len bytes]`, both directions.
//!
//! Java Canal enforces no maximum and allocates whatever the header says; we refuse a frame longer
//! than a configured maximum with [`FrameError::TooLarge`] as soon as the header is read, and grow
//! the read buffer only as bytes actually arrive, so a hostile header never causes a large
//! allocation. A negative header is [`FrameError::Negative`] (Java Canal closes the connection too).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Length of the frame header.
pub const HEADER_LEN: usize = 4;
/// Default maximum payload: generous for a MESSAGES batch, small enough to bound memory.
pub const DEFAULT_MAX_FRAME: usize = 64 * 1024 * 1024;
/// Buffer growth step while a large frame arrives.
const RESERVE_STEP: usize = 64 * 1024;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The header announces (or the writer was given) more than the configured maximum.
    #[error("frame length {len} exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Announced or attempted payload length.
        len: usize,
        /// The codec's maximum.
        max: usize,
    },
    /// The header, read as Java's signed `int`, is negative (Java Canal closes the connection).
    #[error("negative frame length {0}")]
    Negative(i32),
    /// The stream ended inside a header or payload.
    #[error("connection closed in the middle of a frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes of the incomplete frame that had arrived.
        buffered: usize,
    },
    /// The underlying transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A tokio codec for Canal frames. Decodes to the payload bytes; encodes any byte slice.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_frame: usize,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME)
    }
}

impl FrameCodec {
    /// A codec refusing payloads longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Self { max_frame }
    }

    /// The configured maximum payload length.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if src.len() < HEADER_LEN {
            src.reserve(HEADER_LEN - src.len());
            return Ok(None);
        }
        let raw = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        if raw < 0 {
            return Err(FrameError::Negative(raw));
        }
        let len = raw as usize;
        if len > self.max_frame {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        let total = HEADER_LEN + len;
        if src.len() < total {
            let missing = total - src.len();
            src.reserve(missing.min(RESERVE_STEP));
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(len)))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => Err(FrameError::Truncated {
                buffered: buf.len(),
            }),
        }
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), FrameError> {
        let payload = item.as_ref();
        if payload.len() > self.max_frame || payload.len() > i32::MAX as usize {
            return Err(FrameError::TooLarge {
                len: payload.len(),
                max: self.max_frame,
            });
        }
        dst.reserve(HEADER_LEN + payload.len());
        dst.put_u32(payload.len() as u32);
        dst.put_slice(payload);
        Ok(())
    }
}

/// Prefixes `payload` with its 4-byte length header (for tests and blocking writers).
pub fn frame(payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(HEADER_LEN + payload.len());
    out.put_u32(payload.len() as u32);
    out.put_slice(payload);
    out.freeze()
}
