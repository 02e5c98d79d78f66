//! A MariaDB binlog written with `log_bin_compress=ON`, produced LIVE by the sandbox MariaDB
//! 10.11 (`scripts/start-mariadb.sh`; gated by CANAL_TEST_MARIADB, root over
//! CANAL_TEST_MARIADB_SOCKET) for the decoder tests (mariadb_compressed.rs, robustness.rs,
//! vs_mysql_common.rs). No binlog file is committed.
//!
//! Once per test process, holding the MariaDB user lock [`LOCK`] (so test binaries running in
//! parallel take turns): create a fresh schema, `SET GLOBAL log_bin_compress=ON` and
//! `log_bin_compress_min_len=10`, `FLUSH BINARY LOGS`, run the workload
//! `tests/data/mariadb-10.11-compressed.sql` in that schema, `FLUSH BINARY LOGS` again and
//! restore both globals (also when the workload fails). The closed file — recorded by name
//! right after the first flush — is read back through our replica client (a dump from position
//! 4 up to its closing ROTATE, checked contiguous) and, when the server's binlog directory is
//! readable from here, compared byte for byte with the file on disk.
//!
//! Other sessions may write to the server meanwhile, so the file can hold foreign events:
//! tests select the workload's events by [`CompressedBinlog::schema`]. If another session
//! rotated the binlog during the workload (the workload then spans two files) the whole run is
//! repeated in a new schema.
#![allow(dead_code)]

#[path = "../client_support/mod.rs"]
mod client_support;

use std::sync::OnceLock;

use canal_binlog::client::{binlog_status, Connection};

/// Env var naming the sandbox server (`127.0.0.1:3307`).
pub const VAR: &str = "CANAL_TEST_MARIADB";
/// Env var naming root's Unix socket.
pub const SOCKET_VAR: &str = "CANAL_TEST_MARIADB_SOCKET";
const DEFAULT_SOCKET: &str = "/tmp/canal-mariadb/run/mysqld.sock";
/// MariaDB `GET_LOCK` name serialising the flush–workload–flush section between processes.
pub const LOCK: &str = "canal_rs_log_bin_compress";
/// The workload (one statement per line; `--` comment lines); the tests' expected values.
pub const WORKLOAD: &str = include_str!("../data/mariadb-10.11-compressed.sql");
/// The table the workload creates.
pub const TABLE: &str = "c1";

/// The produced binlog.
pub struct CompressedBinlog {
    /// The server's name of the file (e.g. `mysql-bin.000042`).
    pub file: String,
    /// The schema the workload ran in (unique to this run).
    pub schema: String,
    /// The complete file: magic and every event up to and including the closing ROTATE.
    pub bytes: Vec<u8>,
}

/// The live compressed binlog, or `None` (after a note) when CANAL_TEST_MARIADB is unset;
/// with env CI set an unset variable fails the test.
pub fn compressed_binlog() -> Option<&'static CompressedBinlog> {
    static LIVE: OnceLock<CompressedBinlog> = OnceLock::new();
    let addr = client_support::live_addr(VAR)?;
    Some(LIVE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(produce(&addr))
    }))
}

/// The workload statements, in order.
pub fn workload() -> Vec<&'static str> {
    WORKLOAD
        .lines()
        .map(|l| l.trim().trim_end_matches(';').trim())
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect()
}

async fn run(conn: &mut Connection, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    conn.query(sql)
        .await
        .map(|r| r.rows)
        .map_err(|e| format!("`{sql}` failed: {e}"))
}

/// The single value of a one-row, one-column query.
async fn scalar(conn: &mut Connection, sql: &str) -> Result<String, String> {
    let rows = run(conn, sql).await?;
    rows.first()
        .and_then(|r| r.first())
        .cloned()
        .flatten()
        .ok_or_else(|| format!("`{sql}` returned no value"))
}

