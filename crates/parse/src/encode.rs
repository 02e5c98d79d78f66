//! Direct protobuf writers: `Header`, `Column`/`RowData`/`RowChange` and the `storeValue`s of
//! transaction begin/end, query and DDL entries are written field by field from borrowed data
//! into reused or exactly sized buffers, without building the prost structs.
//!
//! Hand-written (on top of prost's varint helpers) because prost can only encode from owned
//! message structs; the output must stay byte-identical to prost's encoding of
//! `canal_protocol::entry` messages (fields in tag order, every `Some` optional field written),
//! which the unit tests here and the differential test `tests/direct_encode.rs` (every recorded
//! binlog) check.

use prost::encoding::encoded_len_varint;

/// Appends a base-128 varint (prost's `encode_varint` goes through `BufMut` one byte at a time).
#[inline]
pub(crate) fn encode_varint(mut v: u64, buf: &mut Vec<u8>) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

const VARINT: u32 = 0;
const LEN: u32 = 2;

#[inline]
fn key(buf: &mut Vec<u8>, field: u32, wire: u32) {
    encode_varint(u64::from((field << 3) | wire), buf);
}

#[inline]
fn key_len(field: u32) -> usize {
    encoded_len_varint(u64::from(field << 3))
}

/// Writes an `int32` field (negative values take ten bytes, as protobuf requires).
#[inline]
pub(crate) fn put_i32(buf: &mut Vec<u8>, field: u32, v: i32) {
    key(buf, field, VARINT);
    encode_varint(i64::from(v) as u64, buf);
}

/// Writes an `int64` field.
#[inline]
pub(crate) fn put_i64(buf: &mut Vec<u8>, field: u32, v: i64) {
    key(buf, field, VARINT);
    encode_varint(v as u64, buf);
}

/// Writes a `bool` field.
#[inline]
pub(crate) fn put_bool(buf: &mut Vec<u8>, field: u32, v: bool) {
    key(buf, field, VARINT);
    buf.push(u8::from(v));
}

/// Writes the key and length of a length-delimited field whose `len` bytes follow.
#[inline]
pub(crate) fn put_len_key(buf: &mut Vec<u8>, field: u32, len: usize) {
    key(buf, field, LEN);
    encode_varint(len as u64, buf);
}

/// Writes a length-delimited (`string` / `bytes` / message) field.
#[inline]
pub(crate) fn put_bytes(buf: &mut Vec<u8>, field: u32, v: &[u8]) {
    key(buf, field, LEN);
    encode_varint(v.len() as u64, buf);
    buf.extend_from_slice(v);
}

#[inline]
fn i32_len(field: u32, v: i32) -> usize {
    key_len(field) + encoded_len_varint(i64::from(v) as u64)
}

#[inline]
fn bytes_len(field: u32, len: usize) -> usize {
    key_len(field) + encoded_len_varint(len as u64) + len
}

/// Starts a length-delimited body whose length is not known yet: reserves `guess` bytes for its
/// varint length and returns where they start (finish with [`end_len`]).
#[inline]
pub(crate) fn begin_len(buf: &mut Vec<u8>, guess: usize) -> usize {
    let p = buf.len();
    for _ in 0..guess {
        buf.push(0);
    }
    p
}

/// Finishes a body started with [`begin_len`]: writes its length into the reserved bytes, moving
/// the body when the length needs more or fewer bytes than `guess`. Returns the varint size.
#[inline(always)]
pub(crate) fn end_len(buf: &mut Vec<u8>, at: usize, guess: usize) -> usize {
    let body = buf.len() - at - guess;
    if guess == 1 && body < 0x80 {
        if let Some(b) = buf.get_mut(at) {
            *b = body as u8;
        }
        return 1;
    }
    end_len_other(buf, at, guess, body)
}

#[inline(never)]
fn end_len_other(buf: &mut Vec<u8>, at: usize, guess: usize, body: usize) -> usize {
    let n = encoded_len_varint(body as u64);
    if n > guess {
        buf.resize(buf.len() + n - guess, 0);
        buf.copy_within(at + guess..at + guess + body, at + n);
    } else if n < guess {
        buf.copy_within(at + guess..at + guess + body, at + n);
        buf.truncate(at + n + body);
    }
    let mut v = body as u64;
    for b in &mut buf[at..at + n] {
        *b = (v as u8 & 0x7f) | if v >= 0x80 { 0x80 } else { 0 };
        v >>= 7;
    }
    n
}

