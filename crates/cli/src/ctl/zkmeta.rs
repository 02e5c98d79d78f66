//! The ZooKeeper meta of a destination (`default-instance.xml` with `canal.zkServers`): show,
//! move or drop cursors at Canal's nodes (`/otter/canal/destinations/{d}/{cid}/cursor`, LogPosition
//! JSON with a leading `@type`), through `canal_cluster`'s [`ZooKeeperMetaManager`] and paths, so
//! the node layout and JSON are the ones the server reads.
//!
//! Activity check (see [`ZkMeta::check_idle`]): a server running the destination holds the
//! ephemeral `/otter/canal/destinations/{d}/running` node and keeps the cursors in memory,
//! writing them to ZooKeeper every `canal.zookeeper.flush.period` (PeriodMixed meta), so a cursor
//! written under it is overwritten by its next flush. A connected Java cluster client holds the
//! ephemeral `/otter/canal/destinations/{d}/{cid}/running` node and acks from its own position.

use std::time::Duration;

use canal_cluster::{paths, ClientRunningData, ServerRunningData, ZkOptions, ZkSession};
use canal_cluster::{ClusterError, ZooKeeperMetaManager};
use canal_config::{InstanceConfig, MetaMode, ServerConfig};
use canal_meta::MetaManager;
use canal_protocol::position::{ClientIdentity, LogPosition};
use serde_json::{json, Value};
use zookeeper_client as zk;

use super::meta::{cursor_json, new_cursor};

/// How long canalctl waits for ZooKeeper (connect and each operation).
const ZK_TIMEOUT: Duration = Duration::from_secs(10);

/// A destination whose meta lives in ZooKeeper, with an open session.
pub struct ZkMeta {
    /// Destination.
    pub destination: String,
    /// `canal.zkServers`.
    pub zk_servers: String,
    /// The instance configuration.
    pub cfg: InstanceConfig,
    session: ZkSession,
    meta: ZooKeeperMetaManager,
}

/// Activity seen in ZooKeeper for a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// `/otter/canal/destinations/{d}/running` exists: a server runs the destination.
    Server {
        /// The node path.
        node: String,
        /// The holder's `{ip}:{port}`, when the node names one.
        address: Option<String>,
    },
    /// `/otter/canal/destinations/{d}/{cid}/running` exists: a client is connected.
    Client {
        /// The node path.
        node: String,
        /// Client id.
        client_id: i16,
        /// The client's address, when the node names one.
        address: Option<String>,
    },
}

impl Activity {
    /// Why a cursor change is refused, naming the node.
    pub fn refusal(&self, destination: &str) -> String {
        match self {
            Activity::Server { node, address } => format!(
                "destination {destination} is running on server {}: ZooKeeper node {node} exists \
                 (ephemeral, held by that server's session). The server keeps cursors in memory and \
                 writes them to ZooKeeper every canal.zookeeper.flush.period, so this change would be \
                 overwritten; stop the destination first (admin port: instance stop, or stop the \
                 server), or use --force",
                address.as_deref().unwrap_or("(no address in the node)")
            ),
            Activity::Client {
                node,
                client_id,
                address,
            } => format!(
                "client {client_id} of destination {destination} is connected from {}: ZooKeeper \
                 node {node} exists (ephemeral, held by the client's session); stop the consumer \
                 first, or use --force",
                address.as_deref().unwrap_or("(no address in the node)")
            ),
        }
    }
}

/// Whether `destination` keeps its meta in ZooKeeper (instance loaded from `server`).
pub fn is_zookeeper(server: &ServerConfig, destination: &str) -> Result<bool, String> {
    let s = server
        .instance_settings(destination)
        .map_err(|e| format!("destination {destination}: {e}"))?;
    Ok(s.meta_mode == MetaMode::ZooKeeper)
}

fn zk_err(e: impl std::fmt::Display) -> String {
    format!("zookeeper: {e}")
}

impl ZkMeta {
    /// Opens the ZooKeeper meta of `destination` (its conf must use `default-instance.xml`
    /// and `canal.zkServers` must be set).
    pub fn open(server: &ServerConfig, destination: &str) -> Result<ZkMeta, String> {
        let cfg = server
            .load_instance(destination)
            .map_err(|e| format!("destination {destination}: {e}"))?;
        if cfg.settings.meta_mode != MetaMode::ZooKeeper {
            return Err(format!(
                "destination {destination} does not use ZooKeeper meta ({})",
                cfg.settings.meta_mode.xml_name()
            ));
        }
        let zk_servers = server
            .zk_servers
            .clone()
            .filter(|z| !z.trim().is_empty())
            .ok_or_else(|| {
                format!("destination {destination} uses default-instance.xml (ZooKeeper meta) but canal.zkServers is not set")
            })?;
        let session = ZkSession::connect_blocking(
            &zk_servers,
            ZkOptions {
                session_timeout: ZK_TIMEOUT,
                initial_connect_timeout: Some(ZK_TIMEOUT),
                operation_timeout: ZK_TIMEOUT,
            },
        )
        .map_err(|e| format!("zookeeper {zk_servers}: {e}"))?;
        let meta = ZooKeeperMetaManager::new(session.clone());
        Ok(ZkMeta {
            destination: destination.to_string(),
            zk_servers,
            cfg,
            session,
            meta,
        })
    }

