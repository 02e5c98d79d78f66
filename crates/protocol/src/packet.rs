//! Typed builders and parsers for every client packet.
//!
//! Builders reproduce exactly what the Java server puts on the wire (see
//! ../shared/compat/wire-protocol.md §1.5): `version = 1` on every server packet except a raw-mode
//! MESSAGES with data, explicit `error_code` only on errors, and so on.

use bytes::{BufMut, Bytes, BytesMut};
use prost::Message;

use crate::canal::{
    Ack, ClientAck, ClientAuth, ClientRollback, Get, Handshake, Messages, Packet, PacketType, Sub,
    Unsub,
};

/// A packet that could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    /// The bytes are not a valid protobuf encoding of the expected message.
    #[error("malformed {what}: {source}")]
    Decode {
        /// The message that was being decoded (`Packet`, `Get`, ...).
        what: &'static str,
        /// prost's reason.
        #[source]
        source: prost::DecodeError,
    },
}

fn decode<M: Message + Default>(what: &'static str, buf: &[u8]) -> Result<M, PacketError> {
    M::decode(buf).map_err(|source| PacketError::Decode { what, source })
}

/// Serializes a packet envelope around an already-encoded body.
pub fn envelope(ty: PacketType, version: Option<i32>, body: Bytes) -> Bytes {
    Packet {
        magic_number: None,
        version,
        r#type: ty as i32,
        compression: None,
        body,
    }
    .encode_to_vec()
    .into()
}

fn server_packet<M: Message>(ty: PacketType, body: &M) -> Bytes {
    envelope(ty, Some(1), body.encode_to_vec().into())
}

fn client_packet<M: Message>(ty: PacketType, body: &M) -> Bytes {
    envelope(ty, None, body.encode_to_vec().into())
}

/// HANDSHAKE with the 8-byte seed: `10 01 18 01 2a 0a 12 08 <seed>`.
pub fn handshake(seed: &[u8]) -> Bytes {
    server_packet(
        PacketType::Handshake,
        &Handshake {
            communication_encoding: None,
            seeds: Bytes::copy_from_slice(seed),
            supported_compressions: 0,
        },
    )
}

/// Successful ACK: `10 01 18 03` (empty body).
pub fn ack_ok() -> Bytes {
    server_packet(PacketType::Ack, &Ack::default())
}

/// Error ACK with a code (400, 401, 402) and message.
pub fn ack_error(code: i32, message: &str) -> Bytes {
    server_packet(
        PacketType::Ack,
        &Ack {
            error_code: Some(code),
            error_message: message.to_owned(),
        },
    )
}

/// The MESSAGES reply to a GET that found nothing: batch id -1, version 1.
pub fn messages_empty() -> Bytes {
    server_packet(
        PacketType::Messages,
        &Messages {
            batch_id: -1,
            messages: Vec::new(),
        },
    )
}

/// MESSAGES in raw mode: the stored entry bytes are copied once into the packet, and there is no
/// version field (Java writes this packet by hand; wire-protocol.md §2.7).
pub fn messages_raw(batch_id: i64, entries: &[Bytes]) -> Bytes {
    let body_len = raw_body_len(batch_id, entries);
    let mut out = BytesMut::with_capacity(
        2 + prost::encoding::encoded_len_varint(body_len as u64) + body_len,
    );
    // field 3 (type) varint
    out.put_u8(0x18);
    prost::encoding::encode_varint(PacketType::Messages as u64, &mut out);
    // field 5 (body) length-delimited
    out.put_u8(0x2a);
    prost::encoding::encode_varint(body_len as u64, &mut out);
    out.put_u8(0x08);
    prost::encoding::encode_varint(batch_id as u64, &mut out);
    for e in entries {
        out.put_u8(0x12);
        prost::encoding::encode_varint(e.len() as u64, &mut out);
        out.put_slice(e);
    }
    out.freeze()
}

fn raw_body_len(batch_id: i64, entries: &[Bytes]) -> usize {
    1 + prost::encoding::encoded_len_varint(batch_id as u64)
        + entries
            .iter()
            .map(|e| 1 + prost::encoding::encoded_len_varint(e.len() as u64) + e.len())
            .sum::<usize>()
}

/// MESSAGES in non-raw mode (`rawEntry=false`): an ordinary packet with version 1.
pub fn messages(batch_id: i64, entries: Vec<Bytes>) -> Bytes {
    server_packet(
        PacketType::Messages,
        &Messages {
            batch_id,
            messages: entries,
        },
    )
}

