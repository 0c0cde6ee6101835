//! What an HTML body uses, as caniemail feature slugs with how often each
//! occurs, read with the shared HTML scanner and the CSS scanner.
//!
//! Counting follows Mailpit's: an HTML feature counts the elements that use
//! it; a CSS property counts the elements whose `style` uses it plus the
//! style-sheet rules that set it (Mailpit inlines the sheet first, which
//! needs a selector engine; counting each rule once is the bounded
//! equivalent); units, at-rules, pseudo-classes and combinators count each
//! occurrence.

use std::collections::{BTreeMap, BTreeSet};

use super::css::{self, Rule};
use super::data::Data;
use crate::extract::html::{self, Tag, Token};

/// Only this much of an HTML body is read (a larger one is checked on its
/// first part).
pub const MAX_HTML_BYTES: usize = 4 * 1024 * 1024;
/// At most this many elements are read.
pub const MAX_ELEMENTS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Findings {
    /// Slug to the number of times it was found.
    pub found: BTreeMap<String, usize>,
    /// `<script>` elements other than JSON data blocks.
    pub scripts: usize,
    /// The number of elements, counted as Mailpit does: every element but
    /// `html`, `head` and `meta` when the HTML has a `</body>`, else those
    /// of the body (plus scripts).
    pub nodes: usize,
}

/// Elements that are features of their own.
const ELEMENTS: &[(&str, &str)] = &[
    ("object", "html-object"),
    ("embed", "html-object"),
    ("image", "html-object"),
    ("link", "html-link"),
    ("hr", "html-hr"),
    ("dialog", "html-dialog"),
    ("picture", "html-picture"),
    ("svg", "html-svg"),
    ("progress", "html-progress"),
    ("meter", "html-meter"),
    ("audio", "html-audio"),
    ("video", "html-video"),
    ("form", "html-form"),
    ("base", "html-base"),
    ("select", "html-select"),
    ("textarea", "html-textarea"),
    ("style", "html-style"),
    ("map", "html-image-maps"),
    ("marquee", "html-marquee"),
];

/// HTML5 sectioning and text-level semantics elements.
const SEMANTICS: &[&str] = &[
    "article",
    "aside",
    "details",
    "figcaption",
    "figure",
    "footer",
    "header",
    "main",
    "mark",
    "nav",
    "section",
    "summary",
    "time",
];

/// Image formats by the extension of an `<img src>`.
const IMAGE_EXTENSIONS: &[(&str, &str)] = &[
    ("apng", "image-apng"),
    ("avif", "image-avif"),
    ("bmp", "image-bmp"),
    ("gif", "image-gif"),
    ("hdr", "image-hdr"),
    ("heif", "image-heif"),
    ("ico", "image-ico"),
    ("mp4", "image-mp4"),
    ("ppm", "image-ppm"),
    ("svg", "image-svg"),
    ("tif", "image-tiff"),
    ("tiff", "image-tiff"),
    ("webp", "image-webp"),
];

/// Presentational attributes that set what a CSS property would.
const STYLE_ATTRIBUTES: &[(&str, &str)] = &[
    ("bgcolor", "css-background-color"),
    ("background", "css-background"),
    ("border", "css-border"),
    ("height", "css-height"),
    ("padding", "css-padding"),
    ("width", "css-width"),
];

/// The slugs (besides CSS ones) this module can report.
pub fn html_slugs() -> impl Iterator<Item = &'static str> {
    ELEMENTS
        .iter()
        .chain(IMAGE_EXTENSIONS)
        .map(|(_, slug)| *slug)
        .chain([
            "html-body",
            "html-semantics",
            "html-srcset",
            "html-required",
            "html-anchor-links",
            "html-input-submit",
            "html-input-checkbox",
            "html-input-radio",
            "html-input-text",
            "html-input-reset",
            "html-input-hidden",
            "html-button-submit",
            "html-button-reset",
            "image-base64",
        ])
}

