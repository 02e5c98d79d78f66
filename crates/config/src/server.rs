//! `canal.properties`: server-level settings (operations.md §4.2, §4.4, §4.5).

use std::path::{Component, Path, PathBuf};

use crate::error::{ConfigError, Origin};
use crate::instance::InstanceConfig;
use crate::keys;
use crate::lookup::{server_value, InstanceLookup, Overrides, Value};
use crate::properties::Properties;
use crate::values::{invalid, parse_bool, parse_choice, parse_port, parse_range};

/// `canal.serverMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMode {
    /// Canal client protocol over TCP.
    Tcp,
    /// Kafka producer (Java plugin).
    Kafka,
    /// RocketMQ producer (Java plugin).
    RocketMq,
    /// RabbitMQ producer (Java plugin).
    RabbitMq,
    /// Pulsar producer (Java plugin).
    PulsarMq,
}

/// `canal.instance.{global|dest}.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceMode {
    /// Configuration from local files.
    Spring,
    /// Configuration polled from canal-admin.
    Manager,
}

/// What Java's instance XML (`canal.instance.global.spring.xml`) selects: the meta manager and
/// parser position store (operations.md §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaMode {
    /// `memory-instance.xml`: nothing survives a restart.
    Memory,
    /// `file-instance.xml`: cursors in `{canal.file.data.dir}/{dest}/meta.dat`.
    File,
    /// `default-instance.xml`: cursors in ZooKeeper (period-mixed).
    ZooKeeper,
    /// `group-instance.xml`: several parsers merged, memory meta.
    Group,
}

impl MetaMode {
    /// The Spring XML file name Java uses for this mode.
    pub fn xml_name(self) -> &'static str {
        match self {
            MetaMode::Memory => "memory-instance.xml",
            MetaMode::File => "file-instance.xml",
            MetaMode::ZooKeeper => "default-instance.xml",
            MetaMode::Group => "group-instance.xml",
        }
    }

    /// Maps a `spring.xml` value (`classpath:spring/file-instance.xml`, a bare name or a path)
    /// to a mode by its file name.
    pub fn from_spring_xml(value: &str) -> Option<MetaMode> {
        let v = value.trim();
        let v = v.strip_prefix("classpath:").unwrap_or(v);
        let name = v.rsplit(['/', '\\']).next().unwrap_or(v);
        [
            MetaMode::Memory,
            MetaMode::File,
            MetaMode::ZooKeeper,
            MetaMode::Group,
        ]
        .into_iter()
        .find(|m| m.xml_name().eq_ignore_ascii_case(name))
    }
}

/// How one destination is run: mode, laziness, meta mode (global keys, per-destination
/// overrides `canal.instance.{dest}.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSettings {
    /// spring or manager.
    pub mode: InstanceMode,
    /// Start only on the first subscription.
    pub lazy: bool,
    /// canal-admin address in manager mode.
    pub manager_address: Option<String>,
    /// Meta mode from the spring XML name.
    pub meta_mode: MetaMode,
}

/// canal-admin related settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminConfig {
    /// `canal.admin.manager` (forces manager mode when set).
    pub manager: Option<String>,
    /// `canal.admin.port` (admin server off when absent).
    pub port: Option<u16>,
    /// `canal.admin.user`.
    pub user: Option<String>,
    /// `canal.admin.passwd` (hex of SHA1(SHA1(plain))).
    pub passwd: Option<String>,
    /// `canal.admin.register.auto`.
    pub register_auto: bool,
    /// `canal.admin.register.cluster`.
    pub register_cluster: Option<String>,
    /// `canal.admin.register.name`.
    pub register_name: Option<String>,
}

/// Everything in canal.properties the server itself uses, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The configuration directory (`--conf`); instance files are `{conf_dir}/{dest}/instance.properties`.
    pub conf_dir: PathBuf,
    /// The file that was loaded.
    pub file: PathBuf,
    /// Raw canal.properties.
    pub properties: Properties,
    /// Overrides in force.
    pub overrides: Overrides,
    /// `canal.ip` (bind address; `None` = all interfaces).
    pub ip: Option<String>,
    /// `canal.register.ip`.
    pub register_ip: Option<String>,
    /// `canal.port` (0 = any free port).
    pub port: u16,
    /// `canal.metrics.pull.port` (`None` when <= 0).
    pub metrics_pull_port: Option<u16>,
    /// `canal.user`.
    pub user: Option<String>,
    /// `canal.passwd` (hex of SHA1(SHA1(plain)), 40 hex digits).
    pub passwd: Option<String>,
    /// canal-admin settings.
    pub admin: AdminConfig,
    /// `canal.zkServers` (`None` = standalone).
    pub zk_servers: Option<String>,
    /// `canal.zookeeper.flush.period` in ms.
    pub zookeeper_flush_period_ms: u64,
    /// `canal.withoutNetty`: do not open the client port.
    pub without_netty: bool,
    /// `canal.serverMode`.
    pub server_mode: ServerMode,
    /// `canal.destinations` (or the expansion of `canal.destinations.expr`).
    pub destinations: Vec<String>,
    /// `canal.conf.dir`, resolved: the directory auto-scan watches.
    pub scan_dir: PathBuf,
    /// `canal.auto.scan`.
    pub auto_scan: bool,
    /// `canal.auto.scan.interval` in seconds.
    pub auto_scan_interval_secs: u64,
    /// Global instance settings.
    pub global: InstanceSettings,
    /// Non-fatal findings (unknown keys, adjusted values), also logged with `tracing::warn!`.
    pub warnings: Vec<String>,
}

