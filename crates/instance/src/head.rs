//! How far the destination is behind its source, in binlog bytes
//! (`canal_rs_binlog_behind_bytes{destination}`, a canal-rs metric; Canal has none).
//!
//! A small periodic task per running destination asks the source where its binlog ends
//! (`SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` on MySQL >= 8.4, through
//! `canal_binlog::client::position`) on its own connection, separate from the dump connection,
//! and compares it with the parser's progress: the last transaction end the parser handed to
//! the sink. The log position manager holds that point as Canal does, as the *start* offset of
//! the transaction-end event (XID / COMMIT); `SHOW BINLOG EVENTS IN '<file>' FROM <offset>
//! LIMIT 1` turns it into the event's end (`End_log_pos`), so a caught-up destination reads 0
//! (without that statement, e.g. a missing privilege, the start offset is used and the gauge
//! stays one event above 0). When that point is in an older file than the head,
//! `SHOW BINARY LOGS` supplies the file sizes in between.
//!
//! `behind = head - parsed` within one file, else `(size(parsed file) - parsed offset) + sizes
//! of the files in between + head offset`. It is 0 once the parser has passed the last
//! transaction on the source; events written after the last transaction end (e.g. a trailing
//! DDL, or a rotation) keep it above 0 until the next transaction.
//!
//! Failures (connection refused, purged file, no parsed position yet) only log at debug level
//! and count `canal_rs_errors_total{kind="head_poll"}` (none for "no position yet"); the gauge
//! keeps its last value and nothing else is affected. The task ends when the
//! [`HeadPoller`] is dropped.

use std::sync::Arc;
use std::time::Duration;

use canal_binlog::client::conn::{ConnectOptions, Connection};
use canal_binlog::client::position::{binary_logs, binlog_status, BinlogFile};
use canal_binlog::client::ClientError;
use canal_meta::log_position::LogPositionManager;
use canal_telemetry::InstanceMetrics;

/// Default poll period.
pub const HEAD_POLL_PERIOD: Duration = Duration::from_secs(3);

/// Label of `canal_rs_errors_total{kind}` for a failed poll.
pub const HEAD_POLL_ERROR_KIND: &str = "head_poll";

