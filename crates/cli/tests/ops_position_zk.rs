//! `canalctl position show|set|reset` for a destination whose meta lives in ZooKeeper
//! (`default-instance.xml` + `canal.zkServers`), against the live standalone ZooKeeper
//! (CANAL_TEST_ZK; a private chroot per run): the cursor is written at Java Canal's node
//! `/otter/canal/destinations/{d}/{cid}/cursor` as LogPosition JSON with a leading `@type`,
//! shown, moved back, dropped; changes are refused while a server holds
//! `/otter/canal/destinations/{d}/running` or the client holds `.../{cid}/running`, naming the
//! node, and accepted with `--force`.

mod zk_support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use zk_support::{write_conf, zk_addr};
use zookeeper_client as zk;

fn canalctl(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_canalctl"))
        .args(args)
        .arg("--conf")
        .arg(dir.join("conf"))
        .output()
        .expect("run canalctl")
}

fn ok_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "canalctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "accepted: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn node(c: &zk::Client, path: &str) -> Option<String> {
    match c.get_data(path).await {
        Ok((d, _)) => Some(String::from_utf8(d).expect("utf8")),
        Err(zk::Error::NoNode) => None,
        Err(e) => panic!("read {path}: {e}"),
    }
}

const CURSOR: &str = "/otter/canal/destinations/example/1001/cursor";
const RUNNING: &str = "/otter/canal/destinations/example/running";
const CLIENT_RUNNING: &str = "/otter/canal/destinations/example/1001/running";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn position_in_zookeeper_meta() {
    let Some(addr) = zk_addr() else { return };
    let chroot = format!("/canal_rs_ops_position_{}", std::process::id());
    let zk_servers = format!("{addr}{chroot}");
    let tmp = tempfile::tempdir().expect("tmp");
    write_conf(tmp.path(), &zk_servers, "default-instance.xml");
    let dir = tmp.path().to_path_buf();
    let run = |args: &'static [&'static str]| {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || canalctl(&dir, args))
    };

    // Nothing yet (canalctl creates the chroot like the server does).
    let v = ok_json(&run(&["position", "show", "example"]).await.expect("join"));
    assert_eq!(v["clients"], serde_json::json!([]), "{v}");
    assert!(v["runningServer"].is_null(), "{v}");

    let c = tokio::time::timeout(Duration::from_secs(15), zk::Client::connect(&zk_servers))
        .await
        .expect("zk connect in time")
        .expect("zk connect");

    // set: Java's node and JSON (@type first, `postion`, configured source, slaveId -1).
    let v = ok_json(
        &run(&[
            "position",
            "set",
            "example",
            "--journal",
            "mysql-bin.000007",
            "--position",
            "4567",
            "--timestamp",
            "1700000000000",
        ])
        .await
        .expect("join"),
    );
    assert_eq!(v["clients"][0]["clientId"], 1001, "{v}");
    let raw = node(&c, CURSOR).await.expect("cursor node written");
    assert_eq!(
        raw,
        r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"10.1.2.3","port":3306}},"postion":{"included":false,"journalName":"mysql-bin.000007","position":4567,"timestamp":1700000000000}}"#
    );
    // What the server's meta manager reads back is the same position.
    let back = canal_protocol::position::LogPosition::from_json(&raw).expect("server-readable");
    assert_eq!(back.postion.position, Some(4567));

    // A source identity written by the server is kept when the cursor moves.
    let server_written = r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"127.0.0.1","port":3307}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000009","position":900,"serverId":1,"timestamp":1700000001000}}"#;
    c.set_data(CURSOR, server_written.as_bytes(), None)
        .await
        .expect("overwrite cursor");
    let v = ok_json(&run(&["position", "show", "example"]).await.expect("join"));
    let cur = &v["clients"][0]["cursor"];
    assert_eq!(cur["journalName"], "mysql-bin.000009", "{v}");
    assert_eq!(cur["position"], 900, "{v}");
    assert_eq!(cur["source"], "127.0.0.1:3307", "{v}");
    assert_eq!(v["clients"][0]["cursorNode"], CURSOR, "{v}");

    // Set it back.
    let v = ok_json(
        &run(&[
            "position",
            "set",
            "example",
            "--journal",
            "mysql-bin.000008",
            "--position",
            "4",
        ])
        .await
        .expect("join"),
    );
    let cur = &v["clients"][0]["cursor"];
    assert_eq!(
        (cur["journalName"].as_str(), cur["position"].as_i64()),
        (Some("mysql-bin.000008"), Some(4)),
        "{v}"
    );
    assert_eq!(cur["source"], "127.0.0.1:3307", "source identity kept: {v}");

    // Refused while a server holds the running node (ephemeral, like a real server's).
    let eph = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    c.create(
        RUNNING,
        br#"{"active":true,"address":"10.9.8.7:11111"}"#,
        &eph,
    )
    .await
    .expect("running node");
    let err = refused(
        &run(&[
            "position",
            "set",
            "example",
            "--journal",
            "mysql-bin.000001",
            "--position",
            "4",
        ])
        .await
        .expect("join"),
    );
    assert!(err.contains(RUNNING), "{err}");
    assert!(err.contains("10.9.8.7:11111"), "{err}");
    let err = refused(&run(&["position", "reset", "example"]).await.expect("join"));
    assert!(err.contains(RUNNING), "{err}");
    assert!(
        node(&c, CURSOR)
            .await
            .expect("cursor")
            .contains("mysql-bin.000008"),
        "refused commands changed nothing"
    );
    let v = ok_json(&run(&["position", "show", "example"]).await.expect("join"));
    assert_eq!(v["runningServer"], "10.9.8.7:11111", "{v}");
    // --force goes through.
    ok_json(
        &run(&[
            "position",
            "set",
            "example",
            "--journal",
            "mysql-bin.000001",
            "--position",
            "120",
            "--force",
        ])
        .await
        .expect("join"),
    );
    assert!(node(&c, CURSOR)
        .await
        .expect("cursor")
        .contains(r#""journalName":"mysql-bin.000001","position":120"#));
    c.delete(RUNNING, None).await.expect("delete running");

    // Refused while the client is connected (Java cluster client's running node).
    c.create(
        CLIENT_RUNNING,
        br#"{"active":true,"address":"10.7.7.7:53412","clientId":1001}"#,
        &eph,
    )
    .await
    .expect("client running node");
    let err = refused(
        &run(&["position", "reset", "example", "--client-id", "1001"])
            .await
            .expect("join"),
    );
    assert!(err.contains(CLIENT_RUNNING), "{err}");
    assert!(err.contains("10.7.7.7:53412"), "{err}");
    let v = ok_json(&run(&["position", "show", "example"]).await.expect("join"));
    assert_eq!(v["clients"][0]["runningClient"], "10.7.7.7:53412", "{v}");
    c.delete(CLIENT_RUNNING, None)
        .await
        .expect("delete client running");

    // reset drops the cursor node, keeps the subscription.
    let out = run(&["position", "reset", "example"]).await.expect("join");
    let v = ok_json(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 cursor(s) dropped"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(node(&c, CURSOR).await.is_none(), "cursor node deleted");
    assert!(
        node(&c, "/otter/canal/destinations/example/1001")
            .await
            .is_some(),
        "subscription kept"
    );
    assert!(v["clients"][0]["cursor"].is_null(), "{v}");
    let out = run(&["position", "reset", "example"]).await.expect("join");
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 cursor(s) dropped"));

    // status shows the ZooKeeper cursors too.
    let out = run(&["status"]).await.expect("join");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("meta zookeeper: running server none"),
        "{text}"
    );
    assert!(text.contains("client 1001: no cursor"), "{text}");

    // meta dump prints the ZooKeeper view too.
    let out = run(&["meta", "dump"]).await.expect("join");
    let v = ok_json(&out);
    assert_eq!(v["destination"], "example", "{v}");

    // clean up the chroot
    for p in [
        "/otter/canal/destinations/example/1001",
        "/otter/canal/destinations/example",
    ] {
        let _ = c.delete(p, None).await;
    }
}
