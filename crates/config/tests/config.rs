//! Loads the shipped conf/ samples and checks that each bad value is rejected with an error
//! naming the key. Expected defaults come from operations.md §4.2/§4.3 (Java's sample files).

use std::fs;
use std::path::{Path, PathBuf};

use canal_config::{
    BatchMode, ConfigError, InstanceMode, MetaMode, Origin, Overrides, ServerConfig, ServerMode,
    SslMode,
};

fn shipped_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf")
}

/// A temp copy of the shipped conf dir with `server_extra` appended to canal.properties and
/// `instance_extra` appended to example/instance.properties (later keys win).
fn conf_with(server_extra: &str, instance_extra: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join("example")).expect("mkdir");
    let mut server = fs::read(shipped_conf().join("canal.properties")).expect("read");
    server.extend_from_slice(format!("\n{server_extra}\n").as_bytes());
    fs::write(conf.join("canal.properties"), server).expect("write");
    let mut inst = fs::read(shipped_conf().join("example/instance.properties")).expect("read");
    inst.extend_from_slice(format!("\n{instance_extra}\n").as_bytes());
    fs::write(conf.join("example/instance.properties"), inst).expect("write");
    tmp
}

fn load(tmp: &tempfile::TempDir) -> Result<ServerConfig, ConfigError> {
    ServerConfig::load(&tmp.path().join("conf"), Overrides::none())
}

fn load_instance(tmp: &tempfile::TempDir) -> Result<canal_config::InstanceConfig, ConfigError> {
    load(tmp)?.load_instance("example")
}

#[test]
fn shipped_samples_load_with_java_defaults() {
    let conf = shipped_conf();
    let s = ServerConfig::load(&conf, Overrides::none()).expect("canal.properties loads");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.ip, None);
    assert_eq!(s.port, 11111);
    assert_eq!(s.metrics_pull_port, Some(11112));
    assert_eq!(s.admin.port, Some(11110));
    assert_eq!(s.admin.user.as_deref(), Some("admin"));
    assert_eq!(s.admin.passwd, None);
    assert_eq!(s.user, None);
    assert_eq!(s.zk_servers, None);
    assert_eq!(s.zookeeper_flush_period_ms, 1000);
    assert!(!s.without_netty);
    assert_eq!(s.server_mode, ServerMode::Tcp);
    assert_eq!(s.destinations, vec!["example".to_string()]);
    assert!(s.auto_scan);
    assert_eq!(s.auto_scan_interval_secs, 5);
    assert_eq!(s.global.mode, InstanceMode::Spring);
    assert!(!s.global.lazy);
    assert_eq!(s.global.meta_mode, MetaMode::File);
    // canal.conf.dir = ../conf relative to {base}/bin is the conf dir itself
    assert_eq!(
        s.scan_dir,
        canal_config::server::resolve_path(&conf, "../conf")
    );
    assert!(s.scan_dir.ends_with("conf"));

    let i = s.load_instance("example").expect("example loads");
    assert!(i.warnings.is_empty(), "{:?}", i.warnings);
    assert_eq!(i.master.address.host, "127.0.0.1");
    assert_eq!(i.master.address.port, 3307);
    assert!(i.master.position.is_empty());
    assert_eq!(i.master.tls.ssl_mode, SslMode::Disabled);
    assert!(i.standby.is_none());
    assert_eq!(i.db_username, "canal");
    assert_eq!(i.db_password, "canal");
    assert_eq!(i.connection_charset, "UTF-8");
    assert_eq!(i.slave_id, None);
    assert!(!i.gtid_on);
    assert_eq!(i.filter.regex.as_deref(), Some(".*\\..*"));
    assert_eq!(i.filter.black_regex.as_deref(), Some("mysql\\.slave_.*"));
    assert_eq!(i.filter.field, None);
    assert!(i.filter.druid_ddl);
    assert!(!i.filter.transaction_entry);
    assert!(i.tsdb.enable);
    assert_eq!(
        i.tsdb.url.as_deref(),
        Some("jdbc:h2:../conf/example/h2;CACHE_SIZE=1000;MODE=MYSQL;")
    );
    assert_eq!(i.tsdb.snapshot_interval_hours, 24);
    assert_eq!(i.tsdb.snapshot_expire_hours, 360);
    assert_eq!(i.detecting.interval_secs, 3); // sample value (XML default would be 5)
    assert_eq!(i.detecting.sql.as_deref(), Some("select 1"));
    assert!(!i.detecting.enable);
    assert_eq!(i.transaction_size, 1024);
    assert_eq!(i.fallback_interval_secs, 60);
    assert_eq!(i.store.buffer_size, 16384);
    assert_eq!(i.store.buffer_memunit, 1024);
    assert_eq!(i.store.batch_mode, BatchMode::MemSize);
    assert!(i.store.raw_entry);
    assert_eq!(i.binlog_formats, vec!["ROW", "STATEMENT", "MIXED"]);
    assert_eq!(i.binlog_images, vec!["FULL", "MINIMAL", "NOBLOB"]);
    assert!(i.parser_parallel);
    assert_eq!(i.parallel_thread_size, None);
    assert_eq!(i.parallel_buffer_size, 256);
    assert_eq!(i.file_data_dir, s.scan_dir);
    assert_eq!(i.data_dir(), s.scan_dir.join("example"));
    assert_eq!(i.file_flush_period_ms, 1000);
    assert_eq!(i.mq.topic.as_deref(), Some("example"));
    assert!(!i.auto_reset_latest_pos_mode);
    assert_eq!(i.receive_buffer_size, 16384);
    assert_eq!(i.so_timeout_secs, 30);
}

