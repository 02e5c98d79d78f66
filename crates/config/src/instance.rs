//! `{dest}/instance.properties` merged over canal.properties: everything one destination needs
//! (operations.md §4.3, the placeholders and defaults of Java's instance XMLs).

use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::keys;
use crate::lookup::InstanceLookup;
use crate::server::{resolve_path, InstanceSettings, MetaMode, ServerConfig};
use crate::values::{
    invalid, parse_bool, parse_choice, parse_choice_list, parse_host_port, parse_pow2, parse_range,
    HostPort,
};

/// `canal.instance.{master|standby}.sslMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disabled,
    /// TLS when the server offers it.
    Preferred,
    /// TLS required, certificate not checked.
    Required,
    /// TLS, certificate checked against the trust store.
    VerifyCa,
    /// As `VerifyCa` plus host name check.
    VerifyIdentity,
}

/// TLS settings towards one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// sslMode.
    pub ssl_mode: SslMode,
    /// tlsVersions (comma list; empty = library default).
    pub tls_versions: Option<String>,
    /// trustCertificateKeyStoreType.
    pub trust_store_type: Option<String>,
    /// trustCertificateKeyStoreUrl.
    pub trust_store_url: Option<String>,
    /// trustCertificateKeyStorePassword.
    pub trust_store_password: Option<String>,
    /// clientCertificateKeyStoreType.
    pub client_store_type: Option<String>,
    /// clientCertificateKeyStoreUrl.
    pub client_store_url: Option<String>,
    /// clientCertificateKeyStorePassword.
    pub client_store_password: Option<String>,
}

/// A configured start position (`canal.instance.{master|standby}.journal.name` etc.).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfiguredPosition {
    /// journal.name.
    pub journal_name: Option<String>,
    /// position (> 0 when set).
    pub position: Option<u64>,
    /// timestamp in ms.
    pub timestamp: Option<i64>,
    /// gtid set text.
    pub gtid: Option<String>,
}

impl ConfiguredPosition {
    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.journal_name.is_none()
            && self.position.is_none()
            && self.timestamp.is_none()
            && self.gtid.is_none()
    }
}

/// One source database (master or standby).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// address.
    pub address: HostPort,
    /// Configured start position.
    pub position: ConfiguredPosition,
    /// TLS.
    pub tls: TlsConfig,
}

/// `canal.instance.memory.batch.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// batchSize × memunit bytes per batch.
    MemSize,
    /// batchSize entries per batch.
    ItemSize,
}

/// The ring buffer store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// buffer.size (slots, power of 2).
    pub buffer_size: u64,
    /// buffer.memunit (bytes).
    pub buffer_memunit: u64,
    /// batch.mode.
    pub batch_mode: BatchMode,
    /// rawEntry.
    pub raw_entry: bool,
    /// get.ddl.isolation.
    pub ddl_isolation: bool,
}

/// Table and event filters (applied by the parser).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterConfig {
    /// filter.regex (comma list of schema.table regexes; `None` = everything).
    pub regex: Option<String>,
    /// filter.black.regex.
    pub black_regex: Option<String>,
    /// filter.field (`schema.table:c1/c2,...`).
    pub field: Option<String>,
    /// filter.black.field.
    pub black_field: Option<String>,
    /// filter.druid.ddl.
    pub druid_ddl: bool,
    /// filter.query.dcl.
    pub query_dcl: bool,
    /// filter.query.dml.
    pub query_dml: bool,
    /// filter.query.ddl.
    pub query_ddl: bool,
    /// filter.table.error.
    pub table_error: bool,
    /// filter.rows.
    pub rows: bool,
    /// filter.transaction.entry.
    pub transaction_entry: bool,
    /// filter.dml.insert.
    pub dml_insert: bool,
    /// filter.dml.update.
    pub dml_update: bool,
    /// filter.dml.delete.
    pub dml_delete: bool,
}

/// Heartbeat against the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectingConfig {
    /// detecting.enable.
    pub enable: bool,
    /// detecting.sql.
    pub sql: Option<String>,
    /// detecting.interval.time (s); also the parser's idle heartbeat period.
    pub interval_secs: u64,
    /// detecting.retry.threshold.
    pub retry_threshold: u32,
    /// detecting.heartbeatHaEnable.
    pub heartbeat_ha_enable: bool,
}

