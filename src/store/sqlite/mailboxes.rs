//! The `mailboxes` table: each mailbox's settings, loaded at start into the
//! store's registry and written through when they change.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::store::mailbox::Mailbox;
use crate::store::{Counts, StoreError};

/// Every mailbox with a row.
pub(super) fn load(conn: &Connection) -> rusqlite::Result<Vec<Mailbox>> {
    let mut rows = conn.prepare(
        "SELECT name, private, smtp_password, token_digest, expires, created FROM mailboxes",
    )?;
    let timestamp = |micros: i64| jiff::Timestamp::from_microsecond(micros).unwrap_or_default();
    rows.query_map([], |r| {
        let digest: Option<Vec<u8>> = r.get(3)?;
        Ok(Mailbox {
            name: Arc::from(r.get::<_, String>(0)?),
            private: r.get(1)?,
            smtp_password: r.get(2)?,
            token_digest: digest.and_then(|d| d.try_into().ok()),
            expires: r.get::<_, Option<i64>>(4)?.map(timestamp),
            created: timestamp(r.get(5)?),
        })
    })?
    .collect()
}

impl SqliteStore {
    /// Writes a new mailbox's row (committed when this returns).
    pub async fn save_mailbox(&self, mailbox: &Mailbox) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        self.write(move |cx| {
            cx.conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO mailboxes
                        (name, private, smtp_password, token_digest, expires, created)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    &*mailbox.name,
                    mailbox.private,
                    mailbox.smtp_password,
                    mailbox.token_digest.map(|d| d.to_vec()),
                    mailbox.expires.map(|t| t.as_microsecond()),
                    mailbox.created.as_microsecond(),
                ])?;
            Ok(())
        })
        .await
    }

    /// Removes a mailbox's row (its messages are deleted separately).
    pub async fn remove_mailbox(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_string();
        self.write(move |cx| {
            cx.conn
                .prepare_cached("DELETE FROM mailboxes WHERE name = ?1")?
                .execute([name])?;
            Ok(())
        })
        .await
    }

    /// The totals of each mailbox that holds mail.
    pub async fn mailbox_counts(&self) -> Result<HashMap<Arc<str>, Counts>, StoreError> {
        self.read(|conn| {
            let mut rows = conn.prepare_cached(
                "SELECT mailbox, count(*), coalesce(sum(NOT read), 0), coalesce(sum(kept), 0)
                 FROM messages GROUP BY mailbox",
            )?;
            rows.query_map([], |r| {
                Ok((
                    Arc::from(r.get::<_, String>(0)?),
                    Counts {
                        total: r.get::<_, i64>(1)? as usize,
                        unread: r.get::<_, i64>(2)? as usize,
                        bytes: r.get::<_, i64>(3)? as u64,
                    },
                ))
            })?
            .collect()
        })
        .await
    }
}
