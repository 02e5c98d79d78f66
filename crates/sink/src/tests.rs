//! Rules from entry-conversion.md §6 (EventTransactionBuffer, EntryEventSink).

use super::*;
use bytes::Bytes;
use canal_protocol::position::LogIdentity;
use canal_store::{BatchMode, StoreConfig};
use std::time::Duration;

fn ev(et: EntryType, evt: EventType, offset: i64, ts: i64) -> Event {
    Event {
        identity: Arc::new(LogIdentity {
            source_address: None,
            slave_id: -1,
        }),
        entry: Some(Bytes::from(vec![1u8; 10])),
        execute_time: ts,
        entry_type: et,
        journal_name: Arc::from("mysql-bin.000001"),
        position: offset,
        server_id: 1,
        event_type: evt,
        gtid: Arc::from(""),
        raw_length: 10,
        rows_count: 0,
    }
}

fn begin(o: i64) -> Event {
    ev(EntryType::Transactionbegin, EventType::Update, o, 1000)
}
fn end(o: i64) -> Event {
    ev(EntryType::Transactionend, EventType::Update, o, 1000)
}
fn row(o: i64, t: EventType) -> Event {
    ev(EntryType::Rowdata, t, o, 1000)
}

fn offsets(chunks: &[Vec<Event>]) -> Vec<Vec<i64>> {
    chunks
        .iter()
        .map(|c| c.iter().map(|e| e.position).collect())
        .collect()
}

fn feed(buf: &mut TransactionBuffer<Event>, items: Vec<Event>) -> Vec<Vec<Event>> {
    items.into_iter().flat_map(|e| buf.push(e)).collect()
}

#[test]
fn size_must_be_power_of_two() {
    assert!(TransactionBuffer::<Event>::new(1000).is_err());
    assert!(TransactionBuffer::<Event>::new(1024).is_ok());
}

#[test]
fn transaction_flushes_at_end() {
    let mut b = TransactionBuffer::new(1024).unwrap();
    let chunks = feed(
        &mut b,
        vec![
            begin(1),
            row(2, EventType::Insert),
            row(3, EventType::Update),
            row(4, EventType::Delete),
        ],
    );
    assert!(chunks.is_empty());
    assert_eq!(b.pending(), 4);
    let chunks = feed(&mut b, vec![end(5)]);
    assert_eq!(offsets(&chunks), vec![vec![1, 2, 3, 4, 5]]);
    assert_eq!(b.pending(), 0);
}

/// A BEGIN flushes what is pending; a non-DML ROWDATA (DDL, QUERY) and a HEARTBEAT flush at
/// once; GTIDLOG is discarded.
#[test]
fn flush_triggers_and_discards() {
    let mut b = TransactionBuffer::new(1024).unwrap();
    let chunks = feed(
        &mut b,
        vec![
            row(1, EventType::Insert),
            begin(2),
            ev(EntryType::Gtidlog, EventType::Gtid, 3, 1000),
            row(4, EventType::Query), // MariaDB ANNOTATE_ROWS / ROWS_QUERY
            row(5, EventType::Insert),
            end(6),
            row(7, EventType::Alter),
            ev(EntryType::Heartbeat, EventType::Mheartbeat, 8, 1000),
        ],
    );
    assert_eq!(
        offsets(&chunks),
        vec![vec![1], vec![2, 4], vec![5, 6], vec![7], vec![8]]
    );
}

