//! Multi-process HA tests with `canal-zk-probe` (the real monitor in its own process, printing
//! a DELIVER line per 20 ms only while its lease is valid) against a real ZooKeeper
//! (CANAL_TEST_ZK). Freezing a process with SIGSTOP past its session timeout is the fencing
//! scenario of issue 5; SIGKILL of the active process is the failover scenario.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

const SESSION_TIMEOUT_MS: u64 = 4000;

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

struct ProbeProc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ProbeProc {
    fn spawn(zk: &str, dest: &str, address: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_canal-zk-probe"))
            .args([
                "--zk",
                zk,
                "--destination",
                dest,
                "--address",
                address,
                "--session-timeout-ms",
                &SESSION_TIMEOUT_MS.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn canal-zk-probe");
        let out = child.stdout.take().expect("stdout");
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                l2.lock().push(line);
            }
        });
        Self { child, lines }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill {sig} {}", self.pid());
    }

    /// Timestamps (ms) of lines starting with `kind`.
    fn times(&self, kind: &str) -> Vec<u128> {
        self.lines
            .lock()
            .iter()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                (it.next() == Some(kind)).then(|| it.last().and_then(|t| t.parse().ok()))?
            })
            .collect()
    }

    fn wait_for_line(&self, line: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.lines.lock().iter().any(|l| l == line) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn wait_for(&self, kind: &str, count: usize, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.times(kind).len() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for ProbeProc {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn frozen_active_server_never_delivers_after_takeover() {
    let Some(zk) = common::zk_addr("frozen_active_server_never_delivers_after_takeover") else {
        return;
    };
    let cs = format!("{zk}{}", common::unique_root("sigstop"));
    let p1 = ProbeProc::spawn(&cs, "example", "10.0.0.1:11111");
    assert!(
        p1.wait_for("ENTER", 1, Duration::from_secs(15)),
        "p1 becomes active"
    );
    let p2 = ProbeProc::spawn(&cs, "example", "10.0.0.2:11111");
    assert!(p2.wait_for_line("READY", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_secs(1));
    assert!(p2.times("ENTER").is_empty(), "p2 is standby");
    assert!(p1.times("DELIVER").len() > 10, "p1 delivers while active");

    // freeze p1 past its session timeout
    let t0 = Instant::now();
    p1.signal("-STOP");
    assert!(
        p2.wait_for("ENTER", 1, Duration::from_secs(25)),
        "standby takes over from a frozen server"
    );
    let takeover = t0.elapsed();
    let enter2 = p2.times("ENTER")[0];
    std::thread::sleep(Duration::from_millis(300));
    let cont_ms = now_ms();
    p1.signal("-CONT");
    assert!(
        p1.wait_for("EXIT", 1, Duration::from_secs(10)),
        "resumed server must stop the destination"
    );
    std::thread::sleep(Duration::from_secs(3));
    eprintln!("SIGSTOP -> standby ENTER: {takeover:?}");

    let late: Vec<u128> = p1
        .times("DELIVER")
        .into_iter()
        .filter(|&t| t >= enter2 || t >= cont_ms)
        .collect();
    assert!(
        late.is_empty(),
        "resumed server delivered {} entries after the takeover (first at {:?}, takeover at {enter2}, resume at {cont_ms})",
        late.len(),
        late.first()
    );
    assert_eq!(
        p1.times("ENTER").len(),
        1,
        "resumed server must not re-enter"
    );
    let d2 = p2.times("DELIVER").len();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        p2.times("DELIVER").len() > d2,
        "the new active server keeps delivering"
    );
    assert!(p2.times("EXIT").is_empty());
}

#[test]
fn killed_active_server_fails_over_to_standby() {
    let Some(zk) = common::zk_addr("killed_active_server_fails_over_to_standby") else {
        return;
    };
    let cs = format!("{zk}{}", common::unique_root("sigkill"));
    let mut p1 = ProbeProc::spawn(&cs, "example", "10.0.0.1:11111");
    assert!(p1.wait_for("ENTER", 1, Duration::from_secs(15)));
    let p2 = ProbeProc::spawn(&cs, "example", "10.0.0.2:11111");
    std::thread::sleep(Duration::from_secs(1));
    assert!(p2.times("ENTER").is_empty());
    let t0 = Instant::now();
    let _ = p1.child.kill(); // SIGKILL
    let _ = p1.child.wait();
    assert!(
        p2.wait_for("ENTER", 1, Duration::from_secs(25)),
        "standby takes over from a killed server"
    );
    let took = t0.elapsed();
    eprintln!(
        "SIGKILL -> standby ENTER: {took:?} (session timeout {SESSION_TIMEOUT_MS} ms + 5 s Canal delay)"
    );
    // session expiry (>= timeout) + Canal's 5 s delay, + ZooKeeper's tick rounding
    assert!(
        took >= Duration::from_millis(SESSION_TIMEOUT_MS + 5000 - 500),
        "{took:?}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn restarted_server_regrabs_as_previous_holder() {
    let Some(zk) = common::zk_addr("restarted_server_regrabs_as_previous_holder") else {
        return;
    };
    let cs = format!("{zk}{}", common::unique_root("restart"));
    let mut p1 = ProbeProc::spawn(&cs, "example", "10.0.0.1:11111");
    assert!(p1.wait_for("ENTER", 1, Duration::from_secs(15)));
    let p2 = ProbeProc::spawn(&cs, "example", "10.0.0.2:11111");
    assert!(p2.wait_for_line("READY", Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(500));
    let _ = p1.child.kill();
    let _ = p1.child.wait();
    // fast restart with the same identity, within the old session's lifetime
    let p1b = ProbeProc::spawn(&cs, "example", "10.0.0.1:11111");
    assert!(p1b.wait_for_line("READY", Duration::from_secs(10)));
    // its cluster node is registered at once (the dead session's leftover is replaced, where
    // Canal ignores NodeExists and loses the node when the old session expires)
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let servers = rt.block_on(async {
        let s = canal_cluster::ZkSession::connect(&cs, canal_cluster::ZkOptions::default())
            .await
            .expect("session");
        let v = canal_cluster::cluster_servers(&s, "example")
            .await
            .expect("list");
        s.close();
        v
    });
    assert_eq!(servers, vec!["10.0.0.1:11111", "10.0.0.2:11111"]);
    // when the old session expires, the restarted previous holder re-grabs with no delay and
    // the standby (which must wait 5 s) never starts
    assert!(
        p1b.wait_for("ENTER", 1, Duration::from_secs(20)),
        "restarted previous holder becomes active again"
    );
    std::thread::sleep(Duration::from_secs(6));
    assert!(p2.times("ENTER").is_empty(), "standby must not start");
    let rt_servers = rt.block_on(async {
        let s = canal_cluster::ZkSession::connect(&cs, canal_cluster::ZkOptions::default())
            .await
            .expect("session");
        let v = canal_cluster::cluster_servers(&s, "example")
            .await
            .expect("list");
        s.close();
        v
    });
    assert_eq!(
        rt_servers,
        vec!["10.0.0.1:11111", "10.0.0.2:11111"],
        "cluster node survives the old session's expiry"
    );
}
