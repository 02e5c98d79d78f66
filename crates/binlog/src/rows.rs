//! Row image decoding: [`RowsEvent::rows`] (convenient, one `Row` per item) and
//! [`RowsEvent::reader`] + [`RowReader::next_into`] (hot path: the caller's `Row` buffers are
//! reused, so decoding allocates nothing per row or value).
//!
//! Values borrow from the event bytes. Per-column decoding dispatches on the column's resolved
//! type and metadata, both normalised once per TABLE_MAP (see [`crate::tablemap`]).
#![warn(missing_docs)]

use crate::error::DecodeError;
use crate::event::{Bitmap, ColumnType, Row, RowsEvent, RowsKind, TableMap};
use crate::tablemap::coltype::*;
use crate::value::{Decimal, Value};

/// `binlog_row_value_options` bit: JSON columns of the after image may be partial diffs.
pub const PARTIAL_JSON_UPDATES: u64 = 1;

#[inline(always)]
fn take<'a>(data: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], RowErr> {
    let end = pos.checked_add(n).ok_or(RowErr::Short)?;
    let s = data.get(*pos..end).ok_or(RowErr::Short)?;
    *pos = end;
    Ok(s)
}

/// Reads exactly `N` bytes (`pos` never exceeds `data.len()`, so `pos + N` cannot overflow).
#[inline(always)]
fn arr<const N: usize>(data: &[u8], pos: &mut usize) -> Result<[u8; N], RowErr> {
    let s = data.get(*pos..*pos + N).ok_or(RowErr::Short)?;
    *pos += N;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

#[inline(always)]
fn le(b: &[u8]) -> u64 {
    crate::read::le_uint(b)
}

#[inline(always)]
fn be(b: &[u8]) -> u64 {
    crate::read::be_uint(b)
}

/// Kept small and `Copy` so `Result<Value, RowErr>` stays register/stack friendly.
#[derive(Debug, Clone, Copy)]
enum RowErr {
    Short,
    BadDecimal(u8, u8),
    BadType(u8),
}

/// Bytes a non-NULL value of this column occupies can only be known by reading; this decodes
/// one value at `pos` into `slot` and advances `pos`. Each type writes its own variant into the
/// slot (rather than returning a `Value` that the caller stores), which spares the hot loop a
/// merge of every variant's fields.
#[inline(always)]
fn decode_value<'a>(
    col: &ColumnType,
    data: &'a [u8],
    pos: &mut usize,
    partial: bool,
    slot: &mut Option<Value<'a>>,
) -> Result<(), RowErr> {
    let meta = col.meta;
    match col.real_type {
        TINY => {
            let value = i8::from_le_bytes(arr::<1>(data, pos)?) as i64;
            *slot = Some(Value::Int { value, width: 1 });
        }
        SHORT => {
            let value = i16::from_le_bytes(arr::<2>(data, pos)?) as i64;
            *slot = Some(Value::Int { value, width: 2 });
        }
        INT24 => {
            let [a, b, c] = arr::<3>(data, pos)?;
            let value = (i32::from_le_bytes([0, a, b, c]) >> 8) as i64;
            *slot = Some(Value::Int { value, width: 3 });
        }
        LONG => {
            let value = i32::from_le_bytes(arr::<4>(data, pos)?) as i64;
            *slot = Some(Value::Int { value, width: 4 });
        }
        LONGLONG => {
            let value = i64::from_le_bytes(arr::<8>(data, pos)?);
            *slot = Some(Value::Int { value, width: 8 });
        }
        FLOAT => *slot = Some(Value::Float(f32::from_le_bytes(arr::<4>(data, pos)?))),
        DOUBLE => *slot = Some(Value::Double(f64::from_le_bytes(arr::<8>(data, pos)?))),
        NEWDECIMAL => {
            let (p, s) = ((meta >> 8) as u8, meta as u8);
            let n = crate::decimal::decimal_bin_size(p, s).ok_or(RowErr::BadDecimal(p, s))?;
            let bytes = take(data, pos, n)?;
            *slot = Some(Value::Decimal(Decimal {
                precision: p,
                scale: s,
                bytes,
            }));
        }
        YEAR => {
            let [y] = arr::<1>(data, pos)?;
            let y = y as u16;
            *slot = Some(Value::Year(if y == 0 { 0 } else { y + 1900 }));
        }
        DATE | NEWDATE => {
            let [a, b, c] = arr::<3>(data, pos)?;
            let v = u32::from_le_bytes([a, b, c, 0]);
            *slot = Some(Value::Date {
                year: (v >> 9) as u16,
                month: ((v >> 5) & 15) as u8,
                day: (v & 31) as u8,
            });
        }
        TIME => {
            let [a, b, c] = arr::<3>(data, pos)?;
            *slot = Some(Value::TimeV1(i32::from_le_bytes([0, a, b, c]) >> 8));
        }
        DATETIME => *slot = Some(Value::DateTimeV1(u64::from_le_bytes(arr::<8>(data, pos)?))),
        TIMESTAMP => {
            let seconds = u32::from_le_bytes(arr::<4>(data, pos)?);
            *slot = Some(Value::Timestamp {
                seconds,
                micros: 0,
                fsp: 0,
            });
        }
        TIMESTAMP2 => {
            let fsp = (meta as u8).min(6);
            let seconds = u32::from_be_bytes(arr::<4>(data, pos)?);
            let micros = frac(data, pos, fsp)?;
            *slot = Some(Value::Timestamp {
                seconds,
                micros,
                fsp,
            });
        }
        DATETIME2 => {
            let fsp = (meta as u8).min(6);
            let [a, b, c, d, e] = arr::<5>(data, pos)?;
            let int = i64::from_be_bytes([0, 0, 0, a, b, c, d, e]) - 0x80_0000_0000;
            let micros = frac(data, pos, fsp)?;
            let v = int.unsigned_abs();
            let ymd = v >> 17;
            let ym = ymd >> 5;
            let hms = v % (1 << 17);
            *slot = Some(Value::DateTime2 {
                year: (ym / 13) as u16,
                month: (ym % 13) as u8,
                day: (ymd % 32) as u8,
                hour: (hms >> 12) as u8,
                minute: ((hms >> 6) % 64) as u8,
                second: (hms % 64) as u8,
                micros,
                fsp,
            });
        }
        TIME2 => *slot = Some(time2(data, pos, (meta as u8).min(6))?),
        BIT => {
            let bits = meta;
            let bytes = take(data, pos, (bits as usize).div_ceil(8))?;
            *slot = Some(Value::Bit { bits, bytes });
        }
        ENUM => {
            let v = le(take(data, pos, (meta as usize).clamp(1, 2))?) as u16;
            *slot = Some(Value::Enum(v));
        }
        SET => {
            *slot = Some(Value::Set(le(take(
                data,
                pos,
                (meta as usize).clamp(1, 8),
            )?)))
        }
        STRING | VARCHAR | VAR_STRING | VARCHAR_COMPRESSED => {
            let n = if meta < 256 {
                let [n] = arr::<1>(data, pos)?;
                n as usize
            } else {
                u16::from_le_bytes(arr::<2>(data, pos)?) as usize
            };
            *slot = Some(Value::String(take(data, pos, n)?));
        }
        BLOB | TINY_BLOB | MEDIUM_BLOB | LONG_BLOB | BLOB_COMPRESSED | GEOMETRY | JSON | VECTOR => {
            let lb = (meta as usize).clamp(1, 4);
            let n = le(take(data, pos, lb)?) as usize;
            let b = take(data, pos, n)?;
            *slot = Some(match col.real_type {
                GEOMETRY => Value::Geometry(b),
                JSON if partial => Value::JsonDiff(b),
                JSON => Value::Json(b),
                VECTOR => Value::Vector(b),
                _ => Value::Blob(b),
            });
        }
        NULL => *slot = Some(Value::Null),
        t => return Err(RowErr::BadType(t)),
    }
    Ok(())
}

