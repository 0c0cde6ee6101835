//! A small, forgiving HTML scanner: enough of the HTML tokenizer to find tags,
//! their attributes and the text between them the way a browser would, without
//! building a tree.
//!
//! What it gets right, because mail depends on it: a `>` inside a quoted
//! attribute value does not end the tag; comments (including Outlook's
//! `<!--[if mso]>` blocks) and `<!DOCTYPE>`/`<?xml?>` are skipped; the
//! contents of `script`, `style`, `title`, `textarea` and the other raw-text
//! elements are never read as markup; a `<` that cannot start a tag is text;
//! a tag cut off by the end of the input is dropped.

use std::borrow::Cow;

use super::entities;

/// One piece of an HTML document.
#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// Text between tags, character references not yet decoded.
    Text(&'a str),
    /// The content of a raw-text element (`script`, `style`, `title`, ...),
    /// which holds no markup.
    Raw {
        element: &'a str,
        content: &'a str,
    },
    Start(Tag<'a>),
    /// An end tag's name as written.
    End(&'a str),
}

/// A start tag: its name as written and the source of its attributes.
#[derive(Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    pub name: &'a str,
    attributes: &'a str,
}

impl<'a> Tag<'a> {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// An attribute's value with references decoded; the first one wins when
    /// the name repeats, as in browsers. An attribute without a value is `""`.
    pub fn attribute(&self, name: &str) -> Option<Cow<'a, str>> {
        Attributes::new(self.attributes)
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| entities::decode_attribute(value))
    }

    /// Every attribute as written, names as written and values decoded, in
    /// order (repeated names included).
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> + use<'a> {
        Attributes::new(self.attributes)
            .map(|(name, value)| (name, entities::decode_attribute(value)))
    }
}

/// Elements whose content is text, not markup.
const RAW_TEXT: [&str; 8] = [
    "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes",
];

/// The tokens of `html`, in document order.
pub fn tokens(html: &str) -> Tokens<'_> {
    Tokens {
        html,
        at: 0,
        raw: None,
    }
}

pub struct Tokens<'a> {
    html: &'a str,
    at: usize,
    /// The content of the raw-text element whose start tag came last.
    raw: Option<Token<'a>>,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if let Some(raw) = self.raw.take() {
            return Some(raw);
        }
        loop {
            let rest = &self.html[self.at..];
            if rest.is_empty() {
                return None;
            }
            let text_end = markup_start(rest);
            if text_end > 0 {
                self.at += text_end;
                return Some(Token::Text(&rest[..text_end]));
            }
            let (token, used) = markup_at(rest);
            self.at += used;
            let Some(token) = token else { continue };
            if let Token::Start(tag) = &token
                && let Some(element) = RAW_TEXT.iter().find(|e| tag.is(e))
            {
                let rest = &self.html[self.at..];
                let content = &rest[..raw_text_end(rest, element)];
                self.at += content.len();
                self.raw = Some(Token::Raw {
                    element: tag.name,
                    content,
                });
            }
            return Some(token);
        }
    }
}

/// Where the next `<` that starts markup is, or the end: text runs to there.
fn markup_start(input: &str) -> usize {
    let mut from = 0;
    while let Some(lt) = input[from..].find('<') {
        let at = from + lt;
        if starts_markup(&input[at + 1..]) {
            return at;
        }
        from = at + 1;
    }
    input.len()
}

/// Whether the text right after a `<` starts a tag, end tag, comment or
/// declaration (otherwise the `<` is just text).
fn starts_markup(after_lt: &str) -> bool {
    match after_lt.as_bytes().first() {
        Some(b) if b.is_ascii_alphabetic() => true,
        Some(b'!' | b'?' | b'/') => true,
        _ => false,
    }
}

