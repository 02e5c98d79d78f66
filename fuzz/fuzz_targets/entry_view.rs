//! Fuzz target: arbitrary bytes as one Entry through the Rust client's borrowed views
//! (canal_client::view), differentially against prost's owned decoding of the same bytes.
//! Nothing may panic; where both accept the bytes they must agree on every field the views
//! expose (entry type, header fields, storeValue, and for the RowChange inside: sql, isDdl,
//! eventType and each column of each row image).
#![no_main]

use canal_client::view::{EntryView, RowChangeView};
use canal_protocol::entry::{Column, Entry, RowChange};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn same_columns<'a>(
    view: impl Iterator<
        Item = Result<canal_client::view::ColumnView<'a>, canal_client::view::ViewError>,
    >,
    owned: &[Column],
) {
    let mut n = 0;
    for c in view {
        let Ok(c) = c else { return };
        let o = &owned[n];
        assert_eq!(c.name(), o.name());
        assert_eq!(c.value(), o.value());
        assert_eq!(c.mysql_type(), o.mysql_type());
        assert_eq!(c.is_null(), o.is_null());
        assert_eq!(c.is_key(), o.is_key());
        assert_eq!(c.updated(), o.updated());
        n += 1;
    }
    assert_eq!(n, owned.len());
}

fn row_change(sv: &[u8]) {
    let view = RowChangeView::parse(sv);
    let Ok(owned) = RowChange::decode(sv) else {
        return;
    };
    let Ok(view) = view else { return };
    assert_eq!(view.sql(), owned.sql());
    assert_eq!(view.is_ddl(), owned.is_ddl());
    assert_eq!(view.event_type(), owned.event_type());
    let mut rows = 0;
    for r in view.row_datas() {
        let Ok(r) = r else { return };
        let o = &owned.row_datas[rows];
        same_columns(r.before_columns(), &o.before_columns);
        same_columns(r.after_columns(), &o.after_columns);
        rows += 1;
    }
    assert_eq!(rows, owned.row_datas.len());
}

fuzz_target!(|data: &[u8]| {
    let view = EntryView::parse(data);
    if let Ok(v) = &view {
        // The views read lazily: touching everything must not panic either.
        let _ = v.row_change();
        if let Some(h) = v.header() {
            let _ = (h.logfile_name(), h.schema_name(), h.table_name(), h.gtid());
            let _ = h.props().count();
        }
    }
    let (Ok(v), Ok(e)) = (view, Entry::decode(data)) else {
        return;
    };
    assert_eq!(v.entry_type(), e.entry_type());
    assert_eq!(v.store_value(), e.store_value());
    if let (Some(h), Some(oh)) = (v.header(), e.header.as_ref()) {
        assert_eq!(h.logfile_name(), oh.logfile_name());
        assert_eq!(h.logfile_offset(), oh.logfile_offset());
        assert_eq!(h.execute_time(), oh.execute_time());
        assert_eq!(h.schema_name(), oh.schema_name());
        assert_eq!(h.table_name(), oh.table_name());
        assert_eq!(h.gtid(), oh.gtid());
        assert_eq!(h.event_type(), oh.event_type());
    }
    row_change(v.store_value());
});
