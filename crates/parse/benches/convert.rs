//! Conversion throughput on the golden MariaDB `dml-shapes` binlog (4,080 entries, ~10 k rows):
//! decode + convert + serialize, from the file already in memory; rows events through the direct
//! protobuf writer and, for comparison, through the prost structs.

use std::path::PathBuf;

use canal_parse::entries_json::{convert_file, convert_file_with};
use canal_parse::{ConvertOptions, Converter};
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
    // The prost-struct path for rows events (the differential-test oracle), for comparison.
    g.bench_function("dml_shapes_entries_struct_rows", |b| {
        b.iter(|| {
            let mut c = Converter::new(opts.clone()).unwrap();
            c.set_struct_rows(true);
            convert_file_with(&mut c, &f, 0).unwrap().len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
