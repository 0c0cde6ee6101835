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
        /// Its new state.
        read: bool,
    },
    /// A message's tags were replaced.
    Tags {
        /// The message's ID.
        id: String,
        /// Its tags now, all of them.
        tags: Vec<String>,
    },
    /// A message was deleted by ID or by search.
    Deleted {
        /// The message's ID.
        id: String,
    },
    /// Many messages changed at once (eviction, tag rename): refetch.
    Pruned,
    /// Every message was deleted.
    Truncated,
    /// An SMTP client was answered with a 4xx or 5xx reply.
    SmtpError {
        /// The client's IP address.
        ip: String,
        /// The reply sent: its code and first line.
        message: String,
    },
}
