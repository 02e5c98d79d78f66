//! The ZooKeeper session wrapper: one `zookeeper-client` session at a time over a parsed
//! `canal.zkServers`, re-created after expiry (a new *generation*), with session-state watching
//! and the liveness lease used for fencing.
//!
//! All ZooKeeper I/O of this crate runs on a small private tokio runtime owned by the session, so
//! that synchronous callers (the meta managers' background threads) and asynchronous callers on
//! any runtime can use it without `block_on`-inside-runtime panics or starving the heartbeat.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{watch, Notify};
use zookeeper_client as zk;

use crate::connect::ConnectString;
use crate::ClusterError;

/// Canal's requested session timeout (the server clamps it to `[2, 20] x tickTime`).
pub const CANAL_SESSION_TIMEOUT: Duration = Duration::from_secs(90);

/// Options of a [`ZkSession`].
#[derive(Debug, Clone)]
pub struct ZkOptions {
    /// Requested session timeout (negotiated by the server). Canal asks for 90 s.
    pub session_timeout: Duration,
    /// How long [`ZkSession::connect`] waits for the first session; `None` waits forever like
    /// Canal does (operations.md §1.1 trap), which a server should avoid.
    pub initial_connect_timeout: Option<Duration>,
    /// Upper bound of one blocking call made through [`ZkSession::block_on`].
    pub operation_timeout: Duration,
}

impl Default for ZkOptions {
    fn default() -> Self {
        Self {
            session_timeout: CANAL_SESSION_TIMEOUT,
            initial_connect_timeout: Some(Duration::from_secs(60)),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

/// Phase of the current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionPhase {
    /// No session yet (or re-creating one after expiry).
    Connecting,
    /// Connected; ephemeral nodes of this generation are alive.
    Connected,
    /// Connection lost; the session may still be alive on the server until its timeout.
    Disconnected,
    /// The session of `generation` is gone: all its ephemeral nodes are deleted (or about to be).
    Expired,
    /// [`ZkSession::close`] was called.
    Closed,
}

/// Session status published to watchers: the generation counts sessions (1 = first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStatus {
    /// Session generation this phase belongs to (0 before the first session).
    pub generation: u64,
    /// Phase.
    pub phase: SessionPhase,
}

/// The live client of one session generation.
#[derive(Clone, Debug)]
pub struct SessionClient {
    /// The `zookeeper-client` handle (already rooted at the chroot).
    pub client: zk::Client,
    /// Generation of this session.
    pub generation: u64,
}

impl SessionClient {
    /// ZooKeeper session id.
    pub fn session_id(&self) -> i64 {
        self.client.session_id().0
    }
}

/// Liveness lease of the current session, the basis of fencing.
///
/// The ZooKeeper server expires a session no earlier than `session_timeout` after the last
/// request it received from us. Every successful request proves the server heard from us at or
/// after the moment we *sent* it, so `last_ok_send + timeout` is a lower bound of the expiry time
/// and of the moment anybody else can see our ephemeral nodes vanish. The lease ends `margin`
/// earlier (margin = timeout / 4), measured on the monotonic clock, which keeps running while the
/// process is frozen (SIGSTOP) — so a resumed process finds its lease already expired.
#[derive(Debug)]
pub(crate) struct LeaseClock {
    state: Mutex<LeaseState>,
}

#[derive(Debug, Clone, Copy)]
struct LeaseState {
    generation: u64,
    last_ok_send: Option<Instant>,
    lease_len: Duration,
}

impl LeaseClock {
    fn new() -> Self {
        Self {
            state: Mutex::new(LeaseState {
                generation: 0,
                last_ok_send: None,
                lease_len: Duration::ZERO,
            }),
        }
    }

    fn reset(&self, generation: u64, sent: Instant, timeout: Duration) {
        let mut s = self.state.lock();
        *s = LeaseState {
            generation,
            last_ok_send: Some(sent),
            lease_len: lease_len(timeout),
        };
    }

