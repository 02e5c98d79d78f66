//! canal-server: the daemon. `canal-server --conf <dir>` reads `<dir>/canal.properties` and
//! `<dir>/<destination>/instance.properties` like Java Canal's launcher; `-Dkey=value`
//! arguments override any key (as JVM system properties do), environment variables with the
//! dotted key as name come next.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "canal-server",
    version,
    about = "Canal server (MySQL/MariaDB binlog to Canal clients)"
)]
struct Args {
    /// Configuration directory holding canal.properties and one directory per destination.
    #[arg(long, default_value = "conf")]
    conf: PathBuf,
    /// `-Dkey=value`: overrides a configuration key (repeatable).
    #[arg(short = 'D', value_name = "KEY=VALUE")]
    define: Vec<String>,
    /// Log directory (default: `logs` next to the conf directory, like Java's `../logs`).
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Only load and validate the configuration (every configured destination), then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let defines = match canal_cli::parse_defines(&args.define) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("canal-server: {e}");
            return ExitCode::from(2);
        }
    };
    let overrides = canal_config::Overrides::from_process(defines);
    let server = match canal_config::ServerConfig::load(&args.conf, overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("canal-server: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for d in &server.destinations {
        let file = server.instance_file(d);
        if server.auto_scan && !file.exists() {
            continue;
        }
        if let Err(e) = server.load_instance(d) {
            eprintln!("canal-server: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = canal_cli::daemon::check_supported(&server) {
        eprintln!("canal-server: {e}");
        return ExitCode::FAILURE;
    }
    if args.check {
        println!(
            "configuration OK: {} destination(s) {:?}",
            server.destinations.len(),
            server.destinations
        );
        return ExitCode::SUCCESS;
    }
    let log_dir = args
        .logs
        .clone()
        .unwrap_or_else(|| server.resolve_path("../logs"));
    if let Err(e) = canal_cli::ops::init_logging(&log_dir, &server.scan_dir) {
        eprintln!(
            "canal-server: cannot open log directory {}: {e}",
            log_dir.display()
        );
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("canal-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        tracing::info!("## load canal configurations");
        let daemon = match canal_cli::daemon::Daemon::start(std::sync::Arc::new(server), None).await
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!("## Something goes wrong when starting up the canal Server: {e}");
                eprintln!("canal-server: {e}");
                return ExitCode::FAILURE;
            }
        };
        daemon.run_until(shutdown_signal()).await;
        ExitCode::SUCCESS
    })
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
