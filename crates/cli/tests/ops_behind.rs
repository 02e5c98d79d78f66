//! `canal_rs_binlog_behind_bytes{destination}` against the live MariaDB (gated by
//! CANAL_TEST_MARIADB + _SOCKET): with a tiny store (64 entries, ITEMSIZE) and no consumer the
//! sink blocks, the source head moves on, and the gauge (source head minus the parser's restart
//! point, polled every few seconds on a separate connection) is > 0; once a consumer drains
//! everything the parser catches up and the gauge reads 0.

mod e2e_support;
mod ops_support;

use std::time::{Duration, Instant};

fn behind(ops: &ops_support::Ops) -> Option<f64> {
    let s = tokio::task::block_in_place(|| ops.scrape());
    s.get(
        "canal_rs_binlog_behind_bytes",
        &[("destination", "example")],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_bytes_rises_while_stalled_and_returns_to_zero() {
    let Some(mut ops) = ops_support::start_with(
        "behind",
        &[
            ("canal.instance.memory.buffer.size", "64"),
            ("canal.instance.memory.batch.mode", "ITEMSIZE"),
        ],
        &[],
    )
    .await
    else {
        return;
    };
    // 300 one-row transactions (3 entries each) cannot fit 64 slots: the sink blocks.
    let ids: Vec<u32> = (1..=300).collect();
    ops.insert(ids.iter().copied()).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = None;
    while Instant::now() < deadline {
        if let Some(v) = behind(&ops).filter(|v| *v > 0.0) {
            seen = Some(v);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let stalled = seen.expect("canal_rs_binlog_behind_bytes > 0 while the store is full");
    // At least the transactions that did not fit (each one-row insert is > 100 bytes).
    assert!(
        stalled > 10_000.0,
        "behind only {stalled} bytes while stalled"
    );

    // Drain: the parser catches up, the gauge comes back to 0.
    let mut client = ops.client(1001).await;
    let got = ops.take(&mut client, 300, Duration::from_secs(120)).await;
    assert_eq!(got, ids);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = None;
    while Instant::now() < deadline {
        last = behind(&ops);
        if last == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(last, Some(0.0), "not caught up according to the gauge");
    eprintln!("behind bytes while stalled: {stalled}");
}
