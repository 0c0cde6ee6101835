//! The outbound side: releasing a captured message to a real SMTP server.
//!
//! A release becomes a [`Delivery`] in a bounded in-memory [`Queue`] and is
//! answered at once; a background task sends due deliveries, at most
//! `--smtp-relay-concurrency` at a time, and retries temporary failures on
//! the `--smtp-relay-retry` schedule until `--smtp-relay-give-up`. The
//! queue is kept in memory whatever the storage engine, so pending
//! deliveries do not survive a restart.

mod client;
mod prepare;
pub(crate) mod queue;
pub(crate) mod relay;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use parking_lot::Mutex;
use regex::Regex;
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinSet;

use crate::config::Config;
use crate::shutdown::Shutdown;
use crate::store::{Event, StoredMessage};
pub use queue::{Delivery, State};
use queue::{Queue, Recipient, Schedule};
pub(crate) use relay::{Auth, RelayTarget};

/// The longest the sender sleeps between looks at the queue, so a clock
/// jump cannot stall it for long.
const MAX_IDLE: Duration = Duration::from_secs(30);

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
}

impl Outbound {
    /// Checks and loads the relay options.
    pub(crate) fn new(
        config: &Config,
        events: broadcast::Sender<Event>,
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
    pub fn release(
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
        self.enqueue(message, raw, to, target)
    }

    /// MailHog's release: one recipient through a server the request names.
    pub(crate) fn release_to(
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
        self.enqueue(message, raw, to, Arc::new(target))
    }

    /// Auto-relay of a message just stored, if `--smtp-relay-all` or
    /// `--smtp-relay-matching` asks for it. Failures are logged, never
    /// refused to the sender.
    pub(crate) fn relay_incoming(&self, message: &StoredMessage, raw: Bytes) {
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
        if let Err(error) = self.enqueue(message, raw, to, target.clone()) {
            tracing::warn!(id = message.id(), %error, "auto-relay refused");
        }
    }

    fn enqueue(
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
        let mut queue = self.queue.lock();
        queue.make_room(raw.len()).map_err(ReleaseError::Full)?;
        let id = queue.next_id();
        queue.deliveries.push_back(Delivery {
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
            next_attempt: Some(now),
            give_up: now + self.give_up,
            size: raw.len(),
            raw,
            target,
        });
        if let Some(queued) = queue.deliveries.back() {
            self.announce(queued);
        }
        drop(queue);
        self.wake.notify_one();
        tracing::info!(delivery = %id, message = message.id(), "release queued");
        Ok(id)
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

    /// Makes a deferred or queued delivery due now. False when it is
    /// unknown or not waiting.
    pub fn retry_now(&self, id: &str) -> Option<bool> {
        let mut queue = self.queue.lock();
        let delivery = queue.get_mut(id)?;
        if !matches!(delivery.state, State::Queued | State::Deferred) {
            return Some(false);
        }
        delivery.next_attempt = Some(Timestamp::now());
        drop(queue);
        self.wake.notify_one();
        Some(true)
    }

    /// Cancels an unfinished delivery (one being sent finishes its attempt
    /// but is not retried). False when it had already finished.
    pub fn cancel(&self, id: &str) -> Option<bool> {
        let mut queue = self.queue.lock();
        let delivery = queue.get_mut(id)?;
        if delivery.state.is_final() {
            return Some(false);
        }
        delivery.cancel();
        let cancelled = delivery.clone();
        drop(queue);
        self.announce(&cancelled);
        Some(true)
    }

    /// Deliveries per state, for `/metrics`.
    pub fn counts(&self) -> Vec<(State, usize)> {
        let queue = self.queue.lock();
        State::ALL
            .iter()
            .map(|&s| (s, queue.deliveries.iter().filter(|d| d.state == s).count()))
            .collect()
    }

    /// Sends due deliveries until shutdown.
    pub(crate) async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut sending = JoinSet::new();
        loop {
            let free = self.concurrency.saturating_sub(sending.len());
            let (due, idle) = self.take_due(free);
            for job in due {
                sending.spawn(self.clone().send(job));
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                Some(_) = sending.join_next(), if !sending.is_empty() => {}
                _ = tokio::time::sleep(idle) => {}
                _ = shutdown.wait() => {
                    sending.abort_all();
                    return;
                }
            }
        }
    }

    /// Marks up to `free` due deliveries as sending; returns them and how
    /// long until the next one falls due.
    fn take_due(&self, free: usize) -> (Vec<Job>, Duration) {
        let now = Timestamp::now();
        let mut queue = self.queue.lock();
        let mut due = Vec::new();
        let mut idle = MAX_IDLE;
        for d in queue.deliveries.iter_mut() {
            if !matches!(d.state, State::Queued | State::Deferred) {
                continue;
            }
            let Some(at) = d.next_attempt else { continue };
            if at > now {
                let wait = Duration::try_from(at.duration_since(now)).unwrap_or(MAX_IDLE);
                idle = idle.min(wait);
            } else if due.len() < free {
                d.state = State::Sending;
                let _ = self.events.send(event_of(d));
                due.push(Job {
                    id: d.id.clone(),
                    target: d.target.clone(),
                    from: d.from.clone(),
                    to: d.pending(),
                    raw: d.raw.clone(),
                });
            }
        }
        (due, idle)
    }

    async fn send(self: Arc<Self>, job: Job) {
        // In a task of its own, so a panic in the SMTP client becomes a
        // temporary failure instead of a delivery stuck in `sending`.
        let (target, hostname, timeout) = (job.target.clone(), self.hostname.clone(), self.timeout);
        let (from, to, raw) = (job.from.clone(), job.to.clone(), job.raw.clone());
        let attempt = tokio::spawn(async move {
            client::attempt(&target, &hostname, &from, &to, &raw, timeout).await
        });
        let outcome = match attempt.await {
            Ok(outcome) => outcome,
            Err(error) => client::crashed(&job.target, &job.to, &error.to_string()),
        };
        let mut queue = self.queue.lock();
        let Some(delivery) = queue.get_mut(&job.id) else {
            return;
        };
        if delivery.state == State::Cancelled {
            return;
        }
        delivery.record(outcome, Timestamp::now(), &self.schedule);
        let _ = self.events.send(event_of(delivery));
        tracing::info!(delivery = %job.id, state = delivery.state.name(), "delivery attempt finished");
        drop(queue);
        self.wake.notify_one();
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

/// One attempt's inputs, copied out of the queue so the lock is not held
/// while sending.
struct Job {
    id: String,
    target: Arc<RelayTarget>,
    from: String,
    to: Vec<String>,
    raw: Bytes,
}

/// Mailpit's checks of the `To` list: each must be an address; none given
/// is an error. Duplicates are sent once.
fn check_addresses(to: &[String]) -> Result<Vec<String>, ReleaseError> {
    let mut out: Vec<String> = Vec::new();
    for address in to {
        let address = address.trim();
        if address.parse::<lettre::Address>().is_err() {
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
