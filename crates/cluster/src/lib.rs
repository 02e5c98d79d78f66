//! canal-cluster: ZooKeeper HA for canal-rs — the session wrapper, Canal's node layout and node
//! JSON, the per-destination running monitor (election, delayed takeover, release, step-down,
//! cluster registration) with fencing, client discovery, and the ZooKeeper meta / log position
//! backends. Must not parse binlog, serve clients or own instance lifecycles: the instance layer
//! plugs in through [`RunningListener`] and checks [`ActiveLease`] before delivering.
//!
//! Reference: ../shared/compat/operations.md §1 (paths, JSON), §2 (HA), §3 (meta).
//!
//! # Modules
//! * [`connect`]: `canal.zkServers` (chroot suffix, `;` fallback ensembles appended as hosts).
//! * [`session`]: [`ZkSession`] over `zookeeper-client`: creates a missing chroot root (Java
//!   Canal crashes instead), reports Connected / Disconnected / Expired per *generation*, opens
//!   a new session after expiry (as zkclient does), and keeps the liveness lease.
//! * [`paths`], [`data`]: every path of §1.2 and the `ServerRunningData` /
//!   `ClientRunningData` JSON of §1.3 (alphabetical keys, fastjson2 text).
//! * [`monitor`]: [`ServerRunningMonitor`] per destination, Canal's election (§2.2): ephemeral
//!   create of `running`; NodeExists → remember the holder and watch; NoNode → create the
//!   destination node and retry; on deletion the previous holder (if it did not release)
//!   re-grabs at once, everybody else waits 5 s; `active:false` with our address → step down;
//!   `release()`; registration of `/destinations/{d}/cluster/{ip:port}` at creation and after
//!   every new session; release after repeated parser failures (an addition).
//! * [`registry`]: `/otter/canal/cluster/{ip:port}` registration and client discovery
//!   ([`discover_server`]: the `running` node, else the first child of `.../cluster`).
//! * [`meta`]: [`ZooKeeperMetaManager`] (implements `canal_meta::MetaManager`; wrap it in
//!   `canal_meta::PeriodMixedMetaManager` for `default-instance.xml`) and
//!   [`ZooKeeperLogPositionManager`] (`parse` node, no `@type`).
//!
//! * [`monitors`]: [`ServerRunningMonitors`], the per-server map of monitors (Java
//!   `ServerRunningMonitors`), created on first need.
//! * `canal-zk-probe` (binary): runs one monitor with a stand-in instance that prints a line
//!   per delivery; used by the multi-process fencing/failover tests, handy by hand.
//!
//! # Wiring (for the server / instance layer)
//! 1. `canal.zkServers` set: `ZkSession::connect(zk_servers, ZkOptions::default())`, then
//!    [`ServerRegistration::start`]`(&session, "{registerIp}:{port}")`.
//! 2. `ServerRunningMonitors::new(Some(session), address, MonitorOptions::default(), factory)`;
//!    the factory's listener starts the instance in `process_active_enter(lease)` and stops it
//!    in `process_active_exit`. `get_or_create(dest)` for every configured destination (and for
//!    any destination a client subscribes to), `.start()` unless lazy.
//! 3. Before delivering a batch to a client, check `lease.is_valid()`; when it is false answer
//!    like a standby (`destination:{dest} should start first`).
//! 4. Report parser errors/successes with `report_parser_failure` / `report_parser_success`.
//! 5. `default-instance.xml` meta: `PeriodMixedMetaManager::new(Arc::new(
//!    ZooKeeperMetaManager::new(session)), period)`; optionally `set_write_lease` on enter.
//! 6. Shutdown: `monitors.stop_all()`, `registration.stop()`, `session.close()`.
//!
//! Threads: each [`ZkSession`] owns a private tokio runtime (1 worker + blocking pool) running
//! the `zookeeper-client` session, the heartbeat and all monitors; listener callbacks run on its
//! blocking pool. Synchronous callers (meta managers) use [`ZkSession::block_on`], which parks
//! only the calling thread.
//!
//! # Fencing (beyond Canal)
//! Canal keeps its instance running after losing its session (alibaba/canal #2859, #464), so
//! two servers can deliver the same destination. Here the active server stops serving and
//! parsing *before* anyone else can take over:
//!
//! * The ZooKeeper server expires a session no earlier than `T` (negotiated timeout) after the
//!   last request it received from that session. A request that got an answer was received
//!   after we sent it, so `expiry >= t_send + T` for every answered request (in an ensemble the
//!   leader learns of follower traffic later, and a new leader restarts all session clocks:
//!   both only push expiry later).
//! * Only after the expiry does ZooKeeper delete our ephemeral `running` node; only after the
//!   deletion can a standby create it (and a non-previous holder waits 5 s more).
//! * The session wrapper sends a cheap read every `T/10` and keeps `t_send` of the latest
//!   answered request (election requests count too). The lease of the active monitor ends at
//!   `t_send + 3T/4`, on the monotonic clock, which keeps running while the process is frozen.
//!   So the lease ends at least `T/4` (plus 5 s for a non-previous holder) before any other
//!   server can become active.
//! * [`ActiveLease::is_valid`] is that clock comparison, so serving code that checks it before
//!   each delivery stops exactly on time even if this process was frozen (SIGSTOP) and the
//!   monitor task has not run yet. The monitor task additionally wakes at the lease deadline
//!   (or at once on Expired) and calls `process_active_exit`.
//! * Re-entry only through a fresh election: after a lease lapse with the session still alive
//!   the monitor deletes its own `running` node and re-creates it (previous holder, no delay);
//!   after expiry the new session contends normally. A monitor that sees the `running` node
//!   name another server, or vanish and be taken, exits at once.
//!
//! The instance stops before a released node is deleted (Canal deletes first), for the same
//! reason. Residual risk: a delivery already past its lease check when the process is frozen
//! completes after resumption; the `T/4` margin plus the 5 s takeover delay bound that window.