/// The running poll task of one destination; dropping it stops the task.
#[derive(Debug)]
pub struct HeadPoller {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for HeadPoller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bytes between the parsed position and the source head; `logs` (`SHOW BINARY LOGS`,
/// oldest first) is only consulted when the files differ. `None` when the files cannot be
/// placed (parsed file purged, or head file not listed yet).
pub fn behind_bytes(parsed: (&str, u64), head: (&str, u64), logs: &[BinlogFile]) -> Option<u64> {
    if parsed.0 == head.0 {
        return Some(head.1.saturating_sub(parsed.1));
    }
    let pi = logs.iter().position(|f| f.name == parsed.0)?;
    let hi = logs.iter().position(|f| f.name == head.0)?;
    if pi > hi {
        // The parser is in a newer file than the (older) head answer: caught up.
        return Some(0);
    }
    let mut n = logs[pi].size.saturating_sub(parsed.1);
    for f in &logs[pi + 1..hi] {
        n = n.saturating_add(f.size);
    }
    Some(n.saturating_add(head.1))
}

/// The parser's restart point (file, offset), if it has one.
fn parsed_position(
    positions: &dyn LogPositionManager,
    destination: &str,
) -> Result<Option<(String, u64)>, String> {
    let p = positions
        .get_latest_index_by(destination)
        .map_err(|e| e.to_string())?;
    Ok(p.and_then(|p| {
        let file = p.postion.journal_name?;
        let pos = u64::try_from(p.postion.position?).ok()?;
        (!file.is_empty()).then_some((file, pos))
    }))
}

/// Whether `file` is safe to put in quotes in a statement (binlog base names are).
fn plain_file_name(file: &str) -> bool {
    !file.is_empty()
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// End offset of the event starting at `file:pos` (`None` when the source does not tell).
async fn event_end(c: &mut Connection, file: &str, pos: u64) -> Result<Option<u64>, ClientError> {
    if !plain_file_name(file) {
        return Ok(None);
    }
    let r = c
        .query(&format!(
            "SHOW BINLOG EVENTS IN '{file}' FROM {pos} LIMIT 1"
        ))
        .await?;
    if r.get(0, "Pos").and_then(|p| p.parse::<u64>().ok()) != Some(pos) {
        return Ok(None);
    }
    Ok(r.get(0, "End_log_pos")
        .and_then(|p| p.parse::<u64>().ok())
        .filter(|end| *end > pos))
}

async fn poll_once(
    conn: &mut Option<Connection>,
    opts: &ConnectOptions,
    parsed: (&str, u64),
) -> Result<Option<u64>, ClientError> {
    if conn.is_none() {
        *conn = Some(Connection::connect(opts).await?);
    }
    let Some(c) = conn.as_mut() else {
        return Ok(None);
    };
    // A failed lookup (privilege, purged file) falls back to the start offset.
    let end = event_end(c, parsed.0, parsed.1).await.ok().flatten();
    let parsed = (parsed.0, end.unwrap_or(parsed.1));
    let head = binlog_status(c).await?;
    let logs = if head.file == parsed.0 {
        Vec::new()
    } else {
        binary_logs(c).await?
    };
    Ok(behind_bytes(parsed, (&head.file, head.position), &logs))
}

impl HeadPoller {
    /// Starts polling every `period` for `destination` (needs a tokio runtime). The first
    /// poll runs after one period, when the parser has had time to find its start.
    pub fn spawn(
        destination: String,
        opts: ConnectOptions,
        positions: Arc<dyn LogPositionManager>,
        metrics: InstanceMetrics,
        period: Duration,
    ) -> HeadPoller {
        let task = tokio::spawn(async move {
            let mut conn: Option<Connection> = None;
            let mut tick = tokio::time::interval(period.max(Duration::from_millis(100)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let parsed = match parsed_position(positions.as_ref(), &destination) {
                    Ok(Some(p)) => p,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::debug!(destination = %destination, error = %e, "head poll: no parsed position");
                        metrics.error(HEAD_POLL_ERROR_KIND);
                        continue;
                    }
                };
                match poll_once(&mut conn, &opts, (&parsed.0, parsed.1)).await {
                    Ok(Some(n)) => metrics.source_gap_bytes(Some(n)),
                    Ok(None) => {
                        tracing::debug!(destination = %destination, file = %parsed.0, "head poll: parsed file not among SHOW BINARY LOGS");
                        metrics.error(HEAD_POLL_ERROR_KIND);
                    }
                    Err(e) => {
                        tracing::debug!(destination = %destination, error = %e, "head poll failed");
                        metrics.error(HEAD_POLL_ERROR_KIND);
                        if let Some(c) = conn.take() {
                            let _ = c.quit().await;
                        }
                    }
                }
            }
        });
        HeadPoller { task }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, size: u64) -> BinlogFile {
        BinlogFile {
            name: name.into(),
            size,
        }
    }

    #[test]
    fn same_file_and_across_files() {
        assert_eq!(behind_bytes(("b.1", 100), ("b.1", 350), &[]), Some(250));
        assert_eq!(behind_bytes(("b.1", 400), ("b.1", 350), &[]), Some(0));
        let logs = [f("b.1", 1000), f("b.2", 500), f("b.3", 700), f("b.4", 90)];
        // rest of b.2 (300) + b.3 (700) + 60 of b.4
        assert_eq!(behind_bytes(("b.2", 200), ("b.4", 60), &logs), Some(1060));
        // adjacent files
        assert_eq!(behind_bytes(("b.3", 700), ("b.4", 4), &logs), Some(4));
        // parser already in a newer file than the head answer
        assert_eq!(behind_bytes(("b.4", 10), ("b.3", 700), &logs), Some(0));
        // purged / unknown files
        assert_eq!(behind_bytes(("b.0", 10), ("b.4", 60), &logs), None);
        assert_eq!(behind_bytes(("b.2", 10), ("b.9", 60), &logs), None);
    }
}
