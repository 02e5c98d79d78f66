//! The dump side: Canal's session set-up, COM_REGISTER_SLAVE, COM_BINLOG_DUMP / _GTID and the
//! stream of raw events with their positions.
//!
//! Events are yielded as raw bytes (header + body + checksum) so the decoder in this crate owns
//! all body parsing. The header comes from the decoder's `parse_header`; the three body fields
//! needed to track positions (ROTATE target, MySQL/MariaDB GTID ids) and the QUERY text for the
//! timestamp search are read here by small bounds-checked helpers, so the dump does not run a
//! second stateful decoder next to the consumer's.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mysql_common::packets::{
    BinlogDumpFlags, ComBinlogDump, ComBinlogDumpGtid, ComRegisterSlave, Sid,
};
use mysql_common::proto::MySerialize;

use super::conn::{parse_err, Connection, Flavor};
use super::error::{classify, ClientError};
use crate::decoder::parse_header;
use crate::event::{types, EventHeader};

/// Length of the common event header.
pub const HEADER_LEN: usize = 19;
/// LOG_EVENT_ARTIFICIAL_F: the event was made up by the sender, its position is not real.
pub const ARTIFICIAL_FLAG: u16 = 0x20;

/// Where a dump starts (and where a reconnect resumes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPosition {
    /// A binlog file and the offset of an event boundary in it (4 = start of the file).
    FilePos {
        /// Binlog file name, e.g. `mysql-bin.000003`.
        file: String,
        /// Offset of the first event to send.
        pos: u64,
    },
    /// A GTID set: MySQL `uuid:1-10,uuid2:1-5` (transactions already applied, the dump sends the
    /// rest) or MariaDB `domain-server-seq[,…]` (the last applied GTID per domain).
    Gtid(String),
}

/// How the replica presents itself.
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// Our server id (must be unique among the source's replicas); see [`canal_slave_id`].
    pub server_id: u32,
    /// `@master_heartbeat_period` (Canal: 15 s). Zero disables heartbeats.
    pub heartbeat_period: Duration,
    /// Longest silence accepted on the dump before it counts as lost (Canal: heartbeat + 10 s).
    pub read_timeout: Duration,
    /// Send COM_REGISTER_SLAVE before a file/position dump (Canal does, except in seek scans).
    pub register: bool,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        ReplicaOptions {
            server_id: 1234,
            heartbeat_period: Duration::from_secs(15),
            read_timeout: Duration::from_secs(25),
            register: true,
        }
    }
}

/// Canal's default slave id when `canal.instance.mysql.slaveId` is not set:
/// `((destination.hashCode() & 0x7f) << 24) + IP bytes 2..4 of the local address`.
pub fn canal_slave_id(destination: &str, local_ip: IpAddr) -> u32 {
    let hash = destination
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let low = match local_ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            u32::from(o[1]) << 16 | u32::from(o[2]) << 8 | u32::from(o[3])
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            u32::from(o[13]) << 16 | u32::from(o[14]) << 8 | u32::from(o[15])
        }
    };
    (((hash & 0x7f) as u32) << 24).wrapping_add(low)
}

/// One raw event as the source sent it, with where it sits.
#[derive(Debug, Clone)]
pub struct BinlogEvent {
    /// The complete event: 19-byte header, body, and the 4-byte CRC32 when [`Self::checksum`].
    pub data: Bytes,
    /// The decoded common header.
    pub header: EventHeader,
    /// The binlog file the event belongs to.
    pub file: Arc<str>,
    /// Offset of the event's first byte in `file` (for artificial events and heartbeats: the
    /// current position, which they do not move).
    pub offset: u64,
    /// Offset right after this event (where a dump would resume after it).
    pub next_offset: u64,
    /// True for events made up by the sender (fake ROTATE, the FDE re-sent at a non-4 start,
    /// MariaDB's fake GTID_LIST): they do not move the position.
    pub artificial: bool,
    /// True when the last 4 bytes are a CRC32 checksum.
    pub checksum: bool,
    /// GTID of the transaction this event belongs to (the last GTID event seen): MySQL
    /// `uuid:gno`, MariaDB `domain-server-seq`.
    pub gtid: Option<Arc<str>>,
}

