//! The outbound queue survives a restart with a database engine: the real
//! binary releases a message to a second mailcatch that answers 451
//! (chaos), is killed with SIGKILL while the delivery is deferred, and is
//! started again on the same database; once the target accepts, the
//! message arrives exactly once and the deliveries API keeps the whole
//! attempt history. On PostgreSQL, two nodes resume the same delivery and
//! only one of them sends it.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::free_port;
use common::smtp::RawClient;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_mailcatch");

const MESSAGE: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n\
Subject: survive a restart\r\nMessage-ID: <restart-1@example.com>\r\n\r\nStill here.\r\n";

/// The binary on `database`, relaying to `relay` with 1 s retries.
struct Node {
    child: Child,
    smtp: std::net::SocketAddr,
    http: String,
}

impl Node {
    async fn start(database: &str, relay: &std::path::Path) -> Node {
        let (smtp_port, http_port) = (free_port(), free_port());
        let child = Command::new(BIN)
            .args(["--database", database])
            .args(["--smtp", &format!("127.0.0.1:{smtp_port}")])
            .args(["--listen", &format!("127.0.0.1:{http_port}")])
            .args(["--smtp-relay-config", relay.to_str().unwrap()])
            .args(["--smtp-relay-retry", "1s", "--smtp-relay-give-up", "10m"])
            .args(["--smtp-relay-timeout", "5", "--quiet"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let node = Node {
            child,
            smtp: format!("127.0.0.1:{smtp_port}").parse().unwrap(),
            http: format!("http://127.0.0.1:{http_port}"),
        };
        for _ in 0..400 {
            if reqwest::get(format!("{}/readyz", node.http)).await.is_ok() {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("mailcatch did not start on its database");
    }

    async fn json(&self, path: &str) -> Value {
        let response = reqwest::get(format!("{}{path}", self.http)).await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Captures MESSAGE by SMTP and releases it to bob; returns the
    /// delivery's ID once it is deferred.
    async fn capture_and_release(&self) -> String {
        let mut smtp = RawClient::connect(self.smtp).await;
        assert_eq!(smtp.command("EHLO test").await, 250);
        smtp.send(format!(
            "MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n{MESSAGE}.\r\n"
        ))
        .await;
        assert_eq!(smtp.codes(3).await, [250, 250, 354]);
        assert_eq!(smtp.reply().await.code, 250);
        let id = self.json("/api/v1/messages").await["messages"][0]["ID"]
            .as_str()
            .unwrap()
            .to_string();
        let released = reqwest::Client::new()
            .post(format!("{}/api/v1/message/{id}/release", self.http))
            .json(&json!({ "To": ["bob@example.net"] }))
            .send()
            .await
            .unwrap();
        assert_eq!(released.status(), 200);
        let deferred = self.delivery_in("deferred", 10).await;
        deferred["ID"].as_str().unwrap().to_string()
    }

    /// Waits (up to `secs`) for the newest delivery to be in `state`.
    async fn delivery_in(&self, state: &str, secs: u64) -> Value {
        for _ in 0..secs * 20 {
            let list = self.json("/api/mailcatch/v1/deliveries").await;
            if list["Deliveries"][0]["State"] == state {
                return list["Deliveries"][0].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "never {state}: {}",
            self.json("/api/mailcatch/v1/deliveries").await
        );
    }

    async fn kill(mut self) {
        self.child.start_kill().unwrap(); // SIGKILL: no shutdown
        self.child.wait().await.unwrap();
    }
}

/// A target mailcatch whose every RCPT gets 451 until `accept` is called.
async fn refusing_target() -> (mailcatch::Running, std::path::PathBuf) {
    let target = common::start_with(|c| {
        c.smtp.chaos_triggers = Some("Recipient:451:100".into());
    })
    .await;
    let relay = common::fresh_database().with_extension("yaml");
    std::fs::write(
        &relay,
        format!("host: 127.0.0.1\nport: {}\n", target.smtp_addr.port()),
    )
    .unwrap();
    (target, relay)
}

async fn accept(target: &mailcatch::Running) {
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/chaos", common::base_url(target)))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The raw messages the target holds.
async fn arrived(target: &mailcatch::Running) -> Vec<String> {
    let base = common::base_url(target);
    let list: Value = reqwest::get(format!("{base}/api/v1/messages"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut raws = Vec::new();
    for message in list["messages"].as_array().unwrap() {
        let id = message["ID"].as_str().unwrap();
        let raw = reqwest::get(format!("{base}/api/v1/message/{id}/raw"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        raws.push(raw);
    }
    raws
}

/// The codes of the RCPT replies of each attempt, in order.
fn rcpt_codes(delivery: &Value) -> Vec<u64> {
    delivery["Attempts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["Steps"].as_array().unwrap().clone())
        .filter(|s| s["Command"].as_str().unwrap().starts_with("RCPT"))
        .map(|s| s["Code"].as_u64().unwrap())
        .collect()
}

/// After the kill and restart the delivery is listed with its history and
/// sent once the target accepts; the target holds it exactly once.
async fn check_resumed(nodes: &[&Node], target: &mailcatch::Running, id: &str) {
    for node in nodes {
        let resumed = node
            .json(&format!("/api/mailcatch/v1/deliveries/{id}"))
            .await;
        assert_ne!(resumed["State"], "delivered", "{resumed}");
        assert!(
            rcpt_codes(&resumed).first() == Some(&451),
            "the attempts before the restart are kept: {resumed}"
        );
    }
    accept(target).await;
    let delivered = nodes[0].delivery_in("delivered", 20).await;
    assert_eq!(delivered["ID"], id);
    let codes = rcpt_codes(&delivered);
    assert_eq!(codes.last(), Some(&250), "{delivered}");
    assert!(codes[..codes.len() - 1].iter().all(|c| *c == 451));
    assert_eq!(delivered["Recipients"][0]["State"], "delivered");
    // Give a second sender (a duplicate) time to show itself.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(arrived(target).await, [MESSAGE]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_delivery_survives_kill_9_with_sqlite() {
    let (target, relay) = refusing_target().await;
    let database = common::fresh_database();
    let database = database.to_str().unwrap();
    let node = Node::start(database, &relay).await;
    let id = node.capture_and_release().await;
    node.kill().await;

    let node = Node::start(database, &relay).await;
    check_resumed(&[&node], &target, &id).await;
    node.kill().await;
    // Finished deliveries are listed after a restart too.
    let node = Node::start(database, &relay).await;
    let listed = node
        .json(&format!("/api/mailcatch/v1/deliveries/{id}"))
        .await;
    assert_eq!(listed["State"], "delivered");
    node.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_resume_a_delivery_and_send_it_once() {
    let Some(server) =
        common::postgres_or_skip("two_postgres_nodes_resume_a_delivery_and_send_it_once")
    else {
        return;
    };
    let database = common::fresh_postgres(&server).await;
    let (target, relay) = refusing_target().await;
    let node = Node::start(&database, &relay).await;
    let id = node.capture_and_release().await;
    node.kill().await;

    let (a, b) = (
        Node::start(&database, &relay).await,
        Node::start(&database, &relay).await,
    );
    check_resumed(&[&a, &b], &target, &id).await;
    // The node that did not send it learns the outcome at its next claim.
    b.delivery_in("delivered", 10).await;
    a.kill().await;
    b.kill().await;
}
