//! meta.log: the periodic cursor flush of the file meta writes Canal's line
//! (`clientId:{} cursor:[journal,position,timestamp,serverId,gtid] address[{source}]`) to
//! `logs/{destination}/meta.log` through canal-telemetry's logging layer; nothing is written
//! for a flush without cursor changes, nor for the final flush at stop (Java logs only in the
//! periodic task). One test per binary: the flush thread needs the global subscriber.

use std::time::{Duration, Instant};

use canal_meta::file::{meta_log_message, FileMixedMetaManager, META_LOG_TARGET};
use canal_meta::MetaManager;
use canal_protocol::position::{
    ClientIdentity, EntryPosition, LogIdentity, LogPosition, SourceAddress,
};
use canal_telemetry::logging::{self, LogConfig};
use regex::Regex;

fn cursor(offset: i64) -> LogPosition {
    LogPosition {
        identity: LogIdentity {
            source_address: Some(SourceAddress {
                address: Some("10.20.3.4".into()),
                port: 3306,
            }),
            slave_id: -1,
        },
        postion: EntryPosition {
            journal_name: Some("mysql-bin.000003".into()),
            position: Some(offset),
            server_id: Some(1),
            gtid: Some(String::new()),
            timestamp: Some(1_700_000_000_000),
            included: false,
        },
    }
}

fn wait_lines(path: &std::path::Path, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn periodic_flush_writes_canal_meta_log_line() {
    assert_eq!(META_LOG_TARGET, logging::META_LOG_TARGET);
    let tmp = tempfile::tempdir().expect("tmp");
    let logs = tmp.path().join("logs");
    let sub = logging::subscriber(&LogConfig::new(&logs), "info").expect("subscriber");
    tracing::subscriber::set_global_default(sub).expect("global subscriber");

    let m = FileMixedMetaManager::new(tmp.path().join("data"), Duration::from_millis(50));
    m.start().expect("start");
    let c = ClientIdentity {
        destination: "example".into(),
        client_id: 1001,
        filter: Some(String::new()),
    };
    m.subscribe(&c).expect("subscribe");
    m.update_cursor(&c, &cursor(4567)).expect("cursor");
    let meta_log = logs.join("example/meta.log");
    let text = wait_lines(&meta_log, 1);
    let re = Regex::new(
        r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} - clientId:1001 cursor:\[mysql-bin\.000003,4567,1700000000000,1,\] address\[/10\.20\.3\.4:3306\]$",
    )
    .expect("re");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(re.is_match(lines[0]), "{text}");

    // No change -> no line; a change -> one more line with the new offset.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read_to_string(&meta_log)
            .expect("read")
            .lines()
            .count(),
        1
    );
    m.update_cursor(&c, &cursor(8800)).expect("cursor");
    let text = wait_lines(&meta_log, 2);
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.ends_with(&meta_log_message(1001, &cursor(8800)))
                && l.contains("cursor:[mysql-bin.000003,8800,")),
        "{text}"
    );
    // The line went to meta.log only.
    assert!(
        !logs.join("example/example.log").exists()
            || !std::fs::read_to_string(logs.join("example/example.log"))
                .expect("read")
                .contains("clientId:1001")
    );

    m.stop().expect("stop");

    // The final flush at stop writes meta.dat but logs nothing (as Java): a manager whose
    // period never comes.
    let m2 = FileMixedMetaManager::new(tmp.path().join("data"), Duration::from_secs(3600));
    m2.start().expect("start");
    let c2 = ClientIdentity {
        destination: "other".into(),
        client_id: 1001,
        filter: None,
    };
    m2.subscribe(&c2).expect("subscribe");
    m2.update_cursor(&c2, &cursor(9900)).expect("cursor");
    m2.stop().expect("stop");
    let dat = std::fs::read_to_string(tmp.path().join("data/other/meta.dat")).expect("meta.dat");
    assert!(dat.contains("9900"), "{dat}");
    assert!(
        !logs.join("other/meta.log").exists(),
        "stop flush logged a meta line"
    );
}
