//! The metrics facade: per-destination handles computed the way Canal computes them, the
//! server-level (client port, HA, ZooKeeper) handles, and rendering of one scrape.
//!
//! Each running destination gets its own [`PrometheusRecorder`]; unregistering a destination
//! drops that recorder, so its samples vanish from the next scrape at once (Canal unregisters an
//! instance's collectors after stop; standbys expose no per-destination samples). The exporter
//! has no way to delete a series from one shared recorder, hence one recorder per destination;
//! [`Telemetry::render`] renders them all plus the server recorder and merges families that
//! appear in several of them, so each family has one `# HELP`/`# TYPE` header.
//!
//! The exposition is rewritten into simpleclient 0.4.0's shape (trailing comma in label sets,
//! Java double formatting, `le="10.0"`), so scripts that grep Canal's raw output keep working.
//!
//! Handles are registered through the [`metrics::Recorder`] API on those recorders rather than
//! the global-recorder macros, because the macros can only reach one global recorder.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use parking_lot::{Mutex, RwLock};

use crate::names::{self, Kind, MetricDef};

static META: Metadata<'static> =
    Metadata::new("canal_telemetry", Level::INFO, Some("canal_telemetry"));

/// Milliseconds since the Unix epoch (wall clock, like Java's `System.currentTimeMillis`).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn build_recorder() -> PrometheusRecorder {
    let matcher = Matcher::Full(names::CLIENT_REQUEST_LATENCY.name.to_string());
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(matcher, names::LATENCY_BUCKETS_MS)
        // Only fails for an empty bucket list, which LATENCY_BUCKETS_MS is not.
        .unwrap_or_else(|_| PrometheusBuilder::new());
    let rec = builder.build_recorder();
    for d in names::ALL {
        let name = KeyName::from_const_str(d.name);
        let help = SharedString::const_str(d.help);
        match d.kind {
            Kind::Counter => rec.describe_counter(name, None, help),
            Kind::Gauge => rec.describe_gauge(name, None, help),
            Kind::Histogram => rec.describe_histogram(name, None, help),
        }
    }
    rec
}

fn key(def: &MetricDef, values: &[&str]) -> Key {
    let labels: Vec<Label> = def
        .labels
        .iter()
        .zip(values)
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect();
    Key::from_parts(def.name, labels)
}

fn counter(rec: &PrometheusRecorder, def: &MetricDef, values: &[&str]) -> Counter {
    rec.register_counter(&key(def, values), &META)
}

fn gauge(rec: &PrometheusRecorder, def: &MetricDef, values: &[&str]) -> Gauge {
    rec.register_gauge(&key(def, values), &META)
}

fn histogram(rec: &PrometheusRecorder, def: &MetricDef, values: &[&str]) -> Histogram {
    rec.register_histogram(&key(def, values), &META)
}

/// Event store batch mode (label `batchMode` of `canal_instance_store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// Batches bounded by bytes.
    MemSize,
    /// Batches bounded by entry count.
    ItemSize,
}

impl BatchMode {
    /// Canal's enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchMode::MemSize => "MEMSIZE",
            BatchMode::ItemSize => "ITEMSIZE",
        }
    }
}

/// Static facts about a destination, fixed at registration.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    /// Store batch mode.
    pub batch_mode: BatchMode,
    /// Store buffer slots (`canal.instance.memory.buffer.size`).
    pub buffer_size: u64,
    /// Parallel parser (`canal.instance.parser.parallel`).
    pub parallel: bool,
    /// Number of parsers: 1 for a single source (label `parser="0"`), n for group parsers.
    pub parsers: usize,
}

impl Default for InstanceInfo {
    fn default() -> Self {
        InstanceInfo {
            batch_mode: BatchMode::MemSize,
            buffer_size: 16384,
            parallel: true,
            parsers: 1,
        }
    }
}

