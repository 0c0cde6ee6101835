//! The application core the three faces (SMTP, HTTP, embedding) share: the
//! resolved configuration, the store, the change feed and the counters, and
//! the one way a message enters.

mod mailboxes;
mod metrics;
mod wait;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::settings::Settings;
use crate::smtp::auth::MailboxKeys;
use crate::store::{Event, Incoming, LARGE_MESSAGE_BYTES, Store, StoreError, StoredMessage};
use crate::store::{summary, tags};

/// Events a WebSocket client may fall behind by before it is told to refetch.
const EVENT_BUFFER: usize = 4096;

/// Running totals shown by `/api/v1/info`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages stored since start, by SMTP or the send API.
    pub accepted: AtomicU64,
    /// Total size of those messages, as received.
    pub accepted_bytes: AtomicU64,
    /// SMTP error replies (4xx or 5xx) sent since start.
    pub rejected: AtomicU64,
}

/// Shared state of a running mailcatch, handed to the SMTP and HTTP sides.
pub struct App {
    /// Every option, checked and resolved before anything bound.
    pub settings: Settings,
    /// Where messages are kept (shared with the outbound queue).
    pub store: Arc<Store>,
    /// Totals since start.
    pub counters: Counters,
    /// When the core was opened, for the uptime `/api/v1/info` reports.
    pub started: Instant,
    events: broadcast::Sender<Event>,
    /// Requests waiting for mail right now.
    waiters: AtomicUsize,
    /// What `/metrics` reports beyond the counters and the store's counts.
    pub(crate) metrics: Metrics,
    /// The mailboxes' SMTP passwords, shared with every SMTP session.
    pub(crate) mailbox_keys: MailboxKeys,
    /// Checks the links of messages (`link-check`).
    pub(crate) links: crate::check::linkcheck::LinkChecker,
    /// Releases on their way to the relay.
    pub(crate) outbound: Arc<crate::outbound::Outbound>,
}

pub use mailboxes::{CreateError, NewMailbox};
pub use metrics::Metrics;
pub use wait::{Cursor, Outcome, WaitError, WaitRequest};

impl App {
    /// Opens the store the settings name and builds the core around it.
    pub(crate) async fn open(settings: Settings) -> Result<App, crate::running::StartError> {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let store = Store::connect(&settings.engine, settings.limits, events.clone())
            .await
            .map_err(|e| crate::running::StartError::Database(e.to_string()))?;
        let store = Arc::new(store);
        let mailbox_keys = store.mailbox_keys();
        let links = crate::check::linkcheck::LinkChecker::new(
            settings.config.http.allow_internal_http_requests,
        );
        let outbound =
            crate::outbound::Outbound::new(&settings.config, events.clone(), store.clone())
                .map_err(crate::running::StartError::Config)?;
        outbound.resume().await.map_err(|e| {
            crate::running::StartError::Database(format!("cannot load the outbound queue: {e}"))
        })?;
        Ok(App {
            outbound: Arc::new(outbound),
            mailbox_keys,
            store,
            settings,
            counters: Counters::default(),
            started: Instant::now(),
            events,
            waiters: AtomicUsize::new(0),
            metrics: Metrics::default(),
            links,
        })
    }

    /// The change feed: store events and SMTP diagnostics.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// The only way a message enters, whether by SMTP or the send API:
    /// summarises it (off the async threads when large), applies its tags,
    /// stores it (committed, with a database) and counts it. When this
    /// returns Ok the message is listed, searchable and announced.
    pub async fn ingest(&self, incoming: Incoming) -> Result<Arc<StoredMessage>, StoreError> {
        let size = incoming.raw.len();
        let started = Instant::now();
        let (mut incoming, mut summary) = if size < LARGE_MESSAGE_BYTES {
            let summary = summary::summarize(&incoming.raw, &incoming.envelope);
            (incoming, summary)
        } else {
            tokio::task::spawn_blocking(move || {
                let summary = summary::summarize(&incoming.raw, &incoming.envelope);
                (incoming, summary)
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("summarising failed: {e}")))?
        };
        let mailbox = self.route(&mut incoming, &mut summary).await?;
        let tags = tags::clean_all(summary.auto_tags.iter().map(String::as_str));
        let message = self.store.insert(mailbox, incoming, summary, tags).await?;
        self.metrics.ingest_took(started.elapsed());
        if self.outbound.auto_relay()
            && let Ok(raw) = self.store.raw(&message).await
        {
            self.outbound.relay_incoming(&message, raw).await;
        }
        self.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.counters
            .accepted_bytes
            .fetch_add(size as u64, Ordering::Relaxed);
        tracing::debug!(
            id = message.id(),
            from = %message.envelope.mail_from,
            recipients = message.envelope.rcpt_to.len(),
            size,
            "message stored"
        );
        Ok(message)
    }

    /// Records an SMTP error reply (4xx or 5xx) sent to a client, for the
    /// counters and the UI's live error feed.
    pub fn smtp_refused(&self, ip: String, message: String) {
        self.counters.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(Event::SmtpError { ip, message });
    }
}
