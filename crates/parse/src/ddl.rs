//! Classification of QUERY-event statements into Canal event types (compat §2.4), with
//! `sqlparser` (MySQL dialect) first and a keyword fallback for statements it cannot parse.
//!
//! Java Canal uses the druid parser; this module reproduces the mapping of its results: CREATE,
//! ALTER (RENAME / CINDEX / DINDEX by the first alter item), ERASE per dropped table, TRUNCATE,
//! RENAME per pair, CINDEX/DINDEX for index statements, INSERT/UPDATE/DELETE for statement DML,
//! QUERY for CREATE/DROP DATABASE and unparseable text, and *no result* for everything druid does
//! not map (views, routines, users, grants, SET, ...).

use canal_protocol::entry::EventType;
use regex::Regex;
use sqlparser::ast::{
    AlterTableOperation, ObjectName, ObjectNamePart, ObjectType, SchemaName, Statement,
    TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use std::sync::OnceLock;

/// One classification result (Canal uses the first one for the entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlResult {
    /// Event type.
    pub event_type: EventType,
    /// Schema of the (target) table; `None` when druid would report null.
    pub schema: Option<String>,
    /// Table name (target for RENAME).
    pub table: Option<String>,
    /// RENAME: original schema.
    pub ori_schema: Option<String>,
    /// RENAME: original table.
    pub ori_table: Option<String>,
}

impl DdlResult {
    fn new(t: EventType, schema: Option<String>, table: Option<String>) -> Self {
        DdlResult {
            event_type: t,
            schema,
            table,
            ori_schema: None,
            ori_table: None,
        }
    }
}

fn parts(n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Splits `[schema.]table` into (schema, table), defaulting the schema.
pub fn qualify(p: &[String], default_schema: &str) -> (String, String) {
    match p {
        [t] => (default_schema.to_string(), t.clone()),
        [.., s, t] => (s.clone(), t.clone()),
        [] => (default_schema.to_string(), String::new()),
    }
}

fn name_of(n: &ObjectName, default_schema: &str) -> (Option<String>, Option<String>) {
    let (s, t) = qualify(&parts(n), default_schema);
    (Some(s), Some(t))
}

fn with_table(t: EventType, n: &ObjectName, default_schema: &str) -> DdlResult {
    let (s, tb) = name_of(n, default_schema);
    DdlResult::new(t, s, tb)
}

/// Classifies a query text executed with `default_schema` (may be empty).
pub fn classify(sql: &str, default_schema: &str) -> Vec<DdlResult> {
    match Parser::parse_sql(&MySqlDialect {}, sql) {
        Ok(stmts) => {
            let mut out = Vec::new();
            for st in &stmts {
                out.extend(classify_stmt(st, sql, default_schema));
            }
            out
        }
        Err(_) => fallback(sql, default_schema),
    }
}

fn classify_stmt(st: &Statement, sql: &str, ds: &str) -> Vec<DdlResult> {
    use EventType as E;
    match st {
        Statement::CreateTable(ct) => vec![with_table(E::Create, &ct.name, ds)],
        Statement::AlterTable(at) => {
            let base = with_table(E::Alter, &at.name, ds);
            let mut out = Vec::new();
            for op in &at.operations {
                let r = match op {
                    AlterTableOperation::RenameTable { table_name } => {
                        let n = match table_name {
                            sqlparser::ast::RenameTableNameKind::As(n)
                            | sqlparser::ast::RenameTableNameKind::To(n) => n,
                        };
                        let (s, t) = name_of(n, ds);
                        Some(DdlResult {
                            event_type: E::Rename,
                            schema: s,
                            table: t,
                            ori_schema: base.schema.clone(),
                            ori_table: base.table.clone(),
                        })
                    }
                    AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                        TableConstraint::Index(_)
                        | TableConstraint::FulltextOrSpatial(_)
                        | TableConstraint::Unique(_)
                        | TableConstraint::PrimaryKey(_) => Some(DdlResult {
                            event_type: E::Cindex,
                            ..base.clone()
                        }),
                        _ => None,
                    },
                    AlterTableOperation::DropIndex { .. }
                    | AlterTableOperation::DropConstraint { .. } => Some(DdlResult {
                        event_type: E::Dindex,
                        ..base.clone()
                    }),
                    _ => Some(base.clone()),
                };
                out.extend(r);
            }
            if at.operations.is_empty() {
                out.push(base);
            }
            out
        }
        Statement::Drop {
            object_type,
            names,
            table,
            ..
        } => match object_type {
            ObjectType::Table => names.iter().map(|n| with_table(E::Erase, n, ds)).collect(),
            ObjectType::Index => match table {
                Some(t) => vec![with_table(E::Dindex, t, ds)],
                None => vec![DdlResult::new(E::Dindex, Some(ds.to_string()), None)],
            },
            ObjectType::Schema | ObjectType::Database => names
                .iter()
                .map(|n| DdlResult::new(E::Query, parts(n).pop(), None))
                .collect(),
            _ => Vec::new(),
        },
        Statement::CreateIndex(ci) => vec![with_table(E::Cindex, &ci.table_name, ds)],
        Statement::Truncate(t) => t
            .table_names
            .first()
            .map(|n| vec![with_table(E::Truncate, &n.name, ds)])
            .unwrap_or_default(),
        Statement::RenameTable(pairs) => pairs
            .iter()
            .map(|p| {
                let (s, t) = name_of(&p.new_name, ds);
                let (os, ot) = name_of(&p.old_name, ds);
                DdlResult {
                    event_type: E::Rename,
                    schema: s,
                    table: t,
                    ori_schema: os,
                    ori_table: ot,
                }
            })
            .collect(),
        Statement::CreateDatabase { db_name, .. } => {
            vec![DdlResult::new(E::Query, parts(db_name).pop(), None)]
        }
        Statement::CreateSchema { schema_name, .. } => {
            let n = match schema_name {
                SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => parts(n).pop(),
                SchemaName::UnnamedAuthorization(i) => Some(i.value.clone()),
            };
            vec![DdlResult::new(E::Query, n, None)]
        }
        Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
            dml(sql, ds).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

static NAME_RE: OnceLock<Regex> = OnceLock::new();

/// One possibly qualified, possibly quoted name.
fn name_pattern() -> &'static str {
    r#"((?:`[^`]+`|"[^"]+"|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|"[^"]+"|[\w$]+))?)"#
}

fn unquote_name(raw: &str) -> Vec<String> {
    let re = NAME_RE.get_or_init(|| {
        Regex::new(r#"`([^`]+)`|"([^"]+)"|([\w$]+)"#).unwrap_or_else(|_| unreachable!())
    });
    re.captures_iter(raw)
        .filter_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .or_else(|| c.get(3))
                .map(|m| m.as_str().to_string())
        })
        .collect()
}

