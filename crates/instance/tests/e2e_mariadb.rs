//! End to end against the sandbox MariaDB (scripts/start-mariadb.sh; gated by
//! CANAL_TEST_MARIADB=host:port and CANAL_TEST_MARIADB_SOCKET for a root connection): start a
//! destination with the real pipeline, write rows, read the entries from its store.
//! Expected values are the rows the test writes (schema, table, event types, column values as
//! Canal renders an INT and a VARCHAR: decimal text and the string itself).

use std::fs;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_binlog::client::conn::{ConnectOptions, Connection};
use canal_config::{Overrides, ServerConfig};
use canal_instance::{Launcher, Parts, PipelineLauncher, Registry};
use canal_protocol::entry::{Entry, EntryType, EventType, RowChange};
use canal_store::EventStore;
use parking_lot::Mutex;
use prost::Message;

/// Column name and value (`None` = SQL NULL) of one row image.
type Row = Vec<(String, Option<String>)>;

#[derive(Default, Clone)]
struct Capture(Arc<Mutex<Vec<Parts>>>);

impl Registry for Capture {
    fn register(&self, parts: &Parts) {
        self.0.lock().push(parts.clone());
    }
    fn unregister(&self, destination: &str) {
        self.0.lock().retain(|p| p.destination != destination);
    }
}

fn sandbox() -> Option<(String, String)> {
    match (
        std::env::var("CANAL_TEST_MARIADB"),
        std::env::var("CANAL_TEST_MARIADB_SOCKET"),
    ) {
        (Ok(a), Ok(s)) if !a.is_empty() && !s.is_empty() => Some((a, s)),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but CANAL_TEST_MARIADB / CANAL_TEST_MARIADB_SOCKET are not"
            );
            eprintln!(
                "note: CANAL_TEST_MARIADB(_SOCKET) unset, skipping the MariaDB end-to-end test"
            );
            None
        }
    }
}

/// Writes a conf dir for destination `dest` (memory meta, ITEMSIZE store, TSDB off) that starts
/// at `file`:`pos` on `addr` with the given credentials and a `{schema}\\..*` filter, and loads
/// it. The temp dir must outlive the instance.
fn instance_conf(
    addr: &str,
    dest: &str,
    file: &str,
    pos: &str,
    user: &str,
    password: &str,
    schema: &str,
) -> (tempfile::TempDir, canal_config::InstanceConfig) {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join(dest)).expect("mkdir");
    fs::write(
        conf.join("canal.properties"),
        format!(
            "canal.serverMode = tcp\ncanal.destinations = {dest}\ncanal.instance.global.mode = spring\n\
             canal.instance.global.lazy = false\n\
             canal.instance.global.spring.xml = classpath:spring/memory-instance.xml\n\
             canal.instance.memory.batch.mode = ITEMSIZE\ncanal.instance.tsdb.enable = false\n"
        ),
    )
    .expect("write");
    fs::write(
        conf.join(dest).join("instance.properties"),
        format!(
            "canal.instance.master.address = {addr}\ncanal.instance.master.journal.name = {file}\n\
             canal.instance.master.position = {pos}\ncanal.instance.dbUsername = {user}\n\
             canal.instance.dbPassword = {password}\ncanal.instance.filter.regex = {schema}\\\\..*\n"
        ),
    )
    .expect("write");
    let server = ServerConfig::load(&conf, Overrides::none()).expect("conf loads");
    let cfg = server.load_instance(dest).expect("instance loads");
    (tmp, cfg)
}

async fn root(socket: &str) -> Connection {
    let mut o = ConnectOptions::new("localhost", 3306, "root", "");
    o.socket = Some(socket.into());
    Connection::connect(&o)
        .await
        .expect("root connection over the socket")
}

/// Recreates database `schema`, runs the set-up statements, then returns the source's current
/// file and position.
async fn prepare(admin: &mut Connection, schema: &str, sqls: &[String]) -> (String, String) {
    let fresh = [
        format!("drop database if exists {schema}"),
        format!("create database {schema}"),
    ];
    for sql in fresh.iter().chain(sqls) {
        if let Err(e) = admin.query(sql).await {
            panic!("set-up `{sql}`: {e}");
        }
    }
    let status = admin.query("show master status").await.expect("status");
    let file = status.get(0, "File").expect("file").to_string();
    let pos = status.get(0, "Position").expect("pos").to_string();
    (file, pos)
}

/// A destination launched through the real pipeline, with its registered parts.
struct Dest {
    capture: Capture,
    launcher: PipelineLauncher<Capture>,
    running: <PipelineLauncher<Capture> as Launcher>::Running,
    parts: Parts,
}

