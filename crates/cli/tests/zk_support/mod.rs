//! Helpers of the tests that need only the live standalone ZooKeeper (no source database):
//! the CANAL_TEST_ZK gate and a one-destination conf dir with `canal.zkServers`.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// CANAL_TEST_ZK, or `None` after a note (fails when CI is set).
pub fn zk_addr() -> Option<String> {
    match std::env::var("CANAL_TEST_ZK") {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(!in_ci(), "CI is set but CANAL_TEST_ZK is not");
            eprintln!("note: skipping: CANAL_TEST_ZK unset");
            None
        }
    }
}

/// Writes `<dir>/conf` for destination `example` (source 10.1.2.3:3306, never contacted by these
/// tests) with `canal.zkServers` and the given spring xml; returns the conf dir.
pub fn write_conf(dir: &Path, zk_servers: &str, spring_xml: &str) -> PathBuf {
    let conf = dir.join("conf");
    std::fs::create_dir_all(conf.join("example")).expect("mkdir");
    std::fs::write(
        conf.join("canal.properties"),
        format!(
            "canal.serverMode=tcp\ncanal.instance.global.mode=spring\ncanal.instance.global.lazy=false\n\
             canal.conf.dir=../conf\ncanal.destinations=example\ncanal.auto.scan=false\n\
             canal.instance.global.spring.xml=classpath:spring/{spring_xml}\n\
             canal.zkServers={zk_servers}\n"
        ),
    )
    .expect("write");
    std::fs::write(
        conf.join("example/instance.properties"),
        "canal.instance.master.address=10.1.2.3:3306\n",
    )
    .expect("write");
    conf
}
