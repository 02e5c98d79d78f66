//! Unit tests: every rule below is taken from wire-protocol.md §3.3 / the golden wire README, not
//! from this implementation's output.

use super::*;
use canal_protocol::entry::{Header, Pair};
use canal_protocol::position::SourceAddress;
use std::sync::atomic::{AtomicBool, Ordering};

fn identity() -> Arc<LogIdentity> {
    Arc::new(LogIdentity {
        source_address: Some(SourceAddress {
            address: Some("127.0.0.1".into()),
            port: 3306,
        }),
        slave_id: -1,
    })
}

/// An event of `size` bytes at binlog offset `offset` (ROWDATA INSERT unless changed).
fn ev(offset: i64, size: usize) -> Event {
    Event {
        identity: identity(),
        entry: Some(Bytes::from(vec![0u8; size])),
        execute_time: 1_700_000_000_000 + offset,
        entry_type: EntryType::Rowdata,
        journal_name: Arc::from("mysql-bin.000001"),
        position: offset,
        server_id: 1,
        event_type: EventType::Insert,
        gtid: Arc::from(""),
        raw_length: size as i64,
        rows_count: 1,
    }
}

fn typed(offset: i64, et: EntryType, evt: EventType) -> Event {
    Event {
        entry_type: et,
        event_type: evt,
        ..ev(offset, 10)
    }
}

fn store(mode: BatchMode, buffer_size: usize, mem_unit: i32) -> EventStore {
    EventStore::new(StoreConfig {
        buffer_size,
        mem_unit,
        batch_mode: mode,
        ddl_isolation: false,
        raw: true,
    })
    .unwrap()
}

fn put_all(s: &EventStore, events: Vec<Event>) {
    let mut v = events;
    assert!(s.try_put(&mut v).unwrap(), "store unexpectedly full");
}

fn offsets(e: &Events) -> Vec<i64> {
    e.events.iter().map(|e| e.position).collect()
}