pub fn scan(html: &str, data: &Data) -> Findings {
    let html = &html[..html.floor_char_boundary(MAX_HTML_BYTES)];
    let mut scan = Scan {
        data,
        findings: Findings::default(),
        nodes: NodeCount::default(),
    };
    for token in html::tokens(html) {
        match token {
            Token::Start(tag) => {
                if scan.nodes.elements >= MAX_ELEMENTS {
                    break;
                }
                scan.element(&tag);
            }
            Token::Raw { element, content } if element.eq_ignore_ascii_case("style") => {
                scan.style_sheet(content)
            }
            Token::End(name) => scan.nodes.end(name),
            _ => {}
        }
    }
    let mut findings = scan.findings;
    findings.nodes = scan.nodes.total();
    if scan.nodes.body_closed {
        findings.found.insert("html-body".into(), 1);
    }
    findings
}

struct Scan<'d> {
    data: &'d Data,
    findings: Findings,
    nodes: NodeCount,
}

impl Scan<'_> {
    fn add(&mut self, slug: &str, count: usize) {
        if count > 0 && self.data.has(slug) {
            *self.findings.found.entry(slug.to_string()).or_default() += count;
        }
    }

    fn element(&mut self, tag: &Tag<'_>) {
        let name = tag.name.to_ascii_lowercase();
        self.nodes.start(&name);
        if let Some((_, slug)) = ELEMENTS.iter().find(|(e, _)| *e == name) {
            self.add(slug, 1);
        }
        if SEMANTICS.contains(&name.as_str()) {
            self.add("html-semantics", 1);
        }
        // The CSS features this element uses, each counted once for it.
        let mut css = BTreeSet::new();
        let mut kind = String::new();
        for (attribute, value) in tag.attributes() {
            let attribute = attribute.to_ascii_lowercase();
            match attribute.as_str() {
                "srcset" => self.add("html-srcset", 1),
                "required" => self.add("html-required", 1),
                "usemap" if name == "img" => self.add("html-image-maps", 1),
                "href" if name == "a" && value.starts_with('#') => {
                    self.add("html-anchor-links", 1);
                }
                "src" if name == "img" => self.image(&value),
                "type" => kind = value.trim().to_ascii_lowercase(),
                "style" => {
                    let style = css::without_comments(&value);
                    for declaration in css::declarations(&style) {
                        self.declaration(&declaration, &mut css);
                    }
                }
                _ => {}
            }
            if let Some((_, slug)) = STYLE_ATTRIBUTES.iter().find(|(a, _)| *a == attribute) {
                css.insert(slug.to_string());
            }
        }
        self.input(&name, &kind);
        for slug in css {
            self.add(&slug, 1);
        }
    }

    fn input(&mut self, name: &str, kind: &str) {
        if name == "script" {
            if kind != "application/ld+json" && kind != "application/json" {
                self.findings.scripts += 1;
            }
            return;
        }
        if kind == "hidden" {
            self.add("html-input-hidden", 1);
        }
        let slug = match (name, kind) {
            ("input", "submit") => "html-input-submit",
            ("input", "checkbox") => "html-input-checkbox",
            ("input", "radio") => "html-input-radio",
            ("input", "text") => "html-input-text",
            ("input", "reset") => "html-input-reset",
            ("button", "submit") => "html-button-submit",
            ("button", "reset") => "html-button-reset",
            _ => return,
        };
        self.add(slug, 1);
    }

    fn image(&mut self, src: &str) {
        let src = src.trim();
        if src.len() > 11 && src[..11].eq_ignore_ascii_case("data:image/") {
            self.add("image-base64", 1);
            return;
        }
        let path = src.split(['?', '#']).next().unwrap_or_default();
        let Some((_, extension)) = path.rsplit_once('.') else {
            return;
        };
        let extension = extension.to_ascii_lowercase();
        if let Some((_, slug)) = IMAGE_EXTENSIONS.iter().find(|(e, _)| *e == extension) {
            self.add(slug, 1);
        }
    }

    /// One declaration: its property and value features go into `css` (one
    /// per element or rule); units count every occurrence.
    fn declaration(&mut self, declaration: &css::Declaration<'_>, css: &mut BTreeSet<String>) {
        let data = self.data;
        css.extend(property_slugs(&declaration.name).filter(|s| data.has(s)));
        css.extend(value_slugs(&declaration.name, declaration.value));
        if declaration.important {
            css.insert("css-important".into());
        }
        for (unit, count) in units(declaration.value) {
            self.add(&format!("css-unit-{unit}"), count);
        }
    }

    fn style_sheet(&mut self, sheet: &str) {
        let sheet = css::without_comments(sheet);
        let mut rules = Vec::new();
        css::rules(&sheet, &mut |rule| rules.push(rule));
        for rule in rules {
            match rule {
                Rule::At { name, prelude } => self.at_rule(&name, prelude),
                Rule::Style { selector, block } => {
                    self.selector(selector);
                    let mut css = BTreeSet::new();
                    for declaration in css::declarations(block) {
                        self.declaration(&declaration, &mut css);
                    }
                    for slug in css {
                        self.add(&slug, 1);
                    }
                }
            }
        }
    }

    fn at_rule(&mut self, name: &str, prelude: &str) {
        let name = without_vendor_prefix(name);
        self.add(&format!("css-at-{name}"), 1);
        if name == "media" {
            let prelude = prelude.to_ascii_lowercase();
            for feature in [
                "prefers-color-scheme",
                "prefers-reduced-motion",
                "orientation",
                "hover",
                "device-pixel-ratio",
            ] {
                if prelude.contains(feature) {
                    self.add(&format!("css-at-media-{feature}"), 1);
                }
            }
        }
    }

    /// Pseudo-classes, pseudo-elements and the less common combinators.
    fn selector(&mut self, selector: &str) {
        let bytes = selector.as_bytes();
        let mut parens = 0usize;
        let mut at = 0;
        while at < bytes.len() {
            match bytes[at] {
                b':' => {
                    let element = bytes.get(at + 1) == Some(&b':');
                    let start = at + 1 + usize::from(element);
                    let len = selector[start..]
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .unwrap_or(selector.len() - start);
                    let name = selector[start..start + len].to_ascii_lowercase();
                    let legacy = matches!(
                        name.as_str(),
                        "before" | "after" | "first-letter" | "first-line"
                    );
                    let kind = if element || legacy {
                        "element"
                    } else {
                        "class"
                    };
                    self.add(&format!("css-pseudo-{kind}-{name}"), 1);
                    at = start + len;
                    continue;
                }
                b'(' => parens += 1,
                b')' => parens = parens.saturating_sub(1),
                b'[' => self.add("css-selector-attribute", 1),
                b'>' if parens == 0 => self.add("css-selector-child", 1),
                b'+' if parens == 0 => self.add("css-selector-adjacent-sibling", 1),
                b'~' if parens == 0 => self.add("css-selector-general-sibling", 1),
                _ => {}
            }
            at += 1;
        }
    }
}

