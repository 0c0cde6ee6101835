//! The in-memory message store: the single source of truth.
//!
//! Messages live in a `BTreeMap` keyed by arrival sequence, so "newest first"
//! is a reverse iteration and lookups by ID are logarithmic. Each message is
//! an `Arc`, so readers can copy out what they need under a short read lock
//! and do slow work (search, rendering) without blocking ingestion.

pub mod detail;
mod events;
mod id;
mod message;
pub mod parts;
mod raw;
pub mod search;
pub mod summary;
mod tag_index;
pub mod tags;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;
use tokio::sync::broadcast;

pub use events::Event;
pub use id::{ID_LEN, MessageId};
pub use message::{Address, Envelope, Incoming, StoredMessage, Summary, TlsInfo, Transcript};
pub use search::Query;

/// Reading a message at least this large (decompressing, parsing) takes long
/// enough that async callers should do it on a blocking thread.
pub const LARGE_MESSAGE_BYTES: usize = 256 * 1024;

/// Caps that keep the store's memory bounded.
#[derive(Clone, Copy, Debug)]
pub struct StoreLimits {
    /// Most messages kept; 0 means unlimited.
    pub max_messages: usize,
    /// Most bytes kept (raw plus index); 0 means unlimited.
    pub max_bytes: usize,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_messages: 1000,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

/// Running totals shown by `/api/v1/info`.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub accepted_bytes: AtomicU64,
    pub rejected: AtomicU64,
    pub deleted: AtomicU64,
}

#[derive(Default)]
struct Inner {
    messages: BTreeMap<u64, Arc<StoredMessage>>,
    bytes: usize,
    unread: usize,
    /// Tag usage; message tags only change under the write lock, with it.
    tags: tag_index::TagIndex,
}

pub struct Store {
    inner: RwLock<Inner>,
    ids: id::IdGenerator,
    limits: StoreLimits,
    events: broadcast::Sender<Event>,
    pub counters: Counters,
}

/// The page of a listing: the slice asked for plus the totals around it.
pub struct Page {
    pub messages: Vec<Arc<StoredMessage>>,
    /// How many messages matched (all of them, for a plain listing).
    pub matched: usize,
    pub matched_unread: usize,
}

impl Store {
    pub fn new(limits: StoreLimits) -> Arc<Store> {
        let (events, _) = broadcast::channel(4096);
        Arc::new(Store {
            inner: RwLock::default(),
            ids: id::IdGenerator::default(),
            limits,
            events,
            counters: Counters::default(),
        })
    }

