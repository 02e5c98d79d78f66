//! Golden wire tests: our packet builders and parsers against
//! (a) the canonical frames of ../shared/compat/wire-protocol.md §1.5 (and the canal-python
//!     frames of ../shared/testbed/python-clients.md), written out here as constants, and
//! (b) every frame of the real Java Canal server captures in ../shared/golden/wire/*.frames.

mod common;

use bytes::{Bytes, BytesMut};
use canal_protocol::canal::{
    Ack, ClientAck, ClientAuth, ClientRollback, Get, Messages, Packet, PacketType, Sub,
};
use canal_protocol::codec::{self, FrameCodec};
use canal_protocol::packet::{self, Body};
use canal_protocol::scramble;
use common::{hexs, Dir};
use prost::Message;
use tokio_util::codec::Decoder;

const EXAMPLE: &str = "65 78 61 6d 70 6c 65"; // "example"
const C1001: &str = "31 30 30 31"; // "1001"

fn h(s: &str) -> Vec<u8> {
    hexs(&s.replace("\"example\"", EXAMPLE).replace("\"1001\"", C1001))
}

// ---------------------------------------------------------------- §1.5 canonical frames

#[test]
fn handshake_matches_doc() {
    let seed = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let payload = packet::handshake(&seed);
    assert_eq!(
        payload[..],
        h("10 01 18 01 2A 0A 12 08 01 02 03 04 05 06 07 08")[..]
    );
    // framed: header 00 00 00 10
    assert_eq!(codec::frame(&payload)[..4], [0, 0, 0, 0x10]);
}

#[test]
fn ack_ok_matches_doc() {
    assert_eq!(packet::ack_ok()[..], h("10 01 18 03")[..]);
}

#[test]
fn ack_error_matches_doc() {
    assert_eq!(
        packet::ack_error(400, "x")[..],
        h("10 01 18 03 2A 06 08 90 03 12 01 78")[..]
    );
}

#[test]
fn messages_empty_matches_doc() {
    assert_eq!(
        packet::messages_empty()[..],
        h("10 01 18 07 2A 0B 08 FF FF FF FF FF FF FF FF FF 01")[..]
    );
}

#[test]
fn messages_raw_matches_doc_layout() {
    // `18 07 2A <varint L> 08 <varint id> { 12 <varint n> <entry bytes> }…`, no version field.
    let entries = [Bytes::from_static(&[1, 2]), Bytes::from_static(b"abc")];
    assert_eq!(
        packet::messages_raw(5, &entries)[..],
        h("18 07 2A 0B 08 05 12 02 01 02 12 03 61 62 63")[..]
    );
    // A 200-byte entry needs a 2-byte length varint (C8 01) and L = 2 + 3 + 200 = 205 (CD 01).
    let big = Bytes::from(vec![0xAB; 200]);
    let out = packet::messages_raw(1, std::slice::from_ref(&big));
    assert_eq!(out[..8], h("18 07 2A CD 01 08 01 12")[..]);
    assert_eq!(out[8..10], [0xC8, 0x01]);
    assert_eq!(out.len(), 10 + 200);
    // Without entries it is still a raw packet (no version) with only the batch id.
    assert_eq!(packet::messages_raw(3, &[])[..], h("18 07 2A 02 08 03")[..]);
}

#[test]
fn messages_non_raw_has_version() {
    let out = packet::messages(5, vec![Bytes::from_static(b"abc")]);
    assert_eq!(out[..], h("10 01 18 07 2A 07 08 05 12 03 61 62 63")[..]);
}

#[test]
fn java_get_matches_doc() {
    let get = Get {
        destination: "example".into(),
        client_id: "1001".into(),
        fetch_size: 1000,
        timeout: Some(-1),
        unit: Some(2),
        auto_ack: Some(false),
    };
    let expected = h("18 06 2A 21 0A 07 \"example\" 12 04 \"1001\" 18 E8 07 20 FF FF FF FF FF FF FF FF FF 01 28 02 30 00");
    assert_eq!(packet::get(&get)[..], expected[..]);
    let parsed = packet::parse_packet(&expected).unwrap();
    assert_eq!(parsed.version, None);
    assert_eq!(packet::parse_body(&parsed).unwrap(), Body::Get(get));
}

