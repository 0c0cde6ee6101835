//! Helpers shared by the `api_*` integration tests: a running server, an
//! HTTP client pointed at it, and ways to put mail in.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use mailcatch::store::{Envelope, Incoming, StoredMessage};
use mailcatch::{Config, Running};
use serde_json::Value;

pub(crate) use crate::common;

pub struct Api {
    pub running: Running,
    pub base: String,
    pub client: reqwest::Client,
}

pub async fn start() -> Api {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Api {
    let running = common::start_with(adjust).await;
    let base = common::base_url(&running);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Api {
        running,
        base,
        client,
    }
}

/// A minimal RFC 5322 message.
pub fn simple(from: &str, to: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@test>\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0200\r\n\r\n{body}\r\n",
        unique()
    )
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("m{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A message with text, HTML referencing an inline image, and attachments
/// (a text file and a scriptable HTML file).
pub fn rich() -> String {
    "From: \"Alice Example\" <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.com\r\n\
Cc: dave@example.com\r\nReply-To: replies@example.com\r\nSubject: Rich message\r\n\
Message-ID: <rich-1@example.com>\r\nDate: Tue, 1 Jul 2025 10:00:00 +0200\r\n\
X-Mailer: test\r\nReceived: from a by b; Tue, 1 Jul 2025 10:00:00 +0200\r\n\
Received: from c by d; Tue, 1 Jul 2025 09:00:00 +0200\r\n\
List-Unsubscribe: <mailto:unsub@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
--outer\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n\
--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello plain world\r\n\
--alt\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n\
--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Hello <b>HTML</b> world</p><img src=\"cid:logo@example.com\"><script>alert(1)</script><a href=\"https://example.com\">link</a></body></html>\r\n\
--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@example.com>\r\nContent-Disposition: inline; filename=logo.png\r\n\
Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--rel--\r\n--alt--\r\n\
--outer\r\nContent-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\n\
attached notes\r\n\
--outer\r\nContent-Type: text/html; name=\"evil\\\"\\r\\n.html\"\r\nContent-Disposition: attachment; filename=\"../../evil\\\".html\"\r\n\r\n\
<script>alert(document.cookie)</script>\r\n--outer--\r\n"
        .to_string()
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn insert(&self, raw: &str) -> Arc<StoredMessage> {
        self.insert_with(raw, &[]).await
    }

    /// Puts a message in through the same path SMTP uses.
    pub async fn insert_with(&self, raw: &str, rcpt_to: &[&str]) -> Arc<StoredMessage> {
        self.running
            .app
            .ingest(Incoming {
                raw: raw.to_string().into(),
                envelope: Envelope {
                    mail_from: "sender@example.com".into(),
                    rcpt_to: rcpt_to.iter().map(|s| s.to_string()).collect(),
                    ..Envelope::default()
                },
                ..Default::default()
            })
            .await
            .expect("stored")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON")
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        let response = self
            .client
            .request(method, self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// Status and body of a request without a body.
    pub async fn call(&self, method: reqwest::Method, path: &str) -> (u16, String) {
        let response = self
            .client
            .request(method, self.url(path))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// The IDs in a list response, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .expect("messages array")
        .iter()
        .map(|m| m["ID"].as_str().expect("ID").to_string())
        .collect()
}
