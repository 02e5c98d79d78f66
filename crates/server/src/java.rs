//! Java-side text that ends up on the wire: the pieces of Canal's error messages that come from
//! the JDK, protobuf-java and Netty rather than from Canal itself.
//!
//! Hand-written because no crate renders protobuf-java's `TextFormat`, JDK `Short.parseShort`
//! messages or a Netty 3 channel's `toString`; each function names the behaviour it reproduces
//! (facts from ../shared/compat/wire-protocol.md §2.5 and ../shared/golden/wire/).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use canal_protocol::canal::{ClientAck, ClientRollback, Get, Sub, Unsub};

/// Java class of the exception `Short.parseShort` throws.
pub const NUMBER_FORMAT_EXCEPTION: &str = "java.lang.NumberFormatException";
/// Java class of the exception protobuf-java throws on a malformed message body.
pub const INVALID_PROTOCOL_BUFFER_EXCEPTION: &str =
    "com.google.protobuf.InvalidProtocolBufferException";

/// JDK 17 `Short.parseShort(s)` (radix 10): optional `+`/`-`, ASCII digits, range −32768..32767.
/// The error is the JDK's NumberFormatException message.
///
/// Deliberate difference: the JDK also accepts non-ASCII Unicode decimal digits (e.g. `１２`);
/// they are rejected here with the same message.
pub fn parse_short(s: &str) -> Result<i16, String> {
    let for_input = || format!("For input string: \"{s}\"");
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err(for_input()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(for_input());
    }
    // Integer.parseInt first: anything outside i32 is "For input string".
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v * 10 + i64::from(b - b'0');
        if v > i64::from(i32::MAX) + 1 {
            return Err(for_input());
        }
    }
    let v = if neg { -v } else { v };
    if v > i64::from(i32::MAX) || v < i64::from(i32::MIN) {
        return Err(for_input());
    }
    i16::try_from(v).map_err(|_| format!("Value out of range. Value:\"{s}\" Radix:10"))
}

/// protobuf-java's `TextFormat` string escaping (`escapeBytes` over the UTF-8 bytes): printable
/// ASCII as is, the C escapes for \a \b \f \n \r \t \v \\ \' \", every other byte as 3-digit octal.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{}{}{}", (b >> 6) & 3, (b >> 3) & 7, b & 7);
            }
        }
    }
    out
}

/// Builds protobuf-java `TextFormat` output: one `name: value\n` line per present field, in
/// field-number order (proto3: non-default singular fields, oneof members when set).
#[derive(Default)]
struct Text(String);

impl Text {
    fn string(mut self, name: &str, v: &str) -> Self {
        if !v.is_empty() {
            let _ = writeln!(self.0, "{name}: \"{}\"", escape_text(v));
        }
        self
    }
    fn int(mut self, name: &str, v: i64) -> Self {
        if v != 0 {
            let _ = writeln!(self.0, "{name}: {v}");
        }
        self
    }
    fn opt_int(mut self, name: &str, v: Option<i64>) -> Self {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{name}: {v}");
        }
        self
    }
    fn opt_bool(mut self, name: &str, v: Option<bool>) -> Self {
        if let Some(v) = v {
            let _ = writeln!(self.0, "{name}: {v}");
        }
        self
    }
}

/// `TextFormat` of a `Sub` (fields 1, 2, 7).
pub fn text_sub(m: &Sub) -> String {
    Text::default()
        .string("destination", &m.destination)
        .string("client_id", &m.client_id)
        .string("filter", &m.filter)
        .0
}

/// `TextFormat` of an `Unsub`.
pub fn text_unsub(m: &Unsub) -> String {
    Text::default()
        .string("destination", &m.destination)
        .string("client_id", &m.client_id)
        .string("filter", &m.filter)
        .0
}

/// `TextFormat` of a `Get`.
pub fn text_get(m: &Get) -> String {
    Text::default()
        .string("destination", &m.destination)
        .string("client_id", &m.client_id)
        .int("fetch_size", i64::from(m.fetch_size))
        .opt_int("timeout", m.timeout)
        .opt_int("unit", m.unit.map(i64::from))
        .opt_bool("auto_ack", m.auto_ack)
        .0
}

/// `TextFormat` of a `ClientAck`.
pub fn text_client_ack(m: &ClientAck) -> String {
    Text::default()
        .string("destination", &m.destination)
        .string("client_id", &m.client_id)
        .int("batch_id", m.batch_id)
        .0
}

/// `TextFormat` of a `ClientRollback`.
pub fn text_client_rollback(m: &ClientRollback) -> String {
    Text::default()
        .string("destination", &m.destination)
        .string("client_id", &m.client_id)
        .int("batch_id", m.batch_id)
        .0
}

/// `InetSocketAddress.toString()` of a resolved address without host name: `/ip:port`, IPv6 in
/// Java's uncompressed `getHostAddress` form, IPv4-mapped IPv6 shown as IPv4 (as Java does).
pub fn java_socket_addr(a: SocketAddr) -> String {
    let ip = match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => format!("/{v4}:{}", a.port()),
        IpAddr::V6(v6) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:x}")).collect();
            let scope = match a {
                SocketAddr::V6(s) if s.scope_id() != 0 => format!("%{}", s.scope_id()),
                _ => String::new(),
            };
            format!("/{}{scope}:{}", groups.join(":"), a.port())
        }
    }
}

