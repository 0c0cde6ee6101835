//! Storage: one [`Store`] facade over interchangeable engines.
//!
//! Every engine (memory, SQLite) offers the same operations with the same
//! results; the facade picks the engine at start, turns what each operation
//! changed into [`Event`]s on one change feed, and keeps the API and the
//! WebSocket ignorant of where messages live. Engines are an enum rather
//! than a trait object: the set is closed, and the memory engine's calls stay
//! direct and synchronous underneath the async surface.

mod bloom;
pub(crate) mod deliveries;
pub(crate) mod detail;
mod encoded;
mod events;
mod id;
pub mod mailbox;
mod mailboxes;
mod memory;
mod message;
pub(crate) mod parts;
mod postgres;
mod raw;
mod scoped;
pub(crate) mod search;
mod sqlite;
pub mod summary;
mod tag_index;
pub(crate) mod tags;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::broadcast;

pub use events::Event;
pub(crate) use id::IdGenerator;
pub use id::{ID_LEN, MessageId, cursor_text};
pub use mailbox::{CreateRefusal, DEFAULT_MAILBOX, Mailbox, Scope, canonical_name};
pub use message::{Address, Envelope, Incoming, StoredMessage, Summary, TlsInfo, Transcript};
pub use scoped::ScopedStore;
pub use search::{Literal, Query};

use memory::MemoryStore;
use postgres::PgStore;
use sqlite::SqliteStore;

/// Reading a message at least this large (decompressing, parsing) takes long
/// enough that async callers should do it on a blocking thread.
pub const LARGE_MESSAGE_BYTES: usize = 256 * 1024;

/// More deletions than this at once are announced as one `Pruned` event
/// (clients refetch) instead of one event per message.
const MAX_DELETE_EVENTS: usize = 200;

/// Caps that keep the store bounded.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    /// Most messages kept; 0 means unlimited.
    pub max_messages: usize,
    /// Most bytes kept (raw as kept plus index); 0 means unlimited.
    pub max_bytes: usize,
    /// Messages older than this are deleted; None keeps them.
    pub max_age: Option<Duration>,
    /// Most messages kept in any one mailbox; 0 means unlimited.
    pub max_per_mailbox: usize,
    /// Most mailboxes; 0 means unlimited.
    pub max_mailboxes: usize,
}

impl StoreLimits {
    /// Whether a store of `count` messages and `bytes` bytes is over the
    /// count or byte cap. The newest message is always kept, even alone
    /// over the byte cap, so one message is never over.
    pub(crate) fn exceeded_by(&self, count: usize, bytes: u64) -> bool {
        count > 1
            && ((self.max_messages > 0 && count > self.max_messages)
                || (self.max_bytes > 0 && bytes > self.max_bytes as u64))
    }
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_messages: 1000,
            max_bytes: 512 * 1024 * 1024,
            max_age: None,
            max_per_mailbox: 0,
            max_mailboxes: DEFAULT_MAX_MAILBOXES,
        }
    }
}

/// Mailboxes allowed unless `--max-mailboxes` says otherwise: far more than
/// any team or CI run uses, few enough that a runaway script cannot fill
/// memory with empty mailboxes.
pub const DEFAULT_MAX_MAILBOXES: usize = 50_000;

/// Where messages are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// In this process's memory: fastest, gone on restart.
    #[default]
    Memory,
    /// An SQLite database file: survives restarts.
    Sqlite(PathBuf),
    /// A PostgreSQL database that several processes can share.
    Postgres(PostgresUrl),
}

/// A `postgres://` URL (or libpq `key=value` words), checked; its `Debug`
/// form leaves the password out, so settings can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// Checks the URL (the error never quotes it).
    pub fn parse(url: &str) -> Result<PostgresUrl, String> {
        postgres::schema::parse(url)?;
        Ok(PostgresUrl(url.to_string()))
    }

    /// The URL without its password.
    pub fn redacted(&self) -> String {
        postgres::schema::parse(&self.0)
            .map(|config| postgres::schema::redacted(&config))
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted())
    }
}

