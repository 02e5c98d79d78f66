//! MySQL binary JSON (the `JSON` column format) and partial-update diffs
//! (`PARTIAL_UPDATE_ROWS_EVENT` with `binlog_row_value_options=PARTIAL_JSON`).
//!
//! The parser is lazy and borrowed: [`parse`] returns a [`JsonValue`] whose objects and arrays
//! decode their members on demand from the original bytes, so a consumer can render any text
//! form (Canal's, MySQL's) without an intermediate tree. Every offset is bounds-checked.
#![warn(missing_docs)]

use crate::read::{le_uint, Cursor};
use crate::value::Decimal;

/// Maximum nesting depth accepted by the text writer (MySQL's own limit is 100).
pub const MAX_DEPTH: usize = 150;

/// A malformed JSON document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid binary JSON: {0}")]
pub struct JsonError(pub &'static str);

type JR<T> = Result<T, JsonError>;

/// Binary JSON type codes.
pub mod jtype {
    /// Object with 2-byte offsets.
    pub const SMALL_OBJECT: u8 = 0x00;
    /// Object with 4-byte offsets.
    pub const LARGE_OBJECT: u8 = 0x01;
    /// Array with 2-byte offsets.
    pub const SMALL_ARRAY: u8 = 0x02;
    /// Array with 4-byte offsets.
    pub const LARGE_ARRAY: u8 = 0x03;
    /// null / true / false.
    pub const LITERAL: u8 = 0x04;
    /// Signed 16-bit.
    pub const INT16: u8 = 0x05;
    /// Unsigned 16-bit.
    pub const UINT16: u8 = 0x06;
    /// Signed 32-bit.
    pub const INT32: u8 = 0x07;
    /// Unsigned 32-bit.
    pub const UINT32: u8 = 0x08;
    /// Signed 64-bit.
    pub const INT64: u8 = 0x09;
    /// Unsigned 64-bit.
    pub const UINT64: u8 = 0x0a;
    /// IEEE double.
    pub const DOUBLE: u8 = 0x0b;
    /// utf8mb4 string.
    pub const STRING: u8 = 0x0c;
    /// Any other MySQL type: field type byte + bytes.
    pub const OPAQUE: u8 = 0x0f;
}

/// One JSON value, borrowed from the binary document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsonValue<'a> {
    /// An object; iterate with [`JsonObject::iter`].
    Object(JsonObject<'a>),
    /// An array; iterate with [`JsonArray::iter`].
    Array(JsonArray<'a>),
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// int16 / int32 / int64.
    Int(i64),
    /// uint16 / uint32 / uint64.
    UInt(u64),
    /// double.
    Double(f64),
    /// String bytes (utf8mb4 as stored).
    String(&'a [u8]),
    /// A MySQL value of another type: `field_type` is the MySQL column type code
    /// (246 DECIMAL, 10 DATE, 11 TIME, 12 DATETIME, 7 TIMESTAMP, 15/252/253 strings, ...).
    Opaque {
        /// MySQL field type code.
        field_type: u8,
        /// The value bytes (see [`opaque_decimal`], [`opaque_datetime`], [`opaque_time`]).
        data: &'a [u8],
    },
}

/// A JSON object: members in stored order (MySQL sorts keys by length, then bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonObject<'a> {
    data: &'a [u8],
    large: bool,
    count: usize,
}

/// A JSON array.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonArray<'a> {
    data: &'a [u8],
    large: bool,
    count: usize,
}

/// Parses a complete binary JSON document (type byte + value). An empty slice is an error
/// (MySQL logs an empty JSON column value for some invalid inputs; callers decide what to show).
pub fn parse(doc: &[u8]) -> JR<JsonValue<'_>> {
    let (&t, data) = doc.split_first().ok_or(JsonError("empty document"))?;
    parse_value(t, data)
}

