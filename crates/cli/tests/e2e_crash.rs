//! Crash safety of the real binary (file meta, the shipped default): a writer inserts 200k rows
//! (multi-row INSERTs) into the sandbox MariaDB while `canal-server` is killed with SIGKILL at 5
//! random moments (seeded RNG; the seed is printed, set CANAL_E2E_SEED to replay) and restarted
//! on the same conf dir. A Rust consumer acks every batch (in order, keeping one batch in flight
//! so kills also hit un-acked batches) and reconnects after each kill. At the end the ids
//! received must equal `SELECT id` of the table; an id may arrive twice only when the
//! batch that first carried it was not acked before the kill. CLIENTACK has no reply, so an ack
//! counts as done only once the server has answered the next request on the same connection
//! (the protocol is lock-step: the server handled the ack before that reply). canal-rs writes
//! meta.dat through on every ack, so no acked batch may come back (Java's FileMixedMetaManager
//! writes it every flush period and would replay up to a period of acked batches).
//!
//! Gated by CANAL_TEST_MARIADB + CANAL_TEST_MARIADB_SOCKET.

mod e2e_support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canal_client::{CanalClient, ClientConfig};
use canal_protocol::entry::{EntryType, EventType, RowChange};
use e2e_support::{exec, fresh_schema, Server, ServerConf};
use parking_lot::Mutex;
use prost::Message;
use rand::{Rng, SeedableRng};

const ROWS: u32 = 200_000;
const PER_INSERT: u32 = 1_000;
const KILLS: usize = 5;

/// One delivered batch as the consumer saw it.
struct Batch {
    id: i64,
    ids: Vec<u32>,
    acked_at: Option<Instant>,
}

