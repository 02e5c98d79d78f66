//! Live tests of the replica connection against the sandbox MySQL 9.7 (`scripts/start-mysql9.sh`;
//! gated by CANAL_TEST_MYSQL9=127.0.0.1:3308): caching_sha2_password fast and full auth over
//! plain TCP (RSA key exchange) and TLS, GTID dump, file/position dump, heartbeats, errors.

mod client_support;

use std::sync::OnceLock;
use std::time::Duration;

use canal_binlog::client::{
    binlog_status, BinlogEvent, ClientError, Connection, Flavor, SslMode, StartPosition,
};
use canal_binlog::event::types;
use client_support::{
    assert_checksums, canal, create_table, drop_table, dump, dump_error, exec, file_pos, live_addr,
    opts, read_table_commit, read_until, replica_opts, timestamp_case, unique, TableCommit,
};

const VAR: &str = "CANAL_TEST_MYSQL9";

async fn root(addr: &str) -> Connection {
    client_support::root(
        addr,
        "CANAL_TEST_MYSQL9_SOCKET",
        "/var/cache/canal-rs/sid-chroot/run/canal-mysql9/mysqld.sock",
    )
    .await
}

/// FLUSH PRIVILEGES empties the sha2 cache for every account: tests that depend on the cache
/// state run one at a time.
fn cache_lock() -> &'static tokio::sync::Mutex<()> {
    static L: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    L.get_or_init(|| tokio::sync::Mutex::new(()))
}

#[tokio::test]
async fn caching_sha2_full_rsa_then_fast_over_plain_tcp() {
    let Some(addr) = live_addr(VAR) else { return };
    let _g = cache_lock().lock().await;
    let mut r = root(&addr).await;
    exec(&mut r, &["FLUSH PRIVILEGES"]).await;
    let mut c = Connection::connect(&opts(&addr, "canal", "canal"))
        .await
        .expect("full auth over TCP");
    assert_eq!(c.server_info().flavor, Flavor::Mysql);
    assert!(!c.is_tls());
    assert_eq!(c.auth_path(), "caching_sha2_password/full-rsa");
    let u = c.query("select current_user()").await.unwrap();
    assert_eq!(u.rows[0][0].as_deref(), Some("canal@%"));
    c.quit().await.unwrap();
    let c = Connection::connect(&opts(&addr, "canal", "canal"))
        .await
        .expect("fast auth");
    assert_eq!(c.auth_path(), "caching_sha2_password/fast");
    // A wrong password after a cache flush goes through full auth and is refused clearly.
    exec(&mut r, &["FLUSH PRIVILEGES"]).await;
    let e = Connection::connect(&opts(&addr, "canal", "wrong"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::AuthFailed { server, .. } if server.code == 1045),
        "{e:?}"
    );
    assert!(!e.is_transient());
}

#[tokio::test]
async fn caching_sha2_full_then_fast_over_tls() {
    let Some(addr) = live_addr(VAR) else { return };
    let _g = cache_lock().lock().await;
    let mut r = root(&addr).await;
    exec(&mut r, &["FLUSH PRIVILEGES"]).await;
    let mut o = opts(&addr, "canal", "canal");
    o.tls.mode = SslMode::Required;
    let mut c = Connection::connect(&o).await.expect("full auth over TLS");
    assert!(c.is_tls());
    assert_eq!(c.auth_path(), "caching_sha2_password/full-cleartext");
    // The server agrees the session is encrypted.
    let v = c.query("SHOW STATUS LIKE 'Ssl_version'").await.unwrap();
    let ver = v.rows[0][1].clone().unwrap_or_default();
    assert!(ver.starts_with("TLSv1."), "Ssl_version={ver:?}");
    c.quit().await.unwrap();
    let c = Connection::connect(&o).await.expect("fast auth over TLS");
    assert!(c.is_tls());
    assert_eq!(c.auth_path(), "caching_sha2_password/fast");
}

