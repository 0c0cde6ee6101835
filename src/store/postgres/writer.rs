//! Group commit: new messages are written by a few writer tasks, each of
//! which takes whatever messages are waiting (up to [`MAX_GROUP`]), stores
//! them in one transaction and answers each only after the COMMIT.
//!
//! So a `250` (which waits for that answer) still means committed, while
//! the cost of a commit (its round trips, and the server's flush of its
//! WAL) is shared by every message that arrived meanwhile. One writer per
//! node: while its commit is in flight the next group gathers, so groups
//! grow with the load. Two writers (tried) halve the groups and cost the
//! server about a third more CPU per message (each group pays its own
//! statements, trigger runs and commit), which on a busy machine is what
//! limits the rate. A group the server
//! refuses is written again message by message, so one bad message fails
//! alone; a connection lost mid-group fails the group (whether the COMMIT
//! happened is unknown, so nothing is written twice).

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_postgres::types::ToSql;

use super::feed::Feed;
use super::rows::{self, NewRows};
use super::{db_error, evict_over_limits, pool_error, unavailable};
use crate::store::id::IdGenerator;
use crate::store::message::{Incoming, StoredMessage, Summary};
use crate::store::{StoreError, StoreLimits};

/// Most messages committed together.
const MAX_GROUP: usize = 128;
/// Messages waiting for a writer before senders wait too.
pub(super) const QUEUE: usize = 1024;
/// Groups written at once (each on its own connection).
pub(super) const WRITERS: usize = 1;

/// What an insert gets back: the stored message and how many old ones the
/// caps evicted.
pub(super) type Stored = Result<(Arc<StoredMessage>, u64), StoreError>;

/// A message waiting to be stored.
pub(super) struct Job {
    pub mailbox: Arc<str>,
    pub incoming: Incoming,
    pub summary: Summary,
    pub tags: Vec<String>,
    pub reply: oneshot::Sender<Stored>,
}

/// What every writer shares.
pub(super) struct Writers {
    pub pool: Pool,
    pub limits: StoreLimits,
    /// Suffixes the IDs of this node's messages.
    pub ids: IdGenerator,
    pub feed: Arc<Feed>,
    pub queue: Mutex<mpsc::Receiver<Job>>,
}

impl Writers {
    /// Starts [`WRITERS`] tasks; they end when every sender is gone.
    pub fn start(self) {
        let shared = Arc::new(self);
        for _ in 0..WRITERS {
            tokio::spawn(shared.clone().run());
        }
    }

    async fn run(self: Arc<Self>) {
        let mut jobs = Vec::with_capacity(MAX_GROUP);
        loop {
            // With several writers, one takes a group while the others write theirs.
            let taken = self
                .queue
                .lock()
                .await
                .recv_many(&mut jobs, MAX_GROUP)
                .await;
            if taken == 0 {
                return;
            }
            self.store(std::mem::take(&mut jobs)).await;
        }
    }

