//! `canalctl decode`: one JSON line per event of a binlog file.
//!
//! Each line has `type` (event type name), `pos` (`file:offset`), `size`, `server_id`,
//! `timestamp` and type-specific fields; rows events carry `rows`, a list of
//! `{"before": {...}, "after": {...}}` images keyed by column name (from TABLE_MAP optional
//! metadata) or `@<index>`. Events inside a TRANSACTION_PAYLOAD follow their payload event with
//! the same `pos` and `"inner": true`. Values: integers as numbers (signed, as stored),
//! DECIMAL as a string, temporal values as strings, strings as text when valid UTF-8 and
//! otherwise `{"hex": ...}`, JSON as its text.
#![warn(missing_docs)]

use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value as J};

use crate::error::DecodeError;
use crate::event::{
    event_type_name, uuid_string, Event, EventBody, Row, RowsEvent, TableMap, UserVarValue,
};
use crate::file::BinlogFile;
use crate::value::Value;
use crate::EventDecoder;

/// Why a dump failed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// Reading the file or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The binlog is corrupt or truncated; the error names the offset.
    #[error("{file}: {source}")]
    Decode {
        /// The file name.
        file: String,
        /// What went wrong where.
        source: DecodeError,
    },
}

impl DumpError {
    /// The offset of the failing event, for decode errors.
    pub fn offset(&self) -> Option<u64> {
        match self {
            DumpError::Decode { source, .. } => Some(source.offset),
            DumpError::Io(_) => None,
        }
    }
}

