//! `canal.auto.scan` in spring mode (operations.md §4.5): every directory under
//! `canal.conf.dir` except `spring` is a candidate; only a file named `instance.properties`
//! (any case) counts. New directory with the file -> start; known destination whose file's
//! modification time changed -> reload; known destination without file or directory -> stop.
//! The first scan only records the files of destinations registered at startup.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a scan found for one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanChange {
    /// A new destination directory with an instance.properties: start it.
    Added(String),
    /// A known destination's instance.properties changed: stop + start.
    Changed(String),
    /// A known destination lost its directory or instance.properties: stop it.
    Removed(String),
}

/// Remembers the destinations it manages and their instance.properties modification times.
#[derive(Debug)]
pub struct ConfScanner {
    root: PathBuf,
    /// destination -> last seen mtime (`None` = registered, not yet seen).
    known: BTreeMap<String, Option<SystemTime>>,
}

fn instance_file(dir: &Path) -> io::Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("instance.properties"))
            && entry.file_type()?.is_file()
        {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

impl ConfScanner {
    /// A scanner of `root` that already manages `registered` (the configured destinations).
    pub fn new(root: impl Into<PathBuf>, registered: impl IntoIterator<Item = String>) -> Self {
        Self {
            root: root.into(),
            known: registered.into_iter().map(|d| (d, None)).collect(),
        }
    }

    /// The destinations currently managed.
    pub fn destinations(&self) -> impl Iterator<Item = &str> {
        self.known.keys().map(String::as_str)
    }

    /// Forgets `destination` (e.g. its start failed), so a later scan reports it as added again.
    pub fn forget(&mut self, destination: &str) {
        self.known.remove(destination);
    }

    /// Looks at the directory once and returns the changes, updating the remembered state as
    /// if every change was applied. A missing root reports nothing (like Java).
    pub fn scan(&mut self) -> io::Result<Vec<ScanChange>> {
        let mut changes = Vec::new();
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(changes),
            Err(e) => return Err(e),
        };
        let mut present: BTreeMap<String, Option<SystemTime>> = BTreeMap::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.eq_ignore_ascii_case("spring") {
                continue;
            }
            let mtime = match instance_file(&entry.path())? {
                Some(f) => Some(std::fs::metadata(f)?.modified()?),
                None => None,
            };
            present.insert(name, mtime);
        }
        for (name, mtime) in &present {
            match (self.known.get(name), mtime) {
                (None, Some(m)) => {
                    changes.push(ScanChange::Added(name.clone()));
                    self.known.insert(name.clone(), Some(*m));
                }
                (None, None) => {}
                (Some(_), None) => {
                    changes.push(ScanChange::Removed(name.clone()));
                    self.known.remove(name);
                }
                (Some(None), Some(m)) => {
                    self.known.insert(name.clone(), Some(*m));
                }
                (Some(Some(old)), Some(m)) => {
                    if old != m {
                        changes.push(ScanChange::Changed(name.clone()));
                        self.known.insert(name.clone(), Some(*m));
                    }
                }
            }
        }
        let gone: Vec<String> = self
            .known
            .keys()
            .filter(|k| !present.contains_key(*k))
            .cloned()
            .collect();
        for name in gone {
            self.known.remove(&name);
            changes.push(ScanChange::Removed(name));
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Duration;

    fn write(dir: &Path, dest: &str, file: &str, text: &str) {
        let d = dir.join(dest);
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(d.join(file), text).expect("write");
    }

    fn touch_later(path: &Path) {
        // Move the mtime forward explicitly: file systems with coarse timestamps would
        // otherwise see no change within the same second.
        let f = fs::File::options().write(true).open(path).expect("open");
        let later = SystemTime::now() + Duration::from_secs(5);
        f.set_modified(later).expect("set mtime");
    }

    #[test]
    fn add_change_remove() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        write(root, "example", "instance.properties", "a=1");
        write(root, "spring", "instance.properties", "a=1"); // never a destination
        write(root, "other", "notes.txt", "x"); // no instance.properties: ignored
        fs::write(root.join("canal.properties"), "x").expect("write");

        let mut s = ConfScanner::new(root, ["example".to_string(), "gone".to_string()]);
        // First scan: example registered -> only recorded; "gone" has no directory -> stop.
        assert_eq!(
            s.scan().expect("scan"),
            vec![ScanChange::Removed("gone".into())]
        );

        write(root, "new1", "INSTANCE.PROPERTIES", "a=1");
        assert_eq!(
            s.scan().expect("scan"),
            vec![ScanChange::Added("new1".into())]
        );
        assert_eq!(s.scan().expect("scan"), vec![]);

        touch_later(&root.join("example/instance.properties"));
        assert_eq!(
            s.scan().expect("scan"),
            vec![ScanChange::Changed("example".into())]
        );

        fs::remove_file(root.join("example/instance.properties")).expect("rm");
        fs::remove_dir_all(root.join("new1")).expect("rm");
        let mut got = s.scan().expect("scan");
        got.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(
            got,
            vec![
                ScanChange::Removed("example".into()),
                ScanChange::Removed("new1".into())
            ]
        );
        assert_eq!(s.destinations().count(), 0);

        // A failed start can be retried after forget().
        write(root, "again", "instance.properties", "a=1");
        assert_eq!(
            s.scan().expect("scan"),
            vec![ScanChange::Added("again".into())]
        );
        s.forget("again");
        assert_eq!(
            s.scan().expect("scan"),
            vec![ScanChange::Added("again".into())]
        );
    }

    #[test]
    fn missing_root_reports_nothing() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut s = ConfScanner::new(tmp.path().join("nope"), ["example".to_string()]);
        assert_eq!(s.scan().expect("scan"), vec![]);
    }
}
