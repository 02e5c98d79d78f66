//! canal-client: an async Rust client for the Canal protocol (connect, auth, subscribe, get, ack,
//! rollback). Must not depend on server internals.
//!
//! [`CanalClient`] behaves like Java's `SimpleCanalConnector` (../shared/compat/wire-protocol.md
//! §4.1): it reads the HANDSHAKE (version must be 1), authenticates with the SecurityUtil scramble
//! of the password under the 8-byte seed, sends its idle timeout in milliseconds as both net
//! timeouts, and by default sends CLIENTROLLBACK(0) right after connecting. CLIENTACK and
//! CLIENTROLLBACK have no reply; if the server rejects one, its error arrives as the reply to the
//! *next* request (Canal trap T1) and surfaces there as [`ClientError::Server`].
//!
//! Fast path: [`CanalClient::get_raw`] returns a batch's entries as the received bytes
//! (no copy: the reply frame is sliced) and [`view`] reads them without allocating
//! ([`view::EntryView`] → RowChange → rows → columns as `&str`). Pipelining:
//! [`CanalClient::send_get`] queues GETs and [`CanalClient::recv_raw`] /
//! [`CanalClient::recv_message`] read their replies in order, so the server can prepare the next
//! batch while this one is decoded (Canal allows several outstanding `getWithoutAck` batches;
//! acks must still come in batch order).
//!
//! [`tail`] prints a destination's entries live as JSON lines (used by `canalctl tail`).
//!
//! [`CanalClient::connect_cluster`] finds the server through ZooKeeper ([`cluster::discover`]).

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use canal_protocol::canal::{
    Ack, ClientAck, ClientAuth, ClientRollback, Get, Handshake, Messages, Packet, PacketType, Sub,
    Unsub,
};
use canal_protocol::codec::{FrameCodec, FrameError};
use canal_protocol::entry::Entry;
use canal_protocol::{packet, scramble};
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_util::codec::Framed;

pub mod cluster;
mod json;
pub mod view;

pub use json::entry_json;

/// What can go wrong talking to a Canal server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Socket error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Bad frame (length header) from the server.
    #[error("frame error: {0}")]
    Frame(#[from] FrameError),
    /// A packet or entry that does not decode.
    #[error("decode error: {0}")]
    Decode(#[from] prost::DecodeError),
    /// An entry that does not decode through [`view`].
    #[error("decode error: {0}")]
    View(#[from] view::ViewError),
    /// The server broke the protocol (wrong packet type, version, compression ...).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server answered with an error ACK (400/401/402).
    #[error("server error {code}: {message}")]
    Server {
        /// Canal error code.
        code: i32,
        /// Canal's error text.
        message: String,
    },
    /// No reply within the read timeout.
    #[error("timed out waiting for the server")]
    Timeout,
    /// The server closed the connection.
    #[error("connection closed by the server")]
    Closed,
}

/// Connection settings (defaults are Java `SimpleCanalConnector`'s).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `canal.user` on the server side; empty when none.
    pub username: String,
    /// Plain-text password; `None` sends an empty password (Java: password null).
    pub password: Option<String>,
    /// Destination to consume.
    pub destination: String,
    /// Client id (Java's connector always uses 1001).
    pub client_id: i16,
    /// Read timeout for every reply (Java soTimeout, 60 s).
    pub so_timeout: Duration,
    /// Sent as net_read/net_write timeout in milliseconds (Java idleTimeout, 1 h).
    pub idle_timeout: Duration,
    /// Send CLIENTROLLBACK(0) after connecting (Java default true).
    pub rollback_on_connect: bool,
    /// Keep entries as bytes instead of decoding them (Java lazyParseEntry).
    pub lazy_parse_entry: bool,
    /// Largest reply frame accepted.
    pub max_frame: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            username: String::new(),
            password: None,
            destination: "example".into(),
            client_id: 1001,
            so_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_millis(3_600_000),
            rollback_on_connect: true,
            lazy_parse_entry: false,
            max_frame: 512 * 1024 * 1024,
        }
    }
}

/// One batch as delivered by GET.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    /// Batch id; -1 when the server had nothing.
    pub id: i64,
    /// Decoded entries (empty when `raw`).
    pub entries: Vec<Entry>,
    /// Undecoded entries (only when `raw`).
    pub raw_entries: Vec<Bytes>,
    /// Whether entries were kept as bytes.
    pub raw: bool,
}

impl Message {
    /// Number of entries, raw or decoded.
    pub fn len(&self) -> usize {
        if self.raw {
            self.raw_entries.len()
        } else {
            self.entries.len()
        }
    }

