//! `GET /api/v1/message/{ID}/link-check[?follow=true]`: the HTTP status of
//! each link in a message ([`crate::check::linkcheck`]).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use crate::check::linkcheck;
use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::ApiError;
use crate::http::json::GoJson;
use crate::http::params::Params;

/// Checks the links; `follow` (`true` or `1`, as in Mailpit) follows
/// redirects instead of reporting them.
pub async fn link_check(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let detail = state.detail(&message).await?;
    let follow = matches!(params.get("follow").map(String::as_str), Some("true" | "1"));
    let urls = linkcheck::targets(&detail.html, detail.text_part());
    let report = state.app.links.check(urls, follow).await;
    Ok(GoJson(report).into_response())
}
