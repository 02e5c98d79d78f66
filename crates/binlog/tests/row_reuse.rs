//! The allocation-free row path (`RowReader::next_into` with one `Row` reused across rows and
//! events through `Row::reuse`, as hot loops do) yields exactly what the owned path
//! (`RowsEvent::rows`, a fresh `Row` per row) yields, on every fixture and golden binlog:
//! slots left over from an earlier row or event must never leak into the next one.

mod common;

use std::path::PathBuf;

use canal_binlog::event::{Event, EventBody, Row};
use canal_binlog::{BinlogFile, EventDecoder};

/// Compares both paths on one event; returns the number of rows compared.
fn compare_event(ev: &Event<'_>, reused: &mut Row<'static>, what: &str) -> usize {
    let EventBody::Rows(r) = &ev.body else {
        return 0;
    };
    let owned: Vec<_> = r.rows().collect();
    let mut row: Row<'_> = std::mem::take(reused).reuse();
    let mut n = 0;
    match r.reader() {
        Err(e) => {
            assert!(
                matches!(owned.first(), Some(Err(_))),
                "{what} @{}: reader failed ({e}) but rows() did not",
                ev.offset
            );
        }
        Ok(mut rd) => {
            for expected in &owned {
                match (rd.next_into(&mut row), expected) {
                    (Ok(true), Ok(exp)) => assert_eq!(&row, exp, "{what} @{} row {n}", ev.offset),
                    (Err(_), Err(_)) => break,
                    (got, exp) => panic!(
                        "{what} @{} row {n}: next_into {got:?}, rows() {:?}",
                        ev.offset,
                        exp.as_ref().map(|_| "a row")
                    ),
                }
                n += 1;
            }
            if owned.last().is_none_or(|r| r.is_ok()) {
                assert!(
                    matches!(rd.next_into(&mut row), Ok(false)),
                    "{what} @{}: next_into has more rows than rows()",
                    ev.offset
                );
            }
        }
    }
    *reused = row.reuse();
    n
}

fn binlogs(shared: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = common::files_under(&shared.join("fixtures/binlog"))
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    files.extend(
        common::files_under(&shared.join("golden"))
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "mysql-bin.000001")),
    );
    files
}

#[test]
fn reused_rows_match_owned_rows() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut reused: Row<'static> = Row::default();
    let (mut files, mut rows) = (0, 0);
    for p in binlogs(&shared) {
        let what = p.display().to_string();
        let Ok(Ok(f)) = BinlogFile::open(&p) else {
            continue;
        };
        files += 1;
        let mut dec = EventDecoder::new();
        for raw in f.raw_events() {
            let Ok(raw) = raw else { break };
            let decoded = dec.decode(raw.offset, raw.bytes);
            let Ok(ev) = &decoded else { break };
            rows += compare_event(ev, &mut reused, &what);
            if let EventBody::TransactionPayload(pl) = &ev.body {
                let inner: Vec<_> = dec.payload_events(ev.offset, pl).collect();
                for e in inner.iter().flatten() {
                    rows += compare_event(e, &mut reused, &what);
                }
            }
        }
    }
    println!("{files} binlogs, {rows} rows compared");
    assert!(files >= 50, "only {files} binlogs found");
    assert!(rows >= 10_000, "only {rows} rows compared");
}
