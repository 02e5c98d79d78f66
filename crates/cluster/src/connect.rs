//! `canal.zkServers` parsing (operations.md §1.1): `,` separates hosts of one ensemble, an
//! optional chroot suffix (`/path`) follows the host list, and `;` separates fallback ensembles
//! whose hosts are appended to the first ensemble's host list (their own chroot, if any, is
//! ignored, as Canal's reflection hack does). A host without a port gets ZooKeeper's 2181.

use crate::ClusterError;

/// Default ZooKeeper client port (Java `ConnectStringParser`).
pub const DEFAULT_ZK_PORT: u16 = 2181;

/// A parsed `canal.zkServers` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectString {
    /// `host:port` entries, first ensemble first, fallback ensembles appended.
    pub hosts: Vec<String>,
    /// Chroot of the first ensemble (`None` for the ZooKeeper root).
    pub chroot: Option<String>,
}

impl ConnectString {
    /// Parses `canal.zkServers`.
    pub fn parse(text: &str) -> Result<Self, ClusterError> {
        let bad = |why: &str| ClusterError::ConnectString(format!("{why}: {text:?}"));
        let mut parts = text.split(';').map(str::trim).filter(|p| !p.is_empty());
        let first = parts.next().ok_or_else(|| bad("empty connect string"))?;
        let (first_hosts, chroot) = split_chroot(first);
        let chroot = match chroot {
            None => None,
            Some(c) => normalize_chroot(c).map_err(&bad)?,
        };
        let mut hosts = parse_hosts(first_hosts).map_err(&bad)?;
        for extra in parts {
            let (h, _ignored_chroot) = split_chroot(extra);
            hosts.extend(parse_hosts(h).map_err(&bad)?);
        }
        if hosts.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self { hosts, chroot })
    }

    /// Host list for the ZooKeeper client, without chroot.
    pub fn hosts_string(&self) -> String {
        self.hosts.join(",")
    }
}

fn split_chroot(part: &str) -> (&str, Option<&str>) {
    match part.find('/') {
        Some(i) => (&part[..i], Some(&part[i..])),
        None => (part, None),
    }
}

fn normalize_chroot(c: &str) -> Result<Option<String>, &'static str> {
    let c = c.trim();
    let trimmed = c.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed
        .split('/')
        .skip(1)
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err("invalid chroot path");
    }
    if trimmed.chars().any(|ch| ch.is_control()) {
        return Err("invalid character in chroot path");
    }
    Ok(Some(trimmed.to_string()))
}

fn parse_hosts(list: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    for h in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
        // IPv6 literal in brackets: [::1]:2181
        let (host, port) = if let Some(rest) = h.strip_prefix('[') {
            let end = rest.find(']').ok_or("unterminated [ in host")?;
            let host = &rest[..end];
            let after = &rest[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse::<u16>().map_err(|_| "invalid port")?,
                None if after.is_empty() => DEFAULT_ZK_PORT,
                None => return Err("garbage after ]"),
            };
            (format!("[{host}]"), port)
        } else {
            match h.rsplit_once(':') {
                Some((host, p)) => (
                    host.to_string(),
                    p.parse::<u16>().map_err(|_| "invalid port")?,
                ),
                None => (h.to_string(), DEFAULT_ZK_PORT),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err("empty host");
        }
        out.push(format!("{host}:{port}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chroot() {
        let c = ConnectString::parse("127.0.0.1:2181").unwrap();
        assert_eq!(c.hosts, vec!["127.0.0.1:2181"]);
        assert_eq!(c.chroot, None);
        let c = ConnectString::parse("a:1,b:2,c/canal/prod").unwrap();
        assert_eq!(c.hosts, vec!["a:1", "b:2", "c:2181"]);
        assert_eq!(c.chroot.as_deref(), Some("/canal/prod"));
        let c = ConnectString::parse("a:1/").unwrap();
        assert_eq!(c.chroot, None);
        let c = ConnectString::parse("a:1/x/").unwrap();
        assert_eq!(c.chroot.as_deref(), Some("/x"));
    }

    #[test]
    fn fallback_ensembles_append_hosts() {
        let c = ConnectString::parse("a:1,b:2/root;c:3,d:4/other; e").unwrap();
        assert_eq!(c.hosts, vec!["a:1", "b:2", "c:3", "d:4", "e:2181"]);
        assert_eq!(c.chroot.as_deref(), Some("/root"));
        assert_eq!(c.hosts_string(), "a:1,b:2,c:3,d:4,e:2181");
    }

    #[test]
    fn errors() {
        assert!(ConnectString::parse("").is_err());
        assert!(ConnectString::parse(" ; ").is_err());
        assert!(ConnectString::parse("a:x").is_err());
        assert!(ConnectString::parse("a:1//b").is_err());
        assert!(ConnectString::parse("a:1/../b").is_err());
        assert!(ConnectString::parse("/only-root").is_err());
        assert_eq!(
            ConnectString::parse("[::1]:2181,[::2]").unwrap().hosts,
            vec!["[::1]:2181", "[::2]:2181"]
        );
    }
}
