//! Real SMTP clients against a real mailcatch: lettre (plain, STARTTLS,
//! SMTPS, AUTH PLAIN/LOGIN, SMTPUTF8, a 20 MB attachment), Python's smtplib
//! and swaks.

use crate::common;

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

type Mailer = AsyncSmtpTransport<Tokio1Executor>;

fn plain_mailer(addr: std::net::SocketAddr) -> Mailer {
    Mailer::builder_dangerous(addr.ip().to_string())
        .port(addr.port())
        .build()
}

fn tls_parameters() -> TlsParameters {
    TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build()
        .expect("TLS parameters")
}

fn simple_message(subject: &str) -> Message {
    Message::builder()
        .from("Sender <sender@example.com>".parse().unwrap())
        .to("Receiver <receiver@example.com>".parse().unwrap())
        .subject(subject)
        .body(String::from("Hello from lettre"))
        .unwrap()
}

/// The queued ID from a 250 reply, which mailcatch sets to the store's ID.
fn queued_id(response: &lettre::transport::smtp::response::Response) -> String {
    let text: String = response.message().collect::<Vec<_>>().join(" ");
    text.rsplit(' ').next().unwrap().to_string()
}

#[tokio::test]
async fn lettre_plain_message_lands_with_its_envelope() {
    let running = common::start().await;
    let response = plain_mailer(running.smtp_addr)
        .send(simple_message("plain"))
        .await
        .unwrap();
    let id = queued_id(&response);
    let stored = running
        .store()
        .get(&id)
        .await
        .unwrap()
        .expect("the queued ID is the stored ID");
    assert_eq!(stored.summary.subject, "plain");
    assert_eq!(stored.envelope.mail_from, "sender@example.com");
    assert_eq!(stored.envelope.rcpt_to, ["receiver@example.com"]);
    assert!(stored.envelope.client_addr.unwrap().ip().is_loopback());
    assert!(stored.envelope.tls.is_none());
    assert!(
        String::from_utf8_lossy(&running.store().raw(&stored).await.unwrap())
            .contains("Hello from lettre")
    );
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_starttls_with_generated_certificate() {
    let running = common::start_with(|c| c.smtp.smtp_tls_self_signed = true).await;
    let mailer = Mailer::builder_dangerous("127.0.0.1")
        .port(running.smtp_addr.port())
        .tls(Tls::Required(tls_parameters()))
        .build();
    let id = queued_id(&mailer.send(simple_message("over tls")).await.unwrap());
    let stored = running.store().get(&id).await.unwrap().unwrap();
    let tls = stored.envelope.tls.clone().expect("TLS recorded");
    assert!(tls.version.starts_with("TLSv1."), "{tls:?}");
    assert!(!tls.cipher.is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_implicit_tls_listener() {
    let running = common::start_with(|c| {
        c.smtp.smtp_tls_self_signed = true;
        c.smtp.smtps_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let smtps = running.smtps_addr.expect("SMTPS bound");
    let mailer = Mailer::builder_dangerous("127.0.0.1")
        .port(smtps.port())
        .tls(Tls::Wrapper(tls_parameters()))
        .build();
    let id = queued_id(&mailer.send(simple_message("smtps")).await.unwrap());
    assert!(
        running
            .store()
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .envelope
            .tls
            .is_some()
    );
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_auth_plain_and_login_record_the_user() {
    let running = common::start_with(|c| {
        c.smtp.smtp_auth = Some("alice:secret bob:hunter2".into());
        c.smtp.smtp_auth_allow_insecure = true;
    })
    .await;
    for (mechanism, user, password) in [
        (Mechanism::Plain, "alice", "secret"),
        (Mechanism::Login, "bob", "hunter2"),
    ] {
        let mailer = Mailer::builder_dangerous("127.0.0.1")
            .port(running.smtp_addr.port())
            .credentials(Credentials::new(user.into(), password.into()))
            .authentication(vec![mechanism])
            .build();
        let id = queued_id(&mailer.send(simple_message("authenticated")).await.unwrap());
        assert_eq!(
            running
                .store()
                .get(&id)
                .await
                .unwrap()
                .unwrap()
                .envelope
                .auth_user
                .as_deref(),
            Some(user)
        );
    }
    // Wrong password: refused, nothing stored.
    let mailer = Mailer::builder_dangerous("127.0.0.1")
        .port(running.smtp_addr.port())
        .credentials(Credentials::new("alice".into(), "wrong".into()))
        .build();
    assert!(mailer.send(simple_message("nope")).await.is_err());
    assert_eq!(running.store().counts().await.unwrap().total, 2);
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_auth_over_starttls_with_accept_any() {
    let running = common::start_with(|c| {
        c.smtp.smtp_tls_self_signed = true;
        c.smtp.smtp_auth_accept_any = true;
    })
    .await;
    let mailer = Mailer::builder_dangerous("127.0.0.1")
        .port(running.smtp_addr.port())
        .tls(Tls::Required(tls_parameters()))
        .credentials(Credentials::new("anyone".into(), "anything".into()))
        .build();
    let id = queued_id(&mailer.send(simple_message("any")).await.unwrap());
    let stored = running.store().get(&id).await.unwrap().unwrap();
    assert_eq!(stored.envelope.auth_user.as_deref(), Some("anyone"));
    assert!(stored.envelope.tls.is_some());
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_smtputf8_addresses_stay_intact() {
    let running = common::start().await;
    let message = Message::builder()
        .from(Mailbox::new(
            Some("Jörg".into()),
            "jörg@exämple.de".parse().unwrap(),
        ))
        .to(Mailbox::new(None, "用户@例子.广告".parse().unwrap()))
        .subject("Grüße 🎉")
        .body(String::from("Ünïcödé body"))
        .unwrap();
    let id = queued_id(&plain_mailer(running.smtp_addr).send(message).await.unwrap());
    let stored = running.store().get(&id).await.unwrap().unwrap();
    assert_eq!(stored.envelope.mail_from, "jörg@exämple.de");
    assert_eq!(stored.envelope.rcpt_to, ["用户@例子.广告"]);
    assert!(stored.envelope.mail_params.iter().any(|p| p == "SMTPUTF8"));
    assert_eq!(stored.summary.subject, "Grüße 🎉");
    running.shutdown().await;
}

#[tokio::test]
async fn lettre_20_mb_attachment_arrives_intact() {
    let running = common::start().await;
    let payload: Vec<u8> = (0..20 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let message = Message::builder()
        .from("a@example.com".parse().unwrap())
        .to("b@example.com".parse().unwrap())
        .subject("big attachment")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(String::from("see attached")))
                .singlepart(Attachment::new("data.bin".into()).body(
                    payload.clone(),
                    ContentType::parse("application/octet-stream").unwrap(),
                )),
        )
        .unwrap();
    let id = queued_id(&plain_mailer(running.smtp_addr).send(message).await.unwrap());
    let stored = running.store().get(&id).await.unwrap().unwrap();
    assert_eq!(stored.summary.attachments, 1);
    let raw = running.store().raw(&stored).await.unwrap();
    let parsed = mail_parser::MessageParser::default()
        .parse(&raw[..])
        .unwrap();
    let attachment = parsed.attachment(0).unwrap();
    assert_eq!(attachment.contents(), &payload[..]);
    running.shutdown().await;
}

const SMTPLIB_SCRIPT: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
port, mode = int(sys.argv[1]), sys.argv[2]
msg = EmailMessage()
msg["From"] = "Py Sender <py@example.com>"
msg["To"] = "dest@example.com"
msg["Subject"] = "from smtplib " + mode
msg.set_content("Hello from Python")
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("python.client")
    if mode == "starttls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("python.client")
        s.login("pyuser", "pypass")
    s.send_message(msg, to_addrs=["dest@example.com", "hidden@example.com"])
"#;

fn python() -> Option<std::path::PathBuf> {
    common::which("python3")
}

#[tokio::test]
async fn python_smtplib_plain_and_starttls_with_auth() {
    let Some(python) = python() else {
        assert!(!common::require_clients(), "python3 is required in CI");
        eprintln!("SKIP: python3 not found");
        return;
    };
    let running = common::start_with(|c| {
        c.smtp.smtp_tls_self_signed = true;
        c.smtp.smtp_auth_accept_any = true;
    })
    .await;
    for mode in ["plain", "starttls"] {
        let port = running.smtp_addr.port().to_string();
        let status = tokio::process::Command::new(&python)
            .args(["-c", SMTPLIB_SCRIPT, &port, mode])
            .status()
            .await
            .unwrap();
        assert!(status.success(), "smtplib {mode} failed");
    }
    let messages = running.store().list(0, 0, None).await.unwrap().messages;
    assert_eq!(messages.len(), 2);
    let tls = &messages[0];
    assert_eq!(tls.summary.subject, "from smtplib starttls");
    assert_eq!(tls.envelope.auth_user.as_deref(), Some("pyuser"));
    assert_eq!(tls.envelope.helo, "python.client");
    assert!(tls.envelope.tls.is_some());
    assert!(
        tls.summary
            .bcc
            .iter()
            .any(|a| a.address == "hidden@example.com")
    );
    assert_eq!(messages[1].summary.subject, "from smtplib plain");
    running.shutdown().await;
}

#[tokio::test]
async fn swaks_pipelining_and_auth() {
    let Some(swaks) = common::which("swaks") else {
        assert!(!common::require_clients(), "swaks is required in CI");
        eprintln!("SKIP: swaks not found");
        return;
    };
    let running = common::start_with(|c| c.smtp.smtp_auth_accept_any = true).await;
    let server = running.smtp_addr.to_string();
    let output = tokio::process::Command::new(swaks)
        .args([
            "--server",
            &server,
            "--to",
            "swaks@example.com",
            "--from",
            "me@example.com",
        ])
        .args([
            "--pipeline",
            "--auth",
            "LOGIN",
            "--auth-user",
            "swaksuser",
            "--auth-password",
            "pw",
        ])
        .args(["--header", "Subject: via swaks", "--body", "swaks body"])
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stored = running.store().latest(None).await.unwrap().expect("stored");
    assert_eq!(stored.summary.subject, "via swaks");
    assert_eq!(stored.envelope.auth_user.as_deref(), Some("swaksuser"));
    running.shutdown().await;
}

/// RFC 5321 quoted local parts with spaces, sent by smtplib: accepted in
/// MAIL FROM and RCPT TO, kept as sent in the envelope, and shown re-quoted in
/// the API's JSON (where the header parser hands them back unquoted).
const QUOTED_SCRIPT: &str = r#"
import smtplib, sys
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = '"odd sender"@example.com'
msg["To"] = 'Odd <"odd user"@example.com>'
msg["Subject"] = "quoted local parts"
msg.set_content("hello")
# smtplib's own sendmail() unquotes local parts (via email.utils.parseaddr),
# so the envelope is sent with its raw commands.
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.ehlo()
    assert s.docmd('MAIL FROM:<"odd sender"@example.com>')[0] == 250
    assert s.docmd('RCPT TO:<"odd user"@example.com>')[0] == 250
    assert s.docmd('RCPT TO:<"hidden one"@example.com>')[0] == 250
    assert s.data(msg.as_bytes())[0] == 250
    try:
        s.sendmail("a@example.com", ["odd user@example.com"], "Subject: x\r\n\r\nx")
        sys.exit("an unquoted space was accepted")
    except smtplib.SMTPRecipientsRefused as e:
        assert e.recipients["odd user@example.com"][0] == 501, e.recipients
"#;

#[tokio::test]
async fn python_smtplib_quoted_local_parts_with_spaces() {
    let Some(python) = python() else {
        assert!(!common::require_clients(), "python3 is required in CI");
        eprintln!("SKIP: python3 not found");
        return;
    };
    let running = common::start().await;
    let port = running.smtp_addr.port().to_string();
    let status = tokio::process::Command::new(&python)
        .args(["-c", QUOTED_SCRIPT, &port])
        .status()
        .await
        .unwrap();
    assert!(status.success(), "smtplib with quoted local parts failed");
    let messages = running.store().list(0, 0, None).await.unwrap().messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].envelope.mail_from, "\"odd sender\"@example.com");
    let url = format!("{}/api/v1/messages", common::base_url(&running));
    let json: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let message = &json["messages"][0];
    assert_eq!(message["From"]["Address"], "\"odd sender\"@example.com");
    assert_eq!(message["To"][0]["Address"], "\"odd user\"@example.com");
    assert_eq!(message["To"][0]["Name"], "Odd");
    assert_eq!(message["Bcc"][0]["Address"], "\"hidden one\"@example.com");
    assert_eq!(message["Bcc"].as_array().unwrap().len(), 1, "{message}");
    running.shutdown().await;
}
