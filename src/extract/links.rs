//! The links of a message, the ones a test would click: every `<a href>` and
//! `<area href>` of the HTML body, then every URL written out in the text
//! body.
//!
//! - HTML: the `href` with character references decoded (`&amp;` becomes
//!   `&`), surrounding whitespace trimmed and tabs and line breaks inside
//!   removed, as browsers do. Skipped: empty links, `#fragment` links and the
//!   `javascript:`, `vbscript:` and `data:` schemes; everything else (`http`,
//!   `https`, `mailto:`, `tel:`, relative links) is kept as written. The text
//!   is the link's visible text with whitespace collapsed, else the `alt` of
//!   an image inside it, else its `title`; for `<area>`, its `alt` or `title`.
//! - Text: `http://`, `https://` and `mailto:` URLs, ending at whitespace,
//!   `<`, `>`, `"` or an unmatched `)`, `]` or `}`, and trimmed of trailing
//!   punctuation (`.`, `,`, `;`, `:`, `!`, `?`, `'`, `*` and their full-width
//!   forms), so `(see https://x.test/a).` gives `https://x.test/a` while
//!   `https://x.test/wiki/A_(b)` keeps its parentheses. The text is what
//!   leads up to the URL on its line (after any earlier link on that line),
//!   without a trailing `:` or opening bracket, or a Markdown `[label](url)`'s
//!   label; for a URL that starts its line, the nearest non-empty line above
//!   it, if that line holds no URL.
//! - Document order, HTML first; each URL once (the first occurrence wins,
//!   taking a later occurrence's text if its own was empty).

use std::collections::HashMap;

use super::html::{self, Token};
use super::{entities, floor_char_boundary, truncate_end, truncate_start};

/// Which body a link was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// An `<a href>` or `<area href>` of the HTML body.
    Html,
    /// A URL written out in the text part.
    Text,
}

impl Part {
    /// `"html"` or `"text"`, as the links endpoint reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Html => "html",
            Part::Text => "text",
        }
    }
}

/// One link found in a message's HTML or text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The URL as written, trimmed (and, in HTML, with character
    /// references decoded).
    pub url: String,
    /// What a reader sees for it: the link text in HTML, the lead-in on its
    /// line in text; shortened when long, possibly empty.
    pub text: String,
    /// Which body it was found in.
    pub part: Part,
}

/// The longest link text kept, in characters: a longer HTML link text keeps
/// its start, a longer text lead-in its end.
const MAX_TEXT: usize = 200;

/// The links of a message: those of `html` (may be empty), then those of
/// `text` (`None` when the message has no text part of its own).
pub fn links(html: &str, text: Option<&str>) -> Vec<Link> {
    let mut found = html_links(html);
    if let Some(text) = text {
        found.extend(text_links(text));
    }
    dedup(found)
}

fn dedup(found: Vec<Link>) -> Vec<Link> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut links: Vec<Link> = Vec::new();
    for link in found {
        match index.get(&link.url) {
            Some(&at) => {
                if links[at].text.is_empty() {
                    links[at].text = link.text;
                }
            }
            None => {
                index.insert(link.url.clone(), links.len());
                links.push(link);
            }
        }
    }
    links
}

/// A link being read: its URL (`None` for an `<a>` that is not a link worth
/// reporting, which still has to be closed) and what it shows.
struct Open {
    url: Option<String>,
    text: String,
    alt: String,
    title: String,
}

