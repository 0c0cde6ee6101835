//! Hostile SMTP clients. Each case checks that the server stays up, answers
//! correctly afterwards, and neither loses a stored message nor stores a
//! half-received one. The plain versions of these cases live in
//! `smtp_protocol.rs`; these are the nastier variants.

use crate::common;

use std::time::Duration;

use common::smtp::RawClient;
use mailcatch::Running;
use tokio::io::AsyncWriteExt;

const ENVELOPE: &str = "EHLO hostile\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";

/// A complete, pipelined transaction with this subject and body.
fn transaction(subject: &str, body: &str) -> String {
    format!(
        "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: {subject}\r\n\r\n{body}\r\n.\r\n"
    )
}

/// Proves the server still works: a fresh connection delivers a message,
/// and the store grows by exactly one.
async fn assert_still_serving(running: &Running) {
    let before = running.store().counts().await.unwrap().total;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send(format!(
            "EHLO check\r\n{}",
            transaction("still serving", "ok")
        ))
        .await;
    assert_eq!(client.codes(5).await, [250, 250, 250, 354, 250]);
    assert_eq!(client.command("QUIT").await, 221);
    assert_eq!(
        running.store().counts().await.unwrap().total,
        before + 1,
        "the check message was stored"
    );
    let latest = running
        .store()
        .latest(None)
        .await
        .unwrap()
        .expect("a message");
    assert_eq!(latest.summary.subject, "still serving");
}

async fn subjects(running: &Running) -> Vec<String> {
    let mut subjects: Vec<_> = running
        .store()
        .list(0, 0, None)
        .await
        .unwrap()
        .messages
        .iter()
        .map(|m| m.summary.subject.clone())
        .collect();
    subjects.sort();
    subjects
}

#[tokio::test]
async fn smuggling_sequences_split_across_writes_never_end_a_message() {
    let running = common::start().await;
    let smuggles = ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\n..\n"];
    for smuggle in smuggles {
        let mut client = RawClient::connect(running.smtp_addr).await;
        client.send(format!("{ENVELOPE}DATA\r\n")).await;
        assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
        // The smuggling sequence arrives one byte per write; an injected
        // transaction follows, which a vulnerable server would store as a
        // second message when the real terminator arrives.
        client.send("Subject: carrier\r\n\r\nx").await;
        for byte in smuggle.bytes() {
            client.send([byte]).await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        client
            .send("MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nSubject: injected\r\n\r\nevil\r\n.\r\n")
            .await;
        assert_eq!(
            client.reply().await.code,
            250,
            "{smuggle:?}: one message, one 250"
        );
        assert_eq!(client.command("NOOP").await, 250, "{smuggle:?}: in sync");
    }
    let messages = running.store().list(0, 0, None).await.unwrap().messages;
    assert_eq!(messages.len(), smuggles.len());
    for message in &messages {
        assert_eq!(message.summary.subject, "carrier");
        assert_eq!(message.envelope.mail_from, "a@example.com");
        let raw = running.store().raw(message).await.unwrap();
        let raw = String::from_utf8_lossy(&raw);
        assert!(
            raw.contains("Subject: injected"),
            "the injection stayed content: {raw:?}"
        );
        assert!(raw.ends_with("evil\r\n"), "{raw:?}");
    }
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn smuggling_inside_bdat_is_content() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    let body = format!(
        "Subject: chunk\r\n\r\nx\r\n.\r\n{}",
        transaction("injected", "evil")
    );
    client
        .send(format!("{ENVELOPE}BDAT {} LAST\r\n{body}", body.len()))
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 250]);
    assert_eq!(client.command("NOOP").await, 250);
    assert_eq!(subjects(&running).await, ["chunk"]);
    assert_eq!(
        &running
            .store()
            .raw(&running.store().latest(None).await.unwrap().unwrap())
            .await
            .unwrap()[..],
        body.as_bytes()
    );
    running.shutdown().await;
}

#[tokio::test]
async fn a_2mb_line_without_crlf_in_data_is_stored_whole() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send(format!("{ENVELOPE}DATA\r\nSubject: long line\r\n\r\n"))
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
    let chunk = "y".repeat(64 * 1024);
    for _ in 0..32 {
        client.send(&chunk).await;
    }
    client.send("\r\n.\r\n").await;
    assert_eq!(client.reply().await.code, 250);
    let stored = running.store().latest(None).await.unwrap().unwrap();
    assert_eq!(stored.summary.subject, "long line");
    assert!(stored.size() > 2 * 1024 * 1024);
    assert!(
        stored
            .warnings
            .iter()
            .any(|w| w.contains("longer than 998")),
        "{:?}",
        stored.warnings
    );
    assert_eq!(client.command("NOOP").await, 250);
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_2mb_line_over_the_size_limit_is_refused_and_the_session_recovers() {
    let running = common::start_with(|c| c.smtp.max_message_size = 1).await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client.send(format!("{ENVELOPE}DATA\r\n")).await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
    let chunk = "z".repeat(64 * 1024);
    for _ in 0..32 {
        client.send(&chunk).await;
    }
    client.send("\r\n.\r\n").await;
    assert_eq!(client.reply().await.code, 552);
    client.send(transaction("after oversize", "fine")).await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    assert_eq!(subjects(&running).await, ["after oversize"]);
    running.shutdown().await;
}

