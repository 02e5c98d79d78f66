//! Decoded binlog events. This is the contract between `binlog` and `parse`: the decoder fills
//! these types, the converter reads them. Borrowed data (`'a`) points into the raw event bytes.
#![warn(missing_docs)]

use std::sync::Arc;

use crate::value::Value;

/// Binlog event type codes (MySQL and MariaDB); the names are the servers' own
/// (`*_EVENT` suffix dropped, `MARIA_` for MariaDB-only codes).
pub mod types {
    #![allow(missing_docs)]
    pub const UNKNOWN: u8 = 0;
    pub const START_V3: u8 = 1;
    pub const QUERY: u8 = 2;
    pub const STOP: u8 = 3;
    pub const ROTATE: u8 = 4;
    pub const INTVAR: u8 = 5;
    pub const SLAVE: u8 = 7;
    pub const APPEND_BLOCK: u8 = 9;
    pub const DELETE_FILE: u8 = 11;
    pub const RAND: u8 = 13;
    pub const USER_VAR: u8 = 14;
    pub const FORMAT_DESCRIPTION: u8 = 15;
    pub const XID: u8 = 16;
    pub const BEGIN_LOAD_QUERY: u8 = 17;
    pub const EXECUTE_LOAD_QUERY: u8 = 18;
    pub const TABLE_MAP: u8 = 19;
    pub const WRITE_ROWS_V0: u8 = 20;
    pub const UPDATE_ROWS_V0: u8 = 21;
    pub const DELETE_ROWS_V0: u8 = 22;
    pub const WRITE_ROWS_V1: u8 = 23;
    pub const UPDATE_ROWS_V1: u8 = 24;
    pub const DELETE_ROWS_V1: u8 = 25;
    pub const INCIDENT: u8 = 26;
    pub const HEARTBEAT: u8 = 27;
    pub const IGNORABLE: u8 = 28;
    pub const ROWS_QUERY: u8 = 29;
    pub const WRITE_ROWS_V2: u8 = 30;
    pub const UPDATE_ROWS_V2: u8 = 31;
    pub const DELETE_ROWS_V2: u8 = 32;
    pub const GTID: u8 = 33;
    pub const ANONYMOUS_GTID: u8 = 34;
    pub const PREVIOUS_GTIDS: u8 = 35;
    pub const TRANSACTION_CONTEXT: u8 = 36;
    pub const VIEW_CHANGE: u8 = 37;
    pub const XA_PREPARE: u8 = 38;
    pub const PARTIAL_UPDATE_ROWS: u8 = 39;
    pub const TRANSACTION_PAYLOAD: u8 = 40;
    pub const HEARTBEAT_V2: u8 = 41;
    pub const GTID_TAGGED: u8 = 42;
    pub const MARIA_ANNOTATE_ROWS: u8 = 160;
    pub const MARIA_BINLOG_CHECKPOINT: u8 = 161;
    pub const MARIA_GTID: u8 = 162;
    pub const MARIA_GTID_LIST: u8 = 163;
    pub const MARIA_START_ENCRYPTION: u8 = 164;
    pub const MARIA_QUERY_COMPRESSED: u8 = 165;
    pub const MARIA_WRITE_ROWS_COMPRESSED_V1: u8 = 166;
    pub const MARIA_UPDATE_ROWS_COMPRESSED_V1: u8 = 167;
    pub const MARIA_DELETE_ROWS_COMPRESSED_V1: u8 = 168;
    pub const MARIA_WRITE_ROWS_COMPRESSED: u8 = 169;
    pub const MARIA_UPDATE_ROWS_COMPRESSED: u8 = 170;
    pub const MARIA_DELETE_ROWS_COMPRESSED: u8 = 171;
}

/// The 19-byte common header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventHeader {
    /// Seconds since the epoch when the statement began.
    pub timestamp: u32,
    /// Event type code (see [`types`]).
    pub event_type: u8,
    /// Server id of the server that first wrote the event.
    pub server_id: u32,
    /// Total size including header and checksum.
    pub event_size: u32,
    /// Offset of the NEXT event in the file (0 for some artificial events).
    pub log_pos: u32,
    /// Header flags (`LOG_EVENT_*_F`).
    pub flags: u16,
}

/// One decoded event with where it sits.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The common header.
    pub header: EventHeader,
    /// Offset of this event's first byte in its binlog file.
    pub offset: u64,
    /// The decoded body.
    pub body: EventBody<'a>,
}

