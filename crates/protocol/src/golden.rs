//! The recorded traffic of the real Java Canal server under `../shared/golden` (feature
//! `golden`, for the tests and benches of every crate; never in the server). Locating the
//! directory follows the project rule: `CANAL_SHARED_DIR`, else `../shared` next to the
//! repository; when it is missing a test is skipped with a note, or fails when `CI` is set.

use std::path::{Path, PathBuf};

/// The two recorded sources, in the order the tests report them.
pub const SOURCES: [&str; 2] = ["mariadb-10.11", "mysql-9.7"];

/// The shared reference directory (with its `golden/`), or `None` after a note; panics under CI.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("golden").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI")
        .map(|v| !v.is_empty() && v != "0" && v != "false")
        .unwrap_or(false);
    assert!(!ci, "CI is set but {} has no golden/", dir.display());
    eprintln!("note: {} has no golden/, test skipped", dir.display());
    None
}

/// Splits an `entries.bin` (4-byte big-endian length, then the Entry bytes, repeated).
pub fn split_entries(bin: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = bin;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err(format!("{} trailing bytes", rest.len()));
        };
        let n = u32::from_be_bytes(*len) as usize;
        if tail.len() < n {
            return Err(format!("entry of {n} bytes truncated to {}", tail.len()));
        }
        let (e, tail) = tail.split_at(n);
        out.push(e);
        rest = tail;
    }
    Ok(out)
}

/// The workload directories of `source` that hold an `entries.bin`, sorted.
pub fn workload_dirs(shared: &Path, source: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(shared.join("golden").join(source))
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("entries.bin").is_file());
    dirs.sort();
    dirs
}

/// The entries of one workload directory, in delivery order.
pub fn read_entries(dir: &Path) -> Vec<Vec<u8>> {
    let f = dir.join("entries.bin");
    let bin = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    split_entries(&bin)
        .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// Every golden entry of both sources (empty when the directory is missing outside CI).
pub fn all_entries() -> Vec<Vec<u8>> {
    let Some(shared) = shared_dir() else {
        return Vec::new();
    };
    SOURCES
        .iter()
        .flat_map(|s| workload_dirs(&shared, s))
        .flat_map(|d| read_entries(&d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_entries;

    #[test]
    fn split_checks_lengths() {
        assert_eq!(
            split_entries(&[0, 0, 0, 1, 7, 0, 0, 0, 0]).unwrap(),
            vec![&[7u8][..], &[][..]]
        );
        assert!(split_entries(&[0, 0, 0, 2, 7]).is_err());
        assert!(split_entries(&[0, 0]).is_err());
    }
}
