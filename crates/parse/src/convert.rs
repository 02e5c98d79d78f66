//! Event → Entry conversion (compat §2, §3): the [`Converter`] keeps the per-stream state
//! (current file, GTID set, table metadata) and turns each decoded event into zero or more
//! serialized entries.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use canal_binlog::event::{
    Event, EventBody, EventHeader, QueryEvent, RowsKind, TableMap, UserVarValue,
};
use canal_binlog::value::Value;
use canal_protocol::entry::{
    Column, EntryType, EventType, Header, Pair, RowChange, RowData, TransactionBegin,
    TransactionEnd, Type,
};
use prost::Message;

use crate::ddl::{self, DdlResult};
use crate::encode::{self, StoreOut};
use crate::filter::{FieldFilter, TableFilter};
use crate::gtid::GtidState;
use crate::history::History;
use crate::json;
use crate::meta::{ColumnDef, DdlEffect, Flavor, Schema, TableDef};
use crate::values::{self, ColumnKind, Zone};
use crate::ParseError;

/// Where an entry came from (what the store and the meta cursor need).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntryPosition {
    /// Binlog file name.
    pub file: String,
    /// Start offset of the event (of the TRANSACTION_PAYLOAD for inner events).
    pub offset: u64,
    /// Event timestamp in milliseconds.
    pub timestamp_ms: i64,
    /// Source server id.
    pub server_id: u32,
    /// Executed GTID set after this event (GTID mode only).
    pub gtid: Option<String>,
}

/// One converted entry, already serialized, with what the store needs to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEntry {
    /// `Entry` protobuf bytes, identical to Java Canal's.
    pub bytes: Bytes,
    /// Position of the source event.
    pub position: EntryPosition,
    /// Entry type.
    pub entry_type: EntryType,
    /// Header event type when set.
    pub event_type: Option<EventType>,
    /// DDL (RowChange.isDdl = true).
    pub is_ddl: bool,
    /// Size of the source event in bytes.
    pub raw_size: u32,
}

/// Live table metadata (the instance implements it with `SHOW CREATE TABLE` on a connection).
pub trait TableMetaSource: Send {
    /// The `SHOW CREATE TABLE` text of `schema.table`, `Ok(None)` if it does not exist.
    fn show_create_table(&mut self, schema: &str, table: &str) -> Result<Option<String>, String>;
}

/// Conversion settings (Canal instance properties).
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// `canal.instance.filter.regex` (or the client's subscribe filter).
    pub filter_regex: String,
    /// `canal.instance.filter.black.regex`.
    pub black_regex: String,
    /// `canal.instance.filter.query.dml`.
    pub filter_query_dml: bool,
    /// `canal.instance.filter.query.dcl`.
    pub filter_query_dcl: bool,
    /// `canal.instance.filter.query.ddl`.
    pub filter_query_ddl: bool,
    /// `canal.instance.filter.rows`.
    pub filter_rows: bool,
    /// `canal.instance.filter.table.error`.
    pub filter_table_error: bool,
    /// `canal.instance.filter.field`.
    pub field_filter: Option<String>,
    /// `canal.instance.filter.black.field`.
    pub field_black_filter: Option<String>,
    /// Zone for TIMESTAMP values; `None` = host zone (Java Canal's behaviour).
    pub timezone: Option<String>,
    /// `canal.instance.gtidon`: GTID props/header when the dump started from a GTID set.
    pub gtid_mode: bool,
    /// `canal.instance.filter.dml.insert` (Java Canal honours it in its default parallel mode).
    pub filter_dml_insert: bool,
    /// `canal.instance.filter.dml.update`.
    pub filter_dml_update: bool,
    /// `canal.instance.filter.dml.delete`.
    pub filter_dml_delete: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            filter_regex: r".*\..*".into(),
            black_regex: String::new(),
            filter_query_dml: false,
            filter_query_dcl: false,
            filter_query_ddl: false,
            filter_rows: false,
            filter_table_error: false,
            field_filter: None,
            field_black_filter: None,
            timezone: None,
            gtid_mode: false,
            filter_dml_insert: false,
            filter_dml_update: false,
            filter_dml_delete: false,
        }
    }
}

#[derive(Debug)]
struct ResolvedTable {
    def: TableDef,
    kinds: Vec<ColumnKind>,
    /// The constant protobuf bytes of each column (index, name, isKey, mysqlType).
    pre: encode::PreCols,
}

/// Per-stream converter.
pub struct Converter {
    opts: ConvertOptions,
    white: TableFilter,
    black: TableFilter,
    fields: FieldFilter,
    zone: Zone,
    file: String,
    flavor: Flavor,
    flavor_fixed: bool,
    schema: Schema,
    source: Option<Box<dyn TableMetaSource>>,
    history: Option<History>,
    gtid: Option<GtidState>,
    curt_gtid: Option<(String, i64, i64)>,
    /// `gtid` of the GTID state (rendered once per change; `None` when empty or off).
    gtid_text: Option<String>,
    /// Resolved tables by schema, then table (looked up without allocating a key).
    resolved: HashMap<String, HashMap<String, Arc<ResolvedTable>>>,
    /// Rows events through the prost structs (the differential-test oracle) instead of the
    /// direct writer.
    struct_rows: bool,
    /// [`Converter::table_passes`] answers by schema, then table (cleared with the filter).
    passes: HashMap<String, HashMap<String, bool>>,
    scratch: RowScratch,
    /// Bumped whenever `resolved` or `passes` lose entries (invalidates `last_target`).
    tables_gen: u64,
    /// The last rows event's table (schema, table, `tables_gen`, resolution): consecutive rows
    /// events of one table skip the filter and resolution lookups.
    last_target: Option<(String, String, u64, Arc<ResolvedTable>)>,
}

/// Buffers reused by the direct writers.
#[derive(Debug, Default)]
struct RowScratch {
    /// `RowChange` bytes being built.
    rc: Vec<u8>,
    /// The decoded row (its image vectors reused from row to row and event to event).
    row: canal_binlog::event::Row<'static>,
    /// Bytes reserved for the length of the next `RowData` (the previous row's).
    row_len_guess: usize,
    /// Per column: bytes reserved for the lengths of the next `Column` and its value.
    len_guess: Vec<(u8, u8)>,
    /// The last `RowChange` size per byte of rows-event data, times 16 (sizes the next buffer).
    rc_ratio_x16: usize,
    /// Header bytes of the entry being finished.
    head: Vec<u8>,
    /// Rendered before-image values of the current row.
    before_vals: Vec<u8>,
    /// Per column index of the current row: absent, NULL, or the range in `before_vals`.
    before: Vec<Option<Option<(usize, usize)>>>,
    /// The value being rendered.
    val: Vec<u8>,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("file", &self.file)
            .field("flavor", &self.flavor)
            .finish_non_exhaustive()
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn java_null(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("null")
}

/// Decodes query text like Canal: cut at the first NUL, then the client charset
/// (utf8 family → UTF-8, 63 binary → US-ASCII, others → ISO-8859-1).
/// Borrows the text when it needs no conversion.
fn decode_query_text(b: &[u8], charset: Option<u16>) -> Cow<'_, str> {
    let b = match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    };
    let utf8 = match charset {
        None => true,
        Some(c) => is_utf8_collation(c),
    };
    match std::str::from_utf8(b) {
        Ok(t) if utf8 || t.is_ascii() => return Cow::Borrowed(t),
        _ => {}
    }
    match charset {
        _ if utf8 => String::from_utf8_lossy(b),
        Some(63) => Cow::Owned(
            b.iter()
                .map(|&c| if c < 0x80 { c as char } else { '\u{fffd}' })
                .collect(),
        ),
        Some(_) | None => Cow::Owned(values::latin1(b)),
    }
}

fn is_utf8_collation(c: u16) -> bool {
    matches!(c, 33 | 45 | 46 | 76 | 83 | 192..=215 | 223..=247 | 255..=323 | 576..=580 | 1024..=4095)
}

/// What [`Converter::rows_target`] finds for a rows event: its table map, event type and
/// resolved table.
type RowsTarget<'r> = (&'r Arc<TableMap>, EventType, Arc<ResolvedTable>);

