//! Fuzz target: arbitrary bytes through the whole client-protocol input path of canal-protocol —
//! frame codec (with end-of-stream handling), Packet envelope, typed body, and for MESSAGES the
//! Entry / RowChange / TransactionBegin / TransactionEnd messages inside. Nothing may panic, and
//! whatever decodes must re-encode to something that decodes to the same value.
#![no_main]

use bytes::BytesMut;
use canal_protocol::codec::FrameCodec;
use canal_protocol::entry::{Entry, EntryType, RowChange, TransactionBegin, TransactionEnd};
use canal_protocol::packet::{self, Body};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use tokio_util::codec::Decoder;

fn check_roundtrip<M: Message + Default + PartialEq + std::fmt::Debug>(m: &M) {
    let again = M::decode(&m.encode_to_vec()[..]).expect("re-encoded message must decode");
    assert_eq!(&again, m);
}

fn payload(p: &[u8]) {
    let Ok(pkt) = packet::parse_packet(p) else {
        return;
    };
    check_roundtrip(&pkt);
    let Ok(body) = packet::parse_body(&pkt) else {
        return;
    };
    if let Body::Messages(m) = body {
        for raw in &m.messages {
            let Ok(e) = Entry::decode(&raw[..]) else {
                continue;
            };
            check_roundtrip(&e);
            let sv = e.store_value.as_deref().unwrap_or_default();
            match e.entry_type() {
                EntryType::Transactionbegin => {
                    if let Ok(t) = TransactionBegin::decode(sv) {
                        check_roundtrip(&t)
                    }
                }
                EntryType::Transactionend => {
                    if let Ok(t) = TransactionEnd::decode(sv) {
                        check_roundtrip(&t)
                    }
                }
                _ => {
                    if let Ok(rc) = RowChange::decode(sv) {
                        check_roundtrip(&rc)
                    }
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The bytes as one packet payload ...
    payload(data);
    // ... and as a stream of frames (small maximum so oversized headers are exercised).
    let mut codec = FrameCodec::new(64 * 1024);
    let mut buf = BytesMut::from(data);
    let mut frames = 0usize;
    while let Ok(Some(frame)) = codec.decode_eof(&mut buf) {
        payload(&frame);
        frames += 1;
        assert!(frames <= data.len() / 4 + 1, "more frames than headers");
    }
});
