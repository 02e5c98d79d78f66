//! Every real binlog file of shared/fixtures/binlog goes through the converter without a panic
//! or a hang (offline: tables created before the file starts have no metadata; with
//! `filter.table.error` such rows are skipped, FULL TABLE_MAP metadata is used where present).

#[path = "../../binlog/tests/common/mod.rs"]
mod common;

use canal_parse::entries_json::{convert_file, entry_json};
use canal_parse::ConvertOptions;

#[test]
fn all_fixture_files_convert_without_panic() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut files = Vec::new();
    files.extend(common::binlog_files(&shared.join("fixtures/binlog")));
    files.sort();
    assert!(
        files.len() > 50,
        "expected the fixture corpus, found {}",
        files.len()
    );
    let (mut ok, mut err, mut entries) = (0, 0, 0);
    for f in &files {
        let opts = ConvertOptions {
            filter_table_error: true,
            filter_query_ddl: false,
            timezone: Some("UTC".into()),
            ..Default::default()
        };
        match convert_file(f, opts, 0) {
            Ok(v) => {
                ok += 1;
                entries += v.len();
                for e in &v {
                    entry_json(&e.bytes).expect("our own entries decode");
                }
            }
            Err(e) => {
                err += 1;
                eprintln!("{}: {e}", f.display());
            }
        }
    }
    eprintln!(
        "fixtures: {ok} files converted ({entries} entries), {err} with errors, of {}",
        files.len()
    );
}
