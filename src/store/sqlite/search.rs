//! Search on SQLite, with exactly the memory engine's results.
//!
//! The query is not translated to SQL. SQL only narrows: the free-text
//! terms every match must contain are tested on the search text with
//! `mc_contains` (a substring test with the same byte semantics as the
//! memory engine's), scanning a table that holds nothing else. Each
//! candidate left is then tested with the very [`Query::matches`] the
//! memory engine uses. A term absent from every message costs one scan of
//! the text table and no row decoding.

use std::sync::Arc;

use memchr::memmem;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, types::ValueRef};

use super::rows::{MESSAGE_COLUMNS, read_message};
use crate::store::{Page, Query, StoredMessage};

/// Registers `mc_contains(haystack, needle)`: 1 when `needle` occurs in
/// `haystack`, both compared as bytes.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "mc_contains",
        2,
        FunctionFlags::SQLITE_DETERMINISTIC | FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let bytes = |index| match ctx.get_raw(index) {
                ValueRef::Text(b) | ValueRef::Blob(b) => b,
                _ => &[],
            };
            Ok(memmem::find(bytes(0), bytes(1)).is_some())
        },
    )
}

/// Rows that may match, newest first: all of them when the query has no
/// free-text term.
fn candidates(conn: &Connection, query: &Query) -> rusqlite::Result<Vec<i64>> {
    let needles = query.required_texts();
    if needles.is_empty() {
        let mut all = conn.prepare_cached("SELECT seq FROM messages ORDER BY seq DESC")?;
        return all.query_map([], |r| r.get(0))?.collect();
    }
    let filter = (1..=needles.len())
        .map(|i| format!("mc_contains(text, ?{i})"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut narrowed = conn.prepare_cached(&format!(
        "SELECT seq FROM message_text WHERE {filter} ORDER BY seq DESC"
    ))?;
    let params: Vec<&dyn rusqlite::ToSql> =
        needles.iter().map(|n| n as &dyn rusqlite::ToSql).collect();
    narrowed.query_map(&params[..], |r| r.get(0))?.collect()
}

/// Newest-first matches, visiting candidates until `wanted` says stop.
fn for_each_match(
    conn: &Connection,
    query: &Query,
    mut visit: impl FnMut(Arc<StoredMessage>) -> bool,
) -> rusqlite::Result<()> {
    let mut load = conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS}, text FROM messages JOIN message_text USING (seq) WHERE seq = ?1"
    ))?;
    for seq in candidates(conn, query)? {
        let mut rows = load.query([seq])?;
        let Some(row) = rows.next()? else { continue };
        let message = read_message(row, true)?;
        if query.matches(&message) && !visit(message) {
            break;
        }
    }
    Ok(())
}

pub(super) fn search(
    conn: &Connection,
    query: &Query,
    start: usize,
    limit: usize,
) -> rusqlite::Result<Page> {
    let mut page = Page::default();
    for_each_match(conn, query, |message| {
        if page.matched >= start && page.messages.len() < limit {
            page.messages.push(message.clone());
        }
        page.matched += 1;
        page.matched_unread += usize::from(!message.is_read());
        true
    })?;
    Ok(page)
}

pub(super) fn latest(
    conn: &Connection,
    query: &Query,
) -> rusqlite::Result<Option<Arc<StoredMessage>>> {
    let mut found = None;
    for_each_match(conn, query, |message| {
        found = Some(message);
        false
    })?;
    Ok(found)
}

/// The IDs of every match.
pub(super) fn matching_seqs(conn: &Connection, query: &Query) -> rusqlite::Result<Vec<i64>> {
    let mut seqs = Vec::new();
    for_each_match(conn, query, |message| {
        seqs.push(message.id.seq as i64);
        true
    })?;
    Ok(seqs)
}
