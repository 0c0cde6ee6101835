//! HTML character references (`&amp;`, `&#233;`, `&#x2F;`), decoded the way
//! browsers decode them, for the names mail actually uses.
//!
//! - Numeric references need no `;`. Zero, surrogates and values past
//!   U+10FFFF become U+FFFD; 0x80 to 0x9F are read as Windows-1252, as
//!   browsers do (`&#150;` is an en dash).
//! - Named references need a `;`, except the legacy ones (the Latin-1 set and
//!   `amp`, `lt`, `gt`, `quot`), which browsers also accept bare. In an
//!   attribute a bare legacy name followed by a letter, digit or `=` stays as
//!   written, so `?a=1&copy=2` in a link is not turned into `?a=1©=2`.
//! - Unknown names stay as written.

use std::borrow::Cow;

/// Latin-1 names for U+00A0 to U+00FF, in code point order; all legacy.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Legacy names outside Latin-1 (accepted without `;`).
const LEGACY: [(&str, char); 10] = [
    ("amp", '&'),
    ("AMP", '&'),
    ("lt", '<'),
    ("LT", '<'),
    ("gt", '>'),
    ("GT", '>'),
    ("quot", '"'),
    ("QUOT", '"'),
    ("COPY", '©'),
    ("REG", '®'),
];

