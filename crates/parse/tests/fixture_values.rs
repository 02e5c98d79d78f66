//! Column values of real server-written fixture binlogs (shared/fixtures/binlog), expected
//! values written by hand from the statements in the files (as printed by `mysqlbinlog -vv`)
//! and the rules of compat/entry-conversion.md §3.

use std::path::PathBuf;

use canal_parse::entries_json::convert_file;
use canal_parse::{ConvertOptions, Converter, TableMetaSource};
use canal_protocol::entry::{Column, Entry, EntryType, EventType, RowChange};
use prost::Message;

fn fixture(name: &str) -> Option<PathBuf> {
    let d = std::env::var("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("fixtures/binlog/rust_mysql_common")
        .join(name);
    if d.is_file() {
        Some(d)
    } else if std::env::var("CI").is_ok() {
        panic!("missing {}", d.display());
    } else {
        eprintln!("note: {} missing; skipped", d.display());
        None
    }
}

fn rows(entries: &[canal_parse::ParsedEntry]) -> Vec<(EventType, RowChange)> {
    entries
        .iter()
        .filter(|e| {
            e.entry_type == EntryType::Rowdata
                && matches!(
                    e.event_type,
                    Some(EventType::Insert | EventType::Update | EventType::Delete)
                )
        })
        .map(|e| {
            let en = Entry::decode(e.bytes.clone()).unwrap();
            (
                e.event_type.unwrap(),
                RowChange::decode(en.store_value.unwrap()).unwrap(),
            )
        })
        .collect()
}

/// (name, sqlType, value or None for NULL, mysqlType, isKey, updated)
type Want<'a> = (&'a str, i32, Option<&'a str>, &'a str, bool, bool);

fn check(cols: &[Column], want: &[Want<'_>]) {
    assert_eq!(cols.len(), want.len());
    for (c, w) in cols.iter().zip(want) {
        let got = (
            c.name.as_deref().unwrap(),
            c.sql_type.unwrap(),
            c.value.as_deref(),
            c.mysql_type.as_deref().unwrap(),
            c.is_key.unwrap(),
            c.updated.unwrap(),
        );
        assert_eq!(got, *w);
        assert_eq!(c.is_null, Some(w.2.is_none()));
    }
}

#[test]
fn mysql8_enum_string_set() {
    let Some(f) = fixture("mysql-enum-string-set.000001") else {
        return;
    };
    let r = rows(&convert_file(&f, ConvertOptions::default(), 0).unwrap());
    let d100 = "0123456789".repeat(10);
    // f2 of the insert / f5 of the update: the statement's 298-character literal (mysqlbinlog -vv).
    let seg = format!("{}012345678", "0123456789".repeat(12));
    let long = format!("{seg}{seg}{}", "0123456789".repeat(4));
    assert_eq!(long.len(), 298);
    // CREATE TABLE t(f1 CHAR(128), f2 VARCHAR(300), f3 ENUM('var1','variant2','foo'), f4 SET('one','two','three','four'), f5 TEXT)
    let ty = [
        "char(128)",
        "varchar(300)",
        "enum('var1','variant2','foo')",
        "set('one','two','three','four')",
        "text",
    ];
    assert_eq!(r[0].0, EventType::Insert);
    check(
        &r[0].1.row_datas[0].after_columns,
        &[
            ("f1", 1, Some(&d100), ty[0], false, true),
            ("f2", 12, Some(&long), ty[1], false, true),
            ("f3", 4, Some("1"), ty[2], false, true),
            ("f4", -7, Some("5"), ty[3], false, true),
            ("f5", 2005, Some("0123456789"), ty[4], false, true),
        ],
    );
    assert_eq!(r[1].0, EventType::Update);
    let rd = &r[1].1.row_datas[0];
    check(
        &rd.before_columns,
        &[
            ("f1", 1, Some(&d100), ty[0], false, false),
            ("f2", 12, Some(&long), ty[1], false, false),
            ("f3", 4, Some("1"), ty[2], false, false),
            ("f4", -7, Some("5"), ty[3], false, false),
            ("f5", 2005, Some("0123456789"), ty[4], false, false),
        ],
    );
    check(
        &rd.after_columns,
        &[
            ("f1", 1, Some("field1"), ty[0], false, true),
            ("f2", 12, Some("field_2"), ty[1], false, true),
            ("f3", 4, Some("2"), ty[2], false, true),
            ("f4", -7, Some("10"), ty[3], false, true),
            ("f5", 2005, Some(&long), ty[4], false, true),
        ],
    );
    assert_eq!(r[2].0, EventType::Delete);
    check(
        &r[2].1.row_datas[0].before_columns,
        &[
            ("f1", 1, Some("field1"), ty[0], false, false),
            ("f2", 12, Some("field_2"), ty[1], false, false),
            ("f3", 4, Some("2"), ty[2], false, false),
            ("f4", -7, Some("10"), ty[3], false, false),
            ("f5", 2005, Some(&long), ty[4], false, false),
        ],
    );
}

#[test]
fn mysql8_bit() {
    let Some(f) = fixture("mysql_type_bit.000001") else {
        return;
    };
    let r = rows(&convert_file(&f, ConvertOptions::default(), 0).unwrap());
    // CREATE TABLE foo(a BIT(3), b TEXT, c BIT(8)); INSERT b'100', 'foo', b'00100000'
    check(
        &r[0].1.row_datas[0].after_columns,
        &[
            ("a", -7, Some("4"), "bit(3)", false, true),
            ("b", 2005, Some("foo"), "text", false, true),
            ("c", -7, Some("32"), "bit(8)", false, true),
        ],
    );
}

/// `SHOW CREATE TABLE` as MariaDB 10.5 prints it for the table in the file (written by hand).
const OUTBOX: &str = "CREATE TABLE `outbox` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `topic` varchar(255) NOT NULL,\n  \
     `event_type` enum('BLOB','JSON','PROTOBUF') DEFAULT NULL,\n  `event` text NOT NULL,\n  \
     `created` timestamp NOT NULL DEFAULT current_timestamp(),\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB";

struct Outbox;
impl TableMetaSource for Outbox {
    fn show_create_table(&mut self, schema: &str, table: &str) -> Result<Option<String>, String> {
        assert_eq!((schema, table), ("toddy_test", "outbox"));
        Ok(Some(OUTBOX.into()))
    }
}

#[test]
fn async_style_meta_prefetch() {
    let Some(f) = fixture("mariadb-bin.000001") else {
        return;
    };
    let file = canal_binlog::BinlogFile::open(&f).unwrap().unwrap();
    let mut c = Converter::new(ConvertOptions {
        timezone: Some("UTC".into()),
        ..Default::default()
    })
    .unwrap();
    c.set_file("mariadb-bin.000001");
    let (mut asked, mut out) = (Vec::new(), Vec::new());
    for ev in file.events() {
        let ev = ev.unwrap();
        if let Some((s, t)) = c.missing_table_meta(&ev) {
            c.put_show_create(
                &s,
                &t,
                OUTBOX,
                ev.offset,
                ev.header.timestamp,
                ev.header.server_id,
            )
            .unwrap();
            asked.push((s, t));
        }
        c.convert(&ev, &mut out).unwrap();
    }
    assert_eq!(
        asked,
        vec![("toddy_test".to_string(), "outbox".to_string())]
    );
    let r = rows(&out);
    assert_eq!(r.len(), 2);
    let types: Vec<&str> = r[0].1.row_datas[0]
        .after_columns
        .iter()
        .map(|c| c.mysql_type.as_deref().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "int(11)",
            "varchar(255)",
            "enum('BLOB','JSON','PROTOBUF')",
            "text",
            "timestamp"
        ]
    );
}

