//! The live feed, `GET /api/events` (contract §2.4): server-to-client frames
//! `{"Type": .., "Data": ..}` of types `new`, `stats`, `update`, `delete`,
//! `prune`, `truncate` and `error`.
//!
//! Each client task reads the store's broadcast change feed on its own.
//! Publishing never waits for a client, so a slow client cannot slow
//! ingestion: it falls behind in the broadcast buffer instead. A client more
//! than `--ws-buffer` events behind skips its backlog and gets a `prune`, so
//! it refetches from the store, which still holds every message (likewise
//! when the broadcast buffer overtook it). A client whose socket stays
//! blocked for [`SEND_TIMEOUT`] is dropped.
//! `stats` frames are debounced: one, [`STATS_DELAY`] after the first change.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::HttpState;
use super::access::Access;
use super::json::MessageSummary;
use crate::store::Event;

const STATS_DELAY: Duration = Duration::from_millis(250);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_INTERVAL: Duration = Duration::from_secs(54);

/// The upgrade. Auth and the Origin check have already run as middleware;
/// the client gets the events of the mailboxes it may see.
pub async fn events(
    State(state): State<Arc<HttpState>>,
    access: Access,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| serve_client(state, access, socket))
}

#[derive(Serialize)]
struct Frame<T> {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(rename = "Data")]
    data: T,
}

fn encode<T: Serialize>(kind: &'static str, data: T) -> Option<Message> {
    serde_json::to_string(&Frame { kind, data })
        .ok()
        .map(|text| Message::Text(Utf8Bytes::from(text)))
}

/// The frame for one store event, for a client with `access`.
fn frame_for(event: &Event, access: &Access) -> Option<Message> {
    match event {
        Event::New(message) => encode("new", MessageSummary::new(message)),
        Event::Read { id, read, .. } => encode("update", json!({"ID": id, "Read": read})),
        Event::Tags { id, tags, .. } => encode("update", json!({"ID": id, "Tags": tags})),
        Event::Deleted { id, .. } => encode("delete", json!({"ID": id})),
        Event::Mailboxes => None,
        Event::Delivery {
            id,
            message_id,
            state,
            ..
        } => encode(
            "delivery",
            json!({"ID": id, "MessageID": message_id, "State": state}),
        ),
        Event::Pruned { .. } => encode("prune", Value::Null),
        // One mailbox emptied is a truncation to its own clients, and a
        // refetch to those who see it among others.
        Event::Truncated {
            mailbox: Some(emptied),
        } if access.mailbox.as_ref() != Some(emptied) => encode("prune", Value::Null),
        Event::Truncated { .. } => encode("truncate", Value::Null),
        Event::SmtpError { ip, message } => encode(
            "error",
            json!({
                "Level": if message.starts_with('4') { "warning" } else { "error" },
                "Type": "smtpd",
                "IP": ip,
                "Message": message,
            }),
        ),
    }
}

async fn stats_frame(state: &HttpState, access: &Access) -> Option<Message> {
    let counts = state.store(access).counts().await.ok()?;
    encode(
        "stats",
        json!({
            "Total": counts.total,
            "Unread": counts.unread,
            "Version": super::api::version(),
        }),
    )
}

/// Why a client's loop ended; only for the log.
#[derive(Debug)]
enum Disconnect {
    Closed,
    TooSlow,
    ShuttingDown,
}

async fn serve_client(state: Arc<HttpState>, access: Access, socket: WebSocket) {
    let _counted = state.app.metrics.websocket_client();
    let mut events = state.app.subscribe();
    let mut shutdown = state.shutdown.clone();
    let (mut sink, mut incoming) = socket.split();
    let max_behind = state.app.settings.config.http.ws_buffer.max(1);
    // Mailpit sends stats right after a connect.
    let mut stats_due = Some(Instant::now() + STATS_DELAY);
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);

    let reason = loop {
        let outgoing = tokio::select! {
            event = events.recv() => match event {
                Ok(_) if events.len() > max_behind => {
                    // Too far behind to catch up frame by frame: skip the
                    // backlog and have the client refetch.
                    events = events.resubscribe();
                    stats_due.get_or_insert(Instant::now() + STATS_DELAY);
                    encode("prune", Value::Null)
                }
                Ok(event) if !access.sees(&state.app.store, &event) => None,
                Ok(event) => {
                    stats_due.get_or_insert(Instant::now() + STATS_DELAY);
                    frame_for(&event, &access)
                }
                Err(RecvError::Lagged(_)) => {
                    stats_due.get_or_insert(Instant::now() + STATS_DELAY);
                    encode("prune", Value::Null)
                }
                Err(RecvError::Closed) => break Disconnect::ShuttingDown,
            },
            _ = sleep_until(stats_due) => {
                stats_due = None;
                stats_frame(&state, &access).await
            }
            _ = ping.tick() => Some(Message::Ping(Default::default())),
            // The client only talks to close; anything else is ignored.
            received = incoming.next() => match received {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Disconnect::Closed,
                Some(Ok(_)) => None,
            },
            _ = shutdown.wait() => break Disconnect::ShuttingDown,
        };
        let Some(frame) = outgoing else { continue };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break Disconnect::Closed,
            Err(_) => break Disconnect::TooSlow,
        }
    };
    tracing::debug!(?reason, "WebSocket client gone");
    if !matches!(reason, Disconnect::Closed) {
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
    }
}

/// Sleeps until `deadline`, or forever when there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
