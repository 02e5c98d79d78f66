//! Bench consumer for `scripts/bench-e2e` (issue 8): consumes a destination with
//! [`canal_client::CanalClient`] and prints one JSON line of measurements.
//!
//! It uses the client's fastest public path, as an application would: `--pipeline` GETs kept
//! in flight ([`CanalClient::send_get`] / [`CanalClient::recv_raw`]: the next GET goes out
//! before the current batch is decoded; acks in batch order) and the borrowed
//! [`canal_client::view`] decoding. Every entry's envelope and header is decoded; every RowData
//! entry of `--schema`.`--table` is fully decoded (RowChange, every column: name, value, isNull,
//! updated and the other fields, strings checked as UTF-8), its rows counted; the run ends once
//! `--expect` rows were seen (or after `--max-secs`). `--pipeline 1` gives the plain
//! GET → decode → ACK loop; `--owned` decodes into the owned prost types instead of views.
//! With `--latency`, each row whose `commit_us` column is > 0 gives one sample
//! `receive wall clock − commit_us` and only those rows count towards `--expect` (the load generator writes the commit's wall-clock
//! microseconds into that column right before the statement that commits it).
//!
//! ```text
//! cargo run --release -p canal-client --example bench_consume -- \
//!     --addr 127.0.0.1:11111 --destination bench --expect 550000 [--latency]
//! ```

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use canal_client::view::EntryView;
use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{Entry, EntryType, RowChange};
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
    pipeline: usize,
    owned: bool,
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
        pipeline: 2,
        owned: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--latency" {
            a.latency = true;
            continue;
        }
        if k == "--owned" {
            a.owned = true;
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
            "--pipeline" => {
                a.pipeline = usize::try_from(num(&v)?).map_err(|e| e.to_string())?.max(1)
            }
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

#[derive(Default)]
struct Counts {
    rows: u64,
    entries: u64,
    batches: u64,
    bytes: u64,
    value_bytes: u64,
    columns: u64,
    nulls: u64,
    updated: u64,
}

/// One entry through the borrowed views.
fn consume_view(
    a: &Args,
    bytes: &[u8],
    recv_us: i64,
    n: &mut Counts,
    lat: &mut Vec<i64>,
) -> Result<(), Box<dyn std::error::Error>> {
    n.entries += 1;
    n.bytes += bytes.len() as u64;
    let e = EntryView::parse(bytes)?;
    if e.entry_type() != EntryType::Rowdata {
        return Ok(());
    }
    let Some(h) = e.header() else { return Ok(()) };
    if h.schema_name != Some(a.schema.as_str()) || h.table_name != Some(a.table.as_str()) {
        return Ok(());
    }
    let rc = e.row_change()?;
    if rc.is_ddl() {
        return Ok(());
    }
    for rd in rc.row_datas() {
        let rd = rd?;
        n.rows += 1;
        let mut commit = 0i64;
        for c in rd.before_columns().chain(rd.after_columns()) {
            let c = c?;
            n.columns += 1;
            n.value_bytes += c.value.map_or(0, |v| v.len() as u64);
            n.nulls += u64::from(c.is_null());
            n.updated += u64::from(c.updated());
            if a.latency && c.name() == "commit_us" {
                commit = c.value().parse().unwrap_or(0);
            }
        }
        if a.latency && commit > 0 {
            lat.push(recv_us - commit);
        }
    }
    Ok(())
}

/// One entry through the owned prost types (`--owned`, for comparison).
fn consume_owned(
    a: &Args,
    bytes: &bytes::Bytes,
    recv_us: i64,
    n: &mut Counts,
    lat: &mut Vec<i64>,
) -> Result<(), Box<dyn std::error::Error>> {
    n.entries += 1;
    n.bytes += bytes.len() as u64;
    let e = Entry::decode(bytes.clone())?;
    if e.entry_type != Some(EntryType::Rowdata as i32) && e.entry_type.is_some() {
        return Ok(());
    }
    let Some(h) = &e.header else { return Ok(()) };
    if h.schema_name.as_deref() != Some(a.schema.as_str())
        || h.table_name.as_deref() != Some(a.table.as_str())
    {
        return Ok(());
    }
    let rc = RowChange::decode(e.store_value.clone().unwrap_or_default())?;
    if rc.is_ddl == Some(true) {
        return Ok(());
    }
    for rd in &rc.row_datas {
        n.rows += 1;
        let mut commit = 0i64;
        for c in rd.before_columns.iter().chain(&rd.after_columns) {
            n.columns += 1;
            n.value_bytes += c.value.as_ref().map_or(0, |v| v.len() as u64);
            n.nulls += u64::from(c.is_null());
            n.updated += u64::from(c.updated());
            if a.latency && c.name() == "commit_us" {
                commit = c.value().parse().unwrap_or(0);
            }
        }
        if a.latency && commit > 0 {
            lat.push(recv_us - commit);
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = parse_args()?;
    let start_us = now_us();
    let mut client = connect(&a).await?;
    let connected_us = now_us();
    let t0 = Instant::now();
    let mut n = Counts::default();
    let (mut first_row_us, mut last_row_us) = (0i64, 0i64);
    let mut lat: Vec<i64> = Vec::new();
    let timeout = (a.timeout_ms > 0).then(|| Duration::from_millis(a.timeout_ms));
    // In latency mode only rows carrying a commit_us count towards --expect (the server may
    // also deliver rows of the bulk load that precede the paced ones).
    let done = |rows: u64, samples: usize| {
        a.expect > 0 && (if a.latency { samples as u64 } else { rows }) >= a.expect
    };
    for _ in 0..a.pipeline {
        client.send_get(a.batch, timeout).await?;
    }
    while !done(n.rows, lat.len()) && t0.elapsed() < Duration::from_secs(a.max_secs) {
        let batch = client.recv_raw().await?;
        // Keep the pipeline full: the server prepares the next batch while this one is decoded.
        client.send_get(a.batch, timeout).await?;
        if batch.id == -1 || batch.is_empty() {
            continue;
        }
        let recv_us = now_us();
        n.batches += 1;
        let before = n.rows;
        for bytes in &batch.entries {
            if a.owned {
                consume_owned(&a, bytes, recv_us, &mut n, &mut lat)?;
            } else {
                consume_view(&a, bytes, recv_us, &mut n, &mut lat)?;
            }
        }
        if n.rows > before {
            if first_row_us == 0 {
                first_row_us = recv_us;
            }
            last_row_us = recv_us;
        }
        client.ack(batch.id).await?;
    }
    let (rows, entries, batches, bytes, value_bytes) =
        (n.rows, n.entries, n.batches, n.bytes, n.value_bytes);
    let secs = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    let out = serde_json::json!({
        "client": "canal-rs-client",
        "rows": rows,
        "entries": entries,
        "batches": batches,
        "entry_bytes": bytes,
        "value_bytes": value_bytes,
        "columns": n.columns,
        "null_columns": n.nulls,
        "updated_columns": n.updated,
        "pipeline": a.pipeline,
        "decode": if a.owned { "owned" } else { "view" },
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
