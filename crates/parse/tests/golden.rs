//! Golden tests: the real Java Canal server's entries (shared/golden/*/*/entries.bin) against
//! ours for the same binlog file, byte for byte.

use std::path::{Path, PathBuf};

use canal_binlog::event::EventBody;
use canal_binlog::BinlogFile;
use canal_parse::entries_json::{convert_file_with, entry_json};
use canal_parse::{ConvertOptions, Converter};

fn shared_dir() -> Option<PathBuf> {
    let d = std::env::var("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if d.join("golden").is_dir() {
        Some(d)
    } else if std::env::var("CI").is_ok() {
        panic!("shared fixtures missing at {}", d.display());
    } else {
        eprintln!("note: {} missing; golden tests skipped", d.display());
        None
    }
}

fn read_entries(p: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(p).unwrap();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        let n = u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]) as usize;
        out.push(data[i + 4..i + 4 + n].to_vec());
        i += 4 + n;
    }
    out
}

struct Start {
    offset: u64,
    gtid: Option<String>,
}

fn start(dir: &Path) -> Start {
    let t = std::fs::read_to_string(dir.join("start-position.txt")).unwrap();
    let mut s = Start {
        offset: 4,
        gtid: None,
    };
    for l in t.lines() {
        if let Some(v) = l.strip_prefix("offset=") {
            s.offset = v.trim().parse().unwrap();
        }
        if let Some(v) = l.strip_prefix("gtid=") {
            s.gtid = Some(v.trim().to_string());
        }
    }
    s
}

/// With a GTID dump the server skips transactions already in the set: the stream starts at the
/// first GTID event whose number is beyond the start set (single-UUID sets as in the corpus).
fn gtid_dump_start(binlog: &Path, set: &str) -> u64 {
    let max: i64 = set.rsplit(['-', ':']).next().unwrap().parse().unwrap();
    let f = BinlogFile::open(binlog).unwrap().unwrap();
    for ev in f.events() {
        let ev = ev.unwrap();
        if let EventBody::Gtid(g) = &ev.body {
            if g.gno > max {
                return ev.offset;
            }
        }
    }
    u64::MAX
}

/// Known, deliberate differences (see lib.rs docs): Java Canal emits "" for an unchanged JSON
/// column of a partial-JSON update row; we emit the unchanged (before) value.
fn known_difference(ours: &serde_json::Value, theirs: &serde_json::Value) -> bool {
    let rows = |v: &serde_json::Value| {
        v["storeValue"]["rowDatas"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (a, b) = (rows(ours), rows(theirs));
    if a.len() != b.len() || a.is_empty() || ours["header"] != theirs["header"] {
        return false;
    }
    for (ra, rb) in a.iter().zip(&b) {
        if ra["beforeColumns"] != rb["beforeColumns"] {
            return false;
        }
        let (ca, cb) = (
            ra["afterColumns"].as_array().cloned().unwrap_or_default(),
            rb["afterColumns"].as_array().cloned().unwrap_or_default(),
        );
        if ca.len() != cb.len() {
            return false;
        }
        for (x, y) in ca.iter().zip(&cb) {
            if x == y {
                continue;
            }
            let before = ra["beforeColumns"]
                .as_array()
                .and_then(|v| v.iter().find(|c| c["index"] == x["index"]).cloned());
            let ok = y["mysqlType"] == "json"
                && y["value"] == ""
                && y["updated"] == true
                && before
                    .is_some_and(|bc| bc["value"] == x["value"] && bc["isNull"] == x["isNull"])
                && x["updated"] == false;
            if !ok {
                return false;
            }
        }
    }
    true
}

fn run_workload(dir: &Path) -> (usize, usize, usize) {
    let st = start(dir);
    let binlog = dir.join("binlog/mysql-bin.000001");
    let opts = ConvertOptions {
        filter_regex: r".*\..*".into(),
        black_regex: r"mysql\.slave_.*".into(),
        timezone: Some("UTC".into()),
        gtid_mode: st.gtid.is_some(),
        ..Default::default()
    };
    let mut conv = Converter::new(opts).unwrap();
    let mut emit_from = st.offset;
    if let Some(g) = &st.gtid {
        conv.set_gtid_start(g).unwrap();
        emit_from = gtid_dump_start(&binlog, g);
    }
    let ours = convert_file_with(&mut conv, &binlog, emit_from)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let theirs = read_entries(&dir.join("entries.bin"));
    let mut exact = 0;
    let mut known = 0;
    let mut shown = 0;
    for i in 0..ours.len().max(theirs.len()) {
        let (a, b) = (ours.get(i).map(|e| e.bytes.to_vec()), theirs.get(i));
        if a.as_ref() == b {
            exact += 1;
            continue;
        }
        let ja = a.as_ref().map(|a| entry_json(a).unwrap());
        let jb = b.map(|b| entry_json(b).unwrap());
        if let (Some(x), Some(y)) = (&ja, &jb) {
            if known_difference(x, y) {
                known += 1;
                continue;
            }
        }
        if shown < 3 {
            shown += 1;
            eprintln!(
                "--- {} entry {i} differs\n ours:   {}\n theirs: {}",
                dir.display(),
                ja.map(|j| j.to_string()).unwrap_or("<none>".into()),
                jb.map(|j| j.to_string()).unwrap_or("<none>".into())
            );
        }
    }
    eprintln!(
        "{}: {exact} exact + {known} known differences of {} (ours produced {})",
        dir.display(),
        theirs.len(),
        ours.len()
    );
    (exact, known, theirs.len())
}

#[test]
fn golden_corpus() {
    let Some(shared) = shared_dir() else { return };
    let mut total = (0, 0, 0);
    for server in ["mariadb-10.11", "mysql-9.7"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(shared.join("golden").join(server))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        for d in dirs {
            let (e, k, n) = run_workload(&d);
            total = (total.0 + e, total.1 + k, total.2 + n);
        }
    }
    eprintln!(
        "TOTAL: {} exact + {} known differences of {} entries",
        total.0, total.1, total.2
    );
    assert_eq!(total.0 + total.1, total.2, "golden entries differ");
}
