//! Support of `type_matrix.rs`: the column catalogue with edge values, the live run, and the
//! small helpers that turn a decoded [`Value`] into the text the server's SELECT expression
//! yields.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use canal_binlog::client::{binlog_status, start_dump, Connection, ReplicaOptions, StartPosition};
use canal_binlog::event::{Event, EventBody, RowsKind};
use canal_binlog::json::{opaque_datetime, opaque_decimal, opaque_time, JsonValue};
use canal_binlog::value::Value;
use canal_binlog::EventDecoder;

use crate::client_support::{self, exec, opts, unique};

/// Which sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// MariaDB 10.11 (`scripts/start-mariadb.sh`).
    Mariadb,
    /// MySQL 9.7 (`scripts/start-mysql9.sh`).
    Mysql9,
}

/// How a column is selected on the server and rendered from the decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Integer; plain text.
    Int {
        /// Declared UNSIGNED.
        unsigned: bool,
        /// Storage width in bytes.
        width: u8,
    },
    /// DECIMAL; plain text (MySQL prints exactly `scale` fraction digits).
    Decimal,
    /// FLOAT; plain text, compared numerically (the server prints 6 significant digits).
    Float,
    /// DOUBLE; plain text, compared numerically (the server may print fewer digits).
    Double,
    /// BIT(n); `col+0`.
    Bit,
    /// DATE; `CAST(col AS CHAR)`.
    Date,
    /// TIME(fsp); `CAST(col AS CHAR)`.
    Time,
    /// DATETIME(fsp); `CAST(col AS CHAR)`.
    DateTime,
    /// TIMESTAMP(fsp); `UNIX_TIMESTAMP(col)` (epoch seconds, fsp fraction digits).
    Timestamp,
    /// YEAR; `col+0`.
    Year,
    /// Any byte string (CHAR, VARCHAR, BINARY, BLOB, TEXT); `HEX(col)`.
    Bytes,
    /// BINARY(n): `HEX(col)`; the server pads with 0x00 up to n bytes.
    Binary(usize),
    /// ENUM; `col+0` (the index).
    Enum,
    /// SET; `col+0` (the bitmask).
    Set,
    /// JSON; the JSON text, compared as parsed `serde_json::Value`.
    Json,
    /// GEOMETRY; `HEX(col)` (SRID + WKB).
    Geometry,
    /// VECTOR (MySQL 9); `HEX(col)`.
    Vector,
}

/// One column of the matrix table.
pub struct Col {
    /// Column name.
    pub name: String,
    /// Column type in DDL.
    pub ddl: String,
    /// Selection/rendering.
    pub kind: Kind,
    /// SQL literals, one per row (rows past the end get NULL).
    pub values: Vec<String>,
}

