//! [`EventDecoder`]: turns one complete raw event (header + body + optional CRC32) into an
//! [`Event`]. It keeps the state a binlog stream needs: the FORMAT_DESCRIPTION in force
//! (post-header lengths, checksum algorithm, MySQL vs MariaDB) and the TABLE_MAP cache.
#![warn(missing_docs)]

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::event::*;
use crate::read::{Cursor, Short};

/// Size of the v4 common header.
pub const HEADER_LEN: usize = 19;
/// Size of the CRC32 trailer.
pub const CHECKSUM_LEN: usize = 4;
/// FORMAT_DESCRIPTION flag set while the file is open; servers clear it without re-checksumming.
const LOG_EVENT_BINLOG_IN_USE_F: u16 = 0x1;
/// Default limit for decompressed TRANSACTION_PAYLOAD / MariaDB compressed event bodies.
pub const DEFAULT_MAX_UNCOMPRESSED: usize = 1 << 30;

/// Server family, from the FORMAT_DESCRIPTION's server version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// MySQL / Percona (and anything not saying MariaDB).
    #[default]
    MySql,
    /// MariaDB.
    MariaDb,
}

/// Hasher for table ids (small integers chosen by the server, not by an attacker who could
/// profit from collisions; the map is also bounded): one multiply instead of SipHash.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ self.0)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

type TableCache = HashMap<u64, CachedTable, std::hash::BuildHasherDefault<IdHasher>>;

#[derive(Debug)]
struct CachedTable {
    raw: Vec<u8>,
    map: Arc<TableMap>,
}

/// Stateful decoder for one binlog stream (file or replication connection).
#[derive(Debug)]
pub struct EventDecoder {
    fde: FormatDescription,
    checksum: bool,
    verify_checksum: bool,
    flavor: Flavor,
    tables: TableCache,
    warned: HashSet<u8>,
    max_uncompressed: usize,
}

impl Default for EventDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn short(offset: u64, what: &'static str) -> impl Fn(Short) -> DecodeError {
    move |s| DecodeError::truncated(offset, what, s.need, s.have)
}

/// Parses the common header of `raw` (at least 19 bytes).
#[inline]
pub fn parse_header(raw: &[u8]) -> Option<EventHeader> {
    let h = raw.get(..HEADER_LEN)?;
    let u32at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    Some(EventHeader {
        timestamp: u32at(0),
        event_type: h[4],
        server_id: u32at(5),
        event_size: u32at(9),
        log_pos: u32at(13),
        flags: u16::from_le_bytes([h[17], h[18]]),
    })
}

