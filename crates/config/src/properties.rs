//! `java.util.Properties.load(InputStream)` syntax: ISO-8859-1 bytes, `=`/`:`/whitespace
//! separators, `#`/`!` comment lines, backslash escapes (`\t \n \r \f \uXXXX`, any other
//! escaped character stands for itself), `\` at the end of a line continues the logical line
//! (leading whitespace of the continuation is dropped). A later occurrence of a key replaces an
//! earlier one, as `Hashtable.put` does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// One `key = value` pair with the 1-based line where its logical line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The unescaped key.
    pub key: String,
    /// The unescaped value, untrimmed (Canal trims when it reads a value).
    pub value: String,
    /// Line of the file where the entry starts.
    pub line: usize,
}

/// A loaded properties file: entries in file order (later duplicates replace earlier ones).
#[derive(Debug, Clone, Default)]
pub struct Properties {
    path: Option<PathBuf>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

fn is_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\u{c}'
}

impl Properties {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut props = Self::parse(&bytes).map_err(|(line, message)| ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        })?;
        props.path = Some(path.to_path_buf());
        Ok(props)
    }

    /// Parses ISO-8859-1 `bytes` (every byte is the code point of the same value).
    /// Errors give the line and what is wrong (only a malformed `\uXXXX` can fail).
    pub fn parse(bytes: &[u8]) -> Result<Self, (usize, String)> {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        let mut props = Properties::default();
        // Split into natural lines (\n, \r\n or \r).
        let mut natural: Vec<&str> = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            match rest.find(['\n', '\r']) {
                Some(i) => {
                    natural.push(&rest[..i]);
                    let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                    rest = &rest[i + skip..];
                }
                None => {
                    natural.push(rest);
                    rest = "";
                }
            }
        }
        let mut i = 0;
        while i < natural.len() {
            let start_line = i + 1;
            let first = natural[i].trim_start_matches(is_ws);
            i += 1;
            if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
                continue;
            }
            let mut logical = String::new();
            let mut piece = first;
            loop {
                let trailing = piece.chars().rev().take_while(|&c| c == '\\').count();
                if trailing % 2 == 1 {
                    logical.push_str(&piece[..piece.len() - 1]);
                    match natural.get(i) {
                        Some(next) => {
                            piece = next.trim_start_matches(is_ws);
                            i += 1;
                        }
                        None => break,
                    }
                } else {
                    logical.push_str(piece);
                    break;
                }
            }
            let (key, value) = split_key_value(&logical);
            let key = unescape(key).map_err(|m| (start_line, m))?;
            let value = unescape(value).map_err(|m| (start_line, m))?;
            props.insert(key, value, start_line);
        }
        Ok(props)
    }

    fn insert(&mut self, key: String, value: String, line: usize) {
        match self.index.get(&key) {
            Some(&pos) => {
                if let Some(e) = self.entries.get_mut(pos) {
                    e.value = value;
                    e.line = line;
                }
            }
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push(Entry { key, value, line });
            }
        }
    }

    /// Builds a set from `(key, value)` pairs (tests, overrides).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut p = Properties::default();
        for (n, (k, v)) in pairs.into_iter().enumerate() {
            p.insert(k.into(), v.into(), n + 1);
        }
        p
    }

    /// The raw (untrimmed) value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| e.value.as_str())
    }

    /// The entry of `key` (value and line).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).and_then(|&i| self.entries.get(i))
    }

    /// All entries in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The file this set was loaded from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace; then skips whitespace
/// and at most one `=`/`:` (followed by more whitespace). Both parts are still escaped.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_sep = false;
    for (idx, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' => {
                key_end = idx;
                value_start = idx + 1;
                has_sep = true;
                break;
            }
            c if is_ws(c) => {
                key_end = idx;
                value_start = idx + c.len_utf8();
                break;
            }
            _ => {}
        }
    }
    let mut rest = &line[value_start..];
    rest = rest.trim_start_matches(is_ws);
    if !has_sep {
        if let Some(r) = rest.strip_prefix(['=', ':']) {
            rest = r.trim_start_matches(is_ws);
        }
    }
    (&line[..key_end], rest)
}

