//! End to end with real parts: a sandbox source (MariaDB, MySQL 9.7), the `canal-server` binary,
//! and an unchanged Canal client — canal-python 0.4 (tests/python/e2e_matrix_client.py) or our
//! Rust `canal_client::CanalClient`. A type-matrix table gets an INSERT (every type), an INSERT of
//! NULLs, an UPDATE and a DELETE, interleaved with rows of a second schema the subscription filter
//! excludes. Both clients follow the same script: the first batch is rolled back (must come back
//! under a new batch id with the same entries), one batch after the first acked table row is
//! abandoned by disconnecting without ack (the reconnected client must continue from the last
//! ack, i.e. get that batch's entries again), every other batch is acked. The acked entries must
//! hold every change once, in binlog order, with the column values written below by hand from
//! ../shared/compat/entry-conversion.md §3 (same values as crates/parse/tests/live.rs).
//!
//! Gated by CANAL_TEST_MARIADB / CANAL_TEST_MYSQL9 (+ `_SOCKET`) and, for the Python runs,
//! CANAL_TEST_PYTHON (the venv with canal-python 0.4).

mod e2e_support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{Column, Entry, EntryType, EventType, RowChange};
use e2e_support::{exec, master_position, Server, ServerConf, Source};
use prost::Message;
use serde_json::{json, Value};

/// Batch size in ITEMSIZE mode (entries per batch): small, so the changes span several batches.
const BATCH: i32 = 3;

const CREATE: &str = "CREATE TABLE tm (id INT PRIMARY KEY, ti TINYINT, biu BIGINT UNSIGNED, \
    d DECIMAL(10,2), f FLOAT, db DOUBLE, b BIT(10), dt DATE, t2 TIME(2), dt3 DATETIME(3), \
    ts1 TIMESTAMP(1) NULL, vc VARCHAR(10), vb VARBINARY(4), tx TEXT, e ENUM('x','y','z'), \
    s SET('a','b','c'), j JSON)";

const ROW1: &str = "INSERT INTO tm VALUES (1, -128, 18446744073709551615, -0.05, 123456789, 1e20, \
    b'1000000001', '2024-02-29', '-01:02:03.45', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05.6', \
    'héllo', x'41e9', 'tëxt', 'z', 'a,c', '{\"k\": [1, 2.5, \"s\"]}')";

/// One expected column: name, mysqlType (MariaDB, MySQL 9), sqlType non-NULL, sqlType NULL
/// (MariaDB, MySQL), value of row 1.
struct Col {
    name: &'static str,
    mysql_type: (&'static str, &'static str),
    sql_type: (i32, i32),
    null_sql_type: (i32, i32),
    value: &'static str,
}

const fn c(
    name: &'static str,
    mysql_type: (&'static str, &'static str),
    sql_type: i32,
    null_sql_type: i32,
    value: &'static str,
) -> Col {
    Col {
        name,
        mysql_type,
        sql_type: (sql_type, sql_type),
        null_sql_type: (null_sql_type, null_sql_type),
        value,
    }
}

