//! The PostgreSQL engine: every message in one database that several
//! mailcatch processes ("nodes") share, so they act as one catcher.
//!
//! Each operation takes a pooled connection; a write is one transaction,
//! and `insert` returns after its COMMIT (so a 250 means committed), with
//! the messages that arrive together committed together (see [`writer`]).
//! `seq` comes from one clock row in the database, so IDs are unique across
//! nodes, and totals are read from the database (kept there by triggers),
//! so every node reports the same. Changes reach the other nodes' change
//! feeds by NOTIFY in the transaction that makes them (see [`feed`]).

mod deliveries;
mod feed;
mod mailboxes;
mod rows;
pub(crate) mod schema;
mod search;
mod tags;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Config, GenericClient, NoTls};

use super::id::IdGenerator;
use super::message::{Incoming, StoredMessage, Summary};
use super::raw::RawMessage;
use super::{Changed, Counts, MessageId, Page, Query, Selection, StoreError, StoreLimits};
use super::{MAX_DELETE_EVENTS, mailbox};
use feed::Change;
use rows::{MESSAGE_COLUMNS, MESSAGE_TABLES, read_message};
use search::Condition;

pub(crate) use feed::Feed;

/// Connections a node keeps open at most (the listener has its own).
const POOL_SIZE: usize = 16;

/// How long an operation waits for a connection before it fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Eviction statements one insert may run (each deletes the oldest
/// messages beyond the count cap, or one beyond the byte cap).
const MAX_EVICTION_ROUNDS: usize = 10_000;
/// Most messages one eviction statement deletes.
const MAX_EVICTED_AT_ONCE: usize = 1000;

pub(crate) struct PgStore {
    pool: Pool,
    config: Config,
    /// The messages waiting for a writer (see [`writer`]).
    writer: mpsc::Sender<writer::Job>,
    /// The mailboxes found at open, handed to the store's registry once.
    loaded_mailboxes: parking_lot::Mutex<Vec<mailbox::Mailbox>>,
    feed: Arc<Feed>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("database: {e}"))
}

fn db_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("database: {}", schema::describe(&e)))
}

impl PgStore {
    /// Connects, prepares the schema and loads the mailboxes.
    pub async fn open(url: &str, limits: StoreLimits) -> Result<PgStore, String> {
        let config = schema::parse(url)?;
        let shown = schema::redacted(&config);
        let fail = |reason: String| format!("database {shown}: {reason}");
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let mut client = pool
            .get()
            .await
            .map_err(|e| fail(format!("cannot connect: {}", pool_error(&e))))?;
        schema::prepare(&mut client).await.map_err(fail)?;
        let loaded = mailboxes::load(&**client)
            .await
            .map_err(|e| fail(schema::describe(&e)))?;
        drop(client);
        tracing::info!(database = %shown, "PostgreSQL storage ready");
        let feed = Arc::new(Feed::new());
        let (sender, queue) = mpsc::channel(writer::QUEUE);
        writer::Writers {
            pool: pool.clone(),
            limits,
            ids: IdGenerator::default(),
            feed: feed.clone(),
            queue: tokio::sync::Mutex::new(queue),
        }
        .start();
        Ok(PgStore {
            pool,
            config,
            writer: sender,
            loaded_mailboxes: parking_lot::Mutex::new(loaded),
            feed,
        })
    }

