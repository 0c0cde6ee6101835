//! The deliveries and their life: each release is a [`Delivery`] with a
//! state, a record per attempt and a result per recipient. The rules of
//! RFC 5321 §4.5.4 are applied here: a 4xx reply or a failed connection
//! defers a recipient until the next retry, a 5xx fails it, and a delivery
//! past its give-up time fails whatever is still pending.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::relay::RelayTarget;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt is under way.
    Sending,
    /// A temporary failure; retried at `next_attempt`.
    Deferred,
    /// Every recipient accepted the message.
    Delivered,
    /// At least one recipient failed for good and none is pending.
    Failed,
    /// Cancelled through the API before it finished.
    Cancelled,
}

impl State {
    pub fn is_final(self) -> bool {
        matches!(self, State::Delivered | State::Failed | State::Cancelled)
    }

    pub fn parse(name: &str) -> Option<State> {
        Some(match name {
            "queued" => State::Queued,
            "sending" => State::Sending,
            "deferred" => State::Deferred,
            "delivered" => State::Delivered,
            "failed" => State::Failed,
            "cancelled" => State::Cancelled,
            _ => return None,
        })
    }

    pub const ALL: [State; 6] = [
        State::Queued,
        State::Sending,
        State::Deferred,
        State::Delivered,
        State::Failed,
        State::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Deferred => "deferred",
            State::Delivered => "delivered",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }
}

/// One SMTP reply, or a failure that had none (connection refused, time-out).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reply {
    /// The reply code; 0 when there was no reply.
    pub code: u16,
    pub text: String,
}

impl Reply {
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// `pending`, `delivered` or `failed`. (An alias, so serde does not take
/// the field for a string borrowed from its input.)
pub type RecipientState = &'static str;

/// Where one recipient stands.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recipient {
    pub address: String,
    /// `pending`, `delivered` or `failed`.
    #[serde(deserialize_with = "recipient_state")]
    pub state: RecipientState,
    /// The last reply about this recipient.
    pub reply: Option<Reply>,
}

/// One command of an attempt and its reply.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Step {
    pub command: String,
    #[serde(flatten)]
    pub reply: Reply,
}

/// One connection to the relay.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attempt {
    #[serde(serialize_with = "rfc3339", deserialize_with = "from_rfc3339")]
    pub started: Timestamp,
    pub server: String,
    pub steps: Vec<Step>,
}

/// What an attempt found: per recipient, the reply that decides it.
#[derive(Debug)]
pub struct Outcome {
    pub attempt: Attempt,
    /// One entry per recipient tried, in the order given.
    pub replies: Vec<(String, Reply)>,
}

/// A released message on its way out.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Delivery {
    #[serde(rename = "ID")]
    pub id: String,
    /// The stored message it came from.
    #[serde(rename = "MessageID")]
    pub message_id: String,
    #[serde(skip)]
    pub mailbox: Arc<str>,
    pub state: State,
    #[serde(serialize_with = "rfc3339")]
    pub created: Timestamp,
    /// The envelope sender; empty for `<>`.
    pub from: String,
    pub server: String,
    pub recipients: Vec<Recipient>,
    pub attempts: Vec<Attempt>,
    #[serde(serialize_with = "rfc3339_opt")]
    pub next_attempt: Option<Timestamp>,
    #[serde(serialize_with = "rfc3339")]
    pub give_up: Timestamp,
    pub size: usize,
    #[serde(skip)]
    pub raw: Bytes,
    #[serde(skip)]
    pub target: Arc<RelayTarget>,
    /// Being sent by another node (PostgreSQL): looked at again when its
    /// claim may have lapsed (`next_attempt`).
    #[serde(skip)]
    pub elsewhere: bool,
}

fn rfc3339<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

fn from_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// A recipient's state as the queue names it (a database row's JSON).
fn recipient_state<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    match String::deserialize(d)?.as_str() {
        "pending" => Ok("pending"),
        "delivered" => Ok("delivered"),
        "failed" => Ok("failed"),
        other => Err(serde::de::Error::custom(format!(
            "unknown recipient state {other:?}"
        ))),
    }
}