impl Dest {
    async fn launch(cfg: canal_config::InstanceConfig) -> Dest {
        let capture = Capture::default();
        let launcher = PipelineLauncher::new(capture.clone());
        let running = launcher.launch(cfg).await.expect("launch");
        let parts = capture.0.lock().first().expect("registered").clone();
        Dest {
            capture,
            launcher,
            running,
            parts,
        }
    }

    fn store(&self) -> Arc<EventStore> {
        self.parts.store.clone()
    }

    /// Shuts the destination down; the registry is returned to check the unregistration.
    async fn shutdown(self) -> Capture {
        self.launcher.shutdown(self.running).await;
        self.capture
    }
}

/// Gets (`batch` entries at a time) and acks until `f`, called for every entry, has returned
/// true or `limit` has passed.
async fn drain(store: &EventStore, batch: i32, limit: Duration, mut f: impl FnMut(Entry) -> bool) {
    let deadline = Instant::now() + limit;
    let mut done = false;
    while !done && Instant::now() < deadline {
        let got = store
            .get_timeout(None, batch, Duration::from_millis(100))
            .await
            .expect("get");
        if let Some(range) = &got.range {
            for ev in &got.events {
                let entry = Entry::decode(ev.entry.clone().expect("entry bytes")).expect("entry");
                done |= f(entry);
            }
            store
                .ack(range.end.as_ref().expect("end"), range.end_seq)
                .expect("ack");
        }
    }
}

/// The after-image values of an INSERT rows entry (none for any other entry).
fn inserted_values(entry: &Entry) -> Vec<String> {
    let h = entry.header.clone().unwrap_or_default();
    if entry.entry_type() != EntryType::Rowdata || h.event_type() != EventType::Insert {
        return Vec::new();
    }
    let rc = RowChange::decode(entry.store_value()).expect("row change");
    rc.row_datas
        .iter()
        .flat_map(|r| r.after_columns.iter().map(|c| c.value().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_to_mariadb_reach_the_store() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let schema = format!("g_e2e_{}", std::process::id());
    let mut admin = root(&socket).await;
    let (file, pos) = prepare(
        &mut admin,
        &schema,
        &[format!(
            "create table {schema}.t (id int primary key, v varchar(20))"
        )],
    )
    .await;
    let (_tmp, cfg) = instance_conf(&addr, "e2e", &file, &pos, "canal", "canal", &schema);
    let dest = Dest::launch(cfg).await;
    let store = dest.store();

    admin.query("begin").await.expect("begin");
    admin
        .query(&format!(
            "insert into {schema}.t values (1,'a'),(2,'héllo'),(3,NULL)"
        ))
        .await
        .expect("insert");
    admin.query("commit").await.expect("commit");
    admin
        .query(&format!("update {schema}.t set v='b' where id=1"))
        .await
        .expect("update");

    let mut rows: Vec<(EventType, Vec<Row>)> = Vec::new();
    let mut ends = 0;
    drain(&store, 100, Duration::from_secs(30), |entry| {
        match entry.entry_type() {
            EntryType::Transactionend => ends += 1,
            EntryType::Rowdata => {
                let h = entry.header.clone().unwrap_or_default();
                let rc = RowChange::decode(entry.store_value()).expect("row change");
                // MariaDB also yields ANNOTATE_ROWS QUERY entries (compat trap 13).
                if rc.is_ddl()
                    || !matches!(
                        h.event_type(),
                        EventType::Insert | EventType::Update | EventType::Delete
                    )
                {
                    return false;
                }
                assert_eq!(h.schema_name(), schema);
                assert_eq!(h.table_name(), "t");
                let data = rc
                    .row_datas
                    .iter()
                    .map(|r| {
                        r.after_columns
                            .iter()
                            .map(|c| {
                                let v = (!c.is_null()).then(|| c.value().to_string());
                                (c.name().to_string(), v)
                            })
                            .collect()
                    })
                    .collect();
                rows.push((h.event_type(), data));
            }
            _ => {}
        }
        rows.len() >= 2 && ends >= 2
    })
    .await;
    let capture = dest.shutdown().await;
    assert!(capture.0.lock().is_empty(), "unregistered on shutdown");
    let _ = admin.query(&format!("drop database {schema}")).await;

    let s = |v: &str| Some(v.to_string());
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, EventType::Insert);
    assert_eq!(
        rows[0].1,
        vec![
            vec![("id".to_string(), s("1")), ("v".to_string(), s("a"))],
            vec![("id".to_string(), s("2")), ("v".to_string(), s("héllo"))],
            vec![("id".to_string(), s("3")), ("v".to_string(), None)],
        ]
    );
    assert_eq!(rows[1].0, EventType::Update);
    assert_eq!(
        rows[1].1,
        vec![vec![("id".to_string(), s("1")), ("v".to_string(), s("b"))]]
    );
    assert!(ends >= 2, "two transactions ended, saw {ends}");
}

/// Java `subscribeChange`: a client's non-blank subscribe filter replaces the parser filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_filter_replaces_the_instance_filter() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let schema = format!("g_f2e_{}", std::process::id());
    let mut admin = root(&socket).await;
    let (file, pos) = prepare(
        &mut admin,
        &schema,
        &[
            format!("create table {schema}.t (id int primary key)"),
            format!("create table {schema}.u (id int primary key)"),
        ],
    )
    .await;
    let (_tmp, cfg) = instance_conf(&addr, "f", &file, &pos, "canal", "canal", &schema);
    let dest = Dest::launch(cfg).await;
    dest.parts.set_filter(&format!("{schema}\\.u"));
    assert_eq!(dest.parts.filter(), Some(format!("{schema}\\.u")));

    admin
        .query(&format!("insert into {schema}.t values (1)"))
        .await
        .expect("insert t");
    admin
        .query(&format!("insert into {schema}.u values (2)"))
        .await
        .expect("insert u");
    let mut tables = Vec::new();
    drain(&dest.store(), 100, Duration::from_secs(30), |entry| {
        let h = entry.header.clone().unwrap_or_default();
        if entry.entry_type() == EntryType::Rowdata && h.event_type() == EventType::Insert {
            tables.push(h.table_name().to_string());
        }
        tables.iter().any(|t| t == "u")
    })
    .await;
    dest.shutdown().await;
    let _ = admin.query(&format!("drop database {schema}")).await;
    assert_eq!(tables, vec!["u".to_string()], "only the subscribed table");
}

