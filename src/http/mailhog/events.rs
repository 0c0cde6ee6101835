//! MailHog's live feeds of new messages: `GET /api/v1/events` (server-sent
//! events, each message as indented JSON in `data:` lines) and
//! `GET /api/v2/websocket` (each message as one compact JSON text frame).
//!
//! Both read the store's broadcast feed and announce only new messages. A
//! client that falls behind the broadcast buffer skips what it missed (MailHog
//! has no way to tell a client to resync; the store still has every message).
//! Both end when the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::http::HttpState;
use crate::http::access::Access;
use crate::shutdown::Shutdown;
use crate::store::{Event, StoredMessage};

/// How long a WebSocket send may block before the client is dropped, and
/// how often it is pinged (MailHog's values).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const PING_INTERVAL: Duration = Duration::from_secs(54);
/// The SSE keep-alive period (MailHog sends one a minute).
const KEEPALIVE: Duration = Duration::from_secs(60);
/// Clients only listen; anything bigger they send is refused.
const MAX_CLIENT_FRAME: usize = 1024;

/// Waits for the next new message, or `None` once the server stops.
async fn next_new(
    state: &HttpState,
    access: &Access,
    events: &mut broadcast::Receiver<Event>,
    shutdown: &mut Shutdown,
) -> Option<Arc<StoredMessage>> {
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event @ Event::New(_)) if !access.sees(&state.app.store, &event) => {}
                Ok(Event::New(message)) => return Some(message),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            },
            _ = shutdown.wait() => return None,
        }
    }
}

/// `GET /api/v1/events`.
pub async fn server_sent(State(state): State<Arc<HttpState>>, access: Access) -> Response {
    let feed = (state.app.subscribe(), state.shutdown.clone(), state, access);
    let stream = futures_util::stream::unfold(
        feed,
        |(mut events, mut shutdown, state, access)| async move {
            loop {
                let message = next_new(&state, &access, &mut events, &mut shutdown).await?;
                // A message deleted or unreadable meanwhile is not announced.
                if let Ok(json) = super::rendered(&state, &message, true).await {
                    let event = SseEvent::default().data(json);
                    let feed = (events, shutdown, state, access);
                    return Some((Ok::<_, Infallible>(event), feed));
                }
            }
        },
    );
    sse(stream)
}

fn sse(stream: impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive"))
        .into_response()
}

/// `GET /api/v2/websocket`. Auth and the Origin check ran as middleware.
pub async fn websocket(
    State(state): State<Arc<HttpState>>,
    access: Access,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| serve_socket(state, access, socket))
}

async fn serve_socket(state: Arc<HttpState>, access: Access, socket: WebSocket) {
    let _counted = state.app.metrics.websocket_client();
    let mut events = state.app.subscribe();
    let mut shutdown = state.shutdown.clone();
    let (mut sink, mut incoming) = socket.split();
    let start = tokio::time::Instant::now() + PING_INTERVAL;
    let mut ping = tokio::time::interval_at(start, PING_INTERVAL);
    loop {
        let frame = tokio::select! {
            message = next_new(&state, &access, &mut events, &mut shutdown) => match message {
                Some(message) => match super::rendered(&state, &message, false).await {
                    Ok(json) => Frame::Text(Utf8Bytes::from(json)),
                    Err(_) => continue,
                },
                None => break,
            },
            _ = ping.tick() => Frame::Ping(Default::default()),
            received = incoming.next() => match received {
                None | Some(Err(_)) | Some(Ok(Frame::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
        };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(frame)).await {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Frame::Close(None))).await;
}
