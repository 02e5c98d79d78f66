//! Java `CanalServerWithEmbedded`: batch bookkeeping of each destination over its store and meta manager.
//!
//! [`Embedded`] implements [`CanalService`] over a registry of running destinations, each a
//! [`Destination`] = `Arc<EventStore>` + `Arc<dyn MetaManager>` (+ raw flag, subscribe hook).
//! Instances register when they start and unregister when they stop; `is_running` is registry
//! membership. Semantics and texts follow ../shared/compat/wire-protocol.md §2.8, §3.1–3.2 and
//! operations.md §3.1:
//!
//! * subscribe: (lazy start through the [`StartHook`] if the destination is not running), start
//!   the meta manager if needed, subscribe, set the cursor to the store's first position when the
//!   client has none, then call the destination's subscribe hook (Java `subscribeChange`: a
//!   non-blank filter replaces the parser filter; the instance decides).
//! * getWithoutAck: under the per-destination lock, read from the store (its single read cursor
//!   continues after outstanding batches, or starts after the cursor / at the store head); nothing
//!   → batch id -1 and no batch recorded; otherwise `add_batch` and return the raw entry bytes.
//! * ack: `remove_batch` (oldest only; unknown → `ack error …`), cursor := range.ack when set,
//!   store ack up to `end_seq`.
//! * rollback / rollback(id): silently ignored for unsubscribed identities; clear all batches, or
//!   remove the given one (oldest only; unknown → `rollback error…`), then rewind the store to the
//!   last ack — also for rollback(id), leaving later batch records in place (Canal's trap).
//!
//! HA fencing: with a [`ServeCheck`] installed (ZooKeeper mode), a registered destination whose
//! check fails is treated as not running (standby answer), checked again right before each
//! store read.
//!
//! Waiting GETs (timeout `None` or `Some(d > 0)`) wait for the store *outside* the destination
//! lock and re-check under it, so a blocked GET never holds up acks/rollbacks of the same
//! destination (Java blocks them, trap T13), and dropping the GET future before it completes
//! changes nothing (no batch is recorded unless returned). Lock order: destination lock → meta →
//! store; nothing awaits while holding a lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use canal_meta::{MetaError, MetaManager};
use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};
use canal_store::{EventStore, Events, StoreError};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::service::{Batch, CanalService, ServiceError, CANAL_SERVER_EXCEPTION};

// std locks (this crate does not depend on parking_lot); a poisoned lock only means another
// thread panicked while holding it, the guarded data is still consistent for our uses.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}
fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}

/// Called with the identity after each successful subscribe (Java `subscribeChange`).
pub type SubscribeHook = Arc<dyn Fn(&ClientIdentity) + Send + Sync>;

/// Called by SUB for a destination that is not running (lazy start / HA attempt); it should
/// start the instance and [`Embedded::register`] it, and return whether it did.
pub type StartHook = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Whether this server may serve a registered destination right now (ZooKeeper HA: the lease
/// of its running monitor is valid). When it returns false the destination answers like on a
/// standby (`destination:{d} should start first`) and nothing is delivered.
pub type ServeCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Java class of guava's `UncheckedExecutionException` (UNSUB of an unknown destination).
pub const UNCHECKED_EXECUTION_EXCEPTION: &str =
    "com.google.common.util.concurrent.UncheckedExecutionException";

/// One running destination as the embedded server sees it.
pub struct Destination {
    name: String,
    store: Arc<EventStore>,
    meta: Arc<dyn MetaManager>,
    raw: bool,
    lock: Mutex<()>,
    on_subscribe: Option<SubscribeHook>,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("name", &self.name)
            .field("raw", &self.raw)
            .finish()
    }
}

impl Destination {
    /// A destination over its store and meta manager; raw mode is taken from the store.
    pub fn new(
        name: impl Into<String>,
        store: Arc<EventStore>,
        meta: Arc<dyn MetaManager>,
    ) -> Self {
        let raw = store.is_raw();
        Self {
            name: name.into(),
            store,
            meta,
            raw,
            lock: Mutex::new(()),
            on_subscribe: None,
        }
    }

    /// Sets the subscribe hook (filter change of the instance).
    pub fn with_subscribe_hook(mut self, hook: SubscribeHook) -> Self {
        self.on_subscribe = Some(hook);
        self
    }