    /// Stores one group and answers each of its jobs.
    async fn store(&self, jobs: Vec<Job>) {
        let mut client = match self.pool.get().await {
            Ok(client) => client,
            Err(e) => return refuse(jobs, unavailable(pool_error(&e))),
        };
        let first = match allocate(&client, jobs.len()).await {
            Ok(first) => first,
            Err(e) => return refuse(jobs, e),
        };
        let mut group = Vec::with_capacity(jobs.len());
        for (job, seq) in jobs.into_iter().zip(first..) {
            let id = self.ids.id_for(seq);
            let message = Arc::new(StoredMessage::new(
                id,
                job.mailbox,
                job.incoming,
                job.summary,
                job.tags,
            ));
            match NewRows::encode(message) {
                Ok(rows) => group.push((rows, job.reply)),
                Err(e) => {
                    let error = unavailable(format!("cannot encode the message: {e}"));
                    let _ = job.reply.send(Err(error));
                }
            }
        }
        let (rows, replies): (Vec<NewRows>, Vec<_>) = group.into_iter().unzip();
        match self.commit(&mut client, &rows).await {
            Ok(evicted) => answer(rows, replies, evicted),
            Err(e) if rows.len() > 1 && e.as_db_error().is_some() => {
                tracing::warn!(error = %super::schema::describe(&e), "a group was refused; storing its messages one by one");
                for (rows, reply) in rows.into_iter().zip(replies) {
                    let rows = [rows];
                    let outcome = self.commit(&mut client, &rows).await.map_err(db_error);
                    let [rows] = rows;
                    let _ = reply.send(outcome.map(|evicted| (rows.message, evicted)));
                }
            }
            Err(e) => {
                let error = db_error(e);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }

    /// One transaction: the rows, the eviction the caps call for, and the
    /// notifications the other nodes get at the COMMIT. Its statements are
    /// sent together (without caps, BEGIN to COMMIT in one round trip): a
    /// statement that fails makes the server skip the rest and turn the
    /// COMMIT into a rollback, and its error is what this returns.
    async fn commit(
        &self,
        client: &mut deadpool_postgres::Object,
        group: &[NewRows],
    ) -> Result<u64, tokio_postgres::Error> {
        let notes: Vec<String> = group
            .iter()
            .map(|rows| self.feed.new_message(rows.message.id.seq))
            .collect();
        let statements = rows::prepare_inserts(client).await?;
        let notify = client.prepare_cached(super::NOTIFY).await?;
        let db: &tokio_postgres::Client = client;
        let begin = db.batch_execute("BEGIN");
        let insert = rows::insert_all(db, &statements, group);
        if self.limits.max_messages == 0 && self.limits.max_bytes == 0 {
            let params: [&(dyn ToSql + Sync); 2] = [&super::feed::CHANNEL, &notes];
            let notified = db.execute(&notify, &params);
            let commit = db.batch_execute("COMMIT");
            let outcome = futures_util::try_join!(begin, insert, notified, commit).map(drop);
            return self.settle(db, outcome).await.map(|()| 0);
        }
        let outcome = futures_util::try_join!(begin, insert).map(drop);
        self.settle(db, outcome).await?;
        let evicted = match evict_over_limits(db, &self.limits).await {
            Ok(evicted) => evicted,
            Err(e) => return self.settle(db, Err(e)).await.map(|()| 0),
        };
        let mut notes = notes;
        if evicted > 0 {
            notes.push(self.feed.pruned());
        }
        let params: [&(dyn ToSql + Sync); 2] = [&super::feed::CHANNEL, &notes];
        let notified = db.execute(&notify, &params);
        let commit = db.batch_execute("COMMIT");
        let outcome = futures_util::try_join!(notified, commit).map(drop);
        self.settle(db, outcome).await.map(|()| evicted)
    }

    /// Passes `outcome` on, first ending the transaction if it failed.
    async fn settle(
        &self,
        db: &tokio_postgres::Client,
        outcome: Result<(), tokio_postgres::Error>,
    ) -> Result<(), tokio_postgres::Error> {
        if outcome.is_err() {
            let _ = db.batch_execute("ROLLBACK").await;
        }
        outcome
    }
}

/// Takes `count` sequence numbers from the clock row and returns the first.
/// This runs in a transaction of its own, without waiting for its WAL to be
/// flushed: the COMMIT of any message that uses a number is written after
/// it, so flushing that COMMIT flushes this too, and numbers lost in a
/// crash were never used. Each number is at least the database's time in
/// microseconds, as the other engines' are.
async fn allocate(client: &deadpool_postgres::Object, count: usize) -> Result<u64, StoreError> {
    let count = count as i64;
    let sql = format!(
        "BEGIN; SET LOCAL synchronous_commit TO off;
         UPDATE message_clock SET last = greatest(last + {count},
            (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT + {count} - 1)
         RETURNING last;
         COMMIT"
    );
    let answers = client.simple_query(&sql).await.map_err(db_error)?;
    let last = answers
        .iter()
        .find_map(|answer| match answer {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse::<i64>().ok(),
            _ => None,
        })
        .ok_or_else(|| unavailable("the message clock has no row"))?;
    Ok((last - count + 1) as u64)
}

fn refuse(jobs: Vec<Job>, error: StoreError) {
    for job in jobs {
        let _ = job.reply.send(Err(error.clone()));
    }
}

/// Answers a committed group; the evictions are reported once, with its
/// first message.
fn answer(rows: Vec<NewRows>, replies: Vec<oneshot::Sender<Stored>>, evicted: u64) {
    for (i, (rows, reply)) in rows.into_iter().zip(replies).enumerate() {
        let evicted = if i == 0 { evicted } else { 0 };
        let _ = reply.send(Ok((rows.message, evicted)));
    }
}
