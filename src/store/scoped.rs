//! The store as one [`Scope`] sees it: the API's view of a mailbox, of a
//! user's mailboxes, or of everything.
//!
//! Every read is narrowed to the scope and every change applies only to
//! messages in it, so a handler cannot reach another mailbox's mail by ID,
//! by search or by "all". The whole-store operations of [`Store`] are used
//! as they are when the scope sees everything, so the unscoped root keeps
//! its speed.

use std::sync::Arc;

use bytes::Bytes;

use super::mailbox::Scope;
use super::tag_index::TagIndex;
use super::{Counts, Page, Query, Selection, Store, StoreError, StoredMessage};

/// A [`Store`] narrowed to a [`Scope`].
pub struct ScopedStore<'a> {
    store: &'a Store,
    scope: Scope,
}

impl Store {
    /// The store as `scope` sees it.
    pub fn scoped(&self, scope: &Scope) -> ScopedStore<'_> {
        ScopedStore {
            store: self,
            scope: scope.clone(),
        }
    }
}

impl ScopedStore<'_> {
    /// The scope this view is narrowed to.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The whole store (for what is not about messages).
    pub fn store(&self) -> &Store {
        self.store
    }

    fn everything(&self) -> Query {
        Query::everything().scoped(&self.scope)
    }

    /// The message with this ID, if it is stored in scope.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        let found = self.store.get(id).await?;
        Ok(found.filter(|m| self.scope.contains(&m.mailbox)))
    }

    /// The message's raw bytes, exactly as received.
    pub async fn raw(&self, message: &Arc<StoredMessage>) -> Result<Bytes, StoreError> {
        self.store.raw(message).await
    }

    /// The newest message in scope, or the newest matching `query`.
    pub async fn latest(
        &self,
        query: Option<&Query>,
    ) -> Result<Option<Arc<StoredMessage>>, StoreError> {
        if self.scope.is_all() {
            return self.store.latest(query).await;
        }
        let query = query.cloned().unwrap_or_else(Query::everything);
        self.store.latest(Some(&query.scoped(&self.scope))).await
    }

    /// The totals in scope (bytes only for the whole store).
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        if self.scope.is_all() {
            return self.store.counts().await;
        }
        let page = self.store.search(&self.everything(), 0, 0).await?;
        Ok(Counts {
            total: page.matched,
            unread: page.matched_unread,
            bytes: 0,
        })
    }

    /// Newest first, skipping `start`; `limit` 0 means all. `before` keeps
    /// only messages received before that Unix time in microseconds.
    pub async fn list(
        &self,
        start: usize,
        limit: usize,
        before: Option<i64>,
    ) -> Result<Page, StoreError> {
        if self.scope.is_all() {
            return self.store.list(start, limit, before).await;
        }
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut query = self.everything();
        if let Some(before) = before {
            // The totals of a listing are the scope's, whatever `before` says.
            let totals = self.counts().await?;
            query = query.received_before(before);
            let mut page = self.store.search(&query, start, limit).await?;
            (page.matched, page.matched_unread) = (totals.total, totals.unread);
            return Ok(page);
        }
        self.store.search(&query, start, limit).await
    }

    /// Newest-first matches of `query` in scope, sliced by `start` and `limit`.
    pub async fn search(
        &self,
        query: &Query,
        start: usize,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let query = query.clone().scoped(&self.scope);
        self.store.search(&query, start, limit).await
    }

    /// The IDs among `ids` of messages in scope.
    async fn in_scope(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        if self.scope.is_all() {
            return Ok(ids.to_vec());
        }
        let mut kept = Vec::with_capacity(ids.len());
        for id in ids {
            if self.get(id).await?.is_some() {
                kept.push(id.clone());
            }
        }
        Ok(kept)
    }

    /// Runs `apply` on the selection narrowed to the scope.
    async fn narrowed<T>(
        &self,
        which: Selection<'_>,
        apply: impl AsyncFnOnce(Selection<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.scope.is_all() {
            return apply(which).await;
        }
        match which {
            Selection::All => apply(Selection::Matching(&self.everything())).await,
            Selection::Ids(ids) => {
                let ids = self.in_scope(ids).await?;
                apply(Selection::Ids(&ids)).await
            }
            Selection::Matching(query) => {
                let query = query.clone().scoped(&self.scope);
                apply(Selection::Matching(&query)).await
            }
        }
    }

    /// Sets the read flag of the selected messages in scope.
    pub async fn set_read(&self, which: Selection<'_>, read: bool) -> Result<usize, StoreError> {
        self.narrowed(which, async |which| self.store.set_read(which, read).await)
            .await
    }

    /// Marks one message read (one the caller got from this view).
    pub async fn mark_read(&self, message: &StoredMessage) -> Result<(), StoreError> {
        self.store.mark_read(message).await
    }

    /// Deletes the selected messages in scope; returns how many went.
    pub async fn delete(&self, which: Selection<'_>) -> Result<usize, StoreError> {
        if let (Selection::All, Scope::Only(names)) = (which, &self.scope)
            && let [mailbox] = &names[..]
        {
            return self.store.empty_mailbox(mailbox).await;
        }
        self.narrowed(which, async |which| self.store.delete(which).await)
            .await
    }

    /// Replaces the tags of the given messages in scope.
    pub async fn set_tags(&self, ids: &[String], names: &[String]) -> Result<(), StoreError> {
        let ids = self.in_scope(ids).await?;
        self.store.set_tags(&ids, names).await
    }

    /// Every tag used in scope with its message count.
    pub async fn tag_counts(&self) -> Result<Vec<(String, usize)>, StoreError> {
        if self.scope.is_all() {
            return self.store.tag_counts().await;
        }
        let mut index = TagIndex::default();
        let tagged = Query::parse("is:tagged", None).scoped(&self.scope);
        for message in self.store.search(&tagged, 0, usize::MAX).await?.messages {
            index.add(message.id.seq, &message.tags());
        }
        Ok(index.counts())
    }

    /// Renames a tag on every message in scope. Refusals carry Mailpit's
    /// messages.
    pub async fn rename_tag(&self, from: &str, to: &str) -> Result<Result<(), String>, StoreError> {
        let Some(new) = super::tags::clean(to) else {
            return Ok(Err(format!("invalid tag name: {to}")));
        };
        let existing = self.tag_counts().await?;
        if !existing.iter().any(|(t, _)| t.eq_ignore_ascii_case(from)) {
            return Ok(Err(format!("tag not found: {from}")));
        }
        if new == from {
            return Ok(Ok(()));
        }
        if !new.eq_ignore_ascii_case(from)
            && existing.iter().any(|(t, _)| t.eq_ignore_ascii_case(&new))
        {
            return Ok(Err(format!("tag already exists: {new}")));
        }
        self.rewrite_tag(from, Some(&new)).await?;
        Ok(Ok(()))
    }

    /// Removes a tag from every message in scope.
    pub async fn delete_tag(&self, name: &str) -> Result<Result<(), String>, StoreError> {
        let existing = self.tag_counts().await?;
        if !existing.iter().any(|(t, _)| t.eq_ignore_ascii_case(name)) {
            return Ok(Err(format!("tag not found: {name}")));
        }
        self.rewrite_tag(name, None).await?;
        Ok(Ok(()))
    }

    /// Replaces tag `from` by `to` (or removes it) message by message, so
    /// that only messages in scope change.
    async fn rewrite_tag(&self, from: &str, to: Option<&str>) -> Result<(), StoreError> {
        if self.scope.is_all() {
            return self.store.rewrite_tag(from, to).await;
        }
        let query = Query::parse(&format!("tag:\"{from}\""), None).scoped(&self.scope);
        for message in self.store.search(&query, 0, usize::MAX).await?.messages {
            let mut tags = message.tags();
            tags.retain(|t| !t.eq_ignore_ascii_case(from));
            tags.extend(to.map(str::to_string));
            super::tags::sort(&mut tags);
            self.store
                .set_tags(&[message.id().to_string()], &tags)
                .await?;
        }
        // As after a rename of the whole store's tags: clients refetch.
        let mailbox = match &self.scope {
            Scope::Only(names) if names.len() == 1 => Some(names[0].clone()),
            _ => None,
        };
        self.store.publish(super::Event::Pruned { mailbox });
        Ok(())
    }
}
