//! Logging in to the relay with PLAIN, LOGIN and CRAM-MD5: a second
//! mailcatch that requires AUTH checks the credentials, and a wrong secret
//! fails the delivery for good with the server's 535.

use crate::common;
use crate::outbound::{capture, release, releasing, settled};

use std::time::Duration;

use serde_json::{Value, json};

/// A mailcatch that requires `relay:s3cret` (over plaintext, for the test).
async fn requiring_auth() -> mailcatch::Running {
    common::start_with(|c| {
        c.smtp.smtp_auth = Some("relay:s3cret".into());
        c.smtp.smtp_auth_allow_insecure = true;
    })
    .await
}

fn commands(delivery: &Value) -> Vec<(String, u64)> {
    delivery["Attempts"][0]["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Command"].as_str().unwrap().to_string(),
                s["Code"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn cram_md5_logs_in_to_the_relay() {
    let target = requiring_auth().await;
    let port = target.smtp_addr.port();
    let source = releasing(
        &format!(
            "host: 127.0.0.1\nport: {port}\nauth: cram-md5\nusername: relay\nsecret: s3cret\n"
        ),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(
        release(&source, &id, json!(["bob@example.net"])).await.0,
        200
    );
    let delivery = settled(&source, "delivered", 10).await;
    let steps = commands(&delivery);
    let auth = steps.iter().position(|s| s.0 == "AUTH CRAM-MD5").unwrap();
    assert_eq!(steps[auth], ("AUTH CRAM-MD5".to_string(), 334));
    assert_eq!(steps[auth + 1], ("(CRAM-MD5 response)".to_string(), 235));
    let arrived: Value = reqwest::get(format!("{}/api/v1/messages", common::base_url(&target)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(arrived["total"], 1);
    source.shutdown().await;
    target.shutdown().await;
}

#[tokio::test]
async fn a_wrong_cram_md5_secret_fails_the_delivery() {
    let target = requiring_auth().await;
    let port = target.smtp_addr.port();
    let source = releasing(
        &format!(
            "host: 127.0.0.1\nport: {port}\nauth: cram-md5\nusername: relay\npassword: wrong\n"
        ),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(
        release(&source, &id, json!(["bob@example.net"])).await.0,
        200
    );
    let delivery = settled(&source, "failed", 10).await;
    let steps = commands(&delivery);
    let answer = steps.iter().find(|s| s.0 == "(CRAM-MD5 response)").unwrap();
    assert_eq!(answer.1, 535);
    assert_eq!(delivery["Recipients"][0]["Reply"]["Code"], 535);
    source.shutdown().await;
    target.shutdown().await;
}

#[tokio::test]
async fn plain_and_login_log_in_to_the_relay() {
    let target = requiring_auth().await;
    let port = target.smtp_addr.port();
    for (mechanism, exchange) in [
        ("plain", vec![("AUTH PLAIN", 235)]),
        (
            "login",
            vec![
                ("AUTH LOGIN", 334),
                ("(LOGIN username)", 334),
                ("(LOGIN password)", 235),
            ],
        ),
    ] {
        let source = releasing(
            &format!(
                "host: 127.0.0.1\nport: {port}\nauth: {mechanism}\nusername: relay\npassword: s3cret\n"
            ),
            Duration::from_secs(60),
        )
        .await;
        let id = capture(&source).await;
        assert_eq!(
            release(&source, &id, json!(["bob@example.net"])).await.0,
            200
        );
        let delivery = settled(&source, "delivered", 10).await;
        let steps = commands(&delivery);
        let auth = steps.iter().position(|s| s.0.starts_with("AUTH")).unwrap();
        let seen: Vec<(&str, u64)> = steps[auth..auth + exchange.len()]
            .iter()
            .map(|(command, code)| (command.as_str(), *code))
            .collect();
        assert_eq!(seen, exchange, "{mechanism}");
        // The credentials are not in the record.
        assert!(!delivery.to_string().contains("s3cret"), "{delivery}");
        source.shutdown().await;
    }
    target.shutdown().await;
}
