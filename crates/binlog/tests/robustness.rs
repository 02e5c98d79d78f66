//! Untrusted input never panics or hangs: real binlogs with deterministic random corruption
//! (bit flips, byte overwrites, truncation) go through every decoding path. The inputs are the
//! shared fixtures plus a MariaDB `log_bin_compress=ON` binlog written live by the sandbox
//! server (support_compressed; skipped with a note when CANAL_TEST_MARIADB is unset).

mod common;
mod support_compressed;

use canal_binlog::event::{types, EventBody};
use canal_binlog::fuzzing::{decode_anything, synthetic_fde};
use canal_binlog::{BinlogFile, DecodeErrorKind, EventDecoder};

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn inputs() -> Vec<Vec<u8>> {
    let mut v = vec![];
    if let Some(live) = support_compressed::compressed_binlog() {
        v.push(live.bytes.clone());
    }
    if let Some(shared) = common::shared_dir() {
        for rel in [
            "fixtures/binlog/rust_mysql_common/json.binlog.000001",
            "fixtures/binlog/rust_mysql_common/transaction_compression.000001",
            "fixtures/binlog/rust_mysql_common/vector.binlog",
            "fixtures/binlog/rust_mysql_common/mariadb-bin.000001",
            "fixtures/binlog/rust_mysql_common/binlog_transaction_with_GTID_TAG.000001",
            "fixtures/binlog/MySqlCdc/mysql-bin.000001",
            "fixtures/binlog/mysql-binlog-connector-rust/mysql-bin.000057",
            "fixtures/binlog/go-mysql/tcb-eval002c-bin.003320",
        ] {
            v.push(std::fs::read(shared.join(rel)).unwrap());
        }
    }
    v
}

#[test]
fn corrupted_binlogs_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for input in inputs() {
        decode_anything(&input);
        for _ in 0..150 {
            let mut b = input.clone();
            let k = 1 + rng.next() % 8;
            for _ in 0..k {
                let i = 4 + (rng.next() as usize) % (b.len() - 4);
                match rng.next() % 3 {
                    0 => b[i] ^= 1 << (rng.next() % 8),
                    1 => b[i] = rng.next() as u8,
                    _ => b[i] = [0, 0xff, 0xfe, 0xfc, 0x80][(rng.next() % 5) as usize],
                }
            }
            if rng.next() % 4 == 0 {
                let cut = 4 + (rng.next() as usize) % (b.len() - 4);
                b.truncate(cut);
            }
            decode_anything(&b);
            // Same bytes as an event stream with CRC verification off (reaches the bodies).
            let mut s = vec![(rng.next() % 8) as u8 & !2];
            s.extend_from_slice(&b[4..]);
            decode_anything(&s);
        }
    }
}

#[test]
fn unknown_event_types_are_skipped_not_errors() {
    let mut dec = EventDecoder::new();
    dec.decode(4, &synthetic_fde("8.0.40", true)).unwrap();
    // A well-formed event of unassigned type 99 with a valid CRC.
    let mut ev = vec![0u8; 19];
    ev[4] = 99;
    ev.extend_from_slice(b"future payload");
    let size = (ev.len() + 4) as u32;
    ev[9..13].copy_from_slice(&size.to_le_bytes());
    let crc = crc32fast::hash(&ev);
    ev.extend_from_slice(&crc.to_le_bytes());
    let e = dec.decode(100, &ev).unwrap();
    assert!(matches!(e.body, EventBody::Unknown { event_type: 99 }));
    // ... while a bad CRC on it is still an error naming the offset.
    let n = ev.len();
    ev[n - 1] ^= 1;
    let err = dec.decode(100, &ev).unwrap_err();
    assert_eq!(err.offset, 100);
    assert!(matches!(err.kind, DecodeErrorKind::Checksum { .. }));
}

#[test]
fn table_map_is_decoded_once_and_shared() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let f = BinlogFile::open(
        shared.join("fixtures/binlog/mysql-binlog-connector-java/mysql-bin.checksum-crc32"),
    )
    .unwrap()
    .unwrap();
    let mut dec = EventDecoder::new();
    let mut last: std::collections::HashMap<u64, std::sync::Arc<canal_binlog::event::TableMap>> =
        Default::default();
    let (mut same, mut maps) = (0, 0);
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        match &ev.body {
            EventBody::TableMap(t) => {
                maps += 1;
                if let Some(prev) = last.get(&t.table_id) {
                    if std::sync::Arc::ptr_eq(prev, t) {
                        same += 1;
                    }
                }
                last.insert(t.table_id, t.clone());
            }
            EventBody::Rows(r) => {
                let t = r.table.as_ref().unwrap();
                assert!(std::sync::Arc::ptr_eq(t, dec.table(r.table_id).unwrap()));
            }
            _ => {}
        }
    }
    // Every transaction repeats its TABLE_MAP; identical ones reuse the decoded Arc.
    assert!(maps > 50 && same > 0, "{maps} {same}");
}

#[test]
fn rows_event_without_table_map_is_an_error_per_event() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let f = BinlogFile::open(
        shared.join("fixtures/binlog/rust_mysql_common/minimal_row_metadata.000001"),
    )
    .unwrap()
    .unwrap();
    let mut dec = EventDecoder::new();
    let mut saw_rows = false;
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        if raw.bytes[4] == types::TABLE_MAP {
            continue; // drop it
        }
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        if let EventBody::Rows(r) = &ev.body {
            saw_rows = true;
            assert!(r.table.is_none());
            let e = r.reader().err().unwrap();
            assert!(matches!(e.kind, DecodeErrorKind::UnknownTable(_)));
        }
    }
    assert!(saw_rows);
}
