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

// ---------------------------------------------------------------------------------------------
// Canal JSON (fastjson2) for the position types.
//
// Writing follows what fastjson2 2.0.31 produces for Canal's beans (operations.md §1.3): keys in
// alphabetical order, null properties omitted (except `sourceAddress.address`, which the
// InetSocketAddress writer emits as `null` when unresolved), numbers bare, no whitespace. The
// objects are built as `serde_json::Value` maps; the workspace enables serde_json's
// `preserve_order`, so insertion order (alphabetical here) is the output order.
//
// Reading is tolerant like fastjson2: whitespace, numbers given as strings, unknown keys
// (e.g. the deprecated `cid`) and a missing or present `@type` are accepted.
// ---------------------------------------------------------------------------------------------

use serde_json::{Map, Value};

/// `@type` of a `LogPosition` (ZooKeeper cursor nodes and the positions inside batch marks).
pub const LOG_POSITION_TYPE: &str = "com.alibaba.otter.canal.protocol.position.LogPosition";
/// `@type` of a `PositionRange` (ZooKeeper batch mark nodes).
pub const POSITION_RANGE_TYPE: &str = "com.alibaba.otter.canal.protocol.position.PositionRange";

/// A JSON document that does not describe the expected position type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PositionJsonError {
    /// Not JSON at all.
    #[error("invalid json: {0}")]
    Syntax(String),
    /// A value of the wrong shape, e.g. a string where an object is expected.
    #[error("invalid value for {field}: {found}")]
    Field {
        /// JSON key (dotted path) of the offending value.
        field: &'static str,
        /// The value found, as JSON text.
        found: String,
    },
    /// `@type` names another class.
    #[error("type not match: expected {expected}, found {found}")]
    Type {
        /// The class this reader handles.
        expected: &'static str,
        /// The class named in the document.
        found: String,
    },
}

fn field_err(field: &'static str, v: &Value) -> PositionJsonError {
    PositionJsonError::Field {
        field,
        found: v.to_string(),
    }
}

fn parse_doc(json: &str) -> Result<Value, PositionJsonError> {
    serde_json::from_str(json).map_err(|e| PositionJsonError::Syntax(e.to_string()))
}

fn as_object<'a>(
    v: &'a Value,
    field: &'static str,
) -> Result<&'a Map<String, Value>, PositionJsonError> {
    v.as_object().ok_or_else(|| field_err(field, v))
}

/// Accepts a number or a string holding one (fastjson2 reads quoted numbers); `null` = absent.
fn opt_i64(
    obj: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<i64>, PositionJsonError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| field_err(field, &Value::Number(n.clone()))),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v @ Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| field_err(field, v)),
        Some(v) => Err(field_err(field, v)),
    }
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<Option<String>, PositionJsonError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(v) => Err(field_err(field, v)),
    }
}

fn opt_bool(
    obj: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<bool, PositionJsonError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v @ Value::String(s)) => match s.trim() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(field_err(field, v)),
        },
        Some(v @ Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(field_err(field, v)),
        },
        Some(v) => Err(field_err(field, v)),
    }
}

/// Checks an optional `@type` key against `expected`.
fn check_type(obj: &Map<String, Value>, expected: &'static str) -> Result<(), PositionJsonError> {
    match obj.get("@type") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == expected => Ok(()),
        Some(Value::String(s)) => Err(PositionJsonError::Type {
            expected,
            found: s.clone(),
        }),
        Some(v) => Err(field_err("@type", v)),
    }
}

impl SourceAddress {
    /// `{"address":…,"port":…}`; `address` is written as `null` when unresolved.
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "address".into(),
            self.address
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Null),
        );
        m.insert("port".into(), Value::from(self.port));
        Value::Object(m)
    }

    /// Reads `{"address":…,"port":…}` (also accepts `"host:port"` text).
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        if let Value::String(s) = v {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| field_err("sourceAddress", v))?;
            let port = port
                .trim()
                .parse()
                .map_err(|_| field_err("sourceAddress.port", v))?;
            let host = host.trim_start_matches('/');
            return Ok(Self {
                address: (!host.is_empty()).then(|| host.to_string()),
                port,
            });
        }
        let obj = as_object(v, "sourceAddress")?;
        let port = match opt_i64(obj, "port", "sourceAddress.port")? {
            None => 0,
            Some(p) => {
                u16::try_from(p).map_err(|_| field_err("sourceAddress.port", &Value::from(p)))?
            }
        };
        // fastjson2 may also emit `hostName`/`hostString`; `address` wins when present.
        let address = match opt_string(obj, "address", "sourceAddress.address")? {
            Some(a) => Some(a),
            None => match opt_string(obj, "hostString", "sourceAddress.hostString")? {
                Some(a) => Some(a),
                None => opt_string(obj, "hostName", "sourceAddress.hostName")?,
            },
        };
        Ok(Self { address, port })
    }
}

