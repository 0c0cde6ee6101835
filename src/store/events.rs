//! The store's change feed.
//!
//! A `tokio::sync::broadcast` channel: publishing never blocks ingestion, and
//! a listener that falls behind learns it lagged (and should resync from the
//! store, which still holds every message) instead of slowing anyone down.

use std::sync::Arc;

use super::message::StoredMessage;

/// One change to the store, or an SMTP diagnostic, as the feed carries it.
#[derive(Clone, Debug)]
pub enum Event {
    /// A message was stored.
    New(Arc<StoredMessage>),
    /// A message's read state changed.
    Read {
        /// The message's ID.
        id: String,
        /// The mailbox it is in.
        mailbox: Arc<str>,
        /// Its new state.
        read: bool,
    },
    /// A message's tags were replaced.
    Tags {
        /// The message's ID.
        id: String,
        /// The mailbox it is in.
        mailbox: Arc<str>,
        /// Its tags now, all of them.
        tags: Vec<String>,
    },
    /// A message was deleted by ID or by search.
    Deleted {
        /// The message's ID.
        id: String,
        /// The mailbox it was in.
        mailbox: Arc<str>,
    },
    /// Many messages changed at once (eviction, tag rename): refetch.
    Pruned {
        /// The one mailbox affected, or None for any.
        mailbox: Option<Arc<str>>,
    },
    /// Every message was deleted (of one mailbox, or of the store).
    Truncated {
        /// The mailbox emptied, or None for the whole store.
        mailbox: Option<Arc<str>>,
    },
    /// A mailbox was created or deleted (its mail is announced apart).
    Mailboxes,
    /// An outbound delivery (a release) changed state.
    Delivery {
        /// The delivery's ID.
        id: String,
        /// The released message's ID.
        message_id: String,
        /// The mailbox the message is in.
        mailbox: Arc<str>,
        /// The new state (`queued`, `sending`, `deferred`, ...).
        state: &'static str,
    },
    /// An SMTP client was answered with a 4xx or 5xx reply.
    SmtpError {
        /// The client's IP address.
        ip: String,
        /// The reply sent: its code and first line.
        message: String,
    },
}

impl Event {
    /// The mailbox the event is about, when it is about one message.
    pub fn mailbox(&self) -> Option<&str> {
        match self {
            Event::New(message) => Some(&message.mailbox),
            Event::Read { mailbox, .. }
            | Event::Tags { mailbox, .. }
            | Event::Deleted { mailbox, .. }
            | Event::Delivery { mailbox, .. } => Some(mailbox),
            Event::Pruned { mailbox } | Event::Truncated { mailbox } => mailbox.as_deref(),
            _ => None,
        }
    }
}
