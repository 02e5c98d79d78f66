//! Borrowed, allocation-free views of Canal entries: [`EntryView`] → [`RowChangeView`] →
//! [`RowDataView`] → [`ColumnView`], read straight from the entry bytes a batch delivered.
//!
//! The owned types of `canal_protocol::entry` (prost) allocate a `String` per column name,
//! value and MySQL type; a consumer that only looks at the values pays for three allocations and
//! frees per column. These views decode the same protobuf (proto2, Canal's `EntryProtocol.proto`)
//! lazily and hand out `&str` slices of the received buffer. Every string handed out is checked
//! to be UTF-8, like prost does when it decodes the owned types, and the usual protobuf rules
//! hold: unknown fields are skipped, a scalar field that occurs twice keeps its last value, a
//! repeated field keeps every occurrence in order, an embedded message that occurs twice
//! (`Entry.header`) is merged. A known field with the wrong wire type is an error, as in prost.
//!
//! ```no_run
//! # async fn demo(client: &mut canal_client::CanalClient) -> Result<(), canal_client::ClientError> {
//! use canal_client::view::EntryView;
//! use canal_protocol::entry::EntryType;
//! let batch = client.get_raw(1000, None).await?;
//! for bytes in &batch.entries {
//!     let entry = EntryView::parse(bytes)?;
//!     if entry.entry_type() != EntryType::Rowdata {
//!         continue;
//!     }
//!     let rc = entry.row_change()?;
//!     for row in rc.row_datas() {
//!         for col in row?.after_columns() {
//!             let col = col?;
//!             println!("{} = {:?}", col.name(), (!col.is_null()).then(|| col.value()));
//!         }
//!     }
//! }
//! client.ack(batch.id).await?;
//! # Ok(()) }
//! ```

use canal_protocol::entry::{EntryType, EventType, Type};

/// Why a view could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// A varint longer than 10 bytes or cut short.
    #[error("invalid varint")]
    Varint,
    /// A field key with tag 0 or an unknown wire type.
    #[error("invalid field key")]
    Key,
    /// A length-delimited field or fixed-size value running past the end of its message.
    #[error("buffer underflow")]
    Truncated,
    /// A group end without its start (or nested too deeply).
    #[error("unexpected end group tag")]
    Group,
    /// A known field arriving with another wire type.
    #[error("invalid wire type for field {0}")]
    WireType(u32),
    /// A string field that is not UTF-8.
    #[error("invalid string value: data is not UTF-8 encoded")]
    Utf8,
}

#[inline]
fn varint(buf: &mut &[u8]) -> Result<u64, ViewError> {
    let b = *buf;
    match b.first() {
        Some(&x) if x < 0x80 => {
            *buf = &b[1..];
            return Ok(u64::from(x));
        }
        None => return Err(ViewError::Varint),
        _ => {}
    }
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(10).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            if i == 9 && byte > 1 {
                return Err(ViewError::Varint);
            }
            *buf = &b[i + 1..];
            return Ok(v);
        }
    }
    Err(ViewError::Varint)
}

/// A field's payload.
#[derive(Clone, Copy)]
enum Val<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// fixed32 / fixed64 (unused by Canal's schema, skipped).
    Fixed,
}

