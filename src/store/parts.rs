//! Which MIME parts of a message are attachments and which are inline, decided
//! in one place so the list counts and the detail view always agree.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartRole {
    /// Shown within the body (an image referenced by `cid:`, say).
    Inline,
    /// Offered for download.
    Attachment,
}

/// One non-body part, as the API lists it.
#[derive(Clone, Debug)]
pub struct PartInfo {
    /// The index of the part in the parsed message; stable for a given raw message.
    pub part_id: String,
    pub file_name: String,
    pub content_type: String,
    pub content_id: String,
    pub size: usize,
    pub role: PartRole,
}

/// Lists the attachment and inline parts of a parsed message.
pub fn non_body_parts(message: &Message<'_>) -> Vec<PartInfo> {
    message
        .attachments
        .iter()
        .filter_map(|&index| {
            let part = message.parts.get(index as usize)?;
            Some(describe(index, part))
        })
        .collect()
}

fn describe(index: u32, part: &MessagePart<'_>) -> PartInfo {
    let content_id = part
        .content_id()
        .map(|id| id.trim_matches(['<', '>']).to_string())
        .unwrap_or_default();
    let disposition = part
        .content_disposition()
        .map(|d| d.ctype().to_ascii_lowercase());
    let role = match disposition.as_deref() {
        Some("inline") if !content_id.is_empty() || is_image(part) => PartRole::Inline,
        None if !content_id.is_empty() => PartRole::Inline,
        _ => PartRole::Attachment,
    };
    let file_name = part
        .attachment_name()
        .map(str::to_string)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| content_id.clone());
    PartInfo {
        part_id: index.to_string(),
        file_name,
        content_type: content_type(part),
        content_id,
        size: part.contents().len(),
        role,
    }
}

/// The part's media type as `type/subtype`, defaulting as RFC 2045 says.
pub fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

fn is_image(part: &MessagePart<'_>) -> bool {
    part.content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("image"))
}
