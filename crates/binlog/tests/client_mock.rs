//! The replica connection against a scripted in-process server: 16 MiB packet reassembly,
//! artificial events, position tracking, EOF and malformed input (clear errors, no panic).
//! The byte layouts follow the MySQL client/server protocol documentation.

use std::time::Duration;

use canal_binlog::client::{
    start_dump, ClientError, ConnectOptions, Connection, ReplicaOptions, StartPosition,
};
use canal_binlog::event::types;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_CHUNK: usize = 0xFF_FFFF;

async fn write_packet(s: &mut TcpStream, seq: &mut u8, payload: &[u8]) {
    let mut rest = payload;
    loop {
        let n = rest.len().min(MAX_CHUNK);
        let hdr = [
            (n & 0xFF) as u8,
            ((n >> 8) & 0xFF) as u8,
            ((n >> 16) & 0xFF) as u8,
            *seq,
        ];
        s.write_all(&hdr).await.unwrap();
        s.write_all(&rest[..n]).await.unwrap();
        *seq = seq.wrapping_add(1);
        rest = &rest[n..];
        if n < MAX_CHUNK {
            break;
        }
    }
}

async fn read_packet(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut hdr = [0u8; 4];
    s.read_exact(&mut hdr).await.ok()?;
    let len = usize::from(hdr[0]) | usize::from(hdr[1]) << 8 | usize::from(hdr[2]) << 16;
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).await.ok()?;
    Some((hdr[3], buf))
}

fn handshake() -> Vec<u8> {
    handshake_with("mysql_native_password")
}