#[test]
fn xml_defaults_apply_when_keys_are_absent() {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join("d1")).expect("mkdir");
    fs::write(
        conf.join("canal.properties"),
        "canal.serverMode=tcp\ncanal.destinations=d1\ncanal.instance.global.mode=spring\n\
         canal.instance.global.lazy=false\n\
         canal.instance.global.spring.xml=classpath:spring/memory-instance.xml\n",
    )
    .expect("write");
    fs::write(
        conf.join("d1/instance.properties"),
        "canal.instance.master.address=db:3306\n",
    )
    .expect("write");
    let s = ServerConfig::load(&conf, Overrides::none()).expect("loads");
    assert!(!s.auto_scan, "code default of canal.auto.scan is false");
    assert_eq!(s.global.meta_mode, MetaMode::Memory);
    let i = s.load_instance("d1").expect("loads");
    assert_eq!(i.db_username, "retl");
    assert_eq!(i.db_password, "retl");
    assert_eq!(i.detecting.interval_secs, 5);
    assert!(!i.tsdb.enable, "memory-instance.xml defaults tsdb to false");
    assert_eq!(i.filter.regex.as_deref(), Some(".*\\..*"));
    assert_eq!(i.filter.black_regex, None);
    assert!(i.binlog_formats.is_empty());
    assert_eq!(i.zk_servers, "127.0.0.1:2181");
}

#[test]
fn spring_xml_names_map_to_meta_modes() {
    for (xml, mode) in [
        ("classpath:spring/memory-instance.xml", MetaMode::Memory),
        ("classpath:spring/file-instance.xml", MetaMode::File),
        ("classpath:spring/default-instance.xml", MetaMode::ZooKeeper),
        ("classpath:spring/group-instance.xml", MetaMode::Group),
        ("spring/file-instance.xml", MetaMode::File),
    ] {
        assert_eq!(MetaMode::from_spring_xml(xml), Some(mode), "{xml}");
    }
    assert_eq!(MetaMode::from_spring_xml("classpath:spring/x.xml"), None);
}