/// A Netty 3 accepted channel's `toString()`: `[id: 0x%08x, /remote => /local]`.
pub fn netty_channel(id: u32, remote: SocketAddr, local: SocketAddr) -> String {
    format!(
        "[id: 0x{id:08x}, {} => {}]",
        java_socket_addr(remote),
        java_socket_addr(local)
    )
}

/// Canal `SecurityUtil.hexStr2Bytes`: either case, an odd length gets a leading `0`, any other
/// character is an error (Java throws and the connection is closed).
pub fn hex_to_bytes(src: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let chars: Vec<u8> = if src.len() % 2 == 1 {
        std::iter::once(b'0').chain(src.bytes()).collect()
    } else {
        src.bytes().collect()
    };
    chars
        .chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// The name protobuf-java gives a `PacketType` number (`UNRECOGNIZED` for unknown numbers).
pub fn packet_type_name(ty: i32) -> &'static str {
    use canal_protocol::canal::PacketType;
    match PacketType::try_from(ty) {
        Ok(PacketType::Packagetypecompatibleproto2) => "PACKAGETYPECOMPATIBLEPROTO2",
        Ok(PacketType::Handshake) => "HANDSHAKE",
        Ok(PacketType::Clientauthentication) => "CLIENTAUTHENTICATION",
        Ok(PacketType::Ack) => "ACK",
        Ok(PacketType::Subscription) => "SUBSCRIPTION",
        Ok(PacketType::Unsubscription) => "UNSUBSCRIPTION",
        Ok(PacketType::Get) => "GET",
        Ok(PacketType::Messages) => "MESSAGES",
        Ok(PacketType::Clientack) => "CLIENTACK",
        Ok(PacketType::Shutdown) => "SHUTDOWN",
        Ok(PacketType::Dump) => "DUMP",
        Ok(PacketType::Heartbeats) => "HEARTBEAT",
        Ok(PacketType::Clientrollback) => "CLIENTROLLBACK",
        Err(_) => "UNRECOGNIZED",
    }
}

/// protobuf-java's message for a body that does not parse, chosen from prost's error text.
pub fn invalid_protobuf_message(err: &prost::DecodeError) -> &'static str {
    let text = err.to_string();
    if text.contains("invalid varint") {
        "CodedInputStream encountered a malformed varint."
    } else if text.contains("invalid tag value: 0") {
        "Protocol message contained an invalid tag (zero)."
    } else if text.contains("UTF-8") {
        "Protocol message had invalid UTF-8."
    } else if text.contains("wire type") || text.contains("group") {
        "Protocol message tag had invalid wire type."
    } else {
        "While parsing a protocol message, the input ended unexpectedly in the middle of a field.  This could mean either that the input has been truncated or that an embedded message misreported its own length."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_short_like_the_jdk() {
        assert_eq!(parse_short("1001"), Ok(1001));
        assert_eq!(parse_short("+7"), Ok(7));
        assert_eq!(parse_short("-32768"), Ok(-32768));
        assert_eq!(parse_short("abc"), Err("For input string: \"abc\"".into()));
        assert_eq!(parse_short("-"), Err("For input string: \"-\"".into()));
        assert_eq!(parse_short(" 1"), Err("For input string: \" 1\"".into()));
        assert_eq!(
            parse_short("32768"),
            Err("Value out of range. Value:\"32768\" Radix:10".into())
        );
        assert_eq!(
            parse_short("99999999999"),
            Err("For input string: \"99999999999\"".into())
        );
        assert_eq!(
            parse_short("-2147483648"),
            Err("Value out of range. Value:\"-2147483648\" Radix:10".into())
        );
    }

    #[test]
    fn text_format_of_get_matches_golden_401() {
        // golden/wire/noauth-session.frames step 26.
        let get = Get {
            destination: "example".into(),
            fetch_size: 1000,
            timeout: Some(-1),
            unit: Some(2),
            auto_ack: Some(false),
            ..Default::default()
        };
        assert_eq!(
            text_get(&get),
            "destination: \"example\"\nfetch_size: 1000\ntimeout: -1\nunit: 2\nauto_ack: false\n"
        );
    }

    #[test]
    fn escape_is_octal_for_non_ascii() {
        assert_eq!(escape_text("é\"\n"), "\\303\\251\\\"\\n");
    }

    #[test]
    fn channel_text() {
        let r: SocketAddr = "127.0.0.1:36286".parse().unwrap();
        let l: SocketAddr = "127.0.0.1:12111".parse().unwrap();
        assert_eq!(
            netty_channel(0x102bb67d, r, l),
            "[id: 0x102bb67d, /127.0.0.1:36286 => /127.0.0.1:12111]"
        );
        let r6: SocketAddr = "[::1]:5".parse().unwrap();
        assert_eq!(java_socket_addr(r6), "/0:0:0:0:0:0:0:1:5");
    }

    #[test]
    fn hex_like_security_util() {
        assert_eq!(hex_to_bytes("beef"), Some(vec![0xbe, 0xef]));
        assert_eq!(hex_to_bytes("BEEF"), Some(vec![0xbe, 0xef]));
        assert_eq!(hex_to_bytes("abc"), Some(vec![0x0a, 0xbc]));
        assert_eq!(hex_to_bytes("canal"), None);
        assert_eq!(hex_to_bytes(""), Some(vec![]));
    }
}
