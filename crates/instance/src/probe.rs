//! [`SourceProbe`] over `canal_binlog::client`: `show master status`, `server_id`, and the
//! timestamp searches of entry-conversion.md §5.2.

use std::sync::Arc;
use std::time::Duration;

use canal_binlog::client::conn::{ConnectOptions, Connection};
use canal_binlog::client::position::{binlog_status, find_by_timestamp, server_id, BinlogStatus};
use canal_binlog::client::replica::{start_dump, ReplicaOptions, StartPosition};
use canal_binlog::client::ClientError;
use canal_binlog::event::types;
use canal_protocol::position::EntryPosition;

use crate::error::InstanceError;
use crate::position::SourceProbe;

/// Answers the start position questions with short-lived connections to the source.
#[derive(Debug, Clone)]
pub struct ClientProbe {
    conn: ConnectOptions,
    replica: ReplicaOptions,
}

impl ClientProbe {
    /// A probe connecting with `conn`; scans present themselves as `replica` (without
    /// COM_REGISTER_SLAVE, like Java's seek mode).
    pub fn new(conn: ConnectOptions, replica: ReplicaOptions) -> Self {
        let mut replica = replica;
        replica.register = false;
        replica.heartbeat_period = Duration::from_secs(1);
        replica.read_timeout = Duration::from_secs(10);
        Self { conn, replica }
    }

    async fn status(&self) -> Result<BinlogStatus, InstanceError> {
        let mut c = Connection::connect(&self.conn).await?;
        let s = binlog_status(&mut c).await;
        let _ = c.quit().await;
        Ok(s?)
    }

    /// Java's `findAsPerTimestampInSpecificLogFile(..., justForPositionTimestamp=true)`: the
    /// last transaction boundary in `file` before `timestamp_ms` and before the event that ends
    /// at or after `end` (when `end` is in `file`); seeded with the start offset of the first
    /// event carrying a timestamp, so only an empty file yields `None`.
    async fn scan_file(
        &self,
        file: &str,
        timestamp_ms: i64,
        end: (&str, u64),
    ) -> Result<Option<EntryPosition>, InstanceError> {
        let conn = Connection::connect(&self.conn).await?;
        let start = StartPosition::FilePos {
            file: file.to_string(),
            pos: 4,
        };
        let mut stream = start_dump(conn, &self.replica, &start).await?;
        let wanted: Arc<str> = Arc::from(file);
        let mut found = None;
        loop {
            let ev = stream.next_event().await?;
            if ev.is_heartbeat() || ev.file != wanted {
                break; // caught up, or rotated into the next file
            }
            if ev.artificial {
                continue;
            }
            let ts_ms = i64::from(ev.header.timestamp) * 1000;
            if found.is_none() && ts_ms > 0 {
                found = Some(EntryPosition {
                    journal_name: Some(ev.file.to_string()),
                    position: i64::try_from(ev.offset).ok(),
                    server_id: Some(i64::from(ev.header.server_id)),
                    gtid: ev.gtid.as_deref().map(str::to_string),
                    timestamp: Some(ts_ms),
                    included: false,
                });
            }
            if ts_ms >= timestamp_ms {
                break;
            }
            if *ev.file == *end.0 && end.1 <= ev.next_offset {
                break;
            }
            let boundary = match ev.event_type() {
                types::XID => true,
                types::QUERY => query_text(ev.body()).is_some_and(|sql| {
                    ends_with_ignore_case(sql, b"BEGIN") || ends_with_ignore_case(sql, b"COMMIT")
                }),
                _ => false,
            };
            if boundary {
                found = Some(EntryPosition {
                    journal_name: Some(ev.file.to_string()),
                    position: i64::try_from(ev.next_offset).ok(),
                    server_id: Some(i64::from(ev.header.server_id)),
                    gtid: ev.gtid.as_deref().map(str::to_string),
                    timestamp: Some(ts_ms),
                    included: false,
                });
            }
        }
        let _ = stream.close().await;
        Ok(found)
    }
}

/// The statement of a QUERY event body (post-header: thread id 4, time 4, db len 1, error 2,
/// status vars len 2; then status vars, db name, NUL, statement).
fn query_text(body: &[u8]) -> Option<&[u8]> {
    let db_len = usize::from(*body.get(8)?);
    let status_len = usize::from(u16::from_le_bytes([*body.get(11)?, *body.get(12)?]));
    body.get(13 + status_len + db_len + 1..)
}

fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn to_entry(file: String, pos: u64, gtid: Option<String>) -> EntryPosition {
    EntryPosition {
        journal_name: Some(file),
        position: i64::try_from(pos).ok(),
        server_id: None,
        gtid,
        timestamp: None,
        included: false,
    }
}

impl SourceProbe for ClientProbe {
    async fn current_end(&mut self, refine: bool) -> Result<EntryPosition, InstanceError> {
        let s = self.status().await?;
        let gtid = Some(s.gtid_set.clone()).filter(|g| !g.is_empty());
        if refine {
            // Java scans the current file up to the end and takes the last transaction
            // boundary; without one it keeps the status position.
            if let Some(mut p) = self
                .scan_file(&s.file, i64::MAX, (&s.file, s.position))
                .await?
            {
                if p.gtid.is_none() {
                    p.gtid = gtid;
                }
                return Ok(p);
            }
        }
        Ok(to_entry(s.file, s.position, gtid))
    }

    async fn find_by_timestamp(
        &mut self,
        timestamp_ms: i64,
    ) -> Result<Option<EntryPosition>, InstanceError> {
        match find_by_timestamp(&self.conn, &self.replica, timestamp_ms).await {
            Ok(f) => Ok(Some(EntryPosition {
                journal_name: Some(f.file),
                position: i64::try_from(f.position).ok(),
                server_id: Some(i64::from(f.server_id)),
                gtid: f.gtid,
                timestamp: Some(f.timestamp_ms),
                included: false,
            })),
            Err(ClientError::PositionNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn find_in_file(
        &mut self,
        journal: &str,
        timestamp_ms: i64,
        bound: Option<u64>,
    ) -> Result<Option<EntryPosition>, InstanceError> {
        match bound {
            Some(pos) => self.scan_file(journal, timestamp_ms, (journal, pos)).await,
            None => {
                let end = self.status().await?;
                self.scan_file(journal, timestamp_ms, (&end.file, end.position))
                    .await
            }
        }
    }

    async fn server_id(&mut self) -> Result<i64, InstanceError> {
        let mut c = Connection::connect(&self.conn).await?;
        let id = server_id(&mut c).await;
        let _ = c.quit().await;
        Ok(i64::from(id?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_text_of_a_begin_event() {
        // thread 1, time 0, db len 4, error 0, status len 0, "test", NUL, "BEGIN"
        let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0];
        body.extend_from_slice(b"test\0BEGIN");
        assert_eq!(query_text(&body), Some(&b"BEGIN"[..]));
        assert!(query_text(&body[..5]).is_none());
        assert!(ends_with_ignore_case(b"xa commit", b"COMMIT"));
    }
}
