//! `GET /api/v1/message/{ID}/sa-check`: SpamAssassin's verdict on a message
//! ([`crate::check::spamd`]), when `--enable-spamassassin` names a spamd.
//! Without it the route is Mailpit's: not there (404).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use crate::check::spamd;
use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::ApiError;
use crate::http::json::GoJson;
use crate::http::params::Params;

pub async fn sa_check(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let Some(address) = state.app.settings.spamd.as_ref() else {
        return Err(ApiError::NotFound);
    };
    let message = state.resolve(&access, &id, &params).await?;
    let raw = state.app.store.raw(&message).await?;
    Ok(GoJson(spamd::check(address, &raw).await).into_response())
}
