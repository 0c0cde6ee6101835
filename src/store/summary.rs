//! Builds a message's [`Summary`] once, at ingest, so listing and searching
//! never re-parse raw bytes.

use mail_parser::{HeaderName, HeaderValue, Message, MessageParser};

use super::message::{Address, Envelope, Summary};
use super::parts::{PartRole, bodies, body_content, non_body_parts, parse_input};
use super::tags;

/// Snippets are cut at this many bytes, as Mailpit does.
const SNIPPET_BYTES: usize = 200;
/// Free-text search covers at most this much body text per message, so a
/// huge text body cannot double its memory footprint.
const SEARCH_BODY_BYTES: usize = 64 * 1024;

/// Parses `raw` and summarises it. Never fails: unparseable input yields a
/// summary built from the envelope alone, with a warning.
pub fn summarize(raw: &[u8], envelope: &Envelope) -> Summary {
    let input = parse_input(raw);
    match MessageParser::default().parse(input.as_ref()) {
        Some(message) => from_message(&message, envelope),
        None => {
            let mut summary = Summary {
                content_warnings: vec!["message could not be parsed as MIME".into()],
                ..Summary::default()
            };
            add_envelope_only_recipients(&mut summary, envelope);
            summary.return_path = envelope.mail_from.clone();
            summary.search_text = normalize_search(&String::from_utf8_lossy(
                &raw[..raw.len().min(SEARCH_BODY_BYTES)],
            ));
            summary
        }
    }
}

fn from_message(message: &Message<'_>, envelope: &Envelope) -> Summary {
    let mut summary = Summary {
        message_id: message.message_id().unwrap_or_default().to_string(),
        from: addresses(message, HeaderName::From)
            .into_iter()
            .next()
            .unwrap_or_default(),
        to: addresses(message, HeaderName::To),
        cc: addresses(message, HeaderName::Cc),
        bcc: addresses(message, HeaderName::Bcc),
        reply_to: addresses(message, HeaderName::ReplyTo),
        subject: message.subject().unwrap_or_default().to_string(),
        date: message.date().map(|d| d.to_rfc3339()),
        ..Summary::default()
    };
    summary.return_path = return_path_header(message)
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| envelope.mail_from.clone());
    add_envelope_only_recipients(&mut summary, envelope);

    let parts = non_body_parts(message);
    summary.inline = parts.iter().filter(|p| p.role == PartRole::Inline).count() as u32;
    summary.attachments = parts.len() as u32 - summary.inline;

    let body = body_text(message);
    summary.snippet = snippet(&body);
    summary.search_text = search_text(message, &summary, &body, &parts);
    summary.auto_tags = auto_tags(message, &summary);
    summary.mailbox_header = message
        .header_raw("X-Mailbox")
        .map(|value| value.trim().to_string());
    summary.content_warnings = content_warnings(message);
    summary.shrink_to_fit();
    summary
}

/// The Return-Path header alone (mail-parser's `return_address` falls back
/// to From, but without the header the envelope sender is the return path).
fn return_path_header(message: &Message<'_>) -> Option<String> {
    match message.header(mail_parser::HeaderName::ReturnPath)? {
        HeaderValue::Text(text) => Some(text.to_string()),
        HeaderValue::TextList(list) => list.last().map(|t| t.to_string()),
        HeaderValue::Address(address) => address
            .first()
            .and_then(|a| a.address.as_deref())
            .map(str::to_string),
        _ => None,
    }
}

/// The body as plain text: the HTML part converted if there is one (as
/// Mailpit's snippets do), else the text part.
fn body_text(message: &Message<'_>) -> String {
    let bodies = bodies(message);
    if let Some(html) = bodies.html {
        let html = body_content(message, html);
        return mail_parser::decoders::html::html_to_text(&space_block_tags(&html));
    }
    bodies
        .text
        .map(|text| body_content(message, text).into_owned())
        .unwrap_or_default()
}

/// Puts a space before block-level tags, so that `<h1>A</h1><p>B</p>`
/// becomes "A B" rather than "AB" once the tags are stripped.
fn space_block_tags(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "p",
        "div",
        "br",
        "li",
        "tr",
        "td",
        "th",
        "table",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "hr",
    ];
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tag = rest[at + 1..].trim_start_matches('/');
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        if BLOCKS
            .iter()
            .any(|b| b.eq_ignore_ascii_case(&tag[..name_len]))
        {
            out.push(' ');
        }
        out.push('<');
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