#[tokio::test]
async fn verify_ca_accepts_and_verify_identity_rejects_the_auto_generated_certificate() {
    let Some(addr) = live_addr(VAR) else { return };
    let datadir = std::env::var("CANAL_TEST_MYSQL9_DATADIR")
        .unwrap_or_else(|_| "/var/cache/canal-rs/sid-chroot/var/lib/canal-mysql9".into());
    let ca = std::path::PathBuf::from(datadir).join("ca.pem");
    // VERIFY_CA: the chain to the server's own CA verifies (the host name is not checked).
    let mut o = opts(&addr, "canal", "canal");
    o.tls.mode = SslMode::VerifyCa;
    o.tls.ca_file = Some(ca.clone());
    let c = Connection::connect(&o)
        .await
        .expect("VERIFY_CA with the server's CA");
    assert!(c.is_tls());
    // VERIFY_IDENTITY: the auto-generated certificate names no host, so 127.0.0.1 is refused.
    o.tls.mode = SslMode::VerifyIdentity;
    let e = Connection::connect(&o).await.unwrap_err();
    assert!(
        matches!(&e, ClientError::Tls { message, .. } if message.contains("not valid for name")),
        "{e:?}"
    );
    // A CA that did not sign the server certificate is refused even without host checks.
    let other = std::env::temp_dir().join(unique("ca"));
    std::fs::write(&other, include_str!("client_support/unrelated-ca.pem")).unwrap();
    o.tls.mode = SslMode::VerifyCa;
    o.tls.ca_file = Some(other.clone());
    let e = Connection::connect(&o).await.unwrap_err();
    assert!(matches!(e, ClientError::Tls { .. }), "{e:?}");
    let _ = std::fs::remove_file(other);
}

#[tokio::test]
async fn dump_from_gtid_set_and_file_position() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("gtid");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY").await;
    let st = binlog_status(&mut r).await.unwrap();
    assert!(!st.gtid_set.is_empty(), "gtid_mode=ON expected: {st:?}");
    let uuid = r.query("select @@server_uuid").await.unwrap().rows[0][0]
        .clone()
        .unwrap();
    exec(&mut r, &[&format!("INSERT INTO test.{table} VALUES (1)")]).await;

    // GTID dump: only transactions outside the set arrive; ours is among them.
    let mut s = dump(&addr, 64_001, &StartPosition::Gtid(st.gtid_set.clone())).await;
    let events = read_table_commit(&mut s, &table, Duration::from_secs(20), false).await;
    let executed_max: i64 = st
        .gtid_set
        .split(',')
        .map(str::trim)
        .find(|p| p.starts_with(uuid.as_str()))
        .and_then(|p| {
            // Untagged intervals come first (`uuid:1-120:tag:1-2`): the last one's end.
            p.split(':')
                .skip(1)
                .take_while(|i| i.starts_with(|c: char| c.is_ascii_digit()))
                .last()
                .and_then(|i| i.rsplit('-').next())
                .and_then(|n| n.parse().ok())
        })
        .expect("own uuid in the executed set");
    let gtids: Vec<&BinlogEvent> = events
        .iter()
        .filter(|e| e.event_type() == types::GTID)
        .collect();
    assert!(!gtids.is_empty());
    for g in &gtids {
        let s = g.gtid.as_deref().unwrap();
        let (u, n) = s.rsplit_once(':').unwrap();
        if u == uuid {
            // Untagged GTIDs of this server continue after the executed set.
            assert!(
                n.parse::<i64>().unwrap() > executed_max,
                "{s} was already executed ({})",
                st.gtid_set
            );
        }
    }
    let rows = events
        .iter()
        .find(|e| e.event_type() == types::WRITE_ROWS_V2)
        .expect("WRITE_ROWS v2");
    assert!(rows
        .gtid
        .as_deref()
        .is_some_and(|g| g.starts_with(uuid.as_str())));
    s.close().await.unwrap();

    // File/position dump from the status taken before the insert sees the same rows, contiguously.
    let mut s = dump(&addr, 64_002, &file_pos(&st)).await;
    assert!(s.checksum());
    let events = read_table_commit(&mut s, &table, Duration::from_secs(20), true).await;
    let real: Vec<&BinlogEvent> = events
        .iter()
        .filter(|e| !e.artificial && !e.is_heartbeat())
        .collect();
    assert_eq!(real[0].offset, st.position);
    for w in real.windows(2) {
        assert_eq!(
            w[1].offset, w[0].next_offset,
            "{:?} after {:?}",
            w[1].header, w[0].header
        );
    }
    assert_checksums(&events);
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn heartbeat_and_missing_file_on_mysql() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut c = canal(&addr).await;
    let st = binlog_status(&mut c).await.expect("show binary log status");
    let mut s = dump(&addr, 64_003, &file_pos(&st)).await;
    let events = read_until(&mut s, Duration::from_secs(8), true, |ev| ev.is_heartbeat()).await;
    let hb = events.last().unwrap();
    assert_eq!(hb.offset, hb.next_offset);
    s.close().await.unwrap();

    let c = canal(&addr).await;
    let start = StartPosition::FilePos {
        file: "mysql-bin.999999".into(),
        pos: 4,
    };
    let e = dump_error(c, 64_004, &start).await;
    assert!(e.is_purged(), "{e:?}");
}

