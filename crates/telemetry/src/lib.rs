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
//!   `logs/<dest>/meta.log`), day+size rotation, `RUST_LOG` control; [`lifecycle`]: one
//!   structured line per lifecycle event.
//!
//! Known differences from simpleclient 0.4.0's exposition (PromQL, dashboards and alerts are
//! unaffected): no trailing comma inside label sets, integral values printed without `.0`,
//! families without samples are omitted, and `canal_instance_store_produce_seq` /
//! `consume_seq` start at 0 instead of -1 (a Prometheus counter can not be negative here).
//!
//! Must not touch: the pipeline, store, server or HA logic (it only observes through the
//! handles and callbacks they are given), nor other crates' files.

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