/// Event bodies. Types we do not need in detail are `Other`; unknown future types are `Unknown`
/// (the decoder logs a warning once per type and never fails on them).
#[derive(Debug, Clone)]
pub enum EventBody<'a> {
    /// FORMAT_DESCRIPTION (already applied to the decoder's state).
    FormatDescription(FormatDescription),
    /// ROTATE: the next binlog file and the position to continue at.
    Rotate {
        /// Next file name.
        next_file: String,
        /// Position in it (4 for a new file).
        position: u64,
    },
    /// QUERY (and MariaDB QUERY_COMPRESSED).
    Query(QueryEvent<'a>),
    /// XID: commit of an XA-capable (InnoDB) transaction.
    Xid {
        /// The transaction id as logged (little-endian u64).
        xid: u64,
    },
    /// TABLE_MAP (shared with the rows events that follow it).
    TableMap(Arc<TableMap>),
    /// WRITE/UPDATE/DELETE/PARTIAL_UPDATE rows (v1, v2, MariaDB compressed).
    Rows(RowsEvent<'a>),
    /// MySQL GTID / ANONYMOUS_GTID / GTID_TAGGED.
    Gtid(MysqlGtid),
    /// PREVIOUS_GTIDS: the GTID set of all earlier binlogs.
    PreviousGtids {
        /// One entry per UUID (and tag).
        sets: Vec<GtidSet>,
    },
    /// MySQL ROWS_QUERY or MariaDB ANNOTATE_ROWS: the statement text.
    RowsQuery {
        /// The statement bytes as logged.
        sql: &'a [u8],
    },
    /// MariaDB GTID event.
    MariaGtid(MariaGtid),
    /// MariaDB GTID_LIST: the binlog state at the start of the file.
    MariaGtidList {
        /// (domain id, server id, sequence number) triples.
        gtids: Vec<(u32, u32, u64)>,
    },
    /// MariaDB BINLOG_CHECKPOINT.
    MariaBinlogCheckpoint {
        /// The oldest binlog file still needed for crash recovery.
        file: String,
    },
    /// XA_PREPARE.
    XaPrepare {
        /// XA COMMIT ... ONE PHASE.
        one_phase: bool,
        /// gtrid followed by bqual.
        xid: Vec<u8>,
    },
    /// MySQL TRANSACTION_PAYLOAD: inner events, decompressed (they share this event's position).
    TransactionPayload(TransactionPayload),
    /// HEARTBEAT / HEARTBEAT_V2 (replication stream only).
    Heartbeat {
        /// Current binlog file of the source.
        file: String,
    },
    /// INTVAR: LAST_INSERT_ID (1) or INSERT_ID (2) for the next statement.
    Intvar {
        /// 1 = LAST_INSERT_ID, 2 = INSERT_ID.
        kind: u8,
        /// The value (to be read as signed by Canal).
        value: u64,
    },
    /// RAND: the seeds of RAND() for the next statement.
    Rand {
        /// First seed.
        seed1: u64,
        /// Second seed.
        seed2: u64,
    },
    /// Legacy placeholder; the decoder emits [`EventBody::UserVariable`] instead.
    UserVar,
    /// USER_VAR: `SET @name := value` as logged before a statement that uses it.
    UserVariable(UserVarEvent<'a>),
    /// STOP: the server shut down.
    Stop,
    /// A known event type Canal ignores (LOAD events, INCIDENT, START_ENCRYPTION, ...).
    Other {
        /// Its type code.
        event_type: u8,
    },
    /// An unknown (future) event type, skipped with a warning.
    Unknown {
        /// Its type code.
        event_type: u8,
    },
}

/// A USER_VAR event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVarEvent<'a> {
    /// Variable name (without `@`).
    pub name: &'a [u8],
    /// `None` when the value is NULL.
    pub value: Option<UserVarValue<'a>>,
}

/// The value of a USER_VAR event, by MySQL item result type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserVarValue<'a> {
    /// STRING_RESULT: bytes in collation `charset`.
    String {
        /// Collation id.
        charset: u32,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// REAL_RESULT: an 8-byte double (bits kept exact).
    Real(u64),
    /// INT_RESULT: 8 bytes, `unsigned` from the trailing flags byte.
    Int {
        /// The value as stored.
        value: i64,
        /// Read it as u64.
        unsigned: bool,
    },
    /// DECIMAL_RESULT: precision, scale, packed decimal bytes.
    Decimal {
        /// Precision.
        precision: u8,
        /// Scale.
        scale: u8,
        /// Packed decimal (see [`crate::value::Decimal`]).
        bytes: &'a [u8],
    },
    /// Any other result type: raw bytes.
    Other {
        /// Item result type code.
        kind: u8,
        /// Raw value bytes.
        bytes: &'a [u8],
    },
}

/// Human-readable name of an event type code (`"WRITE_ROWS_V2"`, `"MARIA_GTID"`, ...).
pub fn event_type_name(t: u8) -> &'static str {
    use types::*;
    match t {
        UNKNOWN => "UNKNOWN",
        START_V3 => "START_V3",
        QUERY => "QUERY",
        STOP => "STOP",
        ROTATE => "ROTATE",
        INTVAR => "INTVAR",
        6 => "LOAD",
        SLAVE => "SLAVE",
        8 => "CREATE_FILE",
        APPEND_BLOCK => "APPEND_BLOCK",
        10 => "EXEC_LOAD",
        DELETE_FILE => "DELETE_FILE",
        12 => "NEW_LOAD",
        RAND => "RAND",
        USER_VAR => "USER_VAR",
        FORMAT_DESCRIPTION => "FORMAT_DESCRIPTION",
        XID => "XID",
        BEGIN_LOAD_QUERY => "BEGIN_LOAD_QUERY",
        EXECUTE_LOAD_QUERY => "EXECUTE_LOAD_QUERY",
        TABLE_MAP => "TABLE_MAP",
        WRITE_ROWS_V0 => "PRE_GA_WRITE_ROWS",
        UPDATE_ROWS_V0 => "PRE_GA_UPDATE_ROWS",
        DELETE_ROWS_V0 => "PRE_GA_DELETE_ROWS",
        WRITE_ROWS_V1 => "WRITE_ROWS_V1",
        UPDATE_ROWS_V1 => "UPDATE_ROWS_V1",
        DELETE_ROWS_V1 => "DELETE_ROWS_V1",
        INCIDENT => "INCIDENT",
        HEARTBEAT => "HEARTBEAT",
        IGNORABLE => "IGNORABLE",
        ROWS_QUERY => "ROWS_QUERY",
        WRITE_ROWS_V2 => "WRITE_ROWS_V2",
        UPDATE_ROWS_V2 => "UPDATE_ROWS_V2",
        DELETE_ROWS_V2 => "DELETE_ROWS_V2",
        GTID => "GTID",
        ANONYMOUS_GTID => "ANONYMOUS_GTID",
        PREVIOUS_GTIDS => "PREVIOUS_GTIDS",
        TRANSACTION_CONTEXT => "TRANSACTION_CONTEXT",
        VIEW_CHANGE => "VIEW_CHANGE",
        XA_PREPARE => "XA_PREPARE",
        PARTIAL_UPDATE_ROWS => "PARTIAL_UPDATE_ROWS",
        TRANSACTION_PAYLOAD => "TRANSACTION_PAYLOAD",
        HEARTBEAT_V2 => "HEARTBEAT_V2",
        GTID_TAGGED => "GTID_TAGGED",
        MARIA_ANNOTATE_ROWS => "MARIA_ANNOTATE_ROWS",
        MARIA_BINLOG_CHECKPOINT => "MARIA_BINLOG_CHECKPOINT",
        MARIA_GTID => "MARIA_GTID",
        MARIA_GTID_LIST => "MARIA_GTID_LIST",
        MARIA_START_ENCRYPTION => "MARIA_START_ENCRYPTION",
        MARIA_QUERY_COMPRESSED => "MARIA_QUERY_COMPRESSED",
        MARIA_WRITE_ROWS_COMPRESSED_V1 => "MARIA_WRITE_ROWS_COMPRESSED_V1",
        MARIA_UPDATE_ROWS_COMPRESSED_V1 => "MARIA_UPDATE_ROWS_COMPRESSED_V1",
        MARIA_DELETE_ROWS_COMPRESSED_V1 => "MARIA_DELETE_ROWS_COMPRESSED_V1",
        MARIA_WRITE_ROWS_COMPRESSED => "MARIA_WRITE_ROWS_COMPRESSED",
        MARIA_UPDATE_ROWS_COMPRESSED => "MARIA_UPDATE_ROWS_COMPRESSED",
        MARIA_DELETE_ROWS_COMPRESSED => "MARIA_DELETE_ROWS_COMPRESSED",
        _ => "UNKNOWN_TYPE",
    }
}

