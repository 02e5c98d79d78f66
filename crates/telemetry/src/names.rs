//! Every metric family we export: Canal's (operations.md §5, names, help texts and label names
//! verbatim) and the canal-rs additions (prefix `canal_rs_`). Dashboards, alerts and tests
//! check themselves against [`ALL`].

/// Prometheus family type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Histogram (`_bucket`, `_sum`, `_count` samples).
    Histogram,
}

impl Kind {
    /// The word used on `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// One metric family: name, type, label names (in Canal's order) and help text.
#[derive(Debug, Clone, Copy)]
pub struct MetricDef {
    /// Family name.
    pub name: &'static str,
    /// Family type.
    pub kind: Kind,
    /// Label names.
    pub labels: &'static [&'static str],
    /// `# HELP` text.
    pub help: &'static str,
    /// True for Canal's own families (the drop-in contract), false for canal-rs additions.
    pub canal: bool,
}

macro_rules! defs {
    ($($(#[$m:meta])* $id:ident = $name:literal, $kind:ident, [$($l:literal),*], $help:literal, $canal:literal;)*) => {
        $( $(#[$m])* pub const $id: MetricDef = MetricDef {
            name: $name, kind: Kind::$kind, labels: &[$($l),*], help: $help, canal: $canal,
        }; )*
        /// Every family exported by canal-rs.
        pub const ALL: &[MetricDef] = &[$($id),*];
    };
}

/// Label name `destination`.
pub const DEST: &str = "destination";

/// Buckets of `canal_instance_client_request_latency` (ms), as Canal's histogram.
pub const LATENCY_BUCKETS_MS: &[f64] = &[2.5, 10.0, 25.0, 100.0];

defs! {
    /// 1 per running instance; `mode` is always `spring` in Canal.
    INSTANCE = "canal_instance", Gauge, ["destination", "mode"], "Canal instance", true;
    /// Subscribed clients in meta.
    SUBSCRIPTIONS = "canal_instance_subscriptions", Gauge, ["destination"], "Canal instance subscriptions", true;
    /// now - last exec time seen by the sink (ms).
    TRAFFIC_DELAY = "canal_instance_traffic_delay", Gauge, ["destination"], "Traffic delay of canal instance in milliseconds", true;
    /// TRANSACTIONEND entries passing the sink.
    TRANSACTIONS = "canal_instance_transactions", Counter, ["destination"], "Transactions counter of canal instance", true;
    /// Time the sink spent blocked putting into the store (ms).
    SINK_BLOCKING_TIME = "canal_instance_sink_blocking_time", Counter, ["destination"], "Total sink blocking time in milliseconds", true;
    /// Bytes read from the source.
    RECEIVED_BINLOG_BYTES = "canal_instance_received_binlog_bytes", Counter, ["destination", "parser"], "Received binlog bytes", true;
    /// 1, label `parallel` = `true`/`false`.
    PARSER_MODE = "canal_instance_parser_mode", Gauge, ["destination", "parallel"], "Parser mode(parallel/serial) of instance", true;
    /// Publish blocking of the dump thread (parallel parsers only), ms.
    PUBLISH_BLOCKING_TIME = "canal_instance_publish_blocking_time", Counter, ["destination", "parser"], "Publish blocking time of dump thread in milliseconds", true;
    /// Store put sequence.
    STORE_PRODUCE_SEQ = "canal_instance_store_produce_seq", Counter, ["destination"], "Produced events counter of canal instance", true;
    /// Store ack sequence.
    STORE_CONSUME_SEQ = "canal_instance_store_consume_seq", Counter, ["destination"], "Consumed events counter of canal instance", true;
    /// 1 with the store's batch mode and slot count.
    STORE = "canal_instance_store", Gauge, ["destination", "batchMode", "size"], "Canal instance info", true;
    /// Bytes put (MEMSIZE stores only).
    STORE_PRODUCE_MEM = "canal_instance_store_produce_mem", Counter, ["destination"], "Produced mem bytes of canal instance", true;
    /// Bytes acked (MEMSIZE stores only).
    STORE_CONSUME_MEM = "canal_instance_store_consume_mem", Counter, ["destination"], "Consumed mem bytes of canal instance", true;
    /// now - exec time of the last put (ms).
    PUT_DELAY = "canal_instance_put_delay", Gauge, ["destination"], "Traffic delay of canal instance put", true;
    /// now - min(get exec time, put exec time) (ms).
    GET_DELAY = "canal_instance_get_delay", Gauge, ["destination"], "Traffic delay of canal instance get", true;
    /// now - min(ack exec time, get value) (ms).
    ACK_DELAY = "canal_instance_ack_delay", Gauge, ["destination"], "Traffic delay of canal instance ack", true;
    /// Rows put.
    PUT_ROWS = "canal_instance_put_rows", Counter, ["destination"], "Put table rows of canal instance", true;
    /// Rows got.
    GET_ROWS = "canal_instance_get_rows", Counter, ["destination"], "Got table rows of canal instance", true;
    /// Rows acked.
    ACK_ROWS = "canal_instance_ack_rows", Counter, ["destination"], "Acked table rows of canal instance", true;
    /// Response bytes (+4 header) per request.
    CLIENT_BYTES = "canal_instance_client_bytes", Counter, ["destination"], "Total bytes sent to client.", true;
    /// Requests by type name.
    CLIENT_PACKETS = "canal_instance_client_packets", Counter, ["destination", "packetType"], "Total packets sent to client.", true;
    /// GETs answered with batch id -1.
    CLIENT_EMPTY_BATCHES = "canal_instance_client_empty_batches", Counter, ["destination"], "Total empty batches sent to client.", true;
    /// Error replies by code.
    CLIENT_REQUEST_ERROR = "canal_instance_client_request_error", Counter, ["destination", "errorCode"], "Total client request errors.", true;
    /// Request latency in ms (buckets [`LATENCY_BUCKETS_MS`]).
    CLIENT_REQUEST_LATENCY = "canal_instance_client_request_latency", Histogram, ["destination"], "Client request latency.", true;

    /// Process CPU time (Canal's DefaultExports family).
    PROCESS_CPU_SECONDS = "process_cpu_seconds_total", Counter, [], "Total user and system CPU time spent in seconds.", true;
    /// Process start time (Canal's DefaultExports family).
    PROCESS_START_TIME = "process_start_time_seconds", Gauge, [], "Start time of the process since unix epoch in seconds.", true;
    /// Open file descriptors (Canal's DefaultExports family).
    PROCESS_OPEN_FDS = "process_open_fds", Gauge, [], "Number of open file descriptors.", true;
    /// Resident memory (Canal's DefaultExports family).
    PROCESS_RESIDENT_MEMORY = "process_resident_memory_bytes", Gauge, [], "Resident memory size in bytes.", true;

    /// Build information (value 1).
    RS_BUILD_INFO = "canal_rs_build_info", Gauge, ["version"], "canal-rs build information", false;
    /// Seconds between the source head (now) and the last event of a pipeline stage.
    RS_BINLOG_DELAY = "canal_rs_binlog_delay_seconds", Gauge, ["destination", "stage"], "Seconds between now (the source head) and the execute time of the last event parsed / stored / got / acked", false;
    /// Binlog bytes between the source head position and the parsed position (same file only).
    RS_BINLOG_BEHIND_BYTES = "canal_rs_binlog_behind_bytes", Gauge, ["destination"], "Binlog bytes between the source head position and the parsed position", false;
    /// Fill ratio of the event store (0..1).
    RS_STORE_FILL_RATIO = "canal_rs_store_fill_ratio", Gauge, ["destination"], "Fraction of the event store in use (unacked events / capacity)", false;
    /// 1 for the current parser state, 0 for the others.
    RS_PARSER_STATE = "canal_rs_parser_state", Gauge, ["destination", "state"], "Parser state (1 for the current state)", false;
    /// 1 if this server runs the destination, 0 if it is a standby / stopped.
    RS_DESTINATION_ACTIVE = "canal_rs_destination_active", Gauge, ["destination"], "1 if this server is the active server of the destination, 0 if standby or stopped", false;
    /// HA role changes per destination.
    RS_ROLE_CHANGES = "canal_rs_ha_role_changes_total", Counter, ["destination", "role"], "HA role changes of a destination on this server, by new role", false;
    /// 1 for the current ZooKeeper session state.
    RS_ZK_SESSION_STATE = "canal_rs_zk_session_state", Gauge, ["state"], "ZooKeeper session state (1 for the current state)", false;
    /// Open connections per port.
    RS_CLIENT_CONNECTIONS = "canal_rs_client_connections", Gauge, ["port"], "Open client connections by port (client, admin)", false;
    /// Failed logins per port.
    RS_AUTH_FAILURES = "canal_rs_auth_failures_total", Counter, ["port"], "Failed authentications by port (client, admin)", false;
    /// Errors per destination and kind (parser, dump, sink, meta ...).
    RS_ERRORS = "canal_rs_errors_total", Counter, ["destination", "kind"], "Errors of a destination by kind", false;
}

/// Parser states reported in [`RS_PARSER_STATE`].
pub const PARSER_STATES: &[&str] = &[
    "stopped",
    "connecting",
    "finding_position",
    "dumping",
    "error",
];

/// ZooKeeper session states reported in [`RS_ZK_SESSION_STATE`].
pub const ZK_STATES: &[&str] = &["none", "connected", "disconnected", "expired"];

/// Pipeline stages of [`RS_BINLOG_DELAY`].
pub const DELAY_STAGES: &[&str] = &["parsed", "put", "get", "ack"];

/// Looks a family up by name; also resolves histogram sample names (`_bucket`, `_sum`, `_count`).
pub fn find(sample_or_family: &str) -> Option<&'static MetricDef> {
    if let Some(d) = ALL.iter().find(|d| d.name == sample_or_family) {
        return Some(d);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = sample_or_family.strip_suffix(suffix) {
            if let Some(d) = ALL
                .iter()
                .find(|d| d.name == base && d.kind == Kind::Histogram)
            {
                return Some(d);
            }
        }
    }
    None
}
