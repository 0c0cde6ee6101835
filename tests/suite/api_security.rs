//! Basic auth, the Origin check and CORS, body caps and the Host check
//! (the OpenAPI document is checked in `api_openapi`).

use crate::api_support;

use api_support::{simple, start, start_with};
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn basic_auth_guards_everything_but_probes() {
    let dir = std::env::temp_dir().join(format!("mailcatch-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users");
    std::fs::write(&file, "# users\nfile-user:file-pass\n").unwrap();
    let api = start_with(|c| {
        c.http.ui_auth_file = Some(file.clone());
        c.http.ui_auth = Some("env-user:env-pass".into());
    })
    .await;
    for path in [
        "/api/v1/messages",
        "/api/v1/info",
        "/view/latest.txt",
        "/",
        "/api/events",
        "/api/v2/messages",
        "/api/v1/events",
        "/api/v2/websocket",
    ] {
        let response = api.get(path).await;
        assert_eq!(response.status(), 401, "{path}");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Login\""
        );
        assert_eq!(response.text().await.unwrap(), "Unauthorized.\n");
    }
    for path in ["/livez", "/readyz"] {
        assert_eq!(api.get(path).await.status(), 200, "{path} is exempt");
    }
    let wrong = api
        .client
        .get(api.url("/api/v1/messages"))
        .basic_auth("file-user", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    for (user, pass) in [("file-user", "file-pass"), ("env-user", "env-pass")] {
        let ok = api
            .client
            .get(api.url("/api/v1/messages"))
            .basic_auth(user, Some(pass))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{user}");
    }
    // The send API records the authenticated user as the Username.
    let sent: Value = api
        .client
        .post(api.url("/api/v1/send"))
        .basic_auth("env-user", Some("env-pass"))
        .body(
            r#"{"From":{"Email":"a@example.com"},"To":[{"Email":"b@example.com"}],"Subject":"s"}"#,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message: Value = api
        .client
        .get(api.url(&format!("/api/v1/message/{}", sent["ID"].as_str().unwrap())))
        .basic_auth("env-user", Some("env-pass"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(message["Username"], "env-user");
    api.shutdown().await;

    let missing = mailcatch::start({
        let mut config = mailcatch::Config::ephemeral();
        config.http.ui_auth_file = Some(dir.join("does-not-exist"));
        config
    })
    .await;
    assert!(missing.is_err(), "an unreadable auth file stops start-up");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn foreign_origins_are_refused_unless_allowed() {
    let api = start().await;
    let same_origin = format!("http://{}", api.running.http_addr);
    let with_origin = |method: Method, path: &str, origin: &str| {
        api.client
            .request(method, api.url(path))
            .header("origin", origin)
            .send()
    };
    let ok = with_origin(Method::GET, "/api/v1/messages", &same_origin)
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.headers().get("access-control-allow-origin").is_none(),
        "CORS off"
    );
    for (method, path) in [
        (Method::GET, "/api/v1/messages"),
        (Method::DELETE, "/api/v1/messages"),
        (Method::POST, "/api/v1/send"),
        (Method::GET, "/view/latest.html"),
        (Method::GET, "/api/v2/messages"),
        (Method::DELETE, "/api/v2/jim"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v2/websocket"),
    ] {
        let refused = with_origin(method.clone(), path, "http://evil.example")
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{method} {path}");
        assert_eq!(
            refused.text().await.unwrap(),
            "Blocked due to CORS violation"
        );
    }
    // The UI's sandboxed preview loads inline images with `Origin: null`:
    // reading a part is allowed (without CORS headers), changing mail is not.
    let message = api
        .insert(&simple("a@example.com", "b@example.com", "x", "x"))
        .await;
    let part = with_origin(
        Method::GET,
        &format!("/api/v1/message/{}/part/1", message.id()),
        "null",
    )
    .await
    .unwrap();
    assert_ne!(part.status(), 403);
    assert!(part.headers().get("access-control-allow-origin").is_none());
    for (method, path) in [
        (Method::DELETE, "/api/v1/messages".to_string()),
        (Method::GET, format!("/api/v1/message/{}", message.id())),
    ] {
        let refused = with_origin(method.clone(), &path, "null").await.unwrap();
        assert_eq!(refused.status(), 403, "{method} {path}");
    }
    api.shutdown().await;

    let api = start_with(|c| c.http.api_cors = Some("app.example:3000".into())).await;
    let allowed = api
        .client
        .get(api.url("/api/v1/messages"))
        .header("origin", "http://app.example:3000")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://app.example:3000"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-methods"],
        "GET, POST, DELETE, PUT, OPTIONS"
    );
    let preflight = api
        .client
        .request(Method::OPTIONS, api.url("/api/v1/messages"))
        .header("origin", "http://app.example:3000")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(preflight.headers()["access-control-allow-headers"], "*");
    let other = api
        .client
        .get(api.url("/api/v1/messages"))
        .header("origin", "http://app.example:4000")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
    api.shutdown().await;
}

#[tokio::test]
async fn json_bodies_are_capped() {
    let api = start_with(|c| c.http.max_json_body = 1024).await;
    api.insert(&simple("a@example.com", "b@example.com", "kept", "x"))
        .await;
    let big = format!(r#"{{"IDs": ["{}"], "Read": true}}"#, "A".repeat(4096));
    let (status, body) = api.send_json(Method::PUT, "/api/v1/messages", &big).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "http: request body too large")
    );
    let (status, _) = api
        .send_json(Method::DELETE, "/api/v1/messages", &big)
        .await;
    assert_eq!(
        status, 400,
        "an oversized DELETE body is refused, not delete-all"
    );
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 1);
    let (status, _) = api.send_json(Method::PUT, "/api/v1/tags", &big).await;
    assert_eq!(status, 400);
    api.shutdown().await;
}

#[tokio::test]
async fn garbage_never_causes_a_server_error() {
    let api = start().await;
    let m = api
        .insert(&simple("a@example.com", "b@example.com", "x", "x"))
        .await;
    let id = m.id();
    let requests: Vec<(Method, String, &str)> = vec![
        (Method::PUT, "/api/v1/messages".into(), "\u{0}\u{1}"),
        (Method::PUT, "/api/v1/messages".into(), "[]"),
        (
            Method::PUT,
            "/api/v1/messages".into(),
            r#"{"IDs": "notalist"}"#,
        ),
        (Method::PUT, "/api/v1/tags".into(), r#"{"Tags": [1, 2]}"#),
        (
            Method::PUT,
            "/api/v1/tags/%FF%FE".into(),
            r#"{"Name": "x"}"#,
        ),
        (Method::POST, "/api/v1/send".into(), "null"),
        (Method::POST, "/api/v1/send".into(), r#"{"From": "string"}"#),
        (Method::GET, "/api/v1/search?query=%22%22%22".into(), ""),
        (
            Method::GET,
            "/api/v1/search?query=larger%3A99999999999999999999999999MB".into(),
            "",
        ),
        (
            Method::GET,
            "/api/v1/search?query=after%3A99999-99-99&tz=%00".into(),
            "",
        ),
        (
            Method::GET,
            "/api/v1/messages?start=99999999999999999999&limit=1".into(),
            "",
        ),
        (
            Method::GET,
            format!("/api/v1/message/{id}/part/%2e%2e%2f%2e%2e"),
            "",
        ),
        (Method::GET, "/view/..%2F..%2Fetc%2Fpasswd.html".into(), ""),
        (Method::GET, "/api/v1/message/latest?query=%FF".into(), ""),
    ];
    for (method, path, body) in requests {
        let (status, text) = api.send_json(method.clone(), &path, body).await;
        assert!(
            (200..500).contains(&status),
            "{method} {path} {body:?} -> {status} {text}"
        );
    }
    // Still serving.
    assert_eq!(api.get("/api/v1/messages").await.status(), 200);
    api.shutdown().await;
}

/// `--allowed-hosts`: a request naming another host (a DNS-rebinding page)
/// gets 403; listed hosts, with any port unless one is given, pass; health
/// probes pass regardless.
#[tokio::test]
async fn hosts_outside_the_allow_list_are_refused() {
    let api = start_with(|c| c.http.allowed_hosts = Some("mail.test, localhost:1".into())).await;
    let port = api.running.http_addr.port();
    let get = |path: &'static str, host: String| {
        let request = api.client.get(api.url(path)).header("Host", host);
        async move { request.send().await.unwrap().status() }
    };
    for host in [
        "evil.example".to_string(),
        format!("127.0.0.1:{port}"),
        "localhost".into(),
    ] {
        assert_eq!(get("/api/v1/messages", host.clone()).await, 403, "{host}");
        assert_eq!(get("/", host.clone()).await, 403, "{host}");
        assert_eq!(get("/readyz", host.clone()).await, 200, "{host}");
    }
    for host in [
        format!("mail.test:{port}"),
        "MAIL.test".into(),
        "localhost:1".into(),
    ] {
        assert_eq!(get("/api/v1/messages", host.clone()).await, 200, "{host}");
    }
    api.shutdown().await;
    // Unset, every host is served.
    let api = start().await;
    let request = api.client.get(api.url("/api/v1/messages"));
    let status = request
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    api.shutdown().await;
}
