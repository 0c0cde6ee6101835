//! What a message looks like opened: bodies, headers in order and parts with
//! checksums. Parsed on demand from the raw bytes (listing and searching use
//! the summary built at ingest instead), and kept in a small bounded cache
//! because a client that opens a message usually asks for its headers, parts
//! and rendered views right after.

use std::collections::VecDeque;
use std::sync::Arc;

use mail_parser::{Message, MessageParser, PartType};
use md5::Md5;
use parking_lot::Mutex;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::parts::{PartInfo, PartRole, bodies, body_content, non_body_parts, parse_input};

/// A parsed message, ready for the detail views.
#[derive(Debug, Default)]
pub struct Detail {
    /// The text body; generated from the HTML part when there is no text part.
    pub text: String,
    /// True when the message has no text part, so `text` was generated from
    /// the HTML.
    pub text_from_html: bool,
    /// The HTML body, empty when the message has no HTML part.
    pub html: String,
    /// The top-level header fields in message order: name as written, value
    /// unfolded but not decoded.
    pub headers: Vec<(String, String)>,
    /// Attachments and inline parts, with the part IDs of [`super::parts`].
    pub parts: Vec<PartDetail>,
}

/// A non-body part with the checksums of its decoded content.
#[derive(Clone, Debug)]
pub struct PartDetail {
    pub info: PartInfo,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
}

/// A part's decoded content, for downloads.
#[derive(Clone, Debug)]
pub struct PartContent {
    pub info: PartInfo,
    pub data: Vec<u8>,
}

/// The `List-Unsubscribe` facts Mailpit reports with a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListUnsubscribe {
    pub header: String,
    pub links: Vec<String>,
    pub errors: String,
    pub header_post: String,
}

impl Detail {
    /// Parses a stored message. Never fails: unparseable input gives an
    /// empty detail (the summary already carries a warning about it).
    pub fn parse(raw: &[u8]) -> Detail {
        let input = parse_input(raw);
        let Some(parsed) = MessageParser::default().parse(input.as_ref()) else {
            return Detail::default();
        };
        let bodies = bodies(&parsed);
        let html = bodies
            .html
            .map(|index| body_content(&parsed, index).into_owned())
            .unwrap_or_default();
        let text = match bodies.text {
            Some(index) => body_content(&parsed, index).into_owned(),
            None if !html.is_empty() => mail_parser::decoders::html::html_to_text(&html),
            None => String::new(),
        };
        Detail {
            text,
            text_from_html: bodies.text.is_none() && bodies.html.is_some(),
            html,
            headers: headers_in_order(&parsed),
            parts: non_body_parts(&parsed)
                .into_iter()
                .map(|info| with_checksums(&parsed, info))
                .collect(),
        }
    }

    /// The message's own text part, if it has one (not text made from its
    /// HTML).
    pub fn text_part(&self) -> Option<&str> {
        (!self.text_from_html).then_some(self.text.as_str())
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn inline_parts(&self) -> impl Iterator<Item = &PartDetail> {
        self.parts
            .iter()
            .filter(|p| p.info.role == PartRole::Inline)
    }

    pub fn attachment_parts(&self) -> impl Iterator<Item = &PartDetail> {
        self.parts
            .iter()
            .filter(|p| p.info.role == PartRole::Attachment)
    }

    /// The part an HTML `cid:` reference points at, if any.
    pub fn part_by_content_id(&self, content_id: &str) -> Option<&PartDetail> {
        self.parts
            .iter()
            .find(|p| !p.info.content_id.is_empty() && p.info.content_id == content_id)
    }

    /// Parses `List-Unsubscribe` as Mailpit reports it: at most one mailto
    /// and one http(s) link, each wrapped in `<>`, comma-separated.
    pub fn list_unsubscribe(&self) -> ListUnsubscribe {
        let header = self.header("List-Unsubscribe").unwrap_or_default();
        let header_post = self.header("List-Unsubscribe-Post").unwrap_or_default();
        let mut result = ListUnsubscribe {
            header: header.to_string(),
            header_post: header_post.to_string(),
            ..ListUnsubscribe::default()
        };
        if header.trim().is_empty() {
            return result;
        }
        let mut errors = Vec::new();
        let (mut mailto, mut http) = (0, 0);
        for item in header.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some(link) = item.strip_prefix('<').and_then(|s| s.strip_suffix('>')) else {
                errors.push(format!("\"{item}\" is not wrapped in <>"));
                continue;
            };
            let lower = link.to_ascii_lowercase();
            if lower.starts_with("mailto:") {
                mailto += 1;
            } else if lower.starts_with("http://") || lower.starts_with("https://") {
                http += 1;
            } else {
                errors.push(format!("\"{link}\" is not a valid unsubscribe link"));
                continue;
            }
            result.links.push(link.to_string());
        }
        if mailto > 1 || http > 1 {
            errors.push("multiple links of the same type".to_string());
        }
        if !header_post.is_empty() && http == 0 {
            errors.push("List-Unsubscribe-Post requires an http(s) link".to_string());
        }
        result.errors = errors.join(", ");
        result
    }
}

