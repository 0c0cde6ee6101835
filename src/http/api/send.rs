//! `POST /api/v1/send`: builds a MIME message from JSON and stores it as if
//! it had arrived by SMTP. Errors are JSON `{"Error": ...}` (contract §2.2).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, FromRequest, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as MailAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use serde::{Deserialize, Serialize};

use crate::http::HttpState;
use crate::http::access::Access;
use crate::http::access::AuthUser;
use crate::http::body::{SendBody, decode};
use crate::http::error::ApiError;
use crate::http::json::GoJson;
use crate::store::{Envelope, Incoming};

#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase", default)]
struct SendRequest {
    from: Mailbox,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<String>,
    replyto: Vec<Mailbox>,
    subject: String,
    text: String,
    html: String,
    attachments: Vec<AttachmentRequest>,
    tags: Vec<String>,
    headers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "lowercase", default)]
struct Mailbox {
    email: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "lowercase", default)]
struct AttachmentRequest {
    content: String,
    filename: String,
    contenttype: String,
    contentid: String,
}

#[derive(Serialize)]
struct SendConfirmation {
    #[serde(rename = "ID")]
    id: String,
}

/// Headers the structured fields own; `Headers` may not set them.
const RESERVED_HEADERS: [&str; 9] = [
    "to",
    "from",
    "cc",
    "bcc",
    "reply-to",
    "date",
    "subject",
    "content-type",
    "mime-version",
];

pub async fn send(
    State(state): State<Arc<HttpState>>,
    access: Access,
    // Absent for a client on a Unix socket.
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    user: Option<Extension<AuthUser>>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    // The permit comes before the body is read, so a burst of sends holds
    // at most `--send-max-concurrent` bodies in memory; the rest are told
    // when to come back rather than queued without bound.
    let _permit = state.sends.try_acquire().map_err(|_| ApiError::SendBusy)?;
    let SendBody(body) = SendBody::from_request(request, &()).await?;
    let request: SendRequest = decode(&body, &["headers"]).map_err(ApiError::Send)?;
    let recipients = validate(&request).map_err(ApiError::Send)?;
    let raw = build(&request).map_err(ApiError::Send)?;
    let max = state
        .app
        .settings
        .config
        .smtp
        .max_message_bytes(state.app.store.limits().max_bytes);
    if raw.len() > max {
        return Err(ApiError::SendTooLarge);
    }
    let message = state
        .app
        .ingest(Incoming {
            raw: raw.into(),
            envelope: Envelope {
                mail_from: request.from.email.trim().to_string(),
                rcpt_to: recipients,
                helo: "HTTP send API".into(),
                client_addr: peer.map(|Extension(ConnectInfo(peer))| peer),
                auth_user: user.map(|Extension(AuthUser(name))| name),
                // Through a mailbox's root, into that mailbox.
                mailbox: access.mailbox.as_deref().map(str::to_string),
                ..Envelope::default()
            },
            ..Incoming::default()
        })
        .await?;
    Ok(GoJson(SendConfirmation {
        id: message.id().to_string(),
    })
    .into_response())
}

/// Checks the request as Mailpit does, returning the envelope recipients.
fn validate(request: &SendRequest) -> Result<Vec<String>, String> {
    if request.from.email.trim().is_empty() {
        return Err("error building message: from not set".into());
    }
    check_address("From", &request.from.email)?;
    for (field, list) in [
        ("To", &request.to),
        ("Cc", &request.cc),
        ("ReplyTo", &request.replyto),
    ] {
        for mailbox in list {
            check_address(field, &mailbox.email)?;
        }
    }
    for address in &request.bcc {
        check_address("Bcc", address)?;
    }
    if request.subject.trim().is_empty() {
        return Err("error building message: subject not set".into());
    }
    let recipients: Vec<String> = request
        .to
        .iter()
        .chain(&request.cc)
        .map(|m| m.email.trim().to_string())
        .chain(request.bcc.iter().map(|a| a.trim().to_string()))
        .collect();
    if recipients.is_empty() {
        return Err("error building message: no recipients (to, cc, bcc) set".into());
    }
    for name in request.headers.keys() {
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str())
            || (lower == "x-tags" && !request.tags.is_empty())
        {
            return Err(format!("cannot overwrite header: \"{name}\""));
        }
    }
    Ok(recipients)
}

/// A plain `local@domain` address with nothing that could break a header.
fn check_address(field: &str, address: &str) -> Result<(), String> {
    let address = address.trim();
    let valid = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && address
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !"<>,;\"()[]\\".contains(c));
    if valid {
        Ok(())
    } else {
        Err(format!("invalid {field} address: {address}"))
    }
}

fn mailbox(m: &Mailbox) -> MailAddress<'_> {
    let name = m.name.trim();
    MailAddress::new_address((!name.is_empty()).then_some(name), m.email.trim())
}

fn address_list(list: &[Mailbox]) -> MailAddress<'_> {
    MailAddress::new_list(list.iter().map(mailbox).collect())
}