impl BinlogEvent {
    /// The event type code.
    pub fn event_type(&self) -> u8 {
        self.header.event_type
    }

    /// The event without its checksum.
    pub fn without_checksum(&self) -> &[u8] {
        let end = if self.checksum {
            self.data.len().saturating_sub(4)
        } else {
            self.data.len()
        };
        self.data.get(..end).unwrap_or_default()
    }

    /// The body (after the header, without checksum).
    pub fn body(&self) -> &[u8] {
        self.without_checksum()
            .get(HEADER_LEN..)
            .unwrap_or_default()
    }

    /// Where a dump resumes right after this event (commit this after a transaction's XID or
    /// COMMIT to resume at that boundary).
    pub fn next_position(&self) -> StartPosition {
        StartPosition::FilePos {
            file: self.file.to_string(),
            pos: self.next_offset,
        }
    }

    /// True for HEARTBEAT / HEARTBEAT_V2.
    pub fn is_heartbeat(&self) -> bool {
        matches!(
            self.header.event_type,
            types::HEARTBEAT | types::HEARTBEAT_V2
        )
    }
}

/// Moves `pos` over a real event of `size` bytes and sets the event's offsets, trusting the
/// header's 32-bit `log_pos` and extending it past 4 GiB with our running offset. Returns the
/// new position.
fn advance_pos(pos: &mut u64, ev: &mut BinlogEvent, size: u64) -> u64 {
    let expected = pos.saturating_add(size);
    let log_pos = u64::from(ev.header.log_pos);
    let next = if expected & 0xFFFF_FFFF == log_pos {
        expected
    } else {
        // The server skipped or replayed (GTID dumps send a file's header events, then jump
        // to the first wanted transaction): trust its log_pos, keeping the high bits of our
        // counter for files over 4 GiB. Only a large backward step is a 4 GiB wrap.
        let n = (*pos & !0xFFFF_FFFF) | log_pos;
        if n < *pos && *pos - n > 1 << 31 {
            n.saturating_add(1 << 32)
        } else {
            n
        }
    };
    ev.offset = next.saturating_sub(size);
    ev.next_offset = next;
    *pos = next;
    next
}

/// ROTATE body: (position, next file name).
fn parse_rotate(body: &[u8]) -> Option<(u64, String)> {
    let pos = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    let name = String::from_utf8_lossy(body.get(8..)?).into_owned();
    Some((pos, name))
}

/// MySQL GTID event body → `uuid:gno`.
fn parse_mysql_gtid(body: &[u8]) -> Option<String> {
    let sid: [u8; 16] = body.get(1..17)?.try_into().ok()?;
    let gno = i64::from_le_bytes(body.get(17..25)?.try_into().ok()?);
    Some(format!("{}:{gno}", crate::event::uuid_string(&sid)))
}

/// MySQL 8.3+ GTID_TAGGED event → `uuid:tag:gno`, through the decoder (its body is a
/// self-describing serialization that the decoder already reads; no FORMAT_DESCRIPTION needed).
fn tagged_gtid(event: &[u8], checksum: bool) -> Option<String> {
    let mut decoder = crate::decoder::EventDecoder::new();
    decoder.set_checksum(checksum);
    match decoder.decode(0, event).ok()?.body {
        crate::event::EventBody::Gtid(g) => Some(g.to_gtid_string()),
        _ => None,
    }
}

/// MariaDB GTID event body → `domain-server-seq`.
fn parse_maria_gtid(body: &[u8], server_id: u32) -> Option<String> {
    let seq = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    Some(format!("{domain}-{server_id}-{seq}"))
}

/// QUERY event body → the statement text (used by the timestamp search).
pub(crate) fn parse_query_sql(body: &[u8]) -> Option<&[u8]> {
    // thread id 4, exec time 4, db len 1, error code 2, status vars len 2.
    let db_len = usize::from(*body.get(8)?);
    let status_len = usize::from(u16::from_le_bytes(body.get(11..13)?.try_into().ok()?));
    let start = 13usize
        .checked_add(status_len)?
        .checked_add(db_len)?
        .checked_add(1)?;
    body.get(start..)
}

