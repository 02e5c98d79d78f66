//! `ServerRunningMonitor`: per-destination election on `/destinations/{dest}/running`, the
//! destination's cluster registration, and fencing (see the crate doc for the rules and the
//! timing argument).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot, watch};
use zookeeper_client as zk;

use crate::data::ServerRunningData;
use crate::paths;
use crate::session::{LeaseClock, SessionClient, SessionPhase, ZkSession};
use crate::ClusterError;

/// Canal's delay before a server that was not the previous holder contends again.
pub const CANAL_TAKEOVER_DELAY: Duration = Duration::from_secs(5);

/// What the instance layer plugs into a monitor (Java `ServerRunningListener`).
///
/// Both callbacks run on a blocking thread of the session runtime; they may block (start or
/// stop an instance) but should return within a few seconds.
pub trait RunningListener: Send + Sync + 'static {
    /// This server became the active one for the destination: start parsing and serving.
    /// Serving code must check `lease.is_valid()` before delivering anything to a client and
    /// stop when it turns false. An error releases the running node and stops the monitor
    /// (like Canal's "start failed" path).
    fn process_active_enter(&self, lease: ActiveLease) -> Result<(), String>;
    /// Stop serving and parsing the destination (release, step-down, stop, or fencing).
    fn process_active_exit(&self);
}

/// Proof that this server may serve a destination right now.
///
/// Valid while the monitor is active and the ZooKeeper session that holds the running node is
/// provably alive (see the crate doc). The check is a mutex-free clock comparison plus one
/// short lock; call it before every delivery.
#[derive(Clone, Debug)]
pub struct ActiveLease {
    clock: Option<Arc<LeaseClock>>,
    generation: u64,
    active: Arc<AtomicBool>,
}

impl ActiveLease {
    /// A lease for standalone mode (no ZooKeeper): valid until the monitor exits.
    pub fn standalone() -> Self {
        Self {
            clock: None,
            generation: 0,
            active: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Whether serving is still allowed.
    pub fn is_valid(&self) -> bool {
        self.active.load(Ordering::SeqCst)
            && self.clock.as_ref().is_none_or(|c| c.valid(self.generation))
    }

    /// When the lease runs out unless the session proves liveness again (`None` in standalone
    /// mode or when already invalid).
    pub fn deadline(&self) -> Option<Instant> {
        if !self.active.load(Ordering::SeqCst) {
            return None;
        }
        self.clock
            .as_ref()
            .and_then(|c| c.deadline(self.generation))
    }

    fn revoke(&self) {
        self.active.store(false, Ordering::SeqCst);
    }
}

/// Monitor options.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// Delay before a server that was not the previous holder (or that released) contends
    /// again after the running node disappears. Canal: 5 s.
    pub takeover_delay: Duration,
    /// Consecutive parser failures (see [`ServerRunningMonitor::report_parser_failure`]) after
    /// which the destination is released so another server can try; 0 disables.
    pub parser_failure_threshold: u32,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        Self {
            takeover_delay: CANAL_TAKEOVER_DELAY,
            parser_failure_threshold: 3,
        }
    }
}

/// Observable state of a monitor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorState {
    /// `start()` was called and `stop()` not yet.
    pub started: bool,
    /// This server is the active one (between activeEnter and activeExit).
    pub active: bool,
    /// Content of the running node as last seen.
    pub running: Option<ServerRunningData>,
    /// Number of activeEnter calls so far.
    pub enters: u64,
    /// Number of activeExit calls so far.
    pub exits: u64,
}

enum Command {
    Start,
    Release(oneshot::Sender<bool>),
    Stop(oneshot::Sender<()>),
}

struct Shared {
    destination: String,
    address: String,
    session: Option<ZkSession>,
    listener: Arc<dyn RunningListener>,
    options: MonitorOptions,
    lease: Mutex<Option<ActiveLease>>,
    parser_failures: AtomicU32,
    state_tx: watch::Sender<MonitorState>,
    /// Serializes activeEnter/activeExit (main task and fence watchdog).
    transition: Mutex<()>,
    /// Set when the monitor task ended (stops the watchdog).
    finished: AtomicBool,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut MonitorState)) {
        self.state_tx.send_modify(f);
    }

    fn is_active(&self) -> bool {
        self.state_tx.borrow().active
    }

    fn mine(&self) -> ServerRunningData {
        ServerRunningData::new(self.address.clone())
    }
}

