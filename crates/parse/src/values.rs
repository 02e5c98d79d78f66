//! Column value rendering: Canal's `Column.value` strings and JDBC `sqlType` codes
//! (compat/entry-conversion.md §3.2–3.4).

use canal_binlog::value::{Decimal, Value};

use crate::javafmt::{push_double, push_float};
use crate::json;

/// MySQL column type codes used here.
pub mod mysql_type {
    /// TINYINT.
    pub const TINY: u8 = 1;
    /// SMALLINT.
    pub const SHORT: u8 = 2;
    /// INT.
    pub const LONG: u8 = 3;
    /// FLOAT.
    pub const FLOAT: u8 = 4;
    /// DOUBLE.
    pub const DOUBLE: u8 = 5;
    /// TIMESTAMP (old).
    pub const TIMESTAMP: u8 = 7;
    /// BIGINT.
    pub const LONGLONG: u8 = 8;
    /// MEDIUMINT.
    pub const INT24: u8 = 9;
    /// DATE.
    pub const DATE: u8 = 10;
    /// TIME (old).
    pub const TIME: u8 = 11;
    /// DATETIME (old).
    pub const DATETIME: u8 = 12;
    /// YEAR.
    pub const YEAR: u8 = 13;
    /// NEWDATE.
    pub const NEWDATE: u8 = 14;
    /// VARCHAR.
    pub const VARCHAR: u8 = 15;
    /// BIT.
    pub const BIT: u8 = 16;
    /// TIMESTAMP2.
    pub const TIMESTAMP2: u8 = 17;
    /// DATETIME2.
    pub const DATETIME2: u8 = 18;
    /// TIME2.
    pub const TIME2: u8 = 19;
    /// VECTOR (MySQL 9).
    pub const VECTOR: u8 = 242;
    /// JSON.
    pub const JSON: u8 = 245;
    /// NEWDECIMAL.
    pub const NEWDECIMAL: u8 = 246;
    /// ENUM.
    pub const ENUM: u8 = 247;
    /// SET.
    pub const SET: u8 = 248;
    /// TINY_BLOB.
    pub const TINY_BLOB: u8 = 249;
    /// MEDIUM_BLOB.
    pub const MEDIUM_BLOB: u8 = 250;
    /// LONG_BLOB.
    pub const LONG_BLOB: u8 = 251;
    /// BLOB.
    pub const BLOB: u8 = 252;
    /// VAR_STRING.
    pub const VAR_STRING: u8 = 253;
    /// STRING (CHAR/BINARY, ENUM/SET in the type array).
    pub const STRING: u8 = 254;
    /// GEOMETRY.
    pub const GEOMETRY: u8 = 255;
}

/// JDBC `java.sql.Types` codes Canal uses.
pub mod sql_type {
    /// BIT.
    pub const BIT: i32 = -7;
    /// TINYINT.
    pub const TINYINT: i32 = -6;
    /// SMALLINT.
    pub const SMALLINT: i32 = 5;
    /// INTEGER.
    pub const INTEGER: i32 = 4;
    /// BIGINT.
    pub const BIGINT: i32 = -5;
    /// REAL.
    pub const REAL: i32 = 7;
    /// DOUBLE.
    pub const DOUBLE: i32 = 8;
    /// DECIMAL.
    pub const DECIMAL: i32 = 3;
    /// CHAR.
    pub const CHAR: i32 = 1;
    /// VARCHAR.
    pub const VARCHAR: i32 = 12;
    /// DATE.
    pub const DATE: i32 = 91;
    /// TIME.
    pub const TIME: i32 = 92;
    /// TIMESTAMP.
    pub const TIMESTAMP: i32 = 93;
    /// BLOB.
    pub const BLOB: i32 = 2004;
    /// CLOB.
    pub const CLOB: i32 = 2005;
    /// OTHER.
    pub const OTHER: i32 = 1111;
}

/// What the converter knows about one column when rendering its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnKind {
    /// Real MySQL type code from TABLE_MAP.
    pub real_type: u8,
    /// mysqlType contains `unsigned`.
    pub unsigned: bool,
    /// mysqlType contains `binary`.
    pub binary: bool,
    /// mysqlType is exactly one of `tinytext`/`text`/`mediumtext`/`longtext`.
    pub text: bool,
}