    /// The mailboxes stored in the database (given out once, at open).
    pub fn take_loaded_mailboxes(&self) -> Vec<mailbox::Mailbox> {
        std::mem::take(&mut *self.loaded_mailboxes.lock())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await.map_err(db_error)?;
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| unavailable(pool_error(&e)))
    }

    pub async fn insert(
        &self,
        mailbox: Arc<str>,
        incoming: Incoming,
        summary: Summary,
        tags: Vec<String>,
    ) -> Result<(Arc<StoredMessage>, u64), StoreError> {
        let (reply, stored) = oneshot::channel();
        let job = writer::Job {
            mailbox,
            incoming,
            summary,
            tags,
            reply,
        };
        let gone = || unavailable("the writer has stopped");
        self.writer.send(job).await.map_err(|_| gone())?;
        stored.await.map_err(|_| gone())?
    }

    pub async fn get(&self, id: &str) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        let Some(seq) = MessageId::parse_seq(id) else {
            return Ok(None);
        };
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE m.seq = $1 AND m.id = $2"
                ),
                &[&(seq as i64), &id],
            )
            .await
            .map_err(db_error)?;
        row.map(|row| read_message(&row).map_err(unavailable))
            .transpose()
    }

    pub async fn raw(&self, seq: u64) -> Result<Bytes, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT r.lz4, r.data, m.size FROM message_raw r JOIN messages m USING (seq)
                 WHERE seq = $1",
                &[&(seq as i64)],
            )
            .await
            .map_err(db_error)?
            .ok_or_else(|| unavailable("the message was deleted meanwhile"))?;
        let (lz4, data, size): (bool, Vec<u8>, i64) = (row.get(0), row.get(1), row.get(2));
        RawMessage::unpack(data, lz4, size as usize)
            .ok_or_else(|| unavailable("stored message does not decompress"))
    }

    pub async fn latest(
        &self,
        query: Option<&Query>,
    ) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        let everything = Query::everything();
        let condition = Condition::of(query.unwrap_or(&everything));
        let client = self.client().await?;
        let newest: Vec<i64> = client
            .query(&condition.matches_sql(Some(1)), &condition.params())
            .await
            .map_err(db_error)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(load(&**client, &newest).await?.pop())
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let client = self.client().await?;
        totals(&**client).await
    }

    pub async fn list(
        &self,
        start: usize,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Page, StoreError> {
        let client = self.client().await?;
        let counts = totals(&**client).await?;
        // Bounds beyond a BIGINT mean "all" and "none".
        let limit = match i64::try_from(limit) {
            Ok(0) | Err(_) => "ALL".to_string(),
            Ok(limit) => limit.to_string(),
        };
        let start = i64::try_from(start).unwrap_or(i64::MAX);
        let rows = client
            .query(
                &format!(
                    "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE m.created < $1
                     ORDER BY m.seq DESC LIMIT {limit} OFFSET {start}"
                ),
                &[&before.unwrap_or(i64::MAX)],
            )
            .await
            .map_err(db_error)?;
        let messages = rows
            .iter()
            .map(|row| read_message(row).map_err(unavailable))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            messages,
            matched: counts.total,
            matched_unread: counts.unread,
        })
    }

    pub async fn search(
        &self,
        query: &Query,
        start: usize,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let client = self.client().await?;
        let condition = Condition::of(query);
        let rows = client
            .query(&condition.page_sql(start, limit), &condition.params())
            .await
            .map_err(db_error)?;
        let page: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let (matched, unread): (i64, i64) = match rows.first() {
            Some(row) => (row.get(1), row.get(2)),
            None if start == 0 && limit > 0 => (0, 0),
            None => {
                let row = client
                    .query_one(&condition.count_sql(), &condition.params())
                    .await
                    .map_err(db_error)?;
                (row.get(0), row.get(1))
            }
        };
        Ok(Page {
            messages: load(&**client, &page).await?,
            matched: matched as usize,
            matched_unread: unread as usize,
        })
    }

    pub async fn set_read(
        &self,
        which: Selection<'_>,
        read: bool,
    ) -> Result<Vec<Changed>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let rows = match which {
            Selection::All => {
                tx.query(
                    "UPDATE messages SET read = $1 WHERE read <> $1 RETURNING id, mailbox",
                    &[&read],
                )
                .await
            }
            Selection::Ids(ids) => {
                let (seqs, ids) = seqs_of(ids);
                tx.query(
                    "UPDATE messages SET read = $3 WHERE seq = ANY($1) AND id = ANY($2)
                     AND read <> $3 RETURNING id, mailbox",
                    &[&seqs, &ids, &read],
                )
                .await
            }
            Selection::Matching(query) => {
                let seqs = matching_seqs(&*tx, query).await?;
                tx.query(
                    "UPDATE messages SET read = $2 WHERE seq = ANY($1) AND read <> $2
                     RETURNING id, mailbox",
                    &[&seqs, &read],
                )
                .await
            }
        }
        .map_err(db_error)?;
        let changed = changed(&rows);
        let notes = self.notes(&changed, |Changed { id, mailbox }| Change::Read {
            id: id.clone(),
            mailbox: mailbox.to_string(),
            read,
        });
        commit(tx, &notes).await?;
        Ok(changed)
    }

    pub async fn delete(&self, which: Selection<'_>) -> Result<Vec<Changed>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let rows = match which {
            Selection::All => {
                tx.query("DELETE FROM messages RETURNING id, mailbox", &[])
                    .await
            }
            Selection::Ids(ids) => {
                let (seqs, ids) = seqs_of(ids);
                tx.query(
                    "DELETE FROM messages WHERE seq = ANY($1) AND id = ANY($2)
                     RETURNING id, mailbox",
                    &[&seqs, &ids],
                )
                .await
            }
            Selection::Matching(query) => {
                let seqs = matching_seqs(&*tx, query).await?;
                tx.query(
                    "DELETE FROM messages WHERE seq = ANY($1) RETURNING id, mailbox",
                    &[&seqs],
                )
                .await
            }
        }
        .map_err(db_error)?;
        let deleted = changed(&rows);
        let notes = self.notes(&deleted, |Changed { id, mailbox }| Change::Deleted {
            id: id.clone(),
            mailbox: mailbox.to_string(),
        });
        commit(tx, &notes).await?;
        Ok(deleted)
    }

    /// Deletes every message of `mailbox`, announced to the other nodes as
    /// that mailbox's truncation.
    pub async fn empty_mailbox(&self, mailbox: &Arc<str>) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let count = tx
            .execute("DELETE FROM messages WHERE mailbox = $1", &[&&**mailbox])
            .await
            .map_err(db_error)?;
        let note = self.feed.note(Change::Truncated {
            mailbox: Some(mailbox.to_string()),
        });
        commit(tx, &[note]).await?;
        Ok(count as usize)
    }

    pub async fn delete_all(&self) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let count = tx
            .execute("DELETE FROM messages", &[])
            .await
            .map_err(db_error)?;
        let note = self.feed.note(Change::Truncated { mailbox: None });
        commit(tx, &[note]).await?;
        Ok(count as usize)
    }

    pub async fn evict_before(&self, micros: i64) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_error)?;
        let count = tx
            .execute("DELETE FROM messages WHERE created < $1", &[&micros])
            .await
            .map_err(db_error)?;
        let notes = if count > 0 {
            vec![self.feed.pruned()]
        } else {
            Vec::new()
        };
        commit(tx, &notes).await?;
        Ok(count)
    }

    /// The notes announcing `changes` one by one, or one refetch when they
    /// are more than the store announces one by one.
    fn notes(&self, changes: &[Changed], change: impl Fn(&Changed) -> Change) -> Vec<String> {
        if changes.len() > MAX_DELETE_EVENTS {
            return vec![self.feed.pruned()];
        }
        changes
            .iter()
            .map(|changed| self.feed.note(change(changed)))
            .collect()
    }

    /// Stops following the other nodes. Every acknowledged write is
    /// already committed; the pool stays usable for late readers (the
    /// connections close when the store is dropped).
    pub async fn close(&self) {
        self.feed.stop();
    }
}

