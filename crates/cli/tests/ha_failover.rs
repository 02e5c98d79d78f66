//! ZooKeeper HA of the real binary (issue 5): two `canal-server` processes with
//! `default-instance.xml` on a 3-node ZooKeeper ensemble and the sandbox MariaDB, a writer
//! inserting continuously, our Rust client in cluster mode (discovery through the `running`
//! node, reconnect on failure) acking every batch.
//!
//! * `failover_sigkill_active_then_zookeeper_leader`: node layout check (operations.md §1.2/§1.3:
//!   running node JSON, cluster nodes, cursor JSON), SIGKILL of the active server (the time until
//!   the standby delivers is measured and printed, must be < 10 s with a 4 s session timeout),
//!   then SIGKILL of the ZooKeeper leader (service must continue; the node is restarted with the
//!   script afterwards). At the end every row is present; an id may arrive twice only when the
//!   batch that first carried it was not acked, or was acked within one cursor flush period
//!   (`canal.zookeeper.flush.period` + 1 s slack) before the kill (PeriodMixedMetaManager
//!   writes cursors periodically, operations.md §3.2).
//! * `fencing_sigstop_active`: SIGSTOP the active server past its session timeout, wait for the
//!   standby to take over, SIGCONT: a client connected directly to the resumed server (one GET
//!   in flight during the freeze, more afterwards) must not receive a single entry, and the
//!   standby keeps delivering every row.
//!
//! Gated by CANAL_TEST_ZK_ENSEMBLE (`scripts/start-zk.sh --ensemble`) and CANAL_TEST_MARIADB
//! (+ `_SOCKET`). Each test uses its own ZooKeeper chroot, so runs never share state.

mod e2e_support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{Entry, EntryType, EventType, RowChange};
use e2e_support::{exec, fresh_schema, Server, ServerConf, Source};
use parking_lot::Mutex;
use prost::Message;

const DEST: &str = "example";
const SESSION_TIMEOUT_MS: u64 = 4_000;
const TAKEOVER_DELAY_MS: u64 = 1_000;
const FLUSH_PERIOD_MS: u64 = 200;

/// The tests kill processes and ZooKeeper nodes: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn ensemble() -> Option<String> {
    match std::env::var("CANAL_TEST_ZK_ENSEMBLE") {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(!in_ci(), "CI is set but CANAL_TEST_ZK_ENSEMBLE is not");
            eprintln!("note: CANAL_TEST_ZK_ENSEMBLE unset, skipping this HA test");
            None
        }
    }
}

/// Everything one HA test needs.
struct Setup {
    source: Source,
    schema: String,
    zk: String,
    confs: Vec<ServerConf>,
}

async fn setup(tag: &str) -> Option<Setup> {
    let ens = ensemble()?;
    let source = e2e_support::source("CANAL_TEST_MARIADB")?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let zk = format!("{ens}/canal-rs-{tag}-{}-{nanos}", std::process::id());
    let schema = format!("ha_{tag}_{}", std::process::id());
    let mut admin = source.admin().await;
    let start = fresh_schema(
        &mut admin,
        &schema,
        &[format!(
            "CREATE TABLE {schema}.t (id INT PRIMARY KEY, v VARCHAR(40))"
        )],
    )
    .await;
    let filter = format!("{schema}\\\\..*");
    let server_props = [
        ("canal.zkServers", zk.as_str()),
        ("canal.register.ip", "127.0.0.1"),
        (
            "canal.instance.global.spring.xml",
            "classpath:spring/default-instance.xml",
        ),
        ("canal.zookeeper.sessionTimeout", "4000"),
        ("canal.zookeeper.takeoverDelay", "1000"),
        ("canal.zookeeper.flush.period", "200"),
    ];
    // Distinct replica server ids, as two hosts would derive (both servers run on 127.0.0.1
    // here; MariaDB kicks a replica whose id is reused: ERROR 4052 / the frozen server's dump).
    let confs = (0..2u32)
        .map(|i| {
            let slave_id =
                (20_000 + (std::process::id() % 10_000) * 4 + i * 2 + tag.len() as u32 % 2)
                    .to_string();
            ServerConf::new(
                &source,
                &start,
                &[
                    ("canal.instance.filter.regex", &filter),
                    ("canal.instance.mysql.slaveId", &slave_id),
                ],
                &server_props,
            )
        })
        .collect();
    Some(Setup {
        source,
        schema,
        zk,
        confs,
    })
}

