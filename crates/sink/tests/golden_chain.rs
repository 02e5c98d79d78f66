//! Every entry the real Java Canal server delivered for each golden workload
//! (golden/*/*/entries.bin) goes through TransactionBuffer (transaction.size 1024) → EntrySink →
//! a small MEMSIZE store (back-pressure on) while a consumer thread gets (fetch 1000) and acks.
//! What comes out must be exactly what Java delivered, in order: the chunking, the
//! empty-transaction rule and the store must neither lose, duplicate nor reorder anything.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canal_protocol::golden;
use canal_protocol::position::LogIdentity;
use canal_sink::{EntrySink, SinkConfig, TransactionBuffer};
use canal_store::{BatchMode, Event, EventStore, StoreConfig};

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
    let Some(dir) = golden::shared_dir() else {
        return;
    };
    let mut checked = 0;
    for engine in golden::SOURCES {
        for w in golden::workload_dirs(&dir, engine) {
            let entries: Vec<Bytes> = golden::read_entries(&w)
                .into_iter()
                .map(Bytes::from)
                .collect();
            let out = run_chain(&entries);
            assert_eq!(out.len(), entries.len(), "{}", w.display());
            assert!(out == entries, "{}: bytes differ", w.display());
            checked += entries.len();
        }
    }
    eprintln!("{checked} golden entries passed the chain");
    assert!(checked > 4000);
}