/// Resolves `path` like Java Canal does: relative paths are relative to `{base}/bin`, the
/// working directory of `startup.sh`, where `{base}` is the parent of the conf directory.
pub fn resolve_path(conf_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return normalize(p);
    }
    let base = conf_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."));
    normalize(&base.join("bin").join(p))
}

/// Lexical normalization (`a/bin/../conf` -> `a/conf`), no file system access.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn is_hex40(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Validates a destination name (a directory name under the conf dir).
fn check_destination(v: &Value, key: &str, name: &str) -> Result<(), ConfigError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.eq_ignore_ascii_case("spring")
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_whitespace() || c.is_control());
    if bad {
        return Err(invalid(
            v,
            key,
            format!("destination names usable as directory names (\"{name}\" is not)"),
        ));
    }
    Ok(())
}

/// Expands `prefix{N-M}` into prefixN..=prefixM.
fn expand_destinations_expr(v: &Value, key: &str) -> Result<Vec<String>, ConfigError> {
    let err = || invalid(v, key, "prefix{N-M} with N <= M");
    let t = v.text.as_str();
    let open = t.find('{').ok_or_else(err)?;
    let close = t.rfind('}').ok_or_else(err)?;
    if close + 1 != t.len() || close < open {
        return Err(err());
    }
    let (a, b) = t[open + 1..close].split_once('-').ok_or_else(err)?;
    let a: u64 = a.trim().parse().map_err(|_| err())?;
    let b: u64 = b.trim().parse().map_err(|_| err())?;
    if a > b || b - a > 10_000 {
        return Err(err());
    }
    Ok((a..=b).map(|n| format!("{}{n}", &t[..open])).collect())
}

impl ServerConfig {
    /// Loads `{conf_dir}/canal.properties` (or the file named by a `canal.conf` override).
    pub fn load(conf_dir: &Path, overrides: Overrides) -> Result<Self, ConfigError> {
        let file = match overrides.system("canal.conf") {
            Some(f) if !f.trim().is_empty() => {
                let f = f.trim();
                match f.strip_prefix("classpath:") {
                    Some(rel) => conf_dir.join(rel),
                    None => PathBuf::from(f),
                }
            }
            _ => conf_dir.join("canal.properties"),
        };
        let properties = Properties::load(&file)?;
        Self::from_properties(conf_dir, &file, properties, overrides)
    }