fn col(name: &str, ddl: &str, kind: Kind, values: &[&str]) -> Col {
    Col {
        name: name.to_string(),
        ddl: ddl.to_string(),
        kind,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

/// The column catalogue for `server`.
pub fn columns(server: Server) -> Vec<Col> {
    let int = |unsigned, width| Kind::Int { unsigned, width };
    let mut c = vec![
        col("ti", "TINYINT", int(false, 1), &["-128", "127", "0", "-1"]),
        col(
            "tiu",
            "TINYINT UNSIGNED",
            int(true, 1),
            &["0", "255", "1", "128"],
        ),
        col(
            "si",
            "SMALLINT",
            int(false, 2),
            &["-32768", "32767", "0", "-1"],
        ),
        col(
            "siu",
            "SMALLINT UNSIGNED",
            int(true, 2),
            &["0", "65535", "32768"],
        ),
        col(
            "mi",
            "MEDIUMINT",
            int(false, 3),
            &["-8388608", "8388607", "0", "-1"],
        ),
        col(
            "miu",
            "MEDIUMINT UNSIGNED",
            int(true, 3),
            &["0", "16777215", "8388608"],
        ),
        col(
            "i",
            "INT",
            int(false, 4),
            &["-2147483648", "2147483647", "0", "-1"],
        ),
        col(
            "iu",
            "INT UNSIGNED",
            int(true, 4),
            &["0", "4294967295", "2147483648"],
        ),
        col(
            "bi",
            "BIGINT",
            int(false, 8),
            &["-9223372036854775808", "9223372036854775807", "0", "-1"],
        ),
        col(
            "biu",
            "BIGINT UNSIGNED",
            int(true, 8),
            &["0", "18446744073709551615", "9223372036854775808"],
        ),
        col(
            "d1",
            "DECIMAL(10,2)",
            Kind::Decimal,
            &["-99999999.99", "99999999.99", "0", "-0.01", "1.50"],
        ),
        col(
            "d2",
            "DECIMAL(65,30)",
            Kind::Decimal,
            &[
                "-99999999999999999999999999999999999.999999999999999999999999999999",
                "99999999999999999999999999999999999.999999999999999999999999999999",
                "0",
                "0.000000000000000000000000000001",
                "-123456789012345678.9",
            ],
        ),
        col(
            "d3",
            "DECIMAL(5,5)",
            Kind::Decimal,
            &["-0.99999", "0.99999", "0", "0.00001"],
        ),
        col(
            "d4",
            "DECIMAL(18,9)",
            Kind::Decimal,
            &[
                "-123456789.123456789",
                "999999999.999999999",
                "0.5",
                "-0.000000001",
            ],
        ),
        col(
            "d5",
            "DECIMAL(20,0)",
            Kind::Decimal,
            &["99999999999999999999", "-99999999999999999999", "0", "-1"],
        ),
        col("d6", "DECIMAL(1,0)", Kind::Decimal, &["9", "-9", "0"]),
        col(
            "f",
            "FLOAT",
            Kind::Float,
            &[
                "-3.40282e38",
                "3.40282e38",
                "1.17549e-38",
                "0",
                "-1.5",
                "3.14159",
            ],
        ),
        col(
            "db",
            "DOUBLE",
            Kind::Double,
            &[
                "-1.7976931348623157e308",
                "1.7976931348623157e308",
                "2.2250738585072014e-308",
                "0",
                "0.1",
                "-1.5",
            ],
        ),
        col("b1", "BIT(1)", Kind::Bit, &["b'0'", "b'1'"]),
        col(
            "b64",
            "BIT(64)",
            Kind::Bit,
            &[
                "0xFFFFFFFFFFFFFFFF",
                "0",
                "0x8000000000000000",
                "1",
                "0x0123456789ABCDEF",
            ],
        ),
        col(
            "b12",
            "BIT(12)",
            Kind::Bit,
            &["b'101010101010'", "b'111111111111'", "0"],
        ),
        col(
            "dd",
            "DATE",
            Kind::Date,
            &[
                "'0000-00-00'",
                "'1000-01-01'",
                "'9999-12-31'",
                "'2024-02-29'",
                "'2024-00-00'",
            ],
        ),
    ];
    let times = [
        "'-838:59:59'",
        "'838:59:59'",
        "'00:00:00'",
        "'-00:00:01'",
        "'12:34:56.123456'",
        "'-12:34:56.654321'",
        "'-00:00:00.100000'",
        "'00:00:00.000001'",
        "'-01:00:00.5'",
    ];
    let datetimes = [
        "'0000-00-00 00:00:00'",
        "'1000-01-01 00:00:00'",
        "'9999-12-31 23:59:59.999999'",
        "'2024-02-29 12:34:56.123456'",
        "'2024-00-00 00:00:00'",
        "'1970-01-01 00:00:00.5'",
    ];
    let timestamps = [
        "'0000-00-00 00:00:00'",
        "'1970-01-01 00:00:01'",
        "'2038-01-19 03:14:07.999999'",
        "'2024-02-29 12:34:56.123456'",
        "'2001-09-09 01:46:40.000001'",
    ];
    for fsp in 0..=6 {
        c.push(col(
            &format!("t{fsp}"),
            &format!("TIME({fsp})"),
            Kind::Time,
            &times,
        ));
    }
    for fsp in 0..=6 {
        c.push(col(
            &format!("dt{fsp}"),
            &format!("DATETIME({fsp})"),
            Kind::DateTime,
            &datetimes,
        ));
    }
    for fsp in 0..=6 {
        c.push(col(
            &format!("ts{fsp}"),
            &format!("TIMESTAMP({fsp}) NULL DEFAULT NULL"),
            Kind::Timestamp,
            &timestamps,
        ));
    }
    let emoji255 = format!("'{}'", "😀".repeat(255));
    let big_blob = "REPEAT(0x00FF7F80, 20000)"; // 80000 bytes: 3-byte length prefix
    let big_text = "REPEAT('é😀', 20000)";
    let set64: Vec<String> = (0..64).map(|i| format!("'m{i}'")).collect();
    let set64_all = format!(
        "'{}'",
        (0..64)
            .map(|i| format!("m{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    c.extend([
        col("y", "YEAR", Kind::Year, &["0", "1901", "2155", "2024"]),
        col(
            "ch",
            "CHAR(10) CHARACTER SET utf8mb4",
            Kind::Bytes,
            &["'a'", "'😀ü中'", "''", "'😀😀😀😀😀😀😀😀😀😀'"],
        ),
        col("chl", "CHAR(255) CHARACTER SET utf8mb4", Kind::Bytes, &[&emoji255, "'x'"]),
        col(
            "vc",
            "VARCHAR(100) CHARACTER SET utf8mb4",
            Kind::Bytes,
            &["''", "'x  '", "'😀🎉 中文'", "'a\\0b'"],
        ),
        col("vl", "VARCHAR(60) CHARACTER SET latin1", Kind::Bytes, &["'abc'", "'é'", "''"]),
        col("bn", "BINARY(4)", Kind::Binary(4), &["'ab'", "0x00FF00FF", "''", "0x01000000"]),
        col("vb", "VARBINARY(300)", Kind::Bytes, &["''", "0x00FF", "REPEAT(0xAB, 300)"]),
        col("tb", "TINYBLOB", Kind::Bytes, &["''", "0x00FF80", "REPEAT(0xCD, 255)"]),
        col("bl", "BLOB", Kind::Bytes, &["''", "0x00", "REPEAT(0xEF, 65535)"]),
        col("mb", "MEDIUMBLOB", Kind::Bytes, &["''", big_blob]),
        col("lb", "LONGBLOB", Kind::Bytes, &["''", big_blob, "0x00"]),
        col("tt", "TINYTEXT CHARACTER SET utf8mb4", Kind::Bytes, &["''", "'😀'"]),
        col("tx", "TEXT CHARACTER SET utf8mb4", Kind::Bytes, &["''", "'ü😀 x'"]),
        col("mt", "MEDIUMTEXT CHARACTER SET utf8mb4", Kind::Bytes, &["''", big_text]),
        col("lt", "LONGTEXT CHARACTER SET utf8mb4", Kind::Bytes, &["''", big_text, "'😀'"]),
        col(
            "en",
            "ENUM('a','b','😀')",
            Kind::Enum,
            &["'a'", "'😀'", "'zzz'", "''", "'b'"],
        ),
        col(
            "st",
            "SET('a','b','c','d','e')",
            Kind::Set,
            &["''", "'a,b,c,d,e'", "'b,d'", "'e'"],
        ),
        Col {
            name: "s64".into(),
            ddl: format!("SET({})", set64.join(",")),
            kind: Kind::Set,
            values: vec!["''".into(), set64_all, "'m63'".into(), "'m0,m31,m32'".into()],
        },
        col(
            "js",
            "JSON",
            Kind::Json,
            &[
                r#"'{"a": [1, 2.5, "x", null, true, false, {"b": {"c": [[], {}]}}], "😀": "ü\\"\\\\\\n", "n": -9223372036854775808, "u": 18446744073709551615, "i": 2147483648, "s": -32768}'"#,
                "'[]'",
                "'{}'",
                "'null'",
                r#"'"str"'"#,
                "'3.25'",
                "'[[[[[[[[1]]]]]]]]'",
                r#"'{"k": "x", "k2": [1e300, -0.5, 0]}'"#,
                // MySQL: opaque DATETIME/DATE/TIME/DECIMAL scalars inside binary JSON.
                "JSON_ARRAY(CAST('2024-01-02 03:04:05.5' AS DATETIME(1)), CAST('2024-01-02' AS DATE), \
                 CAST('-12:34:56.789' AS TIME(3)), CAST(1.50 AS DECIMAL(5,2)), CAST(-0.001 AS DECIMAL(10,3)), \
                 CAST(x'00FF' AS BINARY), CAST('2024-01-02 03:04:05' AS DATETIME))",
                // Over 64 KiB: MySQL's large object/array format.
                "JSON_OBJECT('big', REPEAT('x', 70000), 'arr', JSON_ARRAY(1, -2, 'y', JSON_OBJECT()), 'n', NULL)",
            ],
        ),
        col(
            "g",
            "GEOMETRY",
            Kind::Geometry,
            &[
                "ST_GeomFromText('POINT(1 2)')",
                "ST_GeomFromText('LINESTRING(0 0,1 1,2 1)')",
                "ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))')",
                "ST_GeomFromText('MULTIPOINT(1 1,2 2)')",
            ],
        ),
        col(
            "pt",
            "POINT",
            Kind::Geometry,
            &["ST_GeomFromText('POINT(-1.5 3.25)')", "ST_GeomFromText('POINT(0 0)')"],
        ),
    ]);
    if server == Server::Mariadb {
        // MariaDB's own binary types, logged as fixed-size binary STRING (trailing 0x00 dropped).
        c.extend([
            col(
                "ip6",
                "INET6",
                Kind::Binary(16),
                &["'::1'", "'2001:db8::ff00:42:8329'", "'::'", "'ffff::'"],
            ),
            col(
                "uu",
                "UUID",
                Kind::Binary(16),
                &[
                    "'123e4567-e89b-12d3-a456-426655440000'",
                    "'00000000-0000-0000-0000-000000000000'",
                    "'ffffffff-ffff-1fff-8fff-ffffffffffff'",
                    "'01234567-89ab-4def-8123-456789abcdef'",
                ],
            ),
            col(
                "ip4",
                "INET4",
                Kind::Binary(4),
                &[
                    "'192.168.0.1'",
                    "'0.0.0.0'",
                    "'255.255.255.255'",
                    "'10.0.0.0'",
                ],
            ),
        ]);
    }
    if server == Server::Mysql9 {
        c.push(col(
            "vec",
            "VECTOR(3)",
            Kind::Vector,
            &[
                "STRING_TO_VECTOR('[1.5,-2,3.4e38]')",
                "STRING_TO_VECTOR('[0,0,0]')",
            ],
        ));
    }
    c
}

/// The SELECT expression for `c` on `server`.
fn select_expr(c: &Col, server: Server) -> String {
    let n = &c.name;
    match c.kind {
        Kind::Int { .. } | Kind::Decimal | Kind::Float | Kind::Double => format!("`{n}`"),
        Kind::Bit | Kind::Year | Kind::Enum => format!("CAST(`{n}`+0 AS CHAR)"),
        // `set+0` is a signed (MariaDB) or double (MySQL) for 64-member sets; `set|0` is the
        // exact unsigned bitmask on both.
        Kind::Set => format!("CAST(`{n}`|0 AS CHAR)"),
        Kind::Date | Kind::Time | Kind::DateTime => format!("CAST(`{n}` AS CHAR)"),
        Kind::Timestamp => format!("CAST(UNIX_TIMESTAMP(`{n}`) AS CHAR)"),
        Kind::Bytes | Kind::Binary(_) | Kind::Geometry | Kind::Vector => format!("HEX(`{n}`)"),
        Kind::Json if server == Server::Mysql9 => format!("CAST(`{n}` AS CHAR)"),
        Kind::Json => format!("`{n}`"),
    }
}

/// Uppercase hex, as `HEX()` writes it.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02X}");
    }
    s
}

/// `.` and the first `fsp` digits of the microseconds (nothing for fsp 0), as MySQL prints
/// the fraction of a temporal value with that precision.
fn frac(micros: u32, fsp: u8) -> String {
    if fsp == 0 {
        return String::new();
    }
    let s = format!("{micros:06}");
    format!(".{}", &s[..usize::from(fsp.min(6))])
}

/// The decoded value as the text `select_expr` yields (`None` = SQL NULL). A value of an
/// unexpected variant renders as `"unexpected variant ..."`, which never equals server text.
pub fn render(v: &Value<'_>, kind: Kind) -> Option<String> {
    let odd = || Some(format!("unexpected variant {v:?} for {kind:?}"));
    Some(match (kind, *v) {
        (_, Value::Null) => return None,
        (Kind::Int { unsigned, width }, Value::Int { value, width: w }) => {
            if w != width {
                return Some(format!("width {w} (expected {width}): {value}"));
            }
            if unsigned {
                // Reinterpret the sign-extended value as unsigned of the stored width.
                let mask = if w >= 8 {
                    u64::MAX
                } else {
                    (1u64 << (8 * w)) - 1
                };
                ((value as u64) & mask).to_string()
            } else {
                value.to_string()
            }
        }
        (Kind::Decimal, Value::Decimal(d)) => d.to_string(),
        (Kind::Float, Value::Float(f)) => f.to_string(),
        (Kind::Double, Value::Double(f)) => f.to_string(),
        (Kind::Bit, Value::Bit { .. }) => v.bit_value()?.to_string(),
        (Kind::Date, Value::Date { year, month, day }) => format!("{year:04}-{month:02}-{day:02}"),
        (
            Kind::Time,
            Value::Time2 {
                negative,
                hours,
                minutes,
                seconds,
                micros,
                fsp,
            },
        ) => format!(
            "{}{hours:02}:{minutes:02}:{seconds:02}{}",
            if negative { "-" } else { "" },
            frac(micros, fsp)
        ),
        (Kind::Time, Value::TimeV1(t)) => {
            let a = t.unsigned_abs();
            format!(
                "{}{:02}:{:02}:{:02}",
                if t < 0 { "-" } else { "" },
                a / 10000,
                a / 100 % 100,
                a % 100
            )
        }
        (
            Kind::DateTime,
            Value::DateTime2 {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micros,
                fsp,
            },
        ) => format!(
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{}",
            frac(micros, fsp)
        ),
        (Kind::DateTime, Value::DateTimeV1(x)) => {
            let (d, t) = (x / 1_000_000, x % 1_000_000);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                d / 10000,
                d / 100 % 100,
                d % 100,
                t / 10000,
                t / 100 % 100,
                t % 100
            )
        }
        (
            Kind::Timestamp,
            Value::Timestamp {
                seconds,
                micros,
                fsp,
            },
        ) => format!("{seconds}{}", frac(micros, fsp)),
        (Kind::Year, Value::Year(y)) => y.to_string(),
        (Kind::Bytes | Kind::Binary(_), Value::String(b) | Value::Blob(b)) => hex(b),
        (Kind::Enum, Value::Enum(e)) => e.to_string(),
        (Kind::Set, Value::Set(s)) => s.to_string(),
        (Kind::Json, Value::Json(b)) => {
            // MySQL binary JSON: parsed by the crate, turned into JSON text as MySQL writes it.
            if b.is_empty() {
                // An empty image is MySQL's JSON null written as zero bytes.
                return Some("null".into());
            }
            match canal_binlog::json::parse(b)
                .map_err(|e| format!("{e:?}"))
                .and_then(|j| json_to_serde(&j))
            {
                Ok(j) => j.to_string(),
                Err(e) => format!("json decode error {e}"),
            }
        }
        // MariaDB: JSON is LONGTEXT with a JSON_VALID check: the text as written.
        (Kind::Json, Value::Blob(b)) => String::from_utf8_lossy(b).into_owned(),
        (Kind::Geometry, Value::Geometry(b)) => hex(b),
        (Kind::Vector, Value::Vector(b)) => hex(b),
        _ => return odd(),
    })
}

