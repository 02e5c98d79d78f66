//! Test support: an in-memory `CanalService` with Java Canal's store/meta semantics (MEMSIZE
//! batches, per-identity batch ids, oldest-first acks, rollback to the last ack), a server
//! launcher and a raw frame client.
//!
//! The semantics follow ../shared/compat/wire-protocol.md §3 so that the golden captures replay
//! with the same batch boundaries; the real `embedded::Embedded` replaces it when it exists.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::position::ClientIdentity;
use canal_server::service::{Batch, CanalService, ServiceError};
use canal_server::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub const META_EXCEPTION: &str = "com.alibaba.otter.canal.meta.exception.CanalMetaManagerException";
pub const GUAVA_UNCHECKED: &str = "com.google.common.util.concurrent.UncheckedExecutionException";

/// Where ../shared is, or `None` (with a note) when it is missing outside CI.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.join("golden/wire").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!("shared dir {} missing (CI is set)", dir.display());
    }
    eprintln!("note: {} not found; skipping golden test", dir.display());
    None
}

#[derive(Default)]
struct Dest {
    events: Vec<Bytes>,
    /// prefix[i] = bytes of events[..i]
    prefix: Vec<usize>,
    /// index of the next event to read
    get: usize,
    /// number of acked events
    ack: usize,
    subs: HashSet<i16>,
    batches: HashMap<i16, BTreeMap<i64, (usize, usize)>>,
    next_id: HashMap<i16, i64>,
}

impl Dest {
    fn bytes(&self, i: usize) -> usize {
        self.prefix[i]
    }
}

/// An in-memory destination set with Java Canal's MEMSIZE store and memory meta manager.
pub struct MemService {
    dests: Mutex<HashMap<String, Dest>>,
    changed: watch::Sender<u64>,
    memunit: usize,
    raw: std::sync::atomic::AtomicBool,
}

fn ident_text(c: &ClientIdentity) -> String {
    format!(
        "ClientIdentity[destination={},clientId={},filter=<null>]",
        c.destination, c.client_id
    )
}

impl MemService {
    pub fn new(destinations: &[&str]) -> Arc<Self> {
        let mut dests = HashMap::new();
        for d in destinations {
            dests.insert(
                (*d).to_owned(),
                Dest {
                    prefix: vec![0],
                    ..Default::default()
                },
            );
        }
        Arc::new(Self {
            dests: Mutex::new(dests),
            changed: watch::channel(0).0,
            memunit: 1024,
            raw: std::sync::atomic::AtomicBool::new(true),
        })
    }

    /// Switches `rawEntry` (MESSAGES form) for every destination.
    pub fn set_raw(&self, raw: bool) {
        self.raw.store(raw, std::sync::atomic::Ordering::SeqCst);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Dest>> {
        self.dests.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends entries to a destination's store (the sink side).
    pub fn put(&self, destination: &str, entries: impl IntoIterator<Item = Bytes>) {
        {
            let mut g = self.lock();
            let d = g.get_mut(destination).expect("destination");
            for e in entries {
                let last = *d.prefix.last().unwrap_or(&0);
                d.prefix.push(last + e.len());
                d.events.push(e);
            }
        }
        self.changed.send_modify(|v| *v += 1);
    }

    fn subscribed<'a>(
        g: &'a mut HashMap<String, Dest>,
        c: &ClientIdentity,
    ) -> Result<&'a mut Dest, ServiceError> {
        let d = g
            .get_mut(&c.destination)
            .ok_or_else(|| ServiceError::not_started(&c.destination))?;
        if !d.subs.contains(&c.client_id) {
            return Err(ServiceError::canal(format!(
                "ClientIdentity:{} should subscribe first",
                ident_text(c)
            )));
        }
        Ok(d)
    }

    /// Tries to read a batch; `force` = return whatever exists.
    fn try_read(
        &self,
        c: &ClientIdentity,
        batch_size: i32,
        force: bool,
    ) -> Result<Option<Batch>, ServiceError> {
        let mut g = self.lock();
        let d = Self::subscribed(&mut g, c)?;
        let limit = (batch_size as i64) * self.memunit as i64;
        let unread = (d.bytes(d.events.len()) - d.bytes(d.get)) as i64;
        let full = unread >= limit && d.get < d.events.len();
        if !(force || full) {
            return Ok(None);
        }
        let start = d.get;
        let mut end = start;
        let mut acc: i64 = 0;
        while end < d.events.len() && acc <= limit {
            acc += d.events[end].len() as i64;
            end += 1;
        }
        if end == start {
            return Ok(Some(Batch {
                id: -1,
                entries: vec![],
            }));
        }
        d.get = end;
        let next = d.next_id.entry(c.client_id).or_insert(1);
        let id = *next;
        *next += 1;
        d.batches
            .entry(c.client_id)
            .or_default()
            .insert(id, (start, end));
        Ok(Some(Batch {
            id,
            entries: d.events[start..end].to_vec(),
        }))
    }

    fn remove_batch(
        d: &mut Dest,
        c: &ClientIdentity,
        id: i64,
        what: &str,
    ) -> Result<(usize, usize), ServiceError> {
        let batches = d.batches.entry(c.client_id).or_default();
        let Some(&range) = batches.get(&id) else {
            return Err(ServiceError::canal(format!(
                "{what} clientId:{} batchId:{id} is not exist , please check",
                c.client_id
            )));
        };
        let min = *batches.keys().next().unwrap_or(&id);
        if min != id {
            return Err(ServiceError::foreign(
                META_EXCEPTION,
                format!("batchId:{id} is not the firstly:{min}"),
            ));
        }
        batches.remove(&id);
        Ok(range)
    }
}

