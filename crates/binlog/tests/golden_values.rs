//! Value-level checks against the golden binlogs (real MariaDB 10.11 / MySQL 9.7 servers).
//! Every expected value below is written from the statement in the workload's workload.sql
//! (or from MySQL's documented storage rules where the server normalises the input), never
//! from this decoder's output.

mod common;

use std::path::PathBuf;

use canal_binlog::event::{EventBody, Row, RowsKind};
use canal_binlog::json::{self, JsonDiffOp};
use canal_binlog::value::Value;
use canal_binlog::{BinlogFile, EventDecoder};

/// One decoded rows event: table, kind, and per row the rendered images.
#[derive(Debug)]
struct RowsOut {
    table: String,
    kind: RowsKind,
    offset: u64,
    rows: Vec<(Option<String>, Option<String>)>,
    raw_json_diffs: Vec<Vec<u8>>,
}

fn golden(workload: &str) -> Option<PathBuf> {
    let p = common::shared_dir()?
        .join("golden")
        .join(workload)
        .join("binlog/mysql-bin.000001");
    assert!(p.exists(), "{} missing", p.display());
    Some(p)
}

fn days_to_civil(z: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse (proleptic Gregorian).
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn render(v: &Value<'_>, unsigned: bool) -> String {
    match *v {
        Value::Int { value, width } if unsigned => {
            let mask = if width >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * width)) - 1
            };
            ((value as u64) & mask).to_string()
        }
        Value::Timestamp {
            seconds,
            micros,
            fsp,
        } => {
            if seconds == 0 && micros == 0 {
                return format!("0{}", frac(micros, fsp));
            }
            let (y, m, d) = days_to_civil(seconds as i64 / 86_400);
            let s = seconds % 86_400;
            format!(
                "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}{}",
                s / 3600,
                s / 60 % 60,
                s % 60,
                frac(micros, fsp)
            )
        }
        Value::String(b) | Value::Blob(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => format!("0x{}", hex(b)),
        },
        Value::Geometry(b) => format!("0x{}", hex(b)),
        Value::Json(b) => {
            let mut s = String::new();
            json::write_text(&json::parse(b).unwrap(), &mut s).unwrap();
            s
        }
        Value::JsonDiff(_) => "<diff>".into(),
        _ => v.to_string(),
    }
}

