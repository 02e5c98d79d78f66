//! Behaviour tests of the endpoint beyond the golden replays: bad input (one test per case, each
//! also checking that another client keeps being served), auth with and without `canal.passwd`,
//! several destinations, graceful shutdown, the connection limit, and the Rust client against the
//! server in-process. Expected values come from ../shared/compat/wire-protocol.md.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use canal_client::{CanalClient, ClientConfig, ClientError, TailOptions};
use canal_protocol::canal::{ClientAck, ClientAuth, Get, PacketType, Sub};
use canal_protocol::entry::{Entry, EntryType, Header, RowChange};
use canal_protocol::packet;
use canal_server::ServerConfig;
use common::{ack_of, Got, MemService, Raw, Running, ACK_OK};
use prost::Message;

const PASSWD_CANAL: &str = "E3619321C1A937C46A0D8BD1DAC39F93B27D4458";

fn auth_config() -> ServerConfig {
    ServerConfig {
        user: "canal".into(),
        passwd: PASSWD_CANAL.into(),
        ..ServerConfig::default()
    }
}

fn get(dest: &str, id: &str, fetch: i32, timeout: Option<i64>) -> Bytes {
    packet::get(&Get {
        destination: dest.into(),
        client_id: id.into(),
        fetch_size: fetch,
        timeout,
        unit: Some(2),
        auto_ack: Some(false),
    })
}

fn sub(dest: &str, id: &str) -> Bytes {
    packet::subscription(&Sub {
        destination: dest.into(),
        client_id: id.into(),
        filter: String::new(),
    })
}

/// A serialized ROWDATA entry with a recognisable offset.
fn entry(offset: i64, size_hint: usize) -> Bytes {
    let rc = RowChange {
        sql: Some("x".repeat(size_hint)),
        ..Default::default()
    };
    Entry {
        header: Some(Header {
            version: Some(1),
            logfile_name: Some("mysql-bin.000001".into()),
            logfile_offset: Some(offset),
            schema_name: Some("test".into()),
            table_name: Some("t1".into()),
            ..Default::default()
        }),
        entry_type: Some(EntryType::Rowdata as i32),
        store_value: Some(rc.encode_to_vec().into()),
    }
    .encode_to_vec()
    .into()
}

/// Connects without credentials and subscribes `id` on `dest`.
async fn subscribed(addr: std::net::SocketAddr, dest: &str, id: &str) -> Raw {
    let (mut c, _) = Raw::connect_handshake(addr).await;
    c.send(&packet::client_auth(&ClientAuth::default())).await;
    assert_eq!(c.payload().await, ACK_OK);
    c.send(&sub(dest, id)).await;
    assert_eq!(c.payload().await, ACK_OK);
    c
}

/// A bystander that must keep being served: one GET round trip.
async fn assert_served(c: &mut Raw, dest: &str, id: &str) {
    c.send(&get(dest, id, 10, Some(-1))).await;
    let p = c.payload().await;
    let pk = canal_protocol::canal::Packet::decode(&p[..]).expect("packet");
    assert_eq!(
        pk.r#type,
        PacketType::Messages as i32,
        "bystander not served: {p:02x?}"
    );
}

async fn noauth_server() -> (Arc<MemService>, Running) {
    let svc = MemService::new(&["example", "other"]);
    let srv = common::start(svc.clone(), ServerConfig::default()).await;
    (svc, srv)
}

// ------------------------------------------------------------------ bad input

