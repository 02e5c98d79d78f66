//! Live tests against a real ZooKeeper (CANAL_TEST_ZK=127.0.0.1:2181; skipped with a note when
//! unset, failing under CI). Expected values come from ../shared/compat/operations.md §1-§3.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_cluster::{
    paths, MonitorOptions, ServerRegistration, ServerRunningData, ServerRunningMonitor, ZkOptions,
    ZkSession, ZooKeeperLogPositionManager, ZooKeeperMetaManager,
};
use canal_meta::log_position::LogPositionManager;
use canal_meta::{MetaError, MetaManager, PeriodMixedMetaManager};
use canal_protocol::position::{
    ClientIdentity, EntryPosition, LogIdentity, LogPosition, PositionRange, SourceAddress,
};
use common::*;
use serde_json::Value;
use zookeeper_client as zk;

const LOG_POSITION_TYPE: &str = "com.alibaba.otter.canal.protocol.position.LogPosition";
const POSITION_RANGE_TYPE: &str = "com.alibaba.otter.canal.protocol.position.PositionRange";

fn opts(timeout_ms: u64) -> ZkOptions {
    session_opts(timeout_ms)
}

fn pos(offset: i64, ts: i64) -> LogPosition {
    LogPosition {
        identity: LogIdentity {
            source_address: Some(SourceAddress {
                address: Some("10.20.3.4".into()),
                port: 3306,
            }),
            slave_id: -1,
        },
        postion: EntryPosition {
            journal_name: Some("mysql-bin.000003".into()),
            position: Some(offset),
            server_id: Some(1),
            gtid: Some(String::new()),
            timestamp: Some(ts),
            included: false,
        },
    }
}

/// A raw client on the real ZooKeeper root (no chroot), to look at what we wrote.
async fn raw(zk_addr: &str) -> zk::Client {
    zk::Client::connector()
        .with_session_timeout(Duration::from_secs(10))
        .connect(zk_addr)
        .await
        .expect("raw zookeeper client")
}

async fn get(c: &zk::Client, path: &str) -> (Vec<u8>, zk::Stat) {
    c.get_data(path)
        .await
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// operations.md §1.3 serialization rules, checked on parsed JSON (serde_json keeps document
/// order here): in every object `@type` (if present) is the FIRST key and all other keys are in
/// strictly ascending (alphabetical) order; no whitespace anywhere outside strings.
fn assert_fastjson_shape(text: &str, v: &Value) {
    fn walk(v: &Value, at: &str) {
        if let Value::Object(m) = v {
            let keys: Vec<&String> = m.keys().collect();
            if let Some(i) = keys.iter().position(|k| *k == "@type") {
                assert_eq!(i, 0, "{at}: @type must be the first key, keys {keys:?}");
            }
            let rest: Vec<&String> = keys.iter().copied().filter(|k| *k != "@type").collect();
            for w in rest.windows(2) {
                assert!(w[0] < w[1], "{at}: keys not alphabetical: {keys:?}");
            }
            for (k, child) in m {
                walk(child, &format!("{at}.{k}"));
            }
        }
    }
    walk(v, "$");
    let mut in_str = false;
    let mut esc = false;
    for ch in text.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if ch == '\\' {
                esc = true;
            } else if ch == '"' {
                in_str = false;
            }
        } else if ch == '"' {
            in_str = true;
        } else {
            assert!(!ch.is_whitespace(), "whitespace outside strings in {text}");
        }
    }
}

