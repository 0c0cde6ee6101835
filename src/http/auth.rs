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
use crate::StartError;
use crate::config::{HttpConfig, parse_credentials};

/// The accepted `user:password` pairs (plain passwords).
pub struct Credentials {
    pairs: Vec<(String, String)>,
}

/// The name an authenticated request was made under; the send API records
/// it as the message's `Username`.
#[derive(Clone, Debug)]
pub struct AuthUser(pub String);

impl Credentials {
    /// Reads the configured credentials; `None` when auth is off. An
    /// unreadable file, or one with no pairs, is a start-up error rather than
    /// a silently open server.
    pub fn load(config: &HttpConfig) -> Result<Option<Credentials>, StartError> {
        let mut pairs = Vec::new();
        if let Some(path) = &config.ui_auth_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                StartError::Config(format!("--ui-auth-file {}: {e}", path.display()))
            })?;
            let from_file = parse_credentials(&text);
            if from_file.is_empty() {
                return Err(StartError::Config(format!(
                    "--ui-auth-file {}: no user:password lines",
                    path.display()
                )));
            }
            pairs.extend(from_file);
        }
        if let Some(list) = &config.ui_auth {
            pairs.extend(parse_credentials(list));
        }
        Ok((!pairs.is_empty()).then_some(Credentials { pairs }))
    }

    /// The user name if `authorization` is valid basic auth for a known pair.
    fn check(&self, authorization: Option<&HeaderValue>) -> Option<String> {
        let encoded = authorization?.to_str().ok()?.strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        // Check every pair so timing does not reveal which user exists.
        let mut matched = false;
        for (known_user, known_password) in &self.pairs {
            matched |= constant_time_eq(user.as_bytes(), known_user.as_bytes())
                & constant_time_eq(password.as_bytes(), known_password.as_bytes());
        }
        matched.then(|| user.to_string())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware: lets a request through only with valid credentials.
pub async fn require_auth(
    State(state): State<Arc<HttpState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(credentials) = &state.credentials else {
        return next.run(request).await;
    };
    if request.method() == Method::OPTIONS && state.cors.is_enabled() {
        return next.run(request).await;
    }
    match credentials.check(request.headers().get(header::AUTHORIZATION)) {
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
        let credentials = Credentials {
            pairs: parse_credentials("alice:secret bob:pa:ss"),
        };
        assert_eq!(
            credentials.check(Some(&basic("alice:secret"))),
            Some("alice".into())
        );
        assert_eq!(
            credentials.check(Some(&basic("bob:pa:ss"))),
            Some("bob".into())
        );
        assert_eq!(credentials.check(Some(&basic("alice:wrong"))), None);
        assert_eq!(credentials.check(Some(&basic("alice"))), None);
        assert_eq!(
            credentials.check(Some(&HeaderValue::from_static("Basic %%%"))),
            None
        );
        assert_eq!(credentials.check(None), None);
    }
}
