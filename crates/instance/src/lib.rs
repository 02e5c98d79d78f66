//! canal-instance: wires one destination (binlog -> parse -> sink -> store, with meta) and runs
//! its lifecycle. Must not speak the client protocol (the server crate does; destinations reach
//! it through [`Registry`]), decode binlog, convert entries or implement the store/meta itself:
//! it only composes `canal_binlog`, `canal_parse`, `canal_sink`, `canal_store` and `canal_meta`.
//!
//! * [`position`]: the start position decision (entry-conversion.md §5.1) over a
//!   [`position::SourceProbe`]; [`probe::ClientProbe`] answers it with `canal_binlog::client`
//!   (`show master status`, `server_id`, the timestamp searches of §5.2).
//! * [`supervise`]: restart after errors with backoff; definite errors stop the destination.
//! * [`head`]: per running destination, a periodic poll of the source's binlog end on its own
//!   connection, setting `canal_rs_binlog_behind_bytes` (source head minus the parser's restart
//!   point, across files with `SHOW BINARY LOGS`); errors are logged at debug and counted.
//! * [`controller`]: which destinations run (configured, lazy, auto-scan add/reload/remove while
//!   the others keep running), over a [`controller::Launcher`].
//! * [`pipeline`]: the real launcher. Per destination: the store, the meta manager of the
//!   configured meta mode (memory / file meta.dat) and the parser position manager
//!   (Failback(Memory, Meta), as Java's XMLs wire it), then one supervised parser run = a reader
//!   task (replica dump with reconnect) -> a parser thread (decoder + converter + transaction
//!   buffer) -> a sink thread (sink + blocking store put + position persistence).
//!
//! ZooKeeper meta (`default-instance.xml`) comes from the HA wiring through
//! [`pipeline::PipelineLauncher::with_meta_factory`]. Not yet here: group parsers
//! (`group-instance.xml`) are refused with a clear error; the heartbeat (`detecting.*`) and
//! master/standby switching are not implemented. `canal.instance.tsdb.enable` means: refine
//! the start position like Java's TSDB mode and keep `canal_parse`'s table meta history in
//! `{canal.file.data.dir}/{destination}/table_meta_history.jsonl` (instead of Java's H2 file).

pub mod controller;
pub mod error;
pub mod head;
pub mod pipeline;
pub mod position;
pub mod probe;
pub mod supervise;

pub use controller::{Controller, Launcher};
pub use error::InstanceError;
pub use pipeline::{Parts, PipelineLauncher, Registry};
