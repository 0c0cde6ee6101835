//! The store's mailbox operations: finding, creating, deleting and
//! expiring mailboxes, and their totals.

use std::collections::HashMap;
use std::sync::Arc;

use super::mailbox::{CreateRefusal, DEFAULT_MAILBOX, Mailbox, MailboxKeys, Scope};
use super::{Backend, Counts, Event, Query, Selection, Store, StoreError};

impl Store {
    /// The mailbox of this (canonical) name, if it exists.
    pub fn mailbox(&self, name: &str) -> Option<Arc<Mailbox>> {
        self.mailboxes.get(name)
    }

    /// Every mailbox, sorted by name.
    pub fn mailboxes(&self) -> Vec<Arc<Mailbox>> {
        self.mailboxes.all()
    }

    /// How many mailboxes exist.
    pub fn mailbox_count(&self) -> usize {
        self.mailboxes.len()
    }

    /// What someone who may not see private mailboxes sees.
    pub fn public_scope(&self) -> Scope {
        Scope::Except(self.mailboxes.private_names())
    }

    /// The mailboxes' SMTP passwords, for SMTP sessions to check logins
    /// against; kept in step with every mailbox made or deleted.
    pub fn mailbox_keys(&self) -> MailboxKeys {
        self.mailboxes.keys().clone()
    }

    /// Creates a mailbox (written durably, for a database engine).
    pub async fn create_mailbox(
        &self,
        mailbox: Mailbox,
    ) -> Result<Result<Arc<Mailbox>, CreateRefusal>, StoreError> {
        let _creating = self.creating.lock().await;
        if self.mailboxes.get(&mailbox.name).is_some() {
            return Ok(Err(CreateRefusal::Exists));
        }
        let limit = self.limits.max_mailboxes;
        if limit > 0 && self.mailboxes.len() >= limit {
            return Ok(Err(CreateRefusal::TooMany(limit)));
        }
        match &self.backend {
            Backend::Sqlite(db) => db.save_mailbox(&mailbox).await?,
            Backend::Postgres(db) => db.save_mailbox(&mailbox).await?,
            Backend::Memory(_) => {}
        }
        let created = self.mailboxes.add(mailbox);
        if created.is_ok() {
            self.publish(Event::Mailboxes);
        }
        Ok(created)
    }

    /// The shared name of mailbox `name` (canonical), creating it as a
    /// plain public mailbox if it does not exist; `None` when it cannot be
    /// created (too many mailboxes).
    pub async fn ensure_mailbox(&self, name: &str) -> Result<Option<Arc<str>>, StoreError> {
        if let Some(interned) = self.mailboxes.intern(name) {
            return Ok(Some(interned));
        }
        match self.create_mailbox(Mailbox::plain(name)).await? {
            Ok(created) => Ok(Some(created.name.clone())),
            Err(CreateRefusal::Exists) => Ok(self.mailboxes.intern(name)),
            Err(CreateRefusal::TooMany(_)) => Ok(None),
        }
    }

    /// Deletes mailbox `name` and all its mail; `false` if it does not
    /// exist. `default` is only emptied: it always exists.
    pub async fn delete_mailbox(&self, name: &str) -> Result<bool, StoreError> {
        let Some(mailbox) = self.mailboxes.get(name) else {
            return Ok(false);
        };
        let query = Query::everything().scoped(&Scope::one(mailbox.name.clone()));
        self.delete(Selection::Matching(&query)).await?;
        if name != DEFAULT_MAILBOX {
            match &self.backend {
                Backend::Sqlite(db) => db.remove_mailbox(name).await?,
                Backend::Postgres(db) => db.remove_mailbox(name).await?,
                Backend::Memory(_) => {}
            }
            self.mailboxes.remove(name);
            self.publish(Event::Mailboxes);
        }
        Ok(true)
    }

    /// Deletes every mailbox whose time ran out; returns how many.
    pub async fn expire_mailboxes(&self) -> Result<usize, StoreError> {
        let expired = self.mailboxes.expired(jiff::Timestamp::now());
        for mailbox in &expired {
            self.delete_mailbox(&mailbox.name).await?;
        }
        Ok(expired.len())
    }

    /// The totals of each mailbox that holds mail.
    pub async fn mailbox_counts(&self) -> Result<HashMap<Arc<str>, Counts>, StoreError> {
        match &self.backend {
            Backend::Memory(mem) => Ok(mem.mailbox_counts()),
            Backend::Sqlite(db) => db.mailbox_counts().await,
            Backend::Postgres(db) => db.mailbox_counts().await,
        }
    }
}
