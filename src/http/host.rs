//! `--allowed-hosts`: a Host-header allow-list against DNS rebinding.
//!
//! A page on `evil.example` whose name is re-pointed at 127.0.0.1 can make
//! the browser send requests to mailcatch that carry `Host: evil.example`;
//! refusing unknown hosts keeps such a page from reading the caught mail.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::plain;

/// The hosts a request may name; empty means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// Parses the comma-separated list: `name`, `name:port`, `[v6]` or
    /// `[v6]:port`, lower-cased. A name without a port allows every port.
    pub fn parse(list: Option<&str>) -> Result<AllowedHosts, String> {
        let mut hosts = Vec::new();
        for entry in list.unwrap_or_default().split(',').map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            if entry.contains(['/', ' ', '@']) || entry.chars().any(char::is_control) {
                return Err(format!("--allowed-hosts: {entry:?} is not a host name"));
            }
            hosts.push(entry.to_ascii_lowercase());
        }
        Ok(AllowedHosts(hosts))
    }

    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether a Host header's value is on the list.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = strip_port(&host);
        self.0.iter().any(|entry| *entry == host || *entry == name)
    }
}

/// `example.com:8025` → `example.com`, `[::1]:8025` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Middleware: `403` unless the Host header (or, over HTTP/2, the
/// authority) names an allowed host. Health checks pass regardless: they
/// reveal nothing, and container probes use whatever address they have.
pub async fn check_host(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    if !allowed.is_enabled() || matches!(request.uri().path(), "/livez" | "/readyz") {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if allowed.allows(host) => next.run(request).await,
        _ => plain(StatusCode::FORBIDDEN, "Forbidden: host not allowed\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_names_with_or_without_ports() {
        let allowed = AllowedHosts::parse(Some("mail.test, LOCALHOST:8025,[::1]")).unwrap();
        assert!(allowed.allows("mail.test"));
        assert!(allowed.allows("Mail.Test:1234"));
        assert!(allowed.allows("localhost:8025"));
        assert!(!allowed.allows("localhost:9000"));
        assert!(!allowed.allows("localhost"));
        assert!(allowed.allows("[::1]:8025"));
        assert!(!allowed.allows("evil.example"));
        assert!(!allowed.allows("mail.test.evil.example"));
        assert!(AllowedHosts::parse(Some("a/b")).is_err());
        assert!(!AllowedHosts::parse(None).unwrap().is_enabled());
    }
}