impl LogIdentity {
    /// `{"slaveId":…,"sourceAddress":{…}}` (sourceAddress omitted when unknown).
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("slaveId".into(), Value::from(self.slave_id));
        if let Some(sa) = &self.source_address {
            m.insert("sourceAddress".into(), sa.to_json_value());
        }
        Value::Object(m)
    }

    /// Reads a LogIdentity object; a missing `slaveId` reads as -1 (the only value Canal writes).
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        let obj = as_object(v, "identity")?;
        let slave_id = opt_i64(obj, "slaveId", "identity.slaveId")?.unwrap_or(-1);
        let source_address = match obj.get("sourceAddress") {
            None | Some(Value::Null) => None,
            Some(sa) => Some(SourceAddress::from_json_value(sa)?),
        };
        Ok(Self {
            source_address,
            slave_id,
        })
    }
}

impl EntryPosition {
    /// `{"gtid":…,"included":…,"journalName":…,"position":…,"serverId":…,"timestamp":…}`,
    /// null members omitted, `included` always present.
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(g) = &self.gtid {
            m.insert("gtid".into(), Value::String(g.clone()));
        }
        m.insert("included".into(), Value::Bool(self.included));
        if let Some(j) = &self.journal_name {
            m.insert("journalName".into(), Value::String(j.clone()));
        }
        if let Some(p) = self.position {
            m.insert("position".into(), Value::from(p));
        }
        if let Some(s) = self.server_id {
            m.insert("serverId".into(), Value::from(s));
        }
        if let Some(t) = self.timestamp {
            m.insert("timestamp".into(), Value::from(t));
        }
        Value::Object(m)
    }

    /// Reads an EntryPosition object.
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        let obj = as_object(v, "postion")?;
        Ok(Self {
            journal_name: opt_string(obj, "journalName", "postion.journalName")?,
            position: opt_i64(obj, "position", "postion.position")?,
            server_id: opt_i64(obj, "serverId", "postion.serverId")?,
            gtid: opt_string(obj, "gtid", "postion.gtid")?,
            timestamp: opt_i64(obj, "timestamp", "postion.timestamp")?,
            included: opt_bool(obj, "included", "postion.included")?,
        })
    }
}

impl LogPosition {
    /// The JSON object; with `with_type` the `@type` key comes first (ZooKeeper cursor form).
    pub fn to_json_value(&self, with_type: bool) -> Value {
        let mut m = Map::new();
        if with_type {
            m.insert("@type".into(), Value::String(LOG_POSITION_TYPE.into()));
        }
        m.insert("identity".into(), self.identity.to_json_value());
        m.insert("postion".into(), self.postion.to_json_value());
        Value::Object(m)
    }

    /// JSON without `@type`: `meta.dat` cursors, `parse.dat`, the ZooKeeper parse node.
    pub fn to_json(&self) -> String {
        self.to_json_value(false).to_string()
    }

    /// JSON with a leading `@type`: the ZooKeeper cursor node.
    pub fn to_json_with_type(&self) -> String {
        self.to_json_value(true).to_string()
    }

    /// Reads a LogPosition object (with or without `@type`).
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        let obj = as_object(v, "LogPosition")?;
        check_type(obj, LOG_POSITION_TYPE)?;
        let identity = match obj.get("identity") {
            None | Some(Value::Null) => LogIdentity {
                source_address: None,
                slave_id: -1,
            },
            Some(i) => LogIdentity::from_json_value(i)?,
        };
        let postion = match obj.get("postion") {
            None | Some(Value::Null) => EntryPosition::default(),
            Some(p) => EntryPosition::from_json_value(p)?,
        };
        Ok(Self { identity, postion })
    }

    /// Parses LogPosition JSON text.
    pub fn from_json(json: &str) -> Result<Self, PositionJsonError> {
        Self::from_json_value(&parse_doc(json)?)
    }
}