/// Table meta history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsdbConfig {
    /// tsdb.enable.
    pub enable: bool,
    /// tsdb.url (placeholders resolved).
    pub url: Option<String>,
    /// tsdb.dbUsername.
    pub db_username: Option<String>,
    /// tsdb.dbPassword.
    pub db_password: Option<String>,
    /// tsdb.snapshot.interval (hours).
    pub snapshot_interval_hours: u64,
    /// tsdb.snapshot.expire (hours).
    pub snapshot_expire_hours: u64,
    /// tsdb.spring.xml.
    pub spring_xml: Option<String>,
}

/// MQ routing keys (kept as text; only used by MQ server modes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqConfig {
    /// canal.mq.topic.
    pub topic: Option<String>,
    /// canal.mq.dynamicTopic.
    pub dynamic_topic: Option<String>,
    /// canal.mq.partition.
    pub partition: Option<String>,
    /// canal.mq.partitionsNum.
    pub partitions_num: Option<String>,
    /// canal.mq.dynamicTopicPartitionNum.
    pub dynamic_topic_partition_num: Option<String>,
    /// canal.mq.partitionHash.
    pub partition_hash: Option<String>,
    /// canal.mq.enableDynamicQueuePartition.
    pub enable_dynamic_queue_partition: Option<String>,
}

/// Everything one destination needs, validated.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// Destination name.
    pub destination: String,
    /// The instance.properties path (may not exist).
    pub file: PathBuf,
    /// Mode, laziness and meta mode.
    pub settings: InstanceSettings,
    /// canal.instance.mysql.slaveId (`None` = derive, see [`auto_slave_id`]).
    pub slave_id: Option<u32>,
    /// canal.instance.gtidon.
    pub gtid_on: bool,
    /// canal.instance.master.*.
    pub master: SourceConfig,
    /// canal.instance.standby.* (when an address is set).
    pub standby: Option<SourceConfig>,
    /// canal.instance.dbUsername.
    pub db_username: String,
    /// canal.instance.dbPassword.
    pub db_password: String,
    /// canal.instance.connectionCharset.
    pub connection_charset: String,
    /// canal.instance.enableDruid.
    pub enable_druid: bool,
    /// canal.instance.pwdPublicKey.
    pub pwd_public_key: String,
    /// canal.instance.defaultDatabaseName.
    pub default_database_name: Option<String>,
    /// canal.instance.multi.stream.on.
    pub multi_stream_on: bool,
    /// canal.instance.rds.instanceId.
    pub rds_instance_id: Option<String>,
    /// Filters.
    pub filter: FilterConfig,
    /// Heartbeat.
    pub detecting: DetectingConfig,
    /// canal.instance.transaction.size (power of 2).
    pub transaction_size: u64,
    /// canal.instance.fallbackIntervalInSeconds.
    pub fallback_interval_secs: u64,
    /// canal.instance.network.receiveBufferSize.
    pub receive_buffer_size: u32,
    /// canal.instance.network.sendBufferSize.
    pub send_buffer_size: u32,
    /// canal.instance.network.soTimeout (s).
    pub so_timeout_secs: u64,
    /// canal.instance.binlog.format (accepted binlog_format values; empty = no check).
    pub binlog_formats: Vec<String>,
    /// canal.instance.binlog.image (accepted binlog_row_image values; empty = no check).
    pub binlog_images: Vec<String>,
    /// canal.instance.parser.parallel.
    pub parser_parallel: bool,
    /// canal.instance.parser.parallelThreadSize (`None` = 60% of CPUs, at least 1).
    pub parallel_thread_size: Option<u32>,
    /// canal.instance.parser.parallelBufferSize (power of 2).
    pub parallel_buffer_size: u64,
    /// Store.
    pub store: StoreConfig,
    /// Table meta history.
    pub tsdb: TsdbConfig,
    /// canal.auto.reset.latest.pos.mode.
    pub auto_reset_latest_pos_mode: bool,
    /// canal.file.data.dir, resolved (meta.dat lives in `{dir}/{dest}/`).
    pub file_data_dir: PathBuf,
    /// canal.file.flush.period (ms).
    pub file_flush_period_ms: u64,
    /// canal.zkServers for the ZooKeeper meta mode (XML default 127.0.0.1:2181).
    pub zk_servers: String,
    /// canal.zookeeper.flush.period (ms).
    pub zookeeper_flush_period_ms: u64,
    /// MQ routing.
    pub mq: MqConfig,
    /// Non-fatal findings (unknown keys), also logged.
    pub warnings: Vec<String>,
}