/// Parses a MySQL GTID set text for COM_BINLOG_DUMP_GTID: `uuid:1-5:7,uuid2:1-3`, including
/// MySQL 8.4+ tags (`uuid:1-120:tag_a:1-2:tag_b:5`: untagged intervals, then one group per tag).
pub fn parse_mysql_gtid_set(set: &str) -> Result<Vec<Sid<'static>>, ClientError> {
    let mut out = Vec::new();
    for element in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = |e: &dyn std::fmt::Display| {
            ClientError::InvalidArgument(format!("bad GTID set element {element:?}: {e}"))
        };
        let before = out.len();
        let mut parts = element.split(':');
        let uuid = parts.next().unwrap_or_default();
        // (tag, intervals) groups in order; the untagged group comes first.
        let mut groups: Vec<(Option<&str>, Vec<&str>)> = vec![(None, Vec::new())];
        for part in parts {
            let is_tag = part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            match groups.last_mut() {
                Some(g) if !is_tag => g.1.push(part),
                _ => groups.push((Some(part), Vec::new())),
            }
        }
        for (tag, intervals) in groups {
            if intervals.is_empty() {
                if tag.is_some() {
                    return Err(bad(&"a tag without intervals"));
                }
                continue;
            }
            let text = match tag {
                Some(t) => format!("{uuid}:{t}:{}", intervals.join(":")),
                None => format!("{uuid}:{}", intervals.join(":")),
            };
            out.push(text.parse::<Sid<'static>>().map_err(|e| bad(&e))?);
        }
        if out.len() == before {
            return Err(bad(&"no intervals"));
        }
    }
    Ok(out)
}

/// Checks a MariaDB GTID position (`d-s-n[,d-s-n…]`).
fn check_maria_gtid(set: &str) -> Result<(), ClientError> {
    for part in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let ok = part.split('-').count() == 3
            && part
                .split('-')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(ClientError::InvalidArgument(format!(
                "bad MariaDB GTID {part:?} (want domain-server-seq)"
            )));
        }
    }
    Ok(())
}