    fn read_node(&self, path: String) -> Result<Option<Vec<u8>>, String> {
        let s = self.session.clone();
        self.session
            .block_on(async move {
                let c = s.client().await?.client;
                match c.get_data(&path).await {
                    Ok((d, _)) => Ok(Some(d)),
                    Err(zk::Error::NoNode) => Ok(None),
                    Err(e) => Err(ClusterError::from(e)),
                }
            })
            .map_err(zk_err)
    }

    /// The server holding `/destinations/{d}/running`, if any (node path, address).
    pub fn running_server(&self) -> Result<Option<Activity>, String> {
        let node = paths::destination_running(&self.destination);
        Ok(self.read_node(node.clone())?.map(|d| Activity::Server {
            address: ServerRunningData::from_bytes(&d)
                .ok()
                .and_then(|r| r.address),
            node,
        }))
    }

    /// The client running node of `client_id`, if any.
    pub fn running_client(&self, client_id: i16) -> Result<Option<Activity>, String> {
        let node = paths::client_running_node(&self.destination, client_id);
        Ok(self.read_node(node.clone())?.map(|d| Activity::Client {
            address: ClientRunningData::from_bytes(&d)
                .ok()
                .and_then(|r| r.address),
            node,
            client_id,
        }))
    }

    /// Subscribed clients (numeric children of `/destinations/{d}`, ascending).
    pub fn clients(&self) -> Result<Vec<ClientIdentity>, String> {
        self.meta
            .list_all_subscribe_info(&self.destination)
            .map_err(zk_err)
    }

    /// Ok when neither a server runs the destination nor (one of) the client(s) concerned is
    /// connected; else the first activity found (server first).
    pub fn check_idle(&self, client_id: Option<i16>) -> Result<(), String> {
        if let Some(a) = self.running_server()? {
            return Err(a.refusal(&self.destination));
        }
        let ids: Vec<i16> = match client_id {
            Some(id) => vec![id],
            None => self.clients()?.iter().map(|c| c.client_id).collect(),
        };
        for id in ids {
            if let Some(a) = self.running_client(id)? {
                return Err(a.refusal(&self.destination));
            }
        }
        Ok(())
    }

    /// The cursor of `client_id`.
    pub fn cursor(&self, client_id: i16) -> Result<Option<LogPosition>, String> {
        self.meta
            .get_cursor(&ClientIdentity::new(self.destination.clone(), client_id))
            .map_err(zk_err)
    }

    /// Writes the cursor of `client_id` at `journal:position` (subscribing the client when it
    /// is not, without a filter). The source identity of an existing cursor is kept.
    pub fn set_cursor(
        &self,
        client_id: i16,
        journal: &str,
        position: i64,
        timestamp: Option<i64>,
    ) -> Result<LogPosition, String> {
        let mut known = self.cursor(client_id)?.map(|p| p.identity);
        if known.is_none() {
            for c in self.clients()? {
                if let Some(p) = self.cursor(c.client_id)? {
                    known = Some(p.identity);
                    break;
                }
            }
        }
        let cursor = new_cursor(known, &self.cfg, journal, position, timestamp);
        let client = ClientIdentity {
            destination: self.destination.clone(),
            client_id,
            filter: None,
        };
        self.meta.subscribe(&client).map_err(zk_err)?;
        self.meta.update_cursor(&client, &cursor).map_err(zk_err)?;
        Ok(cursor)
    }

    /// Deletes the cursor of `client_id` (every subscribed client when `None`), keeping the
    /// subscriptions. Returns how many cursors existed.
    pub fn reset(&self, client_id: Option<i16>) -> Result<usize, String> {
        let ids: Vec<i16> = match client_id {
            Some(id) => vec![id],
            None => self.clients()?.iter().map(|c| c.client_id).collect(),
        };
        let mut n = 0;
        for id in ids {
            if self
                .meta
                .remove_cursor(&ClientIdentity::new(self.destination.clone(), id))
                .map_err(zk_err)?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// JSON view: destination, ZooKeeper, running server, and each client's id, filter,
    /// cursor and running node.
    pub fn to_json(&self) -> Result<Value, String> {
        let running = self.running_server()?.and_then(|a| match a {
            Activity::Server { address, .. } => Some(address.unwrap_or_default()),
            Activity::Client { .. } => None,
        });
        let mut clients = Vec::new();
        for c in self.clients()? {
            let cursor = self.cursor(c.client_id)?;
            let connected = self.running_client(c.client_id)?.and_then(|a| match a {
                Activity::Client { address, .. } => Some(address.unwrap_or_default()),
                Activity::Server { .. } => None,
            });
            clients.push(json!({
                "clientId": c.client_id,
                "filter": c.filter,
                "cursor": cursor.as_ref().map(cursor_json),
                "cursorNode": paths::cursor_node(&self.destination, c.client_id),
                "runningClient": connected,
            }));
        }
        Ok(json!({
            "destination": self.destination,
            "zookeeper": self.zk_servers,
            "runningServer": running,
            "clients": clients,
        }))
    }
}

impl Drop for ZkMeta {
    fn drop(&mut self) {
        self.session.close();
    }
}
