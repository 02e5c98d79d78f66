//! Executed-GTID tracking for GTID-mode headers (compat §2.2): MySQL `uuid:a-b[:c-d]` sets in
//! Java `HashMap` iteration order, MariaDB `domain-server-seq` lists.

use canal_binlog::event::MysqlGtid;

/// The executed set the converter reports in `Header.gtid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GtidState {
    /// MySQL: per UUID (in insertion order) inclusive intervals; `initial` = entries at start.
    MySql {
        /// Per UUID (`uuid` or `uuid:tag`), inclusive intervals.
        sets: Vec<(String, Vec<(i64, i64)>)>,
        /// Number of UUIDs in the configured start set (sizes the Java HashMap).
        initial: usize,
    },
    /// MariaDB: per domain the last `server-seq`.
    Maria(Vec<(u32, u32, u64)>),
}

fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

impl GtidState {
    /// Parses a configured/started-from set: MySQL `uuid:1-5:7,uuid2:3` or MariaDB `0-1-100,1-2-5`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.contains(':') {
            let mut sets = Vec::new();
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let mut it = part.split(':');
                let uuid = it.next().unwrap_or_default().to_ascii_lowercase();
                let mut iv = Vec::new();
                for r in it {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    let a: i64 = a
                        .trim()
                        .parse()
                        .map_err(|_| format!("bad GTID interval {r:?} in {s:?}"))?;
                    let b: i64 = b
                        .trim()
                        .parse()
                        .map_err(|_| format!("bad GTID interval {r:?} in {s:?}"))?;
                    iv.push((a, b));
                }
                sets.push((uuid, iv));
            }
            let initial = sets.len();
            Ok(GtidState::MySql { sets, initial })
        } else {
            let mut v = Vec::new();
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let f: Vec<&str> = part.split('-').collect();
                let [d, sv, q] = f.as_slice() else {
                    return Err(format!("bad MariaDB GTID {part:?}"));
                };
                let p = |x: &str| {
                    x.parse::<u64>()
                        .map_err(|_| format!("bad MariaDB GTID {part:?}"))
                };
                v.push((p(d)? as u32, p(sv)? as u32, p(q)?));
            }
            Ok(GtidState::Maria(v))
        }
    }

    /// Adds a MySQL GTID event's `uuid:gno`.
    pub fn add_mysql(&mut self, g: &MysqlGtid) {
        let uuid = match &g.tag {
            Some(t) => format!("{}:{t}", canal_binlog::event::uuid_string(&g.sid)),
            None => canal_binlog::event::uuid_string(&g.sid),
        };
        if let GtidState::MySql { sets, .. } = self {
            let iv = match sets.iter_mut().find(|(u, _)| *u == uuid) {
                Some((_, iv)) => iv,
                None => {
                    sets.push((uuid, Vec::new()));
                    let Some(last) = sets.last_mut() else { return };
                    &mut last.1
                }
            };
            iv.push((g.gno, g.gno));
            iv.sort();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(iv.len());
            for &(a, b) in iv.iter() {
                match merged.last_mut() {
                    Some(l) if a <= l.1 + 1 => l.1 = l.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            *iv = merged;
        }
    }

    /// Records a MariaDB GTID event.
    pub fn add_maria(&mut self, domain: u32, server: u32, seq: u64) {
        if let GtidState::Maria(v) = self {
            match v.iter_mut().find(|e| e.0 == domain) {
                Some(e) => {
                    e.1 = server;
                    e.2 = seq;
                }
                None => v.push((domain, server, seq)),
            }
        }
    }
}

impl std::fmt::Display for GtidState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GtidState::MySql { sets, initial } => {
                // Java HashMap<String,…> iteration order: bucket of the spread hash, then insertion.
                let mut cap: usize = (*initial).max(1).next_power_of_two();
                while sets.len() > cap * 3 / 4 {
                    cap *= 2;
                }
                let mut order: Vec<(usize, usize)> = sets
                    .iter()
                    .enumerate()
                    .map(|(i, (u, _))| {
                        let h = java_string_hash(u);
                        let spread = (h ^ ((h as u32) >> 16) as i32) as u32 as usize;
                        (spread & (cap - 1), i)
                    })
                    .collect();
                order.sort();
                let parts: Vec<String> = order
                    .iter()
                    .filter_map(|&(_, i)| sets.get(i))
                    .map(|(u, iv)| {
                        let mut s = u.clone();
                        for (a, b) in iv {
                            if a == b {
                                s.push_str(&format!(":{a}"));
                            } else {
                                s.push_str(&format!(":{a}-{b}"));
                            }
                        }
                        s
                    })
                    .collect();
                f.write_str(&parts.join(","))
            }
            GtidState::Maria(v) => {
                let mut v = v.clone();
                v.sort();
                let parts: Vec<String> = v.iter().map(|(d, s, q)| format!("{d}-{s}-{q}")).collect();
                f.write_str(&parts.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_set_grows() {
        let mut g = GtidState::parse("4e230ff9-e571-11f1-830e-02fc00000001:1-2").unwrap();
        let mut sid = [0u8; 16];
        for (i, b) in [
            0x4e, 0x23, 0x0f, 0xf9, 0xe5, 0x71, 0x11, 0xf1, 0x83, 0x0e, 0x02, 0xfc, 0, 0, 0, 1,
        ]
        .iter()
        .enumerate()
        {
            sid[i] = *b;
        }
        g.add_mysql(&MysqlGtid {
            sid,
            gno: 3,
            ..Default::default()
        });
        assert_eq!(g.to_string(), "4e230ff9-e571-11f1-830e-02fc00000001:1-3");
        g.add_mysql(&MysqlGtid {
            sid,
            gno: 5,
            ..Default::default()
        });
        assert_eq!(g.to_string(), "4e230ff9-e571-11f1-830e-02fc00000001:1-3:5");
        let mut m = GtidState::parse("0-1-100").unwrap();
        m.add_maria(0, 1, 101);
        m.add_maria(1, 2, 5);
        assert_eq!(m.to_string(), "0-1-101,1-2-5");
    }
}
