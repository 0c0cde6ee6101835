//! `--webhook-url`: a POST of each new message's summary (the JSON of the
//! WebSocket `new` frame and of Mailpit's webhook) to a URL.
//!
//! It listens to the change feed, so ingest never waits for it. Messages
//! wait in a bounded queue (`--webhook-queue`); when it is full, or the feed
//! outran this task, the excess is dropped and counted rather than slowing
//! anything. Sends are paced to `--webhook-limit` per second (0: no limit);
//! a refused connection, a time-out or a 5xx answer is retried after 1, 2
//! and 4 s, a 4xx is not. Failures are logged and counted, never fatal.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::json::MessageSummary;
use crate::app::App;
use crate::shutdown::Shutdown;
use crate::store::{Event, StoredMessage};

/// Waits before each retry; then the message is given up.
const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the webhook until shutdown, on a feed subscribed before the first
/// message can arrive.
pub async fn run(
    app: Arc<App>,
    url: String,
    mut events: broadcast::Receiver<Event>,
    mut shutdown: Shutdown,
) {
    let config = &app.settings.config.http;
    let (capacity, limit) = (config.webhook_queue.max(1), config.webhook_limit);
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook: cannot build an HTTP client; webhook off");
            return;
        }
    };
    let mut queue: VecDeque<Arc<StoredMessage>> = VecDeque::new();
    let mut next_send = Instant::now();
    loop {
        let ready = !queue.is_empty();
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::New(message)) if queue.len() < capacity => queue.push_back(message),
                Ok(Event::New(_)) => app.metrics.webhook("dropped", 1),
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => app.metrics.webhook("dropped", missed),
                Err(RecvError::Closed) => return,
            },
            _ = tokio::time::sleep_until(next_send), if ready => {
                if let Some(message) = queue.pop_front() {
                    deliver(&app, &client, &url, &message, &mut shutdown).await;
                }
                if limit > 0 {
                    next_send = Instant::now() + Duration::from_secs(1) / limit;
                }
            }
            _ = shutdown.wait() => return,
        }
    }
}

/// Sends one summary, retrying what may succeed later.
async fn deliver(
    app: &App,
    client: &reqwest::Client,
    url: &str,
    message: &StoredMessage,
    shutdown: &mut Shutdown,
) {
    let Ok(body) = serde_json::to_vec(&MessageSummary::new(message)) else {
        app.metrics.webhook("failed", 1);
        return;
    };
    let label = &app.settings.config.smtp.label;
    for delay in std::iter::once(Duration::ZERO).chain(RETRY_DELAYS) {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait() => return,
        }
        let mut request = client
            .post(url)
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                format!("mailcatch/{}", env!("CARGO_PKG_VERSION")),
            )
            .body(body.clone());
        if !label.is_empty() {
            request = request.header("Mailpit-Label", label.as_str());
        }
        match request.send().await {
            Ok(answer) if answer.status().is_success() => {
                app.metrics.webhook("sent", 1);
                return;
            }
            Ok(answer) if answer.status().is_client_error() => {
                tracing::warn!(status = %answer.status(), id = message.id(), "webhook refused the message");
                break;
            }
            Ok(answer) => tracing::warn!(status = %answer.status(), "webhook failed; will retry"),
            Err(error) => tracing::warn!(%error, "webhook unreachable; will retry"),
        }
    }
    app.metrics.webhook("failed", 1);
}
