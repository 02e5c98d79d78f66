//! Where the source is now (`show master status` / `show binary log status`, `SHOW BINARY LOGS`,
//! `server_id`) and the timestamp → position search of Canal (compat §5.2).

use std::sync::Arc;
use std::time::Duration;

use super::conn::{ConnectOptions, Connection, Flavor};
use super::error::ClientError;
use super::replica::{parse_query_sql, start_dump, ReplicaOptions, StartPosition};
use crate::event::types;

/// The source's current binlog end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogStatus {
    /// Current binlog file.
    pub file: String,
    /// Offset where the next event will be written.
    pub position: u64,
    /// MySQL `Executed_Gtid_Set` or MariaDB `@@global.gtid_binlog_pos` (empty when none).
    pub gtid_set: String,
}

/// One row of `SHOW BINARY LOGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogFile {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// A found position (Canal's EntryPosition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPosition {
    /// Binlog file.
    pub file: String,
    /// Offset (end offset of the transaction boundary event).
    pub position: u64,
    /// Event timestamp in milliseconds.
    pub timestamp_ms: i64,
    /// Server id of the event.
    pub server_id: u32,
    /// GTID of the transaction when known.
    pub gtid: Option<String>,
}

fn missing(conn: &Connection, what: &str) -> ClientError {
    ClientError::Protocol {
        addr: conn.addr().to_string(),
        message: format!("unexpected empty result of {what}"),
    }
}

/// True when the server wants `SHOW BINARY LOG STATUS` (MySQL 8.4 and later).
fn uses_binary_log_status(conn: &Connection) -> bool {
    let i = conn.server_info();
    i.flavor == Flavor::Mysql && i.version_tuple >= (8, 4, 0)
}

/// `show master status` (MariaDB, MySQL < 8.4) or `show binary log status` (MySQL ≥ 8.4), plus
/// `SELECT @@global.gtid_binlog_pos` on MariaDB.
pub async fn binlog_status(conn: &mut Connection) -> Result<BinlogStatus, ClientError> {
    let sql = if uses_binary_log_status(conn) {
        "show binary log status"
    } else {
        "show master status"
    };
    let r = conn.query(sql).await?;
    let file = r.get(0, "File").ok_or_else(|| {
        if r.rows.is_empty() {
            ClientError::BinlogDisabled {
                addr: conn.addr().to_string(),
            }
        } else {
            missing(conn, sql)
        }
    })?;
    let file = file.to_string();
    let position = r
        .get(0, "Position")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| missing(conn, sql))?;
    let mut gtid_set = r
        .get(0, "Executed_Gtid_Set")
        .unwrap_or_default()
        .replace('\n', "");
    if conn.server_info().flavor == Flavor::Mariadb {
        let g = conn.query("SELECT @@global.gtid_binlog_pos").await?;
        gtid_set = g
            .rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default();
    }
    Ok(BinlogStatus {
        file,
        position,
        gtid_set,
    })
}

/// `SHOW BINARY LOGS`, oldest first.
pub async fn binary_logs(conn: &mut Connection) -> Result<Vec<BinlogFile>, ClientError> {
    let r = conn.query("SHOW BINARY LOGS").await?;
    let mut out = Vec::with_capacity(r.rows.len());
    for i in 0..r.rows.len() {
        let name = r
            .get(i, "Log_name")
            .ok_or_else(|| missing(conn, "SHOW BINARY LOGS"))?;
        let size = r
            .get(i, "File_size")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        out.push(BinlogFile {
            name: name.to_string(),
            size,
        });
    }
    Ok(out)
}

/// A server variable through `show variables like '<name>'` (`None` when unknown).
pub async fn variable(conn: &mut Connection, name: &str) -> Result<Option<String>, ClientError> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ClientError::InvalidArgument(format!(
            "bad variable name {name:?}"
        )));
    }
    let r = conn.query(&format!("show variables like '{name}'")).await?;
    Ok(r.rows.first().and_then(|row| row.get(1).cloned().flatten()))
}

/// The source's `server_id`.
pub async fn server_id(conn: &mut Connection) -> Result<u32, ClientError> {
    let v = variable(conn, "server_id").await?.unwrap_or_default();
    v.parse().map_err(|_| ClientError::Protocol {
        addr: conn.addr().to_string(),
        message: format!("server_id {v:?} is not a number"),
    })
}

/// What the pre-flight check accepts.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// Allowed `binlog_format` values (Canal's `canal.instance.binlog.format`); default ROW only.
    pub formats: Vec<String>,
    /// Allowed `binlog_row_image` values (`canal.instance.binlog.image`); default all three.
    pub row_images: Vec<String>,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        PreflightOptions {
            formats: vec!["ROW".into()],
            row_images: vec!["FULL".into(), "MINIMAL".into(), "NOBLOB".into()],
        }
    }
}