/// Iterates the fields of one message.
#[derive(Clone)]
struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ViewError> {
        if self.buf.len() < n {
            return Err(ViewError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    #[inline(always)]
    fn next_field(&mut self) -> Option<Result<(u32, Val<'a>), ViewError>> {
        if self.buf.is_empty() {
            return None;
        }
        Some(self.read_field())
    }

    #[inline(always)]
    fn read_field(&mut self) -> Result<(u32, Val<'a>), ViewError> {
        // One-byte keys (tags 1..=15) are all Canal's schema uses.
        if let Some(&k) = self.buf.first() {
            if (8..0x80).contains(&k) {
                self.buf = &self.buf[1..];
                let tag = u32::from(k >> 3);
                match k & 7 {
                    0 => return Ok((tag, Val::Varint(varint(&mut self.buf)?))),
                    2 => {
                        let len = varint(&mut self.buf)?;
                        let len = usize::try_from(len).map_err(|_| ViewError::Truncated)?;
                        return Ok((tag, Val::Bytes(self.take(len)?)));
                    }
                    _ => return self.read_value(u64::from(k), tag),
                }
            }
        }
        let key = varint(&mut self.buf)?;
        let tag = u32::try_from(key >> 3).map_err(|_| ViewError::Key)?;
        if tag == 0 {
            return Err(ViewError::Key);
        }
        self.read_value(key, tag)
    }

    fn read_value(&mut self, key: u64, tag: u32) -> Result<(u32, Val<'a>), ViewError> {
        let val = match key & 7 {
            0 => Val::Varint(varint(&mut self.buf)?),
            1 => {
                self.take(8)?;
                Val::Fixed
            }
            2 => {
                let len = varint(&mut self.buf)?;
                let len = usize::try_from(len).map_err(|_| ViewError::Truncated)?;
                Val::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Val::Fixed
            }
            3 => {
                self.skip_group(tag, 0)?;
                Val::Fixed
            }
            4 => return Err(ViewError::Group),
            _ => return Err(ViewError::Key),
        };
        Ok((tag, val))
    }

    /// Skips a (deprecated) group up to its end marker, as protobuf decoders do for unknown
    /// fields; nesting is limited like prost's recursion limit.
    fn skip_group(&mut self, tag: u32, depth: u32) -> Result<(), ViewError> {
        if depth >= 100 {
            return Err(ViewError::Group);
        }
        loop {
            let key = varint(&mut self.buf)?;
            let inner = u32::try_from(key >> 3).map_err(|_| ViewError::Key)?;
            if inner == 0 {
                return Err(ViewError::Key);
            }
            match key & 7 {
                0 => {
                    varint(&mut self.buf)?;
                }
                1 => {
                    self.take(8)?;
                }
                2 => {
                    let len = varint(&mut self.buf)?;
                    self.take(usize::try_from(len).map_err(|_| ViewError::Truncated)?)?;
                }
                3 => self.skip_group(inner, depth + 1)?,
                4 if inner == tag => return Ok(()),
                4 => return Err(ViewError::Group),
                5 => {
                    self.take(4)?;
                }
                _ => return Err(ViewError::Key),
            }
        }
    }
}

#[inline]
fn int(tag: u32, v: Val<'_>) -> Result<u64, ViewError> {
    match v {
        Val::Varint(x) => Ok(x),
        _ => Err(ViewError::WireType(tag)),
    }
}

#[inline]
fn bytes(tag: u32, v: Val<'_>) -> Result<&[u8], ViewError> {
    match v {
        Val::Bytes(b) => Ok(b),
        _ => Err(ViewError::WireType(tag)),
    }
}

#[inline]
fn string(tag: u32, v: Val<'_>) -> Result<&str, ViewError> {
    utf8(bytes(tag, v)?)
}

/// Whether every byte is ASCII, a word at a time (also for the short tails that
/// `<[u8]>::is_ascii` walks byte by byte).
#[inline]
fn is_ascii(b: &[u8]) -> bool {
    const HI8: u64 = 0x8080_8080_8080_8080;
    let n = b.len();
    let word = |i: usize| b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok());
    if n >= 8 {
        let mut acc = 0u64;
        let mut i = 0;
        while i + 8 <= n {
            match word(i) {
                Some(w) => acc |= u64::from_le_bytes(w),
                None => return false,
            }
            i += 8;
        }
        match word(n - 8) {
            Some(w) => acc |= u64::from_le_bytes(w),
            None => return false,
        }
        acc & HI8 == 0
    } else if n >= 4 {
        let half = |i: usize| {
            b.get(i..i + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map_or(0x80, u32::from_le_bytes)
        };
        (half(0) | half(n - 4)) & 0x8080_8080 == 0
    } else {
        b.iter().fold(0u8, |a, &c| a | c) < 0x80
    }
}

/// UTF-8 check with a fast path for the short ASCII strings most column values, names and
/// types are.
#[inline]
fn utf8(b: &[u8]) -> Result<&str, ViewError> {
    if b.len() <= 64 && is_ascii(b) {
        // SAFETY: every byte is below 0x80, i.e. ASCII, and ASCII text is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(b) });
    }
    std::str::from_utf8(b).map_err(|_| ViewError::Utf8)
}

/// `Pair` (key/value props).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairView<'a> {
    /// `key` (None when absent).
    pub key: Option<&'a str>,
    /// `value` (None when absent).
    pub value: Option<&'a str>,
}

impl<'a> PairView<'a> {
    /// Reads one `Pair` message.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ViewError> {
        let mut p = PairView::default();
        let mut f = Fields::new(buf);
        while let Some(r) = f.next_field() {
            match r? {
                (1, v) => p.key = Some(string(1, v)?),
                (2, v) => p.value = Some(string(2, v)?),
                _ => {}
            }
        }
        Ok(p)
    }

    /// The key, `""` when absent.
    pub fn key(&self) -> &'a str {
        self.key.unwrap_or("")
    }

    /// The value, `""` when absent.
    pub fn value(&self) -> &'a str {
        self.value.unwrap_or("")
    }
}

