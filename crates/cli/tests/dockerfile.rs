//! deploy/Dockerfile without a Docker engine (none runs on the project machine or in CI, so the
//! image itself cannot be built here). This test stands in for `docker build` + `docker run` by
//! reading the Dockerfile and replaying its runtime stage on the host:
//!
//! * every file the runtime stage copies from the build context exists, and the binary it copies
//!   from the build stage is one the build stage builds (`--bin canal-server`);
//! * the EXPOSEd ports are the shipped conf's client, metrics and admin ports;
//! * the runtime layout is recreated under a temp dir (the `COPY` lines, `/opt/canal-rs` remapped),
//!   the ENTRYPOINT is started from the WORKDIR with the image's ENV, and the HEALTHCHECK command
//!   (bash `/dev/tcp` against `/health`) must succeed while the server runs.
//!
//! What it cannot show: that the base images and apt packages exist, and that the build stage's
//! `cargo build --locked` succeeds inside `rust:1-slim-bookworm` (the same command runs in `make
//! test` on this machine's toolchain, which is Debian bookworm too).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Instructions of the Dockerfile, continuation lines joined, comments dropped.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
            continue;
        }
        cur.push_str(t);
        let (op, rest) = cur.split_once(' ').unwrap_or((cur.as_str(), ""));
        out.push((op.to_ascii_uppercase(), rest.trim().to_string()));
        cur.clear();
    }
    out
}

/// A JSON-array instruction argument (`["a", "b"]`).
fn exec_form(arg: &str) -> Vec<String> {
    serde_json::from_str(arg).unwrap_or_else(|e| panic!("not an exec-form array: {arg}: {e}"))
}

fn conf_port(key: &str) -> u16 {
    let text = std::fs::read_to_string(repo().join("conf/canal.properties")).expect("conf");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in conf/canal.properties"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("read_dir") {
            let e = e.expect("entry");
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

#[test]
fn runtime_stage_replayed_on_the_host_passes_its_healthcheck() {
    let text = std::fs::read_to_string(repo().join("deploy/Dockerfile")).expect("Dockerfile");
    let all = instructions(&text);
    let last_from = all.iter().rposition(|(op, _)| op == "FROM").expect("FROM");
    let build = &all[..last_from];
    let runtime = &all[last_from..];

    // The build stage builds the binary the runtime stage takes from it.
    let build_cmd = build
        .iter()
        .filter(|(op, _)| op == "RUN")
        .map(|(_, a)| a.as_str())
        .find(|a| a.contains("cargo build"))
        .expect("cargo build in the build stage");
    assert!(build_cmd.contains("--bin canal-server"), "{build_cmd}");

    // EXPOSE = the shipped conf's ports.
    let exposed: BTreeSet<u16> = runtime
        .iter()
        .filter(|(op, _)| op == "EXPOSE")
        .flat_map(|(_, a)| {
            a.split_whitespace()
                .map(|p| p.parse::<u16>().expect("port"))
        })
        .collect();
    let conf_ports: BTreeSet<u16> = ["canal.port", "canal.metrics.pull.port", "canal.admin.port"]
        .iter()
        .map(|k| conf_port(k))
        .collect();
    assert_eq!(exposed, conf_ports);

    // Replay the runtime stage's COPY lines into a temp root.
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    let map = |p: &str| root.join(p.trim_start_matches('/'));
    let mut workdir = None;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut entrypoint = None;
    let mut healthcheck = None;
    for (op, arg) in runtime {
        match op.as_str() {
            "COPY" => {
                let words: Vec<&str> = arg.split_whitespace().collect();
                let (dest, srcs) = words.split_last().expect("COPY dest");
                if let Some(from) = srcs.first().and_then(|s| s.strip_prefix("--from=")) {
                    assert_eq!(from, "build");
                    assert_eq!(srcs.len(), 2, "{arg}");
                    assert!(srcs[1].ends_with("/release/canal-server"), "{arg}");
                    let to = map(dest);
                    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
                    std::fs::copy(env!("CARGO_BIN_EXE_canal-server"), &to).expect("copy bin");
                    continue;
                }
                for src in srcs {
                    let from = repo().join(src);
                    assert!(from.exists(), "COPY source {src} is missing");
                    let to = if dest.ends_with('/') {
                        map(dest).join(Path::new(src).file_name().expect("name"))
                    } else {
                        map(dest)
                    };
                    if let Some(parent) = to.parent() {
                        std::fs::create_dir_all(parent).expect("mkdir");
                    }
                    copy_tree(&from, &to);
                }
            }
            "RUN" if arg.contains("mkdir -p") => {
                for w in arg.split_whitespace().filter(|w| w.starts_with("/opt/")) {
                    std::fs::create_dir_all(map(w)).expect("mkdir");
                }
            }
            "WORKDIR" => workdir = Some(map(arg)),
            "ENV" => {
                for kv in arg.split_whitespace() {
                    let (k, v) = kv.split_once('=').expect("ENV k=v");
                    env.push((k.to_string(), v.to_string()));
                }
            }
            "ENTRYPOINT" => entrypoint = Some(exec_form(arg)),
            "HEALTHCHECK" => {
                let cmd = arg.split_once("CMD").expect("HEALTHCHECK CMD").1;
                healthcheck = Some(exec_form(cmd.trim()));
            }
            _ => {}
        }
    }
    let workdir = workdir.expect("WORKDIR");
    let entrypoint = entrypoint.expect("ENTRYPOINT");
    let healthcheck = healthcheck.expect("HEALTHCHECK");
    for script in ["startup.sh", "stop.sh", "restart.sh"] {
        assert!(map("/opt/canal-rs/bin").join(script).is_file(), "{script}");
    }

    // Start the ENTRYPOINT as the image would (paths remapped; ports moved off the defaults so
    // parallel tests and a running server do not collide; the source is the shipped conf's,
    // which need not be reachable for /health).
    let metrics = free_port();
    let mut args: Vec<String> = entrypoint[1..]
        .iter()
        .map(|a| {
            if a.starts_with("/opt/") {
                map(a).display().to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    args.extend([
        format!("-Dcanal.port={}", free_port()),
        format!("-Dcanal.metrics.pull.port={metrics}"),
        format!("-Dcanal.admin.port={}", free_port()),
    ]);
    let mut server = Command::new(map(&entrypoint[0]))
        .args(&args)
        .current_dir(&workdir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the ENTRYPOINT");

    let probe = healthcheck
        .iter()
        .map(|a| a.replace("/11112", &format!("/{metrics}")))
        .collect::<Vec<_>>();
    let deadline = Instant::now() + Duration::from_secs(30);
    let healthy = loop {
        let ok = Command::new(&probe[0])
            .args(&probe[1..])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok || Instant::now() > deadline {
            break ok;
        }
        if let Ok(Some(st)) = server.try_wait() {
            panic!("the ENTRYPOINT exited: {st}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let logs_written = map("/opt/canal-rs/logs/canal/canal.log").is_file();
    let _ = server.kill();
    let _ = server.wait();
    assert!(healthy, "HEALTHCHECK {probe:?} never succeeded");
    assert!(
        logs_written,
        "the server logs under /opt/canal-rs/logs/canal"
    );
}
