//! Canal's JSON text (compat/entry-conversion.md §3.4 and golden README "MySQL 9.7"): rendering
//! of MySQL binary JSON and of partial-update diffs. The binary parsing itself is
//! `canal_binlog::json`; only the text form is Canal's and lives here.

use std::fmt::Write;

use canal_binlog::json::{self as bj, JsonDiffOp, JsonValue};

use crate::javafmt::double_to_string;
use crate::values::canal_decimal;

/// Full binary JSON document → Canal text. A zero-length value gives `""`; a malformed document
/// gives its bytes decoded as UTF-8 (Canal would fail; we keep what we can and log).
pub fn to_canal_text(doc: &[u8]) -> String {
    if doc.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(doc.len() + 8);
    match bj::parse(doc).and_then(|v| write_value(&v, &mut out)) {
        Ok(()) => out,
        Err(e) => {
            tracing::warn!("malformed binary JSON ({e}); emitting raw bytes");
            String::from_utf8_lossy(doc).into_owned()
        }
    }
}

/// Renders a partial-update diff vector as Canal's function-call text
/// (`JSON_REPLACE(col, '$.a', 1)`, nested for different operations). `None` if the payload is
/// empty or not a valid diff vector.
pub fn diff_to_canal_text(payload: &[u8], column: &str) -> Option<String> {
    let mut groups: Vec<(&'static str, Vec<String>)> = Vec::new();
    let mut any = false;
    for d in bj::diffs(payload) {
        let d = d.ok()?;
        any = true;
        let path = String::from_utf8_lossy(d.path);
        let func = match d.op {
            JsonDiffOp::Replace => "JSON_REPLACE",
            JsonDiffOp::Insert if path.ends_with(']') => "JSON_ARRAY_INSERT",
            JsonDiffOp::Insert => "JSON_INSERT",
            JsonDiffOp::Remove => "JSON_REMOVE",
        };
        let mut arg = format!("'{path}'");
        if let Some(v) = d.value {
            let mut s = String::new();
            let v = bj::parse(v).ok()?;
            write_value(&v, &mut s).ok()?;
            arg.push_str(", ");
            arg.push_str(&s);
        }
        match groups.last_mut() {
            Some((f, args)) if *f == func => args.push(arg),
            _ => groups.push((func, vec![arg])),
        }
    }
    if !any {
        return None;
    }
    let mut expr = column.to_string();
    for (f, args) in groups {
        expr = format!("{f}({expr}, {})", args.join(", "));
    }
    Some(expr)
}

/// Canal's renderings of the scalars (§3.4); the containers and the rest are
/// [`bj::write_text_with`]'s, which Canal's `JsonConversion` matches.
struct CanalStyle;

impl bj::TextStyle for CanalStyle {
    fn string(&self, s: &[u8], out: &mut String) {
        write_str(s, out);
    }

    fn double(&self, d: f64, out: &mut String) {
        out.push_str(&double_to_string(d));
    }

    fn opaque(&self, field_type: u8, data: &[u8], out: &mut String) -> Result<(), bj::JsonError> {
        match field_type {
            246 => {
                let d = bj::opaque_decimal(data).ok_or(bj::JsonError("bad opaque decimal"))?;
                out.push_str(&canal_decimal(&d));
            }
            10 | 12 | 7 => {
                let t = bj::opaque_datetime(data).ok_or(bj::JsonError("bad opaque datetime"))?;
                if t.year == 0
                    && t.month == 0
                    && t.day == 0
                    && t.hour == 0
                    && t.minute == 0
                    && t.second == 0
                    && t.micros == 0
                {
                    out.push_str("\"0000-00-00 00:00:00\"");
                } else {
                    let _ = write!(
                        out,
                        "\"{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}\"",
                        t.year, t.month, t.day, t.hour, t.minute, t.second, t.micros
                    );
                }
            }
            11 => {
                let t = bj::opaque_time(data).ok_or(bj::JsonError("bad opaque time"))?;
                if t.hours == 0 && t.minutes == 0 && t.seconds == 0 && t.micros == 0 {
                    out.push_str("\"00:00:00\"");
                } else {
                    let sign = if t.negative { "-" } else { "" };
                    let h = if t.hours > 100 {
                        t.hours.to_string()
                    } else {
                        format!("{:02}", t.hours % 100)
                    };
                    let _ = write!(
                        out,
                        "\"{sign}{h}:{:02}:{:02}.{:06}\"",
                        t.minutes, t.seconds, t.micros
                    );
                }
            }
            _ => write_str(data, out),
        }
        Ok(())
    }
}

fn write_value(v: &JsonValue<'_>, out: &mut String) -> Result<(), bj::JsonError> {
    bj::write_text_with(v, out, &CanalStyle)
}

/// Canal's JSON string escaping (§3.4).
fn write_str(s: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || ((c as u32) >= 0x7f && (c as u32) <= 0xa0) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_compat() {
        let mut s = String::new();
        write_str(
            "a\"\\\n\r\t\u{1}\u{8}\u{c}\u{1f}\u{7f}\u{a0}\u{ad}/é".as_bytes(),
            &mut s,
        );
        assert_eq!(
            s,
            "\"a\\\"\\\\\\n\\r\\t\\u0001\\u0008\\u000c\\u001f\\u007f\\u00a0\u{ad}/é\""
        );
    }

    #[test]
    fn scalars_and_containers() {
        // [true, null, -2] (hand-assembled binary JSON)
        let d = [0x02, 3, 0, 13, 0, 0x04, 1, 0, 0x04, 0, 0, 0x05, 0xfe, 0xff];
        assert_eq!(to_canal_text(&d), "[true, null, -2]");
        // double 1e20 → Java Double.toString
        let mut d = vec![0x0b];
        d.extend_from_slice(&1e20f64.to_le_bytes());
        assert_eq!(to_canal_text(&d), "1.0E20");
        assert_eq!(to_canal_text(&[]), "");
    }

    #[test]
    fn diff_nesting() {
        // REPLACE '$.num' -> 2 then REMOVE '$.str' → JSON_REMOVE(JSON_REPLACE(j, '$.num', 2), '$.str')
        let p = [
            0, 5, b'$', b'.', b'n', b'u', b'm', 3, 0x05, 2, 0, 2, 5, b'$', b'.', b's', b't', b'r',
        ];
        assert_eq!(
            diff_to_canal_text(&p, "j").unwrap(),
            "JSON_REMOVE(JSON_REPLACE(j, '$.num', 2), '$.str')"
        );
        assert!(diff_to_canal_text(&[], "j").is_none());
    }
}
