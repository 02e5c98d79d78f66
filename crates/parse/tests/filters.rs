//! Canal filter semantics at the converter level, on the golden MariaDB `ddl` workload: each
//! filter's output must equal the real Java Canal's entries (recorded with the default filters)
//! minus exactly the entries that filter removes, byte for byte.

use std::path::{Path, PathBuf};

use canal_parse::entries_json::convert_file_with;
use canal_parse::{ConvertOptions, Converter};
use canal_protocol::entry::{Entry, EntryType, EventType, RowChange};
use prost::Message;

fn workload() -> Option<PathBuf> {
    let d = std::env::var("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")))
        .join("golden/mariadb-10.11/ddl");
    if d.is_dir() {
        Some(d)
    } else if std::env::var("CI").is_ok() {
        panic!("missing {}", d.display());
    } else {
        eprintln!("note: {} missing; filter tests skipped", d.display());
        None
    }
}

struct Golden {
    bytes: Vec<u8>,
    schema: Option<String>,
    entry_type: EntryType,
    event_type: Option<EventType>,
    is_ddl: Option<bool>,
}

fn golden(dir: &Path) -> Vec<Golden> {
    let data = std::fs::read(dir.join("entries.bin")).unwrap();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        let n = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize;
        let b = data[i + 4..i + 4 + n].to_vec();
        i += 4 + n;
        let e = Entry::decode(&b[..]).unwrap();
        let h = e.header.clone().unwrap();
        let t = EntryType::try_from(e.entry_type.unwrap()).unwrap();
        let is_ddl = if t == EntryType::Rowdata {
            RowChange::decode(e.store_value.clone().unwrap())
                .unwrap()
                .is_ddl
        } else {
            None
        };
        out.push(Golden {
            bytes: b,
            schema: h.schema_name.clone(),
            entry_type: t,
            event_type: h.event_type.map(|v| EventType::try_from(v).unwrap()),
            is_ddl,
        });
    }
    out
}

fn ours(dir: &Path, f: impl FnOnce(&mut ConvertOptions), sub: Option<&str>) -> Vec<Vec<u8>> {
    let mut o = ConvertOptions {
        filter_regex: r".*\..*".into(),
        black_regex: r"mysql\.slave_.*".into(),
        timezone: Some("UTC".into()),
        ..Default::default()
    };
    f(&mut o);
    let mut c = Converter::new(o).unwrap();
    if let Some(s) = sub {
        c.set_filter(s).unwrap();
    }
    convert_file_with(&mut c, &dir.join("binlog/mysql-bin.000001"), 328)
        .unwrap()
        .into_iter()
        .map(|e| e.bytes.to_vec())
        .collect()
}

fn expect(g: &[Golden], keep: impl Fn(&Golden) -> bool) -> Vec<Vec<u8>> {
    g.iter()
        .filter(|x| keep(x))
        .map(|x| x.bytes.clone())
        .collect()
}

fn is_row(x: &Golden) -> bool {
    matches!(
        x.event_type,
        Some(EventType::Insert | EventType::Update | EventType::Delete)
    ) && x.is_ddl == Some(false)
}