/// Values read from the store and meta at scrape time (Canal's StoreCollector reads the same
/// atomics of MemoryEventStoreWithBuffer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreSnapshot {
    /// Subscribed clients in meta.
    pub subscriptions: u64,
    /// Put sequence (Canal starts at -1).
    pub put_seq: i64,
    /// Ack sequence (Canal starts at -1).
    pub ack_seq: i64,
    /// Bytes put (MEMSIZE).
    pub put_mem: u64,
    /// Bytes acked (MEMSIZE).
    pub ack_mem: u64,
    /// Execute time (ms) of the first event of the last put; 0 before any.
    pub put_exec_ms: i64,
    /// Execute time (ms) of the last got event; 0 before any.
    pub get_exec_ms: i64,
    /// Execute time (ms) of the last acked event; 0 before any.
    pub ack_exec_ms: i64,
    /// Rows of events put.
    pub put_rows: u64,
    /// Rows of events got.
    pub get_rows: u64,
    /// Rows of events acked.
    pub ack_rows: u64,
    /// Store usage (unacked entries, or bytes in MEMSIZE mode).
    pub used: u64,
    /// Store capacity in the same unit as `used`.
    pub capacity: u64,
}

/// The store/meta values Canal computes its delays from, and the derived gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreDelays {
    /// `canal_instance_put_delay`.
    pub put_ms: i64,
    /// `canal_instance_get_delay`.
    pub get_ms: i64,
    /// `canal_instance_ack_delay`.
    pub ack_ms: i64,
}

impl StoreSnapshot {
    /// Canal's delay arithmetic: get can not be ahead of put, ack not ahead of get; a future
    /// execute time reads as 0.
    pub fn delays(&self, now_ms: i64) -> StoreDelays {
        let put = self.put_exec_ms;
        let get = self.get_exec_ms.min(put);
        let ack = self.ack_exec_ms.min(get);
        let d = |t: i64| if now_ms >= t { now_ms - t } else { 0 };
        StoreDelays {
            put_ms: d(put),
            get_ms: d(get),
            ack_ms: d(ack),
        }
    }
}

/// The parser state reported in `canal_rs_parser_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParserState {
    /// Not running.
    Stopped,
    /// Connecting to the source.
    Connecting,
    /// Looking for the start position.
    FindingPosition,
    /// Binlog dump running.
    Dumping,
    /// Failed; will retry.
    Error,
}

impl ParserState {
    /// Label value (one of [`names::PARSER_STATES`]).
    pub fn as_str(self) -> &'static str {
        match self {
            ParserState::Stopped => "stopped",
            ParserState::Connecting => "connecting",
            ParserState::FindingPosition => "finding_position",
            ParserState::Dumping => "dumping",
            ParserState::Error => "error",
        }
    }
}

type SnapshotFn = Arc<dyn Fn() -> StoreSnapshot + Send + Sync>;

struct InstanceEntry {
    destination: String,
    info: InstanceInfo,
    recorder: PrometheusRecorder,
    last_sink_exec_ms: AtomicI64,
    parsed_exec_ms: AtomicI64,
    sink_blocking_ns: AtomicU64,
    transactions: Counter,
    sink_blocking: Counter,
    received: Vec<Counter>,
    publish_ns: Vec<AtomicU64>,
    publish: Vec<Counter>,
    parser_state: Mutex<ParserState>,
    source_gap: Mutex<Option<u64>>,
    errors: Mutex<HashMap<String, Counter>>,
    snapshot: RwLock<Option<SnapshotFn>>,
}

/// Per-destination metrics handle (cheap to clone). Obtained from
/// [`Telemetry::register_instance`]; keeps working after unregistration but its values are no
/// longer exported.
#[derive(Clone)]
pub struct InstanceMetrics {
    entry: Arc<InstanceEntry>,
}

impl InstanceMetrics {
    /// The destination.
    pub fn destination(&self) -> &str {
        &self.entry.destination
    }

    /// A TRANSACTIONEND entry passed the sink (`canal_instance_transactions`).
    pub fn transactions_inc(&self, n: u64) {
        self.entry.transactions.increment(n);
    }

    /// The sink saw an entry executed at `exec_ms` (BEGIN/ROWDATA/END), for
    /// `canal_instance_traffic_delay`.
    pub fn sink_exec_time(&self, exec_ms: i64) {
        self.entry
            .last_sink_exec_ms
            .store(exec_ms, Ordering::Relaxed);
    }

    /// The sink saw a source heartbeat: Canal takes "now" as the exec time.
    pub fn sink_heartbeat(&self) {
        self.sink_exec_time(now_ms());
    }

