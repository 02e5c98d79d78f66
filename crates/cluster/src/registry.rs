//! Server-level registration (`/otter/canal/cluster/{ip:port}`, operations.md §2.5) and the
//! discovery that cluster-mode clients use (§2.6: the `running` node, else the first child of
//! the destination's `cluster` node).

use std::sync::Arc;

use tokio::sync::Notify;
use zookeeper_client as zk;

use crate::data::ServerRunningData;
use crate::monitor::{delete_if_owned, register_ephemeral};
use crate::paths;
use crate::session::{SessionPhase, ZkSession};
use crate::ClusterError;

/// Creates `/otter/canal/destinations` and `/otter/canal/cluster` (persistent, parents
/// included), as Canal's controller does when `canal.zkServers` is set.
pub async fn ensure_canal_roots(session: &ZkSession) -> Result<(), ClusterError> {
    let c = session.client().await?;
    session
        .run(async move {
            let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            c.client.mkdir(paths::DESTINATIONS_ROOT, &opts).await?;
            c.client.mkdir(paths::CLUSTER_ROOT, &opts).await?;
            Ok::<(), ClusterError>(())
        })
        .await?
}

/// Keeps `/otter/canal/cluster/{ip:port}` registered: created now (with the Canal roots) and
/// after every new session, deleted by [`ServerRegistration::stop`].
#[derive(Debug)]
pub struct ServerRegistration {
    session: ZkSession,
    address: String,
    stop: Arc<Notify>,
    done: Arc<Notify>,
}

impl ServerRegistration {
    /// Starts registering `address` (`{registerIp}:{canal.port}`); returns once the first
    /// registration is done (or failed; it is retried on the next session event).
    pub async fn start(
        session: &ZkSession,
        address: impl Into<String>,
    ) -> Result<Self, ClusterError> {
        let address = address.into();
        ensure_canal_roots(session).await?;
        let path = paths::server_cluster_node(&address);
        let c = session.client().await?;
        let first = {
            let path = path.clone();
            session
                .run(async move { register_ephemeral(&c, &path).await })
                .await?
        };
        let stop = Arc::new(Notify::new());
        let done = Arc::new(Notify::new());
        let task_session = session.clone();
        let (stop2, done2) = (stop.clone(), done.clone());
        let first_gen = session.status().generation;
        let first_ok = first.is_ok();
        session.handle().spawn(async move {
            let mut rx = task_session.subscribe();
            let mut registered = if first_ok { first_gen } else { 0 };
            loop {
                let st = *rx.borrow_and_update();
                if st.phase == SessionPhase::Closed {
                    break;
                }
                if st.phase == SessionPhase::Connected && st.generation != registered {
                    if let Some(c) = task_session.current() {
                        match register_ephemeral(&c, &path).await {
                            Ok(()) => registered = c.generation,
                            Err(e) => tracing::warn!("register {path} failed: {e}"),
                        }
                    }
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() { break },
                    _ = stop2.notified() => {
                        if let Some(c) = task_session.current() {
                            if let Err(e) = delete_if_owned(&c, &path).await {
                                tracing::warn!("delete {path} failed: {e}");
                            }
                        }
                        break;
                    }
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)),
                        if st.phase == SessionPhase::Connected && st.generation != registered => {}
                }
            }
            done2.notify_one();
        });
        first?;
        Ok(Self {
            session: session.clone(),
            address,
            stop,
            done,
        })
    }

    /// The registered address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Deletes the node and stops re-registering.
    pub async fn stop(&self) {
        self.stop.notify_one();
        let _ = tokio::time::timeout(
            self.session.options().operation_timeout,
            self.done.notified(),
        )
        .await;
    }
}

/// Content of `/destinations/{dest}/running`, if any.
pub async fn running_server(
    session: &ZkSession,
    destination: &str,
) -> Result<Option<ServerRunningData>, ClusterError> {
    let c = session.client().await?;
    let path = paths::destination_running(destination);
    session
        .run(async move {
            match c.client.get_data(&path).await {
                Ok((bytes, _)) => Ok(Some(ServerRunningData::from_bytes(&bytes)?)),
                Err(zk::Error::NoNode) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?
}

/// Children of `/destinations/{dest}/cluster` (servers able to run the destination), sorted.
pub async fn cluster_servers(
    session: &ZkSession,
    destination: &str,
) -> Result<Vec<String>, ClusterError> {
    let c = session.client().await?;
    let path = paths::destination_cluster(destination);
    session
        .run(async move {
            match c.client.list_children(&path).await {
                Ok(mut v) => {
                    v.sort();
                    Ok(v)
                }
                Err(zk::Error::NoNode) => Ok(Vec::new()),
                Err(e) => Err(e.into()),
            }
        })
        .await?
}

/// The server a cluster-mode client should connect to for `destination`: the active one from
/// the `running` node, else (no holder yet: lazy start) the first registered cluster node.
/// `None` when nobody can serve it.
pub async fn discover_server(
    session: &ZkSession,
    destination: &str,
) -> Result<Option<String>, ClusterError> {
    if let Some(d) = running_server(session, destination).await? {
        if let Some(a) = d.address {
            if d.active {
                return Ok(Some(a));
            }
        }
    }
    Ok(cluster_servers(session, destination)
        .await?
        .into_iter()
        .next())
}

/// One-shot [`discover_server`] for clients without a long-lived session (Java
/// `ClusterNodeAccessStrategy` re-reads ZooKeeper on every reconnect): opens a session on
/// `zk_servers` (chroot allowed), reads, and closes it. `timeout` bounds the whole call.
pub async fn discover_server_once(
    zk_servers: &str,
    destination: &str,
    timeout: std::time::Duration,
) -> Result<Option<String>, ClusterError> {
    let options = crate::ZkOptions {
        session_timeout: timeout.max(std::time::Duration::from_secs(4)),
        initial_connect_timeout: Some(timeout),
        operation_timeout: timeout,
    };
    let session = ZkSession::connect(zk_servers, options).await?;
    let r = tokio::time::timeout(timeout, discover_server(&session, destination))
        .await
        .map_err(|_| ClusterError::Timeout(timeout));
    session.close();
    r?
}