#[test]
fn filters_match_java_semantics() {
    let Some(dir) = workload() else { return };
    let g = golden(&dir);
    let all = ours(&dir, |_| {}, None);
    assert_eq!(
        all,
        expect(&g, |_| true),
        "default filters reproduce the recording"
    );

    // Black list on a schema: rows and DDL of ddl_db (incl. `CREATE DATABASE ddl_db` = "ddl_db.null") vanish.
    let got = ours(
        &dir,
        |o| o.black_regex = r"mysql\.slave_.*,ddl_db\..*".into(),
        None,
    );
    assert_eq!(got, expect(&g, |x| x.schema.as_deref() != Some("ddl_db")));
    assert!(got.len() < all.len());

    // White list, and the same as a client subscribe filter replacing the instance filter.
    let want = expect(&g, |x| {
        matches!(x.schema.as_deref(), Some("") | Some("test"))
    });
    assert_eq!(
        ours(&dir, |o| o.filter_regex = r"test\..*".into(), None),
        want
    );
    assert_eq!(ours(&dir, |_| {}, Some(r"test\..*")), want);
    // Case-insensitive full match and top-level comma split with a comma inside a group.
    assert_eq!(
        ours(
            &dir,
            |o| o.filter_regex = r"TEST\.T(Q|X{1,2}),nothing\.here".into(),
            None
        ),
        want
    );

    // filter.query.dml: ANNOTATE_ROWS QUERY entries gone.
    let got = ours(&dir, |o| o.filter_query_dml = true, None);
    assert_eq!(
        got,
        expect(&g, |x| !(x.event_type == Some(EventType::Query)
            && x.is_ddl.is_none()))
    );
    // filter.query.ddl: every DDL entry gone, rows still named by the replayed DDL.
    let got = ours(&dir, |o| o.filter_query_ddl = true, None);
    assert_eq!(got, expect(&g, |x| x.is_ddl != Some(true)));
    // filter.query.dcl: QUERY-typed DDL results (CREATE/DROP DATABASE) gone.
    let got = ours(&dir, |o| o.filter_query_dcl = true, None);
    assert_eq!(
        got,
        expect(&g, |x| !(x.event_type == Some(EventType::Query)
            && x.is_ddl == Some(true)))
    );
    // filter.rows: rows events produce nothing.
    let got = ours(&dir, |o| o.filter_rows = true, None);
    assert_eq!(got, expect(&g, |x| !is_row(x)));
    assert!(g.iter().any(|x| x.entry_type == EntryType::Transactionend));

    // Field filters: white list keeps only listed columns (index unchanged), black list removes.
    let cols = |bytes: &[Vec<u8>], table: &str| -> Vec<Vec<(i32, String)>> {
        bytes
            .iter()
            .filter_map(|b| {
                let e = Entry::decode(&b[..]).unwrap();
                let h = e.header.unwrap();
                if h.table_name.as_deref() != Some(table)
                    || h.event_type != Some(EventType::Insert as i32)
                {
                    return None;
                }
                let rc = RowChange::decode(e.store_value.unwrap()).unwrap();
                Some(
                    rc.row_datas[0]
                        .after_columns
                        .iter()
                        .map(|c| (c.index.unwrap(), c.name.clone().unwrap()))
                        .collect(),
                )
            })
            .collect()
    };
    let got = ours(
        &dir,
        |o| o.field_filter = Some("ddl_db.t1:ID/a".into()),
        None,
    );
    let c = cols(&got, "t1");
    assert!(!c.is_empty());
    for row in &c {
        assert!(row.iter().all(|(_, n)| n == "id" || n == "a"), "{row:?}");
    }
    assert!(
        c.iter()
            .any(|r| r.iter().any(|(i, n)| n == "id" && *i == 1)),
        "index stays the table ordinal after ADD ... FIRST"
    );
    let got = ours(
        &dir,
        |o| o.field_black_filter = Some("test.tq:v".into()),
        None,
    );
    for row in cols(&got, "tq") {
        assert!(row.iter().all(|(_, n)| n != "v") && !row.is_empty());
    }
}

#[test]
fn dml_type_filters() {
    let Some(dir) = workload() else { return };
    let g = golden(&dir);
    for (t, set) in [
        (
            EventType::Insert,
            (|o: &mut ConvertOptions| o.filter_dml_insert = true) as fn(&mut ConvertOptions),
        ),
        (EventType::Update, |o: &mut ConvertOptions| {
            o.filter_dml_update = true
        }),
        (EventType::Delete, |o: &mut ConvertOptions| {
            o.filter_dml_delete = true
        }),
    ] {
        let got = ours(&dir, set, None);
        let want = expect(&g, |x| !(is_row(x) && x.event_type == Some(t)));
        assert!(want.len() < g.len(), "{t:?} present in the workload");
        assert_eq!(got, want, "{t:?}");
    }
}