    /// The sink was blocked putting into the full store (`canal_instance_sink_blocking_time`).
    pub fn sink_blocking(&self, blocked: Duration) {
        let ns = u64::try_from(blocked.as_nanos()).unwrap_or(u64::MAX);
        let total = self
            .entry
            .sink_blocking_ns
            .fetch_add(ns, Ordering::Relaxed)
            .saturating_add(ns);
        self.entry.sink_blocking.absolute(total / 1_000_000);
    }

    /// Bytes read from the source by parser `parser` (0 for a single source).
    pub fn received_binlog_bytes(&self, parser: usize, n: u64) {
        if let Some(c) = self.entry.received.get(parser) {
            c.increment(n);
        }
    }

    /// Blocking of the dump thread publishing to the parallel parser (parallel mode only).
    pub fn publish_blocking(&self, parser: usize, blocked: Duration) {
        if let (Some(acc), Some(c)) = (
            self.entry.publish_ns.get(parser),
            self.entry.publish.get(parser),
        ) {
            let ns = u64::try_from(blocked.as_nanos()).unwrap_or(u64::MAX);
            let total = acc.fetch_add(ns, Ordering::Relaxed).saturating_add(ns);
            c.absolute(total / 1_000_000);
        }
    }

    /// The parser produced an event executed at `exec_ms` (`canal_rs_binlog_delay_seconds{stage="parsed"}`).
    pub fn parsed_exec_time(&self, exec_ms: i64) {
        self.entry.parsed_exec_ms.store(exec_ms, Ordering::Relaxed);
    }

    /// Binlog bytes between the source's head position and the parsed position (when both are
    /// in the same file); `None` when unknown.
    pub fn source_gap_bytes(&self, gap: Option<u64>) {
        *self.entry.source_gap.lock() = gap;
    }

    /// The parser changed state.
    pub fn parser_state(&self, state: ParserState) {
        *self.entry.parser_state.lock() = state;
    }

    /// An error of `kind` (parser, dump, sink, meta ...) happened (`canal_rs_errors_total`).
    pub fn error(&self, kind: &str) {
        let mut map = self.entry.errors.lock();
        let c = map.entry(kind.to_string()).or_insert_with(|| {
            counter(
                &self.entry.recorder,
                &names::RS_ERRORS,
                &[&self.entry.destination, kind],
            )
        });
        c.increment(1);
    }

    /// Installs the scrape-time reader of the store and meta values.
    pub fn set_store_snapshot<F>(&self, f: F)
    where
        F: Fn() -> StoreSnapshot + Send + Sync + 'static,
    {
        *self.entry.snapshot.write() = Some(Arc::new(f));
    }
}