/// FORMAT_DESCRIPTION: server version, per-type post-header lengths and checksum algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    /// Binlog format version (4 for every server since 5.0).
    pub binlog_version: u16,
    /// Version string of the server that wrote the file (e.g. `10.11.6-MariaDB-log`).
    pub server_version: String,
    /// Creation time (0 except in the first binlog after startup).
    pub create_timestamp: u32,
    /// Common header length (19).
    pub header_len: u8,
    /// Post-header length per event type (index = type - 1).
    pub post_header_lens: Vec<u8>,
    /// 0 = off, 1 = CRC32; `None` for servers older than 5.6.1 (no checksum field).
    pub checksum_alg: Option<u8>,
}

/// QUERY (and MariaDB QUERY_COMPRESSED, whose statement is decompressed into `sql`).
#[derive(Debug, Clone)]
pub struct QueryEvent<'a> {
    /// Connection id of the session.
    pub thread_id: u32,
    /// Seconds the statement took.
    pub exec_time: u32,
    /// Error code of the statement on the source (0 normally).
    pub error_code: u16,
    /// Default database of the session (may be empty).
    pub schema: &'a [u8],
    /// Statement text (decompressed for QUERY_COMPRESSED).
    pub sql: std::borrow::Cow<'a, [u8]>,
    /// Status variables of interest.
    pub status: QueryStatus,
}

