//! canal-telemetry: what operators of Java Canal look at, reproduced for canal-rs.
//!
//! Owns:
//! * [`names`]: every Prometheus family of operations.md §5 (names, help texts, labels verbatim)
//!   and the canal-rs additions (`canal_rs_*`: binlog delay in seconds per stage, store fill
//!   ratio, parser state, HA role and changes, ZooKeeper session state, connections, auth
//!   failures, errors).
//! * [`metrics`]: the facade the pipeline, store, server and HA code call
//!   ([`Telemetry`], [`InstanceMetrics`], [`ClientMetrics`]), computed the way Canal computes
//!   them (delays at scrape time), rendered with metrics-exporter-prometheus.
//! * [`http`]: the `canal.metrics.pull.port` endpoint (`/`, `/metrics`, `/health`, `/ready`).
//! * [`logging`]: Canal's log files (`logs/canal/canal.log`, `logs/<dest>/<dest>.log`,
//!   `logs/<dest>/meta.log` fed by the meta flush target), day+size rotation into gzip
//!   archives, `RUST_LOG` control; [`lifecycle`]: one structured line per lifecycle event.
//!
//! The text is rewritten into simpleclient 0.4.0's shape (trailing comma in label sets, Java
//! double formatting, `le="10.0"`). Known differences left: families without samples are
//! omitted (PromQL can not tell), family order is alphabetical (Canal's is unstable), no gzip,
//! and `canal_instance_store_produce_seq` / `consume_seq` start at 0 instead of -1 (a
//! Prometheus counter here can not be negative).
//!
//! Wiring (done by the binary owner):
//! * logs: `logging::init(&LogConfig::new(log_dir))` instead of a plain fmt subscriber; run each
//!   destination's tasks in [`lifecycle::destination_span`]; meta flush lines are events with
//!   target [`logging::META_LOG_TARGET`] and a `destination` field (canal-meta emits them;
//!   [`logging::MetaLog`] writes such a file directly); [`lifecycle`] functions at start /
//!   position chosen / dump connected / error.
//! * metrics port: `MetricsServer::start_or_warn(Telemetry::global().clone(), port)` when the
//!   embedded server starts (before instances, like Canal), then
//!   `Telemetry::global().install_role_readiness(non_lazy_destinations)`.
//! * per destination: [`Telemetry::register_instance`] just before start (pass the handle to
//!   parser and sink, install [`InstanceMetrics::set_store_snapshot`]),
//!   [`Telemetry::unregister_instance`] after stop; [`Telemetry::set_role`] on every HA change.
//! * client port: [`Telemetry::client`] per session, [`Telemetry::connection_opened`],
//!   [`Telemetry::auth_failure`]; ZooKeeper: [`Telemetry::set_zk_state`].
//!
//! Must not touch: the pipeline, store, server or HA logic (it only observes through the
//! handles and callbacks they are given), nor other crates' files.

#![warn(missing_docs)]

pub mod http;
pub mod lifecycle;
pub mod logging;
pub mod metrics;
pub mod names;
mod process;

pub use crate::http::MetricsServer;
pub use crate::metrics::{
    BatchMode, ClientMetrics, ConnectionGuard, InstanceInfo, InstanceMetrics, PacketKind,
    ParserState, Readiness, Role, StoreSnapshot, Telemetry,
};
