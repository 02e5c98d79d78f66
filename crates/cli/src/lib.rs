//! canal-cli: the canal-server daemon and the canalctl operator tool.
//!
//! * `canal-server --conf <dir> [-Dkey=value ...] [--check]`: [`daemon`] (Java's launcher and
//!   controller start order, SIGTERM/SIGINT shutdown).
//! * `canalctl decode [--entries] <file>`, `canalctl tail <host:port> <destination>`,
//!   `canalctl check-conf`: thin wrappers over `canal_binlog::dump`,
//!   `canal_parse::entries_json`, `canal_client::tail_with` and `canal_config`.
//!
//! Shared here: `-D` override parsing and tracing set-up (stdout + `{logs}/canal/canal.log`).
//! Must not implement protocol, parsing, storage or instance logic itself.

pub mod daemon;
pub mod destlog;

use std::path::Path;

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

/// Installs the tracing subscriber: `RUST_LOG` or `info`, to stdout; with `logs`
/// `(log_dir, conf_dir)` also to `{log_dir}/canal/canal.log` (Java's server log) and, for events
/// with a destination in context, `{log_dir}/{destination}/{destination}.log`.
pub fn init_tracing(logs: Option<(&Path, &Path)>) -> std::io::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{fmt, EnvFilter};

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stdout = fmt::layer().with_target(true);
    let (file_layer, dest_layer) = match logs {
        Some((dir, conf)) => {
            let server_dir = dir.join("canal");
            std::fs::create_dir_all(&server_dir)?;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(server_dir.join("canal.log"))?;
            (
                Some(
                    fmt::layer()
                        .with_ansi(false)
                        .with_writer(std::sync::Mutex::new(file)),
                ),
                Some(destlog::DestinationLogLayer::new(dir, conf)),
            )
        }
        None => (None, None),
    };
    // A second init (tests) is not an error worth failing for.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file_layer)
        .with(dest_layer)
        .try_init();
    Ok(())
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
