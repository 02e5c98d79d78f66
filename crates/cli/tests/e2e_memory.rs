//! Bounded memory of the real binary: a consumer subscribes and then stalls (no GET) for 30 s
//! while ~1 GB of binlog (1 KB rows, `INSERT … SELECT` from MariaDB's seq engine) is written.
//! The server's VmRSS / VmHWM (/proc/<pid>/status) must stay under the MEMSIZE store bound
//! (`canal.instance.memory.buffer.size` × `memunit` = 16 MiB with the shipped conf) + 64 MiB,
//! and after the consumer resumes every row is delivered. Figures are printed.
//!
//! The debug binary handles the 1 GB in about 45 s (measured here), so the test is not ignored;
//! `cargo test --release -p canal-cli --test e2e_memory -- --nocapture` runs it on the release
//! build. CANAL_E2E_MEMORY_MB changes the volume (default 1024). Gated by CANAL_TEST_MARIADB +
//! CANAL_TEST_MARIADB_SOCKET.

mod e2e_support;

use std::time::{Duration, Instant};

use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{EntryType, EventType, RowChange};
use e2e_support::{exec, fresh_schema, Server, ServerConf};
use prost::Message;

const MIB: u64 = 1024 * 1024;
/// Shipped canal.properties: buffer.size 16384 × memunit 1024.
const STORE_BOUND: u64 = 16384 * 1024;
const SLACK: u64 = 64 * MIB;
/// Bytes of the payload column per row.
const ROW_BYTES: u64 = 1000;
const CHUNK: u64 = 50_000;

/// Bytes of binlog written since `start` (SHOW BINARY LOGS sizes).
async fn binlog_bytes(c: &mut canal_binlog::client::Connection, start: &(String, u64)) -> u64 {
    let r = c.query("SHOW BINARY LOGS").await.expect("show binary logs");
    let mut total = 0u64;
    for row in &r.rows {
        let name = row.first().cloned().flatten().unwrap_or_default();
        let size: u64 = row
            .get(1)
            .cloned()
            .flatten()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if name.as_str() > start.0.as_str() {
            total += size;
        } else if name == start.0 {
            total += size.saturating_sub(start.1);
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_consumer_keeps_rss_bounded() {
    let Some(source) = e2e_support::source("CANAL_TEST_MARIADB") else {
        return;
    };
    let mb: u64 = std::env::var("CANAL_E2E_MEMORY_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let rows = mb * MIB / (ROW_BYTES + 30);
    let schema = format!("e2e_mem_{}", std::process::id());
    let mut admin = source.admin().await;
    let start = fresh_schema(
        &mut admin,
        &schema,
        &[format!(
            "CREATE TABLE {schema}.w (id BIGINT PRIMARY KEY, p VARCHAR({ROW_BYTES})) \
                 CHARACTER SET latin1"
        )],
    )
    .await;
    let filter = format!("{schema}\\\\..*");
    let conf = ServerConf::new(
        &source,
        &start,
        &[("canal.instance.filter.regex", &filter)],
        &[],
    );
    let server = Server::start(&conf, 0);
    let (rss0, _) = server.memory().expect("/proc status");
    let mut client = CanalClient::connect(("127.0.0.1", server.port), ClientConfig::default())
        .await
        .expect("connect");
    client
        .subscribe(&format!("{schema}\\..*"))
        .await
        .expect("subscribe");

    let t0 = Instant::now();
    let writer = {
        let (schema, source) = (schema.clone(), source.clone());
        tokio::spawn(async move {
            let mut c = source.admin().await;
            let mut from = 1u64;
            while from <= rows {
                let to = (from + CHUNK - 1).min(rows);
                c.query(&format!(
                    "INSERT INTO {schema}.w SELECT seq, REPEAT(CHAR(65 + seq % 26), {ROW_BYTES}) \
                     FROM {schema}.seq_{from}_to_{to}"
                ))
                .await
                .expect("insert select");
                from = to + 1;
            }
        })
    };
    // stall: no GET for 30 s (and at least until the writer is done), sampling RSS
    let mut max_rss = rss0;
    let mut writer = Some(writer);
    let mut written_at = None;
    while t0.elapsed() < Duration::from_secs(30) || writer.is_some() {
        if let Some((rss, _)) = server.memory() {
            max_rss = max_rss.max(rss);
        }
        if writer.as_ref().is_some_and(|w| w.is_finished()) {
            writer.take().expect("writer").await.expect("writer task");
            written_at = Some(t0.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let written = binlog_bytes(&mut admin, &start).await;
    let (_, hwm_stall) = server.memory().expect("/proc status");
    println!(
        "wrote {rows} rows ({:.0} MiB of binlog from all sessions meanwhile) in {:.1}s; stalled {:.1}s; RSS idle {:.1} MiB, \
         max sampled {:.1} MiB, VmHWM {:.1} MiB (bound {} MiB)",
        written as f64 / MIB as f64,
        written_at.map_or(0.0, |d| d.as_secs_f64()),
        t0.elapsed().as_secs_f64(),
        rss0 as f64 / MIB as f64,
        max_rss as f64 / MIB as f64,
        hwm_stall as f64 / MIB as f64,
        (STORE_BOUND + SLACK) / MIB
    );
    assert!(
        written >= mb * MIB * 9 / 10,
        "only {written} bytes of binlog written"
    );

    // resume: everything arrives
    let t1 = Instant::now();
    let mut received = 0u64;
    let mut last = Instant::now();
    let mut id_sum = 0u64;
    while received < rows && last.elapsed() < Duration::from_secs(60) {
        let msg = client
            .get_without_ack(1000, Some(Duration::from_millis(500)))
            .await
            .expect("get");
        if msg.id == -1 {
            continue;
        }
        for e in &msg.entries {
            let h = e.header.clone().unwrap_or_default();
            if e.entry_type() == EntryType::Rowdata
                && h.event_type() == EventType::Insert
                && h.schema_name() == schema
            {
                let rc = RowChange::decode(e.store_value()).expect("RowChange");
                for r in &rc.row_datas {
                    received += 1;
                    id_sum += r
                        .after_columns
                        .first()
                        .and_then(|c| c.value().parse::<u64>().ok())
                        .expect("id");
                }
                last = Instant::now();
            }
        }
        client.ack(msg.id).await.expect("ack");
        if let Some((rss, _)) = server.memory() {
            max_rss = max_rss.max(rss);
        }
    }
    let (rss_end, hwm) = server.memory().expect("/proc status");
    println!(
        "resumed: {received} rows in {:.1}s ({:.0} rows/s); RSS end {:.1} MiB, max sampled {:.1} \
         MiB, VmHWM {:.1} MiB",
        t1.elapsed().as_secs_f64(),
        received as f64 / t1.elapsed().as_secs_f64(),
        rss_end as f64 / MIB as f64,
        max_rss as f64 / MIB as f64,
        hwm as f64 / MIB as f64
    );
    exec(&mut admin, &[format!("DROP DATABASE IF EXISTS {schema}")]).await;
    for w in server.warnings() {
        println!("server: {w}");
    }
    assert_eq!(received, rows, "rows delivered after the stall");
    assert_eq!(id_sum, rows * (rows + 1) / 2, "each id once");
    assert!(
        hwm_stall <= STORE_BOUND + SLACK,
        "VmHWM during the stall {hwm_stall} > {} bytes",
        STORE_BOUND + SLACK
    );
    assert!(
        hwm <= STORE_BOUND + SLACK,
        "VmHWM {hwm} > {} bytes",
        STORE_BOUND + SLACK
    );
    drop(server);
}