/// Throughput measurement (run explicitly: `cargo test --release -p canal-instance --test
/// e2e_mariadb -- --ignored --nocapture`): 100k rows in 10 transactions of an 11-column table
/// are written first; then the instance starts at the position before them and the time until
/// every row is in the store is measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_rows_per_second() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let schema = format!("g_tp_{}", std::process::id());
    let mut admin = root(&socket).await;
    let (file, pos) = prepare(
        &mut admin,
        &schema,
        &[
            format!(
                "create table {schema}.t (id bigint primary key, a int, b varchar(40), c decimal(12,2), \
                 d datetime(3), e double, f char(8), g text, h tinyint, i date, j enum('x','y','z'))"
            ),
        ],
    )
    .await;
    let (_tmp, cfg) = instance_conf(&addr, "tp", &file, &pos, "canal", "canal", &schema);
    let write_start = Instant::now();
    for k in 0..10 {
        admin
            .query(&format!(
                "insert into {schema}.t select seq + {off}, seq, concat('name-', seq), seq / 7, \
                 '2024-01-02 03:04:05.678', seq * 1.5, 'abc', repeat('x', 50), seq % 100, \
                 '2024-05-06', 'y' from {schema}.seq_1_to_10000",
                off = k * 10_000
            ))
            .await
            .expect("insert");
    }
    let written = write_start.elapsed();
    // The binlog is complete before the instance starts: this measures catch-up speed.
    let started = Instant::now();
    let dest = Dest::launch(cfg).await;
    let store = dest.store();
    let mut rows = 0i64;
    let deadline = Instant::now() + Duration::from_secs(120);
    while rows < 100_000 && Instant::now() < deadline {
        let got = store
            .get_timeout(None, 4096, Duration::from_millis(100))
            .await
            .expect("get");
        if let Some(range) = &got.range {
            rows += got
                .events
                .iter()
                .map(|e| i64::from(e.rows_count))
                .sum::<i64>();
            store
                .ack(range.end.as_ref().expect("end"), range.end_seq)
                .expect("ack");
        }
    }
    let total = started.elapsed();
    dest.shutdown().await;
    let _ = admin.query(&format!("drop database {schema}")).await;
    eprintln!(
        "rows {rows}: written in {:.2}s, all in the store after {:.2}s = {:.0} rows/s",
        written.as_secs_f64(),
        total.as_secs_f64(),
        rows as f64 / total.as_secs_f64()
    );
    assert_eq!(rows, 100_000);
}