/// Reads the markup at the start of `input` (which begins with `<`): the
/// token, if it is one worth reporting, and the bytes it used.
fn markup_at(input: &str) -> (Option<Token<'_>>, usize) {
    let after = &input[1..];
    if let Some(comment) = after.strip_prefix("!--") {
        // `<!-->` and `<!--->` are complete (empty) comments.
        for empty in [">", "->"] {
            if comment.starts_with(empty) {
                return (None, 4 + empty.len());
            }
        }
        return (None, 4 + comment_end(comment));
    }
    if after.starts_with('!') || after.starts_with('?') {
        return (None, 1 + to_gt(after));
    }
    if let Some(end_tag) = after.strip_prefix('/') {
        if !end_tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            // `</>` is ignored; `</3` and the like are bogus comments.
            return (None, 2 + to_gt(end_tag));
        }
        let name_len = tag_name_len(end_tag);
        let mut attributes = Attributes::new(&end_tag[name_len..]);
        for _ in attributes.by_ref() {}
        if !attributes.closed {
            return (None, input.len());
        }
        return (
            Some(Token::End(&end_tag[..name_len])),
            2 + name_len + attributes.at,
        );
    }
    let name_len = tag_name_len(after);
    let mut attributes = Attributes::new(&after[name_len..]);
    for _ in attributes.by_ref() {}
    if !attributes.closed {
        return (None, input.len());
    }
    let tag = Tag {
        name: &after[..name_len],
        attributes: &after[name_len..name_len + attributes.at],
    };
    (Some(Token::Start(tag)), 1 + name_len + attributes.at)
}

/// Bytes up to and including the `-->` (or `--!>`) that ends a comment, or
/// everything.
fn comment_end(comment: &str) -> usize {
    let mut from = 0;
    while let Some(at) = comment[from..].find("--") {
        let after = from + at + 2;
        if comment[after..].starts_with('>') {
            return after + 1;
        }
        if comment[after..].starts_with("!>") {
            return after + 2;
        }
        from = from + at + 1;
    }
    comment.len()
}

/// Bytes up to and including the next `>`, or everything.
fn to_gt(input: &str) -> usize {
    input.find('>').map_or(input.len(), |at| at + 1)
}

fn tag_name_len(input: &str) -> usize {
    input
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(input.len())
}

/// Where the content of a raw-text element ends: at `</element` followed by
/// whitespace, `/` or `>`, matched case-insensitively; else at the end.
fn raw_text_end(content: &str, element: &str) -> usize {
    let bytes = content.as_bytes();
    let mut from = 0;
    while let Some(at) = content[from..].find("</") {
        let at = from + at;
        let name_end = at + 2 + element.len();
        if bytes
            .get(at + 2..name_end)
            .is_some_and(|name| name.eq_ignore_ascii_case(element.as_bytes()))
            && matches!(
                bytes.get(name_end),
                None | Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
            )
        {
            return at;
        }
        from = at + 2;
    }
    content.len()
}

/// The attributes of a tag, read from just after its name up to the `>` that
/// closes it. Yields `(name, raw value)`; `at` ends just past that `>`, and
/// `closed` tells whether there was one.
struct Attributes<'a> {
    source: &'a str,
    at: usize,
    closed: bool,
}

impl<'a> Attributes<'a> {
    fn new(source: &'a str) -> Self {
        Attributes {
            source,
            at: 0,
            closed: false,
        }
    }

    fn skip_while(&mut self, keep: impl Fn(u8) -> bool) {
        let bytes = self.source.as_bytes();
        while self.at < bytes.len() && keep(bytes[self.at]) {
            self.at += 1;
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        if self.closed {
            return None;
        }
        let bytes = self.source.as_bytes();
        self.skip_while(|b| is_space(b) || b == b'/');
        match bytes.get(self.at) {
            None => return None,
            Some(b'>') => {
                self.at += 1;
                self.closed = true;
                return None;
            }
            _ => {}
        }
        // A name runs to whitespace, `/`, `>` or `=` (a leading `=` belongs
        // to the name).
        let name_start = self.at;
        self.at += 1;
        self.skip_while(|b| !is_space(b) && b != b'/' && b != b'>' && b != b'=');
        let name = &self.source[name_start..self.at];
        self.skip_while(is_space);
        if bytes.get(self.at) != Some(&b'=') {
            return Some((name, ""));
        }
        self.at += 1;
        self.skip_while(is_space);
        let value = match bytes.get(self.at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let value_start = self.at + 1;
                match self.source[value_start..].find(quote as char) {
                    Some(len) => {
                        self.at = value_start + len + 1;
                        &self.source[value_start..value_start + len]
                    }
                    None => {
                        self.at = self.source.len();
                        return None;
                    }
                }
            }
            _ => {
                let value_start = self.at;
                self.skip_while(|b| !is_space(b) && b != b'>');
                &self.source[value_start..self.at]
            }
        };
        Some((name, value))
    }
}

