//! Java `PeriodMixedMetaManager`: memory meta in front of a persistent backend (in Canal the
//! `ZooKeeperMetaManager`; here any [`MetaManager`], so the ZooKeeper implementation of the HA work
//! plugs in unchanged).
//!
//! As in Canal: the client list of a destination, a client's cursor and its stored batches are
//! loaded lazily from the backend on first use; subscribe/unsubscribe are forwarded asynchronously
//! (one background thread, in call order); cursor updates are written every `period` for the
//! clients whose cursor changed; batches stay in memory.
//!
//! Deliberate difference: Canal does not flush pending cursors on `stop`, so up to one period of
//! acks is replayed after a failover (operations.md §8 trap 3). We flush them on `stop`, which only
//! reduces duplicates and never skips data.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};
use parking_lot::Mutex;

use crate::memory::MemoryState;
use crate::{MetaManager, MetaResult};

#[derive(Default)]
struct PeriodState {
    mem: MemoryState,
    loaded_dests: HashSet<String>,
    loaded_cursors: HashSet<ClientIdentity>,
    loaded_batches: HashSet<ClientIdentity>,
    dirty: HashSet<ClientIdentity>,
}

enum Task {
    Subscribe(ClientIdentity),
    Unsubscribe(ClientIdentity),
    Stop,
}

struct Shared<B> {
    backend: Arc<B>,
    period: Duration,
    state: Mutex<PeriodState>,
}

impl<B: MetaManager> Shared<B> {
    fn flush_cursors(&self) {
        let dirty: Vec<ClientIdentity> = std::mem::take(&mut self.state.lock().dirty)
            .into_iter()
            .collect();
        for c in dirty {
            let cur = self.state.lock().mem.cursors.get(&c).cloned();
            if let Some(p) = cur {
                if let Err(e) = self.backend.update_cursor(&c, &p) {
                    tracing::error!("period update {c} curosr failed! {e}");
                }
            }
        }
    }

    fn run(&self, rx: mpsc::Receiver<Task>) {
        let mut next = Instant::now() + self.period;
        loop {
            let wait = next.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(Task::Subscribe(c)) => {
                    if let Err(e) = self.backend.subscribe(&c) {
                        tracing::error!("subscribe {c} failed! {e}");
                    }
                }
                Ok(Task::Unsubscribe(c)) => {
                    if let Err(e) = self.backend.unsubscribe(&c) {
                        tracing::error!("unsubscribe {c} failed! {e}");
                    }
                }
                Ok(Task::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.flush_cursors();
                    next = Instant::now() + self.period;
                }
            }
        }
    }
}

/// Java `PeriodMixedMetaManager` over a backend `B` (`canal.zookeeper.flush.period`).
pub struct PeriodMixedMetaManager<B: MetaManager + 'static> {
    shared: Arc<Shared<B>>,
    tx: Mutex<Option<mpsc::Sender<Task>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    started: AtomicBool,
}

impl<B: MetaManager + 'static> PeriodMixedMetaManager<B> {
    /// A manager writing into `backend`, cursors every `period` (Canal default 1000 ms).
    pub fn new(backend: Arc<B>, period: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                backend,
                period: period.max(Duration::from_millis(1)),
                state: Mutex::new(PeriodState::default()),
            }),
            tx: Mutex::new(None),
            worker: Mutex::new(None),
            started: AtomicBool::new(false),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<B> {
        &self.shared.backend
    }

    fn send(&self, t: Task) {
        let sent = match &*self.tx.lock() {
            Some(tx) => tx.send(t).is_ok(),
            None => false,
        };
        if !sent {
            tracing::warn!("period meta manager not started: backend not updated");
        }
    }

    fn ensure_dest(&self, st: &mut PeriodState, destination: &str) -> MetaResult<()> {
        if st.loaded_dests.contains(destination) {
            return Ok(());
        }
        let clients = self.shared.backend.list_all_subscribe_info(destination)?;
        let list = st
            .mem
            .destinations
            .entry(destination.to_string())
            .or_default();
        for c in clients {
            if !list.contains(&c) {
                list.push(c);
            }
        }
        st.loaded_dests.insert(destination.to_string());
        Ok(())
    }

    fn ensure_batches(&self, st: &mut PeriodState, client: &ClientIdentity) -> MetaResult<()> {
        if st.loaded_batches.contains(client) {
            return Ok(());
        }
        for (id, r) in self.shared.backend.list_all_batchs(client)? {
            st.mem.add_batch_with_id(client, r, id);
        }
        st.loaded_batches.insert(client.clone());
        Ok(())
    }

    fn with_batches<T>(
        &self,
        client: &ClientIdentity,
        f: impl FnOnce(&mut MemoryState) -> MetaResult<T>,
    ) -> MetaResult<T> {
        let mut st = self.shared.state.lock();
        self.ensure_batches(&mut st, client)?;
        f(&mut st.mem)
    }
}

