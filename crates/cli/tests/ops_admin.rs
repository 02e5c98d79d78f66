//! The admin port of the real canal-server (gated by CANAL_TEST_MARIADB + _SOCKET): a wrong
//! password is refused (`Ack{300, "auth failed for user:admin"}`, connection closed, counted in
//! `canal_rs_auth_failures_total{port="admin"}`), every SERVER / INSTANCE / LOG command answers
//! as operations.md §7 says, and an instance stop / start is seen by a Canal client.

mod e2e_support;
mod ops_support;

use std::time::Duration;

use canal_protocol::admin::LogAdmin;
use ops_support::{ok, AdminClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_port_commands_auth_and_instance_stop_start_seen_by_a_client() {
    let Some(mut ops) = ops_support::start("admin").await else {
        return;
    };

    // Wrong password: refused and closed.
    let (mut bad, seed) = AdminClient::connect(ops.admin_addr()).await;
    let ack = bad
        .auth("admin", "wrong", &seed)
        .await
        .expect("a refusal ack");
    assert_eq!(ack.code, Some(300), "{ack:?}");
    assert_eq!(ack.message, "auth failed for user:admin");
    assert!(
        bad.closed().await,
        "connection stays open after a failed login"
    );
    let s = tokio::task::block_in_place(|| ops.scrape());
    assert_eq!(
        s.get("canal_rs_auth_failures_total", &[("port", "admin")]),
        Some(1.0),
        "{}",
        s.text
    );

    let mut admin = ops.admin_login().await;
    ok(&admin.server("check").await, "1");
    ok(&admin.server("list").await, "example");
    ok(&admin.instance("example", "check").await, "1");
    ok(&admin.instance("nosuch", "check").await, "0");
    let unknown = admin.server("dance").await;
    assert_eq!(unknown.code, Some(301), "{unknown:?}");
    let unknown = admin.instance("example", "dance").await;
    assert_eq!(unknown.code, Some(301), "{unknown:?}");
    let start_unknown = admin.instance("nosuch", "start").await;
    assert_eq!(start_unknown.code, Some(400), "{start_unknown:?}");

    // Logs: the server log and the destination log written by the daemon.
    let list = admin
        .log(LogAdmin {
            r#type: "server".into(),
            action: "list".into(),
            ..LogAdmin::default()
        })
        .await;
    assert_eq!(list.code, Some(0));
    assert!(
        list.message.split(',').any(|f| f == "canal.log"),
        "{list:?}"
    );
    let tail = admin
        .log(LogAdmin {
            r#type: "instance".into(),
            action: String::new(),
            destination: Some("example".into()),
            count: Some(50),
            ..LogAdmin::default()
        })
        .await;
    assert_eq!(tail.code, Some(0));
    assert!(
        tail.message.contains("find start position successfully"),
        "example.log tail: {}",
        tail.message
    );

    // A client consumes; the instance is stopped under it.
    let mut client = ops.client(1001).await;
    ops.insert([1]).await;
    assert_eq!(
        ops.take(&mut client, 1, Duration::from_secs(60)).await,
        vec![1]
    );
    ok(&admin.instance("example", "stop").await, "1");
    ok(&admin.instance("example", "check").await, "0");
    ok(&admin.server("list").await, "");
    let err = client
        .get_without_ack(10, Some(Duration::from_millis(200)))
        .await
        .expect_err("GET on a stopped destination");
    assert!(
        err.to_string().contains("should start first"),
        "client error: {err}"
    );
    let s = tokio::task::block_in_place(|| ops.scrape());
    assert_eq!(s.get("canal_instance", &[("destination", "example")]), None);
    assert_eq!(s.ex("canal_rs_destination_active"), 0.0);

    // Rows written while stopped arrive after the start.
    ops.insert([2, 3]).await;
    ok(&admin.instance("example", "start").await, "1");
    ok(&admin.instance("example", "check").await, "1");
    let mut client = ops.client(1001).await;
    assert_eq!(
        ops.take(&mut client, 2, Duration::from_secs(60)).await,
        vec![2, 3]
    );

    // restart = reload; release stops it here; SERVER stop/start.
    ok(&admin.instance("example", "restart").await, "1");
    ok(&admin.instance("example", "check").await, "1");
    ok(&admin.instance("example", "release").await, "1");
    ok(&admin.instance("example", "check").await, "0");
    ok(&admin.instance("example", "start").await, "1");
    ok(&admin.server("stop").await, "1");
    ok(&admin.server("check").await, "0");
    ok(&admin.server("list").await, "");
    ok(&admin.server("start").await, "1");
    ok(&admin.server("check").await, "1");
    ok(&admin.server("list").await, "example");
    let mut client = ops.client(1001).await;
    ops.insert([4]).await;
    assert_eq!(
        ops.take(&mut client, 1, Duration::from_secs(60)).await,
        vec![4]
    );
    let s = tokio::task::block_in_place(|| ops.scrape());
    assert!(
        s.get("canal_rs_client_connections", &[("port", "admin")])
            .unwrap_or(0.0)
            >= 1.0,
        "{}",
        s.text
    );
}
