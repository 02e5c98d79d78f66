//! ZooKeeper HA of the daemon (`canal.zkServers` set): glue between `canal_cluster` (session,
//! server registration, per-destination running monitors with fencing leases, ZooKeeper meta)
//! and the instance controller / embedded server. Owns no election or meta logic itself.
//!
//! Wiring (the steps of `canal_cluster`'s crate doc):
//! * one [`ZkSession`] for the server (HA and `default-instance.xml` meta share it, as Java
//!   shares its cached zkclient), `/otter/canal/cluster/{ip:port}` registration;
//! * [`Ha`] implements [`Election`] for the controller: joining creates and starts the
//!   destination's monitor; the monitor's listener starts the instance on enter (after
//!   recording the lease) and stops it on exit (after dropping the lease);
//! * the embedded server's serve check = "this destination has a valid lease", consulted before
//!   every delivery, so an expired or frozen server answers like a standby
//!   (`destination:{d} should start first`);
//! * parser run failures/successes are reported to the monitor (release after repeated
//!   failures);
//! * [`Ha::release`]: the admin port's INSTANCE `release` (Canal's HA release: give up the
//!   running node, keep contending after the takeover delay);
//! * `default-instance.xml` meta = `PeriodMixedMetaManager(ZooKeeperMetaManager)` with
//!   `canal.zookeeper.flush.period`, the ZooKeeper writes fenced by the same lease; the parser
//!   position manager stays Failback(Memory, Meta) as Java's XML wires it (operations.md §3.4).
//!
//! Configuration keys of canal-rs (Java has none, its values are fixed):
//! `canal.zookeeper.sessionTimeout` (ms, default 90000 = Canal's request; the ZooKeeper server
//! clamps it to [2, 20] x tickTime) and `canal.zookeeper.takeoverDelay` (ms, default 5000 =
//! Canal's delay before a non-previous holder contends).
//!
//! Not done: the last subscriber's UNSUBSCRIPTION does not release the destination
//! (operations.md §2.6); monitors are created only for configured destinations.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::{IpAddr, UdpSocket};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use canal_cluster::{
    ActiveLease, MonitorOptions, RunningListener, ServerRegistration, ServerRunningMonitors,
    ZkOptions, ZkSession, ZooKeeperMetaManager,
};
use canal_config::lookup::server_value;
use canal_config::{InstanceConfig, ServerConfig};
use canal_instance::controller::{Election, ElectionFuture};
use canal_instance::pipeline::{MetaFactory, ParserObserver};
use canal_instance::{Controller, InstanceError, Launcher};
use canal_meta::{MetaManager, PeriodMixedMetaManager};
use parking_lot::Mutex;

/// Session timeout key (ms).
pub const SESSION_TIMEOUT_KEY: &str = "canal.zookeeper.sessionTimeout";
/// Takeover delay key (ms).
pub const TAKEOVER_DELAY_KEY: &str = "canal.zookeeper.takeoverDelay";

/// How long a lazy first subscription waits for the election outcome.
const JOIN_WAIT: Duration = Duration::from_secs(15);

/// Why HA could not start.
#[derive(Debug, thiserror::Error)]
pub enum HaError {
    /// ZooKeeper connection or registration failed.
    #[error("zookeeper: {0}")]
    Cluster(#[from] canal_cluster::ClusterError),
    /// A bad HA key.
    #[error("{key}: {msg}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong.
        msg: String,
    },
}

/// HA settings read from the server configuration.
#[derive(Debug, Clone)]
pub struct HaSettings {
    /// `canal.zkServers`.
    pub zk_servers: String,
    /// `{registerIp}:{port}`.
    pub address: String,
    /// Requested ZooKeeper session timeout.
    pub session_timeout: Duration,
    /// Delay before a non-previous holder contends.
    pub takeover_delay: Duration,
}