impl<B: MetaManager + 'static> Drop for PeriodMixedMetaManager<B> {
    fn drop(&mut self) {
        if self.is_start() {
            let _ = self.stop();
        }
    }
}

impl<B: MetaManager + 'static> MetaManager for PeriodMixedMetaManager<B> {
    fn start(&self) -> MetaResult<()> {
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        if !self.shared.backend.is_start() {
            self.shared.backend.start()?;
        }
        let (tx, rx) = mpsc::channel();
        let shared = self.shared.clone();
        let h = std::thread::Builder::new()
            .name("canal-meta-period-flush".into())
            .spawn(move || shared.run(rx))
            .map_err(|e| crate::MetaError::Io(e.to_string()))?;
        *self.tx.lock() = Some(tx);
        *self.worker.lock() = Some(h);
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        if let Some(tx) = self.tx.lock().take() {
            let _ = tx.send(Task::Stop);
        }
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        self.shared.flush_cursors();
        *self.shared.state.lock() = PeriodState::default();
        self.started.store(false, Ordering::SeqCst);
        if self.shared.backend.is_start() {
            self.shared.backend.stop()?;
        }
        Ok(())
    }

    fn is_start(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    fn subscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        {
            let mut st = self.shared.state.lock();
            self.ensure_dest(&mut st, &client.destination)?;
            st.mem.subscribe(client);
        }
        self.send(Task::Subscribe(client.clone()));
        Ok(())
    }

    fn has_subscribe(&self, client: &ClientIdentity) -> MetaResult<bool> {
        let mut st = self.shared.state.lock();
        self.ensure_dest(&mut st, &client.destination)?;
        Ok(st.mem.has_subscribe(client))
    }

    fn unsubscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        {
            let mut st = self.shared.state.lock();
            self.ensure_dest(&mut st, &client.destination)?;
            st.mem.unsubscribe(client);
        }
        self.send(Task::Unsubscribe(client.clone()));
        Ok(())
    }

    fn list_all_subscribe_info(&self, destination: &str) -> MetaResult<Vec<ClientIdentity>> {
        let mut st = self.shared.state.lock();
        self.ensure_dest(&mut st, destination)?;
        Ok(st.mem.list(destination))
    }

    fn get_cursor(&self, client: &ClientIdentity) -> MetaResult<Option<LogPosition>> {
        let mut st = self.shared.state.lock();
        if !st.loaded_cursors.contains(client) && !st.mem.cursors.contains_key(client) {
            if let Some(p) = self.shared.backend.get_cursor(client)? {
                st.mem.cursors.insert(client.clone(), p);
            }
            st.loaded_cursors.insert(client.clone());
        }
        Ok(st.mem.cursors.get(client).cloned())
    }

    fn update_cursor(&self, client: &ClientIdentity, position: &LogPosition) -> MetaResult<()> {
        let mut st = self.shared.state.lock();
        st.mem.cursors.insert(client.clone(), position.clone());
        st.loaded_cursors.insert(client.clone());
        st.dirty.insert(client.clone());
        Ok(())
    }

    fn add_batch(&self, client: &ClientIdentity, range: PositionRange) -> MetaResult<i64> {
        self.with_batches(client, |m| Ok(m.add_batch(client, range)))
    }

    fn add_batch_with_id(
        &self,
        client: &ClientIdentity,
        range: PositionRange,
        batch_id: i64,
    ) -> MetaResult<()> {
        self.with_batches(client, |m| {
            m.add_batch_with_id(client, range, batch_id);
            Ok(())
        })
    }

    fn get_lastest_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        self.with_batches(client, |m| Ok(m.lastest(client)))
    }

    fn get_first_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        self.with_batches(client, |m| Ok(m.first(client)))
    }

    fn get_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        self.with_batches(client, |m| Ok(m.get(client, batch_id)))
    }

    fn remove_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        self.with_batches(client, |m| m.remove(client, batch_id))
    }

    fn list_all_batchs(&self, client: &ClientIdentity) -> MetaResult<BTreeMap<i64, PositionRange>> {
        self.with_batches(client, |m| Ok(m.list_batches(client)))
    }

    fn clear_all_batchs(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.with_batches(client, |m| {
            m.clear_batches(client);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryMetaManager;

    fn pos(o: i64) -> LogPosition {
        let mut p = LogPosition::default();
        p.postion.position = Some(o);
        p
    }

    fn wait_until(mut f: impl FnMut() -> bool) -> bool {
        for _ in 0..100 {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn lazy_load_from_backend() {
        let backend = Arc::new(MemoryMetaManager::new());
        let c = ClientIdentity::new("example", 1001);
        backend.subscribe(&c).unwrap();
        backend.update_cursor(&c, &pos(42)).unwrap();
        backend
            .add_batch_with_id(&c, PositionRange::default(), 5)
            .unwrap();
        let m = PeriodMixedMetaManager::new(backend.clone(), Duration::from_secs(3600));
        m.start().unwrap();
        assert!(m.has_subscribe(&c).unwrap());
        assert_eq!(m.get_cursor(&c).unwrap(), Some(pos(42)));
        assert_eq!(
            m.list_all_batchs(&c)
                .unwrap()
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![5]
        );
        // the loaded batch id pushes the counter
        assert_eq!(m.add_batch(&c, PositionRange::default()).unwrap(), 6);
        m.stop().unwrap();
    }

    #[test]
    fn async_subscribe_and_periodic_cursor_flush() {
        let backend = Arc::new(MemoryMetaManager::new());
        let m = PeriodMixedMetaManager::new(backend.clone(), Duration::from_millis(100));
        m.start().unwrap();
        let c = ClientIdentity::new("example", 1001);
        m.subscribe(&c).unwrap();
        assert!(wait_until(|| backend.has_subscribe(&c).unwrap()));
        m.update_cursor(&c, &pos(1)).unwrap();
        // not written synchronously
        assert_eq!(backend.get_cursor(&c).unwrap(), None);
        assert!(wait_until(
            || backend.get_cursor(&c).unwrap() == Some(pos(1))
        ));
        // batches never reach the backend
        m.add_batch(&c, PositionRange::default()).unwrap();
        assert!(backend.list_all_batchs(&c).unwrap().is_empty());
        m.unsubscribe(&c).unwrap();
        assert!(wait_until(|| !backend.has_subscribe(&c).unwrap()));
        m.stop().unwrap();
    }

    #[test]
    fn pending_cursor_flushed_on_stop() {
        // a file backend: what reached it survives its own stop in meta.dat
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(crate::FileMixedMetaManager::new(
            dir.path(),
            Duration::from_secs(3600),
        ));
        let m = PeriodMixedMetaManager::new(backend, Duration::from_secs(3600));
        m.start().unwrap();
        let c = ClientIdentity::new("example", 1001);
        m.subscribe(&c).unwrap();
        m.update_cursor(&c, &pos(9)).unwrap();
        m.stop().unwrap();
        let reader = crate::FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        assert!(reader.has_subscribe(&c).unwrap());
        assert_eq!(reader.get_cursor(&c).unwrap(), Some(pos(9)));
    }
}