    pub(crate) fn record(&self, generation: u64, sent: Instant) {
        let mut s = self.state.lock();
        if s.generation == generation && s.last_ok_send.is_none_or(|t| sent > t) {
            s.last_ok_send = Some(sent);
        }
    }

    fn invalidate(&self, generation: u64) {
        let mut s = self.state.lock();
        if s.generation == generation {
            s.last_ok_send = None;
        }
    }

    /// End of the lease of `generation`, if it is the current one.
    pub(crate) fn deadline(&self, generation: u64) -> Option<Instant> {
        let s = *self.state.lock();
        if s.generation != generation {
            return None;
        }
        s.last_ok_send.map(|t| t + s.lease_len)
    }

    pub(crate) fn valid(&self, generation: u64) -> bool {
        self.deadline(generation)
            .is_some_and(|d| Instant::now() < d)
    }
}

/// Lease length for a negotiated session timeout: three quarters of it.
pub fn lease_len(timeout: Duration) -> Duration {
    timeout - timeout / 4
}

/// Heartbeat period for a negotiated session timeout (several beats per lease).
pub fn heartbeat_period(timeout: Duration) -> Duration {
    (timeout / 10).max(Duration::from_millis(50))
}

struct Shared {
    connect: ConnectString,
    options: ZkOptions,
    current: Mutex<Option<SessionClient>>,
    status_tx: watch::Sender<SessionStatus>,
    lease: Arc<LeaseClock>,
    closed: AtomicBool,
    close_notify: Notify,
}

struct Inner {
    shared: Arc<Shared>,
    runtime: Mutex<Option<Runtime>>,
    handle: Handle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.close_notify.notify_one();
        *self.shared.current.lock() = None;
        if let Some(rt) = self.runtime.lock().take() {
            rt.shutdown_background();
        }
    }
}

/// A ZooKeeper connection that survives session expiry by opening a new session (like
/// zkclient does for Canal). Cheap to clone; the last clone dropped (or [`ZkSession::close`])
/// ends the session and the private runtime.
#[derive(Clone)]
pub struct ZkSession {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ZkSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkSession")
            .field("hosts", &self.inner.shared.connect.hosts)
            .field("chroot", &self.inner.shared.connect.chroot)
            .field("status", &self.status())
            .finish()
    }
}

impl ZkSession {
    /// Connects to `canal.zkServers` (chroot suffix and `;` fallback ensembles allowed; a
    /// missing chroot root is created) and waits for the first session.
    pub async fn connect(zk_servers: &str, options: ZkOptions) -> Result<Self, ClusterError> {
        let session = Self::start(zk_servers, options)?;
        let mut rx = session.subscribe();
        let wait = async {
            loop {
                let st = *rx.borrow_and_update();
                match st.phase {
                    SessionPhase::Connected => return Ok(()),
                    SessionPhase::Closed => return Err(ClusterError::Closed),
                    _ => {}
                }
                if rx.changed().await.is_err() {
                    return Err(ClusterError::Closed);
                }
            }
        };
        let timeout = session.inner.shared.options.initial_connect_timeout;
        match timeout {
            Some(t) => match tokio::time::timeout(t, wait).await {
                Ok(r) => r?,
                Err(_) => {
                    session.close();
                    return Err(ClusterError::ConnectTimeout(t));
                }
            },
            None => wait.await?,
        }
        Ok(session)
    }

