//! Hostile HTTP and WebSocket clients: bad IDs and part IDs, absurd paging,
//! oversized JSON bodies, and a WebSocket client that never reads. Each case
//! checks for a 4xx (never a 5xx or a hang), that no stored message is lost,
//! and that the server keeps serving.

use crate::common;

use std::time::{Duration, Instant};

use common::smtp::RawClient;
use futures_util::StreamExt;
use mailcatch::Running;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

/// Stores `count` small messages over one pipelined SMTP connection.
async fn deliver(running: &Running, count: usize) {
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO api").await, 250);
    for n in 0..count {
        client
            .send(format!(
                "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: message {n}\r\n\
                 Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello {n}\r\n\
                 --b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n\
                 attached\r\n--b--\r\n.\r\n"
            ))
            .await;
    }
    for _ in 0..count {
        assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    }
}

/// Sends a request, failing the test on a 5xx or no answer within ten seconds.
async fn call(request: reqwest::RequestBuilder, what: &str) -> (u16, String) {
    let response = tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
        .unwrap_or_else(|e| panic!("{what} failed: {e}"));
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert!(status < 500, "{what} answered {status}: {body}");
    (status, body)
}

#[tokio::test]
async fn unknown_malformed_and_traversing_ids_get_4xx() {
    let running = common::start().await;
    deliver(&running, 3).await;
    let base = common::base_url(&running);
    let http = reqwest::Client::new();
    let id = running
        .store()
        .latest(None)
        .await
        .unwrap()
        .unwrap()
        .id()
        .to_string();
    let long = "A".repeat(10_000);
    let bad_ids = [
        "0000000000000000000000", // right shape, unknown
        "zzzzzzzzzzzzzzzzzzzzzz", // right shape, overflows the sequence
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "%00",
        "%E2%98%83",
        &long,
        "-1",
    ];
    for bad in bad_ids {
        for suffix in [
            "",
            "/headers",
            "/raw",
            "/part/1",
            "/part/1/thumb",
            "/html-check",
        ] {
            let path = format!("/api/v1/message/{bad}{suffix}");
            let (status, _) = call(http.get(format!("{base}{path}")), &path).await;
            assert!((400..500).contains(&status), "{path}: {status}");
        }
        for view in [format!("/view/{bad}.html"), format!("/view/{bad}.txt")] {
            let (status, _) = call(http.get(format!("{base}{view}")), &view).await;
            assert!((400..500).contains(&status), "{view}: {status}");
        }
    }
    let bad_parts = [
        "..%2F..%2Fetc%2Fpasswd",
        "..",
        "-1",
        "1.5",
        "99999999999999999999999",
        "%00",
        "1%2F..",
        "0x1",
    ];
    for part in bad_parts {
        let path = format!("/api/v1/message/{id}/part/{part}");
        let (status, body) = call(http.get(format!("{base}{path}")), &path).await;
        assert!((400..500).contains(&status), "{path}: {status} {body}");
        assert!(!body.contains("root:"), "{path} leaked a file");
    }
    // The real part still downloads.
    let message: Value = http
        .get(format!("{base}/api/v1/message/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let part = message["Attachments"][0]["PartID"]
        .as_str()
        .expect("an attachment");
    let (status, body) = call(
        http.get(format!("{base}/api/v1/message/{id}/part/{part}")),
        "part",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "attached"));
    assert_eq!(running.store().counts().await.unwrap().total, 3);
    running.shutdown().await;
}

#[tokio::test]
async fn absurd_paging_is_answered_sanely() {
    let running = common::start().await;
    deliver(&running, 5).await;
    let base = common::base_url(&running);
    let http = reqwest::Client::new();
    let queries = [
        "limit=18446744073709551616",
        "limit=99999999999",
        "limit=-1",
        "start=-1",
        "start=-0",
        "start=18446744073709551615&limit=18446744073709551615",
        "start=abc&limit=%00",
        "limit=1e9",
        "start=4&limit=99999999",
    ];
    for endpoint in ["/api/v1/messages", "/api/v1/search"] {
        for query in queries {
            let path = match endpoint {
                "/api/v1/search" => format!("{endpoint}?query=message&{query}"),
                _ => format!("{endpoint}?{query}"),
            };
            let (status, body) = call(http.get(format!("{base}{path}")), &path).await;
            assert!(status == 200 || status == 400, "{path}: {status}");
            if status == 200 {
                let page: Value =
                    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
                let listed = page["messages"].as_array().map_or(0, Vec::len);
                assert!(listed <= 5, "{path}: {listed} messages");
                assert_eq!(page["total"], 5, "{path}");
            }
        }
    }
    assert_eq!(running.store().counts().await.unwrap().total, 5);
    running.shutdown().await;
}

#[tokio::test]
async fn ten_megabyte_json_bodies_are_refused_without_harm() {
    let running = common::start().await;
    deliver(&running, 4).await;
    let base = common::base_url(&running);
    let http = reqwest::Client::new();
    let ids: Vec<String> = running
        .store()
        .list(0, 0, None)
        .await
        .unwrap()
        .messages
        .iter()
        .map(|m| m.id().to_string())
        .collect();
    // Valid-looking JSON, padded to 10 MB, and plain garbage of that size.
    let padded = format!(
        r#"{{"IDs": ["{}"], "Read": true, "Pad": "{}"}}"#,
        ids[0],
        "p".repeat(10 << 20)
    );
    let garbage = "[".repeat(10 << 20);
    // DELETE is left out on purpose: per the contract an undecodable body
    // there means "delete everything", which is not a robustness failure.
    for body in [&padded, &garbage] {
        for (method, path) in [
            (reqwest::Method::PUT, "/api/v1/messages"),
            (reqwest::Method::PUT, "/api/v1/tags"),
            (reqwest::Method::PUT, "/api/v1/tags/x"),
            (reqwest::Method::PUT, "/api/v1/chaos"),
            (reqwest::Method::POST, "/api/v1/send"),
        ] {
            let what = format!("{method} {path} with {} MB", body.len() >> 20);
            let request = http
                .request(method.clone(), format!("{base}{path}"))
                .header("Content-Type", "application/json")
                .body(body.to_string());
            let (status, _) = call(request, &what).await;
            assert!((400..500).contains(&status), "{what}: {status}");
        }
    }
    assert_eq!(
        running.store().counts().await.unwrap().total,
        4,
        "nothing lost"
    );
    assert!(
        running
            .store()
            .list(0, 0, None)
            .await
            .unwrap()
            .messages
            .iter()
            .all(|m| !m.is_read()),
        "the padded request changed nothing"
    );
    let (status, _) = call(http.get(format!("{base}/api/v1/messages")), "list").await;
    assert_eq!(status, 200);
    running.shutdown().await;
}

/// A WebSocket client with a tiny receive buffer that never reads a frame.
async fn stalled_websocket(
    running: &Running,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(running.http_addr).await.unwrap();
    let url = format!("ws://{}/api/events", running.http_addr);
    let (websocket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("upgrade");
    websocket
}

#[tokio::test]
async fn a_websocket_client_that_never_reads_slows_nobody() {
    const MESSAGES: usize = 2000;
    let running = common::start_with(|c| c.store.max_messages = 0).await;
    let stalled = stalled_websocket(&running).await;
    let url = format!("ws://{}/api/events", running.http_addr);
    let (healthy, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("healthy client");
    let (_, mut frames) = healthy.split();
    let listener = tokio::spawn(async move {
        let mut seen = FeedSeen::default();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Stops at the last message's frame, or after two quiet seconds.
        while !seen.last_message && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(2), frames.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                    seen.record(&frame, &format!("message {}", MESSAGES - 1));
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        seen
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    deliver(&running, MESSAGES).await;
    let ingest = started.elapsed();
    // Ingestion did not wait for the stalled client (whose socket filled
    // after a few frames): it took nowhere near the server's 10 s send
    // time-out per blocked frame.
    assert!(ingest < Duration::from_secs(20), "ingest took {ingest:?}");
    assert_eq!(running.store().counts().await.unwrap().total, MESSAGES);
    // The healthy client kept getting frames to the end: every `new`, or,
    // where it fell behind (the feed never blocks the store), a `prune`
    // that tells it to refetch. Its view is never silently stale: it saw
    // the last message, or its last word from the server was a `prune`.
    let seen = listener.await.unwrap();
    assert!(
        seen.last_message || seen.ended_with_prune,
        "the healthy client's feed went stale: {seen:?}"
    );
    assert!(
        seen.news == MESSAGES || seen.prunes > 0,
        "{seen:?}: missing new frames and no prune"
    );
    drop(stalled);
    running.shutdown().await;
}

/// What a live-feed client saw of a burst of messages.
#[derive(Debug, Default)]
struct FeedSeen {
    news: usize,
    prunes: usize,
    last_message: bool,
    /// The latest `new` or `prune` frame was a `prune`.
    ended_with_prune: bool,
}

impl FeedSeen {
    fn record(&mut self, frame: &Value, last_subject: &str) {
        match frame["Type"].as_str() {
            Some("new") => {
                self.news += 1;
                self.ended_with_prune = false;
                self.last_message = frame["Data"]["Subject"] == last_subject;
            }
            Some("prune") => {
                self.prunes += 1;
                self.ended_with_prune = true;
            }
            _ => {}
        }
    }
}