/// Parses `"10.11.5-MariaDB-log"` → (10, 11, 5).
pub fn parse_server_version(v: &str) -> (u32, u32, u32) {
    let mut it = v
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

fn default_post_header_len(t: u8) -> usize {
    use types::*;
    match t {
        QUERY | MARIA_QUERY_COMPRESSED => 13,
        ROTATE => 8,
        TABLE_MAP => 8,
        WRITE_ROWS_V0..=DELETE_ROWS_V1
        | MARIA_WRITE_ROWS_COMPRESSED_V1..=MARIA_DELETE_ROWS_COMPRESSED_V1 => 8,
        WRITE_ROWS_V2..=DELETE_ROWS_V2 | PARTIAL_UPDATE_ROWS => 10,
        MARIA_WRITE_ROWS_COMPRESSED..=MARIA_DELETE_ROWS_COMPRESSED => 10,
        EXECUTE_LOAD_QUERY => 26,
        _ => 0,
    }
}

impl EventDecoder {
    /// A decoder expecting a FORMAT_DESCRIPTION first; until one arrives it assumes binlog v4
    /// without checksums (use [`EventDecoder::set_checksum`] for a replication stream whose
    /// first, artificial ROTATE already carries a CRC).
    pub fn new() -> Self {
        Self {
            fde: FormatDescription {
                binlog_version: 4,
                server_version: String::new(),
                create_timestamp: 0,
                header_len: HEADER_LEN as u8,
                post_header_lens: Vec::new(),
                checksum_alg: None,
            },
            checksum: false,
            verify_checksum: true,
            flavor: Flavor::MySql,
            tables: TableCache::default(),
            warned: HashSet::new(),
            max_uncompressed: DEFAULT_MAX_UNCOMPRESSED,
        }
    }

    /// Declares whether events carry a CRC32 trailer (until the next FORMAT_DESCRIPTION).
    pub fn set_checksum(&mut self, crc32: bool) {
        self.checksum = crc32;
    }

    /// Enables/disables CRC32 verification (the trailer is still stripped). Default: on.
    pub fn set_verify_checksum(&mut self, verify: bool) {
        self.verify_checksum = verify;
    }

    /// Limits the size of decompressed payloads (default [`DEFAULT_MAX_UNCOMPRESSED`]).
    pub fn set_max_uncompressed(&mut self, bytes: usize) {
        self.max_uncompressed = bytes;
    }

    /// True when events currently carry a CRC32 trailer.
    pub fn checksum_enabled(&self) -> bool {
        self.checksum
    }

    /// The FORMAT_DESCRIPTION in force.
    pub fn format(&self) -> &FormatDescription {
        &self.fde
    }

    /// MySQL or MariaDB (from the last FORMAT_DESCRIPTION).
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The TABLE_MAP cached for `table_id`.
    pub fn table(&self, table_id: u64) -> Option<&Arc<TableMap>> {
        self.tables.get(&table_id).map(|c| &c.map)
    }

    /// Forgets all TABLE_MAPs.
    pub fn clear_tables(&mut self) {
        self.tables.clear();
    }

    fn post_header_len(&self, t: u8) -> usize {
        self.fde
            .post_header_lens
            .get((t as usize).wrapping_sub(1))
            .map(|&l| l as usize)
            .unwrap_or_else(|| default_post_header_len(t))
    }

    /// Decodes one complete event (common header, body and — when the FORMAT_DESCRIPTION in
    /// force says so — the CRC32 trailer, which is verified). `offset` is where the event
    /// starts in its binlog file; it is only used for positions and error messages.
    ///
    /// Hot loops should borrow the event from the returned `Result` (`let r = dec.decode(o,
    /// raw);` then `match &r { Ok(ev) => .., Err(e) => .. }`) rather than move it out with
    /// `?`: an [`Event`] is about 190 bytes and that move is a measurable share of the
    /// per-event cost on streams of small events (`examples/rowspeed.rs` measures both).
    #[inline]
    pub fn decode<'a>(&mut self, offset: u64, raw: &'a [u8]) -> Result<Event<'a>, DecodeError> {
        self.decode_with(offset, raw, self.checksum)
    }

    /// Decodes one event that never has a checksum trailer (events inside a
    /// TRANSACTION_PAYLOAD).
    pub fn decode_without_checksum<'a>(
        &mut self,
        offset: u64,
        raw: &'a [u8],
    ) -> Result<Event<'a>, DecodeError> {
        self.decode_with(offset, raw, false)
    }

    /// Iterates and decodes the inner events of a TRANSACTION_PAYLOAD; each gets `offset`
    /// (the payload event's offset) as its position.
    pub fn payload_events<'d, 'p>(
        &'d mut self,
        offset: u64,
        payload: &'p TransactionPayload,
    ) -> PayloadEvents<'d, 'p> {
        PayloadEvents {
            decoder: self,
            offset,
            rest: &payload.uncompressed,
            failed: false,
        }
    }

    /// Frames one event and decodes its body. The frequent types (rows, TABLE_MAP, ANNOTATE_ROWS,
    /// XID) are decoded here, each arm building the whole `Event` in the returned `Result`:
    /// `Event` is large, and building a body first and wrapping it afterwards cost a memcpy per
    /// event. Rare types and every error go through out-of-line functions, which keeps this one
    /// small enough to be inlined into a caller with a single decode site.
    #[inline]
    fn decode_with<'a>(
        &mut self,
        offset: u64,
        raw: &'a [u8],
        checksum: bool,
    ) -> Result<Event<'a>, DecodeError> {
        let header = match parse_header(raw) {
            Some(h)
                if h.event_size as usize == raw.len()
                    && h.event_type != types::FORMAT_DESCRIPTION =>
            {
                h
            }
            _ => return self.decode_unusual(offset, raw),
        };
        let t = header.event_type;
        let Some(body) = self.event_body(raw, checksum) else {
            return Err(self.body_error(offset, raw, checksum).with_type(t));
        };
        // Each arm builds the whole `Event`, so that it is written straight into the returned
        // `Result` (an `EventBody` built first and wrapped afterwards is copied with memcpy).
        match t {
            types::WRITE_ROWS_V1..=types::DELETE_ROWS_V1
            | types::WRITE_ROWS_V2..=types::DELETE_ROWS_V2
            | types::PARTIAL_UPDATE_ROWS => match self.parse_rows(offset, t, body) {
                Ok(r) => Ok(Event {
                    header,
                    offset,
                    body: EventBody::Rows(r),
                }),
                Err(e) => Err(e.with_type(t)),
            },
            types::TABLE_MAP => match self.parse_table_map(offset, body) {
                Ok(m) => Ok(Event {
                    header,
                    offset,
                    body: EventBody::TableMap(m),
                }),
                Err(e) => Err(e.with_type(t)),
            },
            types::MARIA_ANNOTATE_ROWS => Ok(Event {
                header,
                offset,
                body: EventBody::RowsQuery { sql: body },
            }),
            types::XID if body.len() >= 8 => Ok(Event {
                header,
                offset,
                body: EventBody::Xid {
                    xid: crate::read::le_uint(&body[..8]),
                },
            }),
            // The header is parsed again there: handing it over would keep it in memory here.
            _ => self.decode_other(offset, raw, body),
        }
    }

    /// Events `decode_with` does not frame itself: FORMAT_DESCRIPTION, short headers and size
    /// mismatches (errors).
    #[cold]
    #[inline(never)]
    fn decode_unusual<'a>(&mut self, offset: u64, raw: &'a [u8]) -> Result<Event<'a>, DecodeError> {
        let header = parse_header(raw)
            .ok_or_else(|| DecodeError::truncated(offset, "event header", HEADER_LEN, raw.len()))?;
        let t = header.event_type;
        if header.event_size as usize != raw.len() {
            return Err(DecodeError::invalid(
                offset,
                format!(
                    "event: size field says {} bytes, got {}",
                    header.event_size,
                    raw.len()
                ),
            )
            .with_type(t));
        }
        let fde = self.parse_fde(offset, raw).map_err(|e| e.with_type(t))?;
        Ok(Event {
            header,
            offset,
            body: EventBody::FormatDescription(fde),
        })
    }

    /// The body of `raw` (after the common header, before the checksum), verifying the CRC32
    /// when `checksum` is set and verification is on; `None` when something is wrong (then
    /// [`EventDecoder::body_error`] says what). Returns in registers, unlike a `Result`.
    #[inline]
    fn event_body<'a>(&self, raw: &'a [u8], checksum: bool) -> Option<&'a [u8]> {
        let hl = (self.fde.header_len as usize).max(HEADER_LEN);
        if !checksum {
            return raw.get(hl..);
        }
        let end = raw.len().checked_sub(CHECKSUM_LEN)?;
        let body = raw.get(hl..end)?;
        if self.verify_checksum {
            let (data, stored) = raw.split_at(end);
            if crc32fast::hash(data).to_le_bytes() != *stored {
                return None;
            }
        }
        Some(body)
    }

    /// Why [`EventDecoder::event_body`] returned `None`.
    #[cold]
    #[inline(never)]
    fn body_error(&self, offset: u64, raw: &[u8], checksum: bool) -> DecodeError {
        let hl = (self.fde.header_len as usize).max(HEADER_LEN);
        if checksum {
            if raw.len() < hl + CHECKSUM_LEN {
                return DecodeError::truncated(
                    offset,
                    "event with checksum",
                    hl + CHECKSUM_LEN,
                    raw.len(),
                );
            }
            if self.verify_checksum {
                if let Err(e) = verify_crc(offset, raw, raw.len() - CHECKSUM_LEN) {
                    return e;
                }
            }
        }
        DecodeError::truncated(offset, "event header", hl, raw.len())
    }

    /// Every other event type (and XID errors), out of line.
    #[inline(never)]
    fn decode_other<'a>(
        &mut self,
        offset: u64,
        raw: &'a [u8],
        body: &'a [u8],
    ) -> Result<Event<'a>, DecodeError> {
        let header = parse_header(raw).unwrap_or_default();
        let t = header.event_type;
        let mut r = match t {
            types::QUERY => self.parse_query(offset, t, body).map(|q| Event {
                header,
                offset,
                body: EventBody::Query(q),
            }),
            _ => self.decode_body(offset, &header, body).map(|body| Event {
                header,
                offset,
                body,
            }),
        };
        if let Err(e) = &mut r {
            e.event_type = Some(t);
        }
        r
    }

    fn parse_fde(&mut self, offset: u64, raw: &[u8]) -> Result<FormatDescription, DecodeError> {
        let mut c = Cursor::new(raw.get(HEADER_LEN..).unwrap_or(&[]));
        let sh = short(offset, "FORMAT_DESCRIPTION");
        let binlog_version = c.u16().map_err(&sh)?;
        let ver = c.take(50).map_err(&sh)?;
        let ver_end = ver.iter().position(|&b| b == 0).unwrap_or(ver.len());
        let server_version = String::from_utf8_lossy(&ver[..ver_end]).into_owned();
        let create_timestamp = c.u32().map_err(&sh)?;
        let header_len = c.u8().map_err(&sh)?;
        if (header_len as usize) < HEADER_LEN {
            return Err(DecodeError::invalid(
                offset,
                format!("FORMAT_DESCRIPTION: header length {header_len}"),
            ));
        }
        let rest = c.rest();
        let mariadb = server_version.contains("MariaDB");
        let v = parse_server_version(&server_version);
        let aware = if mariadb {
            v >= (5, 3, 0)
        } else {
            v >= (5, 6, 1)
        };
        let (post_header_lens, checksum_alg) = if aware && rest.len() >= 5 {
            let alg = rest[rest.len() - 5];
            (rest[..rest.len() - 5].to_vec(), Some(alg))
        } else {
            (rest.to_vec(), None)
        };
        if checksum_alg == Some(1) && self.verify_checksum {
            let end = raw.len() - CHECKSUM_LEN;
            if verify_crc(offset, raw, end).is_err() {
                // The server may have cleared LOG_EVENT_BINLOG_IN_USE_F after checksumming.
                let mut copy = raw[..end].to_vec();
                copy[17] ^= LOG_EVENT_BINLOG_IN_USE_F as u8;
                let stored =
                    u32::from_le_bytes([raw[end], raw[end + 1], raw[end + 2], raw[end + 3]]);
                if crc32fast::hash(&copy) != stored {
                    verify_crc(offset, raw, end)?;
                }
            }
        }
        let fde = FormatDescription {
            binlog_version,
            server_version,
            create_timestamp,
            header_len,
            post_header_lens,
            checksum_alg,
        };
        self.checksum = checksum_alg == Some(1);
        self.flavor = if mariadb {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        self.fde = fde.clone();
        Ok(fde)
    }

    fn warn_unknown(&mut self, t: u8) {
        if self.warned.insert(t) {
            tracing::warn!(event_type = t, "skipping unknown binlog event type");
        }
    }

    fn decode_body<'a>(
        &mut self,
        offset: u64,
        h: &EventHeader,
        body: &'a [u8],
    ) -> Result<EventBody<'a>, DecodeError> {
        use types::*;
        let t = h.event_type;
        let mut c = Cursor::new(body);
        let sh = move |s: Short| DecodeError::truncated(offset, event_type_name(t), s.need, s.have);
        Ok(match t {
            QUERY | MARIA_QUERY_COMPRESSED => EventBody::Query(self.parse_query(offset, t, body)?),
            ROTATE => {
                let ph = self.post_header_len(ROTATE);
                let position = if ph >= 8 { c.u64().map_err(&sh)? } else { 4 };
                c.skip(ph.saturating_sub(8)).map_err(&sh)?;
                let next_file = String::from_utf8_lossy(c.rest()).into_owned();
                self.tables.clear();
                EventBody::Rotate {
                    next_file,
                    position,
                }
            }
            XID => EventBody::Xid {
                xid: c.u64().map_err(&sh)?,
            },
            TABLE_MAP => EventBody::TableMap(self.parse_table_map(offset, body)?),
            // Pre-GA (MySQL 5.1.0-5.1.17) rows events: Canal ignores them and later 5.x/6.0
            // development trees reused the codes for other events, so they are not decoded.
            WRITE_ROWS_V0..=DELETE_ROWS_V0 => EventBody::Other { event_type: t },
            WRITE_ROWS_V1..=DELETE_ROWS_V1
            | WRITE_ROWS_V2..=DELETE_ROWS_V2
            | PARTIAL_UPDATE_ROWS
            | MARIA_WRITE_ROWS_COMPRESSED_V1..=MARIA_DELETE_ROWS_COMPRESSED => {
                EventBody::Rows(self.parse_rows(offset, t, body)?)
            }
            GTID | ANONYMOUS_GTID => {
                let flags = c.u8().map_err(&sh)?;
                let sid: [u8; 16] = c.take(16).map_err(&sh)?.try_into().unwrap_or([0; 16]);
                let gno = c.u64().map_err(&sh)? as i64;
                let (mut last_committed, mut sequence_number) = (None, None);
                if c.remaining() >= 17 && c.u8().map_err(&sh)? == 2 {
                    last_committed = Some(c.u64().map_err(&sh)? as i64);
                    sequence_number = Some(c.u64().map_err(&sh)? as i64);
                }
                EventBody::Gtid(MysqlGtid {
                    anonymous: t == ANONYMOUS_GTID,
                    flags,
                    sid,
                    gno,
                    tag: None,
                    last_committed,
                    sequence_number,
                })
            }
            GTID_TAGGED => EventBody::Gtid(
                parse_tagged_gtid(body).map_err(|m| DecodeError::invalid(offset, m))?,
            ),
            PREVIOUS_GTIDS => EventBody::PreviousGtids {
                sets: parse_previous_gtids(body).map_err(|m| DecodeError::invalid(offset, m))?,
            },
            ROWS_QUERY => {
                // One length byte (truncated at 255, ignored), then the full text.
                c.skip(1).map_err(&sh)?;
                EventBody::RowsQuery { sql: c.rest() }
            }
            MARIA_ANNOTATE_ROWS => EventBody::RowsQuery { sql: body },
            MARIA_GTID => {
                let seq_no = c.u64().map_err(&sh)?;
                let domain_id = c.u32().map_err(&sh)?;
                let flags = c.u8().map_err(&sh)?;
                let commit_id = if flags & 2 != 0 {
                    Some(c.u64().map_err(&sh)?)
                } else {
                    None
                };
                EventBody::MariaGtid(MariaGtid {
                    seq_no,
                    domain_id,
                    flags,
                    commit_id,
                    standalone: flags & 1 != 0,
                })
            }
            MARIA_GTID_LIST => {
                let n = (c.u32().map_err(&sh)? & 0x0fff_ffff) as usize;
                if n.saturating_mul(16) > c.remaining() {
                    return Err(DecodeError::truncated(
                        offset,
                        "GTID_LIST entries",
                        n.saturating_mul(16),
                        c.remaining(),
                    ));
                }
                let mut gtids = Vec::with_capacity(n);
                for _ in 0..n {
                    gtids.push((
                        c.u32().map_err(&sh)?,
                        c.u32().map_err(&sh)?,
                        c.u64().map_err(&sh)?,
                    ));
                }
                EventBody::MariaGtidList { gtids }
            }
            MARIA_BINLOG_CHECKPOINT => {
                let n = c.u32().map_err(&sh)? as usize;
                let f = c.take(n).map_err(&sh)?;
                EventBody::MariaBinlogCheckpoint {
                    file: String::from_utf8_lossy(f).into_owned(),
                }
            }
            XA_PREPARE => {
                let one_phase = c.u8().map_err(&sh)? != 0;
                let _format_id = c.u32().map_err(&sh)?;
                let g = c.u32().map_err(&sh)? as usize;
                let b = c.u32().map_err(&sh)? as usize;
                let xid = c.take(g.saturating_add(b)).map_err(&sh)?.to_vec();
                EventBody::XaPrepare { one_phase, xid }
            }
            TRANSACTION_PAYLOAD => EventBody::TransactionPayload(self.parse_payload(offset, body)?),
            HEARTBEAT => EventBody::Heartbeat {
                file: String::from_utf8_lossy(body).into_owned(),
            },
            HEARTBEAT_V2 => {
                let mut file = String::new();
                while !c.is_empty() {
                    let Ok(ft) = c.lenenc() else { break };
                    let Ok(v) = c.lenenc_bytes() else { break };
                    if ft == 1 {
                        file = String::from_utf8_lossy(v).into_owned();
                    }
                }
                EventBody::Heartbeat { file }
            }
            INTVAR => EventBody::Intvar {
                kind: c.u8().map_err(&sh)?,
                value: c.u64().map_err(&sh)?,
            },
            RAND => EventBody::Rand {
                seed1: c.u64().map_err(&sh)?,
                seed2: c.u64().map_err(&sh)?,
            },
            USER_VAR => EventBody::UserVariable(parse_user_var(body).map_err(&sh)?),
            STOP => EventBody::Stop,
            START_V3
            | 6..=12
            | BEGIN_LOAD_QUERY
            | EXECUTE_LOAD_QUERY
            | INCIDENT
            | IGNORABLE
            | TRANSACTION_CONTEXT
            | VIEW_CHANGE
            | MARIA_START_ENCRYPTION => EventBody::Other { event_type: t },
            _ => {
                self.warn_unknown(t);
                EventBody::Unknown { event_type: t }
            }
        })
    }

    #[inline]
    fn parse_query<'a>(
        &self,
        offset: u64,
        t: u8,
        body: &'a [u8],
    ) -> Result<QueryEvent<'a>, DecodeError> {
        let sh = short(offset, "QUERY");
        let mut c = Cursor::new(body);
        let ph = self.post_header_len(t);
        let thread_id = c.u32().map_err(&sh)?;
        let exec_time = c.u32().map_err(&sh)?;
        let db_len = c.u8().map_err(&sh)? as usize;
        let error_code = c.u16().map_err(&sh)?;
        let status_len = if ph >= 13 {
            c.u16().map_err(&sh)? as usize
        } else {
            0
        };
        c.skip(ph.saturating_sub(13)).map_err(&sh)?;
        let status_raw = c.take(status_len).map_err(&sh)?;
        let schema = c.take(db_len).map_err(&sh)?;
        c.skip(1).map_err(&sh)?;
        let rest = c.rest();
        let sql = if t == types::MARIA_QUERY_COMPRESSED {
            Cow::Owned(maria_uncompress(offset, rest, self.max_uncompressed)?)
        } else {
            Cow::Borrowed(rest)
        };
        Ok(QueryEvent {
            thread_id,
            exec_time,
            error_code,
            schema,
            sql,
            status: parse_status(status_raw),
        })
    }

    fn parse_table_map(&mut self, offset: u64, body: &[u8]) -> Result<Arc<TableMap>, DecodeError> {
        let ph = self.post_header_len(types::TABLE_MAP);
        let id_len = if ph == 6 { 4 } else { 6 };
        let table_id = crate::read::le_uint(body.get(..id_len).unwrap_or(&[]));
        if let Some(c) = self.tables.get(&table_id) {
            if c.raw == body {
                return Ok(c.map.clone());
            }
        }
        let map = Arc::new(crate::tablemap::parse_table_map(offset, body, id_len)?);
        if self.tables.len() > 100_000 {
            self.tables.clear();
        }
        self.tables.insert(
            table_id,
            CachedTable {
                raw: body.to_vec(),
                map: map.clone(),
            },
        );
        Ok(map)
    }

    #[inline]
    fn parse_rows<'a>(
        &self,
        offset: u64,
        t: u8,
        body: &'a [u8],
    ) -> Result<RowsEvent<'a>, DecodeError> {
        use types::*;
        let sh = short(offset, "rows event");
        let mut c = Cursor::new(body);
        let ph = self.post_header_len(t);
        let table_id = if ph == 6 {
            c.u32().map_err(&sh)? as u64
        } else {
            c.uint(6).map_err(&sh)?
        };
        let flags = c.u16().map_err(&sh)?;
        let v2 = matches!(t, WRITE_ROWS_V2..=DELETE_ROWS_V2 | PARTIAL_UPDATE_ROWS | MARIA_WRITE_ROWS_COMPRESSED..=MARIA_DELETE_ROWS_COMPRESSED);
        if v2 {
            let extra = c.u16().map_err(&sh)? as usize;
            c.skip(extra.saturating_sub(2)).map_err(&sh)?;
        }
        let kind = match t {
            WRITE_ROWS_V0
            | WRITE_ROWS_V1
            | WRITE_ROWS_V2
            | MARIA_WRITE_ROWS_COMPRESSED_V1
            | MARIA_WRITE_ROWS_COMPRESSED => RowsKind::Write,
            UPDATE_ROWS_V0
            | UPDATE_ROWS_V1
            | UPDATE_ROWS_V2
            | MARIA_UPDATE_ROWS_COMPRESSED_V1
            | MARIA_UPDATE_ROWS_COMPRESSED => RowsKind::Update,
            PARTIAL_UPDATE_ROWS => RowsKind::PartialUpdate,
            _ => RowsKind::Delete,
        };
        let ncols = c.lenenc().map_err(&sh)?;
        let column_count = usize::try_from(ncols)
            .ok()
            .filter(|&n| n <= 65536)
            .ok_or_else(|| {
                DecodeError::invalid(offset, format!("rows event: column count {ncols}"))
            })?;
        let bm = column_count.div_ceil(8);
        let present = Bitmap(c.take(bm).map_err(&sh)?);
        let present_after = if matches!(kind, RowsKind::Update | RowsKind::PartialUpdate) {
            Some(Bitmap(c.take(bm).map_err(&sh)?))
        } else {
            None
        };
        let rest = c.rest();
        let data = if (MARIA_WRITE_ROWS_COMPRESSED_V1..=MARIA_DELETE_ROWS_COMPRESSED).contains(&t) {
            Cow::Owned(maria_uncompress(offset, rest, self.max_uncompressed)?)
        } else {
            Cow::Borrowed(rest)
        };
        Ok(RowsEvent {
            kind,
            table_id,
            flags,
            table: self.tables.get(&table_id).map(|c| c.map.clone()),
            column_count,
            present,
            present_after,
            data,
        })
    }

    fn parse_payload(&self, offset: u64, body: &[u8]) -> Result<TransactionPayload, DecodeError> {
        let sh = short(offset, "TRANSACTION_PAYLOAD");
        let mut c = Cursor::new(body);
        let (mut size, mut compression, mut uncompressed_size) = (None, None, None);
        loop {
            let ft = c.lenenc().map_err(&sh)?;
            if ft == 0 {
                break;
            }
            let v = c.lenenc_bytes().map_err(&sh)?;
            let val = Cursor::new(v).lenenc().ok();
            match ft {
                1 => size = val,
                2 => compression = val,
                3 => uncompressed_size = val,
                _ => {}
            }
        }
        let size = size
            .ok_or_else(|| DecodeError::invalid(offset, "TRANSACTION_PAYLOAD: no payload size"))?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let data = c.take(size).map_err(&sh)?;
        let limit = self.max_uncompressed;
        if uncompressed_size.is_some_and(|u| u > limit as u64) {
            return Err(DecodeError::new(
                offset,
                DecodeErrorKind::Decompress(format!(
                    "payload of {uncompressed_size:?} bytes exceeds the limit"
                )),
            ));
        }
        let compression = compression.unwrap_or(255);
        let uncompressed = match compression {
            0 => {
                let dec = zstd::stream::read::Decoder::new(data).map_err(|e| {
                    DecodeError::new(offset, DecodeErrorKind::Decompress(e.to_string()))
                })?;
                read_limited(offset, dec, limit, uncompressed_size.unwrap_or(0) as usize)?
            }
            255 => data.to_vec(),
            other => {
                return Err(DecodeError::new(
                    offset,
                    DecodeErrorKind::Unsupported(format!("payload compression type {other}")),
                ))
            }
        };
        Ok(TransactionPayload {
            compression: compression as u8,
            uncompressed,
        })
    }
}