fn rfc3339_opt<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_string()),
        None => s.serialize_none(),
    }
}

/// Most attempts recorded per delivery; older ones are dropped, so a long
/// retry schedule cannot grow a delivery without bound.
const MAX_ATTEMPTS_KEPT: usize = 50;

impl Delivery {
    /// The recipients still to be tried.
    pub fn pending(&self) -> Vec<String> {
        self.recipients
            .iter()
            .filter(|r| r.state == "pending")
            .map(|r| r.address.clone())
            .collect()
    }

    /// Applies an attempt's replies; defers or ends the delivery.
    pub fn record(&mut self, outcome: Outcome, now: Timestamp, retry: &Schedule) {
        for (address, reply) in outcome.replies {
            if let Some(r) = self.recipients.iter_mut().find(|r| r.address == address) {
                r.state = if reply.is_positive() {
                    "delivered"
                } else if reply.is_permanent() {
                    "failed"
                } else {
                    "pending"
                };
                r.reply = Some(reply);
            }
        }
        if self.attempts.len() >= MAX_ATTEMPTS_KEPT {
            self.attempts.remove(0);
        }
        self.attempts.push(outcome.attempt);
        self.settle(now, retry);
    }

    /// Works out the state from the recipients: retry while any is
    /// pending and the give-up time allows, else final.
    fn settle(&mut self, now: Timestamp, retry: &Schedule) {
        if self.recipients.iter().any(|r| r.state == "pending") {
            let wait = retry.after(self.attempts.len());
            let next = now + wait;
            if next <= self.give_up {
                self.state = State::Deferred;
                self.next_attempt = Some(next);
                return;
            }
            for r in self.recipients.iter_mut().filter(|r| r.state == "pending") {
                r.state = "failed";
                let last = r.reply.take();
                r.reply = Some(Reply {
                    code: last.as_ref().map_or(0, |l| l.code),
                    text: format!(
                        "gave up after {} attempts: {}",
                        self.attempts.len(),
                        last.map_or_else(String::new, |l| l.text)
                    ),
                });
            }
        }
        self.next_attempt = None;
        self.state = if self.recipients.iter().all(|r| r.state == "delivered") {
            State::Delivered
        } else {
            State::Failed
        };
        // The bytes are no longer needed.
        self.raw = Bytes::new();
    }

    pub fn cancel(&mut self) {
        self.state = State::Cancelled;
        self.next_attempt = None;
        self.raw = Bytes::new();
    }
}

/// The waits between attempts: the n-th retry waits the n-th entry, and
/// the last entry repeats.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule(Vec<Duration>);

impl Schedule {
    /// `30s,1m,2m,5m,10m`.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let waits = text
            .split(',')
            .map(|part| crate::config::parse_age(part.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--smtp-relay-retry: {e}"))?;
        if waits.is_empty() || waits.len() > 100 {
            return Err("--smtp-relay-retry: give 1 to 100 waits".into());
        }
        Ok(Schedule(waits))
    }

    /// The wait after the `attempts`-th attempt (1-based).
    pub fn after(&self, attempts: usize) -> Duration {
        let index = attempts.saturating_sub(1).min(self.0.len() - 1);
        self.0[index]
    }
}

/// The deliveries, oldest first, bounded in count and in bytes held.
pub struct Queue {
    pub deliveries: VecDeque<Delivery>,
    pub max: usize,
    pub max_bytes: usize,
}

impl Queue {
    pub fn new(max: usize, max_bytes: usize) -> Queue {
        Queue {
            deliveries: VecDeque::new(),
            max,
            max_bytes,
        }
    }