/// The `<a href>` and `<area href>` links of an HTML document.
pub fn html_links(html: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut open: Option<Open> = None;
    let close = |open: Option<Open>, links: &mut Vec<Link>| {
        let Some(Open {
            url: Some(url),
            text,
            alt,
            title,
        }) = open
        else {
            return;
        };
        let text = [text, alt, title]
            .into_iter()
            .map(|t| collapse(&t))
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        links.push(Link {
            url,
            text: truncate_end(&text, MAX_TEXT),
            part: Part::Html,
        });
    };
    for token in html::tokens(html) {
        match token {
            Token::Start(tag) if tag.is("a") => {
                // An `<a>` inside an open `<a>` closes it, as in browsers.
                close(open.take(), &mut links);
                open = Some(Open {
                    url: tag.attribute("href").and_then(|href| clean_href(&href)),
                    text: String::new(),
                    alt: String::new(),
                    title: tag.attribute("title").unwrap_or_default().into_owned(),
                });
            }
            Token::End(name) if name.eq_ignore_ascii_case("a") => {
                close(open.take(), &mut links);
            }
            Token::Start(tag) if tag.is("area") => {
                if let Some(url) = tag.attribute("href").and_then(|href| clean_href(&href)) {
                    let text = [tag.attribute("alt"), tag.attribute("title")]
                        .into_iter()
                        .flatten()
                        .map(|t| collapse(&t))
                        .find(|t| !t.is_empty())
                        .unwrap_or_default();
                    links.push(Link {
                        url,
                        text: truncate_end(&text, MAX_TEXT),
                        part: Part::Html,
                    });
                }
            }
            Token::Start(tag) => {
                if let Some(open) = open.as_mut() {
                    if tag.is("img")
                        && let Some(alt) = tag.attribute("alt")
                    {
                        open.alt.push(' ');
                        open.alt.push_str(&alt);
                    }
                    // `<a><div>Sign</div><div>in</div></a>` reads "Sign in",
                    // `<a><b>Sign</b>in</a>` "Signin".
                    if html::separates_words(tag.name) {
                        open.text.push(' ');
                    }
                }
            }
            Token::End(name) => {
                if let Some(open) = open.as_mut()
                    && html::separates_words(name)
                {
                    open.text.push(' ');
                }
            }
            Token::Text(text) => {
                if let Some(open) = open.as_mut()
                    && open.text.len() < MAX_TEXT * 8
                {
                    open.text.push_str(&entities::decode_text(text));
                }
            }
            Token::Raw { .. } => {}
        }
    }
    close(open, &mut links);
    links
}

/// Collapses whitespace (including no-break spaces) and drops invisible
/// characters.
fn collapse(text: &str) -> String {
    let visible: String = text.chars().filter(|c| !html::is_invisible(*c)).collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An `href` as a browser would follow it, or `None` when it is not a link
/// to report.
fn clean_href(href: &str) -> Option<String> {
    let url: String = href
        .trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control())
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    if url.is_empty() || url.starts_with('#') {
        return None;
    }
    let scheme = scheme(&url).map(str::to_ascii_lowercase);
    if matches!(scheme.as_deref(), Some("javascript" | "vbscript" | "data")) {
        return None;
    }
    Some(url)
}

/// The scheme of a URL (`letter (letter | digit | + | - | .)* :`), if any.
fn scheme(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// Where each URL of a text starts and ends, in order.
pub(super) fn url_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        // The prefixes are ASCII, so where one matches `at` is a char boundary.
        let prefix = ["https://", "http://", "mailto:"].into_iter().find(|p| {
            bytes
                .get(at..at + p.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
                && !text[..at].ends_with(|c: char| c.is_alphanumeric())
        });
        let Some(prefix) = prefix else {
            at += 1;
            continue;
        };
        // Trimming may eat into the prefix (`mailto:` alone).
        let end = at + url_len(&text[at..]);
        let body = text.get(at + prefix.len()..end).unwrap_or_default();
        let valid = if prefix == "mailto:" {
            body.chars().any(char::is_alphanumeric)
        } else {
            body.starts_with(|c: char| c.is_alphanumeric() || c == '[')
        };
        if valid {
            spans.push((at, end));
            at = end;
        } else {
            at += prefix.len();
        }
    }
    spans
}

/// The length of the URL at the start of `text`.
fn url_len(text: &str) -> usize {
    let mut depth = [0usize; 3];
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        let stop = match c {
            '(' | '[' | '{' => {
                depth[bracket(c)] += 1;
                false
            }
            ')' | ']' | '}' => {
                let d = &mut depth[bracket(c)];
                if *d == 0 {
                    true
                } else {
                    *d -= 1;
                    false
                }
            }
            '<' | '>' | '"' => true,
            c => c.is_whitespace() || c.is_control(),
        };
        if stop {
            end = i;
            break;
        }
    }
    let url = &text[..end];
    let trimmed = url.trim_end_matches([
        '.', ',', ';', ':', '!', '?', '\'', '*', '。', '，', '、', '；', '：', '！', '？', '…',
    ]);
    trimmed.len()
}

fn bracket(c: char) -> usize {
    match c {
        '(' | ')' => 0,
        '[' | ']' => 1,
        _ => 2,
    }
}

