//! The parser's own restart point (Java `CanalLogPositionManager`, operations.md §3.3): after
//! each flushed transaction chunk the parser persists the position of its last TRANSACTIONEND, and
//! on (re)connect asks for the latest one.
//!
//! * [`MemoryLogPositionManager`]: heap only.
//! * [`FileMixedLogPositionManager`]: memory, written to `{data_dir}/{destination}/parse.dat`
//!   (LogPosition JSON without `@type`) every `period` for changed destinations and on stop.
//!   Deliberate difference: when neither memory nor file has a value Java returns an *empty*
//!   LogPosition object (which later breaks the parser); we return `None`.
//! * [`MetaLogPositionManager`]: the minimum cursor over all subscribed clients; persisting is a
//!   no-op. Like Canal, stopping it stops the shared meta manager (final meta flush).
//! * [`FailbackLogPositionManager`]: primary, else secondary; persist to the primary and to the
//!   secondary only if the primary fails. Canal's file-instance wiring is
//!   `Failback(Memory, Meta(metaManager))`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use canal_protocol::position::LogPosition;
use parking_lot::{Condvar, Mutex};

use crate::file::{prepare_dir, write_atomic};
use crate::{min_position, MetaError, MetaManager, MetaResult};

/// File name of the parser position inside `{data_dir}/{destination}/`.
pub const PARSE_FILE_NAME: &str = "parse.dat";

/// Java `CanalLogPositionManager`.
pub trait LogPositionManager: Send + Sync {
    /// Starts the manager (idempotent).
    fn start(&self) -> MetaResult<()> {
        Ok(())
    }
    /// Stops it (final flush where applicable).
    fn stop(&self) -> MetaResult<()> {
        Ok(())
    }
    /// Latest persisted position of `destination`.
    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>>;
    /// Records the position of the last flushed transaction end.
    fn persist_log_position(&self, destination: &str, position: &LogPosition) -> MetaResult<()>;
}

/// Java `MemoryLogPositionManager`.
#[derive(Debug, Default)]
pub struct MemoryLogPositionManager {
    positions: Mutex<HashMap<String, LogPosition>>,
}

impl MemoryLogPositionManager {
    /// Empty manager.
    pub fn new() -> Self {
        Self::default()
    }

    /// Destinations with a position.
    pub fn destinations(&self) -> Vec<String> {
        self.positions.lock().keys().cloned().collect()
    }
}

impl LogPositionManager for MemoryLogPositionManager {
    fn stop(&self) -> MetaResult<()> {
        self.positions.lock().clear();
        Ok(())
    }

    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>> {
        Ok(self.positions.lock().get(destination).cloned())
    }

    fn persist_log_position(&self, destination: &str, position: &LogPosition) -> MetaResult<()> {
        self.positions
            .lock()
            .insert(destination.to_string(), position.clone());
        Ok(())
    }
}

struct FileShared {
    data_dir: PathBuf,
    period: Duration,
    memory: Arc<MemoryLogPositionManager>,
    dirty: Mutex<HashSet<String>>,
    stopping: Mutex<bool>,
    stop_cv: Condvar,
}

impl FileShared {
    fn file_of(&self, destination: &str) -> PathBuf {
        self.data_dir.join(destination).join(PARSE_FILE_NAME)
    }

    fn flush(&self, destination: &str) -> MetaResult<()> {
        if let Some(p) = self.memory.get_latest_index_by(destination)? {
            write_atomic(&self.file_of(destination), &p.to_json(), true)?;
        }
        Ok(())
    }
}

/// Java `FileMixedLogPositionManager(dataDir, period, memory)`.
pub struct FileMixedLogPositionManager {
    shared: Arc<FileShared>,
    worker: Mutex<Option<JoinHandle<()>>>,
    started: AtomicBool,
}

