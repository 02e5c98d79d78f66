//! Helpers shared by the integration tests of canal-protocol: locating `../shared` and the test
//! Python, and reading the golden `.frames` captures of the real Java Canal server.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

/// True when running under CI (env `CI` set and not empty/false): missing prerequisites fail.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && v != "false")
        .unwrap_or(false)
}

/// Skip (outside CI) or fail (in CI) a test whose prerequisite is missing.
/// Returns `None` so callers can `let Some(x) = ... else { return }`.
pub fn missing<T>(what: &str) -> Option<T> {
    if in_ci() {
        panic!("{what} (required when CI is set)");
    }
    eprintln!("note: skipping: {what}");
    None
}

/// The `shared` reference directory: env `CANAL_SHARED_DIR`, else `<workspace>/../shared`.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.join("golden").is_dir() && dir.join("compat").is_dir() {
        Some(dir)
    } else {
        missing(&format!(
            "shared reference dir {} not found (set CANAL_SHARED_DIR)",
            dir.display()
        ))
    }
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The Python interpreter of the test venv: env `CANAL_TEST_PYTHON` (set by `make test`).
pub fn test_python() -> Option<PathBuf> {
    match std::env::var_os("CANAL_TEST_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => missing("CANAL_TEST_PYTHON is not set (run scripts/install-test-deps.sh)"),
    }
}

/// Direction of a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to server.
    ClientToServer,
    /// Server to client.
    ServerToClient,
}

/// One frame line of a golden `.frames` file.
#[derive(Debug, Clone)]
pub struct GoldenFrame {
    /// `file:line` for messages.
    pub origin: String,
    /// Who sent it.
    pub dir: Dir,
    /// The complete frame as on the wire, 4-byte length header included.
    pub wire: Vec<u8>,
    /// The capture tool's decoded rendering (informational).
    pub decoded: String,
}

impl GoldenFrame {
    /// True when the length header matches the payload size (deliberately bogus frames do not).
    pub fn well_formed(&self) -> bool {
        self.wire.len() >= 4
            && u32::from_be_bytes([self.wire[0], self.wire[1], self.wire[2], self.wire[3]]) as usize
                == self.wire.len() - 4
    }

    /// The payload after the length header.
    pub fn payload(&self) -> &[u8] {
        &self.wire[4..]
    }
}

/// Reads every frame line (`C>S`/`S>C` + hex) of one `.frames` file of `golden/wire/`.
pub fn golden_frames(shared: &std::path::Path, file: &str) -> Vec<GoldenFrame> {
    let path = shared.join("golden/wire").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut cols = line.splitn(3, '\t');
        let dir = match cols.next() {
            Some("C>S") => Dir::ClientToServer,
            Some("S>C") => Dir::ServerToClient,
            _ => continue,
        };
        let hex_col = cols.next().unwrap_or("");
        if hex_col == "-" {
            continue; // a non-frame event (timeout, EOF, raw bytes)
        }
        let wire =
            hex::decode(hex_col).unwrap_or_else(|e| panic!("{file}:{}: bad hex: {e}", i + 1));
        out.push(GoldenFrame {
            origin: format!("{file}:{}", i + 1),
            dir,
            wire,
            decoded: cols.next().unwrap_or("").to_owned(),
        });
    }
    out
}

/// Parses a hex string that may contain spaces (as written in the compat docs).
pub fn hexs(s: &str) -> Vec<u8> {
    let clean: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean).expect("test hex")
}
