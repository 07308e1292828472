//! Filters compiled to SQL: a query per rule set that returns each rule's
//! per-minute series (the CSV form of a series file, see
//! [`crate::series`]) over a table an engine already has.
//!
//! A translation is exact or refused. Every construct it accepts means in
//! SQL what CloudWatch means (a field's JSON type is checked wherever
//! CloudWatch's meaning depends on it: a string compared with a glob, a
//! number with its text, `!=` false on a missing or null field, `IS NULL`
//! true for an array holding a null, `NOT EXISTS` only for a missing
//! path); everything else is refused with the construct named. Dialects:
//!
//! - **DuckDB**: the log files read with `read_json_objects`, records
//!   unnested from `Records`, fields read with the JSON functions;
//! - **Spark** (4.0 and later): a view of whole log files (`value`, `path`;
//!   see `contrib/spark`), each record parsed as a `VARIANT`;
//! - **Athena** (Trino): the CloudTrail table AWS documents (CloudTrail
//!   SerDe columns; `requestParameters` and friends as JSON strings).
//!
//! The query is text only; nothing here runs it.

use std::cell::RefCell;
use std::fmt;

use crate::pattern::ast::{CmpOp, Cond, JsonExpr, Test, ValueLit};
use crate::pattern::{path, Ast, PathStep, TextMatch};
use crate::rules::Rule;
use crate::series::fingerprint;

/// A SQL engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Amazon Athena (Trino) over the CloudTrail table.
    Athena,
    /// Spark SQL over a view of whole log files.
    Spark,
    /// DuckDB over the log files.
    DuckDb,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Athena => "athena",
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
        })
    }
}

/// Where the records are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// DuckDB: the log files (a path or glob, `**` allowed); Spark: the
    /// view of whole files; Athena: the CloudTrail table. For Spark and
    /// Athena, text in parentheses is taken as a subquery.
    pub from: String,
}

impl Source {
    /// The default for a dialect.
    pub fn default_for(d: Dialect) -> Source {
        let from = match d {
            Dialect::DuckDb => "AWSLogs/**/*.json.gz",
            Dialect::Spark => "cloudtrail_files",
            Dialect::Athena => "cloudtrail_logs",
        };
        Source { from: from.to_string() }
    }
}

/// A rule the translation refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The rule.
    pub rule: String,
    /// Why, naming the construct.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.reason)
    }
}

/// What [`translate`] gives: the query for the rules that translate
/// exactly (`None` if none does), and the others with why.
#[derive(Clone, Debug)]
pub struct Translation {
    /// The query.
    pub query: Option<String>,
    /// The rules left out.
    pub refused: Vec<Refusal>,
}

