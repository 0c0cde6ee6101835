//! Messages for the scenarios, and sending them over real SMTP.

use lettre::AsyncTransport;
use mailcatch::Running;

use super::*;

/// Sends one plain message per subject, in order, from `from` to `to`.
pub async fn send_subjects(server: &Running, from: &str, to: &str, subjects: &[&str]) -> Outcome {
    for subject in subjects {
        send(server, from, &[to], &simple(subject, "body")).await?;
    }
    Ok(())
}

/// Sends `raw` over SMTP; returns the stored message's ID, from the 250 reply.
pub async fn send(server: &Running, from: &str, to: &[&str], raw: &str) -> Result<String, String> {
    use lettre::transport::smtp::AsyncSmtpTransport;
    use lettre::transport::smtp::extension::ClientId;
    let transport = AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.smtp_addr.port())
        .hello_name(ClientId::Domain("ui-test-client".into()))
        .timeout(Some(WAIT))
        .build();
    let envelope = lettre::address::Envelope::new(
        Some(from.parse().map_err(err)?),
        to.iter()
            .map(|t| t.parse())
            .collect::<Result<_, _>>()
            .map_err(err)?,
    )
    .map_err(err)?;
    let reply = transport
        .send_raw(&envelope, raw.as_bytes())
        .await
        .map_err(err)?;
    let text = reply.message().collect::<Vec<_>>().join(" ");
    let id = text.rsplit(' ').next().unwrap_or_default();
    expect(
        id.len() == mailcatch::store::ID_LEN,
        format!("250 reply {text:?}"),
    )?;
    Ok(id.to_string())
}

pub fn simple(subject: &str, body: &str) -> String {
    format!(
        "From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\nSubject: {subject}\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <{}@example.com>\r\n\r\n{body}\r\n",
        subject.replace(' ', ".")
    )
}

pub fn alternative(from: &str, to: &str, subject: &str, text: &str, html: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
Message-ID: <{}@shop.example>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--alt--\r\n",
        subject.len()
    )
}