    /// Builds the configuration from already-parsed canal.properties (`file` is used in messages).
    pub fn from_properties(
        conf_dir: &Path,
        file: &Path,
        properties: Properties,
        overrides: Overrides,
    ) -> Result<Self, ConfigError> {
        let mut warnings = keys::unknown_key_warnings(&properties, file);
        let get = |key: &str| server_value(&overrides, &properties, key);
        // Present and non-blank.
        let get_nb = |key: &str| get(key).filter(|v| !v.text.is_empty());
        let missing = |key: &str, expected: &str| ConfigError::missing(file, key, expected);

        let ip = get_nb("canal.ip").map(|v| v.text);
        let register_ip = get_nb("canal.register.ip").map(|v| v.text);
        // 0 = any free port (as a Java ServerSocket would take it).
        let port = match get_nb("canal.port") {
            Some(v) => parse_range::<u16>(&v, "canal.port", 0, u16::MAX)?,
            None => 11111,
        };
        let metrics_pull_port = match get_nb("canal.metrics.pull.port") {
            Some(v) => {
                let n = parse_range::<i64>(&v, "canal.metrics.pull.port", i64::MIN, 65535)?;
                u16::try_from(n).ok().filter(|&p| p > 0)
            }
            None => Some(11112),
        };
        let user = get_nb("canal.user").map(|v| v.text);
        let passwd = match get_nb("canal.passwd") {
            Some(v) if !is_hex40(&v.text) => {
                return Err(invalid(
                    &v,
                    "canal.passwd",
                    "40 hex digits: hex(SHA1(SHA1(password)))",
                ))
            }
            Some(v) => Some(v.text),
            None => None,
        };
        if user.is_some() && passwd.is_none() {
            return Err(missing(
                "canal.passwd",
                "canal.user is set, so canal.passwd must hold hex(SHA1(SHA1(password)))",
            ));
        }

        let admin_manager = get_nb("canal.admin.manager").map(|v| v.text);
        let admin_port = match get_nb("canal.admin.port") {
            Some(v) => Some(parse_port(&v, "canal.admin.port")?),
            None => None,
        };
        let admin_passwd = match get_nb("canal.admin.passwd") {
            Some(v) if !is_hex40(&v.text) => {
                return Err(invalid(
                    &v,
                    "canal.admin.passwd",
                    "40 hex digits: hex(SHA1(SHA1(password)))",
                ))
            }
            Some(v) => Some(v.text),
            None => None,
        };
        if admin_manager.is_some() && admin_passwd.is_none() {
            return Err(missing(
                "canal.admin.passwd",
                "canal.admin.manager is set, which requires the admin password",
            ));
        }
        let admin = AdminConfig {
            manager: admin_manager.clone(),
            port: admin_port,
            user: get_nb("canal.admin.user").map(|v| v.text),
            passwd: admin_passwd,
            register_auto: match get_nb("canal.admin.register.auto") {
                Some(v) => parse_bool(&v, "canal.admin.register.auto")?,
                None => false,
            },
            register_cluster: get_nb("canal.admin.register.cluster").map(|v| v.text),
            register_name: get_nb("canal.admin.register.name").map(|v| v.text),
        };

        let zk_servers = get_nb("canal.zkServers").map(|v| v.text);
        let zookeeper_flush_period_ms = match get_nb("canal.zookeeper.flush.period") {
            Some(v) => parse_range::<u64>(&v, "canal.zookeeper.flush.period", 1, 86_400_000)?,
            None => 1000,
        };
        let without_netty = match get("canal.withoutNetty") {
            Some(v) => parse_bool(&v, "canal.withoutNetty")?,
            None => false,
        };
        let server_mode = match get_nb("canal.serverMode") {
            Some(v) => match parse_choice(
                &v,
                "canal.serverMode",
                &["tcp", "kafka", "rocketMQ", "rabbitMQ", "pulsarMQ"],
            )? {
                0 => ServerMode::Tcp,
                1 => ServerMode::Kafka,
                2 => ServerMode::RocketMq,
                3 => ServerMode::RabbitMq,
                _ => ServerMode::PulsarMq,
            },
            None => {
                return Err(missing(
                    "canal.serverMode",
                    "tcp, kafka, rocketMQ, rabbitMQ or pulsarMQ",
                ))
            }
        };

        let destinations = if let Some(v) = get_nb("canal.destinations.expr") {
            expand_destinations_expr(&v, "canal.destinations.expr")?
        } else {
            let v = get("canal.destinations").ok_or_else(|| {
                missing(
                    "canal.destinations",
                    "a comma list of destination names (may be empty)",
                )
            })?;
            let mut out: Vec<String> = Vec::new();
            for raw in v.text.split(',') {
                let name = raw.trim();
                if name.is_empty() {
                    continue;
                }
                if name != raw {
                    warnings.push(format!(
                        "canal.destinations: \"{raw}\" has surrounding spaces; Java Canal would look for a directory with them, canal-rs uses \"{name}\""
                    ));
                }
                check_destination(&v, "canal.destinations", name)?;
                if !out.iter().any(|d| d == name) {
                    out.push(name.to_string());
                }
            }
            out
        };
        for d in &destinations {
            let v = Value {
                text: d.clone(),
                origin: Origin::Default,
            };
            check_destination(&v, "canal.destinations.expr", d)?;
        }

        let scan_dir = match get_nb("canal.conf.dir") {
            Some(v) => resolve_path(conf_dir, &v.text),
            None => resolve_path(conf_dir, "../conf"),
        };
        let auto_scan = match get_nb("canal.auto.scan") {
            Some(v) => parse_bool(&v, "canal.auto.scan")?,
            None => false,
        };
        let auto_scan_interval_secs = match get_nb("canal.auto.scan.interval") {
            Some(v) => parse_range::<u64>(&v, "canal.auto.scan.interval", 1, 86_400)?,
            None => 5,
        };

        let global = Self::settings_for(&get_nb, &missing, "global", None, &admin_manager)?;

        let cfg = ServerConfig {
            conf_dir: conf_dir.to_path_buf(),
            file: file.to_path_buf(),
            properties: properties.clone(),
            overrides: overrides.clone(),
            ip,
            register_ip,
            port,
            metrics_pull_port,
            user,
            passwd,
            admin,
            zk_servers,
            zookeeper_flush_period_ms,
            without_netty,
            server_mode,
            destinations,
            scan_dir,
            auto_scan,
            auto_scan_interval_secs,
            global,
            warnings,
        };
        // Per-destination overrides are validated up front too.
        for d in &cfg.destinations {
            cfg.instance_settings(d)?;
        }
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
        Ok(cfg)
    }

