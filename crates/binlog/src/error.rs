//! Decoding errors. Every error names the byte offset of the event it concerns.
#![warn(missing_docs)]

use crate::event::event_type_name;

/// What went wrong while framing or decoding an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    /// The file does not start with the binlog magic `fe 62 69 6e`.
    #[error("not a binlog file (bad magic number)")]
    BadMagic,
    /// Fewer bytes than the event (or one of its fields) needs.
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        /// The structure being read.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes available.
        have: u64,
    },
    /// Stored and computed CRC32 differ.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// The CRC32 in the event's last 4 bytes.
        stored: u32,
        /// The CRC32 of the event bytes.
        computed: u32,
    },
    /// The bytes are not a valid event of this type.
    #[error("invalid {0}")]
    Invalid(String),
    /// A valid construct this decoder does not support.
    #[error("unsupported {0}")]
    Unsupported(String),
    /// A rows event names a table id without a preceding TABLE_MAP.
    #[error("table id {0} has no TABLE_MAP")]
    UnknownTable(u64),
    /// A compressed payload could not be decompressed.
    #[error("decompression failed: {0}")]
    Decompress(String),
}

/// A decoding error: where (the event's offset in its binlog file and its type) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the first byte of the offending event (or of the missing bytes).
    pub offset: u64,
    /// The event type code, when the header could be read.
    pub event_type: Option<u8>,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// A new error at `offset`.
    pub fn new(offset: u64, kind: DecodeErrorKind) -> Self {
        Self {
            offset,
            event_type: None,
            kind,
        }
    }

    /// Sets the event type.
    pub fn with_type(mut self, event_type: u8) -> Self {
        self.event_type = Some(event_type);
        self
    }

    /// Sets the offset (row errors are created without knowing their event's offset).
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    pub(crate) fn invalid(offset: u64, msg: impl Into<String>) -> Self {
        Self::new(offset, DecodeErrorKind::Invalid(msg.into()))
    }

    pub(crate) fn truncated(offset: u64, what: &'static str, need: usize, have: usize) -> Self {
        Self::new(
            offset,
            DecodeErrorKind::Truncated {
                what,
                need: need as u64,
                have: have as u64,
            },
        )
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.event_type {
            Some(t) => write!(
                f,
                "at offset {} ({} event): {}",
                self.offset,
                event_type_name(t),
                self.kind
            ),
            None => write!(f, "at offset {}: {}", self.offset, self.kind),
        }
    }
}

impl std::error::Error for DecodeError {}
