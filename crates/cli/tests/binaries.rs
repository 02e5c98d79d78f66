//! The binaries as an operator runs them: exit codes and messages.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shipped_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf")
}

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CANAL_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the shared dir {} is missing",
        dir.display()
    );
    eprintln!("note: {} missing, skipping", dir.display());
    None
}

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_canal-server"))
}

#[test]
fn check_accepts_the_shipped_conf() {
    let out = server()
        .arg("--conf")
        .arg(shipped_conf())
        .arg("--check")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("[\"example\"]"), "{stdout}");
}

#[test]
fn bad_define_is_rejected_naming_the_key() {
    let out = server()
        .arg("--conf")
        .arg(shipped_conf())
        .arg("--check")
        .arg("-Dcanal.port=eleven")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("canal.port") && err.contains("eleven"),
        "{err}"
    );
}

#[test]
fn bad_instance_file_is_rejected_naming_file_and_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join("example")).expect("mkdir");
    fs::copy(
        shipped_conf().join("canal.properties"),
        conf.join("canal.properties"),
    )
    .expect("copy");
    fs::write(
        conf.join("example/instance.properties"),
        "canal.instance.master.address = 127.0.0.1:3307\ncanal.instance.memory.buffer.size = 1000\n",
    )
    .expect("write");
    let out = server()
        .arg("--conf")
        .arg(&conf)
        .arg("--check")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("canal.instance.memory.buffer.size"), "{err}");
    assert!(err.contains("instance.properties line 2"), "{err}");
}

#[test]
fn unsupported_server_mode_is_refused() {
    let out = server()
        .arg("--conf")
        .arg(shipped_conf())
        .arg("--check")
        .arg("-Dcanal.serverMode=kafka")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("canal.serverMode"), "{err}");
}

#[test]
fn canalctl_decode_prints_events_and_entries() {
    let Some(shared) = shared_dir() else {
        return;
    };
    let file = shared.join("fixtures/binlog/BinlogVisualizer/minimal.binlog");
    if !file.exists() {
        eprintln!("note: {} missing, skipping", file.display());
        return;
    }
    let ctl = || Command::new(env!("CARGO_BIN_EXE_canalctl"));
    let out = ctl().arg("decode").arg(&file).output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // A binlog file starts with FORMAT_DESCRIPTION at offset 4.
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.contains("\"FORMAT_DESCRIPTION\"") && first.contains(":4\""),
        "{first}"
    );

    let out = ctl()
        .arg("decode")
        .arg("--entries")
        .arg(&file)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() > 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert!(v.get("entryType").is_some(), "{line}");
    }

    let out = ctl()
        .arg("decode")
        .arg("/nonexistent/binlog")
        .output()
        .expect("runs");
    assert!(!out.status.success());
}

#[test]
fn zookeeper_meta_mode_is_refused_with_the_key() {
    let out = server()
        .arg("--conf")
        .arg(shipped_conf())
        .arg("--check")
        .arg("-Dcanal.instance.global.spring.xml=classpath:spring/default-instance.xml")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("default-instance.xml") && err.contains("canal.instance.global.spring.xml"),
        "{err}"
    );
}