/// The deadpool error as one line, with the server's message when it sent
/// one (never the password: neither the driver nor the pool prints it).
fn pool_error(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => schema::describe(e),
        other => other.to_string(),
    }
}

/// Splits IDs into their sequence numbers and texts (a sequence number
/// alone does not prove an ID is ours).
fn seqs_of(ids: &[String]) -> (Vec<i64>, Vec<String>) {
    let seqs = ids
        .iter()
        .filter_map(|id| MessageId::parse_seq(id).map(|seq| seq as i64))
        .collect();
    (seqs, ids.to_vec())
}

fn changed(rows: &[tokio_postgres::Row]) -> Vec<Changed> {
    rows.iter()
        .map(|row| Changed {
            id: row.get(0),
            mailbox: Arc::from(row.get::<_, String>(1)),
        })
        .collect()
}

/// Sends its second parameter's notes on the channel of the first.
const NOTIFY: &str = "SELECT pg_notify($1, note) FROM unnest($2::TEXT[]) AS note";

/// Sends `notes` to the other nodes with the transaction's COMMIT.
async fn notify(db: &impl GenericClient, notes: &[String]) -> Result<(), tokio_postgres::Error> {
    if !notes.is_empty() {
        db.execute(NOTIFY, &[&feed::CHANNEL, &notes]).await?;
    }
    Ok(())
}

