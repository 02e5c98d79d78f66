//! Shared helpers of the live ZooKeeper tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_cluster::{ActiveLease, RunningListener};
use parking_lot::Mutex;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Address of the standalone ZooKeeper, or `None` (test skipped) when CANAL_TEST_ZK is unset.
/// Under CI the variable is mandatory.
pub fn zk_addr(test: &str) -> Option<String> {
    gate("CANAL_TEST_ZK", test)
}

/// Address list of the 3-node ensemble (CANAL_TEST_ZK_ENSEMBLE).
pub fn zk_ensemble(test: &str) -> Option<String> {
    gate("CANAL_TEST_ZK_ENSEMBLE", test)
}

fn gate(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{var} must be set under CI (start ZooKeeper with scripts/start-zk.sh)");
            }
            eprintln!("note: {test} skipped: {var} is not set (scripts/start-zk.sh starts one)");
            None
        }
    }
}

/// A unique chroot per test run, so tests never see each other's nodes.
pub fn unique_root(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "/canal-rs-test/{name}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// One listener event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Enter(&'static str),
    Exit(&'static str),
}

/// Records enter/exit calls of several monitors in one global order with times.
#[derive(Default)]
pub struct Journal {
    pub events: Mutex<Vec<(Ev, Instant)>>,
}

impl Journal {
    pub fn list(&self) -> Vec<Ev> {
        self.events.lock().iter().map(|(e, _)| e.clone()).collect()
    }
    pub fn time_of(&self, ev: &Ev) -> Option<Instant> {
        self.events
            .lock()
            .iter()
            .find(|(e, _)| e == ev)
            .map(|(_, t)| *t)
    }
    pub fn count(&self, ev: &Ev) -> usize {
        self.events.lock().iter().filter(|(e, _)| e == ev).count()
    }
}

/// Listener that journals and keeps the lease.
pub struct Recorder {
    pub name: &'static str,
    pub journal: Arc<Journal>,
    pub lease: Mutex<Option<ActiveLease>>,
    pub fail_enter: AtomicBool,
}

impl Recorder {
    pub fn new(name: &'static str, journal: Arc<Journal>) -> Arc<Self> {
        Arc::new(Self {
            name,
            journal,
            lease: Mutex::new(None),
            fail_enter: AtomicBool::new(false),
        })
    }
    pub fn lease_valid(&self) -> bool {
        self.lease.lock().as_ref().is_some_and(|l| l.is_valid())
    }
}

impl RunningListener for Recorder {
    fn process_active_enter(&self, lease: ActiveLease) -> Result<(), String> {
        if self.fail_enter.load(Ordering::SeqCst) {
            return Err("instance start failed (test)".into());
        }
        *self.lease.lock() = Some(lease);
        self.journal
            .events
            .lock()
            .push((Ev::Enter(self.name), Instant::now()));
        Ok(())
    }
    fn process_active_exit(&self) {
        self.journal
            .events
            .lock()
            .push((Ev::Exit(self.name), Instant::now()));
    }
}

/// Polls `f` until true or timeout.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    f()
}

/// A TCP proxy in front of ZooKeeper that can cut the network (existing connections closed,
/// new ones refused) to simulate a partition of one server.
pub struct Proxy {
    pub addr: String,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let upstream = upstream.to_string();
        let (cut2, conns2) = (cut.clone(), conns.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if cut2.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown().await;
                    continue;
                }
                let up = upstream.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&up).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                conns2.lock().push(h.abort_handle());
            }
        });
        Self { addr, cut, conns }
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for h in self.conns.lock().drain(..) {
            h.abort();
        }
    }

    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