#[test]
fn per_destination_overrides_of_global_keys() {
    let tmp = conf_with(
        "canal.destinations = example,second\n\
         canal.instance.second.spring.xml = classpath:spring/memory-instance.xml\n\
         canal.instance.second.lazy = true",
        "",
    );
    let s = load(&tmp).expect("loads");
    assert_eq!(s.destinations, vec!["example", "second"]);
    let second = s.instance_settings("second").expect("ok");
    assert_eq!(second.meta_mode, MetaMode::Memory);
    assert!(second.lazy);
    let example = s.instance_settings("example").expect("ok");
    assert_eq!(example.meta_mode, MetaMode::File);
    assert!(!example.lazy);
}

#[test]
fn destinations_expr_expands() {
    let tmp = conf_with("canal.destinations.expr = shard{1-3}", "");
    let s = load(&tmp).expect("loads");
    assert_eq!(s.destinations, vec!["shard1", "shard2", "shard3"]);
}

#[test]
fn overrides_from_system_properties_and_env() {
    let tmp = conf_with("", "");
    let conf = tmp.path().join("conf");
    let o = Overrides::with(
        [
            ("canal.port".to_string(), "21111".to_string()),
            (
                "canal.instance.master.address".to_string(),
                "10.0.0.9:3306".to_string(),
            ),
        ],
        [
            ("canal.port".to_string(), "31111".to_string()),
            ("canal.zkServers".to_string(), "zk1:2181".to_string()),
            (
                "canal.instance.dbUsername".to_string(),
                "envuser".to_string(),
            ),
            (
                "canal.instance.filter.regex".to_string(),
                "test\\..*".to_string(),
            ),
        ],
    );
    let s = ServerConfig::load(&conf, o).expect("loads");
    assert_eq!(s.port, 21111, "-D beats env beats file");
    assert_eq!(s.zk_servers.as_deref(), Some("zk1:2181"));
    let i = s.load_instance("example").expect("loads");
    assert_eq!(i.master.address.host, "10.0.0.9");
    assert_eq!(i.db_username, "envuser", "env beats instance.properties");
    assert_eq!(i.filter.regex.as_deref(), Some("test\\..*"));
}

#[test]
fn instance_file_overrides_server_file_and_placeholders_resolve() {
    let tmp = conf_with(
        "canal.instance.transaction.size = 2048\nmy.db = 10.1.1.1",
        "canal.instance.transaction.size = 512\n\
         canal.instance.master.address = ${my.db}:${my.port:3310}\n\
         canal.instance.dbUsername = \\u00e9t\\u00e9",
    );
    let s = load(&tmp).expect("loads");
    assert!(
        s.warnings.iter().any(|w| w.contains("unknown key my.db")),
        "{:?}",
        s.warnings
    );
    let i = s.load_instance("example").expect("loads");
    assert_eq!(i.transaction_size, 512);
    assert_eq!(i.master.address.to_string(), "10.1.1.1:3310");
    assert_eq!(i.db_username, "\u{e9}t\u{e9}");
}

#[test]
fn unknown_instance_key_is_warned_not_fatal() {
    let tmp = conf_with("", "canal.instance.filter.regx = foo\\..*");
    let i = load_instance(&tmp).expect("loads");
    assert_eq!(i.warnings.len(), 1, "{:?}", i.warnings);
    assert!(i.warnings[0].contains("canal.instance.filter.regx"));
    assert!(i.warnings[0].contains("instance.properties line"));
}

/// Asserts that `result` is an error about `key` whose message names the key and, for
/// invalid values, the file the value came from.
fn assert_key_error<T: std::fmt::Debug>(result: Result<T, ConfigError>, key: &str, file: &str) {
    let err = result.expect_err("must be rejected");
    assert_eq!(err.key(), Some(key), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(key), "{msg}");
    assert!(msg.contains(file), "message should name {file}: {msg}");
    if let ConfigError::Invalid { origin, .. } = &err {
        assert!(matches!(origin, Origin::File { .. }), "{origin:?}");
    }
}

