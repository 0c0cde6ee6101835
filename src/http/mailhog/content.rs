//! A message's content as MailHog presents it: headers as a map of raw
//! (undecoded) values, the body still transfer-encoded, and multipart bodies
//! split naively on their boundary.
//!
//! Written by hand rather than on `mail_parser`: MailHog's clients decode the
//! bodies and headers themselves and expect MailHog's naive split, quirks
//! included (a trailing `--` pseudo-part after the closing delimiter, a
//! non-empty preamble as part 0), which no MIME library reproduces. Where
//! MailHog drops data a client would want, this is deliberately lenient:
//! a bare-LF message still has headers, `Name:value` without a space is
//! still a header, and `Content-Type` is found in any letter case.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

/// Nested multiparts deeper than this are left unsplit (`MIME: null`), so
/// hostile nesting cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// Header name → values. Go encodes maps with sorted keys, so a sorted map
/// gives the same bytes.
pub type Headers<'a> = BTreeMap<&'a str, Vec<Cow<'a, str>>>;

/// MailHog's `Content`: one message or part.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct Content<'a> {
    pub headers: Headers<'a>,
    pub body: &'a str,
    pub size: usize,
    #[serde(rename = "MIME")]
    pub mime: Option<MimeBody<'a>>,
}

/// MailHog's `MIMEBody`: the pieces of a multipart body.
#[derive(Serialize, Debug)]
pub struct MimeBody<'a> {
    #[serde(rename = "Parts")]
    pub parts: Vec<Content<'a>>,
}

impl<'a> Content<'a> {
    /// Parses a message or part: headers up to the first blank line, the
    /// rest as body; a multipart body is split into parts.
    pub fn parse(data: &'a str) -> Content<'a> {
        Content::parse_at(data, 0)
    }

    fn parse_at(data: &'a str, depth: usize) -> Content<'a> {
        let (headers, body) = match blank_line(data) {
            Some((head_end, body_start)) => (parse_headers(&data[..head_end]), &data[body_start..]),
            None => (Headers::new(), data),
        };
        let mut content = Content {
            headers,
            body,
            size: data.len(),
            mime: None,
        };
        if depth < MAX_DEPTH
            && let Some(boundary) = content.multipart_boundary()
        {
            content.mime = Some(split_parts(body, &boundary, depth + 1));
        }
        content
    }

    /// The first value of a header, its name matched in any letter case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(|value| value.as_ref())
    }

    /// Whether a header of this name is present, in any letter case.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .keys()
            .any(|key| key.eq_ignore_ascii_case(name))
    }

    /// Appends a value to a header (under its name as written, if present),
    /// as MailHog adds `Received` and `Return-Path`.
    pub fn append_header(&mut self, name: &'a str, value: String) {
        let key = self
            .headers
            .keys()
            .find(|key| key.eq_ignore_ascii_case(name))
            .copied()
            .unwrap_or(name);
        self.headers.entry(key).or_default().push(Cow::Owned(value));
    }

    /// The boundary of a `multipart/*` content, if this is one.
    fn multipart_boundary(&self) -> Option<String> {
        let content_type = self.header("Content-Type")?;
        let media_type = content_type.split(';').next()?.trim();
        let is_multipart = media_type
            .get(..10)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("multipart/"));
        if !is_multipart {
            return None;
        }
        parameter(content_type, "boundary").map(str::to_string)
    }
}

/// Where the headers end and the body starts: the first empty line, ended
/// by CRLF or (leniently) a bare LF.
fn blank_line(data: &str) -> Option<(usize, usize)> {
    let crlf = data.find("\r\n\r\n").map(|at| (at, at + 4));
    let lf = data.find("\n\n").map(|at| (at, at + 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Header lines into the map. A continuation line (leading space or tab)
/// is appended to the previous value without its line break; a repeated
/// name keeps only its last occurrence, as MailHog keeps it; a line that is
/// no header is skipped.
fn parse_headers(head: &str) -> Headers<'_> {
    let mut headers = Headers::new();
    let mut last: Option<&str> = None;
    for line in head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.starts_with([' ', '\t']) {
            if let Some(value) = last
                .and_then(|name| headers.get_mut(name))
                .and_then(|values| values.last_mut())
            {
                value.to_mut().push_str(line);
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            continue;
        }
        let value = value.strip_prefix(' ').unwrap_or(value);
        headers.insert(name, vec![Cow::Borrowed(value)]);
        last = Some(name);
    }
    headers
}

/// A parameter of a structured header value (`boundary="b1"`), unquoted;
/// `None` when absent or empty.
pub(super) fn parameter<'v>(value: &'v str, name: &str) -> Option<&'v str> {
    value.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let value = value.trim();
        let unquoted = value
            .strip_prefix('"')
            .and_then(|v| v.split('"').next())
            .unwrap_or(value);
        Some(unquoted).filter(|v| !v.is_empty())
    })
}

/// MailHog's split: the body cut at every `--boundary`, empty pieces
/// dropped, each piece trimmed of CR and LF at both ends and parsed as a
/// content of its own.
fn split_parts<'a>(body: &'a str, boundary: &str, depth: usize) -> MimeBody<'a> {
    let delimiter = format!("--{boundary}");
    let parts = body
        .split(delimiter.as_str())
        .filter(|piece| !piece.is_empty())
        .map(|piece| Content::parse_at(piece.trim_matches(['\r', '\n']), depth))
        .collect();
    MimeBody { parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_mailhog() {
        let data = "Subject: =?utf-8?Q?Caf=C3=A9?=\r\nContent-Type: multipart/mixed;\r\n boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9\r\n--b1--";
        let content = Content::parse(data);
        assert_eq!(content.header("subject"), Some("=?utf-8?Q?Caf=C3=A9?="));
        // Folded lines are joined without their line break, leading WSP kept.
        assert_eq!(
            content.header("Content-Type"),
            Some("multipart/mixed; boundary=\"b1\"")
        );
        assert_eq!(content.size, data.len());
        let parts = &content.mime.as_ref().unwrap().parts;
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body, "Caf=C3=A9");
        assert_eq!(
            parts[0].headers["Content-Transfer-Encoding"],
            ["quoted-printable"]
        );
        assert_eq!(parts[1].body, "--");
        assert_eq!(parts[1].size, 2);
        assert!(parts[1].headers.is_empty());
    }

    #[test]
    fn repeated_headers_keep_the_last_and_odd_lines_are_skipped() {
        let content = Content::parse("To: a@x\nTo: b@x\nnot a header\nX:y\n\nbody\n");
        assert_eq!(content.headers["To"], ["b@x"]);
        assert_eq!(content.headers["X"], ["y"]);
        assert_eq!(content.body, "body\n");
        let headless = Content::parse("just text");
        assert!(headless.headers.is_empty());
        assert_eq!(headless.body, "just text");
    }

    #[test]
    fn deep_nesting_stops() {
        let mut data = String::new();
        for depth in 0..100 {
            data.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=x{depth}x\r\n\r\n--x{depth}x\r\n"
            ));
        }
        let mut content = Content::parse(&data);
        let mut levels = 0;
        while let Some(mime) = content.mime {
            levels += 1;
            content = mime.parts.into_iter().next().unwrap();
        }
        assert_eq!(levels, MAX_DEPTH);
    }
}
