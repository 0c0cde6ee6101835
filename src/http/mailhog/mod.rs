//! MailHog's API (v1 and v2), so that MailHog's clients (npm `mailhog`,
//! `cypress-mailhog`, PyPI `mailhog`) work unchanged against mailcatch.
//!
//! [`content`] parses messages the way MailHog shows them, [`json`] holds
//! the wire shapes, [`messages`] the message routes, [`jim`] the chaos
//! monkey (mapped onto mailcatch's chaos) and [`events`] the live feeds.
//!
//! Where MailHog and Mailpit answer the same request differently, Mailpit's
//! answer stays: `GET /api/v1/messages` is Mailpit's list (no MailHog
//! client uses MailHog's). `DELETE /api/v1/messages` deletes everything in
//! both; its body is Mailpit's `ok`, except for a request that sends
//! neither `Accept` nor `User-Agent` (Node's bare `http.request`, which the
//! npm `mailhog` client uses and which cannot parse `ok` as JSON): that one
//! gets MailHog's empty body, see [`expects_empty_answer`].

mod content;
mod events;
mod jim;
mod json;
mod messages;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};

use super::HttpState;
use super::error::ApiError;
use crate::store::StoredMessage;

/// Every MailHog route. Bodies (Jim's configuration) are capped at
/// `--max-json-body`.
pub fn routes(state: &HttpState) -> Router<Arc<HttpState>> {
    let json = DefaultBodyLimit::max(state.app.settings.config.http.max_json_body);
    Router::new()
        .route("/api/v2/messages", get(messages::list))
        .route("/api/v2/search", get(messages::search))
        .route(
            "/api/v1/messages/{id}",
            get(messages::message).delete(messages::delete),
        )
        .route("/api/v1/messages/{id}/download", get(messages::download))
        .route(
            "/api/v1/messages/{id}/mime/part/{index}/download",
            get(messages::part),
        )
        .route("/api/v1/messages/{id}/release", post(messages::release))
        .route(
            "/api/v2/jim",
            get(jim::get)
                .post(jim::enable)
                .put(jim::replace)
                .delete(jim::disable)
                .layer(json),
        )
        .route("/api/v2/outgoing-smtp", get(jim::outgoing_smtp))
        .route("/api/v1/events", get(events::server_sent))
        .route("/api/v2/websocket", get(events::websocket))
}

/// Whether a `DELETE /api/v1/messages` comes from a client that needs
/// MailHog's empty answer: one sending neither `Accept` nor `User-Agent`.
/// Every HTTP library Mailpit's clients use (axios, fetch, Cypress,
/// requests, curl, Go, Java) sends at least one of them; Node's bare
/// `http.request`, used by the npm `mailhog` client, sends neither.
pub fn expects_empty_answer(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::ACCEPT) && !headers.contains_key(header::USER_AGENT)
}

/// A message as MailHog's JSON, outside any server: for fuzzing.
#[doc(hidden)]
pub fn render_standalone(message: &StoredMessage, raw: &[u8]) -> String {
    json::render(message, raw, "mailcatch", false)
}

/// A message as MailHog's JSON, parsed off the async threads when large.
async fn rendered(
    state: &HttpState,
    message: &Arc<StoredMessage>,
    pretty: bool,
) -> Result<String, ApiError> {
    let hostname = state.app.settings.config.smtp.hostname.clone();
    state
        .read_raw(message, move |message, raw| {
            json::render(message, &raw, &hostname, pretty)
        })
        .await
}