impl FileMixedLogPositionManager {
    /// Positions in `data_dir`, written every `period`.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        period: Duration,
        memory: Arc<MemoryLogPositionManager>,
    ) -> MetaResult<Self> {
        if period.is_zero() {
            return Err(MetaError::Io(format!(
                "period must be positive, given: {}",
                period.as_millis()
            )));
        }
        Ok(Self {
            shared: Arc::new(FileShared {
                data_dir: data_dir.into(),
                period,
                memory,
                dirty: Mutex::new(HashSet::new()),
                stopping: Mutex::new(false),
                stop_cv: Condvar::new(),
            }),
            worker: Mutex::new(None),
            started: AtomicBool::new(false),
        })
    }

    /// `{data_dir}/{destination}/parse.dat`.
    pub fn parse_file(&self, destination: &str) -> PathBuf {
        self.shared.file_of(destination)
    }
}

impl Drop for FileMixedLogPositionManager {
    fn drop(&mut self) {
        if self.started.load(Ordering::SeqCst) {
            let _ = self.stop();
        }
    }
}

impl LogPositionManager for FileMixedLogPositionManager {
    fn start(&self) -> MetaResult<()> {
        if self.started.load(Ordering::SeqCst) {
            return Ok(());
        }
        prepare_dir(&self.shared.data_dir)?;
        *self.shared.stopping.lock() = false;
        let shared = self.shared.clone();
        let h = std::thread::Builder::new()
            .name("canal-parse-dat-flush".into())
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
                let tasks: Vec<String> = shared.dirty.lock().iter().cloned().collect();
                for d in tasks {
                    match shared.flush(&d) {
                        Ok(()) => {
                            shared.dirty.lock().remove(&d);
                        }
                        Err(e) => {
                            tracing::error!(destination = %d, "period update position failed! {e}")
                        }
                    }
                }
            })
            .map_err(|e| MetaError::Io(e.to_string()))?;
        *self.worker.lock() = Some(h);
        self.started.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        *self.shared.stopping.lock() = true;
        self.shared.stop_cv.notify_all();
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        self.started.store(false, Ordering::SeqCst);
        let mut first_err = None;
        for d in self.shared.memory.destinations() {
            if let Err(e) = self.shared.flush(&d) {
                first_err.get_or_insert(e);
            }
        }
        self.shared.dirty.lock().clear();
        self.shared.memory.stop()?;
        first_err.map_or(Ok(()), Err)
    }

    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>> {
        if let Some(p) = self.shared.memory.get_latest_index_by(destination)? {
            return Ok(Some(p));
        }
        let path = self.shared.file_of(destination);
        match std::fs::read_to_string(&path) {
            Ok(text) => LogPosition::from_json(&text)
                .map(Some)
                .map_err(|e| MetaError::Json(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(MetaError::Io(format!("{}: {e}", path.display()))),
        }
    }

    fn persist_log_position(&self, destination: &str, position: &LogPosition) -> MetaResult<()> {
        self.shared.dirty.lock().insert(destination.to_string());
        self.shared
            .memory
            .persist_log_position(destination, position)
    }
}

/// Java `MetaLogPositionManager`: the minimum client cursor of the destination.
pub struct MetaLogPositionManager {
    meta: Arc<dyn MetaManager>,
}

impl MetaLogPositionManager {
    /// Reads cursors from `meta`.
    pub fn new(meta: Arc<dyn MetaManager>) -> Self {
        Self { meta }
    }
}

impl LogPositionManager for MetaLogPositionManager {
    fn start(&self) -> MetaResult<()> {
        if !self.meta.is_start() {
            self.meta.start()?;
        }
        Ok(())
    }

    fn stop(&self) -> MetaResult<()> {
        if self.meta.is_start() {
            self.meta.stop()?;
        }
        Ok(())
    }

    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>> {
        let mut result: Option<LogPosition> = None;
        for c in self.meta.list_all_subscribe_info(destination)? {
            let Some(p) = self.meta.get_cursor(&c)? else {
                continue;
            };
            result = Some(match result {
                None => p,
                Some(r) => min_position(&r, &p).clone(),
            });
        }
        Ok(result)
    }

    fn persist_log_position(&self, _destination: &str, _position: &LogPosition) -> MetaResult<()> {
        Ok(())
    }
}

/// Java `FailbackLogPositionManager(primary, secondary)`.
pub struct FailbackLogPositionManager {
    primary: Arc<dyn LogPositionManager>,
    secondary: Arc<dyn LogPositionManager>,
}

impl FailbackLogPositionManager {
    /// Reads `primary` first, falls back to `secondary`.
    pub fn new(
        primary: Arc<dyn LogPositionManager>,
        secondary: Arc<dyn LogPositionManager>,
    ) -> Self {
        Self { primary, secondary }
    }
}

impl LogPositionManager for FailbackLogPositionManager {
    fn start(&self) -> MetaResult<()> {
        self.primary.start()?;
        self.secondary.start()
    }

    fn stop(&self) -> MetaResult<()> {
        let r = self.secondary.stop();
        self.primary.stop()?;
        r
    }

    fn get_latest_index_by(&self, destination: &str) -> MetaResult<Option<LogPosition>> {
        match self.primary.get_latest_index_by(destination)? {
            Some(p) => Ok(Some(p)),
            None => self.secondary.get_latest_index_by(destination),
        }
    }

    fn persist_log_position(&self, destination: &str, position: &LogPosition) -> MetaResult<()> {
        match self.primary.persist_log_position(destination, position) {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(
                    destination,
                    "persistLogPosition use primary failed, try secondary: {e}"
                );
                self.secondary.persist_log_position(destination, position)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryMetaManager;
    use canal_protocol::position::{ClientIdentity, EntryPosition, LogIdentity, SourceAddress};

    fn pos(addr: &str, journal: &str, offset: i64, ts: i64) -> LogPosition {
        LogPosition {
            identity: LogIdentity {
                source_address: Some(SourceAddress {
                    address: Some(addr.into()),
                    port: 3306,
                }),
                slave_id: -1,
            },
            postion: EntryPosition {
                journal_name: Some(journal.into()),
                position: Some(offset),
                server_id: Some(1),
                gtid: Some(String::new()),
                timestamp: Some(ts),
                included: false,
            },
        }
    }

    /// operations.md §1.3: parse.dat = LogPosition JSON without @type.
    #[test]
    fn file_mixed_writes_parse_dat() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Arc::new(MemoryLogPositionManager::new());
        let m =
            FileMixedLogPositionManager::new(dir.path(), Duration::from_secs(3600), mem).unwrap();
        m.start().unwrap();
        assert_eq!(m.get_latest_index_by("example").unwrap(), None);
        let p = pos("10.20.3.4", "mysql-bin.000003", 4567, 1_700_000_000_000);
        m.persist_log_position("example", &p).unwrap();
        assert_eq!(m.get_latest_index_by("example").unwrap(), Some(p.clone()));
        m.stop().unwrap();
        let text = std::fs::read_to_string(dir.path().join("example/parse.dat")).unwrap();
        assert_eq!(
            text,
            r#"{"identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}"#
        );
        // a new manager (empty memory) reads the file
        let m2 = FileMixedLogPositionManager::new(
            dir.path(),
            Duration::from_secs(3600),
            Arc::new(MemoryLogPositionManager::new()),
        )
        .unwrap();
        assert_eq!(m2.get_latest_index_by("example").unwrap(), Some(p));
        assert!(FileMixedLogPositionManager::new(
            dir.path(),
            Duration::ZERO,
            Arc::new(MemoryLogPositionManager::new())
        )
        .is_err());
    }

    #[test]
    fn file_mixed_periodic_flush() {
        let dir = tempfile::tempdir().unwrap();
        let m = FileMixedLogPositionManager::new(
            dir.path(),
            Duration::from_millis(50),
            Arc::new(MemoryLogPositionManager::new()),
        )
        .unwrap();
        m.start().unwrap();
        m.persist_log_position("d", &pos("h", "bin.1", 4, 1))
            .unwrap();
        let f = m.parse_file("d");
        let mut ok = false;
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(10));
            if f.exists() {
                ok = true;
                break;
            }
        }
        assert!(ok, "parse.dat not written by the periodic flush");
        m.stop().unwrap();
    }

    /// CanalEventUtils.min: same source -> smaller journal/offset; different -> older timestamp.
    #[test]
    fn meta_manager_min_cursor() {
        let meta = Arc::new(MemoryMetaManager::new());
        let lm = MetaLogPositionManager::new(meta.clone());
        assert_eq!(lm.get_latest_index_by("example").unwrap(), None);
        let (a, b, c) = (
            ClientIdentity::new("example", 1),
            ClientIdentity::new("example", 2),
            ClientIdentity::new("example", 3),
        );
        for x in [&a, &b, &c] {
            meta.subscribe(x).unwrap();
        }
        // c has no cursor: skipped
        meta.update_cursor(&a, &pos("h1", "bin.000002", 100, 50))
            .unwrap();
        meta.update_cursor(&b, &pos("h1", "bin.000001", 900, 90))
            .unwrap();
        assert_eq!(
            lm.get_latest_index_by("example")
                .unwrap()
                .unwrap()
                .postion
                .position,
            Some(900)
        );
        meta.update_cursor(&b, &pos("h1", "bin.000002", 50, 90))
            .unwrap();
        assert_eq!(
            lm.get_latest_index_by("example")
                .unwrap()
                .unwrap()
                .postion
                .position,
            Some(50)
        );
        // different source: the older timestamp wins regardless of offsets
        meta.update_cursor(&c, &pos("h2", "bin.000009", 9999, 10))
            .unwrap();
        assert_eq!(
            lm.get_latest_index_by("example")
                .unwrap()
                .unwrap()
                .postion
                .timestamp,
            Some(10)
        );
        lm.persist_log_position("example", &pos("x", "y", 1, 1))
            .unwrap();
    }

    struct Failing;
    impl LogPositionManager for Failing {
        fn get_latest_index_by(&self, _: &str) -> MetaResult<Option<LogPosition>> {
            Ok(None)
        }
        fn persist_log_position(&self, _: &str, _: &LogPosition) -> MetaResult<()> {
            Err(MetaError::Backend("down".into()))
        }
    }

    #[test]
    fn failback_rules() {
        let primary = Arc::new(MemoryLogPositionManager::new());
        let secondary = Arc::new(MemoryLogPositionManager::new());
        let f = FailbackLogPositionManager::new(primary.clone(), secondary.clone());
        assert_eq!(f.get_latest_index_by("d").unwrap(), None);
        let p = pos("h", "bin.1", 4, 1);
        secondary.persist_log_position("d", &p).unwrap();
        assert_eq!(f.get_latest_index_by("d").unwrap(), Some(p.clone()));
        let q = pos("h", "bin.1", 8, 2);
        f.persist_log_position("d", &q).unwrap();
        // persisted to the primary only
        assert_eq!(primary.get_latest_index_by("d").unwrap(), Some(q.clone()));
        assert_eq!(secondary.get_latest_index_by("d").unwrap(), Some(p));
        assert_eq!(f.get_latest_index_by("d").unwrap(), Some(q.clone()));
        // primary failing: secondary gets it
        let s2 = Arc::new(MemoryLogPositionManager::new());
        let f2 = FailbackLogPositionManager::new(Arc::new(Failing), s2.clone());
        f2.persist_log_position("d", &q).unwrap();
        assert_eq!(s2.get_latest_index_by("d").unwrap(), Some(q));
    }
}
