//! Shared helpers of the live replica-client tests (client_*.rs).
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use canal_binlog::client::{
    binlog_status, find_by_timestamp, start_dump, BinlogEvent, BinlogStatus, BinlogStream,
    ClientError, ConnectOptions, Connection, FoundPosition, ReplicaOptions, StartPosition,
};
use canal_binlog::event::types;

/// The server address from `var`, or `None` (after a note) when unset; fails under CI.
pub fn live_addr(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{var} is not set but CI is: the live server tests must run in CI");
            }
            eprintln!(
                "note: {var} not set; skipping live test (run scripts/start-*.sh and export it)"
            );
            None
        }
    }
}

/// Options for `addr` as `user`/`password`.
pub fn opts(addr: &str, user: &str, password: &str) -> ConnectOptions {
    let mut o = ConnectOptions::from_addr(addr, user, password).expect("address");
    o.connect_timeout = Duration::from_secs(10);
    o.read_timeout = Duration::from_secs(20);
    o
}

/// Root over the Unix socket named by `socket_var` (or `default`).
pub async fn root(addr: &str, socket_var: &str, default: &str) -> Connection {
    let mut o = opts(addr, "root", "");
    o.socket = Some(PathBuf::from(
        std::env::var(socket_var).unwrap_or_else(|_| default.to_string()),
    ));
    Connection::connect(&o)
        .await
        .expect("root via the Unix socket")
}

/// Runs statements, panicking with the statement on failure.
pub async fn exec(conn: &mut Connection, sqls: &[&str]) {
    for sql in sqls {
        if let Err(e) = conn.query(sql).await {
            panic!("`{sql}` failed: {e}");
        }
    }
}

/// A name unique to this process and test, for tables and users.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{}", std::process::id(), nanos % 100_000)
}

/// Replica options of the live tests: registered, 1 s heartbeats, 10 s read timeout.
pub fn replica_opts(server_id: u32) -> ReplicaOptions {
    ReplicaOptions {
        server_id,
        heartbeat_period: Duration::from_secs(1),
        read_timeout: Duration::from_secs(10),
        register: true,
    }
}

/// The dump start at a `SHOW MASTER STATUS` position.
pub fn file_pos(st: &BinlogStatus) -> StartPosition {
    StartPosition::FilePos {
        file: st.file.clone(),
        pos: st.position,
    }
}

/// Creates `test.<table> (<columns>)` (and the `test` database when missing).
pub async fn create_table(root: &mut Connection, table: &str, columns: &str) {
    exec(
        root,
        &[
            "CREATE DATABASE IF NOT EXISTS test",
            &format!("CREATE TABLE test.{table} ({columns})"),
        ],
    )
    .await;
}

/// Drops `test.<table>`.
pub async fn drop_table(root: &mut Connection, table: &str) {
    exec(root, &[&format!("DROP TABLE test.{table}")]).await;
}

/// Logs in as the sandboxes' replication user `canal`/`canal`.
pub async fn canal(addr: &str) -> Connection {
    Connection::connect(&opts(addr, "canal", "canal"))
        .await
        .expect("canal login")
}

/// Logs in as `canal`/`canal` and starts a dump at `start` as replica `server_id`.
pub async fn dump(addr: &str, server_id: u32, start: &StartPosition) -> BinlogStream {
    start_dump(canal(addr).await, &replica_opts(server_id), start)
        .await
        .expect("dump starts")
}

/// The error of a dump that must fail: from the dump request itself or from its first read.
pub async fn dump_error(c: Connection, server_id: u32, start: &StartPosition) -> ClientError {
    match start_dump(c, &replica_opts(server_id), start).await {
        Err(e) => e,
        Ok(mut s) => s.next_event().await.expect_err("the dump must fail"),
    }
}

/// Schema and table named by a TABLE_MAP event body.
pub fn table_map_name(ev: &BinlogEvent) -> Option<(String, String)> {
    let b = ev.body();
    let mut i = 8; // table id (6) + flags (2)
    let sl = usize::from(*b.get(i)?);
    let schema = String::from_utf8_lossy(b.get(i + 1..i + 1 + sl)?).into_owned();
    i += 1 + sl + 1;
    let tl = usize::from(*b.get(i)?);
    let table = String::from_utf8_lossy(b.get(i + 1..i + 1 + tl)?).into_owned();
    Some((schema, table))
}

/// Tracks whether the rows events seen belong to `table`: feed every event, true once the XID
/// of a transaction that mapped `table` arrives.
pub struct TableCommit<'a> {
    table: &'a str,
    mapped: bool,
}

impl<'a> TableCommit<'a> {
    pub fn new(table: &'a str) -> Self {
        TableCommit {
            table,
            mapped: false,
        }
    }

    /// Whether the last TABLE_MAP named `table`.
    pub fn mapped(&self) -> bool {
        self.mapped
    }

