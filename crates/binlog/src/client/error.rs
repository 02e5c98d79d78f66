//! Typed errors of the replica connection, classified as transient (retry with backoff) or
//! definite (retrying cannot help: fix the configuration or the source first).

use std::fmt;

/// MySQL/MariaDB server error codes this module interprets.
pub mod codes {
    /// ER_DBACCESS_DENIED_ERROR.
    pub const DBACCESS_DENIED: u16 = 1044;
    /// ER_ACCESS_DENIED_ERROR (wrong user or password).
    pub const ACCESS_DENIED: u16 = 1045;
    /// ER_UNKNOWN_COM_ERROR.
    pub const UNKNOWN_COM: u16 = 1047;
    /// ER_CON_COUNT_ERROR (too many connections).
    pub const CON_COUNT: u16 = 1040;
    /// ER_SERVER_SHUTDOWN.
    pub const SERVER_SHUTDOWN: u16 = 1053;
    /// ER_QUERY_INTERRUPTED.
    pub const QUERY_INTERRUPTED: u16 = 1317;
    /// ER_CONNECTION_KILLED.
    pub const CONNECTION_KILLED: u16 = 1927;
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR (missing global privilege such as REPLICATION SLAVE).
    pub const SPECIFIC_ACCESS_DENIED: u16 = 1227;
    /// ER_MASTER_FATAL_ERROR_READING_BINLOG.
    pub const MASTER_FATAL_READING_BINLOG: u16 = 1236;
    /// ER_NO_BINARY_LOGGING.
    pub const NO_BINARY_LOGGING: u16 = 1381;
    /// ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
    pub const ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
    /// ER_PLUGIN_IS_NOT_LOADED.
    pub const PLUGIN_NOT_LOADED: u16 = 1524;
    /// ER_MUST_CHANGE_PASSWORD_LOGIN.
    pub const MUST_CHANGE_PASSWORD_LOGIN: u16 = 1862;
    /// ER_ACCOUNT_HAS_BEEN_LOCKED.
    pub const ACCOUNT_LOCKED: u16 = 3118;
    /// ER_HOST_NOT_PRIVILEGED.
    pub const HOST_NOT_PRIVILEGED: u16 = 1130;
    /// ER_SLAVE_SERVER_ID / duplicate replica server id (MySQL 1236 text variants use 1236).
    pub const MASTER_HAS_PURGED_REQUIRED_GTIDS: u16 = 1789;
}

/// An error packet sent by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The server's error code (e.g. 1045).
    pub code: u16,
    /// The SQLSTATE, when the server sent one.
    pub state: Option<String>,
    /// The server's message text.
    pub message: String,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            Some(s) => write!(f, "ERROR {} ({}): {}", self.code, s, self.message),
            None => write!(f, "ERROR {}: {}", self.code, self.message),
        }
    }
}

