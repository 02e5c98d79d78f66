//! Every entry the real Java Canal server delivered for each golden workload
//! (golden/*/*/entries.bin) goes through TransactionBuffer (transaction.size 1024) → EntrySink →
//! a small MEMSIZE store (back-pressure on) while a consumer thread gets (fetch 1000) and acks.
//! What comes out must be exactly what Java delivered, in order: the chunking, the
//! empty-transaction rule and the store must neither lose, duplicate nor reorder anything.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::position::LogIdentity;
use canal_sink::{EntrySink, SinkConfig, TransactionBuffer};
use canal_store::{BatchMode, Event, EventStore, StoreConfig};

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.join("golden").is_dir() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!("golden corpus missing at {} (CI set)", dir.display());
    } else {
        eprintln!("note: {} has no golden corpus, test skipped", dir.display());
        None
    }
}

fn read_entries(path: &std::path::Path) -> Vec<Bytes> {
    let data = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        let n = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize;
        i += 4;
        out.push(Bytes::copy_from_slice(&data[i..i + n]));
        i += n;
    }
    assert_eq!(i, data.len(), "{} truncated", path.display());
    out
}

fn run_chain(entries: &[Bytes]) -> Vec<Bytes> {
    let store = Arc::new(
        EventStore::new(StoreConfig {
            buffer_size: 256,
            mem_unit: 256, // 64 KiB: the producer blocks often
            batch_mode: BatchMode::MemSize,
            ddl_isolation: false,
            raw: true,
        })
        .unwrap(),
    );
    let total = entries.len();
    let consumer = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut idle = 0;
            while got.len() < total && idle < 500 {
                let b = store.try_get(None, 1000).unwrap();
                match b.range {
                    Some(r) => {
                        idle = 0;
                        got.extend(b.events.into_iter().map(|e| e.entry.unwrap()));
                        store.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
                    }
                    None => {
                        idle += 1;
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            }
            got
        })
    };
    let id = Arc::new(LogIdentity {
        source_address: None,
        slave_id: -1,
    });
    let mut buffer = TransactionBuffer::new(1024).unwrap();
    let mut sink = EntrySink::new(store.clone(), SinkConfig::default());
    for b in entries {
        let ev = Event::from_bytes(id.clone(), b.clone(), true).unwrap();
        for chunk in buffer.push(ev) {
            sink.sink_blocking(chunk).unwrap();
        }
    }
    if let Some(chunk) = buffer.flush() {
        sink.sink_blocking(chunk).unwrap();
    }
    consumer.join().unwrap()
}

#[test]
fn golden_entries_survive_the_chain() {
    let Some(dir) = shared_dir() else { return };
    let mut checked = 0;
    for engine in ["mariadb-10.11", "mysql-9.7"] {
        let Ok(rd) = std::fs::read_dir(dir.join("golden").join(engine)) else {
            continue;
        };
        let mut dirs: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        dirs.sort();
        for w in dirs {
            let f = w.join("entries.bin");
            if !f.exists() {
                continue;
            }
            let entries = read_entries(&f);
            let out = run_chain(&entries);
            assert_eq!(out.len(), entries.len(), "{}", w.display());
            assert!(out == entries, "{}: bytes differ", w.display());
            checked += entries.len();
        }
    }
    eprintln!("{checked} golden entries passed the chain");
    assert!(checked > 4000);
}
