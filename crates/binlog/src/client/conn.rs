//! One authenticated MySQL/MariaDB protocol connection: packet framing, handshake, TLS
//! upgrade, authentication (via mysql_common's auth plugins), text queries and COM_QUIT.

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mysql_common::auth::plugins::{ChallengeResponsePlugin, Context as AuthContext, Response};
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthPlugin, AuthSwitchRequest, HandshakePacket, HandshakeResponse, SslRequest,
};
use mysql_common::proto::MySerialize;
use tokio::io::{
    AsyncBufRead, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::error::{classify, codes, ClientError, ServerError};
use super::tls::{self, SslMode, TlsOptions};

/// Largest payload of one physical packet; a payload of exactly this size continues in the next.
const MAX_CHUNK: usize = 0xFF_FFFF;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Host name or IP address of the source.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Connect through this Unix socket instead of TCP (host/port then only name the server in
    /// messages).
    pub socket: Option<PathBuf>,
    /// User name.
    pub user: String,
    /// Password (empty for none).
    pub password: String,
    /// TLS settings.
    pub tls: TlsOptions,
    /// Limit for establishing the TCP connection and the whole handshake.
    pub connect_timeout: Duration,
    /// Limit for each packet read outside the binlog dump (queries, auth).
    pub read_timeout: Duration,
    /// Largest logical packet (event) accepted; bigger ones are an error, never an allocation.
    pub max_packet: usize,
}

impl ConnectOptions {
    /// Options for `host:port` with user and password, no TLS, Canal's timeouts.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        ConnectOptions {
            host: host.into(),
            port,
            socket: None,
            user: user.into(),
            password: password.into(),
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            max_packet: 1 << 30,
        }
    }

    /// Parses `host:port` (IPv6 as `[::1]:3306`).
    pub fn from_addr(
        addr: &str,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Result<Self, ClientError> {
        let bad = || ClientError::InvalidArgument(format!("address {addr:?} is not host:port"));
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Ok(Self::new(host, port, user, password))
    }

    /// `host:port` (or the socket path) for messages.
    pub fn addr(&self) -> String {
        match &self.socket {
            Some(p) => p.display().to_string(),
            None if self.host.contains(':') => format!("[{}]:{}", self.host, self.port),
            None => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Which server family we talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Oracle MySQL (or Percona).
    Mysql,
    /// MariaDB.
    Mariadb,
}

/// What the server said about itself in the handshake.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// The version string (e.g. `5.5.5-10.11.19-MariaDB-0+deb12u1-log`, `9.7.4`).
    pub version: String,
    /// MySQL or MariaDB.
    pub flavor: Flavor,
    /// (major, minor, patch) of the real server version (MariaDB's `5.5.5-` prefix removed).
    pub version_tuple: (u16, u16, u16),
    /// The server's connection (thread) id of this connection, usable with `KILL`.
    pub connection_id: u32,
    /// The server's default collation id.
    pub collation: u8,
}

/// The byte stream under a connection.
enum Transport {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            Transport::Unix(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The result of a text query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResult {
    /// Column names (empty for statements without a result set).
    pub columns: Vec<String>,
    /// Rows; `None` = SQL NULL. Bytes that are not UTF-8 are replaced (U+FFFD).
    pub rows: Vec<Vec<Option<String>>>,
    /// Affected rows of an OK packet.
    pub affected_rows: u64,
}

impl QueryResult {
    /// The value of column `name` in row `row` (`None` when absent or NULL).
    pub fn get(&self, row: usize, name: &str) -> Option<&str> {
        let idx = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))?;
        self.rows.get(row)?.get(idx)?.as_deref()
    }
}

/// An authenticated connection.
pub struct Connection {
    io: BufReader<Transport>,
    seq: u8,
    opts: ConnectOptions,
    info: ServerInfo,
    tls: bool,
    addr: String,
    auth_path: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("info", &self.info)
            .field("tls", &self.tls)
            .finish()
    }
}

/// mysql_common's auth plugins read the password, nonce and transport kind through this.
#[derive(Clone, Copy)]
struct AuthCtx<'a> {
    pass: &'a [u8],
    tls: bool,
    ipc: bool,
    scramble: &'a [u8],
}

