//! canal-admin: the admin port (`canal.admin.port`, 11110) that canal-admin's console talks to
//! (operations.md §7, wire-protocol.md §5).
//!
//! Owns the connection state machine (HANDSHAKE with an 8-byte seed, CLIENTAUTHENTICATION,
//! then SERVER / INSTANCE / LOG commands answered with ACK packets), the authentication check
//! and the log listing/tailing under the `logs` directory. What the commands act on is behind
//! [`AdminTarget`], which the binary implements over its instance manager.
//!
//! Deliberate difference from Java Canal: a failed login is answered with
//! `Ack{code=300, "auth failed for user:{name}"}` and the connection is closed; Java also sends
//! the success ACK afterwards and serves the session (an auth bypass). An undecodable auth
//! packet closes the connection without a reply, as in Java. Unauthenticated connections are
//! closed after [`AdminConfig::auth_timeout`] (Java has no limit there).
//!
//! Wiring (done by the binary owner): implement [`AdminTarget`] over the instance controller
//! (check = `is_running`, start = `start`, stop = `stop`, restart = `reload`, release = HA
//! release, list = `running`), then, after the client port is bound (Canal opens the admin
//! port last), `AdminServer::start(AdminConfig::new((canal.ip or 0.0.0.0, canal.admin.port),
//! AuthConfig { user: canal.admin.user, passwd: canal.admin.passwd }, log_dir), target,
//! Telemetry::global().clone())`.
//!
//! Must not touch: the instance manager, the client port, configuration parsing.

#![warn(missing_docs)]

mod auth;
mod logs;
mod server;

pub use auth::{check_auth, AuthConfig};
pub use logs::{list_logs, tail_lines, LogError, MAX_TAIL_SCAN};
pub use server::{AdminConfig, AdminServer, AdminTarget, BoxFuture};

/// Ack code of an unknown action / log type.
pub const CODE_UNKNOWN_ACTION: i32 = 301;
/// Ack code of an unsupported packet type, and of a failed login.
pub const CODE_UNSUPPORTED: i32 = 300;
/// Ack code of a failed command.
pub const CODE_ERROR: i32 = 400;
