//! The link check: the HTTP status of each link in a message, in Mailpit's
//! `link-check` shape (`{"Errors": n, "Links": [{"URL", "StatusCode",
//! "Status"}]}`).
//!
//! Which links: the `http(s)` ones among the message's clickable links
//! ([`crate::extract`]), then its images (`<img src>`) and style sheets
//! (`<link rel=stylesheet href>`), as Mailpit checks them too; each once, at
//! most [`MAX_LINKS`]. How: a `HEAD`, and a `GET` (whose body is never
//! read) when the server does not do `HEAD` (405, 501). Redirects are
//! reported as they are (`302 Found`) unless `follow` asks to follow them,
//! then at most two, as in Mailpit. Unless `--allow-internal-http-requests`
//! is given, a link to a loopback, private, link-local or other
//! special-purpose address is not requested and reads `451 Blocked
//! private/reserved address` ([`super::netguard`]).
//!
//! Bounds: [`LINK_TIMEOUT`] per link, [`CHECK_DEADLINE`] for a whole check,
//! [`CONCURRENCY`] links at a time per check and [`GLOBAL_CONCURRENCY`]
//! across all checks, so a flood of checks cannot turn mailcatch into a
//! traffic generator.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Url;
use reqwest::redirect::{Attempt, Policy};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::netguard::{self, Blocked, GuardedResolver};
use crate::extract::html::{self, Token};

/// Most links checked per message; the rest are left out of the report.
pub(crate) const MAX_LINKS: usize = 100;
/// Links checked at once by one check.
const CONCURRENCY: usize = 8;
/// Links checked at once by all checks together.
const GLOBAL_CONCURRENCY: usize = 32;
/// Longest wait for one link's answer (both requests when `HEAD` fails).
const LINK_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole check may take; links not answered by then time out.
const CHECK_DEADLINE: Duration = Duration::from_secs(60);
/// Redirects followed with `follow`: Mailpit gives up at the third.
const MAX_REDIRECTS: usize = 2;

/// The report of one check.
#[derive(Debug, Serialize)]
pub struct LinkReport {
    /// Links that failed: no answer, or a status of 400 or more.
    #[serde(rename = "Errors")]
    pub errors: usize,
    #[serde(rename = "Links")]
    pub links: Vec<LinkStatus>,
}

/// One link's outcome.
#[derive(Debug, Serialize)]
pub struct LinkStatus {
    #[serde(rename = "URL")]
    pub url: String,
    /// The HTTP status; 0 when there was no answer, 451 when refused.
    #[serde(rename = "StatusCode")]
    pub status_code: u16,
    /// The status's reason phrase, or why there was no answer.
    #[serde(rename = "Status")]
    pub status: String,
}

impl LinkStatus {
    fn new(url: &str, status_code: u16, status: impl Into<String>) -> LinkStatus {
        LinkStatus {
            url: url.to_string(),
            status_code,
            status: status.into(),
        }
    }

    fn blocked(url: &str) -> LinkStatus {
        LinkStatus::new(url, 451, "Blocked private/reserved address")
    }

    fn failed(&self) -> bool {
        self.status_code == 0 || self.status_code >= 400
    }
}

/// Checks links; one per server, sharing [`GLOBAL_CONCURRENCY`].
pub struct LinkChecker {
    allow_internal: bool,
    /// Built on first use, so a server that never checks links pays nothing.
    clients: OnceLock<Result<Clients, String>>,
    slots: Semaphore,
}

/// A client per redirect policy (reqwest sets it per client).
struct Clients {
    direct: reqwest::Client,
    follow: reqwest::Client,
}

impl LinkChecker {
    /// `allow_internal` lifts the address guard (`--allow-internal-http-requests`).
    pub fn new(allow_internal: bool) -> LinkChecker {
        LinkChecker {
            allow_internal,
            clients: OnceLock::new(),
            slots: Semaphore::new(GLOBAL_CONCURRENCY),
        }
    }

