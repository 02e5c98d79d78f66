//! One client connection: Java Canal's Netty pipeline (frame decoder → handshake → authentication
//! → session handler) as a single sequential task.
//!
//! States (../shared/compat/wire-protocol.md §2.1): the server speaks first (HANDSHAKE with an
//! 8-byte seed); in AUTH every frame is read as a `ClientAuth` whatever its type; a failed auth
//! answers 400 and stays in AUTH (golden/wire row 28: the same connection may retry); a successful
//! one answers ACK and enters SESSION, where frames are dispatched by type, strictly in arrival
//! order, one at a time. Idle timeouts (net_read/net_write, milliseconds) apply only in SESSION.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use canal_protocol::canal::{
    ClientAck, ClientAuth, ClientRollback, Get, Packet, PacketType, Sub, Unsub,
};
use canal_protocol::codec::{FrameCodec, FrameError};
use canal_protocol::packet;
use canal_protocol::position::ClientIdentity;
use canal_protocol::scramble;
use canal_telemetry::{PacketKind, Telemetry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tracing::{debug, info, warn};

use crate::java;
use crate::server::{Settings, Shutdown};
use crate::service::{CanalService, ServiceError};
use crate::wire;

/// Java's default idle timeout when the client sends none (`defaultSubscriptorDisconnectIdleTimeout`).
const DEFAULT_IDLE_MS: u64 = 3_600_000;

/// Why a connection ended (for the log line).
#[derive(Debug)]
pub(crate) enum End {
    /// Peer closed between frames.
    Eof,
    /// Server shutdown.
    Shutdown,
    /// Idle timeout exceeded.
    Idle,
    /// Protocol violation that Java answers by closing; the text says which.
    Closed(String),
    /// Socket error.
    Io(std::io::Error),
}

impl From<std::io::Error> for End {
    fn from(e: std::io::Error) -> Self {
        End::Io(e)
    }
}

/// Outcome of a frame read.
enum Read {
    Frame(BytesMut),
    End(End),
}

pub(crate) struct Session<S> {
    stream: TcpStream,
    buf: BytesMut,
    codec: FrameCodec,
    service: Arc<S>,
    settings: Arc<Settings>,
    shutdown: Shutdown,
    channel: String,
    seed: [u8; 8],
    /// `(read, write)` idle timeouts once authenticated.
    idle: Option<(Duration, Duration)>,
    last_read: Instant,
    last_write: Instant,
    peer: SocketAddr,
    /// Per-request bookkeeping for the client metrics (reset by `dispatch`).
    req: ReqStats,
}

/// What one request did, for `canal_instance_client_*` (Telemetry::client).
#[derive(Default)]
struct ReqStats {
    /// Destination named by the request, once known.
    destination: Option<String>,
    /// Bytes written (frames including their 4-byte header).
    sent: u64,
    /// Error code of an error reply.
    error: Option<i32>,
    /// The GET was answered with batch id -1.
    empty: bool,
    /// The error reply is SessionHandler's catch-all (Java labels it with the peer address).
    exception: bool,
}

impl<S: CanalService> Session<S> {
    pub(crate) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        service: Arc<S>,
        settings: Arc<Settings>,
        shutdown: Shutdown,
    ) -> Self {
        let local = stream.local_addr().unwrap_or(peer);
        let channel = java::netty_channel(rand::random::<u32>(), peer, local);
        let now = Instant::now();
        Self {
            stream,
            buf: BytesMut::with_capacity(4096),
            codec: FrameCodec::new(settings.config.max_frame),
            service,
            settings,
            shutdown,
            channel,
            seed: rand::random(),
            idle: None,
            last_read: now,
            last_write: now,
            peer,
            req: ReqStats::default(),
        }
    }

    /// Runs the connection to its end.
    pub(crate) async fn run(mut self) -> End {
        let _conn = Telemetry::global().connection_opened("client");
        let end = self.run_inner().await;
        match &end {
            End::Eof => debug!(channel = %self.channel, "client closed the connection"),
            End::Shutdown => debug!(channel = %self.channel, "closed for server shutdown"),
            End::Idle => {
                warn!(channel = %self.channel, "idle timeout exceeded, closing the channel")
            }
            End::Closed(why) => info!(channel = %self.channel, "closing connection: {why}"),
            End::Io(e) => debug!(channel = %self.channel, "connection error: {e}"),
        }
        let _ = self.stream.shutdown().await;
        end
    }

    async fn run_inner(&mut self) -> End {
        let hs = packet::handshake(&self.seed);
        if let Err(e) = self.write_payload(&hs).await {
            return e;
        }
        // AUTH
        loop {
            let frame = match self.read_frame().await {
                Read::Frame(f) => f,
                Read::End(e) => return e,
            };
            match self.authenticate(&frame).await {
                Ok(true) => break,
                Ok(false) => continue,
                Err(e) => return e,
            }
        }
        // SESSION
        loop {
            let frame = match self.read_frame().await {
                Read::Frame(f) => f,
                Read::End(e) => return e,
            };
            if let Err(e) = self.dispatch(&frame).await {
                return e;
            }
        }
    }

    // ---------------------------------------------------------------- I/O

    fn quickack(&self) -> bool {
        self.settings.config.tcp_quickack
    }

    fn decode(&mut self) -> Result<Option<BytesMut>, End> {
        match self.codec.decode(&mut self.buf) {
            Ok(f) => Ok(f),
            Err(FrameError::Negative(n)) => Err(End::Closed(format!("negative frame length {n}"))),
            Err(FrameError::TooLarge { len, max }) => {
                // Deliberate difference: Java has no limit and waits for all `len` bytes.
                warn!(channel = %self.channel, len, max,
                    "frame length header exceeds canal.rs max frame size; closing the connection (Java Canal would wait for the whole frame)");
                Err(End::Closed(format!(
                    "frame of {len} bytes exceeds the maximum of {max}"
                )))
            }
            Err(e) => Err(End::Closed(e.to_string())),
        }
    }

    fn idle_deadline(&self) -> Option<Instant> {
        self.idle
            .map(|(r, w)| (self.last_read + r).min(self.last_write + w))
    }

    async fn read_frame(&mut self) -> Read {
        loop {
            match self.decode() {
                Ok(Some(f)) => {
                    self.last_read = Instant::now();
                    return Read::Frame(f);
                }
                Ok(None) => {}
                Err(e) => return Read::End(e),
            }
            let deadline = self.idle_deadline();
            let quickack = self.quickack();
            tokio::select! {
                r = fill(&mut self.stream, &mut self.buf, quickack) => match r {
                    Ok(0) if self.buf.is_empty() => return Read::End(End::Eof),
                    Ok(0) => return Read::End(End::Closed(format!("peer closed in the middle of a frame ({} bytes buffered)", self.buf.len()))),
                    Ok(_) => {}
                    Err(e) => return Read::End(End::Io(e)),
                },
                _ = self.shutdown.recv() => return Read::End(End::Shutdown),
                _ = sleep_until_opt(deadline) => return Read::End(End::Idle),
            }
        }
    }

    async fn write_payload(&mut self, payload: &[u8]) -> Result<(), End> {
        self.write_chunks(&[canal_protocol::codec::frame(payload)])
            .await
    }

    /// Writes whole frames. A write that cannot complete before the write-idle deadline (a
    /// client that stopped reading) closes the connection, as Netty's writer-idle event does in
    /// Java; a shutdown interrupts it too.
    async fn write_chunks(&mut self, chunks: &[bytes::Bytes]) -> Result<(), End> {
        let deadline = self.idle.map(|(_, w)| self.last_write + w);
        tokio::select! {
            r = wire::write_all_chunks(&mut self.stream, chunks) => r?,
            _ = self.shutdown.recv() => return Err(End::Shutdown),
            _ = sleep_until_opt(deadline) => return Err(End::Idle),
        }
        self.req.sent += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
        self.last_write = Instant::now();
        Ok(())
    }

    async fn write_error(&mut self, code: i32, message: &str) -> Result<(), End> {
        self.req.error = Some(code);
        self.write_payload(&packet::ack_error(code, message)).await
    }

    /// 400 `something goes wrong with channel: ..., exception: ...` (SessionHandler's catch-all).
    async fn write_exception(&mut self, err: &ServiceError) -> Result<(), End> {
        let msg = format!(
            "something goes wrong with channel: {}, exception: {}",
            self.channel,
            err.java_text()
        );
        debug!(channel = %self.channel, "error reply: {err}");
        self.req.exception = true;
        self.write_error(400, &msg).await
    }

    // ---------------------------------------------------------------- AUTH

    /// Handles one frame in AUTH. `Ok(true)` = authenticated.
    async fn authenticate(&mut self, frame: &[u8]) -> Result<bool, End> {
        // The packet type and version are ignored: every frame is a ClientAuth here.
        let packet: Packet = wire::decode_lenient(frame, wire::PACKET)
            .map_err(|e| End::Closed(format!("undecodable packet before auth: {e}")))?;
        let auth: ClientAuth = wire::decode_lenient(&packet.body, wire::CLIENT_AUTH)
            .map_err(|e| End::Closed(format!("undecodable ClientAuth: {e}")))?;
        match self.check_credentials(&auth) {
            Verdict::Reject => {
                debug!(channel = %self.channel, user = %auth.username, "auth failed");
                Telemetry::global().auth_failure("client");
                self.write_error(400, &format!("auth failed for user:{}", auth.username))
                    .await?;
                return Ok(false);
            }
            Verdict::Close(why) => {
                Telemetry::global().auth_failure("client");
                return Err(End::Closed(why));
            }
            Verdict::Accept => {}
        }
        if !auth.destination.is_empty() && !auth.client_id.is_empty() {
            // Subscribe-at-auth; any failure closes the connection without a reply (Java).
            let id = java::parse_short(&auth.client_id).map_err(|m| {
                End::Closed(format!("ClientAuth client_id: NumberFormatException: {m}"))
            })?;
            let ident = ClientIdentity {
                destination: auth.destination.clone(),
                client_id: id,
                filter: Some(auth.filter.clone()),
            };
            self.service
                .subscribe(&ident)
                .map_err(|e| End::Closed(format!("subscribe at auth failed: {e}")))?;
        }
        self.write_payload(&packet::ack_ok()).await?;
        let ms = |v: Option<i32>| {
            Duration::from_millis(match v {
                Some(t) if t > 0 => t as u64,
                _ => DEFAULT_IDLE_MS,
            })
        };
        self.idle = Some((ms(auth.net_read_timeout), ms(auth.net_write_timeout)));
        info!(channel = %self.channel, user = %auth.username, "client authenticated");
        Ok(true)
    }

    /// `CanalServerWithEmbedded.auth` + `SecurityUtil.scrambleServerAuth`.
    fn check_credentials(&self, auth: &ClientAuth) -> Verdict {
        let cfg = &self.settings.config;
        if !cfg.user.is_empty() && cfg.user != auth.username {
            return Verdict::Reject;
        }
        let Some(stored) = &self.settings.passwd else {
            return Verdict::Accept;
        };
        let sent = String::from_utf8_lossy(&auth.password);
        if sent.is_empty() {
            return Verdict::Reject;
        }
        let Some(token) = java::hex_to_bytes(&sent) else {
            return Verdict::Close(format!(
                "illegal hex-string in password from user {}",
                auth.username
            ));
        };
        let Some(token) = token.get(..20) else {
            return Verdict::Close(format!(
                "password token of {} bytes is too short",
                token.len()
            ));
        };
        if scramble::check_scramble(token, &self.seed, stored) {
            Verdict::Accept
        } else {
            Verdict::Reject
        }
    }

    // ---------------------------------------------------------------- SESSION

    async fn dispatch(&mut self, frame: &[u8]) -> Result<(), End> {
        let started = Instant::now();
        self.req = ReqStats::default();
        let packet: Packet = wire::decode_lenient(frame, wire::PACKET)
            .map_err(|e| End::Closed(format!("undecodable packet: {e}")))?;
        let body = &packet.body[..];
        let ty = packet.r#type;
        let (kind, result) = match PacketType::try_from(ty) {
            Ok(PacketType::Subscription) => (PacketKind::Subscription, self.on_sub(body).await),
            Ok(PacketType::Unsubscription) => {
                (PacketKind::Unsubscription, self.on_unsub(body).await)
            }
            Ok(PacketType::Get) => (PacketKind::Get, self.on_get(body).await),
            Ok(PacketType::Clientack) => (PacketKind::ClientAck, self.on_ack(body).await),
            Ok(PacketType::Clientrollback) => {
                (PacketKind::ClientRollback, self.on_rollback(body).await)
            }
            _ => {
                let msg = format!(
                    "packet type: {} is NOT supported!",
                    java::packet_type_name(ty)
                );
                let r = self.write_error(400, &msg).await;
                self.record(None, started);
                return r;
            }
        };
        let r = match result {
            Ok(()) => Ok(()),
            Err(Fail::Service(e)) => self.write_exception(&e).await,
            Err(Fail::End(e)) => Err(e),
        };
        if r.is_ok() {
            self.record(Some(kind), started);
        }
        r
    }

    /// Client metrics of the request just answered (Canal's SessionHandler counters).
    fn record(&self, kind: Option<PacketKind>, started: Instant) {
        let t = Telemetry::global();
        let dest = match self.req.destination.as_deref() {
            Some(d) if !self.req.exception => d,
            _ => {
                // Java's catch-all (and any failure before a destination is known) is counted
                // under the remote address, `/ip:port`.
                if let Some(code) = self.req.error {
                    t.request_error_for(&format!("/{}", self.peer), code);
                }
                return;
            }
        };
        let c = t.client(dest);
        match (self.req.error, kind) {
            (Some(code), _) => c.request_error(code),
            (None, Some(PacketKind::Get)) if self.req.empty => c.empty_batch(),
            (None, Some(k)) => c.packet(k),
            (None, None) => {}
        }
        // Response bytes + the 4-byte header; a silent reply (ack, rollback) counts 4.
        c.bytes_sent(self.req.sent.max(4));
        c.request_latency(started.elapsed());
    }

    /// Notes the destination a request names (for its metrics).
    fn note_destination(&mut self, destination: &str) {
        if !destination.is_empty() {
            self.req.destination = Some(destination.to_owned());
        }
    }

    fn body<M: prost::Message + Default>(body: &[u8], layout: wire::Layout) -> Result<M, Fail> {
        wire::decode_lenient(body, layout).map_err(|e| {
            Fail::Service(ServiceError::foreign(
                java::INVALID_PROTOCOL_BUFFER_EXCEPTION,
                java::invalid_protobuf_message(&e),
            ))
        })
    }

    fn identity(
        destination: &str,
        client_id: &str,
        filter: Option<&str>,
    ) -> Result<ClientIdentity, Fail> {
        let id = java::parse_short(client_id)
            .map_err(|m| Fail::Service(ServiceError::foreign(java::NUMBER_FORMAT_EXCEPTION, m)))?;
        Ok(ClientIdentity {
            destination: destination.to_owned(),
            client_id: id,
            filter: filter.map(str::to_owned),
        })
    }

    fn check_running(&self, destination: &str) -> Result<(), Fail> {
        if self.service.is_running(destination) {
            Ok(())
        } else {
            Err(Fail::Service(ServiceError::not_started(destination)))
        }
    }

    async fn on_sub(&mut self, body: &[u8]) -> Result<(), Fail> {
        let sub: Sub = Self::body(body, wire::SUB)?;
        self.note_destination(&sub.destination);
        if sub.destination.is_empty() || sub.client_id.is_empty() {
            let msg = format!(
                "destination or clientId is null. Sub: {}",
                java::text_sub(&sub)
            );
            return Ok(self.write_error(401, &msg).await?);
        }
        let ident = Self::identity(&sub.destination, &sub.client_id, Some(&sub.filter))?;
        self.service.subscribe(&ident)?;
        Ok(self.write_payload(&packet::ack_ok()).await?)
    }

    async fn on_unsub(&mut self, body: &[u8]) -> Result<(), Fail> {
        let unsub: Unsub = Self::body(body, wire::SUB)?;
        self.note_destination(&unsub.destination);
        if unsub.destination.is_empty() || unsub.client_id.is_empty() {
            let msg = format!(
                "destination or clientId is null. Unsub: {}",
                java::text_unsub(&unsub)
            );
            return Ok(self.write_error(401, &msg).await?);
        }
        let ident = Self::identity(&unsub.destination, &unsub.client_id, Some(&unsub.filter))?;
        self.service.unsubscribe(&ident)?;
        Ok(self.write_payload(&packet::ack_ok()).await?)
    }

    async fn on_ack(&mut self, body: &[u8]) -> Result<(), Fail> {
        let ack: ClientAck = Self::body(body, wire::CLIENT_ACK)?;
        self.note_destination(&ack.destination);
        if ack.destination.is_empty() || ack.client_id.is_empty() {
            let msg = format!(
                "destination or clientId is null. Ack: {}",
                java::text_client_ack(&ack)
            );
            return Ok(self.write_error(401, &msg).await?);
        }
        match ack.batch_id {
            0 => {
                let msg = format!(
                    "batchId should assign value. Ack: {}",
                    java::text_client_ack(&ack)
                );
                Ok(self.write_error(402, &msg).await?)
            }
            -1 => Ok(()), // the previous GET had no data
            batch_id => {
                let ident = Self::identity(&ack.destination, &ack.client_id, None)?;
                self.check_running(&ident.destination)?;
                self.service.ack(&ident, batch_id)?;
                Ok(()) // success is silent
            }
        }
    }

    async fn on_rollback(&mut self, body: &[u8]) -> Result<(), Fail> {
        let rb: ClientRollback = Self::body(body, wire::CLIENT_ACK)?;
        self.note_destination(&rb.destination);
        if rb.destination.is_empty() || rb.client_id.is_empty() {
            let msg = format!(
                "destination or clientId is null. Rollback: {}",
                java::text_client_rollback(&rb)
            );
            return Ok(self.write_error(401, &msg).await?);
        }
        let ident = Self::identity(&rb.destination, &rb.client_id, None)?;
        self.check_running(&ident.destination)?;
        let batch = (rb.batch_id != 0).then_some(rb.batch_id);
        self.service.rollback(&ident, batch)?;
        Ok(()) // success (and rollback by an unsubscribed identity) is silent
    }

    async fn on_get(&mut self, body: &[u8]) -> Result<(), Fail> {
        let get: Get = Self::body(body, wire::GET)?;
        self.note_destination(&get.destination);
        if get.destination.is_empty() || get.client_id.is_empty() {
            let msg = format!(
                "destination or clientId is null. Get: {}",
                java::text_get(&get)
            );
            return Ok(self.write_error(401, &msg).await?);
        }
        let ident = Self::identity(&get.destination, &get.client_id, None)?;
        self.check_running(&ident.destination)?;
        let timeout = get_timeout(get.timeout, get.unit);
        let batch = {
            let service = Arc::clone(&self.service);
            let fut = service.get_without_ack(&ident, get.fetch_size, timeout);
            tokio::pin!(fut);
            // While the GET waits, keep reading (bounded) so that a disconnect, the idle timer or
            // a shutdown cancels it instead of leaving it parked forever.
            let cap = self.settings.config.max_frame.saturating_add(4);
            loop {
                let deadline = self.idle_deadline();
                let room = self.buf.len() < cap;
                let quickack = self.quickack();
                tokio::select! {
                    r = &mut fut => break r?,
                    r = fill(&mut self.stream, &mut self.buf, quickack), if room => match r {
                        Ok(0) => return Err(Fail::End(End::Eof)),
                        Ok(_) => {}
                        Err(e) => return Err(Fail::End(End::Io(e))),
                    },
                    _ = self.shutdown.recv() => return Err(Fail::End(End::Shutdown)),
                    _ = sleep_until_opt(deadline) => return Err(Fail::End(End::Idle)),
                }
            }
        };
        if batch.id == -1 {
            self.req.empty = true;
            return Ok(self.write_payload(&packet::messages_empty()).await?);
        }
        let raw = self.settings.config.raw_entry && self.service.raw_entries(&ident.destination);
        let (chunks, _len) = wire::messages_frame(batch.id, &batch.entries, raw)
            .map_err(|e| Fail::End(End::Closed(e.to_string())))?;
        Ok(self.write_chunks(&chunks).await?)
    }
}