impl AuthContext for AuthCtx<'_> {
    fn pass(&self) -> &[u8] {
        self.pass
    }
    fn is_ipc_transport(&self) -> bool {
        self.ipc
    }
    fn is_tls_transport(&self) -> bool {
        self.tls
    }
    fn scramble(&self) -> &[u8] {
        self.scramble
    }
    fn server_key_pem(&self) -> Option<&[u8]> {
        None
    }
}

impl Connection {
    /// Connects, optionally upgrades to TLS and authenticates.
    pub async fn connect(opts: &ConnectOptions) -> Result<Connection, ClientError> {
        let addr = opts.addr();
        let secs = opts.connect_timeout.as_secs();
        match tokio::time::timeout(opts.connect_timeout, Self::connect_inner(opts)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                addr,
                what: "the connection and handshake",
                secs,
            }),
        }
    }

    async fn connect_inner(opts: &ConnectOptions) -> Result<Connection, ClientError> {
        let addr = opts.addr();
        let io_err = |source| ClientError::Io {
            addr: addr.clone(),
            source,
        };
        let transport = match &opts.socket {
            Some(path) => Transport::Unix(UnixStream::connect(path).await.map_err(io_err)?),
            None => {
                let s = TcpStream::connect((opts.host.as_str(), opts.port))
                    .await
                    .map_err(io_err)?;
                s.set_nodelay(true).map_err(io_err)?;
                Transport::Tcp(s)
            }
        };
        let mut conn = Connection {
            io: BufReader::with_capacity(64 * 1024, transport),
            seq: 0,
            opts: opts.clone(),
            info: ServerInfo {
                version: String::new(),
                flavor: Flavor::Mysql,
                version_tuple: (0, 0, 0),
                connection_id: 0,
                collation: 0,
            },
            tls: false,
            addr,
            auth_path: String::new(),
        };
        conn.handshake().await?;
        Ok(conn)
    }

    /// What the server said about itself.
    pub fn server_info(&self) -> &ServerInfo {
        &self.info
    }

    /// The options this connection was made with.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    /// True when the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// How authentication went: the final plugin name, and for caching_sha2_password the path
    /// (`caching_sha2_password/fast`, `/full-rsa`, `/full-cleartext` over TLS or a Unix socket).
    pub fn auth_path(&self) -> &str {
        &self.auth_path
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The local socket address of a TCP connection (`None` for Unix sockets).
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        match self.io.get_ref() {
            Transport::Tcp(s) => s.local_addr().ok(),
            Transport::Tls(s) => s.get_ref().0.local_addr().ok(),
            Transport::Unix(_) => None,
        }
    }

    fn io_err(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            addr: self.addr.clone(),
            source,
        }
    }

    fn protocol(&self, message: impl Into<String>) -> ClientError {
        ClientError::Protocol {
            addr: self.addr.clone(),
            message: message.into(),
        }
    }

    /// Reads one logical packet (joining 16 MiB continuation packets), each physical packet
    /// within `timeout`.
    pub(crate) async fn read_packet_timeout(
        &mut self,
        timeout: Duration,
        what: &'static str,
    ) -> Result<Bytes, ClientError> {
        let mut out = BytesMut::new();
        loop {
            let mut hdr = [0u8; 4];
            self.read_exact_timed(&mut hdr, timeout, what).await?;
            let len = usize::from(hdr[0]) | usize::from(hdr[1]) << 8 | usize::from(hdr[2]) << 16;
            self.seq = hdr[3].wrapping_add(1);
            let total = out.len() + len;
            if total > self.opts.max_packet {
                return Err(ClientError::PacketTooLarge {
                    addr: self.addr.clone(),
                    size: total as u64,
                    limit: self.opts.max_packet as u64,
                });
            }
            let buffered = self.io.buffer();
            if buffered.len() >= len {
                // The common case while streaming: the payload is already in the read buffer.
                // Copy it out without zero-filling the destination and without a timer.
                if out.is_empty() {
                    out = BytesMut::with_capacity(len);
                }
                out.extend_from_slice(&buffered[..len]);
                Pin::new(&mut self.io).consume(len);
            } else {
                let start = out.len();
                out.resize(total, 0);
                self.read_exact_timed(&mut out[start..], timeout, what)
                    .await?;
            }
            if len < MAX_CHUNK {
                return Ok(out.freeze());
            }
        }
    }

    /// Fills `dst`: straight from the read buffer when it holds enough (no syscall, no timer),
    /// else by reading under `timeout`.
    async fn read_exact_timed(
        &mut self,
        dst: &mut [u8],
        timeout: Duration,
        what: &'static str,
    ) -> Result<(), ClientError> {
        let buffered = self.io.buffer();
        if buffered.len() >= dst.len() {
            dst.copy_from_slice(&buffered[..dst.len()]);
            Pin::new(&mut self.io).consume(dst.len());
            return Ok(());
        }
        let r = tokio::time::timeout(timeout, self.io.read_exact(dst)).await;
        self.check_io(r, timeout, what).map(|_| ())
    }

    fn check_io<T>(
        &self,
        r: Result<std::io::Result<T>, tokio::time::error::Elapsed>,
        timeout: Duration,
        what: &'static str,
    ) -> Result<T, ClientError> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.io_err(e)),
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                what,
                secs: timeout.as_secs(),
            }),
        }
    }

    pub(crate) async fn read_packet(&mut self) -> Result<Bytes, ClientError> {
        let t = self.opts.read_timeout;
        self.read_packet_timeout(t, "a reply").await
    }

    /// Writes one logical packet with the current sequence id (split at 16 MiB).
    pub(crate) async fn write_packet(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        let mut buf = Vec::with_capacity(payload.len() + 4);
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_CHUNK);
            buf.extend_from_slice(&[
                (n & 0xFF) as u8,
                ((n >> 8) & 0xFF) as u8,
                ((n >> 16) & 0xFF) as u8,
                self.seq,
            ]);
            buf.extend_from_slice(&rest[..n]);
            self.seq = self.seq.wrapping_add(1);
            rest = &rest[n..];
            if n < MAX_CHUNK {
                break;
            }
        }
        let timeout = self.opts.read_timeout;
        let r = tokio::time::timeout(timeout, async {
            self.io.get_mut().write_all(&buf).await?;
            self.io.get_mut().flush().await
        })
        .await;
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.io_err(e)),
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                what: "sending a packet",
                secs: timeout.as_secs(),
            }),
        }
    }

    /// Sends a command packet (sequence id restarts at 0).
    pub(crate) async fn write_command(&mut self, payload: &[u8]) -> Result<(), ClientError> {
        self.seq = 0;
        self.write_packet(payload).await
    }

    async fn handshake(&mut self) -> Result<(), ClientError> {
        let pkt = self.read_packet().await?;
        if pkt.first() == Some(&0xFF) {
            let e = parse_err(&pkt)
                .ok_or_else(|| self.protocol("malformed error packet in handshake"))?;
            return Err(classify(e, &self.addr, &self.opts.user, "the handshake"));
        }
        let hs: HandshakePacket<'_> = ParseBuf(&pkt[..])
            .parse(())
            .map_err(|e| self.protocol(format!("malformed handshake packet: {e}")))?;
        let version = hs.server_version_str().into_owned();
        let flavor = if version.to_ascii_lowercase().contains("mariadb") {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        };
        let version_tuple = hs
            .maria_db_server_version_parsed()
            .or_else(|| hs.server_version_parsed())
            .unwrap_or((0, 0, 0));
        self.info = ServerInfo {
            version,
            flavor,
            version_tuple,
            connection_id: hs.connection_id(),
            collation: hs.default_collation(),
        };
        let server_caps = hs.capabilities();
        let nonce = hs.nonce();
        let plugin = hs
            .auth_plugin()
            .map(|p| p.into_owned())
            .unwrap_or(AuthPlugin::MysqlNativePassword);
        let server_version = hs.server_version_parsed().unwrap_or((5, 7, 0));

        let mut caps = CapabilityFlags::CLIENT_LONG_PASSWORD
            | CapabilityFlags::CLIENT_LONG_FLAG
            | CapabilityFlags::CLIENT_PROTOCOL_41
            | CapabilityFlags::CLIENT_TRANSACTIONS
            | CapabilityFlags::CLIENT_SECURE_CONNECTION
            | CapabilityFlags::CLIENT_MULTI_RESULTS
            | CapabilityFlags::CLIENT_PLUGIN_AUTH
            | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
        caps &= server_caps;
        if !caps.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
            return Err(self.protocol("server does not speak protocol 4.1"));
        }

        let want_tls = self.opts.tls.mode != SslMode::Disabled && self.opts.socket.is_none();
        if want_tls {
            if server_caps.contains(CapabilityFlags::CLIENT_SSL) {
                caps |= CapabilityFlags::CLIENT_SSL;
                let mut req = Vec::new();
                SslRequest::new(caps, self.opts.max_packet.min(u32::MAX as usize) as u32, 45)
                    .serialize(&mut req);
                self.write_packet(&req).await?;
                self.upgrade_tls().await?;
            } else if self.opts.tls.mode.required() {
                return Err(ClientError::Tls {
                    addr: self.addr.clone(),
                    message: format!(
                        "sslMode {:?} but the server does not support TLS",
                        self.opts.tls.mode
                    ),
                });
            }
        }

        let password = self.opts.password.clone();
        let pass = password.as_bytes();
        let ipc = self.opts.socket.is_some();
        let mut nonce = nonce;
        let mut proc = plugin.init().map_err(|e| ClientError::AuthProtocol {
            addr: self.addr.clone(),
            message: e.to_string(),
        })?;
        let ctx = AuthCtx {
            pass,
            tls: self.tls,
            ipc,
            scramble: &nonce,
        };
        let first = proc
            .run(ctx, &nonce)
            .map_err(|e| self.auth_protocol(&plugin, e))?;
        let user = self.opts.user.clone();
        let mut resp = Vec::new();
        HandshakeResponse::new(
            Some(first.data().unwrap_or_default().to_vec()),
            server_version,
            Some(user.as_bytes()),
            None::<&[u8]>,
            Some(plugin.clone()),
            caps,
            None,
            self.opts.max_packet.min(u32::MAX as usize) as u32,
        )
        .serialize(&mut resp);
        self.write_packet(&resp).await?;
        let mut plugin = plugin;
        let plugin_name = |p: &AuthPlugin<'_>| String::from_utf8_lossy(p.as_bytes()).into_owned();
        self.auth_path = plugin_name(&plugin);

        loop {
            let pkt = self.read_packet().await?;
            match pkt.first().copied() {
                Some(0x00) => return Ok(()),
                Some(0xFF) => {
                    let e = parse_err(&pkt)
                        .ok_or_else(|| self.protocol("malformed error packet during auth"))?;
                    return Err(self.auth_error(e));
                }
                Some(0xFE) => {
                    if pkt.len() == 1 {
                        return Err(ClientError::AuthProtocol {
                            addr: self.addr.clone(),
                            message: "server asked for the pre-4.1 password scheme (mysql_old_password), which is not supported"
                                .into(),
                        });
                    }
                    let sw: AuthSwitchRequest<'_> = ParseBuf(&pkt[..]).parse(()).map_err(|e| {
                        self.protocol(format!("malformed auth switch request: {e}"))
                    })?;
                    plugin = sw.auth_plugin().into_owned();
                    self.auth_path = plugin_name(&plugin);
                    nonce = sw.plugin_data().to_vec();
                    proc = plugin.init().map_err(|e| ClientError::AuthProtocol {
                        addr: self.addr.clone(),
                        message: e.to_string(),
                    })?;
                    let ctx = AuthCtx {
                        pass,
                        tls: self.tls,
                        ipc,
                        scramble: &nonce,
                    };
                    let r = proc
                        .run(ctx, &nonce)
                        .map_err(|e| self.auth_protocol(&plugin, e))?;
                    let data = r.data().unwrap_or_default().to_vec();
                    self.write_packet(&data).await?;
                }
                Some(0x01) => {
                    if plugin == AuthPlugin::CachingSha2Password {
                        match pkt.get(1..) {
                            Some([0x03]) => self.auth_path = "caching_sha2_password/fast".into(),
                            Some([0x04]) if self.tls || ipc => {
                                self.auth_path = "caching_sha2_password/full-cleartext".into()
                            }
                            Some([0x04]) => {
                                self.auth_path = "caching_sha2_password/full-rsa".into()
                            }
                            _ => {}
                        }
                    }
                    let ctx = AuthCtx {
                        pass,
                        tls: self.tls,
                        ipc,
                        scramble: &nonce,
                    };
                    let r = proc
                        .run(ctx, &pkt[1..])
                        .map_err(|e| self.auth_protocol(&plugin, e))?;
                    if let Response::Next { packet: Some(d) } | Response::Last { packet: Some(d) } =
                        r
                    {
                        self.write_packet(&d).await?;
                    }
                }
                other => {
                    return Err(self.protocol(format!(
                        "unexpected packet 0x{:02x} during authentication",
                        other.unwrap_or(0)
                    )));
                }
            }
        }
    }

    fn auth_protocol(
        &self,
        plugin: &AuthPlugin<'_>,
        e: mysql_common::auth::plugins::Error,
    ) -> ClientError {
        ClientError::AuthProtocol {
            addr: self.addr.clone(),
            message: format!(
                "auth plugin {}: {e}",
                String::from_utf8_lossy(plugin.as_bytes())
            ),
        }
    }

    fn auth_error(&self, e: ServerError) -> ClientError {
        match e.code {
            codes::ACCESS_DENIED
            | codes::ACCESS_DENIED_NO_PASSWORD
            | codes::HOST_NOT_PRIVILEGED
            | codes::ACCOUNT_LOCKED
            | codes::MUST_CHANGE_PASSWORD_LOGIN
            | codes::PLUGIN_NOT_LOADED => ClientError::AuthFailed {
                user: self.opts.user.clone(),
                addr: self.addr.clone(),
                server: e,
            },
            _ => classify(e, &self.addr, &self.opts.user, "authentication"),
        }
    }

    async fn upgrade_tls(&mut self) -> Result<(), ClientError> {
        let tls_err = |addr: &str, message: String| ClientError::Tls {
            addr: addr.to_string(),
            message,
        };
        if !self.io.buffer().is_empty() {
            return Err(self.protocol("server sent data before the TLS handshake"));
        }
        let config = tls::client_config(&self.opts.tls).map_err(|m| tls_err(&self.addr, m))?;
        let name = tls::server_name(&self.opts.host).map_err(|m| tls_err(&self.addr, m))?;
        // Take the TCP stream out, replacing it with a placeholder that is never used.
        let placeholder = Transport::Unix(UnixStream::pair().map_err(|e| self.io_err(e))?.0);
        let old = std::mem::replace(&mut self.io, BufReader::new(placeholder)).into_inner();
        let Transport::Tcp(tcp) = old else {
            return Err(tls_err(&self.addr, "TLS is only possible over TCP".into()));
        };
        let stream = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| tls_err(&self.addr, e.to_string()))?;
        self.io = BufReader::with_capacity(64 * 1024, Transport::Tls(Box::new(stream)));
        self.tls = true;
        Ok(())
    }

    /// Runs a statement and returns its text result set (or the OK packet's affected rows).
    /// Server errors come back as [`ClientError::Server`] (or a more specific kind).
    pub async fn query(&mut self, sql: &str) -> Result<QueryResult, ClientError> {
        let mut cmd = Vec::with_capacity(sql.len() + 1);
        cmd.push(0x03);
        cmd.extend_from_slice(sql.as_bytes());
        self.write_command(&cmd).await?;
        let first = self.read_packet().await?;
        match first.first().copied() {
            Some(0x00) => {
                let mut r = Reader::new(&first[1..]);
                let affected_rows = r.lenenc_int().unwrap_or(0);
                Ok(QueryResult {
                    affected_rows,
                    ..Default::default()
                })
            }
            Some(0xFF) => {
                let e = parse_err(&first).ok_or_else(|| self.protocol("malformed error packet"))?;
                Err(classify(
                    e,
                    &self.addr,
                    &self.opts.user,
                    &format!("running `{sql}`"),
                ))
            }
            Some(0xFB) => {
                Err(self.protocol("server asked for LOCAL INFILE, which is not supported"))
            }
            Some(_) => {
                let ncols = Reader::new(&first)
                    .lenenc_int()
                    .ok_or_else(|| self.protocol("malformed column count"))?;
                let ncols =
                    usize::try_from(ncols).map_err(|_| self.protocol("column count too large"))?;
                if ncols > 4096 {
                    return Err(self.protocol(format!("column count {ncols} too large")));
                }
                let mut columns = Vec::with_capacity(ncols);
                for _ in 0..ncols {
                    let def = self.read_packet().await?;
                    let mut r = Reader::new(&def);
                    for _ in 0..4 {
                        r.lenenc_bytes()
                            .ok_or_else(|| self.protocol("malformed column definition"))?;
                    }
                    let name = r
                        .lenenc_bytes()
                        .ok_or_else(|| self.protocol("malformed column definition"))?;
                    columns.push(String::from_utf8_lossy(name).into_owned());
                }
                let eof = self.read_packet().await?;
                if !is_eof(&eof) {
                    return Err(self.protocol("missing EOF after column definitions"));
                }
                let mut rows = Vec::new();
                loop {
                    let pkt = self.read_packet().await?;
                    if is_eof(&pkt) {
                        break;
                    }
                    if pkt.first() == Some(&0xFF) {
                        let e = parse_err(&pkt)
                            .ok_or_else(|| self.protocol("malformed error packet"))?;
                        return Err(classify(
                            e,
                            &self.addr,
                            &self.opts.user,
                            &format!("running `{sql}`"),
                        ));
                    }
                    let mut r = Reader::new(&pkt);
                    let mut row = Vec::with_capacity(ncols);
                    for _ in 0..ncols {
                        if r.peek() == Some(0xFB) {
                            r.skip(1);
                            row.push(None);
                        } else {
                            let v = r
                                .lenenc_bytes()
                                .ok_or_else(|| self.protocol("malformed row"))?;
                            row.push(Some(String::from_utf8_lossy(v).into_owned()));
                        }
                    }
                    rows.push(row);
                }
                Ok(QueryResult {
                    columns,
                    rows,
                    affected_rows: 0,
                })
            }
            None => Err(self.protocol("empty reply packet")),
        }
    }

    /// Sends COM_QUIT and closes the socket.
    pub async fn quit(mut self) -> Result<(), ClientError> {
        self.write_command(&[0x01]).await?;
        let _ = self.io.get_mut().shutdown().await;
        Ok(())
    }
}