fn millis_key(server: &ServerConfig, key: &'static str, default: u64) -> Result<Duration, HaError> {
    match server_value(&server.overrides, &server.properties, key) {
        Some(v) if !v.text.trim().is_empty() => v
            .text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms <= 86_400_000)
            .map(Duration::from_millis)
            .ok_or_else(|| HaError::Config {
                key,
                msg: format!("{:?} is not a number of milliseconds", v.text),
            }),
        _ => Ok(Duration::from_millis(default)),
    }
}

/// The first non-loopback IPv4 address of this host (Java `AddressUtils.getHostIp`), found
/// through the routing table (a UDP socket "connected" to a public address sends nothing).
fn detect_ipv4() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

impl HaSettings {
    /// The settings of `server` with `port` as the identity port; `None` without
    /// `canal.zkServers`.
    pub fn from_server(server: &ServerConfig, port: u16) -> Result<Option<HaSettings>, HaError> {
        let Some(zk) = server.zk_servers.clone().filter(|z| !z.trim().is_empty()) else {
            return Ok(None);
        };
        let ip = server
            .register_ip
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| server.ip.clone().filter(|s| !s.is_empty()))
            .or_else(|| detect_ipv4().map(|i| i.to_string()))
            .unwrap_or_else(|| "127.0.0.1".to_string());
        Ok(Some(HaSettings {
            zk_servers: zk,
            address: format!("{ip}:{port}"),
            session_timeout: millis_key(server, SESSION_TIMEOUT_KEY, 90_000)?,
            takeover_delay: millis_key(server, TAKEOVER_DELAY_KEY, 5_000)?,
        }))
    }
}

/// Leases of the destinations this server is active for.
#[derive(Default)]
struct Leases(Mutex<HashMap<String, ActiveLease>>);

impl Leases {
    fn valid(&self, destination: &str) -> bool {
        self.0.lock().get(destination).is_some_and(|l| l.is_valid())
    }
    fn get(&self, destination: &str) -> Option<ActiveLease> {
        self.0.lock().get(destination).cloned()
    }
}

/// The HA state of a running daemon.
pub struct Ha {
    settings: HaSettings,
    session: ZkSession,
    leases: Arc<Leases>,
    monitors: OnceLock<ServerRunningMonitors>,
    registration: Mutex<Option<ServerRegistration>>,
    joined: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Ha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ha")
            .field("address", &self.settings.address)
            .finish()
    }
}

/// Runs `fut` on the daemon runtime and waits for it from a plain (listener) thread.
fn run_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    fut: impl Future<Output = T> + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    handle.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().ok()
}

struct Listener<L: Launcher> {
    destination: String,
    controller: Arc<Controller<L>>,
    handle: tokio::runtime::Handle,
    leases: Arc<Leases>,
}

impl<L: Launcher> RunningListener for Listener<L> {
    fn process_active_enter(&self, lease: ActiveLease) -> Result<(), String> {
        tracing::info!(destination = %self.destination, "this server is now active for the destination");
        self.leases.0.lock().insert(self.destination.clone(), lease);
        let c = self.controller.clone();
        let d = self.destination.clone();
        let r = run_on(&self.handle, async move { c.start(&d).await })
            .unwrap_or_else(|| Err(InstanceError::Unsupported("daemon runtime is gone".into())));
        if let Err(e) = r {
            self.leases.0.lock().remove(&self.destination);
            tracing::error!(destination = %self.destination, error = %e, "start failed");
            return Err(e.to_string());
        }
        Ok(())
    }

    fn process_active_exit(&self) {
        // Serving stops first (the lease is gone), then the instance.
        self.leases.0.lock().remove(&self.destination);
        tracing::info!(destination = %self.destination, "this server is no longer active for the destination; stopping it");
        let c = self.controller.clone();
        let d = self.destination.clone();
        let _ = run_on(&self.handle, async move { c.stop(&d).await });
    }
}

