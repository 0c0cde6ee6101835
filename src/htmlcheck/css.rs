//! A small CSS scanner: enough of CSS's syntax to list the rules of a style
//! sheet (at-rules with their preludes, selectors with their declaration
//! blocks) and the declarations of a block or `style` attribute, without
//! building a tree or understanding values.
//!
//! Written here rather than taken from a crate: the CSS parsers on crates.io
//! are either browser-engine sized (cssparser's tokenizer still needs a
//! parser built on top, lightningcss pulls in a whole minifier) or barely
//! kept, and the check only needs rule boundaries and property names. What
//! it gets right: comments are skipped, braces, semicolons and colons inside
//! strings, `url(...)` and other parentheses do not end anything, and an
//! unclosed block simply runs to the end. Every scan is linear in the input
//! and nesting is followed at most [`MAX_DEPTH`] levels deep.

/// How deep `@media`/`@supports` blocks are followed; deeper ones are
/// skipped (real mail nests one level, rarely two).
const MAX_DEPTH: usize = 8;

/// One rule of a style sheet.
#[derive(Debug, PartialEq, Eq)]
pub enum Rule<'a> {
    /// An at-rule: its name lowercased without the `@` (vendor prefix kept)
    /// and its prelude as written.
    At { name: String, prelude: &'a str },
    /// A style rule: its selector list and the content of its block.
    Style { selector: &'a str, block: &'a str },
}

/// One `name: value` declaration.
#[derive(Debug, PartialEq, Eq)]
pub struct Declaration<'a> {
    /// The property name, lowercased.
    pub name: String,
    /// The value as written, without `!important`.
    pub value: &'a str,
    pub important: bool,
}

/// `css` with its comments replaced by spaces (strings kept as written), so
/// the scanners below need not know about comments.
pub fn without_comments(css: &str) -> String {
    let bytes = css.as_bytes();
    let mut out = String::with_capacity(css.len());
    let mut at = 0;
    let mut copied = 0;
    while at < bytes.len() {
        match bytes[at] {
            quote @ (b'"' | b'\'') => at = string_end(bytes, at, quote),
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                out.push_str(&css[copied..at]);
                out.push(' ');
                at = css[at + 2..]
                    .find("*/")
                    .map_or(css.len(), |end| at + 2 + end + 2);
                copied = at;
            }
            _ => at += 1,
        }
    }
    out.push_str(&css[copied..]);
    out
}

/// Calls `visit` for every rule of a comment-free style sheet, in order,
/// including the rules inside conditional group at-rules (`@media`,
/// `@supports`, ...).
pub fn rules<'a>(css: &'a str, visit: &mut impl FnMut(Rule<'a>)) {
    rules_at_depth(css, 0, visit);
}

fn rules_at_depth<'a>(css: &'a str, depth: usize, visit: &mut impl FnMut(Rule<'a>)) {
    let bytes = css.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_whitespace() || b == b';' || b == b'}' {
            at += 1;
            continue;
        }
        // The HTML comment markers CSS tolerates around a sheet.
        if css[at..].starts_with("<!--") || css[at..].starts_with("-->") {
            at += if b == b'<' { 4 } else { 3 };
            continue;
        }
        let end = prelude_end(bytes, at);
        let prelude = &css[at..end];
        let has_block = bytes.get(end) == Some(&b'{');
        let block_end = if has_block {
            block_end(bytes, end + 1)
        } else {
            end
        };
        let block = if has_block {
            &css[end + 1..block_end.min(css.len())]
        } else {
            ""
        };
        if let Some(rest) = prelude.strip_prefix('@') {
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            let name = rest[..name_len].to_ascii_lowercase();
            let groups = is_group(&name);
            visit(Rule::At {
                name,
                prelude: rest[name_len..].trim(),
            });
            if groups && depth < MAX_DEPTH {
                rules_at_depth(block, depth + 1, visit);
            }
        } else if has_block {
            visit(Rule::Style {
                selector: prelude.trim(),
                block,
            });
        }
        at = block_end + 1;
    }
}

/// At-rules whose block holds rules rather than declarations.
fn is_group(name: &str) -> bool {
    matches!(
        name,
        "media" | "supports" | "document" | "-moz-document" | "layer" | "container" | "scope"
    )
}