/// The `Pair`s of repeated field `field` of a message (already checked when the message was
/// parsed).
#[derive(Clone)]
pub struct Pairs<'a> {
    fields: Fields<'a>,
    field: u32,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = PairView<'a>;
    fn next(&mut self) -> Option<PairView<'a>> {
        while let Some(Ok((tag, v))) = self.fields.next_field() {
            if tag == self.field {
                if let Val::Bytes(b) = v {
                    return PairView::parse(b).ok();
                }
            }
        }
        None
    }
}

/// `Entry`: header, entry type and the undecoded `storeValue`.
#[derive(Debug, Clone, Default)]
pub struct EntryView<'a> {
    header: Option<HeaderView<'a>>,
    /// `entryType` as sent (None when absent: reads as ROWDATA).
    pub entry_type: Option<i32>,
    /// `storeValue` (a serialized RowChange, TransactionBegin or TransactionEnd).
    pub store_value: Option<&'a [u8]>,
}

impl<'a> EntryView<'a> {
    /// Reads an entry's envelope: header fields are decoded, `storeValue` is only sliced.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ViewError> {
        let mut e = EntryView::default();
        let mut f = Fields::new(buf);
        while let Some(r) = f.next_field() {
            match r? {
                (1, v) => {
                    let b = bytes(1, v)?;
                    let h = e.header.get_or_insert_with(HeaderView::default);
                    h.merge(b)?;
                }
                (2, v) => e.entry_type = Some(int(2, v)? as i32),
                (3, v) => e.store_value = Some(bytes(3, v)?),
                _ => {}
            }
        }
        Ok(e)
    }

    /// Entry type (proto2 default ROWDATA when absent or unknown, like prost's getter).
    pub fn entry_type(&self) -> EntryType {
        self.entry_type
            .and_then(|v| EntryType::try_from(v).ok())
            .unwrap_or(EntryType::Rowdata)
    }

    /// The header, if the entry has one.
    pub fn header(&self) -> Option<&HeaderView<'a>> {
        self.header.as_ref()
    }

    /// `storeValue`, empty when absent.
    pub fn store_value(&self) -> &'a [u8] {
        self.store_value.unwrap_or_default()
    }

    /// Reads `storeValue` as a RowChange (meaningful for ROWDATA entries).
    pub fn row_change(&self) -> Result<RowChangeView<'a>, ViewError> {
        RowChangeView::parse(self.store_value())
    }
}

/// `Header`. Scalar fields are decoded; `props` are read on demand.
#[derive(Debug, Clone, Default)]
pub struct HeaderView<'a> {
    /// `version`.
    pub version: Option<i32>,
    /// `logfileName`.
    pub logfile_name: Option<&'a str>,
    /// `logfileOffset`.
    pub logfile_offset: Option<i64>,
    /// `serverId`.
    pub server_id: Option<i64>,
    /// `serverenCode`.
    pub serveren_code: Option<&'a str>,
    /// `executeTime`.
    pub execute_time: Option<i64>,
    /// `sourceType`.
    pub source_type: Option<i32>,
    /// `schemaName`.
    pub schema_name: Option<&'a str>,
    /// `tableName`.
    pub table_name: Option<&'a str>,
    /// `eventLength`.
    pub event_length: Option<i64>,
    /// `eventType`.
    pub event_type: Option<i32>,
    /// `gtid`.
    pub gtid: Option<&'a str>,
    /// Raw header messages (more than one only if the header field occurred several times).
    raw: Vec<&'a [u8]>,
}

