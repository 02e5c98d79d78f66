//! `cargo run -p canal-binlog --example decode -- <binlog file>`: one JSON line per event
//! (what `canalctl decode` prints). Exit code 1 and an error naming the offset on failure.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: decode <binlog file>");
        std::process::exit(2);
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Err(e) = canal_binlog::dump::dump_file_json(&path, &mut out) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
