//! Java `MemoryMetaManager`: everything on the heap; also the state the file and period-mixed
//! managers keep in memory (their batches are memory-only too, as in every shipped Canal config).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};
use parking_lot::Mutex;

use crate::{MetaError, MetaManager, MetaResult};

/// Outstanding batches of one client and its id counter (Java `MemoryClientIdentityBatch`).
#[derive(Debug, Clone)]
pub(crate) struct BatchTable {
    batches: BTreeMap<i64, PositionRange>,
    next_id: i64,
}

impl Default for BatchTable {
    fn default() -> Self {
        Self {
            batches: BTreeMap::new(),
            next_id: 1,
        }
    }
}

impl BatchTable {
    fn add(&mut self, range: PositionRange) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.batches.insert(id, range);
        id
    }

    fn add_with_id(&mut self, range: PositionRange, id: i64) {
        if self.next_id < id.saturating_add(1) {
            self.next_id = id.saturating_add(1);
        }
        self.batches.insert(id, range);
    }

    fn remove(&mut self, id: i64) -> MetaResult<Option<PositionRange>> {
        if !self.batches.contains_key(&id) {
            return Ok(None);
        }
        if let Some((&min, _)) = self.batches.first_key_value() {
            if min != id {
                return Err(MetaError::NotFirstly { batch_id: id, min });
            }
        }
        Ok(self.batches.remove(&id))
    }
}

/// In-memory meta state shared by all manager variants.
#[derive(Debug, Default)]
pub(crate) struct MemoryState {
    pub(crate) destinations: HashMap<String, Vec<ClientIdentity>>,
    pub(crate) cursors: HashMap<ClientIdentity, LogPosition>,
    pub(crate) batches: HashMap<ClientIdentity, BatchTable>,
}

impl MemoryState {
    pub(crate) fn clear(&mut self) {
        self.destinations.clear();
        self.cursors.clear();
        self.batches.clear();
    }

    pub(crate) fn subscribe(&mut self, client: &ClientIdentity) {
        let list = self
            .destinations
            .entry(client.destination.clone())
            .or_default();
        list.retain(|c| c != client);
        list.push(client.clone());
    }

    pub(crate) fn has_subscribe(&self, client: &ClientIdentity) -> bool {
        self.destinations
            .get(&client.destination)
            .is_some_and(|l| l.contains(client))
    }

    pub(crate) fn unsubscribe(&mut self, client: &ClientIdentity) {
        if let Some(l) = self.destinations.get_mut(&client.destination) {
            l.retain(|c| c != client);
        }
    }

    pub(crate) fn list(&self, destination: &str) -> Vec<ClientIdentity> {
        self.destinations
            .get(destination)
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn table(&mut self, client: &ClientIdentity) -> &mut BatchTable {
        self.batches.entry(client.clone()).or_default()
    }

    pub(crate) fn add_batch(&mut self, client: &ClientIdentity, range: PositionRange) -> i64 {
        self.table(client).add(range)
    }

    pub(crate) fn add_batch_with_id(
        &mut self,
        client: &ClientIdentity,
        range: PositionRange,
        id: i64,
    ) {
        self.table(client).add_with_id(range, id)
    }

    pub(crate) fn lastest(&self, client: &ClientIdentity) -> Option<PositionRange> {
        self.batches
            .get(client)
            .and_then(|t| t.batches.last_key_value().map(|(_, r)| r.clone()))
    }

    pub(crate) fn first(&self, client: &ClientIdentity) -> Option<PositionRange> {
        self.batches
            .get(client)
            .and_then(|t| t.batches.first_key_value().map(|(_, r)| r.clone()))
    }

    pub(crate) fn get(&self, client: &ClientIdentity, id: i64) -> Option<PositionRange> {
        self.batches
            .get(client)
            .and_then(|t| t.batches.get(&id).cloned())
    }

    pub(crate) fn remove(
        &mut self,
        client: &ClientIdentity,
        id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        match self.batches.get_mut(client) {
            Some(t) => t.remove(id),
            None => Ok(None),
        }
    }

    pub(crate) fn list_batches(&self, client: &ClientIdentity) -> BTreeMap<i64, PositionRange> {
        self.batches
            .get(client)
            .map(|t| t.batches.clone())
            .unwrap_or_default()
    }

    pub(crate) fn clear_batches(&mut self, client: &ClientIdentity) {
        if let Some(t) = self.batches.get_mut(client) {
            t.batches.clear();
        }
    }
}

/// Java `MemoryMetaManager`: nothing survives a restart.
#[derive(Debug, Default)]
pub struct MemoryMetaManager {
    state: Mutex<MemoryState>,
    started: AtomicBool,
}

impl MemoryMetaManager {
    /// A new, not yet started manager (it works before `start` too).
    pub fn new() -> Self {
        Self::default()
    }
}

impl MetaManager for MemoryMetaManager {
    fn start(&self) -> MetaResult<()> {
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        self.started.store(false, Ordering::SeqCst);
        self.state.lock().clear();
        Ok(())
    }

    fn is_start(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    fn subscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.state.lock().subscribe(client);
        Ok(())
    }

    fn has_subscribe(&self, client: &ClientIdentity) -> MetaResult<bool> {
        Ok(self.state.lock().has_subscribe(client))
    }

    fn unsubscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.state.lock().unsubscribe(client);
        Ok(())
    }

    fn list_all_subscribe_info(&self, destination: &str) -> MetaResult<Vec<ClientIdentity>> {
        Ok(self.state.lock().list(destination))
    }

