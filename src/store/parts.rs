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

/// The parts a reader sees as the message's bodies, as indices into
/// `Message::parts`. Chosen the way CPython's `get_body` chooses (and the
/// differential test in tests/suite/adversarial_mime.rs holds us to it): the first
/// text/plain and the first text/html part that is not an attachment,
/// looking into every multipart but only at the start (first) part of a
/// `multipart/related`, and never into an attached message. mail-parser's
/// own body lists miss a `text/html` after a `text/plain` in
/// `multipart/mixed` and a `Content-Type: text` without subtype.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bodies {
    pub text: Option<usize>,
    pub html: Option<usize>,
}

impl Bodies {
    fn contains(&self, index: usize) -> bool {
        self.text == Some(index) || self.html == Some(index)
    }
}

/// Finds the body parts of a parsed message.
pub fn bodies(message: &Message<'_>) -> Bodies {
    let mut bodies = Bodies::default();
    walk(message, true, |index, part| {
        if is_attachment(part) {
            return;
        }
        let slot = match content_type(part).as_str() {
            "text/plain" => &mut bodies.text,
            "text/html" => &mut bodies.html,
            _ => return,
        };
        slot.get_or_insert(index);
    });
    bodies
}

/// A body part's content as text: decoded and charset-converted by
/// mail-parser, or (for a text part it took for binary, such as one with an
/// unknown subtype) read as UTF-8.
pub fn body_content<'m>(message: &'m Message<'_>, index: usize) -> std::borrow::Cow<'m, str> {
    match message.parts.get(index).map(|part| &part.body) {
        Some(PartType::Text(text) | PartType::Html(text)) => text.as_ref().into(),
        Some(PartType::Binary(data) | PartType::InlineBinary(data)) => {
            String::from_utf8_lossy(data)
        }
        _ => "".into(),
    }
}

/// Lists the attachment and inline parts of a parsed message: every leaf
/// part that is not a body, so nothing a sender put in the message is hidden
/// (an attached message counts as one part).
pub fn non_body_parts(message: &Message<'_>) -> Vec<PartInfo> {
    let bodies = bodies(message);
    let mut parts = Vec::new();
    walk(message, false, |index, part| {
        if !bodies.contains(index) {
            parts.push(describe(index, part));
        }
    });
    parts
}

/// Calls `visit` with each leaf part (not a multipart) in message order,
/// depth first. With `body_only`, a `multipart/related` is entered only at
/// its first part and attachments are not entered. Iterative, so a deeply
/// nested message cannot exhaust the stack; every part is visited at most
/// once, since each has one parent.
fn walk<'m, 'x>(
    message: &'m Message<'x>,
    body_only: bool,
    mut visit: impl FnMut(usize, &'m MessagePart<'x>),
) {
    let mut stack = vec![0usize];
    let mut seen = vec![false; message.parts.len()];
    while let Some(index) = stack.pop() {
        let Some(part) = message.parts.get(index) else {
            continue;
        };
        if std::mem::replace(&mut seen[index], true) {
            continue;
        }
        let PartType::Multipart(children) = &part.body else {
            visit(index, part);
            continue;
        };
        if body_only && is_attachment(part) {
            continue;
        }
        let related = part
            .content_type()
            .and_then(|ct| ct.subtype())
            .is_some_and(|sub| sub.eq_ignore_ascii_case("related"));
        let children = match body_only && related {
            true => &children[..children.len().min(1)],
            false => &children[..],
        };
        stack.extend(children.iter().rev().map(|&child| child as usize));
    }
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}

fn describe(index: usize, part: &MessagePart<'_>) -> PartInfo {
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
    let content_type = content_type(part);
    let file_name = match file_name.is_empty() {
        true => report_part_name(&content_type)
            .unwrap_or_default()
            .to_string(),
        false => file_name,
    };
    PartInfo {
        part_id: index.to_string(),
        file_name,
        content_type,
        content_id,
        size: part.contents().len(),
        role,
    }
}

/// A name for the machine-readable parts of a bounce or read receipt
/// (RFC 3464, 6522, 8098), which senders never name: a reader then sees
/// what they are and can open them as text, instead of a nameless file.
fn report_part_name(content_type: &str) -> Option<&'static str> {
    Some(match content_type {
        "message/delivery-status" | "message/global-delivery-status" => "delivery-status.txt",
        "message/disposition-notification" | "message/global-disposition-notification" => {
            "disposition-notification.txt"
        }
        "text/rfc822-headers" | "message/global-headers" => "rfc822-headers.txt",
        _ => return None,
    })
}