/// Resolves backslash escapes. Java strings are UTF-16, so `\uD83D\uDE00` is one character:
/// we collect UTF-16 units and decode them at the end (a lone surrogate becomes U+FFFD).
fn unescape(s: &str) -> Result<String, String> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut buf = [0u16; 2];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let c = if c != '\\' {
            c
        } else {
            match chars.next() {
                None => continue, // a lone trailing backslash (end of file) is dropped
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                Some('f') => '\u{c}',
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = if hex.len() == 4 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                        u16::from_str_radix(&hex, 16).ok()
                    } else {
                        None
                    };
                    match unit {
                        Some(u) => {
                            units.push(u);
                            continue;
                        }
                        None => return Err(format!("malformed \\uxxxx encoding: \\u{hex}")),
                    }
                }
                Some(other) => other,
            }
        };
        units.extend_from_slice(c.encode_utf16(&mut buf));
    }
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &[u8]) -> Properties {
        Properties::parse(text).expect("parses")
    }

    // Expected values follow the java.util.Properties.load rules (JDK documentation).
    #[test]
    fn separators() {
        let props = p(b"a=1\nb:2\nc 3\nd = 4\ne\t:  5 \nf\ng =\n  h  =  x = y\n");
        assert_eq!(props.get("a"), Some("1"));
        assert_eq!(props.get("b"), Some("2"));
        assert_eq!(props.get("c"), Some("3"));
        assert_eq!(props.get("d"), Some("4"));
        assert_eq!(props.get("e"), Some("5 "));
        assert_eq!(props.get("f"), Some(""));
        assert_eq!(props.get("g"), Some(""));
        assert_eq!(props.get("h"), Some("x = y"));
    }

    #[test]
    fn whitespace_then_second_separator_is_skipped_once() {
        // "k  ==v": key k, separator whitespace then one '=', value "=v".
        let props = p(b"k  ==v\n");
        assert_eq!(props.get("k"), Some("=v"));
    }

    #[test]
    fn comments_and_blank_lines() {
        let props = p(b"# c1\n  ! c2\n\n   \nk=v # not a comment\n#k2=x\n");
        assert_eq!(props.len(), 1);
        assert_eq!(props.get("k"), Some("v # not a comment"));
        assert_eq!(props.entry("k").map(|e| e.line), Some(5));
    }

    #[test]
    fn comment_lines_do_not_continue() {
        let props = p(b"# comment \\\nk=v\n");
        assert_eq!(props.get("k"), Some("v"));
    }

    #[test]
    fn escapes() {
        let props =
            p(b"regex=.*\\\\..*\ntab=a\\tb\nkey\\ with\\=sep=v\\:w\nu=\\u00e9\\u4e2d\nq=\\q\n");
        assert_eq!(props.get("regex"), Some(".*\\..*"));
        assert_eq!(props.get("tab"), Some("a\tb"));
        assert_eq!(props.get("key with=sep"), Some("v:w"));
        assert_eq!(props.get("u"), Some("\u{e9}\u{4e2d}"));
        assert_eq!(props.get("q"), Some("q"));
    }

    #[test]
    fn surrogate_pair_escape() {
        let props = p(b"e=\\uD83D\\uDE00!\nlone=\\uD83Dx\n");
        assert_eq!(props.get("e"), Some("\u{1F600}!"));
        assert_eq!(props.get("lone"), Some("\u{FFFD}x"));
    }

    #[test]
    fn latin1_bytes() {
        // 0xE9 is e-acute in ISO-8859-1; 0x80 is U+0080 (not the euro sign of windows-1252).
        let props = p(b"k=caf\xe9\x80\n");
        assert_eq!(props.get("k"), Some("caf\u{e9}\u{80}"));
    }

    #[test]
    fn continuation_lines() {
        let props = p(b"list = a,\\\n     b,\\\r\n\t c\nnext=1\nodd=x\\\\\nlast=y\\");
        assert_eq!(props.get("list"), Some("a,b,c"));
        assert_eq!(props.get("next"), Some("1"));
        assert_eq!(props.get("odd"), Some("x\\"));
        assert_eq!(props.get("last"), Some("y"));
    }

    #[test]
    fn continuation_line_starting_with_hash_is_value() {
        let props = p(b"k=a\\\n#b\n");
        assert_eq!(props.get("k"), Some("a#b"));
    }

    #[test]
    fn cr_only_line_ends() {
        let props = p(b"a=1\rb=2\r");
        assert_eq!(props.get("a"), Some("1"));
        assert_eq!(props.get("b"), Some("2"));
    }

    #[test]
    fn later_duplicate_wins() {
        let props = p(b"k=1\nk=2\n");
        assert_eq!(props.get("k"), Some("2"));
        assert_eq!(props.len(), 1);
    }

    #[test]
    fn malformed_unicode_escape_is_an_error_with_line() {
        let err = Properties::parse(b"ok=1\nbad=\\u12x4\n").unwrap_err();
        assert_eq!(err.0, 2);
        assert!(err.1.contains("malformed"), "{}", err.1);
        assert!(Properties::parse(b"bad=\\u12").is_err());
    }
}