/// Notifies and commits.
async fn commit(
    tx: deadpool_postgres::Transaction<'_>,
    notes: &[String],
) -> Result<(), StoreError> {
    notify(&*tx, notes).await.map_err(db_error)?;
    tx.commit().await.map_err(db_error)
}

/// The totals over every stored message, as committed now (every node
/// sees the same), from the rows the triggers keep.
async fn totals(db: &impl GenericClient) -> Result<Counts, StoreError> {
    read_totals(db).await.map_err(db_error)
}

async fn read_totals(db: &impl GenericClient) -> Result<Counts, tokio_postgres::Error> {
    let row = db
        .query_one(
            "SELECT coalesce(sum(total), 0)::BIGINT, coalesce(sum(unread), 0)::BIGINT,
                    coalesce(sum(bytes), 0)::BIGINT
             FROM message_totals",
            &[],
        )
        .await?;
    Ok(Counts {
        total: row.get::<_, i64>(0) as usize,
        unread: row.get::<_, i64>(1) as usize,
        bytes: row.get::<_, i64>(2) as u64,
    })
}

/// The sequence number of every match.
async fn matching_seqs(db: &impl GenericClient, query: &Query) -> Result<Vec<i64>, StoreError> {
    let condition = Condition::of(query);
    Ok(db
        .query(&condition.matches_sql(None), &condition.params())
        .await
        .map_err(db_error)?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The messages with these sequence numbers, in the order given.
async fn load(
    db: &impl GenericClient,
    seqs: &[i64],
) -> Result<Vec<Arc<StoredMessage>>, StoreError> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            &format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_TABLES} WHERE m.seq = ANY($1)"),
            &[&seqs],
        )
        .await
        .map_err(db_error)?;
    let mut by_seq = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let message = read_message(row).map_err(unavailable)?;
        by_seq.insert(message.id.seq as i64, message);
    }
    Ok(seqs.iter().filter_map(|seq| by_seq.remove(seq)).collect())
}

/// Deletes the oldest messages until both caps hold, always keeping the
/// newest; returns how many went. Totals are read afresh by each
/// statement, so nodes evicting at once see each other's commits: rows two
/// nodes both pick are deleted by one (the other's `DELETE` finds them gone
/// and picks again).
async fn evict_over_limits(
    db: &impl GenericClient,
    limits: &StoreLimits,
) -> Result<u64, tokio_postgres::Error> {
    if limits.max_messages == 0 && limits.max_bytes == 0 {
        return Ok(0);
    }
    let mut evicted = 0;
    for _ in 0..MAX_EVICTION_ROUNDS {
        let counts = read_totals(db).await?;
        if !limits.exceeded_by(counts.total, counts.bytes) {
            break;
        }
        // Beyond the count cap, all the excess at once; beyond the byte
        // cap, one at a time (each message's size differs).
        let excess = if limits.max_messages > 0 && counts.total > limits.max_messages {
            counts.total - limits.max_messages
        } else {
            1
        };
        let excess = excess.min(counts.total - 1).min(MAX_EVICTED_AT_ONCE) as i64;
        evicted += db
            .execute(
                "DELETE FROM messages WHERE seq IN
                 (SELECT seq FROM messages ORDER BY seq LIMIT $1)",
                &[&excess],
            )
            .await?;
    }
    Ok(evicted)
}