    /// Whether the batch holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One batch as received, entries not decoded ([`CanalClient::get_raw`]); read them with
/// [`view::EntryView`] (borrowed, no allocation) or `Entry::decode` (owned).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawBatch {
    /// Batch id; -1 when the server had nothing.
    pub id: i64,
    /// The serialized entries, slices of the reply frame.
    pub entries: Vec<Bytes>,
}

impl RawBatch {
    /// Whether the batch holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Borrowed views of the entries, in order.
    pub fn views(&self) -> impl Iterator<Item = Result<view::EntryView<'_>, view::ViewError>> {
        self.entries.iter().map(|b| view::EntryView::parse(b))
    }
}

/// An authenticated connection to one destination of a Canal server.
pub struct CanalClient {
    framed: Framed<TcpStream, FrameCodec>,
    config: ClientConfig,
    filter: Option<String>,
    /// Extra reply wait of each GET sent and not yet answered, oldest first.
    pending: VecDeque<Option<Duration>>,
    /// A server error arrived while other GETs were outstanding: which request it answered is
    /// unknown (a rejected ACK also answers with an error), so replies may be out of step.
    desynced: bool,
}

impl std::fmt::Debug for CanalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanalClient")
            .field("destination", &self.config.destination)
            .field("client_id", &self.config.client_id)
            .finish()
    }
}

fn decode_packet(frame: BytesMut) -> Result<Packet, ClientError> {
    // From `Bytes`, prost slices the body instead of copying it.
    Ok(Packet::decode(frame.freeze())?)
}

fn check_ack(p: &Packet, what: &str) -> Result<(), ClientError> {
    if p.r#type != PacketType::Ack as i32 {
        return Err(ClientError::Protocol(format!(
            "unexpected packet type {} when ACK is expected ({what})",
            p.r#type
        )));
    }
    let ack = Ack::decode(&p.body[..])?;
    match ack.error_code {
        Some(code) if code > 0 => Err(ClientError::Server {
            code,
            message: ack.error_message,
        }),
        _ => Ok(()),
    }
}

impl CanalClient {
    /// Connects, reads the handshake and authenticates; then rolls back (if configured).
    pub async fn connect(
        addr: impl ToSocketAddrs,
        config: ClientConfig,
    ) -> Result<Self, ClientError> {
        let stream = tokio::time::timeout(config.so_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Timeout)??;
        stream.set_nodelay(true)?;
        let mut client = Self {
            framed: Framed::new(stream, FrameCodec::new(config.max_frame)),
            config,
            filter: None,
            pending: VecDeque::new(),
            desynced: false,
        };
        let hs = client.read_packet(None).await?;
        if hs.version != Some(1) {
            return Err(ClientError::Protocol(
                "unsupported version at this client.".into(),
            ));
        }
        if hs.r#type != PacketType::Handshake as i32 {
            return Err(ClientError::Protocol(
                "expect handshake but found other type.".into(),
            ));
        }
        let seed = Handshake::decode(&hs.body[..])?.seeds;
        let password = match &client.config.password {
            Some(p) => Bytes::from(scramble::client_token(p, &seed)),
            None => Bytes::new(),
        };
        let idle_ms = i32::try_from(client.config.idle_timeout.as_millis()).unwrap_or(i32::MAX);
        let auth = ClientAuth {
            username: client.config.username.clone(),
            password,
            net_read_timeout: Some(idle_ms),
            net_write_timeout: Some(idle_ms),
            ..Default::default()
        };
        client.send(packet::client_auth(&auth)).await?;
        let reply = client.read_packet(None).await?;
        check_ack(&reply, "authentication")?;
        if client.config.rollback_on_connect {
            client.rollback(0).await?;
        }
        Ok(client)
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    async fn send(&mut self, payload: Bytes) -> Result<(), ClientError> {
        self.framed.send(payload).await?;
        Ok(())
    }

    async fn read_packet(&mut self, extra_wait: Option<Duration>) -> Result<Packet, ClientError> {
        let wait = self
            .config
            .so_timeout
            .saturating_add(extra_wait.unwrap_or_default());
        match tokio::time::timeout(wait, self.framed.next()).await {
            Err(_) => Err(ClientError::Timeout),
            Ok(None) => Err(ClientError::Closed),
            Ok(Some(frame)) => decode_packet(frame?),
        }
    }

    fn client_id(&self) -> String {
        self.config.client_id.to_string()
    }

    /// Requests that wait for their own reply cannot be mixed with pipelined GETs.
    fn check_in_step(&self, what: &str) -> Result<(), ClientError> {
        if self.desynced {
            return Err(ClientError::Protocol(
                "replies are out of step after a server error with GETs outstanding; reconnect"
                    .into(),
            ));
        }
        if !self.pending.is_empty() {
            return Err(ClientError::Protocol(format!(
                "{what} while {} GET replies are outstanding (read them first)",
                self.pending.len()
            )));
        }
        Ok(())
    }

