//! `mysqlType` strings derived from TABLE_MAP alone (used only when FULL metadata names a column
//! that no known definition has). Lengths of character columns are given in bytes / 4 for
//! utf8mb4 collations (bytes otherwise), which is what the server would print for utf8mb4/latin1.

use canal_binlog::event::TableMap;

use crate::meta::{canonical_type, Flavor};
use crate::values::mysql_type as m;

fn quoted(members: &[Vec<u8>]) -> String {
    members
        .iter()
        .map(|v| format!("'{}'", String::from_utf8_lossy(v).replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Renders column `i` of `tm`.
pub fn render(tm: &TableMap, i: usize, flavor: Flavor) -> String {
    let Some(c) = tm.columns.get(i) else {
        return String::new();
    };
    let unsigned = tm
        .meta
        .unsigned
        .as_ref()
        .and_then(|u| u.get(i).copied().flatten())
        .unwrap_or(false);
    let u = if unsigned { " unsigned" } else { "" };
    let charset = tm
        .meta
        .column_charsets
        .as_ref()
        .and_then(|v| v.get(i).copied().flatten())
        .or(tm.meta.default_charset);
    let chars = |bytes: u16| -> u16 {
        match charset {
            Some(45 | 46 | 224..=247 | 255..=323) => bytes / 4,
            Some(33 | 83 | 192..=215 | 223) => bytes / 3,
            _ => bytes,
        }
    };
    let binary = charset == Some(63);
    let nth_enum = |set: bool| -> Option<String> {
        let list = if set {
            tm.meta.set_values.as_ref()?
        } else {
            tm.meta.enum_values.as_ref()?
        };
        let before = tm.columns[..i]
            .iter()
            .filter(|x| x.real_type == if set { m::SET } else { m::ENUM })
            .count();
        list.get(before).map(|v| quoted(v))
    };
    let t = match c.real_type {
        m::TINY => format!("tinyint{u}"),
        m::SHORT => format!("smallint{u}"),
        m::INT24 => format!("mediumint{u}"),
        m::LONG => format!("int{u}"),
        m::LONGLONG => format!("bigint{u}"),
        m::FLOAT => format!("float{u}"),
        m::DOUBLE => format!("double{u}"),
        m::NEWDECIMAL => format!("decimal({},{}){u}", c.meta >> 8, c.meta & 0xff),
        m::BIT => format!("bit({})", (c.meta >> 8) * 8 + (c.meta & 0xff)),
        m::YEAR => "year".into(),
        m::DATE | m::NEWDATE => "date".into(),
        m::TIME | m::TIME2 => {
            if c.meta > 0 {
                format!("time({})", c.meta)
            } else {
                "time".into()
            }
        }
        m::DATETIME | m::DATETIME2 => {
            if c.meta > 0 {
                format!("datetime({})", c.meta)
            } else {
                "datetime".into()
            }
        }
        m::TIMESTAMP | m::TIMESTAMP2 => {
            if c.meta > 0 {
                format!("timestamp({})", c.meta)
            } else {
                "timestamp".into()
            }
        }
        m::VARCHAR | m::VAR_STRING => {
            if binary {
                format!("varbinary({})", c.meta)
            } else {
                format!("varchar({})", chars(c.meta))
            }
        }
        m::STRING => {
            let len = c.meta & 0xff | ((c.meta >> 8) & 0x30 ^ 0x30) << 4;
            if binary {
                format!("binary({len})")
            } else {
                format!("char({})", chars(len))
            }
        }
        m::ENUM => format!("enum({})", nth_enum(false).unwrap_or_default()),
        m::SET => format!("set({})", nth_enum(true).unwrap_or_default()),
        m::BLOB | m::TINY_BLOB | m::MEDIUM_BLOB | m::LONG_BLOB => {
            let base = match c.meta {
                1 => "tiny",
                3 => "medium",
                4 => "long",
                _ => "",
            };
            if binary {
                format!("{base}blob")
            } else {
                format!("{base}text")
            }
        }
        m::JSON => "json".into(),
        m::GEOMETRY => "geometry".into(),
        m::VECTOR => "vector".into(),
        other => format!("unknown({other})"),
    };
    canonical_type(&t, flavor)
}
