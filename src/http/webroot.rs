//! `--webroot`: everything (API, UI, WebSocket, views, mailbox roots) served
//! under a path prefix, for a reverse proxy that forwards `/mail/` as is.
//!
//! Like the mailbox prefix, the webroot comes off before routing, so the
//! router itself never knows about it; requests outside it get 404.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::error::plain;

/// A webroot in its canonical form: `/`, or `/a/b/` (leading and trailing
/// slash, no empty or dot segments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webroot(String);

impl Default for Webroot {
    fn default() -> Self {
        Webroot("/".into())
    }
}

impl Webroot {
    /// Checks and normalises `--webroot` (`mail`, `/mail`, `/mail/` are the
    /// same); the characters allowed are Mailpit's.
    pub fn parse(raw: &str) -> Result<Webroot, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "/-_.@".contains(c);
        if let Some(bad) = raw.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "--webroot {raw:?}: invalid character {bad:?} (allowed: a-z A-Z 0-9 _ . - / @)"
            ));
        }
        let mut path = String::from("/");
        for segment in raw.split('/').filter(|s| !s.is_empty()) {
            if segment == "." || segment == ".." {
                return Err(format!("--webroot {raw:?}: no . or .. segments"));
            }
            path.push_str(segment);
            path.push('/');
        }
        Ok(Webroot(path))
    }

    /// `/` or `/mail/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }
}

/// Middleware around the whole router: `/mail/rest` is routed as `/rest`,
/// `/mail` redirects to `/mail/`, anything else is 404. Redirects the
/// router answers (to `/…`) get the webroot back in their `Location`.
pub async fn strip_webroot(
    State(webroot): State<Arc<Webroot>>,
    mut request: Request,
    next: Next,
) -> Response {
    if webroot.is_root() {
        return next.run(request).await;
    }
    let prefix = webroot.as_str();
    let path = request.uri().path();
    if path == &prefix[..prefix.len() - 1] {
        return Redirect::permanent(prefix).into_response();
    }
    let Some(rest) = path.strip_prefix(&prefix[..prefix.len() - 1]) else {
        return plain(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if !rest.starts_with('/') {
        return plain(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    let target = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    match target.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "Invalid path.\n"),
    }
    let mut response = next.run(request).await;
    prefix_location(&mut response, prefix);
    response
}

/// `Location: /x` → `Location: /mail/x` (absolute paths only).
fn prefix_location(response: &mut Response, prefix: &str) {
    let Some(location) = response.headers().get(header::LOCATION) else {
        return;
    };
    let Some(path) = location
        .to_str()
        .ok()
        .filter(|l| l.starts_with('/') && !l.starts_with("//"))
    else {
        return;
    };
    let prefixed = format!("{}{path}", &prefix[..prefix.len() - 1]);
    if let Ok(value) = HeaderValue::from_str(&prefixed) {
        response.headers_mut().insert(header::LOCATION, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_mailpit() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            ("mail", "/mail/"),
            ("/mail", "/mail/"),
            ("//a//b/", "/a/b/"),
            ("/@team/x.y-z_", "/@team/x.y-z_/"),
        ] {
            assert_eq!(Webroot::parse(raw).unwrap().as_str(), want, "{raw}");
        }
        for bad in ["/a b", "/a?b", "/../x", "/a/%2e"] {
            assert!(Webroot::parse(bad).is_err(), "{bad}");
        }
    }
}