    /// GET replies not read yet ([`CanalClient::send_get`]).
    pub fn outstanding_gets(&self) -> usize {
        self.pending.len()
    }

    /// SUBSCRIPTION with `filter` (empty = keep the destination's filter).
    pub async fn subscribe(&mut self, filter: &str) -> Result<(), ClientError> {
        self.check_in_step("subscribe")?;
        let sub = Sub {
            destination: self.config.destination.clone(),
            client_id: self.client_id(),
            filter: filter.to_owned(),
        };
        self.send(packet::subscription(&sub)).await?;
        let reply = self.read_packet(None).await?;
        check_ack(&reply, "subscribe")?;
        self.filter = Some(filter.to_owned());
        Ok(())
    }

    /// UNSUBSCRIPTION.
    pub async fn unsubscribe(&mut self) -> Result<(), ClientError> {
        self.check_in_step("unsubscribe")?;
        let unsub = Unsub {
            destination: self.config.destination.clone(),
            client_id: self.client_id(),
            filter: String::new(),
        };
        self.send(packet::unsubscription(&unsub)).await?;
        let reply = self.read_packet(None).await?;
        check_ack(&reply, "unsubscribe")
    }

    /// GET without ack. `timeout`: `None` = return at once with whatever exists (timeout −1);
    /// `Some(d)` = wait up to `d` for a full batch (`Some(ZERO)` waits without limit, as in Java).
    /// `batch_size <= 0` becomes 1000 (Java).
    pub async fn get_without_ack(
        &mut self,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<Message, ClientError> {
        self.check_in_step("GET")?;
        self.send_get(batch_size, timeout).await?;
        self.recv_message().await
    }

    /// [`CanalClient::get_without_ack`] returning the entries undecoded (zero-copy slices of the
    /// reply), for [`view::EntryView`].
    pub async fn get_raw(
        &mut self,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<RawBatch, ClientError> {
        self.check_in_step("GET")?;
        self.send_get(batch_size, timeout).await?;
        self.recv_raw().await
    }

    /// Sends a GET (without ack) and returns without waiting for its reply: read replies, in
    /// order, with [`CanalClient::recv_raw`] or [`CanalClient::recv_message`]. Several GETs may
    /// be outstanding; each reply is a new batch after the previous ones. Acks (which have no
    /// reply) may be sent in between, in batch order. Arguments as for
    /// [`CanalClient::get_without_ack`].
    pub async fn send_get(
        &mut self,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<(), ClientError> {
        if self.desynced {
            return self.check_in_step("GET");
        }
        let (t, extra) = match timeout {
            None => (-1, None),
            Some(d) => (i64::try_from(d.as_millis()).unwrap_or(i64::MAX), Some(d)),
        };
        let get = Get {
            destination: self.config.destination.clone(),
            client_id: self.client_id(),
            fetch_size: if batch_size > 0 { batch_size } else { 1000 },
            timeout: Some(t),
            unit: Some(2),
            auto_ack: Some(false),
        };
        self.send(packet::get(&get)).await?;
        let wait = if t == 0 {
            Some(Duration::from_secs(365 * 86400))
        } else {
            extra
        };
        // Replies come in order, and a reply is read only after the earlier ones: the server
        // starts this GET's wait at the latest when it answered the previous one.
        self.pending.push_back(wait);
        Ok(())
    }

    async fn recv_reply(&mut self) -> Result<Packet, ClientError> {
        if self.desynced {
            self.check_in_step("read a GET reply")?;
        }
        let Some(wait) = self.pending.pop_front() else {
            return Err(ClientError::Protocol("no GET is outstanding".into()));
        };
        let p = self.read_packet(wait).await?;
        if p.r#type == PacketType::Ack as i32 && !self.pending.is_empty() {
            self.desynced = true;
        }
        Ok(p)
    }

    /// Reads the reply of the oldest outstanding GET, entries undecoded.
    pub async fn recv_raw(&mut self) -> Result<RawBatch, ClientError> {
        let p = self.recv_reply().await?;
        let m = messages_of(p)?;
        Ok(RawBatch {
            id: m.batch_id,
            entries: m.messages,
        })
    }

    /// Reads the reply of the oldest outstanding GET as a [`Message`] (decoded unless
    /// `lazy_parse_entry`).
    pub async fn recv_message(&mut self) -> Result<Message, ClientError> {
        let p = self.recv_reply().await?;
        self.decode_messages(p)
    }

    fn decode_messages(&self, p: Packet) -> Result<Message, ClientError> {
        let m = messages_of(p)?;
        let mut out = Message {
            id: m.batch_id,
            raw: self.config.lazy_parse_entry,
            ..Default::default()
        };
        if out.raw {
            out.raw_entries = m.messages;
        } else {
            out.entries = m
                .messages
                .into_iter()
                .map(Entry::decode)
                .collect::<Result<_, _>>()?;
        }
        Ok(out)
    }

    /// GET followed by CLIENTACK of the batch (Java `get`).
    pub async fn get(
        &mut self,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<Message, ClientError> {
        let m = self.get_without_ack(batch_size, timeout).await?;
        self.ack(m.id).await?;
        Ok(m)
    }

    /// CLIENTACK (no reply; a rejection shows up as the next request's error).
    pub async fn ack(&mut self, batch_id: i64) -> Result<(), ClientError> {
        let ack = ClientAck {
            destination: self.config.destination.clone(),
            client_id: self.client_id(),
            batch_id,
        };
        self.send(packet::client_ack(&ack)).await
    }

    /// CLIENTROLLBACK of one batch, or of everything outstanding when `batch_id` is 0.
    pub async fn rollback(&mut self, batch_id: i64) -> Result<(), ClientError> {
        let rb = ClientRollback {
            destination: self.config.destination.clone(),
            client_id: self.client_id(),
            batch_id,
        };
        self.send(packet::client_rollback(&rb)).await
    }

    /// Closes the connection (no UNSUB, like Java).
    pub async fn disconnect(self) -> Result<(), ClientError> {
        let mut stream = self.framed.into_inner();
        stream.shutdown().await?;
        Ok(())
    }
}

/// The MESSAGES body of a GET reply (an error ACK becomes [`ClientError::Server`]).
fn messages_of(p: Packet) -> Result<Messages, ClientError> {
    if p.r#type == PacketType::Ack as i32 {
        let ack = Ack::decode(p.body)?;
        return Err(ClientError::Server {
            code: ack.error_code.unwrap_or(0),
            message: ack.error_message,
        });
    }
    if p.r#type != PacketType::Messages as i32 {
        return Err(ClientError::Protocol(format!(
            "unexpected packet type: {}",
            p.r#type
        )));
    }
    if !matches!(p.compression, None | Some(0) | Some(1)) {
        return Err(ClientError::Protocol(format!(
            "compression {:?} is not supported",
            p.compression
        )));
    }
    Ok(Messages::decode(p.body)?)
}

/// Options of [`tail_with`].
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// Connection settings (destination, client id, credentials).
    pub client: ClientConfig,
    /// Subscription filter (empty = the destination's own).
    pub filter: String,
    /// Entries per GET (MEMSIZE: KiB).
    pub batch_size: i32,
    /// How long one GET waits for a full batch before returning what exists.
    pub poll: Duration,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            client: ClientConfig::default(),
            filter: String::new(),
            batch_size: 1000,
            poll: Duration::from_millis(500),
        }
    }
}

