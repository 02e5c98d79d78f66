//! canal-server: the Canal client protocol endpoint on `canal.port`.
//!
//! Owns TCP sessions (handshake, auth, subscribe, get, ack, rollback) and the translation of
//! [`service::CanalService`] results into Canal's replies, byte for byte. The batch bookkeeping
//! behind the service (store + meta, Java's `CanalServerWithEmbedded`) is [`embedded`].
//! Must not parse binlog or know how a destination is fed.

pub mod embedded;
pub mod service;
