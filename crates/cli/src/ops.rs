//! Operations wiring of the daemon (issue 6): Canal's log files, the metrics port and the
//! admin port. Everything here only calls into canal-telemetry and canal-admin; the metrics
//! of each destination are registered by the instance pipeline itself
//! (`canal_instance::pipeline`) and the client-port metrics by canal-server's sessions.
//!
//! * [`init_logging`]: `logs/canal/canal.log` + `logs/<dest>/<dest>.log` (canal-telemetry's
//!   [`LogConfig`]); lines also go to stderr when it is a terminal or `CANAL_LOG_CONSOLE=1`.
//! * [`Ops::start_metrics`]: `canal.metrics.pull.port` (before the destinations start, like
//!   Canal; a bind failure only warns) and the `/ready` check over the configured non-lazy
//!   destinations.
//! * [`Ops::start_admin`]: `canal.admin.port` after the client port is bound, over
//!   [`ControllerTarget`] (release = the ZooKeeper HA release when `canal.zkServers` is set).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use canal_admin::{AdminConfig, AdminServer, AdminTarget, AuthConfig, BoxFuture};
use canal_config::ServerConfig;
use canal_instance::controller::Election;
use canal_instance::{Controller, Launcher, PipelineLauncher};
use canal_telemetry::logging::{LogConfig, LogError};
use canal_telemetry::{MetricsServer, Telemetry};

use crate::daemon::EmbeddedRegistry;
use crate::ha::Ha;

/// The controller type the daemon runs.
pub type DaemonController = Controller<PipelineLauncher<EmbeddedRegistry>>;

static LOG_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Installs the global subscriber writing Canal's log files under `log_dir`, and remembers
/// `log_dir` for the admin port's log commands. Only destinations with a directory under
/// `instances_dir` (`canal.conf.dir`) get their own file: names sent by clients must not create
/// directories.
pub fn init_logging(log_dir: &Path, instances_dir: &Path) -> Result<(), LogError> {
    use std::io::IsTerminal;
    let _ = LOG_DIR.set(log_dir.to_path_buf());
    let console = std::io::stderr().is_terminal()
        || std::env::var("CANAL_LOG_CONSOLE").is_ok_and(|v| v == "1" || v == "true");
    canal_telemetry::logging::init(&LogConfig {
        console,
        destinations_in: Some(instances_dir.to_path_buf()),
        ..LogConfig::new(log_dir)
    })
}

/// The logs directory: the one given to [`init_logging`], else `../logs` next to the conf
/// directory (Java's layout).
pub fn log_dir(server: &ServerConfig) -> PathBuf {
    LOG_DIR
        .get()
        .cloned()
        .unwrap_or_else(|| server.resolve_path("../logs"))
}

/// The metrics and admin ports of a running daemon.
#[derive(Default)]
pub struct Ops {
    metrics: Option<MetricsServer>,
    admin: Option<AdminServer>,
}

impl Ops {
    /// Starts the metrics port when `canal.metrics.pull.port` is set and installs the
    /// readiness check (ready once every configured non-lazy destination is active or standby).
    pub async fn start_metrics(server: &ServerConfig) -> Ops {
        let telemetry = Telemetry::global();
        let metrics = match server.metrics_pull_port {
            Some(port) => MetricsServer::start_or_warn(telemetry.clone(), port).await,
            None => None,
        };
        let expected = server
            .destinations
            .iter()
            .filter(|d| server.instance_settings(d).is_ok_and(|s| !s.lazy))
            .cloned()
            .collect();
        telemetry.install_role_readiness(expected);
        Ops {
            metrics,
            admin: None,
        }
    }

    /// Opens the admin port when `canal.admin.port` is set (after the client port, as Canal).
    pub async fn start_admin(
        &mut self,
        server: &ServerConfig,
        controller: Arc<DaemonController>,
        ha: Option<Arc<Ha>>,
    ) -> std::io::Result<()> {
        let Some(port) = server.admin.port else {
            return Ok(());
        };
        let ip: IpAddr = server
            .ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let cfg = AdminConfig::new(
            SocketAddr::new(ip, port),
            AuthConfig {
                user: server.admin.user.clone(),
                passwd: server.admin.passwd.clone(),
            },
            log_dir(server),
        );
        let target = Arc::new(ControllerTarget::new(controller).with_ha(ha));
        let admin = AdminServer::start(cfg, target, Telemetry::global().clone()).await?;
        tracing::info!(
            "## the canal admin port is listening on {}",
            admin.local_addr()
        );
        self.admin = Some(admin);
        Ok(())
    }

    /// Where the metrics port listens.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.local_addr())
    }

    /// Where the admin port listens.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|a| a.local_addr())
    }

    /// Closes the admin port (first: no commands during shutdown).
    pub async fn stop_admin(&mut self) {
        if let Some(a) = self.admin.take() {
            a.shutdown().await;
        }
    }

    /// Closes both ports.
    pub async fn shutdown(mut self) {
        self.stop_admin().await;
        if let Some(m) = self.metrics.take() {
            m.shutdown().await;
        }
    }
}

