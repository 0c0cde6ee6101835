//! `POST /api/v1/send`, `/api/v1/tags`, `/api/v1/chaos` and MailHog's `/api/v2/jim`.

use crate::api_support;

use api_support::{simple, start, start_with};
use reqwest::Method;
use serde_json::{Value, json};

/// Mailpit's own `TestAPIv1Send` request.
const MAILPIT_SEND: &str = r#"{
    "From": {"Email": "john@example.com", "Name": "John Doe"},
    "To": [{"Email": "jane@example.com", "Name": "Jane Doe"}],
    "Cc": [{"Email": "manager1@example.com", "Name": "Manager 1"},
           {"Email": "manager2@example.com", "Name": "Manager 2"}],
    "Bcc": ["jack@example.com"],
    "Headers": {"X-IP": "1.2.3.4"},
    "Subject": "Mailpit message via the HTTP API",
    "Text": "This is the text body",
    "HTML": "<p style=\"font-family: arial\">Mailpit is <b>awesome</b>!</p>",
    "Attachments": [{"Content": "VGhpcyBpcyBhIHBsYWluIHRleHQgYXR0YWNobWVudA==",
                     "Filename": "Attached File.txt"}],
    "ReplyTo": [{"Email": "secretary@example.com", "Name": "Secretary"}],
    "Tags": ["Tag 1", "Tag 2"]
}"#;