macro_rules! bad_server_value {
    ($name:ident, $key:expr, $line:expr) => {
        #[test]
        fn $name() {
            let tmp = conf_with($line, "");
            assert_key_error(load(&tmp), $key, "canal.properties");
        }
    };
}

macro_rules! bad_instance_value {
    ($name:ident, $key:expr, $line:expr) => {
        #[test]
        fn $name() {
            let tmp = conf_with("", $line);
            assert_key_error(load_instance(&tmp), $key, "instance.properties");
        }
    };
}

bad_server_value!(bad_port, "canal.port", "canal.port = 11x11");
bad_server_value!(port_out_of_range, "canal.port", "canal.port = 70000");
bad_server_value!(
    bad_metrics_port,
    "canal.metrics.pull.port",
    "canal.metrics.pull.port = abc"
);
bad_server_value!(bad_admin_port, "canal.admin.port", "canal.admin.port = 0");
bad_server_value!(user_without_passwd, "canal.passwd", "canal.user = canal");
bad_server_value!(
    bad_passwd,
    "canal.passwd",
    "canal.user = canal\ncanal.passwd = canal"
);
bad_server_value!(
    bad_admin_passwd,
    "canal.admin.passwd",
    "canal.admin.passwd = admin"
);
bad_server_value!(
    bad_without_netty,
    "canal.withoutNetty",
    "canal.withoutNetty = nope"
);
bad_server_value!(
    bad_server_mode,
    "canal.serverMode",
    "canal.serverMode = udp"
);
bad_server_value!(
    missing_server_mode,
    "canal.serverMode",
    "canal.serverMode ="
);
bad_server_value!(
    bad_zk_flush,
    "canal.zookeeper.flush.period",
    "canal.zookeeper.flush.period = -1"
);
bad_server_value!(
    bad_auto_scan,
    "canal.auto.scan",
    "canal.auto.scan = sometimes"
);
bad_server_value!(
    bad_auto_scan_interval,
    "canal.auto.scan.interval",
    "canal.auto.scan.interval = 0"
);
bad_server_value!(
    bad_destination_name,
    "canal.destinations",
    "canal.destinations = example,../etc"
);
bad_server_value!(
    bad_destinations_expr,
    "canal.destinations.expr",
    "canal.destinations.expr = shard{3-1}"
);
bad_server_value!(
    bad_global_mode,
    "canal.instance.global.mode",
    "canal.instance.global.mode = cluster"
);
bad_server_value!(
    missing_global_mode,
    "canal.instance.global.mode",
    "canal.instance.global.mode ="
);
bad_server_value!(
    bad_global_lazy,
    "canal.instance.global.lazy",
    "canal.instance.global.lazy = maybe"
);
bad_server_value!(
    missing_global_lazy,
    "canal.instance.global.lazy",
    "canal.instance.global.lazy ="
);
bad_server_value!(
    bad_spring_xml,
    "canal.instance.global.spring.xml",
    "canal.instance.global.spring.xml = classpath:spring/mine.xml"
);
bad_server_value!(
    missing_spring_xml,
    "canal.instance.global.spring.xml",
    "canal.instance.global.spring.xml ="
);
bad_server_value!(
    bad_per_destination_xml,
    "canal.instance.example.spring.xml",
    "canal.instance.example.spring.xml = x.xml"
);
bad_server_value!(
    manager_mode_without_address,
    "canal.instance.global.manager.address",
    "canal.instance.global.mode = manager\ncanal.instance.global.manager.address ="
);

