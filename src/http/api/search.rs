//! `/api/v1/search`: search (contract §3) and delete by search.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::messages::summary_response;
use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::error::{ApiError, ok};
use crate::http::params::{self, Params};
use crate::store::{Query as SearchQuery, Selection};

/// The search a request describes: `query`, `tz` and the undocumented
/// `before`.
fn parse_search(params: &Params) -> Result<SearchQuery, ApiError> {
    let query = SearchQuery::parse(params::required_query(params)?, params::tz(params));
    Ok(match params::before(params) {
        Some(micros) => query.received_before(micros),
        None => query,
    })
}

/// `GET /api/v1/search?query&start&limit&tz`. `limit=0` gives no messages
/// but the counts, as in Mailpit.
pub async fn search(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let query = parse_search(&params)?;
    let (start, limit) = params::start_limit(&params)?;
    let page = state.store(&access).search(&query, start, limit).await?;
    summary_response(&state, &access, start, &page, true).await
}

/// `DELETE /api/v1/search?query&tz`: deletes every match. The store sends
/// one `delete` event per message, or a single `prune` for more than 200.
pub async fn delete(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let query = parse_search(&params)?;
    state
        .store(&access)
        .delete(Selection::Matching(&query))
        .await?;
    Ok(ok())
}
