//! Typed column values of a row image, borrowed from the event buffer.
//!
//! Values keep what the binlog says and nothing more: integers are sign-extended as stored (the
//! consumer applies UNSIGNED from its table metadata, as Java Canal does), temporal values keep
//! their binlog format (old and new), strings and blobs are raw bytes (charset is the consumer's
//! business), DECIMAL is the raw packed form with a formatter, JSON is MySQL's binary form with a
//! converter to text.
#![warn(missing_docs)]

/// One column value of one row image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// TINY/SHORT/INT24/LONG/LONGLONG, sign-extended from `width` bytes.
    Int {
        /// The stored value, sign-extended.
        value: i64,
        /// Stored width in bytes (1, 2, 3, 4 or 8); UNSIGNED values are `value as u64` masked
        /// to this width.
        width: u8,
    },
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// NEWDECIMAL in MySQL's packed binary form.
    Decimal(Decimal<'a>),
    /// YEAR: 0 or 1901..=2155 (the stored byte + 1900, 0 kept as 0).
    Year(u16),
    /// DATE (and NEWDATE): components as stored (zero parts allowed).
    Date {
        /// Year (0-9999).
        year: u16,
        /// Month (0-12).
        month: u8,
        /// Day (0-31).
        day: u8,
    },
    /// TIME2 (MySQL 5.6+ format) with fractional seconds precision `fsp`.
    Time2 {
        /// Sign (also for values whose only non-zero part is the fraction).
        negative: bool,
        /// Hours (0-838 for valid values).
        hours: u32,
        /// Minutes.
        minutes: u8,
        /// Seconds.
        seconds: u8,
        /// Microseconds (fsp 1-2 store hundredths, 3-4 tenths of ms: scaled to micros).
        micros: u32,
        /// Fractional seconds precision from the column (0-6).
        fsp: u8,
    },
    /// Old TIME (type 11): the stored integer `HHMMSS` with sign.
    TimeV1(i32),
    /// DATETIME2 with `fsp`.
    DateTime2 {
        /// Year.
        year: u16,
        /// Month (0-12).
        month: u8,
        /// Day (0-31).
        day: u8,
        /// Hour.
        hour: u8,
        /// Minute.
        minute: u8,
        /// Second.
        second: u8,
        /// Microseconds.
        micros: u32,
        /// Fractional seconds precision (0-6).
        fsp: u8,
    },
    /// Old DATETIME (type 12): the stored integer `YYYYMMDDhhmmss`.
    DateTimeV1(u64),
    /// TIMESTAMP2 (`fsp` > 0 possible) or old TIMESTAMP (`fsp` = 0): seconds since the epoch, UTC.
    Timestamp {
        /// Seconds since the epoch (0 = the zero timestamp).
        seconds: u32,
        /// Microseconds.
        micros: u32,
        /// Fractional seconds precision (0-6).
        fsp: u8,
    },
    /// BIT(n): `bits` = n, bytes big-endian, `(n + 7) / 8` of them.
    Bit {
        /// Declared width n.
        bits: u16,
        /// Big-endian bytes.
        bytes: &'a [u8],
    },
    /// ENUM: the 1-based index (0 = the invalid '' value).
    Enum(u16),
    /// SET: the member bitmask.
    Set(u64),
    /// CHAR/VARCHAR/VAR_STRING/BINARY/VARBINARY bytes as stored (CHAR has no padding in binlog).
    String(&'a [u8]),
    /// TINY/MEDIUM/LONG/BLOB and TEXT bytes.
    Blob(&'a [u8]),
    /// GEOMETRY bytes (4-byte SRID + WKB).
    Geometry(&'a [u8]),
    /// JSON in MySQL's binary format (a full value). MariaDB logs JSON as a blob instead.
    Json(&'a [u8]),
    /// A partial JSON update (MySQL PARTIAL_UPDATE_ROWS after image): the raw diff vector.
    JsonDiff(&'a [u8]),
    /// VECTOR bytes (MySQL 9).
    Vector(&'a [u8]),
}

/// A packed DECIMAL as it sits in the row image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal<'a> {
    /// Declared precision (total digits).
    pub precision: u8,
    /// Declared scale (fraction digits).
    pub scale: u8,
    /// Exactly `decimal_bin_size(precision, scale)` bytes.
    pub bytes: &'a [u8],
}

fn write_frac(f: &mut std::fmt::Formatter<'_>, micros: u32, fsp: u8) -> std::fmt::Result {
    if fsp == 0 {
        return Ok(());
    }
    let s = format!("{micros:06}");
    write!(f, ".{}", &s[..(fsp as usize).min(6)])
}

/// MySQL-like text for logs and the dump tool (not Canal's rendering, which lives in `parse`):
/// temporal values as `YYYY-MM-DD hh:mm:ss[.fraction]`, TIMESTAMP as epoch seconds, DECIMAL
/// canonical, strings lossily as UTF-8, binary as hex.
impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Value::Null => f.write_str("NULL"),
            Value::Int { value, .. } => write!(f, "{value}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Double(x) => write!(f, "{x:?}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Year(y) => write!(f, "{y:04}"),
            Value::Date { year, month, day } => write!(f, "{year:04}-{month:02}-{day:02}"),
            Value::Time2 {
                negative,
                hours,
                minutes,
                seconds,
                micros,
                fsp,
            } => {
                let sign = if negative { "-" } else { "" };
                write!(f, "{sign}{hours:02}:{minutes:02}:{seconds:02}")?;
                write_frac(f, micros, fsp)
            }
            Value::TimeV1(v) => {
                let sign = if v < 0 { "-" } else { "" };
                let a = v.unsigned_abs();
                write!(
                    f,
                    "{sign}{:02}:{:02}:{:02}",
                    a / 10000,
                    a / 100 % 100,
                    a % 100
                )
            }
            Value::DateTime2 {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micros,
                fsp,
            } => {
                write!(
                    f,
                    "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"
                )?;
                write_frac(f, micros, fsp)
            }
            Value::DateTimeV1(v) => {
                let (d, t) = (v / 1_000_000, v % 1_000_000);
                write!(
                    f,
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d / 10000,
                    d / 100 % 100,
                    d % 100,
                    t / 10000,
                    t / 100 % 100,
                    t % 100
                )
            }
            Value::Timestamp {
                seconds,
                micros,
                fsp,
            } => {
                write!(f, "{seconds}")?;
                write_frac(f, micros, fsp)
            }
            Value::Bit { bytes, .. } => write!(f, "{}", crate::read::be_uint(bytes)),
            Value::Enum(e) => write!(f, "{e}"),
            Value::Set(s) => write!(f, "{s}"),
            Value::String(b) | Value::Blob(b) => f.write_str(&String::from_utf8_lossy(b)),
            Value::Geometry(b) | Value::Json(b) | Value::JsonDiff(b) | Value::Vector(b) => {
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl Value<'_> {
    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The integer of a BIT value (big-endian, up to 64 bits).
    pub fn bit_value(&self) -> Option<u64> {
        match self {
            Value::Bit { bytes, .. } => Some(crate::read::be_uint(bytes)),
            _ => None,
        }
    }
}
