//! The whole server against the sandbox MariaDB (gated by CANAL_TEST_MARIADB and
//! CANAL_TEST_MARIADB_SOCKET): daemon start order, a Canal client subscribes over TCP, rows
//! written to MariaDB come back as entries, the cursor lands in meta.dat, and shutdown stops
//! everything.

use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_binlog::client::conn::{ConnectOptions, Connection};
use canal_cli::daemon::Daemon;
use canal_client::{CanalClient, ClientConfig};
use canal_config::{Overrides, ServerConfig};
use canal_protocol::entry::{EntryType, EventType, RowChange};
use prost::Message;

fn sandbox() -> Option<(String, String)> {
    match (
        std::env::var("CANAL_TEST_MARIADB"),
        std::env::var("CANAL_TEST_MARIADB_SOCKET"),
    ) {
        (Ok(a), Ok(s)) if !a.is_empty() && !s.is_empty() => Some((a, s)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but CANAL_TEST_MARIADB / CANAL_TEST_MARIADB_SOCKET are not"
            );
            eprintln!(
                "note: CANAL_TEST_MARIADB(_SOCKET) unset, skipping the daemon end-to-end test"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_receives_rows_through_the_daemon() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let schema = format!("g_d2e_{}", std::process::id());
    let mut o = ConnectOptions::new("localhost", 3306, "root", "");
    o.socket = Some(socket.into());
    let mut admin = Connection::connect(&o).await.expect("root connection");
    for sql in [
        format!("drop database if exists {schema}"),
        format!("create database {schema}"),
        format!("create table {schema}.t (id int primary key, v varchar(20))"),
    ] {
        admin.query(&sql).await.expect("setup");
    }
    let status = admin.query("show master status").await.expect("status");
    let file = status.get(0, "File").expect("file").to_string();
    let pos = status.get(0, "Position").expect("pos").to_string();

    // Shipped canal.properties (file meta, auto scan) with the sandbox instance.
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join("example")).expect("mkdir");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf");
    fs::copy(
        shipped.join("canal.properties"),
        conf.join("canal.properties"),
    )
    .expect("copy");
    let mut inst = fs::read_to_string(shipped.join("example/instance.properties")).expect("read");
    inst.push_str(&format!(
        "\ncanal.instance.master.address = {addr}\ncanal.instance.master.journal.name = {file}\n\
         canal.instance.master.position = {pos}\ncanal.instance.master.timestamp = 1000000000000\n"
    ));
    fs::write(conf.join("example/instance.properties"), inst).expect("write");
    let server = Arc::new(ServerConfig::load(&conf, Overrides::none()).expect("conf"));
    let daemon = Daemon::start(server, Some(0)).await.expect("daemon starts");
    let port = daemon.local_addr.expect("bound").port();
    assert!(daemon.controller.is_running("example"));

    let mut client = CanalClient::connect(
        ("127.0.0.1", port),
        ClientConfig {
            destination: "example".into(),
            ..ClientConfig::default()
        },
    )
    .await
    .expect("client connects");
    client
        .subscribe(&format!("{schema}\\..*"))
        .await
        .expect("subscribe");

    admin
        .query(&format!(
            "insert into {schema}.t values (7,'seven'),(8,'eight')"
        ))
        .await
        .expect("insert");

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut inserted: Vec<Vec<String>> = Vec::new();
    let mut acked_end = false;
    while Instant::now() < deadline && (inserted.len() < 2 || !acked_end) {
        let msg = client
            .get_without_ack(100, Some(Duration::from_millis(300)))
            .await
            .expect("get");
        if msg.id == -1 {
            continue;
        }
        for e in &msg.entries {
            if e.entry_type() == EntryType::Transactionend && !inserted.is_empty() {
                acked_end = true; // acking this batch moves the cursor (ack point)
            }
            if e.entry_type() != EntryType::Rowdata {
                continue;
            }
            let h = e.header.clone().unwrap_or_default();
            if h.event_type() != EventType::Insert || h.schema_name() != schema {
                continue;
            }
            let rc = RowChange::decode(e.store_value()).expect("row change");
            for r in &rc.row_datas {
                inserted.push(
                    r.after_columns
                        .iter()
                        .map(|c| c.value().to_string())
                        .collect(),
                );
            }
        }
        client.ack(msg.id).await.expect("ack");
    }
    assert_eq!(
        inserted,
        vec![
            vec!["7".to_string(), "seven".into()],
            vec!["8".into(), "eight".into()]
        ]
    );
    // CLIENTACK has no reply: one more request on the same connection makes sure the server
    // processed the ack before the shutdown.
    client
        .get_without_ack(1, Some(Duration::from_millis(10)))
        .await
        .expect("get after ack");
    let _ = client.disconnect().await;
    daemon.stop().await;
    let _ = admin.query(&format!("drop database {schema}")).await;

    // File meta mode: the acked cursor was flushed to {conf}/example/meta.dat on stop.
    let meta = fs::read_to_string(conf.join("example/meta.dat")).expect("meta.dat written");
    assert!(meta.contains("\"clientId\":1001"), "{meta}");
    let v: serde_json::Value = serde_json::from_str(&meta).expect("meta.dat is JSON");
    let cursor = &v["clientDatas"][0]["cursor"]["postion"];
    let journal = cursor["journalName"].as_str().expect("journalName");
    // Other tests share the sandbox and may rotate the binlog meanwhile: at or after `file`.
    assert!(journal >= file.as_str(), "{meta}");
    assert!(cursor["position"].as_i64().is_some_and(|p| p > 4), "{meta}");
    assert!(meta.contains("\"cursor\""), "{meta}");
}
