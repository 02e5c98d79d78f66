//! Conversion throughput: decode + convert + serialize, reported in MB/s of binlog (bytes = file
//! size) and, once up front, entries/s.
//!
//! * `convert`: the golden MariaDB `dml-shapes` binlog (470 KB, 4,080 entries, ~10 k small rows)
//!   through `entries_json::convert_file` (reads the file, keeps every entry), rows events through
//!   the direct protobuf writer and, for comparison, through the prost structs.
//! * `convert_stream`: the same file held in memory and streamed (entries dropped after each
//!   event, as the pipeline hands them on), and with `BENCH_BINLOG` set (e.g.
//!   `BENCH_BINLOG=$(scripts/gen-bench-binlog | tail -n 1)`, a 200 MB mixed-type MariaDB binlog)
//!   that file too, plus decode alone on it (frame, CRC, decode every row), so the conversion's
//!   own share is the difference.
//!
//! Run briefly, e.g. `cargo bench -p canal-parse --bench convert -- --warm-up-time 1
//! --measurement-time 5`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use canal_binlog::event::{EventBody, Row};
use canal_binlog::BinlogFile;
use canal_parse::entries_json::{convert_file, convert_file_with};
use canal_parse::{ConvertOptions, Converter, ParsedEntry};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn golden_file() -> PathBuf {
    std::env::var("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("golden/mariadb-10.11/dml-shapes/binlog/mysql-bin.000001")
}

fn opts() -> ConvertOptions {
    ConvertOptions {
        timezone: Some("UTC".into()),
        ..Default::default()
    }
}

/// Streams every event of `file` through a fresh converter (TRANSACTION_PAYLOAD inner events
/// one by one, as the pipeline does); returns (entries, entry bytes).
fn stream(file: &BinlogFile, name: &str) -> (u64, u64) {
    let mut conv = Converter::new(opts()).expect("options");
    conv.set_file(name);
    let mut out: Vec<ParsedEntry> = Vec::new();
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut events = file.events();
    while let Some(ev) = events.next() {
        let ev = ev.expect("decode");
        if let EventBody::TransactionPayload(p) = &ev.body {
            let len = ev.header.event_size;
            for inner in events.decoder().payload_events(ev.offset, p) {
                conv.convert_inner(&inner.expect("inner"), len, &mut out)
                    .expect("convert");
            }
        } else {
            conv.convert(&ev, &mut out).expect("convert");
        }
        n += out.len() as u64;
        bytes += out.iter().map(|e| e.bytes.len() as u64).sum::<u64>();
        out.clear();
    }
    (n, bytes)
}

/// Decode alone: frame, CRC, decode every row into reused buffers (no conversion).
fn decode_only(file: &BinlogFile) -> u64 {
    let mut rows = 0u64;
    let mut row: Row<'static> = Row::default();
    for ev in file.events() {
        let ev = ev.expect("decode");
        if let EventBody::Rows(r) = &ev.body {
            let mut rd = r.reader().expect("table");
            let mut row2: Row<'_> = std::mem::take(&mut row).reuse();
            while rd.next_into(&mut row2).expect("row") {
                black_box(&row2);
                rows += 1;
            }
            row = row2.reuse();
        }
    }
    rows
}

fn load(p: &Path) -> BinlogFile {
    BinlogFile::open(p).expect("read").expect("binlog magic")
}

/// CPU time of this thread so far (Linux `/proc/thread-self/schedstat`), when readable.
fn thread_cpu() -> Option<f64> {
    let t = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = t.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Prints entries/s and MB/s of `passes` streamed passes: by wall time and by this thread's CPU
/// time (less sensitive to a loaded machine).
fn report(label: &str, file: &BinlogFile, name: &str, passes: u32) {
    let (t, c) = (Instant::now(), thread_cpu());
    let mut r = (0, 0);
    for _ in 0..passes {
        r = stream(file, name);
    }
    let wall = t.elapsed().as_secs_f64() / f64::from(passes);
    let cpu = c.and_then(|c| Some((thread_cpu()? - c) / f64::from(passes)));
    let (n, bytes) = r;
    let mb = |s: f64| file.len() as f64 / s / 1e6;
    eprintln!(
        "{label}: {} binlog bytes -> {n} entries ({bytes} entry bytes); per pass: wall {:.4} s = \
         {:.1} MB/s, {:.2} M entries/s; CPU {}",
        file.len(),
        wall,
        mb(wall),
        n as f64 / wall / 1e6,
        match cpu {
            Some(c) => format!(
                "{c:.4} s = {:.1} MB/s, {:.2} M entries/s",
                mb(c),
                n as f64 / c / 1e6
            ),
            None => "n/a".into(),
        }
    );
}

fn bench(c: &mut Criterion) {
    let f = golden_file();
    if !f.is_file() {
        eprintln!("note: {} missing; bench skipped", f.display());
        return;
    }
    let opts = opts();
    let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
    let mut g = c.benchmark_group("convert");
    g.throughput(Throughput::Bytes(size));
    g.bench_function("dml_shapes_entries", |b| {
        b.iter(|| convert_file(&f, opts.clone(), 0).unwrap().len())
    });
    // The prost-struct path for rows events (the differential-test oracle), for comparison.
    g.bench_function("dml_shapes_entries_struct_rows", |b| {
        b.iter(|| {
            let mut c = Converter::new(opts.clone()).unwrap();
            c.set_struct_rows(true);
            convert_file_with(&mut c, &f, 0).unwrap().len()
        })
    });
    g.finish();

    let small = load(&f);
    report("dml-shapes", &small, "mysql-bin.000001", 50);
    let mut g = c.benchmark_group("convert_stream");
    g.throughput(Throughput::Bytes(small.len() as u64));
    g.bench_function("dml_shapes", |b| {
        b.iter(|| stream(&small, "mysql-bin.000001"))
    });
    g.finish();

    let Some(big) = std::env::var_os("BENCH_BINLOG").map(PathBuf::from) else {
        eprintln!("note: BENCH_BINLOG not set; the large-file group is skipped");
        return;
    };
    let name = big
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let big = load(&big);
    report("BENCH_BINLOG", &big, &name, 2);
    let mut g = c.benchmark_group("convert_stream_large");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(10);
    g.bench_function("bench_binlog", |b| b.iter(|| stream(&big, &name)));
    g.bench_function("bench_binlog_decode_only", |b| b.iter(|| decode_only(&big)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