/// Parsed status variables of a QUERY event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryStatus {
    /// Q_FLAGS2 (OPTION_* bits).
    pub flags2: Option<u32>,
    /// Q_SQL_MODE.
    pub sql_mode: Option<u64>,
    /// (character_set_client, collation_connection, collation_server)
    pub charset: Option<(u16, u16, u16)>,
    /// Q_TIME_ZONE.
    pub time_zone: Option<String>,
    /// Q_CATALOG(_NZ).
    pub catalog: Option<String>,
    /// Q_DDL_LOGGED_WITH_XID (MySQL 8 atomic DDL).
    pub ddl_xid: Option<u64>,
    /// Q_DEFAULT_COLLATION_FOR_UTF8MB4.
    pub default_collation_for_utf8mb4: Option<u16>,
}

/// A MySQL GTID event (also ANONYMOUS_GTID and tagged GTIDs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MysqlGtid {
    /// True for ANONYMOUS_GTID (no sid/gno).
    pub anonymous: bool,
    /// GTID flags (bit 0: may have been committed with a lock).
    pub flags: u8,
    /// Source UUID bytes.
    pub sid: [u8; 16],
    /// Transaction number.
    pub gno: i64,
    /// GTID tag (MySQL 8.4+ tagged GTIDs).
    pub tag: Option<String>,
    /// Logical clock: last committed sequence number.
    pub last_committed: Option<i64>,
    /// Logical clock: this transaction's sequence number.
    pub sequence_number: Option<i64>,
}

impl MysqlGtid {
    /// `uuid:gno` or `uuid:tag:gno`.
    pub fn to_gtid_string(&self) -> String {
        let u = uuid_string(&self.sid);
        match &self.tag {
            Some(t) => format!("{u}:{t}:{}", self.gno),
            None => format!("{u}:{}", self.gno),
        }
    }
}

/// Formats 16 bytes as a lower-case UUID.
pub fn uuid_string(b: &[u8; 16]) -> String {
    let h = |r: std::ops::Range<usize>| b[r].iter().map(|x| format!("{x:02x}")).collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

/// One UUID's intervals in a PREVIOUS_GTIDS set (intervals are [start, end) as in the binlog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidSet {
    /// Source UUID bytes.
    pub sid: [u8; 16],
    /// GTID tag, if any.
    pub tag: Option<String>,
    /// Intervals `[start, end)`.
    pub intervals: Vec<(i64, i64)>,
}

/// A MariaDB GTID event: `domain-server-seq` (server id is the header's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MariaGtid {
    /// Sequence number.
    pub seq_no: u64,
    /// Replication domain.
    pub domain_id: u32,
    /// FL_* flags.
    pub flags: u8,
    /// Present when the FL_GROUP_COMMIT_ID flag is set.
    pub commit_id: Option<u64>,
    /// True when the transaction is standalone (no BEGIN/COMMIT, e.g. DDL).
    pub standalone: bool,
}

/// A decompressed TRANSACTION_PAYLOAD: the inner event bytes (each a complete event without
/// checksum) in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPayload {
    /// Compression type (0 = ZSTD, 255 = none).
    pub compression: u8,
    /// The inner events back to back.
    pub uncompressed: Vec<u8>,
}

/// TABLE_MAP, decoded once and shared by the rows events that follow it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableMap {
    /// Table id (6 bytes in the binlog).
    pub table_id: u64,
    /// TABLE_MAP flags.
    pub flags: u16,
    /// Database name.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Column types and metadata, in table order.
    pub columns: Vec<ColumnType>,
    /// Optional metadata (MySQL 8 `binlog_row_metadata`, MariaDB 10.5+); `None` when absent.
    pub meta: OptionalMeta,
}

