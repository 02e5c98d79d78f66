//! canal-store: the bounded ring buffer of serialized entries with Canal's put/get/ack/rollback
//! sequences and ITEMSIZE/MEMSIZE batches. A full buffer blocks the producer: memory stays
//! bounded. Must not know about sockets, meta persistence or the binlog.
//!
//! What it owns (Java `MemoryEventStoreWithBuffer`, `Event`, `BatchMode`, `CanalEventUtils`;
//! ../shared/compat/wire-protocol.md §3.3):
//!
//! * [`Event`]: one entry, serialized once (`bytes::Bytes`) before it enters the store, plus the
//!   position metadata the batch bookkeeping needs.
//! * [`EventStore`]: one per destination. A ring of `buffer.size` slots (power of two) with the
//!   three sequences put/get/ack (start at -1) and the matching byte counters. ITEMSIZE batches
//!   count events; MEMSIZE batches take events while the bytes taken *before* the next event are
//!   `<= batch_size * memunit` (overshoot by one event). DDL isolation, rollback to the ack
//!   sequence, `getFirstPosition` and the ack position check are Canal's.
//!
//! Concurrency: the state sits behind one `parking_lot::Mutex` (every operation is short and never
//! awaits while holding it). Waiting is done outside the lock: a `parking_lot::Condvar` for
//! producers on plain threads ([`EventStore::put_blocking`]) and `tokio::sync::Notify` for async
//! producers ([`EventStore::put`]) and async consumers ([`EventStore::get`],
//! [`EventStore::get_timeout`], [`EventStore::wait_for_batch`]). Both kinds of producers are
//! offered because the parser may run on a dedicated thread (blocking put = back-pressure on the
//! binlog socket) or as a task. A waiting reader registers the put counter at which its batch is
//! complete, and a put wakes readers only when it reaches that point (not once per chunk: a
//! MariaDB stream flushes a chunk per statement); stop and rollback always wake them.
//!
//! Entries usually arrive serialized ([`Event::from_bytes`]); the metadata an event keeps is then
//! read by an allocation-free scan of the envelope and header (`scan.rs`), falling back to
//! prost's full decoding for anything unusual.
//!
//! Memory: unlike Java (which only clears acked slots in MEMSIZE mode), acked events always drop
//! their bytes, keeping only the metadata of the last acked event for `first_position`. In MEMSIZE
//! mode a put is admitted while `put_bytes - ack_bytes < buffer.size * memunit` (Canal's rule), so
//! the resident payload is bounded by that limit plus one put chunk (measured by `tests/rss.rs`:
//! 16 MiB store, stalled consumer, RSS +17 MiB). In ITEMSIZE mode only the slot count bounds it.
//!
//! Other deliberate differences, both on paths where Java fails: an ack that moves the ack
//! cursor past the read cursor (Canal's rollback(id) trap) moves the read cursor along instead of
//! later reading released slots; a put larger than the ring fails instead of blocking forever.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::entry::{Entry, EntryType, EventType};
use canal_protocol::position::{EntryPosition, LogIdentity, LogPosition, PositionRange};
use parking_lot::{Condvar, Mutex};
use prost::Message;
use tokio::sync::Notify;

/// Java class of store failures (`CanalStoreException`).
pub const CANAL_STORE_EXCEPTION: &str = "com.alibaba.otter.canal.store.CanalStoreException";

const INIT_SEQUENCE: i64 = -1;

/// Store failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Bad configuration (Java: `IllegalArgumentException`).
    #[error("{0}")]
    Config(String),
    /// `ack` found no event matching the position (Java text `no match ack position<pos>`).
    #[error("no match ack position{0}")]
    NoMatchAck(String),
    /// The store was stopped (instance stop) while waiting or afterwards.
    #[error("store is stopped")]
    Stopped,
    /// A batch selection with no event although data exists (ITEMSIZE with `batch_size <= 0`,
    /// MEMSIZE with a negative byte limit): Java fails with `IndexOutOfBoundsException`.
    #[error("Index 0 out of bounds for length 0")]
    EmptySelection,
    /// More events in one put than the ring has slots: Java would block forever.
    #[error("put of {0} events can never fit a buffer of {1} slots")]
    TooLarge(usize, usize),
    /// A slot that must hold an event is empty (an internal invariant broke).
    #[error("store slot {0} is empty")]
    MissingSlot(i64),
}