fn handshake_with(plugin: &str) -> Vec<u8> {
    let mut p = vec![10u8];
    p.extend_from_slice(b"5.7.99-mock\0");
    p.extend_from_slice(&77u32.to_le_bytes());
    p.extend_from_slice(b"abcdefgh\0");
    // CLIENT_LONG_PASSWORD | LONG_FLAG | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION
    let caps: u32 = 0x1 | 0x4 | 0x200 | 0x2000 | 0x8000 | 0x0008_0000 | 0x0020_0000;
    p.extend_from_slice(&(caps as u16).to_le_bytes());
    p.push(33);
    p.extend_from_slice(&2u16.to_le_bytes());
    p.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    p.push(21);
    p.extend_from_slice(&[0u8; 10]);
    p.extend_from_slice(b"ijklmnopqrst\0");
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

fn ok() -> Vec<u8> {
    vec![0, 0, 0, 2, 0, 0, 0]
}

fn lenenc_str(out: &mut Vec<u8>, s: &[u8]) {
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

async fn result_set(s: &mut TcpStream, seq: &mut u8, value: &str) {
    result_rows(s, seq, &["v"], &[vec![value]]).await
}

async fn result_rows(s: &mut TcpStream, seq: &mut u8, cols: &[&str], rows: &[Vec<&str>]) {
    write_packet(s, seq, &[cols.len() as u8]).await;
    for c in cols {
        let mut col = Vec::new();
        for part in [&b"def"[..], b"", b"", b"", c.as_bytes(), c.as_bytes()] {
            lenenc_str(&mut col, part);
        }
        col.extend_from_slice(&[0x0c, 33, 0, 10, 0, 0, 0, 253, 0, 0, 0, 0, 0]);
        write_packet(s, seq, &col).await;
    }
    write_packet(s, seq, &[0xFE, 0, 0, 2, 0]).await;
    for r in rows {
        let mut row = Vec::new();
        for v in r {
            lenenc_str(&mut row, v.as_bytes());
        }
        write_packet(s, seq, &row).await;
    }
    write_packet(s, seq, &[0xFE, 0, 0, 2, 0]).await;
}

fn event(event_type: u8, log_pos: u32, flags: u16, body: &[u8]) -> Vec<u8> {
    let size = (19 + body.len()) as u32;
    let mut e = Vec::with_capacity(size as usize + 1);
    e.push(0); // OK byte of the dump packet
    e.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    e.push(event_type);
    e.extend_from_slice(&9u32.to_le_bytes());
    e.extend_from_slice(&size.to_le_bytes());
    e.extend_from_slice(&log_pos.to_le_bytes());
    e.extend_from_slice(&flags.to_le_bytes());
    e.extend_from_slice(body);
    e
}

/// Serves one connection: auth, queries, then `dump` packets after COM_BINLOG_DUMP.
async fn serve(listener: TcpListener, dump: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    serve_with(listener, dump, &[]).await
}

/// Like [`serve`], answering `show variables like '<name>'` from `vars`. Returns every command
/// packet received, in order.
async fn serve_with(
    listener: TcpListener,
    dump: Vec<Vec<u8>>,
    vars: &[(&str, &str)],
) -> Vec<Vec<u8>> {
    let mut log = Vec::new();
    let (mut s, _) = listener.accept().await.unwrap();
    let mut seq = 0u8;
    write_packet(&mut s, &mut seq, &handshake()).await;
    let (rseq, _resp) = read_packet(&mut s).await.unwrap();
    seq = rseq + 1;
    write_packet(&mut s, &mut seq, &ok()).await;
    while let Some((_, cmd)) = read_packet(&mut s).await {
        log.push(cmd.clone());
        let mut seq = 1u8;
        let sql = String::from_utf8_lossy(cmd.get(1..).unwrap_or_default()).to_ascii_lowercase();
        match cmd.first() {
            Some(0x03) if sql.starts_with("show variables like '") => {
                let name = sql
                    .trim_start_matches("show variables like '")
                    .trim_end_matches('\'');
                let rows: Vec<Vec<&str>> = vars
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(n, v)| vec![*n, *v])
                    .collect();
                result_rows(&mut s, &mut seq, &["Variable_name", "Value"], &rows).await
            }
            Some(0x03) if sql.starts_with("show master status") => {
                result_rows(
                    &mut s,
                    &mut seq,
                    &["File", "Position"],
                    &[vec!["bin.000003", "1234"]],
                )
                .await
            }
            Some(0x03) if cmd[1..].to_ascii_lowercase().starts_with(b"select") => {
                result_set(&mut s, &mut seq, "NONE").await
            }
            Some(0x03) | Some(0x15) => write_packet(&mut s, &mut seq, &ok()).await,
            Some(0x12) | Some(0x1e) => {
                for p in &dump {
                    write_packet(&mut s, &mut seq, p).await;
                }
                // Keep the socket open a moment so the client reads everything.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return log;
            }
            _ => return log,
        }
    }
    log
}

async fn connect(port: u16) -> Connection {
    let mut o = ConnectOptions::new("127.0.0.1", port, "u", "p");
    o.read_timeout = Duration::from_secs(5);
    Connection::connect(&o).await.expect("mock login")
}

fn replica() -> ReplicaOptions {
    ReplicaOptions {
        read_timeout: Duration::from_secs(5),
        ..Default::default()
    }
}

#[tokio::test]
async fn events_split_over_16mib_packets_are_joined_and_positions_tracked() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut rotate = 100u64.to_le_bytes().to_vec();
    rotate.extend_from_slice(b"bin.000007");
    let mut next_rotate = 4u64.to_le_bytes().to_vec();
    next_rotate.extend_from_slice(b"bin.000008");
    let big_body = vec![0xAB; MAX_CHUNK + 1000]; // the packet needs two physical packets
    let big_size = 19 + big_body.len() as u32;
    let dump = vec![
        event(types::ROTATE, 0, 0x20, &rotate), // artificial: file + start
        event(types::FORMAT_DESCRIPTION, 0, 0, &[4, 0]), // re-sent FDE, log_pos 0
        event(types::ROWS_QUERY, 100 + big_size, 0, &big_body), // offset 100
        event(types::XID, 100 + big_size + 27, 0, &5u64.to_le_bytes()), // contiguous
        event(types::ROTATE, 100 + big_size + 27 + 37, 0, &next_rotate), // real: end of file
        event(types::FORMAT_DESCRIPTION, 4 + 21, 0, &[4, 0]), // new file's FDE
        vec![0xFE, 0, 0, 2, 0],                 // EOF: dump ended
    ];
    let server = tokio::spawn(serve(listener, dump));
    let conn = connect(port).await;
    let start = StartPosition::FilePos {
        file: "bin.000007".into(),
        pos: 100,
    };
    let mut s = start_dump(conn, &replica(), &start).await.unwrap();
    assert!(!s.checksum());

    let rot = s.next_event().await.unwrap();
    assert!(rot.artificial);
    assert_eq!(
        (&*rot.file, rot.offset, rot.next_offset),
        ("bin.000007", 100, 100)
    );
    let fde = s.next_event().await.unwrap();
    assert!(fde.artificial);
    assert_eq!((fde.offset, fde.next_offset), (100, 100));
    let big = s.next_event().await.unwrap();
    assert_eq!(big.data.len(), big_size as usize);
    assert!(big.body().iter().all(|&b| b == 0xAB));
    assert_eq!(
        (big.offset, big.next_offset),
        (100, 100 + u64::from(big_size))
    );
    let xid = s.next_event().await.unwrap();
    assert_eq!(xid.event_type(), types::XID);
    assert_eq!(xid.offset, big.next_offset);
    assert_eq!(s.position(), ("bin.000007".into(), xid.next_offset));
    let rot = s.next_event().await.unwrap();
    assert!(!rot.artificial);
    assert_eq!(
        (&*rot.file, rot.offset, rot.next_offset),
        ("bin.000007", xid.next_offset, xid.next_offset + 37)
    );
    assert_eq!(s.position(), ("bin.000008".into(), 4));
    let fde = s.next_event().await.unwrap();
    assert_eq!(
        (&*fde.file, fde.offset, fde.next_offset),
        ("bin.000008", 4, 25)
    );
    let end = s.next_event().await.unwrap_err();
    assert!(matches!(end, ClientError::DumpEnded { .. }), "{end:?}");
    assert!(end.is_transient());
    server.await.unwrap();
}