    /// [`ZkSession::connect`] for synchronous callers (blocks the calling thread; must not be
    /// called from a current-thread runtime's only thread).
    pub fn connect_blocking(zk_servers: &str, options: ZkOptions) -> Result<Self, ClusterError> {
        let session = Self::start(zk_servers, options)?;
        let deadline = session
            .inner
            .shared
            .options
            .initial_connect_timeout
            .and_then(|t| Instant::now().checked_add(t));
        let mut rx = session.subscribe();
        loop {
            let st = *rx.borrow_and_update();
            match st.phase {
                SessionPhase::Connected => return Ok(session),
                SessionPhase::Closed => return Err(ClusterError::Closed),
                _ => {}
            }
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    session.close();
                    return Err(ClusterError::ConnectTimeout(
                        session
                            .inner
                            .shared
                            .options
                            .initial_connect_timeout
                            .unwrap_or_default(),
                    ));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn start(zk_servers: &str, options: ZkOptions) -> Result<Self, ClusterError> {
        let connect = ConnectString::parse(zk_servers)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(16)
            .thread_name("canal-zk")
            .enable_all()
            .build()
            .map_err(|e| ClusterError::Runtime(e.to_string()))?;
        let handle = runtime.handle().clone();
        let (status_tx, _) = watch::channel(SessionStatus {
            generation: 0,
            phase: SessionPhase::Connecting,
        });
        let shared = Arc::new(Shared {
            connect,
            options,
            current: Mutex::new(None),
            status_tx,
            lease: Arc::new(LeaseClock::new()),
            closed: AtomicBool::new(false),
            close_notify: Notify::new(),
        });
        handle.spawn(supervise(shared.clone()));
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                runtime: Mutex::new(Some(runtime)),
                handle,
            }),
        })
    }

    /// Current status.
    pub fn status(&self) -> SessionStatus {
        *self.inner.shared.status_tx.borrow()
    }

    /// Watches status changes.
    pub fn subscribe(&self) -> watch::Receiver<SessionStatus> {
        self.inner.shared.status_tx.subscribe()
    }

    /// The client of the current session, if there is one (connected or temporarily
    /// disconnected).
    pub fn current(&self) -> Option<SessionClient> {
        self.inner.shared.current.lock().clone()
    }

    /// Waits (up to the operation timeout) for a connected session and returns its client.
    pub async fn client(&self) -> Result<SessionClient, ClusterError> {
        let timeout = self.inner.shared.options.operation_timeout;
        let mut rx = self.subscribe();
        let wait = async {
            loop {
                let st = *rx.borrow_and_update();
                if st.phase == SessionPhase::Closed {
                    return Err(ClusterError::Closed);
                }
                if st.phase == SessionPhase::Connected {
                    if let Some(c) = self.current() {
                        if c.generation == st.generation {
                            return Ok(c);
                        }
                    }
                }
                if rx.changed().await.is_err() {
                    return Err(ClusterError::Closed);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClusterError::Zk(zk::Error::ConnectionLoss))?
    }

    /// The parsed connect string.
    pub fn connect_string(&self) -> &ConnectString {
        &self.inner.shared.connect
    }

    /// The options this session was built with.
    pub fn options(&self) -> &ZkOptions {
        &self.inner.shared.options
    }

    /// Negotiated session timeout of the current session (requested value before the first).
    pub fn session_timeout(&self) -> Duration {
        self.current()
            .map(|c| c.client.session_timeout())
            .unwrap_or(self.inner.shared.options.session_timeout)
    }

    /// Handle of the private runtime that runs this crate's ZooKeeper work.
    pub fn handle(&self) -> &Handle {
        &self.inner.handle
    }

    pub(crate) fn lease_clock(&self) -> Arc<LeaseClock> {
        self.inner.shared.lease.clone()
    }

    /// Whether the liveness lease of `generation` is still valid (see the crate doc, Fencing).
    pub fn lease_valid(&self, generation: u64) -> bool {
        self.inner.shared.lease.valid(generation)
    }

    /// Runs `fut` on the private runtime and awaits it from any async context.
    pub async fn run<F, T>(&self, fut: F) -> Result<T, ClusterError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner
            .handle
            .spawn(fut)
            .await
            .map_err(|e| ClusterError::Runtime(e.to_string()))
    }

    /// Runs `fut` on the private runtime and blocks the calling thread until it finishes or the
    /// operation timeout passes. Safe from plain threads and from inside other runtimes (it
    /// parks the calling thread only).
    pub fn block_on<F, T>(&self, fut: F) -> Result<T, ClusterError>
    where
        F: Future<Output = Result<T, ClusterError>> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let timeout = self.inner.shared.options.operation_timeout;
        let task = self.inner.handle.spawn(async move {
            let r = tokio::time::timeout(timeout, fut)
                .await
                .unwrap_or(Err(ClusterError::Timeout(timeout)));
            let _ = tx.send(r);
        });
        match rx.recv_timeout(timeout.saturating_add(Duration::from_secs(1))) {
            Ok(r) => r,
            Err(_) => {
                task.abort();
                Err(ClusterError::Timeout(timeout))
            }
        }
    }

    /// Ends the session (ephemeral nodes are deleted by the server) and stops re-connecting.
    pub fn close(&self) {
        let s = &self.inner.shared;
        s.closed.store(true, Ordering::SeqCst);
        s.close_notify.notify_one();
        *s.current.lock() = None;
    }

    /// Whether [`ZkSession::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.closed.load(Ordering::SeqCst)
    }

    /// Test/ops helper: makes the server expire the current session, the standard way (a second
    /// connection attaches to the same session and closes it). The wrapper then sees
    /// [`SessionPhase::Expired`] and opens a new generation.
    pub async fn force_expire(&self) -> Result<(), ClusterError> {
        let current = self.current().ok_or(ClusterError::NotConnected)?;
        let generation = current.generation;
        let hosts = self.inner.shared.connect.hosts_string();
        let info = current.client.session().clone();
        drop(current);
        // The original connection may win the session back before the second one closes it
        // (the close then fails with SessionMoved), so retry until the generation changes.
        let mut last_err = None;
        for _ in 0..5 {
            let info = info.clone();
            let hosts = hosts.clone();
            let attempt = self
                .run(async move {
                    let other = zk::Client::connector()
                        .with_session(info)
                        .connect(&hosts)
                        .await?;
                    drop(other);
                    Ok::<(), ClusterError>(())
                })
                .await?;
            match attempt {
                // already gone
                Ok(()) | Err(ClusterError::Zk(zk::Error::SessionExpired)) => {}
                // e.g. a connect timeout on a loaded machine: try again, report it if nothing moved
                Err(e) => last_err = Some(e),
            }
            let mut rx = self.subscribe();
            let moved = tokio::time::timeout(
                Duration::from_secs(3),
                rx.wait_for(|s| s.generation != generation || s.phase == SessionPhase::Expired),
            )
            .await;
            if moved.is_ok() {
                return Ok(());
            }
        }
        Err(last_err.unwrap_or(ClusterError::Timeout(Duration::from_secs(15))))
    }
}

