//! Table metadata: column names, `mysqlType` strings and primary-key flags per table, built from
//! `SHOW CREATE TABLE` text or replayed from the DDL found in the binlog (compat §4).
//!
//! DDL is parsed with `sqlparser` (MySQL dialect). Types are rendered like the server's own
//! `SHOW CREATE TABLE` spelling ([`Flavor`]): MariaDB and MySQL 5.7 print display widths
//! (`int(11)`, `bigint(20) unsigned`, `year(4)`), MySQL >= 8.0.19 does not (`int`,
//! `bigint unsigned`, `year`; `tinyint(1)` stays).
//!
//! What sqlparser cannot parse (some MariaDB-only syntax such as `ZEROFILL`, system-versioning,
//! `IF NOT EXISTS` on columns in older forms...): `DROP TABLE`, `RENAME TABLE` and `DROP DATABASE`
//! are handled by a small keyword fallback; for any other unparsed statement that names a table
//! (`CREATE TABLE`, `ALTER TABLE`) the table's definition is *forgotten*, so the next rows event
//! re-reads it from the live source, or fails with a clear "no table metadata" error offline —
//! never silently using a stale column list.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, CreateTableLikeKind, DataType, EnumMember, Expr,
    MySQLColumnPosition, ObjectName, ObjectNamePart, ObjectType, RenameTableNameKind, Statement,
    TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// How the source server spells column types in `SHOW CREATE TABLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Flavor {
    /// MariaDB (any version): display widths, JSON is `longtext`, YEAR is `year(4)`.
    #[default]
    MariaDb,
    /// MySQL before 8.0.19: display widths, `json`.
    MySqlLegacy,
    /// MySQL 8.0.19 and later: no integer display widths except `tinyint(1)`, `year`.
    MySql,
}

impl Flavor {
    /// Picks the flavor from a FORMAT_DESCRIPTION / `SELECT VERSION()` string.
    pub fn from_server_version(v: &str) -> Self {
        if v.to_ascii_lowercase().contains("mariadb") {
            return Flavor::MariaDb;
        }
        let nums: Vec<u32> = v
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .filter_map(|s| s.parse().ok())
            .collect();
        match nums.as_slice() {
            [maj, ..] if *maj >= 9 => Flavor::MySql,
            [8, min, ..] if *min > 0 => Flavor::MySql,
            [8, 0, patch, ..] if *patch >= 19 => Flavor::MySql,
            _ => Flavor::MySqlLegacy,
        }
    }
    fn widths(self) -> bool {
        self != Flavor::MySql
    }
}

/// One column of a table definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Column name as declared.
    pub name: String,
    /// Type as `SHOW CREATE TABLE` prints it (lower case, with arguments, `unsigned`).
    pub mysql_type: String,
    /// Member of the PRIMARY KEY.
    pub is_key: bool,
}

/// A table definition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableDef {
    /// Schema (database).
    pub schema: String,
    /// Table name.
    pub name: String,
    /// Columns in table order.
    pub columns: Vec<ColumnDef>,
}

impl TableDef {
    /// Column names in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
}

/// All known tables, keyed by (schema, table).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    tables: HashMap<(String, String), TableDef>,
}

/// What a DDL did to the schema (for logging and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DdlEffect {
    /// Tables were created/changed/dropped.
    Applied,
    /// Nothing to do for metadata (index, view, grant, DML ...).
    Ignored,
    /// Not parseable; these tables were forgotten.
    Forgotten(Vec<(String, String)>),
}

