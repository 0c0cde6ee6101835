//! A stored message as rows, and back.
//!
//! The summary and the envelope side (envelope, warnings, transcript) are
//! kept as JSON: they are read whole, never queried by field, and JSON keeps
//! the file readable with the `sqlite3` shell.

use std::sync::Arc;

use rusqlite::{Connection, Row, params};

use crate::store::bloom;
use crate::store::encoded::{Columns, Encoded};
use crate::store::message::StoredMessage;

/// The columns [`read_message`] expects, in order, and the tables they come
/// from.
pub(super) const MESSAGE_COLUMNS: &str =
    "m.seq, m.id, m.created, m.size, m.read, m.tags, d.summary, d.meta, m.mailbox";
pub(super) const MESSAGE_TABLES: &str = "messages m JOIN message_summary d USING (seq)";

/// Every table holding a part of a message, keyed by `seq`.
pub(super) const TABLES: [&str; 6] = [
    "messages",
    "message_fields",
    "message_text",
    "message_summary",
    "message_raw",
    "message_tags",
];

fn json_error(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// A new message's rows, encoded before they reach the writer thread, so
/// that the one writer only writes.
pub(super) struct NewRows {
    message: Arc<StoredMessage>,
    encoded: Encoded,
    text_bloom: Vec<u8>,
}

impl NewRows {
    pub fn encode(message: Arc<StoredMessage>) -> Result<NewRows, serde_json::Error> {
        Ok(NewRows {
            text_bloom: bloom::build(message.summary.search_text.as_bytes(), 2),
            encoded: Encoded::of(&message)?,
            message,
        })
    }

    /// The message's footprint against the byte cap.
    pub fn kept(&self) -> u64 {
        self.message.footprint() as u64
    }

    /// Writes every row.
    pub fn insert(&self, conn: &Connection) -> rusqlite::Result<()> {
        let message = &self.message;
        let seq = message.id.seq as i64;
        conn.prepare_cached(
            "INSERT INTO messages
                (seq, id, created, size, kept, read, tags, attachments, inline, mailbox)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            seq,
            message.id(),
            message.created.as_microsecond(),
            message.size() as i64,
            self.kept() as i64,
            self.encoded.tags_json,
            message.summary.attachments,
            message.summary.inline,
            &*message.mailbox,
        ])?;
        let [from, to, cc, bcc, reply_to, subject, message_id] = &self.encoded.fields;
        conn.prepare_cached(
            "INSERT INTO message_fields
                (seq, from_, to_, cc, bcc, reply_to, subject, message_id, text_bloom)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            seq,
            from,
            to,
            cc,
            bcc,
            reply_to,
            subject,
            message_id,
            self.text_bloom
        ])?;
        conn.prepare_cached("INSERT INTO message_text (seq, text) VALUES (?1, ?2)")?
            .execute(params![seq, message.summary.search_text])?;
        conn.prepare_cached(
            "INSERT INTO message_summary (seq, summary, meta) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            seq,
            self.encoded.summary_json,
            self.encoded.meta_json
        ])?;
        let (data, lz4) = message.raw_kept().kept();
        conn.prepare_cached("INSERT INTO message_raw (seq, lz4, data) VALUES (?1, ?2, ?3)")?
            .execute(params![seq, lz4, data])?;
        add_tag_rows(conn, seq, &self.encoded.tags)
    }
}

/// Replaces the tag rows of message `seq`.
pub(super) fn write_tags(conn: &Connection, seq: i64, tags: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM message_tags WHERE seq = ?1")?
        .execute([seq])?;
    add_tag_rows(conn, seq, tags)?;
    conn.prepare_cached("UPDATE messages SET tags = ?2 WHERE seq = ?1")?
        .execute(params![
            seq,
            serde_json::to_string(tags).map_err(json_error)?
        ])?;
    Ok(())
}

/// Adds the tag rows of message `seq` (the index `tag:` searches and tag
/// counts read).
fn add_tag_rows(conn: &Connection, seq: i64, tags: &[String]) -> rusqlite::Result<()> {
    let mut add =
        conn.prepare_cached("INSERT OR IGNORE INTO message_tags (seq, tag) VALUES (?1, ?2)")?;
    for tag in tags {
        add.execute(params![seq, tag])?;
    }
    Ok(())
}

/// A message from a row of [`MESSAGE_COLUMNS`] (without its search text,
/// which stays in the database).
pub(super) fn read_message(row: &Row<'_>) -> rusqlite::Result<Arc<StoredMessage>> {
    let columns = Columns {
        seq: row.get(0)?,
        id: row.get(1)?,
        created: row.get(2)?,
        size: row.get(3)?,
        read: row.get(4)?,
        tags_json: row.get(5)?,
        summary_json: row.get(6)?,
        meta_json: row.get(7)?,
        mailbox: row.get(8)?,
    };
    columns.restore().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// What a deleted message leaves behind for the totals and the feed.
pub(super) struct Gone {
    pub id: String,
    pub mailbox: Arc<str>,
    pub unread: bool,
    pub kept: u64,
}

/// Deletes every row of message `seq`; returns what it was, if it existed.
pub(super) fn delete(conn: &Connection, seq: i64) -> rusqlite::Result<Option<Gone>> {
    let gone: Option<Gone> = conn
        .prepare_cached("DELETE FROM messages WHERE seq = ?1 RETURNING id, mailbox, read, kept")?
        .query_row([seq], |r| {
            Ok(Gone {
                id: r.get(0)?,
                mailbox: Arc::from(r.get::<_, String>(1)?),
                unread: !r.get::<_, bool>(2)?,
                kept: r.get::<_, i64>(3)? as u64,
            })
        })
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if gone.is_some() {
        for table in &TABLES[1..] {
            conn.prepare_cached(&format!("DELETE FROM {table} WHERE seq = ?1"))?
                .execute([seq])?;
        }
    }
    Ok(gone)
}
