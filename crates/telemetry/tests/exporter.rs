//! The exporter in-process: the facade is driven the way an instance, its store and the client
//! port drive it, `/metrics` is scraped over HTTP, and every Canal family of operations.md §5
//! must be there with its type, help text and label set; counters must move with traffic and
//! the delays must follow a stalled and then recovering consumer.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use canal_telemetry::metrics::now_ms;
use canal_telemetry::{
    BatchMode, InstanceInfo, MetricsServer, PacketKind, ParserState, Readiness, Role,
    StoreSnapshot, Telemetry,
};
use common::{http_get, parse_exposition, Family, Sample};
use std_mutex::Mutex;

mod std_mutex {
    pub struct Mutex<T>(std::sync::Mutex<T>);
    impl<T> Mutex<T> {
        pub fn new(v: T) -> Self {
            Mutex(std::sync::Mutex::new(v))
        }
        pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }
}

async fn server(t: &Telemetry) -> MetricsServer {
    MetricsServer::bind(t.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap()
}

async fn scrape(addr: SocketAddr) -> BTreeMap<String, Family> {
    let (status, head, body) = tokio::task::spawn_blocking(move || http_get(addr, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    parse_exposition(&body)
}

fn find<'a>(
    f: &'a BTreeMap<String, Family>,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a Sample> {
    f.values()
        .flat_map(|fam| fam.samples.iter())
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
}

fn value(f: &BTreeMap<String, Family>, name: &str, labels: &[(&str, &str)]) -> f64 {
    find(f, name, labels)
        .unwrap_or_else(|| panic!("no sample {name}{labels:?}"))
        .value
}

struct Drive {
    t: Telemetry,
    snap: Arc<Mutex<StoreSnapshot>>,
    inst: canal_telemetry::InstanceMetrics,
}

fn drive(t: &Telemetry) -> Drive {
    let inst = t.register_instance(
        "example",
        InstanceInfo {
            batch_mode: BatchMode::MemSize,
            buffer_size: 16384,
            parallel: true,
            parsers: 1,
        },
    );
    t.set_role("example", Role::Active);
    let snap = Arc::new(Mutex::new(StoreSnapshot {
        subscriptions: 1,
        put_seq: -1,
        ack_seq: -1,
        capacity: 16384,
        ..StoreSnapshot::default()
    }));
    let s2 = snap.clone();
    inst.set_store_snapshot(move || s2.lock().clone());
    inst.parser_state(ParserState::Dumping);
    Drive {
        t: t.clone(),
        snap,
        inst,
    }
}

/// What a pipeline does for one transaction of `rows` rows executed at `exec_ms`, and what a
/// client's GET + ACK do.
fn one_transaction(d: &Drive, rows: u64, exec_ms: i64, acked: bool) {
    d.inst.received_binlog_bytes(0, 500);
    d.inst.parsed_exec_time(exec_ms);
    d.inst.sink_exec_time(exec_ms);
    d.inst.transactions_inc(1);
    d.inst.sink_blocking(Duration::from_millis(2));
    d.inst.publish_blocking(0, Duration::from_millis(1));
    let mut s = d.snap.lock();
    s.put_seq += 3;
    s.put_mem += 300;
    s.put_rows += rows;
    s.put_exec_ms = exec_ms;
    s.used += 3;
    let c = d.t.client("example");
    c.packet(PacketKind::Get);
    c.bytes_sent(304);
    c.request_latency_ms(1.0);
    s.get_rows += rows;
    s.get_exec_ms = exec_ms;
    if acked {
        c.packet(PacketKind::ClientAck);
        c.bytes_sent(4);
        c.request_latency_ms(0.5);
        s.ack_seq = s.put_seq;
        s.ack_mem = s.put_mem;
        s.ack_rows = s.put_rows;
        s.ack_exec_ms = exec_ms;
        s.used = 0;
    }
}

#[tokio::test]
async fn every_canal_family_with_its_labels_is_scraped() {
    let Some(compat) = common::compat_metrics() else {
        return;
    };
    let t = Telemetry::new();
    let srv = server(&t).await;
    let d = drive(&t);
    let c = t.client("example");
    c.packet(PacketKind::Subscription);
    c.empty_batch();
    c.request_error(400);
    c.request_latency_ms(5.0);
    c.request_latency_ms(50.0);
    c.request_latency_ms(500.0);
    c.packet(PacketKind::ClientRollback);
    c.packet(PacketKind::Unsubscription);
    t.request_error_for("/10.20.7.9:53412", 401);
    one_transaction(&d, 2, now_ms() - 2000, true);

    let fams = scrape(srv.local_addr()).await;
    for m in &compat {
        let fam = fams
            .get(&m.name)
            .unwrap_or_else(|| panic!("family {} missing from the scrape", m.name));
        assert_eq!(fam.kind, m.kind, "type of {}", m.name);
        assert_eq!(fam.help, m.help, "help of {}", m.name);
        assert!(!fam.samples.is_empty(), "{} has no samples", m.name);
        for s in &fam.samples {
            let names: Vec<&str> = s
                .labels
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| *k != "le")
                .collect();
            assert_eq!(names, m.labels, "labels of {}: {s:?}", m.name);
        }
    }
    // Values computed the way §5 says.
    let ex = [("destination", "example")];
    assert_eq!(
        value(
            &fams,
            "canal_instance",
            &[("destination", "example"), ("mode", "spring")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &fams,
            "canal_instance_store",
            &[
                ("destination", "example"),
                ("batchMode", "MEMSIZE"),
                ("size", "16384")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            &fams,
            "canal_instance_parser_mode",
            &[("destination", "example"), ("parallel", "true")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &fams,
            "canal_instance_received_binlog_bytes",
            &[("destination", "example"), ("parser", "0")]
        ),
        500.0
    );
    assert_eq!(value(&fams, "canal_instance_transactions", &ex), 1.0);
    assert_eq!(value(&fams, "canal_instance_subscriptions", &ex), 1.0);
    assert_eq!(value(&fams, "canal_instance_store_produce_seq", &ex), 2.0);
    assert_eq!(value(&fams, "canal_instance_store_consume_seq", &ex), 2.0);
    assert_eq!(value(&fams, "canal_instance_store_produce_mem", &ex), 300.0);
    assert_eq!(value(&fams, "canal_instance_put_rows", &ex), 2.0);
    assert_eq!(value(&fams, "canal_instance_client_bytes", &ex), 308.0);
    for (ty, n) in [
        ("SUBSCRIPTION", 1.0),
        ("GET", 1.0),
        ("CLIENTACK", 1.0),
        ("CLIENTROLLBACK", 1.0),
        ("UNSUBSCRIPTION", 1.0),
    ] {
        assert_eq!(
            value(
                &fams,
                "canal_instance_client_packets",
                &[("destination", "example"), ("packetType", ty)]
            ),
            n,
            "{ty}"
        );
    }
    assert_eq!(
        value(&fams, "canal_instance_client_empty_batches", &ex),
        1.0
    );
    assert_eq!(
        value(
            &fams,
            "canal_instance_client_request_error",
            &[("destination", "example"), ("errorCode", "400")]
        ),
        1.0
    );
    // Canal's trap: errors before a destination is known carry the socket address.
    assert_eq!(
        value(
            &fams,
            "canal_instance_client_request_error",
            &[("destination", "/10.20.7.9:53412"), ("errorCode", "401")]
        ),
        1.0
    );
    // Histogram buckets 2.5, 10, 25, 100, +Inf (cumulative): 1, 0.5, 5, 50, 500 ms.
    let b = |le: &str| {
        value(
            &fams,
            "canal_instance_client_request_latency_bucket",
            &[("destination", "example"), ("le", le)],
        )
    };
    assert_eq!(b("2.5"), 2.0);
    assert_eq!(b("10.0"), 3.0);
    assert_eq!(b("25.0"), 3.0);
    assert_eq!(b("100.0"), 4.0);
    assert_eq!(b("+Inf"), 5.0);
    let les: Vec<&str> = fams["canal_instance_client_request_latency"]
        .samples
        .iter()
        .filter_map(|s| s.label("le"))
        .collect();
    // simpleclient's bounds, as in the constructed scrape of operations.md §5.
    assert_eq!(les, ["2.5", "10.0", "25.0", "100.0", "+Inf"]);
    assert_eq!(
        value(&fams, "canal_instance_client_request_latency_count", &ex),
        5.0
    );
    assert!((value(&fams, "canal_instance_client_request_latency_sum", &ex) - 556.5).abs() < 1e-9);
    // Delays: the event executed 2 s ago.
    for n in [
        "canal_instance_traffic_delay",
        "canal_instance_put_delay",
        "canal_instance_get_delay",
        "canal_instance_ack_delay",
    ] {
        let v = value(&fams, n, &ex);
        assert!((2000.0..10_000.0).contains(&v), "{n} = {v}");
    }
    // canal-rs additions.
    assert_eq!(value(&fams, "canal_rs_destination_active", &ex), 1.0);
    assert_eq!(
        value(
            &fams,
            "canal_rs_parser_state",
            &[("destination", "example"), ("state", "dumping")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &fams,
            "canal_rs_parser_state",
            &[("destination", "example"), ("state", "error")]
        ),
        0.0
    );
    assert_eq!(value(&fams, "canal_rs_store_fill_ratio", &ex), 0.0);
    let parsed = value(
        &fams,
        "canal_rs_binlog_delay_seconds",
        &[("destination", "example"), ("stage", "parsed")],
    );
    assert!((2.0..10.0).contains(&parsed), "{parsed}");
    assert_eq!(
        value(
            &fams,
            "canal_rs_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    if std::path::Path::new("/proc/self/stat").exists() {
        assert!(value(&fams, "process_cpu_seconds_total", &[]) >= 0.0);
        for n in [
            "process_start_time_seconds",
            "process_open_fds",
            "process_resident_memory_bytes",
        ] {
            assert!(value(&fams, n, &[]) > 0.0, "{n}");
        }
        let start = value(&fams, "process_start_time_seconds", &[]);
        let now = now_ms() as f64 / 1000.0;
        assert!(
            start <= now + 1.0 && start > now - 86_400.0 * 30.0,
            "start {start} now {now}"
        );
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn counters_move_as_rows_flow() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let d = drive(&t);
    one_transaction(&d, 5, now_ms(), true);
    let a = scrape(srv.local_addr()).await;
    for _ in 0..4 {
        one_transaction(&d, 5, now_ms(), true);
    }
    let b = scrape(srv.local_addr()).await;
    let ex = [("destination", "example")];
    for (n, delta) in [
        ("canal_instance_transactions", 4.0),
        ("canal_instance_put_rows", 20.0),
        ("canal_instance_get_rows", 20.0),
        ("canal_instance_ack_rows", 20.0),
        ("canal_instance_store_produce_seq", 12.0),
        ("canal_instance_store_consume_seq", 12.0),
        ("canal_instance_store_produce_mem", 1200.0),
        ("canal_instance_store_consume_mem", 1200.0),
        ("canal_instance_client_bytes", 4.0 * 308.0),
        ("canal_instance_sink_blocking_time", 8.0),
    ] {
        assert_eq!(value(&b, n, &ex) - value(&a, n, &ex), delta, "{n}");
    }
    let rb = [("destination", "example"), ("parser", "0")];
    assert_eq!(
        value(&b, "canal_instance_received_binlog_bytes", &rb)
            - value(&a, "canal_instance_received_binlog_bytes", &rb),
        2000.0
    );
    assert_eq!(
        value(&b, "canal_instance_publish_blocking_time", &rb)
            - value(&a, "canal_instance_publish_blocking_time", &rb),
        4.0
    );
    let get = [("destination", "example"), ("packetType", "GET")];
    assert_eq!(
        value(&b, "canal_instance_client_packets", &get)
            - value(&a, "canal_instance_client_packets", &get),
        4.0
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn delay_rises_while_the_consumer_stalls_and_falls_after() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let d = drive(&t);
    let ex = [("destination", "example")];
    let ack_stage = [("destination", "example"), ("stage", "ack")];
    // Rows keep flowing in, nobody acks.
    one_transaction(&d, 1, now_ms(), true);
    let stall_start = scrape(srv.local_addr()).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        one_transaction(&d, 1, now_ms(), false);
    }
    d.snap.lock().used = 16384;
    let stalled = scrape(srv.local_addr()).await;
    let (a0, a1) = (
        value(&stall_start, "canal_instance_ack_delay", &ex),
        value(&stalled, "canal_instance_ack_delay", &ex),
    );
    assert!(
        a1 >= a0 + 1100.0,
        "ack delay must grow while stalled: {a0} -> {a1}"
    );
    assert!(value(&stalled, "canal_instance_put_delay", &ex) < 500.0);
    assert!(value(&stalled, "canal_instance_traffic_delay", &ex) < 500.0);
    assert!(value(&stalled, "canal_rs_binlog_delay_seconds", &ack_stage) >= 1.1);
    assert_eq!(value(&stalled, "canal_rs_store_fill_ratio", &ex), 1.0);
    // The consumer catches up.
    one_transaction(&d, 1, now_ms(), true);
    let recovered = scrape(srv.local_addr()).await;
    assert!(value(&recovered, "canal_instance_ack_delay", &ex) < 500.0);
    assert!(value(&recovered, "canal_rs_binlog_delay_seconds", &ack_stage) < 0.5);
    assert_eq!(value(&recovered, "canal_rs_store_fill_ratio", &ex), 0.0);
    // Source goes quiet: traffic delay grows until a heartbeat arrives.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let quiet = scrape(srv.local_addr()).await;
    assert!(value(&quiet, "canal_instance_traffic_delay", &ex) >= 1000.0);
    d.inst.sink_heartbeat();
    let hb = scrape(srv.local_addr()).await;
    assert!(value(&hb, "canal_instance_traffic_delay", &ex) < 500.0);
    srv.shutdown().await;
}

#[test]
fn canal_delay_arithmetic() {
    // StoreCollector: get never ahead of put, ack never ahead of get, future times read 0.
    let s = StoreSnapshot {
        put_exec_ms: 10_000,
        get_exec_ms: 12_000,
        ack_exec_ms: 4_000,
        ..StoreSnapshot::default()
    };
    let d = s.delays(11_000);
    assert_eq!((d.put_ms, d.get_ms, d.ack_ms), (1_000, 1_000, 7_000));
    let d = s.delays(9_000);
    assert_eq!((d.put_ms, d.get_ms, d.ack_ms), (0, 0, 5_000));
    // Nothing seen yet: exec times 0, delays = now (Canal's behaviour).
    let d = StoreSnapshot::default().delays(1_700_000_000_000);
    assert_eq!(d.ack_ms, 1_700_000_000_000);
}

#[tokio::test]
async fn unregistered_and_standby_destinations_expose_no_instance_samples() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let d = drive(&t);
    one_transaction(&d, 1, now_ms(), true);
    t.set_role("standby", Role::Standby);
    let f = scrape(srv.local_addr()).await;
    assert!(find(&f, "canal_instance", &[("destination", "example")]).is_some());
    assert!(find(&f, "canal_instance", &[("destination", "standby")]).is_none());
    assert_eq!(
        value(
            &f,
            "canal_rs_destination_active",
            &[("destination", "standby")]
        ),
        0.0
    );

    t.unregister_instance("example");
    t.set_role("example", Role::Standby);
    let f = scrape(srv.local_addr()).await;
    for fam in f.values() {
        for s in &fam.samples {
            let per_instance = s.name.starts_with("canal_instance")
                && !s.name.starts_with("canal_instance_client");
            if per_instance
                || s.name.starts_with("canal_rs_parser")
                || s.name.starts_with("canal_rs_store")
            {
                assert_ne!(
                    s.label("destination"),
                    Some("example"),
                    "left over after unregister: {s:?}"
                );
            }
        }
    }
    // Client families stay registered (Canal registers them once for the server).
    assert!(find(
        &f,
        "canal_instance_client_packets",
        &[("destination", "example")]
    )
    .is_some());
    assert_eq!(
        value(
            &f,
            "canal_rs_destination_active",
            &[("destination", "example")]
        ),
        0.0
    );
    let changes = |f: &BTreeMap<String, Family>, role: &str| {
        value(
            f,
            "canal_rs_ha_role_changes_total",
            &[("destination", "example"), ("role", role)],
        )
    };
    assert_eq!(changes(&f, "standby"), 1.0);

    // Failover back: registered again, counted as a change to active.
    let _again = t.register_instance("example", InstanceInfo::default());
    t.set_role("example", Role::Active);
    let f = scrape(srv.local_addr()).await;
    assert!(find(&f, "canal_instance", &[("destination", "example")]).is_some());
    assert_eq!(changes(&f, "active"), 1.0);
    assert_eq!(
        value(
            &f,
            "canal_rs_destination_active",
            &[("destination", "example")]
        ),
        1.0
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn itemsize_store_and_serial_parser_omit_mem_and_publish_families() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let inst = t.register_instance(
        "items",
        InstanceInfo {
            batch_mode: BatchMode::ItemSize,
            buffer_size: 1024,
            parallel: false,
            parsers: 2,
        },
    );
    inst.set_store_snapshot(StoreSnapshot::default);
    inst.received_binlog_bytes(1, 7);
    inst.received_binlog_bytes(5, 7); // no such parser: ignored, no panic
    let f = scrape(srv.local_addr()).await;
    assert!(!f.contains_key("canal_instance_store_produce_mem"));
    assert!(!f.contains_key("canal_instance_publish_blocking_time"));
    assert_eq!(
        value(
            &f,
            "canal_instance_parser_mode",
            &[("destination", "items"), ("parallel", "false")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &f,
            "canal_instance_store",
            &[("batchMode", "ITEMSIZE"), ("size", "1024")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &f,
            "canal_instance_received_binlog_bytes",
            &[("parser", "0")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &f,
            "canal_instance_received_binlog_bytes",
            &[("parser", "1")]
        ),
        7.0
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn server_level_metrics() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    t.set_zk_state(Some("connected"));
    t.auth_failure("client");
    t.auth_failure("client");
    let g1 = t.connection_opened("client");
    let g2 = t.connection_opened("client");
    let f = scrape(srv.local_addr()).await;
    assert_eq!(
        value(&f, "canal_rs_zk_session_state", &[("state", "connected")]),
        1.0
    );
    assert_eq!(
        value(&f, "canal_rs_zk_session_state", &[("state", "expired")]),
        0.0
    );
    assert_eq!(
        value(&f, "canal_rs_auth_failures_total", &[("port", "client")]),
        2.0
    );
    assert_eq!(
        value(&f, "canal_rs_client_connections", &[("port", "client")]),
        2.0
    );
    drop(g1);
    t.set_zk_state(Some("expired"));
    let f = scrape(srv.local_addr()).await;
    assert_eq!(
        value(&f, "canal_rs_client_connections", &[("port", "client")]),
        1.0
    );
    assert_eq!(
        value(&f, "canal_rs_zk_session_state", &[("state", "expired")]),
        1.0
    );
    assert_eq!(
        value(&f, "canal_rs_zk_session_state", &[("state", "connected")]),
        0.0
    );
    drop(g2);
    srv.shutdown().await;
}

#[tokio::test]
async fn health_ready_and_any_path() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let addr = srv.local_addr();
    let get = |p: &'static str| tokio::task::spawn_blocking(move || http_get(addr, p));
    let (s, _, body) = get("/health").await.unwrap();
    assert_eq!((s, body.as_str()), (200, "ok\n"));
    let (s, _, _) = get("/ready").await.unwrap();
    assert_eq!(s, 503, "not ready before a check is installed");
    let ready = Arc::new(AtomicBool::new(false));
    let r2 = ready.clone();
    t.set_readiness(move || Readiness {
        ready: r2.load(Ordering::SeqCst),
        detail: "example: running\n".into(),
    });
    let (s, _, body) = get("/ready").await.unwrap();
    assert_eq!((s, body.as_str()), (503, "example: running\n"));
    ready.store(true, Ordering::SeqCst);
    let (s, _, _) = get("/ready").await.unwrap();
    assert_eq!(s, 200);
    // Like simpleclient's server, any other path serves the exposition.
    for p in ["/", "/metrics", "/anything"] {
        let (s, head, body) = get(p).await.unwrap();
        assert_eq!(s, 200, "{p}");
        assert!(head.contains("version=0.0.4"), "{p}");
        assert!(body.contains("# TYPE canal_rs_build_info gauge"), "{p}");
    }
    // Canal's `?name[]=` family filter.
    let (_, _, body) = get("/metrics?name[]=canal_rs_build_info&name%5B%5D=process_open_fds")
        .await
        .unwrap();
    let fams = parse_exposition(&body);
    let mut names: Vec<&str> = fams.keys().map(String::as_str).collect();
    names.retain(|n| *n != "process_open_fds" || std::path::Path::new("/proc").exists());
    assert!(names.contains(&"canal_rs_build_info"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| *n == "canal_rs_build_info" || *n == "process_open_fds"),
        "{names:?}"
    );
    // A garbage request does not break the server.
    let raw = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&[0xFF; 9000]).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        out
    })
    .await
    .unwrap();
    assert!(raw.is_empty() || raw.starts_with(b"HTTP/1.1 405"));
    let (s, _, _) = get("/health").await.unwrap();
    assert_eq!(s, 200);
    srv.shutdown().await;
}

#[tokio::test]
async fn bind_failure_only_warns() {
    let t = Telemetry::new();
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    assert!(MetricsServer::start_or_warn(t.clone(), port)
        .await
        .is_none());
    let ok = MetricsServer::start_or_warn(t, 0).await.expect("free port");
    ok.shutdown().await;
}

#[tokio::test]
async fn socket_address_error_labels_are_bounded() {
    let t = Telemetry::new();
    for port in 0..(canal_telemetry::metrics::MAX_ERROR_SERIES as u32 + 50) {
        t.request_error_for(&format!("/10.0.0.1:{port}"), 400);
    }
    let fams = parse_exposition(&t.render());
    let errs = &fams["canal_instance_client_request_error"].samples;
    assert_eq!(errs.len(), canal_telemetry::metrics::MAX_ERROR_SERIES + 1);
    assert_eq!(
        value(
            &fams,
            "canal_instance_client_request_error",
            &[("destination", canal_telemetry::metrics::OVERFLOW_LABEL)]
        ),
        50.0
    );
}

#[tokio::test]
async fn role_readiness() {
    let t = Telemetry::new();
    let srv = server(&t).await;
    let addr = srv.local_addr();
    t.install_role_readiness(vec!["a".into(), "b".into()]);
    let get = move || tokio::task::spawn_blocking(move || http_get(addr, "/ready"));
    let (s, _, body) = get().await.unwrap();
    assert_eq!(
        (s, body.as_str()),
        (503, "a: not started\nb: not started\n")
    );
    t.set_role("a", Role::Active);
    t.set_role("b", Role::Standby);
    let (s, _, body) = get().await.unwrap();
    assert_eq!((s, body.as_str()), (200, "a: active\nb: standby\n"));
    t.set_role("b", Role::Stopped);
    let (s, _, _) = get().await.unwrap();
    assert_eq!(s, 503);
    srv.shutdown().await;
}

#[test]
fn raw_text_has_simpleclient_shape() {
    // Lines of the constructed scrape in operations.md §5 (trailing comma, Java doubles).
    let t = Telemetry::new();
    let inst = t.register_instance("example", InstanceInfo::default());
    inst.transactions_inc(12);
    let c = t.client("example");
    for ms in [1.0, 1.0, 20.0, 50.0] {
        c.request_latency_ms(ms);
    }
    let text = t.render();
    for line in [
        "# HELP canal_instance_store Canal instance info",
        "# TYPE canal_instance_store gauge",
        r#"canal_instance_store{destination="example",batchMode="MEMSIZE",size="16384",} 1.0"#,
        r#"canal_instance_transactions{destination="example",} 12.0"#,
        "# TYPE canal_instance_client_request_latency histogram",
        r#"canal_instance_client_request_latency_bucket{destination="example",le="2.5",} 2.0"#,
        r#"canal_instance_client_request_latency_bucket{destination="example",le="10.0",} 2.0"#,
        r#"canal_instance_client_request_latency_bucket{destination="example",le="25.0",} 3.0"#,
        r#"canal_instance_client_request_latency_bucket{destination="example",le="100.0",} 4.0"#,
        r#"canal_instance_client_request_latency_bucket{destination="example",le="+Inf",} 4.0"#,
        r#"canal_instance_client_request_latency_count{destination="example",} 4.0"#,
        r#"canal_instance_client_request_latency_sum{destination="example",} 72.0"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing line {line:?} in:\n{text}"
        );
    }
}

#[test]
fn promtool_parses_the_exposition() {
    use std::io::Write;
    let t = Telemetry::new();
    let d = drive(&t);
    one_transaction(&d, 3, now_ms(), true);
    t.client("example").request_error(400);
    t.request_error_for("/10.20.7.9:53412", 401);
    let text = t.render();
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("note: skipping: promtool not installed (apt-get install prometheus)");
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let msg = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Exit 3 = lint findings only (Canal's counter names lack `_total`, by design); 1 = the text
    // does not parse.
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(3),
        "promtool: {msg}\n{text}"
    );
    assert!(!msg.contains("parsing error"), "{msg}");
}
