//! Admin port against an in-process fake AdminTarget. Expected bytes and texts come from
//! ../shared/compat/wire-protocol.md §5 and operations.md §7.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use canal_admin::{AdminConfig, AdminServer, AdminTarget, AuthConfig, BoxFuture};
use canal_protocol::admin::{
    Ack, ClientAuth, Handshake, InstanceAdmin, LogAdmin, Packet, PacketType, ServerAdmin,
};
use canal_protocol::codec::FrameCodec;
use canal_protocol::scramble::client_token;
use canal_telemetry::Telemetry;
use fake::Fake;
use futures::{SinkExt, StreamExt};
use prost::Message;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Stored hash of plain "admin" (operations.md §7).
const ADMIN_HASH: &str = "4acfe3202a5ff5cf467898fc58aab1d615029441";

mod fake {
    use super::*;
    use std::sync::Mutex;

    /// Fake instance manager: a set of running destinations, known destinations, a server flag.
    pub struct Fake {
        pub known: BTreeSet<String>,
        pub running: Mutex<BTreeSet<String>>,
        pub server: Mutex<bool>,
        pub calls: Mutex<Vec<String>>,
    }

    impl Fake {
        pub fn new(known: &[&str], running: &[&str]) -> Fake {
            Fake {
                known: known.iter().map(|s| s.to_string()).collect(),
                running: Mutex::new(running.iter().map(|s| s.to_string()).collect()),
                server: Mutex::new(true),
                calls: Mutex::new(Vec::new()),
            }
        }
        fn log(&self, c: String) {
            self.calls.lock().unwrap().push(c);
        }
        fn act(&self, what: &str, d: &str, run: Option<bool>) -> Result<bool, String> {
            self.log(format!("{what} {d}"));
            if d == "boom" {
                return Err(format!("{what} failed: boom"));
            }
            if !self.known.contains(d) {
                return Ok(false);
            }
            let mut r = self.running.lock().unwrap();
            match run {
                Some(true) => {
                    r.insert(d.to_string());
                }
                Some(false) => {
                    r.remove(d);
                }
                None => {}
            }
            Ok(true)
        }
    }

    impl AdminTarget for Fake {
        fn server_running(&self) -> bool {
            *self.server.lock().unwrap()
        }
        fn server_start(&self) -> BoxFuture<'_, Result<bool, String>> {
            Box::pin(async move {
                self.log("server start".into());
                *self.server.lock().unwrap() = true;
                Ok(true)
            })
        }
        fn server_stop(&self) -> BoxFuture<'_, Result<bool, String>> {
            Box::pin(async move {
                self.log("server stop".into());
                *self.server.lock().unwrap() = false;
                self.running.lock().unwrap().clear();
                Ok(true)
            })
        }
        fn server_restart(&self) -> BoxFuture<'_, Result<bool, String>> {
            Box::pin(async move {
                self.log("server restart".into());
                Ok(true)
            })
        }
        fn running_instances(&self) -> Vec<String> {
            self.running.lock().unwrap().iter().cloned().collect()
        }
        fn instance_running(&self, d: &str) -> bool {
            self.running.lock().unwrap().contains(d)
        }
        fn instance_start<'a>(&'a self, d: &'a str) -> BoxFuture<'a, Result<bool, String>> {
            Box::pin(async move { self.act("start", d, Some(true)) })
        }
        fn instance_stop<'a>(&'a self, d: &'a str) -> BoxFuture<'a, Result<bool, String>> {
            Box::pin(async move { self.act("stop", d, Some(false)) })
        }
        fn instance_release<'a>(&'a self, d: &'a str) -> BoxFuture<'a, Result<bool, String>> {
            Box::pin(async move { self.act("release", d, Some(false)) })
        }
        fn instance_restart<'a>(&'a self, d: &'a str) -> BoxFuture<'a, Result<bool, String>> {
            Box::pin(async move { self.act("restart", d, None) })
        }
    }
}

struct Setup {
    server: AdminServer,
    fake: Arc<Fake>,
    telemetry: Telemetry,
    logs: tempfile::TempDir,
}

