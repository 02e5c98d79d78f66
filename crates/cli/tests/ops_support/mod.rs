//! Helpers of the `ops_*` tests (metrics port, admin port, canalctl position): a real
//! `canal-server` (via `e2e_support`) with known metrics and admin ports, a workload table, a
//! consuming Canal client, a metrics scraper and an admin-port client.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use canal_binlog::client::conn::Connection;
use canal_cli::ctl::metrics::{http_get, parse, Sample};
use canal_client::{CanalClient, ClientConfig};
use canal_protocol::admin::{Ack, ClientAuth, Handshake, Packet, PacketType};
use canal_protocol::codec::FrameCodec;
use canal_protocol::entry::{EntryType, EventType, RowChange};
use canal_protocol::scramble::client_token;
use futures::{SinkExt, StreamExt};
use prost::Message;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::e2e_support::{
    self, exec, free_port, fresh_schema, master_position, Server, ServerConf, Source,
};

/// `canal.admin.passwd` for the plain password "admin": hex(SHA1(SHA1("admin"))), the value
/// of Canal's shipped canal.properties (operations.md §7).
pub const ADMIN_HASH: &str = "4acfe3202a5ff5cf467898fc58aab1d615029441";

/// A running server with its workload schema.
pub struct Ops {
    /// The sandbox.
    pub source: Source,
    /// Root session running the workload.
    pub root: Connection,
    /// Workload schema (table `t(id int primary key, v varchar(64))`).
    pub schema: String,
    /// Conf dir and overrides.
    pub conf: ServerConf,
    /// The child process.
    pub server: Server,
    /// canal.metrics.pull.port.
    pub metrics: u16,
    /// canal.admin.port.
    pub admin: u16,
}

/// Starts a server over a fresh schema `ops_{tag}_{pid}` (file meta, shipped conf), or `None`
/// when CANAL_TEST_MARIADB(_SOCKET) is unset.
pub async fn start(tag: &str) -> Option<Ops> {
    start_with(tag, &[], &[]).await
}

/// [`start`] with extra instance.properties lines and `-D` server overrides.
pub async fn start_with(
    tag: &str,
    instance: &[(&str, &str)],
    server: &[(&str, &str)],
) -> Option<Ops> {
    let source = e2e_support::source("CANAL_TEST_MARIADB")?;
    let mut root = source.admin().await;
    let schema = format!("ops_{tag}_{}", std::process::id());
    let start = fresh_schema(
        &mut root,
        &schema,
        &[format!(
            "create table {schema}.t (id int primary key, v varchar(64))"
        )],
    )
    .await;
    let metrics = free_port();
    let admin = free_port();
    let (m, a) = (metrics.to_string(), admin.to_string());
    let mut overrides = vec![
        ("canal.metrics.pull.port", m.as_str()),
        ("canal.admin.port", a.as_str()),
        ("canal.admin.user", "admin"),
        ("canal.admin.passwd", ADMIN_HASH),
    ];
    overrides.extend_from_slice(server);
    let conf = ServerConf::new(&source, &start, instance, &overrides);
    let server = tokio::task::block_in_place(|| Server::start(&conf, 0));
    Some(Ops {
        source,
        root,
        schema,
        conf,
        server,
        metrics,
        admin,
    })
}

impl Ops {
    /// Inserts one row per id, one transaction each.
    pub async fn insert(&mut self, ids: impl IntoIterator<Item = u32>) {
        let sqls: Vec<String> = ids
            .into_iter()
            .map(|i| format!("insert into {}.t values ({i}, 'row {i}')", self.schema))
            .collect();
        exec(&mut self.root, &sqls).await;
    }

    /// Current binlog (file, position) of the source.
    pub async fn head(&mut self) -> (String, u64) {
        master_position(&mut self.root).await
    }

    /// The redelivery scenario of the `position set` tests: rows 1..=5 are inserted (noting the
    /// source head before each) and received by `client`; returns those heads (`[2]` is where
    /// the cursor is moved back to, before row 3).
    pub async fn five_rows_delivered(&mut self, client: &mut CanalClient) -> Vec<(String, u64)> {
        let mut before = Vec::new();
        for id in 1..=5u32 {
            before.push(self.head().await);
            self.insert([id]).await;
        }
        assert_eq!(
            self.take(client, 5, Duration::from_secs(60)).await,
            vec![1, 2, 3, 4, 5]
        );
        before
    }

