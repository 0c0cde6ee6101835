//! `/api/v1/messages`, `/info`, `/webui`: listing, read status, deletion.

mod api_support;

use api_support::{ids, simple, start};
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn list_envelope_and_summary_shapes() {
    let api = start().await;
    let empty = api.get_json("/api/v1/messages").await;
    assert_eq!(empty["total"], 0);
    assert_eq!(empty["messages"], Value::Array(vec![]));
    assert_eq!(empty["tags"], Value::Array(vec![]));

    api.insert(&simple("a@example.com", "b@example.com", "first", "one"))
        .await;
    let second = api
        .insert_with(
            &simple(
                "\"Sam Sender\" <sam+news@example.com>",
                "b@example.com",
                "second <&>",
                "two",
            ),
            &["b@example.com", "hidden@example.com"],
        )
        .await;
    let response = api.get("/api/v1/messages").await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert!(text.ends_with("}\n"), "Go encoder adds a newline");
    assert!(text.contains("second \\u003c\\u0026\\u003e"), "{text}");
    // Snake-case envelope keys in Mailpit's order.
    let keys: Vec<_> = [
        "\"total\"",
        "\"unread\"",
        "\"count\"",
        "\"messages_count\"",
        "\"messages_unread\"",
        "\"start\"",
        "\"tags\"",
        "\"messages\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing")))
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "key order");

    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["unread"], 2);
    assert_eq!(list["count"], 2);
    assert_eq!(list["messages_count"], 2);
    assert_eq!(list["messages_unread"], 2);
    assert_eq!(list["start"], 0);
    assert_eq!(list["tags"], serde_json::json!(["news"]));
    let newest = &list["messages"][0];
    assert_eq!(newest["ID"], second.id(), "newest first");
    assert_eq!(newest["ID"].as_str().unwrap().len(), 22);
    assert_eq!(newest["Read"], false);
    assert_eq!(
        newest["From"],
        serde_json::json!({"Name": "Sam Sender", "Address": "sam+news@example.com"})
    );
    assert_eq!(
        newest["Bcc"],
        serde_json::json!([{"Name": "", "Address": "hidden@example.com"}])
    );
    assert_eq!(newest["Cc"], serde_json::json!([]), "never null");
    assert_eq!(newest["ReplyTo"], serde_json::json!([]));
    assert_eq!(newest["Tags"], serde_json::json!(["news"]));
    assert_eq!(newest["Snippet"], "two");
    assert_eq!(newest["Attachments"], 0);
    assert_eq!(newest["Username"], "");
    assert!(newest["Size"].as_u64().unwrap() > 50);
    let created = newest["Created"].as_str().unwrap();
    let fraction = created.split('.').nth(1).expect("fractional seconds");
    assert!(fraction.as_bytes()[..3].iter().all(u8::is_ascii_digit));
    assert!(fraction.ends_with('Z') || fraction.contains('+') || fraction.contains('-'));
    assert!(created.parse::<jiff::Timestamp>().is_ok(), "{created}");
    let summary_keys = [
        "ID",
        "MessageID",
        "Read",
        "From",
        "To",
        "Cc",
        "Bcc",
        "ReplyTo",
        "Subject",
        "Created",
        "Username",
        "Tags",
        "Size",
        "Attachments",
        "Snippet",
        "Mailbox",
    ];
    assert_eq!(newest.as_object().unwrap().len(), summary_keys.len());
    for key in summary_keys {
        assert!(newest.get(key).is_some(), "{key}");
    }
    api.shutdown().await;
}