/// Builds the MIME message: text and HTML as alternatives, inline parts
/// (those with a ContentID) related to the HTML, attachments mixed in.
fn build(request: &SendRequest) -> Result<Vec<u8>, String> {
    let mut builder = MessageBuilder::new()
        .from(mailbox(&request.from))
        .subject(request.subject.as_str());
    if !request.to.is_empty() {
        builder = builder.to(address_list(&request.to));
    }
    if !request.cc.is_empty() {
        builder = builder.cc(address_list(&request.cc));
    }
    if !request.replyto.is_empty() {
        builder = builder.reply_to(address_list(&request.replyto));
    }
    if !request.tags.is_empty() {
        builder = builder.header("X-Tags", Raw::new(header_value(&request.tags.join(", "))?));
    }
    for (name, value) in &request.headers {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(format!("invalid header name: \"{name}\""));
        }
        builder = builder.header(name.as_str(), Raw::new(header_value(value)?));
    }

    let mut inline = Vec::new();
    let mut attached = Vec::new();
    for attachment in &request.attachments {
        let part = attachment_part(attachment)?;
        if attachment.contentid.trim().is_empty() {
            attached.push(part);
        } else {
            inline.push(part);
        }
    }

    let html = (!request.html.is_empty()).then(|| {
        let html = MimePart::new("text/html", request.html.as_str());
        if inline.is_empty() {
            html
        } else {
            let mut parts = vec![html];
            parts.append(&mut inline);
            MimePart::new("multipart/related", parts)
        }
    });
    let text = (!request.text.is_empty() || html.is_none())
        .then(|| MimePart::new("text/plain", request.text.as_str()));
    let mut body = match (text, html) {
        (Some(text), Some(html)) => MimePart::new("multipart/alternative", vec![text, html]),
        (Some(text), None) => text,
        (None, Some(html)) => html,
        (None, None) => MimePart::new("text/plain", ""),
    };
    // Inline parts without an HTML body to relate to become attachments.
    attached.append(&mut inline);
    if !attached.is_empty() {
        let mut parts = vec![body];
        parts.append(&mut attached);
        body = MimePart::new("multipart/mixed", parts);
    }
    builder.body(body).write_to_vec().map_err(|e| e.to_string())
}

/// A custom header value may not fold in a new header.
fn header_value(value: &str) -> Result<String, String> {
    if value.contains(['\r', '\n']) {
        return Err("header values may not contain line breaks".into());
    }
    Ok(value.to_string())
}

fn attachment_part(attachment: &AttachmentRequest) -> Result<MimePart<'_>, String> {
    let name = attachment.filename.trim();
    let data = decode_base64(&attachment.content)
        .map_err(|e| format!("error decoding base64 attachment \"{name}\": {e}"))?;
    let content_type = match attachment.contenttype.trim() {
        "" => mime_guess::from_path(name)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_string(),
        given => given.to_string(),
    };
    let part = MimePart::new(content_type, data);
    let content_id = attachment.contentid.trim().trim_matches(['<', '>']);
    Ok(if content_id.is_empty() {
        part.attachment(name.to_string())
    } else {
        let mut disposition = ContentType::new("inline");
        if !name.is_empty() {
            disposition = disposition.attribute("filename", name.to_string());
        }
        part.header("Content-Disposition", disposition)
            .cid(content_id.to_string())
    })
}

/// Standard base64, optionally behind a `data:...;base64,` prefix, with any
/// whitespace (line-wrapped encoders) ignored.
fn decode_base64(content: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let content = match content.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data,
        _ => content,
    };
    let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> SendRequest {
        decode(json.as_bytes(), &["headers"]).unwrap()
    }

    #[test]
    fn validation_messages_match_mailpit() {
        let missing_from = request(r#"{"To":[{"Email":"a@b.c"}],"Subject":"s"}"#);
        assert_eq!(
            validate(&missing_from).unwrap_err(),
            "error building message: from not set"
        );
        let bad_to = request(r#"{"From":{"Email":"a@b.c"},"To":[{"Email":"nope"}],"Subject":"s"}"#);
        assert_eq!(validate(&bad_to).unwrap_err(), "invalid To address: nope");
        let no_rcpt = request(r#"{"From":{"Email":"a@b.c"},"Subject":"s"}"#);
        assert_eq!(
            validate(&no_rcpt).unwrap_err(),
            "error building message: no recipients (to, cc, bcc) set"
        );
        let reserved = request(
            r#"{"From":{"Email":"a@b.c"},"Bcc":["x@y.z"],"Subject":"s","Headers":{"SUBJECT":"x"}}"#,
        );
        assert_eq!(
            validate(&reserved).unwrap_err(),
            "cannot overwrite header: \"SUBJECT\""
        );
    }

    #[test]
    fn builds_a_parseable_message_with_inline_and_attachment() {
        let r = request(
            r#"{"from":{"email":"a@b.c","name":"A"},"to":[{"email":"d@e.f"}],"subject":"Hi",
            "text":"plain","html":"<img src=\"cid:logo\">","headers":{"X-IP":"1.2.3.4"},
            "attachments":[{"content":"aGVsbG8=","filename":"a.txt"},
            {"content":"data:image/png;base64,iVBORw0KGgo=","filename":"logo.png","contentid":"logo"}]}"#,
        );
        let raw = build(&r).unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("X-IP: 1.2.3.4"), "{text}");
        assert!(text.contains("multipart/related"), "{text}");
        let summary = crate::store::summary::summarize(&raw, &Envelope::default());
        assert_eq!(summary.subject, "Hi");
        assert_eq!((summary.attachments, summary.inline), (1, 1));
    }

    #[test]
    fn bad_base64_is_reported() {
        let r = request(
            r#"{"from":{"email":"a@b.c"},"to":[{"email":"d@e.f"}],"subject":"s",
            "attachments":[{"content":"!!!","filename":"x.bin"}]}"#,
        );
        assert!(
            build(&r)
                .unwrap_err()
                .starts_with("error decoding base64 attachment \"x.bin\"")
        );
    }
}