/// A transaction larger than transaction.size is split: only the first chunk has the BEGIN,
/// only the last the END.
#[test]
fn big_transaction_split_by_size() {
    let mut b = TransactionBuffer::new(4).unwrap();
    let mut items = vec![begin(0)];
    items.extend((1..=6).map(|i| row(i, EventType::Insert)));
    items.push(end(7));
    let chunks = feed(&mut b, items);
    assert_eq!(offsets(&chunks), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    // the parser records the END only from the last chunk (index >= 1 rule)
    assert!(last_transaction_end(&chunks[0]).is_none());
    assert_eq!(last_transaction_end(&chunks[1]).unwrap().position, 7);
    assert!(last_transaction_end(&[end(9)]).is_none());
}

#[test]
fn entry_implements_tx_item() {
    let e = Entry::default();
    assert_eq!(TxItem::entry_type(&e), EntryType::Rowdata);
    assert_eq!(TxItem::event_type(&e), EventType::Update);
    let mut b = TransactionBuffer::<Entry>::new(2).unwrap();
    assert!(b.push(e).is_empty());
}

fn sink(cfg: SinkConfig) -> EntrySink {
    let store = EventStore::new(StoreConfig {
        buffer_size: 1024,
        mem_unit: 1024,
        batch_mode: BatchMode::ItemSize,
        ddl_isolation: false,
        raw: true,
    })
    .unwrap();
    EntrySink::new(Arc::new(store), cfg)
}

fn empty_tx(ts: i64) -> Vec<Event> {
    vec![
        ev(EntryType::Transactionbegin, EventType::Update, 1, ts),
        ev(EntryType::Transactionend, EventType::Update, 2, ts),
    ]
}

/// Empty chunks: the first after start passes, later ones only > 5 s apart (first entry's
/// executeTime) or after more than `threshold` suppressed ones.
#[test]
fn empty_transactions_rule() {
    let mut s = sink(SinkConfig {
        empty_transaction_threshold: 3,
        ..Default::default()
    });
    assert!(s.sink_blocking(empty_tx(1_700_000_000_000)).unwrap());
    assert!(!s.sink_blocking(empty_tx(1_700_000_004_000)).unwrap());
    assert!(!s.sink_blocking(empty_tx(1_699_999_996_000)).unwrap());
    assert!(s.sink_blocking(empty_tx(1_700_000_005_001)).unwrap());
    // 3 suppressed, the 4th passes on the counter
    for _ in 0..3 {
        assert!(!s.sink_blocking(empty_tx(1_700_000_005_002)).unwrap());
    }
    assert!(s.sink_blocking(empty_tx(1_700_000_005_003)).unwrap());
    assert_eq!(s.stats().dropped_empty, 5);
    // chunks with rows always pass
    let mut with_row = empty_tx(1_700_000_005_004);
    with_row.insert(
        1,
        ev(EntryType::Rowdata, EventType::Insert, 3, 1_700_000_005_004),
    );
    assert!(s.sink_blocking(with_row).unwrap());
    let st = s.store().stats();
    assert_eq!(st.put_seq + 1, 2 + 2 + 2 + 3);
    assert_eq!(s.stats().transactions, 4);
}

#[test]
fn heartbeats_are_stripped() {
    let mut s = sink(SinkConfig::default());
    let hb = ev(EntryType::Heartbeat, EventType::Mheartbeat, 0, 5);
    assert!(s.sink_blocking(vec![hb.clone()]).unwrap());
    assert_eq!(
        s.store().stats().put_seq,
        -1,
        "nothing stored for a heartbeat"
    );
    assert!(s
        .sink_blocking(vec![hb, row(1, EventType::Insert)])
        .unwrap());
    let got = s.store().try_get(None, 10).unwrap();
    assert_eq!(got.events.len(), 1);
    assert_eq!(got.events[0].entry_type, EntryType::Rowdata);
}

/// filterTransactionEntry: BEGIN/END are dropped unless > 8192 since the last kept END or the
/// executeTime moved more than 5 s from it.
#[test]
fn filter_transaction_entry() {
    let mut s = sink(SinkConfig {
        filter_transaction_entry: true,
        empty_transaction_threshold: 8192,
        ..Default::default()
    });
    let tx = |ts: i64| {
        vec![
            ev(EntryType::Transactionbegin, EventType::Update, 1, ts),
            ev(EntryType::Rowdata, EventType::Insert, 2, ts),
            ev(EntryType::Transactionend, EventType::Update, 3, ts),
        ]
    };
    // first: |ts - 0| > 5000 -> BEGIN and END kept (END resets the reference)
    assert!(s.sink_blocking(tx(1_700_000_000_000)).unwrap());
    assert_eq!(s.store().stats().put_seq, 2);
    // within 5 s: only the row
    assert!(s.sink_blocking(tx(1_700_000_001_000)).unwrap());
    assert_eq!(s.store().stats().put_seq, 3);
    let got = s.store().try_get(None, 10).unwrap();
    let types: Vec<_> = got.events.iter().map(|e| e.entry_type).collect();
    assert_eq!(
        types,
        vec![
            EntryType::Transactionbegin,
            EntryType::Rowdata,
            EntryType::Transactionend,
            EntryType::Rowdata
        ]
    );
}

#[test]
fn sink_blocks_until_store_has_room() {
    let store = Arc::new(
        EventStore::new(StoreConfig {
            buffer_size: 4,
            mem_unit: 1024,
            batch_mode: BatchMode::ItemSize,
            ddl_isolation: false,
            raw: true,
        })
        .unwrap(),
    );
    let mut s = EntrySink::new(store.clone(), SinkConfig::default());
    let tx = |o: i64| {
        vec![
            ev(EntryType::Transactionbegin, EventType::Update, o, 1),
            ev(EntryType::Rowdata, EventType::Insert, o + 1, 1),
            ev(EntryType::Transactionend, EventType::Update, o + 2, 1),
        ]
    };
    assert!(s.sink_blocking(tx(0)).unwrap());
    let h = std::thread::spawn(move || {
        let r = s.sink_blocking(tx(10));
        (r, s.stats())
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(!h.is_finished(), "sink must block while the store is full");
    let b = store.try_get(None, 3).unwrap().range.unwrap();
    store.ack(b.end.as_ref().unwrap(), b.end_seq).unwrap();
    let (r, stats) = h.join().unwrap();
    assert!(r.unwrap());
    assert!(stats.blocking_nanos > 50_000_000);
    assert_eq!(stats.transactions, 2);
}

#[tokio::test]
async fn async_sink_and_stopped_store() {
    let mut s = sink(SinkConfig::default());
    assert!(s.sink(vec![row(1, EventType::Insert)]).await.unwrap());
    s.store().stop();
    assert_eq!(
        s.sink(vec![row(2, EventType::Insert)]).await,
        Err(SinkError::Store(StoreError::Stopped))
    );
}
