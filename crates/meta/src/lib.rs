//! canal-meta: client subscriptions, cursors and outstanding batches per destination (memory, file
//! meta.dat, period-mixed), and the parser's own log position managers. Must not know about the
//! store internals or the network.
//!
//! Java counterparts (../shared/compat/operations.md §3, wire-protocol.md §3.1):
//!
//! * [`MetaManager`]: `CanalMetaManager`, method names in snake_case (including Canal's
//!   `get_lastest_batch` / `list_all_batchs` spellings). Implementations:
//!   [`MemoryMetaManager`], [`FileMixedMetaManager`] (`{data_dir}/{destination}/meta.dat`; its
//!   periodic flush emits Java's meta.log lines as tracing events, see [`file`]),
//!   [`PeriodMixedMetaManager`] (memory + periodic flush into any backend `MetaManager`, e.g. the
//!   ZooKeeper one the HA work adds).
//! * [`log_position`]: the parser's `CanalLogPositionManager`s (memory, file `parse.dat`, meta
//!   minimum cursor, failback).
//!
//! Threads: the file and period-mixed managers run one plain background thread each for their
//! periodic flush (they are fed from sync code paths and do blocking file/ZooKeeper I/O, so a
//! thread is simpler and safer than a tokio task). All state sits behind `parking_lot` mutexes
//! held only for in-memory work.

use std::collections::BTreeMap;

use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};

pub mod file;
pub mod log_position;
pub mod memory;
pub mod period;

pub use file::FileMixedMetaManager;
pub use memory::MemoryMetaManager;
pub use period::PeriodMixedMetaManager;

/// Java class of meta failures (`CanalMetaManagerException`).
pub const CANAL_META_MANAGER_EXCEPTION: &str =
    "com.alibaba.otter.canal.meta.exception.CanalMetaManagerException";

/// Meta manager failures; the message texts are Canal's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// ack/rollback of a batch that is not the oldest outstanding one.
    #[error("batchId:{batch_id} is not the firstly:{min}")]
    NotFirstly {
        /// The batch asked for.
        batch_id: i64,
        /// The oldest outstanding batch.
        min: i64,
    },
    /// The data directory cannot be used.
    #[error("dir[{0}] can not read/write")]
    DirNotAccessible(String),
    /// File I/O failed.
    #[error("{0}")]
    Io(String),
    /// A stored document could not be parsed.
    #[error("{0}")]
    Json(String),
    /// The backend (e.g. ZooKeeper) failed.
    #[error("{0}")]
    Backend(String),
}

impl MetaError {
    /// The Java exception class Canal reports.
    pub fn java_class(&self) -> &'static str {
        CANAL_META_MANAGER_EXCEPTION
    }
}

/// Result alias.
pub type MetaResult<T> = Result<T, MetaError>;

/// Java `CanalMetaManager`: subscriptions, cursors and outstanding batches per client identity
/// (destination + client id; the filter is not part of identity).
pub trait MetaManager: Send + Sync {
    /// Starts the manager (idempotent).
    fn start(&self) -> MetaResult<()>;
    /// Stops it (final flush for persistent variants).
    fn stop(&self) -> MetaResult<()>;
    /// Whether started.
    fn is_start(&self) -> bool;

    /// Adds the client (re-subscribing moves it to the end and updates the filter).
    fn subscribe(&self, client: &ClientIdentity) -> MetaResult<()>;
    /// Whether the client is subscribed.
    fn has_subscribe(&self, client: &ClientIdentity) -> MetaResult<bool>;
    /// Removes the client (cursor and batches stay).
    fn unsubscribe(&self, client: &ClientIdentity) -> MetaResult<()>;
    /// Subscribed clients of a destination, in subscription order.
    fn list_all_subscribe_info(&self, destination: &str) -> MetaResult<Vec<ClientIdentity>>;

    /// Last acked position of the client, if any.
    fn get_cursor(&self, client: &ClientIdentity) -> MetaResult<Option<LogPosition>>;
    /// Sets the client's cursor.
    fn update_cursor(&self, client: &ClientIdentity, position: &LogPosition) -> MetaResult<()>;

    /// Records a batch under the next id (per-client counter starting at 1).
    fn add_batch(&self, client: &ClientIdentity, range: PositionRange) -> MetaResult<i64>;
    /// Records a batch under `batch_id`; the counter becomes `max(counter, batch_id + 1)`.
    fn add_batch_with_id(
        &self,
        client: &ClientIdentity,
        range: PositionRange,
        batch_id: i64,
    ) -> MetaResult<()>;
    /// Range of the highest outstanding id.
    fn get_lastest_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>>;
    /// Range of the lowest outstanding id.
    fn get_first_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>>;
    /// Range of `batch_id`.
    fn get_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>>;
    /// Removes `batch_id`: `None` if unknown, [`MetaError::NotFirstly`] if it is not the lowest
    /// outstanding id.
    fn remove_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>>;
    /// All outstanding batches, by id.
    fn list_all_batchs(&self, client: &ClientIdentity) -> MetaResult<BTreeMap<i64, PositionRange>>;
    /// Drops all outstanding batches of the client.
    fn clear_all_batchs(&self, client: &ClientIdentity) -> MetaResult<()>;
}

/// Java `CanalEventUtils.min`: with the same source identity the smaller journal/offset wins,
/// otherwise the older timestamp; ties keep `a`.
pub fn min_position<'a>(a: &'a LogPosition, b: &'a LogPosition) -> &'a LogPosition {
    if a.identity == b.identity {
        let ja = a.postion.journal_name.as_deref().unwrap_or("");
        let jb = b.postion.journal_name.as_deref().unwrap_or("");
        match ja.cmp(jb) {
            std::cmp::Ordering::Greater => b,
            std::cmp::Ordering::Less => a,
            std::cmp::Ordering::Equal => {
                if a.postion.position.unwrap_or(0) > b.postion.position.unwrap_or(0) {
                    b
                } else {
                    a
                }
            }
        }
    } else if a.postion.timestamp.unwrap_or(0) > b.postion.timestamp.unwrap_or(0) {
        b
    } else {
        a
    }
}
