//! `/api/v2/jim`, MailHog's chaos monkey, mapped onto mailcatch's chaos
//! (`--enable-chaos`, `/api/v1/chaos`), and `/api/v2/outgoing-smtp`.
//!
//! Jim's three rejection chances are the probabilities of chaos's Sender,
//! Recipient and Authentication triggers (in whole percent, with the
//! triggers' error codes). Jim's other powers (dropping connections,
//! throttling) have no counterpart: they are accepted, ignored, and shown
//! as their harmless values. Jim counts as enabled while any trigger can
//! strike, so Mailpit's and MailHog's views of chaos always agree. Jim can
//! only be let in when mailcatch was started with `--enable-chaos`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::chaos::{Chaos, Trigger, Triggers};
use crate::http::HttpState;
use crate::http::body::{JsonBody, decode};
use crate::http::error::{ApiError, plain};
use crate::http::json::GoJson;

/// MailHog's default rejection chance for each stage.
const DEFAULT_CHANCE: f64 = 0.05;

/// Jim's configuration as MailHog shows it.
#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Jim {
    disconnect_chance: f64,
    accept_chance: f64,
    link_speed_affect: f64,
    link_speed_min: f64,
    link_speed_max: f64,
    reject_sender_chance: f64,
    reject_recipient_chance: f64,
    reject_auth_chance: f64,
}

impl Jim {
    fn of(triggers: &Triggers) -> Jim {
        let chance = |trigger: Trigger| f64::from(trigger.probability) / 100.0;
        Jim {
            disconnect_chance: 0.0,
            accept_chance: 1.0,
            link_speed_affect: 0.0,
            link_speed_min: 1024.0,
            link_speed_max: 10240.0,
            reject_sender_chance: chance(triggers.sender),
            reject_recipient_chance: chance(triggers.recipient),
            reject_auth_chance: chance(triggers.authentication),
        }
    }
}

/// A Jim configuration sent by a client; keys in any case, as Go reads
/// them. Only the rejection chances have an effect.
#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase")]
struct JimRequest {
    #[serde(default)]
    rejectsenderchance: f64,
    #[serde(default)]
    rejectrecipientchance: f64,
    #[serde(default)]
    rejectauthchance: f64,
}

fn is_on(chaos: &Chaos) -> bool {
    let t = chaos.triggers();
    [t.sender, t.recipient, t.authentication]
        .iter()
        .any(|trigger| trigger.probability > 0)
}

fn not_enabled() -> Response {
    plain(StatusCode::NOT_FOUND, "Jim is not enabled")
}

fn config(chaos: &Chaos) -> Response {
    GoJson(Jim::of(&chaos.triggers())).into_response()
}

/// A chance (0 to 1) as a trigger's whole percent.
fn percent(chance: f64, name: &str) -> Result<u8, ApiError> {
    if !(0.0..=1.0).contains(&chance) {
        return Err(ApiError::bad_request(format!(
            "{name} must be between 0 and 1"
        )));
    }
    Ok((chance * 100.0).round() as u8)
}

/// Sets the triggers' probabilities from a request, keeping their codes.
fn apply(chaos: &Chaos, request: &JimRequest) -> Result<(), ApiError> {
    let mut triggers = chaos.triggers();
    triggers.sender.probability = percent(request.rejectsenderchance, "RejectSenderChance")?;
    triggers.recipient.probability =
        percent(request.rejectrecipientchance, "RejectRecipientChance")?;
    triggers.authentication.probability = percent(request.rejectauthchance, "RejectAuthChance")?;
    chaos.set_triggers(triggers);
    Ok(())
}

/// `GET /api/v2/jim`: the configuration, or `404` when Jim is out.
pub async fn get(State(state): State<Arc<HttpState>>) -> Response {
    let chaos = &state.app.settings.chaos;
    if chaos.is_enabled() && is_on(chaos) {
        config(chaos)
    } else {
        not_enabled()
    }
}

/// `POST /api/v2/jim [{config}]`: lets Jim in, with the body's chances or,
/// without a readable body, MailHog's defaults. `201`; `400` if Jim is
/// already in or chaos was not enabled at start.
pub async fn enable(
    State(state): State<Arc<HttpState>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let chaos = &state.app.settings.chaos;
    if !chaos.is_enabled() {
        return Err(ApiError::bad_request(
            "Chaos is not enabled: start mailcatch with --enable-chaos to let Jim in",
        ));
    }
    if is_on(chaos) {
        return Err(ApiError::bad_request("Jim is already enabled"));
    }
    // As MailHog does: a body that does not decode means the defaults.
    let request = decode::<JimRequest>(&body, &[]).unwrap_or(JimRequest {
        rejectsenderchance: DEFAULT_CHANCE,
        rejectrecipientchance: DEFAULT_CHANCE,
        rejectauthchance: DEFAULT_CHANCE,
    });
    apply(chaos, &request)?;
    let mut response = config(chaos);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `PUT /api/v2/jim {config}`: replaces the configuration; `404` when Jim
/// is out, `400` for a body that does not decode.
pub async fn replace(
    State(state): State<Arc<HttpState>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let chaos = &state.app.settings.chaos;
    if !chaos.is_enabled() || !is_on(chaos) {
        return Ok(not_enabled());
    }
    let request: JimRequest = decode(&body, &[]).map_err(ApiError::BadRequest)?;
    apply(chaos, &request)?;
    Ok(config(chaos))
}

/// `DELETE /api/v2/jim`: sends Jim away (every probability 0); `404` when
/// he is out already.
pub async fn disable(State(state): State<Arc<HttpState>>) -> Response {
    let chaos = &state.app.settings.chaos;
    if !chaos.is_enabled() || !is_on(chaos) {
        return not_enabled();
    }
    let mut triggers = chaos.triggers();
    for trigger in [
        &mut triggers.sender,
        &mut triggers.recipient,
        &mut triggers.authentication,
    ] {
        trigger.probability = 0;
    }
    chaos.set_triggers(triggers);
    StatusCode::OK.into_response()
}

/// `GET /api/v2/outgoing-smtp`: the saved release servers; mailcatch
/// saves none (a release names its server or uses the relay), so always `{}`.
pub async fn outgoing_smtp() -> Response {
    GoJson(serde_json::Map::new()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chances_map_to_whole_percents() {
        assert_eq!(percent(0.05, "x").unwrap(), 5);
        assert_eq!(percent(1.0, "x").unwrap(), 100);
        assert_eq!(percent(0.005, "x").unwrap(), 1);
        assert!(percent(1.5, "x").is_err());
        assert!(percent(-0.1, "x").is_err());
        assert!(percent(f64::NAN, "x").is_err());
        let jim = Jim::of(&Triggers::default());
        assert_eq!(jim.reject_sender_chance, 0.0);
        assert_eq!(jim.accept_chance, 1.0);
    }
}
