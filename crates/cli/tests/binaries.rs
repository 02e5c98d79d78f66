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

#[test]
fn sigterm_stops_the_daemon_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(conf.join("example")).expect("mkdir");
    fs::copy(
        shipped_conf().join("canal.properties"),
        conf.join("canal.properties"),
    )
    .expect("copy");
    // Unreachable source: the parser retries in the background, the daemon still runs.
    fs::write(
        conf.join("example/instance.properties"),
        "canal.instance.master.address = 127.0.0.1:1\n",
    )
    .expect("write");
    let out_path = tmp.path().join("out.log");
    let out = fs::File::create(&out_path).expect("out");
    let err = out.try_clone().expect("clone");
    let mut child = server()
        .arg("--conf")
        .arg(&conf)
        .arg("-Dcanal.port=0")
        .env("RUST_LOG", "info")
        // log lines on the process output too (not a terminal here)
        .env("CANAL_LOG_CONSOLE", "1")
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let running = loop {
        let text = fs::read_to_string(&out_path).unwrap_or_default();
        if text.contains("## the canal server is running now") {
            break true;
        }
        if std::time::Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    if !running {
        let _ = child.kill();
        panic!("{}", fs::read_to_string(&out_path).unwrap_or_default());
    }
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("did not stop within 20 s after SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let text = fs::read_to_string(&out_path).unwrap_or_default();
    assert!(exit.success(), "{exit:?}\n{text}");
    assert!(text.contains("## canal server is down."), "{text}");
    // Java's log layout: logs/ next to conf/, server log and per-destination log.
    assert!(tmp.path().join("logs/canal/canal.log").exists());
    assert!(tmp.path().join("logs/example/example.log").exists());
}

#[test]
fn canalctl_check_conf_prints_the_settings() {
    let out = Command::new(env!("CARGO_BIN_EXE_canalctl"))
        .arg("check-conf")
        .arg("--conf")
        .arg(shipped_conf())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("destination example: master 127.0.0.1:3307 meta File"),
        "{text}"
    );
}