/// Elements set off by a blank line in the text rendering.
const PARAGRAPHS: [&str; 14] = [
    "blockquote",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
];

/// Elements that start a new line in the text rendering.
const BLOCKS: [&str; 38] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
];

/// Characters mail uses for spacing tricks (preheader padding, soft
/// hyphens) that carry no text.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// The text of an HTML document as a reader sees it: tags removed,
/// references decoded, runs of whitespace collapsed, a line per block
/// (paragraph, heading, table row, list item, `<br>`), table cells on one
/// row separated by a space, `<pre>` kept as written. Nothing from `<head>`,
/// `<script>`, `<style>` or comments.
pub fn to_text(html: &str) -> String {
    let mut out = TextBuilder::default();
    let mut in_head = false;
    let mut pre_depth = 0usize;
    for token in tokens(html) {
        match token {
            Token::Text(text) if !in_head => {
                out.push_text(&entities::decode_text(text), pre_depth > 0);
            }
            Token::Raw { element, content } if element.eq_ignore_ascii_case("textarea") => {
                out.push_text(&entities::decode_text(content), false);
            }
            Token::Start(tag) => {
                if tag.is("head") {
                    in_head = true;
                } else if tag.is("body") {
                    in_head = false;
                }
                if tag.is("pre") {
                    pre_depth += 1;
                }
                boundary(&mut out, tag.name);
            }
            Token::End(name) => {
                if name.eq_ignore_ascii_case("head") {
                    in_head = false;
                }
                if name.eq_ignore_ascii_case("pre") {
                    pre_depth = pre_depth.saturating_sub(1);
                }
                boundary(&mut out, name);
            }
            _ => {}
        }
    }
    out.finish()
}

/// Whether an element separates the words around it (`<div>`, `<td>`,
/// `<br>`), unlike inline ones (`<b>`, `<span>`).
pub fn separates_words(name: &str) -> bool {
    BLOCKS
        .iter()
        .chain(&PARAGRAPHS)
        .chain(&["td", "th"])
        .any(|b| name.eq_ignore_ascii_case(b))
}

fn boundary(out: &mut TextBuilder, name: &str) {
    if name.eq_ignore_ascii_case("br") {
        out.newline();
    } else if PARAGRAPHS.iter().any(|b| name.eq_ignore_ascii_case(b)) {
        out.paragraph_break();
    } else if BLOCKS.iter().any(|b| name.eq_ignore_ascii_case(b)) {
        out.line_break();
    } else if name.eq_ignore_ascii_case("td") || name.eq_ignore_ascii_case("th") {
        out.space();
    }
}

/// Builds text with collapsed whitespace and at most one blank line in a row.
#[derive(Default)]
struct TextBuilder {
    text: String,
    space: bool,
}