#[test]
fn java_sub_matches_doc() {
    let sub = Sub {
        destination: "example".into(),
        client_id: "1001".into(),
        filter: String::new(),
    };
    let expected = h("18 04 2A 0F 0A 07 \"example\" 12 04 \"1001\"");
    assert_eq!(packet::subscription(&sub)[..], expected[..]);
    let parsed = packet::parse_packet(&expected).unwrap();
    assert_eq!(packet::parse_body(&parsed).unwrap(), Body::Sub(sub));
}

#[test]
fn java_rollback_matches_doc() {
    let rb = ClientRollback {
        destination: "example".into(),
        client_id: "1001".into(),
        batch_id: 0,
    };
    let expected = h("18 0C 2A 0F 0A 07 \"example\" 12 04 \"1001\"");
    assert_eq!(packet::client_rollback(&rb)[..], expected[..]);
    let parsed = packet::parse_packet(&expected).unwrap();
    assert_eq!(
        packet::parse_body(&parsed).unwrap(),
        Body::ClientRollback(rb)
    );
}

#[test]
fn java_client_auth_matches_doc() {
    let auth = ClientAuth {
        net_read_timeout: Some(3_600_000),
        net_write_timeout: Some(3_600_000),
        ..Default::default()
    };
    let expected = h("18 02 2A 0A 18 80 DD DB 01 20 80 DD DB 01");
    assert_eq!(packet::client_auth(&auth)[..], expected[..]);
    let parsed = packet::parse_packet(&expected).unwrap();
    assert_eq!(packet::parse_body(&parsed).unwrap(), Body::ClientAuth(auth));
}