impl ColumnKind {
    /// Derives the flags from the table-meta type string, as Canal does.
    pub fn new(real_type: u8, mysql_type: &str) -> Self {
        let t = mysql_type.to_ascii_lowercase();
        ColumnKind {
            real_type,
            unsigned: t.contains("unsigned"),
            binary: t.contains("binary"),
            text: matches!(t.as_str(), "tinytext" | "text" | "mediumtext" | "longtext"),
        }
    }

    /// sqlType of a NULL value of this column.
    pub fn null_sql_type(&self) -> i32 {
        use mysql_type as m;
        use sql_type as s;
        match self.real_type {
            m::TINY => s::TINYINT,
            m::SHORT => s::SMALLINT,
            m::INT24 | m::LONG | m::ENUM => s::INTEGER,
            m::LONGLONG => s::BIGINT,
            m::FLOAT => s::REAL,
            m::DOUBLE => s::DOUBLE,
            m::NEWDECIMAL => s::DECIMAL,
            m::BIT => s::BIT,
            m::YEAR => s::VARCHAR,
            m::DATE | m::NEWDATE => s::DATE,
            m::TIME | m::TIME2 => s::TIME,
            m::DATETIME | m::DATETIME2 | m::TIMESTAMP | m::TIMESTAMP2 => s::TIMESTAMP,
            m::STRING if self.binary => s::BLOB,
            m::STRING => s::CHAR,
            m::VARCHAR | m::VAR_STRING if self.binary => s::BLOB,
            m::VARCHAR | m::VAR_STRING => s::VARCHAR,
            m::TINY_BLOB | m::MEDIUM_BLOB | m::LONG_BLOB | m::BLOB if self.text => s::CLOB,
            m::TINY_BLOB | m::MEDIUM_BLOB | m::LONG_BLOB | m::BLOB => s::BLOB,
            m::SET | m::GEOMETRY => s::BLOB,
            m::JSON => s::OTHER,
            _ => s::OTHER,
        }
    }
}

/// Time zone used for TIMESTAMP columns.
#[derive(Debug, Clone)]
pub struct Zone(pub jiff::tz::TimeZone);

impl Default for Zone {
    /// The host zone, like the Java default `TimeZone` (UTC if it cannot be determined).
    fn default() -> Self {
        Zone(jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC))
    }
}

impl Zone {
    /// UTC.
    pub fn utc() -> Self {
        Zone(jiff::tz::TimeZone::UTC)
    }
    /// A named IANA zone (`Asia/Shanghai`) or a fixed offset (`+08:00`).
    pub fn named(name: &str) -> Result<Self, String> {
        if name.eq_ignore_ascii_case("utc") {
            return Ok(Self::utc());
        }
        if let Some(off) = parse_offset(name) {
            return Ok(Zone(jiff::tz::TimeZone::fixed(off)));
        }
        jiff::tz::TimeZone::get(name)
            .map(Zone)
            .map_err(|e| format!("unknown time zone {name:?}: {e}"))
    }
}

fn parse_offset(s: &str) -> Option<jiff::tz::Offset> {
    let s = s
        .strip_prefix("GMT")
        .or_else(|| s.strip_prefix("UTC"))
        .unwrap_or(s);
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 18 || m > 59 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// Latin-1 decoding (Java `new String(bytes, "ISO-8859-1")`).
pub fn latin1(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        // ASCII reads the same in both charsets (and is copied in one go).
        Ok(t) if b.is_ascii() => t.to_owned(),
        _ => b.iter().map(|&c| c as char).collect(),
    }
}

/// Text decoding with the connection charset (UTF-8; malformed input becomes U+FFFD).
pub fn utf8_lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(t) => t.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Renders one value: (sqlType, value); `Value::Null` gives (null sqlType, None). `JsonDiff`
/// values are rendered by the caller (they need the column name); here they are an empty string.
/// The text is [`render_into`]'s, in a `String`.
pub fn render(v: &Value<'_>, kind: &ColumnKind, zone: &Zone) -> (i32, Option<String>) {
    let mut out = Vec::new();
    let (t, some) = render_into(v, kind, zone, &mut out);
    let text = some.then(|| {
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    });
    (t, text)
}

