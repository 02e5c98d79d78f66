//! Interop with canal-python 0.4's generated classes (`canal.protocol.EntryProtocol_pb2`, from
//! PyPI): an Entry with a RowChange encoded by us decodes in Python to the same field values, and
//! one encoded by Python decodes with our types (and re-encodes to the same bytes).
//!
//! Needs env `CANAL_TEST_PYTHON` (the venv python with canal-python, set by `make test`); without
//! it the tests print a note and pass, unless `CI` is set.

mod common;

use std::process::Command;

use bytes::Bytes;
use canal_protocol::entry::{
    Column, Entry, EntryType, EventType, Header, Pair, RowChange, RowData, Type,
};
use prost::Message;
use serde_json::{json, Value};

fn run_py(args: &[&str]) -> Option<String> {
    let py = common::test_python()?;
    let script = common::repo_root().join("tests/python/entry_interop.py");
    let out = Command::new(&py)
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8 JSON"))
}

fn pair(k: &str, v: &str) -> Pair {
    Pair {
        key: Some(k.into()),
        value: Some(v.into()),
    }
}

#[allow(clippy::too_many_arguments)]
fn column(
    index: i32,
    sql_type: i32,
    name: &str,
    value: Option<&str>,
    is_key: bool,
    updated: bool,
    mysql_type: &str,
    props: Vec<Pair>,
) -> Column {
    Column {
        index: Some(index),
        sql_type: Some(sql_type),
        name: Some(name.into()),
        is_key: Some(is_key),
        updated: Some(updated),
        is_null: Some(value.is_none()),
        props,
        value: value.map(Into::into),
        length: None,
        mysql_type: Some(mysql_type.into()),
    }
}