impl<'a> HeaderView<'a> {
    fn merge(&mut self, buf: &'a [u8]) -> Result<(), ViewError> {
        let mut f = Fields::new(buf);
        while let Some(r) = f.next_field() {
            match r? {
                (1, v) => self.version = Some(int(1, v)? as i32),
                (2, v) => self.logfile_name = Some(string(2, v)?),
                (3, v) => self.logfile_offset = Some(int(3, v)? as i64),
                (4, v) => self.server_id = Some(int(4, v)? as i64),
                (5, v) => self.serveren_code = Some(string(5, v)?),
                (6, v) => self.execute_time = Some(int(6, v)? as i64),
                (7, v) => self.source_type = Some(int(7, v)? as i32),
                (8, v) => self.schema_name = Some(string(8, v)?),
                (9, v) => self.table_name = Some(string(9, v)?),
                (10, v) => self.event_length = Some(int(10, v)? as i64),
                (11, v) => self.event_type = Some(int(11, v)? as i32),
                (12, v) => {
                    PairView::parse(bytes(12, v)?)?;
                }
                (13, v) => self.gtid = Some(string(13, v)?),
                _ => {}
            }
        }
        self.raw.push(buf);
        Ok(())
    }

    /// `logfileName`, `""` when absent.
    pub fn logfile_name(&self) -> &'a str {
        self.logfile_name.unwrap_or("")
    }

    /// `logfileOffset`, 0 when absent.
    pub fn logfile_offset(&self) -> i64 {
        self.logfile_offset.unwrap_or(0)
    }

    /// `executeTime`, 0 when absent.
    pub fn execute_time(&self) -> i64 {
        self.execute_time.unwrap_or(0)
    }

    /// `schemaName`, `""` when absent.
    pub fn schema_name(&self) -> &'a str {
        self.schema_name.unwrap_or("")
    }

    /// `tableName`, `""` when absent.
    pub fn table_name(&self) -> &'a str {
        self.table_name.unwrap_or("")
    }

    /// `gtid`, `""` when absent.
    pub fn gtid(&self) -> &'a str {
        self.gtid.unwrap_or("")
    }

    /// `sourceType` (proto2 default MYSQL).
    pub fn source_type(&self) -> Type {
        self.source_type
            .and_then(|v| Type::try_from(v).ok())
            .unwrap_or(Type::Mysql)
    }

    /// `eventType` (proto2 default UPDATE when absent or unknown).
    pub fn event_type(&self) -> EventType {
        self.event_type
            .and_then(|v| EventType::try_from(v).ok())
            .unwrap_or(EventType::Update)
    }

    /// `props`, in order.
    pub fn props(&self) -> impl Iterator<Item = PairView<'a>> + '_ {
        self.raw.iter().flat_map(|b| Pairs {
            fields: Fields::new(b),
            field: 12,
        })
    }
}

/// `RowChange`: scalar fields decoded, rows read on demand.
#[derive(Debug, Clone, Default)]
pub struct RowChangeView<'a> {
    /// `tableId`.
    pub table_id: Option<i64>,
    /// `eventType`.
    pub event_type: Option<i32>,
    /// `isDdl`.
    pub is_ddl: Option<bool>,
    /// `sql`.
    pub sql: Option<&'a str>,
    /// `ddlSchemaName`.
    pub ddl_schema_name: Option<&'a str>,
    raw: &'a [u8],
}

