//! What tests look for in a message, read without marking it read:
//!
//! - `GET /api/mailcatch/v1/message/{ID}/links`: `{"Links": [{"URL", "Text",
//!   "Part"}]}`, every link of the HTML body (`<a href>`, `<area href>`) and
//!   every URL written out in the text part, in document order, each URL once,
//!   `Part` being `html` or `text`.
//! - `GET /api/mailcatch/v1/message/{ID}/codes`: `{"Codes": [{"Code",
//!   "Context"}]}`, the likely one-time codes, best first, each with the line
//!   it stands on; searched in the text part, else in the HTML rendered as
//!   text.
//!
//! Both accept `latest` (and `latest?query=`). The rules live in
//! [`crate::extract`].

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::access::Access;
use super::error::ApiError;
use super::params::Params;
use super::{HttpState, Route, routed};
use crate::extract;
use crate::store::detail::Detail;
use crate::store::{LARGE_MESSAGE_BYTES, StoreError, StoredMessage};

pub fn router() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![
        (
            "/api/mailcatch/v1/message/{id}/links",
            Method::GET,
            get(links),
        ),
        (
            "/api/mailcatch/v1/message/{id}/codes",
            Method::GET,
            get(codes),
        ),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LinksView {
    links: Vec<LinkView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LinkView {
    #[serde(rename = "URL")]
    url: String,
    text: String,
    /// `html` or `text`.
    part: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CodesView {
    codes: Vec<CodeView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CodeView {
    code: String,
    context: String,
}

async fn links(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let view = with_detail(&state, &access, &id, &params, |detail| LinksView {
        links: extract::message_links(&detail.html, detail.text_part())
            .into_iter()
            .map(|link| LinkView {
                url: link.url,
                text: link.text,
                part: link.part.as_str(),
            })
            .collect(),
    })
    .await?;
    Ok(Json(view).into_response())
}

async fn codes(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let view = with_detail(&state, &access, &id, &params, |detail| CodesView {
        codes: extract::message_codes(&detail.html, detail.text_part())
            .into_iter()
            .map(|code| CodeView {
                code: code.code,
                context: code.context,
            })
            .collect(),
    })
    .await?;
    Ok(Json(view).into_response())
}

/// Resolves `{ID}` and runs `read` on the message's parsed detail: inline for
/// a small message, on a blocking thread for a large one. Never marks the
/// message read.
async fn with_detail<T: Send + 'static>(
    state: &HttpState,
    access: &Access,
    id: &str,
    params: &Params,
    read: impl FnOnce(&Detail) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let message: Arc<StoredMessage> = state.resolve(access, id, params).await?;
    let detail = state.detail(&message).await?;
    if message.size() < LARGE_MESSAGE_BYTES {
        return Ok(read(&detail));
    }
    tokio::task::spawn_blocking(move || read(&detail))
        .await
        .map_err(|_| ApiError::Store(StoreError::Unavailable("reading failed".into())))
}