/// The decoded content of one attachment or inline part, looked up by the
/// part ID the detail view listed. Parses the message afresh: downloads are
/// rare, and keeping decoded attachments cached would multiply memory.
pub fn part_content(raw: &[u8], part_id: &str) -> Option<PartContent> {
    if part_id.is_empty() || !part_id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let input = parse_input(raw);
    let parsed = MessageParser::default().parse(input.as_ref())?;
    let info = non_body_parts(&parsed)
        .into_iter()
        .find(|p| p.part_id == part_id)?;
    let index: usize = part_id.parse().ok()?;
    let data = decoded(parsed.parts.get(index)?.body.clone());
    Some(PartContent { info, data })
}

/// The header fields of the top-level part, as written, unfolded the way Go's
/// `net/textproto` unfolds them (each line trimmed, joined with one space).
fn headers_in_order(message: &Message<'_>) -> Vec<(String, String)> {
    let raw = message.raw_message.as_ref();
    message
        .headers()
        .iter()
        .filter_map(|header| {
            let field = raw.get(header.offset_field as usize..header.offset_end as usize)?;
            let colon = memchr::memchr(b':', field)?;
            let name = String::from_utf8_lossy(&field[..colon]).trim().to_string();
            let value = raw.get(header.offset_start as usize..header.offset_end as usize)?;
            Some((name, unfold(&String::from_utf8_lossy(value))))
        })
        .collect()
}