#[tokio::test]
async fn pagination_limit_zero_and_bad_numbers() {
    let api = start().await;
    for i in 0..7 {
        api.insert(&simple(
            "a@example.com",
            "b@example.com",
            &format!("m{i}"),
            "x",
        ))
        .await;
    }
    let page = api.get_json("/api/v1/messages?start=2&limit=3").await;
    assert_eq!(page["count"], 3);
    assert_eq!(page["start"], 2);
    assert_eq!(page["messages"][0]["Subject"], "m4");
    assert_eq!(page["total"], 7);
    let all = api.get_json("/api/v1/messages?limit=0&start=3").await;
    assert_eq!(all["count"], 7, "limit=0 returns everything");
    let beyond = api.get_json("/api/v1/messages?start=100").await;
    assert_eq!(beyond["count"], 0);
    let defaults = api.get_json("/api/v1/messages?start=abc&limit=xyz").await;
    assert_eq!(defaults["count"], 7);
    let huge = api
        .get_json("/api/v1/messages?limit=999999999999999999999999999")
        .await;
    assert_eq!(huge["count"], 7);
    for bad in ["start=-1", "limit=-3"] {
        let (status, body) = api
            .call(Method::GET, &format!("/api/v1/messages?{bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let before = api
        .get_json("/api/v1/messages?before=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(before["count"], 0);
    let future = api
        .get_json("/api/v1/messages?before=2999-01-01&limit=2")
        .await;
    assert_eq!(future["count"], 2);
    let ignored = api.get_json("/api/v1/messages?before=notadate").await;
    assert_eq!(ignored["count"], 7);
    api.shutdown().await;
}

#[tokio::test]
async fn read_status_by_ids_search_and_all() {
    let api = start().await;
    let a = api
        .insert(&simple("a@example.com", "x@example.com", "alpha", "x"))
        .await;
    let b = api
        .insert(&simple("b@example.com", "x@example.com", "beta", "x"))
        .await;
    api.insert(&simple("c@example.com", "x@example.com", "gamma", "x"))
        .await;

    let body = format!(
        r#"{{"IDs": ["{}", "{}", "nonexistent"], "Read": true}}"#,
        a.id(),
        b.id()
    );
    let (status, text) = api.send_json(Method::PUT, "/api/v1/messages", &body).await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 1);

    // Lower-case keys, as the bundled UI sends them.
    let body = format!(r#"{{"ids": ["{}"], "read": false}}"#, a.id());
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/messages", &body)
            .await
            .0,
        200
    );
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 2);

    let (status, _) = api
        .send_json(
            Method::PUT,
            "/api/v1/messages",
            r#"{"Search": "subject:gamma", "Read": true}"#,
        )
        .await;
    assert_eq!(status, 200);
    let list = api.get_json("/api/v1/messages").await;
    assert_eq!(list["messages"][0]["Read"], true, "gamma read");
    assert_eq!(list["unread"], 1);

    let (status, text) = api
        .send_json(
            Method::PUT,
            "/api/v1/messages",
            &format!(r#"{{"IDs": ["{}"], "Search": "x"}}"#, a.id()),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        text,
        "You may specify either IDs or a search query, not both"
    );

    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/messages", r#"{"Read": true}"#)
            .await
            .0,
        200
    );
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 0);
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/messages", "{}").await.0,
        200
    );
    assert_eq!(
        api.get_json("/api/v1/messages").await["unread"],
        3,
        "{{}} marks all unread"
    );

    for bad in ["", "not json", r#"{"Read": "yes"}"#] {
        let (status, text) = api.send_json(Method::PUT, "/api/v1/messages", bad).await;
        assert_eq!(status, 400, "{bad:?} -> {text}");
    }
    let (status, text) = api.send_json(Method::PUT, "/api/v1/messages", "").await;
    assert_eq!((status, text.as_str()), (400, "EOF"));
    api.shutdown().await;
}