#[tokio::test]
async fn malformed_events_are_protocol_errors() {
    for bad in [
        vec![0x00, 1, 2, 3], // shorter than a header
        {
            let mut e = event(types::XID, 200, 0, &[0; 8]);
            e[10] = 0xFF; // event_size disagrees with the bytes received
            e
        },
        event(types::ROTATE, 0, 0x20, &[1, 2]), // ROTATE body too short
        vec![0x42, 0, 0],                       // neither OK, ERR nor EOF
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(serve(listener, vec![bad.clone()]));
        let conn = connect(port).await;
        let start = StartPosition::FilePos {
            file: "bin.000001".into(),
            pos: 4,
        };
        let mut s = start_dump(conn, &replica(), &start).await.unwrap();
        let e = s.next_event().await.unwrap_err();
        assert!(matches!(e, ClientError::Protocol { .. }), "{bad:?}: {e:?}");
        server.await.unwrap();
    }
}

#[tokio::test]
async fn server_error_during_dump_is_typed() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut err = vec![0xFF, 0xD4, 0x04, b'#'];
    err.extend_from_slice(b"HY000Could not find first log file name in binary log index file");
    let server = tokio::spawn(serve(listener, vec![err]));
    let conn = connect(port).await;
    let mut s = start_dump(
        conn,
        &replica(),
        &StartPosition::FilePos {
            file: "x.000001".into(),
            pos: 4,
        },
    )
    .await
    .unwrap();
    let e = s.next_event().await.unwrap_err();
    assert!(e.is_purged(), "{e:?}");
    server.await.unwrap();
}

#[tokio::test]
async fn oversized_packet_is_refused_without_allocating() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut seq = 0;
        write_packet(&mut s, &mut seq, &handshake()).await;
        let _ = read_packet(&mut s).await;
        // Announce a 16 MiB - 1 packet that never comes.
        s.write_all(&[0xFF, 0xFF, 0xFF, 2]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    let mut o = ConnectOptions::new("127.0.0.1", port, "u", "p");
    o.max_packet = 1024;
    let e = Connection::connect(&o).await.unwrap_err();
    assert!(matches!(e, ClientError::PacketTooLarge { .. }), "{e:?}");
    assert!(!e.is_transient());
    server.await.unwrap();
}