    /// Destination name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store.
    pub fn store(&self) -> &Arc<EventStore> {
        &self.store
    }

    /// The meta manager.
    pub fn meta(&self) -> &Arc<dyn MetaManager> {
        &self.meta
    }

    /// Raw mode (`canal.instance.memory.rawEntry`): MESSAGES with data carry no version field.
    pub fn is_raw(&self) -> bool {
        self.raw
    }
}

/// The embedded server: all destinations running in this process.
#[derive(Default)]
pub struct Embedded {
    destinations: RwLock<HashMap<String, Arc<Destination>>>,
    starter: RwLock<Option<StartHook>>,
    serve_check: RwLock<Option<ServeCheck>>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded")
            .field("destinations", &self.names())
            .finish()
    }
}

fn meta_err(e: MetaError) -> ServiceError {
    ServiceError::foreign(e.java_class(), e.to_string())
}

fn store_err(dest: &str, e: StoreError) -> ServiceError {
    match e {
        StoreError::Stopped => ServiceError::not_started(dest),
        other => ServiceError::foreign(other.java_class(), other.to_string()),
    }
}

/// Java wraps failures of the waiting store reads in `new CanalServerException(e)`, whose
/// message is `e.toString()`.
fn wrapped_store_err(dest: &str, e: StoreError) -> ServiceError {
    match e {
        StoreError::Stopped => ServiceError::not_started(dest),
        other => ServiceError::canal(format!("{}: {}", other.java_class(), other)),
    }
}

/// Short rendering of a batch range for messages.
fn range_text(r: &PositionRange) -> String {
    let p = |p: &Option<LogPosition>| {
        p.as_ref()
            .map(canal_store::format_position)
            .unwrap_or_else(|| "<null>".into())
    };
    format!(
        "PositionRange[start={},ack={},end={},endSeq={}]",
        p(&r.start),
        p(&r.ack),
        p(&r.end),
        r.end_seq
    )
}

impl Embedded {
    /// No destination running.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a started destination (replacing one of the same name, which is returned).
    pub fn register(&self, destination: Destination) -> Option<Arc<Destination>> {
        write(&self.destinations).insert(destination.name.clone(), Arc::new(destination))
    }

    /// Removes a destination (instance stop); its GETs fail once its store is stopped.
    pub fn unregister(&self, name: &str) -> Option<Arc<Destination>> {
        write(&self.destinations).remove(name)
    }

    /// A running destination.
    pub fn destination(&self, name: &str) -> Option<Arc<Destination>> {
        read(&self.destinations).get(name).cloned()
    }

