//! Live tests of the replica connection against the sandbox MariaDB 10.11
//! (`scripts/start-mariadb.sh`; gated by CANAL_TEST_MARIADB=127.0.0.1:3307).

mod client_support;

use std::time::{Duration, Instant};

use canal_binlog::client::{
    binlog_status, preflight, server_id, Backoff, ClientError, Connection, Flavor,
    PreflightOptions, ReplicaClient, StartPosition, StreamItem,
};
use canal_binlog::event::types;
use client_support::{
    assert_checksums, canal, create_table, drop_table, dump, dump_error, exec, file_pos, live_addr,
    opts, read_table_commit, read_until, replica_opts, timestamp_case, unique, TableCommit,
};

const VAR: &str = "CANAL_TEST_MARIADB";

async fn root(addr: &str) -> Connection {
    client_support::root(
        addr,
        "CANAL_TEST_MARIADB_SOCKET",
        "/tmp/canal-mariadb/run/mysqld.sock",
    )
    .await
}

#[tokio::test]
async fn auth_native_and_query() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut c = Connection::connect(&opts(&addr, "canal", "canal"))
        .await
        .expect("native login");
    assert_eq!(c.server_info().flavor, Flavor::Mariadb);
    assert_eq!(c.auth_path(), "mysql_native_password");
    let r = c
        .query("select current_user() as u, NULL as n")
        .await
        .unwrap();
    assert_eq!(r.columns, vec!["u", "n"]);
    assert_eq!(r.rows, vec![vec![Some("canal@%".to_string()), None]]);
    // The account really uses the native plugin (so this is the native path, not a switch).
    let p = c
        .query("select plugin from mysql.user where user='canal' and host='%'")
        .await
        .unwrap();
    assert_eq!(p.rows[0][0].as_deref(), Some("mysql_native_password"));
    // A server error is typed with code and message.
    let e = c
        .query("select * from no_such_db.no_such_table")
        .await
        .unwrap_err();
    let se = e.server_error().expect("server error").clone();
    assert_eq!(se.code, 1146, "{e}");
    assert!(!e.is_transient());
    // The connection is still usable after an error.
    assert_eq!(
        c.query("select 1").await.unwrap().rows[0][0].as_deref(),
        Some("1")
    );
    c.quit().await.unwrap();
}

#[tokio::test]
async fn auth_ed25519() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut c = Connection::connect(&opts(&addr, "canal_ed", "canal"))
        .await
        .expect("ed25519 login");
    assert_eq!(c.auth_path(), "client_ed25519");
    let r = c.query("select current_user()").await.unwrap();
    assert_eq!(r.rows[0][0].as_deref(), Some("canal_ed@%"));
    let bad = Connection::connect(&opts(&addr, "canal_ed", "wrong"))
        .await
        .unwrap_err();
    assert!(matches!(bad, ClientError::AuthFailed { .. }), "{bad}");
}

#[tokio::test]
async fn wrong_password_is_a_clear_definite_error() {
    let Some(addr) = live_addr(VAR) else { return };
    let e = Connection::connect(&opts(&addr, "canal", "not-the-password"))
        .await
        .unwrap_err();
    match &e {
        ClientError::AuthFailed { user, server, .. } => {
            assert_eq!(user, "canal");
            assert_eq!(server.code, 1045);
        }
        other => panic!("expected AuthFailed, got {other:?}"),
    }
    assert!(!e.is_transient());
    let msg = e.to_string();
    eprintln!("wrong password: {msg}");
    assert!(
        msg.contains("authentication failed for user 'canal'") && msg.contains("1045"),
        "{msg}"
    );
}

