//! The WebSocket feed `/api/events`: every frame type, the debounced
//! stats, the Origin check, and that a client that never reads cannot slow
//! ingestion down; and MailHog's feeds, `/api/v2/websocket` and
//! `/api/v1/events`.

use crate::api_support;

use std::time::{Duration, Instant};

use api_support::{Api, simple, start, start_with};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(api: &Api) -> Socket {
    let url = format!("ws://{}/api/events", api.running.http_addr);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    socket
}

/// The next frame that is not `stats` (or, with `want_stats`, the next
/// `stats`), within two seconds.
async fn next_frame(socket: &mut Socket, want_stats: bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(remaining, socket.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("valid");
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                frame.as_object().unwrap().len(),
                2,
                "{{Type, Data}}: {frame}"
            );
            if (frame["Type"] == "stats") == want_stats {
                return frame;
            }
        }
    }
}

#[tokio::test]
async fn every_frame_type() {
    let api = start_with(|c| c.smtp.enable_chaos = true).await;
    let mut socket = connect(&api).await;
    // A stats frame arrives shortly after connecting.
    let stats = next_frame(&mut socket, true).await;
    assert_eq!(stats["Data"]["Total"], 0);
    assert!(stats["Data"]["Version"].as_str().unwrap().starts_with('v'));

    let message = api
        .insert_with(
            &simple("a@example.com", "b+tagged@example.com", "hello", "body"),
            &["b+tagged@example.com"],
        )
        .await;
    let new = next_frame(&mut socket, false).await;
    assert_eq!(new["Type"], "new");
    assert_eq!(new["Data"]["ID"], message.id());
    assert_eq!(new["Data"]["Read"], false);
    assert_eq!(new["Data"]["Tags"], json!(["tagged"]));
    assert_eq!(new["Data"]["Cc"], json!([]));
    assert!(new["Data"]["Created"].as_str().unwrap().contains('.'));
    let stats = next_frame(&mut socket, true).await;
    assert_eq!(
        stats["Data"],
        json!({"Total": 1, "Unread": 1, "Version": stats["Data"]["Version"]})
    );

    api.get_json(&format!("/api/v1/message/{}", message.id()))
        .await;
    let update = next_frame(&mut socket, false).await;
    assert_eq!(
        update,
        json!({"Type": "update", "Data": {"ID": message.id(), "Read": true}})
    );

    let body = format!(r#"{{"IDs": ["{}"], "Tags": ["Blue"]}}"#, message.id());
    api.send_json(Method::PUT, "/api/v1/tags", &body).await;
    let update = next_frame(&mut socket, false).await;
    assert_eq!(
        update,
        json!({"Type": "update", "Data": {"ID": message.id(), "Tags": ["Blue"]}})
    );

    api.send_json(Method::PUT, "/api/v1/tags/Blue", r#"{"Name": "Green"}"#)
        .await;
    assert_eq!(
        next_frame(&mut socket, false).await,
        json!({"Type": "prune", "Data": null})
    );

    let body = format!(r#"{{"IDs": ["{}"]}}"#, message.id());
    api.send_json(Method::DELETE, "/api/v1/messages", &body)
        .await;
    assert_eq!(
        next_frame(&mut socket, false).await,
        json!({"Type": "delete", "Data": {"ID": message.id()}})
    );

    api.insert(&simple("a@example.com", "b@example.com", "again", "x"))
        .await;
    assert_eq!(next_frame(&mut socket, false).await["Type"], "new");
    api.call(Method::DELETE, "/api/v1/messages").await;
    assert_eq!(
        next_frame(&mut socket, false).await,
        json!({"Type": "truncate", "Data": null})
    );

    // An SMTP client refused by chaos produces an `error` frame.
    api.send_json(
        Method::PUT,
        "/api/v1/chaos",
        r#"{"Sender": {"ErrorCode": 451, "Probability": 100}}"#,
    )
    .await;
    let refused = smtp_mail_from(api.running.smtp_addr).await;
    assert!(refused.starts_with("451"), "{refused}");
    let error = next_frame(&mut socket, false).await;
    assert_eq!(error["Type"], "error");
    assert_eq!(error["Data"]["Type"], "smtpd");
    assert_eq!(error["Data"]["Level"], "warning");
    assert_eq!(error["Data"]["IP"], "127.0.0.1");
    assert!(error["Data"]["Message"].as_str().unwrap().contains("451"));
    api.shutdown().await;
}

/// Speaks just enough SMTP to get a reply to MAIL FROM.
async fn smtp_mail_from(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async || -> String {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap_or_default();
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return line;
            }
        }
    };
    reply().await;
    write.write_all(b"EHLO test\r\n").await.unwrap();
    reply().await;
    write
        .write_all(b"MAIL FROM:<a@example.com>\r\n")
        .await
        .unwrap();
    let answer = reply().await;
    let _ = write.write_all(b"QUIT\r\n").await;
    answer
}

#[tokio::test]
async fn stats_are_debounced() {
    let api = start().await;
    let mut socket = connect(&api).await;
    next_frame(&mut socket, true).await;
    for i in 0..50 {
        api.insert(&simple(
            "a@example.com",
            "b@example.com",
            &format!("m{i}"),
            "x",
        ))
        .await;
    }
    let mut news = 0;
    let mut stats = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while news < 50 || stats.is_empty() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout(remaining, socket.next()).await
        else {
            break;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        match frame["Type"].as_str().unwrap() {
            "new" => news += 1,
            "stats" => stats.push(frame),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(news, 50);
    assert!(
        (1..=3).contains(&stats.len()),
        "{} stats frames",
        stats.len()
    );
    assert_eq!(stats.last().unwrap()["Data"]["Total"], 50);
    api.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_reads_does_not_slow_ingestion() {
    let body = "x".repeat(16 * 1024);
    let ingest = async |api: &Api, count: usize| {
        let started = Instant::now();
        for i in 0..count {
            api.insert(&simple(
                "a@example.com",
                "b@example.com",
                &format!("m{i}"),
                &body,
            ))
            .await;
        }
        started.elapsed()
    };
    let api = start_with(|c| c.http.ws_buffer = 16).await;
    let baseline = ingest(&api, 300).await;
    api.call(Method::DELETE, "/api/v1/messages").await;

    let _stalled = connect(&api).await; // never read from
    let mut reader = connect(&api).await;
    next_frame(&mut reader, true).await;
    let with_clients = ingest(&api, 300).await;
    assert!(
        with_clients < baseline * 2 + Duration::from_secs(1),
        "ingestion took {with_clients:?} with a stalled client, {baseline:?} without"
    );
    // The reading client still gets a coherent feed (new frames, or a prune
    // telling it to refetch after falling behind), ending with the totals.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last_total = 0;
    while Instant::now() < deadline && last_total != 300 {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, reader.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let frame: Value = serde_json::from_str(&text).unwrap();
                if frame["Type"] == "stats" {
                    last_total = frame["Data"]["Total"].as_u64().unwrap();
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert_eq!(
        last_total, 300,
        "the reader's last stats frame has the total"
    );
    api.shutdown().await;
}

#[tokio::test]
async fn handshake_checks_origin() {
    let api = start().await;
    let addr = api.running.http_addr;
    let request = |origin: &str| {
        let mut request = format!("ws://{addr}/api/events")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request
    };
    let same = tokio_tungstenite::connect_async(request(&format!("http://{addr}"))).await;
    assert!(same.is_ok(), "same origin is accepted");
    // A sandboxed frame's opaque origin (`null`) is as foreign as any other.
    for origin in ["http://evil.example", "null"] {
        match tokio_tungstenite::connect_async(request(origin)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin}")
            }
            other => panic!(
                "origin {origin} must be refused, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    api.shutdown().await;

    let api = start_with(|c| c.http.api_cors = Some("evil.example".into())).await;
    let addr = api.running.http_addr;
    let mut request = format!("ws://{addr}/api/events")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "allowed by --api-cors"
    );
    api.shutdown().await;
}

/// A local webhook receiver: every POST's headers and JSON body.
async fn webhook_receiver(
    listener: tokio::net::TcpListener,
) -> tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, Value)> {
    let (calls, received) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let calls = calls.clone();
                async move {
                    let _ = calls.send((headers, body));
                    "ok"
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    received
}

#[tokio::test]
async fn the_webhook_posts_each_new_message_and_retries_a_receiver_that_was_down() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let mut received = webhook_receiver(listener).await;
    let api = start_with(|c| {
        c.http.webhook_url = Some(url);
        c.http.webhook_limit = 0;
        c.smtp.label = "ci".into();
    })
    .await;
    let message = api
        .insert(&simple("a@example.com", "b@example.com", "hooked", "x"))
        .await;
    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("a webhook call")
        .unwrap();
    assert_eq!(body["ID"], message.id());
    assert_eq!(body["Subject"], "hooked");
    assert_eq!(headers["mailpit-label"], "ci");
    assert!(
        headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("mailcatch/")
    );
    api.shutdown().await;

    // The receiver is down when the message arrives and comes up later.
    let port = api_support::common::free_port();
    let api =
        start_with(|c| c.http.webhook_url = Some(format!("http://127.0.0.1:{port}/hook"))).await;
    api.insert(&simple("a@example.com", "b@example.com", "later", "x"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let mut received = webhook_receiver(listener).await;
    let (_, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("delivered on a retry")
        .unwrap();
    assert_eq!(body["Subject"], "later");
    api.shutdown().await;
}

// ── MailHog's feeds: /api/v2/websocket and /api/v1/events ──

#[tokio::test]
async fn mailhog_websocket_sends_each_new_message() {
    let api = start().await;
    let url = format!("ws://{}/api/v2/websocket", api.running.http_addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    // Give the server a moment to subscribe before the message arrives.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stored = api
        .insert_with(
            &simple("a@example.com", "b@example.com", "over the socket", "hi"),
            &["b@example.com"],
        )
        .await;
    let frame = loop {
        let message = tokio::time::timeout(Duration::from_secs(2), socket.next())
            .await
            .expect("a frame in time")
            .expect("open")
            .expect("valid");
        if let Message::Text(text) = message {
            break serde_json::from_str::<Value>(&text).unwrap();
        }
    };
    assert_eq!(frame["ID"], stored.id(), "the bare Message, not wrapped");
    assert_eq!(frame["Content"]["Headers"]["Subject"][0], "over the socket");
    assert_eq!(frame["To"][0]["Mailbox"], "b");
    // Deletions are not announced on MailHog's feed.
    api.call(Method::DELETE, "/api/v1/messages").await;
    let quiet = tokio::time::timeout(Duration::from_millis(200), socket.next()).await;
    assert!(quiet.is_err(), "no frame for a deletion: {quiet:?}");
    api.shutdown().await;
}

#[tokio::test]
async fn mailhog_event_stream_sends_indented_json() {
    let api = start().await;
    let mut response = api.get("/api/v1/events").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let stored = api
        .insert(&simple("a@example.com", "b@example.com", "streamed", "hi"))
        .await;
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while !text.contains("\n\n") {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(remaining, response.chunk())
            .await
            .expect("an event in time")
            .expect("readable")
            .expect("not ended");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let event = text.split("\n\n").next().unwrap();
    assert!(
        event.lines().count() > 10,
        "indented over many lines: {event}"
    );
    let json: String = event
        .lines()
        .map(|line| {
            line.strip_prefix("data: ")
                .or(line.strip_prefix("data:"))
                .expect(line)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let message: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(message["ID"], stored.id());
    assert_eq!(message["Content"]["Headers"]["Subject"][0], "streamed");
    api.shutdown().await;
}
