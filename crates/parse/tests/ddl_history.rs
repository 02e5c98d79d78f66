//! DDL history: binlogs written by a real MariaDB 10.11 (tests/data/ddl_history_workload.sql,
//! once with binlog_row_metadata=FULL, once MINIMAL). Every row must carry the column names its
//! table had when the row was written — when converting the whole file, when a fresh converter
//! restarts in the middle with the persisted history, and never silently otherwise.

use std::path::{Path, PathBuf};

use canal_binlog::event::EventBody;
use canal_binlog::BinlogFile;
use canal_parse::entries_json::convert_file_from;
use canal_parse::{ConvertOptions, Converter, History, ParseError, ParsedEntry, TableMetaSource};
use canal_protocol::entry::{Entry, EntryType, EventType, RowChange};
use prost::Message;

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(name)
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

fn inserts(entries: &[ParsedEntry]) -> Vec<(String, Vec<String>)> {
    entries
        .iter()
        .filter(|e| e.entry_type == EntryType::Rowdata && e.event_type == Some(EventType::Insert))
        .map(|e| {
            let en = Entry::decode(e.bytes.clone()).unwrap();
            let table = en.header.unwrap().table_name.unwrap();
            let rc = RowChange::decode(en.store_value.unwrap()).unwrap();
            let names = rc.row_datas[0]
                .after_columns
                .iter()
                .map(|c| c.name.clone().unwrap())
                .collect();
            (table, names)
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

/// Offset of the GTID event opening the transaction of the `n`-th INSERT (0-based).
fn insert_txn_start(path: &Path, n: usize) -> u64 {
    let f = BinlogFile::open(path).unwrap().unwrap();
    let mut last_gtid = 0;
    let mut seen = 0;
    for ev in f.events() {
        let ev = ev.unwrap();
        match &ev.body {
            EventBody::MariaGtid(_) => last_gtid = ev.offset,
            EventBody::RowsQuery { sql } if sql.starts_with(b"INSERT") => {
                if seen == n {
                    return last_gtid;
                }
                seen += 1;
            }
            _ => {}
        }
    }
    panic!("insert {n} not found");
}

fn opts() -> ConvertOptions {
    ConvertOptions {
        timezone: Some("UTC".into()),
        ..Default::default()
    }
}

fn run(file: &str) {
    let path = data(file);
    let dir = tempfile::tempdir().unwrap();
    // 1. First process: whole file, history recorded.
    let mut c =
        Converter::new(opts())
            .unwrap()
            .with_history(History::open(dir.path()).unwrap(), file, 4);
    let all = convert_file_from(&mut c, &path, 4).unwrap();
    check(&inserts(&all), &expected());
    let recorded = History::open(dir.path()).unwrap().records().len();
    assert!(recorded >= 10, "DDL records persisted: {recorded}");
    // 2. Fresh process, existing history, replay from the first position: same names, no
    //    duplicate history records.
    let mut c =
        Converter::new(opts())
            .unwrap()
            .with_history(History::open(dir.path()).unwrap(), file, 4);
    check(
        &inserts(&convert_file_from(&mut c, &path, 4).unwrap()),
        &expected(),
    );
    assert_eq!(History::open(dir.path()).unwrap().records().len(), recorded);
    // 3. Fresh process, existing history, restart in the middle of the DDL sequence.
    for n in [3, 5, 6, 7] {
        let start = insert_txn_start(&path, n);
        let mut c = Converter::new(opts()).unwrap().with_history(
            History::open(dir.path()).unwrap(),
            file,
            start,
        );
        check(
            &inserts(&convert_file_from(&mut c, &path, start).unwrap()),
            &expected()[n..],
        );
    }
}

#[test]
fn history_full_metadata() {
    run("ddl_history_full.000001");
}

#[test]
fn history_minimal_metadata() {
    run("ddl_history_minimal.000001");
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
    // Row 2 of `t` has 4 columns (id, a, b, c).
    let start = insert_txn_start(&data("ddl_history_minimal.000001"), 1);
    // MINIMAL metadata, no history, table unknown to the source: clear error, no guessing.
    let mut c = Converter::new(opts())
        .unwrap()
        .with_source(Box::new(Source(None)));
    let e = convert_file_from(&mut c, &data("ddl_history_minimal.000001"), start).unwrap_err();
    assert!(matches!(e, ParseError::NoTableMeta(_)), "{e}");
    assert!(e.to_string().contains("hist.t"), "{e}");
    // MINIMAL metadata, source has a 3-column `t`: mismatch error naming table, position and both lists.
    let stale = "CREATE TABLE `t` (`id` int(11) NOT NULL, `a` varchar(10), `c` datetime, PRIMARY KEY (`id`))";
    let mut c = Converter::new(opts())
        .unwrap()
        .with_source(Box::new(Source(Some(stale))));
    let e = convert_file_from(&mut c, &data("ddl_history_minimal.000001"), start).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ParseError::ColumnMismatch(_)), "{msg}");
    assert!(
        msg.contains("hist.t")
            && msg.contains("ddl_history_minimal.000001:")
            && msg.contains(r#"["id", "a", "c"]"#)
            && msg.contains("4 columns"),
        "{msg}"
    );
    // FULL metadata: the TABLE_MAP names are the truth even with the stale source.
    let start = insert_txn_start(&data("ddl_history_full.000001"), 1);
    let mut c = Converter::new(opts())
        .unwrap()
        .with_source(Box::new(Source(Some(stale))));
    let got = inserts(&convert_file_from(&mut c, &data("ddl_history_full.000001"), start).unwrap());
    check(&got, &expected()[1..]);
}