#[tokio::test]
async fn a_100kb_command_line_in_pieces_and_without_end_is_answered_500() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    // In 1 KB pieces, so the server sees the line grow past the limit.
    for _ in 0..100 {
        client.send("A".repeat(1024)).await;
    }
    client.send("\r\n").await;
    assert_eq!(client.reply().await.code, 500);
    assert_eq!(client.command("EHLO again").await, 250);
    // The same again but as MAIL FROM with a huge address, mid-transaction.
    client
        .send(format!("MAIL FROM:<{}@x>\r\n", "m".repeat(100 * 1024)))
        .await;
    assert_eq!(client.reply().await.code, 500);
    client.send(transaction("after long command", "ok")).await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    // A long line that never ends: the client gives up and disconnects.
    let mut dangling = RawClient::connect(running.smtp_addr).await;
    dangling.send("B".repeat(100 * 1024)).await;
    assert_eq!(dangling.reply().await.code, 500);
    drop(dangling);
    assert_eq!(subjects(&running).await, ["after long command"]);
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn oversize_by_declared_size_and_by_bdat_content() {
    let running = common::start_with(|c| c.smtp.max_message_size = 1).await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO big").await, 250);
    // Declared too big: refused before any content.
    let overflowing = client
        .command("MAIL FROM:<a@x> SIZE=99999999999999999999")
        .await;
    assert!(matches!(overflowing, 501 | 552), "{overflowing}");
    assert_eq!(client.command("MAIL FROM:<a@x> SIZE=1048577").await, 552);
    // Declared small, sent big by BDAT chunks: the chunk that crosses the
    // limit is read and refused, later chunks too, then RSET recovers.
    client
        .send("MAIL FROM:<a@x> SIZE=100\r\nRCPT TO:<b@y>\r\n")
        .await;
    assert_eq!(client.codes(2).await, [250, 250]);
    let chunk = "c".repeat(600 * 1024);
    client
        .send(format!("BDAT {}\r\n{chunk}", chunk.len()))
        .await;
    assert_eq!(client.reply().await.code, 250);
    client
        .send(format!("BDAT {}\r\n{chunk}", chunk.len()))
        .await;
    assert_eq!(client.reply().await.code, 552);
    client
        .send(format!("BDAT {} LAST\r\n{chunk}", chunk.len()))
        .await;
    assert_eq!(client.reply().await.code, 503);
    assert_eq!(client.command("RSET").await, 250);
    // Declared small, sent big by DATA.
    client
        .send("MAIL FROM:<a@x> SIZE=100\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        .await;
    assert_eq!(client.codes(3).await, [250, 250, 354]);
    client
        .send(format!(
            "Subject: big\r\n\r\n{}\r\n.\r\n",
            "d\r\n".repeat(400 * 1024)
        ))
        .await;
    assert_eq!(client.reply().await.code, 552);
    assert_eq!(running.store().counts().await.unwrap().total, 0);
    assert_still_serving(&running).await;
    running.shutdown().await;
}

/// The soft limit on open files, to size the concurrency test to the machine.
fn open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse().ok()
        })
        .unwrap_or(1024)
}