fn read_limited(
    offset: u64,
    r: impl Read,
    limit: usize,
    hint: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(hint.min(limit).min(64 << 20));
    r.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::new(offset, DecodeErrorKind::Decompress(e.to_string())))?;
    if out.len() > limit {
        return Err(DecodeError::new(
            offset,
            DecodeErrorKind::Decompress(format!("more than {limit} bytes")),
        ));
    }
    Ok(out)
}

/// MariaDB compressed event body: header byte `0x80 | alg << 4 | lenlen`, `lenlen` bytes of
/// big-endian uncompressed length, then a zlib stream.
fn maria_uncompress(offset: u64, src: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let err = |m: String| DecodeError::new(offset, DecodeErrorKind::Decompress(m));
    let (&h, rest) = src
        .split_first()
        .ok_or_else(|| err("empty compressed body".into()))?;
    if h & 0x80 == 0 {
        return Err(err(format!("bad compression header byte {h:#04x}")));
    }
    if (h >> 4) & 0x07 != 0 {
        return Err(err(format!(
            "unknown compression algorithm {}",
            (h >> 4) & 7
        )));
    }
    let lenlen = (h & 0x07) as usize;
    if lenlen == 0 || lenlen > 4 {
        return Err(err(format!("bad length size {lenlen}")));
    }
    let lb = rest
        .get(..lenlen)
        .ok_or_else(|| err("truncated length".into()))?;
    let len = crate::read::be_uint(lb) as usize;
    if len > limit {
        return Err(err(format!("uncompressed length {len} exceeds the limit")));
    }
    let out = read_limited(
        offset,
        flate2::read::ZlibDecoder::new(&rest[lenlen..]),
        len,
        len,
    )?;
    if out.len() != len {
        return Err(err(format!("expected {len} bytes, got {}", out.len())));
    }
    Ok(out)
}

