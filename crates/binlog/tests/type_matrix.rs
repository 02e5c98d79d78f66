//! Type matrix, live: a table with every column type, rows of edge values (NULL, min/max signed
//! and unsigned, zero dates, negative TIME, fractional seconds 0-6, 4-byte utf8mb4, nested JSON,
//! BIT(64), empty and full SET, ...) written on the sandbox MariaDB 10.11 (CANAL_TEST_MARIADB)
//! and the sandbox MySQL 9.7 (CANAL_TEST_MYSQL9), streamed through our replica client
//! (`canal_binlog::client::start_dump`), decoded with `canal_binlog::EventDecoder` and the rows API, and every decoded value
//! compared with what the server itself answers to a `SELECT` of the same row — in the WRITE
//! image, in both images of an UPDATE of every row (id shifted) and in the DELETE image.
//!
//! The expected side is always the server's text: each column is selected through an
//! expression that makes the comparison unambiguous (`HEX(col)` for bytes, `CAST(col AS CHAR)`
//! for temporal values, `UNIX_TIMESTAMP(col)` for TIMESTAMP, `col+0` for BIT/YEAR/ENUM/SET, the
//! plain text for integers and DECIMAL, JSON text parsed into `serde_json::Value`). The decoded
//! side is turned into the same text by the small helpers in `type_matrix_support`. On MariaDB
//! `mariadb-binlog -vv` (when installed and the datadir is readable) is a secondary check for a
//! few columns.

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