    /// Feeds `ev`; true at the XID of a transaction on `table`.
    pub fn committed(&mut self, ev: &BinlogEvent) -> bool {
        if ev.event_type() == types::TABLE_MAP {
            self.mapped = table_map_name(ev).is_some_and(|(_, t)| t == self.table);
        }
        self.mapped && ev.event_type() == types::XID
    }
}

/// Reads events until `pred` matches (panics after `limit`), checking that offsets agree with
/// the headers and, when `contiguous`, that real events of one file follow each other.
pub async fn read_until(
    stream: &mut BinlogStream,
    limit: Duration,
    contiguous: bool,
    mut pred: impl FnMut(&BinlogEvent) -> bool,
) -> Vec<BinlogEvent> {
    let deadline = Instant::now() + limit;
    let mut seen: Vec<BinlogEvent> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, stream.next_event())
            .await
            .expect("timed out waiting for the expected event")
            .expect("binlog stream error");
        let real = !ev.artificial && !ev.is_heartbeat();
        if contiguous && real {
            if let Some(prev) = seen
                .iter()
                .rev()
                .find(|e| !e.artificial && !e.is_heartbeat())
            {
                if ev.file == prev.file {
                    assert_eq!(
                        ev.offset, prev.next_offset,
                        "events must be contiguous: {:?} after {:?}",
                        ev.header, prev.header
                    );
                }
            }
        }
        if real {
            // Sandbox files are far below 4 GiB: offsets are exactly what the header says.
            assert_eq!(
                ev.next_offset,
                u64::from(ev.header.log_pos),
                "{:?}",
                ev.header
            );
            assert_eq!(
                ev.offset,
                ev.next_offset - u64::from(ev.header.event_size),
                "{:?}",
                ev.header
            );
        }
        let done = pred(&ev);
        seen.push(ev);
        if done {
            return seen;
        }
    }
}

/// Reads until the XID of the next transaction on `table`.
pub async fn read_table_commit(
    stream: &mut BinlogStream,
    table: &str,
    limit: Duration,
    contiguous: bool,
) -> Vec<BinlogEvent> {
    let mut t = TableCommit::new(table);
    read_until(stream, limit, contiguous, |ev| t.committed(ev)).await
}

/// The complete (closed) binlog `file`, read through the replica client as replica `server_id`:
/// magic + every real event from position 4 up to and including the ROTATE that closes it,
/// checked contiguous.
pub async fn dump_file(addr: &str, file: &str, server_id: u32) -> Vec<u8> {
    let start = StartPosition::FilePos {
        file: file.to_string(),
        pos: 4,
    };
    let mut s = dump(addr, server_id, &start).await;
    let mut bytes = b"\xfebin".to_vec();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, s.next_event())
            .await
            .expect("timed out reading the binlog")
            .expect("binlog stream error");
        if ev.artificial || ev.is_heartbeat() || &*ev.file != file {
            continue;
        }
        assert_eq!(
            ev.offset,
            bytes.len() as u64,
            "events of {file} must be contiguous"
        );
        bytes.extend_from_slice(&ev.data);
        if ev.event_type() == types::ROTATE {
            break;
        }
    }
    let _ = s.close().await;
    bytes
}

/// Every event's CRC32 trailer verifies.
pub fn assert_checksums(events: &[BinlogEvent]) {
    for e in events {
        let (body, crc) = e.data.split_at(e.data.len() - 4);
        assert_eq!(
            crc32fast::hash(body).to_le_bytes(),
            crc,
            "checksum of {:?}",
            e.header
        );
    }
}

/// Wall clock in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The common part of the timestamp-search tests: two positions around a timestamp taken between
/// two inserts one second apart each side, and what the search found for it.
pub struct TimestampCase {
    pub before: BinlogStatus,
    pub after: BinlogStatus,
    pub ts_ms: i64,
    pub found: FoundPosition,
}

/// Runs the timestamp-search scenario on `test.<table>` (created and dropped here).
pub async fn timestamp_case(
    addr: &str,
    root: &mut Connection,
    server_ids: (u32, u32),
) -> TimestampCase {
    let table = unique("ts");
    create_table(root, &table, "id INT PRIMARY KEY").await;
    exec(root, &[&format!("INSERT INTO test.{table} VALUES (1)")]).await;
    let before = binlog_status(root).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ts_ms = now_ms();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = binlog_status(root).await.unwrap();
    exec(root, &[&format!("INSERT INTO test.{table} VALUES (2)")]).await;
    let canal = opts(addr, "canal", "canal");
    let found = find_by_timestamp(&canal, &replica_opts(server_ids.0), ts_ms)
        .await
        .expect("found");
    assert_eq!(found.file, before.file);
    assert!(
        found.position >= before.position && found.position <= after.position,
        "{found:?} not in [{before:?}, {after:?}]"
    );
    assert!(found.timestamp_ms < ts_ms);
    // Before every binlog: nothing found.
    let e = find_by_timestamp(&canal, &replica_opts(server_ids.1), 1000)
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::PositionNotFound(_)), "{e:?}");
    drop_table(root, &table).await;
    TimestampCase {
        before,
        after,
        ts_ms,
        found,
    }
}