    /// Names of the running destinations (sorted).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = read(&self.destinations).keys().cloned().collect();
        v.sort();
        v
    }

    /// Installs the lazy-start hook used by SUB.
    pub fn set_start_hook(&self, hook: StartHook) {
        *write(&self.starter) = Some(hook);
    }

    /// Installs the HA serve check (see [`ServeCheck`]), consulted before every delivery.
    pub fn set_serve_check(&self, check: ServeCheck) {
        *write(&self.serve_check) = Some(check);
    }

    fn may_serve(&self, destination: &str) -> bool {
        match &*read(&self.serve_check) {
            Some(check) => check(destination),
            None => true,
        }
    }

    /// Raw mode of a running destination.
    pub fn is_raw(&self, destination: &str) -> Option<bool> {
        self.destination(destination).map(|d| d.raw)
    }

    fn check_start(&self, destination: &str) -> Result<Arc<Destination>, ServiceError> {
        self.destination(destination)
            .filter(|_| self.may_serve(destination))
            .ok_or_else(|| ServiceError::not_started(destination))
    }

    fn check_subscribe(d: &Destination, client: &ClientIdentity) -> Result<(), ServiceError> {
        if d.meta.has_subscribe(client).map_err(meta_err)? {
            Ok(())
        } else {
            Err(ServiceError::canal(format!(
                "ClientIdentity:{} should subscribe first",
                ClientIdentity {
                    filter: None,
                    ..client.clone()
                }
            )))
        }
    }

    /// Subscribed clients of a destination (Java `listAllSubscribe`).
    pub fn list_all_subscribe(
        &self,
        destination: &str,
    ) -> Result<Vec<ClientIdentity>, ServiceError> {
        let d = self.check_start(destination)?;
        d.meta
            .list_all_subscribe_info(destination)
            .map_err(meta_err)
    }

    /// Outstanding batch ids of a client, ascending (Java `listBatchIds`).
    pub fn list_batch_ids(&self, client: &ClientIdentity) -> Result<Vec<i64>, ServiceError> {
        let d = self.check_start(&client.destination)?;
        Self::check_subscribe(&d, client)?;
        Ok(d.meta
            .list_all_batchs(client)
            .map_err(meta_err)?
            .into_keys()
            .collect())
    }

    /// Where the store read starts for this client; only its `included` flag matters.
    fn start_position(
        d: &Destination,
        client: &ClientIdentity,
    ) -> Result<Option<LogPosition>, ServiceError> {
        if let Some(r) = d.meta.get_lastest_batch(client).map_err(meta_err)? {
            return Ok(r.start);
        }
        match d.meta.get_cursor(client).map_err(meta_err)? {
            Some(c) => Ok(Some(c)),
            None => Ok(d.store.first_position()),
        }
    }

    fn to_batch(
        d: &Destination,
        client: &ClientIdentity,
        events: Events,
    ) -> Result<Batch, ServiceError> {
        let Some(range) = events.range else {
            return Ok(Batch {
                id: -1,
                entries: Vec::new(),
            });
        };
        let entries = events
            .events
            .into_iter()
            .filter_map(|e| {
                if e.entry.is_none() {
                    tracing::error!(destination = %d.name, position = e.position, "released event read from store");
                }
                e.entry
            })
            .collect();
        let id = d.meta.add_batch(client, range).map_err(meta_err)?;
        Ok(Batch { id, entries })
    }

    fn refuse_outstanding(d: &Destination, client: &ClientIdentity) -> Result<(), ServiceError> {
        match d.meta.get_lastest_batch(client).map_err(meta_err)? {
            Some(r) => Err(ServiceError::canal(format!(
                "clientId:{} has last batch:[{}] isn't ack , maybe loss data",
                client.client_id,
                range_text(&r)
            ))),
            None => Ok(()),
        }
    }

    /// Reads one batch (no ack) with the store rules; see [`CanalService::get_without_ack`].
    async fn read_batch(
        &self,
        client: &ClientIdentity,
        batch_size: i32,
        timeout: Option<Duration>,
        refuse_outstanding: bool,
    ) -> Result<(Arc<Destination>, Batch), ServiceError> {
        let d = self.check_start(&client.destination)?;
        Self::check_subscribe(&d, client)?;
        let non_blocking = timeout == Some(Duration::ZERO);
        // a deadline too far to represent means "no limit"
        let deadline = timeout
            .filter(|t| !t.is_zero())
            .and_then(|t| tokio::time::Instant::now().checked_add(t));
        let wrap = |e| wrapped_store_err(&client.destination, e);
        if refuse_outstanding {
            // Java checks before waiting for data
            Self::refuse_outstanding(&d, client)?;
        }
        loop {
            let mut ready = true;
            if !non_blocking {
                let start = Self::start_position(&d, client)?;
                ready = d
                    .store
                    .wait_for_batch(start.as_ref(), batch_size, deadline)
                    .await
                    .map_err(wrap)?;
            }
            let _guard = lock(&d.lock);
            // HA fencing: the lease is checked again right before the store read.
            if !self.may_serve(&client.destination) {
                return Err(ServiceError::not_started(&client.destination));
            }
            if refuse_outstanding {
                Self::refuse_outstanding(&d, client)?;
            }
            let start = Self::start_position(&d, client)?;
            if !non_blocking && ready && !d.store.has_full_batch(start.as_ref(), batch_size) {
                // another reader took the data in between: wait again
                continue;
            }
            let events = d.store.try_get(start.as_ref(), batch_size).map_err(|e| {
                if non_blocking {
                    store_err(&client.destination, e)
                } else {
                    wrap(e)
                }
            })?;
            let batch = Self::to_batch(&d, client, events)?;
            if batch.id != -1 {
                tracing::info!(
                    destination = %client.destination,
                    "getWithoutAck successfully, clientId:{} batchSize:{} real size is {} and result is [batchId:{}]",
                    client.client_id,
                    batch_size,
                    batch.entries.len(),
                    batch.id
                );
            }
            return Ok((d.clone(), batch));
        }
    }

    /// Java `get` (auto-ack): refuses while a batch is outstanding, otherwise reads a batch and
    /// acks it at once. Not reachable over TCP (the `auto_ack` flag is ignored by Canal).
    pub async fn get(
        &self,
        client: &ClientIdentity,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<Batch, ServiceError> {
        let (_, batch) = self.read_batch(client, batch_size, timeout, true).await?;
        if batch.id != -1 {
            self.ack(client, batch.id)?;
        }
        Ok(batch)
    }
}

