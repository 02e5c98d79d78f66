use super::*;
use canal_protocol::entry::{Column, Entry, Header, Pair, RowChange, RowData};
use prost::Message as _;

/// Every `entries.bin` entry of the golden recordings.
fn golden_entries() -> Vec<Vec<u8>> {
    canal_protocol::golden::all_entries()
}

fn pair_eq(v: PairView<'_>, p: &Pair) {
    assert_eq!(v.key, p.key.as_deref());
    assert_eq!(v.value, p.value.as_deref());
}

fn column_eq(v: &ColumnView<'_>, c: &Column) {
    assert_eq!(v.index, c.index);
    assert_eq!(v.sql_type, c.sql_type);
    assert_eq!(v.name, c.name.as_deref());
    assert_eq!(v.is_key, c.is_key);
    assert_eq!(v.updated, c.updated);
    assert_eq!(v.is_null, c.is_null);
    assert_eq!(v.value, c.value.as_deref());
    assert_eq!(v.length, c.length);
    assert_eq!(v.mysql_type, c.mysql_type.as_deref());
    let props: Vec<_> = v.props().collect();
    assert_eq!(props.len(), c.props.len());
    for (a, b) in props.into_iter().zip(&c.props) {
        pair_eq(a, b);
    }
}

/// Compares the view of `bytes` with prost's owned decoding; both must agree on success or
/// failure.
fn same_as_prost(bytes: &[u8]) -> bool {
    let owned = Entry::decode(bytes);
    let view = EntryView::parse(bytes);
    let (e, v) = match (owned, view) {
        (Ok(e), Ok(v)) => (e, v),
        (Err(_), Err(_)) => return false,
        (o, v) => panic!("prost {:?} vs view {:?}", o.err(), v.err()),
    };
    assert_eq!(v.entry_type, e.entry_type);
    assert_eq!(v.entry_type(), e.entry_type());
    assert_eq!(
        v.store_value.map(<[u8]>::to_vec),
        e.store_value.as_ref().map(|b| b.to_vec())
    );
    match (&e.header, v.header()) {
        (None, None) => {}
        (Some(h), Some(hv)) => {
            assert_eq!(hv.version, h.version);
            assert_eq!(hv.logfile_name, h.logfile_name.as_deref());
            assert_eq!(hv.logfile_offset, h.logfile_offset);
            assert_eq!(hv.server_id, h.server_id);
            assert_eq!(hv.serveren_code, h.serveren_code.as_deref());
            assert_eq!(hv.execute_time, h.execute_time);
            assert_eq!(hv.source_type, h.source_type);
            assert_eq!(hv.schema_name, h.schema_name.as_deref());
            assert_eq!(hv.table_name, h.table_name.as_deref());
            assert_eq!(hv.event_length, h.event_length);
            assert_eq!(hv.event_type, h.event_type);
            assert_eq!(hv.event_type(), h.event_type());
            assert_eq!(hv.gtid, h.gtid.as_deref());
            let props: Vec<_> = hv.props().collect();
            assert_eq!(props.len(), h.props.len());
            for (a, b) in props.into_iter().zip(&h.props) {
                pair_eq(a, b);
            }
        }
        (a, b) => panic!("header presence differs: {a:?} / {b:?}"),
    }
    if e.entry_type() == EntryType::Rowdata {
        let owned = RowChange::decode(e.store_value.clone().unwrap_or_default());
        let view = v.row_change().and_then(|rc| {
            // Walk everything so nested errors surface.
            for rd in rc.row_datas() {
                let rd = rd?;
                rd.check()?;
                for c in rd.before_columns().chain(rd.after_columns()) {
                    c?;
                }
            }
            Ok(rc)
        });
        match (owned, view) {
            (Ok(rc), Ok(rv)) => {
                assert_eq!(rv.table_id, rc.table_id);
                assert_eq!(rv.event_type, rc.event_type);
                assert_eq!(rv.is_ddl, rc.is_ddl);
                assert_eq!(rv.sql, rc.sql.as_deref());
                assert_eq!(rv.ddl_schema_name, rc.ddl_schema_name.as_deref());
                let props: Vec<_> = rv.props().collect();
                assert_eq!(props.len(), rc.props.len());
                let rows: Vec<_> = rv.row_datas().map(|r| r.expect("row")).collect();
                assert_eq!(rows.len(), rc.row_datas.len());
                for (rvw, rd) in rows.iter().zip(&rc.row_datas) {
                    let b: Vec<_> = rvw.before_columns().map(|c| c.expect("col")).collect();
                    let a: Vec<_> = rvw.after_columns().map(|c| c.expect("col")).collect();
                    assert_eq!(b.len(), rd.before_columns.len());
                    assert_eq!(a.len(), rd.after_columns.len());
                    for (x, y) in b.iter().zip(&rd.before_columns) {
                        column_eq(x, y);
                    }
                    for (x, y) in a.iter().zip(&rd.after_columns) {
                        column_eq(x, y);
                    }
                    let p: Vec<_> = rvw.props().collect();
                    assert_eq!(p.len(), rd.props.len());
                }
            }
            (Err(_), Err(_)) => {}
            (o, v) => panic!("RowChange: prost {:?} vs view {:?}", o.err(), v.err()),
        }
    }
    true
}

