//! Search on SQLite, with exactly the memory engine's results.
//!
//! Each term of a [`Query`] becomes one SQL condition with the same meaning
//! as the memory engine's matcher: text filters test, with `mc_contains` (a
//! byte substring test, like the memory engine's), columns that hold the
//! same normalised text the memory engine normalises on the fly; the other
//! filters compare numbers. One pass over the matching rows gives the
//! counts, and only the rows of the page asked for are then decoded. The
//! tables a query does not need are not read (a `subject:` search never
//! touches the free text; a plain `is:unread` touches neither).

use std::sync::Arc;

use memchr::memmem;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

use super::rows::{MESSAGE_COLUMNS, MESSAGE_TABLES, read_message};
use crate::store::search::{Filter, Term};
use crate::store::{Page, Query, StoredMessage};

/// Registers `mc_contains(haystack, needle)`: 1 when `needle` occurs in
/// `haystack`, both compared as bytes; and `mc_bloom(filter, probes)`: 0
/// only when the Bloom filter proves the text lacks the needle.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function("mc_bloom", 2, FunctionFlags::SQLITE_DETERMINISTIC, |ctx| {
        Ok(crate::store::bloom::might_contain(
            bytes_of(ctx.get_raw(0)),
            bytes_of(ctx.get_raw(1)),
        ))
    })?;
    conn.create_scalar_function(
        "mc_contains",
        2,
        FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_UTF8,
        |ctx| {
            // The needle's searcher is built once per statement, not per row.
            let finder =
                ctx.get_or_create_aux(1, |needle| -> Result<_, std::convert::Infallible> {
                    Ok(memmem::Finder::new(bytes_of(needle)).into_owned())
                })?;
            Ok(finder.find(bytes_of(ctx.get_raw(0))).is_some())
        },
    )
}

/// Stands for the alias of the driving table until it is known.
const DRIVER: &str = "{driver}";

fn bytes_of(value: ValueRef<'_>) -> &[u8] {
    match value {
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => bytes,
        _ => &[],
    }
}

/// A query as a `WHERE` clause over `messages m`, with the tables it needs.
struct Condition {
    sql: String,
    values: Vec<Value>,
    needs_fields: bool,
    needs_text: bool,
}

impl Condition {
    fn of(query: &Query) -> Condition {
        let mut condition = Condition {
            sql: String::from("1"),
            values: Vec::new(),
            needs_fields: false,
            needs_text: false,
        };
        for term in query.terms() {
            let test = condition.term(term);
            condition.sql.push_str(" AND ");
            condition.sql.push_str(&test);
        }
        condition
    }

    fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    fn contains(&mut self, column: &str, needle: &str) -> String {
        let needle = self.bind(Value::Text(needle.to_string()));
        format!("mc_contains({column}, {needle})")
    }

    fn field(&mut self, column: &str, needle: &str) -> String {
        self.needs_fields = true;
        self.contains(&format!("f.{column}"), needle)
    }

    fn term(&mut self, term: &Term) -> String {
        let test = self.filter(&term.filter);
        if term.negated {
            format!("NOT ({test})")
        } else {
            format!("({test})")
        }
    }

    fn filter(&mut self, filter: &Filter) -> String {
        let int = |n: i64| Value::Integer(n);
        match filter {
            Filter::Text(finder) => {
                // The filter first: SQLite tests it as soon as the fields
                // row is read, and fetches the text only if it passes.
                let probes = finder.probes().to_vec();
                self.needs_text = true;
                let needle = self.bind(Value::Blob(finder.needle().to_vec()));
                let contains = format!("mc_contains(t.text, {needle})");
                if probes.is_empty() {
                    return contains;
                }
                self.needs_fields = true;
                let probes = self.bind(Value::Blob(probes));
                format!("mc_bloom(f.text_bloom, {probes}) AND {contains}")
            }
            Filter::From(needle) => self.field("from_", needle.text()),
            Filter::To(needle) => self.field("to_", needle.text()),
            Filter::Cc(needle) => self.field("cc", needle.text()),
            Filter::Bcc(needle) => self.field("bcc", needle.text()),
            Filter::ReplyTo(needle) => self.field("reply_to", needle.text()),
            Filter::Addressed(needle) => ["from_", "to_", "cc", "bcc", "reply_to"]
                .map(|column| self.field(column, needle.text()))
                .join(" OR "),
            Filter::Recipient(needle) => ["to_", "cc", "bcc"]
                .map(|column| self.field(column, needle.text()))
                .join(" OR "),
            Filter::Subject(needle) => self.field("subject", needle.text()),
            Filter::MessageId(needle) => self.field("message_id", needle.text()),
            Filter::Tag(name) => {
                let name = self.bind(Value::Text(name.clone()));
                format!(
                    "EXISTS (SELECT 1 FROM message_tags g WHERE g.seq = m.seq AND g.tag = {name} COLLATE NOCASE)"
                )
            }
            Filter::Read => "m.read".into(),
            Filter::Tagged => "m.tags != '[]'".into(),
            Filter::HasAttachment => "m.attachments > 0".into(),
            Filter::HasInline => "m.inline > 0".into(),
            Filter::After(micros) => format!("m.created >= {}", self.bind(int(*micros))),
            Filter::Before(micros) => format!("m.created <= {}", self.bind(int(*micros))),
            Filter::Larger(size) => format!("m.size > {}", self.bind(int(clamp(*size)))),
            Filter::Smaller(size) => format!("m.size < {}", self.bind(int(clamp(*size)))),
            // On the table that drives the scan, so it becomes a range.
            Filter::ArrivedAfter(seq) => format!("{DRIVER}.seq > {}", self.bind(int(clamp(*seq)))),
            Filter::Mailboxes(names) => {
                // One bound JSON array however many mailboxes are named.
                let names: Vec<&str> = names.iter().map(|n| &**n).collect();
                let list = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
                format!(
                    "m.mailbox IN (SELECT value FROM json_each({}))",
                    self.bind(Value::Text(list))
                )
            }
        }
    }

