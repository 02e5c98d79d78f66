//! Quick row-decoding loop for profiling (`perf stat`/`perf record`):
//! `rowspeed <binlog> [iterations] [move]` decodes every event and row `iterations` times
//! (events inside TRANSACTION_PAYLOADs included) and prints wall-clock and CPU-time throughput.
//! Events are borrowed from the `Result` `decode` returns; with `move` they are moved out of it
//! (`let ev = dec.decode(..)?`), which costs a copy of the event.
//!
//! CPU time is this thread's on-CPU time from `/proc/thread-self/schedstat` (Linux), which a
//! loaded, shared machine disturbs much less than wall time. The passes are split into 5
//! rounds (schedstat is only exact over longer intervals), each timed separately; the best
//! and the median round are reported.

use canal_binlog::event::{Event, EventBody, Row};
use canal_binlog::{BinlogFile, DecodeError, EventDecoder};

/// Nanoseconds this thread has run on a CPU (None where schedstat is unavailable).
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// One pass over the file: returns the number of rows decoded. Each event is borrowed from
/// the `Result` that `decode` returns.
fn pass(file: &BinlogFile, row: &mut Row<'static>) -> Result<u64, DecodeError> {
    let mut rows = 0u64;
    let mut dec = EventDecoder::new();
    for raw in file.raw_events() {
        let raw = raw?;
        let decoded = dec.decode(raw.offset, raw.bytes);
        match &decoded {
            Ok(ev) => rows += event_rows(&mut dec, ev, row)?,
            Err(e) => return Err(e.clone()),
        }
    }
    Ok(rows)
}

/// Like [`pass`], but moves each event out of the `Result` (`let ev = dec.decode(..)?`).
fn pass_move(file: &BinlogFile, row: &mut Row<'static>) -> Result<u64, DecodeError> {
    let mut rows = 0u64;
    let mut dec = EventDecoder::new();
    for raw in file.raw_events() {
        let raw = raw?;
        let ev = dec.decode(raw.offset, raw.bytes)?;
        rows += event_rows(&mut dec, &ev, row)?;
    }
    Ok(rows)
}

/// Decodes the rows of one event (and of the events inside a TRANSACTION_PAYLOAD).
#[inline(always)]
fn event_rows(
    dec: &mut EventDecoder,
    ev: &Event<'_>,
    row: &mut Row<'static>,
) -> Result<u64, DecodeError> {
    let mut rows = 0;
    match &ev.body {
        EventBody::Rows(r) => {
            let mut rd = r.reader()?;
            let mut r2: Row<'_> = std::mem::take(row).reuse();
            while rd.next_into(&mut r2)? {
                rows += 1;
            }
            *row = r2.reuse();
        }
        EventBody::TransactionPayload(p) => {
            let inner = dec
                .payload_events(ev.offset, p)
                .collect::<Result<Vec<_>, _>>()?;
            for e in &inner {
                if let EventBody::Rows(r) = &e.body {
                    let mut rd = r.reader()?;
                    let mut r2: Row<'_> = std::mem::take(row).reuse();
                    while rd.next_into(&mut r2)? {
                        rows += 1;
                    }
                    *row = r2.reuse();
                }
            }
        }
        _ => {}
    }
    Ok(rows)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: rowspeed <binlog> [iterations] [move]");
        std::process::exit(2);
    };
    let iters: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1);
    let move_out = args.next().as_deref() == Some("move");
    let file = match BinlogFile::open(&path) {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return eprintln!("error: {e}"),
        Err(e) => return eprintln!("error: {e}"),
    };
    let mut row: Row<'static> = Row::default();
    let mut rows = 0u64;
    let rounds = iters.min(5);
    let mut walls = Vec::with_capacity(rounds);
    let mut cpus = Vec::with_capacity(rounds);
    let start = std::time::Instant::now();
    let cpu_start = thread_cpu_ns();
    let mut done = 0;
    for r in 0..rounds {
        let n = (iters * (r + 1)) / rounds - done;
        done += n;
        let (t, c) = (std::time::Instant::now(), thread_cpu_ns());
        for _ in 0..n {
            let r = if move_out {
                pass_move(&file, &mut row)
            } else {
                pass(&file, &mut row)
            };
            match r {
                Ok(n) => rows += n,
                Err(e) => return eprintln!("error: {e}"),
            }
        }
        let per = |d: f64| d / n as f64;
        walls.push(per(t.elapsed().as_secs_f64()));
        if let (Some(a), Some(b)) = (c, thread_cpu_ns()) {
            cpus.push(per(b.saturating_sub(a) as f64 / 1e9));
        }
    }
    let el = start.elapsed().as_secs_f64();
    let cpu_total = cpu_start
        .zip(thread_cpu_ns())
        .map(|(a, b)| b.saturating_sub(a));
    let mb = file.len() as f64 / 1e6;
    let stats = |v: &mut Vec<f64>| -> (f64, f64) {
        v.sort_by(f64::total_cmp);
        (mb / v[0], mb / v[v.len() / 2])
    };
    let (wall_best, wall_med) = stats(&mut walls);
    println!(
        "{rows} rows, {:.0} MB in {el:.3}s wall: {:.0} MB/s overall, {:.2} M rows/s; per round: wall best {wall_best:.0} MB/s, median {wall_med:.0} MB/s",
        mb * iters as f64,
        mb * iters as f64 / el,
        rows as f64 / el / 1e6,
    );
    if cpus.len() == rounds {
        let total = cpu_total.unwrap_or(0) as f64 / 1e9;
        let (cpu_best, cpu_med) = stats(&mut cpus);
        println!(
            "CPU time {total:.3}s: {:.0} MB per CPU-second overall; per round: best {cpu_best:.0}, median {cpu_med:.0}",
            mb * iters as f64 / total
        );
    }
}