/// Hand-written from entry-conversion.md §3.2 (JDBC codes, Canal value text).
fn matrix() -> Vec<Col> {
    vec![
        c("id", ("int(11)", "int"), 4, 4, "1"),
        c("ti", ("tinyint(4)", "tinyint"), -6, -6, "-128"),
        c(
            "biu",
            ("bigint(20) unsigned", "bigint unsigned"),
            3,
            -5,
            "18446744073709551615",
        ),
        c("d", ("decimal(10,2)", "decimal(10,2)"), 3, 3, "-0.05"),
        c("f", ("float", "float"), 7, 7, "1.23456792E8"),
        c("db", ("double", "double"), 8, 8, "1.0E20"),
        // BIT → the number; sqlType BIT (-7)
        c("b", ("bit(10)", "bit(10)"), -7, -7, "513"),
        c("dt", ("date", "date"), 91, 91, "2024-02-29"),
        c("t2", ("time(2)", "time(2)"), 92, 92, "-01:02:03.45"),
        c(
            "dt3",
            ("datetime(3)", "datetime(3)"),
            93,
            93,
            "2024-01-02 03:04:05.678",
        ),
        // TIMESTAMP rendered in the server's zone: the server runs with TZ=UTC and the row is
        // written with time_zone '+00:00'.
        c(
            "ts1",
            ("timestamp(1)", "timestamp(1)"),
            93,
            93,
            "2024-01-02 03:04:05.6",
        ),
        c("vc", ("varchar(10)", "varchar(10)"), 12, 12, "héllo"),
        // binary strings: Latin-1 text of the bytes
        c(
            "vb",
            ("varbinary(4)", "varbinary(4)"),
            2004,
            2004,
            "A\u{e9}",
        ),
        c("tx", ("text", "text"), 2005, 2005, "tëxt"),
        // ENUM → 1-based index; SET → bitmask, BIT (-7) but BLOB (2004) when NULL
        c("e", ("enum('x','y','z')", "enum('x','y','z')"), 4, 4, "3"),
        c("s", ("set('a','b','c')", "set('a','b','c')"), -7, 2004, "5"),
        // MariaDB: JSON is LONGTEXT (text as written, CLOB); MySQL: binary JSON → text, VARCHAR /
        // OTHER (1111) when NULL.
        Col {
            name: "j",
            mysql_type: ("longtext", "json"),
            sql_type: (2005, 12),
            null_sql_type: (2005, 1111),
            value: "{\"k\": [1, 2.5, \"s\"]}",
        },
    ]
}

/// [name, isNull, value, sqlType, mysqlType, isKey, updated] as both clients describe a column.
fn col_json(col: &Col, mysql: bool, value: Option<&str>, updated: bool) -> Value {
    let pick = |p: (i32, i32)| if mysql { p.1 } else { p.0 };
    let mt = if mysql {
        col.mysql_type.1
    } else {
        col.mysql_type.0
    };
    json!([
        col.name,
        value.is_none(),
        value.unwrap_or(""),
        if value.is_some() {
            pick(col.sql_type)
        } else {
            pick(col.null_sql_type)
        },
        mt,
        col.name == "id",
        updated
    ])
}

/// The four expected row changes of `tm` as (eventType, before, after).
fn expected_changes(mysql: bool) -> Vec<(i32, Vec<Value>, Vec<Value>)> {
    let m = matrix();
    let row1 = |updated: bool| -> Vec<Value> {
        m.iter()
            .map(|c| col_json(c, mysql, Some(c.value), updated))
            .collect()
    };
    let row2 = |updated: bool| -> Vec<Value> {
        m.iter()
            .map(|c| col_json(c, mysql, (c.name == "id").then_some("2"), updated))
            .collect()
    };
    // UPDATE tm SET vc = 'wörld', d = 7.25: only those two after-columns are updated=true.
    let after_update: Vec<Value> = m
        .iter()
        .map(|c| match c.name {
            "vc" => col_json(c, mysql, Some("wörld"), true),
            "d" => col_json(c, mysql, Some("7.25"), true),
            _ => col_json(c, mysql, Some(c.value), false),
        })
        .collect();
    vec![
        (EventType::Insert as i32, vec![], row1(true)),
        (EventType::Insert as i32, vec![], row2(true)),
        (EventType::Update as i32, row1(false), after_update),
        (EventType::Delete as i32, row2(false), vec![]),
    ]
}

fn columns(cols: &[Column]) -> Value {
    Value::Array(
        cols.iter()
            .map(|c| {
                json!([
                    c.name(),
                    c.is_null(),
                    c.value(),
                    c.sql_type(),
                    c.mysql_type(),
                    c.is_key(),
                    c.updated()
                ])
            })
            .collect(),
    )
}