/// Runs Canal's dump session set-up (compat §5.3: the two `SHOW STATUS LIKE 'Ssl_%'` of every
/// connect, then step 3 in Canal's order). Failing SET statements are logged and ignored, as
/// Canal does.
pub async fn setup_session(
    conn: &mut Connection,
    opts: &ReplicaOptions,
) -> Result<SessionInfo, ClientError> {
    // Canal asks these after every connect (it only logs them).
    for sql in [
        "SHOW STATUS LIKE 'Ssl_version'",
        "SHOW STATUS LIKE 'Ssl_cipher'",
    ] {
        match conn.query(sql).await {
            Ok(r) => {
                let value = r.rows.first().and_then(|r| r.get(1).cloned().flatten());
                tracing::debug!(%sql, ?value, "TLS status");
            }
            Err(ClientError::Server { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let heartbeat_ns = opts.heartbeat_period.as_nanos().min(u128::from(u64::MAX));
    let sets = [
        "set wait_timeout=9999999".to_string(),
        "set net_write_timeout=7200".to_string(),
        "set net_read_timeout=7200".to_string(),
        "set names 'binary'".to_string(),
        "set @master_binlog_checksum= @@global.binlog_checksum".to_string(),
        "set @slave_uuid=uuid()".to_string(),
        "SET @mariadb_slave_capability='4'".to_string(),
        format!("SET @master_heartbeat_period={heartbeat_ns}"),
    ];
    for sql in &sets {
        if let Err(e) = conn.query(sql).await {
            if !matches!(e, ClientError::Server { .. }) {
                return Err(e);
            }
            tracing::warn!(%sql, error = %e, "session set-up statement failed (ignored, as Canal does)");
        }
    }
    let checksum = match conn.query("select @@global.binlog_checksum").await {
        Ok(r) => r
            .rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default(),
        Err(ClientError::Server { .. }) => String::new(), // servers before 5.6.1
        Err(e) => return Err(e),
    };
    let version_comment = match conn.query("select @@version_comment").await {
        Ok(r) => r
            .rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .unwrap_or_default(),
        Err(ClientError::Server { .. }) => String::new(),
        Err(e) => return Err(e),
    };
    Ok(SessionInfo {
        checksum: checksum.eq_ignore_ascii_case("CRC32"),
        version_comment,
    })
}

/// What the session set-up learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// `@@global.binlog_checksum` is CRC32: events end with a 4-byte checksum.
    pub checksum: bool,
    /// `@@version_comment` (Canal switches to Percona's QUERY event variant when it contains
    /// "Percona").
    pub version_comment: String,
}

fn register_slave_packet(conn: &Connection, opts: &ReplicaOptions) -> Vec<u8> {
    let local = conn.local_addr();
    let host = local.map(|a| a.ip().to_string()).unwrap_or_default();
    let port = local.map(|a| a.port()).unwrap_or(0);
    let o = conn.options();
    let mut buf = Vec::new();
    ComRegisterSlave::new(opts.server_id)
        .with_hostname(host.into_bytes())
        .with_user(o.user.as_bytes().to_vec())
        .with_password(o.password.as_bytes().to_vec())
        .with_port(port)
        .serialize(&mut buf);
    buf
}

async fn register_slave(conn: &mut Connection, opts: &ReplicaOptions) -> Result<(), ClientError> {
    let pkt = register_slave_packet(conn, opts);
    conn.write_command(&pkt).await?;
    let reply = conn.read_packet().await?;
    match reply.first() {
        Some(0x00) => Ok(()),
        Some(0xFF) => {
            let e = parse_err(&reply).ok_or_else(|| protocol(conn, "malformed error packet"))?;
            Err(privilege_or(
                classify(e, conn.addr(), &conn.options().user, "COM_REGISTER_SLAVE"),
                conn,
            ))
        }
        _ => Err(protocol(conn, "unexpected reply to COM_REGISTER_SLAVE")),
    }
}

/// 1045 on a replication command means a missing privilege, not a bad password (we are logged in).
fn privilege_or(e: ClientError, conn: &Connection) -> ClientError {
    match e {
        ClientError::Server { server, what, .. }
            if server.code == super::error::codes::ACCESS_DENIED =>
        {
            ClientError::MissingPrivilege {
                user: conn.options().user.clone(),
                what,
                server,
            }
        }
        other => other,
    }
}

fn protocol(conn: &Connection, message: &str) -> ClientError {
    ClientError::Protocol {
        addr: conn.addr().to_string(),
        message: message.to_string(),
    }
}

/// Runs the set-up and starts the dump on `conn` (Canal's sequence for the position kind).
pub async fn start_dump(
    mut conn: Connection,
    opts: &ReplicaOptions,
    start: &StartPosition,
) -> Result<BinlogStream, ClientError> {
    let session = setup_session(&mut conn, opts).await?;
    let checksum = session.checksum;
    let flavor = conn.server_info().flavor;
    let mut cmd = Vec::new();
    let (file, pos) = match start {
        StartPosition::FilePos { file, pos } => {
            let pos32 = u32::try_from(*pos).map_err(|_| {
                ClientError::InvalidArgument(format!(
                    "position {pos} does not fit COM_BINLOG_DUMP's 32 bits"
                ))
            })?;
            if opts.register {
                register_slave(&mut conn, opts).await?;
            }
            ComBinlogDump::new(opts.server_id)
                .with_pos(pos32)
                .with_flags(BinlogDumpFlags::BINLOG_THROUGH_POSITION)
                .with_filename(file.as_bytes().to_vec())
                .serialize(&mut cmd);
            (file.clone(), *pos)
        }
        StartPosition::Gtid(set) if flavor == Flavor::Mariadb => {
            check_maria_gtid(set)?;
            let stmts = [
                format!("SET @slave_connect_state = '{}'", set.trim()),
                "SET @slave_gtid_strict_mode = 0".to_string(),
                "SET @slave_gtid_ignore_duplicates = 0".to_string(),
            ];
            for sql in &stmts {
                conn.query(sql).await?;
            }
            register_slave(&mut conn, opts).await?;
            ComBinlogDump::new(opts.server_id)
                .with_pos(0)
                .with_flags(BinlogDumpFlags::BINLOG_THROUGH_POSITION)
                .serialize(&mut cmd);
            (String::new(), 4)
        }
        StartPosition::Gtid(set) => {
            let sids = parse_mysql_gtid_set(set)?;
            ComBinlogDumpGtid::new(opts.server_id)
                .with_pos(4)
                .with_sids(sids)
                .with_flags(BinlogDumpFlags::BINLOG_THROUGH_GTID)
                .serialize(&mut cmd);
            (String::new(), 4)
        }
    };
    conn.write_command(&cmd).await?;
    Ok(BinlogStream {
        conn,
        file: Arc::from(file.as_str()),
        pos,
        checksum,
        server_id: opts.server_id,
        gtid: None,
        read_timeout: opts.read_timeout,
        version_comment: session.version_comment,
    })
}

/// A running binlog dump.
#[derive(Debug)]
pub struct BinlogStream {
    conn: Connection,
    file: Arc<str>,
    pos: u64,
    checksum: bool,
    server_id: u32,
    gtid: Option<Arc<str>>,
    read_timeout: Duration,
    version_comment: String,
}

impl BinlogStream {
    /// The source's `@@version_comment`.
    pub fn version_comment(&self) -> &str {
        &self.version_comment
    }

    /// True for Percona Server (`@@version_comment` contains "Percona", Canal's test).
    pub fn is_percona(&self) -> bool {
        self.version_comment.contains("Percona")
    }

    /// The current position: file and the offset where the next event starts.
    pub fn position(&self) -> (Arc<str>, u64) {
        (self.file.clone(), self.pos)
    }

    /// True when events carry a CRC32 checksum.
    pub fn checksum(&self) -> bool {
        self.checksum
    }

    /// The server's thread id of the dump connection (for `KILL`).
    pub fn connection_id(&self) -> u32 {
        self.conn.server_info().connection_id
    }

    /// The server's self-description.
    pub fn server_info(&self) -> &super::conn::ServerInfo {
        self.conn.server_info()
    }

    /// Waits for the next event. Errors: the server's error packet (purged binlog →
    /// [`ClientError::BinlogPurged`]), EOF → [`ClientError::DumpEnded`], silence longer than the
    /// read timeout → [`ClientError::Timeout`].
    ///
    /// Not cancel-safe: if the returned future is dropped mid-packet the stream is out of step;
    /// drop the stream then (the reconnecting [`super::ReplicaClient`] does).
    pub async fn next_event(&mut self) -> Result<BinlogEvent, ClientError> {
        let pkt = self
            .conn
            .read_packet_timeout(self.read_timeout, "binlog events")
            .await?;
        match pkt.first().copied() {
            Some(0x00) => {}
            Some(0xFF) => {
                let e = parse_err(&pkt)
                    .ok_or_else(|| protocol(&self.conn, "malformed error packet"))?;
                let what = format!("reading the binlog at {}:{}", self.file, self.pos);
                return Err(privilege_or(
                    classify(e, self.conn.addr(), &self.conn.options().user, &what),
                    &self.conn,
                ));
            }
            Some(0xFE) if pkt.len() < 9 => {
                return Err(ClientError::DumpEnded {
                    addr: self.conn.addr().to_string(),
                    server_id: self.server_id,
                });
            }
            _ => {
                return Err(protocol(
                    &self.conn,
                    "unexpected packet in the binlog stream",
                ))
            }
        }
        let data = pkt.slice(1..);
        let header = parse_header(&data)
            .ok_or_else(|| protocol(&self.conn, "binlog event shorter than its header"))?;
        if header.event_size as usize != data.len() {
            return Err(ClientError::Protocol {
                addr: self.conn.addr().to_string(),
                message: format!(
                    "event size {} in header but {} bytes received",
                    header.event_size,
                    data.len()
                ),
            });
        }
        let size = data.len() as u64;
        let crc = if self.checksum { 4 } else { 0 };
        let body_end = data.len().saturating_sub(crc);
        let body = data.get(HEADER_LEN..body_end).unwrap_or_default();
        let artificial = header.log_pos == 0 || header.flags & ARTIFICIAL_FLAG != 0;
        let file = self.file.clone();
        let mut ev = BinlogEvent {
            data: data.clone(),
            header,
            file,
            offset: self.pos,
            next_offset: self.pos,
            artificial,
            checksum: self.checksum,
            gtid: self.gtid.clone(),
        };
        match header.event_type {
            types::ROTATE => {
                let (pos, name) = parse_rotate(body)
                    .ok_or_else(|| protocol(&self.conn, "malformed ROTATE event"))?;
                if !artificial {
                    self.advance(&mut ev, size);
                }
                self.file = Arc::from(name.as_str());
                self.pos = pos;
                if artificial {
                    ev.file = self.file.clone();
                    ev.offset = pos;
                    ev.next_offset = pos;
                }
            }
            types::HEARTBEAT | types::HEARTBEAT_V2 => {}
            _ if artificial => {}
            t => {
                match t {
                    types::GTID => {
                        self.gtid = parse_mysql_gtid(body).map(|s| Arc::from(s.as_str()));
                    }
                    types::GTID_TAGGED => {
                        self.gtid =
                            tagged_gtid(&data, self.checksum).map(|s| Arc::from(s.as_str()));
                    }
                    types::ANONYMOUS_GTID => self.gtid = None,
                    types::MARIA_GTID => {
                        self.gtid =
                            parse_maria_gtid(body, header.server_id).map(|s| Arc::from(s.as_str()));
                    }
                    _ => {}
                }
                ev.gtid = self.gtid.clone();
                self.advance(&mut ev, size);
            }
        }
        Ok(ev)
    }

    /// Moves the position over a real event, trusting the header's 32-bit `log_pos` and
    /// extending it past 4 GiB with our running offset.
    fn advance(&mut self, ev: &mut BinlogEvent, size: u64) {
        advance_pos(&mut self.pos, ev, size);
    }

    /// Closes the dump connection (COM_QUIT).
    pub async fn close(self) -> Result<(), ClientError> {
        self.conn.quit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slave_id_matches_canal_formula() {
        // "example".hashCode() = -1322970774 (Java), & 0x7f = 0x6a; IP 10.1.2.3 -> 0x010203.
        let id = canal_slave_id("example", "10.1.2.3".parse().unwrap());
        assert_eq!(id, (0x6a << 24) + 0x01_02_03);
    }

    #[test]
    fn header_and_rotate_parse() {
        let mut ev = vec![0u8; 19];
        ev[4] = types::ROTATE;
        ev[9..13].copy_from_slice(&(19u32 + 8 + 16).to_le_bytes());
        ev[17..19].copy_from_slice(&ARTIFICIAL_FLAG.to_le_bytes());
        ev.extend_from_slice(&4u64.to_le_bytes());
        ev.extend_from_slice(b"mysql-bin.000002");
        let h = parse_header(&ev).unwrap();
        assert_eq!(h.event_type, types::ROTATE);
        assert_eq!(h.event_size, 43);
        assert_eq!(h.flags, ARTIFICIAL_FLAG);
        assert_eq!(
            parse_rotate(&ev[19..]),
            Some((4, "mysql-bin.000002".to_string()))
        );
        assert!(parse_header(&ev[..18]).is_none());
        assert!(parse_rotate(&[1, 2, 3]).is_none());
    }

    #[test]
    fn gtid_set_parsing() {
        let sids = parse_mysql_gtid_set(
            "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7, 4e11fa47-71ca-11e1-9e33-c80aa9429562:1",
        )
        .unwrap();
        assert_eq!(sids.len(), 2);
        assert_eq!(sids[0].intervals().len(), 2);
        assert_eq!(
            (sids[0].intervals()[0].start(), sids[0].intervals()[0].end()),
            (1, 6)
        );
        assert!(parse_mysql_gtid_set("nonsense").is_err());
        // MySQL 8.4+ tagged groups after the untagged intervals of the same UUID.
        let u = "5b4795e3-e575-11f1-94dd-02fc00000001";
        let sids = parse_mysql_gtid_set(&format!("{u}:1-120:canal_tag:1-2:other:5")).unwrap();
        assert_eq!(sids.len(), 3);
        assert!(sids[0].tag().is_none());
        assert_eq!(
            (sids[0].intervals()[0].start(), sids[0].intervals()[0].end()),
            (1, 121)
        );
        assert_eq!(
            sids[1].tag().map(|t| t.to_string()).as_deref(),
            Some("canal_tag")
        );
        assert_eq!(
            (sids[1].intervals()[0].start(), sids[1].intervals()[0].end()),
            (1, 3)
        );
        assert_eq!(
            sids[2].tag().map(|t| t.to_string()).as_deref(),
            Some("other")
        );
        // Only tagged transactions for a UUID.
        let sids = parse_mysql_gtid_set(&format!("{u}:t:1-2")).unwrap();
        assert_eq!(sids.len(), 1);
        assert!(parse_mysql_gtid_set(&format!("{u}:t")).is_err());
        assert!(parse_mysql_gtid_set(u).is_err());
        assert!(parse_mysql_gtid_set(&format!("{u}:1-3,{u}")).is_err());
        assert!(parse_mysql_gtid_set("").unwrap().is_empty());
        assert!(check_maria_gtid("0-1-5,1-1-7").is_ok());
        assert!(check_maria_gtid("0-1").is_err());
        assert!(check_maria_gtid("0-1-x'; drop").is_err());
    }

    #[test]
    fn query_sql_parse_is_bounds_checked() {
        let mut body = vec![0u8; 13];
        body[8] = 4; // db len
        body[11..13].copy_from_slice(&2u16.to_le_bytes());
        body.extend_from_slice(&[0, 0]); // status vars
        body.extend_from_slice(b"test\0BEGIN");
        assert_eq!(parse_query_sql(&body), Some(&b"BEGIN"[..]));
        assert_eq!(parse_query_sql(&body[..10]), None);
    }

    #[test]
    fn log_pos_jumps_and_wraps() {
        fn stream_at(pos: u64) -> (u64, BinlogEvent) {
            let header = EventHeader {
                event_size: 100,
                ..Default::default()
            };
            let ev = BinlogEvent {
                data: Bytes::new(),
                header,
                file: Arc::from("f"),
                offset: 0,
                next_offset: 0,
                artificial: false,
                checksum: false,
                gtid: None,
            };
            (pos, ev)
        }
        let run = |pos: u64, log_pos: u32| {
            let (p, mut ev) = stream_at(pos);
            ev.header.log_pos = log_pos;
            let mut pos = p;
            let next = advance_pos(&mut pos, &mut ev, 100);
            (ev.offset, next)
        };
        // Contiguous.
        assert_eq!(run(4, 104), (4, 104));
        // Forward jump (GTID dump skipping transactions).
        assert_eq!(run(4, 5000), (4900, 5000));
        // Backward replay (MariaDB GTID dump re-sending header events): no 4 GiB jump.
        assert_eq!(run(5000, 356), (256, 356));
        // Past 4 GiB: log_pos wrapped, the offset keeps counting.
        assert_eq!(run(0xFFFF_FFC0, 36), (0xFFFF_FFC0, 0x1_0000_0024));
        assert_eq!(run(0x1_0000_0024, 136), (0x1_0000_0024, 0x1_0000_0088));
        // Hostile positions saturate instead of overflowing.
        let (off, next) = run(u64::MAX, 5);
        assert!(off <= next);
    }

    #[test]
    fn gtid_bodies() {
        let mut b = vec![1u8];
        b.extend_from_slice(&[0x11; 16]);
        b.extend_from_slice(&42i64.to_le_bytes());
        assert_eq!(
            parse_mysql_gtid(&b).unwrap(),
            "11111111-1111-1111-1111-111111111111:42"
        );
        let mut m = 7u64.to_le_bytes().to_vec();
        m.extend_from_slice(&0u32.to_le_bytes());
        m.push(0);
        assert_eq!(parse_maria_gtid(&m, 1).unwrap(), "0-1-7");
        assert!(parse_maria_gtid(&m[..5], 1).is_none());
    }
}