fn ident_parts(n: &ObjectName) -> Vec<String> {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn split_name(n: &ObjectName, default_schema: &str) -> (String, String) {
    let parts = ident_parts(n);
    match parts.as_slice() {
        [t] => (default_schema.to_string(), t.clone()),
        [.., s, t] => (s.clone(), t.clone()),
        [] => (default_schema.to_string(), String::new()),
    }
}

impl Schema {
    /// Empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// The definition of `schema.table`.
    pub fn get(&self, schema: &str, table: &str) -> Option<&TableDef> {
        self.tables.get(&(schema.to_string(), table.to_string()))
    }

    /// Inserts or replaces a definition.
    pub fn put(&mut self, def: TableDef) {
        self.tables
            .insert((def.schema.clone(), def.name.clone()), def);
    }

    /// Removes a definition.
    pub fn remove(&mut self, schema: &str, table: &str) -> Option<TableDef> {
        self.tables.remove(&(schema.to_string(), table.to_string()))
    }

    /// All tables, sorted (for tests and dumps).
    pub fn tables(&self) -> BTreeMap<(String, String), TableDef> {
        self.tables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Parses a `CREATE TABLE` text (e.g. `SHOW CREATE TABLE` output) into a definition.
    pub fn parse_create(sql: &str, schema: &str, flavor: Flavor) -> Result<TableDef, String> {
        let mut s = Schema::new();
        s.apply_ddl(sql, schema, flavor);
        s.tables
            .into_values()
            .next()
            .ok_or_else(|| format!("not a CREATE TABLE statement: {sql}"))
    }

    /// Applies one DDL statement (or several separated by `;`) executed with `default_schema`.
    pub fn apply_ddl(&mut self, sql: &str, default_schema: &str, flavor: Flavor) -> DdlEffect {
        let stmts = match Parser::parse_sql(&MySqlDialect {}, sql) {
            Ok(s) => s,
            Err(e) => return self.fallback(sql, default_schema, &e.to_string()),
        };
        let mut effect = DdlEffect::Ignored;
        for st in stmts {
            let e = self.apply_stmt(&st, default_schema, flavor);
            if e != DdlEffect::Ignored {
                effect = e;
            }
        }
        effect
    }

    fn apply_stmt(&mut self, st: &Statement, default_schema: &str, flavor: Flavor) -> DdlEffect {
        match st {
            Statement::CreateTable(ct) => {
                let (schema, name) = split_name(&ct.name, default_schema);
                if ct.if_not_exists && self.get(&schema, &name).is_some() {
                    return DdlEffect::Ignored;
                }
                if let Some(like) = &ct.like {
                    let src = match like {
                        CreateTableLikeKind::Parenthesized(l) | CreateTableLikeKind::Plain(l) => {
                            &l.name
                        }
                    };
                    let (ss, st) = split_name(src, default_schema);
                    return match self.get(&ss, &st).cloned() {
                        Some(mut d) => {
                            d.schema = schema;
                            d.name = name;
                            self.put(d);
                            DdlEffect::Applied
                        }
                        None => {
                            self.remove(&schema, &name);
                            DdlEffect::Forgotten(vec![(schema, name)])
                        }
                    };
                }
                if ct.columns.is_empty() {
                    // CREATE ... AS SELECT without a column list: shape unknown here.
                    self.remove(&schema, &name);
                    return DdlEffect::Forgotten(vec![(schema, name)]);
                }
                let mut def = TableDef {
                    schema,
                    name,
                    columns: Vec::new(),
                };
                for c in &ct.columns {
                    let is_key = c
                        .options
                        .iter()
                        .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
                    def.columns.push(ColumnDef {
                        name: c.name.value.clone(),
                        mysql_type: render_type(&c.data_type, flavor),
                        is_key,
                    });
                }
                for con in &ct.constraints {
                    if let TableConstraint::PrimaryKey(pk) = con {
                        set_pk(
                            &mut def,
                            pk.columns
                                .iter()
                                .map(|c| index_col_name(&c.column.expr))
                                .collect(),
                        );
                    }
                }
                self.put(def);
                DdlEffect::Applied
            }
            Statement::AlterTable(at) => {
                let (schema, name) = split_name(&at.name, default_schema);
                let Some(mut def) = self.get(&schema, &name).cloned() else {
                    return DdlEffect::Ignored;
                };
                let mut new_name: Option<(String, String)> = None;
                for op in &at.operations {
                    match op {
                        AlterTableOperation::AddColumn {
                            column_def: c,
                            column_position,
                            ..
                        } => {
                            let is_key = c
                                .options
                                .iter()
                                .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)));
                            let col = ColumnDef {
                                name: c.name.value.clone(),
                                mysql_type: render_type(&c.data_type, flavor),
                                is_key,
                            };
                            insert_at(&mut def, col, column_position.as_ref());
                        }
                        AlterTableOperation::DropColumn { column_names, .. } => {
                            for n in column_names {
                                def.columns
                                    .retain(|c| !c.name.eq_ignore_ascii_case(&n.value));
                            }
                        }
                        AlterTableOperation::ModifyColumn {
                            col_name,
                            data_type,
                            options,
                            column_position,
                        } => {
                            change_column(
                                &mut def,
                                &col_name.value,
                                &col_name.value,
                                data_type,
                                options,
                                column_position.as_ref(),
                                flavor,
                            );
                        }
                        AlterTableOperation::ChangeColumn {
                            old_name,
                            new_name,
                            data_type,
                            options,
                            column_position,
                        } => {
                            change_column(
                                &mut def,
                                &old_name.value,
                                &new_name.value,
                                data_type,
                                options,
                                column_position.as_ref(),
                                flavor,
                            );
                        }
                        AlterTableOperation::RenameColumn {
                            old_column_name,
                            new_column_name,
                        } => {
                            if let Some(c) = def
                                .columns
                                .iter_mut()
                                .find(|c| c.name.eq_ignore_ascii_case(&old_column_name.value))
                            {
                                c.name = new_column_name.value.clone();
                            }
                        }
                        AlterTableOperation::DropPrimaryKey { .. } => {
                            for c in &mut def.columns {
                                c.is_key = false;
                            }
                        }
                        AlterTableOperation::AddConstraint {
                            constraint: TableConstraint::PrimaryKey(pk),
                            ..
                        } => {
                            set_pk(
                                &mut def,
                                pk.columns
                                    .iter()
                                    .map(|c| index_col_name(&c.column.expr))
                                    .collect(),
                            );
                        }
                        AlterTableOperation::RenameTable { table_name } => {
                            let n = match table_name {
                                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                            };
                            new_name = Some(split_name(n, default_schema));
                        }
                        _ => {}
                    }
                }
                if let Some((s, n)) = new_name {
                    self.remove(&schema, &name);
                    def.schema = s;
                    def.name = n;
                }
                self.put(def);
                DdlEffect::Applied
            }
            Statement::Drop {
                object_type, names, ..
            } => match object_type {
                ObjectType::Table => {
                    for n in names {
                        let (s, t) = split_name(n, default_schema);
                        self.remove(&s, &t);
                    }
                    DdlEffect::Applied
                }
                ObjectType::Schema | ObjectType::Database => {
                    for n in names {
                        let db = ident_parts(n).pop().unwrap_or_default();
                        self.tables.retain(|(s, _), _| *s != db);
                    }
                    DdlEffect::Applied
                }
                _ => DdlEffect::Ignored,
            },
            Statement::RenameTable(pairs) => {
                for p in pairs {
                    let (os, ot) = split_name(&p.old_name, default_schema);
                    let (ns, nt) = split_name(&p.new_name, default_schema);
                    if let Some(mut d) = self.remove(&os, &ot) {
                        d.schema = ns;
                        d.name = nt;
                        self.put(d);
                    }
                }
                DdlEffect::Applied
            }
            _ => DdlEffect::Ignored,
        }
    }

    fn fallback(&mut self, sql: &str, default_schema: &str, err: &str) -> DdlEffect {
        let words = crate::ddl::leading_words(sql, 3);
        let w: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
        let names = crate::ddl::names_after_keyword(sql);
        match w.as_slice() {
            ["drop", "table", ..] | ["drop", "temporary", "table"] => {
                for (s, t) in names.iter().map(|n| crate::ddl::qualify(n, default_schema)) {
                    self.remove(&s, &t);
                }
                DdlEffect::Applied
            }
            ["drop", "database" | "schema", ..] => {
                if let Some(db) = names.first() {
                    let db = db.last().cloned().unwrap_or_default();
                    self.tables.retain(|(s, _), _| *s != db);
                }
                DdlEffect::Applied
            }
            ["create" | "alter" | "rename", ..] => {
                let mut gone = Vec::new();
                for n in names {
                    let (s, t) = crate::ddl::qualify(&n, default_schema);
                    if self.remove(&s, &t).is_some() {
                        gone.push((s, t));
                    }
                }
                tracing::warn!(sql, error = err, "DDL not understood by the SQL parser; forgetting the tables it names: {gone:?}");
                DdlEffect::Forgotten(gone)
            }
            _ => DdlEffect::Ignored,
        }
    }
}

