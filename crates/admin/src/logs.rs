//! Log listing and tailing for the LOG command, confined to the `logs` directory.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// At most this many bytes from the end of a file are scanned for a tail (Canal: 4 MB).
pub const MAX_TAIL_SCAN: u64 = 4 * 1024 * 1024;

/// Why a log request was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The name would leave the logs directory (or is not a plain name).
    #[error("illegal file name {0:?}")]
    IllegalName(String),
}

/// Joins `name` (a destination or file name) under `base`, refusing anything that is not one
/// plain path component (`..`, `/`, `\`, absolute paths, empty).
pub fn safe_join(base: &Path, name: &str) -> Result<PathBuf, LogError> {
    let bad = || LogError::IllegalName(name.to_string());
    if name.is_empty() || name.contains('\\') || name.contains('\0') {
        return Err(bad());
    }
    let mut comps = Path::new(name).components();
    match (comps.next(), comps.next()) {
        (Some(Component::Normal(_)), None) => Ok(base.join(name)),
        _ => Err(bad()),
    }
}

/// File names (not paths) of every regular file under `dir`, recursively, sorted; a missing
/// directory lists nothing.
pub fn list_logs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The last `count` lines of `path` joined with `\n` (no trailing newline), scanning at most
/// [`MAX_TAIL_SCAN`] bytes from the end; a missing file or `count <= 0` gives "".
pub fn tail_lines(path: &Path, count: i32) -> String {
    if count <= 0 {
        return String::new();
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let Ok(len) = f.metadata().map(|m| m.len()) else {
        return String::new();
    };
    let start = len.saturating_sub(MAX_TAIL_SCAN);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    if f.take(MAX_TAIL_SCAN).read_to_end(&mut buf).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&buf);
    let body = text.strip_suffix('\n').unwrap_or(&text);
    let mut lines: Vec<&str> = body.split('\n').collect();
    // A partial first line from the scan window is dropped.
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let n = usize::try_from(count).unwrap_or(0).min(lines.len());
    lines[lines.len() - n..]
        .iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_of_a_file_larger_than_the_scan_window() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.log");
        let line = "x".repeat(99) + "\n";
        let mut text = line.repeat((MAX_TAIL_SCAN as usize / 100) + 50);
        text.push_str("last-1\nlast\n");
        std::fs::write(&p, &text).unwrap();
        assert_eq!(tail_lines(&p, 2), "last-1\nlast");
        let all = tail_lines(&p, i32::MAX);
        assert!(all.len() as u64 <= MAX_TAIL_SCAN);
        assert!(all.lines().all(|l| l.len() == 99 || l.starts_with("last")));
        assert_eq!(tail_lines(&p, 0), "");
        assert_eq!(tail_lines(&dir.path().join("missing"), 5), "");
    }

    #[test]
    fn names_confined() {
        let base = Path::new("/logs");
        assert!(safe_join(base, "example").is_ok());
        assert!(safe_join(base, "example.log").is_ok());
        for bad in ["", "..", ".", "a/b", "/etc", "a\\b", "../x"] {
            assert!(safe_join(base, bad).is_err(), "{bad}");
        }
    }
}
