//! canal-protocol: everything that is Canal's wire format and nothing that moves data.
//!
//! Owns the protobuf schemas of `proto/` (client packets, entries, admin packets) as generated
//! Rust types, the 4-byte big-endian length framing ([`codec`]), typed builders/parsers for every
//! client packet ([`packet`]), the SecurityUtil scramble ([`scramble`]) and the position types that
//! Canal serializes into `meta.dat` and ZooKeeper ([`position`]).
//!
//! It must not touch sockets, threads, files or the binlog: it is shared by the server, the client,
//! the store, the meta managers and the parser, so it stays a leaf.
//!
//! Proof (`tests/`, expected values from ../shared, never from our own output):
//! `golden_wire.rs` rebuilds every frame of the real Java server's captures
//! (`golden/wire/*.frames`) and the canonical frames of `compat/wire-protocol.md` §1.5 byte for
//! byte; `frame_codec.rs` covers split/merged reads, zero-length, oversized, negative and
//! truncated frames; `entry_golden.rs` re-encodes all golden `entries.bin` byte for byte (proto2
//! presence); `python_interop.rs` exchanges an Entry with canal-python's generated classes.
//! `fuzz/fuzz_targets/packet_decode.rs` fuzzes the decoding path. Feature `golden` (tests and
//! benches only) adds the `golden` module: locating `../shared` and reading the recorded `entries.bin`.

pub mod codec;
#[cfg(feature = "golden")]
pub mod golden;
pub mod packet;
pub mod position;
pub mod scramble;

/// Client protocol messages (`CanalProtocol.proto`), package `com.alibaba.otter.canal.protocol`.
pub mod canal {
    include!(concat!(
        env!("OUT_DIR"),
        "/com.alibaba.otter.canal.protocol.rs"
    ));
}

/// Entry messages (`EntryProtocol.proto`): proto2, every set field present on the wire.
///
/// Re-exported from [`canal`], because Java Canal declares both files in the same package.
pub mod entry {
    pub use crate::canal::{
        Column, Entry, EntryType, EventType, Header, Pair, RowChange, RowData, TransactionBegin,
        TransactionEnd, Type,
    };
}

/// Admin protocol messages (`AdminProtocol.proto`); kept apart because it reuses the names
/// `Packet`, `Ack`, `Handshake`, `ClientAuth` and `PacketType`.
pub mod admin {
    include!(concat!(
        env!("OUT_DIR"),
        "/com.alibaba.otter.canal.protocol.admin.rs"
    ));
}