impl Ha {
    /// Connects the session (the Canal roots are created, a chroot root too) and registers
    /// `/otter/canal/cluster/{ip:port}`.
    pub async fn connect(settings: HaSettings) -> Result<Arc<Ha>, HaError> {
        tracing::info!(
            zk = %settings.zk_servers,
            address = %settings.address,
            timeout_ms = settings.session_timeout.as_millis() as u64,
            "connecting to zookeeper"
        );
        let session = ZkSession::connect(
            &settings.zk_servers,
            ZkOptions {
                session_timeout: settings.session_timeout,
                ..ZkOptions::default()
            },
        )
        .await?;
        let registration = ServerRegistration::start(&session, settings.address.clone()).await?;
        Ok(Arc::new(Ha {
            settings,
            session,
            leases: Arc::new(Leases::default()),
            monitors: OnceLock::new(),
            registration: Mutex::new(Some(registration)),
            joined: Mutex::new(HashSet::new()),
        }))
    }

    /// This server's identity `{registerIp}:{port}`.
    pub fn address(&self) -> &str {
        &self.settings.address
    }

    /// The session.
    pub fn session(&self) -> &ZkSession {
        &self.session
    }

    /// Meta managers for `default-instance.xml`: PeriodMixed over ZooKeeper, writes fenced by
    /// the destination's lease.
    pub fn meta_factory(self: &Arc<Self>) -> MetaFactory {
        let ha = self.clone();
        Arc::new(move |cfg: &InstanceConfig| {
            let zk = Arc::new(ZooKeeperMetaManager::new(ha.session.clone()));
            zk.set_write_lease(ha.leases.get(&cfg.destination));
            let m: Arc<dyn MetaManager> = Arc::new(PeriodMixedMetaManager::new(
                zk,
                Duration::from_millis(cfg.zookeeper_flush_period_ms),
            ));
            Ok(m)
        })
    }

    /// Parser reports forwarded to the destination's monitor.
    pub fn parser_observer(self: &Arc<Self>) -> ParserObserver {
        let ha = self.clone();
        Arc::new(move |dest: &str, ok: bool| {
            if let Some(m) = ha.monitors.get().and_then(|ms| ms.get(dest)) {
                if ok {
                    m.report_parser_success();
                } else {
                    m.report_parser_failure();
                }
            }
        })
    }

    /// The embedded server's serve check: a valid lease for the destination.
    pub fn serve_check(self: &Arc<Self>) -> canal_server::embedded::ServeCheck {
        let leases = self.leases.clone();
        Arc::new(move |dest: &str| leases.valid(dest))
    }

    /// Creates the monitors over `controller` (instances start/stop on election) and installs
    /// this as the controller's election. Call once, before `start_configured`.
    pub fn attach<L: Launcher>(self: &Arc<Self>, controller: &Arc<Controller<L>>) {
        let handle = tokio::runtime::Handle::current();
        let c = controller.clone();
        let leases = self.leases.clone();
        let monitors = ServerRunningMonitors::new(
            Some(self.session.clone()),
            self.settings.address.clone(),
            MonitorOptions {
                takeover_delay: self.settings.takeover_delay,
                ..MonitorOptions::default()
            },
            Arc::new(move |dest: &str| {
                Arc::new(Listener {
                    destination: dest.to_string(),
                    controller: c.clone(),
                    handle: handle.clone(),
                    leases: leases.clone(),
                }) as Arc<dyn RunningListener>
            }),
        );
        if self.monitors.set(monitors).is_err() {
            tracing::warn!("HA monitors already attached");
        }
        // Java creates (not starts) a monitor for every configured destination, lazy ones
        // included, which registers `/destinations/{d}/cluster/{ip:port}`.
        if let Some(ms) = self.monitors.get() {
            for d in &controller.server().destinations {
                ms.get_or_create(d);
            }
        }
        controller.set_election(self.clone());
    }

    /// Canal's HA release of `destination` (admin `release`, operations.md §2.3): if this
    /// server holds `/otter/canal/destinations/{d}/running` the instance stops, the node is
    /// deleted, and the monitor keeps watching: every server, this one included, contends again
    /// after its takeover delay, so another server (or this one) becomes active. Returns
    /// `None` when this server has no started monitor for the destination, else whether it was
    /// the holder.
    pub async fn release(&self, destination: &str) -> Option<bool> {
        let m = self.monitors.get()?.get(destination)?;
        if !m.state().started {
            return None;
        }
        tracing::info!(destination, "releasing the running node (admin release)");
        Some(m.release().await)
    }