#[tokio::test]
async fn missing_replication_privilege_on_mysql() {
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
    let st = binlog_status(&mut r).await.unwrap();
    // Over TLS so that caching_sha2 full auth works without the RSA key round trip too.
    let mut o = opts(&addr, &user, "pw");
    o.tls.mode = SslMode::Required;
    let c = Connection::connect(&o).await.expect("login");
    let e = dump_error(c, 64_005, &file_pos(&st)).await;
    eprintln!("MySQL dump without REPLICATION SLAVE: {e}");
    assert!(matches!(e, ClientError::MissingPrivilege { .. }), "{e:?}");
    exec(&mut r, &[&format!("DROP USER '{user}'@'%'")]).await;
}

#[tokio::test]
async fn timestamp_search_on_mysql() {
    let Some(addr) = live_addr(VAR) else { return };
    let mut r = root(&addr).await;
    let case = timestamp_case(&addr, &mut r, (64_006, 64_010)).await;
    assert!(
        case.found.gtid.is_some(),
        "GTID of the found transaction: {:?}",
        case.found
    );
}

#[tokio::test]
async fn reconnect_after_kill_resumes_from_the_committed_gtid_set() {
    use canal_binlog::client::{Backoff, ReplicaClient, StreamItem};
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("recon");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY").await;
    let st = binlog_status(&mut r).await.unwrap();
    let mut client = ReplicaClient::new(
        opts(&addr, "canal", "canal"),
        replica_opts(64_007),
        StartPosition::Gtid(st.gtid_set),
    )
    .with_backoff(Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        max_attempts: Some(20),
    });
    exec(&mut r, &[&format!("INSERT INTO test.{table} VALUES (1)")]).await;
    // The executed set right after our first transaction is the committed boundary.
    let committed = binlog_status(&mut r).await.unwrap().gtid_set;
    let mut commit = TableCommit::new(&table);
    let first_gtid = loop {
        match tokio::time::timeout(Duration::from_secs(20), client.next())
            .await
            .expect("timeout")
            .expect("event")
        {
            StreamItem::Event(ev) => {
                if commit.committed(&ev) {
                    break ev.gtid.clone().expect("gtid of the transaction");
                }
            }
            StreamItem::Reconnected { .. } => panic!("unexpected reconnect"),
        }
    };
    client.commit(StartPosition::Gtid(committed.clone()));
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
    let mut gtids_after = Vec::new();
    let mut commit = TableCommit::new(&table);
    loop {
        match tokio::time::timeout(Duration::from_secs(30), client.next())
            .await
            .expect("timeout")
            .expect("client")
        {
            StreamItem::Reconnected { from, .. } => {
                assert_eq!(from, StartPosition::Gtid(committed.clone()));
                reconnected = true;
            }
            StreamItem::Event(ev) if reconnected => {
                if ev.event_type() == types::GTID {
                    gtids_after.push(ev.gtid.clone().unwrap());
                }
                if commit.committed(&ev) {
                    break;
                }
            }
            StreamItem::Event(_) => {}
        }
    }
    assert!(!gtids_after.is_empty());
    assert!(
        !gtids_after.iter().any(|g| **g == *first_gtid),
        "{first_gtid} was committed and must not be re-sent"
    );
    client.close().await;
    drop_table(&mut r, &table).await;
}