impl StoreError {
    /// The Java exception class Canal would report for this failure.
    pub fn java_class(&self) -> &'static str {
        match self {
            StoreError::Config(_) => "java.lang.IllegalArgumentException",
            StoreError::EmptySelection => "java.lang.IndexOutOfBoundsException",
            _ => CANAL_STORE_EXCEPTION,
        }
    }
}

/// How batch sizes are counted (`canal.instance.memory.batch.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchMode {
    /// `batch_size` = number of events.
    ItemSize,
    /// `batch_size` = units of `memunit` bytes of serialized entries (Spring default).
    #[default]
    MemSize,
}

impl std::str::FromStr for BatchMode {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "ITEMSIZE" => Ok(BatchMode::ItemSize),
            "MEMSIZE" => Ok(BatchMode::MemSize),
            other => Err(StoreError::Config(format!(
                "No enum constant com.alibaba.otter.canal.store.model.BatchMode.{other}"
            ))),
        }
    }
}

impl std::fmt::Display for BatchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BatchMode::ItemSize => "ITEMSIZE",
            BatchMode::MemSize => "MEMSIZE",
        })
    }
}

/// Store settings (canal.properties `canal.instance.memory.*`, `canal.instance.get.ddl.isolation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Ring slots, a power of two (`buffer.size`, default 16384).
    pub buffer_size: usize,
    /// Bytes per MEMSIZE unit (`buffer.memunit`, default 1024).
    pub mem_unit: i32,
    /// ITEMSIZE or MEMSIZE (`batch.mode`, default MEMSIZE).
    pub batch_mode: BatchMode,
    /// Return DDL events alone (`get.ddl.isolation`, default false).
    pub ddl_isolation: bool,
    /// Raw mode (`rawEntry`, default true): event size = serialized length; otherwise
    /// `eventLength * 6`. Also decides the MESSAGES packet form (server side).
    pub raw: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            buffer_size: 16 * 1024,
            mem_unit: 1024,
            batch_mode: BatchMode::MemSize,
            ddl_isolation: false,
            raw: true,
        }
    }
}

/// DDL event types for isolation and ack points (ALTER, CREATE, ERASE, RENAME, TRUNCATE,
/// CINDEX, DINDEX).
pub fn is_ddl(t: EventType) -> bool {
    matches!(
        t,
        EventType::Alter
            | EventType::Create
            | EventType::Erase
            | EventType::Rename
            | EventType::Truncate
            | EventType::Cindex
            | EventType::Dindex
    )
}

/// One stored entry (Java `store.model.Event`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Source of the event (MySQL address, slave id -1).
    pub identity: Arc<LogIdentity>,
    /// The serialized `Entry`; `None` once the event was acked (memory released).
    pub entry: Option<Bytes>,
    /// Header executeTime (ms).
    pub execute_time: i64,
    /// Entry type (absent on the wire reads as ROWDATA, proto2 default).
    pub entry_type: EntryType,
    /// Header logfileName.
    pub journal_name: Arc<str>,
    /// Header logfileOffset (event start offset).
    pub position: i64,
    /// Header serverId.
    pub server_id: i64,
    /// Header eventType (absent reads as UPDATE, proto2 default).
    pub event_type: EventType,
    /// Header gtid (`""` when absent).
    pub gtid: Arc<str>,
    /// Size used for MEMSIZE accounting (raw: serialized length; else eventLength × 6).
    pub raw_length: i64,
    /// `rowsCount` header prop of ROWDATA entries (0 otherwise).
    pub rows_count: i32,
}

impl Event {
    /// Builds the event for `entry`, serializing it once (Java `new Event(identity, entry, raw)`).
    pub fn from_entry(identity: Arc<LogIdentity>, entry: &Entry, raw: bool) -> Self {
        let bytes = Bytes::from(entry.encode_to_vec());
        Self::with_bytes(identity, entry, bytes, raw)
    }

