//! The canal-server daemon: Java `CanalController` start order (operations.md §4.5): start the
//! embedded server, start every non-lazy configured destination, start the auto-scan, then bind
//! the client TCP port last; on shutdown stop the port, the scan and every destination.
//! With `canal.zkServers` the destinations start and stop through ZooKeeper running monitors
//! ([`crate::ha`]) instead, and `default-instance.xml` (ZooKeeper meta) is accepted.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use canal_config::lookup::server_value;
use canal_config::{InstanceMode, MetaMode, ServerConfig, ServerMode};
use canal_instance::{Controller, Parts, PipelineLauncher, Registry};
use canal_server::embedded::{Destination, Embedded};
use tokio::sync::watch;

/// Announces destinations to the embedded server.
#[derive(Clone)]
pub struct EmbeddedRegistry(pub Arc<Embedded>);

impl Registry for EmbeddedRegistry {
    fn register(&self, parts: &Parts) {
        let p = parts.clone();
        self.0.register(
            Destination::new(
                parts.destination.clone(),
                parts.store.clone(),
                parts.meta.clone(),
            )
            .with_subscribe_hook(Arc::new(move |client| {
                if let Some(f) = client.filter.as_deref() {
                    p.set_filter(f);
                }
            })),
        );
    }
    fn unregister(&self, destination: &str) {
        self.0.unregister(destination);
    }
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Something the configuration asks for that canal-rs does not do.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A destination could not start.
    #[error(transparent)]
    Instance(#[from] canal_instance::InstanceError),
    /// The client port could not be opened or failed.
    #[error(transparent)]
    Server(#[from] canal_server::ServerError),
    /// ZooKeeper HA could not start.
    #[error(transparent)]
    Ha(#[from] crate::ha::HaError),
    /// Bad `canal.ip`.
    #[error("canal.ip: {0}")]
    BadIp(String),
}

/// Checks what this build supports.
pub fn check_supported(server: &ServerConfig) -> Result<(), DaemonError> {
    if server.server_mode != ServerMode::Tcp {
        return Err(DaemonError::Unsupported(format!(
            "canal.serverMode={:?}: only tcp is implemented",
            server.server_mode
        )));
    }
    if server.global.mode == InstanceMode::Manager {
        return Err(DaemonError::Unsupported(
            "manager mode (canal.admin.manager / canal.instance.global.mode=manager)".into(),
        ));
    }
    for d in &server.destinations {
        let settings = server
            .instance_settings(d)
            .map_err(|e| DaemonError::Instance(e.into()))?;
        if settings.mode == InstanceMode::Manager {
            return Err(DaemonError::Unsupported(format!(
                "canal.instance.{d}.mode=manager"
            )));
        }
        let zk_meta_ok = settings.meta_mode == MetaMode::ZooKeeper
            && server
                .zk_servers
                .as_deref()
                .is_some_and(|z| !z.trim().is_empty());
        if settings.meta_mode == MetaMode::ZooKeeper && !zk_meta_ok {
            return Err(DaemonError::Unsupported(format!(
                "destination {d}: default-instance.xml (canal.instance.global.spring.xml or canal.instance.{d}.spring.xml) needs canal.zkServers: the ZooKeeper meta uses the server's session"
            )));
        }
        if !zk_meta_ok && !matches!(settings.meta_mode, MetaMode::File | MetaMode::Memory) {
            return Err(DaemonError::Unsupported(format!(
                "destination {d}: {} (canal.instance.global.spring.xml or canal.instance.{d}.spring.xml); \
                 use classpath:spring/file-instance.xml or memory-instance.xml",
                settings.meta_mode.xml_name()
            )));
        }
    }
    Ok(())
}

/// A running daemon.
pub struct Daemon {
    /// The destinations.
    pub controller: Arc<Controller<PipelineLauncher<EmbeddedRegistry>>>,
    /// The embedded server (batch bookkeeping over the stores).
    pub embedded: Arc<Embedded>,
    /// Where the client port is bound (`None` with `canal.withoutNetty`).
    pub local_addr: Option<SocketAddr>,
    /// ZooKeeper HA (`canal.zkServers` set).
    pub ha: Option<Arc<crate::ha::Ha>>,
    /// Metrics and admin ports ([`crate::ops`]).
    pub ops: crate::ops::Ops,
    scan_stop: watch::Sender<bool>,
    server_task: Option<tokio::task::JoinHandle<Result<(), canal_server::ServerError>>>,
    server_stop: watch::Sender<bool>,
}

impl Daemon {
    /// Starts everything; `port_override` (tests) replaces `canal.port` (0 = any free port).
    pub async fn start(
        server: Arc<ServerConfig>,
        port_override: Option<u16>,
    ) -> Result<Daemon, DaemonError> {
        check_supported(&server)?;
        tracing::info!("## start the canal server.");
        let mut ops = crate::ops::Ops::start_metrics(&server).await;
        let embedded = Arc::new(Embedded::new());
        let ha_port = port_override.filter(|p| *p != 0).unwrap_or(server.port);
        let ha = match crate::ha::HaSettings::from_server(&server, ha_port)? {
            Some(s) => Some(crate::ha::Ha::connect(s).await?),
            None => None,
        };
        let mut launcher = PipelineLauncher::new(EmbeddedRegistry(embedded.clone()));
        if let Some(ha) = &ha {
            launcher = launcher
                .with_meta_factory(ha.meta_factory())
                .with_parser_observer(ha.parser_observer());
            embedded.set_serve_check(ha.serve_check());
        }
        let controller = Controller::new(server.clone(), launcher);
        if let Some(ha) = &ha {
            ha.attach(&controller);
        }

        // Lazy destinations start on the first subscription.
        let handle = tokio::runtime::Handle::current();
        let c = controller.clone();
        embedded.set_start_hook(Arc::new(move |dest: &str| {
            let c = c.clone();
            let dest = dest.to_string();
            let h = handle.clone();
            let run = move || h.block_on(c.ensure_started(&dest));
            let r = match tokio::runtime::Handle::try_current() {
                Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                    tokio::task::block_in_place(run)
                }
                _ => run(),
            };
            match r {
                Ok(started) => started,
                Err(e) => {
                    tracing::error!(error = %e, "lazy start failed");
                    false
                }
            }
        }));

        controller.start_configured().await?;
        let (scan_stop, scan_rx) = watch::channel(false);
        tokio::spawn(controller.clone().scan_loop(scan_rx));

        let (server_stop, mut server_stop_rx) = watch::channel(false);
        let mut local_addr = None;
        let mut server_task = None;
        if !server.without_netty {
            let ip: IpAddr = match &server.ip {
                Some(ip) => ip
                    .parse()
                    .map_err(|_| DaemonError::BadIp(format!("{ip:?} is not an IP address")))?,
                None => IpAddr::from([0, 0, 0, 0]),
            };
            let raw = server_value(
                &server.overrides,
                &server.properties,
                "canal.instance.memory.rawEntry",
            )
            .map(|v| !v.text.eq_ignore_ascii_case("false"))
            .unwrap_or(true);
            let cfg = canal_server::ServerConfig {
                bind: SocketAddr::new(ip, port_override.unwrap_or(server.port)),
                user: server.user.clone().unwrap_or_default(),
                passwd: server.passwd.clone().unwrap_or_default(),
                raw_entry: raw,
                ..canal_server::ServerConfig::default()
            };
            let srv = canal_server::Server::bind(cfg, embedded.clone()).await?;
            local_addr = srv.local_addr().ok();
            tracing::info!(
                "## start the canal server[{}({}):{}]",
                server.ip.as_deref().unwrap_or("0.0.0.0"),
                server.register_ip.as_deref().unwrap_or(""),
                local_addr.map(|a| a.port()).unwrap_or(server.port)
            );
            server_task = Some(tokio::spawn(async move {
                srv.run(async move {
                    let _ = server_stop_rx.wait_for(|s| *s).await;
                })
                .await
            }));
        }
        if let Err(e) = ops
            .start_admin(&server, controller.clone(), ha.clone())
            .await
        {
            tracing::error!(error = %e, "the admin port could not be opened");
        }
        tracing::info!("## the canal server is running now ......");
        Ok(Daemon {
            ops,
            controller,
            embedded,
            local_addr,
            ha,
            scan_stop,
            server_task,
            server_stop,
        })
    }

    /// Stops the port, the scan and every destination.
    pub async fn stop(mut self) {
        tracing::info!("## stop the canal server");
        self.ops.stop_admin().await;
        let _ = self.server_stop.send(true);
        if let Some(t) = self.server_task.take() {
            match t.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "client port stopped with an error"),
                Err(e) => tracing::warn!(error = %e, "client port task failed"),
                Ok(Ok(())) => {}
            }
        }
        let _ = self.scan_stop.send(true);
        if let Some(ha) = &self.ha {
            ha.shutdown().await;
        }
        self.controller.shutdown().await;
        std::mem::take(&mut self.ops).shutdown().await;
        tracing::info!("## canal server is down.");
    }

    /// Runs until `shutdown` completes, then stops.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        shutdown.await;
        self.stop().await;
    }
}
