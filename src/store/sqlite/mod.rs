//! The SQLite engine: every message in one database file, so mail survives
//! restarts and the store can be far larger than memory.
//!
//! Writes go through one writer thread that commits in groups (see
//! [`writer`]); reads run on blocking threads, each with a connection from a
//! small pool (WAL mode lets them read while the writer writes). The process
//! keeps only the totals in memory; messages are read back on demand.

mod checkpoint;
mod deliveries;
mod mailboxes;
mod rows;
mod schema;
mod search;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::{Semaphore, mpsc};

pub use schema::OpenError;

use super::id::IdGenerator;
use super::message::{Incoming, StoredMessage, Summary};
use super::raw::RawMessage;
use super::{Changed, Counts, Page, Query, Selection, StoreError, StoreLimits, tag_index};
use writer::{Context, Job};

/// Read connections open at once.
const READERS: usize = 4;

pub(crate) struct SqliteStore {
    path: PathBuf,
    /// The mailboxes found at open, handed to the store's registry once.
    loaded_mailboxes: Mutex<Vec<crate::store::mailbox::Mailbox>>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<checkpoint::Checkpointer>>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
    totals: Arc<Mutex<Counts>>,
    ids: IdGenerator,
    /// Held for the life of the store: one process per file.
    _lock: File,
}

impl SqliteStore {
    pub fn open(path: &Path, limits: StoreLimits) -> Result<SqliteStore, OpenError> {
        schema::check_file(path)?;
        let lock = schema::lock(path)?;
        let fail = |e: rusqlite::Error| schema::refused(path, schema::describe(&e));
        let conn = schema::connect(path, OpenFlags::default()).map_err(fail)?;
        schema::prepare(path, &conn)?;
        schema::limit_size_for_tests(&conn).map_err(fail)?;
        let (totals, last_seq) = conn
            .query_row(
                "SELECT count(*), coalesce(sum(NOT read), 0), coalesce(sum(kept), 0),
                        coalesce(max(seq), 0) FROM messages",
                [],
                |r| {
                    Ok((
                        Counts {
                            total: r.get::<_, i64>(0)? as usize,
                            unread: r.get::<_, i64>(1)? as usize,
                            bytes: r.get::<_, i64>(2)? as u64,
                        },
                        r.get::<_, i64>(3)? as u64,
                    ))
                },
            )
            .map_err(fail)?;
        let loaded_mailboxes = mailboxes::load(&conn).map_err(fail)?;
        // The writer leaves checkpoints to their own thread.
        conn.query_row("PRAGMA wal_autocheckpoint = 0", [], |_| Ok(()))
            .map_err(fail)?;
        let checkpointer = checkpoint::Checkpointer::start(path).map_err(fail)?;
        let shared = Arc::new(Mutex::new(totals));
        let (sender, receiver) = mpsc::channel(writer::QUEUE);
        let writer_totals = shared.clone();
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(conn, receiver, limits, totals, writer_totals))
            .map_err(|e| schema::refused(path, format!("cannot start its writer: {e}")))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            loaded_mailboxes: Mutex::new(loaded_mailboxes),
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            checkpointer: Mutex::new(Some(checkpointer)),
            readers: Mutex::new(Vec::new()),
            reader_slots: Semaphore::new(READERS),
            totals: shared,
            ids: IdGenerator::after(last_seq),
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mailboxes stored in the file (given out once, at open).
    pub fn take_loaded_mailboxes(&self) -> Vec<crate::store::mailbox::Mailbox> {
        std::mem::take(&mut *self.loaded_mailboxes.lock())
    }

