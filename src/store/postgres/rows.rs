//! A stored message as PostgreSQL rows, and back: the same split and the
//! same normalised search fields as the SQLite engine, so searches match
//! exactly what the memory engine matches.

use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use crate::store::encoded::{Columns, Encoded};
use crate::store::message::StoredMessage;

/// The columns [`read_message`] expects, in order, and the tables they come
/// from.
pub(super) const MESSAGE_COLUMNS: &str =
    "m.seq, m.id, m.created, m.size, m.read, m.tags, d.summary, d.meta, m.mailbox";
pub(super) const MESSAGE_TABLES: &str = "messages m JOIN message_summary d USING (seq)";

/// A new message's rows, encoded before a connection is taken.
pub(super) struct NewRows {
    message: Arc<StoredMessage>,
    encoded: Encoded,
}

impl NewRows {
    pub fn encode(message: Arc<StoredMessage>) -> Result<NewRows, serde_json::Error> {
        Ok(NewRows {
            encoded: Encoded::of(&message)?,
            message,
        })
    }

    /// Writes every row (inside the caller's transaction). The statements
    /// are issued together: the driver pipelines them, so storing a
    /// message costs about one round trip instead of one per table.
    pub async fn insert(&self, db: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
        let message = &self.message;
        let seq = message.id.seq as i64;
        let (id, created) = (message.id(), message.created.as_microsecond());
        let (size, kept) = (message.size() as i64, message.footprint() as i64);
        let (attachments, inline) = (
            message.summary.attachments as i32,
            message.summary.inline as i32,
        );
        let mailbox: &str = &message.mailbox;
        let messages_params: &[&(dyn ToSql + Sync)] = &[
            &seq,
            &id,
            &created,
            &size,
            &kept,
            &self.encoded.tags_json,
            &attachments,
            &inline,
            &mailbox,
        ];
        let messages = db.execute(
            "INSERT INTO messages
                (seq, id, created, size, kept, read, tags, attachments, inline, mailbox)
             VALUES ($1, $2, $3, $4, $5, false, $6, $7, $8, $9)",
            messages_params,
        );
        let [from, to, cc, bcc, reply_to, subject, message_id] = &self.encoded.fields;
        let (from, to, cc, bcc) = (
            from.as_bytes(),
            to.as_bytes(),
            cc.as_bytes(),
            bcc.as_bytes(),
        );
        let (reply_to, subject, message_id) = (
            reply_to.as_bytes(),
            subject.as_bytes(),
            message_id.as_bytes(),
        );
        let fields_params: &[&(dyn ToSql + Sync)] = &[
            &seq,
            &from,
            &to,
            &cc,
            &bcc,
            &reply_to,
            &subject,
            &message_id,
        ];
        let fields = db.execute(
            "INSERT INTO message_fields
                (seq, from_, to_, cc, bcc, reply_to, subject, message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            fields_params,
        );
        let search_text = message.summary.search_text.as_bytes();
        let text_params: &[&(dyn ToSql + Sync)] = &[&seq, &search_text];
        let text = db.execute(
            "INSERT INTO message_text (seq, text) VALUES ($1, $2)",
            text_params,
        );
        let summary_params: &[&(dyn ToSql + Sync)] =
            &[&seq, &self.encoded.summary_json, &self.encoded.meta_json];
        let summary = db.execute(
            "INSERT INTO message_summary (seq, summary, meta) VALUES ($1, $2, $3)",
            summary_params,
        );
        let (data, lz4) = message.raw_kept().kept();
        let raw_params: &[&(dyn ToSql + Sync)] = &[&seq, &lz4, &data];
        let raw = db.execute(
            "INSERT INTO message_raw (seq, lz4, data) VALUES ($1, $2, $3)",
            raw_params,
        );
        futures_util::try_join!(messages, fields, text, summary, raw)?;
        add_tag_rows(db, seq, &self.encoded.tags).await
    }
}

/// Replaces the tags of message `seq`.
pub(super) async fn write_tags(
    db: &impl GenericClient,
    seq: i64,
    tags: &[String],
) -> Result<(), tokio_postgres::Error> {
    db.execute("DELETE FROM message_tags WHERE seq = $1", &[&seq])
        .await?;
    add_tag_rows(db, seq, tags).await?;
    let json = serde_json::to_string(tags).unwrap_or_else(|_| "[]".into());
    db.execute(
        "UPDATE messages SET tags = $2 WHERE seq = $1",
        &[&seq, &json],
    )
    .await?;
    Ok(())
}

/// The tag rows `tag:` searches and tag counts read; `folded` compares as
/// the memory engine does (ASCII case-insensitively).
async fn add_tag_rows(
    db: &impl GenericClient,
    seq: i64,
    tags: &[String],
) -> Result<(), tokio_postgres::Error> {
    for tag in tags {
        db.execute(
            "INSERT INTO message_tags (seq, tag, folded) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&seq, tag, &tag.to_ascii_lowercase()],
        )
        .await?;
    }
    Ok(())
}

/// A message from a row of [`MESSAGE_COLUMNS`] (without its search text).
pub(super) fn read_message(row: &Row) -> Result<Arc<StoredMessage>, String> {
    let columns = Columns {
        seq: row.get(0),
        id: row.get(1),
        created: row.get(2),
        size: row.get(3),
        read: row.get(4),
        tags_json: row.get(5),
        summary_json: row.get(6),
        meta_json: row.get(7),
        mailbox: row.get(8),
    };
    let id = columns.id.clone();
    columns
        .restore()
        .map_err(|e| format!("stored message {id} does not decode: {e}"))
}
