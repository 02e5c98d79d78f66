//! canal-client: an async Rust client for the Canal protocol (connect, auth, subscribe, get, ack,
//! rollback). Must not depend on server internals.
