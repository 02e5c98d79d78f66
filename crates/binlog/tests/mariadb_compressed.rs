//! MariaDB `log_bin_compress=ON`: QUERY_COMPRESSED and *_ROWS_COMPRESSED_V1 events, from a
//! binlog written live by the sandbox MariaDB 10.11 (see support_compressed; its workload is
//! tests/data/mariadb-10.11-compressed.sql). Expected values come from that SQL. Skipped (with a
//! note) when CANAL_TEST_MARIADB is unset; fails then under CI.

mod support_compressed;

use canal_binlog::event::{types, EventBody, RowsKind};
use canal_binlog::{BinlogFile, EventDecoder};
use support_compressed::{compressed_binlog, TABLE};

#[test]
fn compressed_query_and_rows_events_decode() {
    let Some(live) = compressed_binlog() else {
        return;
    };
    let schema = live.schema.as_bytes();
    let f = BinlogFile::from_file_bytes(live.bytes.clone()).unwrap();
    let mut dec = EventDecoder::new();
    // Event types of the workload's events (other sessions may have written to the file too).
    let mut seen = std::collections::BTreeMap::new();
    let mut rows = vec![];
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        let ours = match &ev.body {
            EventBody::Query(q) => q.schema == schema,
            EventBody::TableMap(t) => t.schema == live.schema,
            EventBody::Rows(r) => r
                .table
                .as_ref()
                .is_some_and(|t| t.schema == live.schema && t.table == TABLE),
            _ => false,
        };
        if !ours {
            continue;
        }
        *seen.entry(ev.header.event_type).or_insert(0) += 1;
        match &ev.body {
            EventBody::Query(q) if ev.header.event_type == types::MARIA_QUERY_COMPRESSED => {
                assert!(q
                    .sql
                    .starts_with(b"CREATE TABLE c1 (id INT PRIMARY KEY, name VARCHAR(100)"));
                assert!(q.sql.ends_with(b"b BIT(17))"));
            }
            EventBody::Rows(r) => {
                for row in r.rows() {
                    let row = row.unwrap();
                    let img = |i: &Option<Vec<Option<canal_binlog::value::Value<'_>>>>| {
                        i.as_ref().map(|c| {
                            c.iter()
                                .map(|v| v.as_ref().unwrap().to_string())
                                .collect::<Vec<_>>()
                                .join("|")
                        })
                    };
                    rows.push((r.kind, img(&row.before), img(&row.after)));
                }
            }
            _ => {}
        }
    }
    assert_eq!(seen.get(&types::MARIA_QUERY_COMPRESSED), Some(&1));
    assert_eq!(seen.get(&types::MARIA_WRITE_ROWS_COMPRESSED_V1), Some(&3));
    assert_eq!(seen.get(&types::MARIA_UPDATE_ROWS_COMPRESSED_V1), Some(&1));
    assert_eq!(seen.get(&types::MARIA_DELETE_ROWS_COMPRESSED_V1), Some(&1));
    // Nothing of the workload was logged uncompressed (MariaDB opens transactions with its
    // GTID event, not a BEGIN query).
    for t in [
        types::QUERY,
        types::WRITE_ROWS_V1,
        types::UPDATE_ROWS_V1,
        types::DELETE_ROWS_V1,
        types::WRITE_ROWS_V2,
        types::UPDATE_ROWS_V2,
        types::DELETE_ROWS_V2,
    ] {
        assert_eq!(seen.get(&t), None, "event type {t} in {seen:?}");
    }
    let abc = "abc".repeat(50);
    let row1 =
        format!("1|compressed row number one|12345.67|2024-01-02 03:04:05.678|{abc}|2|5|65537");
    assert_eq!(rows[0], (RowsKind::Write, None, Some(row1.clone())));
    assert_eq!(
        rows[1],
        (
            RowsKind::Write,
            None,
            Some("2|second|-0.05|1999-12-31 23:59:59.999|short text here|3|0|0".into())
        )
    );
    assert_eq!(
        rows[2],
        (
            RowsKind::Write,
            None,
            Some("3|NULL|NULL|NULL|NULL|NULL|NULL|NULL".into())
        )
    );
    let upd = format!("1|updated name value|1.00|2024-01-02 03:04:05.678|{abc}|2|5|65537");
    assert_eq!(rows[3], (RowsKind::Update, Some(row1), Some(upd)));
    assert_eq!(rows[4].0, RowsKind::Delete);
    assert!(rows[4].1.as_deref().unwrap().starts_with("2|second|"));
    // INSERT ... SELECT seq FROM seq_10_to_59: 50 rows, d = seq/100, txt = 'z' x seq, SET 'y' = 2.
    let bulk: Vec<_> = rows[5..].iter().map(|r| r.2.clone().unwrap()).collect();
    assert_eq!(bulk.len(), 50);
    for (k, r) in bulk.iter().enumerate() {
        let seq = k + 10;
        let expect = format!(
            "{seq}|bulk row {seq}|0.{seq:02}|2020-02-02 02:02:02.002|{}|1|2|{seq}",
            "z".repeat(seq)
        );
        assert_eq!(r, &expect);
    }
}

#[test]
fn corrupt_compressed_body_is_a_clean_error() {
    let Some(live) = compressed_binlog() else {
        return;
    };
    let mut b = live.bytes.clone();
    let f = BinlogFile::from_file_bytes(b.clone()).unwrap();
    // The first compressed WRITE_ROWS of the workload's table; the decoder has seen all before.
    let mut dec = EventDecoder::new();
    let ev = f
        .raw_events()
        .map(|r| r.unwrap())
        .find(|r| {
            let ev = dec.decode(r.offset, r.bytes).unwrap();
            match &ev.body {
                EventBody::Rows(rows) => {
                    ev.header.event_type == types::MARIA_WRITE_ROWS_COMPRESSED_V1
                        && rows
                            .table
                            .as_ref()
                            .is_some_and(|t| t.schema == live.schema && t.table == TABLE)
                }
                _ => false,
            }
        })
        .unwrap();
    // Damage the zlib stream and skip CRC verification so the decompressor sees it.
    let at = ev.offset as usize + ev.bytes.len() - 10;
    b[at] ^= 0xff;
    dec.set_verify_checksum(false);
    let raw = &b[ev.offset as usize..ev.offset as usize + ev.bytes.len()];
    let e = dec.decode(ev.offset, raw).unwrap_err();
    assert_eq!(e.offset, ev.offset);
    assert!(e.to_string().contains("decompress"), "{e}");
}
