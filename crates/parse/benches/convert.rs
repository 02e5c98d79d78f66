//! Conversion throughput on the golden MariaDB `dml-shapes` binlog (4,080 entries, ~10 k rows):
//! decode + convert + serialize, from the file already in memory.

use std::path::PathBuf;

use canal_parse::entries_json::convert_file;
use canal_parse::ConvertOptions;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let f = std::env::var("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("golden/mariadb-10.11/dml-shapes/binlog/mysql-bin.000001");
    if !f.is_file() {
        eprintln!("note: {} missing; bench skipped", f.display());
        return;
    }
    let opts = ConvertOptions {
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    let n = convert_file(&f, opts.clone(), 0).unwrap().len();
    let mut g = c.benchmark_group("convert");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("dml_shapes_entries", |b| {
        b.iter(|| convert_file(&f, opts.clone(), 0).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