/// The dump connection is killed on the source in the middle of the stream: the replica
/// reconnects and every row arrives exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_dump_connection_resumes_without_loss_or_duplicates() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let pid = std::process::id();
    let schema = format!("g_rc_{pid}");
    let user = format!("g_rc_{pid}");
    let mut admin = root(&socket).await;
    let (file, pos) = prepare(
        &mut admin,
        &schema,
        &[
            format!("create table {schema}.t (id int primary key)"),
            format!("drop user if exists '{user}'@'%'"),
            format!("create user '{user}'@'%' identified by 'pw'"),
            format!("grant select, replication slave, replication client on *.* to '{user}'@'%'"),
        ],
    )
    .await;
    let (_tmp, cfg) = instance_conf(&addr, "rc", &file, &pos, &user, "pw", &schema);
    let dest = Dest::launch(cfg).await;
    let store = dest.store();

    let mut ids: Vec<String> = Vec::new();
    let collect = |want: usize| {
        let store = store.clone();
        let mut got_ids = Vec::new();
        async move {
            drain(&store, 100, Duration::from_secs(30), |entry| {
                got_ids.extend(inserted_values(&entry));
                got_ids.len() >= want
            })
            .await;
            // Anything extra (a duplicate) would show up shortly after.
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Ok(got) = store
                .get_timeout(None, 100, Duration::from_millis(100))
                .await
            {
                for ev in &got.events {
                    let entry = Entry::decode(ev.entry.clone().expect("bytes")).expect("entry");
                    if !inserted_values(&entry).is_empty() {
                        got_ids.push("duplicate".into());
                    }
                }
            }
            got_ids
        }
    };

    admin
        .query(&format!("insert into {schema}.t values (1),(2),(3)"))
        .await
        .expect("insert 1");
    ids.extend(collect(3).await);

    let dumps = admin
        .query(&format!(
            "select id from information_schema.processlist where user = '{user}' and command like 'Binlog Dump%'"
        ))
        .await
        .expect("processlist");
    assert!(!dumps.rows.is_empty(), "our dump connection is visible");
    for row in &dumps.rows {
        if let Some(Some(id)) = row.first() {
            let _ = admin.query(&format!("kill {id}")).await;
        }
    }
    admin
        .query(&format!("insert into {schema}.t values (4),(5)"))
        .await
        .expect("insert 2");
    ids.extend(collect(2).await);

    dest.shutdown().await;
    let _ = admin.query(&format!("drop database {schema}")).await;
    let _ = admin.query(&format!("drop user '{user}'@'%'")).await;
    assert_eq!(ids, vec!["1", "2", "3", "4", "5"]);
}

/// A configured position inside a transaction (at a rows event, after its TABLE_MAP) with TSDB
/// off: the first run fails with "table id not found", the next one restarts at the last
/// transaction boundary before it (§5.1 step 4) and the rows arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_inside_a_transaction_rescans_to_its_start() {
    let Some((addr, socket)) = sandbox() else {
        return;
    };
    let schema = format!("g_ti_{}", std::process::id());
    let mut admin = root(&socket).await;
    let (file, before) = prepare(
        &mut admin,
        &schema,
        &[
            format!("create table {schema}.t (id int primary key)"),
            // The rescan reads the file from its start: keep it short.
            "flush binary logs".to_string(),
        ],
    )
    .await;
    admin
        .query(&format!("insert into {schema}.t values (41),(42)"))
        .await
        .expect("insert");
    // The rows event of that insert (other sessions may write too: take the first rows event
    // of our table after `before`).
    let events = admin
        .query(&format!("show binlog events in '{file}' from {before}"))
        .await
        .expect("binlog events");
    let mut rows_pos = None;
    let mut ours = false;
    for i in 0..events.rows.len() {
        let info = events.get(i, "Info").unwrap_or_default();
        let kind = events.get(i, "Event_type").unwrap_or_default();
        if kind == "Table_map" {
            ours = info.contains(&format!("({schema}.t)"));
        }
        if ours && kind.starts_with("Write_rows") {
            rows_pos = events.get(i, "Pos").map(str::to_string);
            break;
        }
    }
    let rows_pos = rows_pos.expect("our rows event");

    let (_tmp, cfg) = instance_conf(&addr, "ti", &file, &rows_pos, "canal", "canal", &schema);
    let dest = Dest::launch(cfg).await;
    let mut ids = Vec::new();
    drain(&dest.store(), 100, Duration::from_secs(30), |entry| {
        ids.extend(inserted_values(&entry));
        ids.len() >= 2
    })
    .await;
    dest.shutdown().await;
    let _ = admin.query(&format!("drop database {schema}")).await;
    assert_eq!(ids, vec!["41", "42"]);
}
