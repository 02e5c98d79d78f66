//! canal-sink: sits between the parser and the store; assembles transactions, splits them by
//! canal.instance.transaction.size, handles heartbeats and drops empty filtered transactions. Must
//! not decode binlog or serve clients.
//!
//! Two pieces, as in Java Canal (entry-conversion.md §6):
//!
//! * [`TransactionBuffer`] (Java `EventTransactionBuffer`, in Canal's parse module): collects
//!   entries and hands out chunks: TRANSACTIONBEGIN flushes what is pending and opens a chunk,
//!   TRANSACTIONEND closes it, a ROWDATA entry whose header eventType is not INSERT/UPDATE/DELETE
//!   (DDL, QUERY, …) and a HEARTBEAT flush at once, GTIDLOG and unknown types are discarded, and
//!   a full buffer (`transaction.size` entries) is flushed, so a big transaction is split into
//!   chunks where only the first holds the BEGIN and only the last the END. It is generic over
//!   [`TxItem`], so the parser can feed its own entry type or the store's [`Event`].
//! * [`EntrySink`] (Java `EntryEventSink` + `HeartBeatEntryEventHandler`): per chunk, optionally
//!   drops BEGIN/END (`filterTransactionEntry`), stores chunks with ROWDATA or HEARTBEAT, stores a
//!   chunk without ROWDATA (an empty or all-filtered transaction, or a trailing END-only chunk)
//!   only if its first entry's executeTime is more than 5 s away from the last stored empty
//!   chunk or more than 8192 were suppressed since, strips heartbeats, then puts the chunk into
//!   the store — blocking (back-pressure) instead of Java's tryPut/park loop, which has the same
//!   effect without spinning.
//!
//! The chunks are returned to the caller rather than pushed through a callback so the same code
//! serves a parser on a plain thread ([`EntrySink::sink_blocking`]) and one running as a tokio
//! task ([`EntrySink::sink`]).

use std::sync::Arc;
use std::time::Instant;

use canal_protocol::entry::{Entry, EntryType, EventType};
use canal_store::{Event, EventStore, StoreError};

/// Sink failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Bad configuration, e.g. a transaction size that is not a power of two.
    #[error("{0}")]
    Config(String),
    /// The store refused the chunk (stopped, too large).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the transaction buffer and the sink need to know about an entry.
pub trait TxItem {
    /// Entry type (proto2 default ROWDATA when absent).
    fn entry_type(&self) -> EntryType;
    /// Header eventType (proto2 default UPDATE when absent).
    fn event_type(&self) -> EventType;
}

impl TxItem for Event {
    fn entry_type(&self) -> EntryType {
        self.entry_type
    }
    fn event_type(&self) -> EventType {
        self.event_type
    }
}

impl TxItem for Entry {
    fn entry_type(&self) -> EntryType {
        Entry::entry_type(self)
    }
    fn event_type(&self) -> EventType {
        self.header
            .as_ref()
            .map(|h| h.event_type())
            .unwrap_or(EventType::Update)
    }
}

fn is_dml(t: EventType) -> bool {
    matches!(t, EventType::Insert | EventType::Update | EventType::Delete)
}

/// Java `EventTransactionBuffer` (`canal.instance.transaction.size`, default 1024).
#[derive(Debug)]
pub struct TransactionBuffer<T> {
    size: usize,
    pending: Vec<T>,
}

impl<T: TxItem> TransactionBuffer<T> {
    /// A buffer of `size` entries; `size` must be a power of two (Canal's check).
    pub fn new(size: usize) -> Result<Self, SinkError> {
        if !size.is_power_of_two() {
            return Err(SinkError::Config("bufferSize must be a power of 2".into()));
        }
        Ok(Self {
            size,
            pending: Vec::with_capacity(size.min(4096)),
        })
    }

    /// Adds one entry; returns the chunks that became ready (in order, usually zero or one).
    pub fn push(&mut self, item: T) -> Vec<Vec<T>> {
        let mut out = Vec::new();
        match item.entry_type() {
            EntryType::Transactionbegin => {
                out.extend(self.flush());
                self.put(item, &mut out);
            }
            EntryType::Transactionend | EntryType::Heartbeat => {
                self.put(item, &mut out);
                out.extend(self.flush());
            }
            EntryType::Rowdata => {
                let dml = is_dml(item.event_type());
                self.put(item, &mut out);
                if !dml {
                    out.extend(self.flush());
                }
            }
            EntryType::Gtidlog => {}
        }
        out
    }

    fn put(&mut self, item: T, out: &mut Vec<Vec<T>>) {
        if self.pending.len() >= self.size {
            out.extend(self.flush());
        }
        self.pending.push(item);
    }

    /// Hands out whatever is pending.
    pub fn flush(&mut self) -> Option<Vec<T>> {
        if self.pending.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.pending))
        }
    }

    /// Drops pending entries (parser reconnect).
    pub fn reset(&mut self) {
        self.pending.clear();
    }

    /// Entries waiting for a flush.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

/// The entry whose position the parser persists after a chunk was sunk: the last TRANSACTIONEND
/// at index >= 1 (Java `buildLastTransactionPosition`).
pub fn last_transaction_end<T: TxItem>(chunk: &[T]) -> Option<&T> {
    chunk
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, e)| e.entry_type() == EntryType::Transactionend)
        .map(|(_, e)| e)
}