impl InstanceEntry {
    fn new(destination: &str, info: InstanceInfo) -> InstanceEntry {
        let rec = build_recorder();
        let d = destination;
        gauge(&rec, &names::INSTANCE, &[d, "spring"]).set(1.0);
        gauge(
            &rec,
            &names::STORE,
            &[d, info.batch_mode.as_str(), &info.buffer_size.to_string()],
        )
        .set(1.0);
        gauge(
            &rec,
            &names::PARSER_MODE,
            &[d, if info.parallel { "true" } else { "false" }],
        )
        .set(1.0);
        let parsers = info.parsers.max(1);
        let received = (0..parsers)
            .map(|i| {
                let c = counter(&rec, &names::RECEIVED_BINLOG_BYTES, &[d, &i.to_string()]);
                c.absolute(0);
                c
            })
            .collect();
        let (publish_ns, publish) = if info.parallel {
            (0..parsers)
                .map(|i| {
                    let c = counter(&rec, &names::PUBLISH_BLOCKING_TIME, &[d, &i.to_string()]);
                    c.absolute(0);
                    (AtomicU64::new(0), c)
                })
                .unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        let transactions = counter(&rec, &names::TRANSACTIONS, &[d]);
        transactions.absolute(0);
        let sink_blocking = counter(&rec, &names::SINK_BLOCKING_TIME, &[d]);
        sink_blocking.absolute(0);
        InstanceEntry {
            destination: d.to_string(),
            info,
            recorder: rec,
            last_sink_exec_ms: AtomicI64::new(now_ms()),
            parsed_exec_ms: AtomicI64::new(0),
            sink_blocking_ns: AtomicU64::new(0),
            transactions,
            sink_blocking,
            received,
            publish_ns,
            publish,
            parser_state: Mutex::new(ParserState::Stopped),
            source_gap: Mutex::new(None),
            errors: Mutex::new(HashMap::new()),
            snapshot: RwLock::new(None),
        }
    }

    /// Sets the scrape-time gauges.
    fn collect(&self, now: i64) {
        let rec = &self.recorder;
        let d = self.destination.as_str();
        let traffic = (now - self.last_sink_exec_ms.load(Ordering::Relaxed)).max(0);
        gauge(rec, &names::TRAFFIC_DELAY, &[d]).set(traffic as f64);
        let parsed = self.parsed_exec_ms.load(Ordering::Relaxed);
        if parsed > 0 {
            gauge(rec, &names::RS_BINLOG_DELAY, &[d, "parsed"]).set(secs(now - parsed));
        }
        let state = *self.parser_state.lock();
        for s in names::PARSER_STATES {
            let v = if *s == state.as_str() { 1.0 } else { 0.0 };
            gauge(rec, &names::RS_PARSER_STATE, &[d, s]).set(v);
        }
        if let Some(gap) = *self.source_gap.lock() {
            gauge(rec, &names::RS_BINLOG_BEHIND_BYTES, &[d]).set(gap as f64);
        }
        let snap = self.snapshot.read().clone();
        if let Some(f) = snap {
            let s = f();
            gauge(rec, &names::SUBSCRIPTIONS, &[d]).set(s.subscriptions as f64);
            // Counters can not go below 0: Canal's initial -1 is exported as 0.
            counter(rec, &names::STORE_PRODUCE_SEQ, &[d]).absolute(s.put_seq.max(0) as u64);
            counter(rec, &names::STORE_CONSUME_SEQ, &[d]).absolute(s.ack_seq.max(0) as u64);
            if self.info.batch_mode == BatchMode::MemSize {
                counter(rec, &names::STORE_PRODUCE_MEM, &[d]).absolute(s.put_mem);
                counter(rec, &names::STORE_CONSUME_MEM, &[d]).absolute(s.ack_mem);
            }
            let delays = s.delays(now);
            gauge(rec, &names::PUT_DELAY, &[d]).set(delays.put_ms as f64);
            gauge(rec, &names::GET_DELAY, &[d]).set(delays.get_ms as f64);
            gauge(rec, &names::ACK_DELAY, &[d]).set(delays.ack_ms as f64);
            gauge(rec, &names::RS_BINLOG_DELAY, &[d, "put"]).set(delays.put_ms as f64 / 1000.0);
            gauge(rec, &names::RS_BINLOG_DELAY, &[d, "get"]).set(delays.get_ms as f64 / 1000.0);
            gauge(rec, &names::RS_BINLOG_DELAY, &[d, "ack"]).set(delays.ack_ms as f64 / 1000.0);
            counter(rec, &names::PUT_ROWS, &[d]).absolute(s.put_rows);
            counter(rec, &names::GET_ROWS, &[d]).absolute(s.get_rows);
            counter(rec, &names::ACK_ROWS, &[d]).absolute(s.ack_rows);
            let ratio = if s.capacity == 0 {
                0.0
            } else {
                (s.used as f64 / s.capacity as f64).clamp(0.0, 1.0)
            };
            gauge(rec, &names::RS_STORE_FILL_RATIO, &[d]).set(ratio);
        }
    }
}

fn secs(ms: i64) -> f64 {
    ms.max(0) as f64 / 1000.0
}

/// Client request types of `canal_instance_client_packets` (label `packetType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// SUBSCRIPTION.
    Subscription,
    /// UNSUBSCRIPTION.
    Unsubscription,
    /// GET (non-empty answers only, like Canal).
    Get,
    /// CLIENTACK.
    ClientAck,
    /// CLIENTROLLBACK.
    ClientRollback,
}

impl PacketKind {
    /// Canal's PacketType name.
    pub fn as_str(self) -> &'static str {
        match self {
            PacketKind::Subscription => "SUBSCRIPTION",
            PacketKind::Unsubscription => "UNSUBSCRIPTION",
            PacketKind::Get => "GET",
            PacketKind::ClientAck => "CLIENTACK",
            PacketKind::ClientRollback => "CLIENTROLLBACK",
        }
    }
}