fn verify_crc(offset: u64, raw: &[u8], end: usize) -> Result<(), DecodeError> {
    let t = raw.get(end..end + 4).ok_or_else(|| {
        DecodeError::truncated(offset, "checksum", 4, raw.len().saturating_sub(end))
    })?;
    let stored = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    let computed = crc32fast::hash(&raw[..end]);
    if stored != computed {
        return Err(DecodeError::new(
            offset,
            DecodeErrorKind::Checksum { stored, computed },
        ));
    }
    Ok(())
}

fn parse_status(raw: &[u8]) -> QueryStatus {
    let mut s = QueryStatus::default();
    let mut c = Cursor::new(raw);
    let _ = (|| -> Result<(), Short> {
        while !c.is_empty() {
            match c.u8()? {
                0 => s.flags2 = Some(c.u32()?),
                1 => s.sql_mode = Some(c.u64()?),
                2 => {
                    let n = c.u8()? as usize;
                    s.catalog = Some(String::from_utf8_lossy(c.take(n)?).into_owned());
                    c.skip(1)?;
                }
                3 => c.skip(4)?,
                4 => s.charset = Some((c.u16()?, c.u16()?, c.u16()?)),
                5 => {
                    let n = c.u8()? as usize;
                    s.time_zone = Some(String::from_utf8_lossy(c.take(n)?).into_owned());
                }
                6 => {
                    let n = c.u8()? as usize;
                    s.catalog = Some(String::from_utf8_lossy(c.take(n)?).into_owned());
                }
                7 | 8 => c.skip(2)?,
                9 => c.skip(8)?,
                10 => c.skip(4)?,
                11 => {
                    let n = c.u8()? as usize;
                    c.skip(n)?;
                    let n = c.u8()? as usize;
                    c.skip(n)?;
                }
                12 => {
                    let n = c.u8()?;
                    if n != 254 {
                        for _ in 0..n {
                            while c.u8()? != 0 {}
                        }
                    }
                }
                13 => c.skip(3)?,
                16 | 19 | 20 => c.skip(1)?,
                17 => s.ddl_xid = Some(c.u64()?),
                18 => s.default_collation_for_utf8mb4 = Some(c.u16()?),
                128 => c.skip(3)?,
                129 => c.skip(8)?,
                130 => c.skip(1)?,
                _ => break, // unknown code: its length is unknown, stop here
            }
        }
        Ok(())
    })();
    s
}