/// Decodes the binlog file at `path` and writes one JSON line per event to `out`.
pub fn dump_file_json(path: impl AsRef<Path>, out: &mut impl Write) -> Result<(), DumpError> {
    let path = path.as_ref();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let derr = |source: DecodeError| DumpError::Decode {
        file: name.clone(),
        source,
    };
    let file = BinlogFile::open(path)?.map_err(derr)?;
    let mut decoder = EventDecoder::new();
    for raw in file.raw_events() {
        let raw = raw.map_err(derr)?;
        let ev = decoder.decode(raw.offset, raw.bytes).map_err(derr)?;
        let line = event_json(&name, &ev, false).map_err(derr)?;
        writeln!(out, "{line}")?;
        if let EventBody::TransactionPayload(p) = &ev.body {
            let inner: Vec<_> = decoder.payload_events(ev.offset, p).collect();
            for e in inner {
                let e = e.map_err(derr)?;
                writeln!(out, "{}", event_json(&name, &e, true).map_err(derr)?)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn text(b: &[u8]) -> J {
    J::String(String::from_utf8_lossy(b).into_owned())
}

fn bytes_json(b: &[u8]) -> J {
    match std::str::from_utf8(b) {
        Ok(s) => J::String(s.to_owned()),
        Err(_) => json!({ "hex": b.iter().map(|x| format!("{x:02x}")).collect::<String>() }),
    }
}

/// Renders one event as a JSON object (rows decoded).
pub fn event_json(file: &str, ev: &Event<'_>, inner: bool) -> Result<J, DecodeError> {
    let mut m = Map::new();
    m.insert("type".into(), event_type_name(ev.header.event_type).into());
    m.insert("pos".into(), format!("{file}:{}", ev.offset).into());
    if inner {
        m.insert("inner".into(), true.into());
    }
    m.insert("size".into(), ev.header.event_size.into());
    m.insert("server_id".into(), ev.header.server_id.into());
    m.insert("timestamp".into(), ev.header.timestamp.into());
    match &ev.body {
        EventBody::FormatDescription(f) => {
            m.insert("server_version".into(), f.server_version.clone().into());
            m.insert(
                "checksum".into(),
                f.checksum_alg.map_or(J::Null, |a| a.into()),
            );
        }
        EventBody::Rotate {
            next_file,
            position,
        } => {
            m.insert("next_file".into(), next_file.clone().into());
            m.insert("position".into(), (*position).into());
        }
        EventBody::Query(q) => {
            m.insert("schema".into(), text(q.schema));
            m.insert("sql".into(), text(&q.sql));
        }
        EventBody::Xid { xid } => {
            m.insert("xid".into(), (*xid).into());
        }
        EventBody::TableMap(t) => {
            m.insert("table_id".into(), t.table_id.into());
            m.insert("table".into(), format!("{}.{}", t.schema, t.table).into());
            m.insert(
                "columns".into(),
                t.columns
                    .iter()
                    .map(|c| c.real_type)
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
        EventBody::Rows(r) => {
            m.insert("table_id".into(), r.table_id.into());
            if let Some(t) = &r.table {
                m.insert("table".into(), format!("{}.{}", t.schema, t.table).into());
            }
            m.insert(
                "rows".into(),
                rows_json(r).map_err(|e| e.at(ev.offset).with_type(ev.header.event_type))?,
            );
        }
        EventBody::Gtid(g) if !g.anonymous => {
            m.insert("gtid".into(), g.to_gtid_string().into());
        }
        EventBody::PreviousGtids { sets } => {
            let s: Vec<J> = sets
                .iter()
                .map(|s| {
                    let iv: Vec<String> = s
                        .intervals
                        .iter()
                        .map(|(a, b)| format!("{a}-{}", b.wrapping_sub(1)))
                        .collect();
                    format!(
                        "{}{}:{}",
                        uuid_string(&s.sid),
                        s.tag.as_ref().map_or(String::new(), |t| format!(":{t}")),
                        iv.join(":")
                    )
                    .into()
                })
                .collect();
            m.insert("sets".into(), s.into());
        }
        EventBody::RowsQuery { sql } => {
            m.insert("sql".into(), text(sql));
        }
        EventBody::MariaGtid(g) => {
            m.insert(
                "gtid".into(),
                format!("{}-{}-{}", g.domain_id, ev.header.server_id, g.seq_no).into(),
            );
        }
        EventBody::MariaGtidList { gtids } => {
            let s: Vec<J> = gtids
                .iter()
                .map(|(d, s, n)| format!("{d}-{s}-{n}").into())
                .collect();
            m.insert("gtids".into(), s.into());
        }
        EventBody::MariaBinlogCheckpoint { file } => {
            m.insert("file".into(), file.clone().into());
        }
        EventBody::TransactionPayload(p) => {
            m.insert("compression".into(), p.compression.into());
            m.insert("uncompressed_size".into(), p.uncompressed.len().into());
        }
        EventBody::Intvar { kind, value } => {
            m.insert("kind".into(), (*kind).into());
            m.insert("value".into(), (*value).into());
        }
        EventBody::Rand { seed1, seed2 } => {
            m.insert("seed1".into(), (*seed1).into());
            m.insert("seed2".into(), (*seed2).into());
        }
        EventBody::UserVariable(u) => {
            m.insert("name".into(), text(u.name));
            let v = match &u.value {
                None => J::Null,
                Some(UserVarValue::String { bytes, .. }) => bytes_json(bytes),
                Some(UserVarValue::Real(bits)) => json!(f64::from_bits(*bits)),
                Some(UserVarValue::Int { value, unsigned }) => {
                    if *unsigned {
                        json!(*value as u64)
                    } else {
                        json!(value)
                    }
                }
                Some(UserVarValue::Decimal {
                    precision,
                    scale,
                    bytes,
                }) => crate::value::Decimal::new(*precision, *scale, bytes)
                    .map_or(J::Null, |d| d.to_string().into()),
                Some(UserVarValue::Other { bytes, .. }) => bytes_json(bytes),
            };
            m.insert("value".into(), v);
        }
        EventBody::XaPrepare { one_phase, xid } => {
            m.insert("one_phase".into(), (*one_phase).into());
            m.insert("xid".into(), bytes_json(xid));
        }
        EventBody::Heartbeat { file } => {
            m.insert("file".into(), file.clone().into());
        }
        _ => {}
    }
    Ok(J::Object(m))
}

fn rows_json(r: &RowsEvent<'_>) -> Result<J, DecodeError> {
    let mut out = Vec::new();
    let reader = r.reader()?;
    let table = reader.table();
    let mut reader = reader;
    let mut row = Row::default();
    while reader.next_into(&mut row)? {
        let mut o = Map::new();
        if let Some(b) = &row.before {
            o.insert("before".into(), image_json(table, b));
        }
        if let Some(a) = &row.after {
            o.insert("after".into(), image_json(table, a));
        }
        out.push(J::Object(o));
    }
    Ok(J::Array(out))
}

fn image_json(t: &TableMap, img: &[Option<Value<'_>>]) -> J {
    let mut o = Map::new();
    for (i, v) in img.iter().enumerate() {
        if let Some(v) = v {
            let name = t
                .meta
                .column_names
                .as_ref()
                .and_then(|n| n.get(i))
                .cloned()
                .unwrap_or_else(|| format!("@{i}"));
            let unsigned = t
                .meta
                .unsigned
                .as_ref()
                .and_then(|u| u.get(i).copied().flatten())
                .unwrap_or(false);
            let j = match *v {
                Value::Int { value, width } if unsigned => {
                    let mask = if width >= 8 {
                        u64::MAX
                    } else {
                        (1u64 << (8 * width)) - 1
                    };
                    ((value as u64) & mask).into()
                }
                _ => value_json(v),
            };
            o.insert(name, j);
        }
    }
    J::Object(o)
}

/// Renders one value for the dump (not Canal's rendering).
pub fn value_json(v: &Value<'_>) -> J {
    match *v {
        Value::Null => J::Null,
        Value::Int { value, .. } => value.into(),
        Value::Float(f) => {
            serde_json::Number::from_f64(f as f64).map_or_else(|| f.to_string().into(), J::Number)
        }
        Value::Double(f) => {
            serde_json::Number::from_f64(f).map_or_else(|| f.to_string().into(), J::Number)
        }
        Value::Decimal(d) => d.to_string().into(),
        Value::Year(y) => y.into(),
        Value::Bit { bytes, .. } => crate::read::be_uint(bytes).into(),
        Value::Enum(e) => e.into(),
        Value::Set(s) => s.into(),
        Value::String(b) | Value::Blob(b) => bytes_json(b),
        Value::Geometry(b) | Value::Vector(b) => bytes_json(b),
        Value::Json(b) => {
            if b.is_empty() {
                return "".into();
            }
            let mut s = String::new();
            match crate::json::parse(b).and_then(|j| crate::json::write_text(&j, &mut s)) {
                Ok(()) => s.into(),
                Err(e) => json!({ "invalid_json": e.to_string() }),
            }
        }
        Value::JsonDiff(b) => {
            let mut ops = Vec::new();
            for d in crate::json::diffs(b) {
                match d {
                    Ok(d) => {
                        let mut s = String::new();
                        if let Some(Ok(v)) = d.parsed_value() {
                            let _ = crate::json::write_text(&v, &mut s);
                        }
                        ops.push(
                            json!({"op": format!("{:?}", d.op), "path": text(d.path), "value": s}),
                        );
                    }
                    Err(e) => ops.push(json!({ "invalid_diff": e.to_string() })),
                }
            }
            J::Array(ops)
        }
        _ => v.to_string().into(),
    }
}
