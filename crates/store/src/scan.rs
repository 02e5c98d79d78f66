//! Allocation-free reading of the `Entry` fields an [`crate::Event`] keeps (entry type and the
//! header's position, time, type, gtid, eventLength, `rowsCount` prop), for entries that arrive
//! already serialized. It answers only when the bytes are certainly what prost would accept:
//! every known field of `Entry`, `Header` and `Pair` must have its wire type, every string
//! field must be UTF-8 (prost checks both), and groups or reserved wire types make it give up
//! (`None`), leaving the decision to prost. Protobuf merge rules hold: the last value of a
//! scalar wins, a header that occurs twice is merged, props are kept in order (the first
//! `rowsCount` pair counts, as with the decoded header).

use std::cell::RefCell;
use std::sync::Arc;

use canal_protocol::entry::{EntryType, EventType};

/// What the store needs of an entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntryMeta<'a> {
    pub entry_type: EntryType,
    pub logfile_name: &'a str,
    pub logfile_offset: i64,
    pub server_id: i64,
    pub execute_time: i64,
    pub event_length: i64,
    pub event_type: EventType,
    pub gtid: &'a str,
    pub rows_count: i32,
}

#[inline]
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let b = *buf;
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(10).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return None;
            }
            *buf = &b[i + 1..];
            return Some(v);
        }
    }
    None
}

enum Val<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Next (tag, value) of a message; `Err(())` when the scan must give up.
#[allow(clippy::result_unit_err)]
fn field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Val<'a>), ()> {
    let key = varint(buf).ok_or(())?;
    let tag = u32::try_from(key >> 3).map_err(|_| ())?;
    if tag == 0 {
        return Err(());
    }
    let take = |buf: &mut &'a [u8], n: usize| -> Result<&'a [u8], ()> {
        if buf.len() < n {
            return Err(());
        }
        let (h, t) = buf.split_at(n);
        *buf = t;
        Ok(h)
    };
    let v = match key & 7 {
        0 => Val::Varint(varint(buf).ok_or(())?),
        1 => {
            take(buf, 8)?;
            Val::Fixed
        }
        2 => {
            let n = usize::try_from(varint(buf).ok_or(())?).map_err(|_| ())?;
            Val::Bytes(take(buf, n)?)
        }
        5 => {
            take(buf, 4)?;
            Val::Fixed
        }
        _ => return Err(()),
    };
    Ok((tag, v))
}

fn int(v: Val<'_>) -> Result<u64, ()> {
    match v {
        Val::Varint(x) => Ok(x),
        _ => Err(()),
    }
}

fn bytes(v: Val<'_>) -> Result<&[u8], ()> {
    match v {
        Val::Bytes(b) => Ok(b),
        _ => Err(()),
    }
}

fn string(v: Val<'_>) -> Result<&str, ()> {
    std::str::from_utf8(bytes(v)?).map_err(|_| ())
}

/// Key and value of one `Pair`.
fn pair(mut buf: &[u8]) -> Result<(Option<&str>, Option<&str>), ()> {
    let (mut k, mut v) = (None, None);
    while !buf.is_empty() {
        match field(&mut buf)? {
            (1, x) => k = Some(string(x)?),
            (2, x) => v = Some(string(x)?),
            _ => {}
        }
    }
    Ok((k, v))
}

#[derive(Default)]
struct Header<'a> {
    logfile_name: Option<&'a str>,
    logfile_offset: Option<i64>,
    server_id: Option<i64>,
    execute_time: Option<i64>,
    event_length: Option<i64>,
    event_type: Option<i32>,
    gtid: Option<&'a str>,
    rows_count: Option<&'a str>,
}

fn merge_header<'a>(h: &mut Header<'a>, mut buf: &'a [u8]) -> Result<(), ()> {
    while !buf.is_empty() {
        match field(&mut buf)? {
            (1 | 7, x) => {
                int(x)?;
            }
            (2, x) => h.logfile_name = Some(string(x)?),
            (3, x) => h.logfile_offset = Some(int(x)? as i64),
            (4, x) => h.server_id = Some(int(x)? as i64),
            (5 | 8 | 9, x) => {
                string(x)?;
            }
            (6, x) => h.execute_time = Some(int(x)? as i64),
            (10, x) => h.event_length = Some(int(x)? as i64),
            (11, x) => h.event_type = Some(int(x)? as i32),
            (12, x) => {
                let (k, v) = pair(bytes(x)?)?;
                if h.rows_count.is_none() && k == Some("rowsCount") {
                    h.rows_count = Some(v.unwrap_or(""));
                }
            }
            (13, x) => h.gtid = Some(string(x)?),
            _ => {}
        }
    }
    Ok(())
}

/// Reads the store's metadata of a serialized `Entry`; `None` = let prost decide.
pub(crate) fn scan_entry(mut buf: &[u8]) -> Option<EntryMeta<'_>> {
    let mut h = Header::default();
    let mut entry_type: Option<i32> = None;
    let mut run = || -> Result<(), ()> {
        while !buf.is_empty() {
            match field(&mut buf)? {
                (1, x) => merge_header(&mut h, bytes(x)?)?,
                (2, x) => entry_type = Some(int(x)? as i32),
                (3, x) => {
                    bytes(x)?;
                }
                _ => {}
            }
        }
        Ok(())
    };
    run().ok()?;
    let entry_type = entry_type
        .and_then(|v| EntryType::try_from(v).ok())
        .unwrap_or(EntryType::Rowdata);
    let rows_count = if entry_type == EntryType::Rowdata {
        h.rows_count
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    Some(EntryMeta {
        entry_type,
        logfile_name: h.logfile_name.unwrap_or(""),
        logfile_offset: h.logfile_offset.unwrap_or(0),
        server_id: h.server_id.unwrap_or(0),
        execute_time: h.execute_time.unwrap_or(0),
        event_length: h.event_length.unwrap_or(0),
        event_type: h
            .event_type
            .and_then(|v| EventType::try_from(v).ok())
            .unwrap_or(EventType::Update),
        gtid: h.gtid.unwrap_or(""),
        rows_count,
    })
}