impl CanalService for Embedded {
    fn is_running(&self, destination: &str) -> bool {
        read(&self.destinations).contains_key(destination) && self.may_serve(destination)
    }

    fn subscribe(&self, client: &ClientIdentity) -> Result<(), ServiceError> {
        if !self.is_running(&client.destination) {
            let hook = read(&self.starter).clone();
            if let Some(start) = hook {
                if !start(&client.destination) {
                    tracing::warn!(destination = %client.destination, "lazy start did not start the destination");
                }
            }
        }
        let d = self.check_start(&client.destination)?;
        if !d.meta.is_start() {
            d.meta.start().map_err(meta_err)?;
        }
        d.meta.subscribe(client).map_err(meta_err)?;
        match d.meta.get_cursor(client).map_err(meta_err)? {
            Some(c) => {
                tracing::info!(destination = %d.name, "subscribe successfully, {client} use last cursor position:{}", canal_store::format_position(&c));
            }
            None => {
                let first = d.store.first_position();
                if let Some(p) = &first {
                    d.meta.update_cursor(client, p).map_err(meta_err)?;
                }
                tracing::info!(destination = %d.name, "subscribe successfully, {client} with first position:{:?} ", first.as_ref().map(canal_store::format_position));
            }
        }
        if let Some(h) = &d.on_subscribe {
            h(client);
        }
        Ok(())
    }

    fn unsubscribe(&self, client: &ClientIdentity) -> Result<(), ServiceError> {
        let Some(d) = self.destination(&client.destination) else {
            return Err(ServiceError::foreign(
                UNCHECKED_EXECUTION_EXCEPTION,
                format!(
                    "{CANAL_SERVER_EXCEPTION}: can't find destination:{}",
                    client.destination
                ),
            ));
        };
        d.meta.unsubscribe(client).map_err(meta_err)?;
        tracing::info!(destination = %d.name, "unsubscribe successfully, {client}");
        Ok(())
    }

    fn has_subscribe(&self, client: &ClientIdentity) -> Result<bool, ServiceError> {
        match self.destination(&client.destination) {
            Some(d) => d.meta.has_subscribe(client).map_err(meta_err),
            None => Ok(false),
        }
    }

