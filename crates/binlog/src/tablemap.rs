//! TABLE_MAP parsing: column types, per-type metadata (normalised once here so the row decoder
//! never re-reads it) and the optional metadata block.
#![warn(missing_docs)]

use crate::error::DecodeError;
use crate::event::{ColumnType, OptionalMeta, TableMap};
use crate::read::{Cursor, Short};

/// MySQL column type codes as they appear in TABLE_MAP.
pub mod coltype {
    #![allow(missing_docs)]
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    /// MariaDB compressed VARCHAR.
    pub const VARCHAR_COMPRESSED: u8 = 140;
    /// MariaDB compressed BLOB.
    pub const BLOB_COMPRESSED: u8 = 141;
    /// MySQL 9 VECTOR.
    pub const VECTOR: u8 = 242;
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;
}

use coltype::*;

/// True for the types SIGNEDNESS metadata covers.
pub fn is_numeric(real_type: u8) -> bool {
    matches!(
        real_type,
        TINY | SHORT | INT24 | LONG | LONGLONG | FLOAT | DOUBLE | NEWDECIMAL | DECIMAL
    )
}

/// True for the types (DEFAULT_/COLUMN_)CHARSET metadata covers.
pub fn is_character(real_type: u8) -> bool {
    matches!(
        real_type,
        STRING
            | VAR_STRING
            | VARCHAR
            | BLOB
            | TINY_BLOB
            | MEDIUM_BLOB
            | LONG_BLOB
            | VARCHAR_COMPRESSED
            | BLOB_COMPRESSED
    )
}

/// Reads the per-type metadata of one column and normalises it into `ColumnType::meta`:
/// FLOAT/DOUBLE pack length; BLOB/GEOMETRY/JSON/VECTOR length-prefix bytes; VARCHAR max bytes;
/// BIT total bits; NEWDECIMAL `precision << 8 | scale`; STRING max bytes; ENUM/SET pack length;
/// TIME2/DATETIME2/TIMESTAMP2 fsp; 0 otherwise.
fn column_meta(t: u8, c: &mut Cursor<'_>) -> Result<(u8, u16), Short> {
    Ok(match t {
        FLOAT | DOUBLE | BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB | GEOMETRY | JSON | VECTOR
        | BLOB_COMPRESSED => (t, c.u8()? as u16),
        VARCHAR | VAR_STRING | VARCHAR_COMPRESSED => (t, c.u16()?),
        BIT => {
            let bits = c.u8()? as u16;
            let bytes = c.u8()? as u16;
            (t, bytes * 8 + bits)
        }
        NEWDECIMAL => {
            let p = c.u8()? as u16;
            let s = c.u8()? as u16;
            (t, p << 8 | s)
        }
        STRING | ENUM | SET => {
            let b0 = c.u8()?;
            let b1 = c.u8()?;
            if b0 == 0 {
                (t, b1 as u16)
            } else if b0 & 0x30 != 0x30 {
                // CHAR longer than 255 bytes: two length bits folded into the type byte.
                let len = b1 as u16 | ((((b0 & 0x30) ^ 0x30) as u16) << 4);
                (b0 | 0x30, len)
            } else {
                (b0, b1 as u16)
            }
        }
        TIME2 | DATETIME2 | TIMESTAMP2 => (t, c.u8()? as u16),
        _ => (t, 0),
    })
}

pub(crate) fn parse_table_map(
    offset: u64,
    body: &[u8],
    id_len: usize,
) -> Result<TableMap, DecodeError> {
    let sh = |s: Short| DecodeError::truncated(offset, "TABLE_MAP", s.need, s.have);
    let mut c = Cursor::new(body);
    let table_id = c.uint(id_len).map_err(sh)?;
    let flags = c.u16().map_err(sh)?;
    let n = c.u8().map_err(sh)? as usize;
    let schema = String::from_utf8_lossy(c.take(n).map_err(sh)?).into_owned();
    c.skip(1).map_err(sh)?;
    let n = c.u8().map_err(sh)? as usize;
    let table = String::from_utf8_lossy(c.take(n).map_err(sh)?).into_owned();
    c.skip(1).map_err(sh)?;
    let ncols = c.lenenc().map_err(sh)?;
    if ncols > 65536 || ncols as usize > c.remaining() {
        return Err(DecodeError::invalid(
            offset,
            format!("TABLE_MAP: column count {ncols}"),
        ));
    }
    let ncols = ncols as usize;
    let types = c.take(ncols).map_err(sh)?;
    let meta_block = c.lenenc_bytes().map_err(sh)?;
    let nulls = c.take(ncols.div_ceil(8)).map_err(sh)?;
    let mut mc = Cursor::new(meta_block);
    let mut columns = Vec::with_capacity(ncols);
    for (i, &t) in types.iter().enumerate() {
        let (real_type, meta) = column_meta(t, &mut mc).map_err(|_| {
            DecodeError::invalid(
                offset,
                format!("TABLE_MAP: metadata too short at column {i}"),
            )
        })?;
        let nullable = nulls.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0);
        columns.push(ColumnType {
            real_type,
            binlog_type: t,
            meta,
            nullable,
        });
    }
    let meta = parse_optional(c.rest(), &columns)
        .map_err(|_| DecodeError::invalid(offset, "TABLE_MAP: malformed optional metadata"))?;
    Ok(TableMap {
        table_id,
        flags,
        schema,
        table,
        columns,
        meta,
    })
}

