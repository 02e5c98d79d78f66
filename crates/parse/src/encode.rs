//! Direct protobuf writer for the ROWDATA hot path: `Column`, `RowData` and `RowChange` bytes are
//! written straight from rendered values into reused buffers, without building the prost structs.
//!
//! Hand-written (on top of prost's varint helpers) because prost can only encode from owned
//! message structs; the output must stay byte-identical to prost's encoding of
//! `canal_protocol::entry` messages (fields in tag order, every `Some` optional field written),
//! which the differential test `tests/direct_encode.rs` checks on every recorded binlog.

use prost::encoding::{encode_varint, encoded_len_varint};

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

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::entry::Column;
    use prost::Message;

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