#[inline]
fn frac(data: &[u8], pos: &mut usize, fsp: u8) -> Result<u32, RowErr> {
    Ok(match fsp {
        1 | 2 => be(take(data, pos, 1)?) as u32 * 10_000,
        3 | 4 => be(take(data, pos, 2)?) as u32 * 100,
        5 | 6 => be(take(data, pos, 3)?) as u32,
        _ => 0,
    })
}

#[inline]
fn time2<'a>(data: &'a [u8], pos: &mut usize, fsp: u8) -> Result<Value<'a>, RowErr> {
    let int = be(take(data, pos, 3)?) as i64 - 0x80_0000;
    let packed: i64 = match fsp {
        1 | 2 => {
            let mut i = int;
            let mut f = take(data, pos, 1)?[0] as i64;
            if i < 0 && f != 0 {
                i += 1;
                f -= 0x100;
            }
            (i << 24) + f * 10_000
        }
        3 | 4 => {
            let mut i = int;
            let mut f = be(take(data, pos, 2)?) as i64;
            if i < 0 && f != 0 {
                i += 1;
                f -= 0x10000;
            }
            (i << 24) + f * 100
        }
        5 | 6 => (int << 24) + (be(take(data, pos, 3)?) as i64),
        _ => int << 24,
    };
    let negative = packed < 0;
    let v = packed.unsigned_abs();
    let hms = v >> 24;
    Ok(Value::Time2 {
        negative,
        hours: ((hms >> 12) % (1 << 10)) as u32,
        minutes: ((hms >> 6) % 64) as u8,
        seconds: (hms % 64) as u8,
        micros: (v % (1 << 24)) as u32,
        fsp,
    })
}

