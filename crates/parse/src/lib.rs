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
//! `encode` (private: the direct protobuf writer of the ROWDATA hot path — rows events are written
//! from the decoded values into reused buffers, byte-identical to prost's encoding of the
//! `Column`/`RowData`/`RowChange` structs, which `tests/direct_encode.rs` checks on every recorded
//! binlog; hand-written because prost encodes only from owned message structs).
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
