//! HA over the 3-node ensemble (CANAL_TEST_ZK_ENSEMBLE=127.0.0.1:2191,127.0.0.1:2192,...):
//! SIGKILL the ZooKeeper leader while a destination is active; service must continue with one
//! active server. The killed node is restarted afterwards with `scripts/start-zk.sh --ensemble`
//! (or CANAL_TEST_ZK_RESTART). Node n's pid file is `${CANAL_ZK_DIR:-/tmp/canal-zk}/ens<n>/zk.pid`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use canal_cluster::{MonitorOptions, ZkSession};
use common::*;

fn srvr_mode(host: &str) -> Option<String> {
    let mut s = TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_leader_kill_keeps_service() {
    let Some(ens) = zk_ensemble("zookeeper_leader_kill_keeps_service") else {
        return;
    };
    let hosts: Vec<String> = ens.split(',').map(|h| h.trim().to_string()).collect();
    let Some(leader_idx) = hosts
        .iter()
        .position(|h| srvr_mode(h).as_deref() == Some("leader"))
    else {
        panic!("no leader among {hosts:?}");
    };
    let dir = std::env::var("CANAL_ZK_DIR").unwrap_or_else(|_| "/tmp/canal-zk".into());
    let pid_file = format!("{dir}/ens{}/zk.pid", leader_idx + 1);
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("leader pid file {pid_file}: {e}"))
        .trim()
        .to_string();

    let cs = format!("{ens}{}", unique_root("ensemble"));
    let sa = ZkSession::connect(&cs, session_opts(4000)).await.unwrap();
    let sb = ZkSession::connect(&cs, session_opts(4000)).await.unwrap();
    let Pair {
        journal,
        ra,
        rb,
        ma,
        mb,
    } = Pair::new(&sa, &sb, "ens", MonitorOptions::default());
    Pair::start_pair(&ma, &mb).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let t0 = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(killed, "kill leader pid {pid}");
    // sample who is serving for 12 s
    let mut outage = Duration::ZERO;
    let mut last = Instant::now();
    while t0.elapsed() < Duration::from_secs(12) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = Instant::now();
        let serving = ra.lease_valid() as u8 + rb.lease_valid() as u8;
        assert!(
            serving <= 1,
            "two servers serving at once: {:?}",
            journal.list()
        );
        if serving == 0 {
            outage += now - last;
        }
        last = now;
    }
    eprintln!(
        "zookeeper leader killed: outage {outage:?}, events {:?}",
        journal.list()
    );
    assert!(
        ma.is_active() || mb.is_active(),
        "service continues after the leader kill"
    );
    assert!(outage < Duration::from_secs(10), "outage {outage:?}");

    ma.stop().await;
    mb.stop().await;
    sa.close();
    sb.close();

    // bring the killed node back for whoever runs next
    let restart = std::env::var("CANAL_TEST_ZK_RESTART").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/start-zk.sh --ensemble"
        )
        .to_string()
    });
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("{restart} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "restart of the ensemble node failed ({restart})");
}
