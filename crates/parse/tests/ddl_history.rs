//! DDL history against binlogs written LIVE by the sandbox MariaDB 10.11
//! (`scripts/start-mariadb.sh`; gated by CANAL_TEST_MARIADB, root over CANAL_TEST_MARIADB_SOCKET).
//!
//! The workload `tests/data/ddl_history_workload.sql` runs in a fresh schema once with
//! `binlog_row_metadata=FULL` and once with MINIMAL (SET GLOBAL as root, restored afterwards),
//! each in its own binlog file (FLUSH BINARY LOGS before and after). The finished file is read
//! back through our replica client (a dump from position 4 up to the file's closing ROTATE) and
//! written to a temporary directory under its server name. Every row must then carry the column
//! names its table had when the row was written — when converting the whole file, when a fresh
//! converter restarts in the middle with the persisted history, and never silently otherwise.
//!
//! Other sessions may write to the same server meanwhile: everything is scoped to the test's
//! own schema (filter regex, entry selection, restart offsets).

#[path = "../../binlog/tests/client_support/mod.rs"]
mod client_support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use canal_binlog::client::{binlog_status, Connection};
use canal_binlog::event::{EventBody, RowsKind};
use canal_binlog::BinlogFile;
use canal_parse::entries_json::convert_file_from;
use canal_parse::{ConvertOptions, Converter, History, ParseError, ParsedEntry, TableMetaSource};
use canal_protocol::entry::{Entry, EntryType, EventType, RowChange};
use client_support::{exec, live_addr, unique};
use prost::Message;

const VAR: &str = "CANAL_TEST_MARIADB";
const SOCKET_VAR: &str = "CANAL_TEST_MARIADB_SOCKET";
const DEFAULT_SOCKET: &str = "/tmp/canal-mariadb/run/mysqld.sock";
const WORKLOAD: &str = include_str!("data/ddl_history_workload.sql");

/// One binlog file produced by the workload.
struct Produced {
    /// Where the copy lives (named as on the server).
    path: PathBuf,
    /// The server's file name.
    name: String,
    /// The schema the workload ran in.
    schema: String,
}

/// Both files, produced once per test process.
struct Live {
    _dir: tempfile::TempDir,
    full: Produced,
    minimal: Produced,
}

/// The live files, or `None` (after a note) when the sandbox is not configured.
fn live() -> Option<&'static Live> {
    static LIVE: OnceLock<Live> = OnceLock::new();
    let addr = live_addr(VAR)?;
    Some(LIVE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(produce(&addr))
    }))
}

/// The workload statements (one per line, comments skipped).
fn workload() -> Vec<&'static str> {
    WORKLOAD
        .lines()
        .map(|l| l.trim().trim_end_matches(';'))
        .filter(|l| !l.is_empty() && !l.starts_with("--"))
        .collect()
}

async fn produce(addr: &str) -> Live {
    let dir = tempfile::tempdir().unwrap();
    let mut root = client_support::root(addr, SOCKET_VAR, DEFAULT_SOCKET).await;
    let saved = root
        .query("SELECT @@GLOBAL.binlog_row_metadata")
        .await
        .unwrap()
        .rows[0][0]
        .clone()
        .unwrap();
    let base = unique("hist");
    let mut out = Vec::new();
    for mode in ["FULL", "MINIMAL"] {
        // Another session may rotate the binlog (FLUSH BINARY LOGS) in the middle of the
        // workload: then the run is repeated in a fresh schema until it fits in one file.
        let mut attempt = 0;
        let (file, schema) = loop {
            let schema = format!("{base}_{}{attempt}", mode.to_ascii_lowercase());
            let (first, last) = run_workload(&mut root, mode, &saved, &schema).await;
            exec(&mut root, &[&format!("DROP DATABASE {schema}")]).await;
            if first == last {
                break (first, schema);
            }
            attempt += 1;
            assert!(attempt < 5, "the binlog kept rotating under the workload");
            eprintln!("note: {first} rotated to {last} during the workload; again");
        };
        let path = dir.path().join(&file);
        let bytes =
            client_support::dump_file(addr, &file, 20_000 + std::process::id() % 10_000).await;
        eprintln!("{mode}: {file} ({} bytes, schema {schema})", bytes.len());
        std::fs::write(&path, bytes).unwrap();
        out.push(Produced {
            path,
            name: file,
            schema,
        });
    }
    let minimal = out.pop().unwrap();
    let full = out.pop().unwrap();
    Live {
        _dir: dir,
        full,
        minimal,
    }
}