/// Bit `i` of an MSB-first bitmap.
fn msb_bit(b: &[u8], i: usize) -> bool {
    b.get(i / 8).is_some_and(|x| x & (0x80 >> (i % 8)) != 0)
}

fn parse_optional(raw: &[u8], cols: &[ColumnType]) -> Result<OptionalMeta, Short> {
    let mut m = OptionalMeta::default();
    let mut c = Cursor::new(raw);
    let n = cols.len();
    let idx_of = |pred: &dyn Fn(u8) -> bool| -> Vec<usize> {
        cols.iter()
            .enumerate()
            .filter(|(_, c)| pred(c.real_type))
            .map(|(i, _)| i)
            .collect()
    };
    let expand_charsets = |v: &[u8],
                           pred: &dyn Fn(u8) -> bool,
                           default: bool,
                           out: &mut Vec<Option<u16>>|
     -> Result<(), Short> {
        let idx = idx_of(pred);
        let mut vc = Cursor::new(v);
        if default {
            let d = vc.lenenc()? as u16;
            for &i in &idx {
                out[i] = Some(d);
            }
            while !vc.is_empty() {
                let k = vc.lenenc()? as usize;
                let coll = vc.lenenc()? as u16;
                if let Some(&i) = idx.get(k) {
                    out[i] = Some(coll);
                }
            }
        } else {
            for &i in &idx {
                if vc.is_empty() {
                    break;
                }
                out[i] = Some(vc.lenenc()? as u16);
            }
        }
        Ok(())
    };
    let enum_set = |t: u8| t == ENUM || t == SET;
    while !c.is_empty() {
        let t = c.u8()?;
        let v = c.lenenc_bytes()?;
        match t {
            1 => {
                let idx = idx_of(&is_numeric);
                let mut u = vec![None; n];
                for (k, &i) in idx.iter().enumerate() {
                    u[i] = Some(msb_bit(v, k));
                }
                m.unsigned = Some(u);
            }
            2 | 3 => {
                let out = m.column_charsets.get_or_insert_with(|| vec![None; n]);
                if t == 2 {
                    let mut vc = Cursor::new(v);
                    m.default_charset = Some(vc.lenenc()? as u16);
                }
                expand_charsets(v, &is_character, t == 2, out)?;
            }
            10 | 11 => {
                let out = m.column_charsets.get_or_insert_with(|| vec![None; n]);
                expand_charsets(v, &enum_set, t == 10, out)?;
            }
            4 => {
                let mut vc = Cursor::new(v);
                let mut names = Vec::with_capacity(n);
                while !vc.is_empty() {
                    names.push(String::from_utf8_lossy(vc.lenenc_bytes()?).into_owned());
                }
                m.column_names = Some(names);
            }
            5 | 6 => {
                let mut vc = Cursor::new(v);
                let mut all = Vec::new();
                while !vc.is_empty() {
                    let k = vc.lenenc()?;
                    let mut vals = Vec::new();
                    for _ in 0..k {
                        vals.push(vc.lenenc_bytes()?.to_vec());
                    }
                    all.push(vals);
                }
                if t == 5 {
                    m.set_values = Some(all);
                } else {
                    m.enum_values = Some(all);
                }
            }
            7 => {
                let mut vc = Cursor::new(v);
                let mut g = Vec::new();
                while !vc.is_empty() {
                    g.push(vc.lenenc()? as u32);
                }
                m.geometry_types = Some(g);
            }
            8 | 9 => {
                let mut vc = Cursor::new(v);
                let mut pk = Vec::new();
                while !vc.is_empty() {
                    pk.push(vc.lenenc()? as u16);
                    if t == 9 {
                        vc.lenenc()?;
                    }
                }
                m.primary_key = Some(pk);
            }
            12 => m.visibility = Some((0..n).map(|i| msb_bit(v, i)).collect()),
            _ => {} // VECTOR_DIMENSIONALITY and future fields: skipped
        }
    }
    Ok(m)
}