fn parse_user_var(body: &[u8]) -> Result<UserVarEvent<'_>, Short> {
    let mut c = Cursor::new(body);
    let n = c.u32()? as usize;
    let name = c.take(n)?;
    let is_null = c.u8()? != 0;
    if is_null {
        return Ok(UserVarEvent { name, value: None });
    }
    let kind = c.u8()?;
    let charset = c.u32()?;
    let len = c.u32()? as usize;
    let bytes = c.take(len)?;
    let flags = if c.is_empty() { 0 } else { c.u8()? };
    let value = match kind {
        0 => UserVarValue::String { charset, bytes },
        1 if len == 8 => UserVarValue::Real(crate::read::le_uint(bytes)),
        2 if len == 8 => UserVarValue::Int {
            value: crate::read::le_uint(bytes) as i64,
            unsigned: flags & 1 != 0,
        },
        4 if len >= 2 => UserVarValue::Decimal {
            precision: bytes[0],
            scale: bytes[1],
            bytes: &bytes[2..],
        },
        _ => UserVarValue::Other { kind, bytes },
    };
    Ok(UserVarEvent {
        name,
        value: Some(value),
    })
}

/// MySQL serialization-library varlen unsigned: the count of trailing one bits in the first
/// byte gives the extra bytes; 0xff = 8 raw bytes follow.
fn ser_uint(c: &mut Cursor<'_>) -> Result<u64, String> {
    let e = |_| "truncated tagged GTID".to_string();
    let first = *c.rest().first().ok_or("truncated tagged GTID")?;
    let ones = first.trailing_ones() as usize;
    if ones == 8 {
        c.skip(1).map_err(e)?;
        return c.uint(8).map_err(e);
    }
    let b = c.take(ones + 1).map_err(e)?;
    Ok(crate::read::le_uint(b) >> (ones + 1))
}