/// Translate `rules` for `dialect` over `source`, with `lag_ms` added to
/// every eventTime (as `scan --lag`).
pub fn translate(rules: &[Rule], dialect: Dialect, source: &Source, lag_ms: i64) -> Translation {
    let d = dialect;
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    // DuckDB: every field the conditions read, extracted from a record in
    // one parse (each JSON function on the record's text parses it again).
    let paths = RefCell::new(vec!["$.eventTime".to_string()]);
    for rule in rules {
        match rule_parts(rule, d, &paths) {
            Ok((value, cond)) => kept.push((rule, value, cond)),
            Err(reason) => refused.push(Refusal { rule: rule.name.clone(), reason }),
        }
    }
    let query = (!kept.is_empty()).then(|| {
        let mut q = format!(
            "-- trailwatch sql --dialect {d}: per-minute series of {} rule(s); the result (CSV) is an input of `trailwatch replay`.\n",
            kept.len()
        );
        for r in &refused {
            q += &format!("-- refused: {}\n", one_line(&r.to_string()));
        }
        q += &events_cte(d, source, lag_ms, &paths.borrow());
        // The rules as a table, by number.
        let rows: Vec<String> = kept
            .iter()
            .enumerate()
            .map(|(i, (r, v, _))| {
                format!("({i}, {}, {}, CAST({} AS DOUBLE))", lit(d, &r.name), lit(d, &fingerprint(r)), lit(d, &v.to_string()))
            })
            .collect();
        q += &format!(
            ",\nrules AS (\n  SELECT * FROM (VALUES\n    {}\n  ) AS t(rule_no, rule, fingerprint, rule_value)\n)",
            rows.join(",\n    ")
        );
        // Each record's matching rules, as a list of their numbers made
        // one row each: a record is read once, and only matches are kept.
        let picks: Vec<String> =
            kept.iter().enumerate().map(|(i, (_, _, c))| format!("    CASE WHEN {c} THEN {i} END")).collect();
        let picks = picks.join(",\n");
        q += &match d {
            Dialect::DuckDb => format!(
                ",\nmatched AS (\n  SELECT minute, unnest(list_filter([\n{picks}\n  ], lambda x: x IS NOT NULL)) AS rule_no\n  FROM events WHERE minute IS NOT NULL\n)\n"
            ),
            Dialect::Spark => format!(
                ",\nmatched AS (\n  SELECT minute, explode(filter(array(\n{picks}\n  ), x -> x IS NOT NULL)) AS rule_no\n  FROM events WHERE minute IS NOT NULL\n)\n"
            ),
            Dialect::Athena => format!(
                ",\nmatched AS (\n  SELECT minute, rule_no\n  FROM events CROSS JOIN UNNEST(filter(ARRAY[\n{picks}\n  ], x -> x IS NOT NULL)) AS u(rule_no)\n  WHERE minute IS NOT NULL\n)\n"
            ),
        };
        // First a row without a minute per rule, which says the query
        // covers it: a rule nothing matched is told from one left out.
        q += "SELECT rule, fingerprint, CAST(NULL AS BIGINT) AS minute, CAST(0 AS BIGINT) AS count, CAST(0 AS DOUBLE) AS sum, CAST(NULL AS DOUBLE) AS min, CAST(NULL AS DOUBLE) AS max, CAST(0 AS BIGINT) AS matches\nFROM rules\nUNION ALL\nSELECT rules.rule, rules.fingerprint, matched.minute, count(*), count(*) * min(rules.rule_value), min(rules.rule_value), max(rules.rule_value), count(*)\nFROM matched JOIN rules ON matched.rule_no = rules.rule_no\nGROUP BY rules.rule, rules.fingerprint, matched.minute\nORDER BY rule, minute\n";
        q
    });
    Translation { query, refused }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// A SQL string literal.
fn lit(d: Dialect, s: &str) -> String {
    match d {
        // Spark reads backslashes in literals as escapes.
        Dialect::Spark => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        _ => format!("'{}'", s.replace('\'', "''")),
    }
}

/// The time strings CloudWatch places, as the engines' time parsers read
/// them: date, `T` (or a blank), time, optional fraction, `Z` or an offset.
const TIME_RE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";

/// Records over this size never reach CloudWatch Logs.
const MAX_EVENT_BYTES: u64 = 262_144;

/// `events`: one row per record, with `minute` (epoch seconds of its
/// minute, NULL when its eventTime cannot be placed) and what the
/// conditions read (`r`, the record).
fn events_cte(d: Dialect, source: &Source, lag_ms: i64, paths: &[String]) -> String {
    let lag = lag_ms as f64 / 1000.0;
    let list = paths.iter().map(|p| lit(d, p)).collect::<Vec<_>>().join(", ");
    match d {
        Dialect::DuckDb => format!(
            "WITH files AS (\n  SELECT filename, json AS doc\n  FROM read_json_objects({}, format = 'auto', filename = true, maximum_object_size = 1073741824)\n  WHERE filename NOT LIKE '%/CloudTrail-Insight/%' AND filename NOT LIKE '%CloudTrail-Digest%'\n),\nrecords AS (\n  SELECT unnest(json_extract(doc, '$.Records[*]')) AS r FROM files WHERE json_type(doc, '$.Records') = 'ARRAY'\n),\nfields AS (\n  SELECT json_extract(r, [{list}]) AS f\n  FROM records\n  WHERE json_type(r) = 'OBJECT' AND strlen(CAST(r AS VARCHAR)) <= {MAX_EVENT_BYTES}\n),\nevents AS (\n  SELECT f, CASE WHEN json_type(f[1]) = 'VARCHAR' AND regexp_full_match(json_extract_string(f[1], '$'), {re})\n    THEN CAST(floor((epoch_ms(try_cast(replace(json_extract_string(f[1], '$'), ' ', 'T') AS TIMESTAMPTZ)) + {lag_ms}) / 60000) * 60 AS BIGINT) END AS minute\n  FROM fields\n)",
            lit(d, &source.from),
            re = lit(d, TIME_RE),
        ),
        Dialect::Spark => format!(
            "WITH records AS (\n  SELECT rec.value AS r\n  FROM {} f, LATERAL variant_explode(variant_get(parse_json(f.value), '$.Records')) AS rec\n  WHERE f.path NOT LIKE '%/CloudTrail-Insight/%' AND f.path NOT LIKE '%CloudTrail-Digest%'\n    AND schema_of_variant(variant_get(parse_json(f.value), '$.Records')) LIKE 'ARRAY%'\n),\nevents AS (\n  SELECT r, CASE WHEN schema_of_variant(variant_get(r, '$.eventTime')) = 'STRING' AND variant_get(r, '$.eventTime', 'string') RLIKE {re}\n    THEN CAST(floor((unix_millis(try_to_timestamp(replace(variant_get(r, '$.eventTime', 'string'), ' ', 'T'))) + {lag_ms}) / 60000) * 60 AS BIGINT) END AS minute\n  FROM records\n  WHERE schema_of_variant(r) LIKE 'OBJECT%' AND octet_length(to_json(r)) <= {MAX_EVENT_BYTES}\n)",
            ident(&source.from),
            re = lit(d, TIME_RE),
        ),
        Dialect::Athena => format!(
            "WITH events AS (\n  SELECT *, CASE WHEN regexp_like(eventtime, {re})\n    THEN CAST(floor((to_unixtime(from_iso8601_timestamp(replace(eventtime, ' ', 'T'))) + {lag}) / 60) * 60 AS BIGINT) END AS minute\n  FROM {} source\n)",
            ident(&source.from),
            re = lit(d, TIME_RE),
        ),
    }
}

/// A table name, each dotted part quoted when it needs to be; a subquery
/// in parentheses (to prune partitions, say) as it is.
fn ident(name: &str) -> String {
    if name.trim_start().starts_with('(') {
        return name.trim().to_string();
    }
    name.split('.')
        .map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                p.to_string()
            } else {
                format!("\"{}\"", p.replace('"', "\"\""))
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// One rule's metric value and condition.
fn rule_parts(rule: &Rule, d: Dialect, paths: &RefCell<Vec<String>>) -> Result<(f64, String), String> {
    let value_text = rule.transform.value_text();
    let value: f64 = value_text.parse().map_err(|_| {
        format!("metric value {value_text}: a value read from each record is a JSON number CloudWatch reads exactly, which SQL engines read as doubles")
    })?;
    if rule.transform.default_value().is_some() {
        return Err("a default value counts every record by its delivered size, which a SQL table does not keep".into());
    }
    if !rule.transform.dimension_texts().is_empty() {
        return Err("dimensions: one series per dimension value is not translated".into());
    }
    let cond = match rule.pattern.ast() {
        Ast::MatchAll => "TRUE".to_string(),
        Ast::Json(e) => expr(e, d, paths)?,
        Ast::Terms(_) => {
            return Err(
                "unstructured terms search a record's text as it was delivered, which the table does not keep".into()
            )
        }
        Ast::Regex(_) => {
            return Err("a regex searches a record's text as it was delivered, which the table does not keep".into())
        }
        Ast::Delimited(_) => return Err("a space-delimited pattern does not apply to JSON log events".into()),
    };
    Ok((value, cond))
}

fn expr(e: &JsonExpr, d: Dialect, paths: &RefCell<Vec<String>>) -> Result<String, String> {
    Ok(match e {
        JsonExpr::Or(xs) => {
            format!("({})", xs.iter().map(|x| expr(x, d, paths)).collect::<Result<Vec<_>, _>>()?.join(" OR "))
        }
        JsonExpr::And(xs) => {
            format!("({})", xs.iter().map(|x| expr(x, d, paths)).collect::<Result<Vec<_>, _>>()?.join(" AND "))
        }
        JsonExpr::Group(x, _) => expr(x, d, paths)?,
        // Each condition is TRUE or FALSE, never NULL, so that AND and OR
        // above it mean what CloudWatch's do.
        JsonExpr::Cond(c) => format!("coalesce({}, FALSE)", cond(c, d, paths)?),
    })
}

/// A field a condition reads.
enum Field {
    /// A JSON path in the record (Spark).
    Json(String),
    /// A field extracted from the record, by the expression that holds it
    /// (DuckDB).
    Extracted(String),
    /// An Athena column the SerDe reads as a string (NULL when the field
    /// is missing or null).
    Column(String),
    /// A path inside an Athena column holding JSON text.
    InColumn(String, String),
}

/// JSON types CloudWatch tells apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Null,
    Array,
}

fn selector_text(c: &Cond) -> String {
    c.selector.to_string()
}

/// A JSONPath of `steps` (keys quoted where they need it).
fn json_path(steps: &[PathStep], d: Dialect) -> Result<String, String> {
    let mut p = String::from("$");
    for s in steps {
        match s {
            PathStep::Key(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                p += &format!(".{k}");
            }
            PathStep::Key(k) if k.contains(['"', '\\', '\'']) || k.chars().any(char::is_control) => {
                return Err(format!("the key {k:?} holds a quote, backslash or control character"));
            }
            PathStep::Key(k) => match d {
                Dialect::Spark => p += &format!("['{k}']"),
                _ => p += &format!("[\"{k}\"]"),
            },
            PathStep::Index(i) => p += &format!("[{i}]"),
        }
    }
    Ok(p)
}

/// The CloudTrail table's string columns (as Athena names them), by the
/// record key CloudTrail writes.
const ATHENA_STRINGS: [(&str, &str); 17] = [
    ("eventVersion", "eventversion"),
    ("eventTime", "eventtime"),
    ("eventSource", "eventsource"),
    ("eventName", "eventname"),
    ("awsRegion", "awsregion"),
    ("sourceIPAddress", "sourceipaddress"),
    ("userAgent", "useragent"),
    ("errorCode", "errorcode"),
    ("errorMessage", "errormessage"),
    ("requestID", "requestid"),
    ("eventID", "eventid"),
    ("eventType", "eventtype"),
    ("apiVersion", "apiversion"),
    ("recipientAccountId", "recipientaccountid"),
    ("sharedEventID", "sharedeventid"),
    ("vpcEndpointId", "vpcendpointid"),
    ("eventCategory", "eventcategory"),
];

/// Columns holding a JSON object as text.
const ATHENA_JSON: [(&str, &str); 4] = [
    ("requestParameters", "requestparameters"),
    ("responseElements", "responseelements"),
    ("additionalEventData", "additionaleventdata"),
    ("serviceEventDetails", "serviceeventdetails"),
];

/// String fields of the `userIdentity` struct, by their path below it.
const ATHENA_IDENTITY: [&str; 13] = [
    "type",
    "principalId",
    "arn",
    "accountId",
    "invokedBy",
    "accessKeyId",
    "userName",
    "sessionContext.attributes.mfaAuthenticated",
    "sessionContext.attributes.creationDate",
    "sessionContext.sessionIssuer.type",
    "sessionContext.sessionIssuer.principalId",
    "sessionContext.sessionIssuer.arn",
    "sessionContext.sessionIssuer.accountId",
];

fn athena_field(steps: &[PathStep], shown: &str) -> Result<Field, String> {
    let keys: Option<Vec<&str>> = steps
        .iter()
        .map(|s| match s {
            PathStep::Key(k) => Some(k.as_str()),
            PathStep::Index(_) => None,
        })
        .collect();
    let not_column =
        || format!("{shown} is not a column of the CloudTrail table (or a path in one of its JSON columns)");
    let keys = keys.ok_or_else(not_column)?;
    let (first, rest) = keys.split_first().ok_or_else(not_column)?;
    if let Some((_, col)) = ATHENA_STRINGS.iter().find(|(k, _)| k == first) {
        if rest.is_empty() {
            return Ok(Field::Column(col.to_string()));
        }
    }
    if let Some((_, col)) = ATHENA_JSON.iter().find(|(k, _)| k == first) {
        if rest.is_empty() {
            return Err(format!("{shown} is a whole JSON column: the SerDe reads it missing and null alike"));
        }
        let inner: Vec<PathStep> = rest.iter().map(|k| PathStep::Key(k.to_string())).collect();
        return Ok(Field::InColumn(col.to_string(), json_path(&inner, Dialect::Athena)?));
    }
    if *first == "userIdentity" {
        let below = rest.join(".");
        if ATHENA_IDENTITY.contains(&below.as_str()) {
            return Ok(Field::Column(format!("useridentity.{}", below.to_ascii_lowercase())));
        }
    }
    Err(not_column())
}

/// Whether any text CloudWatch could give for a number matches `m`
/// (numbers are compared with `=` and `!=` strings by their text, which
/// engines write differently: such values are refused).
fn could_match_number(m: &TextMatch) -> bool {
    let numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c));
    match m {
        TextMatch::Any => true,
        TextMatch::Exact(s) => !s.is_empty() && numeric(s),
        TextMatch::Prefix(s) | TextMatch::Suffix(s) | TextMatch::Contains(s) => numeric(s),
        TextMatch::Glob { parts, .. } => parts.iter().all(|p| numeric(p)),
    }
}

