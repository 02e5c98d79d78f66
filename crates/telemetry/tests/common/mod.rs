//! Helpers of the canal-telemetry integration tests: the shared reference dir, a tiny HTTP
//! GET, an exposition-format parser, and the §5 metric table read from
//! ../shared/compat/operations.md (the expected names, types, labels and help texts).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && v != "false")
        .unwrap_or(false)
}

pub fn missing<T>(what: &str) -> Option<T> {
    if in_ci() {
        panic!("{what} (required when CI is set)");
    }
    eprintln!("note: skipping: {what}");
    None
}

pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.join("compat").is_dir() {
        Some(dir)
    } else {
        missing(&format!(
            "shared reference dir {} not found (set CANAL_SHARED_DIR)",
            dir.display()
        ))
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Blocking HTTP/1.0 GET; returns (status, headers, body).
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    (status, head.to_string(), body.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, k: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
pub struct Family {
    pub kind: String,
    pub help: String,
    pub samples: Vec<Sample>,
}

/// Parses Prometheus text exposition (format 0.0.4); panics on malformed lines.
pub fn parse_exposition(text: &str) -> BTreeMap<String, Family> {
    let mut fams: BTreeMap<String, Family> = BTreeMap::new();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(r) = line.strip_prefix("# HELP ") {
            let (n, h) = r.split_once(' ').unwrap_or((r, ""));
            assert!(
                fams.get(n).map(|f| f.help.is_empty()).unwrap_or(true),
                "second HELP for {n}"
            );
            fams.entry(n.into()).or_default().help = h.into();
            continue;
        }
        if let Some(r) = line.strip_prefix("# TYPE ") {
            let (n, t) = r.split_once(' ').unwrap();
            assert!(!types.contains_key(n), "second TYPE line for {n}");
            types.insert(n.into(), t.into());
            fams.entry(n.into()).or_default().kind = t.into();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, labels, rest) = match line.find('{') {
            Some(i) => {
                let end = line.rfind('}').unwrap();
                (
                    &line[..i],
                    parse_labels(&line[i + 1..end]),
                    line[end + 1..].trim(),
                )
            }
            None => {
                let (n, v) = line.split_once(' ').unwrap();
                (n, Vec::new(), v.trim())
            }
        };
        let value: f64 = match rest.split_whitespace().next().unwrap() {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        let family = [
            name,
            name.strip_suffix("_bucket").unwrap_or(""),
            name.strip_suffix("_sum").unwrap_or(""),
            name.strip_suffix("_count").unwrap_or(""),
        ]
        .into_iter()
        .find(|f| !f.is_empty() && types.contains_key(*f))
        .unwrap_or_else(|| panic!("sample {name} before its TYPE line"))
        .to_string();
        fams.entry(family).or_default().samples.push(Sample {
            name: name.into(),
            labels,
            value,
        });
    }
    fams
}

fn parse_labels(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek() == Some(&',') || chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "label {key} not quoted in {s}");
        let mut val = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => val.push('\n'),
                    Some(o) => val.push(o),
                    None => break,
                },
                '"' => break,
                o => val.push(o),
            }
        }
        out.push((key, val));
    }
    out
}

/// One row of the operations.md §5 table.
#[derive(Debug, Clone)]
pub struct CompatMetric {
    pub name: String,
    pub kind: String,
    pub labels: Vec<String>,
    pub help: String,
}

/// The §5 table of operations.md (the `canal_instance*` rows).
pub fn compat_metrics() -> Option<Vec<CompatMetric>> {
    let dir = shared_dir()?;
    let text = std::fs::read_to_string(dir.join("compat/operations.md")).unwrap();
    let start = text
        .find("## 5. Prometheus metrics")
        .expect("§5 in operations.md");
    let end = start + text[start..].find("\n## 6.").expect("§6 after §5");
    let mut out = Vec::new();
    for line in text[start..end].lines() {
        if !line.starts_with("| canal_") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let names: Vec<String> = cells[0]
            .split(" / ")
            .map(|n| {
                if n.starts_with("canal_") {
                    n.to_string()
                } else {
                    format!("canal_instance_{n}")
                }
            })
            .collect();
        let helps: Vec<&str> = if names.len() > 1 {
            cells[3].split(" / ").collect()
        } else {
            vec![cells[3]]
        };
        assert_eq!(helps.len(), names.len(), "{line}");
        let labels: Vec<String> = cells[2].split(',').map(|l| l.trim().to_string()).collect();
        for (n, h) in names.into_iter().zip(helps) {
            out.push(CompatMetric {
                name: n,
                kind: cells[1].to_string(),
                labels: labels.clone(),
                help: h.to_string(),
            });
        }
    }
    assert!(
        out.len() >= 24,
        "expected the full §5 table, got {}",
        out.len()
    );
    Some(out)
}
