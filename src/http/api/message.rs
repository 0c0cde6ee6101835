//! `/api/v1/message/{ID}` and its `headers`, `raw` and `part/{PartID}`.
//! Every one accepts `latest`, optionally with `?query=&tz=`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::ApiError;
use crate::http::json::{GoJson, Message, headers_map};
use crate::http::params::{self, Params};
use crate::http::safe_download;

/// `GET /api/v1/message/{ID}[?peek=1]`: the full message, which it marks
/// read unless `peek` asks it not to (tests that assert on read state).
pub async fn message(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let detail = state.detail(&message).await?;
    if !params::flag(&params, "peek") {
        state.store(&access).mark_read(&message).await?;
    }
    Ok(GoJson(Message::new(&message, &detail)).into_response())
}

/// `GET /api/v1/message/{ID}/headers`: `{"Canonical-Key": ["value", ..]}`.
pub async fn headers(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let detail = state.detail(&message).await?;
    Ok(GoJson(headers_map(&detail)).into_response())
}

/// `GET /api/v1/message/{ID}/raw[?dl=1]`: the message byte for byte as the
/// client sent it (mailcatch adds no headers at ingest).
pub async fn raw(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let raw = state.store(&access).raw(&message).await?;
    let mut response = Body::from(raw).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if params.get("dl").map(String::as_str) == Some("1") {
        // The ID is 22 alphanumerics, so it is safe in a header as is.
        let disposition = format!("attachment; filename=\"{}.eml\"", message.id());
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// `GET /api/v1/message/{ID}/part/{PartID}`: one attachment or inline part,
/// decoded, served so that it can never run script on our origin.
pub async fn part(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path((id, part_id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let raw = state.store(&access).raw(&message).await?;
    let content =
        tokio::task::spawn_blocking(move || crate::store::detail::part_content(&raw, &part_id))
            .await
            .map_err(|_| ApiError::Internal)?
            .ok_or(ApiError::NotFound)?;
    Ok(safe_download::part_response(content))
}
