//! The admin connection state machine and accept loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::admin::{
    Ack, ClientAuth, Handshake, InstanceAdmin, LogAdmin, Packet, PacketType, ServerAdmin,
};
use canal_protocol::codec::FrameCodec;
use canal_telemetry::Telemetry;
use futures::{SinkExt, StreamExt};
use prost::Message;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::codec::Framed;

use crate::auth::{check_auth, AuthConfig};
use crate::logs::{list_logs, safe_join, tail_lines};
use crate::{CODE_ERROR, CODE_UNKNOWN_ACTION, CODE_UNSUPPORTED};

/// A boxed, sendable future (what [`AdminTarget`] methods return).
pub type BoxFuture<'a, T> = futures::future::BoxFuture<'a, T>;

/// What the admin commands act on; the binary implements it over its instance manager.
/// `Ok(true)`/`Ok(false)` become `"1"`/`"0"`; `Err(msg)` becomes an error ACK 400.
pub trait AdminTarget: Send + Sync + 'static {
    /// SERVER check: is the server (controller) running?
    fn server_running(&self) -> bool;
    /// SERVER start.
    fn server_start(&self) -> BoxFuture<'_, Result<bool, String>>;
    /// SERVER stop (the admin port stays up).
    fn server_stop(&self) -> BoxFuture<'_, Result<bool, String>>;
    /// SERVER restart.
    fn server_restart(&self) -> BoxFuture<'_, Result<bool, String>>;
    /// SERVER list: destinations running on this server.
    fn running_instances(&self) -> Vec<String>;
    /// INSTANCE check: does `destination` run here?
    fn instance_running(&self, destination: &str) -> bool;
    /// INSTANCE start.
    fn instance_start<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>>;
    /// INSTANCE stop.
    fn instance_stop<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>>;
    /// INSTANCE release (give up the HA running node, keep contending).
    fn instance_release<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>>;
    /// INSTANCE restart (reload).
    fn instance_restart<'a>(&'a self, destination: &'a str) -> BoxFuture<'a, Result<bool, String>>;
}

/// Admin port settings.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Where to listen (`canal.ip` or 0.0.0.0, `canal.admin.port`).
    pub bind: SocketAddr,
    /// `canal.admin.user` / `canal.admin.passwd`.
    pub auth: AuthConfig,
    /// The `logs` directory (server logs in `canal/`, destination logs in `<dest>/`).
    pub log_dir: PathBuf,
    /// Largest accepted frame.
    pub max_frame: usize,
    /// An unauthenticated connection is closed after this long.
    pub auth_timeout: Duration,
}

impl AdminConfig {
    /// Defaults: 1 MiB frames, 30 s to authenticate.
    pub fn new(bind: SocketAddr, auth: AuthConfig, log_dir: impl Into<PathBuf>) -> AdminConfig {
        AdminConfig {
            bind,
            auth,
            log_dir: log_dir.into(),
            max_frame: 1024 * 1024,
            auth_timeout: Duration::from_secs(30),
        }
    }
}

