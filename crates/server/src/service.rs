//! The contract between the network sessions and whatever serves destinations.
//!
//! Sessions call these methods; `embedded::Embedded` implements them over the store and the meta
//! manager of each running destination; tests may implement them directly.
//!
//! What the session layer (`crate::session`) already does, so implementations need not:
//! * validation of `destination`/`client_id` (401), `client_id` parsing (Java `short`), batch id 0
//!   on ack (402) and −1 on ack (ignored);
//! * for GET, CLIENTACK and CLIENTROLLBACK it calls [`CanalService::is_running`] first and answers
//!   `destination:<d> should start first` itself ([`ServiceError::not_started`]); SUB and UNSUB go
//!   straight to the service, which must give Canal's answers there (lazy start on SUB, the guava
//!   `can't find destination` error on UNSUB of an unknown destination, ...);
//! * the 400 text: `something goes wrong with channel: [...], exception: ` followed by
//!   [`ServiceError::java_text`].
//!
//! Contract notes for implementers (added by the server owner):
//! * `get_without_ack(.., Some(Duration::ZERO))` is Java's non-blocking `tryGet` (GET with an
//!   explicit timeout −1); `None` blocks until a full batch exists; `Some(d)` waits up to `d` for a
//!   full batch, then returns whatever exists.
//! * The GET future may be dropped before it completes (client disconnected, idle timeout, server
//!   shutdown): it must be cancel-safe, i.e. not register a batch unless it returns it.
//! * [`CanalService::raw_entries`] (default `true`) picks the MESSAGES form per destination;
//!   `Embedded` should return its destination's store raw flag.
//! * Durations may be huge (`Get.timeout` is an i64 in any `TimeUnit`); saturate, never panic.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::position::ClientIdentity;

/// One batch handed to a client: its id (-1 = nothing available) and the serialized entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Batch id; -1 when nothing was available.
    pub id: i64,
    /// Serialized `CanalEntry.Entry` messages, sent verbatim (no copy for large entries).
    pub entries: Vec<Bytes>,
}

/// A failure as Java Canal reports it: the exception class and message end up in a 400 reply
/// (`something goes wrong with channel: [...], exception: <class>: <message>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}: {message}")]
pub struct ServiceError {
    /// Java class name, e.g. `com.alibaba.otter.canal.server.exception.CanalServerException`.
    pub class: &'static str,
    /// Exception message.
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

    /// Java's answer for a destination that does not run here:
    /// `CanalServerException: destination:<d> should start first`.
    pub fn not_started(destination: &str) -> Self {
        Self::canal(format!("destination:{destination} should start first"))
    }

    /// Any other Java exception class (e.g. `java.lang.NumberFormatException`).
    pub fn foreign(class: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            trace: None,
        }
    }

    /// What Java's `ExceptionUtils.getStackTrace` gives for this exception: `<class>: <message>\n`
    /// followed by the trace text if any (Canal's own exceptions have none).
    pub fn java_text(&self) -> String {
        let mut s = format!("{}: {}\n", self.class, self.message);
        if let Some(t) = &self.trace {
            s.push_str(t);
        }
        s
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

    /// Whether `destination` stores raw entries (`canal.instance.memory.rawEntry`, default true):
    /// MESSAGES with data then carry no version field; otherwise they carry `version = 1`.
    /// (Added by the server owner; the default keeps existing implementations compiling.)
    fn raw_entries(&self, destination: &str) -> bool {
        let _ = destination;
        true
    }

    /// Roll back everything outstanding (`None`) or one batch.
    fn rollback(&self, client: &ClientIdentity, batch_id: Option<i64>) -> Result<(), ServiceError>;
}
