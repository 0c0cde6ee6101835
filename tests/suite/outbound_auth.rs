//! Logging in to the relay with CRAM-MD5: a second mailcatch that requires
//! AUTH checks the digest, and a wrong secret fails the delivery for good
//! with the server's 535.

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