/// Parses a value of type `t` whose bytes start at `data` (to the end of the container).
pub fn parse_value(t: u8, data: &[u8]) -> JR<JsonValue<'_>> {
    use jtype::*;
    let need = |n: usize| data.get(..n).ok_or(JsonError("value out of bounds"));
    Ok(match t {
        SMALL_OBJECT | LARGE_OBJECT | SMALL_ARRAY | LARGE_ARRAY => {
            let large = t == LARGE_OBJECT || t == LARGE_ARRAY;
            let w = if large { 4 } else { 2 };
            let count = le_uint(need(w)?) as usize;
            let size = le_uint(need(2 * w)?.get(w..).unwrap_or(&[])) as usize;
            let body = data
                .get(..size)
                .ok_or(JsonError("container size out of bounds"))?;
            // Header must fit: 2 words + entries.
            let entry = if t <= LARGE_OBJECT {
                w + 2 + 1 + w
            } else {
                1 + w
            };
            let hdr = count.checked_mul(entry).and_then(|x| x.checked_add(2 * w));
            if hdr.is_none_or(|h| h > size) {
                return Err(JsonError("container header out of bounds"));
            }
            if t <= LARGE_OBJECT {
                JsonValue::Object(JsonObject {
                    data: body,
                    large,
                    count,
                })
            } else {
                JsonValue::Array(JsonArray {
                    data: body,
                    large,
                    count,
                })
            }
        }
        LITERAL => match need(1)?[0] {
            0 => JsonValue::Null,
            1 => JsonValue::Bool(true),
            2 => JsonValue::Bool(false),
            _ => return Err(JsonError("bad literal")),
        },
        INT16 => JsonValue::Int(le_uint(need(2)?) as u16 as i16 as i64),
        UINT16 => JsonValue::UInt(le_uint(need(2)?)),
        INT32 => JsonValue::Int(le_uint(need(4)?) as u32 as i32 as i64),
        UINT32 => JsonValue::UInt(le_uint(need(4)?)),
        INT64 => JsonValue::Int(le_uint(need(8)?) as i64),
        UINT64 => JsonValue::UInt(le_uint(need(8)?)),
        DOUBLE => JsonValue::Double(f64::from_bits(le_uint(need(8)?))),
        STRING => {
            let (len, n) = varlen(data)?;
            let s = data
                .get(n..)
                .and_then(|d| d.get(..len))
                .ok_or(JsonError("string out of bounds"))?;
            JsonValue::String(s)
        }
        OPAQUE => {
            let (&ft, rest) = data.split_first().ok_or(JsonError("opaque type missing"))?;
            let (len, n) = varlen(rest)?;
            let s = rest
                .get(n..)
                .and_then(|d| d.get(..len))
                .ok_or(JsonError("opaque out of bounds"))?;
            JsonValue::Opaque {
                field_type: ft,
                data: s,
            }
        }
        _ => return Err(JsonError("unknown value type")),
    })
}

/// Variable-length length: 7 bits per byte, little-endian, high bit = more (max 5 bytes).
fn varlen(data: &[u8]) -> JR<(usize, usize)> {
    let mut len: u64 = 0;
    for i in 0..5 {
        let b = *data.get(i).ok_or(JsonError("length out of bounds"))?;
        len |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            let len = usize::try_from(len).map_err(|_| JsonError("length too large"))?;
            return Ok((len, i + 1));
        }
    }
    Err(JsonError("length too long"))
}

fn inline_value(t: u8, large: bool) -> bool {
    use jtype::*;
    matches!(t, LITERAL | INT16 | UINT16) || (large && matches!(t, INT32 | UINT32))
}

/// Reads the value entry at `pos` of a container body.
fn value_entry(data: &[u8], pos: usize, large: bool) -> JR<JsonValue<'_>> {
    let w = if large { 4 } else { 2 };
    let e = data
        .get(pos..pos + 1 + w)
        .ok_or(JsonError("value entry out of bounds"))?;
    let t = e[0];
    if inline_value(t, large) {
        return parse_value(t, &e[1..]);
    }
    let off = le_uint(&e[1..]) as usize;
    let v = data
        .get(off..)
        .ok_or(JsonError("value offset out of bounds"))?;
    parse_value(t, v)
}

