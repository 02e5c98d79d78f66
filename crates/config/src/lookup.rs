//! Where a value comes from, in Java Canal's order (../shared/compat/operations.md §4.1).
//!
//! * Server level (launcher/controller keys): `-D` override, then an environment variable with
//!   exactly the dotted name, then canal.properties; trimmed; no `${}` expansion.
//! * Instance level (what Java reads through Spring XML placeholders): a non-blank `-D`/env
//!   override, then the merged files (instance.properties over canal.properties; a key present
//!   but blank counts as unset), then the built-in (XML) default. Values may contain
//!   `${key}` / `${key:default}` placeholders, resolved recursively through the same chain;
//!   `canal.instance.destination` is the destination being built.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::error::{ConfigError, Origin};
use crate::properties::Properties;

/// `-D` style overrides and a snapshot of the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    system: HashMap<String, String>,
    env: HashMap<String, String>,
}

impl Overrides {
    /// No overrides at all (tests).
    pub fn none() -> Self {
        Self::default()
    }

    /// `-D` pairs plus the current process environment.
    pub fn from_process(system: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            system: system.into_iter().collect(),
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// `-D` pairs plus an explicit environment (tests).
    pub fn with(
        system: impl IntoIterator<Item = (String, String)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            system: system.into_iter().collect(),
            env: env.into_iter().collect(),
        }
    }

    /// Parses one `key=value` (`-D` already stripped); `None` without `=`.
    pub fn parse_define(arg: &str) -> Option<(String, String)> {
        let arg = arg.strip_prefix("-D").unwrap_or(arg);
        let (k, v) = arg.split_once('=')?;
        Some((k.trim().to_string(), v.to_string()))
    }

    /// The `-D` value of `key`.
    pub fn system(&self, key: &str) -> Option<&str> {
        self.system.get(key).map(String::as_str)
    }

    /// The environment value of `key`.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The trimmed (and, at instance level, placeholder-resolved) text.
    pub text: String,
    /// Where it came from.
    pub origin: Origin,
}

fn file_origin(props: &Properties, key: &str) -> Origin {
    Origin::File {
        path: props.path().map(PathBuf::from).unwrap_or_default(),
        line: props.entry(key).map(|e| e.line).unwrap_or(0),
    }
}

/// Server-level read: `-D`, env, file (null checks only, so a blank `-D` still wins); trimmed.
pub fn server_value(overrides: &Overrides, server: &Properties, key: &str) -> Option<Value> {
    if let Some(v) = overrides.system(key) {
        return Some(Value {
            text: v.trim().to_string(),
            origin: Origin::SystemProperty,
        });
    }
    if let Some(v) = overrides.env(key) {
        return Some(Value {
            text: v.trim().to_string(),
            origin: Origin::Environment,
        });
    }
    server.get(key).map(|v| Value {
        text: v.trim().to_string(),
        origin: file_origin(server, key),
    })
}

/// The instance-level chain for one destination.
#[derive(Debug, Clone, Copy)]
pub struct InstanceLookup<'a> {
    /// Overrides.
    pub overrides: &'a Overrides,
    /// canal.properties.
    pub server: &'a Properties,
    /// `{dest}/instance.properties` (absent file = `None`).
    pub instance: Option<&'a Properties>,
    /// The destination (value of `canal.instance.destination`).
    pub destination: &'a str,
}

/// Upper bound on nested placeholder resolution (a cycle is reported before this).
const MAX_DEPTH: usize = 32;