/// The constant parts of the `Column` messages of one table, encoded once per table: per column
/// the `index` field, the usual `sqlType` field, the `name` + `isKey` fields and the `mysqlType`
/// field, so a row only adds `updated`, `isNull` and the value (and `sqlType` when it is not the
/// usual one); `props` and `length` are never set.
#[derive(Debug, Default)]
pub(crate) struct PreCols {
    bytes: Vec<u8>,
    /// Per column: its start in `bytes`, the ends of `index`, of `sqlType`, of `name`+`isKey`
    /// and of `mysqlType`, and the usual sqlType.
    cols: Vec<PreCol>,
}

#[derive(Debug, Clone, Copy)]
struct PreCol {
    start: u32,
    index_end: u32,
    sql_end: u32,
    mid_end: u32,
    end: u32,
    sql_type: i32,
}

impl PreCols {
    /// Encodes the constant fields of columns given as (name, isKey, mysqlType, usual sqlType).
    pub(crate) fn new<'a>(cols: impl Iterator<Item = (&'a str, bool, &'a str, i32)>) -> Self {
        let mut p = PreCols::default();
        for (i, (name, is_key, mysql_type, sql_type)) in cols.enumerate() {
            let start = p.bytes.len() as u32;
            put_i32(&mut p.bytes, 1, i as i32);
            let index_end = p.bytes.len() as u32;
            put_i32(&mut p.bytes, 2, sql_type);
            let sql_end = p.bytes.len() as u32;
            put_bytes(&mut p.bytes, 3, name.as_bytes());
            put_bool(&mut p.bytes, 4, is_key);
            let mid_end = p.bytes.len() as u32;
            put_bytes(&mut p.bytes, 10, mysql_type.as_bytes());
            p.cols.push(PreCol {
                start,
                index_end,
                sql_end,
                mid_end,
                end: p.bytes.len() as u32,
                sql_type,
            });
        }
        p
    }

    /// Column `i`'s bytes up to `isKey` with the usual sqlType, its `mysqlType` field, and the
    /// usual sqlType.
    #[inline]
    pub(crate) fn parts(&self, i: usize) -> Option<(&[u8], &[u8], i32)> {
        let c = self.cols.get(i)?;
        let (start, mid_end, end) = (c.start as usize, c.mid_end as usize, c.end as usize);
        Some((
            self.bytes.get(start..mid_end)?,
            self.bytes.get(mid_end..end)?,
            c.sql_type,
        ))
    }

    /// Writes column `i` as field `field` of `RowData` (1 = beforeColumns, 2 = afterColumns);
    /// `value` `None` writes `isNull = true` and no value. No-op for an unknown column.
    #[inline]
    pub(crate) fn write(
        &self,
        buf: &mut Vec<u8>,
        field: u32,
        i: usize,
        sql_type: i32,
        updated: bool,
        value: Option<&[u8]>,
    ) {
        let Some(c) = self.cols.get(i) else {
            return;
        };
        let [start, index_end, sql_end, mid_end, end] =
            [c.start, c.index_end, c.sql_end, c.mid_end, c.end].map(|x| x as usize);
        let (Some(head), Some(tail)) =
            (self.bytes.get(start..mid_end), self.bytes.get(mid_end..end))
        else {
            return;
        };
        let usual = sql_type == c.sql_type;
        let sql_len = if usual {
            sql_end - index_end
        } else {
            i32_len(2, sql_type)
        };
        let body = (end - start) - (sql_end - index_end)
            + sql_len
            + 4
            + value.map_or(0, |v| bytes_len(8, v.len()));
        buf.reserve(body + 8);
        key(buf, field, LEN);
        encode_varint(body as u64, buf);
        if usual {
            buf.extend_from_slice(head);
        } else {
            let (Some(index), Some(mid)) = (
                self.bytes.get(start..index_end),
                self.bytes.get(sql_end..mid_end),
            ) else {
                return;
            };
            buf.extend_from_slice(index);
            put_i32(buf, 2, sql_type);
            buf.extend_from_slice(mid);
        }
        buf.extend_from_slice(&[5 << 3, u8::from(updated), 6 << 3, u8::from(value.is_none())]);
        if let Some(v) = value {
            put_bytes(buf, 8, v);
        }
        buf.extend_from_slice(tail);
    }
}

