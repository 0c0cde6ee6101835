//! `GET /api/mailcatch/v1/wait?query=Q&count=N&after=CURSOR&timeout=SECONDS`:
//! answers as soon as `count` messages matching `query` arrived after the
//! cursor (`200`), or with what was found when the time runs out (`408`),
//! so one `curl -f` call in CI waits for a mail and fails when it never
//! comes. The waiting itself is [`App::wait`](crate::App::wait); this only
//! reads the request and shapes the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::error::ApiError;
use super::json::{GoJson, MessageSummary};
use super::params::{self, Params};
use super::{HttpState, Route, routed};
use crate::app::{Cursor, Outcome, WaitError, WaitRequest};
use crate::http::access::Access;
use crate::store::{MessageId, Query as SearchQuery, StoreError};

/// Most messages one wait may ask for.
const MAX_COUNT: usize = 1000;
/// The time-out when none is given, in seconds.
const DEFAULT_TIMEOUT: f64 = 30.0;

pub fn router() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![("/api/mailcatch/v1/wait", Method::GET, get(wait))]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WaitResponse<'a> {
    cursor: String,
    messages: Vec<MessageSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn wait(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let mut request = parse(&params, state.app.settings.config.http.wait_max)?;
    // Only mail the requester may see counts, and is returned.
    request.query = request.query.scoped(&access.scope);
    let timeout = request.timeout;
    let waited = match state.app.wait(request, state.shutdown.clone()).await {
        Ok(waited) => waited,
        Err(WaitError::TooManyWaiters(max)) => {
            return Err(ApiError::Store(StoreError::Unavailable(format!(
                "too many waiting requests (at most {max}); try again later"
            ))));
        }
        Err(WaitError::Store(error)) => return Err(error.into()),
    };
    let (status, error) = match waited.outcome {
        Outcome::Found => (StatusCode::OK, None),
        Outcome::TimedOut => (
            StatusCode::REQUEST_TIMEOUT,
            Some(format!(
                "timed out after {}s with {} of the messages waited for",
                timeout.as_secs_f64(),
                waited.messages.len()
            )),
        ),
        Outcome::ShuttingDown => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("mailcatch is shutting down".to_string()),
        ),
    };
    let body = WaitResponse {
        cursor: waited.cursor,
        messages: waited
            .messages
            .iter()
            .map(|m| MessageSummary::new(m))
            .collect(),
        error,
    };
    let mut response = GoJson(body).into_response();
    *response.status_mut() = status;
    Ok(response)
}

/// Reads and checks the parameters; every mistake is a `400` saying which.
fn parse(params: &Params, wait_max: u64) -> Result<WaitRequest, ApiError> {
    let query = params.get("query").map_or("", |q| q.trim());
    let count = match params.get("count").map(|c| c.trim()) {
        None | Some("") => 1,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "count must be a whole number from 1 to {MAX_COUNT}, not {text:?}"
                ))
            })?,
    };
    let timeout = match params.get("timeout").map(|t| t.trim()) {
        None | Some("") => DEFAULT_TIMEOUT.min(wait_max as f64),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite() && (0.0..=wait_max as f64).contains(t))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "timeout must be a number of seconds from 0 to {wait_max}, not {text:?}"
                ))
            })?,
    };
    let after = match params.get("after").map(|a| a.trim()) {
        None | Some("") => Cursor::Start,
        Some("now") => Cursor::Now,
        Some(text) => Cursor::After(MessageId::parse_seq(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "after must be \"now\", a message ID or a Cursor, not {text:?}"
            ))
        })?),
    };
    Ok(WaitRequest {
        query: SearchQuery::parse(query, params::tz(params)),
        count,
        after,
        timeout: Duration::from_secs_f64(timeout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        params::from_pairs(pairs)
    }

    #[test]
    fn defaults_and_limits() {
        let request = parse(&params(&[]), 300).unwrap();
        assert_eq!(
            (request.count, request.after, request.timeout),
            (1, Cursor::Start, Duration::from_secs(30))
        );
        let request = parse(&params(&[("timeout", "0.5"), ("after", "now")]), 300).unwrap();
        assert_eq!(request.timeout, Duration::from_millis(500));
        assert_eq!(request.after, Cursor::Now);
        assert_eq!(
            parse(&params(&[]), 10).unwrap().timeout,
            Duration::from_secs(10)
        );
        for bad in [
            &[("count", "0")][..],
            &[("count", "1001")],
            &[("count", "two")],
            &[("timeout", "301")],
            &[("timeout", "-1")],
            &[("timeout", "NaN")],
            &[("after", "yesterday")],
        ] {
            assert!(parse(&params(bad), 300).is_err(), "{bad:?}");
        }
    }
}