async fn setup(user: Option<&str>, passwd: Option<&str>) -> Setup {
    let logs = tempfile::tempdir().unwrap();
    let fake = Arc::new(Fake::new(&["example", "other"], &["example"]));
    let telemetry = Telemetry::new();
    let cfg = AdminConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        AuthConfig {
            user: user.map(str::to_string),
            passwd: passwd.map(str::to_string),
        },
        logs.path(),
    );
    let server = AdminServer::start(cfg, fake.clone(), telemetry.clone())
        .await
        .unwrap();
    Setup {
        server,
        fake,
        telemetry,
        logs,
    }
}

type Client = Framed<TcpStream, FrameCodec>;

async fn recv_raw(c: &mut Client) -> Option<Vec<u8>> {
    match tokio::time::timeout(Duration::from_secs(5), c.next()).await {
        Ok(Some(Ok(b))) => Some(b.to_vec()),
        Ok(_) => None,
        Err(_) => panic!("timed out waiting for a frame"),
    }
}

/// Connects and returns (client, seed, raw handshake payload).
async fn connect(addr: SocketAddr) -> (Client, Vec<u8>, Vec<u8>) {
    let s = TcpStream::connect(addr).await.unwrap();
    let mut c = Framed::new(s, FrameCodec::default());
    let raw = recv_raw(&mut c).await.expect("handshake");
    let p = Packet::decode(raw.as_slice()).unwrap();
    assert_eq!(p.r#type, PacketType::Handshake as i32);
    let hs = Handshake::decode(p.body).unwrap();
    (c, hs.seeds.to_vec(), raw)
}

fn pkt(ty: PacketType, body: Vec<u8>) -> Bytes {
    Packet {
        magic_number: None,
        version: None,
        r#type: ty as i32,
        body: body.into(),
    }
    .encode_to_vec()
    .into()
}

async fn send_auth(c: &mut Client, user: &str, password: Option<&str>, seed: &[u8]) {
    let auth = ClientAuth {
        username: user.into(),
        password: password
            .map(|p| client_token(p, seed).into_bytes())
            .unwrap_or_default()
            .into(),
        net_read_timeout: Some(3_600_000),
        net_write_timeout: Some(3_600_000),
    };
    c.send(pkt(PacketType::Clientauthentication, auth.encode_to_vec()))
        .await
        .unwrap();
}

fn ack_of(raw: &[u8]) -> Ack {
    let p = Packet::decode(raw).unwrap();
    assert_eq!(p.r#type, PacketType::Ack as i32);
    assert_eq!(p.version, Some(1));
    Ack::decode(p.body).unwrap()
}

async fn login(addr: SocketAddr) -> Client {
    let (mut c, seed, _) = connect(addr).await;
    send_auth(&mut c, "admin", Some("admin"), &seed).await;
    let raw = recv_raw(&mut c).await.expect("auth reply");
    // Success ACK byte for byte: Packet{version 1, type ACK, body Ack{code 0}} (wire-protocol.md §5).
    assert_eq!(raw, vec![0x10, 0x01, 0x18, 0x03, 0x22, 0x02, 0x08, 0x00]);
    c
}

async fn call(c: &mut Client, ty: PacketType, body: Vec<u8>) -> Ack {
    c.send(pkt(ty, body)).await.unwrap();
    ack_of(&recv_raw(c).await.expect("reply"))
}

async fn server_cmd(c: &mut Client, action: &str) -> Ack {
    call(
        c,
        PacketType::Server,
        ServerAdmin {
            action: action.into(),
        }
        .encode_to_vec(),
    )
    .await
}

async fn instance_cmd(c: &mut Client, dest: &str, action: &str) -> Ack {
    let body = InstanceAdmin {
        destination: dest.into(),
        action: action.into(),
    };
    call(c, PacketType::Instance, body.encode_to_vec()).await
}

async fn log_cmd(c: &mut Client, la: LogAdmin) -> Ack {
    call(c, PacketType::Log, la.encode_to_vec()).await
}

fn ok(a: &Ack, msg: &str) {
    assert_eq!(a.code, Some(0), "ack {a:?}");
    assert_eq!(a.message, msg, "ack {a:?}");
}

#[tokio::test]
async fn handshake_has_canal_admin_shape() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let (_c, seed, raw) = connect(s.server.local_addr()).await;
    assert_eq!(seed.len(), 8);
    // 10 01 (version 1) 18 01 (HANDSHAKE) 22 0A (body, field 4) 12 08 seed.
    let mut expected = vec![0x10, 0x01, 0x18, 0x01, 0x22, 0x0A, 0x12, 0x08];
    expected.extend_from_slice(&seed);
    assert_eq!(raw, expected);
    let (_c2, seed2, _) = connect(s.server.local_addr()).await;
    assert_ne!(seed, seed2, "each connection gets a fresh seed");
}

#[tokio::test]
async fn server_commands() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let mut c = login(s.server.local_addr()).await;
    ok(&server_cmd(&mut c, "check").await, "1");
    ok(&server_cmd(&mut c, "list").await, "example");
    ok(&instance_cmd(&mut c, "other", "start").await, "1");
    ok(&server_cmd(&mut c, "list").await, "example,other");
    ok(&server_cmd(&mut c, "stop").await, "1");
    ok(&server_cmd(&mut c, "check").await, "0");
    ok(&server_cmd(&mut c, "list").await, "");
    ok(&server_cmd(&mut c, "start").await, "1");
    ok(&server_cmd(&mut c, "check").await, "1");
    ok(&server_cmd(&mut c, "restart").await, "1");
    let a = server_cmd(&mut c, "reboot").await;
    assert_eq!(a.code, Some(301));
    assert_eq!(a.message, "ServerAdmin action: reboot  is unknown");
    let calls = s.fake.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            "start other",
            "server stop",
            "server start",
            "server restart"
        ]
    );
}

