//! canal-zk-probe: joins the election of one destination exactly like a canal-rs server would
//! (same monitor, same nodes) and stands in for the instance: while active it prints a
//! `DELIVER <seq> <unix_ms>` line every 20 ms, each only after checking the lease. Used by the
//! multi-process fencing tests and handy for looking at an HA setup by hand.
//!
//! Usage: `canal-zk-probe --zk HOSTS[/chroot] --destination D --address IP:PORT
//!         [--session-timeout-ms N] [--delay-ms N]`
//! Output lines: `READY`, `ENTER <ms>`, `DELIVER <seq> <ms>`, `EXIT <ms>`.
//! Stdin commands: `release`, `stop` (also on EOF).

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use canal_cluster::{
    ActiveLease, MonitorOptions, RunningListener, ServerRegistration, ServerRunningMonitor,
    ZkOptions, ZkSession,
};
use parking_lot::Mutex;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

struct Probe {
    stop: Mutex<Option<Arc<AtomicBool>>>,
    worker: Mutex<Option<std::thread::JoinHandle<()>>>,
    seq: Arc<AtomicU64>,
}

impl RunningListener for Probe {
    fn process_active_enter(&self, lease: ActiveLease) -> Result<(), String> {
        println!("ENTER {}", now_ms());
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, seq) = (stop.clone(), self.seq.clone());
        let h = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                if !lease.is_valid() {
                    break;
                }
                let n = seq.fetch_add(1, Ordering::SeqCst);
                println!("DELIVER {n} {}", now_ms());
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        *self.stop.lock() = Some(stop);
        *self.worker.lock() = Some(h);
        Ok(())
    }

    fn process_active_exit(&self) {
        if let Some(s) = self.stop.lock().take() {
            s.store(true, Ordering::SeqCst);
        }
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        println!("EXIT {}", now_ms());
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(zk), Some(dest), Some(address)) = (
        arg(&args, "--zk"),
        arg(&args, "--destination"),
        arg(&args, "--address"),
    ) else {
        eprintln!(
            "usage: canal-zk-probe --zk HOSTS[/chroot] --destination D --address IP:PORT \
             [--session-timeout-ms N] [--delay-ms N]"
        );
        std::process::exit(2);
    };
    let ms = |name: &str, default: u64| {
        arg(&args, name)
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_millis(default))
    };
    let options = ZkOptions {
        session_timeout: ms("--session-timeout-ms", 90_000),
        ..ZkOptions::default()
    };
    let session = match ZkSession::connect_blocking(&zk, options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("canal-zk-probe: {e}");
            std::process::exit(1);
        }
    };
    let handle = session.handle().clone();
    let reg = match handle.block_on(ServerRegistration::start(&session, address.clone())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("canal-zk-probe: register: {e}");
            std::process::exit(1);
        }
    };
    let probe = Arc::new(Probe {
        stop: Mutex::new(None),
        worker: Mutex::new(None),
        seq: Arc::new(AtomicU64::new(0)),
    });
    let monitor = ServerRunningMonitor::new(
        Some(session.clone()),
        dest,
        address,
        probe,
        MonitorOptions {
            takeover_delay: ms("--delay-ms", 5000),
            ..MonitorOptions::default()
        },
    );
    monitor.start();
    println!("READY");
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("release") => {
                let r = handle.block_on(monitor.release());
                eprintln!("released: {r}");
            }
            Ok("stop") | Err(_) => break,
            Ok(_) => {}
        }
    }
    handle.block_on(async {
        monitor.stop().await;
        reg.stop().await;
    });
    session.close();
}
