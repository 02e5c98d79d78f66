//! `/metrics` of the real canal-server during an end-to-end run (gated by CANAL_TEST_MARIADB +
//! CANAL_TEST_MARIADB_SOCKET): every Canal family of operations.md §5 is there with Canal's
//! label set, counters move as rows flow, and the ack delay rises while the consumer stalls and
//! falls once it consumes fresh rows again.

mod e2e_support;
mod ops_support;

use std::time::Duration;

/// Canal's families and label names (operations.md §5 table; histogram samples carry `le` on
/// `_bucket`). `canal_instance_publish_blocking_time` is left out: Canal omits it unless a
/// parallel group parser runs, which canal-rs does not have.
const CANAL_FAMILIES: &[(&str, &[&str])] = &[
    ("canal_instance", &["destination", "mode"]),
    ("canal_instance_subscriptions", &["destination"]),
    ("canal_instance_traffic_delay", &["destination"]),
    ("canal_instance_transactions", &["destination"]),
    ("canal_instance_sink_blocking_time", &["destination"]),
    (
        "canal_instance_received_binlog_bytes",
        &["destination", "parser"],
    ),
    ("canal_instance_parser_mode", &["destination", "parallel"]),
    ("canal_instance_store_produce_seq", &["destination"]),
    ("canal_instance_store_consume_seq", &["destination"]),
    (
        "canal_instance_store",
        &["destination", "batchMode", "size"],
    ),
    ("canal_instance_store_produce_mem", &["destination"]),
    ("canal_instance_store_consume_mem", &["destination"]),
    ("canal_instance_put_delay", &["destination"]),
    ("canal_instance_get_delay", &["destination"]),
    ("canal_instance_ack_delay", &["destination"]),
    ("canal_instance_put_rows", &["destination"]),
    ("canal_instance_get_rows", &["destination"]),
    ("canal_instance_ack_rows", &["destination"]),
    ("canal_instance_client_bytes", &["destination"]),
    (
        "canal_instance_client_packets",
        &["destination", "packetType"],
    ),
    ("canal_instance_client_empty_batches", &["destination"]),
    (
        "canal_instance_client_request_error",
        &["destination", "errorCode"],
    ),
    (
        "canal_instance_client_request_latency_bucket",
        &["destination", "le"],
    ),
    (
        "canal_instance_client_request_latency_count",
        &["destination"],
    ),
    (
        "canal_instance_client_request_latency_sum",
        &["destination"],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_scrape_during_an_end_to_end_run() {
    let Some(mut ops) = ops_support::start("metrics").await else {
        return;
    };
    let mut client = ops.client(1001).await;
    ops.insert(1..=20).await;
    let got = ops.take(&mut client, 20, Duration::from_secs(60)).await;
    assert_eq!(got, (1..=20).collect::<Vec<_>>());

    // A request failing in Canal's catch-all (SUB of an unknown destination) is counted under
    // the client's socket address (operations.md §5 trap).
    let bad = canal_client::CanalClient::connect(
        ("127.0.0.1", ops.server.port),
        canal_client::ClientConfig {
            destination: "nosuch".into(),
            ..canal_client::ClientConfig::default()
        },
    )
    .await;
    if let Ok(mut bad) = bad {
        assert!(
            bad.subscribe("").await.is_err(),
            "unknown destination accepted"
        );
    }

    let s1 = tokio::task::block_in_place(|| ops.scrape());
    // /ready: every configured non-lazy destination reported active.
    let (status, body) = tokio::task::block_in_place(|| {
        canal_cli::ctl::metrics::http_get(&format!("127.0.0.1:{}", ops.metrics), "/ready")
    })
    .expect("ready");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("example: active"), "{body}");
    for (family, labels) in CANAL_FAMILIES {
        let sets = s1.label_sets(family);
        let mut want: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        want.sort();
        assert!(
            sets.contains(&want),
            "{family}: label sets {sets:?}, want {want:?}\n{}",
            s1.text
        );
    }
    // Values Canal fixes: mode spring, MEMSIZE store of the shipped 16384 slots, parser 0.
    assert_eq!(
        s1.get(
            "canal_instance",
            &[("destination", "example"), ("mode", "spring")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s1.get(
            "canal_instance_store",
            &[
                ("destination", "example"),
                ("batchMode", "MEMSIZE"),
                ("size", "16384")
            ]
        ),
        Some(1.0),
        "{}",
        s1.text
    );
    assert!(s1
        .get(
            "canal_instance_received_binlog_bytes",
            &[("destination", "example"), ("parser", "0")]
        )
        .is_some());
    assert_eq!(s1.ex("canal_instance_subscriptions"), 1.0);
    let errs = s1.all("canal_instance_client_request_error");
    assert!(
        errs.iter().any(|l| l
            .get("destination")
            .is_some_and(|d| d.starts_with("/127.0.0.1:"))
            && l.get("errorCode").map(String::as_str) == Some("400")),
        "catch-all error not labelled with the peer address: {errs:?}"
    );
    assert!(s1.ex("canal_instance_transactions") >= 20.0);
    assert!(s1.ex("canal_instance_ack_rows") >= 20.0);
    // buckets are Canal's
    for le in ["2.5", "10.0", "25.0", "100.0", "+Inf"] {
        assert!(
            s1.get(
                "canal_instance_client_request_latency_bucket",
                &[("destination", "example"), ("le", le)]
            )
            .is_some(),
            "bucket {le}"
        );
    }
    for stage in ["parsed", "put", "get", "ack"] {
        assert!(
            s1.get(
                "canal_rs_binlog_delay_seconds",
                &[("destination", "example"), ("stage", stage)]
            )
            .is_some(),
            "canal_rs_binlog_delay_seconds stage {stage}\n{}",
            s1.text
        );
    }
    assert_eq!(
        s1.get(
            "canal_rs_parser_state",
            &[("destination", "example"), ("state", "dumping")]
        ),
        Some(1.0)
    );
    assert_eq!(s1.ex("canal_rs_destination_active"), 1.0);
    assert!(
        s1.get("canal_rs_client_connections", &[("port", "client")])
            .unwrap_or(0.0)
            >= 1.0
    );

    // Counters move as rows flow.
    ops.insert(21..=30).await;
    let got = ops.take(&mut client, 10, Duration::from_secs(60)).await;
    assert_eq!(got, (21..=30).collect::<Vec<_>>());
    let s2 = tokio::task::block_in_place(|| ops.scrape());
    let moved = |name: &str, at_least: f64| {
        let (a, b) = (s1.ex(name), s2.ex(name));
        assert!(
            b - a >= at_least,
            "{name}: {a} -> {b}, expected +{at_least}"
        );
    };
    moved("canal_instance_transactions", 10.0);
    moved("canal_instance_put_rows", 10.0);
    moved("canal_instance_get_rows", 10.0);
    moved("canal_instance_ack_rows", 10.0);
    moved("canal_instance_store_produce_seq", 30.0); // BEGIN + ROWDATA + END per row
    moved("canal_instance_store_consume_seq", 30.0);
    moved("canal_instance_store_produce_mem", 1.0);
    moved("canal_instance_client_bytes", 1.0);
    let rb = |s: &ops_support::Scrape| {
        s.get(
            "canal_instance_received_binlog_bytes",
            &[("destination", "example"), ("parser", "0")],
        )
        .unwrap_or(0.0)
    };
    assert!(rb(&s2) > rb(&s1), "received bytes did not move");
    let gets = |s: &ops_support::Scrape| {
        s.get(
            "canal_instance_client_packets",
            &[("destination", "example"), ("packetType", "GET")],
        )
        .unwrap_or(0.0)
    };
    assert!(gets(&s2) > gets(&s1));

    // The consumer stalls: one row waits unconsumed, the ack delay grows with the wall clock.
    ops.insert([100]).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stalled = tokio::task::block_in_place(|| ops.scrape());
    let stalled_at = std::time::Instant::now();
    let ack_stalled = stalled.ex("canal_instance_ack_delay");
    assert!(
        ack_stalled >= 4000.0,
        "ack delay while stalled: {ack_stalled} ms\n{}",
        stalled.text
    );
    let rs_ack = |s: &ops_support::Scrape| {
        s.get(
            "canal_rs_binlog_delay_seconds",
            &[("destination", "example"), ("stage", "ack")],
        )
        .unwrap_or(-1.0)
    };
    assert!(rs_ack(&stalled) >= 4.0, "{}", stalled.text);
    // ... and falls once the consumer catches up with fresh rows.
    // (the stalled row is acked in its own batch: a batch's ack time is that of its first event)
    let got = ops.take(&mut client, 1, Duration::from_secs(30)).await;
    assert_eq!(got, vec![100]);
    let inserted_101 = std::time::Instant::now();
    ops.insert([101]).await;
    let got = ops.take(&mut client, 1, Duration::from_secs(30)).await;
    assert_eq!(got, vec![101]);
    let after = tokio::task::block_in_place(|| ops.scrape());
    let ack_after = after.ex("canal_instance_ack_delay");
    // Bounded by the age of row 101 (second-resolution binlog timestamps: +1 s slack), and
    // below what the stalled row's delay has grown to by now.
    let age_101 = inserted_101.elapsed().as_millis() as f64;
    let stalled_now = ack_stalled + stalled_at.elapsed().as_millis() as f64;
    assert!(
        ack_after <= age_101 + 1500.0 && ack_after + 3000.0 < stalled_now,
        "ack delay after catching up: {ack_after} ms (row 101 is {age_101} ms old, \
         stalled delay would be {stalled_now} ms)"
    );
    assert!(
        rs_ack(&after) * 1000.0 + 3000.0 < stalled_now,
        "canal_rs_binlog_delay_seconds ack after catching up: {}",
        rs_ack(&after)
    );
    println!(
        "figures: ack delay stalled {ack_stalled} ms, after catch-up {ack_after} ms; \
         transactions {}, client bytes {}",
        after.ex("canal_instance_transactions"),
        after.ex("canal_instance_client_bytes")
    );
}