fn ser_int(c: &mut Cursor<'_>) -> Result<i64, String> {
    let u = ser_uint(c)?;
    let m = (u >> 1) as i64;
    Ok(if u & 1 != 0 { -m - 1 } else { m })
}

fn parse_tagged_gtid(body: &[u8]) -> Result<MysqlGtid, String> {
    let mut c = Cursor::new(body);
    let _version = c.u8().map_err(|_| "empty tagged GTID")?;
    let payload_size = ser_uint(&mut c)? as usize;
    let _last_non_ignorable = ser_uint(&mut c)?;
    let consumed = c.pos();
    let fields_len = payload_size
        .checked_sub(consumed)
        .ok_or("bad tagged GTID payload size")?;
    let mut f = Cursor::new(c.take(fields_len.min(c.remaining())).unwrap_or(&[]));
    let mut g = MysqlGtid::default();
    while !f.is_empty() {
        match ser_uint(&mut f)? {
            0 => g.flags = ser_uint(&mut f)? as u8,
            1 => {
                for i in 0..16 {
                    g.sid[i] = ser_uint(&mut f)? as u8;
                }
            }
            2 => g.gno = ser_int(&mut f)?,
            3 => {
                let n = ser_uint(&mut f)? as usize;
                let b = f.take(n).map_err(|_| "truncated GTID tag")?;
                g.tag = Some(String::from_utf8_lossy(b).into_owned());
            }
            4 => g.last_committed = Some(ser_int(&mut f)?),
            5 => g.sequence_number = Some(ser_int(&mut f)?),
            6..=11 => {
                ser_uint(&mut f)?;
            }
            _ => break,
        }
    }
    Ok(g)
}

