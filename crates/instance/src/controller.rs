//! Java's `CanalController` for spring mode: which destinations run, lazy start, and
//! `canal.auto.scan` (start added, reload changed, stop removed destinations while the others
//! keep running). What "running a destination" means is a [`Launcher`]'s business, so the
//! controller is tested without a database.
//!
//! HA (`canal.zkServers`): with an [`Election`] installed the controller does not start
//! destinations itself. Configured non-lazy destinations, scan additions and lazy first
//! subscriptions *join* the election; the election's winner callback calls
//! [`Controller::start`], its exit callback [`Controller::stop`]. Removed destinations leave
//! the election (which stops them); a changed one leaves and re-joins.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use canal_config::{ConfScanner, InstanceConfig, ScanChange, ServerConfig};
use tokio::sync::watch;

use crate::error::InstanceError;

/// Starts and stops one destination.
pub trait Launcher: Send + Sync + 'static {
    /// A running destination.
    type Running: Send + 'static;

    /// Starts `config`'s destination; returns once it is running (its parser may still be
    /// connecting: source errors are retried inside, not reported here).
    fn launch(
        &self,
        config: InstanceConfig,
    ) -> impl Future<Output = Result<Self::Running, InstanceError>> + Send;

    /// Stops a running destination (final meta flush included).
    fn shutdown(&self, running: Self::Running) -> impl Future<Output = ()> + Send;
}

/// A boxed future of the [`Election`] hooks.
pub type ElectionFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who decides where a destination runs (ZooKeeper running monitors).
pub trait Election: Send + Sync + 'static {
    /// Joins the election for `destination` (idempotent); when `wait` is set, returns after
    /// the outcome is known or a short bound passed, with whether this server won.
    fn join<'a>(&'a self, destination: &'a str, wait: bool) -> ElectionFuture<'a, bool>;
    /// Leaves the election for `destination`, stopping it here if it runs.
    fn leave<'a>(&'a self, destination: &'a str) -> ElectionFuture<'a, ()>;
}

/// The set of running destinations of one server.
pub struct Controller<L: Launcher> {
    server: Arc<ServerConfig>,
    launcher: L,
    election: std::sync::OnceLock<Arc<dyn Election>>,
    /// Lifecycle operations are serialized (Java serializes instance context creation).
    running: tokio::sync::Mutex<BTreeMap<String, L::Running>>,
    /// Names of running destinations, readable without waiting for the lifecycle lock.
    names: parking_lot::RwLock<BTreeMap<String, ()>>,
}

impl<L: Launcher> Controller<L> {
    /// A controller for `server`'s destinations.
    pub fn new(server: Arc<ServerConfig>, launcher: L) -> Arc<Self> {
        Arc::new(Self {
            server,
            launcher,
            election: std::sync::OnceLock::new(),
            running: tokio::sync::Mutex::new(BTreeMap::new()),
            names: parking_lot::RwLock::new(BTreeMap::new()),
        })
    }

    /// Installs the HA election (once, before [`Controller::start_configured`]); returns
    /// false if one was already set.
    pub fn set_election(&self, election: Arc<dyn Election>) -> bool {
        self.election.set(election).is_ok()
    }

    fn election(&self) -> Option<Arc<dyn Election>> {
        self.election.get().cloned()
    }

    /// The server configuration.
    pub fn server(&self) -> &Arc<ServerConfig> {
        &self.server
    }

    /// The launcher.
    pub fn launcher(&self) -> &L {
        &self.launcher
    }

    /// Whether `destination` runs here.
    pub fn is_running(&self, destination: &str) -> bool {
        self.names.read().contains_key(destination)
    }

    /// Names of the running destinations.
    pub fn running(&self) -> Vec<String> {
        self.names.read().keys().cloned().collect()
    }

    /// Starts `destination` if it is not running (loads and validates its configuration).
    pub async fn start(&self, destination: &str) -> Result<(), InstanceError> {
        let mut running = self.running.lock().await;
        if running.contains_key(destination) {
            return Ok(());
        }
        let config = self.server.load_instance(destination)?;
        tracing::info!(destination, "start CannalInstance for 1-{destination}");
        let r = self.launcher.launch(config).await?;
        running.insert(destination.to_string(), r);
        self.names.write().insert(destination.to_string(), ());
        tracing::info!(
            destination,
            "start CanalInstances[{destination}] successfully"
        );
        Ok(())
    }