fn index_col_name(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(v) => v.last().map(|i| i.value.clone()).unwrap_or_default(),
        // `col(10)` prefix index parses as a function call.
        Expr::Function(f) => ident_parts(&f.name).pop().unwrap_or_default(),
        other => other.to_string(),
    }
}

fn set_pk(def: &mut TableDef, cols: Vec<String>) {
    for c in &mut def.columns {
        c.is_key = cols.iter().any(|k| k.eq_ignore_ascii_case(&c.name));
    }
}

fn insert_at(def: &mut TableDef, col: ColumnDef, pos: Option<&MySQLColumnPosition>) {
    match pos {
        Some(MySQLColumnPosition::First) => def.columns.insert(0, col),
        Some(MySQLColumnPosition::After(a)) => {
            let i = def
                .columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&a.value))
                .map_or(def.columns.len(), |i| i + 1);
            def.columns.insert(i, col);
        }
        None => def.columns.push(col),
    }
}

fn change_column(
    def: &mut TableDef,
    old: &str,
    new: &str,
    dt: &DataType,
    options: &[ColumnOption],
    pos: Option<&MySQLColumnPosition>,
    flavor: Flavor,
) {
    let Some(i) = def
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(old))
    else {
        return;
    };
    let mut col = def.columns.remove(i);
    col.name = new.to_string();
    col.mysql_type = render_type(dt, flavor);
    if options
        .iter()
        .any(|o| matches!(o, ColumnOption::PrimaryKey(_)))
    {
        col.is_key = true;
    }
    match pos {
        None => def.columns.insert(i, col),
        p => insert_at(def, col, p),
    }
}

