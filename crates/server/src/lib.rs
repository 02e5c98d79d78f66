//! canal-server: the Canal client protocol endpoint on `canal.port`.
//!
//! Owns TCP sessions (handshake, auth, subscribe, get, ack, rollback) and the translation of
//! [`service::CanalService`] results into Canal's replies, byte for byte. The batch bookkeeping
//! behind the service (store + meta, Java's `CanalServerWithEmbedded`) is [`embedded`].
//! Must not parse binlog or know how a destination is fed.
//!
//! Layout: [`Server`] (accept loop, connection limit, graceful shutdown; `server.rs`), one
//! session task per connection (`session.rs`: the AUTH/SESSION state machine of
//! ../shared/compat/wire-protocol.md §2), `wire.rs` (protobuf-java-compatible lenient request
//! decoding, the zero-copy MESSAGES frame), `java.rs` (the JDK/protobuf-java/Netty texts that
//! appear inside Canal's error replies). The proof is the replay of every golden wire capture in
//! `tests/golden_wire.rs` (against an in-memory test service and against [`embedded::Embedded`]);
//! `tests/sessions.rs` covers bad input, auth, destinations, shutdown and limits,
//! `tests/python_client.rs` the unchanged canal-python client, `tests/zk_discovery.rs` the client's
//! ZooKeeper discovery and `tests/quickack.rs` (ignored, measuring) the round-trip cost of a
//! Java-style client that writes header and body separately.
//!
//! Deliberate differences from Java Canal, all documented where they happen: a request frame
//! longer than [`ServerConfig::max_frame`] closes the connection (Java waits for up to 2 GiB), a
//! connection over [`ServerConfig::max_connections`] is closed on accept, foreign exceptions (a
//! non-numeric client_id, a malformed body) are reported without a JVM stack trace, and
//! TCP_QUICKACK is re-armed after each read (Linux) so unchanged Java/Python clients, which write
//! a frame's header and body separately with Nagle on, do not wait ~40 ms per round trip.

pub mod embedded;
pub mod java;
mod server;
pub mod service;
mod session;
pub mod wire;

pub use server::{Server, ServerConfig, ServerError, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME};