impl<'a> RowChangeView<'a> {
    /// Reads a RowChange's scalar fields and checks its structure; rows are decoded when
    /// iterated.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ViewError> {
        let mut rc = RowChangeView {
            raw: buf,
            ..Default::default()
        };
        let mut f = Fields::new(buf);
        while let Some(r) = f.next_field() {
            match r? {
                (1, v) => rc.table_id = Some(int(1, v)? as i64),
                (2, v) => rc.event_type = Some(int(2, v)? as i32),
                (10, v) => rc.is_ddl = Some(int(10, v)? != 0),
                (11, v) => rc.sql = Some(string(11, v)?),
                (12, v) => {
                    bytes(12, v)?;
                }
                (13, v) => {
                    PairView::parse(bytes(13, v)?)?;
                }
                (14, v) => rc.ddl_schema_name = Some(string(14, v)?),
                _ => {}
            }
        }
        Ok(rc)
    }

    /// `isDdl` (default false).
    pub fn is_ddl(&self) -> bool {
        self.is_ddl.unwrap_or(false)
    }

    /// `sql`, `""` when absent.
    pub fn sql(&self) -> &'a str {
        self.sql.unwrap_or("")
    }

    /// `eventType` (proto2 default UPDATE when absent or unknown).
    pub fn event_type(&self) -> EventType {
        self.event_type
            .and_then(|v| EventType::try_from(v).ok())
            .unwrap_or(EventType::Update)
    }

    /// The rows, in order.
    pub fn row_datas(&self) -> RowDatas<'a> {
        RowDatas {
            fields: Fields::new(self.raw),
        }
    }

    /// `props`, in order.
    pub fn props(&self) -> Pairs<'a> {
        Pairs {
            fields: Fields::new(self.raw),
            field: 13,
        }
    }
}

/// Iterator over the `rowDatas` of a RowChange.
#[derive(Clone)]
pub struct RowDatas<'a> {
    fields: Fields<'a>,
}

