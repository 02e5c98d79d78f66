//! Configuration errors: each one names where the value came from, the key, the value and
//! what was expected, so an operator can fix the file without reading code.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `-Dkey=value` argument (Java: a JVM system property).
    SystemProperty,
    /// An environment variable with the dotted key as its name.
    Environment,
    /// A properties file, with the line of the entry.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line of the entry.
        line: usize,
    },
    /// The built-in default (Java: the code or Spring XML default).
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::SystemProperty => f.write_str("-D override"),
            Origin::Environment => f.write_str("environment variable"),
            Origin::File { path, line } => write!(f, "{} line {}", path.display(), line),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// A configuration problem. Every variant carries enough context to be shown as is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A properties file is not valid `java.util.Properties` text.
    #[error("{}: line {line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A value that cannot be used.
    #[error("{origin}: invalid value for {key}: \"{value}\" (expected {expected})")]
    Invalid {
        /// Where the value came from.
        origin: Origin,
        /// The property key.
        key: String,
        /// The value as read (trimmed).
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A required key is absent or blank.
    #[error("{}: {key} is required ({expected})", file.display())]
    Missing {
        /// The file where the key was looked for.
        file: PathBuf,
        /// The property key.
        key: String,
        /// What it must hold.
        expected: String,
    },
    /// A `${...}` placeholder that cannot be resolved (cycle or unterminated).
    #[error("{origin}: {key}: {message}")]
    Placeholder {
        /// Where the value holding the placeholder came from.
        origin: Origin,
        /// The property key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// A [`ConfigError::Missing`] for `key` of `file`.
    pub fn missing(file: &Path, key: &str, expected: &str) -> Self {
        ConfigError::Missing {
            file: file.to_path_buf(),
            key: key.to_string(),
            expected: expected.to_string(),
        }
    }

    /// The property key this error is about, if it is about one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. }
            | ConfigError::Missing { key, .. }
            | ConfigError::Placeholder { key, .. } => Some(key),
            ConfigError::Io { .. } | ConfigError::Syntax { .. } => None,
        }
    }
}
