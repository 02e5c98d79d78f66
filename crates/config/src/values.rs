//! Typed parsing of single values; every failure names the key, the value and what is expected.

use std::str::FromStr;

use crate::error::ConfigError;
use crate::lookup::Value;

/// An `Invalid` error for `v` read under `key`.
pub(crate) fn invalid(v: &Value, key: &str, expected: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        origin: v.origin.clone(),
        key: key.to_string(),
        value: v.text.clone(),
        expected: expected.into(),
    }
}

/// Booleans: Spring's editor words (`true/on/yes/1`, `false/off/no/0`) plus commons-lang's
/// `y/t` and `n/f`, case-insensitive. Anything else is an error rather than a silent `false`.
pub(crate) fn parse_bool(v: &Value, key: &str) -> Result<bool, ConfigError> {
    match v.text.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "t" | "1" => Ok(true),
        "false" | "off" | "no" | "n" | "f" | "0" => Ok(false),
        _ => Err(invalid(v, key, "true or false")),
    }
}

/// A decimal number of type `T` within `[min, max]`.
pub(crate) fn parse_range<T>(v: &Value, key: &str, min: T, max: T) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let expected = || format!("an integer from {min} to {max}");
    let n: T = v.text.parse().map_err(|_| invalid(v, key, expected()))?;
    if n < min || n > max {
        return Err(invalid(v, key, expected()));
    }
    Ok(n)
}

/// A power of two within `[1, max]`.
pub(crate) fn parse_pow2(v: &Value, key: &str, max: u64) -> Result<u64, ConfigError> {
    let expected = || format!("a power of 2 from 1 to {max}");
    let n: u64 = v.text.parse().map_err(|_| invalid(v, key, expected()))?;
    if n == 0 || n > max || !n.is_power_of_two() {
        return Err(invalid(v, key, expected()));
    }
    Ok(n)
}

/// A TCP port 1..=65535.
pub(crate) fn parse_port(v: &Value, key: &str) -> Result<u16, ConfigError> {
    parse_range::<u16>(v, key, 1, u16::MAX)
}

/// `host:port` or `[ipv6]:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

pub(crate) fn parse_host_port(v: &Value, key: &str) -> Result<HostPort, ConfigError> {
    let err = || invalid(v, key, "host:port or [ipv6]:port");
    let text = v.text.as_str();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(err)?;
        (h, p)
    } else {
        let (h, p) = text.rsplit_once(':').ok_or_else(err)?;
        if h.contains(':') {
            return Err(err());
        }
        (h, p)
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(err());
    }
    let port: u16 = p_port(port).ok_or_else(err)?;
    Ok(HostPort {
        host: host.to_string(),
        port,
    })
}

fn p_port(p: &str) -> Option<u16> {
    p.trim().parse::<u16>().ok().filter(|&n| n > 0)
}

/// One of `choices` (case-insensitive); returns the index.
pub(crate) fn parse_choice(v: &Value, key: &str, choices: &[&str]) -> Result<usize, ConfigError> {
    choices
        .iter()
        .position(|c| c.eq_ignore_ascii_case(&v.text))
        .ok_or_else(|| invalid(v, key, format!("one of {}", choices.join(", "))))
}

/// A comma list whose elements are each one of `choices` (case-insensitive); returns them
/// upper-cased as written in `choices`.
pub(crate) fn parse_choice_list(
    v: &Value,
    key: &str,
    choices: &[&str],
) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for part in v.text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let pos = choices
            .iter()
            .position(|c| c.eq_ignore_ascii_case(part))
            .ok_or_else(|| {
                invalid(
                    v,
                    key,
                    format!(
                        "a comma list of {} (\"{part}\" is not one)",
                        choices.join(", ")
                    ),
                )
            })?;
        if let Some(c) = choices.get(pos) {
            out.push((*c).to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Origin;

    fn v(text: &str) -> Value {
        Value {
            text: text.into(),
            origin: Origin::Default,
        }
    }

    #[test]
    fn host_port_forms() {
        let hp = parse_host_port(&v("127.0.0.1:3307"), "k").expect("ok");
        assert_eq!((hp.host.as_str(), hp.port), ("127.0.0.1", 3307));
        let hp = parse_host_port(&v("[::1]:3306"), "k").expect("ok");
        assert_eq!((hp.host.as_str(), hp.port), ("::1", 3306));
        assert_eq!(hp.to_string(), "[::1]:3306");
        for bad in [
            "127.0.0.1",
            "::1:3306",
            "h:0",
            "h:70000",
            ":3306",
            "h:x",
            "[::1]3306",
        ] {
            assert!(parse_host_port(&v(bad), "k").is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans() {
        for t in ["true", "TRUE", "on", "yes", "y", "t", "1"] {
            assert!(parse_bool(&v(t), "k").expect("ok"), "{t}");
        }
        for f in ["false", "False", "off", "no", "n", "f", "0"] {
            assert!(!parse_bool(&v(f), "k").expect("ok"), "{f}");
        }
        let err = parse_bool(&v("ture"), "canal.x").unwrap_err();
        assert_eq!(err.key(), Some("canal.x"));
    }

    #[test]
    fn powers_of_two() {
        assert_eq!(parse_pow2(&v("16384"), "k", 1 << 30).expect("ok"), 16384);
        for bad in ["0", "1000", "-2", "abc", "2147483648"] {
            assert!(parse_pow2(&v(bad), "k", 1 << 30).is_err(), "{bad}");
        }
    }
}
