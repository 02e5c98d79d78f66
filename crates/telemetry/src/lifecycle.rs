//! One structured line per lifecycle event (target [`TARGET`], field `event`), emitted inside
//! the destination's span when there is one so they land in `logs/<dest>/<dest>.log`; each also
//! carries `destination` so a server-level caller still routes to the right file. The messages
//! keep Canal's operator-visible wording where Canal has one (operations.md §6).

/// Target of lifecycle lines (filter with `RUST_LOG=canal::lifecycle=info`).
pub const TARGET: &str = "canal::lifecycle";

/// The span to run a destination's tasks in: every line inside goes to `logs/<dest>/<dest>.log`.
pub fn destination_span(destination: &str) -> tracing::Span {
    tracing::info_span!("destination", destination = %destination)
}

/// A destination is starting.
pub fn instance_starting(destination: &str) {
    tracing::info!(target: TARGET, event = "instance_start", destination, "start CannalInstance for 1-{destination}");
}

/// A destination started.
pub fn instance_started(destination: &str) {
    tracing::info!(target: TARGET, event = "instance_started", destination, "start CanalInstances[{destination}] successfully");
}

/// A destination stopped.
pub fn instance_stopped(destination: &str, reason: &str) {
    tracing::info!(target: TARGET, event = "instance_stop", destination, reason, "stop CanalInstances[{destination}] successfully");
}

/// The start position was chosen (`reason`: meta cursor, configured position, timestamp
/// lookup, source head ...).
pub fn position_chosen(
    destination: &str,
    journal: &str,
    position: u64,
    timestamp_ms: i64,
    reason: &str,
    cost_ms: u64,
) {
    tracing::info!(
        target: TARGET,
        event = "position_chosen",
        destination,
        journal,
        position,
        timestamp = timestamp_ms,
        reason,
        cost_ms,
        "---> find start position successfully, EntryPosition[journalName={journal},position={position},timestamp={timestamp_ms}] cost : {cost_ms} ms , the next step is binlog dump"
    );
}

/// The binlog dump connection is established.
pub fn dump_connected(destination: &str, address: &str, journal: &str, position: u64) {
    tracing::info!(target: TARGET, event = "dump_connected", destination, address, journal, position, "binlog dump connected to {address} at {journal}:{position}");
}

/// The HA role of a destination changed on this server.
pub fn ha_role_change(destination: &str, from: &str, to: &str) {
    tracing::info!(target: TARGET, event = "ha_role_change", destination, from, to, "HA role of {destination}: {from} -> {to}");
}

/// An error with the binlog position it happened at.
pub fn error_at(
    destination: &str,
    kind: &str,
    journal: &str,
    position: u64,
    error: &dyn std::fmt::Display,
) {
    tracing::error!(target: TARGET, event = "error", destination, kind, journal, position, error = %error, "{kind} error at {journal}:{position}: {error}");
}
