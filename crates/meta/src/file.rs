//! Java `FileMixedMetaManager`: memory meta plus `{data_dir}/{destination}/meta.dat` holding the
//! subscriptions and cursors (batches stay in memory).
//!
//! Behaviour kept from Canal (operations.md §3.2): the file of a destination is read lazily on
//! first use; subscribe/unsubscribe write it immediately; cursor updates mark the client dirty and
//! a background flush every `period` writes the destinations of dirty clients; `stop` writes every
//! loaded destination. The "zero clients → not rewritten" rule is kept: when a destination has no
//! subscribed client the file is left as it was, so an unsubscribed last client comes back after a
//! restart, exactly as with Java Canal.
//!
//! Deliberate difference: Java overwrites the file in place; we write `meta.dat.tmp`, fsync it and
//! rename it over `meta.dat`, so a crash never leaves a truncated file. The content is identical.
//! The immediate writes on subscribe/unsubscribe happen on the caller's thread (Java queues them on
//! its executor) so that a subscription is on disk when `subscribe` returns.
//!
//! meta.log: each periodic flush emits, per changed client, Java's line
//! ([`meta_log_message`]) as a tracing event with target [`META_LOG_TARGET`] and a
//! `destination` field; canal-telemetry's logging layer writes it to
//! `logs/{destination}/meta.log`. The flush at stop logs nothing, as in Java.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use canal_protocol::position::{ClientIdentity, LogPosition, PositionRange};
use parking_lot::{Condvar, Mutex};
use serde_json::{Map, Value};

use crate::memory::MemoryState;
use crate::{MetaError, MetaManager, MetaResult};

/// File name inside `{data_dir}/{destination}/`.
pub const META_FILE_NAME: &str = "meta.dat";

/// One client of a `meta.dat` document.
pub type ClientData = (ClientIdentity, Option<LogPosition>);

/// Renders `FileMetaInstanceData` the way fastjson2 does:
/// `{"clientDatas":[{"clientIdentity":{…},"cursor":{…}},…],"destination":"…"}`.
pub fn render_meta_dat(destination: &str, clients: &[ClientData]) -> String {
    let datas: Vec<Value> = clients
        .iter()
        .map(|(c, cursor)| {
            let mut m = Map::new();
            m.insert("clientIdentity".into(), c.to_json_value());
            if let Some(p) = cursor {
                m.insert("cursor".into(), p.to_json_value(false));
            }
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("clientDatas".into(), Value::Array(datas));
    m.insert("destination".into(), Value::String(destination.to_string()));
    Value::Object(m).to_string()
}

/// Parses a `meta.dat` document (tolerant: whitespace, quoted numbers, unknown keys, `@type`).
/// Returns the `destination` field and the clients.
pub fn parse_meta_dat(text: &str) -> MetaResult<(Option<String>, Vec<ClientData>)> {
    let bad = |e: String| MetaError::Json(format!("meta.dat: {e}"));
    let doc: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let destination = obj
        .get("destination")
        .and_then(|d| d.as_str())
        .map(str::to_string);
    let mut clients = Vec::new();
    match obj.get("clientDatas") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Some(io) = item.as_object() else {
                    return Err(bad(format!("clientDatas element {item}")));
                };
                let Some(ci) = io.get("clientIdentity").filter(|v| !v.is_null()) else {
                    continue;
                };
                let ci = ClientIdentity::from_json_value(ci).map_err(|e| bad(e.to_string()))?;
                let cursor = match io.get("cursor") {
                    None | Some(Value::Null) => None,
                    Some(c) => {
                        Some(LogPosition::from_json_value(c).map_err(|e| bad(e.to_string()))?)
                    }
                };
                clients.push((ci, cursor));
            }
        }
        Some(other) => return Err(bad(format!("clientDatas {other}"))),
    }
    Ok((destination, clients))
}

/// Writes `content` to `path` through a temporary file and a rename, with an fsync of the
/// temporary file when `durable` (a rename alone already survives a crash of this process).
pub(crate) fn write_atomic(path: &Path, content: &str, durable: bool) -> MetaResult<()> {
    let io = |e: std::io::Error| MetaError::Io(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(content.as_bytes()).map_err(io)?;
        if durable {
            f.sync_all().map_err(io)?;
        }
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Creates `dir` if needed and checks it is a writable directory.
pub(crate) fn prepare_dir(dir: &Path) -> MetaResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| MetaError::Io(format!("{}: {e}", dir.display())))?;
    let md =
        std::fs::metadata(dir).map_err(|e| MetaError::Io(format!("{}: {e}", dir.display())))?;
    if !md.is_dir() || md.permissions().readonly() {
        return Err(MetaError::DirNotAccessible(dir.display().to_string()));
    }
    Ok(())
}

