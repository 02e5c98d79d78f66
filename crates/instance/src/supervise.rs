//! Restart with backoff: Java's parser reconnects after any error, sleeping 10-20 s. We restart
//! after transient errors with an exponential backoff (1 s doubling, capped at 20 s), use the
//! cap directly after source errors that need an operator (auth, privileges, purged binlog),
//! and stop for good on definite errors (configuration, unsupported features), which no retry
//! can fix.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::InstanceError;

/// Backoff between restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartBackoff {
    /// First pause.
    pub initial: Duration,
    /// Longest pause.
    pub max: Duration,
    /// A run that lasted this long resets the backoff to `initial`.
    pub healthy_after: Duration,
}

impl Default for RestartBackoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(20),
            healthy_after: Duration::from_secs(60),
        }
    }
}

/// How a supervised task ended.
#[derive(Debug)]
pub enum Outcome {
    /// `stop` was signalled (or the task returned `Ok`).
    Stopped,
    /// A definite error ended it.
    Failed(InstanceError),
}

/// Whether `e` can never be fixed by retrying.
fn is_definite(e: &InstanceError) -> bool {
    matches!(
        e,
        InstanceError::Config(_) | InstanceError::Unsupported(_) | InstanceError::Stopped
    )
}

/// Runs `attempt` until it returns `Ok`, fails definitely, or `stop` becomes true.
/// `attempt` gets the restart count (0 for the first run).
pub async fn supervise<F, Fut>(
    name: &str,
    backoff: RestartBackoff,
    mut stop: watch::Receiver<bool>,
    mut attempt: F,
) -> Outcome
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<(), InstanceError>>,
{
    let mut restarts = 0u32;
    let mut delay = backoff.initial;
    loop {
        if *stop.borrow() {
            return Outcome::Stopped;
        }
        let started = tokio::time::Instant::now();
        let result = tokio::select! {
            r = attempt(restarts) => r,
            _ = stop.wait_for(|s| *s) => return Outcome::Stopped,
        };
        match result {
            Ok(()) => return Outcome::Stopped,
            Err(e) if is_definite(&e) => {
                tracing::error!(destination = name, error = %e, "instance stopped: not retryable");
                return Outcome::Failed(e);
            }
            Err(e) => {
                if started.elapsed() >= backoff.healthy_after {
                    delay = backoff.initial;
                }
                let pause = if e.is_transient() { delay } else { backoff.max };
                tracing::warn!(
                    destination = name,
                    error = %e,
                    retry_in_ms = pause.as_millis() as u64,
                    "parser failed, restarting"
                );
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.wait_for(|s| *s) => return Outcome::Stopped,
                }
                delay = (delay * 2).min(backoff.max);
                restarts = restarts.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn fast() -> RestartBackoff {
        RestartBackoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
            healthy_after: Duration::from_secs(60),
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("rt")
    }

    #[test]
    fn transient_errors_restart_until_success() {
        rt().block_on(async {
            let (_tx, rx) = watch::channel(false);
            let calls = Arc::new(AtomicU32::new(0));
            let c = calls.clone();
            let out = supervise("d", fast(), rx, move |n| {
                let c = c.clone();
                async move {
                    assert_eq!(n, c.fetch_add(1, Ordering::SeqCst), "restart counter");
                    if n < 3 {
                        Err(InstanceError::PositionNotFound("x".into()))
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
            assert!(matches!(out, Outcome::Stopped));
            assert_eq!(calls.load(Ordering::SeqCst), 4);
        });
    }

    #[test]
    fn definite_error_is_not_retried() {
        rt().block_on(async {
            let (_tx, rx) = watch::channel(false);
            let calls = Arc::new(AtomicU32::new(0));
            let c = calls.clone();
            let out = supervise("d", fast(), rx, move |_| {
                c.fetch_add(1, Ordering::SeqCst);
                async { Err(InstanceError::Unsupported("zk".into())) }
            })
            .await;
            assert!(matches!(
                out,
                Outcome::Failed(InstanceError::Unsupported(_))
            ));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn stop_interrupts_a_running_attempt_and_a_backoff() {
        rt().block_on(async {
            let (tx, rx) = watch::channel(false);
            let task = tokio::spawn(supervise("d", fast(), rx, |_| async {
                std::future::pending::<()>().await;
                Ok(())
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
            tx.send(true).expect("send");
            let out = tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("stops promptly")
                .expect("joined");
            assert!(matches!(out, Outcome::Stopped));

            let slow = RestartBackoff {
                initial: Duration::from_secs(3600),
                ..fast()
            };
            let (tx, rx) = watch::channel(false);
            let task = tokio::spawn(supervise("d", slow, rx, |_| async {
                Err(InstanceError::PositionNotFound("x".into()))
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
            tx.send(true).expect("send");
            let out = tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .expect("stops during backoff")
                .expect("joined");
            assert!(matches!(out, Outcome::Stopped));
        });
    }
}