#[tokio::test]
async fn send_like_mailpits_test() {
    let api = start().await;
    let (status, body) = api
        .send_json(Method::POST, "/api/v1/send", MAILPIT_SEND)
        .await;
    assert_eq!(status, 200, "{body}");
    let confirmation: Value = serde_json::from_str(&body).unwrap();
    let id = confirmation["ID"].as_str().unwrap();
    assert_eq!(id.len(), 22);
    let m = api.get_json(&format!("/api/v1/message/{id}")).await;
    assert_eq!(m["Subject"], "Mailpit message via the HTTP API");
    assert_eq!(m["Text"].as_str().unwrap().trim(), "This is the text body");
    assert_eq!(
        m["HTML"].as_str().unwrap().trim(),
        r#"<p style="font-family: arial">Mailpit is <b>awesome</b>!</p>"#
    );
    assert_eq!(
        m["From"],
        json!({"Name": "John Doe", "Address": "john@example.com"})
    );
    assert_eq!(
        m["To"],
        json!([{"Name": "Jane Doe", "Address": "jane@example.com"}])
    );
    assert_eq!(m["Cc"].as_array().unwrap().len(), 2);
    assert_eq!(m["Cc"][1]["Name"], "Manager 2");
    assert_eq!(
        m["Bcc"],
        json!([{"Name": "", "Address": "jack@example.com"}])
    );
    assert_eq!(m["ReplyTo"][0]["Address"], "secretary@example.com");
    assert_eq!(m["Tags"], json!(["Tag 1", "Tag 2"]));
    assert_eq!(m["Attachments"][0]["FileName"], "Attached File.txt");
    let part = m["Attachments"][0]["PartID"].as_str().unwrap();
    let content = api
        .get(&format!("/api/v1/message/{id}/part/{part}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(content, "This is a plain text attachment");
    let headers = api.get_json(&format!("/api/v1/message/{id}/headers")).await;
    assert_eq!(headers["X-Ip"], json!(["1.2.3.4"]));
    api.shutdown().await;
}

#[tokio::test]
async fn send_inline_image_and_lowercase_keys() {
    let api = start().await;
    let body = r#"{"from": {"email": "a@example.com"}, "to": [{"email": "b@example.com"}],
        "subject": "inline", "html": "<img src=\"cid:pic\">",
        "attachments": [{"content": "data:image/png;base64,iVBORw0KGgo=", "filename": "pic.png", "contentid": "pic"}]}"#;
    let (status, text) = api.send_json(Method::POST, "/api/v1/send", body).await;
    assert_eq!(status, 200, "{text}");
    let id = serde_json::from_str::<Value>(&text).unwrap()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let m = api.get_json(&format!("/api/v1/message/{id}")).await;
    assert_eq!(m["Inline"][0]["ContentID"], "pic");
    assert_eq!(m["Inline"][0]["ContentType"], "image/png");
    let html = api
        .get(&format!("/view/{id}.html"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/api/v1/message/{id}/part/")),
        "{html}"
    );
    api.shutdown().await;
}

#[tokio::test]
async fn send_errors_are_json() {
    let api = start().await;
    let cases = [
        (
            r#"{"To": [{"Email": "b@example.com"}], "Subject": "s"}"#,
            "error building message: from not set",
        ),
        (
            r#"{"From": {"Email": "not an address"}, "To": [{"Email": "b@example.com"}], "Subject": "s"}"#,
            "invalid From address: not an address",
        ),
        (
            r#"{"From": {"Email": "a@example.com"}, "To": [{"Email": "not an address"}], "Subject": "s"}"#,
            "invalid To address: not an address",
        ),
        (
            r#"{"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}]}"#,
            "error building message: subject not set",
        ),
        (
            r#"{"From": {"Email": "a@example.com"}, "Subject": "s"}"#,
            "error building message: no recipients (to, cc, bcc) set",
        ),
        (
            r#"{"From": {"Email": "a@example.com"}, "Bcc": ["b@example.com"], "Subject": "s", "Headers": {"subject": "x"}}"#,
            "cannot overwrite header: \"subject\"",
        ),
        (
            r#"{"From": {"Email": "a@example.com"}, "Bcc": ["b@example.com"], "Subject": "s", "Tags": ["t"], "Headers": {"X-Tags": "x"}}"#,
            "cannot overwrite header: \"X-Tags\"",
        ),
    ];
    for (body, error) in cases {
        let response = api
            .client
            .post(api.url("/api/v1/send"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let reply: Value = response.json().await.unwrap();
        assert_eq!(reply, json!({"Error": error}), "{body}");
    }
    let (status, text) = api
        .send_json(
            Method::POST,
            "/api/v1/send",
            r#"{"From": {"Email": "a@example.com"}, "Bcc": ["b@example.com"], "Subject": "s",
               "Attachments": [{"Content": "!!notbase64", "Filename": "x.bin"}]}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        text.contains("error decoding base64 attachment \\\"x.bin\\\""),
        "{text}"
    );
    let (status, text) = api
        .send_json(Method::POST, "/api/v1/send", "{not json")
        .await;
    assert_eq!(status, 400);
    assert!(serde_json::from_str::<Value>(&text).unwrap()["Error"].is_string());
    let (status, text) = api
        .send_json(
            Method::POST,
            "/api/v1/send",
            r#"{"From": {"Email": "a@example.com"}, "Bcc": ["b@example.com"], "Subject": "s", "Headers": {"X-Evil": "a\r\nBcc: victim@example.com"}}"#,
        )
        .await;
    assert_eq!(status, 400, "header injection refused: {text}");
    assert_eq!(api.get_json("/api/v1/messages").await["total"], 0);
    api.shutdown().await;
}

#[tokio::test]
async fn send_body_is_capped_at_the_message_size() {
    let api = start_with(|c| c.smtp.max_message_size = 1).await;
    let big = "A".repeat(2 * 1024 * 1024);
    let body = format!(
        r#"{{"From": {{"Email": "a@example.com"}}, "To": [{{"Email": "b@example.com"}}], "Subject": "s", "Text": "{big}"}}"#
    );
    let (status, text) = api.send_json(Method::POST, "/api/v1/send", &body).await;
    assert_eq!(status, 413);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"Error": "http: request body too large"})
    );
    api.shutdown().await;
}