/// Client-port metrics of one destination label (cheap to clone; cache it per session).
/// Canal registers these families once for the server, so they survive instance stops.
#[derive(Clone)]
pub struct ClientMetrics {
    destination: Arc<str>,
    bytes: Counter,
    empty: Counter,
    latency: Histogram,
    packets: Arc<[Counter; 5]>,
    server: Arc<ServerInner>,
}

impl ClientMetrics {
    /// A reply was written: `n` = response bytes + 4-byte header (4 for a body-less ack).
    pub fn bytes_sent(&self, n: u64) {
        self.bytes.increment(n);
    }

    /// A request of this kind was answered (empty GETs go to [`Self::empty_batch`] instead).
    pub fn packet(&self, kind: PacketKind) {
        let i = kind as usize;
        if let Some(c) = self.packets.get(i) {
            c.increment(1);
        }
    }

    /// A GET was answered with batch id -1.
    pub fn empty_batch(&self) {
        self.empty.increment(1);
    }

    /// A request failed with error `code` (400, 401, 402 ...).
    pub fn request_error(&self, code: i32) {
        self.server.request_error(&self.destination, code);
    }

    /// A request took `ms` milliseconds.
    pub fn request_latency_ms(&self, ms: f64) {
        self.latency.record(ms);
    }

    /// Convenience: latency from a [`Duration`].
    pub fn request_latency(&self, d: Duration) {
        self.request_latency_ms(d.as_secs_f64() * 1000.0);
    }
}

/// HA role of a destination on this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Running the destination.
    Active,
    /// Waiting (another server holds the running node).
    Standby,
    /// Not running and not contending.
    Stopped,
}

impl Role {
    /// Label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Active => "active",
            Role::Standby => "standby",
            Role::Stopped => "stopped",
        }
    }
}

/// A readiness verdict for `GET /ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// 200 when true, 503 otherwise.
    pub ready: bool,
    /// Body text (one line per destination is a good shape).
    pub detail: String,
}

type ReadinessFn = Arc<dyn Fn() -> Readiness + Send + Sync>;

/// Most distinct (destination label, code) series of `canal_instance_client_request_error`.
pub const MAX_ERROR_SERIES: usize = 1024;
/// Destination label used once [`MAX_ERROR_SERIES`] is reached.
pub const OVERFLOW_LABEL: &str = "_other";

struct ServerInner {
    recorder: PrometheusRecorder,
    errors: Mutex<HashMap<(String, i32), Counter>>,
    roles: Mutex<BTreeMap<String, Role>>,
    zk: Mutex<Option<&'static str>>,
    connections: Mutex<HashMap<&'static str, Arc<AtomicI64>>>,
}

impl ServerInner {
    fn request_error(&self, destination: &str, code: i32) {
        let mut map = self.errors.lock();
        // Canal labels some errors with the peer's socket address; bound the series count so a
        // client cycling through source ports can not grow memory without limit.
        let key = (destination.to_string(), code);
        let key = if map.len() >= MAX_ERROR_SERIES && !map.contains_key(&key) {
            (OVERFLOW_LABEL.to_string(), code)
        } else {
            key
        };
        let destination = key.0.clone();
        let destination = destination.as_str();
        let c = map.entry(key).or_insert_with(|| {
            counter(
                &self.recorder,
                &names::CLIENT_REQUEST_ERROR,
                &[destination, &code.to_string()],
            )
        });
        c.increment(1);
    }
}

struct Inner {
    server: Arc<ServerInner>,
    instances: RwLock<BTreeMap<String, Arc<InstanceEntry>>>,
    clients: Mutex<HashMap<String, ClientMetrics>>,
    readiness: RwLock<Option<ReadinessFn>>,
}

/// The process-wide telemetry state: registered destinations, server metrics, readiness.
/// Cheap to clone. Tests create their own; the daemon uses [`Telemetry::global`].
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self::new()
    }
}

/// Decrements `canal_rs_client_connections` when dropped.
pub struct ConnectionGuard {
    count: Arc<AtomicI64>,
    gauge: Gauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let n = self.count.fetch_sub(1, Ordering::Relaxed) - 1;
        self.gauge.set(n as f64);
    }
}

