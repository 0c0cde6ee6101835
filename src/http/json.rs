//! Mailpit's wire shapes (contract §2.1) and the JSON encoding Go produces.
//!
//! Keys are PascalCase except the snake_case list envelope, fields appear in
//! the order Mailpit declares them, and bodies are encoded as Go's
//! `json.Encoder` does: `<`, `>` and `&` escaped, a trailing newline.
//! Address lists are always arrays (`[]`, never `null`): a superset every
//! Mailpit client accepts (docs/api.md).

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::detail::{Detail, PartDetail};
use crate::store::{Address, StoredMessage};

/// A JSON response encoded exactly as Go's `json.Encoder.Encode` would.
pub struct GoJson<T>(pub T);

impl<T: Serialize> IntoResponse for GoJson<T> {
    fn into_response(self) -> Response {
        let mut body = match serde_json::to_vec(&self.0) {
            Ok(body) => go_escape(body),
            Err(error) => {
                tracing::error!(%error, "cannot encode a response");
                // A plain 500, not `ApiError`: errors are built on this
                // module, so it does not depend on them.
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
        };
        body.push(b'\n');
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Escapes `<`, `>`, `&`, U+2028 and U+2029 as Go does. In serde_json's
/// output these characters can only occur inside strings, so a byte-level
/// rewrite is safe.
fn go_escape(json: Vec<u8>) -> Vec<u8> {
    let needs_escape = |b: u8| matches!(b, b'<' | b'>' | b'&' | 0xE2);
    if !json.iter().copied().any(needs_escape) {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 32);
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            0xE2 if json.get(i + 1) == Some(&0x80) && matches!(json.get(i + 2), Some(0xA8)) => {
                out.extend_from_slice(b"\\u2028");
                i += 2;
            }
            0xE2 if json.get(i + 1) == Some(&0x80) && matches!(json.get(i + 2), Some(0xA9)) => {
                out.extend_from_slice(b"\\u2029");
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    out
}

/// RFC 3339 in the server's local offset, always with milliseconds (Mailpit
/// trims trailing zeros; an older Python client needs the fraction), and `Z`
/// for a zero offset as Go writes it.
pub fn timestamp(ts: jiff::Timestamp) -> String {
    let zoned = ts.to_zoned(jiff::tz::TimeZone::system());
    if zoned.offset() == jiff::tz::Offset::UTC {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
    }
}

/// `MessageSummary`: one message in lists, search results and `new` events.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MessageSummary<'a> {
    #[serde(rename = "ID")]
    pub id: &'a str,
    #[serde(rename = "MessageID")]
    pub message_id: &'a str,
    pub read: bool,
    pub from: &'a Address,
    pub to: &'a [Address],
    pub cc: &'a [Address],
    pub bcc: &'a [Address],
    pub reply_to: &'a [Address],
    pub subject: &'a str,
    pub created: String,
    pub username: &'a str,
    pub tags: Vec<String>,
    pub size: usize,
    pub attachments: u32,
    pub snippet: &'a str,
    /// The mailbox it is in (not in Mailpit; clients ignore unknown keys).
    pub mailbox: &'a str,
}

impl<'a> MessageSummary<'a> {
    pub fn new(message: &'a StoredMessage) -> Self {
        let summary = &message.summary;
        MessageSummary {
            id: message.id(),
            message_id: &summary.message_id,
            read: message.is_read(),
            from: &summary.from,
            to: &summary.to,
            cc: &summary.cc,
            bcc: &summary.bcc,
            reply_to: &summary.reply_to,
            subject: &summary.subject,
            created: timestamp(message.created),
            username: username(message),
            tags: message.tags(),
            size: message.size(),
            attachments: summary.attachments,
            snippet: &summary.snippet,
            mailbox: &message.mailbox,
        }
    }
}

fn username(message: &StoredMessage) -> &str {
    message.envelope.auth_user.as_deref().unwrap_or_default()
}

/// `MessagesSummary`: the list envelope of `/messages` and `/search`.
#[derive(Serialize)]
pub struct MessagesSummary<'a> {
    pub total: usize,
    pub unread: usize,
    pub count: usize,
    pub messages_count: usize,
    pub messages_unread: usize,
    pub start: usize,
    pub tags: Vec<String>,
    pub messages: Vec<MessageSummary<'a>>,
}

/// `Message`: the full view of `GET /api/v1/message/{ID}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Message<'a> {
    #[serde(rename = "ID")]
    pub id: &'a str,
    #[serde(rename = "MessageID")]
    pub message_id: &'a str,
    /// Mailpit dropped `Read` from this view in v1.9.0, which broke older
    /// clients (PyPI `mailpit-api-client` still requires it); viewing marks
    /// a message read, so it is always true here.
    pub read: bool,
    pub from: &'a Address,
    pub to: &'a [Address],
    pub cc: &'a [Address],
    pub bcc: &'a [Address],
    pub reply_to: &'a [Address],
    pub return_path: &'a str,
    pub subject: &'a str,
    pub list_unsubscribe: ListUnsubscribe,
    pub date: String,
    pub tags: Vec<String>,
    pub username: &'a str,
    pub text: &'a str,
    #[serde(rename = "HTML")]
    pub html: &'a str,
    pub size: usize,
    pub inline: Vec<Attachment<'a>>,
    pub attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUnsubscribe {
    pub header: String,
    pub links: Vec<String>,
    pub errors: String,
    pub header_post: String,
}

impl<'a> Message<'a> {
    pub fn new(message: &'a StoredMessage, detail: &'a Detail) -> Self {
        let summary = &message.summary;
        let unsubscribe = detail.list_unsubscribe();
        Message {
            id: message.id(),
            message_id: &summary.message_id,
            read: message.is_read(),
            from: &summary.from,
            to: &summary.to,
            cc: &summary.cc,
            bcc: &summary.bcc,
            reply_to: &summary.reply_to,
            return_path: &summary.return_path,
            subject: &summary.subject,
            list_unsubscribe: ListUnsubscribe {
                header: unsubscribe.header,
                links: unsubscribe.links,
                errors: unsubscribe.errors,
                header_post: unsubscribe.header_post,
            },
            date: summary
                .date
                .clone()
                .unwrap_or_else(|| timestamp(message.created)),
            tags: message.tags(),
            username: username(message),
            text: &detail.text,
            html: &detail.html,
            size: message.size(),
            inline: detail.inline_parts().map(Attachment::new).collect(),
            attachments: detail.attachment_parts().map(Attachment::new).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment<'a> {
    #[serde(rename = "PartID")]
    pub part_id: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    #[serde(rename = "ContentID")]
    pub content_id: &'a str,
    pub size: usize,
    pub checksums: Checksums<'a>,
}

#[derive(Serialize)]
pub struct Checksums<'a> {
    #[serde(rename = "MD5")]
    pub md5: &'a str,
    #[serde(rename = "SHA1")]
    pub sha1: &'a str,
    #[serde(rename = "SHA256")]
    pub sha256: &'a str,
}

impl<'a> Attachment<'a> {
    fn new(part: &'a PartDetail) -> Self {
        Attachment {
            part_id: &part.info.part_id,
            file_name: &part.info.file_name,
            content_type: &part.info.content_type,
            content_id: &part.info.content_id,
            size: part.info.size,
            checksums: Checksums {
                md5: &part.md5,
                sha1: &part.sha1,
                sha256: &part.sha256,
            },
        }
    }
}

/// `GET /headers`: Go's `net/mail.Header`, canonical keys in sorted order,
/// repeated fields as several values.
pub fn headers_map(detail: &Detail) -> BTreeMap<String, Vec<&str>> {
    let mut map: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, value) in &detail.headers {
        map.entry(canonical_header_key(name))
            .or_default()
            .push(value);
    }
    map
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `message-id` → `Message-Id`.
/// Keys with characters outside the token set are returned unchanged.
pub fn canonical_header_key(name: &str) -> String {
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid || name.is_empty() {
        return name.to_string();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let body = go_escape(br#"{"a":"<b>&\u2028"}"#.to_vec());
        assert_eq!(body, br#"{"a":"\u003cb\u003e\u0026\u2028"}"#);
        let raw = "\"x\u{2028}y\"".as_bytes().to_vec();
        assert_eq!(go_escape(raw), br#""x\u2028y""#);
    }

    #[test]
    fn canonical_keys() {
        assert_eq!(canonical_header_key("message-id"), "Message-Id");
        assert_eq!(canonical_header_key("MIME-VERSION"), "Mime-Version");
        assert_eq!(canonical_header_key("x-mailer"), "X-Mailer");
        assert_eq!(canonical_header_key("bad key"), "bad key");
    }

    #[test]
    fn timestamps_have_milliseconds() {
        let ts: jiff::Timestamp = "2025-03-08T10:58:34Z".parse().unwrap();
        let text = timestamp(ts);
        assert!(text.contains(".000"), "{text}");
        assert_eq!(text.parse::<jiff::Timestamp>().unwrap(), ts);
    }
}