fn outbox(zone: &str, source: bool) -> Vec<(EventType, RowChange)> {
    let f = fixture("mariadb-bin.000001").unwrap();
    let mut c = Converter::new(ConvertOptions {
        timezone: Some(zone.into()),
        ..Default::default()
    })
    .unwrap();
    if source {
        c = c.with_source(Box::new(Outbox));
    }
    rows(&canal_parse::entries_json::convert_file_with(&mut c, &f, 0).unwrap())
}

#[test]
fn mariadb_outbox_timestamp_zone() {
    if fixture("mariadb-bin.000001").is_none() {
        return;
    }
    // Table created before the file: metadata from the (here: hand-written) live source.
    let w = |id: &'static str, ts: &'static str| -> Vec<Want<'static>> {
        vec![
            ("id", 4, Some(id), "int(11)", true, true),
            ("topic", 12, Some("foo"), "varchar(255)", false, true),
            (
                "event_type",
                4,
                Some("2"),
                "enum('BLOB','JSON','PROTOBUF')",
                false,
                true,
            ),
            ("event", 2005, Some("{\"foo\":1}"), "text", false, true),
            ("created", 93, Some(ts), "timestamp", false, true),
        ]
    };
    let r = outbox("UTC", true);
    check(
        &r[0].1.row_datas[0].after_columns,
        &w("62", "2022-04-20 22:18:04"),
    );
    check(
        &r[1].1.row_datas[0].after_columns,
        &w("63", "2022-04-20 22:19:55"),
    );
    // The zone option (alibaba/canal #2522): same instants rendered in Asia/Shanghai.
    let r = outbox("Asia/Shanghai", true);
    check(
        &r[0].1.row_datas[0].after_columns,
        &w("62", "2022-04-21 06:18:04"),
    );
    // No source: FULL TABLE_MAP metadata supplies names and the primary key.
    let r = outbox("UTC", false);
    let c = &r[0].1.row_datas[0].after_columns;
    let names: Vec<(&str, bool, &str)> = c
        .iter()
        .map(|c| {
            (
                c.name.as_deref().unwrap(),
                c.is_key.unwrap(),
                c.value.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("id", true, "62"),
            ("topic", false, "foo"),
            ("event_type", false, "2"),
            ("event", false, "{\"foo\":1}"),
            ("created", false, "2022-04-20 22:18:04")
        ]
    );
}