/// The URLs written out in a text body.
pub fn text_links(text: &str) -> Vec<Link> {
    let spans = url_spans(text);
    let mut links = Vec::with_capacity(spans.len());
    let (mut previous_end, mut line_start) = (0, 0);
    for &(start, end) in &spans {
        // Each stretch of text is searched for line ends once.
        if let Some(n) = text[previous_end..start].rfind('\n') {
            line_start = previous_end + n + 1;
        }
        let lead_start = line_start.max(previous_end);
        let markdown_from = floor_char_boundary(text, start.saturating_sub(4 * MAX_TEXT));
        let mut label = markdown_label(&text[line_start.max(markdown_from)..start])
            .unwrap_or_else(|| lead_in(&text[lead_start..start]));
        if label.is_empty()
            && previous_end <= line_start
            && text[line_start..start].trim().is_empty()
        {
            label = line_above(text, line_start, &spans);
        }
        links.push(Link {
            url: text[start..end].to_string(),
            text: truncate_start(&label, MAX_TEXT),
            part: Part::Text,
        });
        previous_end = end;
    }
    links
}

fn is_closing(c: char) -> bool {
    matches!(c, ')' | ']' | '>' | '}' | '.' | ',' | ';' | ':')
}

/// The label of a Markdown link `[label](` that `before` ends with.
fn markdown_label(before: &str) -> Option<String> {
    let label = before.strip_suffix("](")?;
    let open = label.rfind('[')?;
    Some(collapse(&label[open + 1..]))
}

/// The words that lead up to a URL: the text before it without a trailing
/// `:`, dash or opening bracket.
fn lead_in(before: &str) -> String {
    let lead = before
        .trim_start_matches(|c: char| is_closing(c) || c.is_whitespace())
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '-' | '–' | '—' | '(' | '[' | '<' | '{' | '=')
        });
    collapse(lead)
}