/// Same JSON shape as `describe` in e2e_matrix_client.py.
fn describe(e: &Entry) -> Value {
    let h = e.header.clone().unwrap_or_default();
    let mut d = json!({
        "file": h.logfile_name(), "offset": h.logfile_offset(), "entryType": e.entry_type,
        "eventType": h.event_type, "schema": h.schema_name(), "table": h.table_name(),
        "isDdl": false, "rows": [],
    });
    if e.entry_type() == EntryType::Rowdata {
        let rc = RowChange::decode(e.store_value()).expect("RowChange");
        d["isDdl"] = json!(rc.is_ddl());
        d["rows"] = Value::Array(
            rc.row_datas
                .iter()
                .map(|r| json!({"before": columns(&r.before_columns), "after": columns(&r.after_columns)}))
                .collect(),
        );
    }
    d
}

async fn rust_connect(port: u16, filter: &str) -> CanalClient {
    let mut c = CanalClient::connect(("127.0.0.1", port), ClientConfig::default())
        .await
        .expect("client connects");
    c.subscribe(filter).await.expect("subscribe");
    c
}

/// The script of e2e_matrix_client.py with our Rust client.
async fn rust_consumer(
    port: u16,
    filter: String,
    ready: tokio::sync::oneshot::Sender<()>,
) -> Value {
    let mut client = rust_connect(port, &filter).await;
    let _ = ready.send(());
    let mut log = Vec::new();
    let (mut rolled_back, mut abandoned, mut acked_table_row, mut done) =
        (false, false, false, false);
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done && Instant::now() < deadline {
        let msg = client.get_without_ack(BATCH, None).await.expect("get");
        if msg.id <= 0 || msg.entries.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let entries: Vec<Value> = msg.entries.iter().map(describe).collect();
        let action = if !rolled_back {
            client.rollback(msg.id).await.expect("rollback");
            rolled_back = true;
            "rollback"
        } else if acked_table_row && !abandoned {
            client.disconnect().await.expect("disconnect");
            client = rust_connect(port, &filter).await;
            abandoned = true;
            "abandon"
        } else {
            client.ack(msg.id).await.expect("ack");
            for d in &entries {
                if d["entryType"] == EntryType::Rowdata as i32
                    && d["table"] == "tm"
                    && d["isDdl"] == false
                {
                    acked_table_row = true;
                    done |= d["eventType"] == EventType::Delete as i32;
                }
            }
            "ack"
        };
        log.push(json!({"id": msg.id, "action": action, "entries": entries}));
    }
    // CLIENTACK has no reply: one more request makes sure the server read the last ack.
    let _ = client.get_without_ack(1, None).await;
    let _ = client.disconnect().await;
    json!({"done": done, "batches": log})
}

/// Whether `a`'s entries are a non-empty prefix of `b`'s (a re-delivery may carry more entries
/// when more arrived meanwhile, never different ones).
fn redelivered(a: &Value, b: &Value) -> bool {
    let (a, b) = (a["entries"].as_array(), b["entries"].as_array());
    match (a, b) {
        (Some(a), Some(b)) => !a.is_empty() && b.len() >= a.len() && b[..a.len()] == a[..],
        _ => false,
    }
}

