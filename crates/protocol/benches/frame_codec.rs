//! Frame codec throughput (issue 8): the 4-byte length framing and the packets around it.
//!
//! * `messages_raw_encode`: a raw-mode MESSAGES packet of 1000 stored entries (~0.7 KB each,
//!   the server's hot path) built and framed into a reused output buffer;
//! * `frames_decode_get`: 1000 framed GET requests split off a read buffer and parsed;
//! * `messages_decode`: the client side, one 0.7 MB MESSAGES frame decoded to `Messages`.
//!
//! Run briefly: `cargo bench -p canal-protocol --bench frame_codec -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use canal_protocol::canal::{Get, Messages};
use canal_protocol::codec::FrameCodec;
use canal_protocol::packet;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use tokio_util::codec::{Decoder, Encoder};

fn entries(n: usize, size: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| {
            Bytes::from(
                (0..size)
                    .map(|j| ((i * 31 + j) % 251) as u8)
                    .collect::<Vec<u8>>(),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let ents = entries(1000, 700);
    let total: usize = ents.iter().map(Bytes::len).sum();
    let mut codec = FrameCodec::default();

    let mut g = c.benchmark_group("frame_codec");
    g.throughput(Throughput::Bytes(total as u64));
    let mut out = BytesMut::with_capacity(total + 64 * 1024);
    g.bench_function("messages_raw_encode_1000x700B", |b| {
        b.iter(|| {
            out.clear();
            let pkt = packet::messages_raw(black_box(42), &ents);
            codec.encode(pkt, &mut out).expect("encode");
            black_box(out.len())
        })
    });

    let get = packet::get(&Get {
        destination: "example".into(),
        client_id: "1001".into(),
        fetch_size: 1000,
        timeout: Some(-1),
        unit: Some(2),
        auto_ack: Some(false),
    });
    let mut wire = BytesMut::new();
    for _ in 0..1000 {
        codec.encode(&get, &mut wire).expect("encode");
    }
    let wire = wire.freeze();
    g.throughput(Throughput::Bytes(wire.len() as u64));
    g.bench_function("frames_decode_get_x1000", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&wire[..]);
            let mut n = 0;
            while let Some(f) = codec.decode(&mut buf).expect("decode") {
                let p = packet::parse_packet(&f).expect("packet");
                n += black_box(p.body.len());
            }
            n
        })
    });

    let mut big = BytesMut::new();
    codec
        .encode(packet::messages_raw(42, &ents), &mut big)
        .expect("encode");
    let big = big.freeze();
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("messages_decode_1000x700B", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&big[..]);
            let f = codec.decode(&mut buf).expect("decode").expect("frame");
            let p = packet::parse_packet(&f).expect("packet");
            let m = Messages::decode(p.body).expect("messages");
            assert_eq!(m.messages.len(), 1000);
            black_box(m.batch_id)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
