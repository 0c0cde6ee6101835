//! The outbound queue's API: `GET /api/mailcatch/v1/deliveries` (filter by
//! `?message=ID` and `?state=`), `GET .../deliveries/{id}`,
//! `POST .../deliveries/{id}/retry` and `DELETE .../deliveries/{id}`
//! (cancel). A requester sees only deliveries of messages in mailboxes it
//! may see.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use super::access::Access;
use super::error::{ApiError, ok, plain};
use super::json::GoJson;
use super::{HttpState, Route, routed};
use crate::outbound::{Delivery, State as DeliveryState};

pub fn router() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![
        ("/api/mailcatch/v1/deliveries", Method::GET, get(list)),
        ("/api/mailcatch/v1/deliveries/{id}", Method::GET, get(one)),
        (
            "/api/mailcatch/v1/deliveries/{id}",
            Method::DELETE,
            delete(cancel),
        ),
        (
            "/api/mailcatch/v1/deliveries/{id}/retry",
            Method::POST,
            post(retry),
        ),
    ]
}

#[derive(Deserialize)]
struct Filter {
    message: Option<String>,
    state: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    total: usize,
    deliveries: Vec<Delivery>,
}

/// Newest first.
async fn list(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(filter): Query<Filter>,
) -> Result<Response, ApiError> {
    let wanted = match filter.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(DeliveryState::parse(name).ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown state {name:?}: queued, sending, deferred, delivered, failed or cancelled"
            ))
        })?),
    };
    let message = filter.message.filter(|m| !m.is_empty());
    let mut deliveries = state.app.outbound.list(|d| {
        access.scope.contains(&d.mailbox)
            && wanted.is_none_or(|s| d.state == s)
            && message.as_ref().is_none_or(|m| *m == d.message_id)
    });
    deliveries.reverse();
    Ok(GoJson(Listing {
        total: deliveries.len(),
        deliveries,
    })
    .into_response())
}

fn visible(state: &HttpState, access: &Access, id: &str) -> Result<Delivery, ApiError> {
    state
        .app
        .outbound
        .get(id)
        .filter(|d| access.scope.contains(&d.mailbox))
        .ok_or(ApiError::NotFoundWith("Delivery not found"))
}

async fn one(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(GoJson(visible(&state, &access, &id)?).into_response())
}

/// Makes a queued or deferred delivery due now; `409` when it is being
/// sent or has finished.
async fn retry(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let delivery = visible(&state, &access, &id)?;
    match state.app.outbound.retry_now(&delivery.id).await? {
        Some(true) => Ok(ok()),
        _ => Ok(plain(
            StatusCode::CONFLICT,
            format!("Delivery is {}, not waiting", delivery.state.name()),
        )),
    }
}

/// Cancels an unfinished delivery; `409` when it has finished.
async fn cancel(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let delivery = visible(&state, &access, &id)?;
    match state.app.outbound.cancel(&delivery.id).await? {
        Some(true) => Ok(ok()),
        _ => Ok(plain(
            StatusCode::CONFLICT,
            format!("Delivery is already {}", delivery.state.name()),
        )),
    }
}