fn parse_json(bytes: &[u8]) -> (String, Value) {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8 node data");
    let v: Value = serde_json::from_str(&text).expect("json node data");
    (text, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_layout_matches_operations_md() {
    let Some(zk_addr) = zk_addr("node_layout_matches_operations_md") else {
        return;
    };
    let root = unique_root("layout");
    let session = ZkSession::connect(&format!("{zk_addr}{root}"), opts(6000))
        .await
        .expect("session");
    let address = "10.20.1.5:11111";
    let reg = ServerRegistration::start(&session, address)
        .await
        .expect("register");
    let journal = Arc::new(Journal::default());
    let rec = Recorder::new("a", journal.clone());
    let mon = ServerRunningMonitor::new(
        Some(session.clone()),
        "example",
        address,
        rec.clone(),
        MonitorOptions::default(),
    );
    mon.start();
    assert!(
        mon.wait_for_active(Duration::from_secs(10)).await,
        "single server must win"
    );

    // meta + parse nodes through the backends
    let meta = Arc::new(ZooKeeperMetaManager::new(session.clone()));
    let lpm = ZooKeeperLogPositionManager::new(session.clone());
    let filter = "mydb\\..*,other\\.t1";
    let (meta2, lpm_pos) = (meta.clone(), pos(4567, 1_700_000_000_000));
    let batch_range = PositionRange {
        start: Some(pos(4567, 1_700_000_000_000)),
        ack: Some(pos(8800, 1_700_000_001_000)),
        end: Some(pos(8800, 1_700_000_001_000)),
        end_seq: 42,
    };
    let br = batch_range.clone();
    let batch_id = tokio::task::spawn_blocking(move || {
        let mut c = ClientIdentity::new("example", 1001);
        c.filter = Some(filter.to_string());
        meta2.start().unwrap();
        meta2.subscribe(&c).unwrap();
        meta2.update_cursor(&c, &lpm_pos).unwrap();
        let id = meta2.add_batch(&c, br).unwrap();
        lpm.persist_log_position("example", &lpm_pos).unwrap();
        id
    })
    .await
    .unwrap();

    let r = raw(&zk_addr).await;
    let p = |rel: &str| format!("{root}{rel}");
    let sid = session.current().unwrap().session_id();

    // §1.2: persistent roots
    for rel in [
        "/otter",
        "/otter/canal",
        "/otter/canal/destinations",
        "/otter/canal/cluster",
        "/otter/canal/destinations/example",
        "/otter/canal/destinations/example/cluster",
        "/otter/canal/destinations/example/1001",
        "/otter/canal/destinations/example/1001/mark",
    ] {
        let (data, stat) = get(&r, &p(rel)).await;
        assert_eq!(stat.ephemeral_owner, 0, "{rel} must be persistent");
        assert!(data.is_empty(), "{rel} must have no data");
    }
    // ephemeral cluster nodes, no data
    for rel in [
        format!("/otter/canal/cluster/{address}"),
        format!("/otter/canal/destinations/example/cluster/{address}"),
    ] {
        let (data, stat) = get(&r, &p(&rel)).await;
        assert_eq!(
            stat.ephemeral_owner, sid,
            "{rel} must be ephemeral of our session"
        );
        assert!(data.is_empty(), "{rel} must have no data");
    }
    // running: ephemeral ServerRunningData, exact text of §1.3
    let (data, stat) = get(&r, &p("/otter/canal/destinations/example/running")).await;
    assert_eq!(stat.ephemeral_owner, sid);
    let (text, v) = parse_json(&data);
    assert_fastjson_shape(&text, &v);
    assert_eq!(v["active"], Value::Bool(true));
    assert_eq!(v["address"], Value::String(address.into()));
    assert_eq!(v.as_object().unwrap().len(), 2, "no cid when null: {text}");
    assert_eq!(text, r#"{"active":true,"address":"10.20.1.5:11111"}"#);

    // filter: raw UTF-8, no quotes
    let (data, stat) = get(&r, &p("/otter/canal/destinations/example/1001/filter")).await;
    assert_eq!(stat.ephemeral_owner, 0);
    assert_eq!(data, filter.as_bytes());

    // cursor: LogPosition with @type FIRST, misspelled postion, slaveId -1
    let (data, _) = get(&r, &p("/otter/canal/destinations/example/1001/cursor")).await;
    let (text, v) = parse_json(&data);
    assert_fastjson_shape(&text, &v);
    let m = v.as_object().unwrap();
    assert_eq!(m.keys().next().map(String::as_str), Some("@type"), "{text}");
    assert_eq!(m["@type"], Value::String(LOG_POSITION_TYPE.into()));
    assert_eq!(v["identity"]["slaveId"], Value::from(-1));
    assert_eq!(
        v["identity"]["sourceAddress"]["address"],
        Value::from("10.20.3.4")
    );
    assert_eq!(v["identity"]["sourceAddress"]["port"], Value::from(3306));
    assert_eq!(v["postion"]["gtid"], Value::from(""));
    assert_eq!(v["postion"]["included"], Value::Bool(false));
    assert_eq!(v["postion"]["journalName"], Value::from("mysql-bin.000003"));
    assert_eq!(v["postion"]["position"], Value::from(4567));
    assert_eq!(v["postion"]["serverId"], Value::from(1));
    assert_eq!(v["postion"]["timestamp"], Value::from(1_700_000_000_000i64));
    assert!(
        m.get("position").is_none(),
        "the key is the misspelled `postion`"
    );
    // the documented example, field for field
    assert_eq!(
        text,
        r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}"#
    );

    // batch mark: 10-digit name, outer and nested @type first
    let kids = r
        .list_children(&p("/otter/canal/destinations/example/1001/mark"))
        .await
        .unwrap();
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].len(), 10, "batch node name is 10 digits: {kids:?}");
    assert!(kids[0].bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(kids[0].parse::<i64>().unwrap(), batch_id);
    let (data, _) = get(
        &r,
        &p(&format!(
            "/otter/canal/destinations/example/1001/mark/{}",
            kids[0]
        )),
    )
    .await;
    let (text, v) = parse_json(&data);
    assert_fastjson_shape(&text, &v);
    assert_eq!(v["@type"], Value::from(POSITION_RANGE_TYPE));
    for k in ["start", "ack", "end"] {
        assert_eq!(
            v[k]["@type"],
            Value::from(LOG_POSITION_TYPE),
            "nested {k} @type"
        );
        assert!(v[k]["identity"].get("@type").is_none());
    }
    assert_eq!(v["endSeq"], Value::from(42));
    assert_eq!(PositionRange::from_json(&text).unwrap(), batch_range);

    // parse node: same LogPosition WITHOUT @type
    let (data, stat) = get(&r, &p("/otter/canal/destinations/example/parse")).await;
    assert_eq!(stat.ephemeral_owner, 0);
    let (text, v) = parse_json(&data);
    assert_fastjson_shape(&text, &v);
    assert!(v.get("@type").is_none(), "{text}");
    assert_eq!(
        text,
        r#"{"identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}"#
    );

    // discovery as a cluster client does it
    assert_eq!(
        canal_cluster::discover_server(&session, "example")
            .await
            .unwrap(),
        Some(address.to_string())
    );
    assert_eq!(
        canal_cluster::cluster_servers(&session, "example")
            .await
            .unwrap(),
        vec![address.to_string()]
    );
    assert_eq!(
        canal_cluster::discover_server_once(
            &format!("{zk_addr}{root}"),
            "example",
            Duration::from_secs(10)
        )
        .await
        .unwrap(),
        Some(address.to_string())
    );

    // stop: running + destination cluster node gone, instance exited; server node gone
    mon.stop().await;
    reg.stop().await;
    assert_eq!(journal.list(), vec![Ev::Enter("a"), Ev::Exit("a")]);
    for rel in [
        "/otter/canal/destinations/example/running".to_string(),
        format!("/otter/canal/destinations/example/cluster/{address}"),
        format!("/otter/canal/cluster/{address}"),
    ] {
        assert!(
            r.check_stat(&p(&rel)).await.unwrap().is_none(),
            "{rel} must be deleted"
        );
    }
    assert_eq!(
        canal_cluster::discover_server(&session, "example")
            .await
            .unwrap(),
        None
    );
    session.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chroot_root_is_created_when_missing() {
    let Some(zk_addr) = zk_addr("chroot_root_is_created_when_missing") else {
        return;
    };
    let root = format!("{}/deep/er", unique_root("chroot"));
    let r = raw(&zk_addr).await;
    assert!(r.check_stat(&root).await.unwrap().is_none());
    // a `;` fallback ensemble (same server) must not disturb the chroot of the first list
    let session = ZkSession::connect(&format!("{zk_addr}{root};{zk_addr}/ignored"), opts(6000))
        .await
        .expect("session with missing chroot");
    assert!(
        r.check_stat(&root).await.unwrap().is_some(),
        "chroot root created"
    );
    canal_cluster::ensure_canal_roots(&session).await.unwrap();
    assert!(r
        .check_stat(&format!("{root}/otter/canal/destinations"))
        .await
        .unwrap()
        .is_some());
    assert!(r.check_stat("/ignored").await.unwrap().is_none());
    session.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn election_standby_release_and_previous_holder() {
    let Some(zk_addr) = zk_addr("election_standby_release_and_previous_holder") else {
        return;
    };
    let cs = format!("{zk_addr}{}", unique_root("election"));
    let sa = ZkSession::connect(&cs, opts(4000)).await.unwrap();
    let sb = ZkSession::connect(&cs, opts(4000)).await.unwrap();
    let Pair {
        journal,
        ra,
        ma,
        mb,
        ..
    } = Pair::new(&sa, &sb, "d1", MonitorOptions::default());
    Pair::start_pair(&ma, &mb).await;
    // standby: sees the holder, does not start
    assert!(
        eventually(Duration::from_secs(5), || mb.state().running
            == Some(ServerRunningData::new("10.0.0.1:11111")))
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!mb.is_active());
    assert_eq!(journal.list(), vec![Ev::Enter("a")]);
    assert!(ra.lease_valid());

    // release: a exits at once; nobody re-enters before the 5 s delay, somebody after it
    let t0 = Instant::now();
    assert!(ma.release().await, "holder releases");
    assert!(!ra.lease_valid(), "lease revoked on release");
    assert_eq!(journal.list(), vec![Ev::Enter("a"), Ev::Exit("a")]);
    assert!(
        eventually(Duration::from_secs(12), || ma.is_active() || mb.is_active()).await,
        "someone takes over after the delay"
    );
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(4800),
        "takeover after release must wait ~5 s, took {took:?}"
    );
    assert!(took < Duration::from_secs(8), "takeover too slow: {took:?}");
    eprintln!("release -> takeover: {took:?}");
    let (holder, other, hs, hname, oname) = if ma.is_active() {
        (&ma, &mb, &sa, "a", "b")
    } else {
        (&mb, &ma, &sb, "b", "a")
    };
    assert!(!other.is_active());

    // the holder's session expires: it stops at once, and as previous holder re-grabs with no
    // delay; the other server never starts
    let enters_before = journal.count(&Ev::Enter(hname));
    let exits_before = journal.count(&Ev::Exit(hname));
    // Forcing an expiry re-attaches the session from a second client, which the ZooKeeper
    // client library intermittently cannot do on a loaded machine (connect timeouts). Expiry
    // fencing is also covered by `partitioned_holder_fences_before_standby_takes_over` and by
    // the two-process SIGSTOP test (crates/cli/tests/ha_failover.rs), so only this part is
    // skipped then, with a note.
    match hs.force_expire().await {
        Err(e) => eprintln!("note: could not force a session expiry ({e}); expiry part skipped"),
        Ok(()) => {
            assert!(
                eventually(Duration::from_secs(10), || journal.count(&Ev::Exit(hname))
                    == exits_before + 1)
                .await,
                "expired holder must stop (fencing)"
            );
            // measured from the observed stop: forcing the expiry itself may need retries
            let t1 = Instant::now();
            assert!(
                eventually(Duration::from_secs(10), || journal.count(&Ev::Enter(hname))
                    == enters_before + 1)
                .await,
                "previous holder re-grabs"
            );
            let regrab = t1.elapsed();
            eprintln!("expire -> previous holder re-grab: {regrab:?}");
            assert!(
                regrab < Duration::from_millis(4500),
                "previous holder must not wait 5 s: {regrab:?}"
            );
            assert!(holder.is_active());
            tokio::time::sleep(Duration::from_millis(5500)).await;
            assert_eq!(
                journal.count(&Ev::Enter(oname)),
                if oname == "a" { 1 } else { 0 }
            );
            assert!(!other.is_active());
        }
    }

    // step-down: somebody rewrites the node with the holder's address and active:false
    let r = raw(&zk_addr).await;
    let running = format!(
        "{}{}",
        cs.trim_start_matches(&zk_addr),
        paths::destination_running("d1")
    );
    let step = ServerRunningData {
        address: Some(holder.address().to_string()),
        active: false,
    };
    let t2 = Instant::now();
    r.set_data(&running, step.to_json().as_bytes(), None)
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || !holder.is_active()).await,
        "active:false must make the holder step down"
    );
    eprintln!("step-down after {:?}", t2.elapsed());
    // then the usual 5 s for everybody
    assert!(eventually(Duration::from_secs(12), || ma.is_active() || mb.is_active()).await);
    assert!(t2.elapsed() >= Duration::from_millis(4800));

    ma.stop().await;
    mb.stop().await;
    assert!(!ma.is_active() && !mb.is_active());
    journal.assert_one_active_at_a_time();
    sa.close();
    sb.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_holder_fences_before_standby_takes_over() {
    let Some(zk_addr) = zk_addr("partitioned_holder_fences_before_standby_takes_over") else {
        return;
    };
    let root = unique_root("fence");
    let proxy = Proxy::start(&zk_addr).await;
    // a's only path to ZooKeeper goes through the proxy
    let sa = ZkSession::connect(&format!("{}{root}", proxy.addr), opts(4000))
        .await
        .unwrap();
    let sb = ZkSession::connect(&format!("{zk_addr}{root}"), opts(4000))
        .await
        .unwrap();
    let timeout = sa.session_timeout();
    eprintln!("negotiated session timeout {timeout:?}");
    let Pair {
        journal,
        ra,
        ma,
        mb,
        ..
    } = Pair::new(&sa, &sb, "d2", MonitorOptions::default());
    Pair::start_pair(&ma, &mb).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // partition a: its lease must lapse before its session can expire
    let t0 = Instant::now();
    proxy.cut();
    assert!(
        eventually(timeout + Duration::from_secs(10), || journal
            .count(&Ev::Exit("a"))
            == 1)
        .await,
        "partitioned holder must stop"
    );
    let fenced = t0.elapsed();
    assert!(!ra.lease_valid());
    assert!(
        eventually(timeout + Duration::from_secs(15), || mb.is_active()).await,
        "standby takes over after expiry + delay"
    );
    let took = t0.elapsed();
    eprintln!("partition: a fenced after {fenced:?}, b active after {took:?}");
    assert!(
        fenced < timeout,
        "fence {fenced:?} must come before expiry ({timeout:?})"
    );
    let exit_a = journal.time_of(&Ev::Exit("a")).unwrap();
    let enter_b = journal.time_of(&Ev::Enter("b")).unwrap();
    assert!(
        exit_a < enter_b,
        "a's activeExit must run before b's activeEnter"
    );
    assert!(
        took >= Duration::from_secs(5),
        "non-previous holder waits 5 s: {took:?}"
    );

    // heal: a gets a new session, sees b, stays standby
    proxy.heal();
    assert!(
        eventually(Duration::from_secs(15), || ma.state().running
            == Some(ServerRunningData::new("10.0.0.2:11111")))
        .await,
        "a must see b as holder after healing"
    );
    // a's new session registered its destination cluster node again
    let both = vec!["10.0.0.1:11111".to_string(), "10.0.0.2:11111".to_string()];
    let mut registered = false;
    for _ in 0..100 {
        if canal_cluster::cluster_servers(&sb, "d2")
            .await
            .unwrap_or_default()
            == both
        {
            registered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(registered, "cluster node re-registered on the new session");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        journal.count(&Ev::Enter("a")),
        1,
        "a must not re-enter: {:?}",
        journal.list()
    );
    assert!(!ma.is_active() && mb.is_active());
    ma.stop().await;
    mb.stop().await;
    sa.close();
    sb.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parser_failures_and_start_failure_release() {
    let Some(zk_addr) = zk_addr("parser_failures_and_start_failure_release") else {
        return;
    };
    let cs = format!("{zk_addr}{}", unique_root("parserfail"));
    let sa = ZkSession::connect(&cs, opts(4000)).await.unwrap();
    let sb = ZkSession::connect(&cs, opts(4000)).await.unwrap();
    let o = MonitorOptions {
        takeover_delay: Duration::from_millis(1000),
        parser_failure_threshold: 3,
    };
    let Pair {
        journal,
        rb,
        ma,
        mb,
        ..
    } = Pair::new(&sa, &sb, "d3", o);
    // b wins the cold start but cannot start its instance: like Canal's "start failed" it
    // releases the node and stops contending instead of holding it forever
    rb.fail_enter
        .store(true, std::sync::atomic::Ordering::SeqCst);
    mb.start();
    assert!(
        eventually(Duration::from_secs(10), || mb.state().running.is_some()
            && !mb.state().started)
        .await,
        "a monitor whose start failed stops: {:?}",
        mb.state()
    );
    assert_eq!(journal.count(&Ev::Enter("b")), 0);
    assert!(
        canal_cluster::running_server(&sb, "d3")
            .await
            .unwrap()
            .is_none(),
        "running node released after the start failure"
    );
    ma.start();
    assert!(
        ma.wait_for_active(Duration::from_secs(10)).await,
        "cold start: no delay"
    );
    ma.report_parser_failure();
    ma.report_parser_success();
    ma.report_parser_failure();
    ma.report_parser_failure();
    assert!(ma.is_active(), "failures are counted consecutively");
    let t0 = Instant::now();
    ma.report_parser_failure();
    assert!(
        eventually(Duration::from_secs(5), || !ma.is_active()).await,
        "3 consecutive parser failures release the destination"
    );
    assert!(
        eventually(Duration::from_secs(10), || ma.is_active()).await,
        "after the takeover delay the released server may win again"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(950),
        "released: waits the delay"
    );
    // b's failed start is followed by activeExit (Canal's stop() after "start failed" also
    // calls it, so a half-started instance is cleaned up)
    assert_eq!(
        journal.list(),
        vec![Ev::Exit("b"), Ev::Enter("a"), Ev::Exit("a"), Ev::Enter("a")]
    );
    ma.stop().await;
    mb.stop().await;
    sa.close();
    sb.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_meta_backend_semantics() {
    let Some(zk_addr) = zk_addr("zookeeper_meta_backend_semantics") else {
        return;
    };
    let cs = format!("{zk_addr}{}", unique_root("meta"));
    let session = ZkSession::connect(&cs, opts(6000)).await.unwrap();
    let s2 = session.clone();
    tokio::task::spawn_blocking(move || {
        let meta = Arc::new(ZooKeeperMetaManager::new(s2.clone()));
        meta.start().unwrap();
        let mut c2 = ClientIdentity::new("dm", 1002);
        c2.filter = Some(".*\\..*".into());
        let c1 = ClientIdentity::new("dm", 1001);
        meta.subscribe(&c2).unwrap();
        meta.subscribe(&c1).unwrap();
        assert!(meta.has_subscribe(&c1).unwrap());
        // the running/cluster/parse children are not clients; ids sorted ascending
        let lpm = ZooKeeperLogPositionManager::new(s2.clone());
        lpm.persist_log_position("dm", &pos(4, 1)).unwrap();
        let list = meta.list_all_subscribe_info("dm").unwrap();
        assert_eq!(
            list.iter().map(|c| c.client_id).collect::<Vec<_>>(),
            vec![1001, 1002]
        );
        assert_eq!(list[0].filter, None);
        assert_eq!(list[1].filter.as_deref(), Some(".*\\..*"));
        // an empty filter never clears an old one (Canal trap)
        let mut c2e = c2.clone();
        c2e.filter = Some(String::new());
        meta.subscribe(&c2e).unwrap();
        assert_eq!(
            meta.list_all_subscribe_info("dm").unwrap()[1]
                .filter
                .as_deref(),
            Some(".*\\..*")
        );
        assert_eq!(lpm.get_latest_index_by("dm").unwrap(), Some(pos(4, 1)));
        assert_eq!(lpm.get_latest_index_by("nope").unwrap(), None);

        // cursor
        assert_eq!(meta.get_cursor(&c1).unwrap(), None);
        meta.update_cursor(&c1, &pos(100, 5)).unwrap();
        meta.update_cursor(&c1, &pos(200, 6)).unwrap();
        assert_eq!(meta.get_cursor(&c1).unwrap(), Some(pos(200, 6)));

        // batches: ascending ids, removal only in order
        let r = |o| PositionRange {
            start: Some(pos(o, 1)),
            ack: None,
            end: Some(pos(o + 10, 1)),
            end_seq: o,
        };
        let id1 = meta.add_batch(&c1, r(1)).unwrap();
        let id2 = meta.add_batch(&c1, r(2)).unwrap();
        let id3 = meta.add_batch(&c1, r(3)).unwrap();
        assert!(id1 < id2 && id2 < id3);
        assert_eq!(meta.get_first_batch(&c1).unwrap(), Some(r(1)));
        assert_eq!(meta.get_lastest_batch(&c1).unwrap(), Some(r(3)));
        assert_eq!(meta.get_batch(&c1, id2).unwrap(), Some(r(2)));
        assert_eq!(
            meta.remove_batch(&c1, id2),
            Err(MetaError::NotFirstly {
                batch_id: id2,
                min: id1
            })
        );
        assert_eq!(meta.remove_batch(&c1, id1).unwrap(), Some(r(1)));
        let all = meta.list_all_batchs(&c1).unwrap();
        assert_eq!(all.keys().copied().collect::<Vec<_>>(), vec![id2, id3]);
        meta.add_batch_with_id(&c1, r(9), 77).unwrap();
        assert_eq!(meta.get_lastest_batch(&c1).unwrap(), Some(r(9)));
        meta.clear_all_batchs(&c1).unwrap();
        assert!(meta.list_all_batchs(&c1).unwrap().is_empty());
        assert_eq!(meta.remove_batch(&c1, id3).unwrap(), None);
        assert_eq!(meta.get_first_batch(&c2).unwrap(), None);

        // unsubscribe deletes the whole client subtree
        meta.unsubscribe(&c1).unwrap();
        assert!(!meta.has_subscribe(&c1).unwrap());
        assert_eq!(meta.get_cursor(&c1).unwrap(), None);

        // PeriodMixed over the ZooKeeper backend: a fresh manager (failover) sees the flushed
        // cursor and the client list
        let period = PeriodMixedMetaManager::new(meta.clone(), Duration::from_millis(200));
        period.start().unwrap();
        let c3 = ClientIdentity::new("dm", 1003);
        period.subscribe(&c3).unwrap();
        period.update_cursor(&c3, &pos(300, 7)).unwrap();
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(meta.get_cursor(&c3).unwrap(), Some(pos(300, 7)));
        period.stop().unwrap();
        let again = PeriodMixedMetaManager::new(meta.clone(), Duration::from_millis(200));
        again.start().unwrap();
        assert!(again.has_subscribe(&c3).unwrap());
        assert_eq!(again.get_cursor(&c3).unwrap(), Some(pos(300, 7)));
        again.stop().unwrap();
    })
    .await
    .unwrap();
    session.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_writes_are_fenced_by_the_lease() {
    let Some(zk_addr) = zk_addr("meta_writes_are_fenced_by_the_lease") else {
        return;
    };
    let cs = format!("{zk_addr}{}", unique_root("metafence"));
    let session = ZkSession::connect(&cs, opts(4000)).await.unwrap();
    let journal = Arc::new(Journal::default());
    let rec = Recorder::new("a", journal.clone());
    let mon = ServerRunningMonitor::new(
        Some(session.clone()),
        "df",
        "10.0.0.1:11111",
        rec.clone(),
        MonitorOptions::default(),
    );
    mon.start();
    assert!(mon.wait_for_active(Duration::from_secs(10)).await);
    let lease = mon.lease().expect("lease while active");
    let meta = Arc::new(ZooKeeperMetaManager::new(session.clone()));
    meta.set_write_lease(Some(lease));
    let c = ClientIdentity::new("df", 1001);
    let m2 = meta.clone();
    let c2 = c.clone();
    tokio::task::spawn_blocking(move || m2.update_cursor(&c2, &pos(10, 1)))
        .await
        .unwrap()
        .expect("write allowed while active");
    assert!(mon.release().await);
    let m2 = meta.clone();
    let c2 = c.clone();
    let (refused, cursor) = tokio::task::spawn_blocking(move || {
        (m2.update_cursor(&c2, &pos(20, 2)), m2.get_cursor(&c2))
    })
    .await
    .unwrap();
    assert!(matches!(refused, Err(MetaError::Backend(_))), "{refused:?}");
    assert_eq!(
        cursor.unwrap(),
        Some(pos(10, 1)),
        "the refused write changed nothing"
    );
    mon.stop().await;
    session.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_disconnect_keeps_the_holder() {
    let Some(zk_addr) = zk_addr("short_disconnect_keeps_the_holder") else {
        return;
    };
    let root = unique_root("blip");
    let proxy = Proxy::start(&zk_addr).await;
    let sa = ZkSession::connect(&format!("{}{root}", proxy.addr), opts(6000))
        .await
        .unwrap();
    let journal = Arc::new(Journal::default());
    let ra = Recorder::new("a", journal.clone());
    let ma = ServerRunningMonitor::new(
        Some(sa.clone()),
        "d4",
        "10.0.0.1:11111",
        ra.clone(),
        MonitorOptions::default(),
    );
    ma.start();
    assert!(ma.wait_for_active(Duration::from_secs(10)).await);
    let generation = sa.status().generation;
    // a blip well inside the lease: the session survives, nothing is stopped (Canal: "ZK
    // disconnect without expiry: nothing happens")
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(800)).await;
    proxy.heal();
    assert!(
        eventually(Duration::from_secs(5), || sa.status().phase
            == canal_cluster::SessionPhase::Connected)
        .await
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sa.status().generation, generation, "same session");
    assert_eq!(journal.list(), vec![Ev::Enter("a")]);
    assert!(ma.is_active() && ra.lease_valid());
    ma.stop().await;
    sa.close();
}