/// A plain ZooKeeper client (test side) on `zk` (chroot included).
async fn zk_client(zk: &str) -> zookeeper_client::Client {
    tokio::time::timeout(
        Duration::from_secs(15),
        zookeeper_client::Client::connect(zk),
    )
    .await
    .expect("zk connect in time")
    .expect("zk connect")
}

/// Raw bytes of `path`, `None` if missing.
async fn node(zk: &zookeeper_client::Client, path: &str) -> Option<Vec<u8>> {
    match zk.get_data(path).await {
        Ok((d, _)) => Some(d),
        Err(zookeeper_client::Error::NoNode) => None,
        Err(e) => panic!("read {path}: {e}"),
    }
}

/// Waits until the running node names `addr` (exact Canal JSON); returns the wait.
async fn wait_running(zk_servers: &str, addr: &str, limit: Duration) -> Duration {
    let t = Instant::now();
    let want = format!(r#"{{"active":true,"address":"{addr}"}}"#);
    loop {
        let zk = zk_client(zk_servers).await;
        let got = node(&zk, &format!("/otter/canal/destinations/{DEST}/running")).await;
        if got.as_deref() == Some(want.as_bytes()) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < limit,
            "running node is {:?}, expected {want} within {limit:?}",
            got.map(|g| String::from_utf8_lossy(&g).into_owned())
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes rows `1..` in small multi-row INSERTs until stopped; returns the last id.
fn spawn_writer(
    source: Source,
    schema: String,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u32> {
    tokio::spawn(async move {
        let mut c = source.admin().await;
        let mut id = 0u32;
        while !stop.load(Ordering::SeqCst) {
            let mut sql = format!("INSERT INTO {schema}.t VALUES ");
            for k in 0..5 {
                id += 1;
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("({id},'ha row {id}')"));
            }
            c.query(&sql).await.expect("insert");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        id
    })
}

/// Inserted ids of this schema in `entries`.
fn insert_ids(entries: &[Entry], schema: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    for e in entries {
        let h = e.header.clone().unwrap_or_default();
        if e.entry_type() != EntryType::Rowdata
            || h.event_type() != EventType::Insert
            || h.schema_name() != schema
        {
            continue;
        }
        let rc = RowChange::decode(e.store_value()).expect("RowChange");
        for r in &rc.row_datas {
            ids.push(
                r.after_columns
                    .first()
                    .and_then(|c| c.value().parse::<u32>().ok())
                    .expect("id column"),
            );
        }
    }
    ids
}

/// One delivered batch as the cluster-mode consumer saw it.
struct Batch {
    server: String,
    ids: Vec<u32>,
    received: Instant,
    acked_at: Option<Instant>,
}

/// Cluster-mode consumer: discover, connect, subscribe, GET + ACK every batch; rediscover on
/// any failure. Stops when `stop` is set and nothing new arrived for 5 s.
async fn consume(
    zk: String,
    schema: String,
    stop: Arc<AtomicBool>,
    batches: Arc<Mutex<Vec<Batch>>>,
    reconnects: Arc<AtomicU32>,
) {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut last_rows = Instant::now();
    'outer: while Instant::now() < deadline {
        let cfg = ClientConfig {
            so_timeout: Duration::from_secs(3),
            ..ClientConfig::default()
        };
        let Ok(addr) = canal_client::cluster::discover(&zk, DEST).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut client = match CanalClient::connect(addr.as_str(), cfg).await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if client.subscribe(&format!("{schema}\\..*")).await.is_err() {
            // a standby answers "should start first": rediscover
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        reconnects.fetch_add(1, Ordering::SeqCst);
        loop {
            if Instant::now() > deadline {
                break 'outer;
            }
            let msg = match client
                .get_without_ack(500, Some(Duration::from_millis(300)))
                .await
            {
                Ok(m) => m,
                Err(_) => continue 'outer,
            };
            let ids = insert_ids(&msg.entries, &schema);
            if msg.id == -1 || ids.is_empty() {
                if stop.load(Ordering::SeqCst) && last_rows.elapsed() > Duration::from_secs(5) {
                    break 'outer;
                }
                if msg.id != -1 && client.ack(msg.id).await.is_err() {
                    continue 'outer;
                }
                continue;
            }
            last_rows = Instant::now();
            let idx = {
                let mut b = batches.lock();
                b.push(Batch {
                    server: addr.clone(),
                    ids,
                    received: Instant::now(),
                    acked_at: None,
                });
                b.len() - 1
            };
            if client.ack(msg.id).await.is_err() {
                continue 'outer;
            }
            batches.lock()[idx].acked_at = Some(Instant::now());
        }
    }
}

/// Every id `1..=last` arrived; duplicates only where allowed. Returns (duplicates, of which
/// from acked batches inside the flush window).
fn check_rows(batches: &[Batch], last: u32, kills: &[Instant]) -> (usize, usize) {
    let mut first: HashMap<u32, usize> = HashMap::new();
    let mut dups = 0;
    let mut window_dups = 0;
    let window = Duration::from_millis(FLUSH_PERIOD_MS + 1_000);
    for (i, b) in batches.iter().enumerate() {
        for id in &b.ids {
            match first.get(id) {
                None => {
                    first.insert(*id, i);
                }
                Some(&j) => {
                    dups += 1;
                    let fb = &batches[j];
                    match fb.acked_at {
                        None => {}
                        Some(a) => {
                            let in_window = kills
                                .iter()
                                .any(|k| a <= *k && *k - a <= window && b.received > *k);
                            assert!(
                                in_window,
                                "id {id} delivered again although its first batch was acked outside any flush window before a kill"
                            );
                            window_dups += 1;
                        }
                    }
                }
            }
        }
    }
    let got: HashSet<u32> = first.keys().copied().collect();
    let missing: Vec<u32> = (1..=last).filter(|i| !got.contains(i)).take(20).collect();
    assert!(missing.is_empty(), "missing ids (first 20): {missing:?}");
    assert!(
        got.iter().all(|i| *i <= last),
        "ids beyond the writer's last id"
    );
    (dups, window_dups)
}

/// `srvr` mode of the ZooKeeper node on `port`.
fn zk_mode(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"srvr").ok()?;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines()
        .find_map(|l| l.strip_prefix("Mode: ").map(|m| m.trim().to_string()))
}

fn signal(pid: u32, sig: &str) {
    let st = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(st.success(), "kill {sig} {pid}");
}

/// Tails of a server's log files (`{logs}/canal/canal.log`, `{logs}/example/example.log`).
fn logs(conf: &ServerConf) -> String {
    let mut out = String::new();
    for f in ["canal/canal.log", "example/example.log"] {
        let p = conf.tmp.path().join("logs").join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(40);
        out.push_str(&format!(
            "--- {} ---\n{}\n",
            p.display(),
            lines[from..].join("\n")
        ));
    }
    out
}

fn zk_dir() -> String {
    std::env::var("CANAL_ZK_DIR").unwrap_or_else(|_| "/tmp/canal-zk".into())
}

fn restart_ensemble() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/start-zk.sh");
    let out = std::process::Command::new(script)
        .arg("--ensemble")
        .output()
        .expect("start-zk.sh");
    assert!(
        out.status.success(),
        "start-zk.sh --ensemble failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_sigkill_active_then_zookeeper_leader() {
    let _serial = SERIAL.lock().await;
    let Some(s) = setup("failover").await else {
        return;
    };
    let mut a = Server::start(&s.confs[0], 0);
    let addr_a = format!("127.0.0.1:{}", a.port);
    let t = wait_running(&s.zk, &addr_a, Duration::from_secs(30)).await;
    println!("server A active after {t:?}");
    let b = Server::start(&s.confs[1], 0);
    let addr_b = format!("127.0.0.1:{}", b.port);

    // node layout written by the real daemons (operations.md §1.2/§1.3)
    let zk = zk_client(&s.zk).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut servers = zk
            .list_children("/otter/canal/cluster")
            .await
            .expect("cluster");
        servers.sort();
        let mut dest = zk
            .list_children(&format!("/otter/canal/destinations/{DEST}/cluster"))
            .await
            .unwrap_or_default();
        dest.sort();
        let mut want = vec![addr_a.clone(), addr_b.clone()];
        want.sort();
        if servers == want && dest == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cluster nodes {servers:?} / destination cluster nodes {dest:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for p in [
        "/otter/canal/cluster".to_string(),
        format!("/otter/canal/cluster/{addr_a}"),
    ] {
        let (_, stat) = zk.get_data(&p).await.expect("node");
        let ephemeral = stat.ephemeral_owner != 0;
        assert_eq!(
            ephemeral,
            p.ends_with(&addr_a),
            "{p}: ephemeral owner {}",
            stat.ephemeral_owner
        );
    }
    let (data, stat) = zk
        .get_data(&format!("/otter/canal/destinations/{DEST}/running"))
        .await
        .expect("running");
    assert_eq!(
        String::from_utf8_lossy(&data),
        format!(r#"{{"active":true,"address":"{addr_a}"}}"#)
    );
    assert_ne!(stat.ephemeral_owner, 0, "running node is ephemeral");

    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(Mutex::new(Vec::<Batch>::new()));
    let reconnects = Arc::new(AtomicU32::new(0));
    let writer = spawn_writer(s.source.clone(), s.schema.clone(), stop.clone());
    let consumer = tokio::spawn(consume(
        s.zk.clone(),
        s.schema.clone(),
        stop.clone(),
        batches.clone(),
        reconnects.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(4)).await;
    {
        let b = batches.lock();
        assert!(
            b.iter().any(|x| x.server == addr_a),
            "no rows from the active server A"
        );
    }
    // cursor JSON (§1.3: @type first, slaveId -1, misspelled "postion")
    let cursor = node(
        &zk,
        &format!("/otter/canal/destinations/{DEST}/1001/cursor"),
    )
    .await
    .expect("cursor node after acks");
    let cursor = String::from_utf8_lossy(&cursor).into_owned();
    assert!(
        cursor.starts_with(
            r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"#
        ) && cursor.contains(r#""postion":{"gtid":"#),
        "cursor node {cursor}"
    );
    drop(zk);

    // SIGKILL the active server
    let kill_a = Instant::now();
    a.kill9();
    let deadline = Instant::now() + Duration::from_secs(30);
    let served = loop {
        if let Some(x) = batches
            .lock()
            .iter()
            .find(|x| x.server == addr_b && x.received > kill_a)
        {
            break x.received - kill_a;
        }
        assert!(
            Instant::now() < deadline,
            "standby never served:\n{}",
            logs(&s.confs[1])
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "FAILOVER: standby B delivered rows {:.2} s after SIGKILL of A (session timeout {SESSION_TIMEOUT_MS} ms, takeover delay {TAKEOVER_DELAY_MS} ms)",
        served.as_secs_f64()
    );
    assert!(served < Duration::from_secs(10), "failover took {served:?}");

    // SIGKILL the ZooKeeper leader: service continues
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ports: Vec<u16> =
        s.zk.split('/')
            .next()
            .unwrap_or("")
            .split(',')
            .filter_map(|h| h.rsplit(':').next()?.parse().ok())
            .collect();
    let leader = ports
        .iter()
        .position(|p| zk_mode(*p).as_deref() == Some("leader"))
        .expect("a leader in the ensemble");
    let pid_file = format!("{}/ens{}/zk.pid", zk_dir(), leader + 1);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .expect("leader pid file")
        .trim()
        .parse()
        .expect("pid");
    let kill_zk = Instant::now();
    signal(pid, "-KILL");
    println!(
        "killed ZooKeeper leader on port {} (pid {pid})",
        ports[leader]
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after: Vec<(String, Duration)> = batches
        .lock()
        .iter()
        .filter(|x| x.received > kill_zk + Duration::from_secs(3))
        .map(|x| (x.server.clone(), x.received - kill_zk))
        .collect();
    restart_ensemble();
    assert!(
        !after.is_empty(),
        "no rows delivered 3-8 s after the ZooKeeper leader was killed:\n{}",
        logs(&s.confs[1])
    );
    assert!(
        after.iter().all(|(s, _)| *s == addr_b),
        "delivery moved away from B"
    );
    let gap = {
        let bs = batches.lock();
        let mut times: Vec<Instant> = bs
            .iter()
            .filter(|x| x.received > kill_zk)
            .map(|x| x.received)
            .collect();
        times.insert(0, kill_zk);
        times
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    };
    println!(
        "ZK LEADER KILL: B kept serving; longest delivery gap after the kill {:.2} s",
        gap.as_secs_f64()
    );

    stop.store(true, Ordering::SeqCst);
    let last = writer.await.expect("writer");
    consumer.await.expect("consumer");
    let mut admin = s.source.admin().await;
    let rows = admin
        .query(&format!("SELECT COUNT(*) FROM {}.t", s.schema))
        .await
        .expect("count");
    let count: Option<u32> = rows
        .rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse().ok());
    assert_eq!(count, Some(last), "table row count vs the writer's last id");
    let bs = std::mem::take(&mut *batches.lock());
    let (dups, window_dups) = check_rows(&bs, last, &[kill_a]);
    println!(
        "rows {last}, batches {}, consumer sessions {}, duplicates {dups} (of which {window_dups} from acked batches inside the {FLUSH_PERIOD_MS} ms flush window)",
        bs.len(),
        reconnects.load(Ordering::SeqCst)
    );
    exec(&mut admin, &[format!("DROP DATABASE {}", s.schema)]).await;

    // Graceful stop (SIGTERM) of the active server releases its nodes (monitor stop, then
    // deregistration) before the process exits.
    signal(b.pid(), "-TERM");
    let zk = zk_client(&s.zk).await;
    let t = Instant::now();
    loop {
        let running = node(&zk, &format!("/otter/canal/destinations/{DEST}/running")).await;
        let alive = std::process::Command::new("kill")
            .args(["-0", &b.pid().to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|st| st.success())
            && !std::fs::read_to_string(format!("/proc/{}/stat", b.pid()))
                .unwrap_or_default()
                .contains(") Z ");
        let cluster = zk
            .list_children("/otter/canal/cluster")
            .await
            .unwrap_or_default();
        if running.is_none() && !alive && cluster.is_empty() {
            println!(
                "SIGTERM: B released its nodes and exited in {:.2} s",
                t.elapsed().as_secs_f64()
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "after SIGTERM: running node {:?}, process alive {alive}, cluster nodes {cluster:?}\n{}",
            running.map(|r| String::from_utf8_lossy(&r).into_owned()),
            logs(&s.confs[1])
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fencing_sigstop_active() {
    let _serial = SERIAL.lock().await;
    let Some(s) = setup("fencing").await else {
        return;
    };
    let a = Server::start(&s.confs[0], 0);
    let addr_a = format!("127.0.0.1:{}", a.port);
    wait_running(&s.zk, &addr_a, Duration::from_secs(30)).await;
    let b = Server::start(&s.confs[1], 0);
    let addr_b = format!("127.0.0.1:{}", b.port);

    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(Mutex::new(Vec::<Batch>::new()));
    let reconnects = Arc::new(AtomicU32::new(0));
    let writer = spawn_writer(s.source.clone(), s.schema.clone(), stop.clone());
    let consumer = tokio::spawn(consume(
        s.zk.clone(),
        s.schema.clone(),
        stop.clone(),
        batches.clone(),
        reconnects.clone(),
    ));

    // Let A deliver to the cluster consumer for a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        batches.lock().iter().any(|x| x.server == addr_a),
        "consumer got nothing from A:\n{}",
        logs(&s.confs[0])
    );
    // A probe client connected directly to A under another client id. It only subscribes
    // before the freeze: the store has one read sequence per destination (as in Canal), so a
    // second consumer would take rows away from the cluster consumer.
    let direct_cfg = ClientConfig {
        client_id: 1002,
        so_timeout: Duration::from_secs(60),
        ..ClientConfig::default()
    };
    let mut direct = CanalClient::connect(addr_a.as_str(), direct_cfg.clone())
        .await
        .expect("direct client on A");
    direct
        .subscribe(&format!("{}\\..*", s.schema))
        .await
        .expect("subscribe on A");

    // Freeze A past its session timeout, with one GET of the direct client in flight.
    signal(a.pid(), "-STOP");
    let t_stop = Instant::now();
    let in_flight = tokio::spawn(async move {
        let r = direct
            .get_without_ack(1, Some(Duration::from_secs(40)))
            .await;
        (direct, r, Instant::now())
    });
    let took = wait_running(&s.zk, &addr_b, Duration::from_secs(40)).await;
    println!(
        "FENCING: standby B took over {:.2} s after SIGSTOP of A",
        took.as_secs_f64()
    );
    // let B deliver for a while, then resume A
    let deadline = Instant::now() + Duration::from_secs(20);
    while !batches
        .lock()
        .iter()
        .any(|x| x.server == addr_b && x.received > t_stop)
    {
        assert!(
            Instant::now() < deadline,
            "B never delivered:\nA:\n{}\nB:\n{}",
            logs(&s.confs[0]),
            logs(&s.confs[1])
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    signal(a.pid(), "-CONT");
    let t_cont = Instant::now();
    println!("A frozen for {:.2} s", (t_cont - t_stop).as_secs_f64());

    let (mut direct, r, at) = in_flight.await.expect("in-flight task");
    match &r {
        Ok(m) => assert!(
            m.entries.is_empty() && m.raw_entries.is_empty(),
            "resumed A delivered {} entries to the GET in flight during the freeze (answered {:?} after SIGCONT)",
            m.len(),
            at.saturating_duration_since(t_cont)
        ),
        Err(e) => println!("in-flight GET on resumed A: {e}"),
    }
    // More GETs on the same connection, and on a fresh one: nothing but errors / empty.
    let mut answers = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        match direct
            .get_without_ack(1, Some(Duration::from_millis(200)))
            .await
        {
            Ok(m) => {
                assert!(m.is_empty(), "resumed A delivered {} entries", m.len());
                answers.push("empty".to_string());
            }
            Err(e) => {
                answers.push(e.to_string());
                break;
            }
        }
    }
    let mut fresh = CanalClient::connect(addr_a.as_str(), direct_cfg)
        .await
        .expect("connect to resumed A");
    let sub = fresh.subscribe(&format!("{}\\..*", s.schema)).await;
    let err = sub.expect_err("resumed A must refuse the subscription like a standby");
    assert!(
        err.to_string()
            .contains(&format!("destination:{DEST} should start first")),
        "resumed A answered {err}"
    );
    println!("resumed A answers: {answers:?}; fresh subscribe: {err}");

    // The standby keeps delivering everything.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::SeqCst);
    let last = writer.await.expect("writer");
    consumer.await.expect("consumer");
    let bs = std::mem::take(&mut *batches.lock());
    assert!(
        bs.iter()
            .filter(|x| x.received > t_cont)
            .all(|x| x.server == addr_b),
        "the consumer got rows from A after it resumed"
    );
    assert!(
        bs.iter()
            .any(|x| x.server == addr_b && x.received > t_cont + Duration::from_secs(2)),
        "B stopped delivering after A resumed"
    );
    // A's session expired while frozen: every acked batch's cursor was flushed at most one
    // period before the freeze, so the window is anchored at the SIGSTOP.
    let (dups, window_dups) = check_rows(&bs, last, &[t_stop]);
    println!(
        "rows {last}, duplicates {dups} ({window_dups} in the flush window), resumed A delivered nothing"
    );
    drop(a);
    let mut admin = s.source.admin().await;
    exec(&mut admin, &[format!("DROP DATABASE {}", s.schema)]).await;
}