/// One destination's running monitor (Java `ServerRunningMonitor`). Creating it registers the
/// server under `/destinations/{dest}/cluster` (Java `init()`); [`start`](Self::start) joins the
/// election.
pub struct ServerRunningMonitor {
    shared: Arc<Shared>,
    cmd: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for ServerRunningMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRunningMonitor")
            .field("destination", &self.shared.destination)
            .field("address", &self.shared.address)
            .field("state", &*self.shared.state_tx.borrow())
            .finish()
    }
}

impl ServerRunningMonitor {
    /// Creates the monitor for `destination`, identified by `address` (`{registerIp}:{port}`).
    /// With a session it registers the destination cluster node now and after every new session;
    /// without one (no `canal.zkServers`) start/stop simply call the listener.
    pub fn new(
        session: Option<ZkSession>,
        destination: impl Into<String>,
        address: impl Into<String>,
        listener: Arc<dyn RunningListener>,
        options: MonitorOptions,
    ) -> Self {
        let (state_tx, _) = watch::channel(MonitorState::default());
        let shared = Arc::new(Shared {
            destination: destination.into(),
            address: address.into(),
            session,
            listener,
            options,
            lease: Mutex::new(None),
            parser_failures: AtomicU32::new(0),
            state_tx,
            transition: Mutex::new(()),
            finished: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let task_shared = shared.clone();
        match &shared.session {
            Some(s) => {
                s.handle().spawn(fence_watchdog(shared.clone()));
                s.handle().spawn(async move {
                    run_zk(task_shared.clone(), rx).await;
                    task_shared.finished.store(true, Ordering::SeqCst);
                });
            }
            None => {
                std::thread::Builder::new()
                    .name(format!("canal-monitor-{}", shared.destination))
                    .spawn(move || run_standalone(task_shared, rx))
                    .map(drop)
                    .unwrap_or_else(|e| tracing::error!("cannot start monitor thread: {e}"));
            }
        }
        Self { shared, cmd: tx }
    }

    /// Destination name.
    pub fn destination(&self) -> &str {
        &self.shared.destination
    }

    /// This server's address.
    pub fn address(&self) -> &str {
        &self.shared.address
    }

    /// Joins the election (cold start: no delay).
    pub fn start(&self) {
        let _ = self.cmd.send(Command::Start);
    }

    /// Releases the running node if this server holds it (instance stops first, then the node
    /// is deleted); everybody, including this server, re-contends after the takeover delay.
    /// Returns whether this server was the holder. Without ZooKeeper it stops the instance and
    /// returns `false` (Canal's "not released").
    pub async fn release(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Release(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Stops the monitor: instance stopped, running node released, destination cluster node
    /// deleted, no further contention. Idempotent.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Stop(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether this server is currently the active one.
    pub fn is_active(&self) -> bool {
        self.shared.is_active()
    }

    /// The current lease while active.
    pub fn lease(&self) -> Option<ActiveLease> {
        self.shared.lease.lock().clone()
    }

    /// Snapshot of the state.
    pub fn state(&self) -> MonitorState {
        self.shared.state_tx.borrow().clone()
    }

    /// Watches state changes (tests, admin).
    pub fn subscribe(&self) -> watch::Receiver<MonitorState> {
        self.shared.state_tx.subscribe()
    }

    /// Waits until this server is active or `timeout` passes; returns whether it is active.
    pub async fn wait_for_active(&self, timeout: Duration) -> bool {
        let mut rx = self.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|s| s.active))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// The parser failed to dump (connection error etc.). After
    /// [`MonitorOptions::parser_failure_threshold`] consecutive failures the destination is
    /// released so that another server can try (Canal never does this).
    pub fn report_parser_failure(&self) {
        let threshold = self.shared.options.parser_failure_threshold;
        if threshold == 0 || !self.is_active() {
            return;
        }
        let n = self.shared.parser_failures.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= threshold {
            self.shared.parser_failures.store(0, Ordering::SeqCst);
            tracing::warn!(
                "destination {}: {n} consecutive parser failures, releasing the running node",
                self.shared.destination
            );
            let (tx, _rx) = oneshot::channel();
            let _ = self.cmd.send(Command::Release(tx));
        }
    }

    /// The parser made progress: resets the failure count.
    pub fn report_parser_success(&self) {
        self.shared.parser_failures.store(0, Ordering::SeqCst);
    }
}

impl Drop for ServerRunningMonitor {
    fn drop(&mut self) {
        // Best effort: a dropped monitor stops contending (the task ends when the channel
        // closes, releasing what it holds).
        let (tx, _rx) = oneshot::channel();
        let _ = self.cmd.send(Command::Stop(tx));
    }
}

// ------------------------------------------------------------------------------------------
// listener calls

fn enter_blocking(shared: &Shared, lease: ActiveLease) -> Result<(), String> {
    let _t = shared.transition.lock();
    if !lease.is_valid() {
        return Err("lease already expired before the instance could start".into());
    }
    *shared.lease.lock() = Some(lease.clone());
    shared.update(|s| {
        s.active = true;
        s.enters += 1;
    });
    shared.parser_failures.store(0, Ordering::SeqCst);
    tracing::info!(
        "destination {} is now active on {}",
        shared.destination,
        shared.address
    );
    shared.listener.process_active_enter(lease)
}

fn exit_blocking(shared: &Shared, reason: &str) {
    let _t = shared.transition.lock();
    exit_locked(shared, reason);
}

/// Exit only if the *current* lease is invalid (the watchdog's check, re-done under the
/// transition lock so a freshly entered lease is never fenced by a stale observation).
fn fence_blocking(shared: &Shared) {
    let _t = shared.transition.lock();
    let invalid = shared.lease.lock().as_ref().is_none_or(|l| !l.is_valid());
    if invalid {
        exit_locked(shared, "zookeeper session liveness lease ran out");
    }
}

fn exit_locked(shared: &Shared, reason: &str) {
    let lease = shared.lease.lock().take();
    if let Some(l) = &lease {
        l.revoke();
    }
    if !shared.is_active() {
        return;
    }
    tracing::warn!(
        "destination {} stops on {}: {reason}",
        shared.destination,
        shared.address
    );
    shared.listener.process_active_exit();
    shared.update(|s| {
        s.active = false;
        s.exits += 1;
    });
}

async fn exit_active(shared: &Arc<Shared>, reason: &str) {
    if !shared.is_active() {
        return;
    }
    // Revoke first, synchronously: serving code sees the lease invalid at once.
    if let Some(l) = shared.lease.lock().as_ref() {
        l.revoke();
    }
    let s = shared.clone();
    let reason = reason.to_string();
    if tokio::task::spawn_blocking(move || exit_blocking(&s, &reason))
        .await
        .is_err()
    {
        tracing::error!("processActiveExit panicked");
        shared.update(|s| {
            s.active = false;
            s.exits += 1;
        });
    }
}

/// Stops the instance when the lease runs out, independently of the election task (which may
/// be waiting on a ZooKeeper request while the connection is down).
async fn fence_watchdog(shared: Arc<Shared>) {
    let tick = Duration::from_millis(100);
    while !shared.finished.load(Ordering::SeqCst) {
        let lease = shared.lease.lock().clone();
        let wake = match &lease {
            Some(l) if shared.is_active() => {
                if !l.is_valid() {
                    let s = shared.clone();
                    let _ = tokio::task::spawn_blocking(move || fence_blocking(&s)).await;
                    continue;
                }
                l.deadline()
                    .map_or(Instant::now() + tick, |d| d.min(Instant::now() + tick))
            }
            _ => Instant::now() + tick,
        };
        tokio::time::sleep_until(wake.into()).await;
    }
}

// ------------------------------------------------------------------------------------------
// standalone (no ZooKeeper)

fn run_standalone(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
    while let Some(cmd) = rx.blocking_recv() {
        match cmd {
            Command::Start => {
                if shared.state_tx.borrow().started {
                    continue;
                }
                shared.update(|s| s.started = true);
                if let Err(e) = enter_blocking(&shared, ActiveLease::standalone()) {
                    tracing::error!("start failed: {e}");
                    exit_blocking(&shared, "start failed");
                    shared.update(|s| s.started = false);
                }
            }
            Command::Release(ack) => {
                exit_blocking(&shared, "release");
                let _ = ack.send(false);
            }
            Command::Stop(ack) => {
                exit_blocking(&shared, "stop");
                shared.update(|s| s.started = false);
                let _ = ack.send(());
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// ZooKeeper mode

type WatchFuture = Pin<Box<dyn Future<Output = zk::WatchedEvent> + Send>>;

struct Election {
    started: bool,
    /// Set when this server released the node on purpose: it then waits like everybody else.
    release: bool,
    /// When a delayed election attempt is due.
    due: Option<Instant>,
    /// Session generation the destination cluster node was registered in.
    registered_gen: u64,
    /// Session generation in which this server holds the running node.
    active_gen: u64,
    /// Last running-node content seen (Java `activeData`).
    last_seen: Option<ServerRunningData>,
    /// Whether the destination cluster node should exist (false after stop).
    registering: bool,
    need_observe: bool,
    watch: Option<WatchFuture>,
    retry_at: Option<Instant>,
}

async fn maybe_watch(w: &mut Option<WatchFuture>) -> zk::WatchedEvent {
    match w {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

fn is_mine(shared: &Shared, d: &ServerRunningData) -> bool {
    d.is_address(&shared.address)
}

async fn ensure_path(client: &zk::Client, path: &str) -> Result<(), ClusterError> {
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    client.mkdir(path, &opts).await?;
    Ok(())
}

/// Creates an ephemeral node owned by this session; a leftover owned by another session with
/// our identity (fast restart after a crash) is replaced rather than ignored (Canal trap).
pub(crate) async fn register_ephemeral(c: &SessionClient, path: &str) -> Result<(), ClusterError> {
    let eph = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    for _ in 0..5 {
        match c.client.create(path, &[], &eph).await {
            Ok(_) => return Ok(()),
            Err(zk::Error::NoNode) => {
                if let Some(parent) = paths::parent(path) {
                    ensure_path(&c.client, parent).await?;
                }
            }
            Err(zk::Error::NodeExists) => match c.client.check_stat(path).await? {
                Some(stat) if stat.ephemeral_owner == c.session_id() => return Ok(()),
                Some(stat) => match c.client.delete(path, Some(stat.version)).await {
                    Ok(()) | Err(zk::Error::NoNode) | Err(zk::Error::BadVersion) => {}
                    Err(e) => return Err(e.into()),
                },
                None => {}
            },
            Err(e) => return Err(e.into()),
        }
    }
    Err(ClusterError::Contended(path.to_string()))
}

/// Deletes `path` if this session owns it.
pub(crate) async fn delete_if_owned(c: &SessionClient, path: &str) -> Result<bool, ClusterError> {
    match c.client.check_stat(path).await? {
        Some(stat) if stat.ephemeral_owner == c.session_id() => {
            match c.client.delete(path, Some(stat.version)).await {
                Ok(()) => Ok(true),
                Err(zk::Error::NoNode) | Err(zk::Error::BadVersion) => Ok(false),
                Err(e) => Err(e.into()),
            }
        }
        _ => Ok(false),
    }
}

async fn run_zk(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Command>) {
    let Some(session) = shared.session.clone() else {
        return;
    };
    let clock = session.lease_clock();
    let running_path = paths::destination_running(&shared.destination);
    let cluster_path = paths::destination_cluster_node(&shared.destination, &shared.address);
    let mut status_rx = session.subscribe();
    let mut el = Election {
        started: false,
        release: false,
        due: None,
        registered_gen: 0,
        active_gen: 0,
        last_seen: None,
        registering: true,
        need_observe: true,
        watch: None,
        retry_at: None,
    };
    loop {
        let status = *status_rx.borrow_and_update();
        // Fencing: never stay active without a valid lease of the generation that holds the
        // running node.
        if shared.is_active() && !clock.valid(el.active_gen) {
            let why = match status.phase {
                SessionPhase::Expired | SessionPhase::Connecting => "zookeeper session expired",
                SessionPhase::Closed => "zookeeper session closed",
                _ => "zookeeper session liveness lease ran out",
            };
            exit_active(&shared, why).await;
            el.need_observe = true;
        }
        if status.phase == SessionPhase::Closed {
            shared.update(|s| s.started = false);
            // Drain commands so callers do not hang.
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Command::Release(ack) => {
                        let _ = ack.send(false);
                    }
                    Command::Stop(ack) => {
                        let _ = ack.send(());
                    }
                    Command::Start => {}
                }
            }
            return;
        }
        let current = session.current().filter(|c| {
            status.phase == SessionPhase::Connected && c.generation == status.generation
        });
        if let Some(c) = &current {
            if el.registering && el.registered_gen != c.generation {
                match register_ephemeral(c, &cluster_path).await {
                    Ok(()) => {
                        el.registered_gen = c.generation;
                        el.need_observe = true;
                    }
                    Err(e) => {
                        tracing::warn!("register {cluster_path} failed: {e}");
                        el.retry_at = Some(Instant::now() + Duration::from_secs(1));
                    }
                }
            }
            if el.started && (el.need_observe || el.due.is_some_and(|d| d <= Instant::now())) {
                if let Err(e) = observe(&shared, &clock, c, &running_path, &mut el).await {
                    tracing::warn!(
                        "destination {} election step failed: {e}",
                        shared.destination
                    );
                    el.need_observe = true;
                    el.retry_at = Some(Instant::now() + Duration::from_millis(500));
                }
            }
        }
        let lease_deadline = if shared.is_active() {
            clock.deadline(el.active_gen).or(Some(Instant::now()))
        } else {
            None
        };
        let wake = [el.due, lease_deadline, el.retry_at]
            .into_iter()
            .flatten()
            .min();
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else {
                    stop_zk(&shared, &session, &running_path, &cluster_path, &mut el).await;
                    return;
                };
                match cmd {
                    Command::Start => {
                        if !el.started {
                            el.started = true;
                            el.registering = true;
                            el.release = false;
                            // cold start: contend at once
                            el.due = Some(Instant::now());
                            el.need_observe = true;
                            shared.update(|s| s.started = true);
                        }
                    }
                    Command::Release(ack) => {
                        let released = release_running(&shared, &session, &running_path, &mut el).await;
                        let _ = ack.send(released);
                    }
                    Command::Stop(ack) => {
                        stop_zk(&shared, &session, &running_path, &cluster_path, &mut el).await;
                        let _ = ack.send(());
                    }
                }
            }
            _ = maybe_watch(&mut el.watch) => {
                el.watch = None;
                el.need_observe = true;
            }
            r = status_rx.changed() => {
                if r.is_err() {
                    return;
                }
                el.need_observe = true;
                el.watch = None;
            }
            _ = sleep_until_opt(wake) => {
                if el.retry_at.is_some_and(|t| t <= Instant::now()) {
                    el.retry_at = None;
                    el.need_observe = true;
                }
            }
        }
    }
}

/// One look at the running node (with a watch), reacting like Canal's data listener, and an
/// election attempt when one is due.
async fn observe(
    shared: &Arc<Shared>,
    clock: &Arc<LeaseClock>,
    c: &SessionClient,
    path: &str,
    el: &mut Election,
) -> Result<(), ClusterError> {
    for _ in 0..10 {
        let sent = Instant::now();
        let (stat, watcher) = c.client.check_and_watch_stat(path).await?;
        clock.record(c.generation, sent);
        el.need_observe = false;
        el.watch = Some(Box::pin(watcher.changed()));
        let Some(stat) = stat else {
            // Node absent.
            let previous_mine =
                !el.release && el.last_seen.as_ref().is_some_and(|d| is_mine(shared, d));
            if shared.is_active() {
                // Our node vanished while we were active (deleted by someone): the previous
                // holder re-grabs at once; failing that we stop.
                if init_running(shared, clock, c, path, el).await? {
                    return Ok(());
                }
                exit_active(shared, "running node taken over").await;
                continue;
            }
            let now = Instant::now();
            let due = match el.due {
                Some(d) => d,
                None => {
                    let d = if previous_mine {
                        now
                    } else {
                        now.checked_add(shared.options.takeover_delay)
                            .unwrap_or(now + Duration::from_secs(365 * 86_400))
                    };
                    el.due = Some(d);
                    d
                }
            };
            if due <= now {
                el.due = None;
                init_running(shared, clock, c, path, el).await?;
                // loop to observe the outcome with a fresh watch
                continue;
            }
            return Ok(());
        };
        // Node present.
        el.due = None;
        let data = match c.client.get_data(path).await {
            Ok((bytes, _)) => bytes,
            Err(zk::Error::NoNode) => continue,
            Err(e) => return Err(e.into()),
        };
        let owned = stat.ephemeral_owner == c.session_id();
        match ServerRunningData::from_bytes(&data) {
            Ok(d) => {
                let mine = is_mine(shared, &d);
                shared.update(|s| s.running = Some(d.clone()));
                el.last_seen = Some(d.clone());
                if mine && !d.active {
                    // forced hand-over: step down
                    tracing::warn!(
                        "destination {}: running node marked active:false, stepping down",
                        shared.destination
                    );
                    exit_active(shared, "step-down requested (active:false)").await;
                    el.release = true;
                    let _ = c.client.delete(path, Some(stat.version)).await;
                    continue;
                }
                if !mine {
                    if shared.is_active() {
                        exit_active(shared, "running node now names another server").await;
                    }
                    return Ok(());
                }
                if owned && !shared.is_active() {
                    // Our own session holds the node but we are not serving (we fenced after a
                    // lease lapse): re-enter only through a fresh election.
                    el.release = false;
                    let _ = c.client.delete(path, Some(stat.version)).await;
                    continue;
                }
                // mine and active, or a leftover of our previous session/process: when it goes
                // away we are the previous holder and re-grab at once.
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(
                    "destination {}: unreadable running node: {e}",
                    shared.destination
                );
                el.last_seen = None;
                if shared.is_active() {
                    exit_active(shared, "running node unreadable").await;
                }
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Java `initRunning`: try to create the ephemeral running node. Returns whether this server
/// holds it afterwards.
async fn init_running(
    shared: &Arc<Shared>,
    clock: &Arc<LeaseClock>,
    c: &SessionClient,
    path: &str,
    el: &mut Election,
) -> Result<bool, ClusterError> {
    if !el.started {
        return Ok(false);
    }
    let bytes = shared.mine().to_json().into_bytes();
    let eph = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    for _ in 0..10 {
        let sent = Instant::now();
        match c.client.create(path, &bytes, &eph).await {
            Ok(_) => {
                clock.record(c.generation, sent);
                el.last_seen = Some(shared.mine());
                el.release = false;
                el.due = None;
                shared.update(|s| s.running = Some(shared.mine()));
                if shared.is_active() {
                    // re-created our own node while still serving
                    el.active_gen = c.generation;
                    return Ok(true);
                }
                el.active_gen = c.generation;
                let lease = ActiveLease {
                    clock: Some(clock.clone()),
                    generation: c.generation,
                    active: Arc::new(AtomicBool::new(true)),
                };
                let s = shared.clone();
                let res = tokio::task::spawn_blocking(move || enter_blocking(&s, lease))
                    .await
                    .unwrap_or_else(|_| Err("processActiveEnter panicked".into()));
                if let Err(e) = res {
                    tracing::error!("destination {}: start failed: {e}", shared.destination);
                    exit_active(shared, "start failed").await;
                    let _ = delete_if_owned(c, path).await;
                    // like Canal's start failure: the monitor stops contending
                    el.started = false;
                    el.release = true;
                    shared.update(|s| s.started = false);
                    return Ok(false);
                }
                return Ok(true);
            }
            Err(zk::Error::NodeExists) => match c.client.get_data(path).await {
                Ok((data, _)) => {
                    if let Ok(d) = ServerRunningData::from_bytes(&data) {
                        shared.update(|s| s.running = Some(d.clone()));
                        el.last_seen = Some(d);
                    }
                    return Ok(false);
                }
                Err(zk::Error::NoNode) => continue,
                Err(e) => return Err(e.into()),
            },
            Err(zk::Error::NoNode) => {
                ensure_path(&c.client, &paths::destination(&shared.destination)).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ClusterError::Contended(path.to_string()))
}

/// Java `releaseRunning`, with the order reversed for safety: the instance stops before the
/// node is deleted, so nobody can take over while we still serve.
async fn release_running(
    shared: &Arc<Shared>,
    session: &ZkSession,
    path: &str,
    el: &mut Election,
) -> bool {
    let Some(c) = session.current() else {
        exit_active(shared, "release").await;
        return false;
    };
    let stat = match c.client.check_stat(path).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("release check failed: {e}");
            exit_active(shared, "release").await;
            return false;
        }
    };
    let Some(stat) = stat else {
        exit_active(shared, "release").await;
        return false;
    };
    let mine = match c.client.get_data(path).await {
        Ok((d, _)) => ServerRunningData::from_bytes(&d).is_ok_and(|d| is_mine(shared, &d)),
        Err(_) => false,
    };
    if !mine {
        return false;
    }
    el.release = true;
    exit_active(shared, "release").await;
    match c.client.delete(path, Some(stat.version)).await {
        Ok(()) | Err(zk::Error::NoNode) => {}
        Err(e) => tracing::warn!("delete {path} failed: {e}"),
    }
    el.need_observe = true;
    true
}

async fn stop_zk(
    shared: &Arc<Shared>,
    session: &ZkSession,
    running_path: &str,
    cluster_path: &str,
    el: &mut Election,
) {
    el.watch = None;
    el.due = None;
    if el.started {
        release_running(shared, session, running_path, el).await;
    }
    exit_active(shared, "stop").await;
    el.started = false;
    shared.update(|s| s.started = false);
    if let Some(c) = session.current() {
        if let Err(e) = delete_if_owned(&c, cluster_path).await {
            tracing::warn!("delete {cluster_path} failed: {e}");
        }
    }
    // not registered any more: a new session must not bring it back (Canal trap)
    el.registering = false;
    el.registered_gen = 0;
}