    /// Stops `destination`; `false` if it was not running.
    pub async fn stop(&self, destination: &str) -> bool {
        let mut running = self.running.lock().await;
        let Some(r) = running.remove(destination) else {
            return false;
        };
        self.names.write().remove(destination);
        tracing::info!(destination, "stop CanalInstances[{destination}]");
        self.launcher.shutdown(r).await;
        true
    }

    /// Stop + start (Java's reload).
    pub async fn reload(&self, destination: &str) -> Result<(), InstanceError> {
        self.stop(destination).await;
        self.start(destination).await
    }

    /// Starts `destination` on first use if it is lazy (Java starts lazy destinations on the
    /// first subscription). Non-configured names are not started.
    pub async fn ensure_started(&self, destination: &str) -> Result<bool, InstanceError> {
        if self.is_running(destination) {
            return Ok(true);
        }
        let lazy = self
            .server
            .instance_settings(destination)
            .map(|s| s.lazy)
            .unwrap_or(false);
        if lazy && self.server.destinations.iter().any(|d| d == destination) {
            if let Some(e) = self.election() {
                // Java's SessionHandler starts the monitor: with no holder this server wins.
                return Ok(e.join(destination, true).await && self.is_running(destination));
            }
            self.start(destination).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Starts every configured destination that is not lazy. Configuration errors of any
    /// destination fail the whole start (they are all checked before anything starts).
    pub async fn start_configured(&self) -> Result<(), InstanceError> {
        let mut to_start = Vec::new();
        for d in &self.server.destinations {
            let settings = self.server.instance_settings(d)?;
            if self.server.auto_scan && !self.server.instance_file(d).exists() {
                // Java would try, fail, and let the first scan stop it.
                tracing::warn!(destination = %d, "configured destination has no instance.properties; not started");
                continue;
            }
            self.server.load_instance(d)?;
            if !settings.lazy {
                to_start.push(d.clone());
            }
        }
        if let Some(e) = self.election() {
            for d in to_start {
                e.join(&d, false).await;
            }
            return Ok(());
        }
        for d in to_start {
            self.start(&d).await?;
        }
        Ok(())
    }

    /// Applies one auto-scan finding. Errors are logged; a failed start is retried by the
    /// next scan (the scanner forgets the destination).
    pub async fn apply(&self, scanner: &mut ConfScanner, change: ScanChange) {
        if let Some(e) = self.election() {
            match change {
                ScanChange::Added(d) => {
                    tracing::info!(destination = %d, "auto scan: new destination, joining the election");
                    if let Err(err) = self.server.load_instance(&d) {
                        tracing::error!(destination = %d, error = %err, "scan add found but config is invalid");
                        scanner.forget(&d);
                    } else {
                        e.join(&d, false).await;
                    }
                }
                ScanChange::Changed(d) => {
                    tracing::info!(destination = %d, "auto scan: instance.properties changed, re-joining the election");
                    e.leave(&d).await;
                    e.join(&d, false).await;
                }
                ScanChange::Removed(d) => {
                    tracing::info!(destination = %d, "auto scan: destination removed, leaving the election");
                    e.leave(&d).await;
                }
            }
            return;
        }
        match change {
            ScanChange::Added(d) => {
                tracing::info!(destination = %d, "auto scan: new destination");
                if let Err(e) = self.start(&d).await {
                    tracing::error!(destination = %d, error = %e, "scan add found but start failed");
                    scanner.forget(&d);
                }
            }
            ScanChange::Changed(d) => {
                tracing::info!(destination = %d, "auto scan: instance.properties changed, reloading");
                if let Err(e) = self.reload(&d).await {
                    tracing::error!(destination = %d, error = %e, "scan reload found but reload failed");
                }
            }
            ScanChange::Removed(d) => {
                tracing::info!(destination = %d, "auto scan: destination removed");
                self.stop(&d).await;
            }
        }
    }

    /// The auto-scan loop (first scan at once, then every `canal.auto.scan.interval`), until
    /// `shutdown` becomes true. Returns at once when `canal.auto.scan` is off.
    pub async fn scan_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        if !self.server.auto_scan {
            return;
        }
        let mut scanner = ConfScanner::new(
            self.server.scan_dir.clone(),
            self.server.destinations.iter().cloned(),
        );
        let interval = Duration::from_secs(self.server.auto_scan_interval_secs.max(1));
        loop {
            match scanner.scan() {
                Ok(changes) => {
                    for c in changes {
                        self.apply(&mut scanner, c).await;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, dir = %self.server.scan_dir.display(), "scan failed")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// Stops every running destination.
    pub async fn shutdown(&self) {
        let mut running = self.running.lock().await;
        let all: Vec<(String, L::Running)> = std::mem::take(&mut *running).into_iter().collect();
        self.names.write().clear();
        for (d, r) in all {
            tracing::info!(destination = %d, "stop CanalInstances[{d}]");
            self.launcher.shutdown(r).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_config::Overrides;
    use parking_lot::Mutex;
    use std::fs;
    use std::path::Path;

    #[derive(Default)]
    struct Recorder {
        log: Mutex<Vec<String>>,
    }

    impl Launcher for Arc<Recorder> {
        type Running = String;
        async fn launch(&self, config: InstanceConfig) -> Result<String, InstanceError> {
            self.log.lock().push(format!(
                "start {} {}",
                config.destination, config.master.address
            ));
            Ok(config.destination)
        }
        async fn shutdown(&self, running: String) {
            self.log.lock().push(format!("stop {running}"));
        }
    }

    fn write_instance(conf: &Path, dest: &str, addr: &str) {
        fs::create_dir_all(conf.join(dest)).expect("mkdir");
        fs::write(
            conf.join(dest).join("instance.properties"),
            format!("canal.instance.master.address={addr}\n"),
        )
        .expect("write");
    }

    fn server(conf: &Path, extra: &str) -> Arc<ServerConfig> {
        fs::create_dir_all(conf).expect("mkdir");
        fs::write(
            conf.join("canal.properties"),
            format!(
                "canal.serverMode=tcp\ncanal.instance.global.mode=spring\n\
                 canal.instance.global.lazy=false\n\
                 canal.instance.global.spring.xml=classpath:spring/memory-instance.xml\n\
                 canal.conf.dir=../conf\ncanal.auto.scan=true\n{extra}\n"
            ),
        )
        .expect("write");
        Arc::new(ServerConfig::load(conf, Overrides::none()).expect("loads"))
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("rt")
    }

    #[test]
    fn configured_lazy_and_scan_changes() {
        rt().block_on(async {
            let tmp = tempfile::tempdir().expect("tmp");
            let conf = tmp.path().join("conf");
            write_instance(&conf, "a", "db1:3306");
            write_instance(&conf, "b", "db2:3306");
            let s = server(&conf, "canal.destinations=a,b\ncanal.instance.b.lazy=true");
            let rec = Arc::new(Recorder::default());
            let c = Controller::new(s, rec.clone());
            c.start_configured().await.expect("starts");
            assert_eq!(c.running(), vec!["a"]);
            assert!(!c.is_running("b"), "lazy destination waits for a client");
            assert!(c.ensure_started("b").await.expect("ok"));
            assert!(c.is_running("b"));
            assert!(!c.ensure_started("zzz").await.expect("ok"));

            // auto-scan: new dir c, a changed, b removed; a keeps running until reloaded
            let mut scanner = ConfScanner::new(
                c.server().scan_dir.clone(),
                ["a".to_string(), "b".to_string()],
            );
            assert_eq!(scanner.scan().expect("scan"), vec![]);
            write_instance(&conf, "c", "db3:3306");
            fs::remove_dir_all(conf.join("b")).expect("rm");
            let f = fs::File::options()
                .write(true)
                .open(conf.join("a/instance.properties"))
                .expect("open");
            f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
                .expect("mtime");
            let changes = scanner.scan().expect("scan");
            for ch in changes {
                c.apply(&mut scanner, ch).await;
            }
            assert_eq!(c.running(), vec!["a", "c"]);
            let log = rec.log.lock().clone();
            assert_eq!(
                log,
                vec![
                    "start a db1:3306",
                    "start b db2:3306",
                    "stop a",
                    "start a db1:3306",
                    // Java's scan order: directories present first, removals last
                    "start c db3:3306",
                    "stop b",
                ]
            );
            c.shutdown().await;
            assert!(c.running().is_empty());
        });
    }

    #[test]
    fn bad_instance_config_fails_start_configured_naming_the_key() {
        rt().block_on(async {
            let tmp = tempfile::tempdir().expect("tmp");
            let conf = tmp.path().join("conf");
            write_instance(&conf, "a", "db1");
            let s = server(&conf, "canal.destinations=a");
            let c = Controller::new(s, Arc::new(Recorder::default()));
            let err = c.start_configured().await.expect_err("bad address");
            assert!(
                err.to_string().contains("canal.instance.master.address"),
                "{err}"
            );
            assert!(c.running().is_empty());
        });
    }

    /// An election that records calls and, like a monitor winning at once, starts the
    /// destination through the controller on join.
    struct FakeElection {
        log: Mutex<Vec<String>>,
        controller: std::sync::OnceLock<std::sync::Weak<Controller<Arc<Recorder>>>>,
        win: bool,
    }

    impl Election for FakeElection {
        fn join<'a>(&'a self, destination: &'a str, _wait: bool) -> ElectionFuture<'a, bool> {
            Box::pin(async move {
                self.log.lock().push(format!("join {destination}"));
                let c = self.controller.get().and_then(|w| w.upgrade());
                if let (true, Some(c)) = (self.win, c) {
                    c.start(destination).await.expect("start");
                }
                self.win
            })
        }
        fn leave<'a>(&'a self, destination: &'a str) -> ElectionFuture<'a, ()> {
            Box::pin(async move {
                self.log.lock().push(format!("leave {destination}"));
                if let Some(c) = self.controller.get().and_then(|w| w.upgrade()) {
                    c.stop(destination).await;
                }
            })
        }
    }

    #[test]
    fn election_decides_what_runs() {
        rt().block_on(async {
            for win in [true, false] {
                let tmp = tempfile::tempdir().expect("tmp");
                let conf = tmp.path().join("conf");
                write_instance(&conf, "a", "db1:3306");
                write_instance(&conf, "b", "db2:3306");
                let s = server(&conf, "canal.destinations=a,b\ncanal.instance.b.lazy=true");
                let rec = Arc::new(Recorder::default());
                let c = Controller::new(s, rec.clone());
                let e = Arc::new(FakeElection {
                    log: Mutex::new(Vec::new()),
                    controller: std::sync::OnceLock::new(),
                    win,
                });
                let _ = e.controller.set(Arc::downgrade(&c));
                assert!(c.set_election(e.clone()));
                assert!(!c.set_election(e.clone()), "only once");
                c.start_configured().await.expect("ok");
                // lazy b joins on the first subscription; a standby reports "not started"
                assert_eq!(c.ensure_started("b").await.expect("ok"), win);
                let mut scanner = ConfScanner::new(
                    c.server().scan_dir.clone(),
                    ["a".to_string(), "b".to_string()],
                );
                assert_eq!(scanner.scan().expect("scan"), vec![]);
                fs::remove_dir_all(conf.join("a")).expect("rm");
                for ch in scanner.scan().expect("scan") {
                    c.apply(&mut scanner, ch).await;
                }
                assert_eq!(*e.log.lock(), vec!["join a", "join b", "leave a"]);
                if win {
                    assert_eq!(c.running(), vec!["b"]);
                    assert_eq!(
                        *rec.log.lock(),
                        vec!["start a db1:3306", "start b db2:3306", "stop a"]
                    );
                } else {
                    assert!(c.running().is_empty(), "a standby runs nothing");
                    assert!(rec.log.lock().is_empty());
                }
            }
        });
    }

    #[test]
    fn failed_scan_start_is_retried() {
        rt().block_on(async {
            let tmp = tempfile::tempdir().expect("tmp");
            let conf = tmp.path().join("conf");
            let s = server(&conf, "canal.destinations=");
            let c = Controller::new(s, Arc::new(Recorder::default()));
            let mut scanner = ConfScanner::new(c.server().scan_dir.clone(), Vec::<String>::new());
            write_instance(&conf, "x", "nohostport");
            for ch in scanner.scan().expect("scan") {
                c.apply(&mut scanner, ch).await;
            }
            assert!(!c.is_running("x"));
            write_instance(&conf, "x", "db:3306");
            for ch in scanner.scan().expect("scan") {
                c.apply(&mut scanner, ch).await;
            }
            assert!(c.is_running("x"));
        });
    }
}