    /// Runs `work` on the writer thread and waits for its commit.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Context<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let closed = || StoreError::Unavailable("the database is closed".into());
        let sender = self.jobs.lock().clone().ok_or_else(closed)?;
        let (job, outcome) = writer::job(work);
        sender.send(job).await.map_err(|_| closed())?;
        outcome.await.map_err(|_| closed())?
    }

    /// Runs `work` on a blocking thread with a read connection.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _slot = self
            .reader_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        let idle = self.readers.lock().pop();
        let path = self.path.clone();
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let conn = match idle {
                Some(conn) => conn,
                None => match schema::connect(&path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
                    Ok(conn) => conn,
                    Err(e) => return (None, Err(e)),
                },
            };
            let result = work(&conn);
            (Some(conn), result)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("read task failed: {e}")))?;
        if let Some(conn) = conn {
            self.readers.lock().push(conn);
        }
        result.map_err(|e| writer::classify(&e))
    }

    pub async fn insert(
        &self,
        mailbox: Arc<str>,
        incoming: Incoming,
        summary: Summary,
        tags: Vec<String>,
    ) -> Result<(Arc<StoredMessage>, u64), StoreError> {
        let id = self.ids.next();
        let message = Arc::new(StoredMessage::new(id, mailbox, incoming, summary, tags));
        let rows = rows::NewRows::encode(message.clone())
            .map_err(|e| StoreError::Unavailable(format!("cannot encode the message: {e}")))?;
        let evicted = self
            .write(move |cx| {
                rows.insert(cx.conn)?;
                cx.totals.total += 1;
                cx.totals.unread += 1;
                cx.totals.bytes += rows.kept();
                evict_over_limits(cx)
            })
            .await?;
        Ok((message, evicted))
    }

    pub async fn get(&self, id: &str) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        let Some(seq) = super::MessageId::parse_seq(id) else {
            return Ok(None);
        };
        let id = id.to_string();
        self.read(move |conn| {
            let mut get = conn.prepare_cached(&format!(
                "SELECT {} FROM {} WHERE m.seq = ?1 AND m.id = ?2",
                rows::MESSAGE_COLUMNS,
                rows::MESSAGE_TABLES
            ))?;
            let mut found = get.query(params![seq as i64, id])?;
            found.next()?.map(|row| rows::read_message(row)).transpose()
        })
        .await
    }

    pub async fn raw(&self, seq: u64) -> Result<Bytes, StoreError> {
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT lz4, data, size FROM message_raw JOIN messages USING (seq) WHERE seq = ?1",
            )?
            .query_row([seq as i64], |r| {
                let (lz4, data, size): (bool, Vec<u8>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                RawMessage::unpack(data, lz4, size as usize).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        1,
                        rusqlite::types::Type::Blob,
                        "stored message does not decompress".into(),
                    )
                })
            })
        })
        .await
    }

    pub async fn latest(
        &self,
        query: Option<&Query>,
    ) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        match query {
            Some(query) => {
                let query = query.clone();
                self.read(move |conn| search::latest(conn, &query)).await
            }
            None => Ok(self.list(0, 1, None).await?.messages.pop()),
        }
    }

    pub fn counts(&self) -> Counts {
        *self.totals.lock()
    }

    pub async fn list(
        &self,
        start: usize,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Page, StoreError> {
        let counts = self.counts();
        let messages = self
            .read(move |conn| {
                let mut list = conn.prepare_cached(&format!(
                    "SELECT {} FROM {} WHERE m.created < ?1 ORDER BY m.seq DESC LIMIT ?2 OFFSET ?3",
                    rows::MESSAGE_COLUMNS,
                    rows::MESSAGE_TABLES
                ))?;
                let limit = if limit == 0 { -1 } else { limit as i64 };
                list.query_map(
                    params![before.unwrap_or(i64::MAX), limit, start as i64],
                    rows::read_message,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?;
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
        let query = query.clone();
        self.read(move |conn| search::search(conn, &query, start, limit))
            .await
    }

    /// The sequence numbers of a selection of IDs or a search.
    async fn select(&self, which: Selection<'_>) -> Result<Option<Vec<i64>>, StoreError> {
        match which {
            Selection::All => Ok(None),
            Selection::Ids(ids) => Ok(Some(
                ids.iter()
                    .filter_map(|id| super::MessageId::parse_seq(id).map(|seq| seq as i64))
                    .collect(),
            )),
            Selection::Matching(query) => {
                let query = query.clone();
                let seqs = self
                    .read(move |conn| search::matching_seqs(conn, &query))
                    .await?;
                Ok(Some(seqs))
            }
        }
    }

    pub async fn set_read(
        &self,
        which: Selection<'_>,
        read: bool,
    ) -> Result<Vec<Changed>, StoreError> {
        let ids = ids_of(which);
        let seqs = self.select(which).await?;
        self.write(move |cx| {
            let mut changed = Vec::new();
            let mut update = cx.conn.prepare_cached(
                "UPDATE messages SET read = ?2 WHERE seq = ?1 AND read != ?2 RETURNING id, mailbox",
            )?;
            let mut apply = |seq: i64| -> rusqlite::Result<()> {
                let mut rows = update.query(params![seq, read])?;
                if let Some(row) = rows.next()? {
                    // An ID whose sequence matches but text does not is not
                    // ours; filtered below.
                    changed.push(Changed {
                        id: row.get(0)?,
                        mailbox: Arc::from(row.get::<_, String>(1)?),
                    });
                }
                Ok(())
            };
            match seqs {
                Some(seqs) => seqs.into_iter().try_for_each(&mut apply)?,
                None => {
                    let all: Vec<i64> = cx
                        .conn
                        .prepare_cached("SELECT seq FROM messages WHERE read != ?1")?
                        .query_map([read], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    all.into_iter().try_for_each(&mut apply)?;
                }
            }
            if let Some(ids) = ids {
                changed.retain(|c| ids.contains(&c.id));
            }
            let delta = changed.len();
            if read {
                cx.totals.unread -= delta;
            } else {
                cx.totals.unread += delta;
            }
            Ok(changed)
        })
        .await
    }

    pub async fn delete(&self, which: Selection<'_>) -> Result<Vec<Changed>, StoreError> {
        let ids = ids_of(which);
        let seqs = self.select(which).await?.unwrap_or_default();
        self.write(move |cx| {
            let mut deleted = Vec::new();
            for seq in seqs {
                let id: Option<String> = cx
                    .conn
                    .prepare_cached("SELECT id FROM messages WHERE seq = ?1")?
                    .query_row([seq], |r| r.get(0))
                    .ok();
                let Some(id) = id else { continue };
                if ids.as_ref().is_some_and(|ids| !ids.contains(&id)) {
                    continue;
                }
                if let Some(gone) = delete_row(cx, seq)? {
                    deleted.push(gone);
                }
            }
            Ok(deleted)
        })
        .await
    }

    pub async fn delete_all(&self) -> Result<usize, StoreError> {
        self.write(|cx| {
            for table in rows::TABLES {
                cx.conn.execute(&format!("DELETE FROM {table}"), [])?;
            }
            let count = cx.totals.total;
            *cx.totals = Counts::default();
            cx.freed = true;
            Ok(count)
        })
        .await
    }

    pub async fn evict_before(&self, micros: i64) -> Result<u64, StoreError> {
        self.write(move |cx| {
            let old: Vec<i64> = cx
                .conn
                .prepare_cached("SELECT seq FROM messages WHERE created < ?1 ORDER BY seq")?
                .query_map([micros], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for &seq in &old {
                delete_row(cx, seq)?;
            }
            Ok(old.len() as u64)
        })
        .await
    }

    pub async fn set_tags(
        &self,
        ids: &[String],
        tags: &[String],
    ) -> Result<Vec<Changed>, StoreError> {
        let ids = ids.to_vec();
        let tags = tags.to_vec();
        self.write(move |cx| {
            let mut found = Vec::new();
            for id in ids {
                let Some(seq) = super::MessageId::parse_seq(&id) else {
                    continue;
                };
                let mailbox: Option<String> = cx
                    .conn
                    .prepare_cached("SELECT mailbox FROM messages WHERE seq = ?1 AND id = ?2")?
                    .query_row(params![seq as i64, id], |r| r.get(0))
                    .ok();
                if let Some(mailbox) = mailbox {
                    rows::write_tags(cx.conn, seq as i64, &tags)?;
                    found.push(Changed {
                        id,
                        mailbox: Arc::from(mailbox),
                    });
                }
            }
            Ok(found)
        })
        .await
    }

    pub async fn tag_counts(&self) -> Result<Vec<(String, usize)>, StoreError> {
        self.read(|conn| {
            let mut index = tag_index::TagIndex::default();
            let mut rows = conn.prepare_cached("SELECT seq, tag FROM message_tags")?;
            let mut rows = rows.query([])?;
            while let Some(row) = rows.next()? {
                let (seq, tag): (i64, String) = (row.get(0)?, row.get(1)?);
                index.add(seq as u64, &[tag]);
            }
            Ok(index.counts())
        })
        .await
    }

    pub async fn rewrite_tag(&self, from: &str, to: Option<&str>) -> Result<(), StoreError> {
        let (from, to) = (from.to_string(), to.map(str::to_string));
        self.write(move |cx| {
            let tagged: Vec<(i64, String)> = cx
                .conn
                .prepare_cached(
                    "SELECT seq, tags FROM messages WHERE seq IN
                     (SELECT seq FROM message_tags WHERE tag = ?1 COLLATE NOCASE)",
                )?
                .query_map([&from], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (seq, tags) in tagged {
                let mut tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
                tags.retain(|t| !t.eq_ignore_ascii_case(&from));
                tags.extend(to.clone());
                super::tags::sort(&mut tags);
                rows::write_tags(cx.conn, seq, &tags)?;
            }
            Ok(())
        })
        .await
    }

    /// Stops the writer after it has committed everything sent to it.
    pub async fn close(&self) {
        self.jobs.lock().take();
        self.reader_slots.close();
        let writer = self.writer.lock().take();
        let checkpointer = self.checkpointer.lock().take();
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(checkpointer) = checkpointer {
                checkpointer.stop();
            }
            if let Some(writer) = writer {
                let _ = writer.join();
            }
        })
        .await;
    }
}

/// The IDs of a selection by ID: a sequence number alone does not prove an
/// ID is ours, so the text is compared too.
fn ids_of(which: Selection<'_>) -> Option<Vec<String>> {
    match which {
        Selection::Ids(ids) => Some(ids.to_vec()),
        _ => None,
    }
}

fn delete_row(cx: &mut Context<'_>, seq: i64) -> rusqlite::Result<Option<Changed>> {
    let Some(gone) = rows::delete(cx.conn, seq)? else {
        return Ok(None);
    };
    cx.totals.total -= 1;
    cx.totals.unread -= usize::from(gone.unread);
    cx.totals.bytes = cx.totals.bytes.saturating_sub(gone.kept);
    cx.freed = true;
    Ok(Some(Changed {
        id: gone.id,
        mailbox: gone.mailbox,
    }))
}

/// Deletes the oldest messages until both caps hold, always keeping the
/// newest (as the memory engine does).
fn evict_over_limits(cx: &mut Context<'_>) -> rusqlite::Result<u64> {
    let mut evicted = 0;
    while cx.limits.exceeded_by(cx.totals.total, cx.totals.bytes) {
        let oldest: i64 = cx
            .conn
            .prepare_cached("SELECT seq FROM messages ORDER BY seq LIMIT 1")?
            .query_row([], |r| r.get(0))?;
        delete_row(cx, oldest)?;
        evicted += 1;
    }
    Ok(evicted)
}