/// The addresses of every `name` header: a message may carry a header such
/// as To twice (RFC 5322 allows it in obsolete syntax, and real mail does
/// it), and a reader sees the recipients of both.
fn addresses(message: &Message<'_>, name: HeaderName<'_>) -> Vec<Address> {
    message
        .header_values(name)
        .filter_map(HeaderValue::as_address)
        .flat_map(|list| list.iter())
        .map(|a| {
            let name = a.name().unwrap_or_default();
            match a.address() {
                Some(address) => {
                    // Re-quoted: `"odd user"@x`, not the ambiguous `odd user@x`.
                    let (name, address) = crate::smtp::address::mailbox(Some(name), Some(address));
                    Address { name, address }
                }
                // A bare word such as `To: postmaster` is a local address
                // without a domain, not a display name.
                None if !name.is_empty() && !name.contains(char::is_whitespace) => Address {
                    name: String::new(),
                    address: name.to_string(),
                },
                None => Address {
                    name: name.to_string(),
                    address: String::new(),
                },
            }
        })
        .collect()
}

/// Envelope recipients that appear in no address header (Bcc by nature) are
/// shown as Bcc, so tests can assert on who really received a message.
fn add_envelope_only_recipients(summary: &mut Summary, envelope: &Envelope) {
    for rcpt in &envelope.rcpt_to {
        let known = summary
            .to
            .iter()
            .chain(&summary.cc)
            .chain(&summary.bcc)
            .any(|a| a.address.eq_ignore_ascii_case(rcpt));
        if !known {
            summary.bcc.push(Address {
                name: String::new(),
                address: rcpt.clone(),
            });
        }
    }
}

fn snippet(body: &str) -> String {
    // Whitespace-collapsed, but only as far as the snippet reaches: the
    // first SNIPPET_BYTES of the collapsed text are all that is kept, and a
    // body can be megabytes long.
    let mut collapsed = String::new();
    for word in body.split_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
        if collapsed.len() > SNIPPET_BYTES {
            break;
        }
    }
    if collapsed.len() <= SNIPPET_BYTES {
        return collapsed;
    }
    let mut cut = SNIPPET_BYTES;
    while !collapsed.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &collapsed[..cut])
}

/// The free text of a message. It holds the decoded subject whole, so a
/// `subject:` search may rule a message out by the text's Bloom filter.
fn search_text(
    message: &Message<'_>,
    summary: &Summary,
    body: &str,
    parts: &[super::parts::PartInfo],
) -> String {
    let mut text = String::new();
    for name in [
        "From",
        "Subject",
        "To",
        "Cc",
        "Bcc",
        "Reply-To",
        "Return-Path",
    ] {
        if let Some(raw) = message.header_raw(name) {
            text.push_str(raw);
            text.push(' ');
        }
    }
    text.push_str(&summary.subject);
    text.push(' ');
    for address in &summary.bcc {
        text.push_str(&address.address);
        text.push(' ');
    }
    let mut end = body.len().min(SEARCH_BODY_BYTES);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    text.push_str(&body[..end]);
    for part in parts {
        text.push(' ');
        text.push_str(&part.file_name);
    }
    normalize_search(&text)
}

/// Lower-cases and strips the characters Mailpit strips (`<>",;()` and line
/// breaks), collapsing whitespace; used for both indexed text and terms.
///
/// Runs at every ingest over headers and body text, so ASCII (nearly all of
/// it) takes a byte-wise path; other characters go through Unicode
/// lower-casing, with the same result as doing it all by `char`.
pub fn normalize_search(text: &str) -> String {
    let mut out = Normalized {
        bytes: Vec::with_capacity(text.len()),
        pending_space: false,
    };
    let mut rest = text;
    while !rest.is_empty() {
        let ascii_run = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        out.push_ascii(&rest.as_bytes()[..ascii_run]);
        rest = &rest[ascii_run..];
        if let Some(c) = rest.chars().next() {
            c.to_lowercase().for_each(|lower| out.push(lower));
            rest = &rest[c.len_utf8()..];
        }
    }
    // Only whole characters were pushed, so this never takes the lossy path.
    String::from_utf8(out.bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// For each ASCII byte: [`SEPARATOR`] if it separates words, else its lower case.
const SEPARATOR: u8 = 0xff;
const ASCII_FOLD: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let separator = matches!(
            c,
            b'\t'..=b'\r' | b' ' | b'<' | b'>' | b'"' | b',' | b';' | b'(' | b')'
        );
        table[b] = if separator {
            SEPARATOR
        } else {
            c.to_ascii_lowercase()
        };
        b += 1;
    }
    table
};

