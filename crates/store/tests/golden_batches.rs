//! Batch boundaries recorded from the real Java Canal server (golden/wire/noauth-session.frames,
//! MEMSIZE, memunit 1024, raw mode): the entries of the recorded MESSAGES replies are put back
//! into a store and read with the same fetch sizes; the batches must come out identical, byte for
//! byte.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use canal_protocol::canal::{Messages, Packet};
use canal_protocol::position::LogIdentity;
use canal_store::{BatchMode, Event, EventStore, StoreConfig};
use prost::Message;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.join("golden/wire/noauth-session.frames").exists() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!("golden corpus missing at {} (CI set)", dir.display());
    } else {
        eprintln!("note: {} has no golden corpus, test skipped", dir.display());
        None
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// MESSAGES batches (entry lists) the server sent during step `step`.
fn batches_of_step(text: &str, step: u32) -> Vec<Vec<Bytes>> {
    let header = format!("== {step} ");
    let mut in_step = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("== ") {
            in_step = line.starts_with(&header);
            continue;
        }
        let mut cols = line.split('\t');
        if !in_step || cols.next() != Some("S>C") {
            continue;
        }
        let Some(hex) = cols.next() else { continue };
        if hex == "-" {
            continue;
        }
        let frame = unhex(hex);
        let p = Packet::decode(&frame[4..]).unwrap();
        if p.r#type == 7 {
            let m = Messages::decode(p.body).unwrap();
            if !m.messages.is_empty() {
                out.push(m.messages);
            }
        }
    }
    out
}

fn store() -> EventStore {
    EventStore::new(StoreConfig {
        buffer_size: 16384,
        mem_unit: 1024,
        batch_mode: BatchMode::MemSize,
        ddl_isolation: false,
        raw: true,
    })
    .unwrap()
}

fn events(entries: &[Bytes]) -> Vec<Event> {
    let id = Arc::new(LogIdentity {
        source_address: None,
        slave_id: -1,
    });
    entries
        .iter()
        .map(|b| Event::from_bytes(id.clone(), b.clone(), true).unwrap())
        .collect()
}

fn bytes_of(e: &canal_store::Events) -> Vec<Bytes> {
    e.events.iter().map(|e| e.entry.clone().unwrap()).collect()
}

/// Step 14: after rollback(0) two GETs with fetch_size 1 returned 8 entries then 1.
#[test]
fn golden_step14_memsize_fetch_one() {
    let Some(dir) = shared_dir() else { return };
    let text = std::fs::read_to_string(dir.join("golden/wire/noauth-session.frames")).unwrap();
    let golden = batches_of_step(&text, 14);
    assert_eq!(golden.iter().map(Vec::len).collect::<Vec<_>>(), vec![8, 1]);
    let all: Vec<Bytes> = golden.concat();
    let s = store();
    // as the sink stored them: one chunk per MariaDB transaction (3 entries)
    for chunk in all.chunks(3) {
        let mut v = events(chunk);
        assert!(s.try_put(&mut v).unwrap());
    }
    let b1 = s.try_get(None, 1).unwrap();
    let b2 = s.try_get(None, 1).unwrap();
    assert_eq!(bytes_of(&b1), golden[0]);
    assert_eq!(bytes_of(&b2), golden[1]);
    assert!(s.try_get(None, 1).unwrap().is_empty());
}

/// Steps 28–32: a GET without timeout and fetch_size 1 blocked until 4 transactions had been
/// written, then returned 10 entries; the remaining 2 came with the next GET.
#[tokio::test]
async fn golden_step29_blocking_full_batch() {
    let Some(dir) = shared_dir() else { return };
    let text = std::fs::read_to_string(dir.join("golden/wire/noauth-session.frames")).unwrap();
    let first = batches_of_step(&text, 29);
    let rest = batches_of_step(&text, 32);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].len(), 10);
    assert_eq!(rest.len(), 1);
    let all: Vec<Bytes> = [first[0].clone(), rest[0].clone()].concat();
    assert_eq!(all.len(), 12);
    let s = Arc::new(store());
    let getter = {
        let s = s.clone();
        tokio::spawn(async move { s.get(None, 1).await })
    };
    for (i, chunk) in all.chunks(3).enumerate() {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        assert!(!getter.is_finished(), "completed after {i} transactions");
        s.put(events(chunk)).await.unwrap();
    }
    let b = tokio::time::timeout(std::time::Duration::from_secs(5), getter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(bytes_of(&b), first[0]);
    assert_eq!(bytes_of(&s.try_get(None, 1).unwrap()), rest[0]);
}