/// Names that need their `;`.
const OTHER: &[(&str, char)] = &[
    ("apos", '\''),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("excl", '!'),
    ("num", '#'),
    ("dollar", '$'),
    ("percnt", '%'),
    ("lpar", '('),
    ("rpar", ')'),
    ("ast", '*'),
    ("plus", '+'),
    ("comma", ','),
    ("period", '.'),
    ("sol", '/'),
    ("colon", ':'),
    ("semi", ';'),
    ("equals", '='),
    ("quest", '?'),
    ("commat", '@'),
    ("lsqb", '['),
    ("bsol", '\\'),
    ("rsqb", ']'),
    ("Hat", '^'),
    ("lowbar", '_'),
    ("grave", '`'),
    ("lcub", '{'),
    ("verbar", '|'),
    ("rcub", '}'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("fnof", 'ƒ'),
    ("circ", 'ˆ'),
    ("tilde", '˜'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("ZeroWidthSpace", '\u{200B}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
    ("hyphen", '‐'),
    ("dash", '‐'),
    ("ndash", '–'),
    ("mdash", '—'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("dagger", '†'),
    ("Dagger", '‡'),
    ("bull", '•'),
    ("hellip", '…'),
    ("permil", '‰'),
    ("prime", '′'),
    ("Prime", '″'),
    ("lsaquo", '‹'),
    ("rsaquo", '›'),
    ("oline", '‾'),
    ("euro", '€'),
    ("trade", '™'),
    ("larr", '←'),
    ("uarr", '↑'),
    ("rarr", '→'),
    ("darr", '↓'),
    ("harr", '↔'),
    ("check", '✓'),
    ("hearts", '♥'),
];

/// What browsers make of `&#128;` to `&#159;` (Windows-1252); `None` where
/// Windows-1252 has no character and the code point is kept.
const WINDOWS_1252: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// Decodes the character references in text content.
pub fn decode_text(input: &str) -> Cow<'_, str> {
    decode(input, false)
}

/// Decodes the character references in an attribute value.
pub fn decode_attribute(input: &str) -> Cow<'_, str> {
    decode(input, true)
}

fn decode(input: &str, in_attribute: bool) -> Cow<'_, str> {
    if !input.contains('&') {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        match reference(after, in_attribute) {
            Some((decoded, used)) => {
                out.push(decoded);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character a reference starting right after `&` stands for, and how
/// many bytes of `after` it used.
fn reference(after: &str, in_attribute: bool) -> Option<(char, usize)> {
    if let Some(numeric) = after.strip_prefix('#') {
        return numeric_reference(numeric).map(|(c, used)| (c, used + 1));
    }
    let name_len = after
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .take(40)
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &after[..name_len];
    if after[name_len..].starts_with(';')
        && let Some(c) = named(name)
    {
        return Some((c, name_len + 1));
    }
    // A bare legacy name: the longest one the run starts with.
    let (legacy, c) = legacy_prefix(name)?;
    let next = after.as_bytes().get(legacy.len()).copied();
    let semicolon = next == Some(b';');
    if !semicolon && in_attribute && next.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'=') {
        return None;
    }
    Some((c, legacy.len() + usize::from(semicolon)))
}

fn numeric_reference(after_hash: &str) -> Option<(char, usize)> {
    let bytes = after_hash.as_bytes();
    let (radix, skip) = match bytes.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = bytes[skip..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    if digits == 0 {
        return None;
    }
    let mut value: u32 = 0;
    for b in &bytes[skip..skip + digits] {
        let digit = (*b as char).to_digit(radix).unwrap_or(0);
        value = value.saturating_mul(radix).saturating_add(digit);
    }
    let mut used = skip + digits;
    if bytes.get(used) == Some(&b';') {
        used += 1;
    }
    let c = match value {
        0x80..=0x9F => WINDOWS_1252[(value - 0x80) as usize]
            .unwrap_or_else(|| char::from_u32(value).unwrap_or('\u{FFFD}')),
        0 => '\u{FFFD}',
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    };
    Some((c, used))
}

fn named(name: &str) -> Option<char> {
    if let Some(index) = LATIN1.iter().position(|n| *n == name) {
        return char::from_u32(0xA0 + index as u32);
    }
    LEGACY
        .iter()
        .chain(OTHER)
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
}

fn legacy_prefix(run: &str) -> Option<(&'static str, char)> {
    let latin1 = LATIN1
        .iter()
        .enumerate()
        .filter_map(|(i, n)| Some((*n, char::from_u32(0xA0 + i as u32)?)));
    latin1
        .chain(LEGACY.iter().copied())
        .filter(|(n, _)| run.starts_with(n))
        .max_by_key(|(n, _)| n.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_table_lines_up_with_code_points() {
        assert_eq!(named("nbsp"), Some('\u{A0}'));
        assert_eq!(named("copy"), Some('©'));
        assert_eq!(named("Auml"), Some('Ä'));
        assert_eq!(named("times"), Some('×'));
        assert_eq!(named("szlig"), Some('ß'));
        assert_eq!(named("eacute"), Some('é'));
        assert_eq!(named("divide"), Some('÷'));
        assert_eq!(named("yuml"), Some('ÿ'));
    }

    #[test]
    fn named_and_numeric_references() {
        assert_eq!(
            decode_text("a &amp; b &lt;c&gt; &quot;d&quot;"),
            "a & b <c> \"d\""
        );
        assert_eq!(decode_text("caf&eacute; &euro;5 &hellip;"), "café €5 …");
        assert_eq!(decode_text("&#233;&#xE9;&#XE9;&#x1F600;"), "éé\u{E9}😀");
        assert_eq!(decode_text("&#150;&#128;&#129;"), "–€\u{81}");
        assert_eq!(
            decode_text("&#0;&#xD800;&#99999999999;"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(decode_text("&#65&#66;"), "AB");
        assert_eq!(decode_text("https&colon;&sol;&sol;x"), "https://x");
    }

    #[test]
    fn unknown_or_broken_references_stay() {
        for literal in [
            "&",
            "& b",
            "&;",
            "&#;",
            "&#x;",
            "&unknown;",
            "AT&T",
            "&zwnjx",
        ] {
            assert_eq!(decode_text(literal), literal);
        }
        // `apos` is not legacy: it needs its semicolon.
        assert_eq!(decode_text("&apos"), "&apos");
    }

    #[test]
    fn bare_legacy_names_in_text_and_attributes() {
        assert_eq!(decode_text("&amp &lt3 &copy2024"), "& <3 ©2024");
        assert_eq!(decode_text("&notit;"), "¬it;");
        assert_eq!(decode_attribute("?a=1&amp;b=2"), "?a=1&b=2");
        assert_eq!(
            decode_attribute("?a=1&copy=2&lang=de"),
            "?a=1&copy=2&lang=de"
        );
        assert_eq!(decode_attribute("?x=&amp"), "?x=&");
        assert_eq!(decode_attribute("?x=&amp "), "?x=& ");
        assert_eq!(decode_attribute("?x=&ampy"), "?x=&ampy");
    }
}