impl<'a> Iterator for RowDatas<'a> {
    type Item = Result<RowDataView<'a>, ViewError>;
    fn next(&mut self) -> Option<Self::Item> {
        while let Some(r) = self.fields.next_field() {
            match r {
                Ok((12, Val::Bytes(b))) => return Some(Ok(RowDataView { raw: b })),
                Ok(_) => {}
                Err(e) => {
                    self.fields.buf = &[];
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// `RowData`: before/after columns and props, read on demand.
#[derive(Debug, Clone, Copy)]
pub struct RowDataView<'a> {
    raw: &'a [u8],
}

impl<'a> RowDataView<'a> {
    /// `beforeColumns`, in order.
    pub fn before_columns(&self) -> Columns<'a> {
        Columns {
            fields: Fields::new(self.raw),
            field: 1,
        }
    }

    /// `afterColumns`, in order.
    pub fn after_columns(&self) -> Columns<'a> {
        Columns {
            fields: Fields::new(self.raw),
            field: 2,
        }
    }

    /// `props`, in order (an undecodable pair ends the iteration; use
    /// [`RowDataView::check`] to see such errors).
    pub fn props(&self) -> Pairs<'a> {
        Pairs {
            fields: Fields::new(self.raw),
            field: 3,
        }
    }

    /// Checks the row's structure and props (the column iterators check columns themselves).
    pub fn check(&self) -> Result<(), ViewError> {
        let mut f = Fields::new(self.raw);
        while let Some(r) = f.next_field() {
            match r? {
                (t @ (1 | 2), v) => {
                    bytes(t, v)?;
                }
                (3, v) => {
                    PairView::parse(bytes(3, v)?)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Iterator over one column list of a RowData.
#[derive(Clone)]
pub struct Columns<'a> {
    fields: Fields<'a>,
    field: u32,
}

impl<'a> Iterator for Columns<'a> {
    type Item = Result<ColumnView<'a>, ViewError>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        while let Some(r) = self.fields.next_field() {
            let r = match r {
                Ok((t, Val::Bytes(b))) if t == self.field => ColumnView::parse(b),
                Ok((t @ 1..=3, Val::Varint(_) | Val::Fixed)) => Err(ViewError::WireType(t)),
                Ok(_) => continue,
                Err(e) => Err(e),
            };
            if r.is_err() {
                self.fields.buf = &[];
            }
            return Some(r);
        }
        None
    }
}

/// `Column`, fully decoded except its props.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnView<'a> {
    /// `index`.
    pub index: Option<i32>,
    /// `sqlType` (java.sql.Types).
    pub sql_type: Option<i32>,
    /// `name`.
    pub name: Option<&'a str>,
    /// `isKey`.
    pub is_key: Option<bool>,
    /// `updated`.
    pub updated: Option<bool>,
    /// `isNull`.
    pub is_null: Option<bool>,
    /// `value` (Canal's text form).
    pub value: Option<&'a str>,
    /// `length`.
    pub length: Option<i32>,
    /// `mysqlType`.
    pub mysql_type: Option<&'a str>,
    raw: &'a [u8],
}

impl<'a> ColumnView<'a> {
    /// Reads one `Column` message.
    #[inline]
    pub fn parse(buf: &'a [u8]) -> Result<Self, ViewError> {
        let mut c = ColumnView {
            raw: buf,
            ..Default::default()
        };
        let mut f = Fields::new(buf);
        while let Some(&key) = f.buf.first() {
            // Fast path: the one-byte key of each field with its own wire type (what every
            // encoder writes) is dispatched directly; anything else takes the generic path.
            let rest = f.buf.get(1..).unwrap_or_default();
            match key {
                0x08 | 0x10 | 0x20 | 0x28 | 0x30 | 0x48 => {
                    f.buf = rest;
                    let v = varint(&mut f.buf)?;
                    match key {
                        0x08 => c.index = Some(v as i32),
                        0x10 => c.sql_type = Some(v as i32),
                        0x20 => c.is_key = Some(v != 0),
                        0x28 => c.updated = Some(v != 0),
                        0x30 => c.is_null = Some(v != 0),
                        _ => c.length = Some(v as i32),
                    }
                }
                0x1a | 0x42 | 0x52 => {
                    f.buf = rest;
                    let len = varint(&mut f.buf)?;
                    let b = f.take(usize::try_from(len).map_err(|_| ViewError::Truncated)?)?;
                    let text = Some(utf8(b)?);
                    match key {
                        0x1a => c.name = text,
                        0x42 => c.value = text,
                        _ => c.mysql_type = text,
                    }
                }
                _ => match f.read_field()? {
                    (1, v) => c.index = Some(int(1, v)? as i32),
                    (2, v) => c.sql_type = Some(int(2, v)? as i32),
                    (3, v) => c.name = Some(string(3, v)?),
                    (4, v) => c.is_key = Some(int(4, v)? != 0),
                    (5, v) => c.updated = Some(int(5, v)? != 0),
                    (6, v) => c.is_null = Some(int(6, v)? != 0),
                    (7, v) => {
                        PairView::parse(bytes(7, v)?)?;
                    }
                    (8, v) => c.value = Some(string(8, v)?),
                    (9, v) => c.length = Some(int(9, v)? as i32),
                    (10, v) => c.mysql_type = Some(string(10, v)?),
                    _ => {}
                },
            }
        }
        Ok(c)
    }

    /// `name`, `""` when absent.
    pub fn name(&self) -> &'a str {
        self.name.unwrap_or("")
    }

    /// `value`, `""` when absent (check [`ColumnView::is_null`] for SQL NULL).
    pub fn value(&self) -> &'a str {
        self.value.unwrap_or("")
    }

    /// `mysqlType`, `""` when absent.
    pub fn mysql_type(&self) -> &'a str {
        self.mysql_type.unwrap_or("")
    }

    /// `isNull` (default false).
    pub fn is_null(&self) -> bool {
        self.is_null.unwrap_or(false)
    }

    /// `isKey` (default false).
    pub fn is_key(&self) -> bool {
        self.is_key.unwrap_or(false)
    }

    /// `updated` (default false).
    pub fn updated(&self) -> bool {
        self.updated.unwrap_or(false)
    }

    /// `props`, in order.
    pub fn props(&self) -> Pairs<'a> {
        Pairs {
            fields: Fields::new(self.raw),
            field: 7,
        }
    }
}

#[cfg(test)]
mod tests;
