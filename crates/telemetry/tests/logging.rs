//! Log files: routing by destination span, Canal's line pattern, RUST_LOG-style filtering,
//! size and day rotation into gzip archives in dated directories, retention, meta.log (direct
//! and routed from the meta flush target).

use std::path::Path;

use canal_telemetry::lifecycle;
use canal_telemetry::logging::{self, LogConfig, MetaLog, RollingFile};
use regex::Regex;

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Content of a `.log.gz` archive.
fn gunzip(p: &Path) -> String {
    use std::io::Read;
    let f = std::fs::File::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut s = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap_or_else(|e| panic!("{}: not gzip: {e}", p.display()));
    s
}

/// logback's `%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger - %msg`.
fn line_re() -> Regex {
    Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \[[^\]]+\] (TRACE|DEBUG|INFO |WARN |ERROR) \S+ - .*$").unwrap()
}

#[test]
fn routes_by_destination_with_canal_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig::new(dir.path());
    let sub = logging::subscriber(&cfg, "info,noisy=warn").unwrap();
    tracing::subscriber::with_default(sub, || {
        tracing::info!(target: "canal_cli::daemon", "## start the canal server.");
        let span = lifecycle::destination_span("example");
        span.in_scope(|| {
            lifecycle::instance_starting("example");
            tracing::warn!(target: "canal_parse", "parser warning inside the destination");
            tracing::debug!("debug is filtered out");
            let inner = tracing::info_span!("dump", address = "127.0.0.1:3306");
            inner.in_scope(|| tracing::info!("nested span still routes to example"));
        });
        // A destination field on the event routes too (server-level caller).
        lifecycle::position_chosen(
            "other",
            "mysql-bin.000003",
            4567,
            1_700_000_000_000,
            "meta cursor",
            12,
        );
        tracing::info!(target: "noisy", "info of a warn-level target is filtered");
        tracing::error!(target: "noisy", "error of a warn-level target passes");
        // Unsafe names never become paths.
        tracing::info!(
            destination = "../evil",
            "traversal attempt goes to canal.log"
        );
    });
    let server = read(&dir.path().join("canal/canal.log"));
    let example = read(&dir.path().join("example/example.log"));
    let other = read(&dir.path().join("other/other.log"));
    let re = line_re();
    for l in server.lines().chain(example.lines()).chain(other.lines()) {
        assert!(re.is_match(l), "line not in Canal's pattern: {l:?}");
    }
    assert!(
        server.contains("INFO  canal_cli::daemon - ## start the canal server."),
        "{server}"
    );
    assert!(server.contains("error of a warn-level target passes"));
    assert!(!server.contains("filtered"), "{server}");
    assert!(server.contains("traversal attempt goes to canal.log"));
    assert!(!dir.path().join("evil").exists());
    assert!(!server.contains("parser warning"));
    assert!(
        example.contains("start CannalInstance for 1-example"),
        "{example}"
    );
    assert!(example.contains("event=instance_start"), "{example}");
    assert!(example.contains("WARN  canal_parse - parser warning inside the destination"));
    assert!(example.contains("nested span still routes to example"));
    assert!(!example.contains("debug is filtered out"));
    assert!(other.contains("---> find start position successfully, EntryPosition[journalName=mysql-bin.000003,position=4567,timestamp=1700000000000] cost : 12 ms , the next step is binlog dump"), "{other}");
    assert!(other.contains("reason=meta cursor"), "{other}");
}

#[test]
fn rolls_by_size_into_dated_directory() {
    let dir = tempfile::tempdir().unwrap();
    let day = date(2026, 11, 20);
    let mut f = RollingFile::open(dir.path(), "example", 100, 14).unwrap();
    let lines: Vec<String> = (0..5)
        .map(|i| format!("line {i} {}\n", "x".repeat(32)))
        .collect(); // 40 bytes
    for l in &lines {
        f.write_line_on(l.as_bytes(), day).unwrap();
    }
    f.wait_archives();
    // 40+40 fit, the third would exceed 100 -> roll; 2 more fit; 5th rolls again.
    let arch = dir.path().join("2026-11-20");
    assert_eq!(
        gunzip(&arch.join("example-2026-11-20-1.log.gz")),
        lines[0].clone() + &lines[1]
    );
    assert_eq!(
        gunzip(&arch.join("example-2026-11-20-2.log.gz")),
        lines[2].clone() + &lines[3]
    );
    assert_eq!(read(&dir.path().join("example.log")), lines[4]);
    let mut names: Vec<String> = std::fs::read_dir(&arch)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["example-2026-11-20-1.log.gz", "example-2026-11-20-2.log.gz"],
        "only compressed archives remain"
    );

    // A reopened file continues the numbering after the existing archives.
    drop(f);
    // (the live file's mtime tells the reopened file its day)
    let noon = day
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_local_timezone(chrono::Local)
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("example.log"))
        .unwrap()
        .set_modified(noon.into())
        .unwrap();
    let mut f = RollingFile::open(dir.path(), "example", 100, 14).unwrap();
    for l in &lines[..3] {
        f.write_line_on(l.as_bytes(), day).unwrap();
    }
    f.wait_archives();
    assert_eq!(
        gunzip(&arch.join("example-2026-11-20-3.log.gz")),
        lines[4].clone() + &lines[0]
    );
}

