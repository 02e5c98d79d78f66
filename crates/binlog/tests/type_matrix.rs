//! Type matrix, live: a table with every column type, rows of edge values (NULL, min/max signed
//! and unsigned, zero dates, negative TIME, fractional seconds 0-6, 4-byte utf8mb4, nested and
//! large JSON with opaque scalars, BIT(64), empty and full SET, GEOMETRY, MariaDB INET4/INET6/
//! UUID, MySQL VECTOR) written on the sandbox MariaDB 10.11 (CANAL_TEST_MARIADB) and the sandbox
//! MySQL 9.7 (CANAL_TEST_MYSQL9), streamed through our replica client
//! (`canal_binlog::client::start_dump`), decoded with `canal_binlog::EventDecoder` and the rows
//! API, and every decoded value compared with what the server itself answers to a `SELECT` of
//! the same row — in the WRITE image, in both images of an UPDATE of every row (id shifted) and
//! in the DELETE image.
//!
//! The expected side is always the server's text: each column is selected through an
//! expression that makes the comparison unambiguous (`HEX(col)` for bytes, `CAST(col AS CHAR)`
//! for temporal values, `UNIX_TIMESTAMP(col)` for TIMESTAMP, `col+0` for BIT/YEAR/ENUM, `col|0`
//! for SET, the plain text for integers and DECIMAL, JSON text parsed into `serde_json::Value`).
//! The decoded side is turned into the same text by the small helpers in `type_matrix_support`.
//! On MariaDB `mariadb-binlog -vv` (when installed and the datadir is readable) is a secondary
//! check of the integer, DECIMAL, BIT and temporal values of five rows.
//! `TYPE_MATRIX_TRACE=1` prints every compared cell.

mod client_support;
mod type_matrix_support;

use type_matrix_support::{run_matrix, Server};

#[tokio::test]
async fn type_matrix_mariadb() {
    let Some(addr) = client_support::live_addr("CANAL_TEST_MARIADB") else {
        return;
    };
    run_matrix(&addr, Server::Mariadb).await;
}

#[tokio::test]
async fn type_matrix_mysql9() {
    let Some(addr) = client_support::live_addr("CANAL_TEST_MYSQL9") else {
        return;
    };
    run_matrix(&addr, Server::Mysql9).await;
}

/// The comparison helpers themselves (no server needed): expected values from RFC 4648 and
/// from how MySQL prints values, so a helper that accepts anything cannot hide a decoder bug.
#[test]
fn helpers_reject_what_differs() {
    use canal_binlog::value::Value;
    use type_matrix_support::{base64, compare, hex, render, strip_zero_bytes, Kind};
    for (plain, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), enc);
    }
    assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00AB7F");
    assert_eq!(strip_zero_bytes("61620000"), "6162");
    assert_eq!(strip_zero_bytes("01000000"), "01");
    assert_eq!(strip_zero_bytes("00000000"), "");
    assert_eq!(strip_zero_bytes("0A00"), "0A");
    // BINARY(4): only the exactly stripped value matches.
    assert!(compare(Kind::Binary(4), Some("61620000"), Some("6162")).is_ok());
    assert!(compare(Kind::Binary(4), Some("61620000"), Some("616200")).is_err());
    assert!(compare(Kind::Binary(4), Some("61620000"), Some("61620001")).is_err());
    // FLOAT: the server's 6 significant digits of the same f32, nothing else.
    assert!(compare(
        Kind::Float,
        Some("3.40282e38"),
        Some(&3.40282e38f32.to_string())
    )
    .is_ok());
    assert!(compare(Kind::Float, Some("1.23457"), Some(&1.2346f32.to_string())).is_err());
    assert!(compare(Kind::Double, Some("0.1"), Some("0.1")).is_ok());
    assert!(compare(Kind::Double, Some("0.1"), Some("0.10000000000000002")).is_err());
    // JSON: member order is free, values are not; an integer is not a different integer.
    assert!(compare(
        Kind::Json,
        Some(r#"{"a": 1, "b": [2.5]}"#),
        Some(r#"{"b":[2.5],"a":1}"#)
    )
    .is_ok());
    assert!(compare(Kind::Json, Some(r#"{"a": 1}"#), Some(r#"{"a": 2}"#)).is_err());
    assert!(compare(
        Kind::Json,
        Some("18446744073709551615"),
        Some("18446744073709551614")
    )
    .is_err());
    assert!(compare(Kind::Json, Some("1.50"), Some("1.5")).is_ok());
    // NULL only matches NULL.
    assert!(compare(Kind::Bytes, None, Some("")).is_err());
    // Unsigned reinterpretation per stored width; a wrong variant never renders as server text.
    let int = |value, width| Value::Int { value, width };
    let u = |w| Kind::Int {
        unsigned: true,
        width: w,
    };
    assert_eq!(render(&int(-1, 1), u(1)).as_deref(), Some("255"));
    assert_eq!(render(&int(-8388608, 3), u(3)).as_deref(), Some("8388608"));
    assert_eq!(
        render(&int(-1, 8), u(8)).as_deref(),
        Some("18446744073709551615")
    );
    assert_eq!(
        render(
            &int(-1, 8),
            Kind::Int {
                unsigned: false,
                width: 8
            }
        )
        .as_deref(),
        Some("-1")
    );
    assert!(render(&int(1, 4), u(8)).is_some_and(|s| s != "1"));
    assert!(render(&Value::Year(2024), Kind::Date).is_some_and(|s| s.starts_with("unexpected")));
    let t = Value::Time2 {
        negative: true,
        hours: 0,
        minutes: 0,
        seconds: 0,
        micros: 100_000,
        fsp: 3,
    };
    assert_eq!(render(&t, Kind::Time).as_deref(), Some("-00:00:00.100"));
}