/// Appends the UTF-8 text of a non-NULL value to `out` (Canal's `Column.value`, §3.2) without
/// allocating on the common types: the direct ROWDATA writer's path, and [`render`]'s. Returns
/// the sqlType and whether a value was written (`false` = NULL).
pub fn render_into(
    v: &Value<'_>,
    kind: &ColumnKind,
    zone: &Zone,
    out: &mut Vec<u8>,
) -> (i32, bool) {
    use sql_type as s;
    let mut ib = itoa::Buffer::new();
    match *v {
        Value::Null => (kind.null_sql_type(), false),
        Value::Int { value, width } => {
            let (signed_type, promoted, modulus): (i32, i32, i128) = match width {
                1 => (s::TINYINT, s::SMALLINT, 1 << 8),
                2 => (s::SMALLINT, s::INTEGER, 1 << 16),
                3 => (s::INTEGER, s::INTEGER, 1 << 24),
                4 => (s::INTEGER, s::BIGINT, 1 << 32),
                _ => (s::BIGINT, s::DECIMAL, 1 << 64),
            };
            if kind.unsigned && value < 0 {
                out.extend_from_slice(ib.format(value as i128 + modulus).as_bytes());
                (promoted, true)
            } else {
                out.extend_from_slice(ib.format(value).as_bytes());
                (signed_type, true)
            }
        }
        Value::Year(y) => {
            if y == 0 {
                out.extend_from_slice(b"0000");
            } else {
                out.extend_from_slice(ib.format(y).as_bytes());
            }
            (s::VARCHAR, true)
        }
        Value::Date { year, month, day } => {
            push_padded(out, year.into(), 4);
            out.push(b'-');
            push_padded(out, month.into(), 2);
            out.push(b'-');
            push_padded(out, day.into(), 2);
            (s::DATE, true)
        }
        Value::Time2 {
            negative,
            hours,
            minutes,
            seconds,
            micros,
            fsp,
        } => {
            if negative {
                out.push(b'-');
            }
            push_hms(out, hours.into(), minutes.into(), seconds.into());
            push_fraction_bytes(out, micros, fsp);
            (s::TIME, true)
        }
        Value::DateTime2 {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
            fsp,
        } => {
            push_padded(out, year.into(), 4);
            out.push(b'-');
            push_padded(out, month.into(), 2);
            out.push(b'-');
            push_padded(out, day.into(), 2);
            out.push(b' ');
            push_hms(out, hour.into(), minute.into(), second.into());
            push_fraction_bytes(out, micros, fsp);
            (s::TIMESTAMP, true)
        }
        Value::Enum(i) => {
            out.extend_from_slice(ib.format(i).as_bytes());
            (s::INTEGER, true)
        }
        Value::Set(m) => {
            out.extend_from_slice(ib.format(m).as_bytes());
            (s::BIT, true)
        }
        Value::String(b) => {
            let t = if kind.binary {
                push_latin1(out, b);
                s::BLOB
            } else {
                push_utf8_lossy(out, b);
                if kind.real_type == mysql_type::STRING {
                    s::CHAR
                } else {
                    s::VARCHAR
                }
            };
            (t, true)
        }
        Value::Blob(b) => {
            if kind.text {
                push_utf8_lossy(out, b);
                (s::CLOB, true)
            } else {
                push_latin1(out, b);
                (s::BLOB, true)
            }
        }
        Value::Geometry(b) | Value::Vector(b) => {
            push_latin1(out, b);
            (s::BLOB, true)
        }
        Value::Float(f) => {
            push_float(out, f);
            (s::REAL, true)
        }
        Value::Double(d) => {
            push_double(out, d);
            (s::DOUBLE, true)
        }
        Value::Decimal(d) => {
            push_canal_decimal(out, &d);
            (s::DECIMAL, true)
        }
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => {
            if seconds == 0 {
                out.extend_from_slice(b"0000-00-00 00:00:00");
            } else {
                push_timestamp(out, seconds, zone);
            }
            push_fraction_bytes(out, micros, fsp);
            (s::TIMESTAMP, true)
        }
        Value::TimeV1(i) => {
            out.extend_from_slice(old_time(i).as_bytes());
            (s::TIME, true)
        }
        Value::DateTimeV1(v) => {
            if v == 0 {
                out.extend_from_slice(b"0000-00-00 00:00:00");
            } else {
                let (d, t) = (v / 1_000_000, v % 1_000_000);
                let text = format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d / 10000,
                    (d % 10000) / 100,
                    d % 100,
                    t / 10000,
                    (t % 10000) / 100,
                    t % 100
                );
                out.extend_from_slice(text.as_bytes());
            }
            (s::TIMESTAMP, true)
        }
        Value::Bit { bytes, .. } => {
            let mut v: u128 = 0;
            for &b in bytes.iter().take(16) {
                v = (v << 8) | b as u128;
            }
            out.extend_from_slice(ib.format(v).as_bytes());
            (s::BIT, true)
        }
        Value::Json(b) => {
            out.extend_from_slice(json::to_canal_text(b).as_bytes());
            (s::VARCHAR, true)
        }
        Value::JsonDiff(_) => (s::VARCHAR, true),
    }
}

