//! `canalctl decode --entries <binlog file>`: the entries a binlog file turns into, as JSON lines
//! (one object per entry: header, entryType and the decoded storeValue).

use std::io::Write;
use std::path::Path;

use canal_binlog::event::{Event, EventBody};
use canal_binlog::{BinlogFile, EventDecoder};
use canal_protocol::entry::{
    Column, Entry, EntryType, EventType, Header, Pair, RowChange, TransactionBegin, TransactionEnd,
};
use prost::Message;
use serde_json::{json, Map, Value as J};

use crate::{ConvertOptions, Converter, ParseError, ParsedEntry};

/// Converts a whole binlog file, returning the entries of events starting at or after
/// `emit_from` (earlier events still feed table metadata and GTID state).
pub fn convert_file(
    path: impl AsRef<Path>,
    opts: ConvertOptions,
    emit_from: u64,
) -> Result<Vec<ParsedEntry>, ParseError> {
    let path = path.as_ref();
    let mut conv = Converter::new(opts)?;
    convert_file_with(&mut conv, path, emit_from)
}

/// Like [`convert_file`] with a prepared converter (GTID start, history, source...).
pub fn convert_file_with(
    conv: &mut Converter,
    path: &Path,
    emit_from: u64,
) -> Result<Vec<ParsedEntry>, ParseError> {
    let (file, name) = open_for(conv, path)?;
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    let mut events = file.events();
    while let Some(ev) = events.next() {
        let ev = ev.map_err(|e| ParseError::Decode(format!("{name}: {e}")))?;
        scratch.clear();
        convert_event(conv, events.decoder(), &ev, &name, &mut scratch)?;
        if ev.offset >= emit_from {
            out.append(&mut scratch);
        }
    }
    Ok(out)
}

/// Feeds a converter as a dump starting at `start` would: the FORMAT_DESCRIPTION, then every
/// event from `start` on (`start` = 4 for the whole file). Returns all entries produced.
pub fn convert_file_from(
    conv: &mut Converter,
    path: &Path,
    start: u64,
) -> Result<Vec<ParsedEntry>, ParseError> {
    let (file, name) = open_for(conv, path)?;
    let mut out = Vec::new();
    let mut events = file.events();
    while let Some(ev) = events.next() {
        let ev = ev.map_err(|e| ParseError::Decode(format!("{name}: {e}")))?;
        let fde = matches!(ev.body, EventBody::FormatDescription(_));
        if ev.offset < start && !fde {
            continue;
        }
        convert_event(conv, events.decoder(), &ev, &name, &mut out)?;
    }
    Ok(out)
}