fn without_vendor_prefix(name: &str) -> &str {
    for prefix in ["-webkit-", "-moz-", "-ms-", "-o-"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest;
        }
    }
    name
}

/// The features a property name stands for: its own `css-<name>` when the
/// data has one, or the family it belongs to.
fn property_slugs(name: &str) -> impl Iterator<Item = String> {
    let name = without_vendor_prefix(name);
    let logical = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest == "-start" || rest == "-end")
    };
    let family = if name.starts_with("--") {
        Some("css-variables")
    } else if logical("margin-block") {
        Some("css-margin-block-start-end")
    } else if logical("margin-inline") {
        Some("css-margin-inline-start-end")
    } else if logical("padding-block") {
        Some("css-padding-block-start-end")
    } else if logical("padding-inline") {
        Some("css-padding-inline-start-end")
    } else if matches!(name, "margin-inline" | "margin-block") {
        Some("css-margin-inline-block")
    } else if matches!(name, "padding-inline" | "padding-block") {
        Some("css-padding-inline-block")
    } else if matches!(name, "border-inline" | "border-block") {
        Some("css-border-inline-block")
    } else if let Some(rest) = name
        .strip_prefix("border-inline-")
        .or_else(|| name.strip_prefix("border-block-"))
    {
        Some(if matches!(rest, "color" | "style" | "width") {
            "css-border-inline-block-individual"
        } else {
            "css-border-inline-block-longhand"
        })
    } else if name.starts_with("border-start-") || name.starts_with("border-end-") {
        Some("css-border-radius-logical")
    } else if matches!(name, "top" | "right" | "bottom" | "left") {
        Some("css-left-right-top-bottom")
    } else if name.starts_with("inset") {
        Some("css-inset")
    } else if name == "block-size" {
        Some("css-block-inline-size")
    } else if name == "columns" || (name.starts_with("column-") && name != "column-count") {
        Some("css-column-layout-properties")
    } else if name.starts_with("grid-template") {
        Some("css-grid-template")
    } else if name.starts_with("animation") {
        Some("css-animation")
    } else if name.starts_with("transition") {
        Some("css-transition")
    } else if name.starts_with("background-position") {
        Some("css-background-position")
    } else {
        None
    };
    let own = format!("css-{name}");
    family.map(str::to_string).into_iter().chain([own])
}

