//! The listener: accept loop, per-connection tasks, connection limit and graceful shutdown.
//!
//! Shaped after tokio's mini-redis server: a [`Server`] accepts sockets and spawns one task per
//! connection ([`crate::session`]); a `watch` channel broadcasts shutdown to every task (a task
//! checks it between frames and while a GET waits, so a request in progress finishes writing its
//! reply, a parked GET is abandoned); a semaphore bounds the number of live connections.
//!
//! Deliberate differences from Java Canal (which has neither): over the connection limit a new
//! socket is closed at once with a warning in the log (Java would accept it); a frame whose length
//! header exceeds [`ServerConfig::max_frame`] closes the connection with a warning (Java keeps
//! reading and waits for up to 2 GiB).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::java;
use crate::service::CanalService;
use crate::session::Session;

/// Default maximum request frame: requests are tiny (a GET is ~40 bytes); 1 MiB leaves room for
/// long filters and still bounds memory per connection.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;
/// Default connection limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Settings of the client-protocol endpoint (the `canal.*` keys it uses).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `canal.ip` + `canal.port` (default `0.0.0.0:11111`).
    pub bind: SocketAddr,
    /// `canal.user`; empty = any user name.
    pub user: String,
    /// `canal.passwd`: hex (either case) of SHA1(SHA1(password)); empty = no password check.
    pub passwd: String,
    /// Largest request frame accepted; longer length headers close the connection.
    pub max_frame: usize,
    /// Most connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// `canal.instance.memory.rawEntry` (default true). MESSAGES with data are sent in raw form
    /// (no version field) only when this and [`crate::service::CanalService::raw_entries`] of the
    /// destination are both true; otherwise they carry `version = 1`.
    pub raw_entry: bool,
    /// Re-arm TCP_QUICKACK after every read (Linux only; default true).
    pub tcp_quickack: bool,
    /// How long shutdown waits for connections to finish before aborting them.
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([0, 0, 0, 0], 11111)),
            user: String::new(),
            passwd: String::new(),
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            raw_entry: true,
            tcp_quickack: true,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A setting is invalid.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// Binding or accepting failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Validated settings shared by all sessions.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) config: ServerConfig,
    /// Decoded `canal.passwd`; `None` when no password is configured.
    pub(crate) passwd: Option<Vec<u8>>,
}

impl Settings {
    fn new(config: ServerConfig) -> Result<Self, ServerError> {
        let passwd = config.passwd.trim();
        let passwd = if passwd.is_empty() {
            if !config.user.is_empty() {
                // Java's deployer refuses this too (issue 4941).
                return Err(ServerError::Config(
                    "canal.user is set but canal.passwd is empty".into(),
                ));
            }
            None
        } else {
            Some(java::hex_to_bytes(passwd).ok_or_else(|| {
                ServerError::Config(
                    "canal.passwd is not a hex string (expected hex of SHA1(SHA1(password)))"
                        .into(),
                )
            })?)
        };
        if config.max_connections == 0 {
            return Err(ServerError::Config(
                "max_connections must be at least 1".into(),
            ));
        }
        if config.max_frame > i32::MAX as usize {
            return Err(ServerError::Config(
                "max_frame must fit a signed 32-bit length".into(),
            ));
        }
        Ok(Self { config, passwd })
    }
}

/// A shutdown listener handed to each session.
#[derive(Debug, Clone)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Completes once shutdown has been requested (immediately if it already was).
    pub(crate) async fn recv(&mut self) {
        // An error means the sender is gone, which also means shutdown.
        let _ = self.0.wait_for(|&v| v).await;
    }
}

/// Sets TCP_QUICKACK so the kernel acknowledges the next segments at once (Linux only; the flag
/// is not sticky, hence re-armed after every read).
pub(crate) fn arm_quickack(stream: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        if let Err(e) = socket2::SockRef::from(stream).set_tcp_quickack(true) {
            debug!("TCP_QUICKACK: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stream;
}

fn configure_socket(stream: &TcpStream, quickack: bool) {
    // Java: child.tcpNoDelay=true, child.keepAlive=true.
    if let Err(e) = stream.set_nodelay(true) {
        debug!("TCP_NODELAY: {e}");
    }
    if let Err(e) = socket2::SockRef::from(stream).set_keepalive(true) {
        debug!("SO_KEEPALIVE: {e}");
    }
    if quickack {
        arm_quickack(stream);
    }
}

/// The Canal client-protocol server.
pub struct Server<S> {
    listener: TcpListener,
    service: Arc<S>,
    settings: Arc<Settings>,
}

impl<S: CanalService> Server<S> {
    /// Validates `config` and binds `config.bind`.
    pub async fn bind(config: ServerConfig, service: Arc<S>) -> Result<Self, ServerError> {
        let settings = Settings::new(config)?;
        let listener = TcpListener::bind(settings.config.bind).await?;
        Ok(Self {
            listener,
            service,
            settings: Arc::new(settings),
        })
    }

    /// Uses an already bound listener (`config.bind` is ignored).
    pub fn from_listener(
        listener: TcpListener,
        config: ServerConfig,
        service: Arc<S>,
    ) -> Result<Self, ServerError> {
        Ok(Self {
            listener,
            service,
            settings: Arc::new(Settings::new(config)?),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, tells every connection to close,
    /// waits up to `shutdown_grace` for them and aborts the rest.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let (notify, watch_rx) = watch::channel(false);
        let limit = Arc::new(Semaphore::new(self.settings.config.max_connections));
        let mut tasks = JoinSet::new();
        info!(addr = ?self.listener.local_addr().ok(), "canal client protocol server started");

        let result = tokio::select! {
            r = self.accept_loop(&limit, &watch_rx, &mut tasks) => r,
            _ = shutdown => Ok(()),
        };
        drop(self.listener);
        let _ = notify.send(true);
        let grace = self.settings.config.shutdown_grace;
        let drained =
            tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            warn!(
                left = tasks.len(),
                "connections did not close in time; aborting them"
            );
            tasks.shutdown().await;
        }
        info!("canal client protocol server stopped");
        result
    }

    async fn accept_loop(
        &self,
        limit: &Arc<Semaphore>,
        watch_rx: &watch::Receiver<bool>,
        tasks: &mut JoinSet<()>,
    ) -> Result<(), ServerError> {
        let mut backoff = Duration::from_millis(10);
        loop {
            // Reap finished connections so the set does not grow.
            while tasks.try_join_next().is_some() {}
            let (stream, peer) = match self.listener.accept().await {
                Ok(s) => {
                    backoff = Duration::from_millis(10);
                    s
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; they clear by themselves.
                    error!("accept failed: {e}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            };
            let Ok(permit) = Arc::clone(limit).try_acquire_owned() else {
                warn!(%peer, max = self.settings.config.max_connections,
                    "connection limit reached; closing new connection");
                drop(stream);
                continue;
            };
            configure_socket(&stream, self.settings.config.tcp_quickack);
            let session = Session::new(
                stream,
                peer,
                Arc::clone(&self.service),
                Arc::clone(&self.settings),
                Shutdown(watch_rx.clone()),
            );
            tasks.spawn(async move {
                session.run().await;
                drop(permit);
            });
        }
    }
}
