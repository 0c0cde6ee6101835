//! What tests look for in a message, read without side effects: the links
//! to click ([`links`]) and the one-time codes to type back ([`codes`]).
//!
//! Pure functions over the bodies a [`crate::store::detail::Detail`] holds;
//! [`html`] is the small HTML scanner both rely on, and [`entities`] decodes
//! HTML character references. The rules are documented on each module.

pub mod codes;
pub mod entities;
pub mod html;
pub mod links;

#[cfg(test)]
mod tests;

pub use codes::Code;
pub use links::Link;

/// The links of a message: those of its HTML body, then those written out
/// in its text part (`text_part` is `None` when the message has none).
pub fn message_links(html: &str, text_part: Option<&str>) -> Vec<Link> {
    links::links(html, text_part)
}

/// The likely one-time codes of a message, best first: searched in its text
/// part, or in its HTML rendered as text when it has no text part (or a text
/// part without any code, like "view this message in an HTML client").
pub fn message_codes(html: &str, text_part: Option<&str>) -> Vec<Code> {
    let from_text = text_part.map(codes::codes).unwrap_or_default();
    if !from_text.is_empty() || html.is_empty() {
        return from_text;
    }
    codes::codes(&html::to_text(html))
}

/// The nearest char boundary at or before `at`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The nearest char boundary at or after `at` (at most the end).
fn ceil_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// `text` cut to at most `max` characters, keeping the start and ending in
/// `…` when cut.
fn truncate_end(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => {
            let cut = text[..at].rfind(' ').filter(|&s| s > 0).unwrap_or(at);
            format!("{}…", text[..cut].trim_end())
        }
    }
}

/// `text` cut to at most `max` characters, keeping the end and starting
/// with `…` when cut.
fn truncate_start(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let (at, _) = text.char_indices().nth(count - max).unwrap_or((0, ' '));
    let cut = text[at..].find(' ').map_or(at, |s| at + s + 1);
    let cut = if cut >= text.len() { at } else { cut };
    format!("…{}", text[cut..].trim_start())
}