/// Runs the workload in `schema` with `binlog_row_metadata = mode` in a fresh binlog file
/// (restoring `saved` afterwards, also on failure) and closes the file. Returns the binlog
/// file in force before and after the workload.
async fn run_workload(
    root: &mut Connection,
    mode: &str,
    saved: &str,
    schema: &str,
) -> (String, String) {
    exec(
        root,
        &[
            &format!("SET GLOBAL binlog_row_metadata = {mode}"),
            "FLUSH BINARY LOGS",
        ],
    )
    .await;
    let first = binlog_status(root).await.unwrap().file;
    let mut failed = None;
    let setup = [format!("CREATE DATABASE {schema}"), format!("USE {schema}")];
    for sql in setup.iter().map(String::as_str).chain(workload()) {
        if let Err(e) = root.query(sql).await {
            failed = Some(format!("`{sql}` failed: {e}"));
            break;
        }
    }
    let last = binlog_status(root).await.unwrap().file;
    let restore = format!("SET GLOBAL binlog_row_metadata = {saved}");
    exec(root, &["FLUSH BINARY LOGS", &restore]).await;
    if let Some(f) = failed {
        panic!("{f}");
    }
    (first, last)
}

/// Hand-written from the workload: (table, column names) of each INSERT, in order.
fn expected() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("t", vec!["id", "a", "b"]),
        ("t", vec!["id", "a", "b", "c"]),
        ("t", vec!["id", "a", "c"]),
        ("t", vec!["id", "a_renamed", "c"]),
        ("t", vec!["c", "id", "a_renamed"]),
        ("t", vec!["c", "id", "name"]),
        ("t2", vec!["c", "id", "name"]),
        ("t2", vec!["k", "v", "w"]),
    ]
}

/// (table, column names) of the INSERT entries of `schema`.
fn inserts(entries: &[ParsedEntry], schema: &str) -> Vec<(String, Vec<String>)> {
    entries
        .iter()
        .filter(|e| e.entry_type == EntryType::Rowdata && e.event_type == Some(EventType::Insert))
        .filter_map(|e| {
            let en = Entry::decode(e.bytes.clone()).unwrap();
            let h = en.header.unwrap();
            if h.schema_name.as_deref() != Some(schema) {
                return None;
            }
            let rc = RowChange::decode(en.store_value.unwrap()).unwrap();
            let names = rc.row_datas[0]
                .after_columns
                .iter()
                .map(|c| c.name.clone().unwrap())
                .collect();
            Some((h.table_name.unwrap(), names))
        })
        .collect()
}

fn check(got: &[(String, Vec<String>)], want: &[(&str, Vec<&str>)]) {
    let got: Vec<(&str, Vec<&str>)> = got
        .iter()
        .map(|(t, n)| (t.as_str(), n.iter().map(|s| s.as_str()).collect()))
        .collect();
    assert_eq!(got, want);
}

/// Offset of the GTID event opening the transaction of the `n`-th INSERT (0-based) into
/// `schema`.
fn insert_txn_start(path: &Path, schema: &str, n: usize) -> u64 {
    let f = BinlogFile::open(path).unwrap().unwrap();
    let mut last_gtid = 0;
    let mut seen = 0;
    for ev in f.events() {
        let ev = ev.unwrap();
        match &ev.body {
            EventBody::MariaGtid(_) => last_gtid = ev.offset,
            EventBody::Rows(r)
                if r.kind == RowsKind::Write
                    && r.table.as_ref().is_some_and(|t| t.schema == schema) =>
            {
                if seen == n {
                    return last_gtid;
                }
                seen += 1;
            }
            _ => {}
        }
    }
    panic!("insert {n} into {schema} not found");
}

fn opts_for(schema: &str) -> ConvertOptions {
    ConvertOptions {
        timezone: Some("UTC".into()),
        filter_regex: format!("{schema}\\..*"),
        ..Default::default()
    }
}

