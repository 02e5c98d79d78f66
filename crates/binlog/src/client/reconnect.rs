//! A dump that survives network loss: reconnects with exponential backoff on transient errors
//! and resumes from the last transaction boundary the consumer committed.

use std::time::Duration;

use super::conn::{ConnectOptions, Connection};
use super::error::ClientError;
use super::position::{preflight, PreflightOptions};
use super::replica::{start_dump, BinlogEvent, BinlogStream, ReplicaOptions, StartPosition};

/// Backoff between reconnect attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// First pause.
    pub initial: Duration,
    /// Longest pause.
    pub max: Duration,
    /// Give up after this many consecutive failed attempts (`None` = never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The pause before attempt `n` (1-based): `initial * 2^(n-1)`, capped at `max`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// What [`ReplicaClient::next`] yields.
#[derive(Debug)]
pub enum StreamItem {
    /// The next event.
    Event(BinlogEvent),
    /// The dump was re-established from `from` after `error`: events after the last committed
    /// boundary will be sent again, so partial transaction state must be discarded.
    Reconnected {
        /// Where the new dump started.
        from: StartPosition,
        /// The error that broke the previous dump.
        error: String,
        /// Failed attempts before this one succeeded.
        attempts: u32,
    },
}

/// A self-healing replica: connect, pre-flight check, dump, reconnect.
#[derive(Debug)]
pub struct ReplicaClient {
    conn: ConnectOptions,
    replica: ReplicaOptions,
    backoff: Backoff,
    preflight: Option<PreflightOptions>,
    resume: StartPosition,
    stream: Option<BinlogStream>,
    last_error: Option<String>,
    started: bool,
}

impl ReplicaClient {
    /// A client that will start dumping at `start` on the first [`Self::next`].
    pub fn new(conn: ConnectOptions, replica: ReplicaOptions, start: StartPosition) -> Self {
        ReplicaClient {
            conn,
            replica,
            backoff: Backoff::default(),
            preflight: Some(PreflightOptions::default()),
            resume: start,
            stream: None,
            last_error: None,
            started: false,
        }
    }

    /// Sets the reconnect backoff.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets (or with `None` disables) the pre-flight check run before each dump.
    pub fn with_preflight(mut self, preflight: Option<PreflightOptions>) -> Self {
        self.preflight = preflight;
        self
    }

    /// Records the last committed transaction boundary: a reconnect resumes there.
    pub fn commit(&mut self, pos: StartPosition) {
        self.resume = pos;
    }

    /// Where a reconnect would resume.
    pub fn resume_position(&self) -> &StartPosition {
        &self.resume
    }

    /// The running dump, if connected (e.g. for its connection id).
    pub fn stream(&self) -> Option<&BinlogStream> {
        self.stream.as_ref()
    }

    async fn open(&self) -> Result<BinlogStream, ClientError> {
        let mut conn = Connection::connect(&self.conn).await?;
        if let Some(p) = &self.preflight {
            preflight(&mut conn, p).await?;
        }
        start_dump(conn, &self.replica, &self.resume).await
    }

    /// The next event, reconnecting as needed. Definite errors (and transient ones after
    /// `max_attempts` failures) are returned; the client can be called again afterwards.
    /// Not cancel-safe (a dropped call may leave the dump mid-packet): do not race it against
    /// other futures; stop with [`Self::close`] instead.
    pub async fn next(&mut self) -> Result<StreamItem, ClientError> {
        let mut attempts = 0u32;
        loop {
            if self.stream.is_none() {
                if attempts > 0 {
                    tokio::time::sleep(self.backoff.delay(attempts)).await;
                }
                match self.open().await {
                    Ok(s) => {
                        self.stream = Some(s);
                        if self.started {
                            let error = self.last_error.take().unwrap_or_default();
                            tracing::info!(from = ?self.resume, attempts, %error, "binlog dump re-established");
                            return Ok(StreamItem::Reconnected {
                                from: self.resume.clone(),
                                error,
                                attempts,
                            });
                        }
                        self.started = true;
                    }
                    Err(e) if e.is_transient() => {
                        attempts += 1;
                        tracing::warn!(error = %e, attempts, "connecting the binlog dump failed; retrying");
                        if self.backoff.max_attempts.is_some_and(|m| attempts >= m) {
                            return Err(e);
                        }
                        self.last_error = Some(e.to_string());
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                continue;
            };
            match stream.next_event().await {
                Ok(ev) => return Ok(StreamItem::Event(ev)),
                Err(e) => {
                    self.stream = None;
                    if !e.is_transient() {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "binlog dump broke; reconnecting");
                    self.last_error = Some(e.to_string());
                    attempts += 1;
                    if self.backoff.max_attempts.is_some_and(|m| attempts >= m) {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// Stops the dump (COM_QUIT).
    pub async fn close(&mut self) {
        if let Some(s) = self.stream.take() {
            let _ = s.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: None,
        };
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(4), Duration::from_millis(800));
        assert_eq!(b.delay(5), Duration::from_secs(1));
        assert_eq!(b.delay(100), Duration::from_secs(1));
    }
}