#[tokio::test]
async fn instance_commands_and_state_seen_by_a_second_client() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let addr = s.server.local_addr();
    let mut c = login(addr).await;
    let mut observer = login(addr).await;
    ok(&instance_cmd(&mut c, "example", "check").await, "1");
    ok(&instance_cmd(&mut c, "example", "stop").await, "1");
    ok(&instance_cmd(&mut observer, "example", "check").await, "0");
    ok(&instance_cmd(&mut c, "example", "start").await, "1");
    ok(&instance_cmd(&mut observer, "example", "check").await, "1");
    ok(&instance_cmd(&mut c, "example", "restart").await, "1");
    ok(&instance_cmd(&mut c, "example", "release").await, "1");
    ok(&instance_cmd(&mut observer, "example", "check").await, "0");
    // Unknown destination: the monitor does not know it -> "0".
    ok(&instance_cmd(&mut c, "nope", "start").await, "0");
    // A failing action is a 400 with the error text; the session continues.
    let a = instance_cmd(&mut c, "boom", "stop").await;
    assert_eq!(a.code, Some(400));
    assert!(a.message.contains("boom"), "{a:?}");
    let a = instance_cmd(&mut c, "example", "explode").await;
    assert_eq!(a.code, Some(301));
    assert_eq!(a.message, "InstanceAdmin action: explode is unknown");
    ok(&instance_cmd(&mut c, "example", "check").await, "0");
}

#[tokio::test]
async fn unknown_packet_type_is_300() {
    let s = setup(None, Some(ADMIN_HASH)).await;
    let mut c = login(s.server.local_addr()).await;
    let a = call(&mut c, PacketType::Handshake, Vec::new()).await;
    assert_eq!(a.code, Some(300));
    assert_eq!(a.message, "packet type: HANDSHAKE is NOT supported!");
    // Still usable afterwards.
    ok(&server_cmd(&mut c, "check").await, "1");
}

async fn expect_refused(c: &mut Client, user: &str) {
    let a = ack_of(&recv_raw(c).await.expect("error reply"));
    assert_eq!(a.code, Some(300));
    assert_eq!(a.message, format!("auth failed for user:{user}"));
    // Java would now also send a success ACK and serve commands; we close instead.
    let _ = c
        .send(pkt(
            PacketType::Server,
            ServerAdmin {
                action: "check".into(),
            }
            .encode_to_vec(),
        ))
        .await;
    assert_eq!(
        recv_raw(c).await,
        None,
        "connection must be closed after a failed login"
    );
}