#[derive(Default)]
struct FileState {
    mem: MemoryState,
    loaded: HashSet<String>,
    dirty: HashSet<ClientIdentity>,
}

struct Shared {
    data_dir: PathBuf,
    period: Duration,
    state: Mutex<FileState>,
    write_lock: Mutex<()>,
    started: AtomicBool,
    stopping: Mutex<bool>,
    stop_cv: Condvar,
}

impl Shared {
    fn file_of(&self, destination: &str) -> PathBuf {
        self.data_dir.join(destination).join(META_FILE_NAME)
    }

    fn ensure_loaded(&self, st: &mut FileState, destination: &str) -> MetaResult<()> {
        if st.loaded.contains(destination) {
            return Ok(());
        }
        let path = self.file_of(destination);
        let clients = match std::fs::read_to_string(&path) {
            Ok(text) => parse_meta_dat(&text)?.1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(MetaError::Io(format!("{}: {e}", path.display()))),
        };
        let list = st
            .mem
            .destinations
            .entry(destination.to_string())
            .or_default();
        for (c, cursor) in clients {
            if c.destination != destination {
                continue;
            }
            if !list.contains(&c) {
                list.push(c.clone());
            }
            if let Some(p) = cursor {
                st.mem.cursors.entry(c).or_insert(p);
            }
        }
        st.loaded.insert(destination.to_string());
        Ok(())
    }

    fn with_dest<T>(
        &self,
        destination: &str,
        f: impl FnOnce(&mut FileState) -> T,
    ) -> MetaResult<T> {
        let mut st = self.state.lock();
        self.ensure_loaded(&mut st, destination)?;
        Ok(f(&mut st))
    }

    fn flush(&self, destination: &str) -> MetaResult<()> {
        self.write(destination, true)
    }

    /// Rewrites `meta.dat` of `destination`; `durable` adds an fsync.
    fn write(&self, destination: &str, durable: bool) -> MetaResult<()> {
        let _w = self.write_lock.lock();
        let json = {
            let st = self.state.lock();
            if !st.loaded.contains(destination) {
                return Ok(());
            }
            let clients: Vec<ClientData> = st
                .mem
                .list(destination)
                .into_iter()
                .map(|c| {
                    let cur = st.mem.cursors.get(&c).cloned();
                    (c, cur)
                })
                .collect();
            if clients.is_empty() {
                // Canal (issue 4312): nothing written when no client remains.
                return Ok(());
            }
            render_meta_dat(destination, &clients)
        };
        write_atomic(&self.file_of(destination), &json, durable)
    }

