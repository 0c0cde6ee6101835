//! The `mailboxes` table: each mailbox's settings, loaded at start (and
//! whenever another node changes them) into the store's registry.

use std::collections::HashMap;
use std::sync::Arc;

use tokio_postgres::GenericClient;

use super::feed::Change;
use super::{PgStore, db_error};
use crate::store::mailbox::Mailbox;
use crate::store::{Counts, StoreError};

/// Every mailbox with a row.
pub(super) async fn load(db: &impl GenericClient) -> Result<Vec<Mailbox>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT name, private, smtp_password, token_digest, expires, created FROM mailboxes",
            &[],
        )
        .await?;
    let timestamp = |micros: i64| jiff::Timestamp::from_microsecond(micros).unwrap_or_default();
    Ok(rows
        .iter()
        .map(|r| {
            let digest: Option<Vec<u8>> = r.get(3);
            Mailbox {
                name: Arc::from(r.get::<_, String>(0)),
                private: r.get(1),
                smtp_password: r.get(2),
                token_digest: digest.and_then(|d| d.try_into().ok()),
                expires: r.get::<_, Option<i64>>(4).map(timestamp),
                created: timestamp(r.get(5)),
            }
        })
        .collect())
}

impl PgStore {
    /// Writes a new mailbox's row (committed when this returns) and tells
    /// the other nodes to reload their mailboxes.
    pub async fn save_mailbox(&self, mailbox: &Mailbox) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.execute(
            "INSERT INTO mailboxes (name, private, smtp_password, token_digest, expires, created)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (name) DO UPDATE SET private = EXCLUDED.private,
                    smtp_password = EXCLUDED.smtp_password, token_digest = EXCLUDED.token_digest,
                    expires = EXCLUDED.expires, created = EXCLUDED.created",
            &[
                &&*mailbox.name,
                &mailbox.private,
                &mailbox.smtp_password,
                &mailbox.token_digest.map(|d| d.to_vec()),
                &mailbox.expires.map(|t| t.as_microsecond()),
                &mailbox.created.as_microsecond(),
            ],
        )
        .await
        .map_err(db_error)?;
        super::commit(tx, &[self.feed.note(Change::Mailboxes)]).await
    }

    /// Removes a mailbox's row (its messages are deleted separately), and
    /// tells the other nodes.
    pub async fn remove_mailbox(&self, name: &str) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        tx.execute("DELETE FROM mailboxes WHERE name = $1", &[&name])
            .await
            .map_err(db_error)?;
        super::commit(tx, &[self.feed.note(Change::Mailboxes)]).await
    }

    /// The totals of each mailbox that holds mail.
    pub async fn mailbox_counts(&self) -> Result<HashMap<Arc<str>, Counts>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT mailbox, count(*), count(*) FILTER (WHERE NOT read),
                        coalesce(sum(kept), 0)::BIGINT
                 FROM messages GROUP BY mailbox",
                &[],
            )
            .await
            .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    Arc::from(r.get::<_, String>(0)),
                    Counts {
                        total: r.get::<_, i64>(1) as usize,
                        unread: r.get::<_, i64>(2) as usize,
                        bytes: r.get::<_, i64>(3) as u64,
                    },
                )
            })
            .collect())
    }

    /// Starts the shared feed (see [`super::feed`]).
    pub async fn follow(
        &self,
        events: tokio::sync::broadcast::Sender<crate::store::Event>,
        registry: Arc<crate::store::mailbox::Registry>,
    ) {
        self.feed
            .start(self.pool.clone(), self.config.clone(), events, registry)
            .await;
    }
}