impl Telemetry {
    /// Fresh state with no destinations.
    pub fn new() -> Telemetry {
        let recorder = build_recorder();
        gauge(
            &recorder,
            &names::RS_BUILD_INFO,
            &[env!("CARGO_PKG_VERSION")],
        )
        .set(1.0);
        Telemetry {
            inner: Arc::new(Inner {
                server: Arc::new(ServerInner {
                    recorder,
                    errors: Mutex::new(HashMap::new()),
                    roles: Mutex::new(BTreeMap::new()),
                    zk: Mutex::new(None),
                    connections: Mutex::new(HashMap::new()),
                }),
                instances: RwLock::new(BTreeMap::new()),
                clients: Mutex::new(HashMap::new()),
                readiness: RwLock::new(None),
            }),
        }
    }

    /// The process-wide instance.
    pub fn global() -> &'static Telemetry {
        static GLOBAL: OnceLock<Telemetry> = OnceLock::new();
        GLOBAL.get_or_init(Telemetry::new)
    }

    /// Registers a destination just before it starts (Canal's `register(instance)`); replaces a
    /// stale registration of the same name.
    pub fn register_instance(&self, destination: &str, info: InstanceInfo) -> InstanceMetrics {
        let entry = Arc::new(InstanceEntry::new(destination, info));
        self.inner
            .instances
            .write()
            .insert(destination.to_string(), entry.clone());
        InstanceMetrics { entry }
    }

    /// Unregisters a destination after it stopped: its samples disappear from the next scrape.
    pub fn unregister_instance(&self, destination: &str) {
        self.inner.instances.write().remove(destination);
    }

    /// Destinations currently registered.
    pub fn registered(&self) -> Vec<String> {
        self.inner.instances.read().keys().cloned().collect()
    }

    /// Client-port metrics for `destination` (Canal uses the remote socket address as the label
    /// for requests that fail before a destination is known).
    pub fn client(&self, destination: &str) -> ClientMetrics {
        let mut map = self.inner.clients.lock();
        if let Some(c) = map.get(destination) {
            return c.clone();
        }
        let rec = &self.inner.server.recorder;
        let d = destination;
        let mk = |k: PacketKind| counter(rec, &names::CLIENT_PACKETS, &[d, k.as_str()]);
        let c = ClientMetrics {
            destination: Arc::from(d),
            bytes: counter(rec, &names::CLIENT_BYTES, &[d]),
            empty: counter(rec, &names::CLIENT_EMPTY_BATCHES, &[d]),
            latency: histogram(rec, &names::CLIENT_REQUEST_LATENCY, &[d]),
            packets: Arc::new([
                mk(PacketKind::Subscription),
                mk(PacketKind::Unsubscription),
                mk(PacketKind::Get),
                mk(PacketKind::ClientAck),
                mk(PacketKind::ClientRollback),
            ]),
            server: self.inner.server.clone(),
        };
        map.insert(destination.to_string(), c.clone());
        c
    }

    /// A request failed before a destination was known: Canal labels it with the remote
    /// socket address (`/10.20.7.9:53412`).
    pub fn request_error_for(&self, label: &str, code: i32) {
        self.inner.server.request_error(label, code);
    }

    /// Records the HA role of a destination on this server (`canal_rs_destination_active`,
    /// `canal_rs_ha_role_changes_total` counts changes, not the first report).
    pub fn set_role(&self, destination: &str, role: Role) {
        let rec = &self.inner.server.recorder;
        let prev = self
            .inner
            .server
            .roles
            .lock()
            .insert(destination.to_string(), role);
        let active = if role == Role::Active { 1.0 } else { 0.0 };
        gauge(rec, &names::RS_DESTINATION_ACTIVE, &[destination]).set(active);
        let changes = counter(rec, &names::RS_ROLE_CHANGES, &[destination, role.as_str()]);
        match prev {
            Some(p) if p != role => {
                changes.increment(1);
                crate::lifecycle::ha_role_change(destination, p.as_str(), role.as_str());
            }
            Some(_) => changes.increment(0),
            None => {
                changes.increment(0);
                crate::lifecycle::ha_role_change(destination, "none", role.as_str());
            }
        }
    }

    /// The last role reported for each destination.
    pub fn roles(&self) -> BTreeMap<String, Role> {
        self.inner.server.roles.lock().clone()
    }

    /// Installs the default readiness check: ready when every destination in `expected` (the
    /// configured, non-lazy ones) has reported [`Role::Active`] or [`Role::Standby`].
    pub fn install_role_readiness(&self, expected: Vec<String>) {
        let t = self.clone();
        self.set_readiness(move || {
            let roles = t.roles();
            let mut ready = true;
            let mut detail = String::new();
            for d in &expected {
                let state = match roles.get(d) {
                    Some(r @ (Role::Active | Role::Standby)) => r.as_str(),
                    Some(Role::Stopped) => {
                        ready = false;
                        "stopped"
                    }
                    None => {
                        ready = false;
                        "not started"
                    }
                };
                let _ = writeln!(detail, "{d}: {state}");
            }
            if expected.is_empty() {
                detail.push_str("no destination expected\n");
            }
            Readiness { ready, detail }
        });
    }

    /// The current ZooKeeper session state (one of [`names::ZK_STATES`]; `None` = no ZooKeeper).
    pub fn set_zk_state(&self, state: Option<&'static str>) {
        *self.inner.server.zk.lock() = state;
        let rec = &self.inner.server.recorder;
        if let Some(cur) = state {
            for s in names::ZK_STATES {
                gauge(rec, &names::RS_ZK_SESSION_STATE, &[s]).set(if *s == cur {
                    1.0
                } else {
                    0.0
                });
            }
        }
    }

    /// A connection was accepted on `port` (`client` or `admin`); drop the guard on close.
    pub fn connection_opened(&self, port: &'static str) -> ConnectionGuard {
        let count = self
            .inner
            .server
            .connections
            .lock()
            .entry(port)
            .or_insert_with(|| Arc::new(AtomicI64::new(0)))
            .clone();
        let g = gauge(
            &self.inner.server.recorder,
            &names::RS_CLIENT_CONNECTIONS,
            &[port],
        );
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        g.set(n as f64);
        ConnectionGuard { count, gauge: g }
    }

    /// A login failed on `port` (`client` or `admin`).
    pub fn auth_failure(&self, port: &str) {
        counter(
            &self.inner.server.recorder,
            &names::RS_AUTH_FAILURES,
            &[port],
        )
        .increment(1);
    }

    /// Installs the readiness check used by `GET /ready`.
    pub fn set_readiness<F>(&self, f: F)
    where
        F: Fn() -> Readiness + Send + Sync + 'static,
    {
        *self.inner.readiness.write() = Some(Arc::new(f));
    }

    /// Evaluates readiness (not ready until a check is installed).
    pub fn readiness(&self) -> Readiness {
        let f = self.inner.readiness.read().clone();
        match f {
            Some(f) => f(),
            None => Readiness {
                ready: false,
                detail: "starting: no readiness check installed yet\n".into(),
            },
        }
    }

    /// One scrape: computes the scrape-time gauges and renders the exposition text
    /// (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        self.render_only(&[])
    }

    /// [`Self::render`] limited to the named families (Canal's `?name[]=` filter); an empty
    /// list renders everything.
    pub fn render_only(&self, families: &[String]) -> String {
        let now = now_ms();
        let entries: Vec<Arc<InstanceEntry>> =
            self.inner.instances.read().values().cloned().collect();
        let mut merged = Merged::default();
        for e in &entries {
            e.collect(now);
            merged.add(&e.recorder.handle().render());
        }
        merged.add(&self.inner.server.recorder.handle().render());
        merged.add(&crate::process::render());
        if !families.is_empty() {
            merged
                .families
                .retain(|name, _| families.iter().any(|f| f == name));
        }
        merged.finish()
    }
}