    fn flush_all(&self) -> MetaResult<()> {
        let dests: Vec<String> = self.state.lock().loaded.iter().cloned().collect();
        let mut first_err = None;
        for d in dests {
            if let Err(e) = self.flush(&d) {
                tracing::error!(destination = %d, "flush meta.dat failed: {e}");
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn periodic(&self) {
        let dirty: Vec<ClientIdentity> = std::mem::take(&mut self.state.lock().dirty)
            .into_iter()
            .collect();
        let mut done = HashSet::new();
        for c in dirty {
            let msg = self
                .state
                .lock()
                .mem
                .cursors
                .get(&c)
                .map(|p| meta_log_message(c.client_id, p));
            if let Some(msg) = msg {
                // Routed to logs/{destination}/meta.log by canal-telemetry's logging layer.
                tracing::info!(target: META_LOG_TARGET, destination = %c.destination, "{msg}");
            }
            if done.insert(c.destination.clone()) {
                if let Err(e) = self.flush(&c.destination) {
                    tracing::error!("period update {c} curosr failed! {e}");
                }
            }
        }
    }
}

/// Tracing target of the periodic cursor flush lines (Java logs them from
/// `FileMixedMetaManager`, which Canal's logback sends to `logs/{destination}/meta.log`;
/// canal-telemetry's logging layer routes this target there).
pub const META_LOG_TARGET: &str = "canal_meta::meta_log";

/// `InetSocketAddress.toString()` of a cursor's source as the meta.log line shows it:
/// `/{ip}:{port}` for an IP (Java's form when no host name is attached), `{name}:{port}` for a
/// host name (Java would print `{name}/{resolved ip}:{port}`; no DNS lookup is made on the
/// flush path).
pub fn java_socket_address(a: &canal_protocol::position::SourceAddress) -> String {
    match a.address.as_deref() {
        Some(h) => match h.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(ip)) => format!("/[{ip}]:{}", a.port),
            Ok(ip) => format!("/{ip}:{}", a.port),
            Err(_) => format!("{h}:{}", a.port),
        },
        None => format!("/<unresolved>:{}", a.port),
    }
}

/// The meta.log line of one flushed cursor, Java's
/// `clientId:{} cursor:[{journal},{position},{timestamp},{serverId},{gtid}] address[{source}]`
/// (absent values print `null`, as SLF4J prints a null argument).
pub fn meta_log_message(client_id: i16, p: &LogPosition) -> String {
    let e = &p.postion;
    let addr = p
        .identity
        .source_address
        .as_ref()
        .map_or_else(|| "null".to_string(), java_socket_address);
    format!(
        "clientId:{} cursor:[{},{},{},{},{}] address[{}]",
        client_id,
        e.journal_name.as_deref().unwrap_or("null"),
        e.position.map_or("null".into(), |v| v.to_string()),
        e.timestamp.map_or("null".into(), |v| v.to_string()),
        e.server_id.map_or("null".into(), |v| v.to_string()),
        e.gtid.as_deref().unwrap_or("null"),
        addr
    )
}

/// Java `FileMixedMetaManager` (`canal.file.data.dir`, `canal.file.flush.period`).
pub struct FileMixedMetaManager {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for FileMixedMetaManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMixedMetaManager")
            .field("data_dir", &self.shared.data_dir)
            .field("period", &self.shared.period)
            .finish()
    }
}

impl FileMixedMetaManager {
    /// A manager over `data_dir` flushing cursors every `period` (Canal default 1000 ms).
    pub fn new(data_dir: impl Into<PathBuf>, period: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                data_dir: data_dir.into(),
                period: period.max(Duration::from_millis(1)),
                state: Mutex::new(FileState::default()),
                write_lock: Mutex::new(()),
                started: AtomicBool::new(false),
                stopping: Mutex::new(false),
                stop_cv: Condvar::new(),
            }),
            worker: Mutex::new(None),
        }
    }

    /// `{data_dir}/{destination}/meta.dat`.
    pub fn meta_file(&self, destination: &str) -> PathBuf {
        self.shared.file_of(destination)
    }

    /// Writes the destination's file now (no-op when it has no client or was never loaded).
    pub fn flush(&self, destination: &str) -> MetaResult<()> {
        self.shared.flush(destination)
    }
}

impl Drop for FileMixedMetaManager {
    fn drop(&mut self) {
        if self.is_start() {
            let _ = self.stop();
        }
    }
}

impl MetaManager for FileMixedMetaManager {
    fn start(&self) -> MetaResult<()> {
        if self.shared.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        prepare_dir(&self.shared.data_dir)?;
        *self.shared.stopping.lock() = false;
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name("canal-meta-file-flush".into())
            .spawn(move || loop {
                {
                    let mut stop = shared.stopping.lock();
                    if !*stop {
                        shared.stop_cv.wait_for(&mut stop, shared.period);
                    }
                    if *stop {
                        return;
                    }
                }
                shared.periodic();
            })
            .map_err(|e| MetaError::Io(e.to_string()))?;
        *self.worker.lock() = Some(handle);
        self.shared.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        *self.shared.stopping.lock() = true;
        self.shared.stop_cv.notify_all();
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        let r = self.shared.flush_all();
        {
            let mut st = self.shared.state.lock();
            st.mem.clear();
            st.loaded.clear();
            st.dirty.clear();
        }
        self.shared.started.store(false, Ordering::SeqCst);
        r
    }

    fn is_start(&self) -> bool {
        self.shared.started.load(Ordering::SeqCst)
    }