fn set_status(shared: &Shared, generation: u64, phase: SessionPhase) {
    shared
        .status_tx
        .send_replace(SessionStatus { generation, phase });
}

async fn connect_once(shared: &Shared) -> Result<zk::Client, ClusterError> {
    let hosts = shared.connect.hosts_string();
    // Plain `create` (not `create2`, which needs ZooKeeper 3.5+): we never use the Stat of a
    // create, and many Canal installations still run 3.4 servers.
    let client = zk::Client::connector()
        .with_session_timeout(shared.options.session_timeout)
        .with_server_version(3, 4, 0)
        .connect(&hosts)
        .await?;
    match &shared.connect.chroot {
        None => Ok(client),
        Some(root) => {
            // Canal crashes when the chroot does not exist; we create it.
            let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
            client.mkdir(root, &opts).await?;
            client
                .chroot(root.clone())
                .map_err(|_| ClusterError::ConnectString(format!("bad chroot {root}")))
        }
    }
}

async fn supervise(shared: Arc<Shared>) {
    let mut generation = 0u64;
    let mut backoff = Duration::from_millis(200);
    loop {
        if shared.closed.load(Ordering::SeqCst) {
            set_status(&shared, generation, SessionPhase::Closed);
            return;
        }
        let sent = Instant::now();
        let attempt = tokio::select! {
            r = connect_once(&shared) => r,
            _ = shared.close_notify.notified() => continue,
        };
        let client = match attempt {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(
                    "zookeeper connect to {} failed: {e}",
                    shared.connect.hosts_string()
                );
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shared.close_notify.notified() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        generation += 1;
        let timeout = client.session_timeout();
        tracing::info!(
            "zookeeper session 0x{:x} established (generation {generation}, timeout {:?})",
            client.session_id().0,
            timeout
        );
        shared.lease.reset(generation, sent, timeout);
        *shared.current.lock() = Some(SessionClient {
            client: client.clone(),
            generation,
        });
        set_status(&shared, generation, SessionPhase::Connected);
        let heartbeat = tokio::spawn(heartbeat(shared.clone(), client.clone(), generation));
        let mut states = client.state_watcher();
        let closing = loop {
            tokio::select! {
                st = states.changed() => match st {
                    zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                        set_status(&shared, generation, SessionPhase::Connected);
                    }
                    zk::SessionState::Disconnected => {
                        tracing::warn!("zookeeper session generation {generation} disconnected");
                        set_status(&shared, generation, SessionPhase::Disconnected);
                    }
                    other => {
                        tracing::warn!("zookeeper session generation {generation} ended: {other}");
                        break false;
                    }
                },
                _ = shared.close_notify.notified() => break true,
            }
            if shared.closed.load(Ordering::SeqCst) {
                break true;
            }
        };
        heartbeat.abort();
        shared.lease.invalidate(generation);
        {
            let mut cur = shared.current.lock();
            if cur.as_ref().is_some_and(|c| c.generation == generation) {
                *cur = None;
            }
        }
        drop(states);
        drop(client);
        if closing {
            set_status(&shared, generation, SessionPhase::Closed);
            return;
        }
        set_status(&shared, generation, SessionPhase::Expired);
    }
}

