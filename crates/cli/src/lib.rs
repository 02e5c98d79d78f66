//! canal-cli: the canal-server daemon and the canalctl operator tool.
//!
//! * `canal-server --conf <dir> [-Dkey=value ...] [--check]`: [`daemon`] (Java's launcher and
//!   controller start order, SIGTERM/SIGINT shutdown).
//! * `canalctl decode [--entries] <file>`, `canalctl tail <host:port> <destination>`,
//!   `canalctl check-conf`: thin wrappers over `canal_binlog::dump`,
//!   `canal_parse::entries_json`, `canal_client::tail_with` and `canal_config`.
//!
//! * [`ops`]: the operations wiring of the daemon: Canal's log files (canal-telemetry's
//!   logging), the metrics port, per-destination readiness, and the admin port (canal-admin)
//!   over the instance controller.
//! * [`ctl`]: `canalctl status`, `position show|set|reset`, `meta dump`.
//!
//! * [`ha`]: ZooKeeper HA wiring (running monitors, fencing lease, ZooKeeper meta).
//!
//! Shared here: `-D` override parsing. Must not implement protocol, parsing, storage, metrics
//! or instance logic itself.

pub mod ctl;
pub mod daemon;
pub mod ha;
pub mod ops;

use canal_config::Overrides;

/// Parses `-Dkey=value` arguments (the `-D` already removed by clap) into pairs.
pub fn parse_defines(defines: &[String]) -> Result<Vec<(String, String)>, String> {
    defines
        .iter()
        .map(|d| {
            Overrides::parse_define(d)
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("-D{d}: expected -Dkey=value"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines() {
        let d = parse_defines(&["canal.port=1".into(), "a.b= x ".into()]).expect("ok");
        assert_eq!(
            d,
            vec![
                ("canal.port".to_string(), "1".to_string()),
                ("a.b".to_string(), " x ".to_string())
            ]
        );
        assert!(parse_defines(&["novalue".into()]).is_err());
        assert!(parse_defines(&["=v".into()]).is_err());
    }
}
