//! What a test in your own project looks like with mailcatch embedded: the
//! code under test (here, lettre standing in for your app's mailer) sends
//! to the server's SMTP address, and the test waits for the mail and checks
//! it. In a real project this body is a `#[tokio::test]` and mailcatch a
//! dev-dependency.
//!
//!     cargo run --example cargo-test

use std::time::Duration;

use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The "application": sends a welcome mail with a confirmation link.
async fn send_welcome(
    smtp: std::net::SocketAddr,
    to: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.ip().to_string())
        .port(smtp.port())
        .build();
    let message = Message::builder()
        .from("App <noreply@app.example>".parse()?)
        .to(to.parse()?)
        .subject("Welcome")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::html(String::from(
                    "<p>Hi! <a href=\"https://app.example/confirm/42\">Confirm</a></p>",
                )))
                .singlepart(
                    Attachment::new("terms.txt".into())
                        .body(String::from("Be nice."), ContentType::TEXT_PLAIN),
                ),
        )?;
    mailer.send(message).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = mailcatch::Server::builder().start().await?;
    send_welcome(server.smtp_addr(), "bob@example.com").await?;

    let mail = server
        .wait_for("to:bob@example.com subject:welcome", Duration::from_secs(5))
        .await?;
    assert_eq!(mail.subject(), "Welcome");
    assert_eq!(mail.from().address, "noreply@app.example");
    assert!(mail.html().unwrap_or_default().contains("/confirm/42"));
    assert_eq!(mail.attachments()[0].name, "terms.txt");
    println!(
        "received {:?}; the UI would be at {}",
        mail,
        server.http_url()
    );
    server.shutdown().await;
    Ok(())
}
