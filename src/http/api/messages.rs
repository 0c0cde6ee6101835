//! `/api/v1/messages`: list, set read status, delete.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::body::{JsonBody, decode};
use crate::http::error::{ApiError, ok};
use crate::http::json::GoJson;
use crate::http::params::{self, Params};
use crate::store::{Page, Query as SearchQuery, Selection};

/// `GET /api/v1/messages?start&limit&before`: newest first; `limit=0` is all.
pub async fn list(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let (start, limit) = params::start_limit(&params)?;
    // `limit=0` lists everything and ignores `start`, as Mailpit does.
    let skip = if limit == 0 { 0 } else { start };
    let page = state
        .store(&access)
        .list(skip, limit, params::before(&params))
        .await?;
    summary_response(&state, &access, start, &page, false).await
}

/// The list envelope for `/messages` and `/search`. On `/messages` the
/// match counts are the mailbox totals.
pub async fn summary_response(
    state: &HttpState,
    access: &Access,
    start: usize,
    page: &Page,
    is_search: bool,
) -> Result<Response, ApiError> {
    let store = state.store(access);
    let counts = store.counts().await?;
    let (total, unread) = (counts.total, counts.unread);
    let (matched, matched_unread) = if is_search {
        (page.matched, page.matched_unread)
    } else {
        (total, unread)
    };
    Ok(GoJson(crate::http::json::MessagesSummary {
        total,
        unread,
        count: page.messages.len(),
        messages_count: matched,
        messages_unread: matched_unread,
        start,
        tags: store
            .tag_counts()
            .await?
            .into_iter()
            .map(|(tag, _)| tag)
            .collect(),
        messages: page
            .messages
            .iter()
            .map(|m| crate::http::json::MessageSummary::new(m))
            .collect(),
    })
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct ReadStatusRequest {
    #[serde(default)]
    read: bool,
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    search: String,
}

/// `PUT /api/v1/messages {Read, IDs | Search}`; neither updates every
/// message, so `{}` marks all unread (contract §0.4).
pub async fn set_read(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut request: ReadStatusRequest = decode(&body, &[]).map_err(ApiError::BadRequest)?;
    request.ids = params::unique_ids(request.ids);
    let search = request.search.trim();
    if !request.ids.is_empty() && !search.is_empty() {
        return Err(ApiError::bad_request(
            "You may specify either IDs or a search query, not both",
        ));
    }
    let query;
    let which = if !request.ids.is_empty() {
        Selection::Ids(&request.ids)
    } else if !search.is_empty() {
        query = SearchQuery::parse(search, params::tz(&params));
        Selection::Matching(&query)
    } else {
        Selection::All
    };
    state.store(&access).set_read(which, request.read).await?;
    Ok(ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct DeleteRequest {
    #[serde(default)]
    ids: Vec<String>,
}

/// `DELETE /api/v1/messages {IDs}`. A missing, undecodable or ID-less body
/// deletes everything, as Mailpit does and cypress-mailpit relies on (and
/// as MailHog does: its npm client gets MailHog's empty answer, see
/// [`crate::http::mailhog::expects_empty_answer`]).
pub async fn delete(
    State(state): State<Arc<HttpState>>,
    access: Access,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let ids = decode::<DeleteRequest>(&body, &[])
        .map(|request| params::unique_ids(request.ids))
        .unwrap_or_default();
    let which = if ids.is_empty() {
        Selection::All
    } else {
        Selection::Ids(&ids)
    };
    state.store(&access).delete(which).await?;
    if crate::http::mailhog::expects_empty_answer(&headers) {
        return Ok(StatusCode::OK.into_response());
    }
    Ok(ok())
}