/// Checks that the source can feed a ROW-based replica and that the account may read the
/// binlog position: `log_bin`, `binlog_format`, `binlog_row_image`, then the status query (needs
/// REPLICATION CLIENT / BINLOG MONITOR). Missing REPLICATION SLAVE surfaces when the dump starts.
pub async fn preflight(
    conn: &mut Connection,
    opts: &PreflightOptions,
) -> Result<BinlogStatus, ClientError> {
    let addr = conn.addr().to_string();
    if let Some(v) = variable(conn, "log_bin").await? {
        if v.eq_ignore_ascii_case("OFF") || v == "0" {
            return Err(ClientError::BinlogDisabled { addr });
        }
    }
    for (var, allowed) in [
        ("binlog_format", &opts.formats),
        ("binlog_row_image", &opts.row_images),
    ] {
        if let Some(v) = variable(conn, var).await? {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&v)) {
                return Err(ClientError::BadBinlogSetting {
                    addr,
                    variable: var,
                    actual: v,
                    allowed: allowed.join(","),
                });
            }
        }
    }
    match binlog_status(conn).await {
        Err(ClientError::Server { server, .. })
            if server.code == super::error::codes::ACCESS_DENIED =>
        {
            Err(ClientError::MissingPrivilege {
                user: conn.options().user.clone(),
                what: "reading the binlog position".into(),
                server,
            })
        }
        other => other,
    }
}

/// Canal's timestamp search (compat §5.2): scan binlog files newest first from offset 4 and
/// return the last transaction boundary (BEGIN end / COMMIT or XID end) whose timestamp is before
/// `timestamp_ms`. Each file scan uses a fresh dump connection without COM_REGISTER_SLAVE.
/// `PositionNotFound` when no file has such a boundary.
pub async fn find_by_timestamp(
    conn_opts: &ConnectOptions,
    replica: &ReplicaOptions,
    timestamp_ms: i64,
) -> Result<FoundPosition, ClientError> {
    let mut meta = Connection::connect(conn_opts).await?;
    let end = binlog_status(&mut meta).await?;
    let files = binary_logs(&mut meta).await?;
    let _ = meta.quit().await;
    let newest = files
        .iter()
        .position(|f| f.name == end.file)
        .unwrap_or(files.len().saturating_sub(1));
    let mut scan_opts = replica.clone();
    scan_opts.register = false;
    scan_opts.heartbeat_period = Duration::from_secs(1);
    scan_opts.read_timeout = Duration::from_secs(10);
    for f in files.iter().take(newest + 1).rev() {
        match scan_file(conn_opts, &scan_opts, &f.name, &end, timestamp_ms).await {
            Ok(Some(p)) => return Ok(p),
            Ok(None) => {}
            Err(e) if e.is_transient() || e.is_purged() => {
                tracing::warn!(file = %f.name, error = %e, "timestamp search: file skipped");
            }
            Err(e) => return Err(e),
        }
    }
    Err(ClientError::PositionNotFound(format!(
        "no transaction boundary before timestamp {timestamp_ms} ms in {} binlog file(s)",
        newest + 1
    )))
}

async fn scan_file(
    conn_opts: &ConnectOptions,
    opts: &ReplicaOptions,
    file: &str,
    end: &BinlogStatus,
    timestamp_ms: i64,
) -> Result<Option<FoundPosition>, ClientError> {
    let conn = Connection::connect(conn_opts).await?;
    let mut stream = start_dump(
        conn,
        opts,
        &StartPosition::FilePos {
            file: file.to_string(),
            pos: 4,
        },
    )
    .await?;
    let file: Arc<str> = Arc::from(file);
    let mut found = None;
    loop {
        let ev = stream.next_event().await?;
        if ev.is_heartbeat() {
            break; // caught up with the end of the binlog
        }
        if ev.file != file {
            break; // rotated into the next file
        }
        let ts_ms = i64::from(ev.header.timestamp) * 1000;
        if ts_ms >= timestamp_ms {
            break;
        }
        if *ev.file == *end.file && !ev.artificial && end.position <= ev.next_offset {
            // The event ending at or after the end position is not taken (Canal's rule).
            break;
        }
        let boundary = match ev.event_type() {
            types::XID => true,
            // Canal's rule: the statement text *ends with* BEGIN / COMMIT, no trimming.
            types::QUERY => parse_query_sql(ev.body()).is_some_and(|sql| {
                ends_with_ignore_case(sql, b"BEGIN") || ends_with_ignore_case(sql, b"COMMIT")
            }),
            _ => false,
        };
        if boundary && !ev.artificial {
            found = Some(FoundPosition {
                file: ev.file.to_string(),
                position: ev.next_offset,
                timestamp_ms: ts_ms,
                server_id: ev.header.server_id,
                gtid: ev.gtid.as_deref().map(str::to_string),
            });
        }
    }
    let _ = stream.close().await;
    Ok(found)
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_match() {
        assert!(ends_with_ignore_case(b"begin", b"BEGIN"));
        assert!(ends_with_ignore_case(b"XA COMMIT", b"COMMIT"));
        assert!(!ends_with_ignore_case(b"GIN", b"BEGIN"));
    }
}
