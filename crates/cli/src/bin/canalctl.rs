//! canalctl: operator tool. Subcommands appear as the library functions behind them land.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "canalctl", version, about = "canal-rs operator tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a binlog file: one JSON line per event (canal_binlog::dump), or with
    /// `--entries` one JSON line per Canal entry (canal_parse's converter).
    Decode {
        /// The binlog file (e.g. mysql-bin.000001).
        file: PathBuf,
        /// Convert to Canal entries instead of printing raw events.
        #[arg(long)]
        entries: bool,
        /// With --entries: table filter (canal.instance.filter.regex syntax).
        #[arg(long, default_value = ".*\\..*")]
        filter: String,
    },
    /// Subscribe to a destination of a running server and print every entry as a JSON line
    /// (acking each batch), until interrupted.
    Tail {
        /// Server address, host:port.
        addr: String,
        /// Destination.
        destination: String,
        /// Client id.
        #[arg(long, default_value_t = 1001)]
        client_id: i16,
        /// Subscription filter (empty = the destination's own).
        #[arg(long, default_value = "")]
        filter: String,
    },
    /// Load and validate a conf directory (canal.properties + every destination) and print
    /// the effective settings.
    CheckConf {
        /// The conf directory.
        #[arg(long, default_value = "conf")]
        conf: PathBuf,
        /// `-Dkey=value` overrides.
        #[arg(short = 'D', value_name = "KEY=VALUE")]
        define: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("canalctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Decode {
            file,
            entries: true,
            filter,
        } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let opts = canal_parse::ConvertOptions {
                filter_regex: filter,
                ..canal_parse::ConvertOptions::default()
            };
            let r = canal_parse::entries_json::write_entries_json(&file, opts, &mut out);
            let flushed = out.flush();
            r.map_err(|e| e.to_string())?;
            ignore_broken_pipe(flushed)
        }
        Command::Tail {
            addr,
            destination,
            client_id,
            filter,
        } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let mut out = tokio::io::stdout();
                let opts = canal_client::TailOptions {
                    client: canal_client::ClientConfig {
                        destination,
                        client_id,
                        ..canal_client::ClientConfig::default()
                    },
                    filter,
                    ..canal_client::TailOptions::default()
                };
                let stop = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                match canal_client::tail_with(&addr, opts, &mut out, stop).await {
                    Ok(n) => {
                        eprintln!("canalctl: {n} entries");
                        Ok(())
                    }
                    Err(canal_client::ClientError::Io(e))
                        if e.kind() == std::io::ErrorKind::BrokenPipe =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            })
        }
        Command::Decode { file, .. } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let r = canal_binlog::dump::dump_file_json(&file, &mut out);
            let flushed = out.flush();
            match r {
                Err(canal_binlog::dump::DumpError::Io(e))
                    if e.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
                Ok(()) => ignore_broken_pipe(flushed),
            }
        }
        Command::CheckConf { conf, define } => {
            let defines = canal_cli::parse_defines(&define)?;
            let overrides = canal_config::Overrides::from_process(defines);
            let server =
                canal_config::ServerConfig::load(&conf, overrides).map_err(|e| e.to_string())?;
            for w in &server.warnings {
                println!("warning: {w}");
            }
            println!(
                "server: port {} mode {:?} destinations {:?} auto.scan {} ({}s, {})",
                server.port,
                server.server_mode,
                server.destinations,
                server.auto_scan,
                server.auto_scan_interval_secs,
                server.scan_dir.display()
            );
            for d in &server.destinations {
                let i = server.load_instance(d).map_err(|e| e.to_string())?;
                for w in &i.warnings {
                    println!("warning: {w}");
                }
                println!(
                    "destination {d}: master {} meta {:?} lazy {} filter {:?} tsdb {}",
                    i.master.address,
                    i.settings.meta_mode,
                    i.settings.lazy,
                    i.filter.regex,
                    i.tsdb.enable
                );
            }
            Ok(())
        }
    }
}

/// A closed stdout (e.g. `| head`) is not an error.
fn ignore_broken_pipe(r: std::io::Result<()>) -> Result<(), String> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}
