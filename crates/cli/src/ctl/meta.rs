//! The file meta of a destination (`meta.dat`): read, show, move or drop cursors.

use std::io::Write;
use std::path::{Path, PathBuf};

use canal_config::{InstanceConfig, MetaMode, ServerConfig};
use canal_meta::file::{parse_meta_dat, render_meta_dat, ClientData, META_FILE_NAME};
use canal_protocol::position::{
    ClientIdentity, EntryPosition, LogIdentity, LogPosition, SourceAddress,
};
use serde_json::{json, Value};

/// A destination's `meta.dat` and what it holds.
#[derive(Debug, Clone)]
pub struct MetaFile {
    /// Destination.
    pub destination: String,
    /// `{canal.file.data.dir}/{destination}/meta.dat`.
    pub path: PathBuf,
    /// Clients (identity, cursor); empty when the file does not exist.
    pub clients: Vec<ClientData>,
    /// Whether the file exists.
    pub exists: bool,
}

/// Locates the file meta of `destination` (refuses memory / ZooKeeper meta).
pub fn locate(
    server: &ServerConfig,
    destination: &str,
) -> Result<(PathBuf, InstanceConfig), String> {
    let cfg = server
        .load_instance(destination)
        .map_err(|e| format!("destination {destination}: {e}"))?;
    match cfg.settings.meta_mode {
        MetaMode::File => Ok((cfg.data_dir().join(META_FILE_NAME), cfg)),
        MetaMode::Memory => Err(format!(
            "destination {destination} uses memory meta (memory-instance.xml): there is no stored position"
        )),
        MetaMode::ZooKeeper => Err(format!(
            "destination {destination} keeps its meta in ZooKeeper (default-instance.xml), not in meta.dat"
        )),
        other => Err(format!(
            "destination {destination} uses {}: canalctl handles file meta (meta.dat) and ZooKeeper meta",
            other.xml_name()
        )),
    }
}

/// Reads `path` (a missing file reads as no clients).
pub fn read(destination: &str, path: &Path) -> Result<MetaFile, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(MetaFile {
                destination: destination.to_string(),
                path: path.to_path_buf(),
                clients: Vec::new(),
                exists: false,
            })
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let (_, clients) = parse_meta_dat(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(MetaFile {
        destination: destination.to_string(),
        path: path.to_path_buf(),
        clients,
        exists: true,
    })
}