#[tokio::test]
async fn a_thousand_concurrent_connections_each_deliver() {
    const CLIENTS: usize = 1000;
    // Client and server ends live in this one process.
    assert!(
        open_files_limit() > 2 * CLIENTS + 200,
        "raise the open-files limit (ulimit -n) above {}",
        2 * CLIENTS + 200
    );
    let running = common::start_with(|c| {
        c.store.max_messages = 0;
        c.smtp.smtp_max_connections = 1024;
    })
    .await;
    let addr = running.smtp_addr;
    // Everyone connects first, so all 1,000 sessions are open at once.
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(RawClient::connect_quiet(addr).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(n, mut client)| {
            tokio::spawn(async move {
                assert_eq!(client.reply().await.code, 220);
                client
                    .send(format!(
                        "EHLO c{n}\r\n{}QUIT\r\n",
                        transaction(&format!("conn {n}"), "x")
                    ))
                    .await;
                client.codes(6).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), [250, 250, 250, 354, 250, 221]);
    }
    assert_eq!(running.store().counts().await.unwrap().total, CLIENTS);
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn slowloris_clients_hit_the_cap_then_time_out() {
    let running = common::start_with(|c| {
        c.smtp.smtp_max_connections = 3;
        c.smtp.smtp_idle_timeout = 1;
    })
    .await;
    // Three slow clients take every slot: one never says a word, one
    // stalls mid-DATA, one dribbles a command a byte at a time.
    let mut mute = RawClient::connect(running.smtp_addr).await;
    let mut staller = RawClient::connect(running.smtp_addr).await;
    let mut dribbler = RawClient::connect(running.smtp_addr).await;
    staller
        .send(format!(
            "{ENVELOPE}DATA\r\nSubject: never finished\r\n\r\nhal"
        ))
        .await;
    assert_eq!(staller.codes(4).await, [250, 250, 250, 354]);
    // The cap holds while they dawdle.
    let mut refused = RawClient::connect_quiet(running.smtp_addr).await;
    assert_eq!(refused.reply().await.code, 421);
    assert!(refused.closed().await);
    for byte in b"EHLO" {
        dribbler.send([*byte]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Each is cut off once silent for the idle time-out.
    for client in [&mut mute, &mut staller, &mut dribbler] {
        let reply = client.reply().await;
        assert_eq!(reply.code, 421, "{:?}", reply.lines);
        assert!(client.closed().await);
    }
    // Slots free up; the half-sent message was not stored.
    let mut accepted = false;
    for _ in 0..50 {
        let mut client = RawClient::connect_quiet(running.smtp_addr).await;
        if client.reply().await.code == 220 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted, "no slot freed after the time-outs");
    assert_eq!(running.store().counts().await.unwrap().total, 0);
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn disconnects_mid_transfer_under_load_lose_nothing_stored() {
    let running = common::start_with(|c| c.store.max_messages = 0).await;
    let addr = running.smtp_addr;
    // A steady sender delivers 50 messages while 40 clients hang up in
    // the middle of DATA or BDAT.
    let steady = tokio::spawn(async move {
        let mut client = RawClient::connect(addr).await;
        assert_eq!(client.command("EHLO steady").await, 250);
        for n in 0..50 {
            client
                .send(transaction(&format!("steady {n:02}"), "body"))
                .await;
            assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
        }
    });
    let quitters: Vec<_> = (0..40)
        .map(|n| {
            tokio::spawn(async move {
                let mut client = RawClient::connect(addr).await;
                if n % 2 == 0 {
                    client
                        .send(format!(
                            "{ENVELOPE}DATA\r\nSubject: cut {n}\r\n\r\n{}",
                            "p".repeat(n * 100)
                        ))
                        .await;
                    assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
                } else {
                    client
                        .send(format!(
                            "{ENVELOPE}BDAT 100000 LAST\r\nSubject: cut {n}\r\n\r\n"
                        ))
                        .await;
                    assert_eq!(client.codes(3).await, [250, 250, 250]);
                }
                // Hang up abruptly.
                let mut stream = client.into_inner();
                let _ = stream.shutdown().await;
            })
        })
        .collect();
    for quitter in quitters {
        quitter.await.unwrap();
    }
    steady.await.unwrap();
    let stored = subjects(&running).await;
    let expected: Vec<_> = (0..50).map(|n| format!("steady {n:02}")).collect();
    assert_eq!(stored, expected, "every steady message, and no cut one");
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_message_sent_whole_before_hanging_up_is_kept() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send(format!(
            "EHLO gone\r\n{}",
            transaction("fire and forget", "x")
        ))
        .await;
    // Close without reading a single reply.
    let mut stream = client.into_inner();
    stream.shutdown().await.unwrap();
    drop(stream);
    assert!(
        common::eventually(async || running.store().counts().await.unwrap().total == 1).await,
        "a complete message is stored even if its 250 cannot be delivered"
    );
    assert_still_serving(&running).await;
    running.shutdown().await;
}

#[tokio::test]
async fn a_flood_past_the_byte_cap_keeps_memory_bounded_and_the_newest_intact() {
    const CAP: usize = 1024 * 1024;
    let running = common::start_with(|c| {
        c.store.max_messages = 0;
        c.store.max_store_mb = 1;
    })
    .await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO flood").await, 250);
    // 200 messages of ~20 KB: four times the cap.
    let body = vec!["f".repeat(76); 260].join("\r\n");
    for n in 0..200 {
        client
            .send(transaction(&format!("flood {n:03}"), &body))
            .await;
        assert_eq!(client.codes(4).await, [250, 250, 354, 250], "message {n}");
        assert!(
            running.store().counts().await.unwrap().bytes <= CAP as u64,
            "over the cap after message {n}"
        );
    }
    let kept = subjects(&running).await;
    assert!(kept.len() < 200 && kept.len() > 10, "kept {}", kept.len());
    // The oldest went; what is left is the newest run, unbroken.
    let expected: Vec<_> = (200 - kept.len()..200)
        .map(|n| format!("flood {n:03}"))
        .collect();
    assert_eq!(kept, expected);
    let newest = running.store().latest(None).await.unwrap().unwrap();
    assert_eq!(newest.summary.subject, "flood 199");
    assert!(String::from_utf8_lossy(&running.store().raw(&newest).await.unwrap()).contains(&body));
    running.shutdown().await;
}