/// A decoded binary JSON value as `serde_json`, with MySQL's text for opaque scalars: DECIMAL
/// as a number, DATE `YYYY-MM-DD`, DATETIME/TIMESTAMP `YYYY-MM-DD hh:mm:ss.ffffff`, TIME
/// `[-]hh:mm:ss.ffffff`, anything else `base64:type<N>:<base64 of the bytes>`.
fn json_to_serde(v: &JsonValue<'_>) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let e = |e: canal_binlog::json::JsonError| format!("{e:?}");
    Ok(match v {
        JsonValue::Object(o) => {
            let mut m = serde_json::Map::new();
            for kv in o.iter() {
                let (k, v) = kv.map_err(e)?;
                m.insert(String::from_utf8_lossy(k).into_owned(), json_to_serde(&v)?);
            }
            J::Object(m)
        }
        JsonValue::Array(a) => J::Array(
            a.iter()
                .map(|x| x.map_err(e).and_then(|x| json_to_serde(&x)))
                .collect::<Result<_, _>>()?,
        ),
        JsonValue::Null => J::Null,
        JsonValue::Bool(b) => J::Bool(*b),
        JsonValue::Int(i) => J::from(*i),
        JsonValue::UInt(u) => J::from(*u),
        JsonValue::Double(d) => J::from(*d),
        JsonValue::String(s) => J::String(String::from_utf8_lossy(s).into_owned()),
        JsonValue::Opaque { field_type, data } => {
            let dt = || opaque_datetime(data).ok_or("bad opaque datetime".to_string());
            match field_type {
                246 => {
                    let d = opaque_decimal(data).ok_or("bad opaque decimal")?;
                    serde_json::from_str(&d.to_string()).map_err(|x| x.to_string())?
                }
                10 => {
                    let t = dt()?;
                    J::String(format!("{:04}-{:02}-{:02}", t.year, t.month, t.day))
                }
                12 | 7 => {
                    let t = dt()?;
                    J::String(format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
                        t.year, t.month, t.day, t.hour, t.minute, t.second, t.micros
                    ))
                }
                11 => {
                    let t = opaque_time(data).ok_or("bad opaque time")?;
                    J::String(format!(
                        "{}{:02}:{:02}:{:02}.{:06}",
                        if t.negative { "-" } else { "" },
                        t.hours,
                        t.minutes,
                        t.seconds,
                        t.micros
                    ))
                }
                t => J::String(format!("base64:type{t}:{}", base64(data))),
            }
        }
    })
}