#[tokio::test]
async fn wrong_password_refused_and_closed() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let (mut c, seed, _) = connect(s.server.local_addr()).await;
    send_auth(&mut c, "admin", Some("wrong"), &seed).await;
    expect_refused(&mut c, "admin").await;
    assert_eq!(s.fake.calls.lock().unwrap().len(), 0);
    let text = s.telemetry.render();
    assert!(
        text.contains("canal_rs_auth_failures_total{port=\"admin\",} 1.0"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_user_and_empty_password_refused() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let (mut c, seed, _) = connect(s.server.local_addr()).await;
    send_auth(&mut c, "root", Some("admin"), &seed).await;
    expect_refused(&mut c, "root").await;
    let (mut c, seed, _) = connect(s.server.local_addr()).await;
    send_auth(&mut c, "admin", None, &seed).await;
    expect_refused(&mut c, "admin").await;
    // A token computed for another seed (replay) is refused.
    let (mut c, _seed, _) = connect(s.server.local_addr()).await;
    send_auth(&mut c, "admin", Some("admin"), b"12345678").await;
    expect_refused(&mut c, "admin").await;
}

#[tokio::test]
async fn upper_case_stored_hash_and_no_user_configured() {
    let s = setup(None, Some(&ADMIN_HASH.to_uppercase())).await;
    let (mut c, seed, _) = connect(s.server.local_addr()).await;
    send_auth(&mut c, "anyone", Some("admin"), &seed).await;
    ok(&ack_of(&recv_raw(&mut c).await.unwrap()), "");
}

#[tokio::test]
async fn garbage_auth_closes_without_reply() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let (mut c, _seed, _) = connect(s.server.local_addr()).await;
    c.send(Bytes::from_static(&[0xFF, 0xFF, 0xFF]))
        .await
        .unwrap();
    assert_eq!(recv_raw(&mut c).await, None);
}

#[tokio::test]
async fn log_list_and_tail() {
    let s = setup(Some("admin"), Some(ADMIN_HASH)).await;
    let root = s.logs.path();
    std::fs::create_dir_all(root.join("canal/2026-11-20")).unwrap();
    std::fs::write(root.join("canal/canal.log"), "l1\nl2\nl3\nl4\n").unwrap();
    std::fs::write(
        root.join("canal/2026-11-20/canal-2026-11-20-1.log"),
        "old\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("example")).unwrap();
    std::fs::write(root.join("example/example.log"), "a\nb\nc\n").unwrap();
    std::fs::write(root.join("example/meta.log"), "m1\nm2\n").unwrap();
    std::fs::write(root.join("secret.txt"), "do not leak\n").unwrap();

    let mut c = login(s.server.local_addr()).await;
    let la = |ty: &str, action: &str, d: Option<&str>, f: Option<&str>, n: Option<i32>| LogAdmin {
        r#type: ty.into(),
        action: action.into(),
        destination: d.map(str::to_string),
        file: f.map(str::to_string),
        count: n,
    };
    ok(
        &log_cmd(&mut c, la("server", "list", None, None, None)).await,
        "canal-2026-11-20-1.log,canal.log",
    );
    ok(
        &log_cmd(&mut c, la("server", "tail", None, None, Some(2))).await,
        "l3\nl4",
    );
    ok(
        &log_cmd(&mut c, la("server", "tail", None, None, Some(100))).await,
        "l1\nl2\nl3\nl4",
    );
    ok(
        &log_cmd(&mut c, la("instance", "list", Some("example"), None, None)).await,
        "example.log,meta.log",
    );
    ok(
        &log_cmd(
            &mut c,
            la("instance", "tail", Some("example"), None, Some(2)),
        )
        .await,
        "b\nc",
    );
    ok(
        &log_cmd(
            &mut c,
            la(
                "instance",
                "tail",
                Some("example"),
                Some("meta.log"),
                Some(1),
            ),
        )
        .await,
        "m2",
    );
    for (d, f) in [
        ("..", None),
        ("example", Some("../secret.txt")),
        ("example/..", None),
        ("/etc", None),
        ("example", Some("/etc/passwd")),
    ] {
        let a = log_cmd(&mut c, la("instance", "tail", Some(d), f, Some(10))).await;
        assert_eq!(a.code, Some(400), "{d} {f:?} -> {a:?}");
        assert!(!a.message.contains("do not leak"));
    }
    let a = log_cmd(&mut c, la("instance", "list", Some(".."), None, None)).await;
    assert_eq!(a.code, Some(400));
    let a = log_cmd(&mut c, la("zk", "list", None, None, None)).await;
    assert_eq!(a.code, Some(301));
    assert_eq!(a.message, "LogAdmin type: zk is unknown");
}
