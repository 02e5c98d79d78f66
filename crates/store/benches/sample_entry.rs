//! The sample ROWDATA entry shared by the store and server benches (13 varchar columns, about
//! 700 bytes serialized), included with `#[path]` from both.

use canal_protocol::entry::{
    Column, Entry, EntryType, EventType, Header, Pair, RowChange, RowData, Type,
};
use prost::Message;

/// Entry number `i` (its offset and values vary with `i`).
pub fn entry(i: usize) -> Entry {
    let cols: Vec<Column> = (0..13)
        .map(|c| Column {
            index: Some(c),
            sql_type: Some(12),
            name: Some(format!("col{c}")),
            is_key: Some(c == 0),
            updated: Some(true),
            is_null: Some(false),
            value: Some(format!("value-{i}-{c}-lorem-ipsum")),
            mysql_type: Some("varchar(64)".into()),
            ..Default::default()
        })
        .collect();
    let rc = RowChange {
        table_id: Some(42),
        event_type: Some(EventType::Insert as i32),
        row_datas: vec![RowData {
            after_columns: cols,
            ..Default::default()
        }],
        ..Default::default()
    };
    Entry {
        header: Some(Header {
            version: Some(1),
            logfile_name: Some("mysql-bin.000001".into()),
            logfile_offset: Some(4 + 700 * i as i64),
            server_id: Some(1),
            serveren_code: Some("UTF-8".into()),
            execute_time: Some(1_700_000_000_000),
            source_type: Some(Type::Mysql as i32),
            schema_name: Some("bench".into()),
            table_name: Some("t".into()),
            event_length: Some(700),
            event_type: Some(EventType::Insert as i32),
            props: vec![Pair {
                key: Some("rowsCount".into()),
                value: Some("1".into()),
            }],
            ..Default::default()
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(rc.encode_to_vec().into()),
    }
}