    /// Stops every monitor (instances stop, running nodes are released), deregisters and
    /// closes the session.
    pub async fn shutdown(&self) {
        if let Some(ms) = self.monitors.get() {
            ms.stop_all().await;
        }
        let reg = self.registration.lock().take();
        if let Some(r) = reg {
            r.stop().await;
        }
        self.session.close();
    }
}

impl Election for Ha {
    fn join<'a>(&'a self, destination: &'a str, wait: bool) -> ElectionFuture<'a, bool> {
        Box::pin(async move {
            let Some(ms) = self.monitors.get() else {
                return false;
            };
            let m = ms.get_or_create(destination);
            if self.joined.lock().insert(destination.to_string()) {
                tracing::info!(destination, "joining the running election");
                m.start();
            }
            if !wait {
                return m.is_active();
            }
            let me = self.settings.address.clone();
            let mut rx = m.subscribe();
            let _ = tokio::time::timeout(
                JOIN_WAIT,
                rx.wait_for(|s| {
                    s.active
                        || s.running
                            .as_ref()
                            .is_some_and(|r| r.address.as_deref().is_some_and(|a| a != me))
                }),
            )
            .await;
            m.is_active()
        })
    }

    fn leave<'a>(&'a self, destination: &'a str) -> ElectionFuture<'a, ()> {
        Box::pin(async move {
            self.joined.lock().remove(destination);
            if let Some(ms) = self.monitors.get() {
                ms.remove(destination).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_config::Overrides;

    fn server(extra: &str) -> (tempfile::TempDir, ServerConfig) {
        let tmp = tempfile::tempdir().expect("tmp");
        let conf = tmp.path().join("conf");
        std::fs::create_dir_all(&conf).expect("mkdir");
        std::fs::write(
            conf.join("canal.properties"),
            format!("canal.serverMode=tcp\ncanal.instance.global.mode=spring\ncanal.instance.global.lazy=false\ncanal.instance.global.spring.xml=classpath:spring/memory-instance.xml\ncanal.destinations=\ncanal.port=11111\n{extra}\n"),
        )
        .expect("write");
        let s = ServerConfig::load(&conf, Overrides::none()).expect("loads");
        (tmp, s)
    }

    #[test]
    fn settings_defaults_and_keys() {
        let (_t, s) = server("");
        assert!(HaSettings::from_server(&s, 11111).expect("ok").is_none());
        let (_t, s) = server("canal.zkServers=127.0.0.1:2181/canal\ncanal.register.ip=10.1.2.3");
        let h = HaSettings::from_server(&s, 11112).expect("ok").expect("zk");
        assert_eq!(h.address, "10.1.2.3:11112");
        assert_eq!(h.session_timeout, Duration::from_secs(90));
        assert_eq!(h.takeover_delay, Duration::from_secs(5));
        let (_t, s) = server(
            "canal.zkServers=z:1\ncanal.ip=10.9.9.9\ncanal.zookeeper.sessionTimeout=4000\ncanal.zookeeper.takeoverDelay=100",
        );
        let h = HaSettings::from_server(&s, 1).expect("ok").expect("zk");
        assert_eq!(
            h.address, "10.9.9.9:1",
            "canal.ip when register.ip is empty"
        );
        assert_eq!(h.session_timeout, Duration::from_millis(4000));
        assert_eq!(h.takeover_delay, Duration::from_millis(100));
        let (_t, s) = server("canal.zkServers=z:1\ncanal.zookeeper.sessionTimeout=soon");
        let e = HaSettings::from_server(&s, 1).expect_err("bad");
        assert!(
            e.to_string().contains("canal.zookeeper.sessionTimeout"),
            "{e}"
        );
    }
}
