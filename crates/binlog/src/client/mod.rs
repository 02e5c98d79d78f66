//! The replica connection to MySQL/MariaDB: handshake and auth, Canal's session set-up,
//! COM_REGISTER_SLAVE, COM_BINLOG_DUMP / COM_BINLOG_DUMP_GTID, heartbeats, reconnect, current
//! position helpers and the timestamp → position search.
//!
//! Owns: sockets to the source (TCP, optional TLS with rustls/ring, Unix socket), the packet
//! framing (16 MiB continuation packets joined), authentication, text queries, the dump and
//! per-event positions. It must not decode event bodies beyond the few fields positions need
//! (ROTATE target, GTID ids, the QUERY text for the timestamp search): the decoder
//! ([`crate::decoder`], [`crate::event`]) owns that, and this module must not touch it. It
//! knows nothing about Canal entries, filters or the store.
//!
//! Built on mysql_common: handshake/auth-switch/SSL-request/register-slave/dump packet types
//! and the auth plugins (mysql_native_password, caching_sha2_password fast and full auth — over
//! TLS/Unix socket the cleartext password, over plain TCP the RSA public-key exchange with
//! mysql_common's OAEP encryption — and MariaDB client_ed25519). Hand-written here, because
//! mysql_common has no async transport: packet framing, the OK/ERR/result-set readers (a
//! bounds-checked length-encoded reader) and three tiny event-body readers for positions.
//!
//! Known differences from Java Canal's connection: the handshake announces collation
//! utf8mb4_general_ci (45) rather than echoing the server's; Unix sockets are supported; the
//! MariaDB BINLOG_CHECKPOINT file-name override of Canal's decoder context is not applied to
//! positions (the consumer may apply it).
//!
//! * [`conn`]: [`Connection`] — connect, auth, `query`, `quit`.
//! * [`replica`]: [`start_dump`] / [`BinlogStream`] — raw events with file/offset/GTID.
//! * [`position`]: `show master status` & co, pre-flight checks, [`find_by_timestamp`].
//! * [`reconnect`]: [`ReplicaClient`] — backoff and resume from the committed boundary.
//! * [`error`]: [`ClientError`] with transient/definite classification.
//!
//! ```no_run
//! use canal_binlog::client::{ConnectOptions, ReplicaClient, ReplicaOptions, StartPosition, StreamItem};
//! use canal_binlog::event::types;
//!
//! # async fn run() -> Result<(), canal_binlog::client::ClientError> {
//! let conn = ConnectOptions::from_addr("127.0.0.1:3306", "canal", "canal")?;
//! let start = StartPosition::FilePos { file: "mysql-bin.000001".into(), pos: 4 };
//! let mut client = ReplicaClient::new(conn, ReplicaOptions::default(), start);
//! loop {
//!     match client.next().await? {
//!         StreamItem::Event(ev) => {
//!             // ev.data: raw event for the decoder; ev.file / ev.offset / ev.next_offset: where.
//!             if ev.event_type() == types::XID {
//!                 client.commit(ev.next_position()); // resume here after a reconnect
//!             }
//!         }
//!         StreamItem::Reconnected { .. } => { /* drop any half-read transaction */ }
//!     }
//! }
//! # }
//! ```

#![warn(missing_docs)]

pub mod conn;
pub mod error;
pub mod position;
pub mod reconnect;
pub mod replica;
pub mod tls;

pub use conn::{ConnectOptions, Connection, Flavor, QueryResult, ServerInfo};
pub use error::{ClientError, ServerError};
pub use position::{
    binary_logs, binlog_status, find_by_timestamp, preflight, server_id, BinlogFile, BinlogStatus,
    FoundPosition, PreflightOptions,
};
pub use reconnect::{Backoff, ReplicaClient, StreamItem};
pub use replica::{
    canal_slave_id, setup_session, start_dump, BinlogEvent, BinlogStream, ReplicaOptions,
    SessionInfo, StartPosition,
};
pub use tls::{SslMode, TlsOptions};