impl TextBuilder {
    fn push_text(&mut self, text: &str, preformatted: bool) {
        for c in text.chars() {
            if is_invisible(c) {
                continue;
            }
            if preformatted && c == '\n' {
                self.line_break();
            } else if c.is_whitespace() {
                self.space();
            } else {
                if self.space && !self.text.is_empty() && !self.text.ends_with('\n') {
                    self.text.push(' ');
                }
                self.space = false;
                self.text.push(c);
            }
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    /// Ends the line, as `<br>` does (two in a row leave a blank line).
    fn newline(&mut self) {
        self.space = false;
        if !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    /// Ends the line unless it is already ended.
    fn line_break(&mut self) {
        self.space = false;
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    /// Leaves a blank line.
    fn paragraph_break(&mut self) {
        self.line_break();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn finish(self) -> String {
        let mut text = String::with_capacity(self.text.len());
        let mut blank = false;
        for line in self.text.lines().map(str::trim) {
            if line.is_empty() {
                blank = !text.is_empty();
                continue;
            }
            if blank {
                text.push('\n');
                blank = false;
            }
            text.push_str(line);
            text.push('\n');
        }
        text.truncate(text.trim_end().len());
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(html: &str) -> Vec<String> {
        tokens(html)
            .filter_map(|t| match t {
                Token::Start(tag) => Some(tag.name.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    }

    fn texts(html: &str) -> Vec<&str> {
        tokens(html)
            .filter_map(|t| match t {
                Token::Text(text) => Some(text),
                _ => None,
            })
            .collect()
    }

    fn first_tag(html: &str) -> Tag<'_> {
        tokens(html)
            .find_map(|t| match t {
                Token::Start(tag) => Some(tag),
                _ => None,
            })
            .expect("a start tag")
    }

    #[test]
    fn tags_text_and_end_tags_in_order() {
        let all: Vec<_> = tokens("a<B class=x>b</b >c<br/>").collect();
        assert_eq!(all.len(), 6);
        assert_eq!(all[0], Token::Text("a"));
        assert!(matches!(&all[1], Token::Start(tag) if tag.name == "B" && tag.is("b")));
        assert_eq!(all[2], Token::Text("b"));
        assert_eq!(all[3], Token::End("b"));
        assert_eq!(all[4], Token::Text("c"));
        assert!(matches!(&all[5], Token::Start(tag) if tag.is("br")));
    }

    #[test]
    fn a_quoted_gt_does_not_end_the_tag() {
        let tag = first_tag(r#"<a title="a > b" href='/x?a=1>2'>link</a>"#);
        assert_eq!(tag.attribute("title").as_deref(), Some("a > b"));
        assert_eq!(tag.attribute("href").as_deref(), Some("/x?a=1>2"));
        assert_eq!(texts(r#"<a title="a > b">link</a>"#), ["link"]);
    }

    #[test]
    fn attribute_forms() {
        let tag = first_tag(
            "<a HREF=https://x.test/?a=1&amp;b=2 data-x = 'y' hidden title=\"one\" title=two/>",
        );
        assert_eq!(
            tag.attribute("href").as_deref(),
            Some("https://x.test/?a=1&b=2")
        );
        assert_eq!(tag.attribute("data-x").as_deref(), Some("y"));
        assert_eq!(tag.attribute("hidden").as_deref(), Some(""));
        assert_eq!(tag.attribute("title").as_deref(), Some("one"), "first wins");
        assert_eq!(tag.attribute("missing"), None);
        // Unquoted values end at whitespace or `>`, and may hold `/`.
        let tag = first_tag("<a href=/a/b/>x</a>");
        assert_eq!(tag.attribute("href").as_deref(), Some("/a/b/"));
        // Attributes run together without spaces after a quoted value.
        let tag = first_tag(r#"<a href="x"title="t">"#);
        assert_eq!(tag.attribute("title").as_deref(), Some("t"));
    }

    #[test]
    fn comments_and_declarations_are_skipped() {
        let html = "<!DOCTYPE html><?xml version=\"1.0\"?>a<!-- <a href=x> -->b\
<!--[if mso]><table><tr><td><![endif]-->c<!--[if !mso]><!-->d<!--<![endif]-->\
<!---->e<!-->f<!--->g<!-- x --!>h";
        assert_eq!(texts(html).concat(), "abcdefgh");
        assert_eq!(starts(html), Vec::<String>::new());
        // An unclosed comment runs to the end.
        assert_eq!(texts("a<!-- <b>never"), ["a"]);
    }

    #[test]
    fn a_lone_lt_is_text() {
        assert_eq!(
            texts("1 < 2 <3 <= 4 <\u{e9}").concat(),
            "1 < 2 <3 <= 4 <\u{e9}"
        );
        assert_eq!(starts("a <b>c"), ["b"]);
        // `</>` is dropped, `</3` is a bogus comment.
        assert_eq!(texts("a</>b</3 c>d").concat(), "abd");
    }

    #[test]
    fn raw_text_elements_hold_no_markup() {
        let html = "<style>a{color:#ff0000}</style ><SCRIPT>if (a<b) '<a href=x>'</script>\
<title>T <b></title>x<textarea><a href=y></TEXTAREA>";
        assert_eq!(starts(html), ["style", "script", "title", "textarea"]);
        let raw: Vec<_> = tokens(html)
            .filter_map(|t| match t {
                Token::Raw { content, .. } => Some(content),
                _ => None,
            })
            .collect();
        assert_eq!(
            raw,
            [
                "a{color:#ff0000}",
                "if (a<b) '<a href=x>'",
                "T <b>",
                "<a href=y>"
            ]
        );
        assert_eq!(texts(html), ["x"]);
        // `</styles>` does not close `<style>`; an unclosed one runs to the end.
        assert_eq!(texts("<style></styles>a</style>b"), ["b"]);
        assert_eq!(texts("<script>a"), Vec::<&str>::new());
    }

    #[test]
    fn cut_off_tags_are_dropped() {
        assert_eq!(texts("a<a href=\"x"), ["a"]);
        assert_eq!(starts("a<a href=x"), Vec::<String>::new());
        assert_eq!(texts("a</a"), ["a"]);
        assert!(tokens("<").next().is_some());
        for html in [
            "<a", "<a ", "<a b", "<a b=", "<a b='", "</", "<!", "<!-", "<!--", "<?",
        ] {
            let _ = tokens(html).count();
        }
    }

    #[test]
    fn multibyte_text_and_attributes() {
        let tag = first_tag("<a \u{e9}t\u{e9}=\u{fc}ber href=\"/caf\u{e9}\">");
        assert_eq!(tag.attribute("\u{e9}t\u{e9}").as_deref(), Some("\u{fc}ber"));
        assert_eq!(tag.attribute("href").as_deref(), Some("/caf\u{e9}"));
        assert_eq!(
            texts("\u{65e5}\u{672c}<b>\u{8a9e}</b>"),
            ["\u{65e5}\u{672c}", "\u{8a9e}"]
        );
    }

    #[test]
    fn text_rendering_breaks_blocks_and_collapses_space() {
        let html = "<html><head><title>Subject</title><style>.x{color:#123456}</style></head>\
<body><div>Hello   <b>Bob</b>,</div><p>Your&nbsp;code:<br>482913</p>\
<table><tr><td>Code</td><td>  6610  </td></tr><tr><td>Valid</td><td>10 min</td></tr></table>\
<ul><li>one</li><li>two</li></ul><pre>  keep\n   this</pre>\
<span>a</span><span>b</span>&zwnj;&nbsp;&#8204;<script>x</script>end</body></html>";
        assert_eq!(
            to_text(html),
            "Hello Bob,\n\nYour code:\n482913\n\nCode 6610\nValid 10 min\n\none\ntwo\n\nkeep\nthis\n\nab end"
        );
    }

    #[test]
    fn text_rendering_of_plain_fragments() {
        assert_eq!(to_text(""), "");
        assert_eq!(to_text("just text &amp; more"), "just text & more");
        assert_eq!(to_text("a<br><br>b"), "a\n\nb");
        assert_eq!(to_text("a<br><br><br><br>b"), "a\n\nb");
        assert_eq!(to_text("<p></p><p>x</p><p></p>"), "x");
        assert_eq!(to_text("<textarea>a &lt; b</textarea>"), "a < b");
        assert_eq!(to_text("soft\u{ad}hyphen"), "softhyphen");
    }

    #[test]
    fn word_separating_elements() {
        for name in ["div", "TD", "br", "p", "li", "h2"] {
            assert!(separates_words(name), "{name}");
        }
        for name in ["b", "span", "a", "img", "font"] {
            assert!(!separates_words(name), "{name}");
        }
    }
}