/// With `--send-max-concurrent 1`, a second send while one is still
/// uploading its body gets `503` with `Retry-After`; the first completes.
#[tokio::test]
async fn too_many_concurrent_sends_get_503_with_retry_after() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let api = start_with(|c| c.http.send_max_concurrent = 1).await;
    let body = r#"{"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "slow"}"#;
    let (head, tail) = body.split_at(20);
    let mut slow = tokio::net::TcpStream::connect(api.running.http_addr)
        .await
        .unwrap();
    let request = format!(
        "POST /api/v1/send HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    slow.write_all(request.as_bytes()).await.unwrap();
    // The slow request holds the only permit once its headers are read.
    let mut refused = None;
    for _ in 0..50 {
        let response = api
            .client
            .post(api.url("/api/v1/send"))
            .body(body)
            .send()
            .await
            .unwrap();
        if response.status() == 503 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refused = refused.expect("a concurrent send was refused");
    assert_eq!(refused.headers()["retry-after"], "1");
    let reply: Value = refused.json().await.unwrap();
    assert!(
        reply["Error"].as_str().unwrap().contains("retry"),
        "{reply}"
    );
    slow.write_all(tail.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        slow.read_to_string(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The permit is back: the next send goes through.
    let (status, _) = api.send_json(Method::POST, "/api/v1/send", body).await;
    assert_eq!(status, 200);
    api.shutdown().await;
}

#[tokio::test]
async fn tags_set_list_rename_delete_and_automatic() {
    let api = start().await;
    let auto = api
        .insert(&format!(
            "X-Tags: Alpha, beta\r\n{}",
            simple("a@example.com", "b+Gamma@example.com", "auto", "x")
        ))
        .await;
    let other = api
        .insert(&simple("a@example.com", "c@example.com", "other", "x"))
        .await;
    assert_eq!(
        api.get_json("/api/v1/tags").await,
        json!(["Alpha", "beta", "Gamma"])
    );

    let body = format!(
        r#"{{"IDs": ["{}"], "Tags": ["zeta", "Zeta", "b@d!", "  "]}}"#,
        other.id()
    );
    let (status, text) = api.send_json(Method::PUT, "/api/v1/tags", &body).await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let m = api
        .get_json(&format!("/api/v1/message/{}", other.id()))
        .await;
    assert_eq!(m["Tags"], json!(["b@d", "zeta"]));

    let (status, text) = api
        .send_json(Method::PUT, "/api/v1/tags/zeta", r#"{"Name": "Omega"}"#)
        .await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let (status, text) = api
        .send_json(Method::PUT, "/api/v1/tags/Alpha%20Beta", r#"{"Name": "x"}"#)
        .await;
    assert_eq!((status, text.as_str()), (400, "tag not found: Alpha Beta"));
    let (status, text) = api
        .send_json(Method::PUT, "/api/v1/tags/Omega", r#"{"Name": "alpha"}"#)
        .await;
    assert_eq!((status, text.as_str()), (400, "tag already exists: alpha"));
    let (status, text) = api.call(Method::DELETE, "/api/v1/tags/beta").await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let (status, text) = api.call(Method::DELETE, "/api/v1/tags/beta").await;
    assert_eq!((status, text.as_str()), (400, "tag not found: beta"));
    assert_eq!(
        api.get_json("/api/v1/tags").await,
        json!(["Alpha", "b@d", "Gamma", "Omega"])
    );
    let m = api
        .get_json(&format!("/api/v1/message/{}", auto.id()))
        .await;
    assert_eq!(m["Tags"], json!(["Alpha", "Gamma"]), "messages are kept");

    // Clearing tags, and bad bodies.
    let body = format!(r#"{{"ids": ["{}"]}}"#, other.id());
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/tags", &body).await.0,
        200
    );
    assert_eq!(
        api.get_json("/api/v1/tags").await,
        json!(["Alpha", "Gamma"])
    );
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/tags", "nope").await.0,
        400
    );
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/tags/Alpha", "").await.0,
        400
    );
    api.shutdown().await;
}

/// At most 100 tags a message: more in X-Tags are dropped (the first 100
/// kept), more in a PUT are refused; IDs listed twice in PUT and DELETE
/// bodies act once.
#[tokio::test]
async fn tags_are_capped_and_duplicate_ids_are_harmless() {
    let api = start().await;
    let names: Vec<String> = (0..150).map(|i| format!("t{i:03}")).collect();
    let many = api
        .insert(&format!(
            "X-Tags: {}\r\n{}",
            names.join(", "),
            simple("a@example.com", "b@example.com", "many", "x")
        ))
        .await;
    let m = api
        .get_json(&format!("/api/v1/message/{}", many.id()))
        .await;
    let tags = m["Tags"].as_array().unwrap();
    assert_eq!(tags.len(), 100);
    assert_eq!(tags[99], "t099");

    let other = api
        .insert(&simple("a@example.com", "c@example.com", "other", "x"))
        .await;
    let put = |tags: &[String], ids: &[&str]| json!({"IDs": ids, "Tags": tags}).to_string();
    let (status, text) = api
        .send_json(
            Method::PUT,
            "/api/v1/tags",
            &put(&names[..101], &[other.id()]),
        )
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("at most 100"), "{text}");
    let m = api
        .get_json(&format!("/api/v1/message/{}", other.id()))
        .await;
    assert_eq!(m["Tags"], json!([]));
    let body = put(
        &names[..100],
        &[other.id(), other.id(), many.id(), other.id()],
    );
    let (status, _) = api.send_json(Method::PUT, "/api/v1/tags", &body).await;
    assert_eq!(status, 200);
    for id in [other.id(), many.id()] {
        let m = api.get_json(&format!("/api/v1/message/{id}")).await;
        assert_eq!(m["Tags"].as_array().unwrap().len(), 100);
    }

    // Viewing marked both read; one ID, listed twice, goes back to unread.
    let body = json!({"IDs": [other.id(), other.id()], "Read": false}).to_string();
    let (status, _) = api.send_json(Method::PUT, "/api/v1/messages", &body).await;
    assert_eq!(status, 200);
    assert_eq!(api.get_json("/api/v1/messages").await["unread"], 1);
    let body = json!({"IDs": [other.id(), other.id(), other.id()]}).to_string();
    let (status, text) = api
        .send_json(Method::DELETE, "/api/v1/messages", &body)
        .await;
    assert_eq!((status, text.as_str()), (200, "ok"));
    let list = api.get_json("/api/v1/messages").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["messages"][0]["ID"], many.id());
    api.shutdown().await;
}

#[tokio::test]
async fn chaos_disabled_and_enabled() {
    let api = start().await;
    let (status, body) = api.call(Method::GET, "/api/v1/chaos").await;
    assert_eq!((status, body.as_str()), (400, "Chaos is not enabled"));
    assert_eq!(
        api.send_json(Method::PUT, "/api/v1/chaos", "{}").await.0,
        400
    );
    api.shutdown().await;

    let api = start_with(|c| c.smtp.enable_chaos = true).await;
    let defaults = json!({
        "Sender": {"ErrorCode": 451, "Probability": 0},
        "Recipient": {"ErrorCode": 451, "Probability": 0},
        "Authentication": {"ErrorCode": 535, "Probability": 0}
    });
    assert_eq!(api.get_json("/api/v1/chaos").await, defaults);
    let (status, body) = api
        .send_json(
            Method::PUT,
            "/api/v1/chaos",
            r#"{"sender": {"errorcode": 550, "probability": 100}}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let set: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(set["Sender"], json!({"ErrorCode": 550, "Probability": 100}));
    assert_eq!(set["Recipient"]["Probability"], 0);
    assert_eq!(
        api.running
            .app
            .settings
            .chaos
            .roll(mailcatch::chaos::Stage::Sender),
        Some(550),
        "the SMTP side sees it"
    );
    let (status, body) = api
        .send_json(
            Method::PUT,
            "/api/v1/chaos",
            r#"{"Recipient": {"ErrorCode": 200}}"#,
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "error code must be between 400 and 599")
    );
    let (status, body) = api
        .send_json(
            Method::PUT,
            "/api/v1/chaos",
            r#"{"Recipient": {"Probability": 101}}"#,
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (400, "probability must be between 0 and 100")
    );
    let (status, body) = api.send_json(Method::PUT, "/api/v1/chaos", "{}").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), defaults);
    assert_eq!(api.get_json("/api/v1/webui").await["ChaosEnabled"], true);
    api.shutdown().await;
}