fn is_eof(pkt: &[u8]) -> bool {
    pkt.first() == Some(&0xFE) && pkt.len() < 9
}

/// Parses an ERR packet (`0xFF code [#state] message`).
pub(crate) fn parse_err(pkt: &[u8]) -> Option<ServerError> {
    if pkt.first() != Some(&0xFF) || pkt.len() < 3 {
        return None;
    }
    let code = u16::from_le_bytes([pkt[1], pkt[2]]);
    let rest = &pkt[3..];
    let (state, msg) = match rest.split_first() {
        Some((b'#', tail)) if tail.len() >= 5 => (
            Some(String::from_utf8_lossy(&tail[..5]).into_owned()),
            &tail[5..],
        ),
        _ => (None, rest),
    };
    Some(ServerError {
        code,
        state,
        message: String::from_utf8_lossy(msg).into_owned(),
    })
}

/// A bounds-checked cursor over a packet.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    fn skip(&mut self, n: usize) {
        self.buf = self.buf.get(n..).unwrap_or_default();
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.buf.get(..n)?;
        self.buf = &self.buf[n..];
        Some(b)
    }

    pub(crate) fn lenenc_int(&mut self) -> Option<u64> {
        let first = *self.buf.first()?;
        self.buf = &self.buf[1..];
        let n = match first {
            0..=0xFA => return Some(u64::from(first)),
            0xFC => 2,
            0xFD => 3,
            0xFE => 8,
            _ => return None,
        };
        let b = self.bytes(n)?;
        Some(
            b.iter()
                .rev()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
        )
    }

    pub(crate) fn lenenc_bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.lenenc_int()?).ok()?;
        self.bytes(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_packets() {
        let mut p = vec![0xFF, 0x15, 0x04, b'#'];
        p.extend_from_slice(b"28000Access denied");
        let e = parse_err(&p).unwrap();
        assert_eq!(e.code, 1045);
        assert_eq!(e.state.as_deref(), Some("28000"));
        assert_eq!(e.message, "Access denied");
        assert!(parse_err(&[0xFF, 1]).is_none());
        assert!(parse_err(&[0x00, 1, 2]).is_none());
    }

    #[test]
    fn lenenc_reader_is_bounds_checked() {
        let mut r = Reader::new(&[0xFC, 0x01, 0x01, 0xFD]);
        assert_eq!(r.lenenc_int(), Some(257));
        assert_eq!(r.lenenc_int(), None);
        let mut r = Reader::new(&[0x05, b'a', b'b']);
        assert_eq!(r.lenenc_bytes(), None);
        let mut r = Reader::new(&[0xFE, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(r.lenenc_int(), None);
    }

    #[test]
    fn addr_parsing() {
        let o = ConnectOptions::from_addr("127.0.0.1:3307", "u", "p").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 3307));
        let o = ConnectOptions::from_addr("[::1]:3306", "u", "p").unwrap();
        assert_eq!(o.host, "::1");
        assert_eq!(o.addr(), "[::1]:3306");
        assert!(ConnectOptions::from_addr("nohost", "u", "p").is_err());
    }
}
