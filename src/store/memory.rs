//! The memory engine: every message in a `BTreeMap` keyed by arrival
//! sequence, so "newest first" is a reverse iteration and lookups by ID are
//! logarithmic. Each message is an `Arc`, so readers can copy out what they
//! need under a short read lock and do slow work (search, rendering) without
//! blocking ingestion.
//!
//! Methods report what changed; the [`Store`](super::Store) facade turns
//! that into events, so every engine emits the same feed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::RwLock;

use super::id::{IdGenerator, MessageId};
use super::message::{Incoming, StoredMessage, Summary};
use super::search::Query;
use super::{Changed, Counts, Page, StoreLimits, tag_index, tags};

/// How many messages a search looks at per hold of the read lock.
const SCAN_CHUNK: usize = 4096;

/// Up to this many messages, a delete-all frees them at once.
const FREE_INLINE: usize = 10_000;

#[derive(Default)]
struct Inner {
    messages: BTreeMap<u64, Arc<StoredMessage>>,
    bytes: usize,
    unread: usize,
    /// Tag usage; message tags only change under the write lock, with it.
    tags: tag_index::TagIndex,
}

pub(crate) struct MemoryStore {
    inner: RwLock<Inner>,
    ids: IdGenerator,
    limits: StoreLimits,
}

impl MemoryStore {
    pub fn new(limits: StoreLimits) -> MemoryStore {
        MemoryStore {
            inner: RwLock::default(),
            ids: IdGenerator::default(),
            limits,
        }
    }

    /// Stores a summarised message, evicting the oldest to stay within the
    /// caps; returns it with the number evicted.
    pub fn insert(
        &self,
        mailbox: Arc<str>,
        incoming: Incoming,
        summary: Summary,
        tags: Vec<String>,
    ) -> (Arc<StoredMessage>, u64) {
        let id = self.ids.next();
        let message =
            Arc::new(StoredMessage::new(id, mailbox, incoming, summary, tags).with_text_bloom());
        let mut inner = self.inner.write();
        inner.bytes += message.footprint();
        inner.unread += 1;
        inner.tags.add(message.id.seq, &message.tags());
        inner.messages.insert(message.id.seq, message.clone());
        let evicted = self.evict_over_limits(&mut inner);
        (message, evicted)
    }

    /// Drops the oldest messages until both caps hold, always keeping the
    /// newest message even if it alone exceeds the byte cap.
    fn evict_over_limits(&self, inner: &mut Inner) -> u64 {
        let mut evicted = 0;
        while self
            .limits
            .exceeded_by(inner.messages.len(), inner.bytes as u64)
        {
            let Some((_, oldest)) = inner.messages.pop_first() else {
                break;
            };
            Self::account_removal(inner, &oldest);
            evicted += 1;
        }
        evicted
    }

    /// Drops every message received before `micros` (Unix microseconds).
    pub fn evict_before(&self, micros: i64) -> u64 {
        let mut inner = self.inner.write();
        let mut evicted = 0;
        while let Some(entry) = inner.messages.first_entry() {
            if entry.get().created.as_microsecond() >= micros {
                break;
            }
            let oldest = entry.remove();
            Self::account_removal(&mut inner, &oldest);
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
            Some(query) => {
                let mut found = None;
                self.scan(query, |message| {
                    found = Some(message.clone());
                    false
                });
                found
            }
        }
    }

    /// Every message, newest first: a cheap copy of `Arc`s so that callers can
    /// scan without holding the lock.
    fn snapshot(&self) -> Vec<Arc<StoredMessage>> {
        self.inner.read().messages.values().rev().cloned().collect()
    }

    /// Calls `visit` with each message matching `query`, newest first,
    /// until it returns false. Only messages after the query's cursor (a
    /// wait's) are looked at. The scan holds the read lock for
    /// [`SCAN_CHUNK`] messages at a time, so ingestion waits for at most
    /// one chunk, and a message that does not match is never copied out.
    fn scan(&self, query: &Query, mut visit: impl FnMut(&Arc<StoredMessage>) -> bool) {
        let lowest = query
            .arrived_after_seq()
            .map_or(0, |seq| seq.saturating_add(1));
        let mut below = u64::MAX;
        loop {
            let inner = self.inner.read();
            let mut scanned = 0;
            for (seq, message) in inner.messages.range(lowest..below).rev() {
                if scanned == SCAN_CHUNK {
                    break;
                }
                scanned += 1;
                below = *seq;
                if query.matches(message) && !visit(message) {
                    return;
                }
            }
            if scanned < SCAN_CHUNK {
                return;
            }
        }
    }

