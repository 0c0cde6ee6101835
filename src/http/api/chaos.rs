//! `/api/v1/chaos`: the SMTP failure injection the SMTP server consults.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::chaos::{Trigger, Triggers};
use crate::http::HttpState;
use crate::http::body::{JsonBody, decode};
use crate::http::error::ApiError;
use crate::http::json::GoJson;

fn require_enabled(state: &HttpState) -> Result<(), ApiError> {
    if state.app.settings.chaos.is_enabled() {
        Ok(())
    } else {
        Err(ApiError::bad_request("Chaos is not enabled"))
    }
}

/// `GET /api/v1/chaos`: the current triggers.
pub async fn get(State(state): State<Arc<HttpState>>) -> Result<Response, ApiError> {
    require_enabled(&state)?;
    Ok(GoJson(state.app.settings.chaos.triggers()).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase")]
struct TriggersRequest {
    sender: Option<TriggerRequest>,
    recipient: Option<TriggerRequest>,
    authentication: Option<TriggerRequest>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase")]
struct TriggerRequest {
    #[serde(default)]
    errorcode: i64,
    #[serde(default)]
    probability: i64,
}

/// `PUT /api/v1/chaos`: sets the triggers; omitted ones reset to their
/// default code with probability 0. As in Mailpit, triggers are applied in
/// the order Sender, Recipient, Authentication, and those before an invalid
/// one stay applied.
pub async fn set(
    State(state): State<Arc<HttpState>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_enabled(&state)?;
    let request: TriggersRequest = decode(&body, &[]).map_err(ApiError::BadRequest)?;
    let chaos = &state.app.settings.chaos;
    let defaults = Triggers::default();
    let mut triggers = defaults;
    let stages = [
        (request.sender, defaults.sender, 0),
        (request.recipient, defaults.recipient, 1),
        (request.authentication, defaults.authentication, 2),
    ];
    for (requested, default, stage) in stages {
        let trigger = match requested {
            None => default,
            // An error code of 0 means "keep the default code", as Mailpit reads it.
            Some(t) => to_trigger(t, default).map_err(ApiError::BadRequest)?,
        };
        match stage {
            0 => triggers.sender = trigger,
            1 => triggers.recipient = trigger,
            _ => triggers.authentication = trigger,
        }
        chaos.set_triggers(triggers);
    }
    Ok(GoJson(chaos.triggers()).into_response())
}

fn to_trigger(request: TriggerRequest, default: Trigger) -> Result<Trigger, String> {
    let code = if request.errorcode == 0 {
        i64::from(default.error_code)
    } else {
        request.errorcode
    };
    let code = u16::try_from(code).map_err(|_| "error code must be between 400 and 599")?;
    let probability =
        u8::try_from(request.probability).map_err(|_| "probability must be between 0 and 100")?;
    Trigger::new(code, probability)
}