/// Why the store could not be opened; the message names the database
/// (never a password).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The SQLite file was refused.
    #[error(transparent)]
    Sqlite(#[from] sqlite::OpenError),
    /// PostgreSQL could not be reached or its schema was refused.
    #[error("{0}")]
    Postgres(String),
}

/// A store operation that could not be carried out. Nothing was changed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Out of disk space (or I/O failing): later writes may succeed.
    #[error("storage full: {0}")]
    Full(String),
    /// The engine cannot be reached or failed unexpectedly.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// The totals a listing reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Messages stored.
    pub total: usize,
    /// Of those, the ones not marked read.
    pub unread: usize,
    /// Bytes counted against the byte cap.
    pub bytes: u64,
}

/// The page of a listing: the slice asked for plus the totals around it.
#[derive(Default)]
pub struct Page {
    /// The messages asked for, newest first.
    pub messages: Vec<Arc<StoredMessage>>,
    /// How many messages matched (all of them, for a plain listing).
    pub matched: usize,
    /// How many of the matched messages are unread.
    pub matched_unread: usize,
}

/// A message an operation changed, and the mailbox it is in (so the change
/// feed can be narrowed to a mailbox).
#[derive(Clone, Debug)]
pub struct Changed {
    /// The message's ID.
    pub id: String,
    /// Its mailbox.
    pub mailbox: Arc<str>,
}

impl Changed {
    fn of(message: &StoredMessage) -> Changed {
        Changed {
            id: message.id().to_string(),
            mailbox: message.mailbox.clone(),
        }
    }
}