/// The `Header` of an entry (`version` 1, `serverenCode` "UTF-8", `sourceType` MYSQL), the
/// optional fields as Canal sets them: GTID props (`curtGtid`, `curtGtidSn`, `curtGtidLct`),
/// then `rowsCount` when > 0, then `gtid`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderOut<'a> {
    /// `logfileName`.
    pub file: &'a str,
    /// `logfileOffset`.
    pub offset: i64,
    /// `serverId`.
    pub server_id: i64,
    /// `executeTime`.
    pub execute_time: i64,
    /// `schemaName`.
    pub schema: Option<&'a str>,
    /// `tableName`.
    pub table: Option<&'a str>,
    /// `eventLength`.
    pub event_length: i64,
    /// `eventType`.
    pub event_type: Option<i32>,
    /// (`curtGtid`, `curtGtidSn`, `curtGtidLct`) props.
    pub curt_gtid: Option<(&'a str, i64, i64)>,
    /// `rowsCount` prop when > 0.
    pub rows: usize,
    /// `gtid`.
    pub gtid: Option<&'a str>,
}

const UTF8: &[u8] = b"UTF-8";
const ROWS_COUNT: &[u8] = b"rowsCount";

/// Length of a `Pair` body.
#[inline]
fn pair_len(k: usize, v: usize) -> usize {
    bytes_len(1, k) + bytes_len(2, v)
}

/// Writes a `Pair` as field `field`.
#[inline]
pub(crate) fn put_pair(buf: &mut Vec<u8>, field: u32, k: &[u8], v: &[u8]) {
    key(buf, field, LEN);
    encode_varint(pair_len(k.len(), v.len()) as u64, buf);
    put_bytes(buf, 1, k);
    put_bytes(buf, 2, v);
}

/// Encoded length of `Pair`s as field `field`.
fn pairs_len(field: u32, pairs: &[(&str, &str)]) -> usize {
    pairs
        .iter()
        .map(|(k, v)| bytes_len(field, pair_len(k.len(), v.len())))
        .sum()
}