impl<'a> JsonObject<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        self.count
    }
    /// True for `{}`.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The `i`-th member (key bytes, value).
    pub fn get(&self, i: usize) -> JR<(&'a [u8], JsonValue<'a>)> {
        if i >= self.count {
            return Err(JsonError("member index out of range"));
        }
        let w = if self.large { 4 } else { 2 };
        let kpos = 2 * w + i * (w + 2);
        let ke = self
            .data
            .get(kpos..kpos + w + 2)
            .ok_or(JsonError("key entry out of bounds"))?;
        let koff = le_uint(&ke[..w]) as usize;
        let klen = le_uint(&ke[w..]) as usize;
        let key = self
            .data
            .get(koff..)
            .and_then(|d| d.get(..klen))
            .ok_or(JsonError("key out of bounds"))?;
        let vpos = 2 * w + self.count * (w + 2) + i * (1 + w);
        let v = value_entry(self.data, vpos, self.large)?;
        Ok((key, v))
    }
    /// Members in stored order.
    pub fn iter(&self) -> impl Iterator<Item = JR<(&'a [u8], JsonValue<'a>)>> + '_ {
        (0..self.count).map(move |i| self.get(i))
    }
}

impl<'a> JsonArray<'a> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.count
    }
    /// True for `[]`.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// The `i`-th element.
    pub fn get(&self, i: usize) -> JR<JsonValue<'a>> {
        if i >= self.count {
            return Err(JsonError("element index out of range"));
        }
        let w = if self.large { 4 } else { 2 };
        value_entry(self.data, 2 * w + i * (1 + w), self.large)
    }
    /// Elements in order.
    pub fn iter(&self) -> impl Iterator<Item = JR<JsonValue<'a>>> + '_ {
        (0..self.count).map(move |i| self.get(i))
    }
}

/// Opaque DECIMAL: precision byte, scale byte, packed decimal.
pub fn opaque_decimal(data: &[u8]) -> Option<Decimal<'_>> {
    let (&p, rest) = data.split_first()?;
    let (&s, bytes) = rest.split_first()?;
    Decimal::new(p, s, bytes)
}

/// A DATE/DATETIME/TIMESTAMP from MySQL's packed 8-byte form (opaque JSON values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PackedDateTime {
    /// True for negative values (never for valid dates).
    pub negative: bool,
    /// Year.
    pub year: u32,
    /// Month 0..=12.
    pub month: u8,
    /// Day 0..=31.
    pub day: u8,
    /// Hour.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Microseconds.
    pub micros: u32,
}

/// A TIME from MySQL's packed 8-byte form (opaque JSON values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PackedTime {
    /// Sign.
    pub negative: bool,
    /// Hours (up to 838 for valid values).
    pub hours: u32,
    /// Minutes.
    pub minutes: u8,
    /// Seconds.
    pub seconds: u8,
    /// Microseconds.
    pub micros: u32,
}

fn packed_i64(data: &[u8]) -> Option<i64> {
    (data.len() >= 8).then(|| le_uint(&data[..8]) as i64)
}

/// Decodes an opaque DATE (10), DATETIME (12) or TIMESTAMP (7) value.
pub fn opaque_datetime(data: &[u8]) -> Option<PackedDateTime> {
    let v = packed_i64(data)?;
    let negative = v < 0;
    let v = v.unsigned_abs();
    let micros = (v % (1 << 24)) as u32;
    let ymdhms = v >> 24;
    let ymd = ymdhms >> 17;
    let ym = ymd >> 5;
    let hms = ymdhms % (1 << 17);
    Some(PackedDateTime {
        negative,
        year: (ym / 13) as u32,
        month: (ym % 13) as u8,
        day: (ymd % (1 << 5)) as u8,
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) % (1 << 6)) as u8,
        second: (hms % (1 << 6)) as u8,
        micros,
    })
}

/// Decodes an opaque TIME (11) value.
pub fn opaque_time(data: &[u8]) -> Option<PackedTime> {
    let v = packed_i64(data)?;
    let negative = v < 0;
    let v = v.unsigned_abs();
    let hms = v >> 24;
    Some(PackedTime {
        negative,
        hours: ((hms >> 12) % (1 << 10)) as u32,
        minutes: ((hms >> 6) % (1 << 6)) as u8,
        seconds: (hms % (1 << 6)) as u8,
        micros: (v % (1 << 24)) as u32,
    })
}