    /// Builds the event from already serialized entry bytes. The metadata is read by a scan of
    /// the envelope and header that allocates nothing ([`scan::scan_entry`]); anything the scan
    /// does not vouch for (groups, odd wire types, invalid UTF-8 ...) goes through prost's full
    /// decoding instead, so the result and the errors are prost's.
    pub fn from_bytes(
        identity: Arc<LogIdentity>,
        bytes: Bytes,
        raw: bool,
    ) -> Result<Self, prost::DecodeError> {
        let Some(m) = scan::scan_entry(&bytes) else {
            let entry = Entry::decode(bytes.clone())?;
            return Ok(Self::with_bytes(identity, &entry, bytes, raw));
        };
        let raw_length = if raw {
            bytes.len() as i64
        } else {
            m.event_length.wrapping_mul(6)
        };
        Ok(Self {
            identity,
            execute_time: m.execute_time,
            entry_type: m.entry_type,
            journal_name: scan::intern_journal(m.logfile_name),
            position: m.logfile_offset,
            server_id: m.server_id,
            event_type: m.event_type,
            gtid: scan::intern_gtid(m.gtid),
            raw_length,
            rows_count: m.rows_count,
            entry: Some(bytes),
        })
    }

    fn with_bytes(identity: Arc<LogIdentity>, entry: &Entry, bytes: Bytes, raw: bool) -> Self {
        let header = entry.header.clone().unwrap_or_default();
        let entry_type = entry.entry_type();
        let mut rows_count = 0;
        if entry_type == EntryType::Rowdata {
            if let Some(p) = header.props.iter().find(|p| p.key() == "rowsCount") {
                rows_count = p.value().trim().parse().unwrap_or(0);
            }
        }
        let raw_length = if raw {
            bytes.len() as i64
        } else {
            header.event_length().wrapping_mul(6)
        };
        Self {
            identity,
            entry: Some(bytes),
            execute_time: header.execute_time(),
            entry_type,
            journal_name: Arc::from(header.logfile_name()),
            position: header.logfile_offset(),
            server_id: header.server_id(),
            event_type: header.event_type(),
            gtid: Arc::from(header.gtid()),
            raw_length,
            rows_count,
        }
    }

    /// Java `CanalEventUtils.createPosition(event, included)`.
    pub fn log_position(&self, included: bool) -> LogPosition {
        LogPosition {
            identity: (*self.identity).clone(),
            postion: EntryPosition {
                journal_name: Some(self.journal_name.to_string()),
                position: Some(self.position),
                server_id: Some(self.server_id),
                gtid: Some(self.gtid.to_string()),
                timestamp: Some(self.execute_time),
                included,
            },
        }
    }

    /// Whether this event is a point a client cursor may move to: a TRANSACTIONBEGIN without
    /// GTID, a TRANSACTIONEND, or a DDL.
    pub fn is_ack_point(&self) -> bool {
        (self.entry_type == EntryType::Transactionbegin && self.gtid.is_empty())
            || self.entry_type == EntryType::Transactionend
            || is_ddl(self.event_type)
    }

    /// Java `CanalEventUtils.checkPosition`: same timestamp, and unless the position has neither
    /// journal nor offset, the same offset and journal.
    pub fn matches_position(&self, pos: &LogPosition) -> bool {
        let p = &pos.postion;
        if p.timestamp != Some(self.execute_time) {
            return false;
        }
        let journal_blank = p
            .journal_name
            .as_deref()
            .is_none_or(|j| j.trim().is_empty());
        if journal_blank && p.position.is_none() {
            return true;
        }
        p.position == Some(self.position) && p.journal_name.as_deref() == Some(&*self.journal_name)
    }
}

/// Result of a read: the events and their range (`None` when empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Events {
    /// Events in ring order.
    pub events: Vec<Event>,
    /// start/end/ack positions and the ring sequence of the last event.
    pub range: Option<PositionRange>,
}