impl MetaFile {
    /// Writes the file in Canal's format (temporary file + rename).
    pub fn write(&self) -> Result<(), String> {
        let io = |e: std::io::Error| format!("{}: {e}", self.path.display());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".canalctl.tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(render_meta_dat(&self.destination, &self.clients).as_bytes())
                .map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// JSON view: destination, file, and each client's id, filter and cursor.
    pub fn to_json(&self) -> Value {
        let clients: Vec<Value> = self
            .clients
            .iter()
            .map(|(c, cursor)| {
                json!({
                    "clientId": c.client_id,
                    "filter": c.filter,
                    "cursor": cursor.as_ref().map(cursor_json),
                })
            })
            .collect();
        json!({
            "destination": self.destination,
            "file": self.path.display().to_string(),
            "exists": self.exists,
            "clients": clients,
        })
    }

    /// Moves the cursor of `client_id` (creating the subscription when absent, with the
    /// source address of `cfg`'s master) to `journal:position` (`timestamp` ms optional).
    /// The source identity of an existing cursor is kept so the server sees the same source.
    pub fn set_cursor(
        &mut self,
        cfg: &InstanceConfig,
        client_id: i16,
        journal: &str,
        position: i64,
        timestamp: Option<i64>,
    ) {
        let known = self
            .clients
            .iter()
            .find_map(|(_, c)| c.as_ref().map(|p| p.identity.clone()));
        let cursor = new_cursor(known, cfg, journal, position, timestamp);
        match self
            .clients
            .iter_mut()
            .find(|(c, _)| c.client_id == client_id)
        {
            Some((_, cur)) => *cur = Some(cursor),
            None => self.clients.push((
                ClientIdentity {
                    destination: self.destination.clone(),
                    client_id,
                    filter: Some(String::new()),
                },
                Some(cursor),
            )),
        }
    }

    /// Drops the cursor of `client_id` (every client when `None`), keeping the subscription:
    /// the server then starts from the configured position (or the source's head).
    /// Returns how many cursors were dropped.
    pub fn reset(&mut self, client_id: Option<i16>) -> usize {
        let mut n = 0;
        for (c, cursor) in &mut self.clients {
            if client_id.is_none_or(|id| id == c.client_id) && cursor.take().is_some() {
                n += 1;
            }
        }
        n
    }
}

/// A cursor at `journal:position` (`timestamp` ms optional) with the source identity `known`
/// (the identity of an existing cursor, so the server sees the same source), else the
/// configured master address of `cfg` (slaveId -1, as Canal builds positions).
pub fn new_cursor(
    known: Option<LogIdentity>,
    cfg: &InstanceConfig,
    journal: &str,
    position: i64,
    timestamp: Option<i64>,
) -> LogPosition {
    let identity = known.unwrap_or_else(|| LogIdentity {
        source_address: Some(SourceAddress {
            address: Some(cfg.master.address.host.clone()),
            port: cfg.master.address.port,
        }),
        slave_id: -1,
    });
    LogPosition {
        identity,
        postion: EntryPosition {
            journal_name: Some(journal.to_string()),
            position: Some(position),
            timestamp,
            included: false,
            ..EntryPosition::default()
        },
    }
}

/// JSON view of one cursor (shared by the file and ZooKeeper views).
pub fn cursor_json(p: &LogPosition) -> Value {
    json!({
        "journalName": p.postion.journal_name,
        "position": p.postion.position,
        "timestamp": p.postion.timestamp,
        "serverId": p.postion.server_id,
        "gtid": p.postion.gtid,
        "source": p.identity.source_address.as_ref().map(|a| format!(
            "{}:{}", a.address.as_deref().unwrap_or(""), a.port)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A meta.dat as Java Canal 1.1.8 writes it (operations.md §3.2 shape).
    const JAVA_META: &str = r#"{"clientDatas":[{"clientIdentity":{"clientId":1001,"destination":"example","filter":""},"cursor":{"identity":{"slaveId":-1,"sourceAddress":{"address":"127.0.0.1","port":3307}},"postion":{"gtid":"","included":false,"journalName":"mysql-bin.000003","position":2345,"serverId":1,"timestamp":1700000000000}}}],"destination":"example"}"#;

    fn instance(dir: &Path) -> InstanceConfig {
        let conf = dir.join("conf");
        std::fs::create_dir_all(conf.join("example")).expect("mkdir");
        std::fs::write(
            conf.join("canal.properties"),
            "canal.serverMode=tcp\ncanal.instance.global.mode=spring\ncanal.instance.global.lazy=false\ncanal.conf.dir=../conf\n\
             canal.destinations=example\ncanal.instance.global.spring.xml=classpath:spring/file-instance.xml\n",
        )
        .expect("write");
        std::fs::write(
            conf.join("example/instance.properties"),
            "canal.instance.master.address=10.1.2.3:3306\n",
        )
        .expect("write");
        let s = ServerConfig::load(&conf, canal_config::Overrides::none()).expect("conf");
        let (path, cfg) = locate(&s, "example").expect("file meta");
        assert!(path.ends_with("example/meta.dat"), "{}", path.display());
        cfg
    }

    #[test]
    fn set_keeps_identity_and_round_trips_through_canal_meta() {
        let tmp = tempfile::tempdir().expect("tmp");
        let cfg = instance(tmp.path());
        let path = tmp.path().join("meta.dat");
        std::fs::write(&path, JAVA_META).expect("write");
        let mut m = read("example", &path).expect("reads");
        assert_eq!(m.clients.len(), 1);
        m.set_cursor(&cfg, 1001, "mysql-bin.000002", 4, None);
        m.write().expect("writes");
        let back = read("example", &path).expect("reads");
        let (c, cur) = &back.clients[0];
        assert_eq!(c.client_id, 1001);
        let cur = cur.as_ref().expect("cursor");
        assert_eq!(
            cur.postion.journal_name.as_deref(),
            Some("mysql-bin.000002")
        );
        assert_eq!(cur.postion.position, Some(4));
        // the source stays the one Java recorded, not the configured 10.1.2.3
        let src = cur.identity.source_address.as_ref().expect("source");
        assert_eq!(src.address.as_deref(), Some("127.0.0.1"));
        assert_eq!(src.port, 3307);

        let mut back = back;
        assert_eq!(back.reset(Some(7)), 0);
        assert_eq!(back.reset(None), 1);
        assert!(back.clients[0].1.is_none());
    }

    #[test]
    fn set_on_a_missing_file_subscribes_the_client_at_the_configured_source() {
        let tmp = tempfile::tempdir().expect("tmp");
        let cfg = instance(tmp.path());
        let path = tmp.path().join("x/meta.dat");
        let mut m = read("example", &path).expect("missing reads as empty");
        assert!(!m.exists);
        m.set_cursor(&cfg, 1001, "mysql-bin.000009", 120, Some(5));
        m.write().expect("writes");
        let back = read("example", &path).expect("reads");
        let cur = back.clients[0].1.as_ref().expect("cursor");
        let src = cur.identity.source_address.as_ref().expect("source");
        assert_eq!((src.address.as_deref(), src.port), (Some("10.1.2.3"), 3306));
        assert_eq!(cur.postion.timestamp, Some(5));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("meta.dat");
        std::fs::write(&path, "{\"clientDatas\": 7").expect("write");
        assert!(read("example", &path).is_err());
    }
}
