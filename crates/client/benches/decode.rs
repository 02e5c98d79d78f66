//! Entry decoding on the consumer side: the owned prost types vs the borrowed views
//! (`canal_client::view`), over ROWDATA entries shaped like the end-to-end bench's `bench.t`
//! (13 columns, 20 INSERT rows per entry, ~110-byte TEXT).
//!
//! `cargo bench -p canal-client --bench decode`

use canal_client::view::EntryView;
use canal_protocol::entry::{Column, Entry, EntryType, EventType, Header, RowChange, RowData};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;

fn row(id: i64) -> Vec<Column> {
    let cols: [(&str, i32, &str, String); 13] = [
        ("id", -5, "bigint", id.to_string()),
        ("i", 4, "int", (id * 7 % 100_000).to_string()),
        ("su", 5, "smallint unsigned", (id % 65_000).to_string()),
        (
            "d",
            3,
            "decimal(12,2)",
            format!("{}.{:02}", id * 13, id % 100),
        ),
        ("f", 8, "double", format!("{}.25", id)),
        ("v", 12, "varchar(64)", format!("value-{id}-ünïcode")),
        ("c", 1, "char(8)", "abcdefgh".into()),
        ("dt", 93, "datetime(3)", "2026-11-21 08:56:01.123".into()),
        ("ts", 93, "timestamp", "2026-11-21 08:56:01".into()),
        ("dd", 91, "date", "2026-11-21".into()),
        ("tx", 2005, "text", "t".repeat(110)),
        ("tn", -6, "tinyint", (id % 100).to_string()),
        ("commit_us", -5, "bigint", "0".into()),
    ];
    cols.into_iter()
        .enumerate()
        .map(|(i, (name, sql_type, mysql_type, value))| Column {
            index: Some(i as i32),
            sql_type: Some(sql_type),
            name: Some(name.into()),
            is_key: Some(i == 0),
            updated: Some(true),
            is_null: Some(false),
            props: vec![],
            value: Some(value),
            length: None,
            mysql_type: Some(mysql_type.into()),
        })
        .collect()
}

fn entries() -> Vec<bytes::Bytes> {
    (0..50)
        .map(|e| {
            let rc = RowChange {
                table_id: Some(70),
                event_type: Some(EventType::Insert as i32),
                is_ddl: Some(false),
                row_datas: (0..20)
                    .map(|r| RowData {
                        after_columns: row(e * 20 + r),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            };
            Entry {
                header: Some(Header {
                    version: Some(1),
                    logfile_name: Some("mysql-bin.000026".into()),
                    logfile_offset: Some(e * 9000),
                    server_id: Some(1),
                    serveren_code: Some("UTF-8".into()),
                    execute_time: Some(1_700_000_000_000),
                    source_type: Some(2),
                    schema_name: Some("bench".into()),
                    table_name: Some("t".into()),
                    event_length: Some(8000),
                    event_type: Some(EventType::Insert as i32),
                    ..Default::default()
                }),
                entry_type: Some(EntryType::Rowdata as i32),
                store_value: Some(rc.encode_to_vec().into()),
            }
            .encode_to_vec()
            .into()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let batch = entries();
    let bytes: usize = batch.iter().map(|b| b.len()).sum();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("owned prost", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in &batch {
                let e = Entry::decode(e.clone()).expect("entry");
                let rc = RowChange::decode(e.store_value.unwrap_or_default()).expect("rc");
                for rd in &rc.row_datas {
                    for c in &rd.after_columns {
                        n += c.value().len() + c.name().len() + usize::from(c.is_null());
                    }
                }
            }
            n
        })
    });
    g.bench_function("views", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for e in &batch {
                let e = EntryView::parse(e).expect("entry");
                let rc = e.row_change().expect("rc");
                for rd in rc.row_datas() {
                    for c in rd.expect("row").after_columns() {
                        let c = c.expect("column");
                        n += c.value().len() + c.name().len() + usize::from(c.is_null());
                    }
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
