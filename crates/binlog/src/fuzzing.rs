//! Support for the `binlog_event` fuzz target and the robustness tests: feeds arbitrary bytes
//! through every decoding path (framing, events, TRANSACTION_PAYLOAD inner events, rows, values,
//! JSON, JSON diffs, the dump renderer). Not part of the stable API.
#![warn(missing_docs)]

use crate::decoder::EventDecoder;
use crate::event::{Event, EventBody, Row};
use crate::file::{RawEvents, MAGIC};
use crate::value::Value;

/// Builds a FORMAT_DESCRIPTION event for `server_version` (binlog v4, checksum-aware layout)
/// with the usual post-header lengths; `crc32` selects the checksum algorithm.
pub fn synthetic_fde(server_version: &str, crc32: bool) -> Vec<u8> {
    let mut phl = vec![0u8; 171];
    for (t, l) in [
        (2u8, 13u8),
        (4, 8),
        (15, 84),
        (19, 8),
        (23, 8),
        (24, 8),
        (25, 8),
        (30, 10),
        (31, 10),
        (32, 10),
        (39, 10),
    ] {
        phl[t as usize - 1] = l;
    }
    for t in 166..=168 {
        phl[t - 1] = 8;
    }
    for t in 169..=171 {
        phl[t - 1] = 10;
    }
    phl[164] = 13; // MARIA_QUERY_COMPRESSED
    let mut body = Vec::new();
    body.extend_from_slice(&4u16.to_le_bytes());
    let mut v = [0u8; 50];
    let n = server_version.len().min(50);
    v[..n].copy_from_slice(&server_version.as_bytes()[..n]);
    body.extend_from_slice(&v);
    body.extend_from_slice(&0u32.to_le_bytes());
    body.push(19);
    body.extend_from_slice(&phl);
    body.push(crc32 as u8);
    let size = 19 + body.len() + 4;
    let mut ev = Vec::with_capacity(size);
    ev.extend_from_slice(&0u32.to_le_bytes());
    ev.push(crate::event::types::FORMAT_DESCRIPTION);
    ev.extend_from_slice(&1u32.to_le_bytes());
    ev.extend_from_slice(&(size as u32).to_le_bytes());
    ev.extend_from_slice(&0u32.to_le_bytes());
    ev.extend_from_slice(&0u16.to_le_bytes());
    ev.extend_from_slice(&body);
    let crc = crc32fast::hash(&ev);
    ev.extend_from_slice(&crc.to_le_bytes());
    ev
}

fn exercise_value(v: &Value<'_>) {
    let _ = v.to_string();
    match v {
        Value::Json(b) => {
            if let Ok(j) = crate::json::parse(b) {
                let _ = crate::json::write_text(&j, &mut String::new());
            }
        }
        Value::JsonDiff(b) => {
            for d in crate::json::diffs(b) {
                if let Ok(d) = d {
                    if let Some(Ok(j)) = d.parsed_value() {
                        let _ = crate::json::write_text(&j, &mut String::new());
                    }
                } else {
                    break;
                }
            }
        }
        _ => {}
    }
    let _ = crate::dump::value_json(v);
}

fn exercise_event(ev: &Event<'_>) {
    let _ = crate::dump::event_json("f", ev, false);
    if let EventBody::Rows(r) = &ev.body {
        if let Ok(mut rd) = r.reader() {
            let mut row = Row::default();
            let mut n = 0;
            while let Ok(true) = rd.next_into(&mut row) {
                for v in row
                    .before
                    .iter()
                    .chain(row.after.iter())
                    .flatten()
                    .flatten()
                {
                    exercise_value(v);
                }
                n += 1;
                if n > 100_000 {
                    break;
                }
            }
        }
        for r in r.rows().take(4) {
            let _ = r;
        }
    }
}

/// Decodes `data` every way it can. A file (magic first) is read as such; anything else
/// is a stream of events whose first byte selects checksum on/off (bit 0), CRC verification
/// (bit 1) and a MariaDB (bit 2) vs MySQL 8 FORMAT_DESCRIPTION fed before it.
pub fn decode_anything(data: &[u8]) {
    let mut dec = EventDecoder::new();
    dec.set_max_uncompressed(1 << 20);
    let (events, offset) = if data.starts_with(&MAGIC) {
        (&data[4..], 4u64)
    } else {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        let fde = synthetic_fde(
            if mode & 4 != 0 {
                "10.11.6-MariaDB-log"
            } else {
                "8.0.40"
            },
            mode & 1 != 0,
        );
        if dec.decode(0, &fde).is_err() {
            return;
        }
        dec.set_verify_checksum(mode & 2 != 0);
        (rest, 4u64)
    };
    for raw in RawEvents::new(events, offset) {
        let Ok(raw) = raw else { break };
        let Ok(ev) = dec.decode(raw.offset, raw.bytes) else {
            continue;
        };
        exercise_event(&ev);
        if let EventBody::TransactionPayload(p) = &ev.body {
            let inner: Vec<_> = dec.payload_events(ev.offset, p).collect();
            for e in inner.iter().flatten() {
                exercise_event(e);
            }
        }
    }
}