impl Converter {
    /// A converter with the given options, no live metadata source and no history store.
    pub fn new(opts: ConvertOptions) -> Result<Self, ParseError> {
        let white = TableFilter::white(&opts.filter_regex)
            .map_err(|e| ParseError::Config(format!("filter.regex: {e}")))?;
        let black = TableFilter::black(&opts.black_regex)
            .map_err(|e| ParseError::Config(format!("filter.black.regex: {e}")))?;
        let fields = FieldFilter::new(
            opts.field_filter.as_deref(),
            opts.field_black_filter.as_deref(),
        );
        let zone = match &opts.timezone {
            Some(z) => Zone::named(z).map_err(ParseError::Config)?,
            None => Zone::default(),
        };
        Ok(Converter {
            opts,
            white,
            black,
            fields,
            zone,
            file: String::new(),
            flavor: Flavor::MariaDb,
            flavor_fixed: false,
            schema: Schema::new(),
            source: None,
            history: None,
            gtid: None,
            curt_gtid: None,
            gtid_text: None,
            resolved: HashMap::new(),
            struct_rows: false,
            passes: HashMap::new(),
            scratch: RowScratch::default(),
            tables_gen: 0,
            last_target: None,
        })
    }

    /// Sets the live metadata source.
    pub fn with_source(mut self, source: Box<dyn TableMetaSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Attaches a history store: its records before `start` (file, offset) are replayed into the
    /// schema now; DDL seen later is appended to it.
    pub fn with_history(mut self, history: History, start_file: &str, start_offset: u64) -> Self {
        for r in history.records_before(start_file, start_offset) {
            if let Some(v) = &r.server_version {
                self.flavor = Flavor::from_server_version(v);
            }
            match &r.table {
                Some((sch, t)) if r.kind == crate::history::RecordKind::Snapshot => {
                    match Schema::parse_create(&r.sql, sch, self.flavor) {
                        Ok(mut d) => {
                            d.schema = sch.clone();
                            d.name = t.clone();
                            self.schema.put(d);
                        }
                        Err(e) => {
                            tracing::warn!("history snapshot for {sch}.{t} not parseable: {e}")
                        }
                    }
                }
                _ => {
                    self.schema
                        .apply_ddl(&r.sql, &r.default_schema, self.flavor);
                }
            }
        }
        self.history = Some(history);
        self
    }

    /// Builds every entry (rows, transaction begin/end, query, DDL) through the prost message
    /// structs instead of the direct writer (slower; kept as the oracle of the differential test).
    #[doc(hidden)]
    pub fn set_struct_rows(&mut self, on: bool) {
        self.struct_rows = on;
    }

    /// Forces the server flavor (otherwise taken from FORMAT_DESCRIPTION).
    pub fn set_flavor(&mut self, flavor: Flavor) {
        self.flavor = flavor;
        self.flavor_fixed = true;
    }

    /// Sets the binlog file name (the dump start; ROTATE events update it).
    pub fn set_file(&mut self, file: &str) {
        self.file = file.to_string();
    }

    /// Starts GTID tracking from the executed set the dump started with (GTID mode only).
    pub fn set_gtid_start(&mut self, set: &str) -> Result<(), ParseError> {
        if self.opts.gtid_mode && !set.trim().is_empty() {
            self.gtid = Some(GtidState::parse(set).map_err(ParseError::Config)?);
            self.gtid_changed();
        }
        Ok(())
    }

    /// Replaces the table filter (a client's non-empty subscribe filter).
    pub fn set_filter(&mut self, regex: &str) -> Result<(), ParseError> {
        self.white = TableFilter::white(regex)
            .map_err(|e| ParseError::Config(format!("subscribe filter: {e}")))?;
        self.opts.filter_regex = regex.to_string();
        self.passes.clear();
        self.tables_gen += 1;
        Ok(())
    }

    /// The current table metadata.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Mutable table metadata (to seed definitions, e.g. from a snapshot).
    pub fn schema_mut(&mut self) -> &mut Schema {
        self.resolved.clear();
        self.tables_gen += 1;
        &mut self.schema
    }

    /// For an async caller without a blocking [`TableMetaSource`]: the table whose
    /// `SHOW CREATE TABLE` text the next [`Converter::convert`] of `ev` would need (a rows event
    /// of a converted table with no known definition). Fetch it and hand it over with
    /// [`Converter::put_show_create`] before converting.
    pub fn missing_table_meta(&self, ev: &Event<'_>) -> Option<(String, String)> {
        let EventBody::Rows(r) = &ev.body else {
            return None;
        };
        let tm = r.table.as_ref()?;
        if self.opts.filter_rows || !self.table_passes(&tm.schema, &tm.table) {
            return None;
        }
        match self.schema.get(&tm.schema, &tm.table) {
            None => Some((tm.schema.clone(), tm.table.clone())),
            Some(_) => None,
        }
    }

    /// Installs a `SHOW CREATE TABLE` text for `schema.table` read at `offset` of the current
    /// file (recorded in the history like a source read).
    pub fn put_show_create(
        &mut self,
        schema: &str,
        table: &str,
        text: &str,
        offset: u64,
        ts: u32,
        server_id: u32,
    ) -> Result<(), ParseError> {
        let mut def =
            Schema::parse_create(text, schema, self.flavor).map_err(ParseError::MetaSource)?;
        def.schema = schema.to_string();
        def.name = table.to_string();
        self.schema.put(def);
        if let Some(m) = self.resolved.get_mut(schema) {
            m.remove(table);
        }
        self.tables_gen += 1;
        let file = self.file.clone();
        if let Some(h) = &mut self.history {
            h.append_snapshot(&file, offset, ts, server_id, schema, table, text)?;
        }
        Ok(())
    }

    /// Current binlog file name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Converts one event. Inner events of a TRANSACTION_PAYLOAD go through
    /// [`Converter::convert_inner`] instead.
    pub fn convert(
        &mut self,
        ev: &Event<'_>,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        self.convert_with_len(ev, ev.header.event_size, out)
    }

    /// Converts an event decoded from inside a TRANSACTION_PAYLOAD whose own event size is
    /// `payload_len` (Canal reports the payload's offset and length on those entries).
    pub fn convert_inner(
        &mut self,
        ev: &Event<'_>,
        payload_len: u32,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        self.convert_with_len(ev, payload_len, out)
    }

    fn convert_with_len(
        &mut self,
        ev: &Event<'_>,
        len: u32,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        let h = &ev.header;
        match &ev.body {
            EventBody::FormatDescription(f) => {
                if !self.flavor_fixed {
                    self.flavor = Flavor::from_server_version(&f.server_version);
                }
                if let Some(hist) = &mut self.history {
                    hist.note_server_version(&f.server_version);
                }
            }
            EventBody::Rotate { next_file, .. } => {
                self.file = next_file.clone();
            }
            EventBody::MariaBinlogCheckpoint { file } => {
                self.file = file.clone();
            }
            EventBody::Gtid(g) => {
                if let Some(st) = &mut self.gtid {
                    if !g.anonymous {
                        st.add_mysql(g);
                        self.curt_gtid = Some((
                            g.to_gtid_string(),
                            g.sequence_number.unwrap_or(0),
                            g.last_committed.unwrap_or(0),
                        ));
                        self.gtid_changed();
                    }
                }
            }
            EventBody::MariaGtid(g) => {
                if let Some(st) = &mut self.gtid {
                    st.add_maria(g.domain_id, h.server_id, g.seq_no);
                    self.gtid_changed();
                }
            }
            EventBody::Xid { xid } => {
                let mut ib = itoa::Buffer::new();
                let id = ib.format(*xid as i64);
                out.push(self.control_entry(
                    ev,
                    len,
                    None,
                    EntryType::Transactionend,
                    StoreOut::End {
                        transaction_id: id,
                        props: &[],
                    },
                ));
            }
            EventBody::Query(q) => self.query(ev, q, len, out)?,
            EventBody::Rows(r) if self.struct_rows => self.rows(ev, r, len, out)?,
            EventBody::Rows(r) => self.rows_direct(ev, r, len, out)?,
            EventBody::RowsQuery { sql } if !self.opts.filter_query_dml => {
                // Canal reads it as ISO-8859-1 then re-decodes with the connection charset; the
                // Latin-1 round trip gives back the original bytes, so decode those directly.
                let text = values::utf8_lossy(sql);
                let table = if h.event_type == canal_binlog::event::types::ROWS_QUERY {
                    ddl::classify(&text, "")
                        .into_iter()
                        .next()
                        .and_then(|r| r.table)
                } else {
                    s("")
                };
                self.query_entry(ev, len, &text, table.as_deref(), out);
            }
            EventBody::Intvar { value, .. } if !self.opts.filter_query_dml => {
                let sql = format!("SET INSERT_ID = {}", *value as i64);
                out.push(self.emit(
                    ev,
                    len,
                    HeadOut {
                        schema: Some(""),
                        table: Some(""),
                        event_type: Some(EventType::Query),
                        with_gtid: false,
                        rows: 0,
                    },
                    EntryType::Rowdata,
                    query_store(EventType::Query, None, &sql, &[], None),
                    false,
                ));
            }
            EventBody::Rand { seed1, seed2 } if !self.opts.filter_query_dml => {
                let sql = format!("SET SESSION rand_seed1 = {seed1} , rand_seed2 = {seed2}");
                self.query_entry(ev, len, &sql, Some(""), out);
            }
            EventBody::UserVariable(u) if !self.opts.filter_query_dml => {
                let name = values::latin1(u.name);
                let v = match &u.value {
                    None => "NULL".to_string(),
                    Some(UserVarValue::String { bytes, .. }) => {
                        format!("'{}'", values::utf8_lossy(bytes))
                    }
                    Some(UserVarValue::Real(bits)) => {
                        crate::javafmt::double_to_string(f64::from_bits(*bits))
                    }
                    Some(UserVarValue::Int { value, unsigned }) => {
                        if *unsigned {
                            (*value as u64).to_string()
                        } else {
                            value.to_string()
                        }
                    }
                    Some(UserVarValue::Decimal {
                        precision,
                        scale,
                        bytes,
                    }) => values::canal_decimal(&canal_binlog::value::Decimal {
                        precision: *precision,
                        scale: *scale,
                        bytes,
                    }),
                    Some(UserVarValue::Other { bytes, .. }) => {
                        format!("'{}'", values::utf8_lossy(bytes))
                    }
                };
                let sql = format!("SET @{name} := {v}");
                self.query_entry(ev, len, &sql, Some(""), out);
            }
            _ => {}
        }
        Ok(())
    }

    /// Re-renders the cached `gtid` text after the GTID state changed.
    fn gtid_changed(&mut self) {
        self.gtid_text = self
            .gtid
            .as_ref()
            .map(|st| st.to_string())
            .filter(|g| !g.is_empty());
    }

    /// A QUERY entry of a statement-like event (rows query, RAND, user variable).
    fn query_entry(
        &mut self,
        ev: &Event<'_>,
        len: u32,
        sql: &str,
        table: Option<&str>,
        out: &mut Vec<ParsedEntry>,
    ) {
        out.push(self.emit(
            ev,
            len,
            HeadOut {
                schema: Some(""),
                table,
                event_type: Some(EventType::Query),
                with_gtid: true,
                rows: 0,
            },
            EntryType::Rowdata,
            query_store(EventType::Query, None, sql, &[], None),
            false,
        ));
    }

    /// The prost `Header` (the oracle path of [`Converter::emit`] and the struct rows path).
    fn header(&self, h: &EventHeader, offset: u64, len: u32, ho: &HeadOut<'_>) -> Header {
        let mut props = Vec::new();
        let mut gtid = None;
        if ho.with_gtid {
            if let Some(st) = &self.gtid {
                if let Some((c, sn, lct)) = &self.curt_gtid {
                    props.push(Pair {
                        key: s("curtGtid"),
                        value: Some(c.clone()),
                    });
                    props.push(Pair {
                        key: s("curtGtidSn"),
                        value: Some(sn.to_string()),
                    });
                    props.push(Pair {
                        key: s("curtGtidLct"),
                        value: Some(lct.to_string()),
                    });
                }
                let g = st.to_string();
                if !g.is_empty() {
                    gtid = Some(g);
                }
            }
        }
        if ho.rows > 0 {
            props.push(Pair {
                key: s("rowsCount"),
                value: Some(ho.rows.to_string()),
            });
        }
        Header {
            version: Some(1),
            logfile_name: Some(self.file.clone()),
            logfile_offset: Some(offset as i64),
            server_id: Some(h.server_id as i64),
            serveren_code: s("UTF-8"),
            execute_time: Some(h.timestamp as i64 * 1000),
            source_type: Some(Type::Mysql as i32),
            schema_name: ho.schema.map(String::from),
            table_name: ho.table.map(String::from),
            event_length: Some(len as i64),
            event_type: ho.event_type.map(|t| t as i32),
            props,
            gtid,
        }
    }

    /// The direct writer's header (same fields as [`Converter::header`]); the `gtid` text is
    /// returned too (for the entry's position).
    fn header_out<'s>(
        &'s self,
        h: &EventHeader,
        offset: u64,
        len: u32,
        ho: &HeadOut<'s>,
    ) -> encode::HeaderOut<'s> {
        let (curt_gtid, gtid) = match (&self.gtid, ho.with_gtid) {
            (Some(_), true) => (
                self.curt_gtid
                    .as_ref()
                    .map(|(c, sn, lct)| (c.as_str(), *sn, *lct)),
                self.gtid_text.as_deref(),
            ),
            _ => (None, None),
        };
        encode::HeaderOut {
            file: &self.file,
            offset: offset as i64,
            server_id: h.server_id as i64,
            execute_time: h.timestamp as i64 * 1000,
            schema: ho.schema,
            table: ho.table,
            event_length: len as i64,
            event_type: ho.event_type.map(|t| t as i32),
            curt_gtid,
            rows: ho.rows,
            gtid,
        }
    }

    /// An entry of a transaction-control event (XID, BEGIN/COMMIT, XA ...): empty schema and
    /// table names, GTID props, no row count, not DDL.
    fn control_entry(
        &self,
        ev: &Event<'_>,
        len: u32,
        event_type: Option<EventType>,
        t: EntryType,
        store: StoreOut<'_>,
    ) -> ParsedEntry {
        let ho = HeadOut {
            schema: Some(""),
            table: Some(""),
            event_type,
            with_gtid: true,
            rows: 0,
        };
        self.emit(ev, len, ho, t, store, false)
    }

    /// Serializes a non-rows entry: written directly, or (oracle mode, see
    /// [`Converter::set_struct_rows`]) through the prost structs.
    fn emit(
        &self,
        ev: &Event<'_>,
        len: u32,
        ho: HeadOut<'_>,
        t: EntryType,
        store: StoreOut<'_>,
        is_ddl: bool,
    ) -> ParsedEntry {
        let h = &ev.header;
        if self.struct_rows {
            let hd = self.header(h, ev.offset, len, &ho);
            return self.entry(hd, t, store_prost(&store), h, ev.offset, is_ddl);
        }
        let hd = self.header_out(h, ev.offset, len, &ho);
        let mut buf = Vec::with_capacity(hd.encoded_len() + 2 + store.encoded_len());
        hd.write(&mut buf);
        encode::put_i32(&mut buf, 2, t as i32);
        store.write(&mut buf);
        ParsedEntry {
            bytes: Bytes::from(buf),
            position: EntryPosition {
                file: self.file.clone(),
                offset: ev.offset,
                timestamp_ms: h.timestamp as i64 * 1000,
                server_id: h.server_id,
                gtid: hd.gtid.map(String::from),
            },
            entry_type: t,
            event_type: ho.event_type,
            is_ddl,
            raw_size: h.event_size,
        }
    }

    fn entry(
        &self,
        header: Header,
        t: EntryType,
        store: Vec<u8>,
        h: &EventHeader,
        offset: u64,
        is_ddl: bool,
    ) -> ParsedEntry {
        let event_type = header.event_type.and_then(|v| EventType::try_from(v).ok());
        let entry = canal_protocol::entry::Entry {
            header: Some(header),
            entry_type: Some(t as i32),
            store_value: Some(store.into()),
        };
        ParsedEntry {
            bytes: Bytes::from(entry.encode_to_vec()),
            position: EntryPosition {
                file: self.file.clone(),
                offset,
                timestamp_ms: h.timestamp as i64 * 1000,
                server_id: h.server_id,
                gtid: entry.header.and_then(|h| h.gtid),
            },
            entry_type: t,
            event_type,
            is_ddl,
            raw_size: h.event_size,
        }
    }

    fn query(
        &mut self,
        ev: &Event<'_>,
        q: &QueryEvent<'_>,
        len: u32,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        let h = &ev.header;
        let sql = decode_query_text(&q.sql, q.status.charset.map(|c| c.0));
        let upper_prefix = |p: &str| {
            sql.len() >= p.len() && sql.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        let xid_after = |p: &str| sql.find(p).map_or("", |i| &sql[i + p.len()..]);
        // BEGIN / COMMIT and XA START / XA END: the same entries, the XA ones with props.
        let thread_id = q.thread_id as i64;
        for (p, begin) in [("XA START", true), ("XA END", false)] {
            if upper_prefix(p) {
                let props = [("XA_TYPE", p), ("XA_XID", xid_after(p))];
                let (t, store) = if begin {
                    let props = &props[..];
                    (
                        EntryType::Transactionbegin,
                        StoreOut::Begin { thread_id, props },
                    )
                } else {
                    let props = &props[..];
                    let transaction_id = "0";
                    (
                        EntryType::Transactionend,
                        StoreOut::End {
                            transaction_id,
                            props,
                        },
                    )
                };
                out.push(self.control_entry(ev, len, None, t, store));
                return Ok(());
            }
        }
        for (p, t) in [
            ("XA COMMIT", EventType::Xacommit),
            ("XA ROLLBACK", EventType::Xarollback),
        ] {
            if upper_prefix(p) {
                let props = [("XA_TYPE", p), ("XA_XID", xid_after(p))];
                let store = query_store(t, None, &sql, &props, None);
                out.push(self.control_entry(ev, len, Some(t), EntryType::Rowdata, store));
                return Ok(());
            }
        }
        let ends = |p: &str| {
            sql.len() >= p.len()
                && sql.as_bytes()[sql.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
        };
        if ends("BEGIN") {
            let store = StoreOut::Begin {
                thread_id,
                props: &[],
            };
            out.push(self.control_entry(ev, len, None, EntryType::Transactionbegin, store));
            return Ok(());
        }
        if ends("COMMIT") {
            let store = StoreOut::End {
                transaction_id: "0",
                props: &[],
            };
            out.push(self.control_entry(ev, len, None, EntryType::Transactionend, store));
            return Ok(());
        }
        let default_db = values::latin1(q.schema);
        let results = ddl::classify(&sql, &default_db);
        let Some(first) = results.first().cloned() else {
            return Ok(());
        };
        let is_dml = matches!(
            first.event_type,
            EventType::Insert | EventType::Update | EventType::Delete
        );
        // Table metadata follows every DDL, filtered or not (a later subscribe filter may need it).
        if !is_dml {
            let eff = self.schema.apply_ddl(&sql, &default_db, self.flavor);
            self.resolved.clear();
            self.tables_gen += 1;
            if let DdlEffect::Forgotten(t) = &eff {
                tracing::warn!(file = %self.file, offset = ev.offset, "DDL not parsed; metadata of {t:?} will be reloaded");
            }
            if let Some(hist) = &mut self.history {
                hist.append_ddl(
                    &self.file,
                    ev.offset,
                    h.timestamp,
                    h.server_id,
                    &default_db,
                    &sql,
                )?;
            }
        }
        if !is_dml && !results.iter().any(|r| self.ddl_passes(r)) {
            return Ok(());
        }
        if is_dml && self.opts.filter_query_dml {
            return Ok(());
        }
        if first.event_type == EventType::Query && self.opts.filter_query_dcl {
            return Ok(());
        }
        let is_ddl_type = matches!(
            first.event_type,
            EventType::Create
                | EventType::Alter
                | EventType::Erase
                | EventType::Truncate
                | EventType::Rename
                | EventType::Cindex
                | EventType::Dindex
        );
        if !is_dml && self.opts.filter_query_ddl {
            return Ok(());
        }
        if is_ddl_type {
            let empty = match first.event_type {
                EventType::Rename => first.ori_table.as_deref().unwrap_or("").is_empty(),
                _ => first.table.as_deref().unwrap_or("").is_empty(),
            };
            if empty {
                return Err(ParseError::Ddl(format!(
                    "DDL without a table name at {}:{}: {sql} (set filter.query.ddl to skip)",
                    self.file, ev.offset
                )));
            }
        }
        let ddl_schema = (!default_db.is_empty()).then_some(default_db.as_str());
        let store = query_store(first.event_type, Some(!is_dml), &sql, &[], ddl_schema);
        let ho = HeadOut {
            schema: first.schema.as_deref(),
            table: first.table.as_deref(),
            event_type: Some(first.event_type),
            with_gtid: true,
            rows: 0,
        };
        out.push(self.emit(ev, len, ho, EntryType::Rowdata, store, !is_dml));
        Ok(())
    }

    fn ddl_passes(&self, r: &DdlResult) -> bool {
        let name = format!("{}.{}", java_null(&r.schema), java_null(&r.table));
        if r.event_type == EventType::Rename {
            let ori = format!("{}.{}", java_null(&r.ori_schema), java_null(&r.ori_table));
            let white = self.white.matches(&name) || self.white.matches(&ori);
            let black = self.black.matches(&name) && self.black.matches(&ori);
            white && !black
        } else {
            self.white.matches(&name) && !self.black.matches(&name)
        }
    }

    /// Whether rows of `schema.table` are converted under the current filters.
    pub fn table_passes(&self, schema: &str, table: &str) -> bool {
        let name = format!("{schema}.{table}");
        self.white.matches(&name) && !self.black.matches(&name)
    }

    /// [`Converter::table_passes`] remembered per table (the filters only change through
    /// [`Converter::set_filter`], which forgets the answers).
    fn table_passes_cached(&mut self, schema: &str, table: &str) -> bool {
        if let Some(&p) = self.passes.get(schema).and_then(|m| m.get(table)) {
            return p;
        }
        let p = self.table_passes(schema, table);
        self.passes
            .entry(schema.to_string())
            .or_default()
            .insert(table.to_string(), p);
        p
    }

    fn load_from_source(
        &mut self,
        schema: &str,
        table: &str,
        file: &str,
        offset: u64,
        ts: u32,
        sid: u32,
    ) -> Result<bool, ParseError> {
        let Some(src) = self.source.as_mut() else {
            return Ok(false);
        };
        let text = match src.show_create_table(schema, table) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(false),
            Err(e) => {
                return Err(ParseError::MetaSource(format!(
                    "show create table `{schema}`.`{table}`: {e}"
                )))
            }
        };
        let mut def =
            Schema::parse_create(&text, schema, self.flavor).map_err(ParseError::MetaSource)?;
        def.schema = schema.to_string();
        def.name = table.to_string();
        self.schema.put(def);
        if let Some(m) = self.resolved.get_mut(schema) {
            m.remove(table);
        }
        self.tables_gen += 1;
        if let Some(h) = &mut self.history {
            h.append_snapshot(file, offset, ts, sid, schema, table, &text)?;
        }
        Ok(true)
    }

    fn resolve(
        &mut self,
        tm: &TableMap,
        ev: &Event<'_>,
    ) -> Result<Option<Arc<ResolvedTable>>, ParseError> {
        let cached = self
            .resolved
            .get(tm.schema.as_str())
            .and_then(|m| m.get(tm.table.as_str()));
        if let Some(r) = cached {
            if r.kinds.len() == tm.columns.len() {
                return Ok(Some(r.clone()));
            }
        }
        let file = self.file.clone();
        let (h, off) = (&ev.header, ev.offset);
        if self.schema.get(&tm.schema, &tm.table).is_none() {
            self.load_from_source(&tm.schema, &tm.table, &file, off, h.timestamp, h.server_id)?;
        }
        let mut def = self.schema.get(&tm.schema, &tm.table).cloned();
        let names = tm.meta.column_names.as_ref();
        let matches_map = |d: &TableDef| match names {
            Some(n) => {
                n.len() == d.columns.len()
                    && n.iter()
                        .zip(&d.columns)
                        .all(|(a, c)| a.eq_ignore_ascii_case(&c.name))
            }
            None => d.columns.len() == tm.columns.len(),
        };
        if def.as_ref().is_some_and(|d| !matches_map(d)) && self.source.is_some() {
            // Schema moved on: re-read once from the live source.
            self.load_from_source(&tm.schema, &tm.table, &file, off, h.timestamp, h.server_id)?;
            def = self.schema.get(&tm.schema, &tm.table).cloned();
        }
        let def = match (def, names) {
            (Some(d), _) if matches_map(&d) => d,
            (d, Some(n)) if n.len() == tm.columns.len() => {
                // FULL metadata is the truth: names (and keys) from the TABLE_MAP, types from the
                // known definition where the name still exists.
                if let Some(d) = &d {
                    tracing::warn!(
                        table = %format!("{}.{}", tm.schema, tm.table),
                        position = %format!("{file}:{off}"),
                        "table metadata {:?} differs from TABLE_MAP column names {:?}; using TABLE_MAP names",
                        d.column_names(),
                        n
                    );
                }
                table_from_map(tm, d.as_ref(), self.flavor)
            }
            (Some(d), _) => {
                let binlog: Vec<String> = match names {
                    Some(n) => n.clone(),
                    None => tm
                        .columns
                        .iter()
                        .map(|c| format!("<type {}>", c.real_type))
                        .collect(),
                };
                let msg = format!(
                    "column mismatch for {}.{} at {}:{}: table metadata has {} columns {:?}, binlog row image has {} columns {:?}",
                    tm.schema,
                    tm.table,
                    file,
                    off,
                    d.columns.len(),
                    d.column_names(),
                    tm.columns.len(),
                    binlog
                );
                if self.opts.filter_table_error {
                    tracing::warn!("{msg}; event skipped (filter.table.error)");
                    return Ok(None);
                }
                return Err(ParseError::ColumnMismatch(msg));
            }
            (None, _) => {
                let msg = format!(
                    "no table metadata for {}.{} at {}:{}",
                    tm.schema, tm.table, file, off
                );
                if self.opts.filter_table_error {
                    tracing::warn!("{msg}; event skipped (filter.table.error)");
                    return Ok(None);
                }
                return Err(ParseError::NoTableMeta(msg));
            }
        };
        let kinds: Vec<ColumnKind> = def
            .columns
            .iter()
            .zip(&tm.columns)
            .map(|(c, t)| ColumnKind::new(t.real_type, &c.mysql_type))
            .collect();
        let pre = encode::PreCols::new(def.columns.iter().zip(&kinds).map(|(c, k)| {
            let k: &ColumnKind = k;
            (
                c.name.as_str(),
                c.is_key,
                c.mysql_type.as_str(),
                k.null_sql_type(),
            )
        }));
        let r = Arc::new(ResolvedTable { def, kinds, pre });
        self.resolved
            .entry(tm.schema.clone())
            .or_default()
            .insert(tm.table.clone(), r.clone());
        Ok(Some(r))
    }

    /// The table map, event type and resolved table of a rows event; `None` when the event is
    /// filtered out (`filter_rows`, table filters, per-type DML filters) or its table cannot
    /// be resolved.
    fn rows_target<'r>(
        &mut self,
        ev: &Event<'_>,
        r: &'r canal_binlog::event::RowsEvent<'_>,
    ) -> Result<Option<RowsTarget<'r>>, ParseError> {
        let Some(tm) = r.table.as_ref() else {
            return Err(ParseError::TableIdNotFound {
                table_id: r.table_id,
                file: self.file.clone(),
                offset: ev.offset,
            });
        };
        if self.opts.filter_rows {
            return Ok(None);
        }
        // The oracle path (struct_rows) always looks up, so the differential test checks this.
        let hit = match &self.last_target {
            Some((sch, t, g, rt))
                if !self.struct_rows
                    && *g == self.tables_gen
                    && *sch == tm.schema
                    && *t == tm.table
                    && rt.kinds.len() == tm.columns.len() =>
            {
                Some(rt.clone())
            }
            _ => None,
        };
        if hit.is_none() && !self.table_passes_cached(&tm.schema, &tm.table) {
            return Ok(None);
        }
        let event_type = match r.kind {
            RowsKind::Write => EventType::Insert,
            RowsKind::Update | RowsKind::PartialUpdate => EventType::Update,
            RowsKind::Delete => EventType::Delete,
        };
        let skip = match event_type {
            EventType::Insert => self.opts.filter_dml_insert,
            EventType::Update => self.opts.filter_dml_update,
            _ => self.opts.filter_dml_delete,
        };
        if skip {
            return Ok(None);
        }
        if let Some(rt) = hit {
            return Ok(Some((tm, event_type, rt)));
        }
        let Some(rt) = self.resolve(tm, ev)? else {
            return Ok(None);
        };
        self.last_target = Some((
            tm.schema.clone(),
            tm.table.clone(),
            self.tables_gen,
            rt.clone(),
        ));
        Ok(Some((tm, event_type, rt)))
    }

    fn rows(
        &mut self,
        ev: &Event<'_>,
        r: &canal_binlog::event::RowsEvent<'_>,
        len: u32,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        let h = &ev.header;
        let Some((tm, event_type, rt)) = self.rows_target(ev, r)? else {
            return Ok(());
        };
        let mut row_datas = Vec::new();
        let mut count = 0usize;
        for row in r.rows() {
            let row = row.map_err(|e| {
                ParseError::Decode(format!(
                    "{}.{} at {}:{}: {e}",
                    tm.schema, tm.table, self.file, ev.offset
                ))
            })?;
            let mut rd = RowData::default();
            match r.kind {
                RowsKind::Write => {
                    if let Some(a) = &row.after {
                        rd.after_columns = self.columns(&rt, tm, a, None, true);
                    }
                }
                RowsKind::Delete => {
                    if let Some(b) = &row.before {
                        rd.before_columns = self.columns(&rt, tm, b, None, false);
                    }
                }
                RowsKind::Update | RowsKind::PartialUpdate => {
                    if let Some(b) = &row.before {
                        rd.before_columns = self.columns(&rt, tm, b, None, false);
                    }
                    match &row.after {
                        Some(a) => {
                            let after = self.columns(&rt, tm, a, Some(&rd.before_columns), true);
                            rd.after_columns = after;
                        }
                        None => {
                            row_datas.push(rd);
                            break;
                        }
                    }
                }
            }
            count += 1;
            if !self.fields.is_empty() {
                let keep = |c: &Column| {
                    self.fields
                        .keep(&tm.schema, &tm.table, c.name.as_deref().unwrap_or(""))
                };
                rd.before_columns.retain(keep);
                rd.after_columns.retain(keep);
            }
            row_datas.push(rd);
        }
        let rc = RowChange {
            table_id: Some(r.table_id as i64),
            event_type: Some(event_type as i32),
            is_ddl: Some(false),
            row_datas,
            ..Default::default()
        };
        let ho = HeadOut {
            schema: Some(&tm.schema),
            table: Some(&tm.table),
            event_type: Some(event_type),
            with_gtid: true,
            rows: count,
        };
        let hd = self.header(h, ev.offset, len, &ho);
        out.push(self.entry(
            hd,
            EntryType::Rowdata,
            rc.encode_to_vec(),
            h,
            ev.offset,
            false,
        ));
        Ok(())
    }

    /// [`Converter::rows`] writing the `RowChange` bytes directly (see [`crate::encode`]); the
    /// output is byte-identical.
    fn rows_direct(
        &mut self,
        ev: &Event<'_>,
        r: &canal_binlog::event::RowsEvent<'_>,
        len: u32,
        out: &mut Vec<ParsedEntry>,
    ) -> Result<(), ParseError> {
        let h = &ev.header;
        let Some((tm, event_type, rt)) = self.rows_target(ev, r)? else {
            return Ok(());
        };
        let mut ho = HeadOut {
            schema: Some(&tm.schema),
            table: Some(&tm.table),
            event_type: Some(event_type),
            with_gtid: true,
            rows: 0,
        };
        // The RowChange is written into the entry's own buffer after room for the header (whose
        // row count is known only at the end), so its bytes are never copied.
        let room = self.header_out(h, ev.offset, len, &ho).max_len() + 16;
        let mut sc = std::mem::take(&mut self.scratch);
        let data_len = r.data.len();
        let est = data_len * sc.rc_ratio_x16.clamp(16, 16 * 64) / 16 + data_len / 16 + 64;
        if sc.rc.capacity() < room + est {
            sc.rc = Vec::with_capacity(room + est);
        }
        sc.rc.clear();
        sc.rc.resize(room, 0);
        let res = self.write_row_change(ev, r, tm, &rt, event_type, &mut sc);
        let buf = std::mem::take(&mut sc.rc);
        let count = match res {
            Ok(c) => c,
            Err(e) => {
                self.scratch = sc;
                return Err(e);
            }
        };
        let rc_len = buf.len() - room;
        sc.rc_ratio_x16 = rc_len * 16 / data_len.max(1);
        ho.rows = count;
        let hd = self.header_out(h, ev.offset, len, &ho);
        sc.head.clear();
        hd.write(&mut sc.head);
        encode::put_i32(&mut sc.head, 2, EntryType::Rowdata as i32);
        encode::put_len_key(&mut sc.head, 3, rc_len);
        let (bytes, spare) = place_head(buf, room, &sc.head);
        if let Some(b) = spare {
            sc.rc = b;
        }
        let gtid = hd.gtid.map(String::from);
        self.scratch = sc;
        out.push(ParsedEntry {
            bytes,
            position: EntryPosition {
                file: self.file.clone(),
                offset: ev.offset,
                timestamp_ms: h.timestamp as i64 * 1000,
                server_id: h.server_id,
                gtid,
            },
            entry_type: EntryType::Rowdata,
            event_type: Some(event_type),
            is_ddl: false,
            raw_size: h.event_size,
        });
        Ok(())
    }

    /// Writes the `RowChange` of a rows event into `sc.rc` (after what it holds); returns the
    /// row count.
    fn write_row_change(
        &self,
        ev: &Event<'_>,
        r: &canal_binlog::event::RowsEvent<'_>,
        tm: &TableMap,
        rt: &ResolvedTable,
        event_type: EventType,
        sc: &mut RowScratch,
    ) -> Result<usize, ParseError> {
        let decode_err = |e: canal_binlog::DecodeError| {
            ParseError::Decode(format!(
                "{}.{} at {}:{}: {e}",
                tm.schema, tm.table, self.file, ev.offset
            ))
        };
        encode::put_i64(&mut sc.rc, 1, r.table_id as i64);
        encode::put_i32(&mut sc.rc, 2, event_type as i32);
        encode::put_bool(&mut sc.rc, 10, false);
        let mut reader = r.reader().map_err(decode_err)?;
        sc.len_guess.clear();
        sc.len_guess.resize(rt.def.columns.len(), (1, 1));
        let mut row = std::mem::take(&mut sc.row).reuse();
        let mut count = 0usize;
        let res = loop {
            match reader.next_into(&mut row) {
                Ok(true) => {}
                Ok(false) => break Ok(count),
                Err(e) => break Err(decode_err(e)),
            }
            let guess = sc.row_len_guess.max(1);
            sc.rc.push((12 << 3) | 2);
            let at = encode::begin_len(&mut sc.rc, guess);
            let mut stop = false;
            match r.kind {
                RowsKind::Write => {
                    if let Some(a) = &row.after {
                        self.write_columns(rt, tm, a, Phase::AfterNoBefore, sc);
                    }
                }
                RowsKind::Delete => {
                    if let Some(b) = &row.before {
                        self.write_columns(rt, tm, b, Phase::BeforeOnly, sc);
                    }
                }
                RowsKind::Update | RowsKind::PartialUpdate => {
                    sc.before_vals.clear();
                    sc.before.clear();
                    sc.before.resize(rt.def.columns.len(), None);
                    if let Some(b) = &row.before {
                        self.write_columns(rt, tm, b, Phase::Before, sc);
                    }
                    match &row.after {
                        Some(a) => self.write_columns(rt, tm, a, Phase::After, sc),
                        None => stop = true,
                    }
                }
            }
            sc.row_len_guess = encode::end_len(&mut sc.rc, at, guess);
            if stop {
                break Ok(count);
            }
            count += 1;
        };
        sc.row = row.reuse();
        res
    }

    /// [`Converter::write_columns`] without a field filter: each column is written straight
    /// into `sc.rc` and its value rendered in place (lengths reserved and patched), so values
    /// are never copied; before-image values are remembered as ranges of `sc.rc`.
    fn write_columns_in_place(
        &self,
        rt: &ResolvedTable,
        image: &[Option<Value<'_>>],
        phase: Phase,
        sc: &mut RowScratch,
    ) {
        let field = match phase {
            Phase::Before | Phase::BeforeOnly => 1,
            _ => 2,
        };
        for (i, slot) in image.iter().enumerate() {
            let Some(v) = slot else { continue };
            let (Some(def), Some(kind), Some((head, tail, usual))) =
                (rt.def.columns.get(i), rt.kinds.get(i), rt.pre.parts(i))
            else {
                continue;
            };
            let prev: Option<Option<(usize, usize)>> = match phase {
                Phase::After => sc.before.get(i).copied().flatten(),
                _ => None,
            };
            let buf = &mut sc.rc;
            let range = if let Value::JsonDiff(p) = v {
                // Rare: rendered aside (see `write_columns`), then written.
                sc.val.clear();
                let (sql_type, non_null) = if p.is_empty() {
                    match prev {
                        Some(Some((s, e))) => {
                            sc.val.extend_from_slice(buf.get(s..e).unwrap_or_default());
                            (values::sql_type::VARCHAR, true)
                        }
                        Some(None) => (kind.null_sql_type(), false),
                        None => (values::sql_type::VARCHAR, true),
                    }
                } else {
                    let text = json::diff_to_canal_text(p, &def.name)
                        .unwrap_or_else(|| json::to_canal_text(p));
                    sc.val.extend_from_slice(text.as_bytes());
                    (values::sql_type::VARCHAR, true)
                };
                let value = non_null.then_some(&sc.val[..]);
                let updated = match phase {
                    Phase::Before | Phase::BeforeOnly => false,
                    Phase::AfterNoBefore => true,
                    Phase::After => match prev {
                        Some(p) => p.map(|(s, e)| buf.get(s..e).unwrap_or_default()) != value,
                        None => true,
                    },
                };
                rt.pre.write(buf, field, i, sql_type, updated, value);
                value.map(|v| v.len())
            } else {
                let col_start = buf.len();
                // Length bytes as in the previous row (per column: column, value).
                let (guess, vguess) = sc.len_guess.get(i).copied().unwrap_or((1, 1));
                let (guess, vguess) = (usize::from(guess.max(1)), usize::from(vguess.max(1)));
                buf.push(((field << 3) | 2) as u8);
                let at_col = encode::begin_len(buf, guess);
                buf.extend_from_slice(head);
                let flags = buf.len();
                buf.extend_from_slice(&[5 << 3, 0, 6 << 3, 0]);
                let (sql_type, vr) = if matches!(v, Value::Null) {
                    (kind.null_sql_type(), None)
                } else {
                    buf.push((8 << 3) | 2);
                    let at_v = encode::begin_len(buf, vguess);
                    let (t, non_null) = values::render_into(v, kind, &self.zone, buf);
                    let n = encode::end_len(buf, at_v, vguess);
                    if let Some(g) = sc.len_guess.get_mut(i) {
                        g.1 = n as u8;
                    }
                    if non_null {
                        (t, Some((at_v + n, buf.len())))
                    } else {
                        buf.truncate(at_v - 1);
                        (t, None)
                    }
                };
                let updated = match phase {
                    Phase::Before | Phase::BeforeOnly => false,
                    Phase::AfterNoBefore => true,
                    Phase::After => {
                        let now = vr.map(|(s, e)| buf.get(s..e).unwrap_or_default());
                        match prev {
                            Some(p) => p.map(|(s, e)| buf.get(s..e).unwrap_or_default()) != now,
                            None => true,
                        }
                    }
                };
                if sql_type == usual {
                    if let Some(f) = buf.get_mut(flags..flags + 4) {
                        f[1] = u8::from(updated);
                        f[3] = u8::from(vr.is_none());
                    }
                    buf.extend_from_slice(tail);
                    let n = encode::end_len(buf, at_col, guess);
                    if let Some(g) = sc.len_guess.get_mut(i) {
                        g.0 = n as u8;
                    }
                } else {
                    // Rare (unsigned promotion, SET, JSON...): rewritten with the actual sqlType.
                    sc.val.clear();
                    if let Some((s, e)) = vr {
                        sc.val.extend_from_slice(buf.get(s..e).unwrap_or_default());
                    }
                    buf.truncate(col_start);
                    let value = vr.map(|_| &sc.val[..]);
                    rt.pre.write(buf, field, i, sql_type, updated, value);
                }
                vr.map(|(s, e)| e - s)
            };
            if phase == Phase::Before {
                // The value ends right before the column's mysqlType field.
                let r = range.map(|n| {
                    let end = sc.rc.len() - tail.len();
                    (end - n, end)
                });
                if let Some(slot) = sc.before.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    }

    /// Renders one image and writes its kept columns into `sc.rc` (without a field filter:
    /// [`Converter::write_columns_in_place`]; with one, values are rendered aside and the
    /// before image's kept in `sc.before_vals`, as dropped columns are not written).
    fn write_columns(
        &self,
        rt: &ResolvedTable,
        tm: &TableMap,
        image: &[Option<Value<'_>>],
        phase: Phase,
        sc: &mut RowScratch,
    ) {
        let filter = !self.fields.is_empty();
        if !filter {
            return self.write_columns_in_place(rt, image, phase, sc);
        }
        let field = match phase {
            Phase::Before | Phase::BeforeOnly => 1,
            _ => 2,
        };
        for (i, slot) in image.iter().enumerate() {
            let Some(v) = slot else { continue };
            let (Some(def), Some(kind)) = (rt.def.columns.get(i), rt.kinds.get(i)) else {
                continue;
            };
            let prev: Option<Option<(usize, usize)>> = match phase {
                Phase::After => sc.before.get(i).copied().flatten(),
                _ => None,
            };
            sc.val.clear();
            let (sql_type, non_null) = match v {
                Value::JsonDiff(p) => {
                    if p.is_empty() {
                        // Unchanged JSON column of a partial update: see `columns`.
                        match prev {
                            Some(Some((s, e))) => {
                                let b = sc.before_vals.get(s..e).unwrap_or_default();
                                sc.val.extend_from_slice(b);
                                (values::sql_type::VARCHAR, true)
                            }
                            Some(None) => (kind.null_sql_type(), false),
                            None => (values::sql_type::VARCHAR, true),
                        }
                    } else {
                        let text = json::diff_to_canal_text(p, &def.name)
                            .unwrap_or_else(|| json::to_canal_text(p));
                        sc.val.extend_from_slice(text.as_bytes());
                        (values::sql_type::VARCHAR, true)
                    }
                }
                v => values::render_into(v, kind, &self.zone, &mut sc.val),
            };
            let value = non_null.then_some(&sc.val[..]);
            let updated = match phase {
                Phase::Before | Phase::BeforeOnly => false,
                Phase::AfterNoBefore => true,
                Phase::After => match prev {
                    Some(p) => {
                        let b = p.map(|(s, e)| sc.before_vals.get(s..e).unwrap_or_default());
                        b != value
                    }
                    None => true,
                },
            };
            if !filter || self.fields.keep(&tm.schema, &tm.table, &def.name) {
                rt.pre.write(&mut sc.rc, field, i, sql_type, updated, value);
            }
            if phase == Phase::Before {
                let r = value.map(|v| {
                    let s = sc.before_vals.len();
                    sc.before_vals.extend_from_slice(v);
                    (s, sc.before_vals.len())
                });
                if let Some(slot) = sc.before.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    }

    fn columns(
        &self,
        rt: &ResolvedTable,
        tm: &TableMap,
        image: &[Option<Value<'_>>],
        before: Option<&[Column]>,
        after: bool,
    ) -> Vec<Column> {
        let mut cols = Vec::with_capacity(image.len());
        for (i, slot) in image.iter().enumerate() {
            let Some(v) = slot else { continue };
            let (Some(def), Some(kind)) = (rt.def.columns.get(i), rt.kinds.get(i)) else {
                continue;
            };
            let (sql_type, value) = match v {
                Value::JsonDiff(p) => {
                    let prev = before.and_then(|b| b.iter().find(|c| c.index == Some(i as i32)));
                    if p.is_empty() {
                        // Unchanged JSON column of a partial update: MySQL logs an empty diff.
                        // Java Canal emits "" here (the value is lost); the column is unchanged,
                        // so we carry the before-image value instead.
                        match prev {
                            Some(c) if c.is_null == Some(false) => {
                                (values::sql_type::VARCHAR, c.value.clone())
                            }
                            Some(_) => (kind.null_sql_type(), None),
                            None => (values::sql_type::VARCHAR, Some(String::new())),
                        }
                    } else {
                        let text = json::diff_to_canal_text(p, &def.name)
                            .unwrap_or_else(|| json::to_canal_text(p));
                        (values::sql_type::VARCHAR, Some(text))
                    }
                }
                v => values::render(v, kind, &self.zone),
            };
            let _ = tm;
            let is_null = value.is_none();
            let updated = if !after {
                false
            } else {
                match before.and_then(|b| b.iter().find(|c| c.index == Some(i as i32))) {
                    Some(c) => {
                        let both_null = c.is_null == Some(true) && is_null;
                        let same = c.is_null == Some(false) && !is_null && c.value == value;
                        !(both_null || same)
                    }
                    None => true,
                }
            };
            cols.push(Column {
                index: Some(i as i32),
                sql_type: Some(sql_type),
                name: Some(def.name.clone()),
                is_key: Some(def.is_key),
                updated: Some(updated),
                is_null: Some(is_null),
                props: Vec::new(),
                value,
                length: None,
                mysql_type: Some(def.mysql_type.clone()),
            });
        }
        cols
    }
}

/// Which image [`Converter::write_columns`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before image of an update (`updated` = false; values kept for the after image).
    Before,
    /// Before image of a delete (`updated` = false).
    BeforeOnly,
    /// After image of an insert (`updated` = true).
    AfterNoBefore,
    /// After image of an update (`updated` compared with the before image).
    After,
}

/// The header fields that differ between entries (see [`Converter::header`]).
#[derive(Debug, Clone, Copy)]
struct HeadOut<'a> {
    schema: Option<&'a str>,
    table: Option<&'a str>,
    event_type: Option<EventType>,
    /// GTID props and `gtid` (in GTID mode).
    with_gtid: bool,
    /// `rowsCount` prop when > 0.
    rows: usize,
}

/// A `RowChange` without rows (statement and DDL entries).
fn query_store<'a>(
    t: EventType,
    is_ddl: Option<bool>,
    sql: &'a str,
    props: &'a [(&'a str, &'a str)],
    ddl_schema: Option<&'a str>,
) -> StoreOut<'a> {
    StoreOut::Query {
        event_type: t as i32,
        is_ddl,
        sql,
        props,
        ddl_schema,
    }
}

/// The prost encoding of a `storeValue` (the oracle path).
fn store_prost(store: &StoreOut<'_>) -> Vec<u8> {
    let pairs = |p: &[(&str, &str)]| -> Vec<Pair> {
        p.iter()
            .map(|(k, v)| Pair {
                key: s(k),
                value: s(v),
            })
            .collect()
    };
    match *store {
        StoreOut::Begin { thread_id, props } => TransactionBegin {
            props: pairs(props),
            thread_id: Some(thread_id),
            ..Default::default()
        }
        .encode_to_vec(),
        StoreOut::End {
            transaction_id,
            props,
        } => TransactionEnd {
            transaction_id: s(transaction_id),
            props: pairs(props),
            ..Default::default()
        }
        .encode_to_vec(),
        StoreOut::Query {
            event_type,
            is_ddl,
            sql,
            props,
            ddl_schema,
        } => RowChange {
            event_type: Some(event_type),
            is_ddl,
            sql: s(sql),
            props: pairs(props),
            ddl_schema_name: ddl_schema.map(String::from),
            ..Default::default()
        }
        .encode_to_vec(),
    }
}

/// The entry bytes from `buf` = `room` spare bytes then the `storeValue` body, with `head`
/// (header, entryType, storeValue key and length) placed right before the body. A large entry
/// keeps its buffer (and the few unused leading bytes, at most 1/16 of its size; spare capacity
/// beyond 1/8 is released) instead of being copied; a small one is copied into an exact
/// allocation and `buf` is handed back for reuse.
fn place_head(mut buf: Vec<u8>, room: usize, head: &[u8]) -> (Bytes, Option<Vec<u8>>) {
    let body = buf.get(room..).unwrap_or_default();
    match room.checked_sub(head.len()) {
        Some(gap) if gap * 16 <= body.len() => {
            buf[gap..room].copy_from_slice(head);
            if buf.capacity() > buf.len() + buf.len() / 8 {
                buf.shrink_to_fit();
            }
            (Bytes::from(buf).slice(gap..), None)
        }
        _ => {
            let mut v = Vec::with_capacity(head.len() + body.len());
            v.extend_from_slice(head);
            v.extend_from_slice(body);
            (Bytes::from(v), Some(buf))
        }
    }
}

/// Builds a definition from TABLE_MAP FULL metadata (names, keys), taking types from `known`
/// where the column name exists there and rendering the rest from the binlog type.
fn table_from_map(tm: &TableMap, known: Option<&TableDef>, flavor: Flavor) -> TableDef {
    let names = tm.meta.column_names.clone().unwrap_or_default();
    let pk: Vec<u16> = tm.meta.primary_key.clone().unwrap_or_default();
    let columns = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let known_col =
                known.and_then(|d| d.columns.iter().find(|c| c.name.eq_ignore_ascii_case(n)));
            let mysql_type = match known_col {
                Some(c) => c.mysql_type.clone(),
                None => crate::tablemap_type::render(tm, i, flavor),
            };
            let is_key = if tm.meta.primary_key.is_some() {
                pk.contains(&(i as u16))
            } else {
                known_col.is_some_and(|c| c.is_key)
            };
            ColumnDef {
                name: n.clone(),
                mysql_type,
                is_key,
            }
        })
        .collect();
    TableDef {
        schema: tm.schema.clone(),
        name: tm.table.clone(),
        columns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canal_binlog::event::{types, QueryStatus};
    use std::borrow::Cow;

    fn query<'a>(sql: &'a str, schema: &'a str) -> Event<'a> {
        Event {
            header: EventHeader {
                timestamp: 100,
                event_type: types::QUERY,
                server_id: 1,
                event_size: 50,
                log_pos: 150,
                flags: 0,
            },
            offset: 100,
            body: EventBody::Query(QueryEvent {
                thread_id: 7,
                exec_time: 0,
                error_code: 0,
                schema: schema.as_bytes(),
                sql: Cow::Borrowed(sql.as_bytes()),
                status: QueryStatus {
                    charset: Some((45, 45, 45)),
                    ..Default::default()
                },
            }),
        }
    }

    fn conv(o: ConvertOptions) -> Converter {
        let mut c = Converter::new(o).unwrap();
        c.set_file("mysql-bin.000001");
        c
    }

    fn one(c: &mut Converter, ev: &Event<'_>) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        c.convert(ev, &mut out).unwrap();
        out.iter()
            .map(|e| crate::entries_json::entry_json(&e.bytes).unwrap())
            .collect()
    }

    // Expected shapes: compat §2.2/§2.3/§2.4.
    #[test]
    fn transaction_and_xa_entries() {
        let mut c = conv(ConvertOptions::default());
        let e = one(&mut c, &query("BEGIN", "db"));
        assert_eq!(e[0]["entryType"], "TRANSACTIONBEGIN");
        assert_eq!(e[0]["storeValue"], serde_json::json!({"threadId": 7}));
        assert_eq!(e[0]["header"]["schemaName"], "");
        assert!(e[0]["header"].get("eventType").is_none());
        assert_eq!(e[0]["header"]["logfileOffset"], 100);
        assert_eq!(e[0]["header"]["executeTime"], 100000);
        let e = one(&mut c, &query("COMMIT", "db"));
        assert_eq!(
            e[0]["storeValue"],
            serde_json::json!({"transactionId": "0"})
        );
        let e = one(&mut c, &query("XA START X'31',X'',1", "db"));
        assert_eq!(e[0]["entryType"], "TRANSACTIONBEGIN");
        assert_eq!(
            e[0]["storeValue"]["props"],
            serde_json::json!([{"key": "XA_TYPE", "value": "XA START"}, {"key": "XA_XID", "value": " X'31',X'',1"}])
        );
        let e = one(&mut c, &query("xa end X'31',X'',1", "db"));
        assert_eq!(e[0]["entryType"], "TRANSACTIONEND");
        assert_eq!(e[0]["storeValue"]["props"][1]["value"], "");
        let e = one(&mut c, &query("XA COMMIT X'31',X'',1", "db"));
        assert_eq!(e[0]["header"]["eventType"], "XACOMMIT");
        assert_eq!(e[0]["storeValue"]["eventType"], "XACOMMIT");
        assert!(e[0]["storeValue"].get("isDdl").is_none());
        // ROLLBACK / SAVEPOINT / views: no entry.
        assert!(one(&mut c, &query("ROLLBACK", "db")).is_empty());
        assert!(one(&mut c, &query("CREATE VIEW v AS SELECT 1", "db")).is_empty());
    }

    #[test]
    fn statement_dml_and_ddl_rules() {
        let mut c = conv(ConvertOptions::default());
        let e = one(&mut c, &query("INSERT INTO t1 VALUES (1)", "db"));
        assert_eq!(e[0]["header"]["eventType"], "INSERT");
        assert_eq!(e[0]["header"]["tableName"], "t1");
        assert_eq!(
            e[0]["storeValue"],
            serde_json::json!({"eventType": "INSERT", "isDdl": false, "sql": "INSERT INTO t1 VALUES (1)", "ddlSchemaName": "db"})
        );
        // Unparseable text: QUERY with isDdl true, no schema/table in the header.
        let e = one(&mut c, &query("FOO BAR BAZ", ""));
        assert_eq!(
            e[0]["storeValue"],
            serde_json::json!({"eventType": "QUERY", "isDdl": true, "sql": "FOO BAR BAZ"})
        );
        assert!(e[0]["header"].get("schemaName").is_none());
        // filter.query.dml / dcl / ddl.
        let mut c = conv(ConvertOptions {
            filter_query_dml: true,
            filter_query_dcl: true,
            ..Default::default()
        });
        assert!(one(&mut c, &query("INSERT INTO t1 VALUES (1)", "db")).is_empty());
        assert!(one(&mut c, &query("CREATE DATABASE x", "")).is_empty());
        let mut c = conv(ConvertOptions {
            filter_query_ddl: true,
            ..Default::default()
        });
        assert!(one(
            &mut c,
            &query("CREATE TABLE t (id INT PRIMARY KEY, v INT)", "db")
        )
        .is_empty());
        // ... but the table metadata still follows.
        assert_eq!(
            c.schema().get("db", "t").unwrap().column_names(),
            vec!["id", "v"]
        );
        // Black-listed DDL: no entry, metadata updated.
        let mut c = conv(ConvertOptions {
            black_regex: r"db\..*".into(),
            ..Default::default()
        });
        assert!(one(&mut c, &query("CREATE TABLE t (id INT)", "db")).is_empty());
        assert!(c.schema().get("db", "t").is_some());
    }
}