impl InstanceLookup<'_> {
    /// The raw chain without default: non-blank override, then merged files (blank = unset).
    fn raw(&self, key: &str) -> Option<Value> {
        if key == "canal.instance.destination" {
            return Some(Value {
                text: self.destination.to_string(),
                origin: Origin::SystemProperty,
            });
        }
        for (v, origin) in [
            (self.overrides.system(key), Origin::SystemProperty),
            (self.overrides.env(key), Origin::Environment),
        ] {
            if let Some(v) = v {
                if !v.trim().is_empty() {
                    return Some(Value {
                        text: v.trim().to_string(),
                        origin,
                    });
                }
            }
        }
        let (text, origin) = match self.instance.and_then(|p| p.get(key).map(|v| (v, p))) {
            Some((v, p)) => (v, file_origin(p, key)),
            None => match self.server.get(key) {
                Some(v) => (v, file_origin(self.server, key)),
                None => return None,
            },
        };
        if text.trim().is_empty() {
            return None;
        }
        Some(Value {
            text: text.trim().to_string(),
            origin,
        })
    }

    /// Resolves `key` with `default` (the XML default; `None` = no default, i.e. `""`).
    /// Returns `None` when neither the chain nor the default gives a non-blank value.
    pub fn get(&self, key: &str, default: Option<&str>) -> Result<Option<Value>, ConfigError> {
        let mut stack = vec![key.to_string()];
        let found = match self.raw(key) {
            Some(v) => v,
            None => match default {
                Some(d) => Value {
                    text: d.to_string(),
                    origin: Origin::Default,
                },
                None => return Ok(None),
            },
        };
        let text =
            self.expand(&found.text, &mut stack)
                .map_err(|message| ConfigError::Placeholder {
                    origin: found.origin.clone(),
                    key: key.to_string(),
                    message,
                })?;
        let text = text.trim().to_string();
        if text.is_empty() {
            return Ok(None);
        }
        Ok(Some(Value {
            text,
            origin: found.origin,
        }))
    }

    /// Expands every `${name}` / `${name:default}` in `text` (Spring placeholder rules: nested
    /// placeholders allowed, the first `:` splits off the default, no value and no default = "").
    fn expand(&self, text: &str, stack: &mut Vec<String>) -> Result<String, String> {
        if stack.len() > MAX_DEPTH {
            return Err(format!("placeholders nested deeper than {MAX_DEPTH}"));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = find_placeholder_end(after)
                .ok_or_else(|| format!("unterminated placeholder in \"{text}\""))?;
            let inner = self.expand(&after[..end], stack)?;
            let (name, default) = match inner.split_once(':') {
                Some((n, d)) => (n.trim(), Some(d)),
                None => (inner.trim(), None),
            };
            if stack.iter().any(|k| k == name) {
                return Err(format!(
                    "circular placeholder reference: {} -> {name}",
                    stack.join(" -> ")
                ));
            }
            let value = match self.raw(name) {
                Some(v) => Some(v.text),
                None => default.map(str::to_string),
            };
            if let Some(v) = value {
                stack.push(name.to_string());
                let expanded = self.expand(&v, stack)?;
                stack.pop();
                out.push_str(&expanded);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Index (in `s`, which starts right after `${`) of the `}` closing the placeholder.
fn find_placeholder_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i..i + 2) == Some(b"${".as_slice()) {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes.get(i) == Some(&b'}') {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(
        overrides: &'a Overrides,
        server: &'a Properties,
        instance: Option<&'a Properties>,
    ) -> InstanceLookup<'a> {
        InstanceLookup {
            overrides,
            server,
            instance,
            destination: "example",
        }
    }

    fn text(v: Result<Option<Value>, ConfigError>) -> Option<String> {
        v.expect("resolves").map(|v| v.text)
    }

    #[test]
    fn server_order_system_env_file_and_trim() {
        let server = Properties::from_pairs([("canal.port", " 11111 "), ("canal.ip", "1.2.3.4")]);
        let o = Overrides::with(
            [("canal.port".to_string(), " 2000".to_string())],
            [
                ("canal.port".to_string(), "3000".to_string()),
                ("canal.ip".to_string(), "5.6.7.8".to_string()),
            ],
        );
        let port = server_value(&o, &server, "canal.port").expect("present");
        assert_eq!(port.text, "2000");
        assert_eq!(port.origin, Origin::SystemProperty);
        let ip = server_value(&o, &server, "canal.ip").expect("present");
        assert_eq!(ip.text, "5.6.7.8");
        assert_eq!(ip.origin, Origin::Environment);
        let none = Overrides::none();
        assert_eq!(
            server_value(&none, &server, "canal.port").map(|v| v.text),
            Some("11111".to_string())
        );
        assert!(server_value(&none, &server, "canal.zkServers").is_none());
    }

    #[test]
    fn server_level_does_not_expand_placeholders() {
        let server = Properties::from_pairs([("canal.file.data.dir", "${canal.conf.dir}")]);
        let v = server_value(&Overrides::none(), &server, "canal.file.data.dir");
        assert_eq!(v.map(|v| v.text), Some("${canal.conf.dir}".to_string()));
    }

    #[test]
    fn instance_file_wins_and_blank_falls_to_default() {
        let server = Properties::from_pairs([
            ("canal.instance.filter.regex", "a\\..*"),
            ("canal.instance.dbUsername", "srv"),
        ]);
        let inst = Properties::from_pairs([
            ("canal.instance.dbUsername", "inst"),
            ("canal.instance.filter.regex", "  "),
        ]);
        let o = Overrides::none();
        let l = lookup(&o, &server, Some(&inst));
        assert_eq!(
            text(l.get("canal.instance.dbUsername", Some("retl"))),
            Some("inst".into())
        );
        // present-but-blank in instance.properties hides canal.properties and gives the default
        assert_eq!(
            text(l.get("canal.instance.filter.regex", Some(".*\\..*"))),
            Some(".*\\..*".into())
        );
        assert_eq!(text(l.get("canal.instance.detecting.sql", None)), None);
    }

    #[test]
    fn blank_override_falls_through() {
        let server = Properties::from_pairs([("canal.instance.dbUsername", "file")]);
        let o = Overrides::with(
            [("canal.instance.dbUsername".to_string(), " ".to_string())],
            [("canal.instance.dbUsername".to_string(), "env".to_string())],
        );
        let l = lookup(&o, &server, None);
        assert_eq!(
            text(l.get("canal.instance.dbUsername", None)),
            Some("env".into())
        );
    }

    #[test]
    fn placeholders_recursive_with_defaults() {
        let server = Properties::from_pairs([
            ("canal.conf.dir", "../conf"),
            ("canal.file.data.dir", "${canal.conf.dir}"),
            (
                "canal.instance.tsdb.dir",
                "${canal.file.data.dir:../conf}/${canal.instance.destination:}",
            ),
            (
                "canal.instance.tsdb.url",
                "jdbc:h2:${canal.instance.tsdb.dir}/h2;CACHE_SIZE=1000;MODE=MYSQL;",
            ),
            ("with.default", "${missing.key:a:b}"),
            ("no.default", "x${missing.key}y"),
            ("nested", "${${inner.name}}"),
            ("inner.name", "canal.conf.dir"),
        ]);
        let o = Overrides::none();
        let l = lookup(&o, &server, None);
        assert_eq!(
            text(l.get("canal.instance.tsdb.url", None)),
            Some("jdbc:h2:../conf/example/h2;CACHE_SIZE=1000;MODE=MYSQL;".into())
        );
        assert_eq!(text(l.get("with.default", None)), Some("a:b".into()));
        assert_eq!(text(l.get("no.default", None)), Some("xy".into()));
        assert_eq!(text(l.get("nested", None)), Some("../conf".into()));
    }

    #[test]
    fn placeholder_sees_overrides() {
        let server = Properties::from_pairs([("canal.file.data.dir", "${canal.conf.dir}")]);
        let o = Overrides::with(
            [("canal.conf.dir".to_string(), "/srv/conf".to_string())],
            [],
        );
        let l = lookup(&o, &server, None);
        assert_eq!(
            text(l.get("canal.file.data.dir", None)),
            Some("/srv/conf".into())
        );
    }

    #[test]
    fn placeholder_cycle_and_unterminated_are_errors() {
        let server =
            Properties::from_pairs([("a", "${b}"), ("b", "x${a}"), ("open", "${never.closed")]);
        let o = Overrides::none();
        let l = lookup(&o, &server, None);
        let err = l.get("a", None).unwrap_err();
        assert_eq!(err.key(), Some("a"));
        assert!(err.to_string().contains("circular"), "{err}");
        let err = l.get("open", None).unwrap_err();
        assert!(err.to_string().contains("unterminated"), "{err}");
    }

    #[test]
    fn process_environment_is_read_with_dotted_names() {
        // A name only this test uses, so parallel tests are not affected.
        std::env::set_var("canal.g.test.only.key", " from-env ");
        let o = Overrides::from_process([("a.b".to_string(), "c".to_string())]);
        assert_eq!(o.env("canal.g.test.only.key"), Some(" from-env "));
        assert_eq!(o.system("a.b"), Some("c"));
        let server = Properties::from_pairs([("canal.g.test.only.key", "file")]);
        let v = server_value(&o, &server, "canal.g.test.only.key").expect("present");
        assert_eq!(
            (v.text.as_str(), v.origin),
            ("from-env", Origin::Environment)
        );
    }

    #[test]
    fn parse_define_arg() {
        assert_eq!(
            Overrides::parse_define("-Dcanal.port=1"),
            Some(("canal.port".to_string(), "1".to_string()))
        );
        assert_eq!(
            Overrides::parse_define("a=b=c"),
            Some(("a".to_string(), "b=c".to_string()))
        );
        assert_eq!(Overrides::parse_define("-Dnovalue"), None);
    }
}