fn run(p: &Produced) {
    let (path, file, schema) = (&p.path, p.name.as_str(), p.schema.as_str());
    let opts = || opts_for(schema);
    let dir = tempfile::tempdir().unwrap();
    // 1. First process: whole file, history recorded.
    let mut c =
        Converter::new(opts())
            .unwrap()
            .with_history(History::open(dir.path()).unwrap(), file, 4);
    let all = convert_file_from(&mut c, path, 4).unwrap();
    check(&inserts(&all, schema), &expected());
    let recorded = History::open(dir.path()).unwrap().records().len();
    assert!(recorded >= 10, "DDL records persisted: {recorded}");
    // 2. Fresh process, existing history, replay from the first position: same names, no
    //    duplicate history records.
    let mut c =
        Converter::new(opts())
            .unwrap()
            .with_history(History::open(dir.path()).unwrap(), file, 4);
    check(
        &inserts(&convert_file_from(&mut c, path, 4).unwrap(), schema),
        &expected(),
    );
    assert_eq!(History::open(dir.path()).unwrap().records().len(), recorded);
    // 3. Fresh process, existing history, restart in the middle of the DDL sequence.
    for n in [3, 5, 6, 7] {
        let start = insert_txn_start(path, schema, n);
        let mut c = Converter::new(opts()).unwrap().with_history(
            History::open(dir.path()).unwrap(),
            file,
            start,
        );
        check(
            &inserts(&convert_file_from(&mut c, path, start).unwrap(), schema),
            &expected()[n..],
        );
    }
}

#[test]
fn history_full_metadata() {
    let Some(l) = live() else { return };
    run(&l.full);
}

#[test]
fn history_minimal_metadata() {
    let Some(l) = live() else { return };
    run(&l.minimal);
}

/// A live source that only knows today's schema (`t` is gone, `t2` has the last shape) or a
/// stale 3-column `t`.
struct Source(Option<&'static str>);
impl TableMetaSource for Source {
    fn show_create_table(&mut self, _schema: &str, table: &str) -> Result<Option<String>, String> {
        Ok(match (table, self.0) {
            ("t", Some(t)) => Some(t.to_string()),
            ("t2", _) => Some("CREATE TABLE `t2` (`k` bigint(20) unsigned NOT NULL, `v` text, `w` decimal(10,2), PRIMARY KEY (`k`))".into()),
            _ => None,
        })
    }
}

#[test]
fn restart_without_history() {
    let Some(l) = live() else { return };
    let m = &l.minimal;
    // Row 2 of `t` has 4 columns (id, a, b, c).
    let start = insert_txn_start(&m.path, &m.schema, 1);
    // MINIMAL metadata, no history, table unknown to the source: clear error, no guessing.
    let mut c = Converter::new(opts_for(&m.schema))
        .unwrap()
        .with_source(Box::new(Source(None)));
    let e = convert_file_from(&mut c, &m.path, start).unwrap_err();
    assert!(matches!(e, ParseError::NoTableMeta(_)), "{e}");
    assert!(e.to_string().contains(&format!("{}.t", m.schema)), "{e}");
    // MINIMAL metadata, source has a 3-column `t`: mismatch error naming table, position and both lists.
    let stale = "CREATE TABLE `t` (`id` int(11) NOT NULL, `a` varchar(10), `c` datetime, PRIMARY KEY (`id`))";
    let mut c = Converter::new(opts_for(&m.schema))
        .unwrap()
        .with_source(Box::new(Source(Some(stale))));
    let e = convert_file_from(&mut c, &m.path, start).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ParseError::ColumnMismatch(_)), "{msg}");
    assert!(
        msg.contains(&format!("{}.t", m.schema))
            && msg.contains(&format!("{}:", m.name))
            && msg.contains(r#"["id", "a", "c"]"#)
            && msg.contains("4 columns"),
        "{msg}"
    );
    // FULL metadata: the TABLE_MAP names are the truth even with the stale source.
    let f = &l.full;
    let start = insert_txn_start(&f.path, &f.schema, 1);
    let mut c = Converter::new(opts_for(&f.schema))
        .unwrap()
        .with_source(Box::new(Source(Some(stale))));
    let got = inserts(
        &convert_file_from(&mut c, &f.path, start).unwrap(),
        &f.schema,
    );
    check(&got, &expected()[1..]);
}
