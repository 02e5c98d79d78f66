//! Shared test helpers: locating /work/shared fixtures.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared directory (env CANAL_SHARED_DIR, default `<workspace>/../shared`), or `None`
/// (after printing a note) when missing; with env CI set a missing directory fails the test.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "shared fixtures not found at {} (set CANAL_SHARED_DIR)",
            dir.display()
        );
    }
    eprintln!(
        "note: shared fixtures not found at {}; skipping",
        dir.display()
    );
    None
}

/// All regular files under `dir`, recursively, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// The binlog files (starting with the magic `\xfebin`) under `dir`, recursively, sorted.
pub fn binlog_files(dir: &std::path::Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.starts_with(b"\xfebin")))
        .collect()
}