impl Events {
    /// No events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Counters of the store, for metrics (`canal_instance_store_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Last put sequence (-1 = none).
    pub put_seq: i64,
    /// Last read sequence.
    pub get_seq: i64,
    /// Last acked sequence.
    pub ack_seq: i64,
    /// Bytes put.
    pub put_mem: i64,
    /// Bytes read.
    pub get_mem: i64,
    /// Bytes acked.
    pub ack_mem: i64,
    /// Execute time of the first event of the last put (ms; 0 = none yet).
    pub put_exec_time: i64,
    /// Execute time of the first event of the last get.
    pub get_exec_time: i64,
    /// Execute time of the first event of the last ack.
    pub ack_exec_time: i64,
    /// Rows put / got / acked.
    pub put_rows: i64,
    /// Rows read.
    pub get_rows: i64,
    /// Rows acked.
    pub ack_rows: i64,
}

struct Inner {
    ring: Vec<Option<Event>>,
    stats: StoreStats,
    stopped: bool,
    /// Smallest `put_mem` / `put_seq` at which a waiting reader's full batch exists (set by
    /// [`EventStore::wait_for_batch`]): a put wakes readers only when it reaches one, not on
    /// every chunk.
    wake_mem: Option<i64>,
    wake_seq: Option<i64>,
}

/// The per-destination event store (Java `MemoryEventStoreWithBuffer`).
pub struct EventStore {
    cfg: StoreConfig,
    mask: i64,
    inner: Mutex<Inner>,
    not_full_cv: Condvar,
    not_full: Notify,
    not_empty: Notify,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStore")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats())
            .finish()
    }
}

fn first_exec_time(events: &[Event]) -> i64 {
    events
        .iter()
        .map(|e| e.execute_time)
        .find(|t| *t > 0)
        .unwrap_or(0)
}

impl EventStore {
    /// A started store; `buffer_size` must be a power of two (Java message on failure).
    pub fn new(cfg: StoreConfig) -> Result<Self, StoreError> {
        if !cfg.buffer_size.is_power_of_two() || i64::try_from(cfg.buffer_size).is_err() {
            return Err(StoreError::Config(
                "bufferSize must be a power of 2".to_string(),
            ));
        }
        let mut ring = Vec::with_capacity(cfg.buffer_size);
        ring.resize_with(cfg.buffer_size, || None);
        Ok(Self {
            mask: cfg.buffer_size as i64 - 1,
            cfg,
            inner: Mutex::new(Inner {
                ring,
                stats: StoreStats {
                    put_seq: INIT_SEQUENCE,
                    get_seq: INIT_SEQUENCE,
                    ack_seq: INIT_SEQUENCE,
                    ..Default::default()
                },
                stopped: false,
                wake_mem: None,
                wake_seq: None,
            }),
            not_full_cv: Condvar::new(),
            not_full: Notify::new(),
            not_empty: Notify::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    /// Raw mode flag (`canal.instance.memory.rawEntry`).
    pub fn is_raw(&self) -> bool {
        self.cfg.raw
    }

    /// Snapshot of the sequences and counters.
    pub fn stats(&self) -> StoreStats {
        self.inner.lock().stats
    }

    /// MEMSIZE byte limit `buffer.size * memunit`.
    pub fn mem_limit(&self) -> i64 {
        self.cfg.buffer_size as i64 * self.cfg.mem_unit as i64
    }

    fn index(&self, seq: i64) -> usize {
        (seq & self.mask) as usize
    }

    fn slot<'a>(&self, inner: &'a Inner, seq: i64) -> Result<&'a Event, StoreError> {
        inner
            .ring
            .get(self.index(seq))
            .and_then(|s| s.as_ref())
            .ok_or(StoreError::MissingSlot(seq))
    }

    /// Stops the store: waiting producers and consumers fail with [`StoreError::Stopped`] and the
    /// ring is released. A stopped store is not restarted (an instance restart builds a new one).
    pub fn stop(&self) {
        {
            let mut inner = self.inner.lock();
            inner.stopped = true;
            inner.ring.iter_mut().for_each(|s| *s = None);
        }
        self.not_full_cv.notify_all();
        self.not_full.notify_waiters();
        self.not_empty.notify_waiters();
    }

    /// Whether [`EventStore::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.lock().stopped
    }