impl PositionRange {
    /// The JSON object; inner positions always carry `@type` (declared type is the abstract
    /// `Position`), the outer `@type` only with `with_type` (ZooKeeper mark nodes).
    pub fn to_json_value(&self, with_type: bool) -> Value {
        let mut m = Map::new();
        if with_type {
            m.insert("@type".into(), Value::String(POSITION_RANGE_TYPE.into()));
        }
        if let Some(a) = &self.ack {
            m.insert("ack".into(), a.to_json_value(true));
        }
        if let Some(e) = &self.end {
            m.insert("end".into(), e.to_json_value(true));
        }
        m.insert("endSeq".into(), Value::from(self.end_seq));
        if let Some(s) = &self.start {
            m.insert("start".into(), s.to_json_value(true));
        }
        Value::Object(m)
    }

    /// JSON with the outer `@type` (ZooKeeper batch mark form).
    pub fn to_json_with_type(&self) -> String {
        self.to_json_value(true).to_string()
    }

    /// Reads a PositionRange object (outer and inner `@type` optional).
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        let obj = as_object(v, "PositionRange")?;
        check_type(obj, POSITION_RANGE_TYPE)?;
        let pos = |k: &str| -> Result<Option<LogPosition>, PositionJsonError> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(p) => LogPosition::from_json_value(p).map(Some),
            }
        };
        Ok(Self {
            start: pos("start")?,
            ack: pos("ack")?,
            end: pos("end")?,
            end_seq: opt_i64(obj, "endSeq", "endSeq")?.unwrap_or(-1),
        })
    }

    /// Parses PositionRange JSON text.
    pub fn from_json(json: &str) -> Result<Self, PositionJsonError> {
        Self::from_json_value(&parse_doc(json)?)
    }
}

impl ClientIdentity {
    /// Identity without a filter.
    pub fn new(destination: impl Into<String>, client_id: i16) -> Self {
        Self {
            destination: destination.into(),
            client_id,
            filter: None,
        }
    }

    /// `{"clientId":…,"destination":…,"filter":…}` (filter omitted when null).
    pub fn to_json_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("clientId".into(), Value::from(self.client_id));
        m.insert(
            "destination".into(),
            Value::String(self.destination.clone()),
        );
        if let Some(f) = &self.filter {
            m.insert("filter".into(), Value::String(f.clone()));
        }
        Value::Object(m)
    }

    /// Reads a ClientIdentity object; `clientId` must fit a Java short.
    pub fn from_json_value(v: &Value) -> Result<Self, PositionJsonError> {
        let obj = as_object(v, "clientIdentity")?;
        let client_id = match opt_i64(obj, "clientId", "clientIdentity.clientId")? {
            None => 0,
            Some(c) => i16::try_from(c)
                .map_err(|_| field_err("clientIdentity.clientId", &Value::from(c)))?,
        };
        Ok(Self {
            destination: opt_string(obj, "destination", "clientIdentity.destination")?
                .unwrap_or_default(),
            client_id,
            filter: opt_string(obj, "filter", "clientIdentity.filter")?,
        })
    }
}