    /// Checks `urls` (at most [`MAX_LINKS`] of them), in their order.
    pub async fn check(&self, urls: Vec<String>, follow: bool) -> LinkReport {
        let clients = match self
            .clients
            .get_or_init(|| Clients::build(self.allow_internal))
        {
            Ok(clients) => clients,
            Err(error) => {
                let links: Vec<LinkStatus> = urls
                    .iter()
                    .take(MAX_LINKS)
                    .map(|url| LinkStatus::new(url, 0, error.clone()))
                    .collect();
                return LinkReport {
                    errors: links.len(),
                    links,
                };
            }
        };
        let client = if follow {
            &clients.follow
        } else {
            &clients.direct
        };
        let deadline = Instant::now() + CHECK_DEADLINE;
        let links: Vec<LinkStatus> = futures_util::stream::iter(urls.into_iter().take(MAX_LINKS))
            .map(|url| async move {
                tokio::time::timeout_at(deadline, self.check_one(client, &url))
                    .await
                    .unwrap_or_else(|_| LinkStatus::new(&url, 0, "timeout"))
            })
            .buffered(CONCURRENCY)
            .collect()
            .await;
        LinkReport {
            errors: links.iter().filter(|link| link.failed()).count(),
            links,
        }
    }

    async fn check_one(&self, client: &reqwest::Client, url: &str) -> LinkStatus {
        let Some(parsed) = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        else {
            return LinkStatus::new(url, 0, "invalid URL");
        };
        // IP literals never reach the guarded resolver.
        if !self.allow_internal && netguard::check_url(&parsed).is_err() {
            return LinkStatus::blocked(url);
        }
        // Never closed, so this always succeeds.
        let Ok(_slot) = self.slots.acquire().await else {
            return LinkStatus::new(url, 0, "no free slot");
        };
        let request = async {
            let head = client.head(parsed.clone()).send().await?;
            match head.status().as_u16() {
                405 | 501 => client.get(parsed).send().await,
                _ => Ok(head),
            }
        };
        match tokio::time::timeout(LINK_TIMEOUT, request).await {
            Err(_) => LinkStatus::new(url, 0, "timeout"),
            Ok(Ok(answer)) => {
                let status = answer.status();
                LinkStatus::new(
                    url,
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default(),
                )
            }
            Ok(Err(error)) => describe_failure(url, &error),
        }
    }
}

impl Clients {
    fn build(allow_internal: bool) -> Result<Clients, String> {
        let client = |policy: Policy| {
            let mut builder = reqwest::Client::builder()
                // A proxy would resolve names itself, out of the guard's sight.
                .no_proxy()
                .connect_timeout(LINK_TIMEOUT)
                .user_agent(format!("mailcatch/{}", env!("CARGO_PKG_VERSION")))
                .redirect(policy);
            if !allow_internal {
                builder = builder.dns_resolver(Arc::new(GuardedResolver));
            }
            builder
                .build()
                .map_err(|error| format!("no HTTP client: {error}"))
        };
        Ok(Clients {
            direct: client(Policy::none())?,
            follow: client(Policy::custom(move |attempt| {
                redirect(attempt, allow_internal)
            }))?,
        })
    }
}

/// Follows a redirect unless [`redirect_refusal`] objects.
fn redirect(attempt: Attempt<'_>, allow_internal: bool) -> reqwest::redirect::Action {
    match redirect_refusal(attempt.url(), attempt.previous().len(), allow_internal) {
        Some(why) => attempt.error(why),
        None => attempt.follow(),
    }
}

/// Why a redirect to `next` after `requests` requests must not be followed:
/// more than [`MAX_REDIRECTS`] in a row, a scheme other than `http(s)`, or a
/// forbidden IP literal (names are checked when connecting).
fn redirect_refusal(
    next: &Url,
    requests: usize,
    allow_internal: bool,
) -> Option<Box<dyn std::error::Error + Send + Sync>> {
    if requests > MAX_REDIRECTS {
        return Some("too many redirects".into());
    }
    if !matches!(next.scheme(), "http" | "https") {
        return Some(format!("blocked redirect to invalid URL: {next}").into());
    }
    if !allow_internal && let Err(blocked) = netguard::check_url(next) {
        return Some(Box::new(blocked));
    }
    None
}

/// A failed request as a status: blocked (451), a time-out, or the
/// innermost cause (e.g. `Connection refused (os error 111)`).
fn describe_failure(url: &str, error: &reqwest::Error) -> LinkStatus {
    let mut innermost: &dyn std::error::Error = error;
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = cause {
        if current.is::<Blocked>() {
            return LinkStatus::blocked(url);
        }
        innermost = current;
        cause = current.source();
    }
    if error.is_timeout() {
        return LinkStatus::new(url, 0, "timeout");
    }
    LinkStatus::new(url, 0, innermost.to_string())
}

