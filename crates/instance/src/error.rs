//! Instance failures, split into definite ones (configuration: retrying cannot help) and
//! transient ones (network, source state: retried with backoff).

/// Why an instance could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] canal_config::ConfigError),
    /// The source database failed or refused.
    #[error(transparent)]
    Source(#[from] canal_binlog::client::ClientError),
    /// No start position could be determined (Java `PositionNotFoundException`).
    #[error("can't find start position: {0}")]
    PositionNotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] canal_store::StoreError),
    /// The meta manager failed.
    #[error(transparent)]
    Meta(#[from] canal_meta::MetaError),
    /// Converting binlog events failed.
    #[error("parse error: {0}")]
    Parse(String),
    /// A rows event without its TABLE_MAP (the dump started inside a transaction): Java
    /// rescans the file and restarts at the last transaction start before it (§5.1 step 4).
    #[error("table id not found at {file}:{offset}")]
    TableIdNotFound {
        /// Binlog file.
        file: String,
        /// Offset of the rows event.
        offset: u64,
    },
    /// Something this build does not support (e.g. an MQ server mode).
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The instance was asked to stop.
    #[error("instance stopped")]
    Stopped,
}

impl InstanceError {
    /// Whether a retry (after a backoff) may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            InstanceError::Source(e) => e.is_transient() || e.is_purged(),
            InstanceError::PositionNotFound(_)
            | InstanceError::Parse(_)
            | InstanceError::TableIdNotFound { .. } => true,
            InstanceError::Meta(_) => true,
            InstanceError::Config(_)
            | InstanceError::Store(_)
            | InstanceError::Unsupported(_)
            | InstanceError::Stopped => false,
        }
    }
}
