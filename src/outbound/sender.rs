//! The task that sends due deliveries: it picks them from the queue, claims
//! each in the store (so of several PostgreSQL nodes only one sends it),
//! makes the attempt and writes its result back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use tokio::task::JoinSet;

use super::queue::{Delivery, State};
use super::relay::RelayTarget;
use super::{Outbound, client, event_of, persist};
use crate::shutdown::Shutdown;
use crate::store::deliveries::Claim;

/// The longest the sender sleeps between looks at the queue, so a clock
/// jump cannot stall it for long.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// How often a node sharing its deliveries (PostgreSQL) looks for ones it
/// does not hold: queued by another node that has stopped since.
const ADOPT_EVERY: Duration = Duration::from_secs(30);

/// How long past an attempt's own time limit its claim holds.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// One attempt's inputs, copied out of the queue so the lock is not held
/// while sending.
struct Job {
    id: String,
    target: Arc<RelayTarget>,
    from: String,
    to: Vec<String>,
    raw: Bytes,
}

impl Job {
    fn of(d: &Delivery) -> Job {
        Job {
            id: d.id.clone(),
            target: d.target.clone(),
            from: d.from.clone(),
            to: d.pending(),
            raw: d.raw.clone(),
        }
    }
}

impl Outbound {
    /// How long a claim on `delivery` holds: the longest its attempt may
    /// take, and a margin.
    pub(super) fn lease(&self, delivery: &Delivery) -> Duration {
        client::time_limit(self.timeout, delivery.recipients.len()) + LEASE_MARGIN
    }

    /// When to look again at a delivery another node is sending: after
    /// the first retry wait, or its claim's lease if shorter.
    pub(super) fn recheck_after(&self, delivery: &Delivery) -> Duration {
        self.schedule.after(1).min(self.lease(delivery))
    }

    /// Sends due deliveries until shutdown.
    pub(crate) async fn run(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut sending = JoinSet::new();
        let mut adopt = tokio::time::interval(ADOPT_EVERY);
        adopt.tick().await;
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
                _ = adopt.tick(), if self.store.shares_deliveries() => self.adopt().await,
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
            let waiting = matches!(d.state, State::Queued | State::Deferred)
                || (d.state == State::Sending && d.elsewhere);
            let Some(at) = d.next_attempt.filter(|_| waiting) else {
                continue;
            };
            if at > now {
                let wait = Duration::try_from(at.duration_since(now)).unwrap_or(MAX_IDLE);
                idle = idle.min(wait);
            } else if due.len() < free {
                d.state = State::Sending;
                d.elsewhere = false;
                let _ = self.events.send(event_of(d));
                due.push(Job::of(d));
            }
        }
        (due, idle)
    }

    async fn send(self: Arc<Self>, job: Job) {
        let Some(job) = self.claim(job).await else {
            self.wake.notify_one();
            return;
        };
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
        let row = {
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
            persist::row_of(delivery, self.target.as_ref())
        };
        if let Err(error) = self.store.finish_attempt(&row).await {
            // The claim lapses and the attempt is made again: the
            // recipients that accepted may get the message twice.
            tracing::error!(delivery = %job.id, %error, "cannot record a delivery attempt");
        }
        self.wake.notify_one();
    }

    /// Claims the delivery in the store; `None` when it is not ours to
    /// send now (the local copy is brought up to date instead).
    async fn claim(&self, job: Job) -> Option<Job> {
        let now = Timestamp::now();
        let (lease, recheck) = match self.queue.lock().get_mut(&job.id) {
            Some(d) => (self.lease(d), self.recheck_after(d)),
            None => return None,
        };
        let claim = self
            .store
            .claim_delivery(
                &job.id,
                now.as_microsecond(),
                (now + lease).as_microsecond(),
            )
            .await;
        let mut queue = self.queue.lock();
        let delivery = queue.get_mut(&job.id)?;
        match claim {
            Ok(Claim::Claimed(None)) => Some(job),
            Ok(Claim::Claimed(Some(row))) => match persist::refresh(delivery, &row) {
                Ok(()) => Some(Job::of(delivery)),
                Err(error) => {
                    tracing::warn!(delivery = %job.id, %error, "unreadable delivery row");
                    None
                }
            },
            Ok(Claim::Refused(None)) => {
                queue.deliveries.retain(|d| d.id != job.id);
                None
            }
            Ok(Claim::Refused(Some(row))) => {
                if persist::refresh(delivery, &row).is_err() || delivery.state == State::Sending {
                    // Another node's attempt: looked at again after its claim.
                    delivery.state = State::Sending;
                    delivery.elsewhere = true;
                    delivery.next_attempt = Some(now + recheck);
                }
                let _ = self.events.send(event_of(delivery));
                None
            }
            Err(error) => {
                tracing::warn!(delivery = %job.id, %error, "cannot claim a delivery; retrying later");
                delivery.state = State::Deferred;
                delivery.next_attempt = Some(now + MAX_IDLE);
                None
            }
        }
    }

    /// Takes in the unfinished deliveries other nodes saved that this one
    /// does not hold (queued by a node that stopped), while there is room.
    async fn adopt(&self) {
        let max = self.queue.lock().max;
        let rows = match self.store.load_deliveries(max, true).await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "cannot look for other nodes' deliveries");
                return;
            }
        };
        let (mut adopted, mut dropped) = (0, Vec::new());
        for row in rows {
            if self.queue.lock().get_mut(&row.id).is_some() {
                continue;
            }
            let Some(delivery) = self.revive(row) else {
                continue;
            };
            let mut queue = self.queue.lock();
            match queue.make_room(delivery.size) {
                Ok(ids) => dropped.extend(ids),
                Err(_) => break,
            }
            queue.deliveries.push_back(delivery);
            adopted += 1;
        }
        self.forget(dropped).await;
        if adopted > 0 {
            tracing::info!(adopted, "took in deliveries saved by other nodes");
            self.wake.notify_one();
        }
    }
}
