//! The `deliveries` table: the outbound queue's deliveries, so a restart
//! resumes them (see [`crate::store::deliveries`]).

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
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
    created INTEGER NOT NULL,
    next_attempt INTEGER,
    give_up INTEGER NOT NULL,
    lease_until INTEGER,
    detail TEXT NOT NULL,
    raw BLOB
);
CREATE INDEX deliveries_by_state ON deliveries (state, created);
";

fn read_row(r: &Row<'_>, with_raw: bool) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        message_id: r.get(1)?,
        mailbox: r.get(2)?,
        state: r.get(3)?,
        created: r.get(4)?,
        next_attempt: r.get(5)?,
        give_up: r.get(6)?,
        detail: r.get(7)?,
        raw: if with_raw {
            r.get::<_, Option<Vec<u8>>>(8)?.map(Bytes::from)
        } else {
            None
        },
    })
}

fn current(conn: &Connection, id: &str) -> rusqlite::Result<Option<DeliveryRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM deliveries WHERE id = ?1"))?
        .query_row([id], |r| read_row(r, false))
        .optional()
}

impl SqliteStore {
    pub async fn save_delivery(&self, row: DeliveryRow) -> Result<(), StoreError> {
        self.write(move |cx| {
            cx.conn
                .prepare_cached(
                    "INSERT INTO deliveries (id, message_id, mailbox, state, created,
                        next_attempt, give_up, detail, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(params![
                    row.id,
                    row.message_id,
                    row.mailbox,
                    row.state,
                    row.created,
                    row.next_attempt,
                    row.give_up,
                    row.detail,
                    row.raw.as_deref(),
                ])?;
            Ok(())
        })
        .await
    }

    pub async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Claim, StoreError> {
        let id = id.to_string();
        self.write(move |cx| {
            let claimed = cx
                .conn
                .prepare_cached(
                    "UPDATE deliveries SET state = 'sending', lease_until = ?3
                     WHERE id = ?1 AND ((state IN ('queued', 'deferred')
                            AND coalesce(next_attempt, 0) <= ?2)
                        OR (state = 'sending' AND lease_until < ?2))",
                )?
                .execute(params![id, now, lease_until])?;
            let row = current(cx.conn, &id)?;
            Ok(if claimed == 1 {
                Claim::Claimed(row)
            } else {
                Claim::Refused(row)
            })
        })
        .await
    }

    pub async fn finish_attempt(&self, row: DeliveryRow) -> Result<(), StoreError> {
        self.write(move |cx| {
            cx.conn
                .prepare_cached(
                    "UPDATE deliveries SET state = ?2, next_attempt = ?3, detail = ?4,
                        lease_until = NULL,
                        raw = CASE WHEN ?2 IN ('delivered', 'failed') THEN NULL ELSE raw END
                     WHERE id = ?1 AND state = 'sending'",
                )?
                .execute(params![row.id, row.state, row.next_attempt, row.detail])?;
            Ok(())
        })
        .await
    }

    pub async fn cancel_delivery(&self, row: DeliveryRow) -> Result<bool, StoreError> {
        self.write(move |cx| {
            let changed = cx
                .conn
                .prepare_cached(&format!(
                    "UPDATE deliveries SET state = 'cancelled', next_attempt = NULL,
                        detail = ?2, lease_until = NULL, raw = NULL
                     WHERE id = ?1 AND {UNFINISHED}"
                ))?
                .execute(params![row.id, row.detail])?;
            Ok(changed == 1)
        })
        .await
    }

    pub async fn retry_delivery(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.write(move |cx| {
            let changed = cx
                .conn
                .prepare_cached(
                    "UPDATE deliveries SET next_attempt = ?2
                     WHERE id = ?1 AND state IN ('queued', 'deferred')",
                )?
                .execute(params![id, at])?;
            Ok(changed == 1)
        })
        .await
    }

    /// One process has the file, so a `sending` row was left by a process
    /// that died mid-attempt: it is made due again before loading.
    pub async fn load_deliveries(
        &self,
        limit: usize,
        unfinished_only: bool,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let now = jiff::Timestamp::now().as_microsecond();
        self.write(move |cx| {
            cx.conn
                .prepare_cached(
                    "UPDATE deliveries SET state = 'deferred', next_attempt = ?1,
                        lease_until = NULL WHERE state = 'sending'",
                )?
                .execute([now])?;
            let filter = if unfinished_only {
                format!("WHERE {UNFINISHED}")
            } else {
                String::new()
            };
            let mut rows = cx.conn.prepare(&format!(
                "SELECT {COLUMNS}, raw FROM deliveries {filter}
                 ORDER BY {UNFINISHED} DESC, created DESC LIMIT ?1"
            ))?;
            rows.query_map([limit as i64], |r| read_row(r, true))?
                .collect()
        })
        .await
    }

    pub async fn forget_deliveries(&self, ids: Vec<String>) -> Result<(), StoreError> {
        self.write(move |cx| {
            let mut delete = cx
                .conn
                .prepare_cached("DELETE FROM deliveries WHERE id = ?1")?;
            for id in &ids {
                delete.execute([id])?;
            }
            cx.freed = true;
            Ok(())
        })
        .await
    }
}
