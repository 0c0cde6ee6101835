//! The outbound side: releasing a captured message to a real SMTP server.
//!
//! A release becomes a [`Delivery`] in a bounded [`Queue`] and is answered
//! at once; a background task ([`sender`]) sends due deliveries, at most
//! `--smtp-relay-concurrency` at a time, and retries temporary failures on
//! the `--smtp-relay-retry` schedule until `--smtp-relay-give-up`. With a
//! database engine every delivery is also written to the store (see
//! [`crate::store::deliveries`]), so a restart resumes the queue; with the
//! memory engine it lives and dies with the process.

mod client;
mod persist;
mod prepare;
pub(crate) mod queue;
pub(crate) mod relay;
mod sender;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use parking_lot::Mutex;
use regex::Regex;
use tokio::sync::{Notify, broadcast};

use crate::config::Config;
use crate::store::{Event, IdGenerator, Store, StoreError, StoredMessage};
pub use queue::{Delivery, State};
use queue::{Queue, Recipient, Schedule};
pub(crate) use relay::{Auth, RelayTarget};

/// The release queue and its settings.
pub struct Outbound {
    /// The configured relay; `None` when releasing is off.
    target: Option<Arc<RelayTarget>>,
    /// Auto-relay: every message (`--smtp-relay-all`) or the recipients
    /// matching (`--smtp-relay-matching`).
    auto: Option<Option<Regex>>,
    schedule: Schedule,
    give_up: Duration,
    timeout: Duration,
    concurrency: usize,
    hostname: String,
    queue: Mutex<Queue>,
    wake: Notify,
    /// The change feed, where state changes are announced.
    events: broadcast::Sender<Event>,
    /// Where deliveries are kept across restarts (nowhere, for the memory
    /// engine).
    store: Arc<Store>,
    /// Delivery IDs: unique across restarts and nodes, sorting by creation.
    ids: IdGenerator,
}

/// Why a release was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// No relay is configured.
    #[error("SMTP error: message relay is not configured")]
    NotConfigured,
    /// Bad or refused recipients, with Mailpit's texts.
    #[error("{0}")]
    Recipients(String),
    /// The queue is at its bound.
    #[error("{0}")]
    Full(String),
    /// The database could not keep the delivery.
    #[error(transparent)]
    Store(StoreError),
}