#![warn(missing_docs)]

pub mod connect;
pub mod data;
pub mod meta;
pub mod monitor;
pub mod monitors;
pub mod paths;
pub mod registry;
pub mod session;

pub use connect::ConnectString;
pub use data::{ClientRunningData, NodeDataError, ServerRunningData};
pub use meta::{ZooKeeperLogPositionManager, ZooKeeperMetaManager};
pub use monitor::{
    ActiveLease, MonitorOptions, MonitorState, RunningListener, ServerRunningMonitor,
    CANAL_TAKEOVER_DELAY,
};
pub use monitors::{ListenerFactory, ServerRunningMonitors};
pub use registry::{
    cluster_servers, discover_server, discover_server_once, ensure_canal_roots, running_server,
    ServerRegistration,
};
pub use session::{SessionClient, SessionPhase, SessionStatus, ZkOptions, ZkSession};

use std::time::Duration;

/// Errors of this crate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClusterError {
    /// `canal.zkServers` cannot be parsed.
    #[error("invalid zookeeper connect string: {0}")]
    ConnectString(String),
    /// No session within the initial connect timeout.
    #[error("no zookeeper session within {0:?}")]
    ConnectTimeout(Duration),
    /// An operation did not finish in time.
    #[error("zookeeper operation timed out after {0:?}")]
    Timeout(Duration),
    /// No current session.
    #[error("not connected to zookeeper")]
    NotConnected,
    /// The session was closed.
    #[error("zookeeper session closed")]
    Closed,
    /// A ZooKeeper error.
    #[error("zookeeper: {0}")]
    Zk(#[from] zookeeper_client::Error),
    /// A node kept changing under a retried operation.
    #[error("node {0} keeps changing")]
    Contended(String),
    /// A running node cannot be understood.
    #[error("bad node data: {0}")]
    NodeData(#[from] NodeDataError),
    /// A position node cannot be understood.
    #[error("bad position json: {0}")]
    PositionJson(#[from] canal_protocol::position::PositionJsonError),
    /// The private runtime failed.
    #[error("runtime: {0}")]
    Runtime(String),
}