/// Two-digit decimal strings "00".."99".
const DIGITS2: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `format!("{v:0width$}")` without the allocation.
#[inline]
fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    if v < 100 && width == 2 {
        let i = v as usize * 2;
        out.extend_from_slice(&DIGITS2[i..i + 2]);
        return;
    }
    if v < 10_000 && width == 4 {
        let (hi, lo) = (v as usize / 100 * 2, v as usize % 100 * 2);
        out.extend_from_slice(&DIGITS2[hi..hi + 2]);
        out.extend_from_slice(&DIGITS2[lo..lo + 2]);
        return;
    }
    let mut ib = itoa::Buffer::new();
    let d = ib.format(v).as_bytes();
    for _ in d.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(d);
}

fn push_hms(out: &mut Vec<u8>, h: u64, m: u64, s: u64) {
    push_padded(out, h, 2);
    out.push(b':');
    push_padded(out, m, 2);
    out.push(b':');
    push_padded(out, s, 2);
}

/// Appends `.` and `fsp` digits of the microseconds (zero-padded to 6, then truncated).
fn push_fraction_bytes(out: &mut Vec<u8>, micros: u32, fsp: u8) {
    if fsp > 0 {
        let mut d = [b'0'; 6];
        let mut m = micros.min(999_999);
        for x in d.iter_mut().rev() {
            *x = b'0' + (m % 10) as u8;
            m /= 10;
        }
        out.push(b'.');
        out.extend_from_slice(&d[..fsp.min(6) as usize]);
    }
}

/// [`latin1`] appended as UTF-8.
fn push_latin1(out: &mut Vec<u8>, b: &[u8]) {
    if b.is_ascii() {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(b.len() * 2);
    for &c in b {
        if c < 0x80 {
            out.push(c);
        } else {
            out.push(0xc0 | (c >> 6));
            out.push(0x80 | (c & 0x3f));
        }
    }
}

/// [`utf8_lossy`] appended.
fn push_utf8_lossy(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(_) => out.extend_from_slice(b),
        Err(_) => out.extend_from_slice(String::from_utf8_lossy(b).as_bytes()),
    }
}

fn old_time(i: i32) -> String {
    if i == 0 {
        return "00:00:00".into();
    }
    let neg = i < 0;
    let u = i.unsigned_abs();
    let h = u / 10000;
    let m = (u % 10000) / 100;
    let sec = u % 100;
    let hs = if h > 100 {
        h.to_string()
    } else {
        format!("{:02}", h % 100)
    };
    format!("{}{hs}:{m:02}:{sec:02}", if neg { "-" } else { "" })
}

/// `yyyy-MM-dd HH:mm:ss` of `seconds` in `zone`, appended.
fn push_timestamp(out: &mut Vec<u8>, seconds: u32, zone: &Zone) {
    let Ok(ts) = jiff::Timestamp::from_second(seconds as i64) else {
        out.extend_from_slice(b"0000-00-00 00:00:00");
        return;
    };
    let dt = zone.0.to_datetime(ts);
    // u32 seconds since 1970 are years 1969..2106 in any zone.
    push_padded(out, dt.year().max(0) as u64, 4);
    out.push(b'-');
    push_padded(out, dt.month() as u64, 2);
    out.push(b'-');
    push_padded(out, dt.day() as u64, 2);
    out.push(b' ');
    push_hms(
        out,
        dt.hour() as u64,
        dt.minute() as u64,
        dt.second() as u64,
    );
}