impl Outbound {
    /// Checks and loads the relay options.
    pub(crate) fn new(
        config: &Config,
        events: broadcast::Sender<Event>,
        store: Arc<Store>,
    ) -> Result<Outbound, String> {
        let relay = &config.relay;
        let target = match &relay.config_file {
            Some(path) => Some(Arc::new(RelayTarget::load(path)?)),
            None => RelayTarget::from_env(&relay.env)?.map(Arc::new),
        };
        let matching = match relay.relay_matching.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(pattern) => {
                Some(Regex::new(pattern).map_err(|e| format!("--smtp-relay-matching: {e}"))?)
            }
        };
        let auto = match (relay.relay_all, matching) {
            (false, None) => None,
            (true, _) => Some(None),
            (false, Some(regex)) => Some(Some(regex)),
        };
        if auto.is_some() && target.is_none() {
            return Err(
                "--smtp-relay-all and --smtp-relay-matching need --smtp-relay-config (or MP_SMTP_RELAY_HOST)".into(),
            );
        }
        if relay.queue == 0 || relay.concurrency == 0 || relay.timeout == 0 {
            return Err(
                "--smtp-relay-queue, --smtp-relay-concurrency and --smtp-relay-timeout must be more than 0"
                    .into(),
            );
        }
        // The queue holds at most as many bytes as the store may.
        let max_bytes = match config.store_limits().max_bytes {
            0 => 1024 * 1024 * 1024,
            bytes => bytes,
        };
        Ok(Outbound {
            target,
            auto,
            schedule: Schedule::parse(&relay.retry)?,
            give_up: relay.give_up,
            timeout: Duration::from_secs(relay.timeout),
            concurrency: relay.concurrency,
            hostname: config.smtp.hostname.clone(),
            queue: Mutex::new(Queue::new(relay.queue, max_bytes)),
            wake: Notify::new(),
            events,
            store,
            ids: IdGenerator::default(),
        })
    }

    /// The configured relay, if releasing is on.
    pub(crate) fn target(&self) -> Option<&RelayTarget> {
        self.target.as_deref()
    }

    /// Whether incoming messages are relayed automatically.
    pub(crate) fn auto_relay(&self) -> bool {
        self.auto.is_some()
    }

    /// Mailpit's release: `to` through the configured relay.
    pub async fn release(
        &self,
        message: &StoredMessage,
        raw: Bytes,
        to: &[String],
    ) -> Result<String, ReleaseError> {
        let target = self.target.clone().ok_or(ReleaseError::NotConfigured)?;
        let to = check_addresses(to)?;
        target
            .check_recipients(&to)
            .map_err(ReleaseError::Recipients)?;
        self.enqueue(message, raw, to, target).await
    }

    /// MailHog's release: one recipient through a server the request names.
    pub(crate) async fn release_to(
        &self,
        message: &StoredMessage,
        raw: Bytes,
        to: String,
        target: RelayTarget,
    ) -> Result<String, ReleaseError> {
        if self.target.is_none() {
            return Err(ReleaseError::NotConfigured);
        }
        let to = check_addresses(&[to])?;
        self.enqueue(message, raw, to, Arc::new(target)).await
    }

    /// Auto-relay of a message just stored, if `--smtp-relay-all` or
    /// `--smtp-relay-matching` asks for it. Failures are logged, never
    /// refused to the sender.
    pub(crate) async fn relay_incoming(&self, message: &StoredMessage, raw: Bytes) {
        let (Some(rule), Some(target)) = (&self.auto, &self.target) else {
            return;
        };
        let to: Vec<String> = message
            .envelope
            .rcpt_to
            .iter()
            .filter(|r| rule.as_ref().is_none_or(|re| re.is_match(r)))
            .filter(|r| target.blocked.as_ref().is_none_or(|re| !re.is_match(r)))
            .cloned()
            .collect();
        if to.is_empty() {
            return;
        }
        if let Err(error) = self.enqueue(message, raw, to, target.clone()).await {
            tracing::warn!(id = message.id(), %error, "auto-relay refused");
        }
    }

    async fn enqueue(
        &self,
        message: &StoredMessage,
        raw: Bytes,
        to: Vec<String>,
        target: Arc<RelayTarget>,
    ) -> Result<String, ReleaseError> {
        let raw = prepare::for_release(raw, target.override_from.as_deref());
        let from = target
            .return_path
            .clone()
            .unwrap_or_else(|| message.envelope.mail_from.clone());
        let now = Timestamp::now();
        let id = self.ids.next().text.to_string();
        // Not due until it is saved: no attempt may run before its row exists.
        let delivery = Delivery {
            id: id.clone(),
            message_id: message.id().to_string(),
            mailbox: message.mailbox.clone(),
            state: State::Queued,
            created: now,
            from,
            server: target.server(),
            recipients: to
                .into_iter()
                .map(|address| Recipient {
                    address,
                    state: "pending",
                    reply: None,
                })
                .collect(),
            attempts: Vec::new(),
            next_attempt: None,
            give_up: now + self.give_up,
            size: raw.len(),
            raw,
            target,
            elsewhere: false,
        };
        let row = persist::row_of(&delivery, self.target.as_ref());
        let dropped = {
            let mut queue = self.queue.lock();
            let dropped = queue.make_room(delivery.size).map_err(ReleaseError::Full)?;
            queue.deliveries.push_back(delivery);
            dropped
        };
        self.forget(dropped).await;
        if let Err(error) = self.store.save_delivery(&row).await {
            self.queue.lock().deliveries.retain(|d| d.id != id);
            return Err(ReleaseError::Store(error));
        }
        if let Some(queued) = self.queue.lock().get_mut(&id) {
            queued.next_attempt = Some(now);
            self.announce(queued);
        }
        self.wake.notify_one();
        tracing::info!(delivery = %id, message = message.id(), "release queued");
        Ok(id)
    }

    /// Deletes the rows of deliveries the queue dropped.
    async fn forget(&self, ids: Vec<String>) {
        if let Err(error) = self.store.forget_deliveries(&ids).await {
            tracing::warn!(%error, "cannot delete finished deliveries from the database");
        }
    }

    /// Tells the change feed (and so the WebSocket) a delivery's new state.
    fn announce(&self, delivery: &Delivery) {
        let _ = self.events.send(event_of(delivery));
    }

    /// Every delivery, oldest first, that `keep` selects.
    pub fn list(&self, keep: impl Fn(&Delivery) -> bool) -> Vec<Delivery> {
        self.queue
            .lock()
            .deliveries
            .iter()
            .filter(|d| keep(d))
            .cloned()
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<Delivery> {
        self.queue.lock().get_mut(id).map(|d| d.clone())
    }

    /// Makes a deferred or queued delivery due now. `None` when it is
    /// unknown, false when it is not waiting.
    pub async fn retry_now(&self, id: &str) -> Result<Option<bool>, StoreError> {
        let now = Timestamp::now();
        match self.queue.lock().get_mut(id) {
            None => return Ok(None),
            Some(d) if !matches!(d.state, State::Queued | State::Deferred) => {
                return Ok(Some(false));
            }
            Some(_) => {}
        }
        if !self.store.retry_delivery(id, now.as_microsecond()).await? {
            return Ok(Some(false));
        }
        let mut queue = self.queue.lock();
        let Some(delivery) = queue.get_mut(id) else {
            return Ok(None);
        };
        if !matches!(delivery.state, State::Queued | State::Deferred) {
            return Ok(Some(false));
        }
        delivery.next_attempt = Some(now);
        drop(queue);
        self.wake.notify_one();
        Ok(Some(true))
    }

    /// Cancels an unfinished delivery (one being sent finishes its attempt
    /// but is not retried). `None` when it is unknown, false when it had
    /// already finished.
    pub async fn cancel(&self, id: &str) -> Result<Option<bool>, StoreError> {
        let row = {
            let mut queue = self.queue.lock();
            let Some(delivery) = queue.get_mut(id) else {
                return Ok(None);
            };
            if delivery.state.is_final() {
                return Ok(Some(false));
            }
            let mut cancelled = delivery.clone();
            cancelled.cancel();
            persist::row_of(&cancelled, self.target.as_ref())
        };
        if !self.store.cancel_delivery(&row).await? {
            return Ok(Some(false));
        }
        let mut queue = self.queue.lock();
        let Some(delivery) = queue.get_mut(id) else {
            return Ok(None);
        };
        delivery.cancel();
        let cancelled = delivery.clone();
        drop(queue);
        self.announce(&cancelled);
        Ok(Some(true))
    }

    /// Deliveries per state, for `/metrics`.
    pub fn counts(&self) -> Vec<(State, usize)> {
        let queue = self.queue.lock();
        State::ALL
            .iter()
            .map(|&s| (s, queue.deliveries.iter().filter(|d| d.state == s).count()))
            .collect()
    }

    /// Loads the deliveries a database kept (at start): unfinished ones
    /// resume, deferred ones at their next attempt.
    pub(crate) async fn resume(&self) -> Result<usize, StoreError> {
        let max = self.queue.lock().max;
        let rows = self.store.load_deliveries(max, false).await?;
        let mut loaded: Vec<Delivery> = rows
            .into_iter()
            .filter_map(|row| self.revive(row))
            .collect();
        loaded.sort_by_key(|d| d.created);
        let pending = loaded.iter().filter(|d| !d.state.is_final()).count();
        self.queue.lock().deliveries.extend(loaded);
        if pending > 0 {
            tracing::info!(pending, "resuming the outbound queue");
            self.wake.notify_one();
        }
        Ok(pending)
    }

    /// The delivery of a loaded row, or `None` (logged) when it cannot be
    /// sent from here. A row another node is sending is looked at again
    /// when its claim may have lapsed.
    fn revive(&self, row: crate::store::deliveries::DeliveryRow) -> Option<Delivery> {
        let id = row.id.clone();
        match persist::delivery_of(row, self.target.as_ref()) {
            Ok(mut delivery) => {
                if delivery.state == State::Sending {
                    delivery.elsewhere = true;
                    delivery.next_attempt = Some(Timestamp::now() + self.recheck_after(&delivery));
                }
                Some(delivery)
            }
            Err(error) => {
                tracing::warn!(delivery = %id, %error, "cannot resume a delivery");
                None
            }
        }
    }
}

/// The change-feed event for a delivery's current state.
fn event_of(delivery: &Delivery) -> Event {
    Event::Delivery {
        id: delivery.id.clone(),
        message_id: delivery.message_id.clone(),
        mailbox: delivery.mailbox.clone(),
        state: delivery.state.name(),
    }
}

/// Mailpit's checks of the `To` list: each must be an address; none given
/// is an error. Duplicates are sent once.
fn check_addresses(to: &[String]) -> Result<Vec<String>, ReleaseError> {
    let mut out: Vec<String> = Vec::new();
    for address in to {
        let address = address.trim();
        if crate::smtp::address::check(address).is_err() {
            return Err(ReleaseError::Recipients(format!(
                "Invalid email address: {address}"
            )));
        }
        if !out.iter().any(|a| a.eq_ignore_ascii_case(address)) {
            out.push(address.to_string());
        }
    }
    if out.is_empty() {
        return Err(ReleaseError::Recipients("No valid addresses found".into()));
    }
    if out.len() > 100 {
        return Err(ReleaseError::Recipients(
            "Too many recipients (at most 100)".into(),
        ));
    }
    Ok(out)
}
