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
//!   [`ControllerTarget`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use canal_admin::{AdminConfig, AdminServer, AdminTarget, AuthConfig, BoxFuture};
use canal_config::ServerConfig;
use canal_instance::{Controller, PipelineLauncher};
use canal_telemetry::logging::{LogConfig, LogError};
use canal_telemetry::{MetricsServer, Telemetry};

use crate::daemon::EmbeddedRegistry;

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
        let target = Arc::new(ControllerTarget::new(controller));
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
/// stop = `stop`, restart = `reload`, list = `running`. Release stops the destination here
/// (with HA the running node is freed by the stop, so another server can take it).
/// SERVER stop stops every destination but keeps the client and admin ports open (Canal's
/// admin keeps its port too); SERVER start starts the configured ones again.
pub struct ControllerTarget {
    controller: Arc<DaemonController>,
    running: AtomicBool,
}

impl ControllerTarget {
    /// A target over `controller` (server considered running).
    pub fn new(controller: Arc<DaemonController>) -> ControllerTarget {
        ControllerTarget {
            controller,
            running: AtomicBool::new(true),
        }
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

impl AdminTarget for ControllerTarget {
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
            self.controller.shutdown().await;
            self.running.store(false, Ordering::SeqCst);
            Ok(true)
        })
    }

    fn server_restart(&self) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.controller.shutdown().await;
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
            self.controller
                .start(destination)
                .await
                .map_err(|e| e.to_string())?;
            Ok(self.controller.is_running(destination))
        })
    }

    fn instance_stop<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move { Ok(self.controller.stop(destination).await) })
    }

    fn instance_release<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move { Ok(self.controller.stop(destination).await) })
    }

    fn instance_restart<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            self.configured(destination)?;
            self.controller
                .reload(destination)
                .await
                .map_err(|e| e.to_string())?;
            Ok(self.controller.is_running(destination))
        })
    }
}
