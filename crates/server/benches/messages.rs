//! The server's MESSAGES path (issue 8).
//!
//! * `messages_frame_1000_rowdata`: building the zero-copy MESSAGES frame (chunk list) of a
//!   1000-entry batch, raw mode, as the session does before its vectored write;
//! * `loopback_get_ack_1000_rowdata`: the whole path on 127.0.0.1: 1000 realistic ROWDATA entries (~0.8 KB
//!   put into a destination's store, then [`canal_client::CanalClient`] GETs them from a real
//!   [`canal_server::Server`] over [`canal_server::embedded::Embedded`] (store + memory meta)
//!   and ACKs the batch. Throughput is in entries.
//!
//! Run briefly: `cargo bench -p canal-server --bench messages -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use canal_client::{CanalClient, ClientConfig};
use canal_meta::MemoryMetaManager;
use canal_protocol::position::{LogIdentity, SourceAddress};
use canal_server::embedded::{Destination, Embedded};
use canal_server::{wire, Server, ServerConfig};
use canal_store::{Event, EventStore, StoreConfig};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const N: usize = 1000;

#[path = "../../store/benches/sample_entry.rs"]
mod sample_entry;
use sample_entry::entry;

fn bench(c: &mut Criterion) {
    let id = Arc::new(LogIdentity {
        source_address: Some(SourceAddress {
            address: Some("127.0.0.1".into()),
            port: 3306,
        }),
        slave_id: -1,
    });
    let events: Vec<Event> = (0..N)
        .map(|i| Event::from_entry(id.clone(), &entry(i), true))
        .collect();
    let raw: Vec<Bytes> = events.iter().filter_map(|e| e.entry.clone()).collect();
    let bytes: usize = raw.iter().map(Bytes::len).sum();

    let mut g = c.benchmark_group("server_messages");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("messages_frame_1000_rowdata", |b| {
        b.iter(|| {
            let (chunks, len) = wire::messages_frame(black_box(7), &raw, true).expect("frame");
            black_box((chunks.len(), len))
        })
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(EventStore::new(StoreConfig::default()).expect("store"));
    let embedded = Arc::new(Embedded::new());
    embedded.register(Destination::new(
        "example",
        store.clone(),
        Arc::new(MemoryMetaManager::new()),
    ));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, task) = rt.block_on(async {
        let server = Server::bind(
            ServerConfig {
                bind: "127.0.0.1:0".parse().expect("addr"),
                ..ServerConfig::default()
            },
            embedded,
        )
        .await
        .expect("bind");
        let addr = server.local_addr().expect("local addr");
        let task = tokio::spawn(server.run(async {
            let _ = stop_rx.await;
        }));
        (addr, task)
    });
    let mut client = rt.block_on(async {
        let mut c = CanalClient::connect(addr, ClientConfig::default())
            .await
            .expect("connect");
        c.subscribe("").await.expect("subscribe");
        c
    });
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("loopback_get_ack_1000_rowdata", |b| {
        b.iter(|| {
            store.put_blocking(events.clone()).expect("put");
            rt.block_on(async {
                let mut got = 0;
                while got < N {
                    let m = client.get_without_ack(N as i32, None).await.expect("get");
                    got += m.entries.len();
                    if m.id > 0 {
                        client.ack(m.id).await.expect("ack");
                    }
                }
                black_box(got)
            })
        })
    });
    g.finish();
    let _ = stop_tx.send(());
    let _ = rt.block_on(task);
}

criterion_group!(benches, bench);
criterion_main!(benches);