    pub fn counts(&self) -> Counts {
        let inner = self.inner.read();
        Counts {
            total: inner.messages.len(),
            unread: inner.unread,
            bytes: inner.bytes as u64,
        }
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
        let mut page = Page::default();
        self.scan(query, |message| {
            if page.matched >= start && page.messages.len() < limit {
                page.messages.push(message.clone());
            }
            page.matched += 1;
            page.matched_unread += usize::from(!message.is_read());
            true
        });
        page
    }

    fn matching(&self, query: &Query) -> Vec<Arc<StoredMessage>> {
        let mut matching = Vec::new();
        self.scan(query, |message| {
            matching.push(message.clone());
            true
        });
        matching
    }

    fn by_ids(&self, ids: &[String]) -> Vec<Arc<StoredMessage>> {
        ids.iter().filter_map(|id| self.get(id)).collect()
    }

    /// Sets the read flag of the given messages (all when `ids` is None),
    /// returning the IDs that changed.
    pub fn set_read(&self, ids: Option<&[String]>, read: bool) -> Vec<Changed> {
        let messages = match ids {
            Some(ids) => self.by_ids(ids),
            None => self.snapshot(),
        };
        self.set_read_of(&messages, read)
    }

    pub fn set_read_matching(&self, query: &Query, read: bool) -> Vec<Changed> {
        self.set_read_of(&self.matching(query), read)
    }

    fn set_read_of(&self, messages: &[Arc<StoredMessage>], read: bool) -> Vec<Changed> {
        let mut changed = Vec::new();
        let mut inner = self.inner.write();
        for message in messages {
            // Only messages still in the store count towards `unread`.
            if inner.messages.contains_key(&message.id.seq) && message.set_read(read) {
                if read {
                    inner.unread -= 1;
                } else {
                    inner.unread += 1;
                }
                changed.push(Changed::of(message));
            }
        }
        changed
    }

    /// Deletes messages by ID, ignoring unknown ones; returns the IDs deleted.
    pub fn delete(&self, ids: &[String]) -> Vec<Changed> {
        let mut deleted = Vec::new();
        let mut inner = self.inner.write();
        for id in ids {
            let Some(seq) = MessageId::parse_seq(id) else {
                continue;
            };
            if inner.messages.get(&seq).is_some_and(|m| m.id() == id)
                && let Some(message) = inner.messages.remove(&seq)
            {
                Self::account_removal(&mut inner, &message);
                deleted.push(Changed::of(&message));
            }
        }
        deleted
    }

    pub fn delete_matching(&self, query: &Query) -> Vec<Changed> {
        let ids: Vec<String> = self
            .matching(query)
            .iter()
            .map(|m| m.id().to_string())
            .collect();
        self.delete(&ids)
    }

    /// Empties the store. The messages are freed on a thread of their own,
    /// after the lock is released: freeing a million takes a good part of a
    /// second, which ingestion should not wait for.
    pub fn delete_all(&self) -> usize {
        let old = std::mem::take(&mut *self.inner.write());
        let count = old.messages.len();
        if count > FREE_INLINE {
            std::thread::spawn(move || drop(old));
        }
        count
    }

    /// Replaces the tags of the given messages (already cleaned), returning
    /// the IDs found.
    pub fn set_tags(&self, ids: &[String], tags: &[String]) -> Vec<Changed> {
        let mut found = Vec::new();
        for message in self.by_ids(ids) {
            self.replace_tags(&message, tags.to_vec());
            found.push(Changed::of(&message));
        }
        found
    }

    /// The totals of each mailbox that holds mail.
    pub fn mailbox_counts(&self) -> HashMap<Arc<str>, Counts> {
        let inner = self.inner.read();
        let mut counts: HashMap<Arc<str>, Counts> = HashMap::new();
        for message in inner.messages.values() {
            let entry = counts.entry(message.mailbox.clone()).or_default();
            entry.total += 1;
            entry.unread += usize::from(!message.is_read());
            entry.bytes += message.footprint() as u64;
        }
        counts
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

    /// Replaces tag `from` (matched case-insensitively) by `to`, or removes
    /// it, on every message.
    pub fn rewrite_tag(&self, from: &str, to: Option<&str>) {
        for message in self.snapshot() {
            if message.has_tag(from) {
                let mut tags = message.tags();
                tags.retain(|t| !t.eq_ignore_ascii_case(from));
                tags.extend(to.map(str::to_string));
                tags::sort(&mut tags);
                self.replace_tags(&message, tags);
            }
        }
    }
}