/// The exact packets canal-python 0.4 sends (testbed/python-clients.md): they must parse to the
/// documented values and re-encode identically.
#[test]
fn canal_python_packets_parse() {
    let cases: [(&str, Body); 5] = [
        (
            "18022a0e0a0563616e616c120563616e616c",
            Body::ClientAuth(ClientAuth {
                username: "canal".into(),
                password: Bytes::from_static(b"canal"),
                ..Default::default()
            }),
        ),
        (
            "180c2a0f0a076578616d706c65120431303031",
            Body::ClientRollback(ClientRollback {
                destination: "example".into(),
                client_id: "1001".into(),
                batch_id: 0,
            }),
        ),
        (
            "18042a190a076578616d706c651204313030313a08746573745c2e2e2a",
            Body::Sub(Sub {
                destination: "example".into(),
                client_id: "1001".into(),
                filter: "test\\..*".into(),
            }),
        ),
        (
            "18062a290a076578616d706c65120431303031186420ffffffffffffffffff0128ffffffffffffffffff013000",
            Body::Get(Get {
                destination: "example".into(),
                client_id: "1001".into(),
                fetch_size: 100,
                timeout: Some(-1),
                unit: Some(-1),
                auto_ack: Some(false),
            }),
        ),
        (
            "18082a110a076578616d706c651204313030311807",
            Body::ClientAck(ClientAck {
                destination: "example".into(),
                client_id: "1001".into(),
                batch_id: 7,
            }),
        ),
    ];
    for (hex_payload, want) in cases {
        let payload = hexs(hex_payload);
        let pkt = packet::parse_packet(&payload).unwrap();
        let body = packet::parse_body(&pkt).unwrap();
        assert_eq!(body, want, "{hex_payload}");
        let again = match &body {
            Body::ClientAuth(b) => packet::client_auth(b),
            Body::ClientRollback(b) => packet::client_rollback(b),
            Body::Sub(b) => packet::subscription(b),
            Body::Get(b) => packet::get(b),
            Body::ClientAck(b) => packet::client_ack(b),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(again[..], payload[..], "{hex_payload}");
    }
}

#[test]
fn scramble_matches_doc_vector() {
    // wire-protocol.md §2.3 test vector.
    let seed = [1u8, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(
        scramble::client_token("canal", &seed),
        "7de44690d8e53782cb61804a2455c284a3bbfb06"
    );
    let stored = hex::decode("E3619321C1A937C46A0D8BD1DAC39F93B27D4458").unwrap();
    let token = hex::decode("7de44690d8e53782cb61804a2455c284a3bbfb06").unwrap();
    assert!(scramble::check_scramble(&token, &seed, &stored));
    assert_eq!(
        scramble::stored_password_hash("admin"),
        "4ACFE3202A5FF5CF467898FC58AAB1D615029441"
    );
}

// ---------------------------------------------------------------- golden captures

const FRAME_FILES: [&str; 5] = [
    "noauth-session.frames",
    "noauth-preauth.frames",
    "noauth-oversize.frames",
    "auth.frames",
    "auth-timeouts.frames",
];

/// Rebuilds a decoded packet with our builders (the way our server/client would produce it).
fn rebuild(dir: Dir, pkt: &Packet, body: &Body) -> Option<Bytes> {
    let server_side = matches!(body, Body::Handshake(_) | Body::Ack(_) | Body::Messages(_));
    if server_side != (dir == Dir::ServerToClient) {
        return None; // e.g. a client sending HANDSHAKE on purpose (unsupported-type tests)
    }
    Some(match body {
        Body::Handshake(hs) => packet::handshake(&hs.seeds),
        Body::Ack(Ack {
            error_code: None,
            error_message,
        }) if error_message.is_empty() => packet::ack_ok(),
        Body::Ack(Ack {
            error_code: Some(code),
            error_message,
        }) => packet::ack_error(*code, error_message),
        Body::Messages(Messages { batch_id, messages }) => match pkt.version {
            None => packet::messages_raw(*batch_id, messages),
            Some(1) if *batch_id == -1 && messages.is_empty() => packet::messages_empty(),
            Some(1) => packet::messages(*batch_id, messages.clone()),
            Some(_) => return None,
        },
        Body::ClientAuth(b) => packet::client_auth(b),
        Body::Sub(b) => packet::subscription(b),
        Body::Unsub(b) => packet::unsubscription(b),
        Body::Get(b) => packet::get(b),
        Body::ClientAck(b) => packet::client_ack(b),
        Body::ClientRollback(b) => packet::client_rollback(b),
        _ => return None,
    })
}

#[test]
fn golden_frames_rebuild_byte_for_byte() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for file in FRAME_FILES {
        for f in common::golden_frames(&shared, file) {
            if !f.well_formed() {
                *counts.entry("bogus-length".into()).or_default() += 1;
                continue;
            }
            // Through the frame codec first: one frame, nothing left over.
            let mut buf = BytesMut::from(&f.wire[..]);
            let payload = FrameCodec::default()
                .decode(&mut buf)
                .unwrap_or_else(|e| panic!("{}: {e}", f.origin))
                .unwrap_or_else(|| panic!("{}: incomplete", f.origin));
            assert!(buf.is_empty(), "{}", f.origin);
            assert_eq!(payload[..], f.payload()[..]);
            let Ok(pkt) = packet::parse_packet(&payload) else {
                // Garbage payloads sent on purpose (e.g. ff ff ff).
                assert_eq!(
                    f.dir,
                    Dir::ClientToServer,
                    "{}: server sent garbage?",
                    f.origin
                );
                *counts.entry("undecodable".into()).or_default() += 1;
                continue;
            };
            let body =
                packet::parse_body(&pkt).unwrap_or_else(|e| panic!("{}: body: {e}", f.origin));
            match f.dir {
                Dir::ServerToClient => {
                    assert!(
                        pkt.magic_number.is_none() && pkt.compression.is_none(),
                        "{}",
                        f.origin
                    )
                }
                Dir::ClientToServer => assert!(pkt.version.is_none(), "{}", f.origin),
            }
            if let Some(ours) = rebuild(f.dir, &pkt, &body) {
                assert_eq!(
                    hex::encode(&ours),
                    hex::encode(f.payload()),
                    "{}: {}",
                    f.origin,
                    f.decoded
                );
                // And the framed form (header included) equals the captured frame.
                assert_eq!(codec::frame(&ours)[..], f.wire[..], "{}", f.origin);
                let kind = match (&body, pkt.version) {
                    (Body::Ack(a), _) if a.error_code.is_some() => "S>C error ACK".to_string(),
                    (Body::Messages(m), None) if !m.messages.is_empty() => {
                        "S>C raw MESSAGES".into()
                    }
                    (Body::Messages(_), _) => "S>C empty MESSAGES".into(),
                    (b, _) => format!(
                        "{} {}",
                        if f.dir == Dir::ClientToServer {
                            "C>S"
                        } else {
                            "S>C"
                        },
                        format!("{b:?}").split(['(', ' ', '{']).next().unwrap_or("")
                    ),
                };
                *counts.entry(kind).or_default() += 1;
            } else {
                // Everything else must at least survive a generic decode/encode round trip.
                assert_eq!(pkt.encode_to_vec(), f.payload(), "{}", f.origin);
                *counts
                    .entry(format!("other type {}", pkt.r#type))
                    .or_default() += 1;
            }
        }
    }
    eprintln!("golden frames checked: {counts:#?}");
    for must in [
        "S>C Handshake",
        "S>C Ack",
        "S>C error ACK",
        "S>C empty MESSAGES",
        "S>C raw MESSAGES",
        "C>S Get",
        "C>S Sub",
        "C>S Unsub",
        "C>S ClientAuth",
        "C>S ClientAck",
        "C>S ClientRollback",
        "bogus-length",
        "undecodable",
    ] {
        assert!(
            counts.get(must).copied().unwrap_or(0) > 0,
            "no {must} frame checked: {counts:?}"
        );
    }
}

/// Every raw MESSAGES frame of the capture carries Entry bytes that our schema re-encodes identically.
#[test]
fn golden_messages_entries_reencode() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut n = 0;
    for f in common::golden_frames(&shared, "noauth-session.frames") {
        if f.dir != Dir::ServerToClient || !f.well_formed() {
            continue;
        }
        let pkt = packet::parse_packet(f.payload()).unwrap();
        if pkt.r#type != PacketType::Messages as i32 {
            continue;
        }
        let Body::Messages(m) = packet::parse_body(&pkt).unwrap() else {
            unreachable!()
        };
        for e in &m.messages {
            let entry = canal_protocol::entry::Entry::decode(&e[..]).unwrap();
            assert!(entry.header.is_some(), "{}", f.origin);
            assert_eq!(entry.encode_to_vec(), e[..], "{}", f.origin);
            n += 1;
        }
    }
    assert!(n >= 9, "only {n} entries found");
}

/// The server's accept/reject decision on real auth exchanges (auth.frames, canal.passwd = hash of
/// "canal") is reproduced by our scramble check, and our token equals the one the capture logged.
#[test]
fn golden_auth_scramble_decisions() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let text = std::fs::read_to_string(shared.join("golden/wire/auth.frames")).unwrap();
    let stored = hex::decode(scramble::stored_password_hash("canal")).unwrap();
    let mut seed: Option<Vec<u8>> = None;
    let mut pending: Option<bool> = None; // our verdict for the last scrambled auth
    let (mut accepted, mut rejected, mut tokens) = (0, 0, 0);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# seed=") {
            let (s, t) = rest.split_once(" token=").unwrap();
            let t = t.split_whitespace().next().unwrap();
            assert_eq!(scramble::client_token("canal", &hex::decode(s).unwrap()), t);
            tokens += 1;
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 || cols[1] == "-" {
            continue;
        }
        let wire = hex::decode(cols[1]).unwrap();
        let Ok(pkt) = packet::parse_packet(&wire[4..]) else {
            continue;
        };
        match (cols[0], packet::parse_body(&pkt)) {
            ("S>C", Ok(Body::Handshake(hs))) => seed = Some(hs.seeds.to_vec()),
            ("C>S", Ok(Body::ClientAuth(a))) if a.username == "canal" && a.password.len() == 40 => {
                let token = hex::decode(&a.password).unwrap();
                pending = Some(scramble::check_scramble(
                    &token,
                    seed.as_ref().unwrap(),
                    &stored,
                ));
            }
            ("S>C", Ok(Body::Ack(ack))) => {
                if let Some(ours) = pending.take() {
                    assert_eq!(ours, ack.error_code.is_none(), "verdict differs at {line}");
                    if ours {
                        accepted += 1
                    } else {
                        rejected += 1
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        accepted >= 3 && rejected >= 1 && tokens >= 1,
        "{accepted} {rejected} {tokens}"
    );
}