fn quote_member(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Renders a declared type the way `SHOW CREATE TABLE` prints it on `flavor`.
pub fn render_type(dt: &DataType, flavor: Flavor) -> String {
    match dt {
        DataType::Enum(members, _) => {
            let m: Vec<String> = members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(s) | EnumMember::NamedValue(s, _) => quote_member(s),
                })
                .collect();
            return format!("enum({})", m.join(","));
        }
        DataType::Set(members) => {
            let m: Vec<String> = members.iter().map(|s| quote_member(s)).collect();
            return format!("set({})", m.join(","));
        }
        _ => {}
    }
    canonical_type(&dt.to_string(), flavor)
}

/// Normalises a type text (`INT UNSIGNED`, `DECIMAL(10, 2)`, `BOOL`, `float(30)`) to the server's
/// SHOW CREATE spelling.
pub fn canonical_type(text: &str, flavor: Flavor) -> String {
    let lower = text.trim().to_ascii_lowercase();
    let (head, args, tail) = match lower.find('(') {
        Some(p) => {
            let close = lower[p..].find(')').map_or(lower.len(), |c| p + c);
            (
                lower[..p].trim().to_string(),
                Some(lower[p + 1..close].replace(' ', "")),
                lower.get(close + 1..).unwrap_or("").to_string(),
            )
        }
        None => (lower.clone(), None, String::new()),
    };
    let mut words: Vec<&str> = head.split_whitespace().collect();
    words.extend(tail.split_whitespace());
    let zerofill = words.contains(&"zerofill");
    let unsigned = words.contains(&"unsigned") || zerofill;
    let base_words: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !matches!(*w, "unsigned" | "signed" | "zerofill"))
        .collect();
    let base = base_words.join(" ");
    let widths = flavor.widths();
    let sign = |s: String| -> String {
        let mut s = s;
        if unsigned {
            s.push_str(" unsigned");
        }
        if zerofill {
            s.push_str(" zerofill");
        }
        s
    };
    let int_type = |name: &str, signed_w: u32, unsigned_w: u32| -> String {
        let w = match &args {
            Some(a) => a.parse::<u32>().ok(),
            None => None,
        };
        let s = if name == "tinyint" && w == Some(1) {
            "tinyint(1)".to_string()
        } else if widths || zerofill {
            format!(
                "{name}({})",
                w.unwrap_or(if unsigned { unsigned_w } else { signed_w })
            )
        } else {
            name.to_string()
        };
        sign(s)
    };
    match base.as_str() {
        "bool" | "boolean" => "tinyint(1)".into(),
        "tinyint" | "int1" => int_type("tinyint", 4, 3),
        "smallint" | "int2" => int_type("smallint", 6, 5),
        "mediumint" | "int3" | "middleint" => int_type("mediumint", 9, 8),
        "int" | "integer" | "int4" => int_type("int", 11, 10),
        "bigint" | "int8" => int_type("bigint", 20, 20),
        "serial" => int_type("bigint", 20, 20) + if unsigned { "" } else { " unsigned" },
        "decimal" | "dec" | "numeric" | "fixed" => {
            let a = match args.as_deref() {
                None | Some("") => "10,0".to_string(),
                Some(a) if !a.contains(',') => format!("{a},0"),
                Some(a) => a.to_string(),
            };
            sign(format!("decimal({a})"))
        }
        "float" => match args.as_deref() {
            Some(a) if !a.contains(',') => {
                if a.parse::<u32>().unwrap_or(0) > 24 {
                    sign("double".into())
                } else {
                    sign("float".into())
                }
            }
            Some(a) => sign(format!("float({a})")),
            None => sign("float".into()),
        },
        "double" | "real" | "double precision" | "float8" => match args.as_deref() {
            Some(a) => sign(format!("double({a})")),
            None => sign("double".into()),
        },
        "float4" => sign("float".into()),
        "bit" => format!("bit({})", args.as_deref().unwrap_or("1")),
        "char" | "character" | "nchar" | "national char" => {
            format!("char({})", args.as_deref().unwrap_or("1"))
        }
        "binary" => format!("binary({})", args.as_deref().unwrap_or("1")),
        "varchar" | "character varying" | "nvarchar" | "national varchar" | "char varying" => {
            format!("varchar({})", args.as_deref().unwrap_or("0"))
        }
        "varbinary" => format!("varbinary({})", args.as_deref().unwrap_or("0")),
        "year" => {
            if flavor == Flavor::MySql {
                "year".into()
            } else {
                "year(4)".into()
            }
        }
        "time" | "datetime" | "timestamp" => match args.as_deref() {
            Some(a) if a != "0" && !a.is_empty() => format!("{base}({a})"),
            _ => base,
        },
        "json" => {
            if flavor == Flavor::MariaDb {
                "longtext".into()
            } else {
                "json".into()
            }
        }
        "long varchar" | "long" => "mediumtext".into(),
        "long varbinary" => "mediumblob".into(),
        "text" | "blob" => match args.as_deref().and_then(|a| a.parse::<u64>().ok()) {
            Some(n) => {
                let (t, b) = if n < 256 {
                    ("tinytext", "tinyblob")
                } else if n < 65536 {
                    ("text", "blob")
                } else if n < 16_777_216 {
                    ("mediumtext", "mediumblob")
                } else {
                    ("longtext", "longblob")
                };
                if base == "text" {
                    t.into()
                } else {
                    b.into()
                }
            }
            None => base,
        },
        _ => match args {
            Some(a) => sign(format!("{base}({a})")),
            None => sign(base),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_spellings() {
        let m = Flavor::MariaDb;
        let y = Flavor::MySql;
        // Expected spellings: golden README (MariaDB 10.11 and MySQL 9.7 SHOW CREATE).
        assert_eq!(canonical_type("INT", m), "int(11)");
        assert_eq!(canonical_type("INT UNSIGNED", m), "int(10) unsigned");
        assert_eq!(canonical_type("TINYINT UNSIGNED", m), "tinyint(3) unsigned");
        assert_eq!(canonical_type("BIGINT UNSIGNED", m), "bigint(20) unsigned");
        assert_eq!(canonical_type("BOOL", m), "tinyint(1)");
        assert_eq!(canonical_type("YEAR", m), "year(4)");
        assert_eq!(canonical_type("TIME(3)", m), "time(3)");
        assert_eq!(canonical_type("DECIMAL(65,30)", m), "decimal(65,30)");
        assert_eq!(canonical_type("BIT(17)", m), "bit(17)");
        assert_eq!(canonical_type("JSON", m), "longtext");
        assert_eq!(canonical_type("INT", y), "int");
        assert_eq!(canonical_type("TINYINT UNSIGNED", y), "tinyint unsigned");
        assert_eq!(canonical_type("BIGINT UNSIGNED", y), "bigint unsigned");
        assert_eq!(canonical_type("BOOL", y), "tinyint(1)");
        assert_eq!(canonical_type("YEAR", y), "year");
        assert_eq!(canonical_type("JSON", y), "json");
        assert_eq!(canonical_type("float(30)", y), "double");
    }

    #[test]
    fn ddl_history_replay() {
        let mut s = Schema::new();
        let f = Flavor::MariaDb;
        s.apply_ddl(
            "CREATE TABLE ddl_db.t1 (id INT NOT NULL PRIMARY KEY, a VARCHAR(10) NULL, b INT NULL)",
            "test",
            f,
        );
        s.apply_ddl(
            "ALTER TABLE ddl_db.t1 ADD COLUMN c DATETIME(3) NULL",
            "test",
            f,
        );
        s.apply_ddl("ALTER TABLE ddl_db.t1 DROP COLUMN b", "test", f);
        s.apply_ddl(
            "ALTER TABLE ddl_db.t1 CHANGE c c_renamed DATETIME(6) NULL",
            "test",
            f,
        );
        s.apply_ddl(
            "ALTER TABLE ddl_db.t1 ADD COLUMN z TINYINT UNSIGNED NOT NULL DEFAULT 7 FIRST",
            "test",
            f,
        );
        s.apply_ddl(
            "ALTER TABLE ddl_db.t1 DROP PRIMARY KEY, ADD PRIMARY KEY (id, a)",
            "test",
            f,
        );
        s.apply_ddl("RENAME TABLE ddl_db.t1 TO ddl_db.t2", "test", f);
        s.apply_ddl("ALTER TABLE ddl_db.t2 RENAME TO ddl_db.t3", "test", f);
        let t = s.get("ddl_db", "t3").unwrap();
        let cols: Vec<(&str, &str, bool)> = t
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.mysql_type.as_str(), c.is_key))
            .collect();
        assert_eq!(
            cols,
            vec![
                ("z", "tinyint(3) unsigned", false),
                ("id", "int(11)", true),
                ("a", "varchar(10)", true),
                ("c_renamed", "datetime(6)", false)
            ]
        );
        s.apply_ddl(
            "CREATE TABLE tq (k INT NOT NULL PRIMARY KEY, v TEXT NULL)",
            "test",
            f,
        );
        s.apply_ddl("ALTER TABLE tq ADD COLUMN w INT NULL AFTER k", "test", f);
        assert_eq!(
            s.get("test", "tq").unwrap().column_names(),
            vec!["k", "w", "v"]
        );
        s.apply_ddl("DROP TABLE ddl_db.t3, tq", "test", f);
        assert!(s.get("ddl_db", "t3").is_none() && s.get("test", "tq").is_none());
    }

    #[test]
    fn enum_and_set_members() {
        let d = Schema::parse_create(
            "CREATE TABLE t (e ENUM('a','b''c'), s SET('x','y'))",
            "db",
            Flavor::MySql,
        )
        .unwrap();
        assert_eq!(d.columns[0].mysql_type, "enum('a','b''c')");
        assert_eq!(d.columns[1].mysql_type, "set('x','y')");
    }
}