    /// The tables, the one to scan first (the fields when text filters are
    /// tested, as they hold the Bloom filter; else the text; else the
    /// messages). `CROSS JOIN` keeps that order: SQLite then tests each
    /// condition as soon as its table's row is read, so the other tables
    /// are only looked up for rows that passed.
    fn from(&self) -> String {
        let mut tables = Vec::new();
        if self.needs_fields {
            tables.push("message_fields f");
        }
        if self.needs_text {
            tables.push("message_text t");
        }
        tables.push("messages m");
        let on = match (self.needs_fields, self.needs_text) {
            (true, true) => " ON t.seq = f.seq AND m.seq = f.seq",
            (true, false) => " ON m.seq = f.seq",
            (false, true) => " ON m.seq = t.seq",
            (false, false) => "",
        };
        tables.join(" CROSS JOIN ") + on
    }

    /// The alias of the table scanned first.
    fn driver(&self) -> &'static str {
        match (self.needs_fields, self.needs_text) {
            (true, _) => "f",
            (false, true) => "t",
            (false, false) => "m",
        }
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every match's sequence number and read flag, newest first.
fn matches(conn: &Connection, query: &Query) -> rusqlite::Result<Vec<(i64, bool)>> {
    matches_up_to(conn, query, -1)
}

/// At most `limit` matches (-1: all), newest first.
fn matches_up_to(
    conn: &Connection,
    query: &Query,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, bool)>> {
    let condition = Condition::of(query);
    let sql = format!(
        "SELECT m.seq, m.read FROM {} WHERE {} ORDER BY {}.seq DESC LIMIT {limit}",
        condition.from(),
        condition.sql.replace(DRIVER, condition.driver()),
        condition.driver()
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map(params_from_iter(condition.values.iter()), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect()
}

/// The messages with these sequence numbers, in the order given.
fn load(conn: &Connection, seqs: &[i64]) -> rusqlite::Result<Vec<Arc<StoredMessage>>> {
    let mut get = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE m.seq = ?1"
    ))?;
    let mut messages = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let mut rows = get.query([seq])?;
        if let Some(row) = rows.next()? {
            messages.push(read_message(row)?);
        }
    }
    Ok(messages)
}

pub(super) fn search(
    conn: &Connection,
    query: &Query,
    start: usize,
    limit: usize,
) -> rusqlite::Result<Page> {
    let found = matches(conn, query)?;
    let page: Vec<i64> = found
        .iter()
        .skip(start)
        .take(limit)
        .map(|&(seq, _)| seq)
        .collect();
    Ok(Page {
        messages: load(conn, &page)?,
        matched: found.len(),
        matched_unread: found.iter().filter(|&&(_, read)| !read).count(),
    })
}

pub(super) fn latest(
    conn: &Connection,
    query: &Query,
) -> rusqlite::Result<Option<Arc<StoredMessage>>> {
    // The newest match only: no need to count the others.
    let newest: Vec<i64> = matches_up_to(conn, query, 1)?
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    Ok(load(conn, &newest)?.pop())
}

/// The sequence number of every match.
pub(super) fn matching_seqs(conn: &Connection, query: &Query) -> rusqlite::Result<Vec<i64>> {
    Ok(matches(conn, query)?
        .into_iter()
        .map(|(seq, _)| seq)
        .collect())
}