/// Everything that can go wrong on a replica connection.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The network failed (refused, reset, closed, timed out). Transient.
    #[error("network error talking to {addr}: {source}")]
    Io {
        /// The server address.
        addr: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No answer within the read timeout. Transient.
    #[error("timed out after {secs} s waiting for {what} from {addr}")]
    Timeout {
        /// The server address.
        addr: String,
        /// What we were waiting for.
        what: &'static str,
        /// The timeout in seconds.
        secs: u64,
    },
    /// TLS set-up or transport failure. Definite for configuration problems (server without
    /// TLS, certificate rejected).
    #[error("TLS error with {addr}: {message}")]
    Tls {
        /// The server address.
        addr: String,
        /// What went wrong.
        message: String,
    },
    /// Wrong user name or password (or the account may not log in from this host). Definite.
    #[error("authentication failed for user '{user}' at {addr}: {server}")]
    AuthFailed {
        /// The user we logged in as.
        user: String,
        /// The server address.
        addr: String,
        /// The server's error.
        server: ServerError,
    },
    /// The server asked for an auth plugin we do not implement, or the exchange broke. Definite.
    #[error("authentication with {addr} failed: {message}")]
    AuthProtocol {
        /// The server address.
        addr: String,
        /// What went wrong.
        message: String,
    },
    /// The account lacks a privilege needed to replicate (REPLICATION SLAVE / REPLICATION
    /// CLIENT / BINLOG MONITOR). Definite.
    #[error("user '{user}' lacks the privilege needed for {what}; grant it with `GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'`: {server}")]
    MissingPrivilege {
        /// The user we logged in as.
        user: String,
        /// The step that failed.
        what: String,
        /// The server's error.
        server: ServerError,
    },
    /// The source does not write a binlog (`log_bin` is OFF). Definite.
    #[error("binary logging is disabled on {addr} (log_bin=OFF): start the server with --log-bin")]
    BinlogDisabled {
        /// The server address.
        addr: String,
    },
    /// `binlog_format` / `binlog_row_image` is not one of the allowed values. Definite.
    #[error("{variable}={actual} on {addr} is not allowed (allowed: {allowed}); configure the source with {variable}={allowed}")]
    BadBinlogSetting {
        /// The server address.
        addr: String,
        /// `binlog_format` or `binlog_row_image`.
        variable: &'static str,
        /// The server's value.
        actual: String,
        /// The allowed values, comma separated.
        allowed: String,
    },
    /// The requested binlog file or GTID range is no longer on the source (purged, or never
    /// existed). Definite: the start position must be changed (Canal's ServerLogPurgedException).
    #[error("binlog position no longer available on {addr} (purged binlog?): {server}")]
    BinlogPurged {
        /// The server address.
        addr: String,
        /// The server's error.
        server: ServerError,
    },
    /// The server ended the dump with an EOF packet (e.g. another replica registered with the same
    /// server id). Transient.
    #[error("the source {addr} ended the binlog dump (EOF packet); is another replica using server id {server_id}?")]
    DumpEnded {
        /// The server address.
        addr: String,
        /// Our replica server id.
        server_id: u32,
    },
    /// Any other error packet from the server. Classified by code (see
    /// [`ClientError::is_transient`]).
    #[error("server {addr} returned {server} (while {what})")]
    Server {
        /// The server address.
        addr: String,
        /// The step that failed.
        what: String,
        /// The server's error.
        server: ServerError,
    },
    /// The server sent bytes that violate the protocol. Transient (a reconnect usually helps;
    /// the byte stream is no longer trustworthy).
    #[error("protocol error from {addr}: {message}")]
    Protocol {
        /// The server address.
        addr: String,
        /// What was wrong.
        message: String,
    },
    /// A packet larger than the configured maximum. Definite.
    #[error("packet of {size} bytes from {addr} exceeds the limit of {limit} bytes")]
    PacketTooLarge {
        /// The server address.
        addr: String,
        /// The announced size.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The caller gave an invalid argument (e.g. a malformed GTID set). Definite.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No position matches the search (e.g. the timestamp is before every binlog). Definite.
    #[error("position not found: {0}")]
    PositionNotFound(String),
}

impl ClientError {
    /// True when retrying after a pause may succeed (network loss, timeouts, the server
    /// shutting down or killing our thread, too many connections).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Io { .. }
            | ClientError::Timeout { .. }
            | ClientError::DumpEnded { .. }
            | ClientError::Protocol { .. } => true,
            ClientError::Server { server, .. } => matches!(
                server.code,
                codes::CON_COUNT
                    | codes::SERVER_SHUTDOWN
                    | codes::QUERY_INTERRUPTED
                    | codes::CONNECTION_KILLED
                    // 1236 without "purged" text: e.g. a corrupt event or a duplicate slave id.
                    | codes::MASTER_FATAL_READING_BINLOG
            ),
            _ => false,
        }
    }

    /// True when the error is the "binlog purged / file not found" kind.
    pub fn is_purged(&self) -> bool {
        matches!(self, ClientError::BinlogPurged { .. })
    }

    /// The server error carried by this error, if any.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            ClientError::AuthFailed { server, .. }
            | ClientError::MissingPrivilege { server, .. }
            | ClientError::BinlogPurged { server, .. }
            | ClientError::Server { server, .. } => Some(server),
            _ => None,
        }
    }
}