/// Merges exposition texts so that each family appears once.
#[derive(Default)]
struct Merged {
    families: BTreeMap<String, Family>,
}

#[derive(Default)]
struct Family {
    help: Option<String>,
    kind: Option<String>,
    samples: Vec<String>,
}

impl Merged {
    fn add(&mut self, text: &str) {
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
                current = name.to_string();
                let f = self.families.entry(current.clone()).or_default();
                f.help.get_or_insert_with(|| help.to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
                current = name.to_string();
                let f = self.families.entry(current.clone()).or_default();
                f.kind.get_or_insert_with(|| kind.to_string());
            } else if line.is_empty() || line.starts_with('#') {
                continue;
            } else {
                let f = self.families.entry(current.clone()).or_default();
                f.samples.push(line.to_string());
            }
        }
    }

    fn finish(self) -> String {
        let mut out = String::new();
        for (name, f) in self.families {
            if f.samples.is_empty() {
                continue;
            }
            if let Some(h) = f.help {
                let _ = writeln!(out, "# HELP {name} {h}");
            }
            if let Some(k) = f.kind {
                let _ = writeln!(out, "# TYPE {name} {k}");
            }
            for s in f.samples {
                out.push_str(&canal_sample_line(&s));
                out.push('\n');
            }
        }
        out
    }
}

