//! The relay client's protocol, seen from the server side: PIPELINING
//! (MAIL FROM, every RCPT TO and DATA arrive in one read), a SIZE limit
//! (a second mailcatch with a small `--max-message-size` gets no DATA and
//! the delivery fails with the reason), HELO when EHLO is refused, and
//! implicit TLS. The scripted peers stand in for third-party relays, which
//! is what the client talks to.

use crate::common;
use crate::outbound::{capture, newest_envelope, release, releasing, settled};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::smtp::RawClient;
use memchr::memmem;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The reply a peer gives a command line (`(message)` for the end of
/// DATA), without its final CRLF.
type Answer = fn(&str) -> &'static str;

/// A scripted relay: each read it gets is kept as it arrived, so a test
/// can see what the client sent in one write.
struct Peer {
    addr: SocketAddr,
    reads: Arc<Mutex<Vec<String>>>,
}

async fn peer(answer: Answer) -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reads = Arc::new(Mutex::new(Vec::new()));
    let log = reads.clone();
    tokio::spawn(async move {
        for _ in 0..10 {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let _ =
                    tokio::time::timeout(Duration::from_secs(10), serve(stream, answer, log)).await;
            });
        }
    });
    Peer { addr, reads }
}

/// Answers every complete command in each read (after the whole read, as
/// a pipelining server may), and reads DATA's message to its `.` line.
async fn serve(
    mut stream: TcpStream,
    answer: Answer,
    log: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    stream.write_all(b"220 peer ready\r\n").await?;
    let mut buffer = Vec::new();
    let mut in_data = false;
    for _ in 0..200 {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        log.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&chunk[..n]).into_owned());
        buffer.extend_from_slice(&chunk[..n]);
        let mut out = String::new();
        loop {
            if in_data {
                let end = if buffer.starts_with(b".\r\n") {
                    Some(0)
                } else {
                    memmem::find(&buffer, b"\r\n.\r\n").map(|i| i + 2)
                };
                let Some(end) = end else { break };
                buffer.drain(..end + 3);
                in_data = false;
                out.push_str(answer("(message)"));
                out.push_str("\r\n");
                continue;
            }
            let Some(newline) = memmem::find(&buffer, b"\r\n") else {
                break;
            };
            let line = String::from_utf8_lossy(&buffer[..newline]).into_owned();
            buffer.drain(..newline + 2);
            let reply = answer(&line);
            in_data = reply.starts_with("354");
            out.push_str(reply);
            out.push_str("\r\n");
            if line.eq_ignore_ascii_case("QUIT") {
                stream.write_all(out.as_bytes()).await?;
                return Ok(());
            }
        }
        stream.write_all(out.as_bytes()).await?;
    }
    Ok(())
}

fn steps(delivery: &Value) -> Vec<(String, u64)> {
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

fn pipelining(line: &str) -> &'static str {
    let upper = line.to_ascii_uppercase();
    if upper.starts_with("EHLO") {
        "250-peer\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME"
    } else if upper.starts_with("RCPT TO:<GONE@") {
        "550 5.1.1 no such user"
    } else if upper == "DATA" {
        "354 go on"
    } else if upper == "QUIT" {
        "221 bye"
    } else {
        "250 ok"
    }
}

#[tokio::test]
async fn pipelines_mail_rcpt_and_data_in_one_write() {
    let relay = peer(pipelining).await;
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {}\n", relay.addr.port()),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    let to = json!(["a@example.net", "gone@example.net", "b@example.net"]);
    assert_eq!(release(&source, &id, to).await.0, 200);
    let delivery = settled(&source, "failed", 10).await;
    assert_eq!(delivery["Recipients"][0]["State"], "delivered");
    assert_eq!(delivery["Recipients"][1]["Reply"]["Code"], 550);
    assert_eq!(delivery["Recipients"][2]["State"], "delivered");

    let reads = relay.reads.lock().unwrap().clone();
    let group = reads
        .iter()
        .find(|read| read.starts_with("MAIL FROM:"))
        .unwrap_or_else(|| panic!("{reads:?}"));
    let size = group.split_once("SIZE=").unwrap().1;
    assert!(size.starts_with(|c: char| c.is_ascii_digit()), "{group}");
    assert!(
        group.ends_with(
            "\r\nRCPT TO:<a@example.net>\r\nRCPT TO:<gone@example.net>\r\n\
             RCPT TO:<b@example.net>\r\nDATA\r\n"
        ),
        "one write: {group:?}"
    );
    // The replies were read in order and kept per command.
    let commands = steps(&delivery);
    let mail = commands
        .iter()
        .position(|s| s.0.starts_with("MAIL FROM"))
        .unwrap();
    let codes: Vec<u64> = commands[mail..].iter().map(|s| s.1).collect();
    assert_eq!(codes, [250, 250, 550, 250, 354, 250], "{commands:?}");
}

fn refuses_everyone(line: &str) -> &'static str {
    let upper = line.to_ascii_uppercase();
    if upper.starts_with("RCPT") {
        "550 5.1.1 no such user"
    } else if upper == "(MESSAGE)" {
        "554 5.5.1 no valid recipients"
    } else {
        pipelining(line)
    }
}