/// The admin commands over the instance controller: check = `is_running`, start = `start`,
/// stop = `stop`, restart = `reload`, list = `running`. With ZooKeeper, start / stop /
/// restart act on the destination's running monitor as Canal does: start joins the election
/// (`1` when this server became active, `0` when another server runs it), stop leaves it
/// (instance stopped, running node released, no contention until `start`), restart = both.
///
/// Release (operations.md §2.3, §7):
/// * with ZooKeeper ([`ControllerTarget::with_ha`]): Canal's HA release. If this server holds
///   `/otter/canal/destinations/{d}/running`, the instance stops and the node is deleted; the
///   monitor keeps contending, so after the takeover delay (`canal.zookeeper.takeoverDelay`,
///   Canal's 5 s, which the releaser waits too) another server, or this one, becomes active.
///   Reply `1` when this server held the node and gave it up, `0` when it did not hold it
///   (standby, or not started here): nothing changes then.
/// * standalone: there is no election to hand over to; the instance stops here and stays
///   stopped until `start` (or a reload), as Java's release without ZooKeeper does. Reply `1`
///   when it was running, else `0`.
///
/// SERVER stop stops every destination but keeps the client and admin ports open (Canal's
/// admin keeps its port too; with ZooKeeper the destinations leave the election, releasing
/// their running nodes); SERVER start starts (joins) the configured ones again.
pub struct ControllerTarget<L: Launcher = PipelineLauncher<EmbeddedRegistry>> {
    controller: Arc<Controller<L>>,
    ha: Option<Arc<Ha>>,
    running: AtomicBool,
}

impl<L: Launcher> ControllerTarget<L> {
    /// A target over `controller` (server considered running), standalone release.
    pub fn new(controller: Arc<Controller<L>>) -> ControllerTarget<L> {
        ControllerTarget {
            controller,
            ha: None,
            running: AtomicBool::new(true),
        }
    }

    /// Release goes through the ZooKeeper running monitors of `ha`.
    pub fn with_ha(mut self, ha: Option<Arc<Ha>>) -> ControllerTarget<L> {
        self.ha = ha;
        self
    }

    /// Stops every destination; with ZooKeeper every destination leaves the election first
    /// (Canal's controller stop: monitors stopped, running nodes released), so other servers
    /// can take over.
    async fn stop_all(&self) {
        if let Some(ha) = &self.ha {
            let mut names = self.controller.server().destinations.clone();
            for d in self.controller.running() {
                if !names.contains(&d) {
                    names.push(d);
                }
            }
            for d in &names {
                Election::leave(&**ha, d).await;
            }
        }
        self.controller.shutdown().await;
    }

    fn configured(&self, destination: &str) -> Result<(), String> {
        if self
            .controller
            .server()
            .destinations
            .iter()
            .any(|d| d == destination)
            || self.controller.server().instance_file(destination).exists()
        {
            Ok(())
        } else {
            Err(format!("destination {destination} is not configured"))
        }
    }
}

impl<L: Launcher> AdminTarget for ControllerTarget<L> {
    fn server_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn server_start(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.controller
                .start_configured()
                .await
                .map_err(|e| e.to_string())?;
            self.running.store(true, Ordering::SeqCst);
            Ok(true)
        })
    }

    fn server_stop(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.stop_all().await;
            self.running.store(false, Ordering::SeqCst);
            Ok(true)
        })
    }

    fn server_restart(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.stop_all().await;
            self.running.store(false, Ordering::SeqCst);
            self.controller
                .start_configured()
                .await
                .map_err(|e| e.to_string())?;
            self.running.store(true, Ordering::SeqCst);
            Ok(true)
        })
    }

    fn running_instances(&self) -> Vec<String> {
        self.controller.running()
    }

    fn instance_running(&self, destination: &str) -> bool {
        self.controller.is_running(destination)
    }

    fn instance_start<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            self.configured(destination)?;
            if let Some(ha) = &self.ha {
                // Canal starts the running monitor: the destination runs where the election
                // puts it ("0" here when another server holds it).
                let won = Election::join(&**ha, destination, true).await;
                return Ok(won || self.controller.is_running(destination));
            }
            self.controller
                .start(destination)
                .await
                .map_err(|e| e.to_string())?;
            Ok(self.controller.is_running(destination))
        })
    }

    fn instance_stop<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if let Some(ha) = &self.ha {
                // Canal stops the running monitor: instance stopped, running node released,
                // no further contention from this server until `start`.
                let was = self.controller.is_running(destination);
                Election::leave(&**ha, destination).await;
                return Ok(was);
            }
            Ok(self.controller.stop(destination).await)
        })
    }

    fn instance_release<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            match &self.ha {
                Some(ha) => Ok(ha.release(destination).await.unwrap_or(false)),
                None => Ok(self.controller.stop(destination).await),
            }
        })
    }

    fn instance_restart<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            self.configured(destination)?;
            if let Some(ha) = &self.ha {
                Election::leave(&**ha, destination).await;
                let won = Election::join(&**ha, destination, true).await;
                return Ok(won || self.controller.is_running(destination));
            }
            self.controller
                .reload(destination)
                .await
                .map_err(|e| e.to_string())?;
            Ok(self.controller.is_running(destination))
        })
    }
}