    fn subscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.shared
            .with_dest(&client.destination, |st| st.mem.subscribe(client))?;
        self.shared.flush(&client.destination)
    }

    fn has_subscribe(&self, client: &ClientIdentity) -> MetaResult<bool> {
        self.shared
            .with_dest(&client.destination, |st| st.mem.has_subscribe(client))
    }

    fn unsubscribe(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.shared
            .with_dest(&client.destination, |st| st.mem.unsubscribe(client))?;
        self.shared.flush(&client.destination)
    }

    fn list_all_subscribe_info(&self, destination: &str) -> MetaResult<Vec<ClientIdentity>> {
        self.shared
            .with_dest(destination, |st| st.mem.list(destination))
    }

    fn get_cursor(&self, client: &ClientIdentity) -> MetaResult<Option<LogPosition>> {
        self.shared.with_dest(&client.destination, |st| {
            st.mem.cursors.get(client).cloned()
        })
    }

    /// Deliberate difference from Java (which only writes every flush period, so a crash replays
    /// up to a period of acked batches): every cursor update is written through at once with a
    /// rename (survives a crash of this process); the periodic flush adds the fsync (survives a
    /// power loss) and the meta.log line.
    fn update_cursor(&self, client: &ClientIdentity, position: &LogPosition) -> MetaResult<()> {
        self.shared.with_dest(&client.destination, |st| {
            st.dirty.insert(client.clone());
            st.mem.cursors.insert(client.clone(), position.clone());
        })?;
        self.shared.write(&client.destination, false)
    }

    fn add_batch(&self, client: &ClientIdentity, range: PositionRange) -> MetaResult<i64> {
        Ok(self.shared.state.lock().mem.add_batch(client, range))
    }

    fn add_batch_with_id(
        &self,
        client: &ClientIdentity,
        range: PositionRange,
        batch_id: i64,
    ) -> MetaResult<()> {
        self.shared
            .state
            .lock()
            .mem
            .add_batch_with_id(client, range, batch_id);
        Ok(())
    }

    fn get_lastest_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        Ok(self.shared.state.lock().mem.lastest(client))
    }

    fn get_first_batch(&self, client: &ClientIdentity) -> MetaResult<Option<PositionRange>> {
        Ok(self.shared.state.lock().mem.first(client))
    }

    fn get_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        Ok(self.shared.state.lock().mem.get(client, batch_id))
    }

    fn remove_batch(
        &self,
        client: &ClientIdentity,
        batch_id: i64,
    ) -> MetaResult<Option<PositionRange>> {
        self.shared.state.lock().mem.remove(client, batch_id)
    }

    fn list_all_batchs(&self, client: &ClientIdentity) -> MetaResult<BTreeMap<i64, PositionRange>> {
        Ok(self.shared.state.lock().mem.list_batches(client))
    }

    fn clear_all_batchs(&self, client: &ClientIdentity) -> MetaResult<()> {
        self.shared.state.lock().mem.clear_batches(client);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::position::{EntryPosition, LogIdentity, SourceAddress};

    /// operations.md §3.2, the meta.dat example (constructed from fastjson2 2.0.31 output).
    const SPEC_META_DAT: &str = r#"{"clientDatas":[{"clientIdentity":{"clientId":1001,"destination":"example","filter":""},"cursor":{"identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}},{"clientIdentity":{"clientId":1002,"destination":"example"}}],"destination":"example"}"#;

    fn cursor(offset: i64) -> LogPosition {
        LogPosition {
            identity: LogIdentity {
                source_address: Some(SourceAddress {
                    address: Some("10.20.3.4".into()),
                    port: 3306,
                }),
                slave_id: -1,
            },
            postion: EntryPosition {
                journal_name: Some("mysql-bin.000003".into()),
                position: Some(offset),
                server_id: Some(1),
                gtid: Some(String::new()),
                timestamp: Some(1_700_000_000_000),
                included: false,
            },
        }
    }

    fn c1001() -> ClientIdentity {
        ClientIdentity {
            destination: "example".into(),
            client_id: 1001,
            filter: Some(String::new()),
        }
    }

    #[test]
    fn written_meta_dat_matches_spec_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let m = FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        m.start().unwrap();
        m.subscribe(&c1001()).unwrap();
        m.subscribe(&ClientIdentity::new("example", 1002)).unwrap();
        m.update_cursor(&c1001(), &cursor(4567)).unwrap();
        m.stop().unwrap();
        let text = std::fs::read_to_string(dir.path().join("example/meta.dat")).unwrap();
        assert_eq!(text, SPEC_META_DAT);
        assert!(!dir.path().join("example/meta.dat.tmp").exists());
    }

    #[test]
    fn reads_java_written_meta_dat() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("example")).unwrap();
        std::fs::write(dir.path().join("example/meta.dat"), SPEC_META_DAT).unwrap();
        let m = FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        m.start().unwrap();
        let list = m.list_all_subscribe_info("example").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].client_id, 1001);
        assert_eq!(list[0].filter.as_deref(), Some(""));
        assert_eq!(list[1].client_id, 1002);
        assert_eq!(list[1].filter, None);
        assert_eq!(m.get_cursor(&c1001()).unwrap(), Some(cursor(4567)));
        assert_eq!(
            m.get_cursor(&ClientIdentity::new("example", 1002)).unwrap(),
            None
        );
        // pretty-printed, quoted numbers, unknown keys, key order shuffled
        let loose = r#"{ "destination" : "d2", "extra": 1,
          "clientDatas" : [ { "cursor" : { "postion" : { "position" : "99", "timestamp" : "5",
              "journalName" : "bin.1" }, "identity" : { "slaveId" : "-1" } },
            "clientIdentity" : { "filter" : ".*\\..*", "destination" : "d2", "clientId" : "7" } } ] }"#;
        std::fs::create_dir_all(dir.path().join("d2")).unwrap();
        std::fs::write(dir.path().join("d2/meta.dat"), loose).unwrap();
        let c7 = ClientIdentity::new("d2", 7);
        assert!(m.has_subscribe(&c7).unwrap());
        let cur = m.get_cursor(&c7).unwrap().unwrap();
        assert_eq!(cur.postion.position, Some(99));
        assert_eq!(cur.postion.timestamp, Some(5));
        assert_eq!(
            m.list_all_subscribe_info("d2").unwrap()[0]
                .filter
                .as_deref(),
            Some(".*\\..*")
        );
        m.stop().unwrap();
    }

    #[test]
    fn flush_period_and_immediate_subscribe() {
        let dir = tempfile::tempdir().unwrap();
        let m = FileMixedMetaManager::new(dir.path(), Duration::from_millis(100));
        m.start().unwrap();
        m.subscribe(&c1001()).unwrap();
        let path = m.meta_file("example");
        // subscribe is on disk at once, without a cursor
        let (_, clients) = parse_meta_dat(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(clients, vec![(c1001(), None)]);
        m.update_cursor(&c1001(), &cursor(1)).unwrap();
        // the cursor reaches the file with the periodic flush
        let mut seen = false;
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(20));
            let (_, clients) = parse_meta_dat(&std::fs::read_to_string(&path).unwrap()).unwrap();
            if clients[0].1 == Some(cursor(1)) {
                seen = true;
                break;
            }
        }
        assert!(seen, "cursor not flushed within 1 s with a 100 ms period");
        m.stop().unwrap();
    }

    /// operations.md §3.2: with zero clients left the file is not rewritten, so the last
    /// unsubscribed client is subscribed again after a restart.
    #[test]
    fn zero_clients_file_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let m = FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        m.start().unwrap();
        m.subscribe(&c1001()).unwrap();
        m.update_cursor(&c1001(), &cursor(7)).unwrap();
        m.unsubscribe(&c1001()).unwrap();
        m.stop().unwrap();
        let m2 = FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        m2.start().unwrap();
        // the last write with a client happened at the cursor update (written through at once,
        // a deliberate difference from Java, which would only have the subscribe-time file)
        assert!(m2.has_subscribe(&c1001()).unwrap());
        assert_eq!(m2.get_cursor(&c1001()).unwrap(), Some(cursor(7)));
        m2.stop().unwrap();
    }

    #[test]
    fn bad_files_and_dirs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("example")).unwrap();
        std::fs::write(dir.path().join("example/meta.dat"), "{not json").unwrap();
        let m = FileMixedMetaManager::new(dir.path(), Duration::from_secs(3600));
        m.start().unwrap();
        assert!(matches!(m.has_subscribe(&c1001()), Err(MetaError::Json(_))));
        m.stop().unwrap();
        let file = dir.path().join("plainfile");
        std::fs::write(&file, "x").unwrap();
        let m = FileMixedMetaManager::new(&file, Duration::from_secs(1));
        assert!(m.start().is_err());
    }
}
