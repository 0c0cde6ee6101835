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
use axum::http::{HeaderMap, Method, header};
use axum::routing::{delete, get, post, put};

use super::error::ApiError;
use super::{HttpState, Route, routed};
use crate::store::StoredMessage;

/// Every MailHog route. Bodies (Jim's configuration) are capped at
/// `max_json_body`.
pub fn table(max_json_body: usize) -> Vec<Route> {
    let json = || DefaultBodyLimit::max(max_json_body);
    vec![
        ("/api/v2/messages", Method::GET, get(messages::list)),
        ("/api/v2/search", Method::GET, get(messages::search)),
        ("/api/v1/messages/{id}", Method::GET, get(messages::message)),
        (
            "/api/v1/messages/{id}",
            Method::DELETE,
            delete(messages::delete),
        ),
        (
            "/api/v1/messages/{id}/download",
            Method::GET,
            get(messages::download),
        ),
        (
            "/api/v1/messages/{id}/mime/part/{index}/download",
            Method::GET,
            get(messages::part),
        ),
        (
            "/api/v1/messages/{id}/release",
            Method::POST,
            post(messages::release),
        ),
        ("/api/v2/jim", Method::GET, get(jim::get)),
        ("/api/v2/jim", Method::POST, post(jim::enable).layer(json())),
        ("/api/v2/jim", Method::PUT, put(jim::replace).layer(json())),
        ("/api/v2/jim", Method::DELETE, delete(jim::disable)),
        (
            "/api/v2/outgoing-smtp",
            Method::GET,
            get(jim::outgoing_smtp),
        ),
        ("/api/v1/events", Method::GET, get(events::server_sent)),
        ("/api/v2/websocket", Method::GET, get(events::websocket)),
    ]
}

/// The router of [`table`], with `--max-json-body`.
pub fn routes(state: &HttpState) -> Router<Arc<HttpState>> {
    routed(table(state.app.settings.config.http.max_json_body))
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
