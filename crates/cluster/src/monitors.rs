//! Java `ServerRunningMonitors`: the per-server map of destination monitors, created on first
//! need (configured destinations at startup, and any destination a client subscribes to).

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::monitor::{MonitorOptions, RunningListener, ServerRunningMonitor};
use crate::session::ZkSession;

/// Builds the listener (instance start/stop hooks) of one destination.
pub type ListenerFactory = Arc<dyn Fn(&str) -> Arc<dyn RunningListener> + Send + Sync>;

/// All monitors of one server (`{registerIp}:{canal.port}`), sharing one session.
pub struct ServerRunningMonitors {
    session: Option<ZkSession>,
    address: String,
    options: MonitorOptions,
    factory: ListenerFactory,
    map: Mutex<HashMap<String, Arc<ServerRunningMonitor>>>,
}

impl std::fmt::Debug for ServerRunningMonitors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRunningMonitors")
            .field("address", &self.address)
            .field("destinations", &self.destinations())
            .finish()
    }
}

impl ServerRunningMonitors {
    /// Empty map; `session` is `None` without `canal.zkServers`.
    pub fn new(
        session: Option<ZkSession>,
        address: impl Into<String>,
        options: MonitorOptions,
        factory: ListenerFactory,
    ) -> Self {
        Self {
            session,
            address: address.into(),
            options,
            factory,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The monitor of `destination`, created (and its cluster node registered) if needed. It
    /// is not started: call [`ServerRunningMonitor::start`] to contend.
    pub fn get_or_create(&self, destination: &str) -> Arc<ServerRunningMonitor> {
        let mut map = self.map.lock();
        if let Some(m) = map.get(destination) {
            return m.clone();
        }
        let m = Arc::new(ServerRunningMonitor::new(
            self.session.clone(),
            destination,
            self.address.clone(),
            (self.factory)(destination),
            self.options.clone(),
        ));
        map.insert(destination.to_string(), m.clone());
        m
    }

    /// The monitor of `destination`, if it exists.
    pub fn get(&self, destination: &str) -> Option<Arc<ServerRunningMonitor>> {
        self.map.lock().get(destination).cloned()
    }

    /// Stops and forgets the monitor of `destination` (destination removed from config).
    pub async fn remove(&self, destination: &str) {
        let m = self.map.lock().remove(destination);
        if let Some(m) = m {
            m.stop().await;
        }
    }

    /// Names of all destinations with a monitor, sorted.
    pub fn destinations(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.lock().keys().cloned().collect();
        v.sort();
        v
    }

    /// Stops every monitor (server shutdown).
    pub async fn stop_all(&self) {
        let all: Vec<Arc<ServerRunningMonitor>> = self.map.lock().drain().map(|(_, m)| m).collect();
        for m in all {
            m.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::ActiveLease;
    use std::time::Duration;

    #[derive(Default)]
    struct Count {
        log: Mutex<Vec<String>>,
        lease: Mutex<Option<ActiveLease>>,
    }
    impl RunningListener for Count {
        fn process_active_enter(&self, lease: ActiveLease) -> Result<(), String> {
            *self.lease.lock() = Some(lease);
            self.log.lock().push("enter".into());
            Ok(())
        }
        fn process_active_exit(&self) {
            self.log.lock().push("exit".into());
        }
    }

    #[tokio::test]
    async fn standalone_mode_without_zookeeper() {
        // operations.md §2.1/§2.3: without canal.zkServers start runs activeEnter directly,
        // release/stop run activeExit, and release reports "not released".
        let l = Arc::new(Count::default());
        let l2 = l.clone();
        let monitors = ServerRunningMonitors::new(
            None,
            "10.0.0.1:11111",
            MonitorOptions::default(),
            Arc::new(move |_| l2.clone() as Arc<dyn RunningListener>),
        );
        let m = monitors.get_or_create("example");
        assert!(Arc::ptr_eq(&m, &monitors.get_or_create("example")));
        assert!(l.log.lock().is_empty(), "creation does not start");
        m.start();
        assert!(m.wait_for_active(Duration::from_secs(5)).await);
        // the listener's enter runs right after the monitor turns active: wait for its lease
        let mut lease = None;
        for _ in 0..500 {
            lease = l.lease.lock().clone();
            if lease.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let lease = lease.expect("enter ran within 5 s");
        assert!(lease.is_valid() && lease.deadline().is_none());
        assert!(
            !m.release().await,
            "without zookeeper release reports false"
        );
        assert!(!lease.is_valid(), "lease revoked by release");
        assert!(!m.is_active());
        monitors.stop_all().await;
        assert_eq!(*l.log.lock(), vec!["enter", "exit"]);
        assert!(monitors.destinations().is_empty());
    }
}
