//! Mailpit's REST API v1 (contract §2.2), one module per resource.
//!
//! [`table`] is the single list of API routes: the router is built from it,
//! and a unit test checks it against the OpenAPI document we serve, so the
//! document cannot drift from what the server answers.

mod chaos;
mod checks;
mod info;
mod link_check;
mod message;
mod messages;
mod release;
mod sa_check;
mod search;
mod send;
mod tags;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, post, put};

pub use info::version;

use super::{HttpState, Route, routed};

/// Every `/api/v1` route with its handler. Bodies are capped at
/// `max_json_body`, except the send endpoint's, capped at `max_send_body`.
pub fn table(max_json_body: usize, max_send_body: usize) -> Vec<Route> {
    let json = || DefaultBodyLimit::max(max_json_body);
    vec![
        ("/api/v1/info", Method::GET, get(info::info)),
        ("/api/v1/webui", Method::GET, get(info::webui)),
        ("/api/v1/messages", Method::GET, get(messages::list)),
        (
            "/api/v1/messages",
            Method::PUT,
            put(messages::set_read).layer(json()),
        ),
        (
            "/api/v1/messages",
            Method::DELETE,
            delete(messages::delete).layer(json()),
        ),
        ("/api/v1/search", Method::GET, get(search::search)),
        ("/api/v1/search", Method::DELETE, delete(search::delete)),
        ("/api/v1/message/{ID}", Method::GET, get(message::message)),
        (
            "/api/v1/message/{ID}/headers",
            Method::GET,
            get(message::headers),
        ),
        ("/api/v1/message/{ID}/raw", Method::GET, get(message::raw)),
        (
            "/api/v1/message/{ID}/link-check",
            Method::GET,
            get(link_check::link_check),
        ),
        (
            "/api/v1/message/{ID}/sa-check",
            Method::GET,
            get(sa_check::sa_check),
        ),
        (
            "/api/v1/message/{ID}/part/{PartID}",
            Method::GET,
            get(message::part),
        ),
        (
            "/api/v1/message/{ID}/part/{PartID}/thumb",
            Method::GET,
            get(checks::thumbnail),
        ),
        (
            "/api/v1/message/{ID}/html-check",
            Method::GET,
            get(checks::html_check),
        ),
        (
            "/api/v1/message/{ID}/release",
            Method::POST,
            post(release::release).layer(json()),
        ),
        (
            "/api/v1/send",
            Method::POST,
            post(send::send).layer(DefaultBodyLimit::max(max_send_body)),
        ),
        ("/api/v1/tags", Method::GET, get(tags::list)),
        ("/api/v1/tags", Method::PUT, put(tags::set).layer(json())),
        (
            "/api/v1/tags/{Tag}",
            Method::PUT,
            put(tags::rename).layer(json()),
        ),
        ("/api/v1/tags/{Tag}", Method::DELETE, delete(tags::delete)),
        ("/api/v1/chaos", Method::GET, get(chaos::get)),
        ("/api/v1/chaos", Method::PUT, put(chaos::set).layer(json())),
    ]
}

/// The router of [`table`], with the limits from the configuration.
pub fn routes(state: &HttpState) -> Router<Arc<HttpState>> {
    let config = &state.app.settings.config;
    let max_message = config
        .smtp
        .max_message_bytes(state.app.store.limits().max_bytes);
    // Base64 makes attachments 4/3 larger; allow for that and the JSON.
    let max_send_body = max_message.saturating_mul(4) / 3 + 64 * 1024;
    routed(table(config.http.max_json_body, max_send_body))
}
