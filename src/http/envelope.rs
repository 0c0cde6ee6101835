//! mailcatch's own endpoints for what Mailpit's API does not expose: the SMTP
//! envelope and session of a message, and its headers in their real order.
//!
//! - `GET /api/mailcatch/v1/message/{ID}/envelope`: who the SMTP client said
//!   the message was from and to, how it connected, the session transcript and
//!   every protocol or content warning.
//! - `GET /api/mailcatch/v1/message/{ID}/headers`: every header in order,
//!   duplicates kept, as `[{"Name", "Value" (raw), "Decoded"}]`. Mailpit's
//!   `/headers` is alphabetical and merges duplicates, which hides exactly the
//!   things one debugs (the order of `Received`, a doubled `Subject`).
//!
//! Both accept `latest` for the newest message. Keys are PascalCase, like the
//! rest of the API.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mail_parser::{HeaderName, HeaderValue, MessageParser};
use serde::Serialize;

use super::access::Access;
use super::error::ApiError;
use super::params::Params;
use super::{HttpState, Route, routed};
use crate::store::{Address, StoredMessage, TlsInfo};

pub fn router() -> Router<Arc<HttpState>> {
    routed(table())
}

pub fn table() -> Vec<Route> {
    vec![
        (
            "/api/mailcatch/v1/message/{id}/envelope",
            Method::GET,
            get(envelope),
        ),
        (
            "/api/mailcatch/v1/message/{id}/headers",
            Method::GET,
            get(headers),
        ),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvelopeView {
    #[serde(rename = "ID")]
    id: String,
    /// When mailcatch received the message, RFC 3339 in UTC.
    created: String,
    /// The reverse-path; empty for the null sender `<>`.
    mail_from: String,
    mail_params: Vec<String>,
    rcpt_to: Vec<Recipient>,
    helo: String,
    client_addr: Option<String>,
    tls: Option<TlsView>,
    auth_user: Option<String>,
    /// The first address of the From header, to compare with `MailFrom`.
    header_from: Address,
    /// True when the envelope sender and the header From address differ
    /// (case-insensitively), which is legal but worth seeing.
    sender_differs: bool,
    transcript: Vec<String>,
    /// Protocol oddities seen while receiving (bare LF, long lines, ...).
    warnings: Vec<String>,
    /// Problems in the content itself (missing Date, no Message-ID, ...).
    content_warnings: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Recipient {
    address: String,
    /// The header that names this recipient: `To`, `Cc`, `Bcc`, or null when
    /// no header does.
    header: Option<&'static str>,
    /// Received a copy without being visible in To or Cc.
    bcc_only: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TlsView {
    version: String,
    cipher: String,
}

impl From<&TlsInfo> for TlsView {
    fn from(tls: &TlsInfo) -> Self {
        TlsView {
            version: tls.version.clone(),
            cipher: tls.cipher.clone(),
        }
    }
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct HeaderLine {
    name: String,
    /// The value exactly as sent, folding kept, without the final line break.
    value: String,
    /// Unfolded, with RFC 2047 encoded words decoded.
    decoded: String,
}

async fn envelope(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let view = state.read_raw(&message, envelope_view).await?;
    Ok(Json(view).into_response())
}

async fn headers(
    State(state): State<Arc<HttpState>>,
    access: Access,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let message = state.resolve(&access, &id, &params).await?;
    let lines = state
        .read_raw(&message, |_, raw| header_lines(&raw))
        .await?;
    Ok(Json(lines).into_response())
}

fn envelope_view(message: &StoredMessage, raw: bytes::Bytes) -> EnvelopeView {
    let envelope = &message.envelope;
    let parsed = MessageParser::default().parse_headers(&raw[..]);
    let addresses_in = |name: &'static str| -> Vec<String> {
        let list = parsed.as_ref().and_then(|m| match name {
            "To" => m.to(),
            "Cc" => m.cc(),
            _ => m.bcc(),
        });
        list.map(|l| {
            l.iter()
                .filter_map(|a| a.address())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    };
    let headers = [
        ("To", addresses_in("To")),
        ("Cc", addresses_in("Cc")),
        ("Bcc", addresses_in("Bcc")),
    ];
    let rcpt_to = envelope
        .rcpt_to
        .iter()
        .map(|rcpt| {
            let header = headers
                .iter()
                .find(|(_, list)| list.iter().any(|a| a.eq_ignore_ascii_case(rcpt)))
                .map(|(name, _)| *name);
            Recipient {
                address: rcpt.clone(),
                bcc_only: !matches!(header, Some("To" | "Cc")),
                header,
            }
        })
        .collect();
    let header_from = message.summary.from.clone();
    let sender_differs = !envelope.mail_from.is_empty()
        && !header_from.address.is_empty()
        && !envelope
            .mail_from
            .eq_ignore_ascii_case(&header_from.address);
    EnvelopeView {
        id: message.id().to_string(),
        created: message.created.to_string(),
        mail_from: envelope.mail_from.clone(),
        mail_params: envelope.mail_params.clone(),
        rcpt_to,
        helo: envelope.helo.clone(),
        client_addr: envelope.client_addr.map(|a| a.to_string()),
        tls: envelope.tls.as_ref().map(TlsView::from),
        auth_user: envelope.auth_user.clone(),
        header_from,
        sender_differs,
        transcript: message.transcript.lines().map(str::to_string).collect(),
        warnings: message.warnings.clone(),
        content_warnings: message.summary.content_warnings.clone(),
    }
}

/// Every top-level header in order. Each is parsed as unstructured text, so
/// `Decoded` is the unfolded value with encoded words decoded whatever the
/// header (a structured parse would reformat dates and addresses).
fn header_lines(raw: &[u8]) -> Vec<HeaderLine> {
    // A non-empty header map makes mail-parser use the default (text) parser
    // for every header not in the map, instead of its built-in per-name ones.
    let parser = MessageParser::new()
        .default_header_text()
        .header_text(HeaderName::Subject);
    let Some(message) = parser.parse_headers(raw) else {
        return Vec::new();
    };
    let Some(root) = message.parts.first() else {
        return Vec::new();
    };
    root.headers
        .iter()
        .map(|h| {
            let start = (h.offset_start as usize).min(raw.len());
            let end = (h.offset_end as usize).clamp(start, raw.len());
            let value = String::from_utf8_lossy(&raw[start..end]).trim().to_string();
            let decoded = match &h.value {
                HeaderValue::Text(text) => text.trim().to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                _ => unfold(&value),
            };
            // The name as spelled in the message, not mail-parser's canonical one.
            let field = (h.offset_field as usize).min(start);
            let name = String::from_utf8_lossy(&raw[field..start]);
            let name = name.trim_end().trim_end_matches(':').trim_end();
            HeaderLine {
                name: name.to_string(),
                value,
                decoded,
            }
        })
        .collect()
}

/// Joins folded lines and collapses the folding whitespace to one space.
fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Envelope, Incoming};

    #[test]
    fn headers_keep_order_duplicates_and_raw_values() {
        let raw = b"Received: from a\r\n\tby b; Tue, 1 Jul 2025 10:00:00 +0000\r\n\
Subject: =?utf-8?q?Caf=C3=A9?=\r\nReceived: from c by d\r\n\
From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\nX-Custom: one\r\n\r\nbody\r\n";
        let lines = header_lines(raw);
        let names: Vec<_> = lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["Received", "Subject", "Received", "From", "X-Custom"]
        );
        assert_eq!(
            lines[0].value,
            "from a\r\n\tby b; Tue, 1 Jul 2025 10:00:00 +0000"
        );
        assert_eq!(
            lines[0].decoded,
            "from a by b; Tue, 1 Jul 2025 10:00:00 +0000"
        );
        assert_eq!(lines[1].value, "=?utf-8?q?Caf=C3=A9?=");
        assert_eq!(lines[1].decoded, "Café");
        assert_eq!(lines[3].decoded, "Jörg <j@example.com>");
    }

    #[test]
    fn envelope_marks_bcc_only_recipients_and_sender_mismatch() {
        let (message, raw) = crate::store::standalone(Incoming {
            raw: "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n\
Cc: carol@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
                .into(),
            envelope: Envelope {
                mail_from: "bounces@mailer.example".into(),
                rcpt_to: vec![
                    "bob@example.com".into(),
                    "Carol@example.com".into(),
                    "dave@example.com".into(),
                ],
                ..Envelope::default()
            },
            ..Incoming::default()
        });
        let view = envelope_view(&message, raw);
        let marks: Vec<_> = view
            .rcpt_to
            .iter()
            .map(|r| (r.header, r.bcc_only))
            .collect();
        assert_eq!(
            marks,
            [(Some("To"), false), (Some("Cc"), false), (None, true)]
        );
        assert!(view.sender_differs);
        assert_eq!(view.header_from.address, "alice@example.com");
    }
}