async fn consume(
    port: u16,
    schema: String,
    writer_done: Arc<AtomicBool>,
    batches: Arc<Mutex<Vec<Batch>>>,
) -> usize {
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut reconnects = 0;
    let mut last_rows = Instant::now();
    'outer: while Instant::now() < deadline {
        let cfg = ClientConfig {
            so_timeout: Duration::from_secs(10),
            ..ClientConfig::default()
        };
        let mut client = match CanalClient::connect(("127.0.0.1", port), cfg).await {
            Ok(c) => c,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if client.subscribe(&format!("{schema}\\..*")).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        reconnects += 1;
        // Batches fetched but not yet acked (oldest first): the consumer keeps one batch in
        // flight, so a kill finds un-acked batches too; every batch is acked in order.
        let mut pending: std::collections::VecDeque<(i64, usize)> = Default::default();
        // Acks sent on this connection and not yet confirmed by a later reply.
        let mut unconfirmed: Vec<usize> = Vec::new();
        loop {
            if Instant::now() > deadline {
                break 'outer;
            }
            let msg = match client
                .get_without_ack(1000, Some(Duration::from_millis(300)))
                .await
            {
                Ok(m) => m,
                Err(_) => continue 'outer, // killed: reconnect
            };
            {
                let now = Instant::now();
                let mut b = batches.lock();
                for idx in unconfirmed.drain(..) {
                    b[idx].acked_at = Some(now);
                }
            }
            let idle = msg.id == -1 || msg.entries.is_empty();
            if !idle {
                let mut ids = Vec::new();
                for e in &msg.entries {
                    let h = e.header.clone().unwrap_or_default();
                    if e.entry_type() != EntryType::Rowdata
                        || h.event_type() != EventType::Insert
                        || h.schema_name() != schema
                    {
                        continue;
                    }
                    let rc = RowChange::decode(e.store_value()).expect("RowChange");
                    for r in &rc.row_datas {
                        let id = r
                            .after_columns
                            .first()
                            .and_then(|c| c.value().parse::<u32>().ok())
                            .expect("id column");
                        ids.push(id);
                    }
                }
                if !ids.is_empty() {
                    last_rows = Instant::now();
                }
                let mut b = batches.lock();
                b.push(Batch {
                    id: msg.id,
                    ids,
                    acked_at: None,
                });
                pending.push_back((msg.id, b.len() - 1));
            }
            let keep = if idle { 0 } else { 1 };
            while pending.len() > keep {
                let Some((id, idx)) = pending.pop_front() else {
                    break;
                };
                if client.ack(id).await.is_err() {
                    continue 'outer;
                }
                unconfirmed.push(idx);
            }
            if idle
                && writer_done.load(Ordering::SeqCst)
                && last_rows.elapsed() > Duration::from_secs(8)
            {
                break 'outer;
            }
        }
    }
    reconnects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_five_times_during_200k_rows() {
    let Some(source) = e2e_support::source("CANAL_TEST_MARIADB") else {
        return;
    };
    let seed: u64 = std::env::var("CANAL_E2E_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    println!("crash test seed: {seed} (replay with CANAL_E2E_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let plan: Vec<(Duration, Duration)> = (0..KILLS)
        .map(|_| {
            (
                Duration::from_millis(rng.random_range(1_000..6_000)),
                Duration::from_millis(rng.random_range(0..1_000)),
            )
        })
        .collect();
    println!("kill plan (run time before kill, downtime): {plan:?}");

    let schema = format!("e2e_crash_{}", std::process::id());
    let mut admin = source.admin().await;
    let start = fresh_schema(
        &mut admin,
        &schema,
        &[format!(
            "CREATE TABLE {schema}.t (id INT PRIMARY KEY, v VARCHAR(40))"
        )],
    )
    .await;
    let filter = format!("{schema}\\\\..*");
    let conf = ServerConf::new(
        &source,
        &start,
        &[("canal.instance.filter.regex", &filter)],
        &[],
    );
    let mut server = Server::start(&conf, 0);
    let t0 = Instant::now();

    let writer_done = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(Mutex::new(Vec::new()));
    let consumer = tokio::spawn(consume(
        conf.port,
        schema.clone(),
        writer_done.clone(),
        batches.clone(),
    ));
    let writer = {
        let (schema, done, source) = (schema.clone(), writer_done.clone(), source.clone());
        tokio::spawn(async move {
            let mut c = source.admin().await;
            let mut id = 0u32;
            while id < ROWS {
                let mut sql = format!("INSERT INTO {schema}.t VALUES ");
                for k in 0..PER_INSERT {
                    id += 1;
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("({id},'row {id} of the crash test')"));
                }
                c.query(&sql).await.expect("insert");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut kills = Vec::new();
    for (i, (run, down)) in plan.iter().enumerate() {
        tokio::time::sleep(*run).await;
        kills.push(Instant::now());
        server.kill9();
        println!(
            "kill {} at {:.1}s ({} batches so far)",
            i + 1,
            t0.elapsed().as_secs_f64(),
            batches.lock().len()
        );
        tokio::time::sleep(*down).await;
        server = Server::start(&conf, i + 1);
    }
    writer.await.expect("writer");
    println!("writer done at {:.1}s", t0.elapsed().as_secs_f64());
    let reconnects = consumer.await.expect("consumer");
    println!(
        "consumer idle at {:.1}s after {reconnects} connections",
        t0.elapsed().as_secs_f64()
    );

    let table: HashSet<u32> = admin
        .query(&format!("SELECT id FROM {schema}.t"))
        .await
        .expect("select")
        .rows
        .iter()
        .filter_map(|r| r.first().cloned().flatten())
        .filter_map(|v| v.parse().ok())
        .collect();
    exec(&mut admin, &[format!("DROP DATABASE IF EXISTS {schema}")]).await;
    drop(server);
    assert_eq!(table.len(), ROWS as usize);

    let batches = batches.lock();
    let mut seen: HashMap<u32, Vec<usize>> = HashMap::new();
    for (bi, b) in batches.iter().enumerate() {
        for id in &b.ids {
            seen.entry(*id).or_default().push(bi);
        }
    }
    let received: HashSet<u32> = seen.keys().copied().collect();
    let missing: Vec<u32> = {
        let mut m: Vec<u32> = table.difference(&received).copied().collect();
        m.sort_unstable();
        m
    };
    let extra: Vec<u32> = received.difference(&table).copied().collect();
    let (mut dup_unacked, mut bad) = (0usize, Vec::new());
    for (id, deliveries) in &seen {
        for bi in &deliveries[..deliveries.len() - 1] {
            let b = &batches[*bi];
            // the next delivery must be explained by a kill after this one
            match b.acked_at {
                None => dup_unacked += 1,
                Some(at) => bad.push((
                    *id,
                    b.id,
                    kills
                        .iter()
                        .map(|k| k.saturating_duration_since(at))
                        .collect::<Vec<_>>(),
                )),
            }
        }
    }
    println!(
        "rows: table {} received {} (unique) in {} batches; duplicates: {} from un-acked batches; \
         total {:.1}s",
        table.len(),
        received.len(),
        batches.len(),
        dup_unacked,
        t0.elapsed().as_secs_f64()
    );
    assert!(
        missing.is_empty(),
        "{} rows never delivered, first: {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(extra.is_empty(), "ids not in the table: {extra:?}");
    assert!(
        bad.is_empty(),
        "{} ids redelivered although their batch was acked, e.g. (id, batch, time \
         from ack to each kill) {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
}
