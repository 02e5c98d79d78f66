//! The contract between the network sessions and whatever serves destinations.
//!
//! Sessions call these methods; `embedded::Embedded` implements them over the store and the meta
//! manager of each running destination; tests may implement them directly.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::position::ClientIdentity;

/// One batch handed to a client: its id (-1 = nothing available) and the serialized entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub id: i64,
    pub entries: Vec<Bytes>,
}

/// A failure as Java Canal reports it: the exception class and message end up in a 400 reply
/// (`something goes wrong with channel: [...], exception: <class>: <message>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}: {message}")]
pub struct ServiceError {
    /// Java class name, e.g. `com.alibaba.otter.canal.server.exception.CanalServerException`.
    pub class: &'static str,
    pub message: String,
    /// Extra text Java would print after the message (a stack trace for foreign exceptions).
    pub trace: Option<String>,
}

/// Java's `CanalServerException` class name.
pub const CANAL_SERVER_EXCEPTION: &str =
    "com.alibaba.otter.canal.server.exception.CanalServerException";

impl ServiceError {
    /// A `CanalServerException` with `message`.
    pub fn canal(message: impl Into<String>) -> Self {
        Self {
            class: CANAL_SERVER_EXCEPTION,
            message: message.into(),
            trace: None,
        }
    }
}

/// What a Canal server offers its clients (Java `CanalServerWithEmbedded`).
pub trait CanalService: Send + Sync + 'static {
    /// Whether `destination` runs here (Java: `destination:X should start first` otherwise).
    fn is_running(&self, destination: &str) -> bool;

    /// Subscribe (or re-subscribe with a new filter).
    fn subscribe(&self, client: &ClientIdentity) -> Result<(), ServiceError>;

    /// Unsubscribe.
    fn unsubscribe(&self, client: &ClientIdentity) -> Result<(), ServiceError>;

    /// Whether `client` is subscribed.
    fn has_subscribe(&self, client: &ClientIdentity) -> Result<bool, ServiceError>;

    /// GET without ack. `timeout`: `None` = block until a full batch is available (Java's
    /// `get(batchSize)` without timeout), `Some(d)` = wait at most `d`.
    fn get_without_ack(
        &self,
        client: &ClientIdentity,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Result<Batch, ServiceError>> + Send;

    /// Ack `batch_id` (must be the oldest outstanding batch).
    fn ack(&self, client: &ClientIdentity, batch_id: i64) -> Result<(), ServiceError>;

    /// Roll back everything outstanding (`None`) or one batch.
    fn rollback(&self, client: &ClientIdentity, batch_id: Option<i64>) -> Result<(), ServiceError>;
}
