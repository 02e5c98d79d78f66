//! Reading binlog files: [`BinlogFile`] checks the magic number and frames raw events with
//! their offsets; truncation and malformed headers are errors naming the offset.
#![warn(missing_docs)]

use std::path::Path;

use crate::decoder::{parse_header, EventDecoder, HEADER_LEN};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::event::Event;

/// The 4-byte magic number every binlog file starts with.
pub const MAGIC: [u8; 4] = [0xfe, 0x62, 0x69, 0x6e];

/// One framed event: where it starts and its complete bytes (header to checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// Offset of the first byte in the file.
    pub offset: u64,
    /// The whole event.
    pub bytes: &'a [u8],
}

/// A binlog held in memory (a whole file, or a slice of one starting at a known offset).
#[derive(Debug, Clone)]
pub struct BinlogFile {
    data: Vec<u8>,
    /// File offset of `data[0]`.
    base: u64,
    /// Index in `data` of the first event.
    first: usize,
}

impl BinlogFile {
    /// Reads a whole binlog file and checks its magic number.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Result<Self, DecodeError>> {
        let data = std::fs::read(path)?;
        Ok(Self::from_file_bytes(data))
    }

    /// A whole file's bytes (magic first).
    pub fn from_file_bytes(data: Vec<u8>) -> Result<Self, DecodeError> {
        match data.get(..4) {
            Some(m) if m == MAGIC => Ok(Self {
                data,
                base: 0,
                first: 4,
            }),
            Some(_) => Err(DecodeError::new(0, DecodeErrorKind::BadMagic)),
            None => Err(DecodeError::truncated(0, "binlog magic", 4, data.len())),
        }
    }

    /// Bytes of a binlog starting at file offset `offset` at an event boundary (no magic
    /// expected unless `offset` is 0, in which case it is checked).
    pub fn from_bytes_at(data: Vec<u8>, offset: u64) -> Result<Self, DecodeError> {
        if offset == 0 {
            return Self::from_file_bytes(data);
        }
        Ok(Self {
            data,
            base: offset,
            first: 0,
        })
    }

    /// Total bytes held (including the magic when present).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes held.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Frames the raw events in order.
    pub fn raw_events(&self) -> RawEvents<'_> {
        RawEvents::new(&self.data[self.first..], self.base + self.first as u64)
    }

    /// Decodes events starting at file offset `offset` (an event boundary, e.g. a saved
    /// position): the file's first event (its FORMAT_DESCRIPTION, at offset 4) is decoded first
    /// so checksums and post-header lengths are known, then framing resumes at `offset`.
    /// Only for whole files (magic at offset 0).
    pub fn events_from(&self, offset: u64) -> Result<Events<'_>, DecodeError> {
        let mut decoder = EventDecoder::new();
        if self.base != 0 || self.first != 4 {
            return Err(DecodeError::invalid(
                offset,
                "events_from needs a whole binlog file",
            ));
        }
        if let Some(first) = self.raw_events().next() {
            let first = first?;
            decoder.decode(first.offset, first.bytes)?;
        }
        let start = usize::try_from(offset)
            .ok()
            .filter(|&o| o >= 4 && o <= self.data.len());
        let Some(start) = start else {
            return Err(DecodeError::invalid(
                offset,
                format!("start offset beyond the file ({} bytes)", self.data.len()),
            ));
        };
        Ok(Events {
            raw: RawEvents::new(&self.data[start..], offset),
            decoder,
        })
    }

    /// Frames and decodes all events with a fresh [`EventDecoder`].
    pub fn events(&self) -> Events<'_> {
        Events {
            raw: self.raw_events(),
            decoder: EventDecoder::new(),
        }
    }
}

/// Iterator framing raw events out of a byte slice (stops after the first error).
#[derive(Debug, Clone)]
pub struct RawEvents<'a> {
    rest: &'a [u8],
    offset: u64,
    failed: bool,
}

impl<'a> RawEvents<'a> {
    /// Frames events in `data`, whose first byte is at file offset `offset`.
    pub fn new(data: &'a [u8], offset: u64) -> Self {
        Self {
            rest: data,
            offset,
            failed: false,
        }
    }

    /// Offset of the next event.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl<'a> RawEvents<'a> {
    /// Why the event at the front cannot be framed; stops the iterator.
    #[cold]
    #[inline(never)]
    fn frame_error(&mut self) -> DecodeError {
        self.failed = true;
        let off = self.offset;
        let Some(h) = parse_header(self.rest) else {
            return DecodeError::truncated(off, "event header", HEADER_LEN, self.rest.len());
        };
        let n = h.event_size as usize;
        if n < HEADER_LEN {
            DecodeError::invalid(off, format!("event size {n} (smaller than a header)"))
                .with_type(h.event_type)
        } else {
            DecodeError::truncated(off, "event", n, self.rest.len()).with_type(h.event_type)
        }
    }
}

impl<'a> Iterator for RawEvents<'a> {
    type Item = Result<RawEvent<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        // The size field of the common header (bytes 9..13).
        let n = match self.rest.get(9..13) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
            _ => 0,
        };
        if n < HEADER_LEN || n > self.rest.len() {
            return Some(Err(self.frame_error()));
        }
        let (ev, rest) = self.rest.split_at(n);
        self.rest = rest;
        let off = self.offset;
        self.offset += n as u64;
        Some(Ok(RawEvent {
            offset: off,
            bytes: ev,
        }))
    }
}

/// Iterator decoding every event of a [`BinlogFile`] (stops after the first error).
pub struct Events<'a> {
    raw: RawEvents<'a>,
    decoder: EventDecoder,
}

impl<'a> Events<'a> {
    /// The decoder (for TABLE_MAP lookups and TRANSACTION_PAYLOAD inner events).
    pub fn decoder(&mut self) -> &mut EventDecoder {
        &mut self.decoder
    }
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = match self.raw.next()? {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let r = self.decoder.decode(raw.offset, raw.bytes);
        if r.is_err() {
            self.raw.failed = true;
        }
        Some(r)
    }
}