/// Decodes the rows of one rows event, reusing caller buffers.
pub struct RowReader<'e> {
    table: &'e TableMap,
    kind: RowsKind,
    ncols: usize,
    present: Bitmap<'e>,
    present_after: Option<Bitmap<'e>>,
    n_before: usize,
    n_after: usize,
    data: &'e [u8],
    pos: usize,
    failed: bool,
    value_options: u64,
}

/// Set bits among the first `n` of the bitmap (bits past its end count as clear).
fn count_bits(b: Bitmap<'_>, n: usize) -> usize {
    let full = n / 8;
    let bytes = b.0;
    let mut c: usize = bytes
        .iter()
        .take(full)
        .map(|x| x.count_ones() as usize)
        .sum();
    if n % 8 != 0 {
        if let Some(&last) = bytes.get(full) {
            c += (last & ((1u8 << (n % 8)) - 1)).count_ones() as usize;
        }
    }
    c
}

impl<'a> RowsEvent<'a> {
    /// A reader over this event's rows (errors if the table was never mapped or the event
    /// has more columns than its TABLE_MAP).
    #[inline]
    pub fn reader(&self) -> Result<RowReader<'_>, DecodeError> {
        let table = match self.table.as_deref() {
            Some(t) if self.column_count <= t.columns.len() => t,
            _ => return Err(self.reader_error()),
        };
        let n = self.column_count;
        let (before, after) = match self.kind {
            RowsKind::Write => (None, Some(self.present)),
            RowsKind::Delete => (Some(self.present), None),
            RowsKind::Update | RowsKind::PartialUpdate => (Some(self.present), self.present_after),
        };
        let (present, present_after) = match (before, after) {
            (Some(b), a) => (b, a),
            (None, Some(a)) => (a, None),
            (None, None) => (self.present, None),
        };
        Ok(RowReader {
            table,
            kind: self.kind,
            ncols: n,
            present,
            present_after,
            n_before: count_bits(present, n),
            n_after: present_after.map_or(0, |b| count_bits(b, n)),
            data: &self.data,
            pos: 0,
            failed: false,
            value_options: 0,
        })
    }

    #[cold]
    #[inline(never)]
    fn reader_error(&self) -> DecodeError {
        match self.table.as_deref() {
            None => DecodeError::new(
                0,
                crate::error::DecodeErrorKind::UnknownTable(self.table_id),
            ),
            Some(table) => DecodeError::invalid(
                0,
                format!(
                    "rows event: {} columns but TABLE_MAP of {}.{} has {}",
                    self.column_count,
                    table.schema,
                    table.table,
                    table.columns.len()
                ),
            ),
        }
    }

    /// Iterates the rows as owned `Row`s (one allocation per image; see [`RowsEvent::reader`]
    /// for the allocation-free path).
    pub fn rows(&self) -> impl Iterator<Item = Result<Row<'_>, DecodeError>> + '_ {
        let mut reader = self.reader();
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            let r = match &mut reader {
                Ok(r) => r,
                Err(e) => {
                    done = true;
                    return Some(Err(e.clone()));
                }
            };
            let mut row = Row::default();
            match r.next_into(&mut row) {
                Ok(true) => Some(Ok(row)),
                Ok(false) => {
                    done = true;
                    None
                }
                Err(e) => {
                    done = true;
                    Some(Err(e))
                }
            }
        })
    }
}