#[test]
fn golden_entries_read_like_prost() {
    let entries = golden_entries();
    if entries.is_empty() {
        return;
    }
    let mut rows = 0;
    for e in &entries {
        assert!(same_as_prost(e), "golden entry must decode");
        let v = EntryView::parse(e).expect("entry");
        if v.entry_type() == EntryType::Rowdata {
            if let Ok(rc) = v.row_change() {
                rows += rc.row_datas().count();
            }
        }
    }
    assert!(entries.len() > 4000, "{} golden entries", entries.len());
    assert!(rows > 1000, "{rows} rows");
}

fn sample() -> Entry {
    let col = |i: i32, name: &str, value: Option<&str>| Column {
        index: Some(i),
        sql_type: Some(12),
        name: Some(name.into()),
        is_key: Some(i == 0),
        updated: Some(i % 2 == 1),
        is_null: Some(value.is_none()),
        props: vec![Pair {
            key: Some("k".into()),
            value: Some("v".into()),
        }],
        value: value.map(Into::into),
        length: Some(64),
        mysql_type: Some("varchar(64)".into()),
    };
    let rc = RowChange {
        table_id: Some(42),
        event_type: Some(EventType::Update as i32),
        is_ddl: Some(false),
        sql: Some("update t set v='ü'".into()),
        row_datas: vec![RowData {
            before_columns: vec![col(0, "id", Some("1")), col(1, "v", None)],
            after_columns: vec![col(0, "id", Some("1")), col(1, "v", Some("naïve ✓"))],
            props: vec![Pair {
                key: Some("r".into()),
                value: None,
            }],
        }],
        props: vec![],
        ddl_schema_name: Some("bench".into()),
    };
    Entry {
        header: Some(Header {
            version: Some(1),
            logfile_name: Some("mysql-bin.000001".into()),
            logfile_offset: Some(1234),
            server_id: Some(1),
            serveren_code: Some("UTF-8".into()),
            execute_time: Some(1_700_000_000_000),
            source_type: Some(2),
            schema_name: Some("bench".into()),
            table_name: Some("t".into()),
            event_length: Some(99),
            event_type: Some(EventType::Update as i32),
            props: vec![Pair {
                key: Some("rowsCount".into()),
                value: Some("1".into()),
            }],
            gtid: Some("0-1-2".into()),
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(rc.encode_to_vec().into()),
    }
}

#[test]
fn every_field_and_merge_rules() {
    let bytes = sample().encode_to_vec();
    assert!(same_as_prost(&bytes));
    // A second header occurrence is merged; scalars: last wins; props appended.
    let extra = Entry {
        header: Some(Header {
            logfile_offset: Some(777),
            props: vec![Pair {
                key: Some("second".into()),
                value: Some("x".into()),
            }],
            ..Default::default()
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        ..Default::default()
    };
    let mut twice = bytes.clone();
    twice.extend(extra.encode_to_vec());
    assert!(same_as_prost(&twice));
    let v = EntryView::parse(&twice).expect("merged");
    let h = v.header().expect("header");
    assert_eq!(h.logfile_offset(), 777);
    assert_eq!(h.logfile_name(), "mysql-bin.000001");
    assert_eq!(h.props().count(), 2);
    // Unknown fields are skipped (varint, fixed64, length-delimited, fixed32).
    let mut unknown = bytes.clone();
    unknown.extend([0xa0, 0x06, 0x05]); // field 100 varint
    unknown.extend([0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]); // field 101 fixed64
    unknown.extend([0xb2, 0x06, 0x02, b'h', b'i']); // field 102 bytes
    unknown.extend([0xbd, 0x06, 1, 2, 3, 4]); // field 103 fixed32
    assert!(same_as_prost(&unknown));
    // Absent everything: defaults.
    let empty = EntryView::parse(&[]).expect("empty");
    assert_eq!(empty.entry_type(), EntryType::Rowdata);
    assert!(empty.header().is_none());
    assert_eq!(empty.store_value(), b"");
}

#[test]
fn errors_where_prost_fails() {
    // Wrong wire type for a known field.
    assert!(EntryView::parse(&[0x0d, 0, 0, 0, 0]).is_err()); // header as fixed32
    assert!(Entry::decode(&[0x0d, 0u8, 0, 0, 0][..]).is_err());
    // Truncated length.
    assert!(EntryView::parse(&[0x1a, 0x05, 1]).is_err());
    // Tag 0.
    assert!(EntryView::parse(&[0x00, 0x01]).is_err());
    // Bad UTF-8 in a column value, in the header, in a column name.
    let mut e = sample();
    let mut rc = RowChange::decode(e.store_value.clone().unwrap_or_default()).expect("rc");
    rc.row_datas[0].after_columns[1].value = Some("\u{fffd}".into());
    let mut rcb = rc.encode_to_vec();
    let pos = rcb
        .windows(3)
        .position(|w| w == "\u{fffd}".as_bytes())
        .expect("marker");
    rcb[pos] = 0xff;
    e.store_value = Some(rcb.into());
    let bytes = e.encode_to_vec();
    assert!(!same_as_prost_rowchange_ok(&bytes));
}

fn same_as_prost_rowchange_ok(bytes: &[u8]) -> bool {
    let e = Entry::decode(bytes).expect("envelope fine");
    let prost_ok = RowChange::decode(e.store_value.clone().unwrap_or_default()).is_ok();
    let v = EntryView::parse(bytes).expect("envelope fine");
    let rc = v.row_change().expect("row change envelope");
    let view_ok = rc.row_datas().all(|r| {
        r.is_ok_and(|r| {
            r.before_columns()
                .chain(r.after_columns())
                .all(|c| c.is_ok())
        })
    });
    assert_eq!(prost_ok, view_ok);
    assert!(same_as_prost(bytes));
    view_ok
}

#[test]
fn mutated_bytes_agree_with_prost() {
    // Deterministic byte flips and truncations of real entries: the view never panics and
    // accepts exactly what prost accepts.
    let mut inputs = vec![sample().encode_to_vec()];
    inputs.extend(golden_entries().into_iter().step_by(97).take(40));
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut checked = 0;
    for base in &inputs {
        for _ in 0..200 {
            let mut b = base.clone();
            if b.is_empty() {
                break;
            }
            match next() % 3 {
                0 => {
                    let i = (next() as usize) % b.len();
                    b[i] ^= 1 << (next() % 8);
                }
                1 => {
                    let n = (next() as usize) % b.len();
                    b.truncate(n);
                }
                _ => {
                    let i = (next() as usize) % b.len();
                    b[i] = 0xff;
                }
            }
            same_as_prost(&b);
            checked += 1;
        }
    }
    assert!(checked > 100);
}

#[test]
fn ascii_fast_path_matches_std() {
    let mut buf = Vec::new();
    for len in 0..80usize {
        for bad in std::iter::once(None).chain((0..len).map(Some)) {
            buf.clear();
            buf.extend((0..len).map(|i| b'a' + (i % 26) as u8));
            if let Some(i) = bad {
                buf[i] = 0xc3;
            }
            assert_eq!(is_ascii(&buf), buf.is_ascii(), "len {len} bad {bad:?}");
            assert_eq!(utf8(&buf).is_ok(), std::str::from_utf8(&buf).is_ok());
        }
    }
    assert_eq!(utf8("naïve ✓".as_bytes()), Ok("naïve ✓"));
}