thread_local! {
    static JOURNAL: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
    static GTID: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// One shared `Arc<str>` per run of equal values on this thread (consecutive entries nearly
/// always carry the same binlog file name, and usually the same empty gtid).
fn intern(cell: &'static std::thread::LocalKey<RefCell<Option<Arc<str>>>>, s: &str) -> Arc<str> {
    cell.with(|c| {
        let mut c = c.borrow_mut();
        match &*c {
            Some(a) if &**a == s => a.clone(),
            _ => {
                let a: Arc<str> = Arc::from(s);
                *c = Some(a.clone());
                a
            }
        }
    })
}

pub(crate) fn intern_journal(s: &str) -> Arc<str> {
    intern(&JOURNAL, s)
}

pub(crate) fn intern_gtid(s: &str) -> Arc<str> {
    intern(&GTID, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use bytes::Bytes;
    use canal_protocol::entry::{Entry, Header, Pair};
    use canal_protocol::position::LogIdentity;
    use prost::Message;

    fn golden() -> Vec<Vec<u8>> {
        canal_protocol::golden::all_entries()
    }

    /// The scan agrees with prost: when it answers, prost decodes and gives the same event.
    fn agrees(b: &[u8]) -> bool {
        let id = Arc::new(LogIdentity::default());
        let by_prost = Entry::decode(b)
            .map(|e| Event::with_bytes(id.clone(), &e, Bytes::copy_from_slice(b), false));
        match scan_entry(b) {
            Some(_) => {
                let fast = Event::from_bytes(id.clone(), Bytes::copy_from_slice(b), false)
                    .expect("scan answered, so prost must decode");
                assert_eq!(Ok(fast), by_prost);
                true
            }
            None => {
                let slow = Event::from_bytes(id, Bytes::copy_from_slice(b), false);
                assert_eq!(slow.is_ok(), by_prost.is_ok());
                false
            }
        }
    }

    #[test]
    fn golden_entries_scan_like_prost() {
        let g = golden();
        for e in &g {
            assert!(agrees(e), "a golden entry must take the fast path");
        }
        eprintln!("{} golden entries", g.len());
    }

    #[test]
    fn merged_headers_props_and_unknown_fields() {
        let e = Entry {
            header: Some(Header {
                logfile_name: Some("mysql-bin.000003".into()),
                logfile_offset: Some(99),
                server_id: Some(7),
                execute_time: Some(1_700_000_000_123),
                event_length: Some(31),
                event_type: Some(EventType::Insert as i32),
                gtid: Some("0-1-9".into()),
                props: vec![
                    Pair {
                        key: Some("other".into()),
                        value: Some("1".into()),
                    },
                    Pair {
                        key: Some("rowsCount".into()),
                        value: Some(" 12 ".into()),
                    },
                ],
                ..Default::default()
            }),
            entry_type: None,
            store_value: Some(Bytes::from_static(b"abc")),
        };
        let mut b = e.encode_to_vec();
        assert!(agrees(&b));
        let m = scan_entry(&b).expect("scans");
        assert_eq!(m.rows_count, 12);
        assert_eq!(m.entry_type, EntryType::Rowdata);
        // Second header: offset replaced, a later rowsCount does not win over the first.
        let second = Entry {
            header: Some(Header {
                logfile_offset: Some(123),
                props: vec![Pair {
                    key: Some("rowsCount".into()),
                    value: Some("5".into()),
                }],
                ..Default::default()
            }),
            entry_type: Some(EntryType::Transactionend as i32),
            ..Default::default()
        };
        b.extend(second.encode_to_vec());
        b.extend([0xa0, 0x06, 0x05, 0xb2, 0x06, 0x01, b'x']); // unknown fields 100, 102
        assert!(agrees(&b));
        let m = scan_entry(&b).expect("scans");
        assert_eq!(m.logfile_offset, 123);
        assert_eq!(m.entry_type, EntryType::Transactionend);
        // A group in an unknown field: prost decides.
        let mut g = e.encode_to_vec();
        g.extend([0xa3, 0x06, 0xa4, 0x06]); // field 100 start/end group
        assert!(!agrees(&g));
    }

    #[test]
    fn mutations_never_disagree() {
        let mut inputs = golden()
            .into_iter()
            .step_by(61)
            .take(60)
            .collect::<Vec<_>>();
        inputs.push(
            Entry {
                header: Some(Header {
                    logfile_name: Some("f".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
            .encode_to_vec(),
        );
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut n = 0;
        for base in &inputs {
            for _ in 0..150 {
                let mut b = base.clone();
                if b.is_empty() {
                    break;
                }
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] ^= 1 << (next() % 8),
                    1 => b.truncate(i),
                    _ => b[i] = 0x80 | (next() as u8),
                }
                agrees(&b);
                n += 1;
            }
        }
        assert!(n > 100);
    }
}
