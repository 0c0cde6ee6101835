//! `/api/v1/tags`: list, set on messages, rename, delete.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::body::{JsonBody, decode};
use crate::http::error::{ApiError, ok};
use crate::http::json::GoJson;
use crate::http::params;
use crate::store::tags;

/// `GET /api/v1/tags`: every tag in use, sorted case-insensitively.
pub async fn list(
    State(state): State<Arc<HttpState>>,
    access: Access,
) -> Result<Response, ApiError> {
    let tags: Vec<String> = state
        .store(&access)
        .tag_counts()
        .await?
        .into_iter()
        .map(|(tag, _)| tag)
        .collect();
    Ok(GoJson(tags).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct SetTagsRequest {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    ids: Vec<String>,
}

/// `PUT /api/v1/tags {Tags, IDs}`: replaces the tags of the messages.
pub async fn set(
    State(state): State<Arc<HttpState>>,
    access: Access,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request: SetTagsRequest = decode(&body, &[]).map_err(ApiError::BadRequest)?;
    if tags::too_many(request.tags.iter().map(String::as_str)) {
        return Err(ApiError::bad_request(format!(
            "too many tags (at most {} per message)",
            tags::MAX_PER_MESSAGE
        )));
    }
    let ids = params::unique_ids(request.ids);
    state.store(&access).set_tags(&ids, &request.tags).await?;
    Ok(ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
struct RenameRequest {
    #[serde(default)]
    name: String,
}

/// `PUT /api/v1/tags/{Tag} {Name}`: renames a tag on every message.
pub async fn rename(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(tag): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request: RenameRequest = decode(&body, &[]).map_err(ApiError::BadRequest)?;
    state
        .store(&access)
        .rename_tag(&tag, &request.name)
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(ok())
}

/// `DELETE /api/v1/tags/{Tag}`: removes a tag from every message.
pub async fn delete(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(tag): Path<String>,
) -> Result<Response, ApiError> {
    state
        .store(&access)
        .delete_tag(&tag)
        .await?
        .map_err(ApiError::BadRequest)?;
    Ok(ok())
}