    /// After the cursor was moved back before row 3 and the destination restarted: a new client
    /// receives rows 3, 4, 5 again and then a new row 6.
    pub async fn expect_redelivery_from_row_3(&mut self) -> CanalClient {
        let mut client = self.client(1001).await;
        self.insert([6]).await;
        let got = self.take(&mut client, 4, Duration::from_secs(60)).await;
        assert_eq!(got, vec![3, 4, 5, 6]);
        client
    }

    /// `canalctl position show example` prints `file`:`pos` as the first client's cursor;
    /// returns the whole JSON.
    pub fn assert_cursor_shown(&self, file: &str, pos: u64) -> serde_json::Value {
        let shown = self.canalctl(&["position", "show", "example"]);
        assert!(shown.status.success());
        let v: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("show prints JSON");
        let cursor = &v["clients"][0]["cursor"];
        assert_eq!(cursor["journalName"], file, "{v}");
        assert_eq!(cursor["position"], pos, "{v}");
        v
    }

    /// A subscribed client (filter: the workload schema).
    pub async fn client(&self, client_id: i16) -> CanalClient {
        let mut c = CanalClient::connect(
            ("127.0.0.1", self.server.port),
            ClientConfig {
                destination: "example".into(),
                client_id,
                so_timeout: Duration::from_secs(30),
                ..ClientConfig::default()
            },
        )
        .await
        .expect("client connects");
        c.subscribe(&format!("{}\\..*", self.schema))
            .await
            .expect("subscribe");
        c
    }

    /// GET+ACK until `n` inserted ids of the schema arrived (or `within` passed); returns them
    /// in delivery order.
    pub async fn take(&self, c: &mut CanalClient, n: usize, within: Duration) -> Vec<u32> {
        let deadline = Instant::now() + within;
        let mut ids = Vec::new();
        while ids.len() < n && Instant::now() < deadline {
            let m = c
                .get_without_ack(100, Some(Duration::from_millis(500)))
                .await
                .expect("get");
            ids.extend(insert_ids(&m.entries, &self.schema));
            if m.id != -1 {
                c.ack(m.id).await.expect("ack");
            }
        }
        // ACK has no reply: a SUB (answered, same session, handled in order) makes sure the
        // server processed the acks before the caller acts on the server.
        c.subscribe(&format!("{}\\..*", self.schema))
            .await
            .expect("sync subscribe");
        ids
    }

    /// One scrape of `/metrics`.
    pub fn scrape(&self) -> Scrape {
        let addr = format!("127.0.0.1:{}", self.metrics);
        let (status, body) = http_get(&addr, "/metrics").expect("scrape");
        assert_eq!(status, 200, "{body}");
        Scrape {
            samples: parse(&body),
            text: body,
        }
    }

    /// `canalctl <args>` with `--conf` and the server's `-D` overrides appended.
    pub fn canalctl(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_canalctl"));
        cmd.args(args).arg("--conf").arg(&self.conf.conf);
        for o in &self.conf.overrides {
            cmd.arg(o);
        }
        cmd.output().expect("run canalctl")
    }

    /// A logged-in admin connection.
    pub async fn admin_login(&self) -> AdminClient {
        let (mut c, seed) = AdminClient::connect(self.admin_addr()).await;
        let ack = c.auth("admin", "admin", &seed).await.expect("auth reply");
        assert_eq!(ack.code, Some(0), "{ack:?}");
        c
    }

    /// The admin port.
    pub fn admin_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.admin))
    }
}

/// Ids of the INSERT rows of `schema` in `entries`.
pub fn insert_ids(entries: &[canal_protocol::entry::Entry], schema: &str) -> Vec<u32> {
    let mut ids = Vec::new();
    for e in entries {
        let h = e.header.clone().unwrap_or_default();
        if e.entry_type() != EntryType::Rowdata
            || h.event_type() != EventType::Insert
            || h.schema_name() != schema
        {
            continue;
        }
        let rc = RowChange::decode(e.store_value()).expect("RowChange");
        for r in &rc.row_datas {
            if let Some(id) = r
                .after_columns
                .first()
                .and_then(|c| c.value().parse::<u32>().ok())
            {
                ids.push(id);
            }
        }
    }
    ids
}