/// True when a 1236 message means the requested binlog/GTIDs are gone (Canal's rule: the message
/// contains "not find first log file name" or "purged binary logs"; MySQL's GTID variant says
/// "purged" too).
pub(crate) fn is_purged_message(code: u16, message: &str) -> bool {
    if code == codes::MASTER_HAS_PURGED_REQUIRED_GTIDS {
        return true;
    }
    if code != codes::MASTER_FATAL_READING_BINLOG {
        return false;
    }
    let m = message.to_ascii_lowercase();
    m.contains("not find first log file name")
        || m.contains("purged binary logs")
        || m.contains("purged")
        || m.contains("could not find gtid state")
}

/// Maps a server error to the most specific [`ClientError`].
pub(crate) fn classify(server: ServerError, addr: &str, user: &str, what: &str) -> ClientError {
    if is_purged_message(server.code, &server.message) {
        return ClientError::BinlogPurged {
            addr: addr.to_string(),
            server,
        };
    }
    match server.code {
        codes::SPECIFIC_ACCESS_DENIED | codes::DBACCESS_DENIED => ClientError::MissingPrivilege {
            user: user.to_string(),
            what: what.to_string(),
            server,
        },
        codes::NO_BINARY_LOGGING => ClientError::BinlogDisabled {
            addr: addr.to_string(),
        },
        _ => ClientError::Server {
            addr: addr.to_string(),
            what: what.to_string(),
            server,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn se(code: u16, msg: &str) -> ServerError {
        ServerError {
            code,
            state: Some("HY000".into()),
            message: msg.into(),
        }
    }

    #[test]
    fn purged_messages_from_both_servers_are_definite() {
        // MySQL's text for a missing file.
        let e = classify(
            se(
                1236,
                "Could not find first log file name in binary log index file",
            ),
            "h",
            "u",
            "dump",
        );
        assert!(e.is_purged());
        assert!(!e.is_transient());
        // MySQL's text for a purged GTID range.
        let e = classify(
            se(1236, "Cannot replicate because the source purged required binary logs. Replicate the missing transactions from elsewhere"),
            "h",
            "u",
            "dump",
        );
        assert!(e.is_purged());
        // A 1236 about something else stays transient.
        let e = classify(
            se(
                1236,
                "A slave with the same server_uuid/server_id as this slave has connected",
            ),
            "h",
            "u",
            "dump",
        );
        assert!(!e.is_purged());
        assert!(e.is_transient());
    }

    #[test]
    fn privilege_and_binlog_off_are_definite() {
        let e = classify(
            se(1227, "Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation"),
            "h",
            "bob",
            "COM_BINLOG_DUMP",
        );
        assert!(matches!(e, ClientError::MissingPrivilege { .. }));
        assert!(!e.is_transient());
        assert!(e.to_string().contains("GRANT SELECT, REPLICATION SLAVE"));
        let e = classify(se(1381, "You are not using binary logging"), "h", "u", "x");
        assert!(matches!(e, ClientError::BinlogDisabled { .. }));
        assert!(!e.is_transient());
    }

    #[test]
    fn killed_and_shutdown_are_transient() {
        assert!(classify(se(1927, "Connection was killed"), "h", "u", "x").is_transient());
        assert!(classify(se(1053, "Server shutdown in progress"), "h", "u", "x").is_transient());
        assert!(!classify(se(1146, "Table 'a.b' doesn't exist"), "h", "u", "x").is_transient());
    }
}