/// A row larger than 16 MiB: the statement goes out as several packets and the rows event comes
/// back split over several packets (MySQL 9.7's default max_allowed_packet is 64 MiB).
#[tokio::test]
async fn events_larger_than_16mib_round_trip() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("big");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY, b LONGBLOB").await;
    let st = binlog_status(&mut r).await.unwrap();
    let blob_len = 17 * 1024 * 1024 + 123;
    let sql = format!(
        "INSERT INTO test.{table} VALUES (1, '{}')",
        "y".repeat(blob_len)
    );
    assert!(sql.len() > 0xFF_FFFF);
    let mut w = canal(&addr).await;
    let e = w.query(&sql).await.unwrap_err(); // canal has no INSERT privilege: the server read it all
    assert_eq!(e.server_error().map(|s| s.code), Some(1142), "{e}");
    exec(&mut r, &[&sql]).await;
    let mut s = dump(&addr, 64_008, &file_pos(&st)).await;
    let events = read_table_commit(&mut s, &table, Duration::from_secs(30), true).await;
    let rows = events
        .iter()
        .rev()
        .find(|e| e.event_type() == types::WRITE_ROWS_V2)
        .expect("rows event");
    assert!(
        rows.data.len() > blob_len && rows.data.len() > 0xFF_FFFF,
        "{}",
        rows.data.len()
    );
    let (body, crc) = rows.data.split_at(rows.data.len() - 4);
    assert_eq!(crc32fast::hash(body).to_le_bytes(), crc);
    assert!(rows.data.windows(64).any(|w| w.iter().all(|&b| b == b'y')));
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}

#[tokio::test]
async fn tagged_gtids_are_tracked() {
    let Some(addr) = live_addr(VAR) else { return };
    let table = unique("tag");
    let mut r = root(&addr).await;
    create_table(&mut r, &table, "id INT PRIMARY KEY").await;
    let st = binlog_status(&mut r).await.unwrap();
    let uuid = r.query("select @@server_uuid").await.unwrap().rows[0][0]
        .clone()
        .unwrap();
    exec(
        &mut r,
        &[
            "SET gtid_next='AUTOMATIC:canal_rs_tag'",
            &format!("INSERT INTO test.{table} VALUES (1)"),
            "SET gtid_next='AUTOMATIC'",
        ],
    )
    .await;
    let mut s = dump(&addr, 64_009, &file_pos(&st)).await;
    let events = read_table_commit(&mut s, &table, Duration::from_secs(20), true).await;
    let xid = events.last().unwrap();
    let g = xid.gtid.as_deref().expect("the tagged GTID is tracked");
    let prefix = format!("{uuid}:canal_rs_tag:");
    assert!(
        g.starts_with(&prefix) && g[prefix.len()..].parse::<u64>().is_ok(),
        "{g}"
    );
    assert!(events.iter().any(|e| e.event_type() == types::GTID_TAGGED));
    s.close().await.unwrap();
    drop_table(&mut r, &table).await;
}