/// Standard base64 with padding (RFC 4648), as MySQL writes opaque JSON bytes.
pub fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Compares server text `want` with rendered decoded text `got` for `kind`; `Err` explains.
pub fn compare(kind: Kind, want: Option<&str>, got: Option<&str>) -> Result<(), String> {
    let (w, g) = match (want, got) {
        (None, None) => return Ok(()),
        (Some(w), Some(g)) => (w, g),
        _ => return Err(format!("server {want:?}, decoded {got:?}")),
    };
    let ok = match kind {
        // The server prints FLOAT with 6 significant digits (`%g`): the decoded f32 rounded to
        // 6 significant digits must be the same number.
        Kind::Float => match (w.parse::<f64>(), g.parse::<f32>()) {
            (Ok(a), Ok(b)) => format!("{b:.5e}").parse::<f64>() == Ok(a),
            _ => false,
        },
        // DOUBLE: both servers print a form that reads back as the same f64.
        Kind::Double => match (w.parse::<f64>(), g.parse::<f64>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        Kind::Json => match (
            serde_json::from_str::<serde_json::Value>(w),
            serde_json::from_str::<serde_json::Value>(g),
        ) {
            (Ok(a), Ok(b)) => json_eq(&a, &b),
            _ => false,
        },
        // BINARY(n): the server pads to n bytes with 0x00; the row image carries the value
        // with every trailing 0x00 dropped (compat/entry-conversion.md: MySQL strips trailing
        // pad bytes when logging), so the decoded bytes must be exactly the stripped value.
        Kind::Binary(n) => w.len() == 2 * n && strip_zero_bytes(w) == g,
        _ => w == g,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("server {:?}, decoded {:?}", shorten(w), shorten(g)))
    }
}