impl<'e> RowReader<'e> {
    /// The table the rows belong to.
    pub fn table(&self) -> &'e TableMap {
        self.table
    }

    /// `binlog_row_value_options` of the last row's after image (PARTIAL_UPDATE_ROWS only;
    /// bit 0 = [`PARTIAL_JSON_UPDATES`]). Java Canal tries every JSON column of such a row as
    /// a diff; here only the columns flagged partial are [`Value::JsonDiff`].
    pub fn value_options(&self) -> u64 {
        self.value_options
    }

    /// Bytes of row data consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Decodes the next row into `row`, reusing its vectors. Returns `Ok(false)` at the end.
    /// For write rows only `after` is set, for delete only `before`, for update both.
    #[inline]
    pub fn next_into(&mut self, row: &mut Row<'e>) -> Result<bool, DecodeError> {
        if self.failed || self.pos >= self.data.len() {
            return Ok(false);
        }
        let start = self.pos;
        match self.read_row(row) {
            Ok(()) if self.pos != start => Ok(true),
            r => Err(self.row_error(r.err(), start)),
        }
    }

    /// The error of a failed row (`None`: a row that consumed no bytes); stops the reader.
    #[cold]
    #[inline(never)]
    fn row_error(&mut self, e: Option<RowErr>, start: usize) -> DecodeError {
        self.failed = true;
        let (schema, table) = (&self.table.schema, &self.table.table);
        let msg = match e {
            // No column present and no null bitmap: the data can never be consumed.
            None => format!("rows event of {schema}.{table}: row image without columns"),
            Some(RowErr::Short) => format!(
                "row data of {schema}.{table} truncated at byte {} (row starting at {start})",
                self.pos
            ),
            Some(RowErr::BadDecimal(p, sc)) => {
                format!("row of {schema}.{table}: invalid DECIMAL({p},{sc}) metadata")
            }
            Some(RowErr::BadType(t)) => {
                format!("row of {schema}.{table}: column type {t} cannot be decoded")
            }
        };
        DecodeError::invalid(0, msg)
    }

    fn read_row(&mut self, row: &mut Row<'e>) -> Result<(), RowErr> {
        match self.kind {
            RowsKind::Write => {
                row.before = None;
                let img = row.after.get_or_insert_with(Vec::new);
                self.read_image(self.present, self.n_before, false, img)?;
            }
            RowsKind::Delete => {
                row.after = None;
                let img = row.before.get_or_insert_with(Vec::new);
                self.read_image(self.present, self.n_before, false, img)?;
            }
            RowsKind::Update | RowsKind::PartialUpdate => {
                let img = row.before.get_or_insert_with(Vec::new);
                self.read_image(self.present, self.n_before, false, img)?;
                match self.present_after {
                    Some(pa) => {
                        let img = row.after.get_or_insert_with(Vec::new);
                        let partial = self.kind == RowsKind::PartialUpdate;
                        self.read_image(pa, self.n_after, partial, img)?;
                    }
                    None => row.after = None,
                }
            }
        }
        Ok(())
    }

    fn read_image(
        &mut self,
        present: Bitmap<'e>,
        n_present: usize,
        shared: bool,
        out: &mut Vec<Option<Value<'e>>>,
    ) -> Result<(), RowErr> {
        let data = self.data;
        let mut pos = self.pos;
        let mut partial_bits: &[u8] = &[];
        if shared {
            let mut c = crate::read::Cursor::new(data.get(pos..).unwrap_or(&[]));
            let opts = c.lenenc().map_err(|_| RowErr::Short)?;
            self.value_options = opts;
            pos += c.pos();
            if opts & PARTIAL_JSON_UPDATES != 0 {
                let json_cols = self
                    .table
                    .columns
                    .iter()
                    .filter(|c| c.real_type == JSON)
                    .count();
                partial_bits = take(data, &mut pos, json_cols.div_ceil(8))?;
            }
        }
        let nulls = take(data, &mut pos, n_present.div_ceil(8))?;
        let cols = self.table.columns.get(..self.ncols).unwrap_or(&[]);
        // One slot per column, absent ones stay `None`; filling by index keeps the loop free
        // of per-value capacity checks. A full image overwrites every slot, so the previous
        // row's slots are reused as they are when the count matches.
        let full = partial_bits.is_empty() && n_present == cols.len();
        if !full || out.len() != cols.len() {
            out.clear();
            out.resize(cols.len(), None);
        }
        let r = if full {
            decode_full(cols, nulls, data, &mut pos, out)
        } else {
            decode_sparse(cols, present, nulls, partial_bits, data, &mut pos, out)
        };
        self.pos = pos;
        if r.is_err() {
            // Never leave a half-decoded image (or the previous row's values) behind.
            out.clear();
        }
        r
    }
}

