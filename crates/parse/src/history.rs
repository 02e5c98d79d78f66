//! Persistent table-metadata history per destination, keyed by binlog position.
//!
//! An append-only file of JSON lines under the data dir (`<dir>/table_meta_history.jsonl`): one
//! record per DDL statement (position, default schema, text) and one per definition read from
//! the live source (`SHOW CREATE TABLE` text at the rows event that needed it). On start the
//! records *before* the start position are replayed into an empty schema, so replaying an old
//! binlog range sees the column names valid at that position. A plain file was chosen over an
//! embedded database because the access pattern is append + full sequential replay, records are
//! few (one per DDL), and a text file is easy to inspect and repair; a torn last line (crash while
//! appending) is ignored on load.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A DDL statement from the binlog.
    Ddl,
    /// A `SHOW CREATE TABLE` text read from the live source.
    Snapshot,
}

/// One history record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Kind.
    pub kind: RecordKind,
    /// Binlog file.
    pub file: String,
    /// Event start offset.
    pub offset: u64,
    /// Event timestamp (seconds).
    pub timestamp: u32,
    /// Source server id.
    pub server_id: u32,
    /// Default schema of the statement.
    pub default_schema: String,
    /// Statement text.
    pub sql: String,
    /// Snapshot: the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<(String, String)>,
    /// Server version seen in the stream (to pick the type spelling), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

/// Compares binlog positions: file by numeric suffix (then name), then offset.
pub fn position_cmp(f1: &str, o1: u64, f2: &str, o2: u64) -> std::cmp::Ordering {
    let num = |f: &str| f.rsplit('.').next().and_then(|n| n.parse::<u64>().ok());
    let fc = match (num(f1), num(f2)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => f1.cmp(f2),
    };
    fc.then(o1.cmp(&o2))
}

type RecordKey = (RecordKind, String, u64, Option<(String, String)>);

/// The history store of one destination.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    records: Vec<Record>,
    seen: HashSet<RecordKey>,
    out: File,
    server_version: Option<String>,
}

impl History {
    /// Opens (creating) `<dir>/table_meta_history.jsonl`.
    pub fn open(dir: impl AsRef<Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir.as_ref())?;
        let path = dir.as_ref().join("table_meta_history.jsonl");
        let mut records = Vec::new();
        if path.exists() {
            let f = File::open(&path)?;
            for (n, line) in BufReader::new(f).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Record>(&line) {
                    Ok(r) => records.push(r),
                    Err(e) => tracing::warn!(
                        "{}:{}: skipping unreadable history record: {e}",
                        path.display(),
                        n + 1
                    ),
                }
            }
        }
        let seen = records
            .iter()
            .map(|r| (r.kind, r.file.clone(), r.offset, r.table.clone()))
            .collect();
        let out = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(History {
            path,
            records,
            seen,
            out,
            server_version: None,
        })
    }

    /// The file backing this history.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All records in file order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Records strictly before (file, offset), in position order (stable).
    pub fn records_before(&self, file: &str, offset: u64) -> Vec<Record> {
        let mut v: Vec<Record> = self
            .records
            .iter()
            .filter(|r| position_cmp(&r.file, r.offset, file, offset) == std::cmp::Ordering::Less)
            .cloned()
            .collect();
        v.sort_by(|a, b| position_cmp(&a.file, a.offset, &b.file, b.offset));
        v
    }

    /// Remembers the server version for the next records.
    pub fn note_server_version(&mut self, v: &str) {
        self.server_version = Some(v.to_string());
    }

    fn append(&mut self, r: Record) -> std::io::Result<()> {
        let key = (r.kind, r.file.clone(), r.offset, r.table.clone());
        if self.seen.contains(&key) {
            return Ok(());
        }
        let mut line = serde_json::to_string(&r).map_err(std::io::Error::other)?;
        line.push('\n');
        self.out.write_all(line.as_bytes())?;
        self.out.flush()?;
        self.seen.insert(key);
        self.records.push(r);
        Ok(())
    }

    /// Appends a DDL record (ignored if one exists at that position).
    pub fn append_ddl(
        &mut self,
        file: &str,
        offset: u64,
        ts: u32,
        sid: u32,
        default_schema: &str,
        sql: &str,
    ) -> std::io::Result<()> {
        let server_version = self.server_version.clone();
        self.append(Record {
            kind: RecordKind::Ddl,
            file: file.into(),
            offset,
            timestamp: ts,
            server_id: sid,
            default_schema: default_schema.into(),
            sql: sql.into(),
            table: None,
            server_version,
        })
    }

    /// Appends a live-source definition of `schema.table` seen at a rows event.
    #[allow(clippy::too_many_arguments)]
    pub fn append_snapshot(
        &mut self,
        file: &str,
        offset: u64,
        ts: u32,
        sid: u32,
        schema: &str,
        table: &str,
        sql: &str,
    ) -> std::io::Result<()> {
        let server_version = self.server_version.clone();
        self.append(Record {
            kind: RecordKind::Snapshot,
            file: file.into(),
            offset,
            timestamp: ts,
            server_id: sid,
            default_schema: schema.into(),
            sql: sql.into(),
            table: Some((schema.into(), table.into())),
            server_version,
        })
    }
}
