//! A stored message as the database engines keep it, one place for both:
//! the parts read whole (summary, envelope side, tags) as JSON, which keeps
//! the rows readable with a database shell, plus the normalised field
//! columns the field filters match; and the way back from those columns.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::id::MessageId;
use super::message::{Envelope, Restored, StoredMessage, Summary, Transcript};

/// The envelope side of a message: never queried by field.
#[derive(Serialize, Deserialize)]
struct Meta {
    envelope: Envelope,
    warnings: Vec<String>,
    transcript: String,
}

/// A new message's column values, encoded before any database work, so
/// that a writer only writes.
pub(super) struct Encoded {
    pub tags: Vec<String>,
    pub tags_json: String,
    pub summary_json: String,
    pub meta_json: String,
    /// See [`Summary::field_columns`].
    pub fields: [String; 7],
}

impl Encoded {
    pub fn of(message: &StoredMessage) -> Result<Encoded, serde_json::Error> {
        let meta = Meta {
            envelope: message.envelope.clone(),
            warnings: message.warnings.clone(),
            transcript: message.transcript.lines().collect::<Vec<_>>().join("\n"),
        };
        let tags = message.tags();
        Ok(Encoded {
            tags_json: serde_json::to_string(&tags)?,
            summary_json: serde_json::to_string(&message.summary)?,
            meta_json: serde_json::to_string(&meta)?,
            fields: message.summary.field_columns(),
            tags,
        })
    }
}

/// The columns a message is read back from (its raw bytes and search text
/// stay in the database).
pub(super) struct Columns {
    pub seq: i64,
    pub id: String,
    pub created: i64,
    pub size: i64,
    pub read: bool,
    pub tags_json: String,
    pub summary_json: String,
    pub meta_json: String,
    pub mailbox: String,
}

impl Columns {
    pub fn restore(self) -> Result<Arc<StoredMessage>, serde_json::Error> {
        let summary: Summary = serde_json::from_str(&self.summary_json)?;
        let meta: Meta = serde_json::from_str(&self.meta_json)?;
        Ok(Arc::new(StoredMessage::restore(Restored {
            id: MessageId {
                seq: self.seq as u64,
                text: self.id.into_boxed_str(),
            },
            mailbox: Arc::from(self.mailbox),
            created: jiff::Timestamp::from_microsecond(self.created).unwrap_or_default(),
            size: self.size as usize,
            envelope: meta.envelope,
            warnings: meta.warnings,
            transcript: meta.transcript.lines().collect::<Transcript>(),
            summary,
            read: self.read,
            tags: serde_json::from_str(&self.tags_json)?,
        })))
    }
}