/// `canalctl tail`: subscribes and prints every entry as one JSON line until the connection ends.
pub async fn tail<W: AsyncWrite + Unpin>(
    addr: &str,
    destination: &str,
    client_id: i16,
    filter: &str,
    out: &mut W,
) -> Result<u64, ClientError> {
    let opts = TailOptions {
        client: ClientConfig {
            destination: destination.to_owned(),
            client_id,
            ..ClientConfig::default()
        },
        filter: filter.to_owned(),
        ..TailOptions::default()
    };
    tail_with(addr, opts, out, std::future::pending()).await
}

/// [`tail`] with full options; returns the number of entries printed when `stop` completes.
/// Each batch is acked after its lines are flushed.
pub async fn tail_with<W: AsyncWrite + Unpin>(
    addr: &str,
    opts: TailOptions,
    out: &mut W,
    stop: impl Future<Output = ()>,
) -> Result<u64, ClientError> {
    let mut client = CanalClient::connect(addr, opts.client.clone()).await?;
    client.subscribe(&opts.filter).await?;
    tokio::pin!(stop);
    let mut printed = 0u64;
    loop {
        let msg = tokio::select! {
            m = client.get_without_ack(opts.batch_size, Some(opts.poll.max(Duration::from_millis(1)))) => m?,
            _ = &mut stop => return Ok(printed),
        };
        if msg.id == -1 {
            continue;
        }
        for e in &msg.entries {
            let mut line = serde_json::to_vec(&entry_json(msg.id, e))
                .map_err(|e| ClientError::Protocol(format!("json: {e}")))?;
            line.push(b'\n');
            out.write_all(&line).await?;
            printed += 1;
        }
        out.flush().await?;
        client.ack(msg.id).await?;
    }
}
