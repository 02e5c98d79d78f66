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

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::entry::{Header, RowData};

    #[test]
    fn rows_nulls_and_updated_columns() {
        let col = |name: &str, v: Option<&str>, upd: bool| Column {
            name: Some(name.into()),
            is_null: Some(v.is_none()),
            value: v.map(str::to_owned),
            updated: Some(upd),
            ..Default::default()
        };
        let rc = RowChange {
            event_type: Some(EventType::Update as i32),
            row_datas: vec![RowData {
                before_columns: vec![col("id", Some("1"), false), col("v", None, false)],
                after_columns: vec![col("id", Some("1"), false), col("v", Some("x"), true)],
                props: vec![],
            }],
            ..Default::default()
        };
        let e = Entry {
            header: Some(Header {
                schema_name: Some("s".into()),
                table_name: Some("t".into()),
                event_type: Some(EventType::Update as i32),
                ..Default::default()
            }),
            entry_type: None, // proto2 default: ROWDATA
            store_value: Some(rc.encode_to_vec().into()),
        };
        let j = entry_json(3, &e);
        assert_eq!(j["batchId"], 3);
        assert_eq!(j["entryType"], "ROWDATA");
        assert_eq!(j["eventType"], "UPDATE");
        assert_eq!(j["rows"][0]["before"]["v"], Value::Null);
        assert_eq!(j["rows"][0]["after"]["v"], "x");
        assert_eq!(j["rows"][0]["updated"], json!(["v"]));
    }

    #[test]
    fn transaction_end_and_bad_store_value() {
        let end = TransactionEnd {
            transaction_id: Some("42".into()),
            ..Default::default()
        };
        let e = Entry {
            header: None,
            entry_type: Some(EntryType::Transactionend as i32),
            store_value: Some(end.encode_to_vec().into()),
        };
        assert_eq!(entry_json(1, &e)["transactionId"], "42");
        let bad = Entry {
            header: None,
            entry_type: Some(EntryType::Rowdata as i32),
            store_value: Some(bytes::Bytes::from_static(&[0xff, 0xff])),
        };
        assert!(entry_json(1, &bad).get("error").is_some());
    }
}
