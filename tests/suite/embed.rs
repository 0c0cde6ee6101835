//! The Rust API exactly as a user's test would use it: an embedded server,
//! lettre as the application's mailer, async and blocking.

use std::time::Duration;

use lettre::message::{Attachment, MultiPart, header::ContentType};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport,
};

fn welcome(to: &str, subject: &str) -> Message {
    Message::builder()
        .from("App <noreply@app.example>".parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    String::from("Confirm at https://app.example/confirm/42"),
                    String::from("<p><a href=\"https://app.example/confirm/42\">Confirm</a></p>"),
                ))
                .singlepart(
                    Attachment::new("terms.txt".into())
                        .body(String::from("Be nice."), ContentType::TEXT_PLAIN),
                ),
        )
        .unwrap()
}

#[tokio::test]
async fn async_server_waits_reads_and_clears() {
    let server = mailcatch::Server::builder()
        .max_messages(100)
        .start()
        .await
        .unwrap();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.smtp_addr().port())
        .build();

    // Sent while the test already waits.
    let sending = {
        let mailer = mailer.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            mailer
                .send(welcome("Bob <bob@example.com>", "Welcome"))
                .await
                .unwrap();
        })
    };
    let mail = server
        .wait_for("to:bob@example.com", Duration::from_secs(5))
        .await
        .unwrap();
    sending.await.unwrap();
    assert_eq!(mail.subject(), "Welcome");
    assert_eq!(mail.from().address, "noreply@app.example");
    assert_eq!(mail.to()[0].address, "bob@example.com");
    assert_eq!(mail.envelope().rcpt_to, ["bob@example.com"]);
    assert!(mail.text().unwrap().contains("/confirm/42"));
    assert!(
        mail.html()
            .unwrap()
            .contains("href=\"https://app.example/confirm/42\"")
    );
    assert_eq!(mail.header("subject"), Some("Welcome"));
    let attachments = mail.attachments();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].name, "terms.txt");
    assert_eq!(attachments[0].bytes, b"Be nice.");
    assert!(String::from_utf8_lossy(mail.raw()).contains("Subject: Welcome"));
    assert!(
        !mail.is_read(),
        "reading through the Rust API marks nothing read"
    );
    let links = mail.links();
    assert_eq!(links[0].url, "https://app.example/confirm/42");
    assert_eq!(links[0].text, "Confirm");

    mailer
        .send(welcome("carol@example.com", "Second"))
        .await
        .unwrap();
    let both = server
        .wait_for_count("from:noreply@app.example", 2, Duration::from_secs(5))
        .await
        .unwrap();
    let subjects: Vec<_> = both.iter().map(|m| m.subject()).collect();
    assert_eq!(subjects, ["Welcome", "Second"], "oldest first");
    assert_eq!(server.search("subject:second").await.unwrap().len(), 1);
    assert_eq!(server.messages().await.unwrap().len(), 2);

    let missing = server
        .wait_for("subject:never", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, mailcatch::Error::Timeout { found: 0, .. }),
        "{missing}"
    );

    // The API and UI are there too.
    let info = reqwest::get(format!("{}/api/v1/info", server.http_url()))
        .await
        .unwrap();
    assert_eq!(info.status(), 200);

    server.clear().await.unwrap();
    assert!(server.messages().await.unwrap().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn a_dropped_server_stops_listening() {
    let server = mailcatch::Server::builder().start().await.unwrap();
    let addr = server.smtp_addr();
    drop(server);
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "still listening after drop");
}

#[test]
fn blocking_server_for_synchronous_tests() {
    let server = mailcatch::blocking::Server::builder()
        .with(|b| b.max_messages(10))
        .start()
        .unwrap();
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.smtp_addr().port())
        .build();
    mailer
        .send(&welcome("dave@example.com", "Blocking"))
        .unwrap();
    let mut code = welcome("dave@example.com", "Your code");
    code = Message::builder()
        .from("App <noreply@app.example>".parse().unwrap())
        .to("dave@example.com".parse().unwrap())
        .subject("Your code")
        .body(String::from(
            "Your verification code is 493021.\nIt expires in 10 minutes.\n",
        ))
        .unwrap_or(code);
    mailer.send(&code).unwrap();
    let mail = server
        .wait_for(
            "to:dave@example.com subject:blocking",
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(mail.subject(), "Blocking");
    let coded = server
        .wait_for("subject:\"your code\"", Duration::from_secs(5))
        .unwrap();
    assert_eq!(coded.codes()[0].code, "493021");
    assert_eq!(server.messages().unwrap().len(), 2);
    server.clear().unwrap();
    assert!(server.messages().unwrap().is_empty());
}