/// Java's `ClientIdentity.toString()`:
/// `ClientIdentity[destination=example,clientId=1001,filter=<null>]`.
impl std::fmt::Display for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ClientIdentity[destination={},clientId={},filter={}]",
            self.destination,
            self.client_id,
            self.filter.as_deref().unwrap_or("<null>")
        )
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    // The constructed examples of operations.md §1.3 (fastjson2 2.0.31 output).
    const CURSOR_TYPED: &str = r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}"#;
    const PARSE_NODE: &str = r#"{"identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":4567,"serverId":1,"timestamp":1700000000000}}"#;

    fn pos(offset: i64, ts: i64) -> LogPosition {
        LogPosition {
            identity: LogIdentity {
                source_address: Some(SourceAddress {
                    address: Some("10.20.3.4".into()),
                    port: 3306,
                }),
                slave_id: -1,
            },
            postion: EntryPosition {
                journal_name: Some("mysql-bin.000003".into()),
                position: Some(offset),
                server_id: Some(1),
                gtid: Some(String::new()),
                timestamp: Some(ts),
                included: false,
            },
        }
    }

    #[test]
    fn log_position_json_matches_spec_bytes() {
        let p = pos(4567, 1_700_000_000_000);
        assert_eq!(p.to_json_with_type(), CURSOR_TYPED);
        assert_eq!(p.to_json(), PARSE_NODE);
        assert_eq!(LogPosition::from_json(CURSOR_TYPED).unwrap(), p);
        assert_eq!(LogPosition::from_json(PARSE_NODE).unwrap(), p);
    }

    #[test]
    fn position_range_json_matches_spec_shape() {
        let r = PositionRange {
            start: Some(pos(4567, 1_700_000_000_000)),
            ack: Some(pos(8800, 1_700_000_001_000)),
            end: Some(pos(8800, 1_700_000_001_000)),
            end_seq: 42,
        };
        let ack = r#"{"@type":"com.alibaba.otter.canal.protocol.position.LogPosition","identity":{"slaveId":-1,"sourceAddress":{"address":"10.20.3.4","port":3306}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":8800,"serverId":1,"timestamp":1700000001000}}"#;
        let expected = format!(
            r#"{{"@type":"com.alibaba.otter.canal.protocol.position.PositionRange","ack":{ack},"end":{ack},"endSeq":42,"start":{CURSOR_TYPED}}}"#
        );
        assert_eq!(r.to_json_with_type(), expected);
        assert_eq!(PositionRange::from_json(&expected).unwrap(), r);
        // no ack point: key omitted
        let r2 = PositionRange { ack: None, ..r };
        assert!(!r2.to_json_with_type().contains("\"ack\""));
        assert_eq!(
            PositionRange::from_json(&r2.to_json_with_type()).unwrap(),
            r2
        );
    }

    #[test]
    fn nulls_omitted_and_unresolved_address_written_as_null() {
        let p = LogPosition {
            identity: LogIdentity {
                source_address: Some(SourceAddress {
                    address: None,
                    port: 3306,
                }),
                slave_id: -1,
            },
            postion: EntryPosition {
                journal_name: Some("mysql-bin.000001".into()),
                position: Some(4),
                timestamp: Some(5),
                ..Default::default()
            },
        };
        assert_eq!(
            p.to_json(),
            r#"{"identity":{"slaveId":-1,"sourceAddress":{"address":null,"port":3306}},"postion":{"included":false,"journalName":"mysql-bin.000001","position":4,"timestamp":5}}"#
        );
        assert_eq!(LogPosition::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn tolerant_reading() {
        let text = r#" {
            "postion" : {"timestamp":"1700000000000","serverId":"1","position":" 4567 ","journalName":"mysql-bin.000003","included":"false","gtid":"","unknown":[1,2]},
            "identity" : {"sourceAddress":{"port":"3306","address":"10.20.3.4"},"slaveId":-1},
            "cid": 1
        } "#;
        assert_eq!(
            LogPosition::from_json(text).unwrap(),
            pos(4567, 1_700_000_000_000)
        );
        // a host name instead of an IP, and a different @type
        let named = CURSOR_TYPED.replace("10.20.3.4", "db1.example");
        let p = LogPosition::from_json(&named).unwrap();
        assert_eq!(
            p.identity.source_address.unwrap().address.as_deref(),
            Some("db1.example")
        );
        let wrong = CURSOR_TYPED.replace("position.LogPosition", "position.EntryPosition");
        assert!(matches!(
            LogPosition::from_json(&wrong),
            Err(PositionJsonError::Type { .. })
        ));
        assert!(matches!(
            LogPosition::from_json("{\"postion\":[]}"),
            Err(PositionJsonError::Field { .. })
        ));
        assert!(matches!(
            LogPosition::from_json("not json"),
            Err(PositionJsonError::Syntax(_))
        ));
        assert!(LogPosition::from_json(r#"{"postion":{"position":"x"}}"#).is_err());
    }

    #[test]
    fn client_identity_json_and_display() {
        let c = ClientIdentity {
            destination: "example".into(),
            client_id: 1001,
            filter: Some(".*\\..*".into()),
        };
        assert_eq!(
            c.to_json_value().to_string(),
            r#"{"clientId":1001,"destination":"example","filter":".*\\..*"}"#
        );
        let n = ClientIdentity::new("example", 1002);
        assert_eq!(
            n.to_json_value().to_string(),
            r#"{"clientId":1002,"destination":"example"}"#
        );
        assert_eq!(
            n.to_string(),
            "ClientIdentity[destination=example,clientId=1002,filter=<null>]"
        );
        let back = ClientIdentity::from_json_value(
            &serde_json::json!({"clientId":"1001","destination":"example","filter":""}),
        )
        .unwrap();
        assert_eq!(back.client_id, 1001);
        assert_eq!(back.filter.as_deref(), Some(""));
        assert!(ClientIdentity::from_json_value(&serde_json::json!({"clientId":40000})).is_err());
    }
}