#[tokio::test]
async fn a_pipelined_data_with_no_recipient_accepted_sends_nothing() {
    // This peer (wrongly) answers DATA with 354 after refusing every
    // RCPT: the client ends it with an empty message at once, and the
    // recipients keep their own 550s.
    let relay = peer(refuses_everyone).await;
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {}\n", relay.addr.port()),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let delivery = settled(&source, "failed", 10).await;
    assert_eq!(delivery["Recipients"][0]["Reply"]["Code"], 550);
    let commands = steps(&delivery);
    assert!(
        commands.contains(&("(empty message)".to_string(), 554)),
        "{commands:?}"
    );
    let sent = relay.reads.lock().unwrap().concat();
    assert!(!sent.contains("release me"), "{sent}");
    assert!(sent.ends_with("DATA\r\n.\r\nQUIT\r\n"), "{sent:?}");
}

fn no_ehlo(line: &str) -> &'static str {
    let upper = line.to_ascii_uppercase();
    if upper.starts_with("EHLO") {
        "502 5.5.2 EHLO not implemented"
    } else if upper.starts_with("HELO") {
        "250 peer"
    } else if upper.starts_with("MAIL") && upper != "MAIL FROM:<ALICE@EXAMPLE.COM>" {
        "555 5.5.4 no parameters here"
    } else {
        pipelining(line)
    }
}

#[tokio::test]
async fn helo_is_used_when_ehlo_is_refused() {
    let relay = peer(no_ehlo).await;
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {}\n", relay.addr.port()),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let delivery = settled(&source, "delivered", 10).await;
    let commands: Vec<(String, u64)> = steps(&delivery)
        .into_iter()
        .map(|(command, code)| (command.split(' ').next().unwrap().to_string(), code))
        .collect();
    assert_eq!(
        commands,
        [
            ("(greeting)".to_string(), 220),
            ("EHLO".into(), 502),
            ("HELO".into(), 250),
            ("MAIL".into(), 250),
            ("RCPT".into(), 250),
            ("DATA".into(), 354),
            ("(message)".into(), 250),
        ]
    );
    // Without EHLO there is no PIPELINING: one command a read.
    let reads = relay.reads.lock().unwrap().clone();
    assert!(
        reads.contains(&"MAIL FROM:<alice@example.com>\r\n".to_string()),
        "{reads:?}"
    );
    assert!(
        reads.contains(&"RCPT TO:<a@example.net>\r\n".to_string()),
        "{reads:?}"
    );
}

#[tokio::test]
async fn a_message_over_the_relays_size_is_not_sent() {
    let target = common::start_with(|c| c.smtp.max_message_size = 1).await;
    let port = target.smtp_addr.port();
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {port}\n"),
        Duration::from_secs(60),
    )
    .await;
    // A message of 1.5 MB, over the relay's 1 MB.
    let mut smtp = RawClient::connect(source.smtp_addr).await;
    assert_eq!(smtp.command("EHLO test").await, 250);
    assert_eq!(smtp.command("MAIL FROM:<alice@example.com>").await, 250);
    assert_eq!(smtp.command("RCPT TO:<bob@example.net>").await, 250);
    assert_eq!(smtp.command("DATA").await, 354);
    let line = format!("{}\r\n", "x".repeat(98));
    let body = line.repeat(15_000);
    let message = format!("Subject: big\r\n\r\n{body}.");
    assert_eq!(smtp.command(&message).await, 250);
    let list: Value = reqwest::get(format!("{}/api/v1/messages", common::base_url(&source)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["messages"][0]["ID"].as_str().unwrap().to_string();

    assert_eq!(
        release(&source, &id, json!(["bob@example.net"])).await.0,
        200
    );
    let delivery = settled(&source, "failed", 10).await;
    let reply = &delivery["Recipients"][0]["Reply"];
    assert_eq!(reply["Code"], 552);
    let text = reply["Text"].as_str().unwrap();
    assert!(text.contains("SIZE") && text.contains("1048576"), "{text}");
    let commands = steps(&delivery);
    assert!(
        !commands
            .iter()
            .any(|s| s.0.starts_with("MAIL") || s.0 == "DATA"),
        "{commands:?}"
    );
    let arrived: Value = reqwest::get(format!("{}/api/v1/messages", common::base_url(&target)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(arrived["total"], 0);

    // A message under the limit goes through, with SIZE= on MAIL FROM.
    let small = capture(&source).await;
    assert_eq!(
        release(&source, &small, json!(["bob@example.net"])).await.0,
        200
    );
    let delivery = settled(&source, "delivered", 10).await;
    let commands = steps(&delivery);
    let mail = commands.iter().find(|s| s.0.starts_with("MAIL")).unwrap();
    assert!(mail.0.contains(" SIZE="), "{mail:?}");
    source.shutdown().await;
    target.shutdown().await;
}

#[tokio::test]
async fn release_over_implicit_tls() {
    let target = common::start_with(|c| {
        c.smtp.smtp_tls_self_signed = true;
        c.smtp.smtp_require_tls = true;
    })
    .await;
    let port = target.smtp_addr.port();
    let source = releasing(
        &format!("host: 127.0.0.1\nport: {port}\ntls: true\nallow-insecure: true\n"),
        Duration::from_secs(60),
    )
    .await;
    let id = capture(&source).await;
    assert_eq!(release(&source, &id, json!(["a@example.net"])).await.0, 200);
    let delivery = settled(&source, "delivered", 10).await;
    // TLS from the first byte: the greeting came over it, and no STARTTLS.
    let commands = steps(&delivery);
    assert_eq!(commands[0], ("(greeting)".to_string(), 220));
    assert!(!commands.iter().any(|s| s.0 == "STARTTLS"), "{commands:?}");
    let envelope = newest_envelope(&target).await;
    assert!(envelope["Tls"]["Version"].is_string(), "{envelope}");
    source.shutdown().await;
    target.shutdown().await;
}