fn unfold(value: &str) -> String {
    value
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn with_checksums(message: &Message<'_>, info: PartInfo) -> PartDetail {
    let content = info
        .part_id
        .parse::<usize>()
        .ok()
        .and_then(|index| message.parts.get(index))
        .map(|part| part.contents())
        .unwrap_or_default();
    PartDetail {
        md5: hex::encode(Md5::digest(content)),
        sha1: hex::encode(Sha1::digest(content)),
        sha256: hex::encode(Sha256::digest(content)),
        info,
    }
}

fn decoded(body: PartType<'_>) -> Vec<u8> {
    match body {
        PartType::Text(text) | PartType::Html(text) => text.into_owned().into_bytes(),
        PartType::Binary(data) | PartType::InlineBinary(data) => data.into_owned(),
        PartType::Message(message) => message.raw_message.into_owned(),
        PartType::Multipart(_) => Vec::new(),
    }
}

/// A small cache of parsed messages, bounded by entry count and evicting the
/// least recently used. IDs are never reused and raw bytes never change, so
/// entries never go stale; deleted messages simply age out.
pub struct DetailCache {
    capacity: usize,
    entries: Mutex<VecDeque<(Box<str>, Arc<Detail>)>>,
}

impl DetailCache {
    pub fn new(capacity: usize) -> DetailCache {
        DetailCache {
            capacity,
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    /// The cached detail of `id`, marked as most recently used.
    pub fn get(&self, id: &str) -> Option<Arc<Detail>> {
        let mut entries = self.entries.lock();
        let position = entries.iter().position(|(key, _)| &**key == id)?;
        let entry = entries.remove(position)?;
        let detail = entry.1.clone();
        entries.push_back(entry);
        Some(detail)
    }

    pub fn insert(&self, id: &str, detail: Arc<Detail>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock();
        entries.retain(|(key, _)| &**key != id);
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((id.into(), detail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &str = "From: a@example.com\r\nTo: b@example.com\r\nSubject: Hi\r\n\
X-Long: one\r\n  two\r\nList-Unsubscribe: <mailto:u@example.com>, <https://example.com/u>\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Hello <b>there</b></p>\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\n\
Content-Disposition: attachment; filename=a.txt\r\n\r\nattached\r\n--b--\r\n";

    fn stored(raw: &str) -> &[u8] {
        raw.as_bytes()
    }

    #[test]
    fn parses_bodies_headers_and_parts() {
        let message = stored(MIXED);
        let detail = Detail::parse(message);
        assert_eq!(detail.html, "<p>Hello <b>there</b></p>");
        assert!(detail.text.contains("Hello"), "{}", detail.text);
        assert!(detail.text_from_html);
        assert_eq!(detail.header("x-long"), Some("one two"));
        assert_eq!(detail.headers[0], ("From".into(), "a@example.com".into()));
        assert_eq!(detail.parts.len(), 1);
        let part = &detail.parts[0];
        assert_eq!(part.info.file_name, "a.txt");
        let content = part_content(message, &part.info.part_id).unwrap();
        assert_eq!(content.data, b"attached");
        assert_eq!(part.md5, hex::encode(Md5::digest(b"attached")));
        assert!(part_content(message, "../1").is_none());
        assert!(part_content(message, "0").is_none());
        let unsubscribe = detail.list_unsubscribe();
        assert_eq!(unsubscribe.links.len(), 2);
        assert_eq!(unsubscribe.errors, "");
    }

    #[test]
    fn text_only_message_has_no_html() {
        let detail = Detail::parse(stored("Subject: x\r\n\r\nplain body\r\n"));
        assert_eq!(detail.html, "");
        assert_eq!(detail.text.trim(), "plain body");
        assert!(!detail.text_from_html);
    }

    #[test]
    fn content_type_without_subtype_is_the_text_body() {
        let detail = Detail::parse(stored("Content-Type: text\r\n\r\nstill readable\r\n"));
        assert_eq!(detail.text.trim(), "still readable");
        assert!(detail.parts.is_empty());
    }

    #[test]
    fn html_after_text_in_mixed_is_the_html_body_and_extra_text_is_listed() {
        let raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nfirst\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>web</p>\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b--\r\n";
        let detail = Detail::parse(stored(raw));
        assert_eq!(detail.text, "first");
        assert_eq!(detail.html, "<p>web</p>");
        assert_eq!(detail.parts.len(), 1, "the second text part is not hidden");
        let content = part_content(stored(raw), &detail.parts[0].info.part_id).unwrap();
        assert_eq!(content.data, b"second");
    }

    #[test]
    fn delivery_report_parts_are_named() {
        let raw = "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n\
--r\r\nContent-Type: text/plain\r\n\r\nIt bounced.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n\
Reporting-MTA: dns; mx.example.com\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\n\
--r\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\n--r--\r\n";
        let detail = Detail::parse(stored(raw));
        assert_eq!(detail.text, "It bounced.");
        let names: Vec<&str> = detail
            .parts
            .iter()
            .map(|p| p.info.file_name.as_str())
            .collect();
        assert_eq!(names, ["delivery-status.txt", "rfc822-headers.txt"]);
    }

    #[test]
    fn text_right_after_the_headers_is_body_not_lost() {
        let top = Detail::parse(stored("Subject: x\r\nno blank line before me\r\n"));
        assert_eq!(top.text.trim(), "no blank line before me");
        assert_eq!(top.header("Subject"), Some("x"));
        let part = "Content-Type: multipart/mixed; boundary=foo\r\n\r\n--foo\r\n\
Content-Type: text/plain\r\nbar\r\n--foo\r\nContent-Type: text/html\r\n<p>baz</p>\r\n--foo--\r\n";
        let detail = Detail::parse(stored(part));
        assert_eq!(
            (detail.text.trim(), detail.html.trim()),
            ("bar", "<p>baz</p>")
        );
        // Well-formed input is parsed as it is, without a copy.
        assert!(matches!(
            super::super::parts::parse_input(MIXED.as_bytes()),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn cache_is_bounded_and_lru() {
        let cache = DetailCache::new(2);
        for id in ["a", "b"] {
            cache.insert(id, Arc::default());
        }
        assert!(cache.get("a").is_some());
        cache.insert("c", Arc::default());
        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
    }
}