    fn get_cursor(&self, client: &ClientIdentity) -> MetaResult<Option<LogPosition>> {
        Ok(self.state.lock().cursors.get(client).cloned())
    }

    fn update_cursor(&self, client: &ClientIdentity, position: &LogPosition) -> MetaResult<()> {
        self.state
            .lock()
            .cursors
            .insert(client.clone(), position.clone());
        Ok(())
    }

    fn add_batch(&self, client: &ClientIdentity, range: PositionRange) -> MetaResult<i64> {
        Ok(self.state.lock().add_batch(client, range))
    }

    fn add_batch_with_id(
        &self,
        client: &ClientIdentity,
        range: PositionRange,
        batch_id: i64,
    ) -> MetaResult<()> {
        self.state.lock().add_batch_with_id(client, range, batch_id);
        Ok(())
    }

    fn get_lastest_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        Ok(self.state.lock().lastest(client))
    }

    fn get_first_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        Ok(self.state.lock().first(client))
    }

    fn get_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        Ok(self.state.lock().get(client, batch_id))
    }

    fn remove_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        self.state.lock().remove(client, batch_id)
    }

    fn list_all_batchs(&self, client: &ClientIdentity) -> MetaResult<BTreeMap<i64, PositionRange>> {
        Ok(self.state.lock().list_batches(client))
    }

    fn clear_all_batchs(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.state.lock().clear_batches(client);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(seq: i64) -> PositionRange {
        PositionRange {
            end_seq: seq,
            ..Default::default()
        }
    }

    fn client(id: i16) -> ClientIdentity {
        ClientIdentity::new("example", id)
    }

    /// operations.md §3.1 contract, rule by rule.
    #[test]
    fn subscription_rules() {
        let m = MemoryMetaManager::new();
        let a = client(1001);
        let b = client(1002);
        assert!(!m.has_subscribe(&a).unwrap());
        m.subscribe(&a).unwrap();
        m.subscribe(&b).unwrap();
        // re-subscribe moves to the end and replaces the filter
        let a2 = ClientIdentity {
            filter: Some("db\\..*".into()),
            ..a.clone()
        };
        m.subscribe(&a2).unwrap();
        let list = m.list_all_subscribe_info("example").unwrap();
        assert_eq!(list, vec![b.clone(), a.clone()]);
        assert_eq!(list[1].filter.as_deref(), Some("db\\..*"));
        // identity ignores the filter
        assert!(m.has_subscribe(&a).unwrap());
        m.unsubscribe(&a).unwrap();
        assert!(!m.has_subscribe(&a).unwrap());
        assert!(m.list_all_subscribe_info("other").unwrap().is_empty());
    }

    #[test]
    fn batch_ids_and_firstly_rule() {
        let m = MemoryMetaManager::new();
        let c = client(1001);
        assert_eq!(m.add_batch(&c, range(1)).unwrap(), 1);
        assert_eq!(m.add_batch(&c, range(2)).unwrap(), 2);
        assert_eq!(m.add_batch(&c, range(3)).unwrap(), 3);
        assert_eq!(m.get_lastest_batch(&c).unwrap().unwrap().end_seq, 3);
        assert_eq!(m.get_first_batch(&c).unwrap().unwrap().end_seq, 1);
        assert_eq!(m.get_batch(&c, 2).unwrap().unwrap().end_seq, 2);
        let err = m.remove_batch(&c, 2).unwrap_err();
        assert_eq!(err.to_string(), "batchId:2 is not the firstly:1");
        assert_eq!(
            err.java_class(),
            "com.alibaba.otter.canal.meta.exception.CanalMetaManagerException"
        );
        assert!(m.remove_batch(&c, 99).unwrap().is_none());
        assert_eq!(m.remove_batch(&c, 1).unwrap().unwrap().end_seq, 1);
        assert_eq!(
            m.list_all_batchs(&c)
                .unwrap()
                .keys()
                .copied()
                .collect::<Vec<_>>(),
            vec![2, 3]
        );
        m.clear_all_batchs(&c).unwrap();
        assert!(m.get_lastest_batch(&c).unwrap().is_none());
        // ids are never reused, not even after clearing
        assert_eq!(m.add_batch(&c, range(4)).unwrap(), 4);
        // addBatch with an id pushes the counter to id + 1
        m.add_batch_with_id(&c, range(10), 10).unwrap();
        assert_eq!(m.add_batch(&c, range(11)).unwrap(), 11);
        m.add_batch_with_id(&c, range(5), 5).unwrap();
        assert_eq!(m.add_batch(&c, range(12)).unwrap(), 12);
        // other clients have their own counter
        assert_eq!(m.add_batch(&client(7), range(0)).unwrap(), 1);
        // stop forgets everything (counters restart at 1)
        m.stop().unwrap();
        assert_eq!(m.add_batch(&c, range(0)).unwrap(), 1);
    }

    #[test]
    fn cursors() {
        let m = MemoryMetaManager::new();
        let c = client(1001);
        assert!(m.get_cursor(&c).unwrap().is_none());
        let mut p = LogPosition::default();
        p.postion.position = Some(4);
        m.update_cursor(&c, &p).unwrap();
        assert_eq!(m.get_cursor(&c).unwrap(), Some(p.clone()));
        // unsubscribe keeps the cursor
        m.subscribe(&c).unwrap();
        m.unsubscribe(&c).unwrap();
        assert_eq!(m.get_cursor(&c).unwrap(), Some(p));
    }
}