/// Features of a value: `display` keywords, functions, system fonts.
fn value_slugs(name: &str, value: &str) -> Vec<String> {
    let lower = value.to_ascii_lowercase();
    let mut slugs = Vec::new();
    if name == "display" {
        match lower.trim() {
            "flex" | "inline-flex" => slugs.push("css-display-flex"),
            "grid" | "inline-grid" => slugs.push("css-display-grid"),
            "none" => slugs.push("css-display-none"),
            _ => {}
        }
    }
    if name.starts_with("font")
        && [
            "system-ui",
            "ui-serif",
            "ui-sans-serif",
            "ui-rounded",
            "ui-monospace",
        ]
        .iter()
        .any(|f| lower.contains(f))
    {
        slugs.push("css-sytem-ui");
    }
    for function in functions(&lower) {
        slugs.push(match function {
            "rgb" => "css-rgb",
            "rgba" => "css-rgba",
            "calc" => "css-unit-calc",
            "var" => "css-variables",
            "linear-gradient" | "repeating-linear-gradient" => "css-linear-gradient",
            "radial-gradient" | "repeating-radial-gradient" => "css-radial-gradient",
            "conic-gradient" | "repeating-conic-gradient" => "css-conic-gradient",
            "clamp" => "css-function-clamp",
            "min" => "css-function-min",
            "max" => "css-function-max",
            "light-dark" => "css-function-light-dark",
            "lab" | "lch" | "oklab" | "oklch" => "css-modern-color",
            _ => continue,
        });
    }
    if lower.trim_start().starts_with("initial") {
        slugs.push("css-unit-initial");
    }
    slugs.into_iter().map(str::to_string).collect()
}

/// The names of the functions called in a (lowercased) value.
fn functions(value: &str) -> impl Iterator<Item = &str> {
    value.match_indices('(').filter_map(|(at, _)| {
        let before = &value[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &before[start..];
        (!name.is_empty()).then_some(name)
    })
}

/// The units caniemail tracks that are less widely supported, with how
/// often each occurs after a number in `value`.
fn units(value: &str) -> BTreeMap<&'static str, usize> {
    const TRACKED: [&str; 6] = ["ch", "rem", "vh", "vw", "vmin", "vmax"];
    let bytes = value.as_bytes();
    let mut found = BTreeMap::new();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit()
            || (at > 0 && is_word(bytes[at - 1]) && !bytes[at - 1].is_ascii_digit())
        {
            at += 1;
            continue;
        }
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        let unit_start = at;
        while at < bytes.len() && bytes[at].is_ascii_alphabetic() {
            at += 1;
        }
        let unit = value[unit_start..at].to_ascii_lowercase();
        if let Some(tracked) = TRACKED.iter().find(|t| **t == unit)
            && !bytes.get(at).copied().is_some_and(is_word)
        {
            *found.entry(*tracked).or_default() += 1;
        }
    }
    found
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Counts elements both ways Mailpit might, which one applies being known
/// only at the end (whether there is a `</body>`).
#[derive(Default)]
struct NodeCount {
    /// Start tags read.
    elements: usize,
    /// Every element but `html`, `head` and `meta`.
    document: usize,
    /// The elements of the body, plus scripts anywhere.
    body: usize,
    saw_body_tag: bool,
    body_closed: bool,
    in_head: bool,
    /// Whether body content has started (so `style`, `meta`, ... no longer
    /// go to the head).
    in_body: bool,
}

impl NodeCount {
    fn start(&mut self, name: &str) {
        self.elements += 1;
        if !matches!(name, "html" | "head" | "meta") {
            self.document += 1;
        }
        match name {
            "html" => {}
            "head" => self.in_head = !self.in_body,
            "body" => {
                self.saw_body_tag = true;
                self.in_head = false;
                self.in_body = true;
            }
            "script" => self.body += 1,
            "meta" | "title" | "style" | "link" | "base" if !self.in_body => {}
            _ if self.in_head => {}
            _ => {
                self.in_body = true;
                self.body += 1;
            }
        }
    }