fn parse_previous_gtids(body: &[u8]) -> Result<Vec<GtidSet>, String> {
    let e = |_| "truncated PREVIOUS_GTIDS".to_string();
    let mut c = Cursor::new(body);
    let n = c.u64().map_err(e)?;
    let tagged = n >> 56 != 0;
    let n_sids = if tagged {
        (n >> 8) & 0x0000_ffff_ffff_ffff
    } else {
        n & 0x00ff_ffff_ffff_ffff
    };
    if n_sids.saturating_mul(24) > c.remaining() as u64 {
        return Err(format!("PREVIOUS_GTIDS: {n_sids} sets do not fit"));
    }
    let mut sets = Vec::with_capacity(n_sids as usize);
    for _ in 0..n_sids {
        let sid: [u8; 16] = c.take(16).map_err(e)?.try_into().unwrap_or([0; 16]);
        let tag = if tagged {
            let len = ser_uint(&mut c)? as usize;
            let t = c.take(len).map_err(e)?;
            (!t.is_empty()).then(|| String::from_utf8_lossy(t).into_owned())
        } else {
            None
        };
        let ni = c.u64().map_err(e)?;
        if ni.saturating_mul(16) > c.remaining() as u64 {
            return Err(format!("PREVIOUS_GTIDS: {ni} intervals do not fit"));
        }
        let mut intervals = Vec::with_capacity(ni as usize);
        for _ in 0..ni {
            intervals.push((c.u64().map_err(e)? as i64, c.u64().map_err(e)? as i64));
        }
        sets.push(GtidSet {
            sid,
            tag,
            intervals,
        });
    }
    Ok(sets)
}

