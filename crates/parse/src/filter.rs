//! Canal's table and field filters (compat §2.7).
//!
//! Table filter (`canal.instance.filter.regex` / `.black.regex`, or a client's subscribe filter):
//! the list is split on commas that are not inside `()`, `[]` or `{}` (nor escaped), patterns are
//! sorted longest first, each is anchored `^…$`, all are joined with `|` and compiled case
//! insensitive with `.` matching newlines; the candidate `schema.table` is lower-cased and must
//! match in full. An empty pattern or empty candidate passes the white filter and fails the black
//! filter.

use std::collections::HashMap;

use regex::Regex;

/// A compiled Canal regex table filter.
#[derive(Debug, Clone)]
pub struct TableFilter {
    source: String,
    re: Option<Regex>,
    black: bool,
}

/// Splits a pattern list on top-level commas (commas inside brackets or escaped stay).
pub fn split_patterns(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth: i32 = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' | '}' => {
                depth = (depth - 1).max(0);
                cur.push(c);
            }
            ',' if depth == 0 => {
                let t = cur.trim().to_string();
                if !t.is_empty() {
                    out.push(t);
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

impl TableFilter {
    /// A white filter (`filter.regex`).
    pub fn white(pattern: &str) -> Result<Self, regex::Error> {
        Self::build(pattern, false)
    }
    /// A black filter (`filter.black.regex`).
    pub fn black(pattern: &str) -> Result<Self, regex::Error> {
        Self::build(pattern, true)
    }
    fn build(pattern: &str, black: bool) -> Result<Self, regex::Error> {
        let mut pats = split_patterns(pattern);
        if pats.is_empty() {
            return Ok(TableFilter {
                source: pattern.to_string(),
                re: None,
                black,
            });
        }
        // Longest first, like Canal (stable for equal lengths).
        pats.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let joined = pats
            .iter()
            .map(|p| format!("^(?:{p})$"))
            .collect::<Vec<_>>()
            .join("|");
        let re = Regex::new(&format!("(?is){joined}"))?;
        Ok(TableFilter {
            source: pattern.to_string(),
            re: Some(re),
            black,
        })
    }
    /// The pattern text as configured.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// Canal's `filter(candidate)`: true = matches (white: keep; black: drop).
    pub fn matches(&self, candidate: &str) -> bool {
        let Some(re) = &self.re else {
            return !self.black;
        };
        if candidate.is_empty() {
            return !self.black;
        }
        re.is_match(&candidate.to_lowercase())
    }
}

/// Field filters: `s.t:c1/c2,s2.t2:c3` (names compared upper-cased).
#[derive(Debug, Clone, Default)]
pub struct FieldFilter {
    white: HashMap<String, Vec<String>>,
    black: HashMap<String, Vec<String>>,
}

fn parse_field_map(s: &str) -> HashMap<String, Vec<String>> {
    let mut m = HashMap::new();
    for part in s.split(',') {
        let Some((t, cols)) = part.split_once(':') else {
            continue;
        };
        let t = t.trim().to_uppercase();
        let cols: Vec<String> = cols
            .split('/')
            .map(|c| c.trim().to_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        if !t.is_empty() {
            m.insert(t, cols);
        }
    }
    m
}

impl FieldFilter {
    /// Builds from `canal.instance.filter.field` and `filter.black.field`.
    pub fn new(white: Option<&str>, black: Option<&str>) -> Self {
        FieldFilter {
            white: white.map(parse_field_map).unwrap_or_default(),
            black: black.map(parse_field_map).unwrap_or_default(),
        }
    }
    /// True when no field filter is configured.
    pub fn is_empty(&self) -> bool {
        self.white.is_empty() && self.black.is_empty()
    }
    /// Whether column `col` of `schema.table` is kept.
    pub fn keep(&self, schema: &str, table: &str, col: &str) -> bool {
        let key = format!("{schema}.{table}").to_uppercase();
        let c = col.to_uppercase();
        if let Some(w) = self.white.get(&key) {
            return w.contains(&c);
        }
        if let Some(b) = self.black.get(&key) {
            return !b.contains(&c);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_style_patterns() {
        // The forms listed in Canal's instance.properties comments.
        let star = TableFilter::white(".*").unwrap();
        assert!(star.matches("any.table") && star.matches("x"));
        let prefix = TableFilter::white(r"canal\.canal.*").unwrap();
        assert!(
            prefix.matches("canal.canal_x")
                && prefix.matches("canal.canal")
                && !prefix.matches("canal.other")
        );
        let all = TableFilter::white(r".*\..*").unwrap();
        assert!(all.matches("test.t1") && all.matches("Canal.X"));
        assert!(!all.matches("notable"));
        let canal = TableFilter::white(r"canal\..*").unwrap();
        assert!(canal.matches("canal.t1") && canal.matches("CANAL.T1"));
        assert!(!canal.matches("canalx.t1") && !canal.matches("other.canal"));
        // Unescaped dot matches any character, in full only.
        let one = TableFilter::white("canal.test1").unwrap();
        assert!(one.matches("canal.test1") && one.matches("canalxtest1"));
        assert!(!one.matches("canal.test10"));
        let list = TableFilter::white(r"canal\..*,mysql.test1,test\.t[0-9]+").unwrap();
        assert!(list.matches("canal.a") && list.matches("mysql.test1") && list.matches("test.t42"));
        assert!(!list.matches("test.tx") && !list.matches("mysql.test2"));
        // Commas inside groups do not split.
        let grp = TableFilter::white(r"db\.(t1|t2),x\.t{1,2}").unwrap();
        assert!(grp.matches("db.t1") && grp.matches("db.t2") && grp.matches("x.tt"));
        assert!(!grp.matches("db.t3") && !grp.matches("x.ttt"));
        assert_eq!(
            split_patterns(r"a\.(b,c),d\,e,f"),
            vec![r"a\.(b,c)", r"d\,e", "f"]
        );
        let black = TableFilter::black(r"mysql\.slave_.*").unwrap();
        assert!(black.matches("mysql.slave_master_info") && !black.matches("test.slave_x"));
        // Empty pattern / candidate.
        assert!(TableFilter::white("").unwrap().matches("a.b"));
        assert!(!TableFilter::black("").unwrap().matches("a.b"));
        assert!(all.matches(""));
        assert!(!black.matches(""));
    }

    #[test]
    fn field_filters() {
        let f = FieldFilter::new(Some("s.t:c1/c2"), Some("s.u:secret,s.t:c1"));
        assert!(f.keep("s", "t", "C1") && f.keep("S", "T", "c2") && !f.keep("s", "t", "c3"));
        assert!(!f.keep("s", "u", "SECRET") && f.keep("s", "u", "other"));
        assert!(f.keep("x", "y", "z"));
    }
}
