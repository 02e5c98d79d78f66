//! canal-binlog: the replica connection to MySQL/MariaDB and the binlog event decoder.
//!
//! Owns sockets to the source ([`client`], written separately) and the decoding of binlog
//! bytes into typed events with exact positions: [`event`] and [`value`] are the contract with
//! the `parse` crate; [`decoder`] (stateful event decoder: FORMAT_DESCRIPTION, checksums,
//! TABLE_MAP cache, TRANSACTION_PAYLOAD and MariaDB compressed events), [`rows`] (row images
//! to borrowed typed values), [`json`] (MySQL binary JSON and partial-update diffs),
//! [`decimal`], [`mod@file`] (framing binlog files) and [`dump`] (`canalctl decode`). It must not
//! know about Canal entries, filters or the store: the `parse` crate consumes what this crate
//! yields and does all Canal-specific rendering.
//!
//! The event and row decoder is hand-written rather than mysql_common's: the row path must
//! decode to borrowed, typed values without allocating per value (mysql_common's row API
//! allocates per row and value and is several times slower on the same file, see
//! `benches/rows.rs`), and it must never panic on untrusted bytes. Checksums use crc32fast,
//! payload decompression zstd and flate2.
//!
//! Hot path (issue 8): [`EventDecoder::decode`] builds the frequent events (rows, TABLE_MAP
//! cache hits, ANNOTATE_ROWS, XID) directly in the returned `Result`; every other type and
//! every error leaves through out-of-line functions, and framing ([`file::RawEvents`]) is
//! inlined. Callers should borrow the event from that `Result` instead of moving the ~190-byte
//! [`event::Event`] out of it. Row images are decoded column by column straight into the
//! caller's reused slots (each type writes its own `Value` variant), walking the null bitmap a
//! byte at a time. No `unsafe`. `examples/rowspeed.rs` measures it (MB per CPU second).

pub mod client;
pub mod decimal;
pub mod decoder;
pub mod dump;
mod error;
pub mod event;
pub mod file;
#[doc(hidden)]
pub mod fuzzing;
pub mod json;
mod read;
pub mod rows;
pub mod tablemap;
pub mod value;

pub use decoder::{EventDecoder, Flavor};
pub use error::{DecodeError, DecodeErrorKind};
pub use file::{BinlogFile, RawEvent};
