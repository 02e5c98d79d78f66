//! JSON rendering of an `Entry` for `canalctl tail` (one object per entry).

use canal_protocol::entry::{
    Column, Entry, EntryType, EventType, RowChange, TransactionBegin, TransactionEnd,
};
use prost::Message as _;
use serde_json::{json, Map, Value};

fn entry_type_name(v: Option<i32>) -> &'static str {
    // proto2 default: an absent entryType reads as ROWDATA.
    match EntryType::try_from(v.unwrap_or(EntryType::Rowdata as i32)) {
        Ok(t) => t.as_str_name(),
        Err(_) => "UNKNOWN",
    }
}

fn event_type_name(v: Option<i32>) -> &'static str {
    match EventType::try_from(v.unwrap_or(EventType::Update as i32)) {
        Ok(t) => t.as_str_name(),
        Err(_) => "UNKNOWN",
    }
}

fn columns(cols: &[Column]) -> Value {
    let mut m = Map::new();
    for c in cols {
        let v = if c.is_null.unwrap_or(false) {
            Value::Null
        } else {
            Value::String(c.value.clone().unwrap_or_default())
        };
        m.insert(c.name.clone().unwrap_or_default(), v);
    }
    Value::Object(m)
}

fn updated(cols: &[Column]) -> Value {
    Value::Array(
        cols.iter()
            .filter(|c| c.updated.unwrap_or(false))
            .map(|c| Value::String(c.name.clone().unwrap_or_default()))
            .collect(),
    )
}

/// One entry as a JSON object: position, names, types and, by entry type, the transaction or the
/// rows (`before`/`after` maps of column name → text value or null, and the updated columns).
/// A storeValue that does not decode is reported as `"error"`.
pub fn entry_json(batch_id: i64, e: &Entry) -> Value {
    let h = e.header.clone().unwrap_or_default();
    let mut o = Map::new();
    o.insert("batchId".into(), json!(batch_id));
    o.insert("logfileName".into(), json!(h.logfile_name));
    o.insert("logfileOffset".into(), json!(h.logfile_offset));
    o.insert("executeTime".into(), json!(h.execute_time));
    o.insert("schema".into(), json!(h.schema_name));
    o.insert("table".into(), json!(h.table_name));
    o.insert("entryType".into(), json!(entry_type_name(e.entry_type)));
    o.insert("eventType".into(), json!(event_type_name(h.event_type)));
    if let Some(g) = &h.gtid {
        o.insert("gtid".into(), json!(g));
    }
    let value = e.store_value.clone().unwrap_or_default();
    match EntryType::try_from(e.entry_type.unwrap_or(EntryType::Rowdata as i32)) {
        Ok(EntryType::Transactionbegin) => match TransactionBegin::decode(value) {
            Ok(b) => {
                o.insert("threadId".into(), json!(b.thread_id));
            }
            Err(err) => {
                o.insert("error".into(), json!(err.to_string()));
            }
        },
        Ok(EntryType::Transactionend) => match TransactionEnd::decode(value) {
            Ok(t) => {
                o.insert("transactionId".into(), json!(t.transaction_id));
            }
            Err(err) => {
                o.insert("error".into(), json!(err.to_string()));
            }
        },
        _ => match RowChange::decode(value) {
            Ok(rc) => {
                o.insert("isDdl".into(), json!(rc.is_ddl.unwrap_or(false)));
                if let Some(sql) = &rc.sql {
                    o.insert("sql".into(), json!(sql));
                }
                let rows: Vec<Value> = rc
                    .row_datas
                    .iter()
                    .map(|r| {
                        json!({
                            "before": columns(&r.before_columns),
                            "after": columns(&r.after_columns),
                            "updated": updated(&r.after_columns),
                        })
                    })
                    .collect();
                o.insert("rows".into(), Value::Array(rows));
            }
            Err(err) => {
                o.insert("error".into(), json!(err.to_string()));
            }
        },
    }
    Value::Object(o)
}