bad_instance_value!(
    missing_master_address,
    "canal.instance.master.address",
    "canal.instance.master.address ="
);
bad_instance_value!(
    bad_master_address,
    "canal.instance.master.address",
    "canal.instance.master.address = 127.0.0.1"
);
bad_instance_value!(
    bad_master_port,
    "canal.instance.master.address",
    "canal.instance.master.address = db:99999"
);
bad_instance_value!(
    bad_standby_address,
    "canal.instance.standby.address",
    "canal.instance.standby.address = db"
);
bad_instance_value!(
    bad_position,
    "canal.instance.master.position",
    "canal.instance.master.journal.name = mysql-bin.000001\ncanal.instance.master.position = 4k"
);
bad_instance_value!(
    position_without_journal,
    "canal.instance.master.position",
    "canal.instance.master.position = 1234"
);
bad_instance_value!(
    bad_timestamp,
    "canal.instance.master.timestamp",
    "canal.instance.master.timestamp = yesterday"
);
bad_instance_value!(
    timestamp_in_seconds,
    "canal.instance.master.timestamp",
    "canal.instance.master.timestamp = 1700000000"
);
bad_instance_value!(
    bad_ssl_mode,
    "canal.instance.master.sslMode",
    "canal.instance.master.sslMode = SOMETIMES"
);
bad_instance_value!(
    bad_slave_id,
    "canal.instance.mysql.slaveId",
    "canal.instance.mysql.slaveId = one"
);
bad_instance_value!(
    bad_gtidon,
    "canal.instance.gtidon",
    "canal.instance.gtidon = yes please"
);
bad_instance_value!(
    bad_filter_regex,
    "canal.instance.filter.regex",
    "canal.instance.filter.regex = test\\\\.(unclosed"
);
bad_instance_value!(
    bad_black_regex,
    "canal.instance.filter.black.regex",
    "canal.instance.filter.black.regex = [z-a]"
);
bad_instance_value!(
    bad_field_filter,
    "canal.instance.filter.field",
    "canal.instance.filter.field = test.t1"
);
bad_instance_value!(
    bad_black_field_filter,
    "canal.instance.filter.black.field",
    "canal.instance.filter.black.field = test.t1:"
);
bad_instance_value!(
    bad_filter_bool,
    "canal.instance.filter.rows",
    "canal.instance.filter.rows = ture"
);
bad_instance_value!(
    buffer_size_not_power_of_two,
    "canal.instance.memory.buffer.size",
    "canal.instance.memory.buffer.size = 10000"
);
bad_instance_value!(
    bad_memunit,
    "canal.instance.memory.buffer.memunit",
    "canal.instance.memory.buffer.memunit = 0"
);
bad_instance_value!(
    bad_batch_mode,
    "canal.instance.memory.batch.mode",
    "canal.instance.memory.batch.mode = BYTES"
);
bad_instance_value!(
    transaction_size_not_power_of_two,
    "canal.instance.transaction.size",
    "canal.instance.transaction.size = 1000"
);
bad_instance_value!(
    parallel_buffer_not_power_of_two,
    "canal.instance.parser.parallelBufferSize",
    "canal.instance.parser.parallelBufferSize = 100"
);
bad_instance_value!(
    bad_parallel_threads,
    "canal.instance.parser.parallelThreadSize",
    "canal.instance.parser.parallelThreadSize = 0"
);
bad_instance_value!(
    bad_fallback_interval,
    "canal.instance.fallbackIntervalInSeconds",
    "canal.instance.fallbackIntervalInSeconds = -60"
);
bad_instance_value!(
    bad_detecting_interval,
    "canal.instance.detecting.interval.time",
    "canal.instance.detecting.interval.time = 0"
);
bad_instance_value!(
    detecting_without_sql,
    "canal.instance.detecting.sql",
    "canal.instance.detecting.enable = true\ncanal.instance.detecting.sql ="
);
bad_instance_value!(
    bad_so_timeout,
    "canal.instance.network.soTimeout",
    "canal.instance.network.soTimeout = 30s"
);
bad_instance_value!(
    bad_receive_buffer,
    "canal.instance.network.receiveBufferSize",
    "canal.instance.network.receiveBufferSize = big"
);
bad_instance_value!(
    bad_binlog_format,
    "canal.instance.binlog.format",
    "canal.instance.binlog.format = ROW,JSON"
);
bad_instance_value!(
    bad_binlog_image,
    "canal.instance.binlog.image",
    "canal.instance.binlog.image = FULL,PARTIAL"
);
bad_instance_value!(
    bad_tsdb_enable,
    "canal.instance.tsdb.enable",
    "canal.instance.tsdb.enable = 2"
);
bad_instance_value!(
    bad_snapshot_interval,
    "canal.instance.tsdb.snapshot.interval",
    "canal.instance.tsdb.snapshot.interval = daily"
);
bad_instance_value!(
    bad_charset,
    "canal.instance.connectionCharset",
    "canal.instance.connectionCharset = UTF 8"
);
bad_instance_value!(
    bad_raw_entry,
    "canal.instance.memory.rawEntry",
    "canal.instance.memory.rawEntry = perhaps"
);
bad_instance_value!(
    placeholder_cycle,
    "canal.instance.dbUsername",
    "canal.instance.dbUsername = ${canal.instance.dbPassword}\ncanal.instance.dbPassword = ${canal.instance.dbUsername}"
);

