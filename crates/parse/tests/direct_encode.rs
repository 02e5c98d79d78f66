//! Differential test of the direct protobuf writers (rows entries, transaction begin/end, query
//! and DDL entries, headers with and without GTID props): for every recorded binlog (golden corpus
//! and shared/fixtures/binlog) its entries must equal, byte for byte, those of the prost-struct
//! path (the golden test separately checks both against the real Java Canal server).

#[path = "../../binlog/tests/common/mod.rs"]
mod common;

use std::path::Path;

use canal_parse::entries_json::{convert_file_with, entry_json};
use canal_parse::{ConvertOptions, Converter, ParsedEntry};

fn run(f: &Path, opts: &ConvertOptions, struct_rows: bool) -> Result<Vec<ParsedEntry>, String> {
    let mut c = Converter::new(opts.clone()).map_err(|e| e.to_string())?;
    c.set_struct_rows(struct_rows);
    if opts.gtid_mode {
        // A start set in the file's flavor, so GTID props and `gtid` headers are produced.
        let mariadb = f.to_string_lossy().to_ascii_lowercase().contains("maria");
        let set = if mariadb {
            "0-1-1"
        } else {
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"
        };
        c.set_gtid_start(set).map_err(|e| e.to_string())?;
    }
    convert_file_with(&mut c, f, 0).map_err(|e| e.to_string())
}

/// The options to compare with: `base`, plus, per table with rows in the file, a white field
/// filter keeping every other column and a black one dropping the first column (field filters
/// drop columns after the update comparison).
fn variants(f: &Path, base: &ConvertOptions) -> Vec<ConvertOptions> {
    let mut out = vec![
        base.clone(),
        ConvertOptions {
            gtid_mode: true,
            ..base.clone()
        },
    ];
    let Ok(entries) = run(f, base, true) else {
        return out;
    };
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for e in &entries {
        let Ok(j) = entry_json(&e.bytes) else {
            continue;
        };
        let h = &j["header"];
        let name = format!(
            "{}.{}",
            h["schemaName"].as_str().unwrap_or(""),
            h["tableName"].as_str().unwrap_or("")
        );
        let Some(rd) = j["storeValue"]["rowDatas"]
            .as_array()
            .and_then(|r| r.first())
        else {
            continue;
        };
        let cols = rd
            .get("afterColumns")
            .or_else(|| rd.get("beforeColumns"))
            .and_then(|c| c.as_array());
        let Some(cols) = cols else { continue };
        let names: Vec<String> = cols
            .iter()
            .filter_map(|c| c["name"].as_str().map(String::from))
            .collect();
        if names.len() > 1 && !tables.iter().any(|(t, _)| *t == name) {
            tables.push((name, names));
        }
    }
    for (t, cols) in tables.iter().take(3) {
        let keep: Vec<&str> = cols.iter().step_by(2).map(String::as_str).collect();
        out.push(ConvertOptions {
            field_filter: Some(format!("{t}:{}", keep.join("/"))),
            ..base.clone()
        });
        out.push(ConvertOptions {
            field_black_filter: Some(format!("{t}:{}", cols[0])),
            ..base.clone()
        });
    }
    out
}

#[test]
fn direct_writer_equals_struct_path_on_every_binlog() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut files = Vec::new();
    files.extend(common::binlog_files(&shared.join("golden")));
    let golden = files.len();
    files.extend(common::binlog_files(&shared.join("fixtures/binlog")));
    assert!(golden >= 9 && files.len() > 50, "corpus not found");
    let base = ConvertOptions {
        filter_table_error: true,
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    let (mut filtered_tables, mut filtered_files) = (0usize, 0usize);
    let (mut entries, mut rows_entries) = (0usize, 0usize);
    let (mut begins, mut ends, mut ddl, mut query, mut gtid) = (0usize, 0, 0, 0, 0);
    for f in &files {
        let variants = variants(f, &base);
        if variants.len() > 2 {
            filtered_files += 1;
            filtered_tables += (variants.len() - 2) / 2;
        }
        for opts in &variants {
            let old = run(f, opts, true);
            let new = run(f, opts, false);
            match (&old, &new) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.len(), b.len(), "{}: entry count", f.display());
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        assert_eq!(x, y, "{}: entry {i} differs", f.display());
                    }
                    entries += a.len();
                    for e in a {
                        use canal_protocol::entry::{EntryType as T, EventType as E};
                        match (e.entry_type, e.event_type) {
                            (T::Transactionbegin, _) => begins += 1,
                            (T::Transactionend, _) => ends += 1,
                            _ if e.is_ddl => ddl += 1,
                            (_, Some(E::Query)) => query += 1,
                            _ => {}
                        }
                        gtid += usize::from(e.position.gtid.is_some());
                    }
                    rows_entries += a
                        .iter()
                        .filter(|e| {
                            matches!(
                                e.event_type,
                                Some(canal_protocol::entry::EventType::Insert)
                                    | Some(canal_protocol::entry::EventType::Update)
                                    | Some(canal_protocol::entry::EventType::Delete)
                            ) && !e.is_ddl
                        })
                        .count();
                }
                _ => assert_eq!(old, new, "{}: outcome differs", f.display()),
            }
        }
    }
    eprintln!(
        "{entries} entries equal ({rows_entries} DML, {begins} begin, {ends} end, {ddl} DDL, \
         {query} QUERY, {gtid} with a gtid header) over {} files; field filters on \
         {filtered_tables} tables of {filtered_files} files",
        files.len()
    );
    assert!(
        begins > 1000 && ends > 1000,
        "too few transaction entries: {begins}/{ends}"
    );
    assert!(
        ddl > 100 && query > 10,
        "too few DDL/QUERY entries: {ddl}/{query}"
    );
    assert!(gtid > 1000, "too few GTID headers: {gtid}");
    assert!(filtered_files >= 5, "field-filter variants not exercised");
    assert!(
        rows_entries > 10_000,
        "too few row entries compared: {rows_entries}"
    );
}
