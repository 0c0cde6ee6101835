//! Release and the outbound queue, over real sockets: a second mailcatch
//! as the relay, and a scripted SMTP server on loopback that answers 4xx
//! then 250, or 5xx, so RFC 5321's defer, retry, fail and give-up rules
//! are seen from outside.

use crate::common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::smtp::RawClient;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const MESSAGE: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n\
Bcc: hidden@example.net\r\nSubject: release me\r\nMessage-ID: <keep-1@example.com>\r\n\r\n\
Hello.\r\n.dot line\r\n";

/// The message as it must arrive: the same bytes without `Bcc`.
const RELEASED: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\n\
Subject: release me\r\nMessage-ID: <keep-1@example.com>\r\n\r\nHello.\r\n.dot line\r\n";

/// Captures MESSAGE in `running` by SMTP and returns its ID.
pub(crate) async fn capture(running: &mailcatch::Running) -> String {
    let mut smtp = RawClient::connect(running.smtp_addr).await;
    assert_eq!(smtp.command("EHLO test").await, 250);
    assert_eq!(smtp.command("MAIL FROM:<alice@example.com>").await, 250);
    assert_eq!(smtp.command("RCPT TO:<bob@example.net>").await, 250);
    assert_eq!(smtp.command("DATA").await, 354);
    let dotted = MESSAGE.replace("\r\n.", "\r\n..");
    assert_eq!(smtp.command(&format!("{dotted}.")).await, 250);
    let list: Value = reqwest::get(format!("{}/api/v1/messages", common::base_url(running)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["messages"][0]["ID"].as_str().unwrap().to_string()
}

fn relay_file(yaml: &str) -> std::path::PathBuf {
    let path = common::fresh_database().with_extension("yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

/// A server relaying to `relay_yaml`, with 1 s retries and `give_up`.
pub(crate) async fn releasing(relay_yaml: &str, give_up: Duration) -> mailcatch::Running {
    let file = relay_file(relay_yaml);
    common::start_with(move |c| {
        c.relay.config_file = Some(file);
        c.relay.retry = "1s".into();
        c.relay.give_up = give_up;
        c.relay.timeout = 5;
        c.http.enable_prometheus = Some("true".into());
    })
    .await
}

pub(crate) async fn release(running: &mailcatch::Running, id: &str, to: Value) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/message/{id}/release",
            common::base_url(running)
        ))
        .json(&json!({ "To": to }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn deliveries(running: &mailcatch::Running) -> Value {
    reqwest::get(format!(
        "{}/api/mailcatch/v1/deliveries",
        common::base_url(running)
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// Waits (up to `secs`) for the newest delivery to reach `state`.
/// The SMTP envelope of the newest message `running` holds (as
/// `/api/mailcatch/v1/message/{ID}/envelope` shows it).
pub(crate) async fn newest_envelope(running: &mailcatch::Running) -> Value {
    let base = common::base_url(running);
    let get = |url: String| async move {
        reqwest::get(url)
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    let list = get(format!("{base}/api/v1/messages")).await;
    let id = list["messages"][0]["ID"].as_str().unwrap();
    get(format!("{base}/api/mailcatch/v1/message/{id}/envelope")).await
}

pub(crate) async fn settled(running: &mailcatch::Running, state: &str, secs: u64) -> Value {
    for _ in 0..secs * 20 {
        let list = deliveries(running).await;
        if list["Deliveries"][0]["State"] == state {
            return list["Deliveries"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never {state}: {}", deliveries(running).await);
}

#[tokio::test]
async fn released_mail_reaches_a_second_mailcatch_byte_exact() {
    let target = common::start().await;
    let port = target.smtp_addr.port();
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {port}\nallowed-recipients: '@example\\.(net|org)$'\n"),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;

    let webui: Value = reqwest::get(format!("{}/api/v1/webui", common::base_url(&source)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(webui["MessageRelay"]["Enabled"], true);
    assert_eq!(
        webui["MessageRelay"]["SMTPServer"],
        format!("127.0.0.1:{port}")
    );

    assert_eq!(
        release(&source, &id, json!(["x@elsewhere.com"])).await,
        (
            400,
            "Failed: Address(es) do not match the allowlist: x@elsewhere.com".into()
        )
    );
    assert_eq!(
        release(&source, &id, json!(["not an address"])).await,
        (400, "Invalid email address: not an address".into())
    );
    assert_eq!(
        release(&source, &id, json!([])).await,
        (400, "No valid addresses found".into())
    );
    assert_eq!(
        release(&source, "nope", json!(["a@example.net"])).await.0,
        404
    );
    assert_eq!(
        release(&source, &id, json!(["carol@example.org"])).await,
        (200, "ok".into())
    );

    let delivery = settled(&source, "delivered", 10).await;
    assert_eq!(delivery["MessageID"], id.as_str());
    assert_eq!(delivery["Recipients"][0]["Reply"]["Code"], 250);
    assert_eq!(delivery["Attempts"].as_array().unwrap().len(), 1);

    let arrived: Value = reqwest::get(format!("{}/api/v1/messages", common::base_url(&target)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let arrived_id = arrived["messages"][0]["ID"].as_str().unwrap();
    let raw = reqwest::get(format!(
        "{}/api/v1/message/{arrived_id}/raw",
        common::base_url(&target)
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert_eq!(raw, RELEASED);
    assert_eq!(
        arrived["messages"][0]["To"][0]["Address"],
        "bob@example.net"
    );

    let metrics = reqwest::get(format!("{}/metrics", common::base_url(&source)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mailcatch_outbound_deliveries{state=\"delivered\"} 1"),
        "{metrics}"
    );

    // MailHog's release names its own server and one recipient.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/messages/{id}/release",
            common::base_url(&source)
        ))
        .json(&json!({"host": "127.0.0.1", "port": port.to_string(), "email": "dave@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "");
    let delivery = settled(&source, "delivered", 10).await;
    assert_eq!(delivery["Recipients"][0]["Address"], "dave@example.org");
    assert_eq!(delivery["Server"], format!("127.0.0.1:{port}"));
}

#[tokio::test]
async fn release_without_a_relay_is_refused_as_mailpit_does() {
    let server = common::start().await;
    let id = capture(&server).await;
    let (status, text) = release(&server, &id, json!(["a@example.net"])).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("SMTP error: "), "{text}");
    // MailHog's release needs the relay too, and says so in JSON.
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/messages/{id}/release",
            common::base_url(&server)
        ))
        .json(&json!({"Host": "127.0.0.1", "Port": "25", "Email": "a@example.net"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["Error"].as_str().unwrap().contains("not configured"));
}

/// A scripted SMTP server: `script` picks each RCPT's reply from the
/// address and how many times it was asked before; accepted messages are
/// collected.
struct Scripted {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<String>>>,
}

type Script = fn(&str, usize) -> &'static str;

async fn scripted(script: Script) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let store = received.clone();
    tokio::spawn(async move {
        for _ in 0..50 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (store, seen) = (store.clone(), seen.clone());
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    Duration::from_secs(10),
                    session(stream, script, store, seen),
                )
                .await;
            });
        }
    });
    Scripted { addr, received }
}

async fn session(
    stream: tokio::net::TcpStream,
    script: Script,
    store: Arc<Mutex<Vec<String>>>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    stream.get_mut().write_all(b"220 scripted\r\n").await?;
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-scripted\r\n250 8BITMIME\r\n".into()
        } else if upper.starts_with("RCPT TO:<") {
            let address = line[9..].split('>').next().unwrap_or("").to_string();
            let count = {
                let mut seen = seen.lock().unwrap();
                let n = seen.entry(address.clone()).or_default();
                *n += 1;
                *n - 1
            };
            format!("{}\r\n", script(&address, count))
        } else if upper.starts_with("DATA") {
            stream.get_mut().write_all(b"354 go\r\n").await?;
            let mut data = Vec::new();
            while !data.ends_with(b"\r\n.\r\n") && data.len() < 1 << 20 {
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).await?;
                data.push(byte[0]);
            }
            store
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&data).into_owned());
            "250 queued\r\n".into()
        } else if upper.starts_with("QUIT") {
            stream.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "250 ok\r\n".into()
        };
        stream.get_mut().write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

#[tokio::test]
async fn four_xx_is_retried_and_five_xx_fails_per_recipient() {
    // temp@ is deferred twice then accepted; gone@ is refused for good.
    let relay = scripted(|address, count| match address {
        "gone@example.net" => "550 5.1.1 no such user",
        _ if count < 2 => "451 4.7.1 try again later",
        _ => "250 2.1.5 ok",
    })
    .await;
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {}\n", relay.addr.port()),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(
        release(
            &source,
            &id,
            json!(["temp@example.net", "gone@example.net"])
        )
        .await,
        (200, "ok".into())
    );

    let first = settled(&source, "deferred", 5).await;
    assert_eq!(first["Recipients"][0]["State"], "pending");
    assert_eq!(first["Recipients"][0]["Reply"]["Code"], 451);
    assert_eq!(first["Recipients"][1]["State"], "failed");
    assert_eq!(first["Recipients"][1]["Reply"]["Code"], 550);
    assert!(first["NextAttempt"].is_string());

    let done = settled(&source, "failed", 10).await;
    assert_eq!(done["Recipients"][0]["State"], "delivered");
    assert_eq!(done["Recipients"][0]["Reply"]["Code"], 250);
    assert_eq!(done["Attempts"].as_array().unwrap().len(), 3, "{done}");
    // The refused recipient was not asked again.
    let retried = done["Attempts"][2]["Steps"].to_string();
    assert!(!retried.contains("gone@"), "{retried}");
    // One message went out, dot-stuffed on the wire.
    let received = relay.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0],
        format!("{}.\r\n", RELEASED.replace("\r\n.", "\r\n.."))
    );

    // Finished deliveries cannot be retried or cancelled; unknown ones are 404.
    let client = reqwest::Client::new();
    let base = format!(
        "{}/api/mailcatch/v1/deliveries/{}",
        common::base_url(&source),
        done["ID"].as_str().unwrap()
    );
    let retry = client.post(format!("{base}/retry")).send().await.unwrap();
    assert_eq!(retry.status(), 409);
    assert_eq!(client.delete(&base).send().await.unwrap().status(), 409);
    let unknown = format!(
        "{}/api/mailcatch/v1/deliveries/999",
        common::base_url(&source)
    );
    assert_eq!(client.get(unknown).send().await.unwrap().status(), 404);
    let filtered: Value = client
        .get(format!(
            "{}/api/mailcatch/v1/deliveries?state=delivered",
            common::base_url(&source)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["Total"], 0);
}

#[tokio::test]
async fn a_delivery_gives_up_and_can_be_cancelled() {
    let relay = scripted(|_, _| "421 4.3.2 shutting down").await;
    let yaml = format!("host: 127.0.0.1\nport: {}\n", relay.addr.port());
    let source = releasing(&yaml, Duration::from_secs(2)).await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let failed = settled(&source, "failed", 10).await;
    let reply = &failed["Recipients"][0]["Reply"];
    assert_eq!(reply["Code"], 421);
    assert!(
        reply["Text"].as_str().unwrap().starts_with("gave up"),
        "{reply}"
    );

    // A refused connection defers; cancelling stops it.
    let closed = common::free_port();
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {closed}\n"),
        Duration::from_secs(600),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let deferred = settled(&source, "deferred", 5).await;
    assert_eq!(deferred["Recipients"][0]["Reply"]["Code"], 0);
    let url = format!(
        "{}/api/mailcatch/v1/deliveries/{}",
        common::base_url(&source),
        deferred["ID"].as_str().unwrap()
    );
    let client = reqwest::Client::new();
    assert_eq!(client.delete(&url).send().await.unwrap().status(), 200);
    let cancelled: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(cancelled["State"], "cancelled");
}

#[tokio::test]
async fn release_over_starttls_to_a_self_signed_relay() {
    let target = common::start_with(|c| c.smtp.smtp_tls_self_signed = true).await;
    let port = target.smtp_addr.port();
    // The certificate is self-signed: verified, it is refused and retried.
    let strict = releasing(
        &format!("host: 127.0.0.1\nport: {port}\nstarttls: true\n"),
        Duration::from_secs(600),
    )
    .await;
    let id = capture(&strict).await;
    assert_eq!(release(&strict, &id, json!(["a@example.net"])).await.0, 200);
    let deferred = settled(&strict, "deferred", 5).await;
    let text = deferred["Recipients"][0]["Reply"]["Text"].as_str().unwrap();
    assert!(
        text.contains("certificate") || text.contains("TLS") || text.contains("tls"),
        "{text}"
    );

    let source = releasing(
        &format!("host: 127.0.0.1\nport: {port}\nstarttls: true\nallow-insecure: true\n"),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    settled(&source, "delivered", 10).await;
    let envelope = newest_envelope(&target).await;
    assert!(envelope["Tls"]["Version"].is_string(), "{envelope}");
}

#[tokio::test]
async fn relay_matching_relays_incoming_mail_from_the_environment_settings() {
    let target = common::start().await;
    let port = target.smtp_addr.port();
    // Mailpit's variables, as the binary passes them on; only the matching
    // recipient is relayed.
    let source = common::start_with(move |c| {
        c.relay.env = vec![
            ("MP_SMTP_RELAY_HOST".into(), "127.0.0.1".into()),
            ("MP_SMTP_RELAY_PORT".into(), port.to_string()),
        ];
        c.relay.relay_matching = Some("^bob@".into());
    })
    .await;
    capture(&source).await;
    let delivery = settled(&source, "delivered", 10).await;
    assert_eq!(delivery["Recipients"].as_array().unwrap().len(), 1);
    assert_eq!(delivery["Recipients"][0]["Address"], "bob@example.net");
    assert!(
        common::eventually(async || {
            let list: Value =
                reqwest::get(format!("{}/api/v1/messages", common::base_url(&target)))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            list["messages_count"] == 1
        })
        .await
    );
}

#[tokio::test]
async fn the_websocket_announces_each_state_change() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let relay = scripted(|_, count| if count == 0 { "451 later" } else { "250 ok" }).await;
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {}\n", relay.addr.port()),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/events", source.http_addr))
            .await
            .unwrap();
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let mut states = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while states.last().map(String::as_str) != Some("delivered") {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("frames in time")
            .expect("open")
            .expect("valid");
        let Message::Text(text) = frame else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["Type"] == "delivery" {
            assert_eq!(frame["Data"]["MessageID"], id.as_str());
            states.push(frame["Data"]["State"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        states,
        ["queued", "sending", "deferred", "sending", "delivered"]
    );
}