/// Sink settings (Java `EntryEventSink` fields; instance XML `filterTransactionEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    /// Drop BEGIN/END entries where possible (`canal.instance.filter.transaction.entry`).
    pub filter_transaction_entry: bool,
    /// Apply the empty-transaction rule (always true in Canal).
    pub filter_empty_transaction: bool,
    /// Milliseconds between two stored empty transactions (5000).
    pub empty_transaction_interval: i64,
    /// Suppressed empty transactions after which one is stored anyway (8192).
    pub empty_transaction_threshold: i64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            filter_transaction_entry: false,
            filter_empty_transaction: true,
            empty_transaction_interval: 5000,
            empty_transaction_threshold: 8192,
        }
    }
}

/// Counters for metrics (`canal_instance_transactions`, `canal_instance_sink_blocking_time`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// TRANSACTIONEND entries stored.
    pub transactions: u64,
    /// Time spent waiting for room in the store, nanoseconds.
    pub blocking_nanos: u64,
    /// Latest executeTime seen in a stored chunk (ms).
    pub last_execute_time: i64,
    /// Chunks dropped by the empty-transaction rule.
    pub dropped_empty: u64,
}

/// Java `EntryEventSink` in front of one store.
#[derive(Debug)]
pub struct EntrySink {
    store: Arc<EventStore>,
    cfg: SinkConfig,
    last_tx_ts: i64,
    last_tx_count: i64,
    last_empty_ts: i64,
    last_empty_count: i64,
    stats: SinkStats,
}

impl EntrySink {
    /// A sink into `store`.
    pub fn new(store: Arc<EventStore>, cfg: SinkConfig) -> Self {
        Self {
            store,
            cfg,
            last_tx_ts: 0,
            last_tx_count: 0,
            last_empty_ts: 0,
            last_empty_count: 0,
            stats: SinkStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> SinkStats {
        self.stats
    }

    /// The store.
    pub fn store(&self) -> &Arc<EventStore> {
        &self.store
    }

    /// Applies Canal's per-chunk rules; `None` = chunk dropped, else the events to put
    /// (heartbeats removed; possibly empty).
    pub fn prepare(&mut self, chunk: Vec<Event>) -> Option<Vec<Event>> {
        let mut has_row = false;
        let mut has_heartbeat = false;
        let mut events = Vec::with_capacity(chunk.len());
        for e in chunk {
            let is_tx = matches!(
                e.entry_type,
                EntryType::Transactionbegin | EntryType::Transactionend
            );
            if self.cfg.filter_transaction_entry && is_tx {
                let ts = e.execute_time;
                self.last_tx_count += 1;
                if self.last_tx_count <= self.cfg.empty_transaction_threshold
                    && (ts - self.last_tx_ts).abs() <= self.cfg.empty_transaction_interval
                {
                    continue;
                }
                if e.entry_type == EntryType::Transactionend {
                    self.last_tx_count = 0;
                    self.last_tx_ts = ts;
                }
            }
            has_row |= e.entry_type == EntryType::Rowdata;
            has_heartbeat |= e.entry_type == EntryType::Heartbeat;
            events.push(e);
        }
        if !(has_row || has_heartbeat) {
            let first = events.first()?;
            if !self.cfg.filter_empty_transaction {
                return None;
            }
            let ts = first.execute_time;
            let far = (ts - self.last_empty_ts).abs() > self.cfg.empty_transaction_interval;
            // Java evaluates the counter only when the time test fails (short-circuit `||`).
            if far || {
                self.last_empty_count += 1;
                self.last_empty_count > self.cfg.empty_transaction_threshold
            } {
                self.last_empty_count = 0;
                self.last_empty_ts = ts;
            } else {
                self.stats.dropped_empty += 1;
                return None;
            }
        }
        if has_heartbeat {
            events.retain(|e| e.entry_type != EntryType::Heartbeat);
        }
        Some(events)
    }

    fn summary(events: &[Event]) -> (u64, i64) {
        let ends = events
            .iter()
            .filter(|e| e.entry_type == EntryType::Transactionend)
            .count() as u64;
        let last = events
            .iter()
            .rev()
            .map(|e| e.execute_time)
            .find(|t| *t > 0)
            .unwrap_or(0);
        (ends, last)
    }

    fn account(&mut self, (ends, last): (u64, i64), started: Option<Instant>) {
        self.stats.transactions += ends;
        if last > 0 {
            self.stats.last_execute_time = last;
        }
        if let Some(t) = started {
            self.stats.blocking_nanos += t.elapsed().as_nanos() as u64;
        }
    }

    /// Sinks one chunk from a plain thread, blocking while the store is full.
    /// `Ok(false)` when the chunk was dropped by the empty-transaction rule.
    pub fn sink_blocking(&mut self, chunk: Vec<Event>) -> Result<bool, SinkError> {
        let Some(mut events) = self.prepare(chunk) else {
            return Ok(false);
        };
        let summary = Self::summary(&events);
        if self.store.try_put(&mut events)? {
            self.account(summary, None);
            return Ok(true);
        }
        let t = Instant::now();
        self.store.put_blocking(events)?;
        self.account(summary, Some(t));
        Ok(true)
    }

    /// Sinks one chunk from an async task, waiting while the store is full.
    pub async fn sink(&mut self, chunk: Vec<Event>) -> Result<bool, SinkError> {
        let Some(mut events) = self.prepare(chunk) else {
            return Ok(false);
        };
        let summary = Self::summary(&events);
        if self.store.try_put(&mut events)? {
            self.account(summary, None);
            return Ok(true);
        }
        let t = Instant::now();
        self.store.put(events).await?;
        self.account(summary, Some(t));
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