#[tokio::test]
async fn mailhog_jim_drives_chaos() {
    let api = start().await;
    assert_eq!(api.call(Method::GET, "/api/v2/jim").await.0, 404);
    let (status, body) = api.call(Method::POST, "/api/v2/jim").await;
    assert_eq!(status, 400);
    assert!(body.contains("--enable-chaos"), "{body}");
    assert_eq!(api.call(Method::DELETE, "/api/v2/jim").await.0, 404);
    assert_eq!(api.get_json("/api/v2/outgoing-smtp").await, json!({}));
    api.shutdown().await;

    let api = start_with(|c| c.smtp.enable_chaos = true).await;
    let chaos = || api.running.app.settings.chaos.triggers();
    // Out until let in, as cypress-mailhog's mhGetJimMode reads it.
    assert_eq!(api.call(Method::GET, "/api/v2/jim").await.0, 404);
    assert_eq!(api.call(Method::PUT, "/api/v2/jim").await.0, 404);
    // POST without a body: MailHog's default chances.
    let (status, _) = api.call(Method::POST, "/api/v2/jim").await;
    assert_eq!(status, 201);
    let jim = api.get_json("/api/v2/jim").await;
    let keys: Vec<&String> = jim.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 8);
    assert_eq!(jim["RejectSenderChance"], 0.05);
    assert_eq!(jim["RejectAuthChance"], 0.05);
    assert_eq!(jim["AcceptChance"], 1.0);
    assert_eq!(chaos().sender.probability, 5);
    assert_eq!(chaos().authentication.error_code, 535);
    // Mailpit's view is the same chaos.
    assert_eq!(
        api.get_json("/api/v1/chaos").await["Recipient"]["Probability"],
        5
    );
    assert_eq!(
        api.call(Method::POST, "/api/v2/jim").await.0,
        400,
        "already in"
    );

    let (status, body) = api
        .send_json(
            Method::PUT,
            "/api/v2/jim",
            r#"{"rejectsenderchance": 1, "RejectRecipientChance": 0.25, "DisconnectChance": 0.5}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.running
            .app
            .settings
            .chaos
            .roll(mailcatch::chaos::Stage::Sender),
        Some(451)
    );
    assert_eq!(chaos().recipient.probability, 25);
    assert_eq!(chaos().authentication.probability, 0);
    assert_eq!(api.get_json("/api/v2/jim").await["DisconnectChance"], 0.0);
    for bad in [
        r#"{"RejectSenderChance": 2}"#,
        "not json",
        r#"{"RejectAuthChance": "x"}"#,
    ] {
        let (status, body) = api.send_json(Method::PUT, "/api/v2/jim", bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(
        chaos().sender.probability,
        100,
        "a refused PUT changes nothing"
    );

    assert_eq!(api.call(Method::DELETE, "/api/v2/jim").await.0, 200);
    assert_eq!(chaos().sender.probability, 0);
    assert_eq!(api.call(Method::GET, "/api/v2/jim").await.0, 404);
    assert_eq!(api.call(Method::DELETE, "/api/v2/jim").await.0, 404);
    // POST with a body takes its chances.
    let (status, body) = api
        .send_json(Method::POST, "/api/v2/jim", r#"{"RejectAuthChance": 0.5}"#)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(chaos().authentication.probability, 50);
    assert_eq!(chaos().sender.probability, 0);
    api.shutdown().await;
}
