//! Position types that Canal persists (`meta.dat`, `parse.dat`, ZooKeeper nodes) and that travel
//! with every stored event. Field names follow Java Canal's `protocol/.../position/*` beans,
//! including the misspelled `postion` key; see ../shared/compat/operations.md §1.3 for the JSON.

/// Where an event came from: the MySQL address (host name as Java's `getHostName()` gives it)
/// and the replica's slave id (always -1 in Canal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LogIdentity {
    pub source_address: Option<SourceAddress>,
    pub slave_id: i64,
}

/// `{"address": host, "port": n}`; `address` is `None` when unresolved (written as `null`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SourceAddress {
    pub address: Option<String>,
    pub port: u16,
}

/// A binlog position: journal file name, offset, server id, gtid text and the event time (ms).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct EntryPosition {
    pub journal_name: Option<String>,
    pub position: Option<i64>,
    pub server_id: Option<i64>,
    pub gtid: Option<String>,
    pub timestamp: Option<i64>,
    pub included: bool,
}

/// `LogPosition` = identity + position (the JSON key is `postion`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LogPosition {
    pub identity: LogIdentity,
    pub postion: EntryPosition,
}

/// A batch's range: first and last event positions, the ack point and the last ring sequence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PositionRange {
    pub start: Option<LogPosition>,
    pub ack: Option<LogPosition>,
    pub end: Option<LogPosition>,
    pub end_seq: i64,
}

/// A subscribed client: destination + numeric client id (+ filter, not part of identity).
#[derive(Debug, Clone, Default)]
pub struct ClientIdentity {
    pub destination: String,
    pub client_id: i16,
    pub filter: Option<String>,
}

impl PartialEq for ClientIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.destination == other.destination && self.client_id == other.client_id
    }
}
impl Eq for ClientIdentity {}
impl std::hash::Hash for ClientIdentity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.destination.hash(state);
        self.client_id.hash(state);
    }
}