/// Text, HTML with a cid: image, a CSV attachment, an encoded subject, a
/// duplicated header; sent with a Bcc-only recipient and a different
/// envelope sender.
pub fn rich_message() -> String {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKElEQVR42mNk+M9Qz0AEYBxVSF+FjP8Z/hOlkHFUIX0VMo4qpK9CAKqCEhGq3lRyAAAAAElFTkSuQmCC";
    format!(
        "Return-Path: <bounces@mailer.example>\r\nX-Trace: first hop\r\n\
From: Report Bot <reports@example.com>\r\nTo: Team <to@example.com>\r\n\
Subject: =?utf-8?q?Quarterly_report_=E2=9C=93?=\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\
Message-ID: <report-1@example.com>\r\nX-Trace: second hop\r\nX-Tags: reports\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\r\n\
--mixed\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
--rel\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe plain text version of the report.\r\nSee https://example.com/report\r\n\
--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<!DOCTYPE html><html><head><style>body {{ margin: 0; background: #f3f4f6; font-family: Helvetica, Arial, sans-serif; color: #1f2937; }} .card {{ max-width: 560px; margin: 32px auto; background: #fff; border-radius: 12px; padding: 32px; }} h1 {{ margin: 12px 0 8px; font-size: 24px; }} .kpi {{ color: #059669; }} table {{ width: 100%; border-collapse: collapse; margin: 20px 0; }} td {{ padding: 10px 0; border-bottom: 1px solid #e5e7eb; }} .button {{ display: inline-block; background: #4f46e5; color: #fff; padding: 12px 20px; border-radius: 8px; text-decoration: none; font-weight: bold; }}</style></head>\
<body><div class=\"card\"><img src=\"cid:chart@example\" alt=\"chart\" width=\"48\" height=\"48\"><h1>Quarterly report</h1>\
<p>Revenue is <b class=\"kpi\">up 12%</b> on last quarter.</p><table><tr><td>Q1</td><td align=\"right\">$100k</td></tr>\
<tr><td>Q2</td><td align=\"right\">$112k</td></tr></table><a class=\"button\" href=\"https://example.com/report\">Open the full report</a></div></body></html>\r\n\
--alt--\r\n--rel\r\nContent-Type: image/png\r\nContent-ID: <chart@example>\r\n\
Content-Disposition: inline; filename=\"chart.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG}\r\n--rel--\r\n\
--mixed\r\nContent-Type: text/csv; name=\"report.csv\"\r\nContent-Disposition: attachment; filename=\"report.csv\"\r\n\r\n\
quarter,revenue\r\nQ1,100\r\n--mixed\r\nContent-Type: image/png; name=\"logo.png\"\r\n\
Content-Disposition: attachment; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{PNG}\r\n--mixed--\r\n"
    )
}

/// Every classic way for HTML to run script or reach its parent.
pub fn hostile_message() -> String {
    let html = r#"<html><head><meta http-equiv="refresh" content="0;url=javascript:window.top.pwned=1"></head>
<body onload="window.top.pwned=1;parent.document.title='pwned'">
<script>window.top.pwned=1; parent.document.title='pwned'; localStorage.setItem('pwned','1');</script>
<img src="x" onerror="window.top.pwned=1;parent.document.title='pwned'">
<svg onload="window.top.pwned=1"></svg>
<iframe srcdoc="<script>parent.parent.pwned=1</script>"></iframe>
<a id="l" href="javascript:window.top.pwned=1">click</a>
<object data="javascript:window.top.pwned=1"></object>
<form action="javascript:window.top.pwned=1"><input autofocus onfocus="window.top.pwned=1"></form>
<base href="http://evil.example/">
</body></html>"#;
    format!(
        "From: evil@example.com\r\nTo: victim@example.com\r\nSubject: Totally harmless\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <evil@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
}

pub type Demo = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub fn demo_messages() -> Vec<Demo> {
    vec![
        (
            "Acme Billing <billing@acme.example>",
            "dana@example.com",
            "Your invoice INV-2041 is ready",
            "Hi Dana, your invoice for June is attached. Total due: $249.00 by July 15.",
            "<p>Hi Dana,</p><p>Your invoice for June is ready. <b>Total due: $249.00</b> by July 15.</p>",
        ),
        (
            "GitHub <noreply@github.example>",
            "dev+ci@example.com",
            "[mailcatch] CI passed on main",
            "All checks have passed: build, clippy, tests (312 passed).",
            "<p>All checks have passed: build, clippy, tests (312 passed).</p>",
        ),
        (
            "Shop <orders@shop.example>",
            "dana@example.com",
            "Order #88213 has shipped",
            "Good news! Your order is on its way and should arrive on Thursday.",
            "<h2>Good news!</h2><p>Your order is on its way and should arrive on Thursday.</p>",
        ),
        (
            "Security <security@accounts.example>",
            "dana@example.com",
            "New sign-in from Firefox on Linux",
            "We noticed a new sign-in to your account. If this was you, you can ignore this email.",
            "<p>We noticed a new sign-in to your account.</p>",
        ),
        (
            "Newsletter <hello@weekly.example>",
            "team@example.com",
            "This week: faster builds and smaller binaries",
            "In this issue: link-time optimisation, cargo features, and a look at embedded assets.",
            "<h1>This week</h1><p>Link-time optimisation, cargo features, and embedded assets.</p>",
        ),
        (
            "Password Reset <no-reply@app.example>",
            "sam@example.com",
            "Reset your password",
            "Use this link to reset your password: https://app.example/reset?token=abc123. It expires in 1 hour.",
            "<p><a href=\"https://app.example/reset?token=abc123\">Reset your password</a>. It expires in 1 hour.</p>",
        ),
    ]
}