/// Every column present, no partial JSON: walks the null bitmap a byte (8 columns) at a time.
#[inline(always)]
fn decode_full<'a>(
    cols: &[ColumnType],
    nulls: &[u8],
    data: &'a [u8],
    pos: &mut usize,
    out: &mut [Option<Value<'a>>],
) -> Result<(), RowErr> {
    // `nulls` has exactly `ceil(cols / 8)` bytes, one per chunk of 8 columns.
    for ((cols, slots), &nb) in cols.chunks(8).zip(out.chunks_mut(8)).zip(nulls) {
        let mut bits = nb;
        for (col, slot) in cols.iter().zip(slots) {
            if bits & 1 != 0 {
                *slot = Some(Value::Null);
            } else {
                decode_value(col, data, pos, false, slot)?;
            }
            bits >>= 1;
        }
    }
    Ok(())
}

/// MINIMAL/NOBLOB images (columns missing from the image) and partial JSON after images.
#[inline(never)]
fn decode_sparse<'a>(
    cols: &[ColumnType],
    present: Bitmap<'_>,
    nulls: &[u8],
    partial_bits: &[u8],
    data: &'a [u8],
    pos: &mut usize,
    out: &mut [Option<Value<'a>>],
) -> Result<(), RowErr> {
    let mut k = 0usize;
    let mut json_idx = 0usize;
    for (i, (col, slot)) in cols.iter().zip(out.iter_mut()).enumerate() {
        let partial = if partial_bits.is_empty() || col.real_type != JSON {
            false
        } else {
            let p = bit(partial_bits, json_idx);
            json_idx += 1;
            p
        };
        if !present.get(i) {
            continue;
        }
        let is_null = bit(nulls, k);
        k += 1;
        if is_null {
            *slot = Some(Value::Null);
        } else {
            decode_value(col, data, pos, partial, slot)?;
        }
    }
    Ok(())
}

/// Bit `i` of an LSB-first bitmap (false past the end).
#[inline(always)]
fn bit(b: &[u8], i: usize) -> bool {
    b.get(i / 8).is_some_and(|x| x & (1 << (i % 8)) != 0)
}

impl Row<'_> {
    /// Empties the row and re-types it for another event's lifetime, keeping the vectors'
    /// allocations (the standard library collects an emptied `Vec` in place), so a hot loop
    /// can reuse one `Row` across events: `row = row.reuse();`.
    #[inline]
    pub fn reuse<'b>(self) -> Row<'b> {
        #[inline(always)]
        fn recycle<'b>(v: Option<Vec<Option<Value<'_>>>>) -> Option<Vec<Option<Value<'b>>>> {
            v.map(|mut v| {
                v.clear();
                v.into_iter().map(|_| None).collect()
            })
        }
        Row {
            before: recycle(self.before),
            after: recycle(self.after),
        }
    }
}
