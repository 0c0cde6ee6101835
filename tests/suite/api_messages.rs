//! `/api/v1/messages`, `/info`, `/webui`: listing, read status, deletion.

use crate::api_support;

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

// ── MailHog's API (/api/v2/messages, /api/v2/search, /api/v1/messages/{id}) ──

/// A multipart message with an encoded-word subject, a quoted-printable
/// text part and a base64 attachment, as MailHog's clients receive them.
fn mailhog_multipart(subject: &str) -> String {
    format!(
        "From: Sender <sender@example.com>\r\nTo: rcpt@example.org\r\nSubject: {subject}\r\n\
Content-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Caf=C3=A9 au lait\r\n\
--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gcGRm\r\n--b1--\r\n"
    )
}

#[tokio::test]
async fn mailhog_message_shapes() {
    let api = start().await;
    let raw = mailhog_multipart("=?utf-8?Q?Caf=C3=A9?=");
    let stored = api
        .insert_with(
            &raw,
            &["rcpt@example.org", "@relay.example:hidden@example.net"],
        )
        .await;
    api.insert(&simple(
        "a@example.com",
        "b@example.com",
        "newer",
        "plain body",
    ))
    .await;

    let response = api.get("/api/v2/messages").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with(r#"{"total":2,"count":2,"start":0,"items":["#),
        "{text}"
    );
    let list: Value = serde_json::from_str(&text).unwrap();
    let item = &list["items"][1];
    assert_eq!(
        list["items"][0]["Content"]["Headers"]["Subject"][0],
        "newer"
    );
    let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["Content", "Created", "From", "ID", "MIME", "Raw", "To"]
    );
    assert_eq!(item["ID"], stored.id(), "the same ID as in Mailpit's API");
    assert_eq!(
        item["From"],
        serde_json::json!({"Relays": null, "Mailbox": "sender", "Domain": "example.com", "Params": ""})
    );
    assert_eq!(item["To"][0]["Mailbox"], "rcpt");
    assert_eq!(
        item["To"][1]["Relays"],
        serde_json::json!(["@relay.example"])
    );
    assert_eq!(item["To"][1]["Domain"], "example.net");

    let content = &item["Content"];
    let headers = &content["Headers"];
    assert_eq!(
        headers["Subject"],
        serde_json::json!(["=?utf-8?Q?Caf=C3=A9?="])
    );
    assert_eq!(
        headers["Content-Type"][0],
        "multipart/mixed; boundary=\"b1\""
    );
    assert_eq!(
        headers["Return-Path"],
        serde_json::json!(["<sender@example.com>"])
    );
    assert!(
        headers["Received"][0]
            .as_str()
            .unwrap()
            .contains(stored.id())
    );
    assert_eq!(headers["Message-ID"][0], stored.summary.message_id);
    assert!(content["Body"].as_str().unwrap().starts_with("--b1\r\n"));
    assert!(
        content["Body"].as_str().unwrap().contains("Caf=C3=A9"),
        "still encoded"
    );
    // MailHog's data ends before the CRLF that preceded the final `.`.
    let data = raw.strip_suffix("\r\n").unwrap();
    assert_eq!(content["Size"], data.len());
    assert_eq!(content["MIME"], Value::Null);

    let parts = item["MIME"]["Parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "text, attachment and the closing `--`");
    assert_eq!(parts[0]["Body"], "Caf=C3=A9 au lait");
    assert_eq!(
        parts[0]["Headers"]["Content-Transfer-Encoding"][0],
        "quoted-printable"
    );
    assert_eq!(
        parts[1]["Headers"]["Content-Disposition"][0],
        "attachment; filename=\"report.pdf\""
    );
    assert_eq!(parts[2]["Body"], "--");
    assert_eq!(parts[2]["Headers"], serde_json::json!({}));

    assert_eq!(item["Raw"]["From"], "sender@example.com");
    assert_eq!(item["Raw"]["To"][0], "rcpt@example.org");
    assert_eq!(item["Raw"]["Data"], data);
    assert_eq!(item["Raw"]["Helo"], "");
    let created = item["Created"].as_str().unwrap();
    assert!(created.parse::<jiff::Timestamp>().is_ok(), "{created}");

    // Paging as MailHog reads it: bad or non-positive values are defaults.
    let page = api.get_json("/api/v2/messages?start=1&limit=1").await;
    assert_eq!(
        (page["total"].as_u64(), page["count"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(page["start"], 1);
    assert_eq!(page["items"][0]["ID"], stored.id());
    let page = api.get_json("/api/v2/messages?start=-1&limit=0").await;
    assert_eq!(
        (page["start"].as_u64(), page["count"].as_u64()),
        (Some(0), Some(2))
    );
    let past = api.get_json("/api/v2/messages?start=2").await;
    assert_eq!(past["items"], serde_json::json!([]));

    // Mailpit's `GET /api/v1/messages` keeps Mailpit's shape.
    assert_eq!(api.get_json("/api/v1/messages").await["messages_count"], 2);
    api.shutdown().await;
}

#[tokio::test]
async fn mailhog_search_kinds() {
    let api = start().await;
    let first = api
        .insert_with(
            &simple(
                "Alice <alice@example.com>",
                "bob@example.org",
                "Hello Bob",
                "Lunch at noon?",
            ),
            &["bob@example.org", "hidden@example.net"],
        )
        .await;
    let second = api.insert(&mailhog_multipart("Second")).await;
    let search = |query: &str| {
        let api = &api;
        let query = query.to_string();
        async move { api.get_json(&format!("/api/v2/search?{query}")).await }
    };
    let ids_of = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["ID"].as_str().unwrap().to_string())
            .collect()
    };
    let found = search("kind=from&query=ALICE@example").await;
    assert_eq!(ids_of(&found), [first.id()]);
    assert_eq!(
        (found["total"].as_u64(), found["count"].as_u64()),
        (Some(1), Some(1))
    );
    let found = search("kind=to&query=hidden%40example.net").await;
    assert_eq!(
        ids_of(&found),
        [first.id()],
        "envelope-only recipients count"
    );
    let found = search("kind=to&query=rcpt@example.org").await;
    assert_eq!(ids_of(&found), [second.id()]);
    let found = search("kind=containing&query=lunch%20AT").await;
    assert_eq!(ids_of(&found), [first.id()]);
    let found = search("kind=containing&query=caf%C3%A9%20au").await;
    assert_eq!(ids_of(&found), [second.id()], "decoded body text");
    // Plain text, not Mailpit's syntax: `-` and `subject:` mean nothing.
    let found = search("kind=containing&query=-hello").await;
    assert_eq!(found["total"], 0);
    let found = search("kind=containing&query=subject%3Asecond").await;
    assert_eq!(found["total"], 0);
    let found = search("kind=containing&query=%22%3C%3E").await;
    assert_eq!(
        (found["total"].as_u64(), found["count"].as_u64()),
        (Some(0), Some(0))
    );
    let found = search("kind=from&query=example&start=1&limit=1").await;
    assert_eq!(found["total"], 2);
    assert_eq!(ids_of(&found), [first.id()], "newest first, then paged");

    for bad in [
        "kind=subject&query=x",
        "query=x",
        "kind=from&query=",
        "kind=to",
    ] {
        let (status, body) = api
            .call(Method::GET, &format!("/api/v2/search?{bad}"))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(!body.is_empty());
    }
    api.shutdown().await;
}

/// Sends a request as Node's bare `http.request` does (the npm `mailhog`
/// client): no `Accept`, no `User-Agent`. Returns the status and body.
async fn bare_request(api: &api_support::Api, method: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(api.running.http_addr)
        .await
        .unwrap();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut response),
    )
    .await
    .expect("answer in time")
    .unwrap();
    let response = String::from_utf8_lossy(&response);
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[tokio::test]
async fn mailhog_message_delete_download_part_and_release() {
    let api = start().await;
    let raw = mailhog_multipart("Parts");
    let message = api.insert_with(&raw, &["rcpt@example.org"]).await;
    let id = message.id();

    let one = api.get_json(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(one["ID"], id);
    assert_eq!(one["MIME"]["Parts"].as_array().unwrap().len(), 3);
    let (status, _) = api
        .call(Method::GET, "/api/v1/messages/AAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(status, 404);

    let download = api.get(&format!("/api/v1/messages/{id}/download")).await;
    assert_eq!(download.headers()["content-type"], "message/rfc822");
    assert_eq!(
        download.headers()["content-disposition"],
        format!("attachment; filename=\"{id}.eml\"").as_str()
    );
    assert_eq!(download.text().await.unwrap(), raw);

    let part = api
        .get(&format!("/api/v1/messages/{id}/mime/part/1/download"))
        .await;
    assert_eq!(part.status(), 200);
    assert_eq!(part.headers()["content-type"], "application/pdf");
    assert_eq!(
        part.headers()["content-disposition"],
        "inline; filename=\"report.pdf\""
    );
    assert_eq!(part.text().await.unwrap(), "hello pdf", "base64 decoded");
    let text = api
        .get(&format!("/api/v1/messages/{id}/mime/part/0/download"))
        .await;
    assert_eq!(
        text.text().await.unwrap(),
        "Café au lait",
        "quoted-printable decoded"
    );
    for bad in ["9", "x", "-1"] {
        let (status, _) = api
            .call(
                Method::GET,
                &format!("/api/v1/messages/{id}/mime/part/{bad}/download"),
            )
            .await;
        assert_eq!(status, 404, "part {bad}");
    }

    let (status, body) = api
        .send_json(
            Method::POST,
            &format!("/api/v1/messages/{id}/release"),
            r#"{"Host": "127.0.0.1", "Port": "25", "Email": "x@example.com"}"#,
        )
        .await;
    // Without a relay configured, release is refused (tests/outbound.rs
    // covers a configured one).
    assert_eq!(status, 400);
    let refusal: Value = serde_json::from_str(&body).expect("JSON, so the npm client can parse it");
    assert!(
        refusal["Error"]
            .as_str()
            .unwrap()
            .contains("not configured")
    );

    // Deleting one answers MailHog's empty 200; an unknown ID is a 404.
    let (status, body) = api
        .call(Method::DELETE, &format!("/api/v1/messages/{id}"))
        .await;
    assert_eq!((status, body.as_str()), (200, ""));
    let (status, _) = api
        .call(Method::DELETE, &format!("/api/v1/messages/{id}"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(api.get_json("/api/v2/messages").await["total"], 0);

    // Deleting all: Mailpit's `ok`, except to Node's bare http client.
    api.insert(&simple("a@example.com", "b@example.com", "x", "y"))
        .await;
    let (status, body) = api.call(Method::DELETE, "/api/v1/messages").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    api.insert(&simple("a@example.com", "b@example.com", "x", "y"))
        .await;
    let (status, body) = bare_request(&api, "DELETE", "/api/v1/messages").await;
    assert_eq!(status, 200);
    assert!(
        body.is_empty() || body == "0\r\n\r\n",
        "empty body: {body:?}"
    );
    assert_eq!(api.get_json("/api/v2/messages").await["total"], 0);
    api.shutdown().await;
}