/// The output of [`normalize_search`] being built.
struct Normalized {
    bytes: Vec<u8>,
    pending_space: bool,
}

impl Normalized {
    fn push_ascii(&mut self, run: &[u8]) {
        for &byte in run {
            match ASCII_FOLD[usize::from(byte & 0x7f)] {
                SEPARATOR => self.pending_space = !self.bytes.is_empty(),
                folded => {
                    if self.pending_space {
                        self.bytes.push(b' ');
                        self.pending_space = false;
                    }
                    self.bytes.push(folded);
                }
            }
        }
    }

    fn push(&mut self, c: char) {
        if c.is_ascii() {
            return self.push_ascii(&[c as u8]);
        }
        if c.is_whitespace() {
            self.pending_space = !self.bytes.is_empty();
        } else {
            if self.pending_space {
                self.bytes.push(b' ');
                self.pending_space = false;
            }
            self.bytes
                .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
}

fn auto_tags(message: &Message<'_>, summary: &Summary) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for value in message.header_values("X-Tags") {
        if let HeaderValue::Text(text) = value {
            names.extend(text.split(',').map(str::to_string));
        }
    }
    let addresses = std::iter::once(&summary.from)
        .chain(&summary.to)
        .chain(&summary.cc)
        .chain(&summary.bcc);
    for address in addresses {
        names.extend(tags::from_plus_address(&address.address).map(str::to_string));
    }
    tags::clean_all(names.iter().map(String::as_str))
}

fn content_warnings(message: &Message<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    if message.date().is_none() {
        warnings.push("missing or unparseable Date header".to_string());
    }
    if message.message_id().is_none() {
        warnings.push("missing Message-ID header".to_string());
    }
    if message.from().is_none() {
        warnings.push("missing From header".to_string());
    }
    if message.parts.iter().any(|p| p.is_encoding_problem) {
        warnings.push("a MIME part has a content-transfer-encoding problem".to_string());
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_path_is_the_header_else_the_envelope_sender_never_from() {
        let with_header = b"Return-Path: <bounce@example.com>\r\nFrom: a@example.com\r\n\r\nx\r\n";
        let without = b"From: a@example.com\r\nSubject: x\r\n\r\nx\r\n";
        let envelope = envelope(&["b@example.com"]);
        assert_eq!(
            summarize(with_header, &envelope).return_path,
            "bounce@example.com"
        );
        assert_eq!(
            summarize(without, &envelope).return_path,
            "sender@example.com"
        );
        let null_sender = Envelope::default();
        assert_eq!(summarize(without, &null_sender).return_path, "");
    }

    fn envelope(rcpts: &[&str]) -> Envelope {
        Envelope {
            mail_from: "sender@example.com".into(),
            rcpt_to: rcpts.iter().map(|s| s.to_string()).collect(),
            ..Envelope::default()
        }
    }

    #[test]
    fn summarises_headers_and_envelope_only_recipients() {
        let raw = b"From: Alice <alice+news@example.com>\r\nTo: bob@example.com\r\n\
Subject: =?utf-8?q?Caf=C3=A9?=\r\nMessage-ID: <m1@x>\r\nX-Tags: one, Two\r\n\
Date: Tue, 1 Jul 2025 10:00:00 +0200\r\n\r\nHello   world\r\n";
        let s = summarize(raw, &envelope(&["bob@example.com", "hidden@example.com"]));
        assert_eq!(s.subject, "Café");
        assert_eq!(s.from.address, "alice+news@example.com");
        assert_eq!(s.message_id, "m1@x");
        assert_eq!(s.bcc.len(), 1);
        assert_eq!(s.bcc[0].address, "hidden@example.com");
        assert_eq!(s.snippet, "Hello world");
        assert_eq!(s.auto_tags, ["news", "one", "Two"]);
        assert!(s.search_text.contains("café"));
        assert!(s.content_warnings.is_empty(), "{:?}", s.content_warnings);
    }

    #[test]
    fn the_search_text_holds_the_normalised_subject() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cpython-email");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            let s = summarize(&raw, &envelope(&["x@example.com"]));
            let subject = normalize_search(&s.subject);
            assert!(s.search_text.contains(&subject), "{subject:?}");
            checked += usize::from(!subject.is_empty());
        }
        let folded = b"Subject: =?utf-8?q?R=C3=A9sum=C3=A9?=\r\n\t (Final)  \"v2\"\r\n\r\nx\r\n";
        let s = summarize(folded, &envelope(&[]));
        assert!(s.search_text.contains(&normalize_search(&s.subject)));
        assert!(checked > 20, "only {checked} fixtures had a subject");
    }