/// The declarations of a comment-free block or `style` attribute, in order.
/// Nested rules (CSS nesting) and text without a colon are skipped.
pub fn declarations(block: &str) -> impl Iterator<Item = Declaration<'_>> {
    let bytes = block.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            let end = prelude_end(bytes, start);
            if bytes.get(end) == Some(&b'{') {
                // A nested rule: skip its block.
                at = block_end(bytes, end + 1) + 1;
                continue;
            }
            at = end + 1;
            if let Some(declaration) = declaration(&block[start..end]) {
                return Some(declaration);
            }
        }
        None
    })
}

fn declaration(text: &str) -> Option<Declaration<'_>> {
    let (name, value) = text.split_once(':')?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let value = value.trim();
    let (value, important) = match value.rfind('!') {
        Some(bang) if value[bang + 1..].trim().eq_ignore_ascii_case("important") => {
            (value[..bang].trim_end(), true)
        }
        _ => (value, false),
    };
    Some(Declaration {
        name: name.to_ascii_lowercase(),
        value,
        important,
    })
}

/// Where the text starting at `at` ends: at the first `{`, `;` or `}` not
/// inside a string or parentheses, or at the end.
fn prelude_end(bytes: &[u8], mut at: usize) -> usize {
    let mut parens = 0usize;
    while at < bytes.len() {
        match bytes[at] {
            quote @ (b'"' | b'\'') => {
                at = string_end(bytes, at, quote);
                continue;
            }
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            b'{' | b';' | b'}' if parens == 0 => return at,
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// The index of the `}` closing a block whose content starts at `at`, or the
/// end of the input when it is never closed.
fn block_end(bytes: &[u8], mut at: usize) -> usize {
    let mut depth = 0usize;
    while at < bytes.len() {
        match bytes[at] {
            quote @ (b'"' | b'\'') => {
                at = string_end(bytes, at, quote);
                continue;
            }
            b'{' => depth += 1,
            b'}' if depth == 0 => return at,
            b'}' => depth -= 1,
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

/// Just past the quote closing the string that opens at `at` (a backslash
/// escapes the next byte; a newline or the end also ends it).
fn string_end(bytes: &[u8], at: usize, quote: u8) -> usize {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_rules(css: &str) -> Vec<Rule<'_>> {
        let mut out = Vec::new();
        rules(css, &mut |rule| out.push(rule));
        out
    }

    #[test]
    fn rules_with_nested_media_and_tricky_strings() {
        let css = "@import url(\"a;b.css\");\n.a{content:'}';color:red}\
                   @media screen and (max-width:600px){.b:hover{display:flex}}\
                   @font-face{font-family:x}";
        let rules = all_rules(css);
        assert_eq!(rules.len(), 5, "{rules:?}");
        assert_eq!(
            rules[0],
            Rule::At {
                name: "import".into(),
                prelude: "url(\"a;b.css\")"
            }
        );
        assert_eq!(
            rules[1],
            Rule::Style {
                selector: ".a",
                block: "content:'}';color:red"
            }
        );
        assert!(matches!(&rules[2], Rule::At { name, .. } if name == "media"));
        assert!(matches!(
            &rules[3],
            Rule::Style {
                selector: ".b:hover",
                ..
            }
        ));
        assert!(matches!(&rules[4], Rule::At { name, .. } if name == "font-face"));
    }

    #[test]
    fn declarations_split_at_top_level_semicolons() {
        let found: Vec<_> = declarations(
            "Background-Image: url(data:image/png;base64,AA==) ; color:red !IMPORTANT;junk; .x{a:b} --v: 1",
        )
        .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].name, "background-image");
        assert_eq!(found[0].value, "url(data:image/png;base64,AA==)");
        assert!(found[1].important && found[1].value == "red");
        assert_eq!(found[2].name, "--v");
    }

    #[test]
    fn comments_are_blanked_but_not_inside_strings() {
        assert_eq!(without_comments("a/* x */b'/* y */'"), "a b'/* y */'");
        assert_eq!(without_comments("a/* never closed"), "a ");
    }

    #[test]
    fn unclosed_and_deep_input_ends() {
        let deep = "@media a{".repeat(10_000);
        assert_eq!(all_rules(&deep).len(), MAX_DEPTH + 1);
        assert_eq!(all_rules(".a{color:red").len(), 1);
        assert!(all_rules("{{{{}").len() <= 1);
    }
}
