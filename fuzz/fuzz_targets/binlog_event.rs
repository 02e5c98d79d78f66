//! Fuzz target for the binlog event decoder (crates/binlog): arbitrary bytes go through framing,
//! event decoding, TRANSACTION_PAYLOAD inner events, row images, JSON / JSON-diff parsing and the
//! dump renderer (see `canal_binlog::fuzzing::decode_anything` for how the input is interpreted).
//! Any panic, hang or runaway allocation is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    canal_binlog::fuzzing::decode_anything(data);
});
