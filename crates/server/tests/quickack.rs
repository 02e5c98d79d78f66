//! Round-trip cost for an unchanged Java client (measurement, `#[ignore]`d: run with
//! `cargo test -p canal-server --test quickack -- --ignored --nocapture`).
//!
//! The Java connector (and canal-python) write a frame's 4-byte header and its body as two
//! separate writes with Nagle on: the body waits until the header is acknowledged. A server that
//! delays its ACK (Linux: ≥ 40 ms) then costs ~40 ms per request. This emulates that client with a
//! blocking std `TcpStream` (Nagle on, header then body), runs 200 GET/CLIENTACK cycles against our
//! server with TCP_QUICKACK re-arming on and off, prints the mean round trip and the kernel's
//! `TcpExt DelayedACKs` counter delta (delayed-ACK timer expiries, system-wide) for each run.
//! No timed assertion: the numbers go into the report.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use canal_protocol::canal::{ClientAck, ClientAuth, Get, Messages, Packet, Sub};
use canal_protocol::packet;
use canal_server::ServerConfig;
use common::MemService;
use prost::Message;

fn delayed_acks() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if !names.starts_with("TcpExt:") {
            continue;
        }
        let idx = names.split_whitespace().position(|n| n == "DelayedACKs")?;
        return values.split_whitespace().nth(idx)?.parse().ok();
    }
    None
}

/// Java-style write: header, then body, as two writes.
fn java_send(s: &mut TcpStream, payload: &[u8]) {
    s.write_all(&(payload.len() as u32).to_be_bytes())
        .expect("header");
    s.write_all(payload).expect("body");
}

fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).expect("header");
    let mut b = vec![0u8; u32::from_be_bytes(h) as usize];
    s.read_exact(&mut b).expect("body");
    b
}

/// Entries per second through a Java-style client at Canal's default fetch size (1000 = ~1000 KiB
/// per MEMSIZE batch), entries of 190 bytes (a typical small ROWDATA entry in the golden corpus).
fn throughput(quickack: bool, entries: usize) -> f64 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let svc = MemService::new(&["example"]);
    svc.put(
        "example",
        (0..entries).map(|i| Bytes::from(vec![(i % 251) as u8; 190])),
    );
    let srv = rt.block_on(common::start(
        svc,
        ServerConfig {
            tcp_quickack: quickack,
            ..ServerConfig::default()
        },
    ));
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    read_frame(&mut s);
    java_send(&mut s, &packet::client_auth(&ClientAuth::default()));
    read_frame(&mut s);
    java_send(
        &mut s,
        &packet::subscription(&Sub {
            destination: "example".into(),
            client_id: "1001".into(),
            filter: String::new(),
        }),
    );
    read_frame(&mut s);
    let get = packet::get(&Get {
        destination: "example".into(),
        client_id: "1001".into(),
        fetch_size: 1000,
        timeout: Some(-1),
        unit: Some(2),
        auto_ack: Some(false),
    });
    let t = Instant::now();
    let mut got = 0usize;
    while got < entries {
        java_send(&mut s, &get);
        let reply = read_frame(&mut s);
        let p = Packet::decode(&reply[..]).expect("packet");
        let m = Messages::decode(&p.body[..]).expect("messages");
        got += m.messages.len();
        java_send(
            &mut s,
            &packet::client_ack(&ClientAck {
                destination: "example".into(),
                client_id: "1001".into(),
                batch_id: m.batch_id,
            }),
        );
    }
    let rate = got as f64 / t.elapsed().as_secs_f64();
    drop(s);
    rt.block_on(srv.shutdown());
    rate
}

fn run(quickack: bool, cycles: usize) -> (Duration, Option<u64>) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let svc = MemService::new(&["example"]);
    // One 1500-byte entry per cycle; fetch_size 1 (1 KiB) takes exactly one per GET.
    svc.put(
        "example",
        (0..cycles).map(|i| Bytes::from(vec![(i % 251) as u8; 1500])),
    );
    let srv = rt.block_on(common::start(
        svc,
        ServerConfig {
            tcp_quickack: quickack,
            ..ServerConfig::default()
        },
    ));
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.set_nodelay(false).expect("nagle on");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    read_frame(&mut s); // handshake
    java_send(&mut s, &packet::client_auth(&ClientAuth::default()));
    read_frame(&mut s);
    java_send(
        &mut s,
        &packet::subscription(&Sub {
            destination: "example".into(),
            client_id: "1001".into(),
            filter: String::new(),
        }),
    );
    read_frame(&mut s);
    let get = packet::get(&Get {
        destination: "example".into(),
        client_id: "1001".into(),
        fetch_size: 1,
        timeout: Some(-1),
        unit: Some(2),
        auto_ack: Some(false),
    });
    let before = delayed_acks();
    let t = Instant::now();
    for _ in 0..cycles {
        java_send(&mut s, &get);
        let reply = read_frame(&mut s);
        let p = Packet::decode(&reply[..]).expect("packet");
        let id = Messages::decode(&p.body[..]).expect("messages").batch_id;
        assert!(id > 0, "expected data");
        java_send(
            &mut s,
            &packet::client_ack(&ClientAck {
                destination: "example".into(),
                client_id: "1001".into(),
                batch_id: id,
            }),
        );
    }
    let took = t.elapsed();
    let delta = match (before, delayed_acks()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    drop(s);
    rt.block_on(srv.shutdown());
    (took / cycles as u32, delta)
}

#[test]
#[ignore]
fn java_split_writes_round_trip_with_and_without_quickack() {
    let cycles = 200;
    for quickack in [false, true] {
        let (per_cycle, delayed) = run(quickack, cycles);
        println!(
            "TCP_QUICKACK {}: {cycles} GET+CLIENTACK cycles, mean {:.2} ms per cycle, TcpExt DelayedACKs +{}",
            if quickack { "on " } else { "off" },
            per_cycle.as_secs_f64() * 1000.0,
            delayed.map_or("n/a".to_string(), |d| d.to_string()),
        );
    }
}

#[test]
#[ignore]
fn java_split_writes_throughput_at_default_batch() {
    for quickack in [false, true] {
        let rate = throughput(quickack, 200_000);
        println!(
            "TCP_QUICKACK {}: {:.0} entries/s (190-byte entries, fetch_size 1000, Java-style client)",
            if quickack { "on " } else { "off" },
            rate
        );
    }
}
