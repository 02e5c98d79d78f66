//! RSS measurement: a MEMSIZE store (default 16384 slots × 1024 B = 16 MiB) fed by a producer that
//! wants to push 64 MiB while nobody consumes. The producer must stall and the process RSS must
//! stay within the configured size plus a small constant. Alone in its own test binary so other
//! tests do not disturb the numbers. Run with `--nocapture` to see them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use canal_protocol::entry::{EntryType, EventType};
use canal_protocol::position::LogIdentity;
use canal_store::{BatchMode, Event, EventStore, StoreConfig};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ev(identity: &Arc<LogIdentity>, i: i64, size: usize) -> Event {
    // distinct bytes so that no page is shared or left untouched
    let payload: Vec<u8> = (0..size).map(|k| (k as i64 + i) as u8).collect();
    Event {
        identity: identity.clone(),
        entry: Some(Bytes::from(payload)),
        execute_time: 1_700_000_000_000 + i,
        entry_type: EntryType::Rowdata,
        journal_name: Arc::from("mysql-bin.000001"),
        position: i,
        server_id: 1,
        event_type: EventType::Insert,
        gtid: Arc::from(""),
        raw_length: size as i64,
        rows_count: 1,
    }
}

#[test]
fn memsize_store_bounds_rss_with_stalled_consumer() {
    let Some(base0) = rss_kib() else {
        eprintln!("note: /proc/self/status not readable, RSS test skipped");
        return;
    };
    const EVENT: usize = 2000;
    const CHUNK: usize = 16;
    const TOTAL_BYTES: usize = 64 << 20;
    let cfg = StoreConfig {
        buffer_size: 16384,
        mem_unit: 1024,
        batch_mode: BatchMode::MemSize,
        ddl_isolation: false,
        raw: true,
    };
    let store = Arc::new(EventStore::new(cfg).unwrap());
    let limit = store.mem_limit();
    let base = rss_kib().unwrap_or(base0);
    let identity = Arc::new(LogIdentity {
        source_address: None,
        slave_id: -1,
    });
    let total_events = (TOTAL_BYTES / EVENT) as i64;
    let producer = {
        let (store, identity) = (store.clone(), identity.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while i < total_events {
                let n = (CHUNK as i64).min(total_events - i);
                let chunk = (i..i + n).map(|k| ev(&identity, k, EVENT)).collect();
                store.put_blocking(chunk).unwrap();
                i += n;
            }
        })
    };
    // wait until the producer stalls (no progress for 300 ms)
    let mut last = -2;
    let mut still_since = Instant::now();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let p = store.stats().put_seq;
        if p != last {
            last = p;
            still_since = Instant::now();
        } else if still_since.elapsed() > Duration::from_millis(300) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "producer never stalled"
        );
    }
    let stats = store.stats();
    let stalled = rss_kib().unwrap_or(0);
    let delta_kib = stalled.saturating_sub(base) as i64;
    eprintln!(
        "RSS: before {base} KiB, stalled {stalled} KiB (+{delta_kib} KiB); store holds {} events, {} bytes (limit {limit} B); producer wanted {} bytes",
        stats.put_seq + 1,
        stats.put_mem,
        TOTAL_BYTES
    );
    assert!(stats.put_seq + 1 < total_events, "producer was not blocked");
    // Canal's admission rule: outstanding < limit before each put -> at most limit + one chunk
    assert!(stats.put_mem >= limit && stats.put_mem < limit + (CHUNK * EVENT) as i64);
    // RSS: payload + per-event metadata + allocator slack, within limit + 8 MiB
    assert!(
        delta_kib * 1024 < limit + (8 << 20),
        "RSS grew by {delta_kib} KiB for a {limit} B store"
    );

    // drain: the producer resumes and finishes; acked memory is released
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut got = 0i64;
    rt.block_on(async {
        while got < total_events {
            let b = store
                .get_timeout(None, 1000, Duration::from_millis(100))
                .await
                .unwrap();
            if let Some(r) = b.range {
                got += b.events.len() as i64;
                drop(b.events);
                store.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
            }
        }
    });
    producer.join().unwrap();
    let after = rss_kib().unwrap_or(0);
    eprintln!("RSS after draining {TOTAL_BYTES} bytes through the store: {after} KiB");
    assert!((after.saturating_sub(base) as i64) * 1024 < limit + (8 << 20));
}