impl HeaderOut<'_> {
    /// An upper bound of the bytes [`HeaderOut::write`] appends, whatever `rows` is.
    pub(crate) fn max_len(&self) -> usize {
        // Field 1 key + length 6, fixed fields <= 80, rowsCount pair <= 36.
        130 + self.file.len()
            + self.schema.map_or(0, str::len)
            + self.table.map_or(0, str::len)
            + self.curt_gtid.map_or(0, |(g, _, _)| g.len() + 90)
            + self.gtid.map_or(0, str::len)
    }

    /// Bytes [`HeaderOut::write`] appends.
    pub(crate) fn encoded_len(&self) -> usize {
        let body = self.body_len();
        key_len(1) + encoded_len_varint(body as u64) + body
    }

    fn body_len(&self) -> usize {
        let (mut ib, mut sb, mut lb) = (
            itoa::Buffer::new(),
            itoa::Buffer::new(),
            itoa::Buffer::new(),
        );
        let count = ib.format(self.rows).as_bytes();
        let gt = self.curt_gtid.map(|(g, sn, lct)| {
            (
                g.as_bytes(),
                sb.format(sn).as_bytes(),
                lb.format(lct).as_bytes(),
            )
        });
        let mut props = 0;
        if let Some((g, sn, lct)) = gt {
            props += bytes_len(12, pair_len(8, g.len()))
                + bytes_len(12, pair_len(10, sn.len()))
                + bytes_len(12, pair_len(11, lct.len()));
        }
        if self.rows > 0 {
            props += bytes_len(12, pair_len(ROWS_COUNT.len(), count.len()));
        }
        2 + bytes_len(2, self.file.len())
            + key_len(3)
            + encoded_len_varint(self.offset as u64)
            + key_len(4)
            + encoded_len_varint(self.server_id as u64)
            + bytes_len(5, UTF8.len())
            + key_len(6)
            + encoded_len_varint(self.execute_time as u64)
            + 2
            + self.schema.map_or(0, |s| bytes_len(8, s.len()))
            + self.table.map_or(0, |s| bytes_len(9, s.len()))
            + key_len(10)
            + encoded_len_varint(self.event_length as u64)
            + self.event_type.map_or(0, |t| i32_len(11, t))
            + props
            + self.gtid.map_or(0, |g| bytes_len(13, g.len()))
    }

    /// Writes the header as field 1 of `Entry`.
    pub(crate) fn write(&self, buf: &mut Vec<u8>) {
        let mut ib = itoa::Buffer::new();
        let count = ib.format(self.rows).as_bytes();
        let (mut sb, mut lb) = (itoa::Buffer::new(), itoa::Buffer::new());
        let gt = self.curt_gtid.map(|(g, sn, lct)| {
            (
                g.as_bytes(),
                sb.format(sn).as_bytes(),
                lb.format(lct).as_bytes(),
            )
        });
        let body = self.body_len();
        buf.reserve(body + 4);
        key(buf, 1, LEN);
        encode_varint(body as u64, buf);
        put_i32(buf, 1, 1);
        put_bytes(buf, 2, self.file.as_bytes());
        put_i64(buf, 3, self.offset);
        put_i64(buf, 4, self.server_id);
        put_bytes(buf, 5, UTF8);
        put_i64(buf, 6, self.execute_time);
        put_i32(buf, 7, 2);
        if let Some(s) = self.schema {
            put_bytes(buf, 8, s.as_bytes());
        }
        if let Some(t) = self.table {
            put_bytes(buf, 9, t.as_bytes());
        }
        put_i64(buf, 10, self.event_length);
        if let Some(t) = self.event_type {
            put_i32(buf, 11, t);
        }
        if let Some((g, sn, lct)) = gt {
            put_pair(buf, 12, b"curtGtid", g);
            put_pair(buf, 12, b"curtGtidSn", sn);
            put_pair(buf, 12, b"curtGtidLct", lct);
        }
        if self.rows > 0 {
            put_pair(buf, 12, ROWS_COUNT, count);
        }
        if let Some(g) = self.gtid {
            put_bytes(buf, 13, g.as_bytes());
        }
    }
}

/// The `storeValue` of a non-rows entry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StoreOut<'a> {
    /// `TransactionBegin { threadId, props }`.
    Begin {
        /// `threadId`.
        thread_id: i64,
        /// `props`.
        props: &'a [(&'a str, &'a str)],
    },
    /// `TransactionEnd { transactionId, props }`.
    End {
        /// `transactionId`.
        transaction_id: &'a str,
        /// `props`.
        props: &'a [(&'a str, &'a str)],
    },
    /// `RowChange { eventType, isDdl, sql, props, ddlSchemaName }` (no rows).
    Query {
        /// `eventType`.
        event_type: i32,
        /// `isDdl`.
        is_ddl: Option<bool>,
        /// `sql`.
        sql: &'a str,
        /// `props`.
        props: &'a [(&'a str, &'a str)],
        /// `ddlSchemaName`.
        ddl_schema: Option<&'a str>,
    },
}