#[test]
fn rolls_at_day_change_and_prunes_old_days() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("2026-10-01");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("canal-2026-10-01-1.log"), "old\n").unwrap();
    let recent = dir.path().join("2026-11-15");
    std::fs::create_dir_all(&recent).unwrap();
    let mut f = RollingFile::open(dir.path(), "canal", 1 << 20, 14).unwrap();
    f.write_line_on(b"day one\n", date(2026, 11, 20)).unwrap();
    f.write_line_on(b"day one again\n", date(2026, 11, 20))
        .unwrap();
    f.write_line_on(b"day two\n", date(2026, 11, 21)).unwrap();
    f.wait_archives();
    assert_eq!(
        gunzip(&dir.path().join("2026-11-20/canal-2026-11-20-1.log.gz")),
        "day one\nday one again\n"
    );
    assert!(!dir
        .path()
        .join("2026-11-20/canal-2026-11-20-1.log")
        .exists());
    assert_eq!(read(&dir.path().join("canal.log")), "day two\n");
    assert!(!old.exists(), "archives older than 14 days are removed");
    assert!(recent.exists(), "recent archives are kept");
}

#[test]
fn meta_log_pattern_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let m = MetaLog::open(dir.path(), "example").unwrap();
    m.log("clientId:1001 cursor:[mysql-bin.000003,4567,1700000000000,1,]")
        .unwrap();
    let text = read(&dir.path().join("example/meta.log"));
    let re = Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} - clientId:1001 cursor:\[mysql-bin\.000003,4567,1700000000000,1,\]$").unwrap();
    assert!(re.is_match(text.trim_end()), "{text}");
    for bad in ["..", "a/b", "", "/abs"] {
        assert!(MetaLog::open(dir.path(), bad).is_err(), "{bad}");
    }
}

#[test]
fn client_supplied_names_do_not_create_directories() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("conf");
    std::fs::create_dir_all(conf.join("example")).unwrap();
    let logs = dir.path().join("logs");
    let cfg = LogConfig {
        destinations_in: Some(conf.clone()),
        ..LogConfig::new(&logs)
    };
    let sub = logging::subscriber(&cfg, "info").unwrap();
    tracing::subscriber::with_default(sub, || {
        tracing::warn!(
            destination = "bogus1",
            "lazy start did not start the destination"
        );
        tracing::info!(destination = "example", "configured destination");
    });
    assert!(
        !logs.join("bogus1").exists(),
        "a directory for an unknown name"
    );
    assert!(read(&logs.join("canal/canal.log")).contains("destination=bogus1"));
    assert!(read(&logs.join("example/example.log")).contains("configured destination"));
}

#[test]
fn meta_flush_target_goes_to_meta_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = LogConfig::new(dir.path());
    let sub = logging::subscriber(&cfg, "info").unwrap();
    tracing::subscriber::with_default(sub, || {
        let span = lifecycle::destination_span("example");
        span.in_scope(|| {
            tracing::info!(target: "canal_instance", "an instance line");
        });
        tracing::info!(
            target: logging::META_LOG_TARGET,
            destination = %"example",
            "clientId:1001 cursor:[mysql-bin.000003,4567,1700000000000,1,] address[/10.20.3.4:3306]"
        );
    });
    let meta = read(&dir.path().join("example/meta.log"));
    let re = Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} - clientId:1001 cursor:\[mysql-bin\.000003,4567,1700000000000,1,\] address\[/10\.20\.3\.4:3306\]$").unwrap();
    assert!(re.is_match(meta.trim_end()), "{meta}");
    assert_eq!(meta.lines().count(), 1);
    let example = read(&dir.path().join("example/example.log"));
    assert!(example.contains("an instance line"));
    assert!(!example.contains("clientId:1001"), "{example}");
    assert!(!read(&dir.path().join("canal/canal.log")).contains("clientId:1001"));
}
