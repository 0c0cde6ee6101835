//! A [`Delivery`] as the store keeps it ([`DeliveryRow`]) and back: the
//! columns the engines select on, and the rest as JSON (`detail`).
//!
//! A delivery through the configured relay keeps only that fact, so a
//! restart sends it through the relay configured then; one through a
//! server a MailHog release named keeps that server, with its password
//! until the delivery finishes.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::queue::{Attempt, Delivery, Recipient, State};
use super::relay::{Auth, RelayTarget};
use crate::store::deliveries::DeliveryRow;

/// Everything of a delivery that has no column of its own.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Detail {
    from: String,
    server: String,
    size: usize,
    target: Target,
    recipients: Vec<Recipient>,
    attempts: Vec<Attempt>,
}

/// Where a delivery goes.
#[derive(Serialize, Deserialize)]
#[serde(tag = "Kind")]
enum Target {
    /// The relay configured when it is sent.
    Relay,
    /// A server a MailHog release named.
    Direct {
        host: String,
        port: u16,
        mechanism: String,
        username: String,
        password: String,
    },
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn timestamp(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or_default()
}

/// The row of `delivery`; `relay` is the configured relay, to tell its
/// deliveries from MailHog's.
pub(super) fn row_of(delivery: &Delivery, relay: Option<&Arc<RelayTarget>>) -> DeliveryRow {
    let target = if relay.is_some_and(|r| Arc::ptr_eq(r, &delivery.target)) {
        Target::Relay
    } else {
        let t = &delivery.target;
        let (mechanism, username, password) = match &t.login {
            Auth::None => ("none", "", ""),
            Auth::Plain { username, password } => ("plain", username.as_str(), password.as_str()),
            Auth::Login { username, password } => ("login", username.as_str(), password.as_str()),
            Auth::CramMd5 { username, secret } => ("cram-md5", username.as_str(), secret.as_str()),
        };
        // A finished delivery needs no password.
        let password = if delivery.state.is_final() {
            ""
        } else {
            password
        };
        Target::Direct {
            host: t.host.clone(),
            port: t.port,
            mechanism: mechanism.into(),
            username: username.into(),
            password: password.into(),
        }
    };
    let detail = Detail {
        from: delivery.from.clone(),
        server: delivery.server.clone(),
        size: delivery.size,
        target,
        recipients: delivery.recipients.clone(),
        attempts: delivery.attempts.clone(),
    };
    DeliveryRow {
        id: delivery.id.clone(),
        message_id: delivery.message_id.clone(),
        mailbox: delivery.mailbox.to_string(),
        state: delivery.state.name().into(),
        created: micros(delivery.created),
        next_attempt: delivery.next_attempt.map(micros),
        give_up: micros(delivery.give_up),
        detail: serde_json::to_string(&detail).expect("a delivery always encodes"),
        raw: (!delivery.raw.is_empty()).then(|| delivery.raw.clone()),
    }
}

/// The delivery of a row; an error names what is wrong with it.
pub(super) fn delivery_of(
    row: DeliveryRow,
    relay: Option<&Arc<RelayTarget>>,
) -> Result<Delivery, String> {
    let detail: Detail = serde_json::from_str(&row.detail).map_err(|e| e.to_string())?;
    let state = State::parse(&row.state).ok_or_else(|| format!("state {:?}", row.state))?;
    let target = match detail.target {
        Target::Relay => relay
            .cloned()
            .ok_or("it goes through the relay, and none is configured")?,
        Target::Direct {
            host,
            port,
            mechanism,
            username,
            password,
        } => {
            let login = match mechanism.as_str() {
                "plain" => Auth::Plain { username, password },
                "login" => Auth::Login { username, password },
                "cram-md5" => Auth::CramMd5 {
                    username,
                    secret: password,
                },
                _ => Auth::None,
            };
            Arc::new(RelayTarget::adhoc(host, port, login))
        }
    };
    let raw = row.raw.unwrap_or_default();
    if !state.is_final() && raw.is_empty() && detail.size > 0 {
        return Err("its message bytes are missing".into());
    }
    Ok(Delivery {
        id: row.id,
        message_id: row.message_id,
        mailbox: Arc::from(row.mailbox),
        state,
        created: timestamp(row.created),
        from: detail.from,
        server: detail.server,
        recipients: detail.recipients,
        attempts: detail.attempts,
        next_attempt: row.next_attempt.map(timestamp),
        give_up: timestamp(row.give_up),
        size: detail.size,
        raw,
        target,
        elsewhere: false,
    })
}

/// Brings `local` up to date with the row another node (or this one,
/// before a restart) wrote; the raw bytes and target stay.
pub(super) fn refresh(local: &mut Delivery, row: &DeliveryRow) -> Result<(), String> {
    let detail: Detail = serde_json::from_str(&row.detail).map_err(|e| e.to_string())?;
    local.state = State::parse(&row.state).ok_or_else(|| format!("state {:?}", row.state))?;
    local.next_attempt = row.next_attempt.map(timestamp);
    local.recipients = detail.recipients;
    local.attempts = detail.attempts;
    if local.state.is_final() {
        local.raw = bytes::Bytes::new();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::queue::Reply;
    use std::time::Duration;

    #[test]
    fn a_delivery_comes_back_as_it_went() {
        let relay = Arc::new(RelayTarget::adhoc("relay".into(), 25, Auth::None));
        let now = Timestamp::from_microsecond(Timestamp::now().as_microsecond()).unwrap();
        let delivery = Delivery {
            id: "d1".into(),
            message_id: "m1".into(),
            mailbox: Arc::from("default"),
            state: State::Deferred,
            created: now,
            from: "a@x".into(),
            server: "relay:25".into(),
            recipients: vec![Recipient {
                address: "b@x".into(),
                state: "pending",
                reply: Some(Reply {
                    code: 451,
                    text: "later".into(),
                }),
            }],
            attempts: vec![Attempt {
                started: now,
                server: "relay:25".into(),
                steps: vec![],
            }],
            next_attempt: Some(now + Duration::from_secs(30)),
            give_up: now + Duration::from_secs(3600),
            size: 3,
            raw: bytes::Bytes::from_static(b"abc"),
            target: relay.clone(),
            elsewhere: false,
        };
        let row = row_of(&delivery, Some(&relay));
        assert!(row.detail.contains(r#""Kind":"Relay""#), "{}", row.detail);
        let back = delivery_of(row.clone(), Some(&relay)).unwrap();
        assert_eq!(row_of(&back, Some(&relay)), row);
        assert!(Arc::ptr_eq(&back.target, &relay));
        assert!(delivery_of(row, None).unwrap_err().contains("relay"));
    }
}