/// Canal's DECIMAL text (§3.2): integer part without leading zeros, full 9-digit fraction groups
/// always, the leftover fraction digits only when not all zero, `.0` when nothing is left.
pub fn canal_decimal(d: &Decimal<'_>) -> String {
    let mut out = Vec::with_capacity(d.precision as usize + 3);
    push_canal_decimal(&mut out, d);
    out.into_iter().map(char::from).collect()
}

/// Sizes in bytes of a leftover group of 0..=8 digits.
const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// [`canal_decimal`] appended to a byte buffer without allocating: the packed groups (MySQL
/// `decimal2bin`: 9 digits per 4 bytes big-endian, a leftover group in 1-4 bytes, sign in the top
/// bit, negative numbers inverted) are read into group values on the stack and printed group by
/// group. A group above its digit count keeps its low digits; missing bytes are skipped (never
/// panics).
pub fn push_canal_decimal(out: &mut Vec<u8>, d: &Decimal<'_>) {
    const POW10: [u64; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    let intg = d.precision.saturating_sub(d.scale) as usize;
    let frac = d.scale as usize;
    let src = d.bytes.get(..d.bytes.len().min(64)).unwrap_or(&[]);
    let neg = src.first().is_some_and(|b| b & 0x80 == 0);
    let mask = if neg { 0xff } else { 0 };
    let mut pos = 0usize;
    // Reads a group of `len` bytes as a big-endian number (sign bit flipped, inverted if
    // negative), reduced to its `ndig` low digits. Bytes past the end are skipped (as a shorter
    // group), like `Decimal::digits`.
    let mut read = |ndig: usize| -> u32 {
        let len = DIG2BYTES[ndig];
        let mut v = 0u64;
        for k in pos..pos + len {
            if let Some(&b) = src.get(k) {
                let b = (if k == 0 { b ^ 0x80 } else { b }) ^ mask;
                v = (v << 8) | u64::from(b);
            }
        }
        pos += len;
        (v % POW10[ndig]) as u32
    };
    // (value, digits) per group; at most 255 digits per part = 29 groups.
    let mut int_g = [(0u32, 0u8); 30];
    let mut frac_g = [(0u32, 0u8); 30];
    let (mut ni, mut nf) = (0usize, 0usize);
    let lead = intg % 9;
    if lead > 0 {
        int_g[0] = (read(lead), lead as u8);
        ni = 1;
    }
    for _ in 0..intg / 9 {
        if let Some(g) = int_g.get_mut(ni) {
            *g = (read(9), 9);
            ni += 1;
        }
    }
    for _ in 0..frac / 9 {
        if let Some(g) = frac_g.get_mut(nf) {
            *g = (read(9), 9);
            nf += 1;
        }
    }
    let trail = frac % 9;
    let trail_v = if trail > 0 { read(trail) } else { 0 };
    let int_g = &int_g[..ni];
    let frac_g = &frac_g[..nf];
    let first_nz = int_g.iter().position(|g| g.0 != 0);
    let all_zero = first_nz.is_none() && trail_v == 0 && frac_g.iter().all(|g| g.0 == 0);
    if neg && !all_zero {
        out.push(b'-');
    }
    match first_nz {
        None => out.push(b'0'),
        Some(p) => {
            let mut ib = itoa::Buffer::new();
            out.extend_from_slice(ib.format(int_g[p].0).as_bytes());
            for g in &int_g[p + 1..] {
                push_group(out, g.0, 9);
            }
        }
    }
    if frac > 0 {
        out.push(b'.');
        for g in frac_g {
            push_group(out, g.0, 9);
        }
        if trail_v != 0 {
            push_group(out, trail_v, trail);
        } else if frac_g.is_empty() {
            out.push(b'0');
        }
    }
}

/// `v` zero-padded to `ndig` digits (v < 10^ndig).
#[inline]
fn push_group(out: &mut Vec<u8>, v: u32, ndig: usize) {
    if ndig == 9 {
        let (top, rest) = ((v / 100_000_000) % 10, (v % 100_000_000) as usize);
        let mut d = [b'0' + top as u8, 0, 0, 0, 0, 0, 0, 0, 0];
        for (k, p) in [
            rest / 1_000_000,
            rest / 10_000 % 100,
            rest / 100 % 100,
            rest % 100,
        ]
        .into_iter()
        .enumerate()
        {
            d[1 + 2 * k] = DIGITS2[2 * p];
            d[2 + 2 * k] = DIGITS2[2 * p + 1];
        }
        out.extend_from_slice(&d);
        return;
    }
    let mut d = [b'0'; 9];
    let mut v = v;
    let n = ndig.min(9);
    for x in d[..n].iter_mut().rev() {
        *x = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&d[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(p: u8, s: u8, bytes: &[u8]) -> String {
        canal_decimal(&Decimal {
            precision: p,
            scale: s,
            bytes,
        })
    }

    /// Packs a decimal string the way MySQL's decimal2bin does (test helper).
    fn pack(p: u8, s: u8, v: &str) -> Vec<u8> {
        const D2B: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
        let neg = v.starts_with('-');
        let v = v.trim_start_matches('-');
        let (i, f) = v.split_once('.').unwrap_or((v, ""));
        let intg = (p - s) as usize;
        let frac = s as usize;
        let i = format!("{:0>width$}", i, width = intg);
        let f = format!("{:0<width$}", f, width = frac);
        let mut out = Vec::new();
        let mut put = |digits: &str, nbytes: usize| {
            let n: u64 = if digits.is_empty() {
                0
            } else {
                digits.parse().unwrap()
            };
            let be = n.to_be_bytes();
            out.extend_from_slice(&be[8 - nbytes..]);
        };
        let lead = intg % 9;
        put(&i[..lead], D2B[lead]);
        for g in 0..intg / 9 {
            put(&i[lead + g * 9..lead + g * 9 + 9], 4);
        }
        for g in 0..frac / 9 {
            put(&f[g * 9..g * 9 + 9], 4);
        }
        let tr = frac % 9;
        put(&f[frac - tr..], D2B[tr]);
        out[0] ^= 0x80;
        if neg {
            for b in &mut out {
                *b = !*b;
            }
        }
        out
    }

    #[test]
    fn decimal_rules_from_compat() {
        // §3.2 examples, verified on the real Java server.
        assert_eq!(dec(10, 2, &pack(10, 2, "3.00")), "3.0");
        assert_eq!(dec(10, 2, &pack(10, 2, "0.00")), "0.0");
        assert_eq!(dec(10, 2, &pack(10, 2, "0.50")), "0.50");
        assert_eq!(dec(10, 2, &pack(10, 2, "-0.05")), "-0.05");
        assert_eq!(dec(20, 10, &pack(20, 10, "1.1234567890")), "1.123456789");
        assert_eq!(dec(20, 10, &pack(20, 10, "12.3")), "12.300000000");
        assert_eq!(dec(20, 10, &pack(20, 10, "0.0000000001")), "0.0000000001");
        assert_eq!(dec(12, 9, &pack(12, 9, "1")), "1.000000000");
        assert_eq!(dec(30, 18, &pack(30, 18, "1")), "1.000000000000000000");
        assert_eq!(dec(10, 0, &pack(10, 0, "7")), "7");
        assert_eq!(dec(10, 0, &pack(10, 0, "-1234567890")), "-1234567890");
    }

    /// The previous allocation-based rendering (via `Decimal::digits`), as the oracle.
    fn decimal_oracle(d: &Decimal<'_>) -> String {
        let (int_digits, frac_digits, neg) = d.digits();
        let int_trim = int_digits
            .iter()
            .position(|&x| x != 0)
            .map_or(&[][..], |p| &int_digits[p..]);
        let scale = d.scale as usize;
        let full = (scale / 9) * 9;
        let mut frac_out: &[u8] = frac_digits
            .get(..full.min(frac_digits.len()))
            .unwrap_or(&[]);
        if frac_digits
            .get(full..)
            .unwrap_or(&[])
            .iter()
            .any(|&x| x != 0)
        {
            frac_out = &frac_digits[..];
        }
        let all_zero = int_trim.is_empty() && frac_digits.iter().all(|&x| x == 0);
        let mut out = String::new();
        if neg && !all_zero {
            out.push('-');
        }
        if int_trim.is_empty() {
            out.push('0');
        } else {
            out.extend(int_trim.iter().map(|x| (b'0' + x) as char));
        }
        if scale > 0 {
            out.push('.');
            if frac_out.is_empty() {
                out.push('0');
            } else {
                out.extend(frac_out.iter().map(|x| (b'0' + x) as char));
            }
        }
        out
    }

    #[test]
    fn decimal_matches_oracle_on_random_bytes() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let p = (next() % 70) as u8;
            let sc = (next() % 40) as u8;
            // Right-sized, short and long byte strings, random or all 0x00 / 0xff / 0x80.
            let size = crate::values::tests::size(p, sc);
            let len = match next() % 4 {
                0 => size.saturating_sub((next() % 3) as usize),
                1 => size + (next() % 3) as usize,
                _ => size,
            };
            let fill = next() % 5;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match fill {
                    0 => 0,
                    1 => 0xff,
                    2 => 0x80,
                    _ => next() as u8,
                })
                .collect();
            let d = Decimal {
                precision: p,
                scale: sc,
                bytes: &bytes,
            };
            assert_eq!(
                canal_decimal(&d),
                decimal_oracle(&d),
                "{p},{sc} {bytes:02x?}"
            );
        }
        // Valid values too.
        for (p, sc, v) in [
            (10, 2, "-12345678.99"),
            (65, 30, "-1.5"),
            (30, 10, "99999.0000000001"),
        ] {
            let b = pack(p, sc, v);
            let d = Decimal {
                precision: p,
                scale: sc,
                bytes: &b,
            };
            assert_eq!(canal_decimal(&d), decimal_oracle(&d));
        }
    }

    fn size(p: u8, s: u8) -> usize {
        const D2B: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
        let intg = p.saturating_sub(s) as usize;
        let frac = s as usize;
        (intg / 9) * 4 + D2B[intg % 9] + (frac / 9) * 4 + D2B[frac % 9]
    }

    /// Expected texts from the rules of entry-conversion.md §3.2 (Java's Float/Double
    /// toString, DECIMAL with the scale's digits, zero-padded dates, truncated fractions,
    /// TIMESTAMP in the configured zone, Canal's zero timestamp).
    #[test]
    fn rendered_texts_follow_the_rules() {
        let signed = ColumnKind::default();
        let unsigned = ColumnKind::new(mysql_type::LONGLONG, "bigint unsigned");
        let dec = pack(20, 6, "-1234.5");
        let cases = [
            (Value::Float(0.1), "0.1"),
            (Value::Float(123456789.0), "1.23456792E8"),
            (Value::Double(-1.0e-300), "-1.0E-300"),
            (Value::Double(1.0 / 3.0), "0.3333333333333333"),
            (
                Value::Decimal(Decimal {
                    precision: 20,
                    scale: 6,
                    bytes: &dec,
                }),
                "-1234.500000",
            ),
            (Value::Year(0), "0000"),
            (Value::Year(2024), "2024"),
            (
                Value::Date {
                    year: 12345,
                    month: 1,
                    day: 2,
                },
                "12345-01-02",
            ),
            (
                Value::DateTime2 {
                    year: 2024,
                    month: 2,
                    day: 29,
                    hour: 23,
                    minute: 59,
                    second: 58,
                    micros: 120_000,
                    fsp: 3,
                },
                "2024-02-29 23:59:58.120",
            ),
            (
                Value::Time2 {
                    negative: true,
                    hours: 838,
                    minutes: 5,
                    seconds: 7,
                    micros: 250_000,
                    fsp: 2,
                },
                "-838:05:07.25",
            ),
        ];
        for (v, want) in &cases {
            assert_eq!(
                render(v, &signed, &Zone::utc()).1.as_deref(),
                Some(*want),
                "{v:?}"
            );
        }
        let int = Value::Int {
            value: -1,
            width: 8,
        };
        assert_eq!(render(&int, &signed, &Zone::utc()).1.as_deref(), Some("-1"));
        assert_eq!(
            render(&int, &unsigned, &Zone::utc()).1.as_deref(),
            Some("18446744073709551615")
        );
        for (zone, secs, fsp, want) in [
            ("UTC", 1_700_000_000u32, 0u8, "2023-11-14 22:13:20"),
            ("Asia/Shanghai", 1_700_000_000, 3, "2023-11-15 06:13:20.123"),
            ("-03:30", 1_700_000_000, 6, "2023-11-14 18:43:20.123456"),
            ("Asia/Shanghai", 0, 0, "0000-00-00 00:00:00"),
            ("UTC", 1, 3, "1970-01-01 00:00:01.123"),
            ("UTC", u32::MAX, 0, "2106-02-07 06:28:15"),
        ] {
            let v = Value::Timestamp {
                seconds: secs,
                micros: 123_456,
                fsp,
            };
            let z = Zone::named(zone).unwrap();
            let mut out = Vec::new();
            assert_eq!(
                render_into(&v, &signed, &z, &mut out),
                (sql_type::TIMESTAMP, true)
            );
            assert_eq!(String::from_utf8(out).unwrap(), want, "{zone} {secs}");
        }
    }

    #[test]
    fn unsigned_promotion() {
        let r = |real: u8, decl: &str, value: i64, width: u8| {
            render(
                &Value::Int { value, width },
                &ColumnKind::new(real, decl),
                &Zone::utc(),
            )
        };
        assert_eq!(
            r(mysql_type::TINY, "tinyint(3) unsigned", 100, 1),
            (-6, Some("100".into()))
        );
        assert_eq!(
            r(mysql_type::TINY, "tinyint(3) unsigned", -56, 1),
            (5, Some("200".into()))
        );
        assert_eq!(
            r(mysql_type::LONGLONG, "bigint(20) unsigned", -1, 8),
            (3, Some("18446744073709551615".into()))
        );
        assert_eq!(
            r(mysql_type::LONG, "int unsigned", -1, 4),
            (-5, Some("4294967295".into()))
        );
        assert_eq!(
            r(mysql_type::INT24, "mediumint unsigned", -1, 3),
            (4, Some("16777215".into()))
        );
    }

    #[test]
    fn temporal_rules() {
        let z = Zone::utc();
        let k = ColumnKind::default();
        let t = |v: Value<'_>| render(&v, &k, &z).1.unwrap();
        assert_eq!(t(Value::TimeV1(1000000)), "00:00:00"); // 100 h, old format quirk
        assert_eq!(t(Value::TimeV1(-1000000)), "-00:00:00");
        assert_eq!(t(Value::TimeV1(1010000)), "101:00:00");
        assert_eq!(
            t(Value::Time2 {
                negative: true,
                hours: 0,
                minutes: 0,
                seconds: 0,
                micros: 500000,
                fsp: 2
            }),
            "-00:00:00.50"
        );
        assert_eq!(
            t(Value::Time2 {
                negative: false,
                hours: 838,
                minutes: 59,
                seconds: 59,
                micros: 0,
                fsp: 0
            }),
            "838:59:59"
        );
        assert_eq!(
            t(Value::Timestamp {
                seconds: 0,
                micros: 500000,
                fsp: 1
            }),
            "0000-00-00 00:00:00.5"
        );
        assert_eq!(
            t(Value::Timestamp {
                seconds: 1,
                micros: 0,
                fsp: 0
            }),
            "1970-01-01 00:00:01"
        );
        let sh = Zone::named("Asia/Shanghai").unwrap();
        assert_eq!(
            render(
                &Value::Timestamp {
                    seconds: 1,
                    micros: 0,
                    fsp: 0
                },
                &k,
                &sh
            )
            .1
            .unwrap(),
            "1970-01-01 08:00:01"
        );
        assert_eq!(t(Value::DateTimeV1(0)), "0000-00-00 00:00:00");
        assert_eq!(t(Value::DateTimeV1(20240229123456)), "2024-02-29 12:34:56");
        assert_eq!(t(Value::Year(0)), "0000");
        assert_eq!(
            t(Value::Date {
                year: 2024,
                month: 0,
                day: 0
            }),
            "2024-00-00"
        );
    }
}