/// GET timeout selection (SessionHandler + CanalServerWithEmbedded): an explicit −1 is the
/// non-blocking `tryGet` (`Some(ZERO)`); any other value, including an absent field (0), goes to
/// `getWithoutAck(timeout, unit)`, where `timeout <= 0` blocks for a full batch (`None`) and a
/// positive one waits at most that long. `unit` is Java's `TimeUnit` ordinal (absent = 0 =
/// nanoseconds); any number outside 0..=6 means milliseconds.
pub(crate) fn get_timeout(timeout: Option<i64>, unit: Option<i32>) -> Option<Duration> {
    let t = timeout.unwrap_or(0);
    if timeout == Some(-1) {
        return Some(Duration::ZERO);
    }
    if t <= 0 {
        return None;
    }
    let unit = canal_protocol::packet::TimeUnit::from_ordinal(unit.unwrap_or(0))
        .unwrap_or(canal_protocol::packet::TimeUnit::Milliseconds);
    unit.to_duration(t)
}

/// Reads into the buffer once; re-arms TCP_QUICKACK after the read (Linux), because the Java
/// client writes a frame's header and body separately with Nagle on and would otherwise wait for
/// our delayed ACK (~40 ms) before sending the body. Cancel-safe.
async fn fill(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    quickack: bool,
) -> std::io::Result<usize> {
    let n = stream.read_buf(buf).await?;
    if quickack {
        crate::server::arm_quickack(stream);
    }
    Ok(n)
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

enum Verdict {
    Accept,
    Reject,
    Close(String),
}

/// A request that failed: either a Java exception (→ 400 reply) or the end of the connection.
enum Fail {
    Service(ServiceError),
    End(End),
}

impl From<ServiceError> for Fail {
    fn from(e: ServiceError) -> Self {
        Fail::Service(e)
    }
}

impl From<End> for Fail {
    fn from(e: End) -> Self {
        Fail::End(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_selection_follows_java() {
        assert_eq!(get_timeout(Some(-1), Some(2)), Some(Duration::ZERO));
        assert_eq!(get_timeout(Some(-1), None), Some(Duration::ZERO));
        assert_eq!(get_timeout(None, None), None, "absent timeout blocks");
        assert_eq!(get_timeout(Some(0), Some(2)), None);
        assert_eq!(
            get_timeout(Some(-5), Some(2)),
            None,
            "other negatives block"
        );
        assert_eq!(
            get_timeout(Some(1000), Some(2)),
            Some(Duration::from_millis(1000))
        );
        assert_eq!(get_timeout(Some(1), Some(3)), Some(Duration::from_secs(1)));
        assert_eq!(
            get_timeout(Some(5), None),
            Some(Duration::from_nanos(5)),
            "absent unit = ns"
        );
        assert_eq!(
            get_timeout(Some(5), Some(-1)),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            get_timeout(Some(5), Some(1)),
            Some(Duration::from_micros(5))
        );
        assert_eq!(
            get_timeout(Some(2), Some(6)),
            Some(Duration::from_secs(2 * 86400))
        );
        assert_eq!(
            get_timeout(Some(5), Some(7)),
            Some(Duration::from_millis(5))
        );
    }
}