/// `HEX()` text without its trailing `00` bytes.
pub fn strip_zero_bytes(h: &str) -> &str {
    let mut h = h;
    while let Some(rest) = h.strip_suffix("00") {
        if rest.len() % 2 != 0 {
            break;
        }
        h = rest;
    }
    h
}

fn shorten(s: &str) -> String {
    if s.len() > 120 {
        format!(
            "{}...({} chars)",
            &s[..s.char_indices().nth(100).map_or(s.len(), |(i, _)| i)],
            s.len()
        )
    } else {
        s.to_string()
    }
}

/// JSON equality where numbers compare by value (`1e300` vs `1.0e300`, `2.5` vs `2.50`).
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        // Integers exactly; as soon as one side is a float, by f64 value.
        (J::Number(x), J::Number(y)) if x.is_f64() || y.is_f64() => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

async fn root(addr: &str, server: Server) -> Connection {
    match server {
        Server::Mariadb => {
            client_support::root(
                addr,
                "CANAL_TEST_MARIADB_SOCKET",
                "/tmp/canal-mariadb/run/mysqld.sock",
            )
            .await
        }
        Server::Mysql9 => {
            client_support::root(
                addr,
                "CANAL_TEST_MYSQL9_SOCKET",
                "/var/cache/canal-rs/sid-chroot/run/canal-mysql9/mysqld.sock",
            )
            .await
        }
    }
}

