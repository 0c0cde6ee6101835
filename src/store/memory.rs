//! The memory engine: every message in a `BTreeMap` keyed by arrival
//! sequence, so "newest first" is a reverse iteration and lookups by ID are
//! logarithmic. Each message is an `Arc`, so readers can copy out what they
//! need under a short read lock and do slow work (search, rendering) without
//! blocking ingestion.
//!
//! Methods report what changed; the [`Store`](super::Store) facade turns
//! that into events, so every engine emits the same feed.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
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

/// From this many stored messages on, a search splits its scan between
/// threads: below it a scan takes a few milliseconds and a thread would
/// cost more than it saves.
const PARALLEL_SEARCH_FROM: usize = 50_000;

/// The most threads one search uses.
const MAX_SEARCH_THREADS: usize = 4;

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
    /// [`PARALLEL_SEARCH_FROM`], lowered by tests.
    parallel_search_from: usize,
}

impl MemoryStore {
    pub fn new(limits: StoreLimits) -> MemoryStore {
        MemoryStore {
            inner: RwLock::default(),
            ids: IdGenerator::default(),
            limits,
            parallel_search_from: PARALLEL_SEARCH_FROM,
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
        inner.bytes += message.resident_bytes();
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
        inner.bytes -= message.resident_bytes();
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
    /// wait's) are looked at.
    fn scan(&self, query: &Query, visit: impl FnMut(&Arc<StoredMessage>) -> bool) {
        self.scan_range(query, query.lowest_seq()..u64::MAX, visit);
    }

    /// [`scan`](Self::scan) within a range of sequence numbers. The scan
    /// holds the read lock for [`SCAN_CHUNK`] messages at a time, so
    /// ingestion waits for at most one chunk, and a message that does not
    /// match is never copied out.
    fn scan_range(
        &self,
        query: &Query,
        seqs: Range<u64>,
        mut visit: impl FnMut(&Arc<StoredMessage>) -> bool,
    ) {
        let mut below = seqs.end;
        loop {
            let inner = self.inner.read();
            let mut scanned = 0;
            for (seq, message) in inner.messages.range(seqs.start..below).rev() {
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

    /// Newest-first matches of `query`, sliced by `start` and `limit`. A
    /// large store is searched by several threads at once, each scanning a
    /// slice of the sequence numbers: every match must be counted, so the
    /// whole store is read whatever the page.
    pub fn search(&self, query: &Query, start: usize, limit: usize) -> Page {
        let lowest = query.lowest_seq();
        let slices = self.search_slices(lowest);
        let wanted = start.saturating_add(limit);
        let partials: Vec<Page> = if slices.is_empty() {
            vec![self.search_slice(query, lowest..u64::MAX, wanted)]
        } else {
            off_the_runtime(|| {
                std::thread::scope(|scope| {
                    let workers: Vec<_> = slices[1..]
                        .iter()
                        .map(|seqs| scope.spawn(|| self.search_slice(query, seqs.clone(), wanted)))
                        .collect();
                    let mut partials = vec![self.search_slice(query, slices[0].clone(), wanted)];
                    partials.extend(workers.into_iter().map(|worker| {
                        worker
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    }));
                    partials
                })
            })
        };
        let mut page = Page::default();
        for partial in partials {
            page.matched += partial.matched;
            page.matched_unread += partial.matched_unread;
            page.messages.extend(partial.messages);
        }
        page.messages = page.messages.into_iter().skip(start).take(limit).collect();
        page
    }

    /// The sequence ranges a large store's search scans at once, newest
    /// first, one per thread, splitting the sequence numbers evenly; none
    /// for a store small enough to scan on one thread.
    fn search_slices(&self, lowest: u64) -> Vec<Range<u64>> {
        let inner = self.inner.read();
        let threads = search_threads();
        let (Some((&first, _)), Some((&last, _))) = (
            inner.messages.range(lowest..).next(),
            inner.messages.last_key_value(),
        ) else {
            return Vec::new();
        };
        if inner.messages.len() < self.parallel_search_from || threads == 1 {
            return Vec::new();
        }
        let step = (last - first) / threads as u64 + 1;
        let mut slices: Vec<Range<u64>> = (0..threads as u64)
            .map(|i| first + i * step..first + (i + 1) * step)
            .rev()
            .collect();
        slices[0].end = u64::MAX;
        slices
    }

    /// One slice's share of a search: its match counts and its first
    /// `wanted` matches (the most a page can take from it).
    fn search_slice(&self, query: &Query, seqs: Range<u64>, wanted: usize) -> Page {
        let mut page = Page::default();
        self.scan_range(query, seqs, |message| {
            if page.messages.len() < wanted {
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
            entry.bytes += message.resident_bytes() as u64;
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

/// Runs a long scan without stalling the other tasks of the calling tokio
/// worker: on a multi-threaded runtime they move to another worker while it
/// runs (a current-thread runtime, an embedder's test, just waits).
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// How many threads a large search uses: one per core, at most
/// [`MAX_SEARCH_THREADS`] (at least two in tests, so they split even on a
/// one-core machine).
fn search_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let floor = if cfg!(test) { 2 } else { 1 };
    cores.clamp(floor, MAX_SEARCH_THREADS.max(floor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::message::Incoming;
    use crate::store::summary::summarize;

    fn store_of(count: usize, parallel_search_from: usize) -> MemoryStore {
        let mut store = MemoryStore::new(StoreLimits::default());
        store.parallel_search_from = parallel_search_from;
        for n in 0..count {
            let word = if n % 3 == 0 { "invoice" } else { "receipt" };
            let raw = format!("Subject: {word} {n}\r\n\r\nbody {n}\r\n");
            let incoming = Incoming {
                raw: raw.into_bytes().into(),
                ..Incoming::default()
            };
            let summary = summarize(&incoming.raw, &incoming.envelope);
            store.insert("default".into(), incoming, summary, Vec::new());
        }
        store
    }

    fn subjects(page: &Page) -> Vec<String> {
        page.messages
            .iter()
            .map(|m| m.summary.subject.clone())
            .collect()
    }

    #[test]
    fn a_split_search_gives_the_single_scans_results() {
        let single = store_of(500, usize::MAX);
        let split = store_of(500, 1);
        assert!(split.search_slices(0).len() > 1);
        for query in ["invoice", "subject:receipt", "zqxjvkw", "body 4"] {
            let query = Query::parse(query, Some("UTC"));
            for (start, limit) in [(0, 50), (160, 50), (0, 1000), (490, 50), (0, 0)] {
                let (a, b) = (
                    single.search(&query, start, limit),
                    split.search(&query, start, limit),
                );
                assert_eq!((a.matched, a.matched_unread), (b.matched, b.matched_unread));
                assert_eq!(subjects(&a), subjects(&b), "{query:?} {start} {limit}");
            }
        }
        let seq_of_400th =
            |store: &MemoryStore| *store.inner.read().messages.keys().nth(400).unwrap();
        let after = |store: &MemoryStore| {
            let query = Query::parse("invoice", None).arrived_after(seq_of_400th(store));
            subjects(&store.search(&query, 0, 50))
        };
        assert_eq!(after(&split), after(&single));
        assert_eq!(after(&split).len(), 33);
    }
}