/// A double the way simpleclient 0.4.0 prints it (`doubleToGoString`): `+Inf`, `-Inf`, `NaN`,
/// else Java's `Double.toString` (`1.0`, `33.71`, `1.7000000012E12`, `1.0E-4`).
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let t = format!("{v}");
        if t.contains('.') {
            t
        } else {
            format!("{t}.0")
        }
    } else {
        let t = format!("{v:e}");
        let (mantissa, exp) = t.split_once('e').unwrap_or((t.as_str(), "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exp}")
        } else {
            format!("{mantissa}.0E{exp}")
        }
    }
}

/// Rewrites one sample line of the exporter into simpleclient 0.4.0's shape: a trailing comma
/// inside a non-empty label set, values and `le` bounds printed like Java doubles. Lines it
/// does not understand are returned unchanged.
fn canal_sample_line(line: &str) -> String {
    let Some((series, value)) = line.rsplit_once(' ') else {
        return line.to_string();
    };
    let value = match value.parse::<f64>() {
        Ok(v) => java_double(v),
        Err(_) => value.to_string(),
    };
    let series = match series.strip_suffix('}') {
        Some(head) if !head.ends_with('{') => {
            let head = match head.rsplit_once("le=\"") {
                Some((before, bound)) if before.ends_with(',') || before.ends_with('{') => {
                    let bound = bound.strip_suffix('"').unwrap_or(bound);
                    let bound = bound
                        .parse::<f64>()
                        .map(java_double)
                        .unwrap_or_else(|_| bound.to_string());
                    format!("{before}le=\"{bound}\"")
                }
                _ => head.to_string(),
            };
            format!("{head},}}")
        }
        _ => series.to_string(),
    };
    format!("{series} {value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_strings() {
        // Java's Double.toString outputs.
        for (v, s) in [
            (1.0, "1.0"),
            (12.0, "12.0"),
            (0.0, "0.0"),
            (33.71, "33.71"),
            (2.5, "2.5"),
            (0.001, "0.001"),
            (1e-4, "1.0E-4"),
            (9_999_999.0, "9999999.0"),
            (1e7, "1.0E7"),
            (1.7000000012e12, "1.7000000012E12"),
            (-3.0, "-3.0"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(java_double(v), s, "{v}");
        }
    }

    #[test]
    fn simpleclient_sample_lines() {
        // The constructed sample of operations.md §5.
        assert_eq!(
            canal_sample_line(
                r#"canal_instance_store{destination="example",batchMode="MEMSIZE",size="16384"} 1"#
            ),
            r#"canal_instance_store{destination="example",batchMode="MEMSIZE",size="16384",} 1.0"#
        );
        assert_eq!(
            canal_sample_line(
                r#"canal_instance_client_request_latency_bucket{destination="example",le="10"} 120"#
            ),
            r#"canal_instance_client_request_latency_bucket{destination="example",le="10.0",} 120.0"#
        );
        assert_eq!(
            canal_sample_line(
                r#"canal_instance_client_request_latency_bucket{destination="example",le="+Inf"} 121"#
            ),
            r#"canal_instance_client_request_latency_bucket{destination="example",le="+Inf",} 121.0"#
        );
        assert_eq!(
            canal_sample_line(
                r#"canal_instance_client_request_latency_sum{destination="example"} 33.71"#
            ),
            r#"canal_instance_client_request_latency_sum{destination="example",} 33.71"#
        );
        assert_eq!(
            canal_sample_line("process_open_fds 57"),
            "process_open_fds 57.0"
        );
        assert_eq!(canal_sample_line("x{} 2"), "x{} 2.0");
    }
}