#[tokio::test]
async fn connection_refused_is_transient() {
    if live_addr(VAR).is_none() {
        return;
    }
    // A port nobody listens on.
    let e = Connection::connect(&opts("127.0.0.1:1", "canal", "canal"))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Io { .. }), "{e:?}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn missing_replication_privilege_is_a_clear_error() {
    let Some(addr) = live_addr(VAR) else { return };
    let user = unique("norepl");
    let mut r = root(&addr).await;
    exec(
        &mut r,
        &[
            &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
            &format!("GRANT SELECT ON *.* TO '{user}'@'%'"),
        ],
    )
    .await;
    let result = async {
        let mut c = Connection::connect(&opts(&addr, &user, "pw"))
            .await
            .expect("login");
        // Pre-flight: reading the position needs REPLICATION CLIENT / BINLOG MONITOR.
        let e = preflight(&mut c, &PreflightOptions::default())
            .await
            .unwrap_err();
        eprintln!("preflight without REPLICATION CLIENT: {e}");
        assert!(
            matches!(e, ClientError::MissingPrivilege { .. }),
            "preflight: {e:?}"
        );
        assert!(!e.is_transient());
        // The dump itself needs REPLICATION SLAVE.
        let st = {
            let mut rr = root(&addr).await;
            binlog_status(&mut rr).await.unwrap()
        };
        let e = dump_error(c, 54_321, &file_pos(&st)).await;
        eprintln!("dump without REPLICATION SLAVE: {e}");
        assert!(
            matches!(e, ClientError::MissingPrivilege { .. }),
            "dump: {e:?}"
        );
        assert!(e.to_string().contains("REPLICATION SLAVE"), "{e}");
        assert!(!e.is_transient());
    };
    result.await;
    exec(&mut r, &[&format!("DROP USER '{user}'@'%'")]).await;
}

#[tokio::test]
async fn preflight_checks_format_and_reports_position() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut c = canal(&addr).await;
    let st = preflight(&mut c, &PreflightOptions::default())
        .await
        .expect("ROW server passes");
    assert!(st.file.starts_with("mysql-bin."), "{st:?}");
    assert!(st.position >= 4);
    assert!(
        st.gtid_set.starts_with("0-1-") || st.gtid_set.is_empty(),
        "{st:?}"
    );
    assert_eq!(server_id(&mut c).await.unwrap(), 1);
    let strict = PreflightOptions {
        formats: vec!["STATEMENT".into()],
        ..Default::default()
    };
    let e = preflight(&mut c, &strict).await.unwrap_err();
    match &e {
        ClientError::BadBinlogSetting {
            variable, actual, ..
        } => {
            assert_eq!(*variable, "binlog_format");
            assert_eq!(actual, "ROW");
        }
        other => panic!("expected BadBinlogSetting, got {other:?}"),
    }
    assert!(!e.is_transient());
}

