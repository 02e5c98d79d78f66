//! Byte-level helpers of the endpoint: protobuf-java-compatible (lenient) decoding of requests and
//! the zero-copy MESSAGES frame.

use std::io::{self, IoSlice};

use bytes::{BufMut, Bytes, BytesMut};
use canal_protocol::canal::PacketType;
use prost::encoding::{
    decode_key, encode_varint, encoded_len_varint, skip_field, DecodeContext, WireType,
};
use prost::Message;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Field number → wire type of a message, as protobuf-java parses it.
pub type Layout = &'static [(u32, WireType)];

const V: WireType = WireType::Varint;
const L: WireType = WireType::LengthDelimited;

/// `Packet`: magic_number, version, type, compression (varints), body (bytes).
pub const PACKET: Layout = &[(1, V), (2, V), (3, V), (4, V), (5, L)];
/// `ClientAuth`.
pub const CLIENT_AUTH: Layout = &[
    (1, L),
    (2, L),
    (3, V),
    (4, V),
    (5, L),
    (6, L),
    (7, L),
    (8, V),
];
/// `Sub` and `Unsub` (filter is field 7).
pub const SUB: Layout = &[(1, L), (2, L), (7, L)];
/// `Get`.
pub const GET: Layout = &[(1, L), (2, L), (3, V), (4, V), (5, V), (6, V)];
/// `ClientAck` and `ClientRollback`.
pub const CLIENT_ACK: Layout = &[(1, L), (2, L), (3, V)];

/// Decodes `buf` like protobuf-java's generated `parseFrom`: a known field number arriving with
/// another wire type is kept as an unknown field (i.e. ignored) instead of failing, which matters
/// because Canal parses a pre-auth GET body as a `ClientAuth` (Get.unit, a varint, lands on
/// ClientAuth.destination, a string). Structural errors (truncation, bad varints) still fail.
pub fn decode_lenient<M: Message + Default>(
    buf: &[u8],
    layout: Layout,
) -> Result<M, prost::DecodeError> {
    let mut rest = buf;
    let mut kept: Option<Vec<u8>> = None;
    while !rest.is_empty() {
        let before = rest;
        let (tag, wt) = decode_key(&mut rest)?;
        skip_field(wt, tag, &mut rest, DecodeContext::default())?;
        let field = &before[..before.len() - rest.len()];
        let known = layout.iter().any(|&(t, w)| t == tag && w == wt);
        match (&mut kept, known) {
            (Some(k), true) => k.extend_from_slice(field),
            (Some(_), false) => {}
            (None, true) => {}
            (None, false) => {
                // First foreign field: copy what was accepted so far.
                kept = Some(buf[..buf.len() - before.len()].to_vec());
            }
        }
    }
    match kept {
        Some(k) => M::decode(&k[..]),
        None => M::decode(buf),
    }
}

/// Entries shorter than this are copied into the frame's small-chunk buffer; longer ones are sent
/// straight from the store's `Bytes` by a vectored write (an iovec costs more than a short copy).
const COPY_BELOW: usize = 512;

