//! Scrapes `/metrics` of a running server and reads the Prometheus text format.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Largest response read (a scrape of many destinations stays far below).
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket` / `_sum` / `_count` suffixes for histograms).
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

impl Sample {
    /// The value of label `k`.
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str)
    }
}

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// Nothing listens there (connection refused): no server runs.
    #[error("nothing listens on {0} (connection refused)")]
    Refused(String),
    /// Any other failure.
    #[error("{0}")]
    Other(String),
}

/// GETs `http://{addr}{path}` and returns the body (HTTP/1.0, 5 s timeouts).
pub fn http_get(addr: &str, path: &str) -> Result<(u16, String), ScrapeError> {
    let sock = addr
        .to_socket_addrs()
        .map_err(|e| ScrapeError::Other(format!("{addr}: {e}")))?
        .next()
        .ok_or_else(|| ScrapeError::Other(format!("{addr}: no address")))?;
    let timeout = Duration::from_secs(5);
    let mut s = match TcpStream::connect_timeout(&sock, timeout) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(ScrapeError::Refused(addr.to_string()))
        }
        Err(e) => return Err(ScrapeError::Other(format!("{addr}: {e}"))),
    };
    let io = |e: std::io::Error| ScrapeError::Other(format!("{addr}: {e}"));
    s.set_read_timeout(Some(timeout)).map_err(io)?;
    s.set_write_timeout(Some(timeout)).map_err(io)?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(io)?;
    let mut buf = Vec::new();
    s.take(MAX_RESPONSE).read_to_end(&mut buf).map_err(io)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| ScrapeError::Other(format!("{addr}: malformed HTTP response")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| ScrapeError::Other(format!("{addr}: malformed status line")))?;
    Ok((status, body.to_string()))
}

/// Scrapes `/metrics` and parses it.
pub fn scrape(addr: &str) -> Result<Vec<Sample>, ScrapeError> {
    let (status, body) = http_get(addr, "/metrics")?;
    if status != 200 {
        return Err(ScrapeError::Other(format!("{addr}/metrics: HTTP {status}")));
    }
    Ok(parse(&body))
}

/// Parses the text format (comments skipped; malformed lines ignored).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let close = line.rfind('}')?;
            if close < open {
                return None;
            }
            (
                &line[..open],
                parse_labels(&line[open + 1..close])?,
                &line[close + 1..],
            )
        }
        None => {
            let (n, r) = line.split_once(char::is_whitespace)?;
            (n, BTreeMap::new(), r)
        }
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

fn parse_labels(s: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(',') | Some(' ')) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        if chars.next() != Some('"') {
            return None;
        }
        let mut val = String::new();
        loop {
            match chars.next()? {
                '\\' => match chars.next()? {
                    'n' => val.push('\n'),
                    c => val.push(c),
                },
                '"' => break,
                c => val.push(c),
            }
        }
        out.insert(key.trim().to_string(), val);
    }
}

/// The value of `name` with `destination = dest` (first match).
pub fn value_of(samples: &[Sample], name: &str, dest: &str) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && s.label("destination") == Some(dest))
        .map(|s| s.value)
}

/// Destinations the server exports per-destination samples for (= registered, running).
pub fn running_destinations(samples: &[Sample]) -> Vec<String> {
    let mut v: Vec<String> = samples
        .iter()
        .filter(|s| s.name == "canal_instance")
        .filter_map(|s| s.label("destination").map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_simpleclient_lines() {
        // Shapes of operations.md §5 (simpleclient 0.4.0: trailing comma, Java doubles).
        let text = "# HELP canal_instance Canal instance\n# TYPE canal_instance gauge\n\
            canal_instance{destination=\"example\",mode=\"spring\",} 1.0\n\
            canal_instance_client_request_latency_bucket{destination=\"example\",le=\"+Inf\",} 3.0\n\
            process_open_fds 12.0\n\
            bad{destination=\"x} 1\n";
        let s = parse(text);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].name, "canal_instance");
        assert_eq!(s[0].label("mode"), Some("spring"));
        assert_eq!(s[1].label("le"), Some("+Inf"));
        assert_eq!(s[1].value, 3.0);
        assert_eq!(s[2].name, "process_open_fds");
        assert_eq!(s[2].value, 12.0);
        assert_eq!(running_destinations(&s), vec!["example"]);
        assert_eq!(value_of(&s, "canal_instance", "example"), Some(1.0));
        assert_eq!(value_of(&s, "canal_instance", "other"), None);
    }

    #[test]
    fn refused_connection_is_told_apart() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port");
        match scrape(&format!("127.0.0.1:{port}")) {
            Err(ScrapeError::Refused(_)) => {}
            other => panic!("expected a refused connection, got {other:?}"),
        }
    }
}