/// Java's `String.hashCode` (over UTF-16 units).
fn java_hash_code(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// The slave id Java Canal derives when `canal.instance.mysql.slaveId` <= 0:
/// `((destination.hashCode() & 0x7f) << 24) + (ip[1] << 16) + (ip[2] << 8) + ip[3]`.
pub fn auto_slave_id(destination: &str, local_ipv4: [u8; 4]) -> u32 {
    let high = (java_hash_code(destination) & 0x7f) as u32;
    (high << 24)
        + (u32::from(local_ipv4[1]) << 16)
        + (u32::from(local_ipv4[2]) << 8)
        + u32::from(local_ipv4[3])
}

impl InstanceConfig {
    /// The parser worker count: configured, else 60% of the CPUs (at least 1).
    pub fn parallel_threads(&self) -> u32 {
        self.parallel_thread_size.unwrap_or_else(|| {
            let cpus = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1);
            u32::try_from(cpus * 60 / 100).unwrap_or(1).max(1)
        })
    }

    /// Directory of this destination's meta.dat / parse.dat.
    pub fn data_dir(&self) -> PathBuf {
        self.file_data_dir.join(&self.destination)
    }

    pub(crate) fn build(
        server: &ServerConfig,
        destination: &str,
        settings: InstanceSettings,
        l: &InstanceLookup<'_>,
        file: &Path,
    ) -> Result<InstanceConfig, ConfigError> {
        let warnings = match l.instance {
            Some(p) => keys::unknown_key_warnings(p, file),
            None => Vec::new(),
        };
        let missing = |key: &str, expected: &str| ConfigError::missing(file, key, expected);
        let get = |key: &str, default: Option<&str>| l.get(key, default);
        let text = |key: &str, default: Option<&str>| -> Result<Option<String>, ConfigError> {
            Ok(get(key, default)?.map(|v| v.text))
        };
        let boolean = |key: &str, default: bool| -> Result<bool, ConfigError> {
            match get(key, None)? {
                Some(v) => parse_bool(&v, key),
                None => Ok(default),
            }
        };
        let num = |key: &str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match get(key, None)? {
                Some(v) => parse_range::<u64>(&v, key, min, max),
                None => Ok(default),
            }
        };
        let pow2 = |key: &str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match get(key, None)? {
                Some(v) => parse_pow2(&v, key, max),
                None => Ok(default),
            }
        };

        let source = |name: &str| -> Result<Option<SourceConfig>, ConfigError> {
            let k = |s: &str| format!("canal.instance.{name}.{s}");
            let address = match get(&k("address"), None)? {
                Some(v) => parse_host_port(&v, &k("address"))?,
                None => return Ok(None),
            };
            let position = match get(&k("position"), None)? {
                Some(v) => {
                    Some(parse_range::<u64>(&v, &k("position"), 0, u64::MAX)?).filter(|&p| p > 0)
                }
                None => None,
            };
            let timestamp = match get(&k("timestamp"), None)? {
                Some(v) => {
                    let ts = parse_range::<i64>(&v, &k("timestamp"), 0, i64::MAX)?;
                    // Java takes milliseconds; a 10-digit value is almost surely seconds.
                    if ts > 0 && ts < 100_000_000_000 {
                        return Err(invalid(
                            &v,
                            &k("timestamp"),
                            "milliseconds since the epoch (this looks like seconds)",
                        ));
                    }
                    Some(ts).filter(|&t| t > 0)
                }
                None => None,
            };
            let journal_name = text(&k("journal.name"), None)?;
            if let (Some(v), None) = (get(&k("position"), None)?, &journal_name) {
                if position.is_some() {
                    return Err(invalid(
                        &v,
                        &k("position"),
                        format!("a position together with {}", k("journal.name")),
                    ));
                }
            }
            let ssl_mode = match get(&k("sslMode"), Some("DISABLED"))? {
                Some(v) => match parse_choice(
                    &v,
                    &k("sslMode"),
                    &[
                        "DISABLED",
                        "PREFERRED",
                        "REQUIRED",
                        "VERIFY_CA",
                        "VERIFY_IDENTITY",
                    ],
                )? {
                    0 => SslMode::Disabled,
                    1 => SslMode::Preferred,
                    2 => SslMode::Required,
                    3 => SslMode::VerifyCa,
                    _ => SslMode::VerifyIdentity,
                },
                None => SslMode::Disabled,
            };
            Ok(Some(SourceConfig {
                address,
                position: ConfiguredPosition {
                    journal_name,
                    position,
                    timestamp,
                    gtid: text(&k("gtid"), None)?,
                },
                tls: TlsConfig {
                    ssl_mode,
                    tls_versions: text(&k("tlsVersions"), None)?,
                    trust_store_type: text(&k("trustCertificateKeyStoreType"), None)?,
                    trust_store_url: text(&k("trustCertificateKeyStoreUrl"), None)?,
                    trust_store_password: text(&k("trustCertificateKeyStorePassword"), None)?,
                    client_store_type: text(&k("clientCertificateKeyStoreType"), None)?,
                    client_store_url: text(&k("clientCertificateKeyStoreUrl"), None)?,
                    client_store_password: text(&k("clientCertificateKeyStorePassword"), None)?,
                },
            }))
        };

        let master_key = if settings.meta_mode == MetaMode::Group {
            "master1"
        } else {
            "master"
        };
        let master = source(master_key)?.ok_or_else(|| {
            missing(
                &format!("canal.instance.{master_key}.address"),
                "the source database as host:port",
            )
        })?;
        let standby = source(if master_key == "master1" {
            "standby1"
        } else {
            "standby"
        })?;

        let slave_id = match get("canal.instance.mysql.slaveId", None)? {
            Some(v) => {
                let n = parse_range::<i64>(
                    &v,
                    "canal.instance.mysql.slaveId",
                    i64::MIN,
                    i64::from(u32::MAX),
                )?;
                u32::try_from(n).ok().filter(|&n| n > 0)
            }
            None => None,
        };

        let regex_list =
            |key: &str, default: Option<&str>| -> Result<Option<String>, ConfigError> {
                let Some(v) = get(key, default)? else {
                    return Ok(None);
                };
                for part in v.text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if let Err(e) = regex::RegexBuilder::new(&format!("^(?:{part})$"))
                        .case_insensitive(true)
                        .build()
                    {
                        return Err(invalid(
                            &v,
                            key,
                            format!("a comma list of schema.table regular expressions ({e})"),
                        ));
                    }
                }
                Ok(Some(v.text))
            };
        let field_list = |key: &str| -> Result<Option<String>, ConfigError> {
            let Some(v) = get(key, None)? else {
                return Ok(None);
            };
            for part in v.text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let ok = match part.split_once(':') {
                    Some((table, cols)) => {
                        !table.trim().is_empty() && !cols.trim().is_empty() && !cols.contains(':')
                    }
                    None => false,
                };
                if !ok {
                    return Err(invalid(
                        &v,
                        key,
                        format!("schema.table:col1/col2,... (\"{part}\" is not)"),
                    ));
                }
            }
            Ok(Some(v.text))
        };
        let filter = FilterConfig {
            regex: regex_list("canal.instance.filter.regex", Some(".*\\..*"))?,
            black_regex: regex_list("canal.instance.filter.black.regex", None)?,
            field: field_list("canal.instance.filter.field")?,
            black_field: field_list("canal.instance.filter.black.field")?,
            druid_ddl: boolean("canal.instance.filter.druid.ddl", true)?,
            query_dcl: boolean("canal.instance.filter.query.dcl", false)?,
            query_dml: boolean("canal.instance.filter.query.dml", false)?,
            query_ddl: boolean("canal.instance.filter.query.ddl", false)?,
            table_error: boolean("canal.instance.filter.table.error", false)?,
            rows: boolean("canal.instance.filter.rows", false)?,
            transaction_entry: boolean("canal.instance.filter.transaction.entry", false)?,
            dml_insert: boolean("canal.instance.filter.dml.insert", false)?,
            dml_update: boolean("canal.instance.filter.dml.update", false)?,
            dml_delete: boolean("canal.instance.filter.dml.delete", false)?,
        };

        let detecting = DetectingConfig {
            enable: boolean("canal.instance.detecting.enable", false)?,
            sql: text("canal.instance.detecting.sql", None)?,
            interval_secs: num("canal.instance.detecting.interval.time", 5, 1, 86_400)?,
            retry_threshold: num("canal.instance.detecting.retry.threshold", 3, 0, 1_000_000)?
                as u32,
            heartbeat_ha_enable: boolean("canal.instance.detecting.heartbeatHaEnable", false)?,
        };
        if detecting.enable && detecting.sql.is_none() {
            return Err(missing(
                "canal.instance.detecting.sql",
                "the heartbeat statement, because canal.instance.detecting.enable is true",
            ));
        }

        let batch_mode = match get("canal.instance.memory.batch.mode", Some("MEMSIZE"))? {
            Some(v) => match parse_choice(
                &v,
                "canal.instance.memory.batch.mode",
                &["MEMSIZE", "ITEMSIZE"],
            )? {
                0 => BatchMode::MemSize,
                _ => BatchMode::ItemSize,
            },
            None => BatchMode::MemSize,
        };
        let store = StoreConfig {
            buffer_size: pow2("canal.instance.memory.buffer.size", 16384, 1 << 30)?,
            buffer_memunit: num("canal.instance.memory.buffer.memunit", 1024, 1, 1 << 30)?,
            batch_mode,
            raw_entry: boolean("canal.instance.memory.rawEntry", true)?,
            ddl_isolation: boolean("canal.instance.get.ddl.isolation", false)?,
        };

        let tsdb_default = !matches!(settings.meta_mode, MetaMode::Memory | MetaMode::Group);
        let tsdb = TsdbConfig {
            enable: boolean("canal.instance.tsdb.enable", tsdb_default)?,
            url: text("canal.instance.tsdb.url", None)?,
            db_username: text("canal.instance.tsdb.dbUsername", None)?,
            db_password: text("canal.instance.tsdb.dbPassword", None)?,
            snapshot_interval_hours: num("canal.instance.tsdb.snapshot.interval", 24, 0, 1 << 20)?,
            snapshot_expire_hours: num("canal.instance.tsdb.snapshot.expire", 360, 0, 1 << 20)?,
            spring_xml: text("canal.instance.tsdb.spring.xml", None)?,
        };

        let list = |key: &str, choices: &[&str]| -> Result<Vec<String>, ConfigError> {
            match get(key, None)? {
                Some(v) => parse_choice_list(&v, key, choices),
                None => Ok(Vec::new()),
            }
        };

        let parallel_thread_size = match get("canal.instance.parser.parallelThreadSize", None)? {
            Some(v) => Some(parse_range::<u32>(
                &v,
                "canal.instance.parser.parallelThreadSize",
                1,
                4096,
            )?),
            None => None,
        };

        let file_data_dir = match get("canal.file.data.dir", Some("../conf"))? {
            Some(v) => resolve_path(&server.conf_dir, &v.text),
            None => resolve_path(&server.conf_dir, "../conf"),
        };

        let charset = get("canal.instance.connectionCharset", Some("UTF-8"))?;
        let connection_charset = match charset {
            Some(v) => {
                let ok = v
                    .text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:+".contains(c));
                if !ok {
                    return Err(invalid(
                        &v,
                        "canal.instance.connectionCharset",
                        "a charset name such as UTF-8",
                    ));
                }
                v.text
            }
            None => "UTF-8".to_string(),
        };

        let cfg = InstanceConfig {
            destination: destination.to_string(),
            file: file.to_path_buf(),
            slave_id,
            gtid_on: boolean("canal.instance.gtidon", false)?,
            master,
            standby,
            db_username: text("canal.instance.dbUsername", Some("retl"))?.unwrap_or_default(),
            db_password: text("canal.instance.dbPassword", Some("retl"))?.unwrap_or_default(),
            connection_charset,
            enable_druid: boolean("canal.instance.enableDruid", false)?,
            pwd_public_key: text("canal.instance.pwdPublicKey", Some("retl"))?.unwrap_or_default(),
            default_database_name: text("canal.instance.defaultDatabaseName", None)?,
            multi_stream_on: boolean("canal.instance.multi.stream.on", false)?,
            rds_instance_id: text("canal.instance.rds.instanceId", None)?,
            filter,
            detecting,
            transaction_size: pow2("canal.instance.transaction.size", 1024, 1 << 20)?,
            fallback_interval_secs: num(
                "canal.instance.fallbackIntervalInSeconds",
                60,
                0,
                1 << 32,
            )?,
            receive_buffer_size: num(
                "canal.instance.network.receiveBufferSize",
                16384,
                1,
                1 << 30,
            )? as u32,
            send_buffer_size: num("canal.instance.network.sendBufferSize", 16384, 1, 1 << 30)?
                as u32,
            so_timeout_secs: num("canal.instance.network.soTimeout", 30, 1, 86_400)?,
            binlog_formats: list(
                "canal.instance.binlog.format",
                &["ROW", "STATEMENT", "MIXED"],
            )?,
            binlog_images: list(
                "canal.instance.binlog.image",
                &["FULL", "MINIMAL", "NOBLOB"],
            )?,
            parser_parallel: boolean("canal.instance.parser.parallel", true)?,
            parallel_thread_size,
            parallel_buffer_size: pow2("canal.instance.parser.parallelBufferSize", 256, 1 << 20)?,
            store,
            tsdb,
            auto_reset_latest_pos_mode: boolean("canal.auto.reset.latest.pos.mode", false)?,
            file_data_dir,
            file_flush_period_ms: num("canal.file.flush.period", 1000, 1, 86_400_000)?,
            zk_servers: text("canal.zkServers", Some("127.0.0.1:2181"))?
                .unwrap_or_else(|| "127.0.0.1:2181".to_string()),
            zookeeper_flush_period_ms: num("canal.zookeeper.flush.period", 1000, 1, 86_400_000)?,
            mq: MqConfig {
                topic: text("canal.mq.topic", None)?,
                dynamic_topic: text("canal.mq.dynamicTopic", None)?,
                partition: text("canal.mq.partition", None)?,
                partitions_num: text("canal.mq.partitionsNum", None)?,
                dynamic_topic_partition_num: text("canal.mq.dynamicTopicPartitionNum", None)?,
                partition_hash: text("canal.mq.partitionHash", None)?,
                enable_dynamic_queue_partition: text("canal.mq.enableDynamicQueuePartition", None)?,
            },
            settings,
            warnings,
        };
        for w in &cfg.warnings {
            tracing::warn!("{w}");
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash() {
        // Values of java.lang.String.hashCode from the JDK documentation's formula
        // s[0]*31^(n-1) + ... + s[n-1]: "" -> 0, "a" -> 97, "ab" -> 97*31+98 = 3105.
        assert_eq!(java_hash_code(""), 0);
        assert_eq!(java_hash_code("a"), 97);
        assert_eq!(java_hash_code("ab"), 3105);
        // overflow wraps like Java int arithmetic
        assert_eq!(
            java_hash_code("polygenelubricants"),
            i32::MIN,
            "well-known Java string whose hashCode is Integer.MIN_VALUE"
        );
    }

    #[test]
    fn auto_slave_id_formula() {
        // "a".hashCode() = 97 -> & 0x7f = 97 -> 97 << 24; plus the last three octets.
        assert_eq!(
            auto_slave_id("a", [10, 1, 2, 3]),
            (97u32 << 24) + (1 << 16) + (2 << 8) + 3
        );
    }
}