/// The URLs a link check requests for a message: its `http(s)` links, then
/// its images and style sheets; each once, at most [`MAX_LINKS`].
pub fn targets(html: &str, text_part: Option<&str>) -> Vec<String> {
    let links = crate::extract::message_links(html, text_part)
        .into_iter()
        .map(|link| link.url);
    let mut seen = std::collections::HashSet::new();
    links
        .chain(resources(html))
        .filter(|url| is_web_url(url))
        .filter(|url| seen.insert(url.clone()))
        .take(MAX_LINKS)
        .collect()
}

/// `<img src>` and `<link rel=stylesheet href>` of an HTML body.
fn resources(html: &str) -> impl Iterator<Item = String> + '_ {
    html::tokens(html).filter_map(|token| {
        let Token::Start(tag) = token else {
            return None;
        };
        let url = if tag.is("img") {
            tag.attribute("src")
        } else if tag.is("link")
            && tag.attribute("rel").is_some_and(|rel| {
                rel.split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("stylesheet"))
            })
        {
            tag.attribute("href")
        } else {
            None
        };
        url.map(|url| url.trim().to_string())
    })
}

/// An absolute `http://` or `https://` URL with something after the scheme.
fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") && url.len() > 7)
        || (lower.starts_with("https://") && url.len() > 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_web_links_images_and_style_sheets_once() {
        let html = r#"<html><head><link rel="stylesheet" href="https://cdn.test/a.css">
            <link rel="icon" href="https://cdn.test/favicon.ico"></head><body>
            <a href="https://site.test/one">one</a> <a href="mailto:x@site.test">mail</a>
            <a href="/relative">rel</a> <a href="HTTP://Site.test/upper">up</a>
            <img src="https://cdn.test/logo.png"> <img src="cid:logo@x">
            <a href="https://site.test/one">again</a></body></html>"#;
        let text = "See https://site.test/two and https://site.test/one.";
        assert_eq!(
            targets(html, Some(text)),
            [
                "https://site.test/one",
                "HTTP://Site.test/upper",
                "https://site.test/two",
                "https://cdn.test/a.css",
                "https://cdn.test/logo.png",
            ]
        );
    }

    #[test]
    fn targets_are_capped() {
        let html: String = (0..MAX_LINKS + 20)
            .map(|i| format!("<a href=\"https://site.test/{i}\">{i}</a>"))
            .collect();
        let found = targets(&html, None);
        assert_eq!(found.len(), MAX_LINKS);
        assert_eq!(found[0], "https://site.test/0");
    }

    #[tokio::test]
    async fn refused_and_invalid_links_make_no_request() {
        let checker = LinkChecker::new(false);
        let report = checker
            .check(
                vec![
                    "http://127.0.0.1:9/".into(),
                    "http://[::1]:9/".into(),
                    "http://169.254.169.254/latest/meta-data/".into(),
                    "http://[64:ff9b::a9fe:a9fe]/".into(),
                    "http://localhost:9/".into(),
                    "ftp://site.test/".into(),
                ],
                true,
            )
            .await;
        let codes: Vec<(u16, &str)> = report
            .links
            .iter()
            .map(|l| (l.status_code, l.status.as_str()))
            .collect();
        let blocked = (451, "Blocked private/reserved address");
        assert_eq!(
            codes,
            [
                blocked,
                blocked,
                blocked,
                blocked,
                blocked,
                (0, "invalid URL")
            ]
        );
        assert_eq!(report.errors, 6);
    }

    #[test]
    fn redirect_hops_are_checked() {
        let url = |text: &str| Url::parse(text).unwrap();
        let refused = |next: &str, requests: usize, allow: bool| {
            redirect_refusal(&url(next), requests, allow).map(|why| why.to_string())
        };
        assert_eq!(refused("https://site.test/", 1, false), None);
        assert_eq!(refused("https://site.test/", 2, false), None);
        assert_eq!(
            refused("https://site.test/", 3, false).as_deref(),
            Some("too many redirects")
        );
        assert!(refused("http://127.0.0.1/", 1, false).is_some_and(|why| why.contains("private")));
        assert!(refused("http://[fd00:ec2::254]/", 1, false).is_some());
        assert_eq!(refused("http://127.0.0.1/", 1, true), None);
        assert!(
            refused("file:///etc/passwd", 1, true).is_some_and(|why| why.contains("invalid URL"))
        );
    }

    #[test]
    fn the_report_has_mailpits_shape() {
        let report = LinkReport {
            errors: 1,
            links: vec![LinkStatus::new("https://a.test/", 404, "Not Found")],
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"Errors":1,"Links":[{"URL":"https://a.test/","StatusCode":404,"Status":"Not Found"}]}"#
        );
    }
}