    fn settings_for(
        get_nb: &dyn Fn(&str) -> Option<Value>,
        missing: &dyn Fn(&str, &str) -> ConfigError,
        name: &str,
        global: Option<&InstanceSettings>,
        admin_manager: &Option<String>,
    ) -> Result<InstanceSettings, ConfigError> {
        let mode_key = format!("canal.instance.{name}.mode");
        let lazy_key = format!("canal.instance.{name}.lazy");
        let xml_key = format!("canal.instance.{name}.spring.xml");
        let addr_key = format!("canal.instance.{name}.manager.address");
        let mode = if admin_manager.is_some() {
            InstanceMode::Manager
        } else {
            match (get_nb(&mode_key), global) {
                (Some(v), _) => match parse_choice(&v, &mode_key, &["spring", "manager"])? {
                    0 => InstanceMode::Spring,
                    _ => InstanceMode::Manager,
                },
                (None, Some(g)) => g.mode,
                (None, None) => return Err(missing(&mode_key, "spring or manager")),
            }
        };
        let lazy = match (get_nb(&lazy_key), global) {
            (Some(v), _) => parse_bool(&v, &lazy_key)?,
            (None, Some(g)) => g.lazy,
            (None, None) => return Err(missing(&lazy_key, "true or false")),
        };
        let manager_address = match get_nb(&addr_key) {
            Some(v) if v.text == "${canal.admin.manager}" => admin_manager.clone(),
            Some(v) => Some(v.text),
            None => global.and_then(|g| g.manager_address.clone()),
        };
        if mode == InstanceMode::Manager && manager_address.is_none() {
            return Err(missing(
                &addr_key,
                "the canal-admin address (host:port) for manager mode",
            ));
        }
        let meta_mode =
            match (get_nb(&xml_key), global) {
                (Some(v), _) => MetaMode::from_spring_xml(&v.text).ok_or_else(|| {
                    invalid(
                        &v,
                        &xml_key,
                        "classpath:spring/{memory,file,default,group}-instance.xml",
                    )
                })?,
                (None, Some(g)) => g.meta_mode,
                (None, None) if mode == InstanceMode::Spring => return Err(missing(
                    &xml_key,
                    "classpath:spring/file-instance.xml (or memory-, default-, group-instance.xml)",
                )),
                (None, None) => MetaMode::File,
            };
        Ok(InstanceSettings {
            mode,
            lazy,
            manager_address,
            meta_mode,
        })
    }

    /// The settings of `destination` (global keys with `canal.instance.{dest}.*` overrides).
    pub fn instance_settings(&self, destination: &str) -> Result<InstanceSettings, ConfigError> {
        let get_nb = |key: &str| {
            server_value(&self.overrides, &self.properties, key).filter(|v| !v.text.is_empty())
        };
        let missing = |key: &str, expected: &str| ConfigError::missing(&self.file, key, expected);
        Self::settings_for(
            &get_nb,
            &missing,
            destination,
            Some(&self.global),
            &self.admin.manager,
        )
    }

    /// Path of `{conf_dir}/{destination}/instance.properties`.
    pub fn instance_file(&self, destination: &str) -> PathBuf {
        self.conf_dir.join(destination).join("instance.properties")
    }

    /// Resolves a path value against `{base}/bin` like Java's working directory.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        resolve_path(&self.conf_dir, path)
    }

    /// Loads and validates the instance configuration of `destination`.
    pub fn load_instance(&self, destination: &str) -> Result<InstanceConfig, ConfigError> {
        let file = self.instance_file(destination);
        let instance = match Properties::load(&file) {
            Ok(p) => Some(p),
            Err(ConfigError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        self.instance_from(destination, instance.as_ref(), &file)
    }

    /// Builds the instance configuration of `destination` from already-parsed properties.
    pub fn instance_from(
        &self,
        destination: &str,
        instance: Option<&Properties>,
        file: &Path,
    ) -> Result<InstanceConfig, ConfigError> {
        let settings = self.instance_settings(destination)?;
        let lookup = InstanceLookup {
            overrides: &self.overrides,
            server: &self.properties,
            instance,
            destination,
        };
        InstanceConfig::build(self, destination, settings, &lookup, file)
    }
}
