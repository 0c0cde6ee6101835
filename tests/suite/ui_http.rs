//! The UI's HTTP side without a browser: SPA routes, static files, caching,
//! security headers, and mailcatch's own envelope and headers endpoints.

use crate::common;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

#[tokio::test]
async fn spa_routes_serve_the_index_with_a_strict_policy() {
    let server = common::start().await;
    let base = common::base_url(&server);
    let message = server
        .app
        .ingest(mailcatch::store::Incoming {
            raw: "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for path in [
        "/".to_string(),
        "/search?q=x".into(),
        format!("/view/{}", message.id()),
    ] {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8", "{path}");
        assert_eq!(headers[CACHE_CONTROL], "no-cache", "{path}");
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "script-src 'self'",
            "frame-src 'self'",
            "connect-src 'self' ws: wss:",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: CSP lacks {directive}: {csp}"
            );
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains("type=\"module\""), "{path}");
    }
    // A current copy is not sent again.
    let first = client.get(format!("{base}/")).send().await.unwrap();
    let etag = first.headers()[ETAG].clone();
    let again = client
        .get(format!("{base}/"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    server.shutdown().await;
}

#[tokio::test]
async fn static_files_are_versioned_and_typed() {
    let server = common::start().await;
    let base = common::base_url(&server);
    let index = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = index.find("/ui/").unwrap();
    let prefix = &index[start..start + index[start + 4..].find('/').unwrap() + 5];
    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("icons.svg", "image/svg+xml"),
    ] {
        let response = reqwest::get(format!("{base}{prefix}{file}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()[CONTENT_TYPE], content_type, "{file}");
        let cache = response.headers()[CACHE_CONTROL]
            .to_str()
            .unwrap()
            .to_string();
        // Debug builds read web/ from disk, so they must not be cached.
        if cfg!(debug_assertions) {
            assert_eq!(cache, "no-cache");
        } else {
            assert!(cache.contains("immutable"), "{cache}");
        }
    }
    for missing in [
        "nope.js",
        "index.html",
        "..%2FCargo.toml",
        "%2e%2e/%2e%2e/Cargo.toml",
    ] {
        let response = reqwest::get(format!("{base}{prefix}{missing}"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn envelope_and_ordered_headers_endpoints() {
    let server = common::start().await;
    let base = common::base_url(&server);
    let message = server.app.ingest(mailcatch::store::Incoming {
        raw: "Received: one\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nReceived: two\r\nFrom: a@example.com\r\nTo: b@example.com\r\n\r\nbody\r\n".into(),
        envelope: mailcatch::store::Envelope {
            mail_from: "bounce@example.com".into(),
            rcpt_to: vec!["b@example.com".into(), "secret@example.com".into()],
            helo: "client.example".into(),
            ..Default::default()
        },
        transcript: ["C: EHLO client.example", "S: 250 ok"].into_iter().collect(),
        warnings: vec!["bare LF".into()],
    }).await.unwrap();
    let id = message.id();

    let headers: serde_json::Value =
        reqwest::get(format!("{base}/api/mailcatch/v1/message/{id}/headers"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let names: Vec<&str> = headers
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Received", "Subject", "Received", "From", "To"]);
    assert_eq!(headers[1]["Value"], "=?utf-8?q?caf=C3=A9?=");
    assert_eq!(headers[1]["Decoded"], "café");

    let envelope: serde_json::Value =
        reqwest::get(format!("{base}/api/mailcatch/v1/message/{id}/envelope"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(envelope["MailFrom"], "bounce@example.com");
    assert_eq!(envelope["Helo"], "client.example");
    assert_eq!(envelope["RcptTo"][0]["Header"], "To");
    assert_eq!(envelope["RcptTo"][1]["BccOnly"], true);
    assert_eq!(envelope["SenderDiffers"], true);
    assert_eq!(envelope["Transcript"][0], "C: EHLO client.example");
    assert_eq!(envelope["Warnings"][0], "bare LF");

    let latest = reqwest::get(format!("{base}/api/mailcatch/v1/message/latest/envelope"))
        .await
        .unwrap();
    assert_eq!(latest.status(), StatusCode::OK);
    for path in ["envelope", "headers"] {
        let missing = reqwest::get(format!(
            "{base}/api/mailcatch/v1/message/AAAAAAAAAAAAAAAAAAAAAA/{path}"
        ))
        .await
        .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
    }
    server.shutdown().await;
}

/// `--webroot /mail`: the API, the UI (with its asset URLs under the
/// webroot), mailbox roots and redirects all live under `/mail/`; nothing is
/// served outside it.
#[tokio::test]
async fn everything_is_served_under_the_webroot() {
    let server = common::start_with(|c| c.http.webroot = "mail/".into()).await;
    let base = common::base_url(&server);
    server
        .app
        .ingest(mailcatch::store::Incoming {
            raw: "From: a@example.com\r\nSubject: rooted\r\n\r\nbody\r\n".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("{base}{path}")).send();

    let list: serde_json::Value = get("/mail/api/v1/messages")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["messages"][0]["Subject"], "rooted");
    for outside in ["/api/v1/messages", "/", "/mailx/", "/ui/x"] {
        assert_eq!(get(outside).await.unwrap().status(), 404, "{outside}");
    }
    let redirect = get("/mail").await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/mail/");
    let redirect = get("/mail/mailbox/team").await.unwrap();
    assert_eq!(redirect.headers()["location"], "/mail/mailbox/team/");

    let index = get("/mail/").await.unwrap();
    assert_eq!(index.status(), 200);
    let html = index.text().await.unwrap();
    let app = html
        .split('"')
        .find(|s| s.starts_with("/mail/ui/") && s.ends_with("/app.js"))
        .unwrap_or_else(|| panic!("no app.js under /mail/ui/ in {html}"));
    assert!(!html.contains("\"/ui/"), "an asset URL outside the webroot");
    let script = get(app).await.unwrap();
    assert_eq!(script.status(), 200, "{app}");
    let base_js = get(&app.replace("/app.js", "/base.js")).await.unwrap();
    assert!(base_js.text().await.unwrap().contains("import.meta.url"));
    server.shutdown().await;
}
