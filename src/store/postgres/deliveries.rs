//! The `deliveries` table: the outbound queue's deliveries, shared by the
//! nodes (see [`crate::store::deliveries`]). A claim is one conditional
//! UPDATE, so of several nodes that hold the same delivery only one sends
//! it; a claim's lease lets another node resume it if that one dies.

use bytes::Bytes;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{PgStore, db_error};
use crate::store::StoreError;
use crate::store::deliveries::{COLUMNS, Claim, DeliveryRow, UNFINISHED};

/// The third schema: one row per delivery. `raw` is dropped once the
/// delivery is finished; `lease_until` bounds a claim (`sending`).
pub(super) const SCHEMA_V3: &str = "
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL,
    next_attempt BIGINT,
    give_up BIGINT NOT NULL,
    lease_until BIGINT,
    detail TEXT NOT NULL,
    raw BYTEA
);
CREATE INDEX deliveries_by_state ON deliveries (state, created);
";

fn read_row(r: &Row, with_raw: bool) -> DeliveryRow {
    DeliveryRow {
        id: r.get(0),
        message_id: r.get(1),
        mailbox: r.get(2),
        state: r.get(3),
        created: r.get(4),
        next_attempt: r.get(5),
        give_up: r.get(6),
        detail: r.get(7),
        raw: if with_raw {
            r.get::<_, Option<Vec<u8>>>(8).map(Bytes::from)
        } else {
            None
        },
    }
}

impl PgStore {
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client.execute(sql, params).await.map_err(db_error)
    }

    pub async fn save_delivery(&self, row: &DeliveryRow) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO deliveries (id, message_id, mailbox, state, created, next_attempt,
                give_up, detail, raw)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &row.id,
                &row.message_id,
                &row.mailbox,
                &row.state,
                &row.created,
                &row.next_attempt,
                &row.give_up,
                &row.detail,
                &row.raw.as_deref(),
            ],
        )
        .await?;
        Ok(())
    }

    /// The UPDATE takes the row's lock, so of two nodes claiming at once
    /// the second waits, sees the row `sending` and claims nothing.
    pub async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Claim, StoreError> {
        let client = self.client().await?;
        let claimed = client
            .query_opt(
                &format!(
                    "UPDATE deliveries SET state = 'sending', lease_until = $3
                     WHERE id = $1 AND ((state IN ('queued', 'deferred')
                            AND coalesce(next_attempt, 0) <= $2)
                        OR (state = 'sending' AND lease_until < $2))
                     RETURNING {COLUMNS}"
                ),
                &[&id, &now, &lease_until],
            )
            .await
            .map_err(db_error)?;
        if let Some(row) = claimed {
            return Ok(Claim::Claimed(Some(read_row(&row, false))));
        }
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(db_error)?;
        Ok(Claim::Refused(row.map(|r| read_row(&r, false))))
    }

    pub async fn finish_attempt(&self, row: &DeliveryRow) -> Result<(), StoreError> {
        self.execute(
            "UPDATE deliveries SET state = $2, next_attempt = $3, detail = $4, lease_until = NULL,
                raw = CASE WHEN $2 IN ('delivered', 'failed') THEN NULL ELSE raw END
             WHERE id = $1 AND state = 'sending'",
            &[&row.id, &row.state, &row.next_attempt, &row.detail],
        )
        .await?;
        Ok(())
    }

    pub async fn cancel_delivery(&self, row: &DeliveryRow) -> Result<bool, StoreError> {
        let changed = self
            .execute(
                &format!(
                    "UPDATE deliveries SET state = 'cancelled', next_attempt = NULL, detail = $2,
                        lease_until = NULL, raw = NULL
                     WHERE id = $1 AND {UNFINISHED}"
                ),
                &[&row.id, &row.detail],
            )
            .await?;
        Ok(changed == 1)
    }

    pub async fn retry_delivery(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let changed = self
            .execute(
                "UPDATE deliveries SET next_attempt = $2
                 WHERE id = $1 AND state IN ('queued', 'deferred')",
                &[&id, &at],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Several nodes share the table, so a `sending` row may be another
    /// node's attempt in progress: it is loaded as it stands, and its
    /// lease decides when it may be claimed again.
    pub async fn load_deliveries(
        &self,
        limit: usize,
        unfinished_only: bool,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let filter = if unfinished_only {
            format!("WHERE {UNFINISHED}")
        } else {
            String::new()
        };
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {COLUMNS}, raw FROM deliveries {filter}
                     ORDER BY ({UNFINISHED}) DESC, created DESC LIMIT $1"
                ),
                &[&(limit as i64)],
            )
            .await
            .map_err(db_error)?;
        Ok(rows.iter().map(|r| read_row(r, true)).collect())
    }

    pub async fn forget_deliveries(&self, ids: &[String]) -> Result<(), StoreError> {
        self.execute("DELETE FROM deliveries WHERE id = ANY($1)", &[&ids])
            .await?;
        Ok(())
    }
}