#[tokio::test]
async fn dump_from_current_position_sees_inserted_rows() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("dump");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY, v VARCHAR(20)").await;
    let st = binlog_status(&mut r).await.unwrap();
    let mut s = dump(&addr, 54_001, &file_pos(&st)).await;
    assert!(s.checksum(), "the sandbox runs binlog_checksum=CRC32");
    exec(
        &mut r,
        &[&format!("INSERT INTO test.{table} VALUES (1,'a'),(2,'b')")],
    )
    .await;
    let events = read_table_commit(&mut s, &table, Duration::from_secs(20), true).await;
    // The first event is the artificial ROTATE naming the start position.
    let first = &events[0];
    assert_eq!(first.event_type(), types::ROTATE);
    assert!(first.artificial);
    assert_eq!(
        (&*first.file, first.offset),
        (st.file.as_str(), st.position)
    );
    // The first real event starts exactly at the requested position.
    let first_real = events
        .iter()
        .find(|e| !e.artificial && !e.is_heartbeat())
        .unwrap();
    assert_eq!(first_real.offset, st.position);
    // Rows arrived, with a MariaDB GTID in force and CRC32 checksums that verify.
    let rows = events
        .iter()
        .find(|e| e.event_type() == types::WRITE_ROWS_V1)
        .expect("WRITE_ROWS v1");
    assert!(
        rows.gtid.as_deref().is_some_and(|g| g.starts_with("0-1-")),
        "{:?}",
        rows.gtid
    );
    assert_checksums(&events);
    // The XID ends where the server says the binlog now ends (nobody else wrote meanwhile) or
    // before it.
    let xid = events.last().unwrap();
    let after = binlog_status(&mut r).await.unwrap();
    assert_eq!(&*xid.file, after.file.as_str());
    assert!(xid.next_offset <= after.position);
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn dump_from_mariadb_gtid() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("gtid");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY").await;
    let st = binlog_status(&mut r).await.unwrap();
    assert!(!st.gtid_set.is_empty());
    exec(&mut r, &[&format!("INSERT INTO test.{table} VALUES (7)")]).await;
    let mut s = dump(&addr, 54_002, &StartPosition::Gtid(st.gtid_set.clone())).await;
    let events = read_table_commit(&mut s, &table, Duration::from_secs(20), false).await;
    // The dump starts right after the given GTID: the first real GTID event is the next one.
    let (dom_srv, seq) = st.gtid_set.rsplit_once('-').unwrap();
    let next = format!("{dom_srv}-{}", seq.parse::<u64>().unwrap() + 1);
    let first_gtid = events
        .iter()
        .find(|e| e.event_type() == types::MARIA_GTID && !e.artificial)
        .expect("a GTID event");
    assert_eq!(first_gtid.gtid.as_deref(), Some(next.as_str()));
    // MariaDB first replays the file's header events (FDE, GTID_LIST, BINLOG_CHECKPOINT) and then
    // jumps to the transaction: from the GTID event on, offsets come from log_pos and are contiguous.
    let at = events
        .iter()
        .position(|e| std::ptr::eq(e, first_gtid))
        .unwrap();
    for w in events[at..].windows(2) {
        if !w[1].artificial && !w[1].is_heartbeat() {
            assert_eq!(
                w[1].offset, w[0].next_offset,
                "{:?} after {:?}",
                w[1].header, w[0].header
            );
        }
        assert_eq!(
            w[1].next_offset,
            u64::from(w[1].header.log_pos).max(w[1].offset)
        );
    }
    // The position is known from the artificial ROTATE: the GTID event's offset equals st.position
    // when nothing else was written in between.
    assert_eq!(&*first_gtid.file, st.file.as_str());
    assert!(first_gtid.offset >= st.position);
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn heartbeat_arrives_when_idle() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut c = canal(&addr).await;
    let st = binlog_status(&mut c).await.unwrap();
    c.quit().await.unwrap();
    let mut s = dump(&addr, 54_003, &file_pos(&st)).await;
    let t0 = Instant::now();
    let events = read_until(&mut s, Duration::from_secs(8), true, |ev| ev.is_heartbeat()).await;
    let hb = events.last().unwrap();
    assert!(t0.elapsed() < Duration::from_secs(8));
    assert_eq!(hb.event_type(), types::HEARTBEAT);
    // A heartbeat does not move the position.
    assert_eq!(hb.offset, hb.next_offset);
    s.close().await.unwrap();
}

#[tokio::test]
async fn dump_of_a_missing_binlog_is_the_purged_error() {
    let Some(addr) = live_addr(VAR) else { return };
    let c = canal(&addr).await;
    let start = StartPosition::FilePos {
        file: "mysql-bin.999999".into(),
        pos: 4,
    };
    let e = dump_error(c, 54_004, &start).await;
    eprintln!("missing binlog: {e}");
    assert!(e.is_purged(), "{e:?}");
    assert!(!e.is_transient());
    assert_eq!(e.server_error().map(|s| s.code), Some(1236));
    assert!(e.to_string().contains("purged"), "{e}");
}