fn verify(log: &Value, schema: &str, mysql: bool) {
    assert_eq!(log["done"], true, "the DELETE never arrived: {log:#}");
    let batches = log["batches"].as_array().expect("batches");
    // rollback: the same entries again under a new batch id
    assert_eq!(batches[0]["action"], "rollback");
    assert!(batches.len() >= 2);
    assert!(
        redelivered(&batches[0], &batches[1]),
        "rolled-back entries not redelivered first:\n{:#}\n{:#}",
        batches[0],
        batches[1]
    );
    assert_ne!(
        batches[0]["id"], batches[1]["id"],
        "rollback must not reuse the batch id"
    );
    // reconnect: continues from the last ack, i.e. with the abandoned batch's entries
    let ab = batches
        .iter()
        .position(|b| b["action"] == "abandon")
        .expect("a batch was abandoned (reconnect step)");
    assert!(ab + 1 < batches.len(), "nothing after the reconnect");
    assert!(
        redelivered(&batches[ab], &batches[ab + 1]),
        "after reconnect the un-acked entries must come first:\n{:#}\n{:#}",
        batches[ab],
        batches[ab + 1]
    );
    // the acked stream: each entry once, in binlog order; only the subscribed schema's rows
    let acked: Vec<&Value> = batches
        .iter()
        .filter(|b| b["action"] == "ack")
        .flat_map(|b| b["entries"].as_array().into_iter().flatten())
        .collect();
    for w in acked.windows(2) {
        let key = |e: &Value| {
            (
                e["file"].as_str().unwrap_or("").to_string(),
                e["offset"].as_i64().unwrap_or(-1),
            )
        };
        assert!(
            key(w[0]) <= key(w[1]),
            "out of order:\n{:#}\n{:#}",
            w[0],
            w[1]
        );
        assert_ne!(w[0], w[1], "entry delivered twice");
    }
    let mut changes = Vec::new();
    for e in &acked {
        // DML rows only: QUERY entries (MariaDB ANNOTATE_ROWS, other sessions' statements) carry
        // no schema and pass any table filter in Java too.
        let dml = [EventType::Insert, EventType::Update, EventType::Delete]
            .iter()
            .any(|t| e["eventType"] == *t as i32);
        if e["entryType"] != EntryType::Rowdata as i32 || e["isDdl"] == true || !dml {
            continue;
        }
        assert_eq!(
            e["schema"], schema,
            "a row of another schema passed the subscription filter {schema}\\..* \
             (a non-empty subscribe filter replaces the instance filter, entry-conversion.md \
             §2.7):\n{e:#}"
        );
        assert_eq!(e["table"], "tm");
        let rows = e["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 1, "{e:#}");
        changes.push((
            e["eventType"].as_i64().unwrap_or(-1) as i32,
            rows[0]["before"].as_array().cloned().unwrap_or_default(),
            rows[0]["after"].as_array().cloned().unwrap_or_default(),
        ));
    }
    let want = expected_changes(mysql);
    assert_eq!(changes.len(), want.len(), "row changes: {changes:#?}");
    for (i, (got, want)) in changes.iter().zip(&want).enumerate() {
        assert_eq!(got.0, want.0, "change {i}: event type");
        for (side, g, w) in [("before", &got.1, &want.1), ("after", &got.2, &want.2)] {
            assert_eq!(g.len(), w.len(), "change {i} {side}: {g:?}");
            for (gc, wc) in g.iter().zip(w) {
                assert_eq!(gc, wc, "change {i} {side} column");
            }
        }
    }
}

enum Consumer {
    Python(String),
    Rust,
}

async fn run(source: Source, consumer: Consumer, tag: &str) {
    let schema = format!("e2e_tm_{tag}_{}", std::process::id());
    let noise = format!("e2e_noise_{tag}_{}", std::process::id());
    let mut admin = source.admin().await;
    exec(
        &mut admin,
        &[
            format!("DROP DATABASE IF EXISTS {schema}"),
            format!("DROP DATABASE IF EXISTS {noise}"),
            format!("CREATE DATABASE {schema}"),
            format!("CREATE DATABASE {noise}"),
            format!("CREATE TABLE {noise}.n (id INT PRIMARY KEY)"),
            format!("USE {schema}"),
            CREATE.to_string(),
        ],
    )
    .await;
    let start = master_position(&mut admin).await;
    // The instance filter admits both schemas (other tests' rows, parsed before our client
    // subscribes, stay out); the client's subscription filter must then drop the noise schema.
    let instance_filter = format!("{schema}\\\\..*,{noise}\\\\..*");
    let conf = ServerConf::new(
        &source,
        &start,
        &[("canal.instance.filter.regex", &instance_filter)],
        &[("canal.instance.memory.batch.mode", "ITEMSIZE")],
    );
    let server = Server::start(&conf, 0);
    let filter = format!("{schema}\\..*");

    // the consumer subscribes first, then the workload runs
    let (consumer_done, py): (tokio::task::JoinHandle<Value>, Option<std::process::Child>) =
        match consumer {
            Consumer::Rust => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let h = tokio::spawn(rust_consumer(server.port, filter.clone(), tx));
                rx.await.expect("rust consumer ready");
                (h, None)
            }
            Consumer::Python(py) => {
                let out = conf.tmp.path().join("python.json");
                let mut child = Command::new(py)
                    .arg(e2e_support::python_dir().join("e2e_matrix_client.py"))
                    .arg(server.port.to_string())
                    .arg(&filter)
                    .arg("tm")
                    .arg(BATCH.to_string())
                    .arg(&out)
                    .env("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn python");
                let stdout = child.stdout.take().expect("stdout");
                let mut lines = std::io::BufReader::new(stdout).lines();
                loop {
                    match lines.next() {
                        Some(Ok(l)) if l.trim() == "E2E-READY" => break,
                        Some(Ok(_)) => {}
                        _ => panic!("python consumer exited before subscribing"),
                    }
                }
                let h = tokio::task::spawn_blocking(move || {
                    for _ in lines.by_ref() {}
                    Value::Null
                });
                (h, Some(child))
            }
        };

    let mut w = vec![
        "SET time_zone = '+00:00'".to_string(),
        "SET NAMES utf8mb4".to_string(),
        format!("INSERT INTO {noise}.n VALUES (1)"),
        ROW1.to_string(),
        "INSERT INTO tm (id) VALUES (2)".to_string(),
        format!("INSERT INTO {noise}.n VALUES (2)"),
        "UPDATE tm SET vc = 'wörld', d = 7.25 WHERE id = 1".to_string(),
    ];
    w.push("DELETE FROM tm WHERE id = 2".to_string());
    w.push(format!("INSERT INTO {noise}.n VALUES (3)"));
    exec(&mut admin, &w).await;

    let log = match py {
        None => tokio::time::timeout(Duration::from_secs(120), consumer_done)
            .await
            .expect("rust consumer finishes")
            .expect("rust consumer task"),
        Some(mut child) => {
            let status = tokio::task::spawn_blocking(move || child.wait())
                .await
                .expect("join")
                .expect("python wait");
            let _ = consumer_done.await;
            assert!(status.success(), "python consumer failed: {status}");
            let text =
                std::fs::read_to_string(conf.tmp.path().join("python.json")).expect("python.json");
            serde_json::from_str(&text).expect("python.json is JSON")
        }
    };
    exec(
        &mut admin,
        &[
            format!("DROP DATABASE IF EXISTS {schema}"),
            format!("DROP DATABASE IF EXISTS {noise}"),
        ],
    )
    .await;
    let n = log["batches"].as_array().map_or(0, Vec::len);
    eprintln!("{}: {n} batches logged", source.var);
    verify(&log, &schema, source.mysql);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_canal_python_type_matrix() {
    let (Some(s), Some(py)) = (
        e2e_support::source("CANAL_TEST_MARIADB"),
        e2e_support::python(),
    ) else {
        return;
    };
    run(s, Consumer::Python(py), "mpy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_rust_client_type_matrix() {
    let Some(s) = e2e_support::source("CANAL_TEST_MARIADB") else {
        return;
    };
    run(s, Consumer::Rust, "mrs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql9_canal_python_type_matrix() {
    let (Some(s), Some(py)) = (
        e2e_support::source("CANAL_TEST_MYSQL9"),
        e2e_support::python(),
    ) else {
        return;
    };
    run(s, Consumer::Python(py), "ypy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql9_rust_client_type_matrix() {
    let Some(s) = e2e_support::source("CANAL_TEST_MYSQL9") else {
        return;
    };
    run(s, Consumer::Rust, "yrs").await;
}