/// Which messages an operation applies to.
#[derive(Clone, Copy)]
pub enum Selection<'a> {
    /// Every message.
    All,
    /// The messages with these IDs; unknown IDs are ignored.
    Ids(&'a [String]),
    /// The messages a search matches.
    Matching(&'a Query),
}

enum Backend {
    Memory(MemoryStore),
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The messages of a running mailcatch, whichever [`Engine`] keeps them.
/// Every change it makes is announced as an [`Event`] on the change feed.
pub struct Store {
    backend: Backend,
    limits: StoreLimits,
    /// Shared with the PostgreSQL engine's feed, which reloads it when
    /// another node changes the mailboxes.
    mailboxes: Arc<mailbox::Registry>,
    /// Held while a mailbox is created, so two creations of one name
    /// cannot both write it.
    creating: tokio::sync::Mutex<()>,
    events: broadcast::Sender<Event>,
    deleted: AtomicU64,
}

impl Store {
    /// Opens the engine; events go to `events`. PostgreSQL needs
    /// [`Store::connect`].
    pub(crate) fn open(
        engine: &Engine,
        limits: StoreLimits,
        events: broadcast::Sender<Event>,
    ) -> Result<Store, OpenError> {
        let backend = match engine {
            Engine::Memory => Backend::Memory(MemoryStore::new(limits)),
            Engine::Sqlite(path) => Backend::Sqlite(SqliteStore::open(path, limits)?),
            Engine::Postgres(_) => {
                return Err(OpenError::Postgres(
                    "PostgreSQL is opened asynchronously".into(),
                ));
            }
        };
        Ok(Store::around(backend, limits, events))
    }

    /// Opens any engine, connecting to PostgreSQL if it is the one.
    pub(crate) async fn connect(
        engine: &Engine,
        limits: StoreLimits,
        events: broadcast::Sender<Event>,
    ) -> Result<Store, OpenError> {
        let Engine::Postgres(url) = engine else {
            return Store::open(engine, limits, events);
        };
        let db = PgStore::open(&url.0, limits)
            .await
            .map_err(OpenError::Postgres)?;
        let store = Store::around(Backend::Postgres(db), limits, events.clone());
        if let Backend::Postgres(db) = &store.backend {
            db.follow(events, store.mailboxes.clone()).await;
        }
        Ok(store)
    }

    fn around(backend: Backend, limits: StoreLimits, events: broadcast::Sender<Event>) -> Store {
        let loaded = match &backend {
            Backend::Memory(_) => Vec::new(),
            Backend::Sqlite(db) => db.take_loaded_mailboxes(),
            Backend::Postgres(db) => db.take_loaded_mailboxes(),
        };
        Store {
            backend,
            limits,
            mailboxes: Arc::new(mailbox::Registry::new(loaded, limits.max_mailboxes)),
            creating: tokio::sync::Mutex::new(()),
            events,
            deleted: AtomicU64::new(0),
        }
    }

    /// An in-memory store with its own feed: for tests and tools.
    pub fn in_memory(limits: StoreLimits) -> Store {
        let (events, _) = broadcast::channel(16);
        Store::open(&Engine::Memory, limits, events).expect("the memory engine always opens")
    }

    /// The caps the store was opened with.
    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// A short name of the engine for `/api/v1/info`, and its file if any.
    pub fn describe(&self) -> (&'static str, Option<&std::path::Path>) {
        match &self.backend {
            Backend::Memory(_) => ("memory", None),
            Backend::Sqlite(db) => ("sqlite", Some(db.path())),
            Backend::Postgres(_) => ("postgres", None),
        }
    }

    /// Messages deleted since start (by request, by cap or by age).
    pub fn deleted(&self) -> u64 {
        self.deleted.load(Ordering::Relaxed)
    }

    /// Announces a change on this node's feed (the PostgreSQL engine has
    /// already told the other nodes, in the change's own transaction).
    pub(super) fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn count_deleted(&self, count: u64) {
        self.deleted.fetch_add(count, Ordering::Relaxed);
    }

    /// Announces deleted messages: one event each, or one refetch for many.
    fn publish_deleted(&self, deleted: Vec<Changed>) {
        self.count_deleted(deleted.len() as u64);
        if deleted.len() > MAX_DELETE_EVENTS {
            self.publish(Event::Pruned { mailbox: None });
        } else {
            for Changed { id, mailbox } in deleted {
                self.publish(Event::Deleted { id, mailbox });
            }
        }
    }

    /// Stores a summarised message in `mailbox` (durably, for a database
    /// engine) and evicts the oldest beyond the caps. When this returns the
    /// message is listed and searchable.
    pub async fn insert(
        &self,
        mailbox: Arc<str>,
        incoming: Incoming,
        summary: Summary,
        tags: Vec<String>,
    ) -> Result<Arc<StoredMessage>, StoreError> {
        let (message, evicted) = match &self.backend {
            Backend::Memory(mem) => mem.insert(mailbox, incoming, summary, tags),
            Backend::Sqlite(db) => db.insert(mailbox, incoming, summary, tags).await?,
            Backend::Postgres(db) => db.insert(mailbox, incoming, summary, tags).await?,
        };
        self.publish(Event::New(message.clone()));
        if evicted > 0 {
            self.count_deleted(evicted);
            self.publish(Event::Pruned { mailbox: None });
        }
        self.evict_over_mailbox_cap(&message.mailbox).await?;
        Ok(message)
    }

    /// Deletes the oldest messages of `mailbox` beyond `--mailbox-max`.
    async fn evict_over_mailbox_cap(&self, mailbox: &Arc<str>) -> Result<(), StoreError> {
        let cap = self.limits.max_per_mailbox;
        if cap == 0 {
            return Ok(());
        }
        let query = Query::everything().scoped(&Scope::one(mailbox.clone()));
        let over = self.search(&query, cap, usize::MAX).await?;
        if !over.messages.is_empty() {
            let ids: Vec<String> = over.messages.iter().map(|m| m.id().to_string()).collect();
            self.delete(Selection::Ids(&ids)).await?;
        }
        Ok(())
    }

    /// The message with this ID, if it is stored.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.get(id)),
            Backend::Sqlite(db) => db.get(id).await,
            Backend::Postgres(db) => db.get(id).await,
        }
    }

    /// The message's raw bytes, exactly as received.
    pub async fn raw(&self, message: &Arc<StoredMessage>) -> Result<Bytes, StoreError> {
        match &self.backend {
            Backend::Memory(_) if message.size() < LARGE_MESSAGE_BYTES => Ok(message.raw()),
            Backend::Memory(_) => {
                // Decompressing megabytes must not stall the async workers.
                let message = message.clone();
                tokio::task::spawn_blocking(move || message.raw())
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("reading failed: {e}")))
            }
            Backend::Sqlite(db) => db.raw(message.id.seq).await,
            Backend::Postgres(db) => db.raw(message.id.seq).await,
        }
    }

    /// The newest message, or the newest matching `query`.
    pub async fn latest(
        &self,
        query: Option<&Query>,
    ) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.latest(query)),
            Backend::Sqlite(db) => db.latest(query).await,
            Backend::Postgres(db) => db.latest(query).await,
        }
    }

    /// The totals over every stored message.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.counts()),
            Backend::Sqlite(db) => Ok(db.counts()),
            Backend::Postgres(db) => db.counts().await,
        }
    }

    /// Newest first, skipping `start`; `limit` 0 means all. `before` keeps
    /// only messages received before that Unix time in microseconds.
    pub async fn list(
        &self,
        start: usize,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Page, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.list(start, limit, before)),
            Backend::Sqlite(db) => db.list(start, limit, before).await,
            Backend::Postgres(db) => db.list(start, limit, before).await,
        }
    }

    /// Newest-first matches of `query`, sliced by `start` and `limit`.
    pub async fn search(
        &self,
        query: &Query,
        start: usize,
        limit: usize,
    ) -> Result<Page, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.search(query, start, limit)),
            Backend::Sqlite(db) => db.search(query, start, limit).await,
            Backend::Postgres(db) => db.search(query, start, limit).await,
        }
    }

    /// Sets the read flag of the selected messages; returns how many changed.
    pub async fn set_read(&self, which: Selection<'_>, read: bool) -> Result<usize, StoreError> {
        let changed = match (&self.backend, which) {
            (Backend::Memory(mem), Selection::All) => mem.set_read(None, read),
            (Backend::Memory(mem), Selection::Ids(ids)) => mem.set_read(Some(ids), read),
            (Backend::Memory(mem), Selection::Matching(q)) => mem.set_read_matching(q, read),
            (Backend::Sqlite(db), which) => db.set_read(which, read).await?,
            (Backend::Postgres(db), which) => db.set_read(which, read).await?,
        };
        let count = changed.len();
        if count > MAX_DELETE_EVENTS {
            self.publish(Event::Pruned { mailbox: None });
        } else {
            for Changed { id, mailbox } in changed {
                self.publish(Event::Read { id, mailbox, read });
            }
        }
        Ok(count)
    }

    /// Marks one message read, the copy in hand included (a database
    /// engine's copies are snapshots).
    pub async fn mark_read(&self, message: &StoredMessage) -> Result<(), StoreError> {
        let ids = [message.id().to_string()];
        self.set_read(Selection::Ids(&ids), true).await?;
        message.set_read(true);
        Ok(())
    }

    /// Deletes the selected messages; returns how many went.
    pub async fn delete(&self, which: Selection<'_>) -> Result<usize, StoreError> {
        let deleted = match (&self.backend, which) {
            (Backend::Memory(mem), Selection::All) => {
                let count = mem.delete_all();
                self.truncated(count);
                return Ok(count);
            }
            (Backend::Sqlite(db), Selection::All) => {
                let count = db.delete_all().await?;
                self.truncated(count);
                return Ok(count);
            }
            (Backend::Postgres(db), Selection::All) => {
                let count = db.delete_all().await?;
                self.truncated(count);
                return Ok(count);
            }
            (Backend::Memory(mem), Selection::Ids(ids)) => mem.delete(ids),
            (Backend::Memory(mem), Selection::Matching(q)) => mem.delete_matching(q),
            (Backend::Sqlite(db), which) => db.delete(which).await?,
            (Backend::Postgres(db), which) => db.delete(which).await?,
        };
        let count = deleted.len();
        self.publish_deleted(deleted);
        Ok(count)
    }

    /// Deletes every message of one mailbox, announced as that mailbox's
    /// truncation (what its own clients expect after "delete all").
    pub(super) async fn empty_mailbox(&self, mailbox: &Arc<str>) -> Result<usize, StoreError> {
        let query = Query::everything().scoped(&Scope::one(mailbox.clone()));
        let deleted = match &self.backend {
            Backend::Memory(mem) => mem.delete_matching(&query),
            Backend::Sqlite(db) => db.delete(Selection::Matching(&query)).await?,
            Backend::Postgres(db) => {
                let count = db.empty_mailbox(mailbox).await?;
                self.count_deleted(count as u64);
                self.publish(Event::Truncated {
                    mailbox: Some(mailbox.clone()),
                });
                return Ok(count);
            }
        };
        self.count_deleted(deleted.len() as u64);
        self.publish(Event::Truncated {
            mailbox: Some(mailbox.clone()),
        });
        Ok(deleted.len())
    }

    fn truncated(&self, count: usize) {
        self.count_deleted(count as u64);
        self.publish(Event::Truncated { mailbox: None });
    }

    /// Deletes messages older than the `max_age` cap, if one is set.
    pub async fn evict_expired(&self) -> Result<u64, StoreError> {
        let Some(age) = self.limits.max_age else {
            return Ok(0);
        };
        let cutoff = jiff::Timestamp::now().as_microsecond()
            - i64::try_from(age.as_micros()).unwrap_or(i64::MAX);
        let evicted = match &self.backend {
            Backend::Memory(mem) => mem.evict_before(cutoff),
            Backend::Sqlite(db) => db.evict_before(cutoff).await?,
            Backend::Postgres(db) => db.evict_before(cutoff).await?,
        };
        if evicted > 0 {
            self.count_deleted(evicted);
            self.publish(Event::Pruned { mailbox: None });
        }
        Ok(evicted)
    }

    /// Replaces the tags of the given messages.
    pub async fn set_tags(&self, ids: &[String], names: &[String]) -> Result<(), StoreError> {
        let tags = tags::clean_all(names.iter().map(String::as_str));
        let found = match &self.backend {
            Backend::Memory(mem) => mem.set_tags(ids, &tags),
            Backend::Sqlite(db) => db.set_tags(ids, &tags).await?,
            Backend::Postgres(db) => db.set_tags(ids, &tags).await?,
        };
        for Changed { id, mailbox } in found {
            self.publish(Event::Tags {
                id,
                mailbox,
                tags: tags.clone(),
            });
        }
        Ok(())
    }

    /// Every tag in use with its message count, sorted case-insensitively.
    pub async fn tag_counts(&self) -> Result<Vec<(String, usize)>, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.tag_counts()),
            Backend::Sqlite(db) => db.tag_counts().await,
            Backend::Postgres(db) => db.tag_counts().await,
        }
    }

    /// Replaces tag `from` by `to`, or removes it, on every message.
    pub(super) async fn rewrite_tag(&self, from: &str, to: Option<&str>) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Memory(mem) => mem.rewrite_tag(from, to),
            Backend::Sqlite(db) => db.rewrite_tag(from, to).await?,
            Backend::Postgres(db) => db.rewrite_tag(from, to).await?,
        }
        self.publish(Event::Pruned { mailbox: None });
        Ok(())
    }

    /// Whether the store can take mail now: a database server that does not
    /// answer within two seconds is not ready (the file and memory engines
    /// always are while open).
    pub async fn ready(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(db) => {
                let timeout = std::time::Duration::from_secs(2);
                tokio::time::timeout(timeout, db.ping())
                    .await
                    .map_err(|_| StoreError::Unavailable("database: no answer in 2 s".into()))?
            }
            Backend::Sqlite(_) | Backend::Memory(_) => Ok(()),
        }
    }

    /// Waits until every acknowledged write is on disk and the engine's
    /// threads have stopped.
    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
            Backend::Memory(_) => {}
        }
    }
}

/// A message summarised and kept exactly as the memory engine keeps it, but
/// outside any store, with its raw bytes read back: for fuzzing and tests.
#[doc(hidden)]
pub fn standalone(incoming: Incoming) -> (Arc<StoredMessage>, Bytes) {
    let summary = summary::summarize(&incoming.raw, &incoming.envelope);
    let tags = tags::clean_all(summary.auto_tags.iter().map(String::as_str));
    let mailbox = Arc::from(DEFAULT_MAILBOX);
    let (message, _) =
        MemoryStore::new(StoreLimits::default()).insert(mailbox, incoming, summary, tags);
    let raw = message.raw();
    (message, raw)
}

#[cfg(test)]
mod tests;
