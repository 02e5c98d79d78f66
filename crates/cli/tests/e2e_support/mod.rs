//! Shared helpers of the `e2e_*` tests: sandbox gating (CANAL_TEST_MARIADB / CANAL_TEST_MYSQL9
//! (+ `_SOCKET`), CANAL_TEST_PYTHON), a temp conf dir built from the shipped `conf/`, and a
//! spawned `canal-server` process (the real binary, `CARGO_BIN_EXE_canal-server`) that is killed
//! when dropped.
#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use canal_binlog::client::conn::{ConnectOptions, Connection};

/// A sandbox database server named by its CANAL_TEST_* variable.
#[derive(Debug, Clone)]
pub struct Source {
    /// Variable name (CANAL_TEST_MARIADB / CANAL_TEST_MYSQL9).
    pub var: &'static str,
    /// `host:port` for the replica connection of canal-server.
    pub addr: String,
    /// Unix socket of the root session that runs the workload.
    pub socket: String,
    /// Replication user.
    pub user: String,
    /// Replication password.
    pub password: String,
    /// Oracle MySQL (true) or MariaDB.
    pub mysql: bool,
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Skips (note, `None`) when the variable is unset; panics when CI is set.
fn gate(what: &str) -> bool {
    assert!(!in_ci(), "CI is set but {what} is not");
    eprintln!("note: {what} unset, skipping this end-to-end test");
    false
}

/// The sandbox behind `var` (needs `var` and `var_SOCKET`), or `None` (skip).
pub fn source(var: &'static str) -> Option<Source> {
    let addr = std::env::var(var).ok().filter(|s| !s.is_empty());
    let socket = std::env::var(format!("{var}_SOCKET"))
        .ok()
        .filter(|s| !s.is_empty());
    match (addr, socket) {
        (Some(addr), Some(socket)) => Some(Source {
            var,
            addr,
            socket,
            user: std::env::var(format!("{var}_USER")).unwrap_or_else(|_| "canal".into()),
            password: std::env::var(format!("{var}_PASSWORD")).unwrap_or_else(|_| "canal".into()),
            mysql: var.contains("MYSQL"),
        }),
        _ => {
            gate(&format!("{var} / {var}_SOCKET"));
            None
        }
    }
}

/// The Python interpreter with canal-python 0.4 (CANAL_TEST_PYTHON), or `None` (skip).
pub fn python() -> Option<String> {
    match std::env::var("CANAL_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            gate("CANAL_TEST_PYTHON");
            None
        }
    }
}

impl Source {
    /// A root session over the Unix socket (runs the workload).
    pub async fn admin(&self) -> Connection {
        let mut o = ConnectOptions::new("localhost", 3306, "root", "");
        o.socket = Some(self.socket.clone().into());
        o.read_timeout = Duration::from_secs(300);
        Connection::connect(&o)
            .await
            .unwrap_or_else(|e| panic!("root connection over {}: {e}", self.socket))
    }
}

/// Runs each statement, panicking with the statement text on failure.
pub async fn exec(c: &mut Connection, sqls: &[String]) {
    for q in sqls {
        if let Err(e) = c.query(q).await {
            panic!("{q}: {e}");
        }
    }
}

/// Current binlog file and position of the source.
/// Recreates database `schema` with the given `CREATE TABLE` statements and returns the
/// source's position after them (where a test's canal-server starts).
pub async fn fresh_schema(c: &mut Connection, schema: &str, tables: &[String]) -> (String, u64) {
    let fresh = [
        format!("DROP DATABASE IF EXISTS {schema}"),
        format!("CREATE DATABASE {schema}"),
    ];
    let all: Vec<String> = fresh.into_iter().chain(tables.iter().cloned()).collect();
    exec(c, &all).await;
    master_position(c).await
}

pub async fn master_position(c: &mut Connection) -> (String, u64) {
    let s = canal_binlog::client::binlog_status(c)
        .await
        .expect("binlog status");
    (s.file, s.position)
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The workspace's `/tests/python` directory.
pub fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python")
}

/// A temp directory with `conf/` (shipped canal.properties + `example/instance.properties`
/// pointed at the source) and the command-line overrides of one server.
pub struct ServerConf {
    /// Keeps the temp dir alive.
    pub tmp: tempfile::TempDir,
    /// The conf directory.
    pub conf: PathBuf,
    /// canal.port.
    pub port: u16,
    /// `-Dkey=value` arguments.
    pub overrides: Vec<String>,
}