impl CanalService for MemService {
    fn is_running(&self, destination: &str) -> bool {
        self.lock().contains_key(destination)
    }

    fn raw_entries(&self, _destination: &str) -> bool {
        self.raw.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn subscribe(&self, c: &ClientIdentity) -> Result<(), ServiceError> {
        let mut g = self.lock();
        let d = g
            .get_mut(&c.destination)
            .ok_or_else(|| ServiceError::not_started(&c.destination))?;
        d.subs.insert(c.client_id);
        Ok(())
    }

    fn unsubscribe(&self, c: &ClientIdentity) -> Result<(), ServiceError> {
        let mut g = self.lock();
        let Some(d) = g.get_mut(&c.destination) else {
            let cause = format!(
                "com.alibaba.otter.canal.server.exception.CanalServerException: can't find destination:{}",
                c.destination
            );
            return Err(ServiceError {
                class: GUAVA_UNCHECKED,
                message: cause.clone(),
                trace: Some(format!("Caused by: {cause}\n")),
            });
        };
        d.subs.remove(&c.client_id);
        Ok(())
    }

    fn has_subscribe(&self, c: &ClientIdentity) -> Result<bool, ServiceError> {
        let g = self.lock();
        let d = g
            .get(&c.destination)
            .ok_or_else(|| ServiceError::not_started(&c.destination))?;
        Ok(d.subs.contains(&c.client_id))
    }

    async fn get_without_ack(
        &self,
        c: &ClientIdentity,
        batch_size: i32,
        timeout: Option<Duration>,
    ) -> Result<Batch, ServiceError> {
        let mut rx = self.changed.subscribe();
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            rx.borrow_and_update();
            let expired = deadline.is_some_and(|d| tokio::time::Instant::now() >= d);
            if let Some(b) = self.try_read(c, batch_size, expired)? {
                return Ok(b);
            }
            match deadline {
                Some(d) => {
                    let _ = tokio::time::timeout_at(d, rx.changed()).await;
                }
                None => {
                    let _ = rx.changed().await;
                }
            }
        }
    }

    fn ack(&self, c: &ClientIdentity, batch_id: i64) -> Result<(), ServiceError> {
        let mut g = self.lock();
        let d = Self::subscribed(&mut g, c)?;
        let (_, end) = Self::remove_batch(d, c, batch_id, "ack error ,")?;
        d.ack = d.ack.max(end);
        Ok(())
    }

    fn rollback(&self, c: &ClientIdentity, batch_id: Option<i64>) -> Result<(), ServiceError> {
        let mut g = self.lock();
        let d = g
            .get_mut(&c.destination)
            .ok_or_else(|| ServiceError::not_started(&c.destination))?;
        if !d.subs.contains(&c.client_id) {
            return Ok(());
        }
        match batch_id {
            None => {
                d.batches.remove(&c.client_id);
            }
            Some(id) => {
                Self::remove_batch(d, c, id, "rollback error,")?;
            }
        }
        d.get = d.ack;
        Ok(())
    }
}

/// A running server and the means to stop it.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), canal_server::ServerError>>,
}

impl Running {
    /// Requests a graceful shutdown and waits for the server to return.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts a server on 127.0.0.1 (ephemeral port).
pub async fn start<S: CanalService>(service: Arc<S>, mut config: ServerConfig) -> Running {
    config.bind = "127.0.0.1:0".parse().unwrap();
    let server = Server::bind(config, service).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// A raw client speaking frames.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// What a read produced.
#[derive(Debug, PartialEq)]
pub enum Got {
    Frame(Vec<u8>),
    Eof,
    Timeout,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects and consumes the handshake; returns the seed.
    pub async fn connect_handshake(addr: SocketAddr) -> (Self, Vec<u8>) {
        let mut c = Self::connect(addr).await;
        let Got::Frame(hs) = c.read(Duration::from_secs(3)).await else {
            panic!("no handshake");
        };
        assert_eq!(&hs[..8], &[0, 0, 0, 0x10, 0x10, 0x01, 0x18, 0x01]);
        let seed = hs[12..20].to_vec();
        (c, seed)
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Writes one frame (header + payload).
    pub async fn send(&mut self, payload: &[u8]) {
        self.write(&canal_protocol::codec::frame(payload))
            .await
            .expect("write");
    }

    /// Reads one whole frame (header included) or EOF, within `wait`.
    pub async fn read(&mut self, wait: Duration) -> Got {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if self.buf.len() >= 4 {
                let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])
                    as usize;
                if self.buf.len() >= 4 + len {
                    let f: Vec<u8> = self.buf.drain(..4 + len).collect();
                    return Got::Frame(f);
                }
            }
            let mut tmp = [0u8; 65536];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut tmp)).await {
                Err(_) => return Got::Timeout,
                Ok(Ok(0)) | Ok(Err(_)) => return Got::Eof,
                Ok(Ok(n)) => self.buf.extend_from_slice(&tmp[..n]),
            }
        }
    }

    /// Reads a frame and returns its payload, panicking otherwise.
    pub async fn payload(&mut self) -> Vec<u8> {
        match self.read(Duration::from_secs(5)).await {
            Got::Frame(f) => f[4..].to_vec(),
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

/// The success ACK payload.
pub const ACK_OK: &[u8] = &[0x10, 0x01, 0x18, 0x03];

/// Decodes an ACK payload into (code, message).
pub fn ack_of(payload: &[u8]) -> (i32, String) {
    use prost::Message;
    let p = canal_protocol::canal::Packet::decode(payload).expect("packet");
    assert_eq!(p.r#type, 3, "not an ACK: {payload:02x?}");
    let a = canal_protocol::canal::Ack::decode(&p.body[..]).expect("ack");
    (a.error_code.unwrap_or(0), a.error_message)
}