/// Creates the table, inserts the rows, streams them back and compares every cell.
pub async fn run_matrix(addr: &str, server: Server) {
    let mut r = root(addr, server).await;
    let cols = columns(server);
    let table = unique("tm");
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("`{}` {}", c.name, c.ddl))
        .collect();
    exec(
        &mut r,
        &[
            "SET SESSION sql_mode = ''",
            "SET SESSION time_zone = '+00:00'",
            &format!(
                "CREATE TABLE test.{table} (id INT PRIMARY KEY, {}) DEFAULT CHARSET=utf8mb4",
                defs.join(", ")
            ),
        ],
    )
    .await;
    let nrows = 1 + cols.iter().map(|c| c.values.len()).max().unwrap_or(0);
    let st = binlog_status(&mut r).await.expect("binlog status");
    // Row 1: all NULL; row k+2: the k-th value of each column (NULL past a column's list).
    let mut stmts = vec!["BEGIN".to_string()];
    for k in 0..nrows {
        let vals: Vec<&str> = cols
            .iter()
            .map(|c| match k.checked_sub(1) {
                Some(i) => c.values.get(i).map_or("NULL", |v| v.as_str()),
                None => "NULL",
            })
            .collect();
        let names: Vec<String> = cols.iter().map(|c| format!("`{}`", c.name)).collect();
        stmts.push(format!(
            "INSERT INTO test.{table} (id, {}) VALUES ({}, {})",
            names.join(", "),
            k + 1,
            vals.join(", ")
        ));
    }
    stmts.push("COMMIT".into());
    for s in &stmts {
        if let Err(e) = r.query(s).await {
            panic!("`{}` failed: {e}", shorten(s));
        }
    }

    // Expected: the server's own answer.
    let exprs: Vec<String> = cols.iter().map(|c| select_expr(c, server)).collect();
    let sel = r
        .query(&format!(
            "SELECT id, {} FROM test.{table} ORDER BY id",
            exprs.join(", ")
        ))
        .await
        .expect("select");
    assert_eq!(sel.rows.len(), nrows);
    // The same rows again as update before/after images and delete images.
    exec(
        &mut r,
        &[
            &format!("UPDATE test.{table} SET id = id + {ID_SHIFT}"),
            &format!("DELETE FROM test.{table}"),
        ],
    )
    .await;

    // Decoded: stream from the position before the inserts.
    let decoded = stream_rows(addr, server, &st.file, st.position, &table, &cols, nrows).await;

    let mut failures = Vec::new();
    let mut compared = 0usize;
    for (image, row) in IMAGES
        .iter()
        .flat_map(|i| sel.rows.iter().map(move |r| (*i, r)))
    {
        let id: u32 = row[0].as_deref().and_then(|s| s.parse().ok()).expect("id");
        let Some(got) = decoded.get(&(image, id)) else {
            failures.push(format!("row {id} {image:?}: not in the binlog stream"));
            continue;
        };
        for (i, c) in cols.iter().enumerate() {
            compared += 1;
            let lit = id
                .checked_sub(2)
                .and_then(|k| c.values.get(k as usize))
                .map_or("NULL", |s| s.as_str());
            if std::env::var_os("TYPE_MATRIX_TRACE").is_some() {
                eprintln!(
                    "{server:?} row {id} {image:?} {}: server {:?} decoded {:?}",
                    c.name,
                    row[i + 1].as_deref().map(shorten),
                    got[i].as_deref().map(shorten)
                );
            }
            if let Err(e) = compare(c.kind, row[i + 1].as_deref(), got[i].as_deref()) {
                failures.push(format!(
                    "row {id} {image:?} column {} {} (inserted {}): {e}",
                    c.name,
                    c.ddl,
                    shorten(lit)
                ));
            }
        }
    }
    eprintln!(
        "{server:?}: {compared} cells in {} rows x {} images x {} columns compared, {} mismatches",
        sel.rows.len(),
        IMAGES.len(),
        cols.len(),
        failures.len()
    );
    if server == Server::Mariadb {
        let n = mysqlbinlog_check(
            &mut r,
            &st.file,
            st.position,
            &table,
            &cols,
            &decoded,
            &mut failures,
        )
        .await;
        eprintln!("{server:?}: {n} values also compared with mariadb-binlog -vv");
    }
    exec(&mut r, &[&format!("DROP TABLE test.{table}")]).await;
    assert!(
        failures.is_empty(),
        "{server:?} type matrix:\n{}",
        failures.join("\n")
    );
}

