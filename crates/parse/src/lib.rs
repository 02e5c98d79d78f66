//! canal-parse: turns decoded binlog events into Canal Entry messages (header, RowChange, columns
//! with Canal's exact value strings), keeps table metadata in step with DDL history and applies
//! Canal's filters. Must not open connections of its own except through the metadata source trait
//! ([`TableMetaSource`]), nor touch the store: entries leave this crate serialized
//! ([`ParsedEntry`]).
//!
//! Modules: [`convert`] (event → entry, headers, transactions, DDL entries, rows), [`values`]
//! (column value strings and sqlTypes), [`javafmt`] (Java `Float/Double.toString`, hand-written
//! because no crate reproduces JDK ≤ 18 digit choices), [`json`] (Canal's JSON text and
//! partial-update diffs), [`ddl`] (druid-compatible statement classification), [`meta`] (table
//! definitions replayed from DDL with sqlparser, `SHOW CREATE` type spellings), [`history`]
//! (position-keyed DDL history persisted per destination), [`filter`] (Canal's regex/field
//! filters), [`gtid`] (GTID header state), [`entries_json`] (`canalctl decode --entries`),
//! `encode` (private: the direct protobuf writers — every entry is written field by field from
//! borrowed data, byte-identical to prost's encoding of the `canal_protocol::entry` structs;
//! hand-written because prost encodes only from owned message structs).
//!
//! Hot path (rows events): rows are decoded with the allocation-free `RowReader` into one reused
//! `Row`; the constant bytes of each column (index, usual sqlType, name, isKey, mysqlType) are
//! encoded once per resolved table; each value is rendered straight into the output after its
//! column prefix (integers and temporals through digit tables, DECIMAL from the packed groups on
//! the stack, FLOAT/DOUBLE by [`javafmt`]'s `push_*` functions, exact `u128` arithmetic where the
//! JDK would use big integers and the operands fit), with `Column`/value/`RowData` lengths
//! reserved as in the previous row and patched in place. The `RowChange` is written after room
//! for the header into the entry's own buffer, so a large entry is never copied (a small one is
//! copied once into an exact allocation and the buffer reused). Consecutive rows events of one
//! table skip the filter/metadata lookups. Headers, transaction begin/end, query and DDL entries
//! use the same writer with exact-size allocations (the GTID set text is rendered once per
//! change, not per entry). `Converter::set_struct_rows` switches every entry to the prost
//! structs instead — the oracle of `tests/direct_encode.rs`, which compares both on every
//! recorded binlog, with and without GTID mode and field filters. Per-entry heap work left: the
//! entry bytes, and `EntryPosition.file` (a `String`, part of the public API).
//!
//! Use: build a [`Converter`] from [`ConvertOptions`] (the instance maps Canal properties onto
//! it; note `black_regex` defaults to empty here while Canal's shipped instance.properties sets
//! `mysql\.slave_.*`), optionally attach a blocking [`TableMetaSource`] (`SHOW CREATE TABLE`)
//! — or, from async code, ask [`Converter::missing_table_meta`] before each event and hand the
//! text over with [`Converter::put_show_create`] — and a [`History`] opened under
//! `<data dir>/<destination>`; then feed every decoded event to [`Converter::convert`] (inner
//! events of a TRANSACTION_PAYLOAD to [`Converter::convert_inner`]) and store the
//! [`ParsedEntry`]s it appends.
//!
//! Known differences from Java Canal (deliberate, data-preserving): an unchanged JSON column of
//! a MySQL partial-JSON update row carries its before value (Java Canal emits `""`); a row image
//! whose columns disagree with the known table definition is an error naming both column lists
//! (Java Canal misnames silently when the image is shorter); VECTOR columns are emitted as
//! Latin-1 bytes (Java Canal fails); GTIDLOG and HEARTBEAT entries are not produced (Java Canal
//! builds and then drops them before the store); MariaDB QUERY_COMPRESSED statements (decompressed
//! by the decoder) are converted like plain QUERY events (Java Canal silently loses them); MySQL
//! TRANSACTION_PAYLOAD contents are always converted (Java Canal loses them in serial mode).

#![warn(missing_docs)]

pub mod convert;
pub mod ddl;
mod encode;
pub mod entries_json;
pub mod filter;
pub mod gtid;
pub mod history;
pub mod javafmt;
pub mod json;
pub mod meta;
mod tablemap_type;
pub mod values;

pub use convert::{ConvertOptions, Converter, EntryPosition, ParsedEntry, TableMetaSource};
pub use history::History;
pub use meta::Flavor;

/// Conversion errors. Each names the table and binlog position where it applies.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// A rows event for a table id with no TABLE_MAP.
    #[error("table id {table_id} not mapped at {file}:{offset}")]
    TableIdNotFound {
        /// Table id.
        table_id: u64,
        /// Binlog file.
        file: String,
        /// Event offset.
        offset: u64,
    },
    /// No definition known and none available from the source.
    #[error("{0}")]
    NoTableMeta(String),
    /// Row image vs definition mismatch.
    #[error("{0}")]
    ColumnMismatch(String),
    /// Row decoding failed.
    #[error("decode: {0}")]
    Decode(String),
    /// DDL that cannot be processed.
    #[error("ddl: {0}")]
    Ddl(String),
    /// Live metadata source failure.
    #[error("table meta source: {0}")]
    MetaSource(String),
    /// Bad configuration (filters, zone, GTID set).
    #[error("config: {0}")]
    Config(String),
    /// History store I/O.
    #[error("history: {0}")]
    History(#[from] std::io::Error),
}