#[test]
fn bad_server_level_instance_default_names_canal_properties() {
    // A canal.instance.* default in canal.properties is validated when the instance loads and
    // the error points at canal.properties.
    let tmp = conf_with("canal.instance.memory.buffer.size = 3", "");
    assert_key_error(
        load_instance(&tmp),
        "canal.instance.memory.buffer.size",
        "canal.properties",
    );
}

#[test]
fn bad_override_names_its_origin() {
    let tmp = conf_with("", "");
    let o = Overrides::with([("canal.port".to_string(), "x".to_string())], []);
    let err = ServerConfig::load(&tmp.path().join("conf"), o).expect_err("rejected");
    assert_eq!(err.key(), Some("canal.port"));
    assert!(err.to_string().contains("-D override"), "{err}");
}

#[test]
fn missing_instance_file_means_missing_address() {
    let tmp = conf_with("canal.destinations = example,ghost", "");
    let s = load(&tmp).expect("loads");
    let err = s.load_instance("ghost").expect_err("no address");
    assert_eq!(err.key(), Some("canal.instance.master.address"));
    assert!(err.to_string().contains("ghost"), "{err}");
}

#[test]
fn canal_conf_override_names_another_server_file() {
    let tmp = conf_with("", "");
    let conf = tmp.path().join("conf");
    let mut text = fs::read_to_string(conf.join("canal.properties")).expect("read");
    text.push_str("\ncanal.port = 12345\n");
    fs::write(conf.join("other.properties"), text).expect("write");
    let o = Overrides::with(
        [(
            "canal.conf".to_string(),
            "classpath:other.properties".to_string(),
        )],
        [],
    );
    let s = ServerConfig::load(&conf, o).expect("loads");
    assert_eq!(s.port, 12345);
    assert!(s.file.ends_with("other.properties"));
    let o = Overrides::with(
        [(
            "canal.conf".to_string(),
            "/nonexistent/x.properties".to_string(),
        )],
        [],
    );
    let err = ServerConfig::load(&conf, o).expect_err("missing file");
    assert!(
        err.to_string().contains("/nonexistent/x.properties"),
        "{err}"
    );
}

#[test]
fn relative_paths_resolve_against_base_bin_like_startup_sh() {
    let tmp = conf_with(
        "canal.file.data.dir = ../data\ncanal.conf.dir = /abs/conf",
        "",
    );
    let s = load(&tmp).expect("loads");
    assert_eq!(s.scan_dir, PathBuf::from("/abs/conf"));
    let i = s.load_instance("example").expect("loads");
    // {base}/bin/../data = {base}/data, {base} = parent of the conf dir
    assert_eq!(i.file_data_dir, tmp.path().join("data"));
}