#[tokio::test]
async fn preflight_reports_binlog_off_and_wrong_format_clearly() {
    use canal_binlog::client::{preflight, PreflightOptions};
    for (vars, want) in [
        (vec![("log_bin", "OFF")], "log_bin=OFF"),
        (
            vec![("log_bin", "ON"), ("binlog_format", "STATEMENT")],
            "binlog_format=STATEMENT",
        ),
        (
            vec![
                ("log_bin", "ON"),
                ("binlog_format", "ROW"),
                ("binlog_row_image", "FULL"),
            ],
            "",
        ),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let owned: Vec<(&'static str, &'static str)> = vars.clone();
        let server = tokio::spawn(async move {
            serve_with(listener, vec![], &owned).await;
        });
        let mut conn = connect(port).await;
        let r = preflight(&mut conn, &PreflightOptions::default()).await;
        if want.is_empty() {
            let st = r.expect("a ROW source passes");
            assert_eq!((st.file.as_str(), st.position), ("bin.000003", 1234));
        } else {
            let e = r.unwrap_err();
            assert!(e.to_string().contains(want), "{vars:?}: {e}");
            assert!(!e.is_transient());
            match want {
                "log_bin=OFF" => assert!(matches!(e, ClientError::BinlogDisabled { .. })),
                _ => assert!(matches!(e, ClientError::BadBinlogSetting { .. })),
            }
        }
        drop(conn);
        server.await.unwrap();
    }
}

/// Canal's dump connection sequence (compat §5.3): the Ssl status queries of every connect, the
/// set-up statements in order, COM_REGISTER_SLAVE, COM_BINLOG_DUMP — byte layouts included.
#[tokio::test]
async fn dump_sends_canals_statements_in_canals_order() {
    const SETUP: [&str; 12] = [
        "SHOW STATUS LIKE 'Ssl_version'",
        "SHOW STATUS LIKE 'Ssl_cipher'",
        "set wait_timeout=9999999",
        "set net_write_timeout=7200",
        "set net_read_timeout=7200",
        "set names 'binary'",
        "set @master_binlog_checksum= @@global.binlog_checksum",
        "set @slave_uuid=uuid()",
        "SET @mariadb_slave_capability='4'",
        "SET @master_heartbeat_period=15000000000",
        "select @@global.binlog_checksum",
        "select @@version_comment",
    ];
    // File/position dump.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(listener, vec![vec![0xFE, 0, 0, 2, 0]]));
    let conn = connect(port).await;
    let local = conn.local_addr().unwrap();
    let opts = ReplicaOptions {
        server_id: 0x0102_0304,
        ..Default::default()
    };
    let start = StartPosition::FilePos {
        file: "mysql-bin.000042".into(),
        pos: 0x0A0B,
    };
    let mut s = start_dump(conn, &opts, &start).await.unwrap();
    assert!(matches!(
        s.next_event().await,
        Err(ClientError::DumpEnded { .. })
    ));
    let log = server.await.unwrap();
    let queries: Vec<String> = log
        .iter()
        .filter(|c| c[0] == 0x03)
        .map(|c| String::from_utf8_lossy(&c[1..]).into_owned())
        .collect();
    assert_eq!(queries, SETUP);
    let kinds: Vec<u8> = log.iter().map(|c| c[0]).collect();
    assert_eq!(&kinds[12..], &[0x15, 0x12]);
    // COM_REGISTER_SLAVE: server id, local host, user, password, local port, rank 0, master 0.
    let mut reg = vec![0x15];
    reg.extend_from_slice(&0x0102_0304u32.to_le_bytes());
    let host = local.ip().to_string();
    reg.push(host.len() as u8);
    reg.extend_from_slice(host.as_bytes());
    reg.extend_from_slice(&[1, b'u', 1, b'p']);
    reg.extend_from_slice(&local.port().to_le_bytes());
    reg.extend_from_slice(&[0; 8]);
    assert_eq!(log[12], reg);
    // COM_BINLOG_DUMP: position u32, flags 0x0002, server id, file name.
    let mut dump = vec![0x12, 0x0B, 0x0A, 0, 0, 0x02, 0x00, 4, 3, 2, 1];
    dump.extend_from_slice(b"mysql-bin.000042");
    assert_eq!(log[13], dump);

    // MySQL GTID dump: same set-up, no COM_REGISTER_SLAVE, then COM_BINLOG_DUMP_GTID.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(listener, vec![vec![0xFE, 0, 0, 2, 0]]));
    let conn = connect(port).await;
    let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    let start = StartPosition::Gtid(format!("{uuid}:1-5:7"));
    let mut s = start_dump(conn, &opts, &start).await.unwrap();
    assert!(s.next_event().await.is_err());
    let log = server.await.unwrap();
    let kinds: Vec<u8> = log.iter().map(|c| c[0]).collect();
    assert_eq!(kinds.len(), 13);
    assert!(kinds[..12].iter().all(|&k| k == 0x03));
    let mut gtid = vec![0x1e, 0x04, 0x00, 4, 3, 2, 1];
    gtid.extend_from_slice(&0u32.to_le_bytes()); // no file name
    gtid.extend_from_slice(&4u64.to_le_bytes()); // position 4
    let mut data = 1u64.to_le_bytes().to_vec(); // one SID
    data.extend_from_slice(&[
        0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95,
        0x62,
    ]);
    data.extend_from_slice(&2u64.to_le_bytes()); // two intervals, end exclusive
    for (a, b) in [(1u64, 6u64), (7, 8)] {
        data.extend_from_slice(&a.to_le_bytes());
        data.extend_from_slice(&b.to_le_bytes());
    }
    gtid.extend_from_slice(&(data.len() as u32).to_le_bytes());
    gtid.extend_from_slice(&data);
    assert_eq!(log[12], gtid);
}