/// Opens a binlog file and sets the converter's file name to its name (returned too).
fn open_for(conv: &mut Converter, path: &Path) -> Result<(BinlogFile, String), ParseError> {
    let file = BinlogFile::open(path)?.map_err(|e| ParseError::Decode(e.to_string()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    conv.set_file(&name);
    Ok((file, name))
}

/// Converts one event of file `name` into `out`; a TRANSACTION_PAYLOAD's inner events one by
/// one, each accounted with the payload event's length.
fn convert_event(
    conv: &mut Converter,
    decoder: &mut EventDecoder,
    ev: &Event<'_>,
    name: &str,
    out: &mut Vec<ParsedEntry>,
) -> Result<(), ParseError> {
    if let EventBody::TransactionPayload(p) = &ev.body {
        let len = ev.header.event_size;
        for inner in decoder.payload_events(ev.offset, p) {
            let inner = inner.map_err(|e| ParseError::Decode(format!("{name}: {e}")))?;
            conv.convert_inner(&inner, len, out)?;
        }
        Ok(())
    } else {
        conv.convert(ev, out)
    }
}

fn pairs(p: &[Pair]) -> J {
    J::Array(
        p.iter()
            .map(|p| json!({"key": p.key, "value": p.value}))
            .collect(),
    )
}

fn enum_name(v: Option<i32>) -> J {
    match v.and_then(|v| EventType::try_from(v).ok()) {
        Some(t) => J::String(t.as_str_name().to_string()),
        None => J::Null,
    }
}

fn put<T: serde::Serialize>(m: &mut Map<String, J>, k: &str, v: &Option<T>) {
    if let Some(v) = v {
        m.insert(k.into(), json!(v));
    }
}

fn header_json(h: &Header) -> J {
    let mut m = Map::new();
    put(&mut m, "version", &h.version);
    put(&mut m, "logfileName", &h.logfile_name);
    put(&mut m, "logfileOffset", &h.logfile_offset);
    put(&mut m, "serverId", &h.server_id);
    put(&mut m, "serverenCode", &h.serveren_code);
    put(&mut m, "executeTime", &h.execute_time);
    if h.source_type.is_some() {
        m.insert("sourceType".into(), json!("MYSQL"));
    }
    put(&mut m, "schemaName", &h.schema_name);
    put(&mut m, "tableName", &h.table_name);
    put(&mut m, "eventLength", &h.event_length);
    if h.event_type.is_some() {
        m.insert("eventType".into(), enum_name(h.event_type));
    }
    if !h.props.is_empty() {
        m.insert("props".into(), pairs(&h.props));
    }
    put(&mut m, "gtid", &h.gtid);
    J::Object(m)
}

fn column_json(c: &Column) -> J {
    let mut m = Map::new();
    put(&mut m, "index", &c.index);
    put(&mut m, "sqlType", &c.sql_type);
    put(&mut m, "name", &c.name);
    put(&mut m, "isKey", &c.is_key);
    put(&mut m, "updated", &c.updated);
    put(&mut m, "isNull", &c.is_null);
    put(&mut m, "value", &c.value);
    put(&mut m, "mysqlType", &c.mysql_type);
    J::Object(m)
}

/// One serialized entry as a JSON object (fields present on the wire only).
pub fn entry_json(bytes: &[u8]) -> Result<J, prost::DecodeError> {
    let e = Entry::decode(bytes)?;
    let mut m = Map::new();
    if let Some(h) = &e.header {
        m.insert("header".into(), header_json(h));
    }
    let t = e.entry_type.and_then(|v| EntryType::try_from(v).ok());
    if let Some(t) = t {
        m.insert("entryType".into(), json!(t.as_str_name()));
    }
    let sv = e.store_value.clone().unwrap_or_default();
    let store = match t {
        Some(EntryType::Transactionbegin) => {
            let b = TransactionBegin::decode(sv)?;
            let mut o = Map::new();
            if !b.props.is_empty() {
                o.insert("props".into(), pairs(&b.props));
            }
            put(&mut o, "threadId", &b.thread_id);
            J::Object(o)
        }
        Some(EntryType::Transactionend) => {
            let b = TransactionEnd::decode(sv)?;
            let mut o = Map::new();
            put(&mut o, "transactionId", &b.transaction_id);
            if !b.props.is_empty() {
                o.insert("props".into(), pairs(&b.props));
            }
            J::Object(o)
        }
        _ => {
            let rc = RowChange::decode(sv)?;
            let mut o = Map::new();
            put(&mut o, "tableId", &rc.table_id);
            if rc.event_type.is_some() {
                o.insert("eventType".into(), enum_name(rc.event_type));
            }
            put(&mut o, "isDdl", &rc.is_ddl);
            put(&mut o, "sql", &rc.sql);
            if !rc.row_datas.is_empty() {
                let rows: Vec<J> = rc
                    .row_datas
                    .iter()
                    .map(|r| {
                        let mut ro = Map::new();
                        if !r.before_columns.is_empty() {
                            ro.insert(
                                "beforeColumns".into(),
                                J::Array(r.before_columns.iter().map(column_json).collect()),
                            );
                        }
                        if !r.after_columns.is_empty() {
                            ro.insert(
                                "afterColumns".into(),
                                J::Array(r.after_columns.iter().map(column_json).collect()),
                            );
                        }
                        J::Object(ro)
                    })
                    .collect();
                o.insert("rowDatas".into(), J::Array(rows));
            }
            if !rc.props.is_empty() {
                o.insert("props".into(), pairs(&rc.props));
            }
            put(&mut o, "ddlSchemaName", &rc.ddl_schema_name);
            J::Object(o)
        }
    };
    m.insert("storeValue".into(), store);
    Ok(J::Object(m))
}

/// Writes the entries of `path` as JSON lines to `out` (what `canalctl decode --entries` prints).
pub fn write_entries_json(
    path: impl AsRef<Path>,
    opts: ConvertOptions,
    out: &mut impl Write,
) -> Result<usize, ParseError> {
    let entries = convert_file(path, opts, 0)?;
    for e in &entries {
        let j = entry_json(&e.bytes).map_err(|x| ParseError::Decode(x.to_string()))?;
        writeln!(out, "{j}")?;
    }
    Ok(entries.len())
}
