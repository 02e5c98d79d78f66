//! Store throughput: put / get / ack cycles of realistic ROWDATA entries (~0.8 KB, 13 columns)
//! in ITEMSIZE and MEMSIZE batch modes (issue 8). Each iteration streams 4096 events through a
//! 1024-slot ring: put in chunks of 32 (one transaction's worth); whenever the ring is full,
//! take a batch and ack it.
//!
//! Run briefly: `cargo bench -p canal-store --bench store -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;

use canal_protocol::position::{LogIdentity, SourceAddress};
use canal_store::{BatchMode, Event, EventStore, StoreConfig};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const EVENTS: usize = 4096;
const CHUNK: usize = 32;

#[path = "sample_entry.rs"]
mod sample_entry;
use sample_entry::entry;

fn events() -> Vec<Event> {
    let id = Arc::new(LogIdentity {
        source_address: Some(SourceAddress {
            address: Some("127.0.0.1".into()),
            port: 3306,
        }),
        slave_id: -1,
    });
    (0..EVENTS)
        .map(|i| Event::from_entry(id.clone(), &entry(i), true))
        .collect()
}

/// Streams all events through the store; returns how many were read back. The consumer only
/// reads when a put finds the ring full (a consumer that lags by a whole ring), then drains the
/// rest at the end.
fn cycle(store: &EventStore, evs: &[Event], batch: i32) -> usize {
    let mut read = 0;
    for chunk in evs.chunks(CHUNK) {
        let mut v = chunk.to_vec();
        while !store.try_put(&mut v).expect("put") {
            drain(store, batch, &mut read);
        }
    }
    while read < evs.len() {
        drain(store, batch, &mut read);
    }
    read
}

fn drain(store: &EventStore, batch: i32, read: &mut usize) {
    let got = store.try_get(None, batch).expect("get");
    if let Some(r) = &got.range {
        if let Some(end) = &r.end {
            store.ack(end, r.end_seq).expect("ack");
        }
    }
    *read += black_box(got.events).len();
}

fn bench(c: &mut Criterion) {
    let evs = events();
    let bytes: usize = evs
        .iter()
        .map(|e| e.entry.as_ref().map_or(0, |b| b.len()))
        .sum();
    let mut g = c.benchmark_group("store_put_get_ack");
    g.throughput(Throughput::Elements(EVENTS as u64));
    // (mode, batch_size): ITEMSIZE 64 events; MEMSIZE 64 x 1 KiB.
    for (mode, batch) in [(BatchMode::ItemSize, 64), (BatchMode::MemSize, 64)] {
        let store = EventStore::new(StoreConfig {
            buffer_size: 1024,
            batch_mode: mode,
            ..StoreConfig::default()
        })
        .expect("store");
        g.bench_with_input(
            BenchmarkId::new(mode.to_string(), batch),
            &batch,
            |b, &batch| b.iter(|| assert_eq!(cycle(&store, &evs, batch), EVENTS)),
        );
    }
    g.finish();
    eprintln!("store bench: {EVENTS} events, {bytes} bytes of entries per iteration");
}

criterion_group!(benches, bench);
criterion_main!(benches);
