//! The extraction over whole messages, as the HTTP handlers call it: parsed
//! by [`Detail::parse`], text part or not.

use super::*;
use crate::store::detail::Detail;

/// The message's own text part, as the handlers pass it.
fn parts(raw: &str) -> (String, Option<String>) {
    let detail = Detail::parse(raw.as_bytes());
    let text = (!detail.text_from_html).then(|| detail.text.clone());
    (detail.html.clone(), text)
}

const ALTERNATIVE: &str = "From: a@x.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
Your code: 111111\r\nText only: https://x.test/t\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Your code: <b>222222</b></p><p><a href=\"https://x.test/h\">HTML</a> https://x.test/visible</p>\r\n--b--\r\n";

const HTML_ONLY: &str = "From: a@x.test\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n\
<table><tr><td>Your code</td></tr><tr><td>333 444</td></tr></table>\
<p><a href=\"https://x.test/h\">HTML</a> https://x.test/visible</p>\r\n";

const TEXT_ONLY: &str = "From: a@x.test\r\nSubject: s\r\n\r\n\
Your code: 555555\r\n<a href=\"https://x.test/not-html\">x</a> https://x.test/t\r\n";

#[test]
fn the_text_part_is_used_when_there_is_one() {
    let (html, text) = parts(ALTERNATIVE);
    let codes: Vec<_> = message_codes(&html, text.as_deref())
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(codes, ["111111"]);
    let links: Vec<_> = message_links(&html, text.as_deref())
        .into_iter()
        .map(|l| (l.url, l.part.as_str()))
        .collect();
    assert_eq!(
        links,
        [
            ("https://x.test/h".to_string(), "html"),
            ("https://x.test/t".to_string(), "text"),
        ]
    );
}

#[test]
fn html_only_messages_are_read_as_rendered_text() {
    let (html, text) = parts(HTML_ONLY);
    assert_eq!(text, None);
    let codes = message_codes(&html, text.as_deref());
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].code, "333444");
    assert_eq!(codes[0].context, "Your code 333 444");
    // URLs that are only visible text in HTML are not links.
    let links: Vec<_> = message_links(&html, text.as_deref())
        .into_iter()
        .map(|l| l.url)
        .collect();
    assert_eq!(links, ["https://x.test/h"]);
}

#[test]
fn text_only_messages_have_no_html_links() {
    let (html, text) = parts(TEXT_ONLY);
    assert_eq!(html, "");
    let links: Vec<_> = message_links(&html, text.as_deref())
        .into_iter()
        .map(|l| (l.url, l.part.as_str()))
        .collect();
    // Markup in a text part is just text: the URL in it is a text link.
    assert_eq!(
        links,
        [
            ("https://x.test/not-html".to_string(), "text"),
            ("https://x.test/t".to_string(), "text"),
        ]
    );
    let codes = message_codes(&html, text.as_deref());
    assert_eq!(codes[0].code, "555555");
}

#[test]
fn a_text_part_without_codes_falls_back_to_the_html() {
    let raw = ALTERNATIVE.replace("Your code: 111111", "View this message in an HTML client.");
    let (html, text) = parts(&raw);
    let codes = message_codes(&html, text.as_deref());
    assert_eq!(codes[0].code, "222222");
    assert_eq!(codes[0].context, "Your code: 222222");
}

#[test]
fn empty_and_unparseable_messages() {
    for raw in ["", "\r\n", "Subject: nothing\r\n\r\n", "\u{0}\u{1}garbage"] {
        let (html, text) = parts(raw);
        assert!(message_links(&html, text.as_deref()).is_empty(), "{raw:?}");
        assert!(message_codes(&html, text.as_deref()).is_empty(), "{raw:?}");
    }
}

/// What holds for every fixture, whatever it holds (the exact answers are
/// checked over HTTP by `tests/suite/api_extract.rs`).
#[test]
fn fixtures_keep_the_invariants() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let raw = std::fs::read_to_string(&path).expect("fixture");
        let (html, text) = parts(&raw);
        let name = path.display();
        let links = message_links(&html, text.as_deref());
        let mut urls: Vec<_> = links.iter().map(|l| l.url.as_str()).collect();
        urls.sort_unstable();
        urls.dedup();
        assert_eq!(urls.len(), links.len(), "{name}: each URL once");
        for link in &links {
            assert!(!link.url.is_empty() && !link.url.starts_with('#'), "{name}");
            assert!(
                !link.url.to_ascii_lowercase().starts_with("javascript:"),
                "{name}"
            );
            assert!(!link.url.contains("&amp;"), "{name}: {}", link.url);
            assert_eq!(link.url.trim(), link.url, "{name}");
        }
        for code in message_codes(&html, text.as_deref()) {
            let spaced = code.context.replace([' ', '-'], "");
            assert!(spaced.contains(&code.code), "{name}: {code:?}");
        }
        seen += 1;
    }
    assert!(seen >= 10, "{seen} fixtures");
}