/// Iterator over the decoded inner events of a TRANSACTION_PAYLOAD.
pub struct PayloadEvents<'d, 'p> {
    decoder: &'d mut EventDecoder,
    offset: u64,
    rest: &'p [u8],
    failed: bool,
}

impl<'p> Iterator for PayloadEvents<'_, 'p> {
    type Item = Result<Event<'p>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let r = (|| {
            let h = parse_header(self.rest).ok_or_else(|| {
                DecodeError::truncated(
                    self.offset,
                    "payload inner event header",
                    HEADER_LEN,
                    self.rest.len(),
                )
            })?;
            let n = h.event_size as usize;
            if n < HEADER_LEN || n > self.rest.len() {
                return Err(DecodeError::truncated(
                    self.offset,
                    "payload inner event",
                    n.max(HEADER_LEN),
                    self.rest.len(),
                )
                .with_type(h.event_type));
            }
            let (ev, rest) = self.rest.split_at(n);
            self.rest = rest;
            self.decoder.decode_without_checksum(self.offset, ev)
        })();
        self.failed = r.is_err();
        Some(r)
    }
}

impl std::fmt::Debug for IdHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdHasher")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_stay_reasonable() {
        // Events are returned by value on the hot path.
        assert!(
            std::mem::size_of::<Event<'_>>() <= 256,
            "{}",
            std::mem::size_of::<Event<'_>>()
        );
    }

    #[test]
    fn server_versions() {
        assert_eq!(parse_server_version("10.11.6-MariaDB-log"), (10, 11, 6));
        assert_eq!(parse_server_version("5.6.4-m7-debug-log"), (5, 6, 4));
        assert_eq!(parse_server_version("8.0.40"), (8, 0, 40));
    }
}
