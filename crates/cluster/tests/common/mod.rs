//! Shared helpers of the live ZooKeeper tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_cluster::{
    ActiveLease, MonitorOptions, RunningListener, ServerRunningMonitor, ZkOptions, ZkSession,
};
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

/// Session options of the live tests: `timeout_ms` session timeout, patient connects.
pub fn session_opts(timeout_ms: u64) -> ZkOptions {
    ZkOptions {
        session_timeout: Duration::from_millis(timeout_ms),
        initial_connect_timeout: Some(Duration::from_secs(20)),
        operation_timeout: Duration::from_secs(10),
    }
}

/// Two servers contending for one destination: "a" (10.0.0.1:11111) on session `sa` and "b"
/// (10.0.0.2:11111) on `sb`, journaling into one shared [`Journal`]. Not started.
pub struct Pair {
    pub journal: Arc<Journal>,
    pub ra: Arc<Recorder>,
    pub rb: Arc<Recorder>,
    pub ma: ServerRunningMonitor,
    pub mb: ServerRunningMonitor,
}

impl Pair {
    pub fn new(sa: &ZkSession, sb: &ZkSession, destination: &str, o: MonitorOptions) -> Pair {
        let journal = Arc::new(Journal::default());
        let ra = Recorder::new("a", journal.clone());
        let rb = Recorder::new("b", journal.clone());
        let ma = ServerRunningMonitor::new(
            Some(sa.clone()),
            destination,
            "10.0.0.1:11111",
            ra.clone(),
            o.clone(),
        );
        let mb = ServerRunningMonitor::new(
            Some(sb.clone()),
            destination,
            "10.0.0.2:11111",
            rb.clone(),
            o,
        );
        Pair {
            journal,
            ra,
            rb,
            ma,
            mb,
        }
    }

    /// Starts `ma`, waits until it is active, then starts `mb` as its standby.
    pub async fn start_pair(ma: &ServerRunningMonitor, mb: &ServerRunningMonitor) {
        ma.start();
        assert!(ma.wait_for_active(Duration::from_secs(10)).await);
        mb.start();
    }
}

impl Journal {
    /// Every enter is followed by an exit of the same server: never two active at once.
    pub fn assert_one_active_at_a_time(&self) {
        let mut active: Option<&'static str> = None;
        for e in self.list() {
            match e {
                Ev::Enter(n) => {
                    assert!(active.is_none(), "two active servers: {:?}", self.list());
                    active = Some(n);
                }
                Ev::Exit(n) => {
                    assert_eq!(active, Some(n), "exit of a non-active server");
                    active = None;
                }
            }
        }
    }
}
