//! Scripted raw-TCP SMTP sessions for the edge cases real clients rarely
//! produce: pipelining, smuggling, oversize input, BDAT, disconnects,
//! STARTTLS injection, limits, time-outs and shutdown.

use crate::common;

use std::time::Duration;

use common::smtp::RawClient;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const ENVELOPE: &str = "EHLO raw\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";

#[tokio::test]
async fn whole_pipelined_transactions_in_one_write() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    let one = "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: p\r\n\r\nx\r\n.\r\n";
    client
        .send(format!("EHLO raw\r\n{one}{one}{one}{one}{one}QUIT\r\n"))
        .await;
    let mut codes = client.codes(1 + 5 * 4 + 1).await;
    assert_eq!(codes.remove(0), 250);
    assert_eq!(codes.pop(), Some(221));
    assert_eq!(codes, [250, 250, 354, 250].repeat(5));
    assert_eq!(running.store().counts().await.unwrap().total, 5);
    running.shutdown().await;
}

#[tokio::test]
async fn ehlo_advertises_the_extensions() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client.send("EHLO raw\r\n").await;
    let reply = client.reply().await;
    for extension in [
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
    ] {
        assert!(
            reply.lines.iter().any(|l| l == extension),
            "{extension} missing: {:?}",
            reply.lines
        );
    }
    running.shutdown().await;
}

#[tokio::test]
async fn smuggling_sequences_never_end_a_message() {
    let running = common::start().await;
    for smuggle in ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n"] {
        let mut client = RawClient::connect(running.smtp_addr).await;
        client
            .send(format!(
                "{ENVELOPE}DATA\r\nSubject: smuggle\r\n\r\nx{smuggle}MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nSubject: evil\r\n\r\n.\r\n"
            ))
            .await;
        assert_eq!(
            client.codes(5).await,
            [250, 250, 250, 354, 250],
            "{smuggle:?}"
        );
        assert_eq!(client.command("QUIT").await, 221);
    }
    let messages = running.store().list(0, 0, None).await.unwrap().messages;
    assert_eq!(messages.len(), 4);
    assert!(messages.iter().all(|m| m.summary.subject == "smuggle"));
    for message in &messages {
        let raw = running.store().raw(message).await.unwrap();
        assert!(String::from_utf8_lossy(&raw).contains("MAIL FROM:<evil@x>"));
    }
    running.shutdown().await;
}

#[tokio::test]
async fn oversize_command_line_and_message_keep_the_session_in_sync() {
    let running = common::start_with(|c| c.smtp.max_message_size = 1).await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client.send(format!("{}\r\n", "A".repeat(100 * 1024))).await;
    assert_eq!(client.reply().await.code, 500);
    client.send(ENVELOPE).await;
    assert_eq!(client.codes(3).await, [250, 250, 250]);
    assert_eq!(client.command("DATA").await, 354);
    let line = "z".repeat(1000);
    for _ in 0..1100 {
        client.send(format!("{line}\r\n")).await;
    }
    client.send(".\r\n").await;
    assert_eq!(client.reply().await.code, 552);
    // Still in sync: a normal message goes through.
    client.send("MAIL FROM:<a@x> SIZE=2000000\r\n").await;
    assert_eq!(client.reply().await.code, 552);
    client
        .send("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: ok\r\n\r\nfine\r\n.\r\n")
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 354, 250]);
    assert_eq!(running.store().counts().await.unwrap().total, 1);
    running.shutdown().await;
}

#[tokio::test]
async fn bdat_chunks_including_binary_and_a_rejected_chunk() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    // A chunk before MAIL is read and discarded, then the session continues.
    client.send("EHLO raw\r\nBDAT 10\r\nRSET\r\nNOOP").await;
    assert_eq!(client.codes(2).await, [250, 503]);
    let header = "Subject: chunked\r\n\r\n";
    let body = "binary\0\r\n.\r\nnot the end\r\n";
    client
        .send(format!(
            "MAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@y>\r\nBDAT {}\r\n{header}",
            header.len()
        ))
        .await;
    client
        .send(format!("BDAT {} LAST\r\n{body}", body.len()))
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 250]);
    let stored = running.store().latest(None).await.unwrap().unwrap();
    assert_eq!(
        &running.store().raw(&stored).await.unwrap()[..],
        format!("{header}{body}").as_bytes()
    );
    running.shutdown().await;
}

#[tokio::test]
async fn disconnects_mid_data_and_mid_bdat_store_nothing() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send(format!("{ENVELOPE}DATA\r\nSubject: half\r\n\r\npartial"))
        .await;
    assert_eq!(client.codes(4).await, [250, 250, 250, 354]);
    drop(client);
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send(format!("{ENVELOPE}BDAT 100 LAST\r\nonly some"))
        .await;
    assert_eq!(client.codes(3).await, [250, 250, 250]);
    drop(client);
    // The server is still fine, and nothing half-received was stored.
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("NOOP").await, 250);
    assert_eq!(running.store().counts().await.unwrap().total, 0);
    running.shutdown().await;
}

