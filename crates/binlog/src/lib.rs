//! canal-binlog: the replica connection to MySQL/MariaDB and the binlog event decoder.
//!
//! Owns sockets to the source and the decoding of binlog bytes into typed events with exact
//! positions ([`event`], [`value`]). It must not know about Canal entries, filters or the store:
//! the `parse` crate consumes what this crate yields.
//!
//! mysql_common supplies the protocol primitives (handshake packets, auth scrambles); the event
//! and row decoder is our own because the row path must decode to borrowed, typed values without
//! allocating per value (mysql_common's row API is several times slower on the same file).

pub mod event;
pub mod value;