/// Lower-cased leading keywords of a statement (comments skipped).
pub fn leading_words(sql: &str, n: usize) -> Vec<String> {
    strip_comments(sql)
        .split_whitespace()
        .take(n)
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

fn strip_comments(sql: &str) -> String {
    let mut s = sql.trim_start();
    loop {
        if let Some(r) = s.strip_prefix("/*") {
            match r.find("*/") {
                Some(e) => s = r[e + 2..].trim_start(),
                None => return String::new(),
            }
        } else if s.starts_with("--") || s.starts_with('#') {
            match s.find('\n') {
                Some(e) => s = s[e + 1..].trim_start(),
                None => return String::new(),
            }
        } else {
            return s.to_string();
        }
    }
}

/// The table names a DDL statement names right after its leading keywords (best effort; used by
/// the fallback paths).
pub fn names_after_keyword(sql: &str) -> Vec<Vec<String>> {
    let s = strip_comments(sql);
    let pat = format!(
        r"(?is)^\s*(?:create\s+(?:or\s+replace\s+)?(?:temporary\s+)?table\s+(?:if\s+not\s+exists\s+)?|alter\s+(?:online\s+)?(?:ignore\s+)?table\s+|drop\s+(?:temporary\s+)?table\s+(?:if\s+exists\s+)?|rename\s+table\s+|truncate\s+(?:table\s+)?|(?:create|drop)\s+(?:database|schema)\s+(?:if\s+(?:not\s+)?exists\s+)?){}((?:\s*,\s*{})*)",
        name_pattern(),
        name_pattern()
    );
    let Ok(re) = Regex::new(&pat) else {
        return Vec::new();
    };
    let Some(c) = re.captures(&s) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(m) = c.get(1) {
        out.push(unquote_name(m.as_str()));
    }
    if let Some(rest) = c.get(3) {
        for part in rest.as_str().split(',') {
            let p = unquote_name(part);
            if !p.is_empty() {
                out.push(p);
            }
        }
    }
    out
}

fn dml(sql: &str, ds: &str) -> Option<DdlResult> {
    let s = strip_comments(sql);
    let np = name_pattern();
    let forms: [(&str, EventType); 3] = [
        (
            r"(?is)^\s*insert\s+(?:low_priority\s+|delayed\s+|high_priority\s+)?(?:ignore\s+)?(?:into\s+)?",
            EventType::Insert,
        ),
        (
            r"(?is)^\s*update\s+(?:low_priority\s+)?(?:ignore\s+)?",
            EventType::Update,
        ),
        (
            r"(?is)^\s*delete\s+(?:low_priority\s+)?(?:quick\s+)?(?:ignore\s+)?(?:.*?\s)?from\s+",
            EventType::Delete,
        ),
    ];
    for (p, t) in forms {
        let Ok(re) = Regex::new(&format!("{p}{np}")) else {
            continue;
        };
        if let Some(c) = re.captures(&s) {
            let n = c
                .get(1)
                .map(|m| unquote_name(m.as_str()))
                .unwrap_or_default();
            let (sc, tb) = qualify(&n, ds);
            return Some(DdlResult::new(t, Some(sc), Some(tb)));
        }
        if Regex::new(p).is_ok_and(|re| re.is_match(&s)) {
            return Some(DdlResult::new(t, None, None));
        }
    }
    None
}

/// Keyword-level classification for text sqlparser rejects.
fn fallback(sql: &str, ds: &str) -> Vec<DdlResult> {
    use EventType as E;
    let w = leading_words(sql, 4);
    let w: Vec<&str> = w.iter().map(|s| s.as_str()).collect();
    let names = names_after_keyword(sql);
    let first = |t: E| -> Vec<DdlResult> {
        match names.first() {
            Some(n) => {
                let (s, tb) = qualify(n, ds);
                vec![DdlResult::new(t, Some(s), Some(tb))]
            }
            None => vec![DdlResult::new(E::Query, None, None)],
        }
    };
    let s = strip_comments(sql).to_ascii_lowercase();
    match w.as_slice() {
        ["create", "table", ..]
        | ["create", "temporary", "table", ..]
        | ["create", "or", "replace", "table"] => first(E::Create),
        ["alter", ..] if s.contains(" table ") || w.get(1) == Some(&"table") => {
            let mut r = first(E::Alter);
            if let Some(x) = r.first_mut() {
                if Regex::new(r"(?is)^\s*alter\s+(?:online\s+)?(?:ignore\s+)?table\s+\S+\s+(?:add\s+(?:unique\s+|fulltext\s+|spatial\s+)?(?:index|key)\b|add\s+(?:constraint\s+\S+\s+)?(?:unique|primary\s+key)\b)")
                    .is_ok_and(|re| re.is_match(&s))
                {
                    x.event_type = E::Cindex;
                } else if Regex::new(r"(?is)^\s*alter\s+(?:online\s+)?(?:ignore\s+)?table\s+\S+\s+drop\s+(?:index|key|constraint)\b")
                    .is_ok_and(|re| re.is_match(&s))
                {
                    x.event_type = E::Dindex;
                }
            }
            r
        }
        ["drop", "table", ..] | ["drop", "temporary", "table", ..] => names
            .iter()
            .map(|n| {
                let (s, t) = qualify(n, ds);
                DdlResult::new(E::Erase, Some(s), Some(t))
            })
            .collect(),
        ["truncate", ..] => first(E::Truncate),
        ["rename", "table", ..] => {
            let re = Regex::new(&format!(
                r"(?is){}\s+to\s+{}",
                name_pattern(),
                name_pattern()
            ));
            let Ok(re) = re else { return Vec::new() };
            re.captures_iter(&strip_comments(sql))
                .filter_map(|c| {
                    let o = qualify(&unquote_name(c.get(1)?.as_str()), ds);
                    let n = qualify(&unquote_name(c.get(2)?.as_str()), ds);
                    Some(DdlResult {
                        event_type: E::Rename,
                        schema: Some(n.0),
                        table: Some(n.1),
                        ori_schema: Some(o.0),
                        ori_table: Some(o.1),
                    })
                })
                .collect()
        }
        ["create", "database" | "schema", ..] | ["drop", "database" | "schema", ..] => {
            vec![DdlResult::new(
                E::Query,
                names.first().and_then(|n| n.last().cloned()),
                None,
            )]
        }
        ["create", ..] if s.contains(" index ") => {
            let re = Regex::new(&format!(r"(?is)\bon\s+{}", name_pattern()));
            match re.ok().and_then(|re| {
                re.captures(&s)
                    .and_then(|c| c.get(1).map(|m| unquote_name(m.as_str())))
            }) {
                Some(n) => {
                    let (sc, t) = qualify(&n, ds);
                    vec![DdlResult::new(E::Cindex, Some(sc), Some(t))]
                }
                None => vec![DdlResult::new(E::Query, None, None)],
            }
        }
        ["drop", "index", ..] => {
            let re = Regex::new(&format!(r"(?is)\bon\s+{}", name_pattern()));
            match re.ok().and_then(|re| {
                re.captures(&s)
                    .and_then(|c| c.get(1).map(|m| unquote_name(m.as_str())))
            }) {
                Some(n) => {
                    let (sc, t) = qualify(&n, ds);
                    vec![DdlResult::new(E::Dindex, Some(sc), Some(t))]
                }
                None => vec![DdlResult::new(E::Query, None, None)],
            }
        }
        ["insert" | "update" | "delete", ..] => dml(sql, ds).into_iter().collect(),
        // Statements druid parses but Canal does not map: no entry.
        ["create" | "drop" | "alter", "view" | "user" | "role" | "procedure" | "function" | "trigger" | "event" | "definer="
        | "sql" | "algorithm" | "or" | "server" | "sequence" | "tablespace" | "logfile", ..]
        | ["grant" | "revoke" | "set" | "savepoint" | "rollback" | "flush" | "replace" | "analyze"
        | "optimize" | "repair" | "check" | "call" | "do" | "xa" | "release" | "install"
        | "uninstall" | "lock" | "unlock" | "handler" | "load" | "use" | "begin" | "commit"
        | "start", ..] => Vec::new(),
        _ if s.starts_with("create definer") || s.starts_with("create algorithm") => Vec::new(),
        _ => vec![DdlResult::new(E::Query, None, None)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType as E;

    fn first(sql: &str) -> (E, Option<String>, Option<String>) {
        let r = classify(sql, "test");
        let r = r
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("no result for {sql}"));
        (r.event_type, r.schema, r.table)
    }
    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn druid_mapping_table() {
        assert_eq!(
            first("CREATE TABLE ddl_db.t1 (id INT PRIMARY KEY)"),
            (E::Create, s("ddl_db"), s("t1"))
        );
        assert_eq!(
            first("CREATE TABLE tq (k INT)"),
            (E::Create, s("test"), s("tq"))
        );
        assert_eq!(
            first("ALTER TABLE ddl_db.t1 ADD COLUMN c DATETIME(3) NULL"),
            (E::Alter, s("ddl_db"), s("t1"))
        );
        assert_eq!(
            first("ALTER TABLE ddl_db.t1 ADD INDEX idx_a (a)"),
            (E::Cindex, s("ddl_db"), s("t1"))
        );
        assert_eq!(
            first("ALTER TABLE ddl_db.t1 DROP INDEX idx_a"),
            (E::Dindex, s("ddl_db"), s("t1"))
        );
        assert_eq!(
            first("ALTER TABLE ddl_db.t2 RENAME TO ddl_db.t3"),
            (E::Rename, s("ddl_db"), s("t3"))
        );
        assert_eq!(
            first("ALTER TABLE d2 RENAME TO d3, ADD INDEX ib (b)"),
            (E::Rename, s("test"), s("d3"))
        );
        assert_eq!(
            first("RENAME TABLE ddl_db.t1 TO ddl_db.t2"),
            (E::Rename, s("ddl_db"), s("t2"))
        );
        assert_eq!(
            first("TRUNCATE TABLE ddl_db.t3"),
            (E::Truncate, s("ddl_db"), s("t3"))
        );
        assert_eq!(
            first("CREATE UNIQUE INDEX uk_a ON ddl_db.t3 (a)"),
            (E::Cindex, s("ddl_db"), s("t3"))
        );
        assert_eq!(
            first("DROP INDEX idx_c ON ddl_db.t3"),
            (E::Dindex, s("ddl_db"), s("t3"))
        );
        assert_eq!(
            first("CREATE DATABASE ddl_db"),
            (E::Query, s("ddl_db"), None)
        );
        assert_eq!(first("DROP DATABASE ddl_db"), (E::Query, s("ddl_db"), None));
        let r = classify(
            "DROP TABLE `d3`,`gtid_seed` /* generated by server */",
            "ddl_db",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].event_type, r[0].table.as_deref()),
            (E::Erase, Some("d3"))
        );
        assert!(classify(
            "CREATE VIEW ddl_db.v1 AS SELECT id, a FROM ddl_db.t3",
            "test"
        )
        .is_empty());
        assert!(classify("GRANT SELECT, INSERT ON ddl_db.* TO 'golden_u'@'%'", "test").is_empty());
        assert!(classify("DROP VIEW ddl_db.v1", "test").is_empty());
        assert_eq!(
            first("INSERT INTO t1 VALUES (1)"),
            (E::Insert, s("test"), s("t1"))
        );
        assert_eq!(first("this is not sql at all"), (E::Query, None, None));
    }

    #[test]
    fn fallback_names() {
        assert_eq!(
            names_after_keyword("DROP TABLE IF EXISTS `a`.`b`, c"),
            vec![
                vec!["a".to_string(), "b".to_string()],
                vec!["c".to_string()]
            ]
        );
    }
}