impl StoreOut<'_> {
    fn len(&self) -> usize {
        match *self {
            StoreOut::Begin { thread_id, props } => {
                pairs_len(3, props) + key_len(4) + encoded_len_varint(thread_id as u64)
            }
            StoreOut::End {
                transaction_id,
                props,
            } => bytes_len(2, transaction_id.len()) + pairs_len(3, props),
            StoreOut::Query {
                event_type,
                is_ddl,
                sql,
                props,
                ddl_schema,
            } => {
                i32_len(2, event_type)
                    + is_ddl.map_or(0, |_| 2)
                    + bytes_len(11, sql.len())
                    + pairs_len(13, props)
                    + ddl_schema.map_or(0, |s| bytes_len(14, s.len()))
            }
        }
    }

    /// Bytes [`StoreOut::write`] appends.
    pub(crate) fn encoded_len(&self) -> usize {
        let len = self.len();
        key_len(3) + encoded_len_varint(len as u64) + len
    }

    /// Writes the message as field 3 (`storeValue`) of `Entry`.
    pub(crate) fn write(&self, buf: &mut Vec<u8>) {
        let pairs = |buf: &mut Vec<u8>, field: u32, props: &[(&str, &str)]| {
            for (k, v) in props {
                put_pair(buf, field, k.as_bytes(), v.as_bytes());
            }
        };
        let len = self.len();
        buf.reserve(len + 4);
        key(buf, 3, LEN);
        encode_varint(len as u64, buf);
        match *self {
            StoreOut::Begin { thread_id, props } => {
                pairs(buf, 3, props);
                put_i64(buf, 4, thread_id);
            }
            StoreOut::End {
                transaction_id,
                props,
            } => {
                put_bytes(buf, 2, transaction_id.as_bytes());
                pairs(buf, 3, props);
            }
            StoreOut::Query {
                event_type,
                is_ddl,
                sql,
                props,
                ddl_schema,
            } => {
                put_i32(buf, 2, event_type);
                if let Some(d) = is_ddl {
                    put_bool(buf, 10, d);
                }
                put_bytes(buf, 11, sql.as_bytes());
                pairs(buf, 13, props);
                if let Some(s) = ddl_schema {
                    put_bytes(buf, 14, s.as_bytes());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::entry::{
        Column, Header, Pair, RowChange, TransactionBegin, TransactionEnd,
    };
    use prost::Message;

    fn pair(k: &str, v: &str) -> Pair {
        Pair {
            key: Some(k.into()),
            value: Some(v.into()),
        }
    }

    // Oracle: prost's own encoding of the same message.
    #[test]
    fn header_matches_prost() {
        let gtid_props = [
            None,
            Some(("3e11fa47-71ca-11e1-9e33-c80aa9429562:23", 7i64, -1i64)),
        ];
        for rows in [0usize, 1, 300] {
            for curt in gtid_props {
                for (schema, table, et, gtid) in [
                    (Some("db"), Some("t"), Some(2), None),
                    (Some(""), Some(""), None, Some("0-1-100")),
                    (None, None, Some(7), None),
                    (Some("s"), None, Some(13), Some("")),
                ] {
                    let h = HeaderOut {
                        file: "mysql-bin.000001",
                        offset: 1 << 33,
                        server_id: 7,
                        execute_time: 1_700_000_000_000,
                        schema,
                        table,
                        event_length: 130,
                        event_type: et,
                        curt_gtid: curt,
                        rows,
                        gtid,
                    };
                    let mut got = Vec::new();
                    h.write(&mut got);
                    assert_eq!(got.len(), h.encoded_len());
                    let worst = HeaderOut {
                        offset: i64::MIN,
                        server_id: i64::MIN,
                        execute_time: i64::MIN,
                        event_length: i64::MIN,
                        event_type: Some(i32::MIN),
                        rows: usize::MAX,
                        curt_gtid: curt.map(|(g, _, _)| (g, i64::MIN, i64::MIN)),
                        ..h
                    };
                    let mut w = Vec::new();
                    worst.write(&mut w);
                    assert!(w.len() <= h.max_len(), "{} > {}", w.len(), h.max_len());
                    let mut props = Vec::new();
                    if let Some((g, sn, lct)) = curt {
                        props.push(pair("curtGtid", g));
                        props.push(pair("curtGtidSn", &sn.to_string()));
                        props.push(pair("curtGtidLct", &lct.to_string()));
                    }
                    if rows > 0 {
                        props.push(pair("rowsCount", &rows.to_string()));
                    }
                    let p = Header {
                        version: Some(1),
                        logfile_name: Some("mysql-bin.000001".into()),
                        logfile_offset: Some(1 << 33),
                        server_id: Some(7),
                        serveren_code: Some("UTF-8".into()),
                        execute_time: Some(1_700_000_000_000),
                        source_type: Some(2),
                        schema_name: schema.map(String::from),
                        table_name: table.map(String::from),
                        event_length: Some(130),
                        event_type: et,
                        props,
                        gtid: gtid.map(String::from),
                    };
                    let mut want = Vec::new();
                    prost::encoding::message::encode(1, &p, &mut want);
                    assert_eq!(got, want);
                }
            }
        }
    }

    #[test]
    fn columns_match_prost() {
        let long = "n".repeat(200);
        let defs = [
            ("id", true, "bigint(20)"),
            ("name", false, "varchar(10)"),
            (long.as_str(), false, "text"),
        ];
        let pre = PreCols::new(defs.iter().map(|&(n, k, t)| (n, k, t, 12)));
        let big = "v".repeat(300);
        for (i, &(name, is_key, mysql_type)) in defs.iter().enumerate() {
            for (sql_type, value) in [
                (-7, Some("1")),
                (4, None),
                (12, Some("")),
                (93, Some("x")),
                (2005, Some(big.as_str())),
            ] {
                for updated in [false, true] {
                    let mut got = Vec::new();
                    pre.write(&mut got, 2, i, sql_type, updated, value.map(str::as_bytes));
                    let p = Column {
                        index: Some(i as i32),
                        sql_type: Some(sql_type),
                        name: Some(name.into()),
                        is_key: Some(is_key),
                        updated: Some(updated),
                        is_null: Some(value.is_none()),
                        props: Vec::new(),
                        value: value.map(String::from),
                        length: None,
                        mysql_type: Some(mysql_type.into()),
                    };
                    let mut want = Vec::new();
                    prost::encoding::message::encode(2, &p, &mut want);
                    assert_eq!(got, want);
                }
            }
        }
        // Unknown column: nothing written.
        let mut got = Vec::new();
        pre.write(&mut got, 1, 3, 4, false, None);
        assert!(got.is_empty());
    }

    #[test]
    fn store_values_match_prost() {
        let xa = [("XA_TYPE", "XA START"), ("XA_XID", " X'31',X'',1")];
        let xa_p = vec![pair("XA_TYPE", "XA START"), pair("XA_XID", " X'31',X'',1")];
        let check = |s: StoreOut<'_>, want_body: Vec<u8>| {
            let mut got = Vec::new();
            s.write(&mut got);
            assert_eq!(got.len(), s.encoded_len());
            let mut want = Vec::new();
            prost::encoding::bytes::encode(3, &want_body, &mut want);
            assert_eq!(got, want);
        };
        for (props, props_p) in [(&[][..], Vec::new()), (&xa[..], xa_p.clone())] {
            check(
                StoreOut::Begin {
                    thread_id: 7,
                    props,
                },
                TransactionBegin {
                    props: props_p.clone(),
                    thread_id: Some(7),
                    ..Default::default()
                }
                .encode_to_vec(),
            );
            check(
                StoreOut::End {
                    transaction_id: "123456789012",
                    props,
                },
                TransactionEnd {
                    transaction_id: Some("123456789012".into()),
                    props: props_p.clone(),
                    ..Default::default()
                }
                .encode_to_vec(),
            );
            let sql = "x".repeat(500);
            for (is_ddl, ddl_schema) in
                [(None, None), (Some(true), Some("db")), (Some(false), None)]
            {
                check(
                    StoreOut::Query {
                        event_type: 13,
                        is_ddl,
                        sql: &sql,
                        props,
                        ddl_schema,
                    },
                    RowChange {
                        event_type: Some(13),
                        is_ddl,
                        sql: Some(sql.clone()),
                        props: props_p.clone(),
                        ddl_schema_name: ddl_schema.map(String::from),
                        ..Default::default()
                    }
                    .encode_to_vec(),
                );
            }
        }
    }

    #[test]
    fn reserved_lengths_are_fixed_up() {
        for body in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            for guess in 1..=3 {
                let mut buf = vec![9u8];
                let at = begin_len(&mut buf, guess);
                buf.extend((0..body).map(|i| i as u8));
                end_len(&mut buf, at, guess);
                let mut want = vec![9u8];
                encode_varint(body as u64, &mut want);
                want.extend((0..body).map(|i| i as u8));
                assert_eq!(buf, want, "body {body} guess {guess}");
            }
        }
    }
}
