//! `canalctl status`, `position show|set|reset` and `meta dump`.
//!
//! * [`metrics`]: scraping a running server's metrics port (`canal.metrics.pull.port`) and
//!   reading the exposition text. `status` takes destinations, roles, delays and client
//!   counts from there.
//! * [`meta`]: the file meta (`{canal.file.data.dir}/{destination}/meta.dat`): subscriptions
//!   and cursors, read and rewritten in Canal's format (canal_meta's renderer). `status` takes
//!   the positions from there.
//! * [`zkmeta`]: the ZooKeeper meta (`default-instance.xml` + `canal.zkServers`): cursors at
//!   `/otter/canal/destinations/{d}/{cid}/cursor` through canal_cluster's ZooKeeper meta manager.
//!
//! Why position changes refuse while the destination runs: a running destination keeps the
//! cursors in memory and rewrites meta.dat every `canal.file.flush.period` and at stop (file
//! meta), or writes them to ZooKeeper every `canal.zookeeper.flush.period` (ZooKeeper meta), so
//! an edit made under it is silently lost. File meta: a destination counts as running when the
//! server's metrics port (the `--metrics` address, else 127.0.0.1 and `canal.metrics.pull.port`
//! of the conf) exports samples for it; a refused connection means no server runs there; any
//! other failure, or no metrics port at all, refuses too. ZooKeeper meta: the ephemeral
//! `/otter/canal/destinations/{d}/running` node (a server, on any host) or
//! `/otter/canal/destinations/{d}/{cid}/running` (a connected Java cluster client) refuses, and
//! the refusal names the node. `--force` skips the check.

pub mod meta;
pub mod metrics;
pub mod zkmeta;

use std::fmt::Write as _;
use std::path::Path;

use canal_config::{Overrides, ServerConfig};

use self::metrics::{Sample, ScrapeError};

/// Loads `conf` with `-D` overrides.
pub fn load_conf(conf: &Path, define: &[String]) -> Result<ServerConfig, String> {
    let defines = crate::parse_defines(define)?;
    ServerConfig::load(conf, Overrides::from_process(defines)).map_err(|e| e.to_string())
}

/// The metrics address to ask: `explicit`, else 127.0.0.1 and `canal.metrics.pull.port`.
pub fn metrics_addr(server: &ServerConfig, explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| server.metrics_pull_port.map(|p| format!("127.0.0.1:{p}")))
}

/// `position set|reset`: Ok when `destination` is not running on the server behind `addr`
/// (see the module doc), else why not.
pub fn check_not_running(addr: Option<&str>, destination: &str) -> Result<(), String> {
    let Some(addr) = addr else {
        return Err("no metrics port (canal.metrics.pull.port / --metrics) to check that the destination is stopped; use --force if it is".into());
    };
    match metrics::scrape(addr) {
        Err(ScrapeError::Refused(_)) => Ok(()),
        Err(e) => Err(format!(
            "cannot tell whether {destination} runs ({e}); use --force if it is stopped"
        )),
        Ok(samples) => {
            if metrics::running_destinations(&samples)
                .iter()
                .any(|d| d == destination)
            {
                let subs = metrics::value_of(&samples, "canal_instance_subscriptions", destination)
                    .unwrap_or(0.0);
                Err(format!(
                    "destination {destination} is running on the server at {addr} ({subs} subscription(s)); \
                     stop it first (admin port: instance stop, or stop the server): a running destination \
                     rewrites meta.dat from memory"
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// `canalctl status`: per destination the role, parser state, delays, subscriptions and client
/// traffic (from the metrics port, when reachable) and the stored cursors (from meta.dat for
/// file-meta destinations, from ZooKeeper for ZooKeeper-meta ones).
pub fn status(server: &ServerConfig, addr: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    let samples: Vec<Sample> = match addr {
        Some(a) => match metrics::scrape(a) {
            Ok(s) => {
                let _ = writeln!(out, "server: metrics port {a} reachable");
                s
            }
            Err(e) => {
                let _ = writeln!(out, "server: not reachable ({e})");
                Vec::new()
            }
        },
        None => {
            let _ = writeln!(out, "server: no metrics port configured");
            Vec::new()
        }
    };
    if let Some(c) = samples
        .iter()
        .find(|s| s.name == "canal_rs_client_connections" && s.label("port") == Some("client"))
    {
        let _ = writeln!(out, "client connections: {}", c.value);
    }
    let mut names = server.destinations.clone();
    for d in metrics::running_destinations(&samples) {
        if !names.contains(&d) {
            names.push(d);
        }
    }
    for d in &names {
        let v = |n: &str| metrics::value_of(&samples, n, d);
        let role = match v("canal_rs_destination_active") {
            Some(x) if x >= 1.0 => "active",
            Some(_) => "standby/stopped",
            None => "unknown",
        };
        let state = samples
            .iter()
            .find(|s| {
                s.name == "canal_rs_parser_state"
                    && s.label("destination") == Some(d.as_str())
                    && s.value >= 1.0
            })
            .and_then(|s| s.label("state"))
            .unwrap_or("-");
        let delay = |stage: &str| {
            samples
                .iter()
                .find(|s| {
                    s.name == "canal_rs_binlog_delay_seconds"
                        && s.label("destination") == Some(d.as_str())
                        && s.label("stage") == Some(stage)
                })
                .map_or("-".to_string(), |s| format!("{}s", s.value))
        };
        let _ = writeln!(
            out,
            "destination {d}: running={} role={role} parser={state} subscriptions={} \
             delay parsed={} put={} get={} ack={} transactions={} client_bytes={}",
            v("canal_instance").is_some(),
            v("canal_instance_subscriptions").map_or("-".into(), |x| x.to_string()),
            delay("parsed"),
            delay("put"),
            delay("get"),
            delay("ack"),
            v("canal_instance_transactions").map_or("-".into(), |x| x.to_string()),
            v("canal_instance_client_bytes").map_or("-".into(), |x| x.to_string()),
        );
        if zkmeta::is_zookeeper(server, d).unwrap_or(false) {
            match zkmeta::ZkMeta::open(server, d).and_then(|z| z.to_json()) {
                Ok(v) => {
                    let _ = writeln!(
                        out,
                        "  meta zookeeper: running server {}",
                        v["runningServer"].as_str().unwrap_or("none")
                    );
                    for c in v["clients"].as_array().into_iter().flatten() {
                        let cur = &c["cursor"];
                        let pos = if cur.is_null() {
                            "no cursor".to_string()
                        } else {
                            format!(
                                "{}:{} ts={}",
                                cur["journalName"].as_str().unwrap_or("-"),
                                cur["position"].as_i64().unwrap_or(-1),
                                cur["timestamp"].as_i64().unwrap_or(0)
                            )
                        };
                        let _ = writeln!(out, "  client {}: {pos}", c["clientId"]);
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  meta: {e}");
                }
            }
            continue;
        }
        match meta::locate(server, d).and_then(|(p, _)| meta::read(d, &p)) {
            Ok(m) if m.clients.is_empty() => {
                let _ = writeln!(out, "  meta {}: no subscription", m.path.display());
            }
            Ok(m) => {
                for (c, cur) in &m.clients {
                    let pos = cur.as_ref().map_or("no cursor".to_string(), |p| {
                        format!(
                            "{}:{} ts={}",
                            p.postion.journal_name.as_deref().unwrap_or("-"),
                            p.postion.position.unwrap_or(-1),
                            p.postion.timestamp.unwrap_or(0)
                        )
                    });
                    let _ = writeln!(out, "  client {}: {pos}", c.client_id);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "  meta: {e}");
            }
        }
    }
    Ok(out)
}
