//! The outbound queue's deliveries, kept by the database engines so that a
//! restart resumes them: the store's side of the outbound queue.
//!
//! The engines know a delivery only as a [`DeliveryRow`]: a few columns
//! they select and order by, the rest as the queue's own JSON (`detail`),
//! so the outbound queue's types stay its own. The memory engine keeps
//! nothing here (its queue lives and dies with the process).
//!
//! Several PostgreSQL nodes may hold the same delivery in their queues, so
//! an attempt begins with [`Store::claim_delivery`]: one conditional
//! UPDATE that only one node can win, with a lease that lets another node
//! take over from one that died mid-attempt.

use bytes::Bytes;

use super::{Backend, Store, StoreError};

/// The columns of a delivery row both database engines read (the raw
/// message is read only when asked for).
pub(super) const COLUMNS: &str =
    "id, message_id, mailbox, state, created, next_attempt, give_up, detail";

/// The SQL condition of a delivery not yet finished.
pub(super) const UNFINISHED: &str = "state NOT IN ('delivered', 'failed', 'cancelled')";

/// A delivery as the database keeps it. Times are Unix microseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRow {
    pub id: String,
    pub message_id: String,
    pub mailbox: String,
    /// `queued`, `sending`, `deferred`, `delivered`, `failed`, `cancelled`.
    pub state: String,
    pub created: i64,
    pub next_attempt: Option<i64>,
    pub give_up: i64,
    /// The queue's JSON of everything else (sender, server, target,
    /// recipients, attempts): rewritten after each attempt.
    pub detail: String,
    /// The bytes to send; `None` once finished (or when not loaded).
    pub raw: Option<Bytes>,
}

/// What [`Store::claim_delivery`] found.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// Ours to send; the row as it now stands (`None` for the memory
    /// engine, which keeps no rows: the caller's copy is the truth).
    Claimed(Option<DeliveryRow>),
    /// Not due, finished or being sent by another node: the row as it
    /// stands, or `None` when it is gone.
    Refused(Option<DeliveryRow>),
}

impl Store {
    /// Whether deliveries outlive the process (a database engine).
    pub fn keeps_deliveries(&self) -> bool {
        !matches!(self.backend, Backend::Memory(_))
    }

    /// Whether other processes may share the deliveries (PostgreSQL).
    pub fn shares_deliveries(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Writes a new delivery, raw bytes included (committed on return).
    pub async fn save_delivery(&self, row: &DeliveryRow) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Sqlite(db) => db.save_delivery(row.clone()).await,
            Backend::Postgres(db) => db.save_delivery(row).await,
        }
    }

    /// Marks a due delivery `sending` until `lease_until`, if no one else
    /// has it: see [`Claim`]. A `sending` row whose lease has passed was
    /// left by a node that died mid-attempt and may be claimed again.
    pub async fn claim_delivery(
        &self,
        id: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Claim, StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(Claim::Claimed(None)),
            Backend::Sqlite(db) => db.claim_delivery(id, now, lease_until).await,
            Backend::Postgres(db) => db.claim_delivery(id, now, lease_until).await,
        }
    }

    /// Records an attempt's result on a delivery this node claimed: its
    /// state, next attempt and detail; the raw bytes go once it is
    /// finished. Nothing changes if it was cancelled meanwhile.
    pub async fn finish_attempt(&self, row: &DeliveryRow) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Sqlite(db) => db.finish_attempt(row.clone()).await,
            Backend::Postgres(db) => db.finish_attempt(row).await,
        }
    }

    /// Cancels an unfinished delivery; false when it had finished.
    pub async fn cancel_delivery(&self, row: &DeliveryRow) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(true),
            Backend::Sqlite(db) => db.cancel_delivery(row.clone()).await,
            Backend::Postgres(db) => db.cancel_delivery(row).await,
        }
    }

    /// Makes a waiting (queued or deferred) delivery due at `at`; false
    /// when it is not waiting.
    pub async fn retry_delivery(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(true),
            Backend::Sqlite(db) => db.retry_delivery(id, at).await,
            Backend::Postgres(db) => db.retry_delivery(id, at).await,
        }
    }

    /// The deliveries to resume at start, raw bytes included: every
    /// unfinished one first, then the newest finished ones, `limit` in
    /// all (`unfinished_only` leaves the finished out).
    pub async fn load_deliveries(
        &self,
        limit: usize,
        unfinished_only: bool,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        match &self.backend {
            Backend::Memory(_) => Ok(Vec::new()),
            Backend::Sqlite(db) => db.load_deliveries(limit, unfinished_only).await,
            Backend::Postgres(db) => db.load_deliveries(limit, unfinished_only).await,
        }
    }

    /// Deletes deliveries the queue no longer keeps.
    pub async fn forget_deliveries(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Sqlite(db) => db.forget_deliveries(ids.to_vec()).await,
            Backend::Postgres(db) => db.forget_deliveries(ids).await,
        }
    }
}
