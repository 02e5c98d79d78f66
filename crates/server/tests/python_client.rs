//! The unchanged canal-python 0.4 client against our server (needs env `CANAL_TEST_PYTHON`, the
//! venv interpreter that `scripts/install-test-deps.sh` prints; without it the test prints a note
//! and passes, unless `CI` is set).
//!
//! canal-python rolls back before subscribing (must stay silent), sends GET with timeout −1 and
//! unit −1, acks every non-zero id, and writes each frame's header and body as two `sendall`s with
//! Nagle on. The script prints what it received; the mean time per `get()` round trip is printed
//! for the report (no timed assertion).

mod common;

use std::process::Command;

use bytes::Bytes;
use canal_protocol::entry::{Entry, EntryType, Header, RowChange};
use canal_server::ServerConfig;
use common::MemService;
use prost::Message;

fn python() -> Option<String> {
    match std::env::var("CANAL_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ if std::env::var_os("CI").is_some() => panic!("CANAL_TEST_PYTHON is not set (CI)"),
        _ => {
            eprintln!("note: CANAL_TEST_PYTHON not set; skipping the canal-python test");
            None
        }
    }
}

fn entry(offset: i64) -> Bytes {
    let rc = RowChange {
        sql: Some(format!("INSERT INTO t1 VALUES ({offset})")),
        ..Default::default()
    };
    Entry {
        header: Some(Header {
            version: Some(1),
            logfile_name: Some("mysql-bin.000001".into()),
            logfile_offset: Some(offset),
            schema_name: Some("test".into()),
            table_name: Some("t1".into()),
            ..Default::default()
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(rc.encode_to_vec().into()),
    }
    .encode_to_vec()
    .into()
}

const SCRIPT: &str = r#"
import sys, time, json
from canal.client import Client
port, rounds = int(sys.argv[1]), int(sys.argv[2])
c = Client()
c.connect(host='127.0.0.1', port=port)
c.check_valid(username=b'', password=b'')
c.subscribe(client_id=b'1001', destination=b'example', filter=b'')
offsets, ids = [], []
while len(offsets) < 5:
    m = c.get(100)
    if m['id']:
        ids.append(m['id'])
    offsets += [e.header.logfileOffset for e in m['entries']]
t = time.time()
for _ in range(rounds):
    c.get(100)
per = (time.time() - t) / rounds
c.disconnect()
print(json.dumps({'offsets': offsets, 'ids': ids, 'ms_per_get': per * 1000}))
"#;

fn run_python(py: &str, port: u16, rounds: usize) -> serde_json::Value {
    let out = Command::new(py)
        .env("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
        .args(["-c", SCRIPT, &port.to_string(), &rounds.to_string()])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "canal-python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().expect("output");
    serde_json::from_str(last).expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn canal_python_consumes_entries() {
    let Some(py) = python() else { return };
    for quickack in [true, false] {
        let svc = MemService::new(&["example"]);
        svc.put("example", (1..=5).map(|i| entry(i * 100)));
        let srv = common::start(
            svc,
            ServerConfig {
                tcp_quickack: quickack,
                ..ServerConfig::default()
            },
        )
        .await;
        let port = srv.addr.port();
        let py2 = py.clone();
        let v = tokio::task::spawn_blocking(move || run_python(&py2, port, 50))
            .await
            .expect("join");
        assert_eq!(v["offsets"], serde_json::json!([100, 200, 300, 400, 500]));
        assert_eq!(v["ids"], serde_json::json!([1]));
        println!(
            "canal-python get() round trip with TCP_QUICKACK {}: {:.2} ms",
            if quickack { "on" } else { "off" },
            v["ms_per_get"].as_f64().unwrap_or(f64::NAN)
        );
        srv.shutdown().await;
    }
}