#[test]
fn buffer_size_must_be_power_of_two() {
    let err = EventStore::new(StoreConfig {
        buffer_size: 1000,
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "bufferSize must be a power of 2");
    assert_eq!(err.java_class(), "java.lang.IllegalArgumentException");
    assert!(EventStore::new(StoreConfig::default()).is_ok());
    assert_eq!(
        "ITEMSIZE".parse::<BatchMode>().unwrap(),
        BatchMode::ItemSize
    );
    assert!("memsize".parse::<BatchMode>().is_err());
}

#[test]
fn itemsize_batches_count_events() {
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(&s, (0..10).map(|i| ev(i, 5000)).collect());
    let b = s.try_get(None, 3).unwrap();
    assert_eq!(offsets(&b), vec![0, 1, 2]);
    assert_eq!(b.range.as_ref().unwrap().end_seq, 2);
    let b = s.try_get(None, 3).unwrap();
    assert_eq!(offsets(&b), vec![3, 4, 5]);
    let b = s.try_get(None, 100).unwrap();
    assert_eq!(offsets(&b), vec![6, 7, 8, 9]);
    assert_eq!(b.range.as_ref().unwrap().end_seq, 9);
    assert!(s.try_get(None, 100).unwrap().is_empty());
}

/// Golden wire README #32 / noauth-session step 14: MEMSIZE, fetch_size 1, memunit 1024: the
/// first batch is the 8 entries up to and including the one crossing 1 KiB (1,083 bytes of
/// entries), the second batch the remaining entry.
#[test]
fn memsize_golden_overshoot_by_one() {
    let sizes = [96usize, 190, 57, 96, 302, 57, 95, 190, 57];
    let s = store(BatchMode::MemSize, 16384, 1024);
    put_all(
        &s,
        sizes
            .iter()
            .enumerate()
            .map(|(i, n)| ev(i as i64, *n))
            .collect(),
    );
    let b1 = s.try_get(None, 1).unwrap();
    assert_eq!(b1.events.len(), 8);
    assert_eq!(b1.events.iter().map(|e| e.raw_length).sum::<i64>(), 1083);
    let b2 = s.try_get(None, 1).unwrap();
    assert_eq!(b2.events.len(), 1);
    assert_eq!(b2.events[0].raw_length, 57);
}

/// Golden steps 28/29: a GET without timeout (block until full) with fetch_size 1 completes only
/// once >= 1 KiB of unread entries exists; 3 MariaDB transactions (90+187+57 bytes each = 1,002)
/// are not enough, the 4th makes it; the batch holds 10 entries (1,002 + 90 crosses 1 KiB).
#[tokio::test]
async fn memsize_blocking_get_golden() {
    let s = Arc::new(store(BatchMode::MemSize, 16384, 1024));
    let tx = |base: i64| vec![ev(base, 90), ev(base + 1, 187), ev(base + 2, 57)];
    let getter = {
        let s = s.clone();
        tokio::spawn(async move { s.get(None, 1).await })
    };
    for t in 0..3 {
        put_all(&s, tx(t * 10));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !getter.is_finished(),
        "1002 bytes must not satisfy a 1 KiB batch"
    );
    put_all(&s, tx(30));
    let b = tokio::time::timeout(Duration::from_secs(5), getter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(b.events.len(), 10);
    assert_eq!(b.events.iter().map(|e| e.raw_length).sum::<i64>(), 1092);
}

/// fetch_size <= 0 (wire-protocol.md §2.7): MEMSIZE 0 gives exactly one event, ITEMSIZE with
/// data fails like Java's IndexOutOfBounds; a negative MEMSIZE limit too.
#[test]
fn non_positive_batch_sizes() {
    let s = store(BatchMode::MemSize, 16, 1024);
    put_all(&s, (0..3).map(|i| ev(i, 10)).collect());
    assert_eq!(s.try_get(None, 0).unwrap().events.len(), 1);
    assert_eq!(s.try_get(None, -1), Err(StoreError::EmptySelection));

    let s = store(BatchMode::ItemSize, 16, 1024);
    assert!(s.try_get(None, 0).unwrap().is_empty());
    put_all(&s, (0..3).map(|i| ev(i, 10)).collect());
    let err = s.try_get(None, 0).unwrap_err();
    assert_eq!(err, StoreError::EmptySelection);
    assert_eq!(err.java_class(), "java.lang.IndexOutOfBoundsException");
    // the failed read did not move the cursor
    assert_eq!(s.try_get(None, 10).unwrap().events.len(), 3);
}

#[test]
fn ddl_isolation_both_modes() {
    for mode in [BatchMode::ItemSize, BatchMode::MemSize] {
        let s = EventStore::new(StoreConfig {
            buffer_size: 16,
            mem_unit: 1024,
            batch_mode: mode,
            ddl_isolation: true,
            raw: true,
        })
        .unwrap();
        put_all(
            &s,
            vec![
                ev(0, 10),
                ev(1, 10),
                typed(2, EntryType::Rowdata, EventType::Alter),
                typed(3, EntryType::Rowdata, EventType::Truncate),
                ev(4, 10),
            ],
        );
        assert_eq!(
            offsets(&s.try_get(None, 100).unwrap()),
            vec![0, 1],
            "{mode}"
        );
        let ddl = s.try_get(None, 100).unwrap();
        assert_eq!(offsets(&ddl), vec![2], "{mode}");
        assert_eq!(ddl.range.unwrap().end_seq, 2);
        assert_eq!(offsets(&s.try_get(None, 100).unwrap()), vec![3], "{mode}");
        assert_eq!(offsets(&s.try_get(None, 100).unwrap()), vec![4], "{mode}");
    }
    // without isolation DDL rides along
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(
        &s,
        vec![
            ev(0, 10),
            typed(1, EntryType::Rowdata, EventType::Create),
            ev(2, 10),
        ],
    );
    assert_eq!(offsets(&s.try_get(None, 100).unwrap()), vec![0, 1, 2]);
}

/// §3.2: ack = last event that is a TRANSACTIONEND, a TRANSACTIONBEGIN with empty GTID or a DDL.
#[test]
fn range_ack_point_rules() {
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(
        &s,
        vec![
            typed(0, EntryType::Transactionbegin, EventType::Update),
            ev(1, 10),
            typed(2, EntryType::Transactionend, EventType::Update),
            typed(3, EntryType::Transactionbegin, EventType::Update),
            ev(4, 10),
        ],
    );
    let b = s.try_get(None, 5).unwrap();
    let r = b.range.unwrap();
    assert_eq!(r.start.unwrap().postion.position, Some(0));
    assert_eq!(r.end.as_ref().unwrap().postion.position, Some(4));
    assert_eq!(r.ack.unwrap().postion.position, Some(3));
    assert_eq!(r.end_seq, 4);

    // with a GTID the BEGIN is not an ack point
    let s = store(BatchMode::ItemSize, 16, 1024);
    let mut begin = typed(3, EntryType::Transactionbegin, EventType::Update);
    begin.gtid = Arc::from("0-1-5");
    put_all(
        &s,
        vec![
            typed(2, EntryType::Transactionend, EventType::Update),
            begin,
            ev(4, 10),
        ],
    );
    let r = s.try_get(None, 5).unwrap().range.unwrap();
    assert_eq!(r.ack.unwrap().postion.position, Some(2));

    // DDL is an ack point; plain rows are not
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(
        &s,
        vec![
            ev(0, 10),
            typed(1, EntryType::Rowdata, EventType::Erase),
            ev(2, 10),
        ],
    );
    let r = s.try_get(None, 5).unwrap().range.unwrap();
    assert_eq!(r.ack.unwrap().postion.position, Some(1));
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(&s, vec![ev(0, 10), ev(1, 10)]);
    assert!(s.try_get(None, 5).unwrap().range.unwrap().ack.is_none());
}

#[test]
fn ack_checks_position_and_releases() {
    let s = store(BatchMode::MemSize, 16, 1024);
    put_all(&s, (0..4).map(|i| ev(i, 100)).collect());
    let b = s.try_get(None, 0).unwrap(); // one event
    let r = b.range.unwrap();
    // wrong position: different timestamp
    let mut wrong = r.end.clone().unwrap();
    wrong.postion.timestamp = Some(1);
    let err = s.ack(&wrong, r.end_seq).unwrap_err();
    assert!(err.to_string().starts_with("no match ack position"));
    assert_eq!(err.java_class(), CANAL_STORE_EXCEPTION);
    // wrong offset, same timestamp
    let mut wrong = r.end.clone().unwrap();
    wrong.postion.position = Some(99);
    assert!(s.ack(&wrong, r.end_seq).is_err());
    // a position with neither journal nor offset only needs the timestamp
    let mut loose = r.end.clone().unwrap();
    loose.postion.journal_name = None;
    loose.postion.position = None;
    assert!(ev(0, 1).matches_position(&loose));

    let b2 = s.try_get(None, 1).unwrap(); // the other three
    assert_eq!(b2.events.len(), 3);
    let r2 = b2.range.unwrap();
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    let st = s.stats();
    assert_eq!((st.ack_seq, st.ack_mem), (0, 100));
    s.ack(r2.end.as_ref().unwrap(), r2.end_seq).unwrap();
    let st = s.stats();
    assert_eq!(
        (st.ack_seq, st.ack_mem, st.get_seq, st.put_seq),
        (3, 400, 3, 3)
    );
    // acked payload is gone, the last acked event keeps its metadata
    let inner = s.inner.lock();
    assert!(inner.ring[0].as_ref().unwrap().entry.is_none());
    assert!(inner.ring[1].is_none() && inner.ring[2].is_none());
    let last = inner.ring[3].as_ref().unwrap();
    assert!(last.entry.is_none());
    assert_eq!(last.position, 3);
}

#[test]
fn rollback_rewinds_to_ack() {
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(&s, (0..6).map(|i| ev(i, 10)).collect());
    let b1 = s.try_get(None, 2).unwrap();
    let _b2 = s.try_get(None, 2).unwrap();
    let r1 = b1.range.unwrap();
    s.ack(r1.end.as_ref().unwrap(), r1.end_seq).unwrap();
    s.rollback();
    assert_eq!(offsets(&s.try_get(None, 10).unwrap()), vec![2, 3, 4, 5]);
    s.rollback();
    assert_eq!(s.stats().get_seq, 1);
}

/// Java getFirstPosition: nothing put -> None; nothing acked -> first event; otherwise the last
/// acked event; always included=false.
#[test]
fn first_position_rules() {
    let s = store(BatchMode::ItemSize, 16, 1024);
    assert!(s.first_position().is_none());
    assert!(s.latest_position().is_none());
    put_all(&s, (10..14).map(|i| ev(i, 10)).collect());
    let p = s.first_position().unwrap();
    assert_eq!(p.postion.position, Some(10));
    assert!(!p.postion.included);
    assert_eq!(p.postion.gtid.as_deref(), Some(""));
    assert_eq!(p.identity.slave_id, -1);
    let l = s.latest_position().unwrap();
    assert_eq!((l.postion.position, l.postion.included), (Some(13), true));
    let r = s.try_get(None, 2).unwrap().range.unwrap();
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    assert_eq!(s.first_position().unwrap().postion.position, Some(11));
    let r = s.try_get(None, 2).unwrap().range.unwrap();
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    assert_eq!(s.first_position().unwrap().postion.position, Some(13));
    assert!(!s.latest_position().unwrap().postion.included);
}

#[test]
fn included_start_rereads_current() {
    let s = store(BatchMode::ItemSize, 16, 1024);
    put_all(&s, (0..3).map(|i| ev(i, 10)).collect());
    assert_eq!(offsets(&s.try_get(None, 1).unwrap()), vec![0]);
    let mut inc = ev(0, 1).log_position(true);
    inc.postion.included = true;
    // start flagged included: reading starts at get_seq itself
    assert_eq!(offsets(&s.try_get(Some(&inc), 2).unwrap()), vec![0, 1]);
}

#[test]
fn itemsize_backpressure_slots() {
    let s = store(BatchMode::ItemSize, 4, 1024);
    put_all(&s, (0..4).map(|i| ev(i, 1_000_000)).collect());
    let mut more = vec![ev(4, 1)];
    assert!(!s.try_put(&mut more).unwrap());
    assert_eq!(more.len(), 1, "a refused put keeps the events");
    // reading does not free slots: min(get, ack) governs
    let r = s.try_get(None, 2).unwrap().range.unwrap();
    assert!(!s.try_put(&mut more).unwrap());
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    assert!(s.try_put(&mut more).unwrap());
    assert!(more.is_empty());
    let mut big = (0..5).map(|i| ev(i, 1)).collect();
    assert_eq!(s.try_put(&mut big), Err(StoreError::TooLarge(5, 4)));
}

/// MEMSIZE put admission: allowed while put_bytes - ack_bytes < buffer.size * memunit (checked
/// before adding, so one put may overshoot).
#[test]
fn memsize_backpressure_bytes() {
    let s = store(BatchMode::MemSize, 16, 10); // 160 bytes
    put_all(&s, vec![ev(0, 100)]);
    put_all(&s, vec![ev(1, 100), ev(2, 100)]); // 100 < 160: admitted, now 300
    let mut v = vec![ev(3, 1)];
    assert!(!s.try_put(&mut v).unwrap());
    // reading alone does not free bytes, acking does
    let r = s.try_get(None, 100).unwrap().range.unwrap();
    assert!(!s.try_put(&mut v).unwrap());
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    assert!(s.try_put(&mut v).unwrap());
}

#[test]
fn blocking_put_waits_for_ack() {
    let s = Arc::new(store(BatchMode::MemSize, 16, 10));
    put_all(&s, vec![ev(0, 200)]);
    let done = Arc::new(AtomicBool::new(false));
    let h = {
        let (s, done) = (s.clone(), done.clone());
        std::thread::spawn(move || {
            s.put_blocking(vec![ev(1, 10)]).unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    std::thread::sleep(Duration::from_millis(150));
    assert!(
        !done.load(Ordering::SeqCst),
        "producer must block while full"
    );
    let r = s.try_get(None, 100).unwrap().range.unwrap();
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    h.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(s.stats().put_seq, 1);
    // timed variant gives up
    put_all(&s, vec![ev(2, 500)]);
    assert!(!s
        .put_blocking_timeout(vec![ev(3, 1)], Some(Duration::from_millis(50)))
        .unwrap());
}

#[tokio::test]
async fn async_put_and_timed_get() {
    let s = Arc::new(store(BatchMode::ItemSize, 2, 1024));
    s.put(vec![ev(0, 1), ev(1, 1)]).await.unwrap();
    let p = {
        let s = s.clone();
        tokio::spawn(async move { s.put(vec![ev(2, 1)]).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!p.is_finished());
    // timed get returns what exists after the timeout when no full batch forms
    let t0 = tokio::time::Instant::now();
    let b = s
        .get_timeout(None, 5, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(100));
    assert_eq!(offsets(&b), vec![0, 1]);
    let r = b.range.unwrap();
    s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    tokio::time::timeout(Duration::from_secs(5), p)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // a full batch returns at once
    let b = s
        .get_timeout(None, 1, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(offsets(&b), vec![2]);
}

#[tokio::test]
async fn stop_wakes_waiters() {
    let s = Arc::new(store(BatchMode::ItemSize, 2, 1024));
    let g = {
        let s = s.clone();
        tokio::spawn(async move { s.get(None, 1).await })
    };
    s.put(vec![ev(0, 1), ev(1, 1)]).await.unwrap();
    let first = g.await.unwrap().unwrap();
    assert_eq!(first.events.len(), 1);
    let p = {
        let s = s.clone();
        std::thread::spawn(move || s.put_blocking(vec![ev(2, 1)]))
    };
    let g = {
        let s = s.clone();
        tokio::spawn(async move { s.get(None, 5).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.stop();
    assert_eq!(p.join().unwrap(), Err(StoreError::Stopped));
    assert_eq!(g.await.unwrap(), Err(StoreError::Stopped));
}

/// One producer thread (blocking puts, random chunk sizes) and one async consumer (gets, acks,
/// occasional rollbacks) through a tiny ring: every event arrives once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_producer_consumer_order() {
    const N: i64 = 20_000;
    let s = Arc::new(store(BatchMode::MemSize, 64, 16)); // 1 KiB
    let prod = {
        let s = s.clone();
        std::thread::spawn(move || {
            let mut i = 0i64;
            let mut chunk = 1usize;
            while i < N {
                let n = chunk.min((N - i) as usize);
                let v: Vec<Event> = (i..i + n as i64)
                    .map(|k| ev(k, 1 + (k % 50) as usize))
                    .collect();
                s.put_blocking(v).unwrap();
                i += n as i64;
                chunk = chunk % 7 + 1;
            }
        })
    };
    let mut expect = 0i64;
    let mut round = 0u32;
    while expect < N {
        round += 1;
        let b = s
            .get_timeout(None, 1 + (round % 3) as i32, Duration::from_millis(20))
            .await
            .unwrap();
        let Some(r) = b.range.clone() else { continue };
        if round % 5 == 0 {
            // redeliver: nothing must be lost or duplicated after the rollback
            s.rollback();
            continue;
        }
        for e in &b.events {
            assert_eq!(e.position, expect);
            expect += 1;
        }
        s.ack(r.end.as_ref().unwrap(), r.end_seq).unwrap();
    }
    prod.join().unwrap();
    let st = s.stats();
    assert_eq!((st.put_seq, st.ack_seq), (N - 1, N - 1));
    assert_eq!(st.put_mem, st.ack_mem);
}

#[test]
fn event_from_entry_metadata() {
    let entry = Entry {
        header: Some(Header {
            logfile_name: Some("mysql-bin.000007".into()),
            logfile_offset: Some(1234),
            server_id: Some(9),
            execute_time: Some(1_700_000_123_000),
            event_length: Some(100),
            event_type: Some(EventType::Delete as i32),
            props: vec![Pair {
                key: Some("rowsCount".into()),
                value: Some("3".into()),
            }],
            ..Default::default()
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(Bytes::from_static(b"abc")),
    };
    let raw = Event::from_entry(identity(), &entry, true);
    let bytes = entry.encode_to_vec();
    assert_eq!(raw.entry.as_deref(), Some(&bytes[..]));
    assert_eq!(raw.raw_length, bytes.len() as i64);
    assert_eq!(raw.rows_count, 3);
    assert_eq!(raw.event_type, EventType::Delete);
    assert_eq!(&*raw.journal_name, "mysql-bin.000007");
    assert_eq!(&*raw.gtid, "");
    let non_raw = Event::from_bytes(identity(), Bytes::from(bytes), false).unwrap();
    assert_eq!(non_raw.raw_length, 600);
    assert_eq!(non_raw.position, 1234);
    // proto2 defaults when absent: entryType ROWDATA, eventType UPDATE
    let bare = Event::from_entry(identity(), &Entry::default(), true);
    assert_eq!(bare.entry_type, EntryType::Rowdata);
    assert_eq!(bare.event_type, EventType::Update);
    assert!(Event::from_bytes(identity(), Bytes::from_static(&[0xff, 0xff]), true).is_err());
}

/// Java `LogPosition.toString()`: reflection style, subclass fields first (included, journalName,
/// position, serverId, gtid), then TimePosition.timestamp; nulls as `<null>`.
#[test]
fn position_text_like_java() {
    let p = ev(4, 1).log_position(false);
    assert_eq!(
        format_position(&p),
        "LogPosition[identity=LogIdentity[sourceAddress=/127.0.0.1:3306,slaveId=-1],postion=EntryPosition[included=false,journalName=mysql-bin.000001,position=4,serverId=1,gtid=,timestamp=1700000000004]]"
    );
    let err = StoreError::NoMatchAck(format_position(&LogPosition::default()));
    assert_eq!(
        err.to_string(),
        "no match ack positionLogPosition[identity=LogIdentity[sourceAddress=<null>,slaveId=0],postion=EntryPosition[included=false,journalName=<null>,position=<null>,serverId=<null>,gtid=<null>,timestamp=<null>]]"
    );
}

/// rollback(id) trap: a batch read before a rewind and acked afterwards moves the ack cursor past
/// the read cursor; reading must continue after it, never hand out released events.
#[test]
fn ack_beyond_read_cursor_after_rewind() {
    let s = store(BatchMode::MemSize, 16, 1024);
    put_all(&s, (0..6).map(|i| ev(i, 10)).collect());
    let _b1 = s.try_get(None, 0).unwrap(); // [0]
    let b2 = s.try_get(None, 0).unwrap().range.unwrap(); // [1]
    s.rollback(); // rewind to -1
    let b3 = s.try_get(None, 0).unwrap(); // [0] again
    assert_eq!(offsets(&b3), vec![0]);
    s.ack(b2.end.as_ref().unwrap(), b2.end_seq).unwrap(); // acks 0 and 1
    let st = s.stats();
    assert_eq!(
        (st.ack_seq, st.get_seq, st.get_mem, st.ack_mem),
        (1, 1, 20, 20)
    );
    assert_eq!(offsets(&s.try_get(None, 100).unwrap()), vec![2, 3, 4, 5]);
}

/// Readers waiting for different batch sizes are each woken once their own batch is complete
/// (puts only wake readers at the registered thresholds), in both batch modes, and a rollback
/// still wakes them.
#[tokio::test]
async fn waiters_wake_at_their_thresholds() {
    for mode in [BatchMode::ItemSize, BatchMode::MemSize] {
        let s = Arc::new(store(mode, 64, 10));
        let waiter = |n: i32| {
            let s = s.clone();
            tokio::spawn(async move { s.wait_for_batch(None, n, None).await })
        };
        let (small, big) = (waiter(2), waiter(5));
        tokio::task::yield_now().await;
        let mut off = 0;
        let mut put_one = || {
            // ITEMSIZE: one event each; MEMSIZE: 10 bytes = one unit each
            put_all(&s, vec![ev(off, 10)]);
            off += 1;
        };
        put_one();
        put_one();
        let r = tokio::time::timeout(Duration::from_secs(10), small).await;
        assert!(r.unwrap().unwrap().unwrap(), "{mode}: small batch ready");
        assert!(
            !s.has_full_batch(None, 5),
            "{mode}: only 2 of 5 there, the big waiter must still wait"
        );
        for _ in 0..3 {
            put_one();
        }
        let r = tokio::time::timeout(Duration::from_secs(10), big).await;
        assert!(r.unwrap().unwrap().unwrap(), "{mode}: big batch ready");
        // Read everything, wait for more, rewind: the rollback wakes the reader.
        let got = s.try_get(None, 100).unwrap();
        assert_eq!(got.events.len(), 5);
        let again = waiter(1);
        tokio::task::yield_now().await;
        s.rollback();
        let r = tokio::time::timeout(Duration::from_secs(10), again).await;
        assert!(r.unwrap().unwrap().unwrap(), "{mode}: woken by rollback");
    }
}