/// Replaces `key = ...` lines of a properties text (or appends the key).
fn set_property(text: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let mut out = String::new();
    for line in text.lines() {
        let k = line.split('=').next().unwrap_or("").trim();
        if !line.trim_start().starts_with('#') && k == key {
            if !found {
                out.push_str(&format!("{key} = {value}\n"));
            }
            found = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !found {
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

impl ServerConf {
    /// Conf for `source` starting at `start` (binlog file, position); `instance` and `server`
    /// are extra properties (instance.properties lines / `-D` overrides).
    pub fn new(
        source: &Source,
        start: &(String, u64),
        instance: &[(&str, &str)],
        server: &[(&str, &str)],
    ) -> ServerConf {
        let tmp = tempfile::tempdir().expect("tmp");
        let conf = tmp.path().join("conf");
        fs::create_dir_all(conf.join("example")).expect("mkdir");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf");
        fs::copy(
            shipped.join("canal.properties"),
            conf.join("canal.properties"),
        )
        .expect("copy canal.properties");
        let mut inst =
            fs::read_to_string(shipped.join("example/instance.properties")).expect("read");
        let pos = start.1.to_string();
        // A replica id of its own: the shipped conf leaves slaveId to Canal's generator, which
        // gives every server on this host the same id, and MariaDB then drops the older dump
        // connection of two test servers running at once (ERROR 4052).
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let slave_id = (200_000
            + (std::process::id() % 100_000) * 16
            + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 16)
            .to_string();
        let mut props: Vec<(&str, &str)> = vec![
            ("canal.instance.mysql.slaveId", &slave_id),
            ("canal.instance.master.address", &source.addr),
            ("canal.instance.dbUsername", &source.user),
            ("canal.instance.dbPassword", &source.password),
            ("canal.instance.master.journal.name", &start.0),
            ("canal.instance.master.position", &pos),
            ("canal.instance.master.timestamp", ""),
        ];
        props.extend_from_slice(instance);
        for (k, v) in props {
            inst = set_property(&inst, k, v);
        }
        fs::write(conf.join("example/instance.properties"), inst).expect("write");
        let port = free_port();
        let mut overrides = vec![
            format!("-Dcanal.port={port}"),
            "-Dcanal.metrics.pull.port=0".to_string(),
            format!("-Dcanal.admin.port={}", free_port()),
            // no rescans of the conf dir while a test runs
            "-Dcanal.auto.scan=false".to_string(),
        ];
        overrides.extend(server.iter().map(|(k, v)| format!("-D{k}={v}")));
        ServerConf {
            tmp,
            conf,
            port,
            overrides,
        }
    }

    /// The log file of the `n`-th start.
    fn log_path(&self, n: usize) -> PathBuf {
        self.tmp.path().join(format!("server-{n}.out"))
    }
}

/// A running `canal-server` child process; killed (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    log: PathBuf,
    /// canal.port.
    pub port: u16,
}

impl Server {
    /// Spawns the binary (`TZ=UTC`) and waits until canal.port accepts connections.
    pub fn start(conf: &ServerConf, n: usize) -> Server {
        let log = conf.log_path(n);
        let out = fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_canal-server"))
            .arg("--conf")
            .arg(&conf.conf)
            .arg("--logs")
            .arg(conf.tmp.path().join("logs"))
            .args(&conf.overrides)
            .env("TZ", "UTC")
            // log lines to the process output too (log_tail, warnings); the files stay
            .env("CANAL_LOG_CONSOLE", "1")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn canal-server");
        let mut s = Server {
            child: Some(child),
            log,
            port: conf.port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", s.port)).is_ok() {
                return s;
            }
            if let Some(c) = s.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    panic!("canal-server exited with {st}:\n{}", s.log_tail());
                }
            }
            assert!(
                Instant::now() < deadline,
                "canal-server did not listen on {} within 60 s:\n{}",
                s.port,
                s.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // std sends SIGKILL on Unix
            let _ = c.wait();
        }
    }

    /// Last 4 KB of the server's output.
    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        let cut = s.len().saturating_sub(4096);
        let cut = (cut..s.len()).find(|i| s.is_char_boundary(*i)).unwrap_or(0);
        s[cut..].to_string()
    }

    /// Lines of every start's output (all logs of this conf) holding WARN or ERROR.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let Some(dir) = self.log.parent() else {
            return out;
        };
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files.iter().filter(|f| {
            f.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("server-") && n.ends_with(".out"))
        }) {
            let text = fs::read_to_string(f).unwrap_or_default();
            out.extend(
                text.lines()
                    .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                    .map(str::to_string),
            );
        }
        out
    }

    /// `VmRSS` / `VmHWM` (bytes) from /proc/<pid>/status.
    pub fn memory(&self) -> Option<(u64, u64)> {
        let f = fs::File::open(format!("/proc/{}/status", self.pid())).ok()?;
        let (mut rss, mut hwm) = (None, None);
        for line in BufReader::new(f).lines().map_while(Result::ok) {
            let kb = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(|v| v * 1024)
            };
            if line.starts_with("VmRSS:") {
                rss = kb(&line);
            } else if line.starts_with("VmHWM:") {
                hwm = kb(&line);
            }
        }
        Some((rss?, hwm?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- canal-server output (tail) ---\n{}", self.log_tail());
        }
        self.kill9();
    }
}
