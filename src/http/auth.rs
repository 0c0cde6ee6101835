//! Optional HTTP basic auth over the UI, the API and the WebSocket
//! (`--ui-auth-file`, `MP_UI_AUTH`). `/livez` and `/readyz` sit outside it,
//! and so do CORS preflights when `--api-cors` is set, as in Mailpit.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;

use super::HttpState;
use super::error::plain;
use crate::credentials::Credentials;

/// The name an authenticated request was made under; the send API records
/// it as the message's `Username`.
#[derive(Clone, Debug)]
pub struct AuthUser(pub String);

/// The user name if `authorization` is valid basic auth for a known pair
/// (checked in constant time, see [`Credentials::check`]).
fn authenticate(credentials: &Credentials, authorization: Option<&HeaderValue>) -> Option<String> {
    let encoded = authorization?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    credentials.check(user, password).then(|| user.to_string())
}

/// Middleware: lets a request through only with valid credentials.
pub async fn require_auth(
    State(state): State<Arc<HttpState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let settings = &state.app.settings;
    let Some(credentials) = &settings.http_credentials else {
        return next.run(request).await;
    };
    if request.method() == Method::OPTIONS && settings.cors.is_enabled() {
        return next.run(request).await;
    }
    match authenticate(credentials, request.headers().get(header::AUTHORIZATION)) {
        Some(user) => {
            request.extensions_mut().insert(AuthUser(user));
            next.run(request).await
        }
        None => unauthorized(),
    }
}

fn unauthorized() -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, "Unauthorized.\n");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Login\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> HeaderValue {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_pass);
        HeaderValue::from_str(&format!("Basic {encoded}")).unwrap()
    }

    #[test]
    fn checks_pairs() {
        let credentials = Credentials::parse("alice:secret bob:pa:ss");
        let check = |header: Option<&HeaderValue>| authenticate(&credentials, header);
        assert_eq!(check(Some(&basic("alice:secret"))), Some("alice".into()));
        assert_eq!(check(Some(&basic("bob:pa:ss"))), Some("bob".into()));
        assert_eq!(check(Some(&basic("alice:wrong"))), None);
        assert_eq!(check(Some(&basic("alice"))), None);
        assert_eq!(check(Some(&HeaderValue::from_static("Basic %%%"))), None);
        assert_eq!(check(None), None);
    }
}