/// A parsed scrape.
pub struct Scrape {
    /// The samples.
    pub samples: Vec<Sample>,
    /// The text.
    pub text: String,
}

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(*v)))
            .map(|s| s.value)
    }

    /// Like [`Self::get`] for destination `example`, panicking when absent.
    pub fn ex(&self, name: &str) -> f64 {
        self.get(name, &[("destination", "example")])
            .unwrap_or_else(|| panic!("{name}{{destination=\"example\"}} missing:\n{}", self.text))
    }

    /// Label names of every sample of `name` (sorted label-name lists).
    pub fn label_sets(&self, name: &str) -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = self
            .samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.labels.keys().cloned().collect())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Samples of `name` by labels.
    pub fn all(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.labels.clone())
            .collect()
    }
}

/// A minimal admin-port client (canal-admin's side of wire-protocol.md §5).
pub struct AdminClient {
    framed: Framed<TcpStream, FrameCodec>,
}

fn pkt(ty: PacketType, body: Vec<u8>) -> Bytes {
    Packet {
        magic_number: None,
        version: Some(1),
        r#type: ty as i32,
        body: body.into(),
    }
    .encode_to_vec()
    .into()
}

impl AdminClient {
    /// Connects and reads the handshake; returns the seed.
    pub async fn connect(addr: SocketAddr) -> (AdminClient, Vec<u8>) {
        let s = TcpStream::connect(addr).await.expect("admin port connects");
        let mut c = AdminClient {
            framed: Framed::new(s, FrameCodec::default()),
        };
        let p = c.recv().await.expect("handshake");
        assert_eq!(p.r#type, PacketType::Handshake as i32);
        let hs = Handshake::decode(p.body).expect("handshake body");
        (c, hs.seeds.to_vec())
    }

    async fn recv(&mut self) -> Option<Packet> {
        match tokio::time::timeout(Duration::from_secs(60), self.framed.next()).await {
            Ok(Some(Ok(b))) => Some(Packet::decode(b.freeze()).expect("packet")),
            Ok(_) => None,
            Err(_) => panic!("admin port: no reply within 60 s"),
        }
    }

    /// Sends ClientAuth; returns the ACK (None when the server closed without one).
    pub async fn auth(&mut self, user: &str, password: &str, seed: &[u8]) -> Option<Ack> {
        let auth = ClientAuth {
            username: user.into(),
            password: client_token(password, seed).into_bytes().into(),
            net_read_timeout: Some(3_600_000),
            net_write_timeout: Some(3_600_000),
        };
        self.framed
            .send(pkt(PacketType::Clientauthentication, auth.encode_to_vec()))
            .await
            .expect("send auth");
        let p = self.recv().await?;
        assert_eq!(p.r#type, PacketType::Ack as i32);
        Some(Ack::decode(p.body).expect("ack"))
    }

    /// Whether the server closed the connection (next read ends).
    pub async fn closed(&mut self) -> bool {
        self.recv().await.is_none()
    }

    async fn call(&mut self, ty: PacketType, body: Vec<u8>) -> Ack {
        self.framed.send(pkt(ty, body)).await.expect("send");
        let p = self.recv().await.expect("reply");
        assert_eq!(p.r#type, PacketType::Ack as i32);
        Ack::decode(p.body).expect("ack")
    }

    /// SERVER `action`.
    pub async fn server(&mut self, action: &str) -> Ack {
        let body = canal_protocol::admin::ServerAdmin {
            action: action.into(),
        };
        self.call(PacketType::Server, body.encode_to_vec()).await
    }

    /// INSTANCE `action` on `destination`.
    pub async fn instance(&mut self, destination: &str, action: &str) -> Ack {
        let body = canal_protocol::admin::InstanceAdmin {
            destination: destination.into(),
            action: action.into(),
        };
        self.call(PacketType::Instance, body.encode_to_vec()).await
    }

    /// LOG command.
    pub async fn log(&mut self, la: canal_protocol::admin::LogAdmin) -> Ack {
        self.call(PacketType::Log, la.encode_to_vec()).await
    }
}

/// Asserts an ACK `{code 0, message}`.
/// `canalctl position set example --journal <file> --position <pos>` arguments.
pub fn set_args(file: &str, pos: u64) -> Vec<String> {
    [
        "position",
        "set",
        "example",
        "--journal",
        file,
        "--position",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([pos.to_string()])
    .collect()
}

pub fn ok(a: &Ack, message: &str) {
    assert_eq!(a.code, Some(0), "{a:?}");
    assert_eq!(a.message, message, "{a:?}");
}
