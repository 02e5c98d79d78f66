//! Quick row-decoding loop for profiling (`perf stat`/`perf record`):
//! `rowspeed <binlog> [iterations]` decodes every event and row `iterations` times.

use canal_binlog::event::{EventBody, Row};
use canal_binlog::{BinlogFile, EventDecoder};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: rowspeed <binlog> [iterations]");
        std::process::exit(2);
    };
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let file = match BinlogFile::open(&path) {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return eprintln!("error: {e}"),
        Err(e) => return eprintln!("error: {e}"),
    };
    let start = std::time::Instant::now();
    let mut rows = 0u64;
    let mut row: Row<'static> = Row::default();
    for _ in 0..iters {
        let mut dec = EventDecoder::new();
        for raw in file.raw_events() {
            let raw = match raw {
                Ok(r) => r,
                Err(e) => return eprintln!("error: {e}"),
            };
            let ev = match dec.decode(raw.offset, raw.bytes) {
                Ok(e) => e,
                Err(e) => return eprintln!("error: {e}"),
            };
            if let EventBody::Rows(r) = &ev.body {
                let Ok(mut rd) = r.reader() else { continue };
                let mut r2: Row<'_> = std::mem::take(&mut row).reuse();
                while let Ok(true) = rd.next_into(&mut r2) {
                    rows += 1;
                }
                row = r2.reuse();
            }
        }
    }
    let el = start.elapsed().as_secs_f64();
    let mb = (file.len() * iters) as f64 / 1e6;
    println!(
        "{rows} rows, {mb:.0} MB in {el:.3}s wall: {:.0} MB/s, {:.2} M rows/s",
        mb / el,
        rows as f64 / el / 1e6
    );
}