#[tokio::test]
async fn delete_by_ids_and_everything() {
    let api = start().await;
    let a = api
        .insert(&simple("a@example.com", "x@example.com", "a", "x"))
        .await;
    let b = api
        .insert(&simple("b@example.com", "x@example.com", "b", "x"))
        .await;
    let body = format!(r#"{{"IDs": ["{}", "../../etc/passwd"]}}"#, a.id());
    let (status, text) = api
        .send_json(Method::DELETE, "/api/v1/messages", &body)
        .await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    assert_eq!(ids(&api.get_json("/api/v1/messages").await), [b.id()]);

    // No body at all (cypress-mailpit, mailpit-api's deleteMessages()).
    let (status, _) = api.call(Method::DELETE, "/api/v1/messages").await;
    assert_eq!(status, 200);
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 0);

    // A form-encoded body (the PyPI client) deletes the IDs it names
    // (Mailpit deletes everything here; mailcatch takes the client at its word).
    let kept = api
        .insert(&simple("a@example.com", "x@example.com", "a", "x"))
        .await;
    let mut gone = Vec::new();
    for _ in 0..2 {
        gone.push(
            api.insert(&simple("a@example.com", "x@example.com", "a", "x"))
                .await,
        );
    }
    let response = api
        .client
        .delete(api.url("/api/v1/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("ids={}&ids={}", gone[0].id(), gone[1].id()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(ids(&api.get_json("/api/v1/messages").await), [kept.id()]);
    let response = api
        .client
        .put(api.url("/api/v1/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("ids={}&Read=True", kept.id()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 0);
    api.call(Method::DELETE, "/api/v1/messages").await;
    api.insert(&simple("a@example.com", "x@example.com", "a", "x"))
        .await;
    assert_eq!(
        api.send_json(Method::DELETE, "/api/v1/messages", r#"{"IDs": []}"#)
            .await
            .0,
        200
    );
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 0);
    api.shutdown().await;
}

#[tokio::test]
async fn info_and_webui() {
    let api = api_support::start_with(|c| c.smtp.label = "CI box".into()).await;
    let m = api
        .insert(&simple("a@example.com", "b+blue@example.com", "x", "x"))
        .await;
    api.get_json(&format!("/api/v1/message/{}", m.id())).await;
    api.insert(&simple("a@example.com", "b+blue@example.com", "y", "y"))
        .await;
    let info = api.get_json("/api/v1/info").await;
    assert!(info["Version"].as_str().unwrap().starts_with('v'));
    assert_eq!(info["Messages"], 2);
    assert_eq!(info["Unread"], 1);
    assert_eq!(info["Tags"], serde_json::json!({"blue": 2}));
    assert!(info["DatabaseSize"].is_u64());
    assert!(info["LatestVersion"].is_string());
    let stats = &info["RuntimeStats"];
    assert_eq!(stats["SMTPAccepted"], 2);
    for key in [
        "Uptime",
        "Memory",
        "MessagesDeleted",
        "SMTPAcceptedSize",
        "SMTPRejected",
        "SMTPIgnored",
    ] {
        assert!(stats[key].is_u64(), "{key}");
    }
    let webui = api.get_json("/api/v1/webui").await;
    assert_eq!(webui["Label"], "CI box");
    assert_eq!(webui["ChaosEnabled"], false);
    assert_eq!(webui["MessageRelay"]["Enabled"], false);
    assert_eq!(webui["MessageRelay"]["RecipientAllowlist"], "");
    assert_eq!(webui["HideDeleteAllButton"], false);
    api.shutdown().await;
}

/// Mail delivered by a real SMTP client (lettre) shows up in the API with
/// its envelope-only recipients as Bcc, and the plus-address tag.
#[tokio::test]
async fn mail_sent_over_smtp_is_listed() {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let api = start().await;
    let addr = api.running.smtp_addr;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(addr.ip().to_string())
        .port(addr.port())
        .build();
    let email = lettre::Message::builder()
        .from("Sender <sender@example.com>".parse().unwrap())
        .to("visible+smtp@example.com".parse().unwrap())
        .bcc("hidden@example.com".parse().unwrap())
        .subject("Over SMTP")
        .body("sent with lettre".to_string())
        .unwrap();
    mailer.send(email).await.expect("delivered");
    let list = api
        .get_json("/api/v1/search?query=subject%3A%22over%20smtp%22")
        .await;
    assert_eq!(list["messages_count"], 1);
    let summary = &list["messages"][0];
    assert_eq!(summary["From"]["Address"], "sender@example.com");
    assert_eq!(summary["Tags"], serde_json::json!(["smtp"]));
    assert!(
        summary["Bcc"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Address"] == "hidden@example.com"),
        "{summary}"
    );
    let text = api.get("/view/latest.txt").await.text().await.unwrap();
    assert_eq!(text.trim(), "sent with lettre");
    api.shutdown().await;
}

#[tokio::test]
async fn prometheus_metrics_only_when_enabled() {
    let api = start().await;
    assert_eq!(api.call(Method::GET, "/metrics").await.0, 404);
    api.shutdown().await;

    let api = api_support::start_with(|c| c.http.enable_prometheus = Some("true".into())).await;
    api.insert(&simple("a@example.com", "b@example.com", "counted", "x"))
        .await;
    let (status, text) = api.call(Method::GET, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "mailcatch_messages 1",
        "mailcatch_messages_accepted_total 1",
        "mailcatch_ingest_seconds_count 1",
        "# EOF",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    api.shutdown().await;
}

#[tokio::test]
async fn prometheus_metrics_on_a_listener_of_their_own() {
    let api =
        api_support::start_with(|c| c.http.enable_prometheus = Some("127.0.0.1:0".into())).await;
    assert_eq!(
        api.call(Method::GET, "/metrics").await.0,
        404,
        "not on the HTTP listener"
    );
    let addr = api.running.metrics_addr.expect("a metrics listener");
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.lines().any(|l| l == "mailcatch_messages 0"), "{text}");
    api.shutdown().await;
}