    #[test]
    fn every_to_and_cc_header_counts_and_bare_words_are_addresses() {
        let raw = b"From: a@example.com\r\nTo: one@example.com\r\nCc: Carol <c@example.com>\r\n\
To: Two <two@example.com>, postmaster\r\nCc: d@example.com\r\n\r\nx\r\n";
        let s = summarize(raw, &envelope(&[]));
        let to: Vec<(&str, &str)> =
            s.to.iter()
                .map(|a| (a.name.as_str(), a.address.as_str()))
                .collect();
        assert_eq!(
            to,
            [
                ("", "one@example.com"),
                ("Two", "two@example.com"),
                ("", "postmaster")
            ]
        );
        assert_eq!(s.cc.len(), 2);
        assert!(s.bcc.is_empty());
    }

    /// The definition `normalize_search` must keep matching.
    fn normalize_by_char(text: &str) -> String {
        let mut out = String::new();
        let mut pending_space = false;
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_whitespace() || "<>\",;()".contains(c) {
                pending_space = !out.is_empty();
            } else {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn normalize_search_matches_the_char_by_char_definition() {
        for text in [
            "",
            "  Hello, World;  (x) <a@b.c> \"q\"\r\n\tEnd ",
            "CAFÉ Ünïcödé İstanbul ΣΑΣ\u{00A0}nbsp\u{2003}em\u{0B}vt\u{1C}fs",
            "mixed ASCII, then ÄÖÜ; then ascii again \u{10400}",
            "\0 nul and \x7f del",
        ] {
            assert_eq!(normalize_search(text), normalize_by_char(text), "{text:?}");
        }
        let every_ascii: String = (0u8..128).map(char::from).collect();
        assert_eq!(
            normalize_search(&every_ascii),
            normalize_by_char(&every_ascii)
        );
    }

    #[test]
    fn text_only_bodies_are_taken_as_written() {
        let raw = b"Content-Type: text/plain\r\n\r\nFish &amp; chips <b>not bold</b>\r\n";
        assert_eq!(
            summarize(raw, &envelope(&[])).snippet,
            "Fish &amp; chips <b>not bold</b>"
        );
    }

    #[test]
    fn html_blocks_do_not_run_together_in_snippets() {
        let raw = b"Content-Type: text/html\r\n\r\n<h1>Report</h1><p>Revenue is <b>up</b></p><ul><li>a</li><li>b</li></ul>\r\n";
        assert_eq!(
            summarize(raw, &envelope(&[])).snippet,
            "Report Revenue is up a b"
        );
    }

    #[test]
    fn snippet_is_the_collapsed_body_cut_to_size() {
        let by_join = |body: &str| {
            let collapsed = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if collapsed.len() <= SNIPPET_BYTES {
                return collapsed;
            }
            let mut cut = SNIPPET_BYTES;
            while !collapsed.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}...", &collapsed[..cut])
        };
        let long = "word  \r\n\t".repeat(10_000);
        let exact = format!("{} {}", "a".repeat(99), "b".repeat(100));
        for body in [
            "",
            "  short  body ",
            &long,
            &exact,
            &"x".repeat(500),
            &"é ".repeat(150),
        ] {
            assert_eq!(snippet(body), by_join(body), "{body:?}");
        }
    }

    #[test]
    fn snippet_cuts_at_char_boundary() {
        let s = snippet(&"é".repeat(300));
        assert!(s.ends_with("..."));
        assert!(s.len() <= SNIPPET_BYTES + 3);
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\0\0\0",
            b"Content-Type: multipart/mixed\r\n\r\n--",
            b"\xff\xfe",
        ] {
            let _ = summarize(raw, &envelope(&["a@b"]));
        }
    }
}
