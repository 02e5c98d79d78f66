//! The metrics port (`canal.metrics.pull.port`, default 11112) on 0.0.0.0 like Canal (it
//! ignores `canal.ip`): `/health` (process up), `/ready` (the installed readiness check), and
//! any other path (`/`, `/metrics`, like Canal's simpleclient server) the exposition text.
//!
//! A minimal HTTP/1.1 responder over tokio: the exporter's own listener serves only the
//! exposition and cannot add `/health` and `/ready`, and these three GET routes do not justify
//! an HTTP framework. One request per connection (`Connection: close`), request head capped at
//! 8 KiB and 10 s, so a slow or hostile peer cannot hold memory or a task for long. No gzip.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Telemetry;

/// Content type of the exposition (what simpleclient 0.4.0 sends).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A running metrics endpoint.
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves until [`MetricsServer::shutdown`].
    pub async fn bind(telemetry: Telemetry, addr: SocketAddr) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            serve(telemetry, listener, async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
        });
        Ok(MetricsServer {
            local_addr,
            stop,
            task,
        })
    }

    /// Canal's behaviour: binds 0.0.0.0:`port`; a bind failure only logs a warning.
    pub async fn start_or_warn(telemetry: Telemetry, port: u16) -> Option<MetricsServer> {
        let addr = SocketAddr::from(([0, 0, 0, 0], port));
        match Self::bind(telemetry, addr).await {
            Ok(s) => {
                tracing::info!(
                    port = s.local_addr.port(),
                    "## start the metrics server on port {}",
                    s.local_addr.port()
                );
                Some(s)
            }
            Err(e) => {
                tracing::warn!(port, error = %e, "unable to start the metrics HTTP server on port {port}: {e}");
                None
            }
        }
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Accept loop: one task per connection, until `shutdown` completes.
pub async fn serve(
    telemetry: Telemetry,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let t = telemetry.clone();
                    tokio::spawn(async move {
                        if let Err(e) = handle(t, stream).await {
                            tracing::debug!(error = %e, "metrics request failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics port accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
}

/// (status, reason, content type, body) for a request line.
fn route(telemetry: &Telemetry, request_line: &str) -> (u16, &'static str, &'static str, String) {
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    if method != "GET" && method != "HEAD" {
        return (
            405,
            "Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".into(),
        );
    }
    let path = target.split('?').next().unwrap_or("/");
    match path {
        "/health" => (200, "OK", "text/plain; charset=utf-8", "ok\n".into()),
        "/ready" => {
            let r = telemetry.readiness();
            if r.ready {
                (200, "OK", "text/plain; charset=utf-8", r.detail)
            } else {
                (
                    503,
                    "Service Unavailable",
                    "text/plain; charset=utf-8",
                    r.detail,
                )
            }
        }
        _ => {
            let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
            (
                200,
                "OK",
                CONTENT_TYPE,
                telemetry.render_only(&name_filter(query)),
            )
        }
    }
}

/// The `name[]` values of a query string (simpleclient's family filter).
fn name_filter(query: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| percent_decode(k) == "name[]")
        .map(|(_, v)| percent_decode(v))
        .collect()
}

/// Decodes `%XX` escapes and `+`; malformed escapes are kept literally.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let escaped = (c == b'%')
            .then(|| b.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, escaped) {
            (_, Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (c, None) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(telemetry: Telemetry, mut stream: TcpStream) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(r) => r?,
        Err(_) => return Ok(()),
    };
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Ok(());
    }
    let head_only = line.starts_with("HEAD ");
    let (status, reason, ctype, body) = route(&telemetry, line);
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    if !head_only {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_filter() {
        assert_eq!(
            name_filter("name%5B%5D=canal_instance&name[]=up&x=1"),
            ["canal_instance", "up"]
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz+%41"), "%zz A");
        assert!(name_filter("").is_empty());
    }
}