/// `s` (a SQL string expression) against a glob: `=` or LIKE with `!` as
/// the escape character.
fn text_test(s: &str, m: &TextMatch, d: Dialect) -> String {
    let like = |pat: String| format!("{s} LIKE {} ESCAPE '!'", lit(d, &pat));
    let esc = |t: &str| t.replace('!', "!!").replace('%', "!%").replace('_', "!_");
    match m {
        TextMatch::Exact(t) => format!("{s} = {}", lit(d, t)),
        TextMatch::Any => "TRUE".to_string(),
        TextMatch::Prefix(p) => like(format!("{}%", esc(p))),
        TextMatch::Suffix(p) => like(format!("%{}", esc(p))),
        TextMatch::Contains(p) => like(format!("%{}%", esc(p))),
        TextMatch::Glob { parts, anchored_start, anchored_end } => {
            let inner = parts.iter().map(|p| esc(p)).collect::<Vec<_>>().join("%");
            let start = if *anchored_start { "" } else { "%" };
            let end = if *anchored_end { "" } else { "%" };
            like(format!("{start}{inner}{end}"))
        }
    }
}

fn cond(c: &Cond, d: Dialect, paths: &RefCell<Vec<String>>) -> Result<String, String> {
    let shown = selector_text(c);
    if c.selector.wildcard().is_some() {
        return Err(format!("{shown}: a wildcard selector (any element) is not translated"));
    }
    let steps = path(&c.selector).before;
    let field = match d {
        Dialect::Athena => athena_field(&steps, &shown)?,
        Dialect::Spark => Field::Json(json_path(&steps, d)?),
        Dialect::DuckDb => {
            let p = json_path(&steps, d)?;
            let mut paths = paths.borrow_mut();
            let at = paths.iter().position(|x| *x == p).unwrap_or_else(|| {
                paths.push(p);
                paths.len() - 1
            });
            Field::Extracted(format!("f[{}]", at + 1))
        }
    };
    let is = |k: Kind| is_kind(&field, k, d);
    let text = || text_of(&field, d);
    Ok(match &c.test {
        Test::Compare { op: op @ (CmpOp::Eq | CmpOp::Ne), value: ValueLit::Str { text: t, .. } } => {
            let m = TextMatch::new(t);
            if m != TextMatch::Any && could_match_number(&m) && !matches!(field, Field::Column(_)) {
                return Err(format!(
                    "{shown} {} {t:?}: the value could match a number's text, which CloudWatch writes its own way",
                    op.as_str()
                ));
            }
            let test = text_test(&text(), &m, d);
            if *op == CmpOp::Eq {
                // A number's text never matches (checked above), unless the
                // value is `*`, which matches any string or number.
                if m == TextMatch::Any {
                    format!("({} OR {})", is(Kind::String)?, is(Kind::Number)?)
                } else {
                    format!("({} AND {test})", is(Kind::String)?)
                }
            } else if m == TextMatch::Any {
                "FALSE".to_string()
            } else {
                // `!=`: a string that does not match, or any number; false
                // when missing, null, boolean, object or array.
                format!("(({} AND NOT ({test})) OR {})", is(Kind::String)?, is(Kind::Number)?)
            }
        }
        Test::Compare { op, value: ValueLit::Number { text: n, .. } } => {
            return Err(format!(
            "{shown} {} {n}: CloudWatch compares numbers as exact decimals, SQL engines read JSON numbers as doubles",
            op.as_str()
        ))
        }
        Test::Compare { op, value: ValueLit::Regex(_) } => {
            return Err(format!("{shown} {} %regex%: CloudWatch's regex dialect is not the engines'", op.as_str()))
        }
        Test::Compare { op, .. } => return Err(format!("{shown} {}: not translated", op.as_str())),
        Test::IsTrue => is_bool(&field, true, d, &shown)?,
        Test::IsFalse => is_bool(&field, false, d, &shown)?,
        Test::IsNull => match &field {
            Field::Column(_) => {
                return Err(format!("{shown} IS NULL: the SerDe reads a missing field and a null one alike"))
            }
            Field::InColumn(..) => {
                return Err(format!(
                    "{shown} IS NULL: true also of an array holding a null, which Trino's JSON casts turn into SQL NULL"
                ))
            }
            _ => format!("({} OR ({} AND {}))", is(Kind::Null)?, is(Kind::Array)?, array_has_null(&field, d)),
        },
        Test::NotExists => match &field {
            Field::Column(_) => {
                return Err(format!("{shown} NOT EXISTS: the SerDe reads a missing field and a null one alike"))
            }
            _ => missing(&field, d),
        },
    })
}

