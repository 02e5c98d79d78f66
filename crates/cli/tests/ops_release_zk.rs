//! Admin `release` with ZooKeeper is Canal's HA release (operations.md §2.3): two servers over
//! the live standalone ZooKeeper (CANAL_TEST_ZK, private chroot), each with its running monitor
//! and an instance controller over a recording launcher; `release` on the active server stops
//! its instance and deletes `/otter/canal/destinations/example/running`, its monitor keeps
//! contending, and the other server takes over after its takeover delay. Release on a standby
//! answers `0` and changes nothing. SERVER stop on the admin port releases the destinations too
//! (the first server takes them back), SERVER start rejoins as a standby.

mod zk_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_admin::AdminTarget;
use canal_cli::ha::{Ha, HaSettings};
use canal_cli::ops::ControllerTarget;
use canal_config::{InstanceConfig, Overrides, ServerConfig};
use canal_instance::{Controller, InstanceError, Launcher};
use parking_lot::Mutex;
use zk_support::{write_conf, zk_addr};
use zookeeper_client as zk;

/// Records starts and stops; "running" a destination is just its name.
#[derive(Default, Clone)]
struct Rec(Arc<Mutex<Vec<String>>>);

impl Launcher for Rec {
    type Running = String;
    async fn launch(&self, config: InstanceConfig) -> Result<String, InstanceError> {
        self.0.lock().push(format!("start {}", config.destination));
        Ok(config.destination)
    }
    async fn shutdown(&self, running: String) {
        self.0.lock().push(format!("stop {running}"));
    }
}

struct Node {
    ha: Arc<Ha>,
    controller: Arc<Controller<Rec>>,
    target: ControllerTarget<Rec>,
    rec: Rec,
    _tmp: tempfile::TempDir,
}

async fn node(zk_servers: &str, address: &str, takeover: Duration) -> Node {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = write_conf(tmp.path(), zk_servers, "memory-instance.xml");
    let server = Arc::new(ServerConfig::load(&conf, Overrides::none()).expect("conf"));
    let ha = Ha::connect(HaSettings {
        zk_servers: zk_servers.to_string(),
        address: address.to_string(),
        session_timeout: Duration::from_secs(10),
        takeover_delay: takeover,
    })
    .await
    .expect("ha connects");
    let rec = Rec::default();
    let controller = Controller::new(server, rec.clone());
    ha.attach(&controller);
    controller.start_configured().await.expect("joins");
    let target = ControllerTarget::new(controller.clone()).with_ha(Some(ha.clone()));
    Node {
        ha,
        controller,
        target,
        rec,
        _tmp: tmp,
    }
}

async fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn running_node(c: &zk::Client) -> Option<String> {
    match c
        .get_data("/otter/canal/destinations/example/running")
        .await
    {
        Ok((d, _)) => Some(String::from_utf8(d).expect("utf8")),
        Err(zk::Error::NoNode) => None,
        Err(e) => panic!("read running: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_release_hands_the_destination_to_the_other_server() {
    let Some(addr) = zk_addr() else { return };
    let zk_servers = format!("{addr}/canal_rs_ops_release_{}", std::process::id());

    // A starts first and wins (cold start: no delay). A's own takeover delay is long, B's
    // short, so after A releases, B is the one that takes over.
    let a = node(&zk_servers, "10.0.0.1:11111", Duration::from_secs(4)).await;
    wait_until("A active", Duration::from_secs(15), || {
        a.controller.is_running("example")
    })
    .await;
    let b = node(&zk_servers, "10.0.0.2:11111", Duration::from_millis(300)).await;
    let c = tokio::time::timeout(Duration::from_secs(15), zk::Client::connect(&zk_servers))
        .await
        .expect("zk connect in time")
        .expect("zk connect");
    assert_eq!(
        running_node(&c).await.as_deref(),
        Some(r#"{"active":true,"address":"10.0.0.1:11111"}"#)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!b.controller.is_running("example"), "B is a standby");

    // Release on the standby: nothing held, nothing changes.
    assert_eq!(b.target.instance_release("example").await, Ok(false));
    assert!(a.controller.is_running("example"));

    // Release on the active server: its instance stops when the call returns, the node goes,
    // B takes over after its delay, A keeps contending (monitor still started).
    let t0 = Instant::now();
    assert_eq!(a.target.instance_release("example").await, Ok(true));
    assert!(!a.controller.is_running("example"), "A's instance stopped");
    wait_until("B active", Duration::from_secs(15), || {
        b.controller.is_running("example")
    })
    .await;
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(300),
        "B contended before its takeover delay: {took:?}"
    );
    assert_eq!(
        running_node(&c).await.as_deref(),
        Some(r#"{"active":true,"address":"10.0.0.2:11111"}"#)
    );
    assert!(!a.controller.is_running("example"));
    assert!(a.target.instance_running("example").eq(&false));
    assert_eq!(*a.rec.0.lock(), vec!["start example", "stop example"]);
    assert_eq!(*b.rec.0.lock(), vec!["start example"]);
    eprintln!(
        "release: B active {:.2} s after A's release",
        took.as_secs_f64()
    );

    // A is still in the election: when B's server stops on the admin port (its destinations
    // leave the election, releasing the running node), A takes over after its delay.
    assert_eq!(b.target.server_stop().await, Ok(true));
    assert!(!b.controller.is_running("example"));
    wait_until("A active again", Duration::from_secs(20), || {
        a.controller.is_running("example")
    })
    .await;
    assert_eq!(
        running_node(&c).await.as_deref(),
        Some(r#"{"active":true,"address":"10.0.0.1:11111"}"#)
    );
    // SERVER start on B joins again, as a standby now.
    assert_eq!(b.target.server_start().await, Ok(true));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!b.controller.is_running("example"), "B stays standby");
    assert!(a.controller.is_running("example"));

    b.ha.shutdown().await;
    b.controller.shutdown().await;
    a.ha.shutdown().await;
    a.controller.shutdown().await;
    let _ = c
        .delete("/otter/canal/destinations/example/cluster", None)
        .await;
}