/// The nearest non-empty line above `line_start`, unless it holds a URL.
fn line_above(text: &str, line_start: usize, spans: &[(usize, usize)]) -> String {
    let mut end = line_start.saturating_sub(1);
    loop {
        let start = text[..end].rfind('\n').map_or(0, |n| n + 1);
        let line = &text[start..end];
        if !line.trim().is_empty() {
            // The first URL that ends after the line starts, if it starts
            // before the line ends.
            let first = spans.partition_point(|&(_, e)| e <= start);
            if spans.get(first).is_some_and(|&(s, _)| s < end) {
                return String::new();
            }
            return lead_in(line);
        }
        if start == 0 {
            return String::new();
        }
        end = start - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_pairs(html: &str) -> Vec<(String, String)> {
        html_links(html)
            .into_iter()
            .map(|l| (l.url, l.text))
            .collect()
    }

    fn text_urls(text: &str) -> Vec<String> {
        text_links(text).into_iter().map(|l| l.url).collect()
    }

    fn pair(url: &str, text: &str) -> (String, String) {
        (url.to_string(), text.to_string())
    }

    #[test]
    fn anchors_and_areas_in_document_order() {
        let html = r#"<p>Hi <a href="https://x.test/confirm?u=1&amp;t=a%20b">Confirm
            <b>your</b>   email</a></p>
            <map><area shape=rect href="https://x.test/map" alt="Map &amp; more"></map>
            <A HREF='mailto:help@x.test?subject=Hi%20there'>Write to us</A>
            <a href="tel:+15550100">Call</a><a href="/relative">Relative</a>"#;
        assert_eq!(
            html_pairs(html),
            [
                pair("https://x.test/confirm?u=1&t=a%20b", "Confirm your email"),
                pair("https://x.test/map", "Map & more"),
                pair("mailto:help@x.test?subject=Hi%20there", "Write to us"),
                pair("tel:+15550100", "Call"),
                pair("/relative", "Relative"),
            ]
        );
        assert!(html_links(html).iter().all(|l| l.part == Part::Html));
    }

    #[test]
    fn non_links_are_skipped() {
        let html = r##"<a href="">empty</a><a href="  ">blank</a><a href="#top">top</a>
            <a name="anchor">no href</a><a href="javascript:alert(1)">js</a>
            <a href=" JavaScript:void(0)">js2</a><a href="vbscript:x">vb</a>
            <a href="data:text/html,x">data</a><area alt="no href">
            <a href="https://x.test/ok">ok</a>"##;
        assert_eq!(html_pairs(html), [pair("https://x.test/ok", "ok")]);
    }

    #[test]
    fn hrefs_are_cleaned_like_browsers_do() {
        let html = "<a href=\" \n https://x.test/a\n/b?c=1&amp;d=2&copy=3\t \">x</a>\
<a href='https&#58;//x.test/&#x63;'>y</a><a href=https://x.test/q?a=1&lt=2>z</a>";
        assert_eq!(
            html_pairs(html),
            [
                pair("https://x.test/a/b?c=1&d=2&copy=3", "x"),
                pair("https://x.test/c", "y"),
                pair("https://x.test/q?a=1&lt=2", "z"),
            ]
        );
    }

    #[test]
    fn link_text_falls_back_to_alt_then_title() {
        let html = r#"<a href="https://x.test/1"><img src="logo.png" alt="Acme &amp; Co"></a>
            <a href="https://x.test/2" title="Profile"><img src="p.png"></a>
            <a href="https://x.test/3"><img src="i.png" alt="">  </a>
            <a href="https://x.test/4"><div>Sign</div><div>in</div></a>
            <a href="https://x.test/5"><b>Sign</b>up&nbsp;now&zwnj;</a>"#;
        assert_eq!(
            html_pairs(html),
            [
                pair("https://x.test/1", "Acme & Co"),
                pair("https://x.test/2", "Profile"),
                pair("https://x.test/3", ""),
                pair("https://x.test/4", "Sign in"),
                pair("https://x.test/5", "Signup now"),
            ]
        );
    }

    #[test]
    fn unclosed_and_nested_anchors() {
        let html = r#"<a href="https://x.test/1">one <a href="https://x.test/2">two</a> after
            <a href="https://x.test/3">three"#;
        assert_eq!(
            html_pairs(html),
            [
                pair("https://x.test/1", "one"),
                pair("https://x.test/2", "two"),
                pair("https://x.test/3", "three"),
            ]
        );
    }

    #[test]
    fn links_in_comments_scripts_and_styles_are_not_links() {
        let html = r#"<!-- <a href="https://x.test/hidden">x</a> -->
            <script>document.write('<a href="https://x.test/js">')</script>
            <style>a[href="https://x.test/css"]{}</style>
            <!--[if mso]><a href="https://x.test/mso">mso</a><![endif]-->
            <a href="https://x.test/real">real</a>"#;
        assert_eq!(html_pairs(html), [pair("https://x.test/real", "real")]);
    }

    #[test]
    fn long_link_text_is_cut() {
        let long = "word ".repeat(100);
        let links = html_links(&format!("<a href=https://x.test>{long}</a>"));
        let text = &links[0].text;
        assert!(text.chars().count() <= MAX_TEXT + 1, "{text}");
        assert!(
            text.starts_with("word word") && text.ends_with("word…"),
            "{text}"
        );
    }

    #[test]
    fn text_urls_end_where_people_expect() {
        let cases = [
            ("Visit https://x.test/a.", "https://x.test/a"),
            ("Visit https://x.test/a, then", "https://x.test/a"),
            ("(see https://x.test/a)", "https://x.test/a"),
            ("(see https://x.test/a).", "https://x.test/a"),
            ("<https://x.test/a>", "https://x.test/a"),
            (
                "Confirm <https://x.test/a?b=1&c=2>.",
                "https://x.test/a?b=1&c=2",
            ),
            ("[https://x.test/a]", "https://x.test/a"),
            (
                "https://en.wikipedia.test/wiki/A_(b)",
                "https://en.wikipedia.test/wiki/A_(b)",
            ),
            (
                "(https://en.wikipedia.test/wiki/A_(b))",
                "https://en.wikipedia.test/wiki/A_(b)",
            ),
            ("\"https://x.test/q\"", "https://x.test/q"),
            ("'https://x.test/q'", "https://x.test/q"),
            ("https://x.test/a?!", "https://x.test/a"),
            ("*https://x.test/a*", "https://x.test/a"),
            ("Go: https://x.test/a;", "https://x.test/a"),
            ("HTTPS://X.TEST/UP", "HTTPS://X.TEST/UP"),
            ("http://127.0.0.1:8025/view", "http://127.0.0.1:8025/view"),
            ("http://[::1]:8025/x", "http://[::1]:8025/x"),
            ("https://x.test/ü/ß?q=é。", "https://x.test/ü/ß?q=é"),
            ("https://x.test/a#frag", "https://x.test/a#frag"),
            ("https://x.test/a\u{a0}b", "https://x.test/a"),
            ("mailto:help@x.test.", "mailto:help@x.test"),
            (
                "Mailto:help@x.test?subject=Hi",
                "Mailto:help@x.test?subject=Hi",
            ),
        ];
        for (text, url) in cases {
            assert_eq!(text_urls(text), [url], "{text}");
        }
    }

    #[test]
    fn things_that_are_not_text_urls() {
        for text in [
            "https://",
            "https:// x",
            "mailto:",
            "mailto:.",
            "xhttps://x.test",
            "ftp://x.test",
            "www.x.test",
            "help@x.test",
            "http:/x.test",
            "https://.",
        ] {
            assert_eq!(text_urls(text), Vec::<String>::new(), "{text}");
        }
        assert_eq!(text_urls("a https:// b https://x.test"), ["https://x.test"]);
    }

    #[test]
    fn markdown_links_give_both_urls_and_the_label() {
        let links =
            text_links("[Confirm](https://x.test/c) or [https://x.test/d](https://x.test/e)");
        let pairs: Vec<_> = links.into_iter().map(|l| (l.url, l.text)).collect();
        assert_eq!(
            pairs,
            [
                pair("https://x.test/c", "Confirm"),
                pair("https://x.test/d", "or"),
                pair("https://x.test/e", "https://x.test/d"),
            ]
        );
    }

    #[test]
    fn text_link_labels_come_from_the_line_or_the_line_above() {
        let text = "Hi Bob,\n\nConfirm your account:\n\n  https://x.test/confirm\n\n\
Questions? Write to mailto:help@x.test or see https://x.test/faq.\n\
https://x.test/alone\n\nView online (https://x.test/web)\nPrivacy:\nhttps://x.test/p and more\n";
        let pairs: Vec<_> = text_links(text)
            .into_iter()
            .map(|l| (l.url, l.text))
            .collect();
        assert_eq!(
            pairs,
            [
                pair("https://x.test/confirm", "Confirm your account"),
                pair("mailto:help@x.test", "Questions? Write to"),
                pair("https://x.test/faq", "or see"),
                pair("https://x.test/alone", ""),
                pair("https://x.test/web", "View online"),
                pair("https://x.test/p", "Privacy"),
            ]
        );
        assert!(text_links(text).iter().all(|l| l.part == Part::Text));
        // CRLF line ends.
        let pairs: Vec<_> = text_links("Reset it:\r\nhttps://x.test/r\r\n")
            .into_iter()
            .map(|l| (l.url, l.text))
            .collect();
        assert_eq!(pairs, [pair("https://x.test/r", "Reset it")]);
    }

    #[test]
    fn many_links_stay_cheap() {
        let line: String = (0..20_000)
            .map(|n| format!("see https://x.test/{n} "))
            .collect();
        let found = text_links(&line);
        assert_eq!(found.len(), 20_000);
        assert_eq!(found[1].text, "see");
        let lines: String = (0..20_000)
            .map(|n| format!("https://x.test/{n}\n\n"))
            .collect();
        let found = text_links(&format!("Start here:\n{lines}"));
        assert_eq!(found[0].text, "Start here");
        assert_eq!(found[1].text, "");
        let markdown: String = (0..20_000)
            .map(|n| format!("[{n}](https://x.test/{n}) "))
            .collect();
        assert_eq!(text_links(&markdown)[19_999].text, "19999");
        let html: String = (0..20_000)
            .map(|n| format!("<!-- c --><a href=\"https://x.test/{n}\">{n}</a>"))
            .collect();
        assert_eq!(links(&html, None).len(), 20_000);
    }

    #[test]
    fn html_first_then_text_each_url_once() {
        let html = r#"<a href="https://x.test/logo"><img src=x></a>
            <a href="https://x.test/a">A</a><a href="https://x.test/logo">Home</a>
            <a href="https://x.test/a">A again</a>"#;
        let text = "A: https://x.test/a\nB: https://x.test/b\nA again https://x.test/a";
        let all = links(html, Some(text));
        let seen: Vec<_> = all
            .iter()
            .map(|l| (l.url.as_str(), l.text.as_str(), l.part.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("https://x.test/logo", "Home", "html"),
                ("https://x.test/a", "A", "html"),
                ("https://x.test/b", "B", "text"),
            ]
        );
        // URLs differing only in case or a trailing slash are different URLs.
        let all = links(
            "<a href=https://x.test/a>1</a><a href=https://x.test/A>2</a><a href=https://x.test/a/>3</a>",
            None,
        );
        assert_eq!(all.len(), 3);
        assert!(links("", None).is_empty());
        assert_eq!(links("", Some("https://x.test")).len(), 1);
    }
}