/// One column as TABLE_MAP describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColumnType {
    /// The real type (ENUM/SET/STRING resolved from the metadata of MYSQL_TYPE_STRING).
    pub real_type: u8,
    /// The type code as written in the column type array.
    pub binlog_type: u8,
    /// Type metadata, normalised once per TABLE_MAP: FLOAT/DOUBLE pack length;
    /// BLOB/GEOMETRY/JSON/VECTOR length-prefix bytes (1-4); VARCHAR/VAR_STRING and STRING
    /// maximum length in bytes; BIT total bits (1-64); NEWDECIMAL `precision << 8 | scale`;
    /// ENUM/SET pack length (1-2 / 1-8); TIME2/DATETIME2/TIMESTAMP2 fsp; 0 otherwise.
    pub meta: u16,
    /// From the TABLE_MAP null bitmap.
    pub nullable: bool,
}

/// TABLE_MAP optional metadata fields (each `None`/empty when not logged).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OptionalMeta {
    /// One flag per numeric column, in numeric-column order, expanded here to one entry per column
    /// (`None` for non-numeric columns).
    pub unsigned: Option<Vec<Option<bool>>>,
    /// DEFAULT_CHARSET: the table's default collation id.
    pub default_charset: Option<u16>,
    /// Per string column collation, expanded to one entry per column.
    pub column_charsets: Option<Vec<Option<u16>>>,
    /// COLUMN_NAME: one name per column.
    pub column_names: Option<Vec<String>>,
    /// SET_STR_VALUE: member names per SET column, in SET-column order.
    pub set_values: Option<Vec<Vec<Vec<u8>>>>,
    /// ENUM_STR_VALUE: member names per ENUM column, in ENUM-column order.
    pub enum_values: Option<Vec<Vec<Vec<u8>>>>,
    /// GEOMETRY_TYPE: per geometry column, in geometry-column order.
    pub geometry_types: Option<Vec<u32>>,
    /// Primary key column indexes (with prefix lengths ignored).
    pub primary_key: Option<Vec<u16>>,
    /// COLUMN_VISIBILITY: one flag per column (true = visible).
    pub visibility: Option<Vec<bool>>,
}

/// WRITE / UPDATE / DELETE (v0, v1, v2, MariaDB compressed) and PARTIAL_UPDATE rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    /// WRITE_ROWS (after images only).
    Write,
    /// UPDATE_ROWS (before and after images).
    Update,
    /// DELETE_ROWS (before images only).
    Delete,
    /// MySQL PARTIAL_UPDATE_ROWS: like Update, JSON columns of the after image may be diffs.
    PartialUpdate,
}

/// A rows event; rows are decoded on demand with [`RowsEvent::rows`].
#[derive(Debug, Clone)]
pub struct RowsEvent<'a> {
    /// Write, update, delete or partial update.
    pub kind: RowsKind,
    /// Table id (6 bytes in the binlog).
    pub table_id: u64,
    /// Rows event flags (STMT_END_F = 1, ...).
    pub flags: u16,
    /// The TABLE_MAP in force (`None` if the table id was never mapped: a decode error per row).
    pub table: Option<Arc<TableMap>>,
    /// Columns in the row images (may be fewer than the TABLE_MAP's).
    pub column_count: usize,
    /// Columns present in the before image (delete/update) or the only image (write).
    pub present: Bitmap<'a>,
    /// Columns present in the after image (update only).
    pub present_after: Option<Bitmap<'a>>,
    /// The row data (after the bitmaps), decompressed for MariaDB compressed events.
    pub data: std::borrow::Cow<'a, [u8]>,
}

/// A column bitmap as logged (bit i = column i).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bitmap<'a>(pub &'a [u8]);

impl Bitmap<'_> {
    /// Bit `i` (false past the end).
    pub fn get(&self, i: usize) -> bool {
        self.0.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }
}

/// One row: `before` for update/delete, `after` for write/update. Each image has one slot per
/// column of the rows event (`RowsEvent::column_count`, normally the TABLE_MAP's column count);
/// `None` = the column is not in this image (MINIMAL/NOBLOB row images). Decode with
/// [`RowsEvent::rows`] or, allocation-free, [`RowsEvent::reader`] + `RowReader::next_into`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row<'a> {
    /// Before image (update, delete).
    pub before: Option<Vec<Option<Value<'a>>>>,
    /// After image (write, update).
    pub after: Option<Vec<Option<Value<'a>>>>,
}