#[tokio::test]
async fn unsupported_auth_plugins_are_clear_definite_errors() {
    // Announced in the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut seq = 0;
        write_packet(&mut s, &mut seq, &handshake_with("auth_gssapi_client")).await;
        let _ = read_packet(&mut s).await;
    });
    let e = Connection::connect(&ConnectOptions::new("127.0.0.1", port, "u", "p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::AuthProtocol { message, .. } if message.contains("auth_gssapi_client")),
        "{e:?}"
    );
    assert!(!e.is_transient());
    server.await.unwrap();

    // Requested by an auth switch after the first answer.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut seq = 0;
        write_packet(&mut s, &mut seq, &handshake()).await;
        let (rseq, _) = read_packet(&mut s).await.unwrap();
        seq = rseq + 1;
        let mut sw = vec![0xFE];
        sw.extend_from_slice(b"dialog\0");
        sw.extend_from_slice(b"Password: ");
        write_packet(&mut s, &mut seq, &sw).await;
        let _ = read_packet(&mut s).await;
    });
    let e = Connection::connect(&ConnectOptions::new("127.0.0.1", port, "u", "p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ClientError::AuthProtocol { message, .. } if message.contains("dialog")),
        "{e:?}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn replica_client_retries_transient_failures_then_gives_up() {
    use canal_binlog::client::{Backoff, ReplicaClient};
    // Nothing listens on port 1: every attempt is refused (transient).
    let o = ConnectOptions::new("127.0.0.1", 1, "u", "p");
    let start = StartPosition::FilePos {
        file: "bin.000001".into(),
        pos: 4,
    };
    let backoff = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(40),
        max_attempts: Some(3),
    };
    let mut client = ReplicaClient::new(o, replica(), start).with_backoff(backoff);
    let t0 = std::time::Instant::now();
    let e = client.next().await.unwrap_err();
    assert!(matches!(e, ClientError::Io { .. }), "{e:?}");
    // Two pauses (20 ms, 40 ms) between the three attempts.
    assert!(
        t0.elapsed() >= Duration::from_millis(60),
        "{:?}",
        t0.elapsed()
    );
}

#[tokio::test]
async fn server_closing_during_the_handshake_is_transient() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (s, _) = listener.accept().await.unwrap();
        drop(s);
    });
    let e = Connection::connect(&ConnectOptions::new("127.0.0.1", port, "u", "p"))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Io { .. }), "{e:?}");
    assert!(e.is_transient());
    server.await.unwrap();
}