fn rust_entry() -> Entry {
    let before = vec![
        column(0, 4, "id", Some("1"), true, false, "int(11)", vec![]),
        column(
            1,
            12,
            "name",
            Some("héllo 😀 中文 \"q\"\n"),
            false,
            false,
            "varchar(64)",
            vec![],
        ),
        column(2, -7, "bits", Some("3"), false, false, "bit(2)", vec![]),
        column(
            3,
            -2,
            "bin",
            None,
            false,
            false,
            "binary(4)",
            vec![pair("k", "v")],
        ),
    ];
    let mut after = before.clone();
    after[1].value = Some("wörld".into());
    after[1].updated = Some(true);
    after[3].value = Some("\u{0}\u{1}".into());
    after[3].is_null = Some(false);
    after[3].updated = Some(true);
    let rc = RowChange {
        table_id: Some(42),
        event_type: Some(EventType::Update as i32),
        is_ddl: Some(false),
        sql: None,
        row_datas: vec![RowData {
            before_columns: before,
            after_columns: after,
            props: vec![],
        }],
        props: vec![pair("rowProp", "x")],
        ddl_schema_name: None,
    };
    Entry {
        header: Some(Header {
            version: Some(1),
            logfile_name: Some("mysql-bin.000001".into()),
            logfile_offset: Some(1234),
            server_id: Some(1),
            serveren_code: Some("UTF-8".into()),
            execute_time: Some(1_795_239_851_000),
            source_type: Some(Type::Mysql as i32),
            schema_name: Some("test".into()),
            table_name: Some("tü".into()),
            event_length: Some(88),
            event_type: Some(EventType::Update as i32),
            props: vec![pair("rowsCount", "1")],
            gtid: Some("0-1-7".into()),
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(Bytes::from(rc.encode_to_vec())),
    }
}

/// The value Python reports for a field, with proto3's "absent = default" reading.
fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or(&Value::Null)
}

#[test]
fn rust_encoded_entry_decodes_in_python() {
    let entry = rust_entry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entry.bin");
    std::fs::write(&path, entry.encode_to_vec()).unwrap();
    let Some(out) = run_py(&["decode", path.to_str().unwrap()]) else {
        return;
    };
    let v: Value = serde_json::from_str(out.trim()).unwrap();

    let h = &v["entry"]["header"];
    assert_eq!(h["version"], 1);
    assert_eq!(h["logfileName"], "mysql-bin.000001");
    assert_eq!(h["logfileOffset"], 1234);
    assert_eq!(h["serverId"], 1);
    assert_eq!(h["serverenCode"], "UTF-8");
    assert_eq!(h["executeTime"], 1_795_239_851_000i64);
    assert_eq!(h["sourceType"], 2);
    assert_eq!(h["schemaName"], "test");
    assert_eq!(h["tableName"], "tü");
    assert_eq!(h["eventLength"], 88);
    assert_eq!(h["eventType"], 2);
    assert_eq!(h["props"], json!([{"key": "rowsCount", "value": "1"}]));
    assert_eq!(h["gtid"], "0-1-7");
    assert_eq!(v["entry"]["entryType"], 2);

    let rc = &v["rowChange"];
    assert_eq!(rc["tableId"], 42);
    assert_eq!(rc["eventType"], 2);
    assert_eq!(rc["isDdl"], false); // oneof in canal-python: present because we sent it
    assert_eq!(rc["props"], json!([{"key": "rowProp", "value": "x"}]));
    let rows = rc["rowDatas"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let ours_rc = RowChange::decode(entry.store_value.clone().unwrap()).unwrap();
    for side in ["beforeColumns", "afterColumns"] {
        let cols = rows[0][side].as_array().unwrap();
        assert_eq!(cols.len(), 4, "{side}");
        let ours = if side == "beforeColumns" {
            &ours_rc.row_datas[0].before_columns
        } else {
            &ours_rc.row_datas[0].after_columns
        };
        for (c, o) in cols.iter().zip(ours) {
            assert_eq!(get(c, "index").as_i64().unwrap_or(0), i64::from(o.index()));
            assert_eq!(get(c, "sqlType").as_i64().unwrap(), i64::from(o.sql_type()));
            assert_eq!(get(c, "name").as_str().unwrap(), o.name());
            assert_eq!(get(c, "isKey").as_bool().unwrap_or(false), o.is_key());
            assert_eq!(get(c, "updated").as_bool().unwrap_or(false), o.updated());
            assert_eq!(
                get(c, "isNull").as_bool().unwrap(),
                o.is_null(),
                "isNull must be present"
            );
            assert_eq!(
                get(c, "value").as_str(),
                o.value.as_deref().filter(|s| !s.is_empty())
            );
            assert_eq!(get(c, "mysqlType").as_str().unwrap(), o.mysql_type());
            let props: Vec<(String, String)> = get(c, "props")
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p["key"].as_str().unwrap().into(),
                                p["value"].as_str().unwrap().into(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let want: Vec<(String, String)> = o
                .props
                .iter()
                .map(|p| (p.key().into(), p.value().into()))
                .collect();
            assert_eq!(props, want);
        }
    }
    // A few literal spot checks (not derived from our own structs).
    let before = &rows[0]["beforeColumns"];
    assert_eq!(before[1]["value"], "héllo 😀 中文 \"q\"\n");
    assert_eq!(before[2]["sqlType"], -7);
    assert_eq!(before[3]["isNull"], true);
    assert!(before[3].get("value").is_none());
    assert_eq!(rows[0]["afterColumns"][1]["value"], "wörld");
    assert_eq!(rows[0]["afterColumns"][3]["value"], "\u{0}\u{1}");
}

#[test]
fn python_encoded_entry_decodes_in_rust() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("py-entry.bin");
    if run_py(&["encode", path.to_str().unwrap()]).is_none() {
        return;
    }
    let raw = std::fs::read(&path).unwrap();
    let e = Entry::decode(&raw[..]).unwrap();
    // Our re-encoding is byte-identical (presence and field order agree).
    assert_eq!(e.encode_to_vec(), raw);

    let h = e.header.as_ref().unwrap();
    assert_eq!(h.version(), 1);
    assert_eq!(h.logfile_name(), "mysql-bin.000042");
    assert_eq!(h.logfile_offset(), 123_456_789_012);
    assert_eq!(h.server_id(), 3);
    assert_eq!(h.serveren_code(), "UTF-8");
    assert_eq!(h.execute_time(), 1_700_000_000_123);
    assert_eq!(h.source_type(), Type::Mysql);
    assert_eq!(h.schema_name(), "shop");
    assert_eq!(h.table_name(), "orders");
    assert_eq!(h.event_length(), 321);
    assert_eq!(h.event_type(), EventType::Delete);
    assert_eq!(h.props, vec![pair("rowsCount", "1")]);
    assert_eq!(h.gtid(), "0-1-99");
    assert_eq!(e.entry_type(), EntryType::Rowdata);

    let sv = e.store_value.clone().unwrap();
    let rc = RowChange::decode(sv.clone()).unwrap();
    assert_eq!(rc.encode_to_vec(), sv[..]);
    assert_eq!(rc.table_id(), 77);
    assert_eq!(rc.event_type(), EventType::Delete);
    assert_eq!(rc.is_ddl, Some(false));
    assert_eq!(rc.props, vec![pair("origin", "python")]);
    assert_eq!(rc.row_datas.len(), 1);
    let cols = &rc.row_datas[0].before_columns;
    assert!(rc.row_datas[0].after_columns.is_empty());
    type Row<'a> = (i32, i32, &'a str, Option<&'a str>, bool, bool, &'a str);
    let got: Vec<Row> = cols
        .iter()
        .map(|c| {
            (
                c.index(),
                c.sql_type(),
                c.name(),
                c.value.as_deref(),
                c.is_key(),
                c.is_null(),
                c.mysql_type(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 4, "id", Some("-12"), true, false, "int(11)"),
            (1, 12, "名前", Some("Grüße 🚀"), false, false, "varchar(32)"),
            (2, -7, "flags", Some("5"), false, false, "bit(3)"),
            (3, 3, "amount", None, false, true, "decimal(10,2)"),
        ]
    );
    assert_eq!(cols[1].props, vec![pair("charset", "utf8mb4")]);
    // proto3 oneof presence from Python maps to proto2 presence here.
    assert_eq!(cols[3].is_null, Some(true));
    assert_eq!(cols[0].is_null, Some(false));
}