/// A running admin port.
pub struct AdminServer {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

const DEFAULT_IDLE_MS: u64 = 3_600_000;

struct Shared<T: AdminTarget> {
    cfg: AdminConfig,
    target: Arc<T>,
    telemetry: Telemetry,
}

impl AdminServer {
    /// Binds and starts serving in the background.
    pub async fn start<T: AdminTarget>(
        cfg: AdminConfig,
        target: Arc<T>,
        telemetry: Telemetry,
    ) -> std::io::Result<AdminServer> {
        if cfg
            .auth
            .passwd
            .as_deref()
            .is_none_or(|p| p.trim().is_empty())
        {
            tracing::warn!("the admin port has no password (canal.admin.passwd is empty): any client can control this server");
        }
        let listener = TcpListener::bind(cfg.bind).await?;
        let local_addr = listener.local_addr()?;
        let (stop, mut rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            cfg,
            target,
            telemetry,
        });
        let task = tokio::spawn(async move {
            let stopped = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            tokio::pin!(stopped);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    r = listener.accept() => match r {
                        Ok((stream, peer)) => {
                            let s = shared.clone();
                            tokio::spawn(async move {
                                let _guard = s.telemetry.connection_opened("admin");
                                if let Err(e) = connection(&s, stream).await {
                                    tracing::debug!(%peer, error = %e, "admin connection ended");
                                }
                            });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "admin port accept failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }
        });
        tracing::info!("## start the canal admin port on {local_addr}");
        Ok(AdminServer {
            local_addr,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting (open sessions end on their own).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

type Conn = Framed<TcpStream, FrameCodec>;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error(transparent)]
    Frame(#[from] canal_protocol::codec::FrameError),
    #[error("undecodable packet: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("timed out")]
    Timeout,
    #[error("closed by peer")]
    Closed,
    #[error("authentication failed for user {0:?}")]
    AuthFailed(String),
}

fn packet(ty: PacketType, body: Vec<u8>) -> Bytes {
    Packet {
        magic_number: None,
        version: Some(1),
        r#type: ty as i32,
        body: body.into(),
    }
    .encode_to_vec()
    .into()
}

fn ack(code: i32, message: &str) -> Bytes {
    packet(
        PacketType::Ack,
        Ack {
            code: Some(code),
            message: message.to_string(),
        }
        .encode_to_vec(),
    )
}

async fn read_frame(conn: &mut Conn, timeout: Duration) -> Result<Packet, ConnError> {
    match tokio::time::timeout(timeout, conn.next()).await {
        Err(_) => Err(ConnError::Timeout),
        Ok(None) => Err(ConnError::Closed),
        Ok(Some(r)) => Ok(Packet::decode(r?.freeze())?),
    }
}

async fn connection<T: AdminTarget>(s: &Shared<T>, stream: TcpStream) -> Result<(), ConnError> {
    let peer = stream.peer_addr().ok();
    let mut conn = Framed::new(stream, FrameCodec::new(s.cfg.max_frame));
    let seed: [u8; 8] = rand::random();
    let hs = Handshake {
        communication_encoding: None,
        seeds: Bytes::copy_from_slice(&seed),
    };
    conn.send(packet(PacketType::Handshake, hs.encode_to_vec()))
        .await?;

    // Like Java, the packet type is not checked at this stage; the body must be a ClientAuth.
    let p = read_frame(&mut conn, s.cfg.auth_timeout).await?;
    let auth = ClientAuth::decode(p.body.clone())?;
    if !check_auth(&s.cfg.auth, &auth, &seed) {
        s.telemetry.auth_failure("admin");
        tracing::warn!(user = %auth.username, peer = ?peer, "admin port: auth failed for user:{}", auth.username);
        conn.send(ack(
            CODE_UNSUPPORTED,
            &format!("auth failed for user:{}", auth.username),
        ))
        .await?;
        return Err(ConnError::AuthFailed(auth.username));
    }
    conn.send(ack(0, "")).await?;
    let idle = match auth.net_read_timeout {
        Some(ms) if ms > 0 => Duration::from_millis(ms as u64),
        _ => Duration::from_millis(DEFAULT_IDLE_MS),
    };
    loop {
        let p = read_frame(&mut conn, idle).await?;
        let reply = dispatch(s, &p).await;
        conn.send(reply).await?;
    }
}

fn bool_ack(r: Result<bool, String>) -> Bytes {
    match r {
        Ok(b) => ack(0, if b { "1" } else { "0" }),
        Err(e) => ack(CODE_ERROR, &e),
    }
}

async fn dispatch<T: AdminTarget>(s: &Shared<T>, p: &Packet) -> Bytes {
    let t = &*s.target;
    match PacketType::try_from(p.r#type) {
        Ok(PacketType::Server) => {
            let Ok(sa) = ServerAdmin::decode(p.body.clone()) else {
                return ack(CODE_ERROR, "undecodable ServerAdmin body");
            };
            tracing::info!(
                "received {} SERVER request in session handler...",
                sa.action
            );
            match sa.action.as_str() {
                "check" => bool_ack(Ok(t.server_running())),
                "start" => bool_ack(t.server_start().await),
                "stop" => bool_ack(t.server_stop().await),
                "restart" => bool_ack(t.server_restart().await),
                "list" => ack(0, &t.running_instances().join(",")),
                other => ack(
                    CODE_UNKNOWN_ACTION,
                    &format!("ServerAdmin action: {other}  is unknown"),
                ),
            }
        }
        Ok(PacketType::Instance) => {
            let Ok(ia) = InstanceAdmin::decode(p.body.clone()) else {
                return ack(CODE_ERROR, "undecodable InstanceAdmin body");
            };
            tracing::info!(destination = %ia.destination, "received {} INSTANCE request in session handler...", ia.action);
            let d = ia.destination.as_str();
            match ia.action.as_str() {
                "check" => bool_ack(Ok(t.instance_running(d))),
                "start" => bool_ack(t.instance_start(d).await),
                "stop" => bool_ack(t.instance_stop(d).await),
                "release" => bool_ack(t.instance_release(d).await),
                "restart" => bool_ack(t.instance_restart(d).await),
                other => ack(
                    CODE_UNKNOWN_ACTION,
                    &format!("InstanceAdmin action: {other} is unknown"),
                ),
            }
        }
        Ok(PacketType::Log) => {
            let Ok(la) = LogAdmin::decode(p.body.clone()) else {
                return ack(CODE_ERROR, "undecodable LogAdmin body");
            };
            tracing::info!("received {} LOG request in session handler...", la.r#type);
            log_command(&s.cfg.log_dir, &la)
        }
        _ => ack(
            CODE_UNSUPPORTED,
            &format!("packet type: {} is NOT supported!", type_name(p.r#type)),
        ),
    }
}

fn type_name(t: i32) -> String {
    match PacketType::try_from(t) {
        Ok(pt) => pt.as_str_name().to_string(),
        Err(_) => t.to_string(),
    }
}

fn log_command(log_dir: &std::path::Path, la: &LogAdmin) -> Bytes {
    let list = la.action.eq_ignore_ascii_case("list");
    let count = la.count.unwrap_or(0);
    match la.r#type.as_str() {
        "server" => {
            let dir = log_dir.join("canal");
            if list {
                ack(0, &list_logs(&dir).join(","))
            } else {
                ack(0, &tail_lines(&dir.join("canal.log"), count))
            }
        }
        "instance" => {
            let dest = la.destination.clone().unwrap_or_default();
            let dir = match safe_join(log_dir, &dest) {
                Ok(d) => d,
                Err(e) => return ack(CODE_ERROR, &e.to_string()),
            };
            if list {
                return ack(0, &list_logs(&dir).join(","));
            }
            let file = match la.file.as_deref() {
                Some(f) if !f.is_empty() => f.to_string(),
                _ => format!("{dest}.log"),
            };
            match safe_join(&dir, &file) {
                Ok(path) => ack(0, &tail_lines(&path, count)),
                Err(e) => ack(CODE_ERROR, &e.to_string()),
            }
        }
        other => ack(
            CODE_UNKNOWN_ACTION,
            &format!("LogAdmin type: {other} is unknown"),
        ),
    }
}