    fn end(&mut self, name: &str) {
        if name.eq_ignore_ascii_case("head") {
            self.in_head = false;
        } else if name.eq_ignore_ascii_case("body") {
            self.body_closed = true;
        }
    }

    fn total(&self) -> usize {
        if self.body_closed {
            // The parser adds a `body` element when no tag opened one.
            self.document + usize::from(!self.saw_body_tag)
        } else {
            self.body
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::htmlcheck::data::data;

    fn found(html: &str) -> BTreeMap<String, usize> {
        scan(html, data()).found
    }

    #[test]
    fn elements_attributes_and_images() {
        let f = found(
            "<div><video></video><section></section><input type=checkbox required>\
             <a href='#top'>x</a><img src='a.webp?x=1' srcset='b 2x'><img src='data:image/png;base64,AA'>\
             <script type='application/ld+json'>{}</script><script>1</script></div>",
        );
        for slug in [
            "html-video",
            "html-semantics",
            "html-input-checkbox",
            "html-required",
            "html-anchor-links",
            "image-webp",
            "html-srcset",
            "image-base64",
        ] {
            assert_eq!(f.get(slug), Some(&1), "{slug}: {f:?}");
        }
        assert!(!f.contains_key("html-body"));
        assert_eq!(
            scan(
                "<script>1</script><script type=application/json></script>",
                data()
            )
            .scripts,
            1
        );
    }

    #[test]
    fn css_in_style_attributes_and_sheets() {
        let f = found(
            "<html><head><style>/* a{display:grid} */ .a{display:flex; background-image:url(x.png)}\
             .b:hover,.c>.d{color:rgba(0,0,0,.5)!important}\
             @media (prefers-color-scheme: dark){.e{margin-inline-start:2rem}}</style></head>\
             <body><p style='display:flex;width:10vw' width=3>x</p><p style='DISPLAY : none'></p></body></html>",
        );
        assert_eq!(f.get("css-display-flex"), Some(&2), "{f:?}");
        assert_eq!(f.get("css-display-none"), Some(&1));
        assert!(!f.contains_key("css-display-grid"), "comments are skipped");
        assert_eq!(f.get("css-display"), Some(&3));
        assert_eq!(f.get("css-background-image"), Some(&1));
        assert_eq!(f.get("css-pseudo-class-hover"), Some(&1));
        assert_eq!(f.get("css-selector-child"), Some(&1));
        assert_eq!(f.get("css-rgba"), Some(&1));
        assert_eq!(f.get("css-important"), Some(&1));
        assert_eq!(f.get("css-at-media"), Some(&1));
        assert_eq!(f.get("css-at-media-prefers-color-scheme"), Some(&1));
        assert_eq!(f.get("css-margin-inline-start-end"), Some(&1));
        assert_eq!(f.get("css-unit-rem"), Some(&1));
        assert_eq!(f.get("css-unit-vw"), Some(&1));
        assert_eq!(
            f.get("css-width"),
            Some(&1),
            "attribute and style count once"
        );
        assert_eq!(f.get("html-body"), Some(&1));
        assert_eq!(f.get("html-style"), Some(&1));
    }

    #[test]
    fn nodes_as_mailpit_counts_them() {
        // With </body>: everything but html, head and meta.
        let with_body = "<html><head><meta charset=utf-8><title>t</title><style></style></head>\
                         <body><div><p>x</p></div></body></html>";
        assert_eq!(scan(with_body, data()).nodes, 5);
        // Without: the body's elements (and scripts).
        let fragment = "<style>p{}</style><div><p>x</p><script></script></div>";
        assert_eq!(scan(fragment, data()).nodes, 3);
    }

    #[test]
    fn units_need_a_number_and_a_boundary() {
        let u = units("1rem 2.5rem 10vhx a3vw calc(100vw - 2ch)");
        assert_eq!(u.get("rem"), Some(&2));
        assert_eq!(u.get("vh"), None);
        assert_eq!(u.get("vw"), Some(&1));
        assert_eq!(u.get("ch"), Some(&1));
    }

    #[test]
    fn bounded_on_huge_input() {
        let html = "<p style='display:flex'>".repeat(MAX_ELEMENTS + 10);
        let f = scan(&html, data());
        assert_eq!(f.found.get("css-display-flex"), Some(&MAX_ELEMENTS));
    }
}
