//! Server discovery through ZooKeeper, as Java's `ClusterNodeAccessStrategy` does it
//! (../shared/compat/wire-protocol.md §4.2): the address in
//! `/otter/canal/destinations/<d>/running` (JSON `{"active":true,"address":"ip:port"}`, key read
//! case-insensitively like canal-go) if present, else a random member of
//! `/otter/canal/destinations/<d>/cluster` (children named `ip:port`; connecting there triggers a
//! lazy start), else "no alive canal server".
//!
//! Not implemented: watches/re-discovery while connected and the client-side mutual exclusion
//! node (`/<clientId>/running`), which the server never reads.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::{CanalClient, ClientConfig, ClientError};

/// `/otter/canal/destinations/<destination>`.
fn destination_path(destination: &str) -> String {
    format!("/otter/canal/destinations/{destination}")
}

fn zk_err(what: &str, e: zookeeper_client::Error) -> ClientError {
    ClientError::Protocol(format!("zookeeper {what}: {e}"))
}

/// The `address` of a ServerRunningData JSON node, if active (a missing `active` counts as true).
fn running_address(data: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(data).ok()?;
    let obj = v.as_object()?;
    let get = |key: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    };
    if get("active").and_then(|a| a.as_bool()) == Some(false) {
        return None;
    }
    get("address")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

/// Finds the server to use for `destination` through the ZooKeeper ensemble `zk_servers`
/// (`host:port[,host:port...][/chroot]`).
pub async fn discover(zk_servers: &str, destination: &str) -> Result<String, ClientError> {
    let zk = tokio::time::timeout(
        Duration::from_secs(15),
        zookeeper_client::Client::connect(zk_servers),
    )
    .await
    .map_err(|_| ClientError::Timeout)?
    .map_err(|e| zk_err("connect", e))?;
    let base = destination_path(destination);
    match zk.get_data(&format!("{base}/running")).await {
        Ok((data, _)) => {
            if let Some(addr) = running_address(&data) {
                return Ok(addr);
            }
        }
        Err(zookeeper_client::Error::NoNode) => {}
        Err(e) => return Err(zk_err("read running node", e)),
    }
    let mut members = match zk.list_children(&format!("{base}/cluster")).await {
        Ok(m) => m,
        Err(zookeeper_client::Error::NoNode) => Vec::new(),
        Err(e) => return Err(zk_err("list cluster", e)),
    };
    if members.is_empty() {
        return Err(ClientError::Protocol(format!(
            "no alive canal server for {destination}"
        )));
    }
    // Java shuffles the list; any member will do. RandomState gives a random seed without a
    // dependency.
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let pick = (r % members.len() as u64) as usize;
    Ok(members.swap_remove(pick))
}

impl CanalClient {
    /// Discovers the server of `config.destination` through ZooKeeper, then connects.
    pub async fn connect_cluster(
        zk_servers: &str,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let addr = discover(zk_servers, &config.destination).await?;
        Self::connect(addr.as_str(), config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_node_json() {
        assert_eq!(
            running_address(br#"{"active":true,"address":"10.0.0.5:11111"}"#).as_deref(),
            Some("10.0.0.5:11111")
        );
        assert_eq!(
            running_address(br#"{"Address":"h:1"}"#).as_deref(),
            Some("h:1")
        );
        assert_eq!(
            running_address(br#"{"active":false,"address":"h:1"}"#),
            None
        );
        assert_eq!(running_address(b"not json"), None);
    }
}
