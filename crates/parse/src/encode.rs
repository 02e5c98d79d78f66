//! Direct protobuf writer for the ROWDATA hot path: `Column`, `RowData` and `RowChange` bytes are
//! written straight from rendered values into reused buffers, without building the prost structs.
//!
//! Hand-written (on top of prost's varint helpers) because prost can only encode from owned
//! message structs; the output must stay byte-identical to prost's encoding of
//! `canal_protocol::entry` messages (fields in tag order, every `Some` optional field written),
//! which the differential test `tests/direct_encode.rs` checks on every recorded binlog.

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

/// One `Column` message to write (`props` and `length` are never set by the converter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnOut<'a> {
    /// `index`.
    pub index: i32,
    /// `sqlType`.
    pub sql_type: i32,
    /// `name`.
    pub name: &'a str,
    /// `isKey`.
    pub is_key: bool,
    /// `updated`.
    pub updated: bool,
    /// `value`; `None` writes `isNull = true` and no value.
    pub value: Option<&'a [u8]>,
    /// `mysqlType`.
    pub mysql_type: &'a str,
}

impl ColumnOut<'_> {
    fn body_len(&self) -> usize {
        i32_len(1, self.index)
            + i32_len(2, self.sql_type)
            + bytes_len(3, self.name.len())
            + 2 * 3
            + self.value.map_or(0, |v| bytes_len(8, v.len()))
            + bytes_len(10, self.mysql_type.len())
    }

    /// Writes the column as field `field` (1 = beforeColumns, 2 = afterColumns of `RowData`).
    pub(crate) fn write(&self, buf: &mut Vec<u8>, field: u32) {
        key(buf, field, LEN);
        encode_varint(self.body_len() as u64, buf);
        put_i32(buf, 1, self.index);
        put_i32(buf, 2, self.sql_type);
        put_bytes(buf, 3, self.name.as_bytes());
        put_bool(buf, 4, self.is_key);
        put_bool(buf, 5, self.updated);
        put_bool(buf, 6, self.value.is_none());
        if let Some(v) = self.value {
            put_bytes(buf, 8, v);
        }
        put_bytes(buf, 10, self.mysql_type.as_bytes());
    }
}

/// The `Header` of a ROWDATA entry without GTID fields (`version` 1, `serverenCode` "UTF-8",
/// `sourceType` MYSQL, optional `rowsCount` prop).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowsHeaderOut<'a> {
    /// `logfileName`.
    pub file: &'a str,
    /// `logfileOffset`.
    pub offset: i64,
    /// `serverId`.
    pub server_id: i64,
    /// `executeTime`.
    pub execute_time: i64,
    /// `schemaName`.
    pub schema: &'a str,
    /// `tableName`.
    pub table: &'a str,
    /// `eventLength`.
    pub event_length: i64,
    /// `eventType`.
    pub event_type: i32,
    /// `rowsCount` prop when > 0.
    pub rows: usize,
}

const UTF8: &[u8] = b"UTF-8";
const ROWS_COUNT: &[u8] = b"rowsCount";

impl RowsHeaderOut<'_> {
    fn pair_len(count_len: usize) -> usize {
        bytes_len(1, ROWS_COUNT.len()) + bytes_len(2, count_len)
    }

    /// Writes the header as field 1 of `Entry`.
    pub(crate) fn write(&self, buf: &mut Vec<u8>) {
        let mut ib = itoa::Buffer::new();
        let count = ib.format(self.rows).as_bytes();
        let props = if self.rows > 0 {
            bytes_len(12, Self::pair_len(count.len()))
        } else {
            0
        };
        let body = 2
            + bytes_len(2, self.file.len())
            + key_len(3)
            + encoded_len_varint(self.offset as u64)
            + key_len(4)
            + encoded_len_varint(self.server_id as u64)
            + bytes_len(5, UTF8.len())
            + key_len(6)
            + encoded_len_varint(self.execute_time as u64)
            + 2
            + bytes_len(8, self.schema.len())
            + bytes_len(9, self.table.len())
            + key_len(10)
            + encoded_len_varint(self.event_length as u64)
            + i32_len(11, self.event_type)
            + props;
        key(buf, 1, LEN);
        encode_varint(body as u64, buf);
        put_i32(buf, 1, 1);
        put_bytes(buf, 2, self.file.as_bytes());
        put_i64(buf, 3, self.offset);
        put_i64(buf, 4, self.server_id);
        put_bytes(buf, 5, UTF8);
        put_i64(buf, 6, self.execute_time);
        put_i32(buf, 7, 2);
        put_bytes(buf, 8, self.schema.as_bytes());
        put_bytes(buf, 9, self.table.as_bytes());
        put_i64(buf, 10, self.event_length);
        put_i32(buf, 11, self.event_type);
        if self.rows > 0 {
            key(buf, 12, LEN);
            encode_varint(Self::pair_len(count.len()) as u64, buf);
            put_bytes(buf, 1, ROWS_COUNT);
            put_bytes(buf, 2, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::entry::{Column, Header, Pair};
    use prost::Message;

    #[test]
    fn rows_header_matches_prost() {
        for rows in [0usize, 1, 300] {
            let h = RowsHeaderOut {
                file: "mysql-bin.000001",
                offset: 1 << 33,
                server_id: 7,
                execute_time: 1_700_000_000_000,
                schema: "db",
                table: "t",
                event_length: 130,
                event_type: 2,
                rows,
            };
            let mut got = Vec::new();
            h.write(&mut got);
            let p = Header {
                version: Some(1),
                logfile_name: Some("mysql-bin.000001".into()),
                logfile_offset: Some(1 << 33),
                server_id: Some(7),
                serveren_code: Some("UTF-8".into()),
                execute_time: Some(1_700_000_000_000),
                source_type: Some(2),
                schema_name: Some("db".into()),
                table_name: Some("t".into()),
                event_length: Some(130),
                event_type: Some(2),
                props: if rows > 0 {
                    vec![Pair {
                        key: Some("rowsCount".into()),
                        value: Some(rows.to_string()),
                    }]
                } else {
                    Vec::new()
                },
                gtid: None,
            };
            let mut want = Vec::new();
            prost::encoding::message::encode(1, &p, &mut want);
            assert_eq!(got, want);
        }
    }

    // Oracle: prost's own encoding of the same message.
    #[test]
    fn column_matches_prost() {
        for (sql_type, value) in [(-7, Some("1")), (4, None), (12, Some("")), (93, Some("x"))] {
            let c = ColumnOut {
                index: 3,
                sql_type,
                name: "name",
                is_key: true,
                updated: false,
                value: value.map(str::as_bytes),
                mysql_type: "varchar(10)",
            };
            let mut got = Vec::new();
            c.write(&mut got, 2);
            let p = Column {
                index: Some(3),
                sql_type: Some(sql_type),
                name: Some("name".into()),
                is_key: Some(true),
                updated: Some(false),
                is_null: Some(value.is_none()),
                props: Vec::new(),
                value: value.map(String::from),
                length: None,
                mysql_type: Some("varchar(10)".into()),
            };
            let mut want = Vec::new();
            prost::encoding::message::encode(2, &p, &mut want);
            assert_eq!(got, want);
            assert_eq!(c.body_len(), p.encoded_len());
        }
    }
}