    pub fn limits(&self) -> StoreLimits {
        self.limits
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Publishes an event; having no listeners is normal.
    pub fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Summarises and stores a message, evicting the oldest to stay within
    /// limits. Parsing happens before the lock is taken.
    pub fn insert(&self, incoming: Incoming) -> Arc<StoredMessage> {
        self.insert_tagged(incoming, Vec::new())
    }

    /// As [`insert`](Self::insert), adding `extra_tags` to the automatic ones.
    pub fn insert_tagged(&self, incoming: Incoming, extra_tags: Vec<String>) -> Arc<StoredMessage> {
        let summary = summary::summarize(&incoming.raw, &incoming.envelope);
        let tags = tags::clean_all(
            summary
                .auto_tags
                .iter()
                .chain(&extra_tags)
                .map(String::as_str),
        );
        let message = Arc::new(StoredMessage::new(self.ids.next(), incoming, summary, tags));
        let evicted = {
            let mut inner = self.inner.write();
            inner.bytes += message.footprint();
            inner.unread += 1;
            inner.tags.add(message.id.seq, &message.tags());
            inner.messages.insert(message.id.seq, message.clone());
            self.evict_over_limits(&mut inner)
        };
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.counters
            .accepted_bytes
            .fetch_add(message.size() as u64, Ordering::Relaxed);
        self.publish(Event::New(message.clone()));
        if evicted > 0 {
            self.counters.deleted.fetch_add(evicted, Ordering::Relaxed);
            self.publish(Event::Pruned);
        }
        message
    }

    /// Drops the oldest messages until both caps hold, always keeping the
    /// newest message even if it alone exceeds the byte cap.
    fn evict_over_limits(&self, inner: &mut Inner) -> u64 {
        let StoreLimits {
            max_messages,
            max_bytes,
        } = self.limits;
        let mut evicted = 0;
        while inner.messages.len() > 1
            && ((max_messages > 0 && inner.messages.len() > max_messages)
                || (max_bytes > 0 && inner.bytes > max_bytes))
        {
            let Some((_, oldest)) = inner.messages.pop_first() else {
                break;
            };
            Self::account_removal(inner, &oldest);
            evicted += 1;
        }
        evicted
    }

    fn account_removal(inner: &mut Inner, message: &StoredMessage) {
        inner.bytes -= message.footprint();
        inner.tags.remove(message.id.seq, &message.tags());
        if !message.is_read() {
            inner.unread -= 1;
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<StoredMessage>> {
        let seq = MessageId::parse_seq(id)?;
        let inner = self.inner.read();
        inner.messages.get(&seq).filter(|m| m.id() == id).cloned()
    }

    /// The newest message, or the newest matching `query`.
    pub fn latest(&self, query: Option<&Query>) -> Option<Arc<StoredMessage>> {
        match query {
            None => self.inner.read().messages.values().next_back().cloned(),
            Some(query) => self.snapshot().into_iter().find(|m| query.matches(m)),
        }
    }

    /// Every message, newest first: a cheap copy of `Arc`s so that callers can
    /// scan without holding the lock.
    pub fn snapshot(&self) -> Vec<Arc<StoredMessage>> {
        self.inner.read().messages.values().rev().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.inner.read().messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn unread(&self) -> usize {
        self.inner.read().unread
    }

    /// Bytes currently accounted against the byte cap.
    pub fn bytes(&self) -> usize {
        self.inner.read().bytes
    }

    /// Newest first, skipping `start`; `limit` 0 means all. `before` keeps
    /// only messages received before that Unix time in microseconds.
    pub fn list(&self, start: usize, limit: usize, before: Option<i64>) -> Page {
        let inner = self.inner.read();
        let limit = if limit == 0 { usize::MAX } else { limit };
        let messages = inner
            .messages
            .values()
            .rev()
            .filter(|m| before.is_none_or(|b| m.created.as_microsecond() < b))
            .skip(start)
            .take(limit)
            .cloned()
            .collect();
        Page {
            messages,
            matched: inner.messages.len(),
            matched_unread: inner.unread,
        }
    }

    /// Newest-first matches of `query`, sliced by `start` and `limit`.
    pub fn search(&self, query: &Query, start: usize, limit: usize) -> Page {
        let mut matched = 0;
        let mut matched_unread = 0;
        let mut messages = Vec::new();
        for message in self.snapshot() {
            if !query.matches(&message) {
                continue;
            }
            if matched >= start && messages.len() < limit {
                messages.push(message.clone());
            }
            matched += 1;
            matched_unread += usize::from(!message.is_read());
        }
        Page {
            messages,
            matched,
            matched_unread,
        }
    }

    /// Sets the read flag of the given messages, returning how many changed.
    pub fn set_read<'a>(
        &self,
        messages: impl IntoIterator<Item = &'a Arc<StoredMessage>>,
        read: bool,
    ) -> usize {
        let mut changed = Vec::new();
        {
            let mut inner = self.inner.write();
            for message in messages {
                // Only messages still in the store count towards `unread`.
                if inner.messages.contains_key(&message.id.seq) && message.set_read(read) {
                    if read {
                        inner.unread -= 1;
                    } else {
                        inner.unread += 1;
                    }
                    changed.push(message.id().to_string());
                }
            }
        }
        let count = changed.len();
        for id in changed {
            self.publish(Event::Read { id, read });
        }
        count
    }

    /// Sets the read flag of every message.
    pub fn set_read_all(&self, read: bool) -> usize {
        let all = self.snapshot();
        self.set_read(&all, read)
    }

    /// Deletes messages by ID, ignoring unknown ones; returns how many went.
    pub fn delete<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let mut deleted = Vec::new();
        {
            let mut inner = self.inner.write();
            for id in ids {
                let Some(seq) = MessageId::parse_seq(id) else {
                    continue;
                };
                if inner.messages.get(&seq).is_some_and(|m| m.id() == id)
                    && let Some(message) = inner.messages.remove(&seq)
                {
                    Self::account_removal(&mut inner, &message);
                    deleted.push(id.to_string());
                }
            }
        }
        let count = deleted.len();
        self.counters
            .deleted
            .fetch_add(count as u64, Ordering::Relaxed);
        // Per-message events for small deletions; one "refetch" for large ones.
        if count > 200 {
            self.publish(Event::Pruned);
        } else {
            for id in deleted {
                self.publish(Event::Deleted { id });
            }
        }
        count
    }

    pub fn delete_all(&self) -> usize {
        let count = {
            let mut inner = self.inner.write();
            let count = inner.messages.len();
            *inner = Inner::default();
            count
        };
        self.counters
            .deleted
            .fetch_add(count as u64, Ordering::Relaxed);
        self.publish(Event::Truncated);
        count
    }

    /// Replaces the tags of the given messages.
    pub fn set_tags(&self, ids: &[String], names: &[String]) {
        let tags = tags::clean_all(names.iter().map(String::as_str));
        for id in ids {
            if let Some(message) = self.get(id) {
                self.replace_tags(&message, tags.clone());
                self.publish(Event::Tags {
                    id: id.clone(),
                    tags: tags.clone(),
                });
            }
        }
    }

    /// Replaces one message's tags, keeping the tag index in step (a
    /// message no longer in the store is simply not indexed any more).
    fn replace_tags(&self, message: &StoredMessage, tags: Vec<String>) {
        let mut inner = self.inner.write();
        let indexed = inner
            .messages
            .get(&message.id.seq)
            .is_some_and(|stored| std::ptr::eq(&**stored, message));
        let old = message.replace_tags(tags);
        if indexed {
            inner.tags.remove(message.id.seq, &old);
            inner.tags.add(message.id.seq, &message.tags());
        }
    }

    /// Every tag in use with its message count, sorted case-insensitively.
    pub fn tag_counts(&self) -> Vec<(String, usize)> {
        self.inner.read().tags.counts()
    }

    /// Renames a tag on every message. Errors carry Mailpit's messages.
    pub fn rename_tag(&self, from: &str, to: &str) -> Result<(), String> {
        let new = tags::clean(to).ok_or_else(|| format!("invalid tag name: {to}"))?;
        let existing = self.tag_counts();
        if !existing.iter().any(|(t, _)| t.eq_ignore_ascii_case(from)) {
            return Err(format!("tag not found: {from}"));
        }
        if new == from {
            return Ok(());
        }
        if !new.eq_ignore_ascii_case(from)
            && existing.iter().any(|(t, _)| t.eq_ignore_ascii_case(&new))
        {
            return Err(format!("tag already exists: {new}"));
        }
        self.rewrite_tag(from, Some(&new));
        Ok(())
    }

    pub fn delete_tag(&self, name: &str) -> Result<(), String> {
        if !self
            .tag_counts()
            .iter()
            .any(|(t, _)| t.eq_ignore_ascii_case(name))
        {
            return Err(format!("tag not found: {name}"));
        }
        self.rewrite_tag(name, None);
        Ok(())
    }

    fn rewrite_tag(&self, from: &str, to: Option<&str>) {
        for message in self.snapshot() {
            if message.has_tag(from) {
                let mut tags = message.tags();
                tags.retain(|t| !t.eq_ignore_ascii_case(from));
                tags.extend(to.map(str::to_string));
                tags::sort(&mut tags);
                self.replace_tags(&message, tags);
            }
        }
        self.publish(Event::Pruned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(subject: &str, body_len: usize) -> Incoming {
        let raw = format!(
            "From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\n{}\r\n",
            "x".repeat(body_len)
        );
        Incoming {
            raw: raw.into(),
            ..Incoming::default()
        }
    }

    #[test]
    fn lists_newest_first_and_evicts_oldest_by_count() {
        let store = Store::new(StoreLimits {
            max_messages: 3,
            max_bytes: 0,
        });
        for i in 0..5 {
            store.insert(incoming(&format!("m{i}"), 10));
        }
        let page = store.list(0, 0, None);
        let subjects: Vec<_> = page
            .messages
            .iter()
            .map(|m| m.summary.subject.clone())
            .collect();
        assert_eq!(subjects, ["m4", "m3", "m2"]);
        assert_eq!(store.unread(), 3);
    }

    #[test]
    fn evicts_by_bytes_but_keeps_the_newest() {
        let store = Store::new(StoreLimits {
            max_messages: 0,
            max_bytes: 10_000,
        });
        for i in 0..20 {
            store.insert(incoming(&format!("m{i}"), 2_000));
        }
        assert!(store.bytes() <= 10_000);
        assert_eq!(store.latest(None).unwrap().summary.subject, "m19");
        let huge = store.insert(incoming("huge", 50_000));
        assert_eq!(store.len(), 1);
        assert_eq!(store.latest(None).unwrap().id(), huge.id());
    }

    #[test]
    fn read_state_and_deletion_keep_counts_right() {
        let store = Store::new(StoreLimits::default());
        let a = store.insert(incoming("a", 1));
        let b = store.insert(incoming("b", 1));
        assert_eq!(store.set_read([&a], true), 1);
        assert_eq!(store.set_read([&a], true), 0);
        assert_eq!(store.unread(), 1);
        assert_eq!(store.delete([a.id(), "nonexistent"]), 1);
        assert_eq!(store.unread(), 1);
        assert!(store.get(a.id()).is_none());
        assert!(store.get(b.id()).is_some());
        store.delete_all();
        assert_eq!((store.len(), store.unread(), store.bytes()), (0, 0, 0));
    }

    /// What `tag_counts` reported before it had an index: a full scan.
    fn scanned_tag_counts(store: &Store) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for message in store.snapshot() {
            for tag in message.tags() {
                counts.entry(tag.to_ascii_lowercase()).or_insert((tag, 0)).1 += 1;
            }
        }
        counts.into_values().collect()
    }

    #[test]
    fn tag_counts_stay_in_step_with_every_change() {
        let store = Store::new(StoreLimits {
            max_messages: 4,
            max_bytes: 0,
        });
        let tagged = |n: usize, tags: &str| Incoming {
            raw: format!("Subject: m{n}\r\nX-Tags: {tags}\r\n\r\nx\r\n").into(),
            ..Incoming::default()
        };
        let check = |store: &Store| assert_eq!(store.tag_counts(), scanned_tag_counts(store));
        let a = store.insert(tagged(0, "Alpha, beta"));
        store.insert(tagged(1, "alpha"));
        check(&store);
        store.set_tags(&[a.id().to_string()], &["Gamma".into(), "beta".into()]);
        check(&store);
        store.rename_tag("beta", "Delta").unwrap();
        check(&store);
        for n in 2..6 {
            store.insert(tagged(n, "ALPHA, epsilon"));
            check(&store);
        }
        let newest = store.latest(None).unwrap();
        store.delete([newest.id()]);
        check(&store);
        store.delete_tag("epsilon").unwrap();
        check(&store);
        // Tagging a message already evicted changes nothing.
        store.set_tags(&[a.id().to_string()], &["ghost".into()]);
        check(&store);
        store.delete_all();
        assert!(store.tag_counts().is_empty());
    }

    #[test]
    fn tags_rename_and_delete() {
        let store = Store::new(StoreLimits::default());
        let a = store.insert(incoming("a", 1));
        store.set_tags(&[a.id().to_string()], &["One".into(), "two".into()]);
        assert_eq!(a.tags(), ["One", "two"]);
        assert_eq!(store.rename_tag("one", "three"), Ok(()));
        assert_eq!(a.tags(), ["three", "two"]);
        assert!(store.rename_tag("missing", "x").is_err());
        assert_eq!(store.delete_tag("TWO"), Ok(()));
        assert_eq!(a.tags(), ["three"]);
    }

    #[test]
    fn a_lagging_listener_learns_it_lagged_and_loses_no_mail() {
        let store = Store::new(StoreLimits {
            max_messages: 0,
            max_bytes: 0,
        });
        let mut listener = store.subscribe();
        for i in 0..5000 {
            store.insert(incoming(&format!("m{i}"), 1));
        }
        assert!(matches!(
            listener.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        assert_eq!(store.len(), 5000);
    }
}
