//! Bench consumer for `scripts/bench-e2e` (issue 8): consumes a destination with
//! [`canal_client::CanalClient`] and prints one JSON line of measurements.
//!
//! Every RowData entry of `--schema`.`--table` is fully decoded (Entry, RowChange, every column
//! value), its rows counted; the run ends once `--expect` rows were seen (or after `--max-secs`).
//! With `--latency`, each row whose `commit_us` column is > 0 gives one sample
//! `receive wall clock − commit_us` and only those rows count towards `--expect` (the load generator writes the commit's wall-clock
//! microseconds into that column right before the statement that commits it).
//!
//! ```text
//! cargo run --release -p canal-client --example bench_consume -- \
//!     --addr 127.0.0.1:11111 --destination bench --expect 550000 [--latency]
//! ```

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{EntryType, RowChange};
use prost::Message as _;

struct Args {
    addr: String,
    destination: String,
    filter: String,
    schema: String,
    table: String,
    expect: u64,
    batch: i32,
    timeout_ms: u64,
    latency: bool,
    max_secs: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        addr: "127.0.0.1:11111".into(),
        destination: "bench".into(),
        filter: String::new(),
        schema: "bench".into(),
        table: "t".into(),
        expect: 0,
        batch: 1000,
        timeout_ms: 10,
        latency: false,
        max_secs: 600,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--latency" {
            a.latency = true;
            continue;
        }
        let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{k}: {e}"));
        match k.as_str() {
            "--addr" => a.addr = v,
            "--destination" => a.destination = v,
            "--filter" => a.filter = v,
            "--schema" => a.schema = v,
            "--table" => a.table = v,
            "--expect" => a.expect = num(&v)?,
            "--batch" => a.batch = i32::try_from(num(&v)?).map_err(|e| e.to_string())?,
            "--timeout-ms" => a.timeout_ms = num(&v)?,
            "--max-secs" => a.max_secs = num(&v)?,
            _ => return Err(format!("unknown option {k}")),
        }
    }
    Ok(a)
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn pct(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted.get(i).map_or(f64::NAN, |v| *v as f64 / 1000.0)
}

async fn connect(a: &Args) -> Result<CanalClient, Box<dyn std::error::Error>> {
    let cfg = ClientConfig {
        destination: a.destination.clone(),
        ..ClientConfig::default()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match CanalClient::connect(a.addr.as_str(), cfg.clone()).await {
            Ok(mut c) => match c.subscribe(&a.filter).await {
                Ok(()) => return Ok(c),
                Err(e) if Instant::now() < deadline => {
                    eprintln!("bench_consume: subscribe: {e}; retrying");
                }
                Err(e) => return Err(e.into()),
            },
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse_args()?;
    let start_us = now_us();
    let mut client = connect(&a).await?;
    let connected_us = now_us();
    let t0 = Instant::now();
    let (mut rows, mut entries, mut batches, mut bytes, mut value_bytes) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut first_row_us, mut last_row_us) = (0i64, 0i64);
    let mut lat: Vec<i64> = Vec::new();
    let timeout = (a.timeout_ms > 0).then(|| Duration::from_millis(a.timeout_ms));
    // In latency mode only rows carrying a commit_us count towards --expect (the server may
    // also deliver rows of the bulk load that precede the paced ones).
    let done = |rows: u64, samples: usize| {
        a.expect > 0 && (if a.latency { samples as u64 } else { rows }) >= a.expect
    };
    while !done(rows, lat.len()) && t0.elapsed() < Duration::from_secs(a.max_secs) {
        let msg = client.get_without_ack(a.batch, timeout).await?;
        if msg.id == -1 || msg.entries.is_empty() {
            continue;
        }
        let recv_us = now_us();
        batches += 1;
        for e in &msg.entries {
            entries += 1;
            bytes += e.encoded_len() as u64;
            if e.entry_type != Some(EntryType::Rowdata as i32) {
                continue;
            }
            let Some(h) = &e.header else { continue };
            if h.schema_name.as_deref() != Some(a.schema.as_str())
                || h.table_name.as_deref() != Some(a.table.as_str())
            {
                continue;
            }
            let rc = RowChange::decode(e.store_value.as_deref().unwrap_or_default())?;
            if rc.is_ddl == Some(true) {
                continue;
            }
            for rd in &rc.row_datas {
                rows += 1;
                for c in rd.before_columns.iter().chain(&rd.after_columns) {
                    value_bytes += c.value.as_ref().map_or(0, |v| v.len() as u64);
                }
                if a.latency {
                    let commit = rd
                        .after_columns
                        .iter()
                        .find(|c| c.name.as_deref() == Some("commit_us"))
                        .and_then(|c| c.value.as_deref())
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    if commit > 0 {
                        lat.push(recv_us - commit);
                    }
                }
            }
            if first_row_us == 0 {
                first_row_us = recv_us;
            }
            last_row_us = recv_us;
        }
        client.ack(msg.id).await?;
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    let out = serde_json::json!({
        "client": "canal-rs-client",
        "rows": rows,
        "entries": entries,
        "batches": batches,
        "entry_bytes": bytes,
        "value_bytes": value_bytes,
        "start_us": start_us,
        "connected_us": connected_us,
        "first_row_us": first_row_us,
        "last_row_us": last_row_us,
        "seconds": secs,
        "latency_samples": lat.len(),
        "latency_ms_p50": pct(&lat, 50.0),
        "latency_ms_p99": pct(&lat, 99.0),
        "latency_ms_p999": pct(&lat, 99.9),
        "latency_ms_max": pct(&lat, 100.0),
        "complete": a.expect == 0 || done(rows, lat.len()),
    });
    println!("{out}");
    client.disconnect().await.ok();
    Ok(())
}