/// Added to every id by the UPDATE.
const ID_SHIFT: u32 = 1000;

/// Which row image a decoded row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Image {
    /// WRITE_ROWS.
    Insert,
    /// UPDATE_ROWS before image.
    UpdateBefore,
    /// UPDATE_ROWS after image (id shifted back by [`ID_SHIFT`]).
    UpdateAfter,
    /// DELETE_ROWS (id shifted back by [`ID_SHIFT`]).
    Delete,
}

const IMAGES: [Image; 4] = [
    Image::Insert,
    Image::UpdateBefore,
    Image::UpdateAfter,
    Image::Delete,
];

/// Decoded rows: (image, original id) → rendered column values (in `cols` order).
pub type Decoded = BTreeMap<(Image, u32), Vec<Option<String>>>;

/// Dumps from `file:pos` with the replica client and decodes the WRITE, UPDATE and DELETE
/// rows of `table`.
async fn stream_rows(
    addr: &str,
    server: Server,
    file: &str,
    pos: u64,
    table: &str,
    cols: &[Col],
    nrows: usize,
) -> Decoded {
    let conn = Connection::connect(&opts(addr, "canal", "canal"))
        .await
        .expect("canal login");
    let server_id =
        30_000 + std::process::id() % 10_000 + if server == Server::Mysql9 { 10_000 } else { 0 };
    let ropts = ReplicaOptions {
        server_id,
        heartbeat_period: Duration::from_secs(1),
        read_timeout: Duration::from_secs(10),
        register: true,
    };
    let start = StartPosition::FilePos {
        file: file.to_string(),
        pos,
    };
    let mut s = start_dump(conn, &ropts, &start).await.expect("dump starts");
    let mut dec = EventDecoder::new();
    dec.set_checksum(s.checksum());
    let mut out = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < IMAGES.len() * nrows {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = tokio::time::timeout(left, s.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out: {} of {nrows} rows seen", out.len()))
            .expect("binlog stream error");
        let e = dec.decode(ev.offset, &ev.data).expect("decode");
        if let EventBody::TransactionPayload(p) = &e.body {
            let inner: Vec<Event<'_>> = dec
                .payload_events(ev.offset, p)
                .collect::<Result<_, _>>()
                .expect("payload");
            for i in &inner {
                collect(i, table, cols, &mut out);
            }
        } else {
            collect(&e, table, cols, &mut out);
        }
    }
    s.close().await.expect("close");
    out
}

fn collect(e: &Event<'_>, table: &str, cols: &[Col], out: &mut Decoded) {
    let EventBody::Rows(re) = &e.body else { return };
    let Some(tm) = re.table.as_ref() else { return };
    if tm.schema != "test" || tm.table != table {
        return;
    }
    assert_eq!(tm.columns.len(), cols.len() + 1, "TABLE_MAP column count");
    let mut put = |image: Image, shift: u32, img: Option<Vec<Option<Value<'_>>>>| {
        let img = img.unwrap_or_else(|| panic!("{image:?} image missing"));
        let id = match img.first() {
            Some(Some(Value::Int { value, .. })) => *value as u32 - shift,
            other => panic!("id column decoded as {other:?}"),
        };
        let vals = cols
            .iter()
            .zip(&img[1..])
            .map(|(c, v)| match v {
                Some(v) => render(v, c.kind),
                None => Some("column missing from the row image".into()),
            })
            .collect();
        out.insert((image, id), vals);
    };
    for row in re.rows() {
        let row = row.expect("row decodes");
        match re.kind {
            RowsKind::Write => put(Image::Insert, 0, row.after),
            RowsKind::Update => {
                put(Image::UpdateBefore, 0, row.before);
                put(Image::UpdateAfter, ID_SHIFT, row.after);
            }
            RowsKind::Delete => put(Image::Delete, ID_SHIFT, row.before),
            RowsKind::PartialUpdate => panic!("unexpected PARTIAL_UPDATE_ROWS"),
        }
    }
}

