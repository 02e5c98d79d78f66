//! The daemon without a database: auto-scan starts a destination whose directory appears and
//! stops it when the directory goes, while another keeps running; the parsers of unreachable
//! sources keep retrying in the background without blocking start or shutdown.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_cli::daemon::Daemon;
use canal_config::{Overrides, ServerConfig};

fn write_instance(conf: &Path, dest: &str) {
    fs::create_dir_all(conf.join(dest)).expect("mkdir");
    // Port 1 on localhost: connection refused, the parser retries with backoff.
    fs::write(
        conf.join(dest).join("instance.properties"),
        "canal.instance.master.address = 127.0.0.1:1\n",
    )
    .expect("write");
}

async fn wait_until(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_scan_adds_and_removes_destinations() {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(&conf).expect("mkdir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf");
    fs::copy(
        shipped.join("canal.properties"),
        conf.join("canal.properties"),
    )
    .expect("copy");
    write_instance(&conf, "example");
    let o = Overrides::with(
        [
            ("canal.auto.scan.interval".to_string(), "1".to_string()),
            (
                "canal.instance.global.spring.xml".to_string(),
                "classpath:spring/memory-instance.xml".to_string(),
            ),
        ],
        [],
    );
    let server = Arc::new(ServerConfig::load(&conf, o).expect("conf"));
    let started = Instant::now();
    let daemon = Daemon::start(server, Some(0)).await.expect("starts");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an unreachable source does not block the start"
    );
    assert!(daemon.local_addr.is_some());
    assert!(daemon.controller.is_running("example"));
    assert_eq!(daemon.embedded.names(), vec!["example".to_string()]);

    write_instance(&conf, "second");
    let c = daemon.controller.clone();
    assert!(
        wait_until(|| c.is_running("second")).await,
        "scan started the new destination"
    );
    assert!(
        daemon.embedded.destination("second").is_some(),
        "registered with the server"
    );

    fs::remove_dir_all(conf.join("second")).expect("rm");
    assert!(
        wait_until(|| !c.is_running("second")).await,
        "scan stopped the removed destination"
    );
    assert!(daemon.embedded.destination("second").is_none());
    assert!(
        c.is_running("example"),
        "the other destination kept running"
    );

    let stopping = Instant::now();
    daemon.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "shutdown interrupts the retry backoff"
    );
    assert!(c.running().is_empty());
}

/// `canal.instance.global.lazy=true`: nothing starts at boot; the first subscription starts
/// the destination (Java §2.6 / §4.5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_destination_starts_on_first_subscription() {
    let tmp = tempfile::tempdir().expect("tmp");
    let conf = tmp.path().join("conf");
    fs::create_dir_all(&conf).expect("mkdir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf");
    fs::copy(
        shipped.join("canal.properties"),
        conf.join("canal.properties"),
    )
    .expect("copy");
    write_instance(&conf, "example");
    let o = Overrides::with(
        [
            ("canal.instance.global.lazy".to_string(), "true".to_string()),
            ("canal.auto.scan".to_string(), "false".to_string()),
            (
                "canal.instance.global.spring.xml".to_string(),
                "classpath:spring/memory-instance.xml".to_string(),
            ),
        ],
        [],
    );
    let server = Arc::new(ServerConfig::load(&conf, o).expect("conf"));
    let daemon = Daemon::start(server, Some(0)).await.expect("starts");
    assert!(
        !daemon.controller.is_running("example"),
        "lazy: not started at boot"
    );
    let port = daemon.local_addr.expect("bound").port();

    let mut client = canal_client::CanalClient::connect(
        ("127.0.0.1", port),
        canal_client::ClientConfig {
            destination: "example".into(),
            // A ROLLBACK before the first SUB fails on a stopped destination (Java too:
            // only SUB starts a lazy one); Java's connector subscribes first.
            rollback_on_connect: false,
            ..canal_client::ClientConfig::default()
        },
    )
    .await
    .expect("connects");
    client
        .subscribe("")
        .await
        .expect("subscribe starts the destination");
    assert!(daemon.controller.is_running("example"));
    let msg = client
        .get_without_ack(10, Some(Duration::from_millis(100)))
        .await
        .expect("get");
    assert_eq!(msg.id, -1, "nothing parsed from an unreachable source");
    let _ = client.disconnect().await;
    daemon.stop().await;
}
