//! ZooKeeper meta backend (Java `ZooKeeperMetaManager`, operations.md §1.2/§3.2) and ZooKeeper
//! log position manager (Java `ZooKeeperLogPositionManager`, §3.3). Both are synchronous (the
//! meta traits are) and run their I/O on the session's private runtime via
//! [`ZkSession::block_on`]; `canal_meta::PeriodMixedMetaManager` wraps the meta backend for
//! Canal's `default-instance.xml` wiring.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use canal_meta::log_position::LogPositionManager;
use canal_meta::{MetaError, MetaManager, MetaResult};
use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};
use parking_lot::Mutex;
use zookeeper_client as zk;

use crate::monitor::ActiveLease;

use crate::paths;
use crate::session::ZkSession;
use crate::ClusterError;

impl From<ClusterError> for MetaError {
    fn from(e: ClusterError) -> Self {
        match e {
            ClusterError::PositionJson(j) => MetaError::Json(j.to_string()),
            other => MetaError::Backend(other.to_string()),
        }
    }
}

fn persistent() -> zk::CreateOptions<'static> {
    zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all())
}

async fn mkdirs(client: &zk::Client, path: &str) -> Result<(), ClusterError> {
    client.mkdir(path, &persistent()).await?;
    Ok(())
}

/// Writes `data` at `path`, creating it (and its parents) when missing.
async fn write_or_create(client: &zk::Client, path: &str, data: &[u8]) -> Result<(), ClusterError> {
    for _ in 0..5 {
        match client.set_data(path, data, None).await {
            Ok(_) => return Ok(()),
            Err(zk::Error::NoNode) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(parent) = paths::parent(path) {
            if parent != "/" {
                mkdirs(client, parent).await?;
            }
        }
        match client.create(path, data, &persistent()).await {
            Ok(_) => return Ok(()),
            Err(zk::Error::NodeExists) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ClusterError::Contended(path.to_string()))
}

/// Reads a node, `None` when it does not exist.
async fn read_opt(client: &zk::Client, path: &str) -> Result<Option<Vec<u8>>, ClusterError> {
    match client.get_data(path).await {
        Ok((d, _)) => Ok(Some(d)),
        Err(zk::Error::NoNode) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Children of a node, empty when it does not exist.
async fn children_opt(client: &zk::Client, path: &str) -> Result<Vec<String>, ClusterError> {
    match client.list_children(path).await {
        Ok(v) => Ok(v),
        Err(zk::Error::NoNode) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a subtree, depth first; missing nodes are fine.
async fn delete_recursive(client: &zk::Client, path: &str) -> Result<(), ClusterError> {
    // iterative post-order walk (no async recursion)
    let mut stack = vec![(path.to_string(), false)];
    while let Some((p, expanded)) = stack.pop() {
        if expanded {
            match client.delete(&p, None).await {
                Ok(()) | Err(zk::Error::NoNode) => {}
                Err(zk::Error::NotEmpty) => stack.push((p, false)),
                Err(e) => return Err(e.into()),
            }
            continue;
        }
        let kids = children_opt(client, &p).await?;
        stack.push((p.clone(), true));
        for k in kids {
            stack.push((format!("{p}/{k}"), false));
        }
    }
    Ok(())
}

/// Batch ids under `mark`, ascending (non-numeric names are ignored).
async fn batch_ids(client: &zk::Client, mark: &str) -> Result<Vec<i64>, ClusterError> {
    let mut ids: Vec<i64> = children_opt(client, mark)
        .await?
        .iter()
        .filter_map(|n| paths::parse_batch_node_name(n))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

async fn read_batch(
    client: &zk::Client,
    dest: &str,
    cid: i16,
    id: i64,
) -> Result<Option<PositionRange>, ClusterError> {
    match read_opt(client, &paths::batch_mark_node(dest, cid, id)).await? {
        None => Ok(None),
        Some(d) => {
            let text = String::from_utf8_lossy(&d);
            Ok(Some(PositionRange::from_json(&text)?))
        }
    }
}

/// Java `ZooKeeperMetaManager`: every call goes straight to ZooKeeper.
///
/// Differences from Java, all on error paths: missing `mark` nodes read as "no batches" where
/// Java would throw, non-numeric batch node names are skipped, and `add_batch_with_id` over an
/// existing node overwrites it.
///
/// Fencing of writes (an addition): with [`ZooKeeperMetaManager::set_write_lease`] cursor and
/// batch writes are refused once the lease of the active monitor is no longer valid, so a
/// server that lost the destination cannot move the shared cursor (e.g. a final flush after a
/// freeze) behind the new active server's back.
#[derive(Debug)]
pub struct ZooKeeperMetaManager {
    session: ZkSession,
    running: AtomicBool,
    write_lease: Mutex<Option<ActiveLease>>,
}

impl ZooKeeperMetaManager {
    /// Backend over an established session.
    pub fn new(session: ZkSession) -> Self {
        Self {
            session,
            running: AtomicBool::new(false),
            write_lease: Mutex::new(None),
        }
    }

    /// Guards cursor/batch writes with `lease` (`None` removes the guard).
    pub fn set_write_lease(&self, lease: Option<ActiveLease>) {
        *self.write_lease.lock() = lease;
    }

    /// Deletes the cursor node of `client` (`/destinations/{d}/{cid}/cursor`), keeping the
    /// subscription; returns whether a cursor existed. Not part of Canal's meta contract (Java
    /// never drops a cursor without unsubscribing); used by operator tools (`canalctl
    /// position reset`). Fenced by the write lease like the other writes.
    pub fn remove_cursor(&self, client: &ClientIdentity) -> MetaResult<bool> {
        self.check_write()?;
        let path = paths::cursor_node(&client.destination, client.client_id);
        self.call(move |c| async move {
            match c.delete(&path, None).await {
                Ok(()) => Ok(true),
                Err(zk::Error::NoNode) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    fn check_write(&self) -> MetaResult<()> {
        match &*self.write_lease.lock() {
            Some(l) if !l.is_valid() => Err(MetaError::Backend(
                "not the active server any more (lease expired): meta write refused".into(),
            )),
            _ => Ok(()),
        }
    }

    fn call<T, F, Fut>(&self, f: F) -> MetaResult<T>
    where
        F: FnOnce(zk::Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, ClusterError>> + Send + 'static,
        T: Send + 'static,
    {
        let session = self.session.clone();
        self.session
            .block_on(async move {
                let c = session.client().await?;
                f(c.client).await
            })
            .map_err(MetaError::from)
    }
}

impl MetaManager for ZooKeeperMetaManager {
    fn start(&self) -> MetaResult<()> {
        self.running.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        self.running.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn is_start(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn subscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        let (dest, cid) = (client.destination.clone(), client.client_id);
        // Java `hasFilter` = non-blank; an empty filter never clears an old one (trap kept).
        let filter = client.filter.clone().filter(|f| !f.trim().is_empty());
        self.call(move |c| async move {
            mkdirs(&c, &paths::client_id_node(&dest, cid)).await?;
            if let Some(f) = filter {
                write_or_create(&c, &paths::filter_node(&dest, cid), f.as_bytes()).await?;
            }
            Ok(())
        })
    }

    fn has_subscribe(&self, client: &ClientIdentity) -> MetaResult<bool> {
        let path = paths::client_id_node(&client.destination, client.client_id);
        self.call(move |c| async move { Ok(c.check_stat(&path).await?.is_some()) })
    }

    fn unsubscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        let path = paths::client_id_node(&client.destination, client.client_id);
        self.call(move |c| async move { delete_recursive(&c, &path).await })
    }

    fn list_all_subscribe_info(&self, destination: &str) -> MetaResult<Vec<ClientIdentity>> {
        let dest = destination.to_string();
        self.call(move |c| async move {
            let mut ids: Vec<i16> = children_opt(&c, &paths::destination(&dest))
                .await?
                .iter()
                .filter_map(|n| paths::parse_client_id_child(n))
                .collect();
            ids.sort_unstable();
            let mut out = Vec::with_capacity(ids.len());
            for cid in ids {
                let filter = read_opt(&c, &paths::filter_node(&dest, cid))
                    .await?
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                out.push(ClientIdentity {
                    destination: dest.clone(),
                    client_id: cid,
                    filter,
                });
            }
            Ok(out)
        })
    }

    fn get_cursor(&self, client: &ClientIdentity) -> MetaResult<Option<LogPosition>> {
        let path = paths::cursor_node(&client.destination, client.client_id);
        self.call(move |c| async move {
            match read_opt(&c, &path).await? {
                None => Ok(None),
                Some(d) if d.is_empty() => Ok(None),
                Some(d) => Ok(Some(LogPosition::from_json(&String::from_utf8_lossy(&d))?)),
            }
        })
    }

    fn update_cursor(&self, client: &ClientIdentity, position: &LogPosition) -> MetaResult<()> {
        self.check_write()?;
        let path = paths::cursor_node(&client.destination, client.client_id);
        // ZooKeeper cursor form: `@type` first (operations.md §1.3)
        let data = position.to_json_with_type().into_bytes();
        self.call(move |c| async move { write_or_create(&c, &path, &data).await })
    }

    fn add_batch(&self, client: &ClientIdentity, range: PositionRange) -> MetaResult<i64> {
        self.check_write()?;
        let mark = paths::batch_mark_root(&client.destination, client.client_id);
        let data = range.to_json_with_type().into_bytes();
        self.call(move |c| async move {
            let opts = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
            let prefix = format!("{mark}/");
            for _ in 0..3 {
                match c.create(&prefix, &data, &opts).await {
                    Ok((_, seq)) => return Ok(seq.into_i64()),
                    Err(zk::Error::NoNode) => mkdirs(&c, &mark).await?,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(ClusterError::Contended(mark))
        })
    }

    fn add_batch_with_id(
        &self,
        client: &ClientIdentity,
        range: PositionRange,
        batch_id: i64,
    ) -> MetaResult<()> {
        self.check_write()?;
        let path = paths::batch_mark_node(&client.destination, client.client_id, batch_id);
        let data = range.to_json_with_type().into_bytes();
        self.call(move |c| async move { write_or_create(&c, &path, &data).await })
    }

    fn get_lastest_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        let (dest, cid) = (client.destination.clone(), client.client_id);
        self.call(move |c| async move {
            let mark = paths::batch_mark_root(&dest, cid);
            for _ in 0..5 {
                let Some(&max) = batch_ids(&c, &mark).await?.last() else {
                    return Ok(None);
                };
                if let Some(r) = read_batch(&c, &dest, cid, max).await? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        })
    }

    fn get_first_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        let (dest, cid) = (client.destination.clone(), client.client_id);
        self.call(move |c| async move {
            let mark = paths::batch_mark_root(&dest, cid);
            for _ in 0..5 {
                let Some(&min) = batch_ids(&c, &mark).await?.first() else {
                    return Ok(None);
                };
                if let Some(r) = read_batch(&c, &dest, cid, min).await? {
                    return Ok(Some(r));
                }
            }
            Ok(None)
        })
    }

    fn get_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        let (dest, cid) = (client.destination.clone(), client.client_id);
        self.call(move |c| async move { read_batch(&c, &dest, cid, batch_id).await })
    }

    /// Java order of checks: no batches -> `None`; `batch_id` not the lowest outstanding id
    /// (including an unknown id while others are outstanding) -> `NotFirstly`.
    fn remove_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        self.check_write()?;
        let (dest, cid) = (client.destination.clone(), client.client_id);
        let r = self.session.block_on({
            let session = self.session.clone();
            async move {
                let c = session.client().await?.client;
                let mark = paths::batch_mark_root(&dest, cid);
                let ids = batch_ids(&c, &mark).await?;
                let Some(&min) = ids.first() else {
                    return Ok(Err(None));
                };
                if min != batch_id {
                    return Ok(Err(Some(min)));
                }
                let range = read_batch(&c, &dest, cid, batch_id).await?;
                if range.is_some() {
                    match c
                        .delete(&paths::batch_mark_node(&dest, cid, batch_id), None)
                        .await
                    {
                        Ok(()) | Err(zk::Error::NoNode) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(Ok(range))
            }
        })?;
        match r {
            Ok(range) => Ok(range),
            Err(None) => Ok(None),
            Err(Some(min)) => Err(MetaError::NotFirstly { batch_id, min }),
        }
    }

    fn list_all_batchs(&self, client: &ClientIdentity) -> MetaResult<BTreeMap<i64, PositionRange>> {
        let (dest, cid) = (client.destination.clone(), client.client_id);
        self.call(move |c| async move {
            let mark = paths::batch_mark_root(&dest, cid);
            let mut out = BTreeMap::new();
            for id in batch_ids(&c, &mark).await? {
                // a batch acked meanwhile is simply absent
                if let Some(r) = read_batch(&c, &dest, cid, id).await? {
                    out.insert(id, r);
                }
            }
            Ok(out)
        })
    }

    fn clear_all_batchs(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.check_write()?;
        let mark = paths::batch_mark_root(&client.destination, client.client_id);
        self.call(move |c| async move {
            for name in children_opt(&c, &mark).await? {
                match c.delete(&format!("{mark}/{name}"), None).await {
                    Ok(()) | Err(zk::Error::NoNode) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        })
    }
}

/// Java `ZooKeeperLogPositionManager`: the parser position in
/// `/destinations/{dest}/parse` (LogPosition JSON without `@type`), written synchronously.
#[derive(Debug)]
pub struct ZooKeeperLogPositionManager {
    session: ZkSession,
}

impl ZooKeeperLogPositionManager {
    /// Manager over an established session.
    pub fn new(session: ZkSession) -> Self {
        Self { session }
    }
}

impl LogPositionManager for ZooKeeperLogPositionManager {
    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>> {
        let path = paths::parse_node(destination);
        let session = self.session.clone();
        self.session
            .block_on(async move {
                let c = session.client().await?.client;
                match read_opt(&c, &path).await? {
                    None => Ok(None),
                    Some(d) if d.is_empty() => Ok(None),
                    Some(d) => Ok(Some(LogPosition::from_json(&String::from_utf8_lossy(&d))?)),
                }
            })
            .map_err(MetaError::from)
    }

    fn persist_log_position(&self, destination: &str, position: &LogPosition) -> MetaResult<()> {
        let path = paths::parse_node(destination);
        let data = position.to_json().into_bytes();
        let session = self.session.clone();
        self.session
            .block_on(async move {
                let c = session.client().await?.client;
                write_or_create(&c, &path, &data).await
            })
            .map_err(MetaError::from)
    }
}
