//! Row decoding throughput: canal-binlog vs mysql_common's binlog row API on the same file.
//!
//! File: env `BENCH_BINLOG`, else the biggest golden binlog under the shared directory.
//! Both sides frame every event, verify CRC32 (when the file has checksums), keep TABLE_MAPs
//! and decode every row of every rows event into typed values. Also measured: framing + CRC32
//! only. Criterion reports time and MB/s (bytes = file size); rows/s is printed once up front.
//!
//! Run briefly, e.g. `cargo bench -p canal-binlog --bench rows -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;
use std::time::Instant;

use canal_binlog::event::{EventBody, Row};
use canal_binlog::{BinlogFile, EventDecoder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BENCH_BINLOG") {
        return Some(PathBuf::from(p));
    }
    let shared = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    let mut best: Option<(u64, PathBuf)> = None;
    for server in ["mariadb-10.11", "mysql-9.7"] {
        let Ok(rd) = std::fs::read_dir(shared.join("golden").join(server)) else {
            continue;
        };
        for w in rd.flatten() {
            let p = w.path().join("binlog/mysql-bin.000001");
            if let Ok(m) = std::fs::metadata(&p) {
                if best.as_ref().is_none_or(|(s, _)| m.len() > *s) {
                    best = Some((m.len(), p));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// Ours: frame, decode (CRC verified), decode every row into reused buffers.
fn ours(file: &BinlogFile) -> u64 {
    let mut dec = EventDecoder::new();
    let mut rows = 0u64;
    let mut row: Row<'static> = Row::default();
    for raw in file.raw_events() {
        let raw = raw.expect("frame");
        // Borrowed from the returned `Result` rather than moved out of it (see
        // `EventDecoder::decode`).
        let decoded = dec.decode(raw.offset, raw.bytes);
        let ev = decoded.as_ref().expect("decode");
        match &ev.body {
            EventBody::Rows(r) => {
                let mut rd = r.reader().expect("table");
                let mut row2: Row<'_> = std::mem::take(&mut row).reuse();
                while rd.next_into(&mut row2).expect("row") {
                    black_box(&row2);
                    rows += 1;
                }
                row = row2.reuse();
            }
            EventBody::TransactionPayload(p) => {
                let inner: Vec<_> = dec
                    .payload_events(ev.offset, p)
                    .map(|e| e.expect("inner"))
                    .collect();
                for e in &inner {
                    if let EventBody::Rows(r) = &e.body {
                        let mut rd = r.reader().expect("table");
                        let mut row2: Row<'_> = std::mem::take(&mut row).reuse();
                        while rd.next_into(&mut row2).expect("row") {
                            black_box(&row2);
                            rows += 1;
                        }
                        row = row2.reuse();
                    }
                }
            }
            _ => {}
        }
    }
    rows
}

/// Framing and CRC32 only.
fn framing(file: &BinlogFile) -> u64 {
    let mut n = 0;
    for raw in file.raw_events() {
        let raw = raw.expect("frame");
        let (body, crc) = raw.bytes.split_at(raw.bytes.len() - 4);
        n += (crc32fast::hash(body) == u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]])) as u64;
    }
    n
}

/// mysql_common's binlog API: events, table maps, `rows()` with typed `BinlogValue`s.
fn theirs(bytes: &[u8]) -> u64 {
    use mysql_common::binlog::events::EventData;
    use mysql_common::binlog::{consts::BinlogVersion, BinlogFile as MBinlogFile};
    let mut f = MBinlogFile::new(BinlogVersion::Version4, Cursor::new(bytes)).expect("header");
    let mut rows = 0u64;
    while let Some(ev) = f.next() {
        let ev = ev.expect("event");
        if let Some(EventData::RowsEvent(re)) = ev.read_data().expect("data") {
            let tme = f.reader().get_tme(re.table_id()).expect("tme");
            for r in re.rows(tme) {
                let (b, a) = r.expect("row");
                black_box((b, a));
                rows += 1;
            }
        }
    }
    rows
}

fn bench(c: &mut Criterion) {
    let Some(path) = bench_file() else {
        eprintln!("note: no binlog to benchmark (set BENCH_BINLOG or CANAL_SHARED_DIR)");
        return;
    };
    let bytes = std::fs::read(&path).expect("read binlog");
    let file = BinlogFile::from_file_bytes(bytes.clone()).expect("binlog");
    let t = Instant::now();
    let n_ours = ours(&file);
    let d_ours = t.elapsed();
    let t = Instant::now();
    let n_theirs = theirs(&bytes);
    let d_theirs = t.elapsed();
    let mb = bytes.len() as f64 / 1e6;
    eprintln!(
        "{}: {:.1} MB; canal-binlog {} rows in {:?} ({:.0} MB/s, {:.2} M rows/s); mysql_common {} rows in {:?} ({:.0} MB/s, {:.2} M rows/s)",
        path.display(),
        mb,
        n_ours,
        d_ours,
        mb / d_ours.as_secs_f64(),
        n_ours as f64 / d_ours.as_secs_f64() / 1e6,
        n_theirs,
        d_theirs,
        mb / d_theirs.as_secs_f64(),
        n_theirs as f64 / d_theirs.as_secs_f64() / 1e6
    );
    let mut g = c.benchmark_group("rows");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(10);
    g.bench_function("canal_binlog", |b| b.iter(|| ours(black_box(&file))));
    g.bench_function("mysql_common", |b| b.iter(|| theirs(black_box(&bytes))));
    g.bench_function("framing_crc32", |b| b.iter(|| framing(black_box(&file))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