    // ------------------------------------------------------------------ put

    fn check_free_slot_at(&self, inner: &Inner, seq: i64) -> bool {
        let wrap_point = seq - self.cfg.buffer_size as i64;
        let min_point = inner.stats.get_seq.min(inner.stats.ack_seq);
        if wrap_point > min_point {
            return false;
        }
        match self.cfg.batch_mode {
            BatchMode::MemSize => inner.stats.put_mem - inner.stats.ack_mem < self.mem_limit(),
            BatchMode::ItemSize => true,
        }
    }

    /// Puts `events`; returns whether a waiting reader's batch became complete (wake it).
    fn do_put(&self, inner: &mut Inner, events: Vec<Event>) -> bool {
        let exec = first_exec_time(&events);
        let mut size = 0i64;
        let mut rows = 0i64;
        let mut seq = inner.stats.put_seq;
        for e in events {
            seq += 1;
            size += e.raw_length;
            rows += e.rows_count as i64;
            let idx = self.index(seq);
            if let Some(slot) = inner.ring.get_mut(idx) {
                *slot = Some(e);
            }
        }
        inner.stats.put_seq = seq;
        inner.stats.put_mem += size;
        inner.stats.put_rows += rows;
        if exec > 0 {
            inner.stats.put_exec_time = exec;
        }
        let wake = inner.wake_mem.is_some_and(|t| inner.stats.put_mem >= t)
            || inner.wake_seq.is_some_and(|t| inner.stats.put_seq >= t);
        if wake {
            // Every waiter re-checks and registers its threshold again if still short.
            inner.wake_mem = None;
            inner.wake_seq = None;
        }
        wake
    }

    fn pre_put(&self, inner: &Inner, n: usize) -> Result<(), StoreError> {
        if inner.stopped {
            return Err(StoreError::Stopped);
        }
        if n > self.cfg.buffer_size {
            return Err(StoreError::TooLarge(n, self.cfg.buffer_size));
        }
        Ok(())
    }

    /// Java `tryPut`: puts all of `events` (draining the vector) if there is room, else leaves
    /// them and returns `false`.
    pub fn try_put(&self, events: &mut Vec<Event>) -> Result<bool, StoreError> {
        if events.is_empty() {
            return Ok(true);
        }
        let mut inner = self.inner.lock();
        self.pre_put(&inner, events.len())?;
        if !self.check_free_slot_at(&inner, inner.stats.put_seq + events.len() as i64) {
            return Ok(false);
        }
        let wake = self.do_put(&mut inner, std::mem::take(events));
        drop(inner);
        if wake {
            self.not_empty.notify_waiters();
        }
        Ok(true)
    }

    /// Blocking put for a producer thread: waits until there is room (back-pressure).
    /// Must not be called from an async task (it parks the thread).
    pub fn put_blocking(&self, events: Vec<Event>) -> Result<(), StoreError> {
        self.put_blocking_timeout(events, None).map(|_| ())
    }