fn is_bool(field: &Field, want: bool, d: Dialect, shown: &str) -> Result<String, String> {
    let word = if want { "true" } else { "false" };
    Ok(match (field, d) {
        (Field::Column(_), _) => {
            return Err(format!("{shown} IS {}: the SerDe reads the field as text", word.to_uppercase()))
        }
        (Field::Extracted(e), _) => {
            format!("(json_type({e}) = 'BOOLEAN' AND json_extract_string({e}, '$') = '{word}')")
        }
        (Field::Json(p), _) => format!(
            "(schema_of_variant(variant_get(r, {})) = 'BOOLEAN' AND variant_get(r, {}, 'boolean') = {word})",
            lit(d, p),
            lit(d, p)
        ),
        (Field::InColumn(col, p), _) => format!("json_format(json_extract({col}, {})) = '{word}'", lit(d, p)),
    })
}

/// Whether the field has this JSON type (false when missing).
fn is_kind(field: &Field, k: Kind, d: Dialect) -> Result<String, String> {
    Ok(match (field, d) {
        (Field::Column(c), _) => match k {
            Kind::String => format!("{c} IS NOT NULL"),
            _ => "FALSE".to_string(),
        },
        (Field::Extracted(e), _) => match k {
            Kind::String => format!("json_type({e}) = 'VARCHAR'"),
            Kind::Number => format!("json_type({e}) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')"),
            Kind::Null => format!("json_type({e}) = 'NULL'"),
            Kind::Array => format!("json_type({e}) = 'ARRAY'"),
        },
        (Field::Json(p), _) => {
            let t = format!("schema_of_variant(variant_get(r, {}))", lit(d, p));
            match k {
                Kind::String => format!("{t} = 'STRING'"),
                Kind::Number => format!(
                    "({t} IN ('TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE') OR {t} LIKE 'DECIMAL%')"
                ),
                Kind::Null => format!("{t} = 'VOID'"),
                Kind::Array => format!("{t} LIKE 'ARRAY%'"),
            }
        }
        (Field::InColumn(col, p), _) => {
            let j = format!("json_format(json_extract({col}, {}))", lit(d, p));
            match k {
                Kind::String => format!("substr({j}, 1, 1) = '\"'"),
                Kind::Number => format!("substr({j}, 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9')"),
                Kind::Null => format!("{j} = 'null'"),
                Kind::Array => format!("substr({j}, 1, 1) = '['"),
            }
        }
    })
}