#[tokio::test]
async fn starttls_discards_injected_plaintext() {
    let running = common::start_with(|c| c.smtp.smtp_tls_self_signed = true).await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO raw").await, 250);
    // The injected commands arrive in the same packet as STARTTLS.
    client
        .send("STARTTLS\r\nMAIL FROM:<injected@evil>\r\nRCPT TO:<x@y>\r\n")
        .await;
    assert_eq!(client.reply().await.code, 220);
    let tls = common::tls::connect(client.into_inner()).await;
    let mut tls = BufReader::new(tls);
    // Were the injected commands processed, these would be out of order.
    tls.get_mut()
        .write_all(b"MAIL FROM:<a@x>\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("503"), "session was not reset: {line}");
    tls.get_mut()
        .write_all(b"EHLO again\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: tls\r\n\r\nx\r\n.\r\n")
        .await
        .unwrap();
    let mut codes = Vec::new();
    while codes.len() < 5 {
        line.clear();
        tls.read_line(&mut line).await.unwrap();
        if line.as_bytes().get(3) == Some(&b' ') {
            codes.push(line[..3].to_string());
        }
    }
    assert_eq!(codes, ["250", "250", "250", "354", "250"]);
    let stored = running.store().latest(None).await.unwrap().unwrap();
    assert_eq!(stored.envelope.mail_from, "a@x");
    assert!(stored.envelope.tls.is_some());
    running.shutdown().await;
}

#[tokio::test]
async fn envelope_addresses_with_control_characters_are_rejected() {
    let running = common::start().await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    assert_eq!(client.command("EHLO raw").await, 250);
    assert_eq!(client.command("MAIL FROM:<a\rBcc: x@y>").await, 501);
    assert_eq!(client.command("MAIL FROM:<a@x>").await, 250);
    assert_eq!(client.command("RCPT TO:<b@y\r>").await, 501);
    // Leave no transaction open, so shutdown need not wait for it.
    assert_eq!(client.command("QUIT").await, 221);
    running.shutdown().await;
}

#[tokio::test]
async fn recipient_limit_and_error_budget() {
    let running = common::start_with(|c| {
        c.smtp.smtp_max_recipients = 2;
        c.smtp.smtp_max_errors = 3;
    })
    .await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client
        .send("EHLO raw\r\nMAIL FROM:<a@x>\r\nRCPT TO:<1@y>\r\nRCPT TO:<2@y>\r\nRCPT TO:<3@y>\r\n")
        .await;
    assert_eq!(client.codes(5).await, [250, 250, 250, 250, 452]);
    client.send("BAD1\r\nBAD2\r\nBAD3\r\n").await;
    assert_eq!(client.codes(4).await, [500, 500, 500, 421]);
    assert!(client.closed().await);
    running.shutdown().await;
}

#[tokio::test]
async fn connection_cap_answers_421() {
    let running = common::start_with(|c| c.smtp.smtp_max_connections = 2).await;
    let _a = RawClient::connect(running.smtp_addr).await;
    let _b = RawClient::connect(running.smtp_addr).await;
    let mut third = RawClient::connect_quiet(running.smtp_addr).await;
    assert_eq!(third.reply().await.code, 421);
    assert!(third.closed().await);
    drop(_a);
    // A slot frees up once a connection closes.
    let mut ok = false;
    for _ in 0..50 {
        let mut client = RawClient::connect_quiet(running.smtp_addr).await;
        if client.reply().await.code == 220 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "no slot freed after a disconnect");
    running.shutdown().await;
}

#[tokio::test]
async fn idle_clients_time_out_with_421() {
    let running = common::start_with(|c| c.smtp.smtp_idle_timeout = 1).await;
    let mut client = RawClient::connect(running.smtp_addr).await;
    client.send("EHLO slow\r\nMAIL FR").await;
    assert_eq!(client.reply().await.code, 250);
    let reply = client.reply().await;
    assert_eq!(reply.code, 421);
    assert!(reply.lines[0].starts_with("4.4.2"));
    assert!(client.closed().await);
    running.shutdown().await;
}

#[tokio::test]
async fn shutdown_tells_idle_sessions_421_and_lets_transactions_finish() {
    let running = common::start().await;
    let mut idle = RawClient::connect(running.smtp_addr).await;
    let mut busy = RawClient::connect(running.smtp_addr).await;
    busy.send(format!("{ENVELOPE}DATA\r\nSubject: in flight\r\n\r\n"))
        .await;
    assert_eq!(busy.codes(4).await, [250, 250, 250, 354]);
    let app = running.app.clone();
    let smtp_addr = running.smtp_addr;
    let stopping = tokio::spawn(running.shutdown());
    assert_eq!(idle.reply().await.code, 421);
    busy.send("still arriving\r\n.\r\n").await;
    assert_eq!(busy.reply().await.code, 250);
    assert_eq!(busy.reply().await.code, 421);
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.store.counts().await.unwrap().total, 1);
    assert!(
        tokio::net::TcpStream::connect(smtp_addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test]
async fn a_client_trickling_bytes_still_times_out() {
    let running = common::start_with(|c| c.smtp.smtp_idle_timeout = 1).await;
    let client = RawClient::connect(running.smtp_addr).await;
    let (reader, mut writer) = client.into_inner().into_split();
    // One byte every 200 ms: the connection is never silent for a second,
    // but the command is not complete within the second it has.
    let trickle = tokio::spawn(async move {
        for _ in 0..25 {
            if writer.write_all(b"N").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let started = std::time::Instant::now();
    let mut reader = BufReader::new(reader);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), reader.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert!(line.starts_with("421 4.4.2"), "{line}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );
    trickle.abort();
    running.shutdown().await;
}
