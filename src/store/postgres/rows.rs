//! A stored message as PostgreSQL rows, and back: the same split and the
//! same normalised search fields as the SQLite engine, so searches match
//! exactly what the memory engine matches.

use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row};

use crate::store::encoded::{self, Encoded};
use crate::store::message::StoredMessage;

/// The columns [`read_message`] expects, in order, and the tables they come
/// from.
pub(super) const MESSAGE_COLUMNS: &str =
    "m.seq, m.id, m.created, m.size, m.read, m.tags, d.summary, d.meta, m.mailbox";
pub(super) const MESSAGE_TABLES: &str = "messages m JOIN message_summary d USING (seq)";

/// A new message's rows, encoded before they are written.
pub(super) struct NewRows {
    pub message: Arc<StoredMessage>,
    encoded: Encoded,
}

impl NewRows {
    pub fn encode(message: Arc<StoredMessage>) -> Result<NewRows, serde_json::Error> {
        Ok(NewRows {
            encoded: Encoded::of(&message)?,
            message,
        })
    }
}

/// The prepared statements of [`insert_all`]: one per table, each writing
/// every message of a group from arrays.
const INSERTS: [&str; 6] = [
    "INSERT INTO messages (seq, id, created, size, kept, read, tags, attachments, inline, mailbox)
     SELECT seq, id, created, size, kept, false, tags, attachments, inline, mailbox
     FROM unnest($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], $6::TEXT[],
                 $7::INTEGER[], $8::INTEGER[], $9::TEXT[])
        AS r (seq, id, created, size, kept, tags, attachments, inline, mailbox)",
    "INSERT INTO message_fields (seq, from_, to_, cc, bcc, reply_to, subject, message_id)
     SELECT * FROM unnest($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[],
                          $6::BYTEA[], $7::BYTEA[], $8::BYTEA[])",
    "INSERT INTO message_text (seq, plain, text)
     SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BYTEA[])",
    "INSERT INTO message_summary (seq, summary, meta)
     SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[])",
    "INSERT INTO message_raw (seq, lz4, data)
     SELECT * FROM unnest($1::BIGINT[], $2::BOOLEAN[], $3::BYTEA[])",
    "INSERT INTO message_tags (seq, tag, folded)
     SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::TEXT[]) ON CONFLICT DO NOTHING",
];

/// The statements of [`insert_all`], prepared once per connection.
pub(super) async fn prepare_inserts(
    client: &deadpool_postgres::Object,
) -> Result<Vec<tokio_postgres::Statement>, tokio_postgres::Error> {
    let mut statements = Vec::with_capacity(INSERTS.len());
    for sql in INSERTS {
        statements.push(client.prepare_cached(sql).await?);
    }
    Ok(statements)
}

/// Writes every row of `group` (inside the caller's transaction): one
/// statement per table for the whole group, issued together, so the driver
/// pipelines them.
pub(super) async fn insert_all(
    db: &tokio_postgres::Client,
    statements: &[tokio_postgres::Statement],
    group: &[NewRows],
) -> Result<(), tokio_postgres::Error> {
    let [messages, fields, text, summary, raw, tags] = statements else {
        unreachable!("prepare_inserts prepares one statement per table");
    };
    let c = Columns::of(group);
    let message_params: [&(dyn ToSql + Sync); 9] = [
        &c.seq,
        &c.id,
        &c.created,
        &c.size,
        &c.kept,
        &c.tags_json,
        &c.attachments,
        &c.inline,
        &c.mailbox,
    ];
    let [from, to, cc, bcc, reply_to, subject, message_id] = &c.fields;
    let field_params: [&(dyn ToSql + Sync); 8] =
        [&c.seq, from, to, cc, bcc, reply_to, subject, message_id];
    let text_params: [&(dyn ToSql + Sync); 3] = [&c.seq, &c.plain, &c.exact];
    let summary_params: [&(dyn ToSql + Sync); 3] = [&c.seq, &c.summary, &c.meta];
    let raw_params: [&(dyn ToSql + Sync); 3] = [&c.seq, &c.lz4, &c.raw];
    let tag_params: [&(dyn ToSql + Sync); 3] = [&c.tag_seq, &c.tag, &c.folded];
    futures_util::try_join!(
        db.execute(messages, &message_params),
        db.execute(fields, &field_params),
        db.execute(text, &text_params),
        db.execute(summary, &summary_params),
        db.execute(raw, &raw_params),
        db.execute(tags, &tag_params),
    )?;
    Ok(())
}

/// A group's values, column by column (what `unnest` takes).
#[derive(Default)]
struct Columns<'a> {
    seq: Vec<i64>,
    id: Vec<&'a str>,
    created: Vec<i64>,
    size: Vec<i64>,
    kept: Vec<i64>,
    tags_json: Vec<&'a str>,
    attachments: Vec<i32>,
    inline: Vec<i32>,
    mailbox: Vec<&'a str>,
    fields: [Vec<&'a [u8]>; 7],
    plain: Vec<std::borrow::Cow<'a, str>>,
    exact: Vec<Option<&'a [u8]>>,
    summary: Vec<&'a str>,
    meta: Vec<&'a str>,
    lz4: Vec<bool>,
    raw: Vec<&'a [u8]>,
    tag_seq: Vec<i64>,
    tag: Vec<&'a str>,
    folded: Vec<String>,
}

impl<'a> Columns<'a> {
    fn of(group: &'a [NewRows]) -> Columns<'a> {
        let mut c = Columns::default();
        for rows in group {
            let (message, encoded) = (&*rows.message, &rows.encoded);
            let seq = message.id.seq as i64;
            c.seq.push(seq);
            c.id.push(message.id());
            c.created.push(message.created.as_microsecond());
            c.size.push(message.size() as i64);
            c.kept.push(message.footprint() as i64);
            c.tags_json.push(&encoded.tags_json);
            c.attachments.push(message.summary.attachments as i32);
            c.inline.push(message.summary.inline as i32);
            c.mailbox.push(&message.mailbox);
            for (column, value) in c.fields.iter_mut().zip(&encoded.fields) {
                column.push(value.as_bytes());
            }
            // `TEXT` refuses NUL: such text keeps its exact bytes too.
            let text = message.summary.search_text.as_str();
            if text.contains('\0') {
                c.plain.push(text.replace('\0', " ").into());
                c.exact.push(Some(text.as_bytes()));
            } else {
                c.plain.push(text.into());
                c.exact.push(None);
            }
            c.summary.push(&encoded.summary_json);
            c.meta.push(&encoded.meta_json);
            let (data, lz4) = message.raw_kept().kept();
            c.lz4.push(lz4);
            c.raw.push(data);
            for tag in &encoded.tags {
                c.tag_seq.push(seq);
                c.tag.push(tag);
                c.folded.push(tag.to_ascii_lowercase());
            }
        }
        c
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
    let columns = encoded::Columns {
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