/// The scalar renderings that differ between JSON text dialects; [`write_text_with`] does the
/// shared part (objects `{"k": v}`, arrays `[a, b]`, `null`/`true`/`false`, integers, depth
/// limit) and asks the style for strings/keys, doubles and opaque values.
pub trait TextStyle {
    /// Writes a string or object key (bytes as stored), quoted and escaped.
    fn string(&self, s: &[u8], out: &mut String);
    /// Writes a double.
    fn double(&self, d: f64, out: &mut String);
    /// Writes an opaque value of MySQL column type `field_type`.
    fn opaque(&self, field_type: u8, data: &[u8], out: &mut String) -> Result<(), JsonError>;
}

/// MySQL-style text, used by the dump tool and tests: opaque values quoted (decimals unquoted,
/// temporal values always with 6 fraction digits), doubles in Rust's shortest form. Not
/// Canal's rendering (see the `parse` crate for that).
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlTextStyle;

impl TextStyle for MysqlTextStyle {
    fn string(&self, s: &[u8], out: &mut String) {
        write_str(s, out);
    }

    fn double(&self, d: f64, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{d:?}");
    }

    fn opaque(&self, field_type: u8, data: &[u8], out: &mut String) -> JR<()> {
        use std::fmt::Write;
        match field_type {
            246 => match opaque_decimal(data) {
                Some(d) => d.write_canonical(out),
                None => return Err(JsonError("bad opaque decimal")),
            },
            10 | 12 | 7 => {
                let t = opaque_datetime(data).ok_or(JsonError("bad opaque datetime"))?;
                let _ = write!(
                    out,
                    "\"{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}\"",
                    t.year, t.month, t.day, t.hour, t.minute, t.second, t.micros
                );
            }
            11 => {
                let t = opaque_time(data).ok_or(JsonError("bad opaque time"))?;
                let sign = if t.negative { "-" } else { "" };
                let _ = write!(
                    out,
                    "\"{sign}{:02}:{:02}:{:02}.{:06}\"",
                    t.hours, t.minutes, t.seconds, t.micros
                );
            }
            _ => write_str(data, out),
        }
        Ok(())
    }
}

/// Writes MySQL-style JSON text (`{"a": 1, "b": [true, null]}`) with [`MysqlTextStyle`].
pub fn write_text(v: &JsonValue<'_>, out: &mut String) -> JR<()> {
    write_text_with(v, out, &MysqlTextStyle)
}

/// Writes JSON text with separators `, ` and `": "`, scalars rendered by `style`.
/// Errors on nesting deeper than [`MAX_DEPTH`] or a malformed/undecodable member.
pub fn write_text_with<S: TextStyle + ?Sized>(
    v: &JsonValue<'_>,
    out: &mut String,
    style: &S,
) -> JR<()> {
    write_text_depth(v, out, style, 0)
}

fn write_text_depth<S: TextStyle + ?Sized>(
    v: &JsonValue<'_>,
    out: &mut String,
    style: &S,
    depth: usize,
) -> JR<()> {
    use std::fmt::Write;
    if depth > MAX_DEPTH {
        return Err(JsonError("nesting too deep"));
    }
    match v {
        JsonValue::Object(o) => {
            out.push('{');
            for (i, m) in o.iter().enumerate() {
                let (k, v) = m?;
                if i > 0 {
                    out.push_str(", ");
                }
                style.string(k, out);
                out.push_str(": ");
                write_text_depth(&v, out, style, depth + 1)?;
            }
            out.push('}');
        }
        JsonValue::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_text_depth(&e?, out, style, depth + 1)?;
            }
            out.push(']');
        }
        JsonValue::Null => out.push_str("null"),
        JsonValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsonValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        JsonValue::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        JsonValue::Double(d) => style.double(*d, out),
        JsonValue::String(s) => style.string(s, out),
        JsonValue::Opaque { field_type, data } => style.opaque(*field_type, data, out)?,
    }
    Ok(())
}