/// The field's string value (meaningful where it is a string).
fn text_of(field: &Field, d: Dialect) -> String {
    match (field, d) {
        (Field::Column(c), _) => c.clone(),
        (Field::Extracted(e), _) => format!("json_extract_string({e}, '$')"),
        (Field::Json(p), _) => format!("variant_get(r, {}, 'string')", lit(d, p)),
        (Field::InColumn(col, p), _) => format!("json_extract_scalar({col}, {})", lit(d, p)),
    }
}

/// Whether the path leads nowhere.
fn missing(field: &Field, d: Dialect) -> String {
    match (field, d) {
        (Field::Column(c), _) => format!("{c} IS NULL"),
        (Field::Extracted(e), _) => format!("{e} IS NULL"),
        (Field::Json(p), _) => format!("variant_get(r, {}) IS NULL", lit(d, p)),
        (Field::InColumn(col, p), _) => format!("json_extract({col}, {}) IS NULL", lit(d, p)),
    }
}

/// Whether the array at the field holds a null element.
fn array_has_null(field: &Field, d: Dialect) -> String {
    match (field, d) {
        (Field::Column(_), _) => "FALSE".to_string(),
        (Field::Extracted(e), _) => {
            format!("list_contains(list_transform(json_extract({e}, '$[*]'), lambda x: json_type(x)), 'NULL')")
        }
        (Field::Json(p), _) => {
            format!("exists(CAST(variant_get(r, {}) AS ARRAY<VARIANT>), x -> is_variant_null(x))", lit(d, p))
        }
        (Field::InColumn(..), _) => unreachable!("refused in cond"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str) -> Rule {
        Rule::new("r", pattern).unwrap()
    }

    fn query(pattern: &str, d: Dialect) -> Result<String, String> {
        let t = translate(&[rule(pattern)], d, &Source::default_for(d), 0);
        t.query.ok_or_else(|| t.refused[0].reason.clone())
    }

    #[test]
    fn literals_are_quoted_for_each_engine() {
        assert_eq!(lit(Dialect::DuckDb, r"it's a\b"), r"'it''s a\b'");
        assert_eq!(lit(Dialect::Athena, "it's"), "'it''s'");
        assert_eq!(lit(Dialect::Spark, r"it's a\b"), r"'it\'s a\\b'");
    }

    #[test]
    fn globs_become_like_with_every_wildcard_of_sql_escaped() {
        let d = Dialect::DuckDb;
        assert_eq!(text_test("s", &TextMatch::new("50%_off!"), d), "s = '50%_off!'");
        assert_eq!(text_test("s", &TextMatch::new("a%*"), d), "s LIKE 'a!%%' ESCAPE '!'");
        assert_eq!(text_test("s", &TextMatch::new("*_x"), d), "s LIKE '%!_x' ESCAPE '!'");
        assert_eq!(text_test("s", &TextMatch::new("*!*"), d), "s LIKE '%!!%' ESCAPE '!'");
        assert_eq!(text_test("s", &TextMatch::new("a*b*c"), d), "s LIKE 'a%b%c' ESCAPE '!'");
        assert_eq!(text_test("s", &TextMatch::new("*"), d), "TRUE");
    }

    #[test]
    fn a_value_that_could_be_a_numbers_text_is_told_apart() {
        for (v, could) in [("42", true), ("4*", true), ("*e*", true), ("-1.5E3", true), ("", false), ("4a", false)] {
            assert_eq!(could_match_number(&TextMatch::new(v)), could, "{v:?}");
        }
    }

    #[test]
    fn keys_are_quoted_in_paths_or_refused() {
        let k = |s: &str| PathStep::Key(s.to_string());
        assert_eq!(json_path(&[k("a"), PathStep::Index(2), k("b_c")], Dialect::DuckDb).unwrap(), "$.a[2].b_c");
        assert_eq!(json_path(&[k("a.b")], Dialect::DuckDb).unwrap(), r#"$["a.b"]"#);
        assert_eq!(json_path(&[k("a b")], Dialect::Spark).unwrap(), "$['a b']");
        assert!(json_path(&[k("a\"b")], Dialect::DuckDb).unwrap_err().contains("quote"));
    }

    #[test]
    fn each_condition_is_never_null_and_checks_the_json_type() {
        let q = query(r#"{ $.errorCode != "AccessDenied" }"#, Dialect::DuckDb).unwrap();
        assert!(q.contains(
            "coalesce(((json_type(f[2]) = 'VARCHAR' AND NOT (json_extract_string(f[2], '$') = 'AccessDenied')) OR json_type(f[2]) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')), FALSE)"
        ), "{q}");
        assert!(q.contains("json_extract(r, ['$.eventTime', '$.errorCode'])"), "{q}");
        let q = query("{ $.a NOT EXISTS }", Dialect::Spark).unwrap();
        assert!(q.contains("coalesce(variant_get(r, '$.a') IS NULL, FALSE)"), "{q}");
        let q = query(r#"{ $.requestParameters.bucketName = "b*" }"#, Dialect::Athena).unwrap();
        assert!(q.contains("substr(json_format(json_extract(requestparameters, '$.bucketName')), 1, 1) = '\"'"), "{q}");
        let q = query(r#"{ $.userIdentity.sessionContext.sessionIssuer.arn = "x" }"#, Dialect::Athena).unwrap();
        assert!(q.contains("useridentity.sessioncontext.sessionissuer.arn = 'x'"), "{q}");
    }

    #[test]
    fn a_source_in_parentheses_is_a_subquery() {
        let t = |from: &str| {
            let src = Source { from: from.to_string() };
            translate(&[rule("")], Dialect::Athena, &src, 0).query.unwrap()
        };
        assert!(t("db.cloudtrail_logs").contains("FROM db.cloudtrail_logs source"));
        assert!(t("my-db.logs").contains("FROM \"my-db\".logs source"));
        assert!(t("(SELECT * FROM x WHERE d > '2024')").contains("FROM (SELECT * FROM x WHERE d > '2024') source"));
    }

    #[test]
    fn the_lag_shifts_the_minute() {
        let d = Dialect::DuckDb;
        let q = translate(&[rule("")], d, &Source::default_for(d), 180_000).query.unwrap();
        assert!(q.contains("+ 180000) / 60000)"), "{q}");
        let q = translate(&[rule("")], Dialect::Athena, &Source::default_for(Dialect::Athena), -90_000).query.unwrap();
        assert!(q.contains("+ -90) / 60)"), "{q}");
    }
}