async fn produce(addr: &str) -> CompressedBinlog {
    let mut root = client_support::root(addr, SOCKET_VAR, DEFAULT_SOCKET).await;
    let got = scalar(&mut root, &format!("SELECT GET_LOCK('{LOCK}', 300)"))
        .await
        .unwrap();
    assert_eq!(got, "1", "GET_LOCK('{LOCK}') timed out");
    let mut result = None;
    for attempt in 1..=3 {
        match attempt_once(&mut root).await {
            Ok(Some(r)) => {
                result = Some(r);
                break;
            }
            Ok(None) => eprintln!("note: binlog rotated by another session (attempt {attempt})"),
            Err(e) => {
                // Best effort: the lock also goes away with the connection.
                let _ = run(&mut root, &format!("SELECT RELEASE_LOCK('{LOCK}')")).await;
                panic!("{e}");
            }
        }
    }
    run(&mut root, &format!("SELECT RELEASE_LOCK('{LOCK}')"))
        .await
        .unwrap();
    let (file, schema) = result.expect("the binlog kept rotating during the workload (3 tries)");
    let bytes = client_support::dump_file(addr, &file, 60_000 + std::process::id() % 20_000).await;
    // The dump must be the file itself: compare with the server's copy when it is reachable.
    let basename = scalar(&mut root, "SELECT @@GLOBAL.log_bin_basename")
        .await
        .unwrap();
    let on_disk = std::path::Path::new(&basename)
        .parent()
        .map(|d| d.join(&file));
    match on_disk.as_deref().map(std::fs::read) {
        Some(Ok(disk)) => assert!(
            disk == bytes,
            "{file}: dump ({} bytes) differs from the file on disk ({} bytes)",
            bytes.len(),
            disk.len()
        ),
        _ => eprintln!("note: {basename} not readable here; dumped copy not cross-checked"),
    }
    let _ = root.quit().await;
    eprintln!(
        "compressed binlog: {file} ({} bytes, schema {schema})",
        bytes.len()
    );
    CompressedBinlog {
        file,
        schema,
        bytes,
    }
}

/// One run of the workload in a fresh schema, returning (file, schema); `Ok(None)` when another
/// session rotated the binlog meanwhile. Global settings are restored before returning.
async fn attempt_once(root: &mut Connection) -> Result<Option<(String, String)>, String> {
    let schema = client_support::unique("canal_cz");
    // Created before compression is switched on: this statement belongs to an earlier file.
    run(root, &format!("CREATE DATABASE {schema}")).await?;
    let row = run(
        root,
        "SELECT @@GLOBAL.log_bin_compress, @@GLOBAL.log_bin_compress_min_len",
    )
    .await?;
    let saved = match row.first().map(Vec::as_slice) {
        Some([Some(on), Some(min)]) => (on.clone(), min.clone()),
        other => return Err(format!("unexpected log_bin_compress values: {other:?}")),
    };
    let mut outcome = Ok(None);
    for sql in [
        "SET GLOBAL log_bin_compress = ON",
        "SET GLOBAL log_bin_compress_min_len = 10",
        "FLUSH BINARY LOGS",
    ] {
        if let Err(e) = run(root, sql).await {
            outcome = Err(e);
            break;
        }
    }
    if outcome.is_ok() {
        outcome = async {
            let file = binlog_status(root).await.map_err(|e| e.to_string())?.file;
            run(root, &format!("USE {schema}")).await?;
            for sql in workload() {
                run(root, sql).await?;
            }
            let now = binlog_status(root).await.map_err(|e| e.to_string())?.file;
            Ok((now == file).then(|| (file, schema.clone())))
        }
        .await;
    }
    // Always close the file and restore the globals, whatever happened above.
    let restore = [
        "FLUSH BINARY LOGS".to_string(),
        format!("SET GLOBAL log_bin_compress = {}", saved.0),
        format!("SET GLOBAL log_bin_compress_min_len = {}", saved.1),
        format!("DROP DATABASE IF EXISTS {schema}"),
    ];
    for sql in &restore {
        if let Err(e) = run(root, sql).await {
            outcome = outcome.and(Err(e));
        }
    }
    outcome
}