    /// Blocking put with a time limit; `Ok(false)` when no room appeared in time.
    pub fn put_blocking_timeout(
        &self,
        events: Vec<Event>,
        timeout: Option<Duration>,
    ) -> Result<bool, StoreError> {
        if events.is_empty() {
            return Ok(true);
        }
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        let mut inner = self.inner.lock();
        loop {
            self.pre_put(&inner, events.len())?;
            if self.check_free_slot_at(&inner, inner.stats.put_seq + events.len() as i64) {
                let wake = self.do_put(&mut inner, events);
                drop(inner);
                if wake {
                    self.not_empty.notify_waiters();
                }
                return Ok(true);
            }
            match deadline {
                None => self.not_full_cv.wait(&mut inner),
                Some(d) => {
                    if self.not_full_cv.wait_until(&mut inner, d).timed_out()
                        && std::time::Instant::now() >= d
                    {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Async put: waits (without blocking the thread) until there is room.
    pub async fn put(&self, events: Vec<Event>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        loop {
            let notified = self.not_full.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.inner.lock();
                self.pre_put(&inner, events.len())?;
                if self.check_free_slot_at(&inner, inner.stats.put_seq + events.len() as i64) {
                    let wake = self.do_put(&mut inner, events);
                    drop(inner);
                    if wake {
                        self.not_empty.notify_waiters();
                    }
                    return Ok(());
                }
            }
            notified.await;
        }
    }

    fn signal_not_full(&self) {
        self.not_full_cv.notify_all();
        self.not_full.notify_waiters();
    }

    // ------------------------------------------------------------------ get

    fn has_full_batch_locked(&self, inner: &Inner, included: bool, batch_size: i32) -> bool {
        let s = &inner.stats;
        match self.cfg.batch_mode {
            BatchMode::ItemSize => {
                let next = if included { s.get_seq } else { s.get_seq + 1 };
                s.get_seq < s.put_seq && next + batch_size as i64 - 1 <= s.put_seq
            }
            BatchMode::MemSize => {
                s.put_mem - s.get_mem >= batch_size.wrapping_mul(self.cfg.mem_unit) as i64
            }
        }
    }

    /// Registers the put counter at which [`EventStore::has_full_batch_locked`] turns true for
    /// this reader (the smallest over all waiting readers is kept).
    fn want_batch_locked(&self, inner: &mut Inner, included: bool, batch_size: i32) {
        let s = &inner.stats;
        match self.cfg.batch_mode {
            BatchMode::ItemSize => {
                let next = if included { s.get_seq } else { s.get_seq + 1 };
                let t = (s.get_seq + 1).max(next.saturating_add(batch_size as i64 - 1));
                inner.wake_seq = Some(inner.wake_seq.map_or(t, |w| w.min(t)));
            }
            BatchMode::MemSize => {
                let need = batch_size.wrapping_mul(self.cfg.mem_unit) as i64;
                let t = s.get_mem.saturating_add(need);
                inner.wake_mem = Some(inner.wake_mem.map_or(t, |w| w.min(t)));
            }
        }
    }

    /// Java `checkUnGetSlotAt`: whether a full batch is available (ITEMSIZE: `batch_size`
    /// unread events; MEMSIZE: `batch_size * memunit` unread bytes).
    pub fn has_full_batch(&self, start: Option<&LogPosition>, batch_size: i32) -> bool {
        let inner = self.inner.lock();
        self.has_full_batch_locked(&inner, included(start), batch_size)
    }

    fn do_get(
        &self,
        inner: &mut Inner,
        included: bool,
        batch_size: i32,
    ) -> Result<Events, StoreError> {
        if inner.stopped {
            return Err(StoreError::Stopped);
        }
        let current = inner.stats.get_seq;
        let max = inner.stats.put_seq;
        let mut next = if included { current } else { current + 1 };
        if current >= max {
            return Ok(Events::default());
        }
        let mut events = Vec::new();
        let mut memsize = 0i64;
        let mut end = current;
        match self.cfg.batch_mode {
            BatchMode::ItemSize => {
                end = (next + batch_size as i64 - 1).min(max);
                while next <= end {
                    let ev = self.slot(inner, next)?;
                    if self.cfg.ddl_isolation && is_ddl(ev.event_type) {
                        if events.is_empty() {
                            events.push(ev.clone());
                            end = next;
                        } else {
                            end = next - 1;
                        }
                        break;
                    }
                    events.push(ev.clone());
                    next += 1;
                }
            }
            BatchMode::MemSize => {
                // Java: `long maxMemSize = batchSize * bufferMemUnit` (an int product).
                let max_mem = batch_size.wrapping_mul(self.cfg.mem_unit) as i64;
                while memsize <= max_mem && next <= max {
                    let ev = self.slot(inner, next)?;
                    if self.cfg.ddl_isolation && is_ddl(ev.event_type) {
                        if events.is_empty() {
                            events.push(ev.clone());
                            end = next;
                        } else {
                            end = next - 1;
                        }
                        break;
                    }
                    memsize += ev.raw_length;
                    events.push(ev.clone());
                    end = next;
                    next += 1;
                }
            }
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Err(StoreError::EmptySelection);
        };
        let range = PositionRange {
            start: Some(first.log_position(false)),
            end: Some(last.log_position(false)),
            ack: events
                .iter()
                .rev()
                .find(|e| e.is_ack_point())
                .map(|e| e.log_position(false)),
            end_seq: end,
        };
        inner.stats.get_seq = end;
        inner.stats.get_mem += memsize;
        inner.stats.get_rows += events.iter().map(|e| e.rows_count as i64).sum::<i64>();
        let exec = first_exec_time(&events);
        if exec > 0 {
            inner.stats.get_exec_time = exec;
        }
        Ok(Events {
            events,
            range: Some(range),
        })
    }

    /// Java `tryGet`: whatever is available now (possibly nothing), following the batch rules.
    /// `start` only matters through its `included` flag (read from `get_seq` instead of
    /// `get_seq + 1`).
    pub fn try_get(
        &self,
        start: Option<&LogPosition>,
        batch_size: i32,
    ) -> Result<Events, StoreError> {
        let r = {
            let mut inner = self.inner.lock();
            self.do_get(&mut inner, included(start), batch_size)
        };
        if matches!(&r, Ok(ev) if !ev.is_empty()) {
            self.signal_not_full();
        }
        r
    }

    /// Waits until a full batch is available (`true`) or `deadline` passes (`false`).
    pub async fn wait_for_batch(
        &self,
        start: Option<&LogPosition>,
        batch_size: i32,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<bool, StoreError> {
        let inc = included(start);
        loop {
            let notified = self.not_empty.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = self.inner.lock();
                if inner.stopped {
                    return Err(StoreError::Stopped);
                }
                if self.has_full_batch_locked(&inner, inc, batch_size) {
                    return Ok(true);
                }
                self.want_batch_locked(&mut inner, inc, batch_size);
            }
            match deadline {
                None => notified.await,
                Some(d) => {
                    if tokio::time::timeout_at(d, notified).await.is_err() {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Java `get(start, batchSize)`: waits without limit until a full batch exists, then reads it.
    pub async fn get(
        &self,
        start: Option<&LogPosition>,
        batch_size: i32,
    ) -> Result<Events, StoreError> {
        self.get_until(start, batch_size, None).await
    }

    /// Java `get(start, batchSize, timeout)`: waits up to `timeout` for a full batch, then
    /// returns whatever is available.
    pub async fn get_timeout(
        &self,
        start: Option<&LogPosition>,
        batch_size: i32,
        timeout: Duration,
    ) -> Result<Events, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        self.get_until(start, batch_size, Some(deadline)).await
    }

    async fn get_until(
        &self,
        start: Option<&LogPosition>,
        batch_size: i32,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Events, StoreError> {
        let inc = included(start);
        loop {
            let ready = self.wait_for_batch(start, batch_size, deadline).await?;
            let r = {
                let mut inner = self.inner.lock();
                if ready && !self.has_full_batch_locked(&inner, inc, batch_size) {
                    // someone else read in between: wait again
                    None
                } else {
                    Some(self.do_get(&mut inner, inc, batch_size))
                }
            };
            if let Some(r) = r {
                if matches!(&r, Ok(ev) if !ev.is_empty()) {
                    self.signal_not_full();
                }
                return r;
            }
        }
    }

    // ------------------------------------------------------------------ ack / rollback

    /// Java `ack(position, seqId)` (`cleanUntil`): releases events up to the one at `end_seq`
    /// (or, with `end_seq <= 0`, the first unacked event matching `position`), which must match
    /// `position`.
    pub fn ack(&self, position: &LogPosition, end_seq: i64) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        if inner.stopped {
            return Err(StoreError::Stopped);
        }
        let sequence = inner.stats.ack_seq;
        let max_sequence = if end_seq > 0 {
            end_seq
        } else {
            inner.stats.get_seq
        };
        let mut memsize = 0i64;
        let mut rows = 0i64;
        let mut exec = 0i64;
        let mut next = sequence + 1;
        while next <= max_sequence {
            let matched = {
                let ev = self.slot(&inner, next)?;
                if exec == 0 && ev.execute_time > 0 {
                    exec = ev.execute_time;
                }
                rows += ev.rows_count as i64;
                memsize += ev.raw_length;
                (end_seq < 0 || next == end_seq) && ev.matches_position(position)
            };
            if matched {
                // release memory: earlier slots entirely, the last one keeps its metadata
                for s in sequence + 1..next {
                    let idx = self.index(s);
                    if let Some(slot) = inner.ring.get_mut(idx) {
                        *slot = None;
                    }
                }
                let idx = self.index(next);
                if let Some(Some(last)) = inner.ring.get_mut(idx) {
                    last.entry = None;
                }
                inner.stats.ack_seq = next;
                inner.stats.ack_mem += memsize;
                if inner.stats.get_seq < next {
                    // Only reachable through Canal's rollback(id) trap (a batch recorded before
                    // a rewind is acked after it): Java would then read released slots (NPE in
                    // MEMSIZE); we move the read cursor past the acked events instead.
                    inner.stats.get_seq = next;
                    inner.stats.get_mem = inner.stats.ack_mem;
                }
                inner.stats.ack_rows += rows;
                if exec > 0 {
                    inner.stats.ack_exec_time = exec;
                }
                drop(inner);
                self.signal_not_full();
                return Ok(());
            }
            next += 1;
        }
        Err(StoreError::NoMatchAck(format_position(position)))
    }

    /// Java `rollback`: the read cursor goes back to the ack cursor.
    pub fn rollback(&self) {
        {
            let mut inner = self.inner.lock();
            inner.stats.get_seq = inner.stats.ack_seq;
            inner.stats.get_mem = inner.stats.ack_mem;
        }
        self.not_empty.notify_waiters();
    }

    /// Java `getFirstPosition`: the position of the first unacked event (or of the last acked
    /// one when everything is acked), `included = false`; `None` when nothing was ever put.
    pub fn first_position(&self) -> Option<LogPosition> {
        let inner = self.inner.lock();
        let ack = inner.stats.ack_seq;
        let put = inner.stats.put_seq;
        let seq = if ack == INIT_SEQUENCE && ack < put {
            ack + 1
        } else if ack > INIT_SEQUENCE && ack <= put {
            ack
        } else {
            return None;
        };
        self.slot(&inner, seq).ok().map(|e| e.log_position(false))
    }

    /// Java `getLatestPosition`: position of the last put event (`included` = not all acked).
    pub fn latest_position(&self) -> Option<LogPosition> {
        let inner = self.inner.lock();
        let put = inner.stats.put_seq;
        if put <= INIT_SEQUENCE {
            return None;
        }
        let included = put != inner.stats.ack_seq;
        self.slot(&inner, put)
            .ok()
            .map(|e| e.log_position(included))
    }
}

fn included(start: Option<&LogPosition>) -> bool {
    start.is_some_and(|p| p.postion.included)
}

/// Java `LogPosition.toString()` (commons-lang reflection style with short class names), e.g.
/// `LogPosition[identity=LogIdentity[sourceAddress=/127.0.0.1:3306,slaveId=-1],postion=EntryPosition[included=false,journalName=mysql-bin.000001,position=4,serverId=1,gtid=,timestamp=1700000000000]]`.
/// The address is rendered as `InetSocketAddress` does for an unresolved lookup (`/host:port`).
pub fn format_position(p: &LogPosition) -> String {
    let e = &p.postion;
    let addr = p
        .identity
        .source_address
        .as_ref()
        .map(|a| {
            format!(
                "/{}:{}",
                a.address.as_deref().unwrap_or("<unresolved>"),
                a.port
            )
        })
        .unwrap_or_else(|| "<null>".into());
    format!(
        "LogPosition[identity=LogIdentity[sourceAddress={addr},slaveId={}],postion=EntryPosition[included={},journalName={},position={},serverId={},gtid={},timestamp={}]]",
        p.identity.slave_id,
        e.included,
        e.journal_name.as_deref().unwrap_or("<null>"),
        opt(e.position),
        opt(e.server_id),
        e.gtid.as_deref().unwrap_or("<null>"),
        opt(e.timestamp),
    )
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "<null>".into())
}

mod scan;

#[cfg(test)]
mod tests;