fn frac(micros: u32, fsp: u8) -> String {
    if fsp == 0 {
        String::new()
    } else {
        format!(".{}", &format!("{micros:06}")[..fsp as usize])
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn decode(path: &PathBuf) -> Vec<RowsOut> {
    let f = BinlogFile::open(path).unwrap().unwrap();
    let mut dec = EventDecoder::new();
    let mut out = vec![];
    let mut handle = |ev: &canal_binlog::event::Event<'_>| {
        let EventBody::Rows(r) = &ev.body else { return };
        let t = r.table.clone().expect("table mapped");
        let names = t
            .meta
            .column_names
            .clone()
            .expect("FULL metadata has names");
        let unsigned = t.meta.unsigned.clone().unwrap_or_default();
        let img = |i: &Option<Vec<Option<Value<'_>>>>| {
            i.as_ref().map(|cols| {
                cols.iter()
                    .enumerate()
                    .filter_map(|(k, v)| {
                        let v = v.as_ref()?;
                        let u = unsigned.get(k).copied().flatten().unwrap_or(false);
                        Some(format!(
                            "{}={}",
                            names[k],
                            if v.is_null() {
                                "NULL".into()
                            } else {
                                render(v, u)
                            }
                        ))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        let mut rows = vec![];
        let mut diffs = vec![];
        for row in r.rows() {
            let row: Row<'_> = row.unwrap();
            for v in row.after.iter().flatten().flatten() {
                if let Value::JsonDiff(d) = v {
                    diffs.push(d.to_vec());
                }
            }
            rows.push((img(&row.before), img(&row.after)));
        }
        out.push(RowsOut {
            table: t.table.clone(),
            kind: r.kind,
            offset: ev.offset,
            rows,
            raw_json_diffs: diffs,
        });
    };
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        handle(&ev);
        if let EventBody::TransactionPayload(p) = &ev.body {
            for e in dec.payload_events(ev.offset, p) {
                handle(&e.unwrap());
            }
        }
    }
    out
}

fn after_rows<'a>(evs: &'a [RowsOut], table: &str) -> Vec<&'a str> {
    evs.iter()
        .filter(|e| e.table == table && e.kind == RowsKind::Write)
        .flat_map(|e| e.rows.iter().map(|r| r.1.as_deref().unwrap()))
        .collect()
}

#[test]
fn mysql97_types_mixed_ints_decimals_bits() {
    let Some(p) = golden("mysql-9.7/types-mixed") else {
        return;
    };
    let evs = decode(&p);
    let ints = after_rows(&evs, "ints");
    assert_eq!(ints[0], "id=1, ti=-128, tiu=0, si=-32768, siu=0, mi=-8388608, miu=0, i=-2147483648, iu=0, bi=-9223372036854775808, biu=0, b=0");
    assert_eq!(ints[1], "id=2, ti=127, tiu=255, si=32767, siu=65535, mi=8388607, miu=16777215, i=2147483647, iu=4294967295, bi=9223372036854775807, biu=18446744073709551615, b=1");
    assert_eq!(ints[2], "id=3, ti=-1, tiu=128, si=-1, siu=32768, mi=-1, miu=8388608, i=-1, iu=2147483648, bi=-1, biu=9223372036854775808, b=1");
    assert_eq!(ints[4], "id=5, ti=NULL, tiu=NULL, si=NULL, siu=NULL, mi=NULL, miu=NULL, i=NULL, iu=NULL, bi=NULL, biu=NULL, b=NULL");
    let decs = after_rows(&evs, "decs");
    let strip_fp = |s: &str| {
        s.split(", ")
            .filter(|c| !c.starts_with("f=") && !c.starts_with("dbl="))
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(strip_fp(decs[0]), "id=1, d10_0=1234567890, d10_2=12345678.90, d12_9=123.456789012, d20_10=1234567890.1234567890, d30_18=123456789012.123456789012345678, d65_30=12345678901234567890123456789012345.123456789012345678901234567890, b1=1, b17=65537, b64=18446744073709551615");
    assert_eq!(strip_fp(decs[1]), "id=2, d10_0=-1234567890, d10_2=-0.05, d12_9=-0.000000001, d20_10=0.0000000001, d30_18=0.000000000000000001, d65_30=-0.000000000000000000000000000001, b1=0, b17=0, b64=0");
    // DECIMAL columns keep exactly `scale` digits (3.00, 0 -> 0.000000000).
    assert_eq!(strip_fp(decs[2]), "id=3, d10_0=0, d10_2=3.00, d12_9=0.000000000, d20_10=12.3000000000, d30_18=1.500000000000000000, d65_30=0.000000000000000000000000000000, b1=1, b17=131071, b64=9223372036854775808");
    assert_eq!(strip_fp(decs[5]), "id=6, d10_0=99, d10_2=99999999.99, d12_9=999.999999999, d20_10=9999999999.9999999999, d30_18=-999999999999.999999999999999999, d65_30=99999999999999999999999999999999999.999999999999999999999999999999, b1=NULL, b17=NULL, b64=NULL");
    // FLOAT/DOUBLE: compare the exact stored binary values.
    let fp = |row: &str, col: &str| -> String {
        row.split(", ")
            .find_map(|c| c.strip_prefix(&format!("{col}=")))
            .unwrap()
            .to_string()
    };
    assert_eq!(fp(decs[0], "f").parse::<f32>().unwrap(), 123456789f32);
    assert_eq!(fp(decs[0], "dbl").parse::<f64>().unwrap(), f64::MAX);
    assert_eq!(fp(decs[1], "f").parse::<f32>().unwrap(), -1.25e10f32);
    assert_eq!(fp(decs[1], "dbl").parse::<f64>().unwrap(), -4.9e-324f64);
    assert_eq!(fp(decs[2], "f").parse::<f32>().unwrap(), f32::MAX);
    assert_eq!(fp(decs[3], "f").parse::<f32>().unwrap(), 1e-40f32);
    // DOUBLE -0e0 keeps its sign in MySQL; FLOAT -0.0 (a DECIMAL literal) is stored as +0.
    assert_eq!(fp(decs[4], "dbl"), "-0.0");
    assert_eq!(fp(decs[4], "f"), "0.0");
    // UPDATE decs SET d65_30 = -d65_30, f = 2.5, dbl = 3.25 WHERE id = 1
    let upd = evs
        .iter()
        .find(|e| e.table == "decs" && e.kind == RowsKind::Update)
        .unwrap();
    let after = upd.rows[0].1.as_deref().unwrap();
    assert!(after.contains("d65_30=-12345678901234567890123456789012345.123456789012345678901234567890, f=2.5, dbl=3.25"), "{after}");
}

#[test]
fn mysql97_types_mixed_temporal() {
    let Some(p) = golden("mysql-9.7/types-mixed") else {
        return;
    };
    let evs = decode(&p);
    let t = after_rows(&evs, "temps");
    assert_eq!(t[0], "id=1, d=2024-02-29, t=12:34:56, t2=-12:34:56.78, t6=-838:59:59.000000, dt=2024-01-02 03:04:05, dt6=2024-01-02 03:04:05.123456, ts=2024-03-04 05:06:07, ts3=2024-03-04 05:06:07.891, y=2024");
    assert_eq!(t[1], "id=2, d=1000-01-01, t=838:59:59, t2=00:00:00.01, t6=-00:00:00.500000, dt=1000-01-01 00:00:00, dt6=9999-12-31 23:59:59.999999, ts=1970-01-01 00:00:01, ts3=2038-01-19 03:14:07.999, y=1901");
    assert_eq!(t[2], "id=3, d=9999-12-31, t=-838:59:59, t2=100:00:00.50, t6=123:45:56.000001, dt=9999-12-31 23:59:59, dt6=1970-01-01 00:00:00.000001, ts=2038-01-19 03:14:07, ts3=1970-01-01 00:00:01.500, y=2155");
    // sql_mode='': zero dates; TIMESTAMP out of range stores 0; YEAR '0' (a string) is 2000.
    assert_eq!(t[4], "id=5, d=0000-00-00, t=00:00:00, t2=00:00:00.00, t6=00:00:00.000000, dt=0000-00-00 00:00:00, dt6=0000-00-00 00:00:00.000000, ts=0, ts3=0.000, y=0000");
    assert_eq!(t[5], "id=6, d=2024-00-00, t=-00:00:01, t2=-00:00:00.01, t6=-00:00:00.000001, dt=2024-00-00 00:00:00, dt6=2024-02-00 10:00:00.500000, ts=0, ts3=0.000, y=2000");
    // UPDATE temps SET t6 = '-00:00:00.000002', ts3 = '2001-02-03 04:05:06.007' WHERE id = 1
    let upd = evs
        .iter()
        .find(|e| e.table == "temps" && e.kind == RowsKind::Update)
        .unwrap();
    let after = upd.rows[0].1.as_deref().unwrap();
    assert!(after.contains("t6=-00:00:00.000002,"), "{after}");
    assert!(after.contains("ts3=2001-02-03 04:05:06.007,"), "{after}");
}

#[test]
fn mysql97_types_mixed_strings_enum_set_geometry() {
    let Some(p) = golden("mysql-9.7/types-mixed") else {
        return;
    };
    let evs = decode(&p);
    let s = after_rows(&evs, "strs");
    let all: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
    // Row 1: latin1 'café' is 63 61 66 e9; BINARY(8) x'0102' is logged without its zero padding;
    // ENUM 'b' = index 2; SET 'x,z' = bits 0 and 2 = 5; LINESTRING / POINT as SRID + WKB.
    let expect = format!(
        "id=1, vc=héllo wörld 日本語 😀 👨‍👩‍👧, c=abc, l1=0x636166e9, bn=\u{1}\u{2}, vb=0x{all}, bl=0x{all}, tx=text\nline2 \t\"q\"\\, e=2, s=5, \
         g=0x00000000010200000003000000{}{}{}{}{}{}, p=0x000000000101000000{}{}",
        "0000000000000000", "0000000000000000", "000000000000f03f", "000000000000f03f", "0000000000000040", "0000000000000000",
        "000000000000f83f", "00000000000002c0"
    );
    assert_eq!(s[0], expect);
    // Row 3: CHAR 'pad  ' loses trailing spaces, BINARY(8) of zeros is logged empty,
    // SET 'x,y,z' = 7, POINT with SRID 0 and y = 1e10.
    assert!(
        s[2].starts_with(
            "id=3, vc=trail  , c=pad, l1=x, bn=, vb=\0, bl=0xff, tx=\0nul, e=3, s=7, "
        ),
        "{}",
        s[2]
    );
    // Row 2: POINT(10 20) with SRID 4326 (0x10e6): geographic SRS axis order is lat-long, so
    // MySQL stores x = 20 (longitude), y = 10.
    assert!(
        s[1].ends_with("p=0xe6100000010100000000000000000034400000000000002440"),
        "{}",
        s[1]
    );
    // Row 5: VARBINARY x'C3A9' is valid UTF-8 'é'; BINARY(8) x'80ff00ff'.
    assert!(s[4].contains("bn=0x80ff00ff, vb=é, bl=€,"), "{}", s[4]);
    // UPDATE strs SET vc = 'changed', e = 'c', s = 'y', bl = NULL WHERE id = 1 (FULL image).
    let upd = evs
        .iter()
        .find(|e| e.table == "strs" && e.kind == RowsKind::Update)
        .unwrap();
    let (before, after) = (&upd.rows[0].0, upd.rows[0].1.as_deref().unwrap());
    assert!(before.as_deref().unwrap().contains(", e=2, s=5,"));
    assert!(
        after.contains("vc=changed,")
            && after.contains("bl=NULL,")
            && after.contains(", e=3, s=2,"),
        "{after}"
    );
    // DELETE FROM strs WHERE id = 3: before image only.
    let del = evs
        .iter()
        .find(|e| e.table == "strs" && e.kind == RowsKind::Delete)
        .unwrap();
    assert!(del.rows[0].1.is_none());
    assert!(del.rows[0]
        .0
        .as_deref()
        .unwrap()
        .starts_with("id=3, vc=trail  , c=pad,"));
}

#[test]
fn mariadb_numeric_and_old_temporal_formats() {
    let Some(p) = golden("mariadb-10.11/types-numeric") else {
        return;
    };
    let evs = decode(&p);
    let ints = after_rows(&evs, "t_int");
    assert_eq!(ints[7], "id=8, ti=-100, tiu=200, si=-1000, siu=40000, mi=-100000, miu=10000000, i=-100000, iu=3000000000, bi=-100000, biu=12345678901234567890, b=0");
    let decs = after_rows(&evs, "t_dec");
    assert_eq!(decs[4], "id=5, d10_0=-9999999999, d10_2=-99999999.99, d12_9=-999.999999999, d20_10=-9999999999.9999999999, d30_18=-999999999999.999999999999999999, d65_30=-99999999999999999999999999999999999.999999999999999999999999999999");
    assert_eq!(decs[7], "id=8, d10_0=-7, d10_2=-3.10, d12_9=-1.000000000, d20_10=0.0000000001, d30_18=100.000000001000000000, d65_30=1.000000000000000000000000000001");
    assert_eq!(decs[10], "id=11, d10_0=5, d10_2=0.01, d12_9=0.100000000, d20_10=123456789.1234567890, d30_18=123456789012.123456789000000000, d65_30=12345678901234567890123456789012345.123456789000000000000000000000");

    let Some(p) = golden("mariadb-10.11/types-temporal") else {
        return;
    };
    let evs = decode(&p);
    // t_oldfmt was created with mysql56_temporal_format=OFF: binlog types TIME (11),
    // DATETIME (12) and TIMESTAMP (7).
    let old = after_rows(&evs, "t_oldfmt");
    assert_eq!(
        old[2],
        "id=3, t=-12:34:56, dt=2024-00-00 00:00:00, ts=1970-01-01 00:00:01"
    );
    assert_eq!(
        old[3],
        "id=4, t=838:59:59, dt=9999-12-31 23:59:59, ts=2038-01-19 03:14:07"
    );
    assert_eq!(old[5], "id=6, t=100:00:00, dt=NULL, ts=2000-02-29 23:59:59");
    // '1970-01-01 00:00:00' UTC is below TIMESTAMP's range: stored as the zero value.
    assert_eq!(old[8], "id=9, t=-00:00:01, dt=1970-01-01 00:00:00, ts=0");
    let time = after_rows(&evs, "t_time");
    assert_eq!(time[6], "id=7, t0=-00:00:01, t1=-00:00:00.5, t2=-00:00:00.05, t3=-00:00:00.005, t4=-00:00:00.0005, t5=-00:00:00.00005, t6=-00:00:00.000001");
    assert_eq!(time[9], "id=10, t0=26:03:04, t1=-48:00:00.5, t2=23:59:59.99, t3=00:00:01.001, t4=00:00:00.0001, t5=00:00:00.00001, t6=00:00:00.000010");
}

#[test]
fn mariadb_annotate_rows_and_table_map_full_metadata() {
    let Some(p) = golden("mariadb-10.11/types-string") else {
        return;
    };
    let f = BinlogFile::open(&p).unwrap().unwrap();
    let mut dec = EventDecoder::new();
    let (mut annotate, mut maps_with_names, mut gtids) = (0, 0, 0);
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        match dec.decode(raw.offset, raw.bytes).unwrap().body {
            EventBody::RowsQuery { sql } => {
                annotate += 1;
                assert!(
                    sql.starts_with(b"INSERT")
                        || sql.starts_with(b"UPDATE")
                        || sql.starts_with(b"DELETE")
                        || sql.starts_with(b"REPLACE")
                );
            }
            EventBody::TableMap(t) => {
                let names = t.meta.column_names.as_ref().unwrap();
                assert_eq!(names.len(), t.columns.len());
                assert_eq!(names[0], "id");
                maps_with_names += 1;
            }
            EventBody::MariaGtid(_) => gtids += 1,
            _ => {}
        }
    }
    assert_eq!(dec.flavor(), canal_binlog::Flavor::MariaDb);
    assert!(
        annotate > 10 && maps_with_names >= annotate && gtids > annotate / 2,
        "{annotate} {maps_with_names} {gtids}"
    );
}

#[test]
fn mysql97_json_documents() {
    let Some(p) = golden("mysql-9.7/types-json") else {
        return;
    };
    let evs = decode(&p);
    let j = after_rows(&evs, "j1");
    assert_eq!(j[0], "id=1, j={}, k=[], note=empty");
    assert_eq!(j[1], "id=2, j=NULL, k=null, note=sql null / json null");
    assert_eq!(
        j[2],
        r#"id=3, j={"a": 1, "b": [1, 2, {"c": "d"}], "nested": {"x": {"y": {"z": [true, false, null]}}}}, k=[[], {}, [[]], {"": ""}], note=nested"#
    );
    // Keys sorted by length then bytes; the last duplicate wins.
    assert!(
        j[3].starts_with(r#"id=4, j={"a": 2, "b": 5, "aa": 4, "bb": 1, "ccc": 3, "dup": 2}"#),
        "{}",
        j[3]
    );
    assert_eq!(
        j[4],
        "id=5, j=[0, -1, 1, 32767, 32768, -32768, -32769, 65535, 65536, 2147483647, 2147483648, -2147483648, -2147483649, \
         4294967295, 4294967296, 9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551615], \
         k=[18446744073709551615], note=integers incl uint64 max"
    );
    assert!(j[5].starts_with("id=6, j=[0.0, -0.0, 1.0, -1.5, 3.14, 0.1, 1e20, 1e-5, 1.7976931348623157e308, 5e-324, 123456789.125, 10000000.0, 9999999.0, 0.001, 0.0001, 100]"), "{}", j[5]);
    assert_eq!(j[7], "id=8, j=true, k=false, note=scalars");
    assert_eq!(
        j[9],
        "id=10, j=\"\", k=-9223372036854775808, note=empty string / int64 min"
    );
    // Opaque temporal and decimal values.
    assert!(
        j[12].contains(r#""dt": "2024-01-02 03:04:05.123456""#),
        "{}",
        j[12]
    );
    assert!(
        j[12].contains(r#""date": "2024-02-29 00:00:00.000000""#),
        "{}",
        j[12]
    );
    assert!(
        j[12].contains(r#""negtime": "-838:59:59.000000""#),
        "{}",
        j[12]
    );
    assert!(
        j[12].contains(r#""negfrac": "-00:00:00.500000""#),
        "{}",
        j[12]
    );
    assert!(j[13].starts_with("id=14, j=[123.4500, -0.50, 0, 12345678901234567890.123456789, -99999999999999999999999999999999999.999999999999999999999999999999, 3.00]"), "{}", j[13]);
    // >64 KiB documents use the large object/array format.
    let big = j.iter().find(|r| r.starts_with("id=16,")).unwrap();
    assert!(big.contains(&format!(r#""big": "{}""#, "x".repeat(70000))));
    assert!(big.contains(r#""arr": [1, "two", null]"#));
    assert!(big.contains(&format!(r#"k=["{}", 2]"#, "y".repeat(66000))));
}

#[test]
fn mysql97_partial_json_updates() {
    let Some(p) = golden("mysql-9.7/types-json") else {
        return;
    };
    let evs = decode(&p);
    let partial: Vec<&RowsOut> = evs
        .iter()
        .filter(|e| e.kind == RowsKind::PartialUpdate)
        .collect();
    assert!(!partial.is_empty());
    let diffs: Vec<Vec<(JsonDiffOp, String, String)>> = partial
        .iter()
        .flat_map(|e| e.raw_json_diffs.iter())
        .map(|d| {
            json::diffs(d)
                .map(|x| {
                    let x = x.unwrap();
                    let mut v = String::new();
                    if let Some(val) = x.parsed_value() {
                        json::write_text(&val.unwrap(), &mut v).unwrap();
                    }
                    (x.op, String::from_utf8(x.path.to_vec()).unwrap(), v)
                })
                .collect()
        })
        .collect();
    // UPDATE j1 SET j = JSON_SET(j, '$.a', 42) WHERE id = 18
    assert_eq!(
        diffs[0],
        vec![(JsonDiffOp::Replace, "$.a".into(), "42".into())]
    );
    // The untouched JSON column k of the same row is logged as an empty diff.
    assert!(diffs[1].is_empty());
    // JSON_SET(j, '$.c', 'new "quoted"\ttext', '$.b[1]', 2.5)
    assert_eq!(
        diffs[2],
        vec![
            (
                JsonDiffOp::Replace,
                "$.c".into(),
                "\"new \\\"quoted\\\"\\ttext\"".into()
            ),
            (JsonDiffOp::Replace, "$.b[1]".into(), "2.5".into())
        ]
    );
    // JSON_SET(j, '$.newkey', JSON_OBJECT('n', 1)): a new member is an INSERT.
    assert_eq!(
        diffs[4],
        vec![(JsonDiffOp::Insert, "$.newkey".into(), r#"{"n": 1}"#.into())]
    );
    // JSON_REMOVE(j, '$.newkey')
    assert!(diffs
        .iter()
        .any(|d| d == &vec![(JsonDiffOp::Remove, "$.newkey".to_string(), String::new())]));
    // JSON_REMOVE(j, '$.b[0]', '$.d')
    assert!(diffs.iter().any(|d| d
        == &vec![
            (JsonDiffOp::Remove, "$.b[0]".to_string(), String::new()),
            (JsonDiffOp::Remove, "$.d".to_string(), String::new())
        ]));
    // JSON_SET(j, '$[10]', 'appended') on a 4-element array appends: an INSERT at the path.
    assert!(diffs.iter().any(|d| d
        == &vec![(
            JsonDiffOp::Insert,
            "$[10]".to_string(),
            "\"appended\"".to_string()
        )]));
    // JSON_SET(JSON_REMOVE(j, '$.obj.p'), '$.obj.q', CAST('2024-01-01' AS DATE)): opaque DATE.
    assert!(diffs.iter().any(|d| d
        == &vec![
            (JsonDiffOp::Remove, "$.obj.p".to_string(), String::new()),
            (
                JsonDiffOp::Insert,
                "$.obj.q".to_string(),
                "\"2024-01-01 00:00:00.000000\"".to_string()
            )
        ]));
    // MINIMAL image: JSON_REMOVE(j, '$.c'), k = JSON_SET(k, '$.x', 3) in one row.
    assert!(diffs
        .iter()
        .any(|d| d == &vec![(JsonDiffOp::Remove, "$.c".to_string(), String::new())]));
    // ... where MySQL logged k in full (diff not smaller); MINIMAL: before image = PK only.
    let minimal = partial
        .iter()
        .flat_map(|e| e.rows.iter())
        .find(|r| r.1.as_deref() == Some(r#"j=<diff>, k={"x": 3}"#));
    assert_eq!(minimal.unwrap().0.as_deref(), Some("id=18"));
}

#[test]
fn mysql97_compressed_transactions() {
    let Some(p) = golden("mysql-9.7/compressed") else {
        return;
    };
    let evs = decode(&p);
    let count = |kind: RowsKind| -> usize {
        evs.iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.rows.len())
            .sum()
    };
    // 500-row INSERT ... WITH RECURSIVE + transaction inserts; 100-row UPDATE + one-row
    // UPDATE; 50-row DELETE (plus whatever the multi-statement transaction adds).
    assert!(count(RowsKind::Write) >= 500, "{}", count(RowsKind::Write));
    assert!(
        count(RowsKind::Update) >= 101,
        "{}",
        count(RowsKind::Update)
    );
    assert!(count(RowsKind::Delete) >= 50, "{}", count(RowsKind::Delete));
    // The inner events of a payload all carry the payload's offset.
    let f = BinlogFile::open(&p).unwrap().unwrap();
    let mut dec = EventDecoder::new();
    let mut payloads = 0;
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        if let EventBody::TransactionPayload(pl) = &ev.body {
            payloads += 1;
            assert_eq!(pl.compression, 0, "zstd");
            let inner: Vec<_> = dec
                .payload_events(ev.offset, pl)
                .map(|e| e.unwrap())
                .collect();
            assert!(inner.iter().all(|e| e.offset == ev.offset));
            assert!(matches!(inner.last().unwrap().body, EventBody::Xid { .. }));
        }
    }
    assert!(payloads >= 5, "{payloads}");
    let _ = evs.iter().map(|e| e.offset).max();
}

#[test]
fn mysql97_table_map_full_optional_metadata() {
    let Some(p) = golden("mysql-9.7/types-mixed") else {
        return;
    };
    let f = BinlogFile::open(&p).unwrap().unwrap();
    let mut dec = EventDecoder::new();
    let mut maps = std::collections::BTreeMap::new();
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        if let EventBody::TableMap(t) = dec.decode(raw.offset, raw.bytes).unwrap().body {
            maps.insert(t.table.clone(), t);
        }
    }
    use canal_binlog::tablemap::coltype::*;
    // CREATE TABLE ints (id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, ..., b BOOL)
    let ints = &maps["ints"];
    let names: Vec<&str> = ints
        .meta
        .column_names
        .as_ref()
        .unwrap()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        names,
        ["id", "ti", "tiu", "si", "siu", "mi", "miu", "i", "iu", "bi", "biu", "b"]
    );
    let u: Vec<bool> = ints
        .meta
        .unsigned
        .as_ref()
        .unwrap()
        .iter()
        .map(|x| x.unwrap())
        .collect();
    assert_eq!(
        u,
        [false, false, true, false, true, false, true, false, true, false, true, false]
    );
    assert_eq!(ints.meta.primary_key.as_deref(), Some(&[0u16][..]));
    let types: Vec<u8> = ints.columns.iter().map(|c| c.real_type).collect();
    assert_eq!(
        types,
        [LONG, TINY, TINY, SHORT, SHORT, INT24, INT24, LONG, LONG, LONGLONG, LONGLONG, TINY]
    );
    assert!(!ints.columns[0].nullable && ints.columns[1].nullable);
    // decs: DECIMAL(p,s) metadata, BIT(1/17/64) widths, FLOAT/DOUBLE pack lengths.
    let decs = &maps["decs"];
    let meta: Vec<u16> = decs.columns.iter().map(|c| c.meta).collect();
    assert_eq!(
        meta,
        [
            0,
            10 << 8,
            10 << 8 | 2,
            12 << 8 | 9,
            20 << 8 | 10,
            30 << 8 | 18,
            65 << 8 | 30,
            4,
            8,
            1,
            17,
            64
        ]
    );
    // temps: TIME/TIME(2)/TIME(6), DATETIME/DATETIME(6), TIMESTAMP/TIMESTAMP(3) fsp.
    let temps = &maps["temps"];
    let tm: Vec<(u8, u16)> = temps
        .columns
        .iter()
        .map(|c| (c.real_type, c.meta))
        .collect();
    assert_eq!(
        tm,
        [
            (LONG, 0),
            (DATE, 0),
            (TIME2, 0),
            (TIME2, 2),
            (TIME2, 6),
            (DATETIME2, 0),
            (DATETIME2, 6),
            (TIMESTAMP2, 0),
            (TIMESTAMP2, 3),
            (YEAR, 0)
        ]
    );
    // strs: ENUM/SET resolved from STRING, their member lists, charsets, geometry types.
    let strs = &maps["strs"];
    assert_eq!(strs.columns[8].real_type, ENUM);
    assert_eq!(strs.columns[8].binlog_type, STRING);
    assert_eq!(strs.columns[9].real_type, SET);
    let enums = strs.meta.enum_values.as_ref().unwrap();
    assert_eq!(
        enums,
        &vec![vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]]
    );
    let sets = strs.meta.set_values.as_ref().unwrap();
    assert_eq!(
        sets,
        &vec![vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()]]
    );
    // VARCHAR(64) utf8mb4 = 256 bytes; CHAR(10) utf8mb4 = 40; VARCHAR(20) latin1 = 20; BINARY(8).
    assert_eq!(
        (strs.columns[1].real_type, strs.columns[1].meta),
        (VARCHAR, 256)
    );
    assert_eq!(
        (strs.columns[2].real_type, strs.columns[2].meta),
        (STRING, 40)
    );
    assert_eq!(
        (strs.columns[3].real_type, strs.columns[3].meta),
        (VARCHAR, 20)
    );
    assert_eq!(
        (strs.columns[4].real_type, strs.columns[4].meta),
        (STRING, 8)
    );
    let cs = strs.meta.column_charsets.as_ref().unwrap();
    assert_eq!(cs[3], Some(8), "latin1_swedish_ci");
    assert_eq!(cs[4], Some(63), "binary");
    assert_eq!(cs[1], Some(255), "utf8mb4_0900_ai_ci, MySQL 9 default");
    assert_eq!(cs[0], None, "INT has no charset");
    // GEOMETRY = 0, POINT = 1 (MySQL's Field::geometry_type codes).
    assert_eq!(strs.meta.geometry_types.as_deref(), Some(&[0u32, 1][..]));
}

#[test]
fn dump_json_lines_for_a_golden_file_and_a_truncated_one() {
    let Some(p) = golden("mysql-9.7/compressed") else {
        return;
    };
    let mut out = Vec::new();
    canal_binlog::dump::dump_file_json(&p, &mut out).unwrap();
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "FORMAT_DESCRIPTION");
    assert_eq!(lines[0]["pos"], "mysql-bin.000001:4");
    let payload = lines
        .iter()
        .position(|l| l["type"] == "TRANSACTION_PAYLOAD")
        .unwrap();
    let pos = lines[payload]["pos"].clone();
    assert_eq!(lines[payload + 1]["inner"], true);
    assert_eq!(lines[payload + 1]["pos"], pos);
    let rows: usize = lines
        .iter()
        .filter_map(|l| l["rows"].as_array())
        .map(|r| r.len())
        .sum();
    assert!(rows >= 651, "{rows}");
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let trunc =
        shared.join("fixtures/binlog/rust_mysql_common/binlog_truncated_prev_gtid_event.000001");
    let mut out = Vec::new();
    let e = canal_binlog::dump::dump_file_json(&trunc, &mut out).unwrap_err();
    assert_eq!(e.offset(), Some(120));
    assert!(
        e.to_string()
            .contains("binlog_truncated_prev_gtid_event.000001: at offset 120"),
        "{e}"
    );
    assert_eq!(
        std::str::from_utf8(&out).unwrap().lines().count(),
        1,
        "the FORMAT_DESCRIPTION line came first"
    );
}

#[test]
fn mysql97_partial_rows_report_value_options() {
    let Some(p) = golden("mysql-9.7/types-json") else {
        return;
    };
    let f = BinlogFile::open(&p).unwrap().unwrap();
    let mut dec = EventDecoder::new();
    let mut n = 0;
    for raw in f.raw_events() {
        let raw = raw.unwrap();
        let ev = dec.decode(raw.offset, raw.bytes).unwrap();
        if let EventBody::Rows(r) = &ev.body {
            if r.kind != RowsKind::PartialUpdate {
                continue;
            }
            let mut rd = r.reader().unwrap();
            let mut row = Row::default();
            while rd.next_into(&mut row).unwrap() {
                // The partial bit is set exactly when some JSON column is logged as a diff
                // (MySQL falls back to full values, e.g. JSON_ARRAY_APPEND under MINIMAL).
                let has_diff = row
                    .after
                    .iter()
                    .flatten()
                    .flatten()
                    .any(|v| matches!(v, Value::JsonDiff(_)));
                assert_eq!(
                    rd.value_options() == canal_binlog::rows::PARTIAL_JSON_UPDATES,
                    has_diff
                );
                n += has_diff as usize;
            }
        }
    }
    assert!(n >= 15, "{n}");
}
