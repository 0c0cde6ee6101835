//! The Origin check and CORS (contract §1.5).
//!
//! Requests to the API, the message views and the WebSocket are refused with
//! `403 Blocked due to CORS violation` when they carry an `Origin` that is
//! neither our own (its host:port equals the `Host` header) nor listed in
//! `--api-cors`. That keeps a web page on another origin from deleting mail
//! or opening the live feed (CSRF, cross-site WebSocket hijacking).
//!
//! CORS response headers are only sent when `--api-cors` names origins.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::HttpState;
use super::error::plain;

/// Which foreign origins may call the API.
#[derive(Clone, Debug, Default)]
pub struct CorsPolicy {
    /// `None`: CORS is off and only same-origin (or Origin-less) requests pass.
    allowed: Option<Allowed>,
}

#[derive(Clone, Debug)]
enum Allowed {
    Any,
    /// Lower-cased `host[:port]` entries.
    Hosts(Vec<String>),
}

impl CorsPolicy {
    /// Parses `--api-cors`: comma- or space-separated `host:port` entries,
    /// optionally with a scheme, or `*`.
    pub fn parse(spec: Option<&str>) -> CorsPolicy {
        let Some(spec) = spec else {
            return CorsPolicy::default();
        };
        let mut hosts = Vec::new();
        for entry in spec
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if entry == "*" {
                return CorsPolicy {
                    allowed: Some(Allowed::Any),
                };
            }
            if let Some(host) = authority(entry).filter(|h| !h.is_empty() && !h.contains('*')) {
                hosts.push(host.to_ascii_lowercase());
            }
        }
        CorsPolicy {
            allowed: (!hosts.is_empty()).then_some(Allowed::Hosts(hosts)),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.allowed.is_some()
    }

    /// Whether a request with these headers may proceed.
    pub fn permits(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Some(origin_host) = origin.to_str().ok().and_then(authority) else {
            return false;
        };
        let origin_host = origin_host.to_ascii_lowercase();
        let same_origin = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| !origin_host.is_empty() && host.eq_ignore_ascii_case(&origin_host));
        same_origin
            || match &self.allowed {
                None => false,
                Some(Allowed::Any) => true,
                Some(Allowed::Hosts(hosts)) => hosts.contains(&origin_host),
            }
    }

    fn add_headers(&self, request_headers: &HeaderMap, response_headers: &mut HeaderMap) {
        if !self.is_enabled() {
            return;
        }
        if let Some(origin) = request_headers.get(header::ORIGIN) {
            response_headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, DELETE, PUT, OPTIONS"),
        );
        response_headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("*"),
        );
    }
}

/// The `host[:port]` of an origin or entry: `http://a:1/x` → `a:1`.
fn authority(origin: &str) -> Option<&str> {
    let rest = match origin.split_once("://") {
        Some((_, rest)) => rest,
        None => origin,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    (!host.contains('@')).then_some(host)
}

/// An image in a message's HTML, shown in the UI's sandboxed preview frame,
/// is fetched with `Origin: null` (a sandboxed document has an opaque
/// origin). Such a GET of a message part may pass: it changes nothing, and
/// without CORS headers the opaque origin cannot read the response. The
/// WebSocket and every other path still refuse `null`.
fn is_sandboxed_part_fetch(request: &Request) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
        && request
            .headers()
            .get(header::ORIGIN)
            .is_some_and(|o| o == "null")
        && request.uri().path().starts_with("/api/v1/message/")
        && request.uri().path().contains("/part/")
}

/// Middleware: the Origin check, preflight answers and CORS headers.
pub async fn origin_guard(
    State(state): State<Arc<HttpState>>,
    request: Request,
    next: Next,
) -> Response {
    let policy = &state.app.settings.cors;
    if !policy.permits(request.headers()) && !is_sandboxed_part_fetch(&request) {
        return plain(StatusCode::FORBIDDEN, "Blocked due to CORS violation");
    }
    let request_headers = request.headers().clone();
    let mut response = if request.method() == Method::OPTIONS {
        plain(StatusCode::OK, "")
    } else {
        next.run(request).await
    };
    policy.add_headers(&request_headers, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            map.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        map
    }

    #[test]
    fn same_origin_and_no_origin_pass_when_cors_is_off() {
        let off = CorsPolicy::parse(None);
        assert!(off.permits(&headers(None, "127.0.0.1:8025")));
        assert!(off.permits(&headers(Some("http://127.0.0.1:8025"), "127.0.0.1:8025")));
        assert!(!off.permits(&headers(Some("http://evil.example"), "127.0.0.1:8025")));
        assert!(!off.permits(&headers(Some("null"), "127.0.0.1:8025")));
        assert!(!off.permits(&headers(Some("http://127.0.0.1:9999"), "127.0.0.1:8025")));
    }

    #[test]
    fn listed_origins_match_host_and_port() {
        let policy = CorsPolicy::parse(Some("example.com:3000, https://app.test"));
        assert!(policy.permits(&headers(Some("http://example.com:3000"), "x:1")));
        assert!(policy.permits(&headers(Some("https://APP.test"), "x:1")));
        assert!(!policy.permits(&headers(Some("http://example.com"), "x:1")));
        assert!(CorsPolicy::parse(Some("*")).permits(&headers(Some("http://any"), "x:1")));
        assert!(!CorsPolicy::parse(Some("")).is_enabled());
    }
}
