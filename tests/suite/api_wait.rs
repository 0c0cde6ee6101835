//! The wait endpoint and `peek`, with real clients: mail sent over SMTP,
//! waits made with reqwest (and a raw socket that hangs up).

use crate::api_support;

use std::time::{Duration, Instant};

use api_support::common::{eventually, smtp};
use api_support::{Api, simple, start, start_with};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

async fn send_smtp(api: &Api, subject: &str) {
    let mut client = smtp::RawClient::connect(api.running.smtp_addr).await;
    assert_eq!(client.command("EHLO waiter").await, 250);
    client
        .send(format!(
            "MAIL FROM:<a@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n\
Subject: {subject}\r\nTo: bob@example.com\r\n\r\nhello\r\n.\r\nQUIT\r\n"
        ))
        .await;
    assert_eq!(client.codes(5).await, [250, 250, 354, 250, 221]);
}

async fn wait(api: &Api, query: &str) -> (u16, Value) {
    let response = api
        .client
        .get(api.url(&format!("/api/mailcatch/v1/wait?{query}")))
        .send()
        .await
        .expect("wait request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

fn subjects(body: &Value) -> Vec<&str> {
    body["Messages"]
        .as_array()
        .expect("Messages")
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn waits_are_met_before_during_and_after_the_call() {
    let api = start().await;
    // Before: mail already there counts when no cursor is given.
    send_smtp(&api, "early bird").await;
    let (status, body) = wait(&api, "query=subject:early&timeout=5").await;
    assert_eq!((status, subjects(&body)), (200, vec!["early bird"]));
    assert_eq!(
        body["Messages"][0]["Read"], false,
        "waiting marks nothing read"
    );

    // During: the reply leaves as soon as the matching 250 is sent.
    let waiter = {
        let (client, url) = (api.client.clone(), api.url("/api/mailcatch/v1/wait?query=to:bob@example.com%20subject:later&after=now&timeout=10"));
        tokio::spawn(async move { client.get(url).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "nothing matched yet");
    send_smtp(&api, "not this one").await;
    let sent = Instant::now();
    send_smtp(&api, "later on").await;
    let response = waiter.await.unwrap();
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(subjects(&body), ["later on"]);

    // After `now`, the early mail no longer counts.
    let (status, body) = wait(&api, "query=subject:early&after=now&timeout=0.3").await;
    assert_eq!(status, 408);
    assert_eq!(subjects(&body), Vec::<&str>::new());
    assert!(body["Error"].as_str().unwrap().contains("timed out"));
    assert!(body["Cursor"].as_str().is_some());
    api.shutdown().await;
}

#[tokio::test]
async fn counts_cursors_and_the_store_window() {
    let api = start_with(|c| c.store.max_messages = 0).await;
    for n in 1..=3 {
        send_smtp(&api, &format!("batch {n}")).await;
    }
    let (status, body) = wait(&api, "query=subject:batch&count=2&timeout=5").await;
    assert_eq!((status, subjects(&body)), (200, vec!["batch 1", "batch 2"]));
    // The cursor continues after the last one returned.
    let cursor = body["Cursor"].as_str().unwrap().to_string();
    let (status, body) = wait(
        &api,
        &format!("query=subject:batch&after={cursor}&timeout=5"),
    )
    .await;
    assert_eq!((status, subjects(&body)), (200, vec!["batch 3"]));
    // A message ID is a cursor too.
    let first = api
        .get_json("/api/v1/search?query=subject:%22batch%201%22")
        .await;
    let id = first["messages"][0]["ID"].as_str().unwrap();
    let (_, body) = wait(
        &api,
        &format!("query=subject:batch&after={id}&count=2&timeout=5"),
    )
    .await;
    assert_eq!(subjects(&body), ["batch 2", "batch 3"]);
    // Asking for more than there are: 408 with what was found.
    let (status, body) = wait(&api, "query=subject:batch&count=5&timeout=0.3").await;
    assert_eq!(status, 408);
    assert_eq!(subjects(&body).len(), 3);

    // A match is found however much mail arrived after it.
    api.insert(&simple("a@example.com", "b@example.com", "needle", "x"))
        .await;
    for n in 0..2000 {
        api.insert(&simple(
            "a@example.com",
            "b@example.com",
            &format!("hay {n}"),
            "x",
        ))
        .await;
    }
    let (status, body) = wait(&api, "query=subject:needle&timeout=5").await;
    assert_eq!((status, subjects(&body)), (200, vec!["needle"]));
    api.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_reason() {
    let api = start().await;
    for (query, says) in [
        ("count=0", "count"),
        ("count=abc", "count"),
        ("timeout=100000", "timeout"),
        ("timeout=-2", "timeout"),
        ("after=tomorrow", "after"),
    ] {
        let (status, body) = api
            .call(
                reqwest::Method::GET,
                &format!("/api/mailcatch/v1/wait?{query}"),
            )
            .await;
        assert_eq!(status, 400, "{query}");
        assert!(body.contains(says), "{query}: {body}");
    }
    api.shutdown().await;
}

#[tokio::test]
async fn many_waiters_are_answered_and_a_disconnected_one_is_dropped() {
    let api = start().await;
    // The server's own time-out (20 s) bounds these waits; the shared
    // client's 10 s would cut them short on a loaded machine.
    let patient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let waiters: Vec<_> = (0..200)
        .map(|n| {
            let (client, url) = (
                patient.clone(),
                api.url(&format!(
                    "/api/mailcatch/v1/wait?query=subject:%22crowd%20{n}%22&after=now&timeout=20"
                )),
            );
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    let app = api.running.app.clone();
    assert!(
        eventually(async || app.waiting() == 200).await,
        "{} waiting",
        app.waiting()
    );
    for n in 0..200 {
        api.insert(&simple(
            "a@example.com",
            "b@example.com",
            &format!("crowd {n}"),
            "x",
        ))
        .await;
    }
    for waiter in waiters {
        assert_eq!(waiter.await.unwrap(), 200);
    }

    // A client that hangs up is dropped at once, not at its time-out.
    let mut raw = tokio::net::TcpStream::connect(api.running.http_addr)
        .await
        .unwrap();
    raw.write_all(b"GET /api/mailcatch/v1/wait?query=never&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(eventually(async || app.waiting() == 1).await);
    drop(raw);
    assert!(
        eventually(async || app.waiting() == 0).await,
        "the waiter outlived its client"
    );
    api.shutdown().await;
}

#[tokio::test]
async fn waiters_get_503_on_shutdown() {
    let api = start().await;
    let waiter = {
        let (client, url) = (
            api.client.clone(),
            api.url("/api/mailcatch/v1/wait?query=never&timeout=30"),
        );
        tokio::spawn(async move { client.get(url).send().await.unwrap() })
    };
    let app = api.running.app.clone();
    assert!(eventually(async || app.waiting() == 1).await);
    let stopping = tokio::spawn(api.running.shutdown());
    let response = waiter.await.unwrap();
    assert_eq!(response.status(), 503);
    stopping.await.unwrap();
}

#[tokio::test]
async fn peek_reads_without_marking_read() {
    let api = start().await;
    let message = api
        .insert(&simple("a@example.com", "b@example.com", "peeked", "x"))
        .await;
    let peeked = api
        .get_json(&format!("/api/v1/message/{}?peek=1", message.id()))
        .await;
    assert_eq!(peeked["Subject"], "peeked");
    let list = api.get_json("/api/v1/messages").await;
    assert_eq!(list["messages"][0]["Read"], false);
    assert_eq!(list["unread"], 1);
    api.get_json(&format!("/api/v1/message/{}", message.id()))
        .await;
    let list = api.get_json("/api/v1/messages").await;
    assert_eq!(list["messages"][0]["Read"], true);
    api.shutdown().await;
}
