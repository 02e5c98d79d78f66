//! Every key Java Canal reads (operations.md §4.2-4.4), to warn about unknown (misspelled) ones.

/// Keys read at server level (launcher/controller) or as server-wide instance defaults.
pub const SERVER_KEYS: &[&str] = &[
    "canal.id",
    "canal.ip",
    "canal.register.ip",
    "canal.port",
    "canal.metrics.pull.port",
    "canal.user",
    "canal.passwd",
    "canal.admin.manager",
    "canal.admin.port",
    "canal.admin.user",
    "canal.admin.passwd",
    "canal.admin.register.auto",
    "canal.admin.register.cluster",
    "canal.admin.register.name",
    "canal.zkServers",
    "canal.zookeeper.flush.period",
    // canal-rs additions (crates/cli/src/ha.rs): HA session timeout and takeover delay (ms)
    "canal.zookeeper.sessionTimeout",
    "canal.zookeeper.takeoverDelay",
    "canal.withoutNetty",
    "canal.serverMode",
    "canal.file.data.dir",
    "canal.file.flush.period",
    "canal.destinations",
    "canal.destinations.expr",
    "canal.conf.dir",
    "canal.conf",
    "canal.auto.scan",
    "canal.auto.scan.interval",
    "canal.auto.reset.latest.pos.mode",
    "canal.socketChannel",
    "canal.instance.global.mode",
    "canal.instance.global.lazy",
    "canal.instance.global.manager.address",
    "canal.instance.global.spring.xml",
    "canal.aliyun.accessKey",
    "canal.aliyun.secretKey",
    "canal.aliyun.accesskey",
    "canal.aliyun.secretkey",
    "canal.aliyun.uid",
];

/// Keys read per destination (Spring XML placeholders); may sit in either file.
pub const INSTANCE_KEYS: &[&str] = &[
    "canal.instance.destination",
    "canal.instance.mysql.slaveId",
    "canal.instance.gtidon",
    "canal.instance.rds.accesskey",
    "canal.instance.rds.secretkey",
    "canal.instance.rds.instanceId",
    "canal.instance.multi.stream.on",
    "canal.instance.dbUsername",
    "canal.instance.dbPassword",
    "canal.instance.connectionCharset",
    "canal.instance.enableDruid",
    "canal.instance.pwdPublicKey",
    "canal.instance.defaultDatabaseName",
    "canal.instance.filter.regex",
    "canal.instance.filter.black.regex",
    "canal.instance.filter.field",
    "canal.instance.filter.black.field",
    "canal.instance.filter.druid.ddl",
    "canal.instance.filter.query.dcl",
    "canal.instance.filter.query.dml",
    "canal.instance.filter.query.ddl",
    "canal.instance.filter.table.error",
    "canal.instance.filter.rows",
    "canal.instance.filter.transaction.entry",
    "canal.instance.filter.dml.insert",
    "canal.instance.filter.dml.update",
    "canal.instance.filter.dml.delete",
    "canal.instance.memory.buffer.size",
    "canal.instance.memory.buffer.memunit",
    "canal.instance.memory.batch.mode",
    "canal.instance.memory.rawEntry",
    "canal.instance.detecting.enable",
    "canal.instance.detecting.sql",
    "canal.instance.detecting.interval.time",
    "canal.instance.detecting.retry.threshold",
    "canal.instance.detecting.heartbeatHaEnable",
    "canal.instance.transaction.size",
    "canal.instance.fallbackIntervalInSeconds",
    "canal.instance.network.receiveBufferSize",
    "canal.instance.network.sendBufferSize",
    "canal.instance.network.soTimeout",
    "canal.instance.binlog.format",
    "canal.instance.binlog.image",
    "canal.instance.get.ddl.isolation",
    "canal.instance.parser.parallel",
    "canal.instance.parser.parallelThreadSize",
    "canal.instance.parser.parallelBufferSize",
    "canal.instance.tsdb.enable",
    "canal.instance.tsdb.dir",
    "canal.instance.tsdb.url",
    "canal.instance.tsdb.dbUsername",
    "canal.instance.tsdb.dbPassword",
    "canal.instance.tsdb.snapshot.interval",
    "canal.instance.tsdb.snapshot.expire",
    "canal.instance.tsdb.spring.xml",
];

/// Per-source keys, after `canal.instance.{master,standby,master1,...}.`.
pub const SOURCE_SUFFIXES: &[&str] = &[
    "address",
    "journal.name",
    "position",
    "timestamp",
    "gtid",
    "sslMode",
    "tlsVersions",
    "trustCertificateKeyStoreType",
    "trustCertificateKeyStoreUrl",
    "trustCertificateKeyStorePassword",
    "clientCertificateKeyStoreType",
    "clientCertificateKeyStoreUrl",
    "clientCertificateKeyStorePassword",
];

/// Source names that take [`SOURCE_SUFFIXES`] (group XML uses the numbered ones).
pub const SOURCE_NAMES: &[&str] = &[
    "master", "standby", "master1", "standby1", "master2", "standby2",
];

/// Key prefixes handed to MQ connectors as a whole (not checked one by one).
pub const PASSTHROUGH_PREFIXES: &[&str] =
    &["canal.mq.", "kafka.", "rocketmq.", "rabbitmq.", "pulsarmq."];

/// Per-destination overrides of the `global` keys: `canal.instance.{dest}.{suffix}`.
pub const PER_DESTINATION_SUFFIXES: &[&str] = &["mode", "lazy", "spring.xml", "manager.address"];

/// Whether `key` is one Java Canal reads.
pub fn is_known(key: &str) -> bool {
    if SERVER_KEYS.contains(&key) || INSTANCE_KEYS.contains(&key) {
        return true;
    }
    if PASSTHROUGH_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return true;
    }
    if let Some(rest) = key.strip_prefix("canal.instance.") {
        for name in SOURCE_NAMES {
            if let Some(suffix) = rest.strip_prefix(name).and_then(|r| r.strip_prefix('.')) {
                if SOURCE_SUFFIXES.contains(&suffix) {
                    return true;
                }
            }
        }
        for suffix in PER_DESTINATION_SUFFIXES {
            if let Some(dest) = rest.strip_suffix(suffix).and_then(|r| r.strip_suffix('.')) {
                if !dest.is_empty() && !dest.contains('.') {
                    return true;
                }
            }
        }
    }
    false
}

/// One warning per key of `props` that Java Canal does not read:
/// `"{file} line {n}: unknown key {key} (ignored)"`.
pub(crate) fn unknown_key_warnings(
    props: &crate::Properties,
    file: &std::path::Path,
) -> Vec<String> {
    props
        .entries()
        .iter()
        .filter(|e| !is_known(&e.key))
        .map(|e| {
            format!(
                "{} line {}: unknown key {} (ignored)",
                file.display(),
                e.line,
                e.key
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::is_known;

    #[test]
    fn known_and_unknown() {
        assert!(is_known("canal.port"));
        assert!(is_known("canal.instance.master.address"));
        assert!(is_known("canal.instance.standby2.journal.name"));
        assert!(is_known("canal.instance.example.spring.xml"));
        assert!(is_known("kafka.bootstrap.servers"));
        assert!(!is_known("canal.prot"));
        assert!(!is_known("canal.instance.filter.regx"));
        assert!(!is_known("canal.instance.master.adress"));
    }
}
