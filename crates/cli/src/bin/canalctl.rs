//! canalctl: operator tool (decode, tail, check-conf, status, position, meta).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use canal_cli::ctl;
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
    /// Destinations of a server: role, parser state, delays, subscriptions, client traffic
    /// (from the running server's metrics port) and stored cursors (from meta.dat, or from
    /// ZooKeeper for default-instance.xml destinations).
    Status {
        #[command(flatten)]
        conf: ConfArgs,
    },
    /// Show, move or drop the stored position of a destination (file meta: meta.dat;
    /// ZooKeeper meta: the cursor nodes under /otter/canal/destinations/{d}).
    Position {
        #[command(subcommand)]
        action: PositionCmd,
    },
    /// Meta of a destination.
    Meta {
        #[command(subcommand)]
        action: MetaCmd,
    },
}

/// Where the configuration and the running server are.
#[derive(clap::Args)]
struct ConfArgs {
    /// The conf directory.
    #[arg(long, default_value = "conf")]
    conf: PathBuf,
    /// `-Dkey=value` overrides.
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    define: Vec<String>,
    /// Metrics address of the running server (default 127.0.0.1:canal.metrics.pull.port).
    #[arg(long)]
    metrics: Option<String>,
}

#[derive(Subcommand)]
enum PositionCmd {
    /// Print the subscriptions and cursors of a destination (JSON).
    Show {
        #[command(flatten)]
        conf: ConfArgs,
        /// Destination.
        destination: String,
    },
    /// Move a client's cursor to a binlog file and position. Refused while the destination
    /// runs on a server (it would overwrite the change), or, with ZooKeeper meta, while the
    /// client is connected, unless --force.
    Set {
        #[command(flatten)]
        conf: ConfArgs,
        /// Destination.
        destination: String,
        /// Binlog file name.
        #[arg(long)]
        journal: String,
        /// Binlog position.
        #[arg(long)]
        position: i64,
        /// Execute time (ms) of the event at that position (optional).
        #[arg(long)]
        timestamp: Option<i64>,
        /// Client id.
        #[arg(long, default_value_t = 1001)]
        client_id: i16,
        /// Skip the running check.
        #[arg(long)]
        force: bool,
    },
    /// Drop the cursor (of one client, or all): the destination restarts from its configured
    /// position. Refused while the destination runs unless --force.
    Reset {
        #[command(flatten)]
        conf: ConfArgs,
        /// Destination.
        destination: String,
        /// Only this client.
        #[arg(long)]
        client_id: Option<i16>,
        /// Skip the running check.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum MetaCmd {
    /// Print the meta (meta.dat, or the ZooKeeper nodes) of every destination of the conf (or
    /// one) as JSON lines.
    Dump {
        #[command(flatten)]
        conf: ConfArgs,
        /// Only this destination.
        destination: Option<String>,
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
        Command::Status { conf } => {
            let server = ctl::load_conf(&conf.conf, &conf.define)?;
            let addr = ctl::metrics_addr(&server, conf.metrics.as_deref());
            print!("{}", ctl::status(&server, addr.as_deref())?);
            Ok(())
        }
        Command::Position { action } => position(action),
        Command::Meta {
            action: MetaCmd::Dump { conf, destination },
        } => {
            let server = ctl::load_conf(&conf.conf, &conf.define)?;
            let names = match destination {
                Some(d) => vec![d],
                None => server.destinations.clone(),
            };
            for d in names {
                if ctl::zkmeta::is_zookeeper(&server, &d).unwrap_or(false) {
                    match ctl::zkmeta::ZkMeta::open(&server, &d).and_then(|z| z.to_json()) {
                        Ok(v) => println!("{v}"),
                        Err(e) => eprintln!("canalctl: {e}"),
                    }
                    continue;
                }
                match ctl::meta::locate(&server, &d) {
                    Ok((path, _)) => println!("{}", ctl::meta::read(&d, &path)?.to_json()),
                    Err(e) => eprintln!("canalctl: {e}"),
                }
            }
            Ok(())
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

fn position(action: PositionCmd) -> Result<(), String> {
    match action {
        PositionCmd::Show { conf, destination } => {
            let server = ctl::load_conf(&conf.conf, &conf.define)?;
            if ctl::zkmeta::is_zookeeper(&server, &destination)? {
                let z = ctl::zkmeta::ZkMeta::open(&server, &destination)?;
                println!("{}", z.to_json()?);
                return Ok(());
            }
            let (path, _) = ctl::meta::locate(&server, &destination)?;
            println!("{}", ctl::meta::read(&destination, &path)?.to_json());
            Ok(())
        }
        PositionCmd::Set {
            conf,
            destination,
            journal,
            position,
            timestamp,
            client_id,
            force,
        } => match open_for_change(&conf, &destination, Some(client_id), force)? {
            Meta::ZooKeeper(z) => {
                z.set_cursor(client_id, &journal, position, timestamp)?;
                println!("{}", z.to_json()?);
                Ok(())
            }
            Meta::File(path, cfg) => {
                let mut m = ctl::meta::read(&destination, &path)?;
                m.set_cursor(&cfg, client_id, &journal, position, timestamp);
                m.write()?;
                println!("{}", m.to_json());
                Ok(())
            }
        },
        PositionCmd::Reset {
            conf,
            destination,
            client_id,
            force,
        } => match open_for_change(&conf, &destination, client_id, force)? {
            Meta::ZooKeeper(z) => {
                let n = z.reset(client_id)?;
                eprintln!("canalctl: {n} cursor(s) dropped");
                println!("{}", z.to_json()?);
                Ok(())
            }
            Meta::File(path, _) => {
                let mut m = ctl::meta::read(&destination, &path)?;
                let n = m.reset(client_id);
                if m.exists {
                    m.write()?;
                }
                eprintln!("canalctl: {n} cursor(s) dropped");
                println!("{}", m.to_json());
                Ok(())
            }
        },
    }
}

/// Where a destination's cursors live.
enum Meta {
    ZooKeeper(ctl::zkmeta::ZkMeta),
    File(PathBuf, canal_config::InstanceConfig),
}

/// Opens the destination's meta for a change, after checking (unless `force`) that nothing
/// holds the cursors in memory: in ZooKeeper the running nodes of the server and of `client_id`
/// (every client when `None`), for file meta the server's metrics port.
fn open_for_change(
    conf: &ConfArgs,
    destination: &str,
    client_id: Option<i16>,
    force: bool,
) -> Result<Meta, String> {
    let server = ctl::load_conf(&conf.conf, &conf.define)?;
    if ctl::zkmeta::is_zookeeper(&server, destination)? {
        let z = ctl::zkmeta::ZkMeta::open(&server, destination)?;
        if !force {
            z.check_idle(client_id)?;
        }
        return Ok(Meta::ZooKeeper(z));
    }
    let (path, cfg) = ctl::meta::locate(&server, destination)?;
    if !force {
        let addr = ctl::metrics_addr(&server, conf.metrics.as_deref());
        ctl::check_not_running(addr.as_deref(), destination)?;
    }
    Ok(Meta::File(path, cfg))
}

/// A closed stdout (e.g. `| head`) is not an error.
fn ignore_broken_pipe(r: std::io::Result<()>) -> Result<(), String> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}