/// Secondary check on MariaDB: `mariadb-binlog -vv` of the inserts. Three values are checked
/// against hand-written text; then, for rows 2-6, every integer, DECIMAL, BIT, TIME, DATETIME
/// and TIMESTAMP value it prints is compared with our decoded value (its own rendering:
/// integers signed with the unsigned reading in parentheses, BIT as `b'...'`, temporal values
/// quoted, TIMESTAMP as epoch seconds). Skipped with a note when the tool or the datadir is
/// unavailable. Returns the number of values compared.
async fn mysqlbinlog_check(
    r: &mut Connection,
    file: &str,
    pos: u64,
    table: &str,
    cols: &[Col],
    decoded: &Decoded,
    failures: &mut Vec<String>,
) -> usize {
    let Ok(q) = r.query("SELECT @@datadir").await else {
        return 0;
    };
    let Some(dir) = q.rows.first().and_then(|row| row[0].clone()) else {
        return 0;
    };
    let path = std::path::Path::new(&dir).join(file);
    let out = std::process::Command::new("mariadb-binlog")
        .args(["--no-defaults", "-vv", "--base64-output=DECODE-ROWS"])
        .arg(format!("--start-position={pos}"))
        .arg(&path)
        .output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            eprintln!(
                "note: mariadb-binlog on {} unavailable; secondary check skipped",
                path.display()
            );
            return 0;
        }
    };
    let row_text = |id: u32| -> &str {
        let head = format!("INSERT INTO `test`.`{table}`\n### SET\n###   @1={id} ");
        let start = text
            .find(&head)
            .unwrap_or_else(|| panic!("mariadb-binlog output lacks row {id} of {table}"));
        &text[start + head.len() - format!("###   @1={id} ").len()..]
    };
    if !text.contains(&format!("INSERT INTO `test`.`{table}`")) {
        // Another session rotated the binlog between the position and the inserts.
        eprintln!("note: the inserts are not in {file}; secondary check skipped");
        return 0;
    }
    // Row 3 (the max values): @2 = ti, @3 = tiu, @11 = biu.
    let row3 = row_text(3);
    for needle in [
        "###   @2=127 /* TINYINT meta=0 nullable=1 is_null=0 */",
        "###   @3=-1 (255) /* TINYINT meta=0 nullable=1 is_null=0 */",
        "###   @11=-1 (18446744073709551615) /* LONGINT meta=0 nullable=1 is_null=0 */",
    ] {
        assert!(row3.contains(needle), "mariadb-binlog -vv lacks {needle:?}");
    }
    let mut n = 0;
    for id in 2..=6u32 {
        let Some(got) = decoded.get(&(Image::Insert, id)) else {
            continue;
        };
        for line in row_text(id)
            .lines()
            .take_while(|l| l.starts_with("###   @"))
        {
            let Some((at, rest)) = line["###   @".len()..].split_once('=') else {
                continue;
            };
            let Some(i) = at.parse::<usize>().ok().and_then(|a| a.checked_sub(2)) else {
                continue;
            };
            let (Some(c), Some(Some(ours))) = (cols.get(i), got.get(i)) else {
                continue;
            };
            let value = rest.split(" /* ").next().unwrap_or("").trim_end();
            let theirs = match c.kind {
                Kind::Int { unsigned, .. } => match value.split_once(" (") {
                    Some((_, u)) if unsigned => u.trim_end_matches(')').to_string(),
                    Some((v, _)) => v.to_string(),
                    None => value.to_string(),
                },
                Kind::Decimal | Kind::Timestamp => value.to_string(),
                Kind::Time | Kind::DateTime => value.trim_matches('\'').to_string(),
                Kind::Bit => {
                    let b = value.trim_start_matches("b'").trim_end_matches('\'');
                    match u64::from_str_radix(b, 2) {
                        Ok(v) => v.to_string(),
                        Err(_) => format!("unparsable {value}"),
                    }
                }
                _ => continue,
            };
            n += 1;
            if &theirs != ours {
                failures.push(format!(
                    "row {id} column {} {}: mariadb-binlog -vv {theirs:?}, decoded {ours:?}",
                    c.name, c.ddl
                ));
            }
        }
    }
    n
}