#[tokio::test]
async fn bad_input_random_bytes_close_or_error_and_others_are_served() {
    let (_svc, srv) = noauth_server().await;
    let mut bystander = subscribed(srv.addr, "example", "1001").await;
    let mut state: u64 = 0x9e3779b97f4a7c15;
    for round in 0..24 {
        let (mut c, _) = Raw::connect_handshake(srv.addr).await;
        if round % 2 == 1 {
            c.send(&packet::client_auth(&ClientAuth::default())).await;
            assert_eq!(c.payload().await, ACK_OK);
        }
        let junk: Vec<u8> = (0..200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let _ = c.write(&junk).await;
        // Whatever the server makes of it, it answers with frames, closes, or waits for the
        // rest of a frame; it never crashes and never stops serving others.
        while let Got::Frame(f) = c.read(Duration::from_millis(200)).await {
            let (code, _) = ack_of(&f[4..]);
            assert!(code == 0 || code >= 400, "unexpected reply code {code}");
        }
        assert_served(&mut bystander, "example", "1001").await;
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_garbage_frame_closes_without_reply() {
    let (_svc, srv) = noauth_server().await;
    let mut bystander = subscribed(srv.addr, "example", "1001").await;
    let mut c = subscribed(srv.addr, "example", "1002").await;
    c.write(&[0, 0, 0, 3, 0xff, 0xff, 0xff])
        .await
        .expect("write");
    assert_eq!(c.read(Duration::from_secs(2)).await, Got::Eof);
    assert_served(&mut bystander, "example", "1001").await;
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_two_gib_length_header_closes_promptly() {
    let (_svc, srv) = noauth_server().await;
    let mut bystander = subscribed(srv.addr, "example", "1001").await;
    for before_auth in [true, false] {
        let (mut c, _) = Raw::connect_handshake(srv.addr).await;
        if !before_auth {
            c.send(&packet::client_auth(&ClientAuth::default())).await;
            assert_eq!(c.payload().await, ACK_OK);
        }
        let t = Instant::now();
        c.write(&[0x7f, 0xff, 0xff, 0xff, 0x18, 0x06])
            .await
            .expect("write");
        // Java would wait for 2 GiB; we close at once (documented difference).
        assert_eq!(c.read(Duration::from_secs(2)).await, Got::Eof);
        assert!(t.elapsed() < Duration::from_secs(1));
        // A negative header closes too (Java: NegativeArraySizeException).
        let (mut n, _) = Raw::connect_handshake(srv.addr).await;
        n.write(&[0x80, 0, 0, 0]).await.expect("write");
        assert_eq!(n.read(Duration::from_secs(2)).await, Got::Eof);
    }
    assert_served(&mut bystander, "example", "1001").await;
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_get_before_auth_is_read_as_client_auth() {
    // With credentials: the GET body is a ClientAuth for user "example" -> 400, connection open.
    let svc = MemService::new(&["example"]);
    let srv = common::start(svc.clone(), auth_config()).await;
    let (mut c, seed) = Raw::connect_handshake(srv.addr).await;
    c.send(&get("example", "1001", 1000, Some(-1))).await;
    assert_eq!(
        ack_of(&c.payload().await),
        (400, "auth failed for user:example".into())
    );
    // Still in AUTH: a proper auth on the same connection works.
    let auth = ClientAuth {
        username: "canal".into(),
        password: canal_protocol::scramble::client_token("canal", &seed).into(),
        ..Default::default()
    };
    c.send(&packet::client_auth(&auth)).await;
    assert_eq!(c.payload().await, ACK_OK);
    srv.shutdown().await;

    // Without credentials: accepted as an auth, and nothing gets subscribed.
    let (svc, srv) = noauth_server().await;
    let (mut c, _) = Raw::connect_handshake(srv.addr).await;
    c.send(&get("example", "1001", 1000, Some(-1))).await;
    assert_eq!(c.payload().await, ACK_OK);
    let ident = canal_protocol::position::ClientIdentity {
        destination: "example".into(),
        client_id: 1001,
        filter: None,
    };
    use canal_server::service::CanalService;
    assert!(!svc.has_subscribe(&ident).expect("running"));
    c.send(&get("example", "1001", 1000, Some(-1))).await;
    let (code, msg) = ack_of(&c.payload().await);
    assert_eq!(code, 400);
    assert!(msg.ends_with("exception: com.alibaba.otter.canal.server.exception.CanalServerException: ClientIdentity:ClientIdentity[destination=example,clientId=1001,filter=<null>] should subscribe first\n"), "{msg}");
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_unknown_packet_types_get_400_and_session_continues() {
    let (_svc, srv) = noauth_server().await;
    let mut c = subscribed(srv.addr, "example", "1001").await;
    for (ty, name) in [
        (0, "PACKAGETYPECOMPATIBLEPROTO2"),
        (1, "HANDSHAKE"),
        (3, "ACK"),
        (7, "MESSAGES"),
        (9, "SHUTDOWN"),
        (10, "DUMP"),
        (11, "HEARTBEAT"),
        (13, "UNRECOGNIZED"),
        (99, "UNRECOGNIZED"),
        (-5, "UNRECOGNIZED"),
    ] {
        let p = canal_protocol::canal::Packet {
            r#type: ty,
            ..Default::default()
        };
        c.send(&p.encode_to_vec()).await;
        assert_eq!(
            ack_of(&c.payload().await),
            (400, format!("packet type: {name} is NOT supported!"))
        );
    }
    assert_served(&mut c, "example", "1001").await;
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_input_ack_of_non_oldest_batch_is_an_unsolicited_400() {
    let (svc, srv) = noauth_server().await;
    let mut bystander = subscribed(srv.addr, "other", "1001").await;
    let mut c = subscribed(srv.addr, "example", "1001").await;
    svc.put("example", [entry(100, 1500), entry(200, 1500)]);
    // fetch 1 = 1 KiB: one entry per batch.
    c.send(&get("example", "1001", 1, Some(-1))).await;
    let first = c.payload().await;
    c.send(&get("example", "1001", 1, Some(-1))).await;
    let second = c.payload().await;
    let id = |p: &[u8]| {
        let pk = canal_protocol::canal::Packet::decode(p).expect("packet");
        canal_protocol::canal::Messages::decode(&pk.body[..])
            .expect("messages")
            .batch_id
    };
    let (b1, b2) = (id(&first), id(&second));
    assert_eq!((b1, b2), (1, 2));
    c.send(&packet::client_ack(&ClientAck {
        destination: "example".into(),
        client_id: "1001".into(),
        batch_id: b2,
    }))
    .await;
    // Written at once, without any further request.
    let (code, msg) = ack_of(&c.payload().await);
    assert_eq!(code, 400);
    assert!(
        msg.ends_with(&format!(
            "exception: {}: batchId:2 is not the firstly:1\n",
            common::META_EXCEPTION
        )),
        "{msg}"
    );
    // Acking in order still works, silently.
    for b in [b1, b2] {
        c.send(&packet::client_ack(&ClientAck {
            destination: "example".into(),
            client_id: "1001".into(),
            batch_id: b,
        }))
        .await;
    }
    assert_eq!(c.read(Duration::from_millis(300)).await, Got::Timeout);
    assert_served(&mut c, "example", "1001").await;
    assert_served(&mut bystander, "other", "1001").await;
    srv.shutdown().await;
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn auth_with_passwd_accepts_scramble_and_rejects_the_rest() {
    let svc = MemService::new(&["example"]);
    let srv = common::start(svc.clone(), auth_config()).await;
    let addr = srv.addr.to_string();
    let ok = ClientConfig {
        username: "canal".into(),
        password: Some("canal".into()),
        ..ClientConfig::default()
    };
    let mut c = CanalClient::connect(&addr, ok.clone())
        .await
        .expect("auth ok");
    c.subscribe("").await.expect("sub");
    assert_eq!(c.get_without_ack(10, None).await.expect("get").id, -1);
    for bad in [
        ClientConfig {
            password: Some("wrong".into()),
            ..ok.clone()
        },
        ClientConfig {
            password: None,
            ..ok.clone()
        },
        ClientConfig {
            username: "other".into(),
            ..ok.clone()
        },
        ClientConfig {
            username: String::new(),
            ..ok.clone()
        },
    ] {
        match CanalClient::connect(&addr, bad.clone()).await {
            Err(ClientError::Server { code: 400, message }) => {
                assert_eq!(message, format!("auth failed for user:{}", bad.username));
            }
            other => panic!("expected 400 for {bad:?}, got {other:?}"),
        }
    }
    // canal-python sends the plain password: not hex -> the server closes without a reply.
    let (mut raw, _) = Raw::connect_handshake(srv.addr).await;
    raw.send(&packet::client_auth(&ClientAuth {
        username: "canal".into(),
        password: Bytes::from_static(b"canal"),
        ..Default::default()
    }))
    .await;
    assert_eq!(raw.read(Duration::from_secs(2)).await, Got::Eof);
    srv.shutdown().await;
}

#[tokio::test]
async fn auth_without_passwd_accepts_anything() {
    let (_svc, srv) = noauth_server().await;
    let addr = srv.addr.to_string();
    for cfg in [
        ClientConfig::default(),
        ClientConfig {
            username: "x".into(),
            password: Some("whatever".into()),
            ..ClientConfig::default()
        },
    ] {
        let mut c = CanalClient::connect(&addr, cfg).await.expect("accepted");
        c.subscribe("").await.expect("sub");
    }
    // canal-python: raw (unscrambled) password, no timeouts.
    let (mut raw, _) = Raw::connect_handshake(srv.addr).await;
    raw.send(&packet::client_auth(&ClientAuth {
        username: "x".into(),
        password: Bytes::from_static(b"plain"),
        ..Default::default()
    }))
    .await;
    assert_eq!(raw.payload().await, ACK_OK);
    srv.shutdown().await;
}

#[tokio::test]
async fn config_user_without_passwd_is_refused() {
    let svc = MemService::new(&["example"]);
    let cfg = ServerConfig {
        user: "canal".into(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..ServerConfig::default()
    };
    assert!(canal_server::Server::bind(cfg, svc).await.is_err());
}

// ------------------------------------------------------------------ destinations, client

#[tokio::test]
async fn several_destinations_are_served_by_one_server() {
    let (svc, srv) = noauth_server().await;
    let addr = srv.addr.to_string();
    let mut a = CanalClient::connect(
        &addr,
        ClientConfig {
            destination: "example".into(),
            ..Default::default()
        },
    )
    .await
    .expect("a");
    let mut b = CanalClient::connect(
        &addr,
        ClientConfig {
            destination: "other".into(),
            ..Default::default()
        },
    )
    .await
    .expect("b");
    a.subscribe("").await.expect("sub a");
    b.subscribe("").await.expect("sub b");
    svc.put("example", [entry(1, 10), entry(2, 10)]);
    svc.put("other", [entry(7, 10)]);
    let ma = a.get_without_ack(100, None).await.expect("get a");
    let mb = b.get_without_ack(100, None).await.expect("get b");
    let offs = |m: &canal_client::Message| -> Vec<i64> {
        m.entries
            .iter()
            .map(|e| {
                e.header
                    .as_ref()
                    .and_then(|h| h.logfile_offset)
                    .unwrap_or(-1)
            })
            .collect()
    };
    assert_eq!((ma.id, offs(&ma)), (1, vec![1, 2]));
    assert_eq!((mb.id, offs(&mb)), (1, vec![7]));
    // A destination that does not run here.
    let mut n = CanalClient::connect(
        &addr,
        ClientConfig {
            destination: "nosuch".into(),
            rollback_on_connect: false,
            ..Default::default()
        },
    )
    .await
    .expect("connect");
    match n.subscribe("").await {
        Err(ClientError::Server { code: 400, message }) => assert!(
            message.ends_with("exception: com.alibaba.otter.canal.server.exception.CanalServerException: destination:nosuch should start first\n"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn client_get_ack_rollback_round_trip() {
    let (svc, srv) = noauth_server().await;
    let addr = srv.addr.to_string();
    let mut c = CanalClient::connect(&addr, ClientConfig::default())
        .await
        .expect("connect");
    c.subscribe("").await.expect("sub");
    let stored = [entry(10, 5), entry(20, 5), entry(30, 5)];
    svc.put("example", stored.clone());
    let m = c
        .get_without_ack(100, Some(Duration::from_millis(200)))
        .await
        .expect("get");
    assert_eq!(m.id, 1);
    let bytes: Vec<Bytes> = m.entries.iter().map(|e| e.encode_to_vec().into()).collect();
    assert_eq!(bytes, stored.to_vec(), "entries arrive byte for byte");
    c.rollback(m.id).await.expect("rollback");
    let again = c.get_without_ack(100, None).await.expect("redelivery");
    assert_eq!((again.id, again.entries.len()), (2, 3));
    c.ack(again.id).await.expect("ack");
    assert_eq!(c.get(100, None).await.expect("empty").id, -1);
    // Lazy mode keeps raw bytes.
    let mut lazy = CanalClient::connect(
        &addr,
        ClientConfig {
            lazy_parse_entry: true,
            client_id: 7,
            ..Default::default()
        },
    )
    .await
    .expect("lazy");
    lazy.subscribe("").await.expect("sub");
    svc.put("example", [entry(40, 5)]);
    let m = lazy.get_without_ack(100, None).await.expect("get");
    assert!(m.raw);
    assert_eq!(m.raw_entries, vec![entry(40, 5)]);
    // A rejected ack surfaces as the next request's error (trap T1).
    lazy.ack(999).await.expect("send");
    match lazy.get_without_ack(100, None).await {
        Err(ClientError::Server { code: 400, message }) => assert!(
            message.contains("ack error , clientId:7 batchId:999 is not exist , please check"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    lazy.disconnect().await.expect("disconnect");
    c.unsubscribe().await.expect("unsub");
    match c.get_without_ack(1, None).await {
        Err(ClientError::Server { code: 400, .. }) => {}
        other => panic!("{other:?}"),
    }
    srv.shutdown().await;
}

/// Pipelined GETs (several outstanding, replies read in order, acks in batch order), the raw
/// batches and their borrowed views, the guard against replies out of step.
#[tokio::test]
async fn client_pipelined_gets_raw_batches_and_views() {
    let (svc, srv) = noauth_server().await;
    let addr = srv.addr.to_string();
    let mut c = CanalClient::connect(&addr, ClientConfig::default())
        .await
        .expect("connect");
    c.subscribe("").await.expect("sub");
    // > 1 KiB each: a GET of 1 unit takes one entry.
    let stored: Vec<Bytes> = (1..=4).map(|i| entry(i * 10, 1500)).collect();
    svc.put("example", stored.clone());
    for _ in 0..3 {
        c.send_get(1, None).await.expect("queued");
    }
    assert_eq!(c.outstanding_gets(), 3);
    // Requests waiting for their own reply would take a GET's reply: refused, nothing sent.
    assert!(matches!(
        c.subscribe("").await,
        Err(ClientError::Protocol(_))
    ));
    assert!(matches!(
        c.get_without_ack(1, None).await,
        Err(ClientError::Protocol(_))
    ));
    let mut ids = Vec::new();
    for (i, want) in stored.iter().take(3).enumerate() {
        let b = c.recv_raw().await.expect("reply");
        assert_eq!(b.entries, vec![want.clone()], "replies in order");
        let v = b.views().next().expect("one").expect("view");
        assert_eq!(
            v.header().expect("header").logfile_offset(),
            (i as i64 + 1) * 10
        );
        assert_eq!(v.row_change().expect("row change").sql().len(), 1500);
        ids.push(b.id);
    }
    assert_eq!(ids, vec![1, 2, 3]);
    for id in ids {
        c.ack(id).await.expect("ack in batch order");
    }
    let last = c.get_raw(1, None).await.expect("last");
    assert_eq!((last.id, last.entries.len()), (4, 1));
    c.ack(last.id).await.expect("ack");
    // A deep pipeline of timed GETs on an empty destination: every reply is an empty batch.
    for _ in 0..64 {
        c.send_get(1, Some(Duration::from_millis(2)))
            .await
            .expect("queued");
    }
    for _ in 0..64 {
        assert_eq!(c.recv_raw().await.expect("empty reply").id, -1);
    }
    // A rejected ack answers with an error that takes the next GET's place; with another GET
    // still outstanding the client cannot know which reply is which and says so.
    c.ack(999).await.expect("sent");
    c.send_get(1, None).await.expect("queued");
    c.send_get(1, None).await.expect("queued");
    match c.recv_raw().await {
        Err(ClientError::Server { code: 400, message }) => {
            assert!(message.contains("batchId:999"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(c.recv_raw().await, Err(ClientError::Protocol(_))));
    srv.shutdown().await;
}

#[tokio::test]
async fn blocking_get_completes_when_a_full_batch_exists() {
    let (svc, srv) = noauth_server().await;
    let mut c = CanalClient::connect(&srv.addr.to_string(), ClientConfig::default())
        .await
        .expect("connect");
    c.subscribe("").await.expect("sub");
    let feeder = {
        let svc = svc.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            svc.put("example", [entry(1, 600)]); // < 1 KiB: not a full batch yet
            tokio::time::sleep(Duration::from_millis(300)).await;
            svc.put("example", [entry(2, 600)]);
        })
    };
    let t = Instant::now();
    // timeout Some(ZERO) = GET timeout 0 = block for a full batch (fetch 1 = 1 KiB).
    let m = c
        .get_without_ack(1, Some(Duration::ZERO))
        .await
        .expect("get");
    assert!(
        t.elapsed() >= Duration::from_millis(550),
        "returned before the batch was full"
    );
    assert_eq!(m.entries.len(), 2);
    feeder.await.expect("feeder");
    srv.shutdown().await;
}

#[tokio::test]
async fn tail_prints_json_lines() {
    let (svc, srv) = noauth_server().await;
    svc.put("example", [entry(11, 3), entry(22, 3)]);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let addr = srv.addr.to_string();
    let task = tokio::spawn(async move {
        let mut out: Vec<u8> = Vec::new();
        let opts = TailOptions {
            poll: Duration::from_millis(50),
            ..TailOptions::default()
        };
        let n = canal_client::tail_with(&addr, opts, &mut out, async {
            let _ = stop_rx.await;
        })
        .await
        .expect("tail");
        (n, out)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(());
    let (n, out) = task.await.expect("join");
    assert_eq!(n, 2);
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["logfileOffset"], 11);
    assert_eq!(lines[1]["logfileOffset"], 22);
    assert_eq!(lines[0]["entryType"], "ROWDATA");
    assert_eq!(lines[0]["table"], "t1");
    srv.shutdown().await;
}

// ------------------------------------------------------------------ lifecycle

#[tokio::test]
async fn graceful_shutdown_closes_connections_and_stops_accepting() {
    let (_svc, srv) = noauth_server().await;
    let addr = srv.addr;
    let mut idle = subscribed(addr, "example", "1001").await;
    let mut blocked = subscribed(addr, "example", "1002").await;
    // A GET without timeout blocks on the server.
    blocked.send(&get("example", "1002", 1000, None)).await;
    assert_eq!(blocked.read(Duration::from_millis(200)).await, Got::Timeout);
    let t = Instant::now();
    srv.shutdown().await;
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert_eq!(idle.read(Duration::from_secs(2)).await, Got::Eof);
    assert_eq!(blocked.read(Duration::from_secs(2)).await, Got::Eof);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn connection_limit_closes_extra_connections() {
    let svc = MemService::new(&["example"]);
    let srv = common::start(
        svc,
        ServerConfig {
            max_connections: 2,
            ..ServerConfig::default()
        },
    )
    .await;
    let (a, _) = Raw::connect_handshake(srv.addr).await;
    let (_b, _) = Raw::connect_handshake(srv.addr).await;
    let mut c = Raw::connect(srv.addr).await;
    assert_eq!(
        c.read(Duration::from_secs(2)).await,
        Got::Eof,
        "third connection must be closed"
    );
    drop(a);
    // The slot frees once the first session notices the close.
    let mut served = false;
    for _ in 0..50 {
        let mut d = Raw::connect(srv.addr).await;
        if let Got::Frame(f) = d.read(Duration::from_millis(200)).await {
            assert_eq!(&f[..8], &[0, 0, 0, 0x10, 0x10, 0x01, 0x18, 0x01]);
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot was never reused");
    srv.shutdown().await;
}

#[tokio::test]
async fn messages_form_follows_raw_entry() {
    let (svc, srv) = noauth_server().await;
    let mut c = subscribed(srv.addr, "example", "1001").await;
    let e = entry(5, 3);
    svc.put("example", [e.clone()]);
    c.send(&get("example", "1001", 10, Some(-1))).await;
    // Raw mode (Java default): type + body only, no version (wire-protocol.md §2.7).
    let raw = c.payload().await;
    let mut expect = vec![
        0x18,
        0x07,
        0x2a,
        (2 + 2 + e.len()) as u8,
        0x08,
        0x01,
        0x12,
        e.len() as u8,
    ];
    expect.extend_from_slice(&e);
    assert_eq!(raw, expect);
    // rawEntry=false: an ordinary packet with version 1; the entry bytes are identical.
    svc.set_raw(false);
    c.send(&packet::client_rollback(
        &canal_protocol::canal::ClientRollback {
            destination: "example".into(),
            client_id: "1001".into(),
            batch_id: 0,
        },
    ))
    .await;
    c.send(&get("example", "1001", 10, Some(-1))).await;
    let built = c.payload().await;
    let mut expect = vec![
        0x10,
        0x01,
        0x18,
        0x07,
        0x2a,
        (2 + 2 + e.len()) as u8,
        0x08,
        0x02,
        0x12,
        e.len() as u8,
    ];
    expect.extend_from_slice(&e);
    assert_eq!(built, expect);
    srv.shutdown().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_its_write_timeout() {
    let (svc, srv) = noauth_server().await;
    let mut bystander = subscribed(srv.addr, "other", "1001").await;
    let (mut c, _) = Raw::connect_handshake(srv.addr).await;
    c.send(&packet::client_auth(&ClientAuth {
        net_read_timeout: Some(60_000),
        net_write_timeout: Some(500),
        ..Default::default()
    }))
    .await;
    assert_eq!(c.payload().await, ACK_OK);
    c.send(&sub("example", "1001")).await;
    assert_eq!(c.payload().await, ACK_OK);
    // 32 MiB in one batch: far more than the socket buffers hold while nobody reads.
    svc.put(
        "example",
        (0..32).map(|i| Bytes::from(vec![i as u8; 1 << 20])),
    );
    c.send(&get("example", "1001", 1 << 20, Some(-1))).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_served(&mut bystander, "other", "1001").await;
    // Drain: the frame is cut short by the close.
    let mut total = 0usize;
    let mut tmp = vec![0u8; 1 << 20];
    let t = Instant::now();
    loop {
        use tokio::io::AsyncReadExt;
        match tokio::time::timeout(Duration::from_secs(5), c.stream.read(&mut tmp)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => total += n,
            Err(_) => panic!("server kept the stuck connection open"),
        }
    }
    assert!(total < 32 << 20, "the whole batch arrived ({total} bytes)");
    assert!(t.elapsed() < Duration::from_secs(5));
    srv.shutdown().await;
}
