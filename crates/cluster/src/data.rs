//! JSON values of the running nodes (operations.md §1.3): fastjson2 bean output, keys in
//! alphabetical order, null properties omitted, no whitespace. Reading is tolerant like fastjson2
//! (whitespace, quoted numbers/booleans, unknown keys such as the deprecated `cid`).

use serde_json::{Map, Value};

/// A running-node document that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeDataError {
    /// Empty node data (Java parses it to null and crashes its listener).
    #[error("empty node data")]
    Empty,
    /// Not JSON, or not an object.
    #[error("invalid json: {0}")]
    Syntax(String),
    /// A member of the wrong type.
    #[error("invalid value for {field}: {found}")]
    Field {
        /// JSON key.
        field: &'static str,
        /// The value found, as JSON text.
        found: String,
    },
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, NodeDataError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(NodeDataError::Empty);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Err(NodeDataError::Empty),
        Ok(other) => Err(NodeDataError::Syntax(format!("not an object: {other}"))),
        Err(e) => Err(NodeDataError::Syntax(e.to_string())),
    }
}

fn bool_field(
    m: &Map<String, Value>,
    key: &'static str,
    default: bool,
) -> Result<bool, NodeDataError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v @ Value::String(s)) => match s.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            "" => Ok(default),
            _ => Err(NodeDataError::Field {
                field: key,
                found: v.to_string(),
            }),
        },
        Some(v @ Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            _ => Err(NodeDataError::Field {
                field: key,
                found: v.to_string(),
            }),
        },
        Some(v) => Err(NodeDataError::Field {
            field: key,
            found: v.to_string(),
        }),
    }
}

fn string_field(
    m: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, NodeDataError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(NodeDataError::Field {
            field: key,
            found: v.to_string(),
        }),
    }
}

fn i64_field(m: &Map<String, Value>, key: &'static str) -> Result<Option<i64>, NodeDataError> {
    let bad = |v: &Value| NodeDataError::Field {
        field: key,
        found: v.to_string(),
    };
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(v)),
        Some(v @ Value::String(s)) if !s.trim().is_empty() => {
            s.trim().parse().map(Some).map_err(|_| bad(v))
        }
        Some(Value::String(_)) => Ok(None),
        Some(v) => Err(bad(v)),
    }
}

/// `ServerRunningData`: content of `/destinations/{dest}/running`, written by the active server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRunningData {
    /// `{registerIp}:{canal.port}` of the holder (`None` only when a foreign writer omitted it).
    pub address: Option<String>,
    /// `true` when written by Canal; `false` asks the holder to step down.
    pub active: bool,
}

impl ServerRunningData {
    /// Active data for `address`, as the election winner writes it.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: Some(address.into()),
            active: true,
        }
    }

    /// `{"active":true,"address":"10.20.1.5:11111"}` (address omitted when null).
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("active".into(), Value::Bool(self.active));
        if let Some(a) = &self.address {
            m.insert("address".into(), Value::String(a.clone()));
        }
        Value::Object(m).to_string()
    }

    /// Parses node bytes; a missing `active` reads as `true` (the Java field default), `cid` and
    /// other unknown keys are ignored.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NodeDataError> {
        let m = parse_object(bytes)?;
        // The deprecated Long `cid` must be ignored, but a malformed one is still an error
        // in fastjson2; validate it without keeping it.
        i64_field(&m, "cid")?;
        Ok(Self {
            address: string_field(&m, "address")?,
            active: bool_field(&m, "active", true)?,
        })
    }

    /// Whether this node names `address`.
    pub fn is_address(&self, address: &str) -> bool {
        self.address.as_deref() == Some(address)
    }
}

/// `ClientRunningData`: content of `/destinations/{dest}/{cid}/running`, written by Java clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRunningData {
    /// Client id (Java short).
    pub client_id: i16,
    /// Client address (`ip` first, later `localIp:localPort`).
    pub address: Option<String>,
    /// Always `true` when written by the Java client.
    pub active: bool,
}

impl ClientRunningData {
    /// `{"active":true,"address":"10.20.7.9:53412","clientId":1001}`.
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("active".into(), Value::Bool(self.active));
        if let Some(a) = &self.address {
            m.insert("address".into(), Value::String(a.clone()));
        }
        m.insert("clientId".into(), Value::from(self.client_id));
        Value::Object(m).to_string()
    }

    /// Parses node bytes (`clientId` must fit a Java short; missing reads as 0).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, NodeDataError> {
        let m = parse_object(bytes)?;
        let client_id = match i64_field(&m, "clientId")? {
            None => 0,
            Some(v) => i16::try_from(v).map_err(|_| NodeDataError::Field {
                field: "clientId",
                found: v.to_string(),
            })?,
        };
        Ok(Self {
            client_id,
            address: string_field(&m, "address")?,
            active: bool_field(&m, "active", true)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_running_data_exact_text() {
        // operations.md §1.3
        assert_eq!(
            ServerRunningData::new("10.20.1.5:11111").to_json(),
            r#"{"active":true,"address":"10.20.1.5:11111"}"#
        );
        let back = ServerRunningData::from_bytes(br#"{"active":true,"address":"10.20.1.5:11111"}"#)
            .unwrap();
        assert_eq!(back, ServerRunningData::new("10.20.1.5:11111"));
    }

    #[test]
    fn server_running_data_tolerant_read() {
        // very old servers wrote `cid`; readers must ignore it
        let d = ServerRunningData::from_bytes(br#" {"cid":1, "address":"h:1","active":"false"} "#)
            .unwrap();
        assert_eq!(d.address.as_deref(), Some("h:1"));
        assert!(!d.active);
        let d = ServerRunningData::from_bytes(br#"{"address":"h:1"}"#).unwrap();
        assert!(d.active, "missing active is the Java default true");
        assert_eq!(
            ServerRunningData::from_bytes(b""),
            Err(NodeDataError::Empty)
        );
        assert_eq!(
            ServerRunningData::from_bytes(b"null"),
            Err(NodeDataError::Empty)
        );
        assert!(matches!(
            ServerRunningData::from_bytes(b"[1]"),
            Err(NodeDataError::Syntax(_))
        ));
        assert!(matches!(
            ServerRunningData::from_bytes(br#"{"active":"maybe"}"#),
            Err(NodeDataError::Field { .. })
        ));
        assert!(matches!(
            ServerRunningData::from_bytes(b"\xff\xfe"),
            Err(NodeDataError::Syntax(_))
        ));
    }

    #[test]
    fn client_running_data_exact_text() {
        let c = ClientRunningData {
            client_id: 1001,
            address: Some("10.20.7.9:53412".into()),
            active: true,
        };
        assert_eq!(
            c.to_json(),
            r#"{"active":true,"address":"10.20.7.9:53412","clientId":1001}"#
        );
        assert_eq!(
            ClientRunningData::from_bytes(c.to_json().as_bytes()).unwrap(),
            c
        );
        assert!(ClientRunningData::from_bytes(br#"{"clientId":40000}"#).is_err());
    }
}
