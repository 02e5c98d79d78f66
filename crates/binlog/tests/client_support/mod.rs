//! Shared helpers of the live replica-client tests (client_*.rs).
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use canal_binlog::client::{ConnectOptions, Connection};

/// The server address from `var`, or `None` (after a note) when unset; fails under CI.
pub fn live_addr(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{var} is not set but CI is: the live server tests must run in CI");
            }
            eprintln!(
                "note: {var} not set; skipping live test (run scripts/start-*.sh and export it)"
            );
            None
        }
    }
}

/// Options for `addr` as `user`/`password`.
pub fn opts(addr: &str, user: &str, password: &str) -> ConnectOptions {
    let mut o = ConnectOptions::from_addr(addr, user, password).expect("address");
    o.connect_timeout = Duration::from_secs(10);
    o.read_timeout = Duration::from_secs(20);
    o
}

/// Root over the Unix socket named by `socket_var` (or `default`).
pub async fn root(addr: &str, socket_var: &str, default: &str) -> Connection {
    let mut o = opts(addr, "root", "");
    o.socket = Some(PathBuf::from(
        std::env::var(socket_var).unwrap_or_else(|_| default.to_string()),
    ));
    Connection::connect(&o)
        .await
        .expect("root via the Unix socket")
}

/// Runs statements, panicking with the statement on failure.
pub async fn exec(conn: &mut Connection, sqls: &[&str]) {
    for sql in sqls {
        if let Err(e) = conn.query(sql).await {
            panic!("`{sql}` failed: {e}");
        }
    }
}

/// A name unique to this process and test, for tables and users.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{}", std::process::id(), nanos % 100_000)
}