/// Client side: CLIENTAUTHENTICATION.
pub fn client_auth(auth: &ClientAuth) -> Bytes {
    client_packet(PacketType::Clientauthentication, auth)
}
/// Client side: SUBSCRIPTION.
pub fn subscription(sub: &Sub) -> Bytes {
    client_packet(PacketType::Subscription, sub)
}
/// Client side: UNSUBSCRIPTION.
pub fn unsubscription(unsub: &Unsub) -> Bytes {
    client_packet(PacketType::Unsubscription, unsub)
}
/// Client side: GET.
pub fn get(get: &Get) -> Bytes {
    client_packet(PacketType::Get, get)
}
/// Client side: CLIENTACK.
pub fn client_ack(ack: &ClientAck) -> Bytes {
    client_packet(PacketType::Clientack, ack)
}
/// Client side: CLIENTROLLBACK.
pub fn client_rollback(rb: &ClientRollback) -> Bytes {
    client_packet(PacketType::Clientrollback, rb)
}

/// A decoded packet with its body parsed by type.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// HANDSHAKE (server → client).
    Handshake(Handshake),
    /// CLIENTAUTHENTICATION.
    ClientAuth(ClientAuth),
    /// ACK (server → client), success or error.
    Ack(Ack),
    /// SUBSCRIPTION.
    Sub(Sub),
    /// UNSUBSCRIPTION.
    Unsub(Unsub),
    /// GET.
    Get(Get),
    /// MESSAGES (server → client).
    Messages(Messages),
    /// CLIENTACK.
    ClientAck(ClientAck),
    /// CLIENTROLLBACK.
    ClientRollback(ClientRollback),
    /// A type without a body we understand (0, SHUTDOWN, DUMP, HEARTBEAT, unknown numbers).
    Other {
        /// The raw `Packet.type` number.
        ty: i32,
        /// The undecoded body.
        body: Bytes,
    },
}

/// Decodes the envelope of one frame payload.
pub fn parse_packet(payload: &[u8]) -> Result<Packet, PacketError> {
    decode("Packet", payload)
}

/// Decodes the body of a packet according to its type.
pub fn parse_body(packet: &Packet) -> Result<Body, PacketError> {
    let b = &packet.body[..];
    Ok(match PacketType::try_from(packet.r#type) {
        Ok(PacketType::Handshake) => Body::Handshake(decode("Handshake", b)?),
        Ok(PacketType::Clientauthentication) => Body::ClientAuth(decode("ClientAuth", b)?),
        Ok(PacketType::Ack) => Body::Ack(decode("Ack", b)?),
        Ok(PacketType::Subscription) => Body::Sub(decode("Sub", b)?),
        Ok(PacketType::Unsubscription) => Body::Unsub(decode("Unsub", b)?),
        Ok(PacketType::Get) => Body::Get(decode("Get", b)?),
        Ok(PacketType::Messages) => Body::Messages(decode("Messages", b)?),
        Ok(PacketType::Clientack) => Body::ClientAck(decode("ClientAck", b)?),
        Ok(PacketType::Clientrollback) => Body::ClientRollback(decode("ClientRollback", b)?),
        _ => Body::Other {
            ty: packet.r#type,
            body: packet.body.clone(),
        },
    })
}

/// Java `TimeUnit` ordinal order, as carried in `Get.unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the names are the documentation
pub enum TimeUnit {
    Nanoseconds = 0,
    Microseconds = 1,
    Milliseconds = 2,
    Seconds = 3,
    Minutes = 4,
    Hours = 5,
    Days = 6,
}

impl TimeUnit {
    /// The unit for a `Get.unit` value (absent reads as 0 = nanoseconds, like Java).
    pub fn from_ordinal(v: i32) -> Option<Self> {
        Some(match v {
            0 => Self::Nanoseconds,
            1 => Self::Microseconds,
            2 => Self::Milliseconds,
            3 => Self::Seconds,
            4 => Self::Minutes,
            5 => Self::Hours,
            6 => Self::Days,
            _ => return None,
        })
    }

    /// Converts `amount` of this unit to a duration, saturating; negative amounts are `None`.
    pub fn to_duration(self, amount: i64) -> Option<std::time::Duration> {
        if amount < 0 {
            return None;
        }
        let a = amount as u64;
        use std::time::Duration as D;
        Some(match self {
            Self::Nanoseconds => D::from_nanos(a),
            Self::Microseconds => D::from_micros(a),
            Self::Milliseconds => D::from_millis(a),
            Self::Seconds => D::from_secs(a),
            Self::Minutes => D::from_secs(a.saturating_mul(60)),
            Self::Hours => D::from_secs(a.saturating_mul(3600)),
            Self::Days => D::from_secs(a.saturating_mul(86400)),
        })
    }
}