fn write_str(s: &[u8], out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One operation of a partial JSON update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonDiffOp {
    /// `JSON_REPLACE` / `JSON_SET` of an existing path.
    Replace,
    /// `JSON_INSERT` / `JSON_SET` of a new path, `JSON_ARRAY_INSERT`.
    Insert,
    /// `JSON_REMOVE`.
    Remove,
}

/// One diff: operation, JSON path text (e.g. `$.a[1]`) and the new value (none for remove).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonDiff<'a> {
    /// The operation.
    pub op: JsonDiffOp,
    /// The path as logged (MySQL path syntax, utf8mb4).
    pub path: &'a [u8],
    /// The new value (binary JSON document), `None` for [`JsonDiffOp::Remove`].
    pub value: Option<&'a [u8]>,
}

impl<'a> JsonDiff<'a> {
    /// The new value parsed.
    pub fn parsed_value(&self) -> Option<JR<JsonValue<'a>>> {
        self.value.map(parse)
    }
}

/// Iterates the diffs of a `Value::JsonDiff` payload: each is operation byte, length-encoded
/// path, and (unless remove) a length-encoded binary JSON value.
pub fn diffs(payload: &[u8]) -> impl Iterator<Item = JR<JsonDiff<'_>>> + '_ {
    let mut cur = Cursor::new(payload);
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || cur.is_empty() {
            return None;
        }
        let r = (|| -> JR<JsonDiff<'_>> {
            let e = JsonError("truncated diff");
            let op = match cur.u8().map_err(|_| e.clone())? {
                0 => JsonDiffOp::Replace,
                1 => JsonDiffOp::Insert,
                2 => JsonDiffOp::Remove,
                _ => return Err(JsonError("unknown diff operation")),
            };
            let path = cur.lenenc_bytes().map_err(|_| e.clone())?;
            let value = if op == JsonDiffOp::Remove {
                None
            } else {
                Some(cur.lenenc_bytes().map_err(|_| e)?)
            };
            Ok(JsonDiff { op, path, value })
        })();
        failed = r.is_err();
        Some(r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(doc: &[u8]) -> String {
        let mut s = String::new();
        write_text(&parse(doc).unwrap(), &mut s).unwrap();
        s
    }

    // Hand-assembled from the format description in MySQL's json_binary.h.
    #[test]
    fn small_object_and_array() {
        // {"a": 1, "bb": "x"}: count 2, size, keys (off,len) x2, values (type,off) x2, keys, data
        let mut d = vec![0x00];
        let body: Vec<u8> = vec![
            2, 0, 0, 0, // count, size (patched)
            18, 0, 1, 0, // key "a" at 18
            19, 0, 2, 0, // key "bb" at 19
            0x05, 1, 0, // int16 1 inline
            0x0c, 21, 0, // string at 21
            b'a', b'b', b'b', 1, b'x',
        ];
        let mut body = body;
        let size = body.len() as u16;
        body[2..4].copy_from_slice(&size.to_le_bytes());
        d.extend(body);
        assert_eq!(text(&d), r#"{"a": 1, "bb": "x"}"#);
        // [true, null, -2]
        let d = [0x02, 3, 0, 13, 0, 0x04, 1, 0, 0x04, 0, 0, 0x05, 0xfe, 0xff];
        assert_eq!(text(&d), "[true, null, -2]");
    }

    #[test]
    fn bad_offsets_are_errors() {
        let d = [0x02, 3, 0, 200, 0, 0x04, 1, 0];
        assert!(parse(&d).is_err());
        let d = [0x00, 1, 0, 12, 0, 250, 0, 1, 0, 0x04, 1, 0, 0];
        let v = parse(&d).unwrap();
        let JsonValue::Object(o) = v else { panic!() };
        assert!(o.get(0).is_err());
    }

    #[test]
    fn diff_iteration() {
        // REPLACE '$.a' -> int16 5 (doc: 05 05 00), REMOVE '$.b'
        let p = [
            0, 3, b'$', b'.', b'a', 3, 0x05, 5, 0, 2, 3, b'$', b'.', b'b',
        ];
        let v: Vec<_> = diffs(&p).collect::<Result<_, _>>().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].op, JsonDiffOp::Replace);
        assert_eq!(v[0].path, b"$.a");
        assert_eq!(v[0].parsed_value().unwrap().unwrap(), JsonValue::Int(5));
        assert_eq!(v[1].op, JsonDiffOp::Remove);
        assert!(v[1].value.is_none());
        assert!(diffs(&[7]).next().unwrap().is_err());
    }
}
