//! `POST /api/v1/message/{ID}/release`: puts the message in the outbound
//! queue for the relay and answers at once (`ok`); the delivery's progress
//! is at `/api/mailcatch/v1/deliveries`. Mailpit's errors: all `400`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::body::{JsonBody, decode};
use crate::http::error::{ApiError, ok};
use crate::outbound::ReleaseError;

#[derive(Deserialize)]
struct ReleaseRequest {
    #[serde(rename = "to", default)]
    to: Vec<String>,
}

pub async fn release(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // Mailpit does not resolve `latest` here.
    let message = state
        .store(&access)
        .get(&id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // A bare list is taken too: the npm client's documentation shows one.
    let to = match serde_json::from_slice::<Vec<String>>(&body) {
        Ok(to) => to,
        Err(_) => {
            decode::<ReleaseRequest>(&body, &[])
                .map_err(ApiError::BadRequest)?
                .to
        }
    };
    let raw = state.app.store.raw(&message).await?;
    state
        .app
        .outbound
        .release(&message, raw, &to)
        .await
        .map_err(|e| match e {
            ReleaseError::Store(e) => ApiError::Store(e),
            e => ApiError::BadRequest(e.to_string()),
        })?;
    Ok(ok())
}
