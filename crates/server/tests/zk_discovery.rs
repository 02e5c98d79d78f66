//! The client finds our server through ZooKeeper nodes laid out as Java Canal writes them
//! (needs env `CANAL_TEST_ZK`, e.g. `127.0.0.1:2181` from scripts/start-zk.sh; without it the
//! test prints a note and passes, unless `CI` is set).

mod common;

use canal_client::{CanalClient, ClientConfig, ClientError};
use canal_server::ServerConfig;
use common::MemService;
use zookeeper_client::{Acls, CreateMode};

fn zk_addr() -> Option<String> {
    match std::env::var("CANAL_TEST_ZK") {
        Ok(a) if !a.is_empty() => Some(a),
        _ if std::env::var_os("CI").is_some() => panic!("CANAL_TEST_ZK is not set (CI)"),
        _ => {
            eprintln!("note: CANAL_TEST_ZK not set; skipping the ZooKeeper discovery test");
            None
        }
    }
}

async fn ensure(zk: &zookeeper_client::Client, path: &str, data: &[u8], mode: CreateMode) {
    let opts = mode.with_acls(Acls::anyone_all());
    match zk.create(path, data, &opts).await {
        Ok(_) | Err(zookeeper_client::Error::NodeExists) => {}
        Err(e) => panic!("create {path}: {e}"),
    }
}

#[tokio::test]
async fn client_discovers_the_running_server_through_zookeeper() {
    let Some(zk_addr) = zk_addr() else { return };
    let dest = format!("zkclient{}", std::process::id());
    let svc = MemService::new(&[dest.as_str()]);
    let srv = common::start(svc, ServerConfig::default()).await;
    let zk = zookeeper_client::Client::connect(&zk_addr)
        .await
        .expect("zk");
    let base = format!("/otter/canal/destinations/{dest}");
    for p in [
        "/otter",
        "/otter/canal",
        "/otter/canal/destinations",
        base.as_str(),
    ] {
        ensure(&zk, p, b"", CreateMode::Persistent).await;
    }
    let cfg = ClientConfig {
        destination: dest.clone(),
        ..ClientConfig::default()
    };

    // Nothing registered yet.
    match CanalClient::connect_cluster(&zk_addr, cfg.clone()).await {
        Err(ClientError::Protocol(m)) => assert_eq!(m, format!("no alive canal server for {dest}")),
        other => panic!("{other:?}"),
    }

    // A cluster member only (lazy start path).
    ensure(&zk, &format!("{base}/cluster"), b"", CreateMode::Persistent).await;
    let member = format!("{base}/cluster/{}", srv.addr);
    ensure(&zk, &member, b"", CreateMode::Ephemeral).await;
    assert_eq!(
        canal_client::cluster::discover(&zk_addr, &dest)
            .await
            .expect("member"),
        srv.addr.to_string()
    );

    // The running node wins over members; its JSON is what the server writes.
    let running = format!("{base}/running");
    let json = format!("{{\"active\":true,\"address\":\"{}\"}}", srv.addr);
    ensure(&zk, &running, json.as_bytes(), CreateMode::Ephemeral).await;
    ensure(
        &zk,
        &format!("{base}/cluster/10.255.255.1:11111"),
        b"",
        CreateMode::Ephemeral,
    )
    .await;
    for _ in 0..5 {
        assert_eq!(
            canal_client::cluster::discover(&zk_addr, &dest)
                .await
                .expect("running"),
            srv.addr.to_string()
        );
    }
    let mut c = CanalClient::connect_cluster(&zk_addr, cfg)
        .await
        .expect("connect");
    c.subscribe("").await.expect("subscribe");

    for p in [
        running,
        member,
        format!("{base}/cluster/10.255.255.1:11111"),
        format!("{base}/cluster"),
        base,
    ] {
        let _ = zk.delete(&p, None).await;
    }
    srv.shutdown().await;
}