    async fn get_without_ack(
        &self,
        client: &ClientIdentity,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<Batch, ServiceError> {
        self.read_batch(client, batch_size, timeout, false)
            .await
            .map(|(_, b)| b)
    }

    fn ack(&self, client: &ClientIdentity, batch_id: i64) -> Result<(), ServiceError> {
        let d = self.check_start(&client.destination)?;
        Self::check_subscribe(&d, client)?;
        let range = d
            .meta
            .remove_batch(client, batch_id)
            .map_err(meta_err)?
            .ok_or_else(|| {
                ServiceError::canal(format!(
                    "ack error , clientId:{} batchId:{} is not exist , please check",
                    client.client_id, batch_id
                ))
            })?;
        if let Some(a) = &range.ack {
            d.meta.update_cursor(client, a).map_err(meta_err)?;
        }
        if let Some(end) = &range.end {
            d.store
                .ack(end, range.end_seq)
                .map_err(|e| store_err(&client.destination, e))?;
        }
        Ok(())
    }

    fn rollback(&self, client: &ClientIdentity, batch_id: Option<i64>) -> Result<(), ServiceError> {
        let d = self.check_start(&client.destination)?;
        if !d.meta.has_subscribe(client).map_err(meta_err)? {
            return Ok(());
        }
        let _guard = lock(&d.lock);
        match batch_id {
            None => {
                d.meta.clear_all_batchs(client).map_err(meta_err)?;
                d.store.rollback();
                tracing::info!(destination = %d.name, "rollback successfully, clientId:{}", client.client_id);
            }
            Some(id) => {
                d.meta
                    .remove_batch(client, id)
                    .map_err(meta_err)?
                    .ok_or_else(|| {
                        ServiceError::canal(format!(
                            "rollback error, clientId:{} batchId:{} is not exist , please check",
                            client.client_id, id
                        ))
                    })?;
                d.store.rollback();
                tracing::info!(destination = %d.name, "rollback successfully, clientId:{} batchId:{}", client.client_id, id);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use canal_meta::MemoryMetaManager;
    use canal_protocol::entry::{Entry, EntryType, EventType, Header};
    use canal_protocol::position::LogIdentity;
    use canal_store::{BatchMode, Event, StoreConfig};
    use prost::Message;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const META_EXC: &str = "com.alibaba.otter.canal.meta.exception.CanalMetaManagerException";

    fn entry(offset: i64, et: EntryType, payload: usize) -> Entry {
        Entry {
            header: Some(Header {
                logfile_name: Some("mysql-bin.000001".into()),
                logfile_offset: Some(offset),
                server_id: Some(1),
                execute_time: Some(1_700_000_000_000 + offset),
                event_type: (et == EntryType::Rowdata).then_some(EventType::Insert as i32),
                ..Default::default()
            }),
            entry_type: Some(et as i32),
            store_value: Some(Bytes::from(vec![7u8; payload])),
        }
    }

    /// A MariaDB-like transaction (ROWDATA, ROWDATA, TRANSACTIONEND) at `base`.
    fn tx(base: i64) -> Vec<Event> {
        let id = Arc::new(LogIdentity {
            source_address: None,
            slave_id: -1,
        });
        [
            entry(base, EntryType::Rowdata, 10),
            entry(base + 1, EntryType::Rowdata, 40),
            entry(base + 2, EntryType::Transactionend, 5),
        ]
        .iter()
        .map(|e| Event::from_entry(id.clone(), e, true))
        .collect()
    }

    fn setup(mode: BatchMode) -> (Embedded, Arc<EventStore>, Arc<MemoryMetaManager>) {
        let store = Arc::new(
            EventStore::new(StoreConfig {
                buffer_size: 1024,
                mem_unit: 1024,
                batch_mode: mode,
                ddl_isolation: false,
                raw: true,
            })
            .unwrap(),
        );
        let meta = Arc::new(MemoryMetaManager::new());
        let e = Embedded::new();
        e.register(Destination::new("example", store.clone(), meta.clone()));
        (e, store, meta)
    }

    fn c(id: i16) -> ClientIdentity {
        ClientIdentity::new("example", id)
    }

    fn put(store: &EventStore, events: Vec<Event>) {
        let mut v = events;
        assert!(store.try_put(&mut v).unwrap());
    }

    const NOW: Option<Duration> = Some(Duration::ZERO);

    #[tokio::test]
    async fn not_started_and_not_subscribed_texts() {
        let (e, _, _) = setup(BatchMode::MemSize);
        let nosuch = ClientIdentity::new("nosuch", 1001);
        let err = e.get_without_ack(&nosuch, 1, NOW).await.unwrap_err();
        assert_eq!(err.message, "destination:nosuch should start first");
        assert_eq!(err.class, CANAL_SERVER_EXCEPTION);
        assert_eq!(
            e.subscribe(&nosuch).unwrap_err().message,
            "destination:nosuch should start first"
        );
        assert_eq!(
            e.ack(&nosuch, 1).unwrap_err().message,
            "destination:nosuch should start first"
        );
        assert_eq!(
            e.rollback(&nosuch, None).unwrap_err().message,
            "destination:nosuch should start first"
        );
        let un = e.unsubscribe(&nosuch).unwrap_err();
        assert_eq!(un.class, UNCHECKED_EXECUTION_EXCEPTION);
        assert_eq!(
            un.java_text(),
            "com.google.common.util.concurrent.UncheckedExecutionException: com.alibaba.otter.canal.server.exception.CanalServerException: can't find destination:nosuch\n"
        );
        // golden wire README #19 / step 26
        let err = e.get_without_ack(&c(1002), 1, NOW).await.unwrap_err();
        assert_eq!(
            err.java_text(),
            "com.alibaba.otter.canal.server.exception.CanalServerException: ClientIdentity:ClientIdentity[destination=example,clientId=1002,filter=<null>] should subscribe first\n"
        );
        assert!(e
            .ack(&c(1002), 1)
            .unwrap_err()
            .message
            .ends_with("should subscribe first"));
        // rollback by an unsubscribed identity on a running destination: silent (T2)
        e.rollback(&c(1002), None).unwrap();
        e.rollback(&c(1002), Some(5)).unwrap();
        assert!(!e.has_subscribe(&c(1002)).unwrap());
    }

    #[tokio::test]
    async fn subscribe_sets_cursor_to_store_head() {
        let (e, store, meta) = setup(BatchMode::MemSize);
        e.subscribe(&c(1)).unwrap();
        assert_eq!(
            meta.get_cursor(&c(1)).unwrap(),
            None,
            "empty store: no cursor"
        );
        put(&store, tx(100));
        e.subscribe(&c(2)).unwrap();
        let cur = meta.get_cursor(&c(2)).unwrap().unwrap();
        assert_eq!(cur.postion.position, Some(100));
        assert!(!cur.postion.included);
        // an existing cursor is kept
        let mut other = cur.clone();
        other.postion.position = Some(5);
        meta.update_cursor(&c(2), &other).unwrap();
        e.subscribe(&c(2)).unwrap();
        assert_eq!(meta.get_cursor(&c(2)).unwrap(), Some(other));
        assert!(meta.is_start(), "subscribe starts the meta manager");
    }

    #[tokio::test]
    async fn get_ack_cycle_and_errors() {
        let (e, store, meta) = setup(BatchMode::ItemSize);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        // empty: id -1, nothing recorded
        let b = e.get_without_ack(&me, 3, NOW).await.unwrap();
        assert_eq!(
            b,
            Batch {
                id: -1,
                entries: vec![]
            }
        );
        assert!(e.list_batch_ids(&me).unwrap().is_empty());

        put(&store, tx(100));
        put(&store, tx(200));
        let b1 = e.get_without_ack(&me, 3, NOW).await.unwrap();
        let b2 = e.get_without_ack(&me, 3, NOW).await.unwrap();
        assert_eq!((b1.id, b2.id), (1, 2));
        // the entry bytes are the serialized entries, in order
        let first = Entry::decode(b1.entries[0].clone()).unwrap();
        assert_eq!(first.header.unwrap().logfile_offset, Some(100));
        assert_eq!(
            b1.entries[0],
            Bytes::from(entry(100, EntryType::Rowdata, 10).encode_to_vec())
        );
        assert_eq!(
            Entry::decode(b2.entries[0].clone())
                .unwrap()
                .header
                .unwrap()
                .logfile_offset,
            Some(200)
        );
        // out of order ack (golden README #9 text)
        let err = e.ack(&me, 2).unwrap_err();
        assert_eq!(err.class, META_EXC);
        assert_eq!(err.message, "batchId:2 is not the firstly:1");
        // unknown batch (golden README #10 text)
        let err = e.ack(&me, 999999).unwrap_err();
        assert_eq!(
            err.java_text(),
            "com.alibaba.otter.canal.server.exception.CanalServerException: ack error , clientId:1001 batchId:999999 is not exist , please check\n"
        );
        e.ack(&me, 1).unwrap();
        // cursor := the batch's ack point (its TRANSACTIONEND)
        assert_eq!(
            meta.get_cursor(&me).unwrap().unwrap().postion.position,
            Some(102)
        );
        assert_eq!(store.stats().ack_seq, 2);
        e.ack(&me, 2).unwrap();
        assert_eq!(store.stats().ack_seq, 5);
        assert_eq!(
            meta.get_cursor(&me).unwrap().unwrap().postion.position,
            Some(202)
        );
        // acking twice: not exist
        assert!(e.ack(&me, 2).unwrap_err().message.starts_with("ack error"));
        let err = e.rollback(&me, Some(999999)).unwrap_err();
        assert_eq!(
            err.message,
            "rollback error, clientId:1001 batchId:999999 is not exist , please check"
        );
    }

    /// Golden steps 10–12: rollback(N) then GET → the same entry bytes under batch N+1; the
    /// rollback(id) trap: later batches stay registered.
    #[tokio::test]
    async fn rollback_redelivers_under_new_id() {
        let (e, store, _) = setup(BatchMode::ItemSize);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        put(&store, tx(100));
        put(&store, tx(200));
        let b1 = e.get_without_ack(&me, 3, NOW).await.unwrap();
        let b2 = e.get_without_ack(&me, 3, NOW).await.unwrap();
        e.rollback(&me, Some(b1.id)).unwrap();
        assert_eq!(e.list_batch_ids(&me).unwrap(), vec![b2.id]);
        let b3 = e.get_without_ack(&me, 3, NOW).await.unwrap();
        assert_eq!(b3.id, 3);
        assert_eq!(b3.entries, b1.entries);
        assert_eq!(
            e.ack(&me, 3).unwrap_err().message,
            "batchId:3 is not the firstly:2"
        );
        // rollback all: every record gone, ids continue
        e.rollback(&me, None).unwrap();
        assert!(e.list_batch_ids(&me).unwrap().is_empty());
        let b4 = e.get_without_ack(&me, 6, NOW).await.unwrap();
        assert_eq!(b4.id, 4);
        assert_eq!(b4.entries.len(), 6);
        assert_eq!(&b4.entries[..3], &b1.entries[..]);
        assert_eq!(&b4.entries[3..], &b2.entries[..]);
        e.ack(&me, 4).unwrap();
        assert_eq!(store.stats().ack_seq, 5);
    }

    /// Golden steps 28/29 shape: GET without timeout blocks until a full MEMSIZE batch exists;
    /// a timed GET returns what exists after the timeout; timeout 0 = tryGet.
    #[tokio::test]
    async fn blocking_and_timed_gets() {
        let (e, store, _) = setup(BatchMode::MemSize);
        let e = Arc::new(e);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        put(&store, tx(100)); // one transaction, well below 1 KiB
        let t0 = tokio::time::Instant::now();
        let b = e
            .get_without_ack(&me, 1, Some(Duration::from_millis(100)))
            .await
            .unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(100));
        assert_eq!(b.entries.len(), 3);
        e.ack(&me, b.id).unwrap();

        let getter = {
            let (e, me) = (e.clone(), me.clone());
            tokio::spawn(async move { e.get_without_ack(&me, 1, None).await })
        };
        // add transactions until >= 1 KiB is unread; the GET must not complete before that
        // (current-thread runtime: the getter only runs while this task sleeps)
        let mut k = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!getter.is_finished(), "completed after {k} transactions");
            if k == 2 {
                // acks and rollbacks of the destination are not held up by the waiting GET
                e.rollback(&me, None).unwrap();
            }
            put(&store, tx(200 + k * 10));
            k += 1;
            let st = store.stats();
            if st.put_mem - st.get_mem >= 1024 {
                break;
            }
        }
        assert!(k > 3);
        let b = tokio::time::timeout(Duration::from_secs(5), getter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(b.id, 2);
        assert!(b.entries.iter().map(|x| x.len()).sum::<usize>() > 1024);
    }

    /// Dropping a waiting GET registers nothing (cancel safety for the session layer).
    #[tokio::test]
    async fn dropped_get_registers_nothing() {
        let (e, store, _) = setup(BatchMode::ItemSize);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        let r =
            tokio::time::timeout(Duration::from_millis(50), e.get_without_ack(&me, 5, None)).await;
        assert!(r.is_err());
        put(&store, tx(100));
        let b = e.get_without_ack(&me, 5, NOW).await.unwrap();
        assert_eq!(b.id, 1);
        // huge timeouts saturate instead of panicking (full batch available: returns at once)
        put(&store, tx(200));
        let b = tokio::time::timeout(
            Duration::from_secs(5),
            e.get_without_ack(&me, 1, Some(Duration::from_secs(u64::MAX))),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(b.id, 2);
        assert_eq!(b.entries.len(), 1);
    }

    #[tokio::test]
    async fn auto_ack_get_refuses_outstanding() {
        let (e, store, meta) = setup(BatchMode::ItemSize);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        put(&store, tx(100));
        put(&store, tx(200));
        let b = e.get(&me, 3, NOW).await.unwrap();
        assert_eq!(b.id, 1);
        assert!(
            meta.get_lastest_batch(&me).unwrap().is_none(),
            "acked at once"
        );
        let _open = e.get_without_ack(&me, 1, NOW).await.unwrap();
        let err = e.get(&me, 3, NOW).await.unwrap_err();
        // also without waiting for data when blocking
        let blocking = tokio::time::timeout(Duration::from_secs(5), e.get(&me, 1000, None))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(blocking.message, err.message);
        assert!(err.message.starts_with("clientId:1001 has last batch:["));
        assert!(err.message.ends_with("] isn't ack , maybe loss data"));
    }

    #[tokio::test]
    async fn itemsize_zero_fetch_is_an_error() {
        let (e, store, _) = setup(BatchMode::ItemSize);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        put(&store, tx(100));
        let err = e.get_without_ack(&me, 0, NOW).await.unwrap_err();
        assert_eq!(err.class, "java.lang.IndexOutOfBoundsException");
    }

    #[tokio::test]
    async fn lazy_start_register_unregister_and_hooks() {
        let e = Arc::new(Embedded::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let store = Arc::new(EventStore::new(StoreConfig::default()).unwrap());
        {
            let (e2, store, calls) = (Arc::downgrade(&e), store.clone(), calls.clone());
            e.set_start_hook(Arc::new(move |name: &str| {
                let Some(e) = e2.upgrade() else { return false };
                if name != "lazy" {
                    return false;
                }
                let calls = calls.clone();
                e.register(
                    Destination::new(name, store.clone(), Arc::new(MemoryMetaManager::new()))
                        .with_subscribe_hook(Arc::new(move |c: &ClientIdentity| {
                            assert_eq!(c.filter.as_deref(), Some("db\\..*"));
                            calls.fetch_add(1, Ordering::SeqCst);
                        })),
                );
                true
            }));
        }
        assert!(!e.is_running("lazy"));
        let me = ClientIdentity {
            destination: "lazy".into(),
            client_id: 1001,
            filter: Some("db\\..*".into()),
        };
        e.subscribe(&me).unwrap();
        assert!(e.is_running("lazy"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(e.is_raw("lazy"), Some(true));
        assert_eq!(e.names(), vec!["lazy".to_string()]);
        assert_eq!(e.list_all_subscribe("lazy").unwrap().len(), 1);
        e.unsubscribe(&me).unwrap();
        assert!(!e.has_subscribe(&me).unwrap());
        // instance stop: unregistered and its store stopped
        let d = e.unregister("lazy").unwrap();
        d.store().stop();
        assert!(!e.is_running("lazy"));
        let other = ClientIdentity::new("other", 1);
        assert_eq!(
            e.subscribe(&other).unwrap_err().message,
            "destination:other should start first"
        );
    }

    /// HA fencing: with the serve check false a registered destination answers like a
    /// standby (operations.md §2.6 text) and a waiting GET delivers nothing once the lease ends.
    #[tokio::test]
    async fn serve_check_answers_like_a_standby() {
        let (e, store, _) = setup(BatchMode::ItemSize);
        let e = Arc::new(e);
        let lease = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let l = lease.clone();
        e.set_serve_check(Arc::new(move |_: &str| {
            l.load(std::sync::atomic::Ordering::SeqCst)
        }));
        let me = c(1001);
        e.subscribe(&me).unwrap();
        assert!(e.is_running("example"));
        let g = {
            let (e, me) = (e.clone(), me.clone());
            tokio::spawn(async move { e.get_without_ack(&me, 1, None).await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        lease.store(false, std::sync::atomic::Ordering::SeqCst);
        put(&store, tx(100));
        let err = g.await.unwrap().unwrap_err();
        assert_eq!(err.message, "destination:example should start first");
        assert!(!e.is_running("example"));
        let err = e.subscribe(&c(1002)).unwrap_err();
        assert_eq!(err.message, "destination:example should start first");
        lease.store(true, std::sync::atomic::Ordering::SeqCst);
        let b = e
            .get_without_ack(&me, 100, Some(Duration::ZERO))
            .await
            .unwrap();
        assert!(
            !b.entries.is_empty(),
            "valid again: the data is still there"
        );
    }

    /// A waiting GET fails with "should start first" when the instance stops under it.
    #[tokio::test]
    async fn stop_while_waiting() {
        let (e, store, _) = setup(BatchMode::ItemSize);
        let e = Arc::new(e);
        let me = c(1001);
        e.subscribe(&me).unwrap();
        let g = {
            let (e, me) = (e.clone(), me.clone());
            tokio::spawn(async move { e.get_without_ack(&me, 5, None).await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        e.unregister("example");
        store.stop();
        let err = g.await.unwrap().unwrap_err();
        assert_eq!(err.message, "destination:example should start first");
    }
}
