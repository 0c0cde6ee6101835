//! `/api/v1/message/{ID}/html-check` and `.../part/{PartID}/thumb`: views
//! computed from a message, with Mailpit's answers and error statuses.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::ApiError;
use crate::http::json::GoJson;
use crate::http::params::Params;
use crate::http::safe_download;

/// `GET /api/v1/message/{ID}/html-check`: `HTMLCheckResponse`; `400 message
/// does not contain HTML`; `404 page not found` for an unknown ID, `latest`
/// included (Mailpit answers it so).
pub async fn html_check(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state
        .resolve(&access, &id, &params)
        .await
        .map_err(|error| match error {
            ApiError::MessageNotFound => ApiError::NotFound,
            other => other,
        })?;
    let detail = state.detail(&message).await?;
    if detail.html.is_empty() {
        return Err(ApiError::bad_request("message does not contain HTML"));
    }
    let report = tokio::task::spawn_blocking(move || crate::htmlcheck::check(&detail.html))
        .await
        .map_err(|_| ApiError::Internal)?;
    Ok(GoJson(report).into_response())
}

/// `GET /api/v1/message/{ID}/part/{PartID}/thumb`: a 180×120 JPEG, blank for
/// a part that is not a decodable image; `400` with the reason for an
/// unknown message or part (Mailpit's status here, not 404).
pub async fn thumbnail(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path((id, part_id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state
        .resolve(&access, &id, &params)
        .await
        .map_err(|error| match error {
            ApiError::NotFound | ApiError::MessageNotFound => {
                ApiError::bad_request("message not found")
            }
            other => other,
        })?;
    let raw = state.app.store.raw(&message).await?;
    let content =
        tokio::task::spawn_blocking(move || crate::store::detail::part_content(&raw, &part_id))
            .await
            .map_err(|_| ApiError::Internal)?
            .ok_or_else(|| ApiError::bad_request("attachment not found"))?;
    let name = if content.info.file_name.is_empty() {
        content.info.content_id.clone()
    } else {
        content.info.file_name.clone()
    };
    let jpeg = crate::thumbnail::thumbnail_bounded(content.info.content_type, content.data).await;
    let mut response = jpeg.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        safe_download::content_disposition("inline", &name),
    );
    safe_download::add_content_headers(headers);
    Ok(response)
}