#[tokio::test]
async fn reconnect_after_kill_resumes_at_the_committed_boundary() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("recon");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY").await;
    let st = binlog_status(&mut r).await.unwrap();
    let mut client = ReplicaClient::new(
        opts(&addr, "canal", "canal"),
        replica_opts(54_005),
        file_pos(&st),
    )
    .with_backoff(Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        max_attempts: Some(20),
    });

    exec(&mut r, &[&format!("INSERT INTO test.{table} VALUES (1)")]).await;
    // Read up to the XID of our first insert and commit there.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut commit = TableCommit::new(&table);
    let committed = loop {
        assert!(Instant::now() < deadline, "first transaction not seen");
        match client.next().await.expect("event") {
            StreamItem::Event(ev) => {
                if commit.committed(&ev) {
                    break StartPosition::FilePos {
                        file: ev.file.to_string(),
                        pos: ev.next_offset,
                    };
                }
            }
            StreamItem::Reconnected { .. } => panic!("unexpected reconnect"),
        }
    };
    client.commit(committed.clone());
    let id = client.stream().expect("connected").connection_id();
    exec(
        &mut r,
        &[
            &format!("KILL {id}"),
            &format!("INSERT INTO test.{table} VALUES (2)"),
        ],
    )
    .await;

    let mut reconnected = false;
    let mut first_real_offset = None;
    let mut rows_after = 0;
    let mut commit = TableCommit::new(&table);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "second transaction not seen after the kill"
        );
        match client.next().await.expect("reconnecting client") {
            StreamItem::Reconnected { from, .. } => {
                assert_eq!(from, committed);
                reconnected = true;
            }
            StreamItem::Event(ev) => {
                if !reconnected {
                    continue; // events still buffered from the old dump
                }
                if !ev.artificial && !ev.is_heartbeat() && first_real_offset.is_none() {
                    first_real_offset = Some((ev.file.to_string(), ev.offset));
                }
                let done = commit.committed(&ev);
                if commit.mapped() && ev.event_type() == types::WRITE_ROWS_V1 {
                    rows_after += 1;
                }
                if done {
                    break;
                }
            }
        }
    }
    assert!(reconnected, "the kill must have broken the dump");
    let StartPosition::FilePos { file, pos } = &committed else {
        unreachable!()
    };
    assert_eq!(
        first_real_offset,
        Some((file.clone(), *pos)),
        "resumed exactly at the committed boundary"
    );
    // Only the second insert (one rows event) follows the boundary; the first is not repeated.
    assert_eq!(rows_after, 1);
    client.close().await;
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn timestamp_search_finds_the_last_boundary_before() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut r = root(&addr).await;
    let case = timestamp_case(&addr, &mut r, (54_006, 54_007)).await;
    assert_eq!(case.found.server_id, 1);
}

/// Throughput of the raw dump (run by hand: `cargo test --release --test client_mariadb
/// dump_throughput -- --ignored --nocapture`).
#[tokio::test]
#[ignore]
async fn dump_throughput() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("tput");
    let mut r = root(&addr).await;
    create_table(
        &mut r,
        &table,
        "id INT PRIMARY KEY, a BIGINT, b VARCHAR(64), c DOUBLE",
    )
    .await;
    let st = binlog_status(&mut r).await.unwrap();
    exec(
        &mut r,
        &[&format!("INSERT INTO test.{table} SELECT seq, seq*7, concat('row-', seq, '-', repeat('x', 30)), seq/3 FROM test.seq_1_to_200000")],
    )
    .await;
    let end = binlog_status(&mut r).await.unwrap();
    let mut s = dump(&addr, 54_099, &file_pos(&st)).await;
    let t0 = Instant::now();
    let (mut n, mut bytes) = (0u64, 0u64);
    loop {
        let ev = s.next_event().await.unwrap();
        n += 1;
        bytes += ev.data.len() as u64;
        if *ev.file == *end.file && ev.next_offset >= end.position {
            break;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n} events, {:.1} MB in {secs:.3} s = {:.0} MB/s, {:.0} events/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        n as f64 / secs
    );
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn tls_modes_against_a_server_without_tls() {
    use canal_binlog::client::SslMode;
    let Some(addr) = live_addr(VAR) else { return };
    // The sandbox MariaDB has no certificates (have_ssl=DISABLED).
    let mut o = opts(&addr, "canal", "canal");
    o.tls.mode = SslMode::Preferred;
    let mut c = Connection::connect(&o)
        .await
        .expect("PREFERRED falls back to plain TCP");
    assert!(!c.is_tls());
    c.query("select 1").await.unwrap();
    o.tls.mode = SslMode::Required;
    let e = Connection::connect(&o).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Tls { message, .. } if message.contains("does not support TLS")),
        "{e:?}"
    );
    assert!(!e.is_transient());
}