    /// Makes room for one more of `size` bytes: finished deliveries go
    /// first (oldest first); if only unfinished ones remain, refuses.
    /// Returns the IDs of the deliveries dropped.
    pub fn make_room(&mut self, size: usize) -> Result<Vec<String>, String> {
        let held = |q: &Queue| q.deliveries.iter().map(|d| d.raw.len()).sum::<usize>();
        if held(self).saturating_add(size) > self.max_bytes {
            return Err(format!(
                "the outbound queue holds {} bytes of undelivered mail; its cap is {}",
                held(self),
                self.max_bytes
            ));
        }
        let mut dropped = Vec::new();
        while self.deliveries.len() >= self.max {
            let Some(done) = self.deliveries.iter().position(|d| d.state.is_final()) else {
                return Err(format!(
                    "the outbound queue is full ({} deliveries pending)",
                    self.max
                ));
            };
            dropped.extend(self.deliveries.remove(done).map(|d| d.id));
        }
        Ok(dropped)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Delivery> {
        self.deliveries.iter_mut().find(|d| d.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(recipients: &[&str]) -> Delivery {
        let now = Timestamp::now();
        Delivery {
            id: "1".into(),
            message_id: "m".into(),
            mailbox: "default".into(),
            state: State::Queued,
            created: now,
            from: "a@example.com".into(),
            server: "h:25".into(),
            recipients: recipients
                .iter()
                .map(|a| Recipient {
                    address: a.to_string(),
                    state: "pending",
                    reply: None,
                })
                .collect(),
            attempts: vec![],
            next_attempt: None,
            give_up: now + Duration::from_secs(600),
            size: 3,
            raw: Bytes::from_static(b"abc"),
            target: Arc::new(RelayTarget::adhoc(
                "h".into(),
                25,
                super::super::relay::Auth::None,
            )),
            elsewhere: false,
        }
    }

    fn outcome(replies: &[(&str, u16)]) -> Outcome {
        Outcome {
            attempt: Attempt {
                started: Timestamp::now(),
                server: "h:25".into(),
                steps: vec![],
            },
            replies: replies
                .iter()
                .map(|(a, code)| {
                    (
                        a.to_string(),
                        Reply {
                            code: *code,
                            text: "x".into(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn four_xx_defers_five_xx_fails_per_recipient() {
        let schedule = Schedule::parse("1m,5m").unwrap();
        let mut d = delivery(&["a@x", "b@x", "c@x"]);
        let now = Timestamp::now();
        d.record(
            outcome(&[("a@x", 250), ("b@x", 451), ("c@x", 550)]),
            now,
            &schedule,
        );
        assert_eq!(d.state, State::Deferred);
        assert_eq!(d.next_attempt, Some(now + Duration::from_secs(60)));
        assert_eq!(d.pending(), vec!["b@x".to_string()]);
        d.record(outcome(&[("b@x", 451)]), now, &schedule);
        assert_eq!(d.next_attempt, Some(now + Duration::from_secs(300)));
        d.record(outcome(&[("b@x", 250)]), now, &schedule);
        assert_eq!(d.state, State::Failed, "c@x failed for good");
        assert!(d.raw.is_empty());
    }

    #[test]
    fn gives_up_when_the_next_retry_is_too_late() {
        let schedule = Schedule::parse("20m").unwrap();
        let mut d = delivery(&["a@x"]);
        d.record(outcome(&[("a@x", 421)]), Timestamp::now(), &schedule);
        assert_eq!(d.state, State::Failed);
        let reply = d.recipients[0].reply.as_ref().unwrap();
        assert!(
            reply.text.starts_with("gave up after 1 attempts"),
            "{reply:?}"
        );
    }

    #[test]
    fn the_queue_drops_finished_deliveries_first_and_then_refuses() {
        let mut q = Queue::new(2, 100);
        q.deliveries.push_back(delivery(&["a@x"]));
        q.deliveries.push_back(delivery(&["a@x"]));
        assert!(q.make_room(3).unwrap_err().contains("full"));
        q.deliveries[0].cancel();
        assert_eq!(q.make_room(3).unwrap(), ["1"]);
        assert_eq!(q.deliveries.len(), 1);
        assert!(q.make_room(98).unwrap_err().contains("bytes"));
    }
}