/// The part's media type as `type/subtype`, defaulting as RFC 2045 says.
pub fn content_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            // Not a valid media type (`Content-Type: text`, say): RFC 2045
            // reads it as text/plain, as CPython and mail clients do.
            None => "text/plain".into(),
        },
        None if matches!(part.body, PartType::Message(_)) => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

fn is_image(part: &MessagePart<'_>) -> bool {
    part.content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("image"))
}

/// At most this many `boundary=` values are honoured by [`parse_input`]; a
/// message declaring more is parsed as it is.
const MAX_BOUNDARIES: usize = 64;

/// The bytes to give mail-parser for `raw`: `raw` itself, unless a header
/// block (the message's, or a part's after a declared boundary) runs
/// straight into its body without the blank line RFC 5322 requires. Then a
/// blank line is put in before the first line that is no header field, so
/// the text written there is read as the body (as CPython and mail clients
/// read it) instead of vanishing as a malformed header. The stored message
/// is never changed; this only affects how it is read.
pub fn parse_input(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let boundaries = declared_boundaries(raw);
    // An mbox `From ` line is no header field, but no body either.
    let mut inserts: Vec<usize> = match raw.starts_with(b"From ") {
        true => Vec::new(),
        false => header_block_end(raw, 0).into_iter().collect(),
    };
    let mut pos = 0;
    while pos < raw.len() {
        let end = line_end(raw, pos);
        let line = trim_line(&raw[pos..end]);
        let delimiter = line
            .strip_prefix(b"--")
            .is_some_and(|rest| boundaries.iter().any(|b| trim_line(rest) == *b));
        if delimiter && let Some(at) = header_block_end(raw, end) {
            inserts.push(at);
        }
        pos = end;
    }
    if inserts.is_empty() {
        return raw.into();
    }
    let mut fixed = Vec::with_capacity(raw.len() + 2 * inserts.len());
    let mut from = 0;
    for at in inserts {
        fixed.extend_from_slice(&raw[from..at]);
        fixed.extend_from_slice(b"\r\n");
        from = at;
    }
    fixed.extend_from_slice(&raw[from..]);
    fixed.into()
}

/// The `boundary=` parameter values written anywhere in the message.
fn declared_boundaries(raw: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    for needle in [&b"oundary="[..], b"OUNDARY="] {
        for at in memchr::memmem::find_iter(raw, needle) {
            if found.len() >= MAX_BOUNDARIES {
                return found;
            }
            let value = &raw[at + needle.len()..];
            let value = match value.strip_prefix(b"\"") {
                Some(quoted) => &quoted[..memchr::memchr(b'"', quoted).unwrap_or(0)],
                None => {
                    let len = value
                        .iter()
                        .position(|b| b.is_ascii_whitespace() || *b == b';')
                        .unwrap_or(value.len());
                    &value[..len]
                }
            };
            if !value.is_empty() {
                found.push(value);
            }
        }
    }
    found
}

/// Where the header block starting at `start` stops without a blank line:
/// the start of its first line that is neither a header field nor a folded
/// continuation. None when it ends properly (or is empty, or is another
/// delimiter line).
fn header_block_end(raw: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    while pos < raw.len() {
        let end = line_end(raw, pos);
        let line = trim_line(&raw[pos..end]);
        let continuation = pos > start && matches!(line.first(), Some(b' ' | b'\t'));
        if line.is_empty() || line.starts_with(b"--") {
            return None;
        }
        if !continuation && !is_header_field(line) {
            return Some(pos);
        }
        pos = end;
    }
    None
}

/// `Name: value`, the name being printable ASCII without spaces or colons
/// (spaces before the colon are allowed, as obsolete syntax has them).
fn is_header_field(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .position(|b| !(b'!'..=b'~').contains(b) || *b == b':')
        .unwrap_or(line.len());
    let rest = &line[name_len..];
    let rest = &rest[rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()..];
    name_len > 0 && rest.first() == Some(&b':')
}

/// The index just past the line starting at `pos` (its `\n` included).
fn line_end(raw: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |i| pos + i + 1)
}

fn trim_line(line: &[u8]) -> &[u8] {
    let len = line
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
        .map_or(0, |i| i + 1);
    &line[..len]
}