/// Proves liveness regularly: a cheap read; the send time of each answered request extends the
/// lease (see [`LeaseClock`]).
async fn heartbeat(shared: Arc<Shared>, client: zk::Client, generation: u64) {
    let timeout = client.session_timeout();
    let period = heartbeat_period(timeout);
    loop {
        tokio::time::sleep(period).await;
        let sent = Instant::now();
        match tokio::time::timeout(timeout, client.check_stat("/")).await {
            Ok(Ok(_)) => shared.lease.record(generation, sent),
            Ok(Err(e)) => tracing::debug!("zookeeper heartbeat failed: {e}"),
            Err(_) => tracing::debug!("zookeeper heartbeat timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreachable_zookeeper_fails_after_the_initial_timeout() {
        // Canal blocks forever here (operations.md §1.1 trap); we give up after the timeout.
        let t0 = Instant::now();
        let r = ZkSession::connect(
            "127.0.0.1:1",
            ZkOptions {
                session_timeout: Duration::from_secs(4),
                initial_connect_timeout: Some(Duration::from_millis(800)),
                operation_timeout: Duration::from_secs(1),
            },
        )
        .await;
        assert!(matches!(r, Err(ClusterError::ConnectTimeout(_))), "{r:?}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert!(matches!(
            ZkSession::connect("", ZkOptions::default()).await,
            Err(ClusterError::ConnectString(_))
        ));
    }

    #[test]
    fn lease_clock_rules() {
        let c = LeaseClock::new();
        let t = Instant::now();
        c.reset(1, t, Duration::from_secs(4));
        assert_eq!(c.deadline(1), Some(t + Duration::from_secs(3)));
        assert!(c.valid(1));
        assert!(!c.valid(2), "another generation has no lease");
        // older proofs never shorten the lease
        c.record(1, t - Duration::from_secs(1));
        assert_eq!(c.deadline(1), Some(t + Duration::from_secs(3)));
        c.record(1, t + Duration::from_secs(1));
        assert_eq!(c.deadline(1), Some(t + Duration::from_secs(4)));
        c.record(2, t + Duration::from_secs(5));
        assert_eq!(c.deadline(1), Some(t + Duration::from_secs(4)));
        c.invalidate(1);
        assert!(!c.valid(1));
        c.reset(3, t - Duration::from_secs(10), Duration::from_secs(4));
        assert!(!c.valid(3), "a lease older than 3/4 of the timeout is over");
    }
}