/// A MESSAGES frame (4-byte length header included) as a list of chunks for a vectored write.
///
/// Raw mode (`canal.instance.memory.rawEntry=true`, Java's default) has no version field; non-raw
/// mode adds `version = 1` (`10 01`). The entry bytes are never re-encoded.
pub fn messages_frame(
    batch_id: i64,
    entries: &[Bytes],
    raw: bool,
) -> io::Result<(Vec<Bytes>, usize)> {
    let body_len: usize = 1
        + encoded_len_varint(batch_id as u64)
        + entries
            .iter()
            .map(|e| 1 + encoded_len_varint(e.len() as u64) + e.len())
            .sum::<usize>();
    let packet_len =
        if raw { 0 } else { 2 } + 2 + 1 + encoded_len_varint(body_len as u64) + body_len;
    let header_len = u32::try_from(packet_len)
        .ok()
        .filter(|&l| l <= i32::MAX as u32)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("MESSAGES frame of {packet_len} bytes exceeds the 2 GiB frame limit"),
            )
        })?;

    let mut chunks = Vec::with_capacity(entries.len() / 2 + 2);
    let mut small = BytesMut::with_capacity(64);
    small.put_u32(header_len);
    if !raw {
        small.put_slice(&[0x10, 0x01]);
    }
    small.put_slice(&[0x18, PacketType::Messages as u8, 0x2a]);
    encode_varint(body_len as u64, &mut small);
    small.put_u8(0x08);
    encode_varint(batch_id as u64, &mut small);
    for e in entries {
        small.put_u8(0x12);
        encode_varint(e.len() as u64, &mut small);
        if e.len() < COPY_BELOW {
            small.put_slice(e);
        } else {
            chunks.push(small.split().freeze());
            chunks.push(e.clone());
        }
    }
    if !small.is_empty() {
        chunks.push(small.freeze());
    }
    Ok((chunks, 4 + packet_len))
}

/// Writes every chunk with as few `writev` calls as possible.
pub async fn write_all_chunks<W: AsyncWrite + Unpin>(
    w: &mut W,
    chunks: &[Bytes],
) -> io::Result<()> {
    const MAX_IOV: usize = 512;
    let mut idx = 0;
    let mut off = 0;
    while idx < chunks.len() {
        let n = {
            let mut slices = Vec::with_capacity(MAX_IOV.min(chunks.len() - idx));
            for (i, c) in chunks[idx..].iter().take(MAX_IOV).enumerate() {
                let s = if i == 0 { &c[off..] } else { &c[..] };
                slices.push(IoSlice::new(s));
            }
            w.write_vectored(&slices).await?
        };
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let mut left = n;
        while left > 0 && idx < chunks.len() {
            let avail = chunks[idx].len() - off;
            if left >= avail {
                left -= avail;
                idx += 1;
                off = 0;
            } else {
                off += left;
                left = 0;
            }
        }
        while idx < chunks.len() && chunks[idx].len() == off {
            idx += 1;
            off = 0;
        }
    }
    w.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_protocol::canal::{ClientAuth, Get};

    #[test]
    fn get_body_parses_as_client_auth_like_java() {
        // golden/wire/auth.frames step 12: a GET body read as ClientAuth gives
        // username "example", password "1001", net_read_timeout 1000, net_write_timeout -1.
        let hex = "0a076578616d706c6512043130303118e80720ffffffffffffffffff0128023000";
        let body: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert!(
            ClientAuth::decode(&body[..]).is_err(),
            "prost alone is stricter than Java"
        );
        let a: ClientAuth = decode_lenient(&body, CLIENT_AUTH).unwrap();
        assert_eq!(a.username, "example");
        assert_eq!(&a.password[..], b"1001");
        assert_eq!(a.net_read_timeout, Some(1000));
        assert_eq!(a.net_write_timeout, Some(-1));
        assert_eq!(a.destination, "");
        let g: Get = decode_lenient(&body, GET).unwrap();
        assert_eq!(g.unit, Some(2));
        assert!(decode_lenient::<Get>(&[0xff, 0xff, 0xff], GET).is_err());
    }

    #[test]
    fn messages_frame_matches_protocol_builder() {
        let entries = vec![
            Bytes::from(vec![7u8; 10]),
            Bytes::from(vec![9u8; 2000]),
            Bytes::from_static(b"x"),
        ];
        for raw in [true, false] {
            let (chunks, len) = messages_frame(42, &entries, raw).unwrap();
            let joined: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(joined.len(), len);
            let payload = if raw {
                canal_protocol::packet::messages_raw(42, &entries)
            } else {
                canal_protocol::packet::messages(42, entries.clone())
            };
            assert_eq!(&joined[..], &canal_protocol::codec::frame(&payload)[..]);
        }
    }
}
