//! Mailbox addresses with quoted local parts (RFC 5321 §4.1.2 `Quoted-string`).
//!
//! `"odd user"@example.com` is a valid address: the quotes are part of its
//! wire form. Parsers hand back the local part unquoted (`odd user@…`), which
//! is ambiguous and not deliverable as written, so addresses shown in the API
//! are re-quoted to the form a client can send back.

use std::borrow::Cow;

/// Characters a dot-atom local part may hold besides letters and digits
/// (RFC 5322 `atext`). Anything else needs the quoted form.
const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";

/// The address as it must be written: the local part quoted (with `"` and
/// `\` escaped) when it is not a dot-atom. Already-quoted and plain addresses
/// come back unchanged.
pub(crate) fn requote(address: &str) -> Cow<'_, str> {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Cow::Borrowed(address);
    };
    if is_quoted(local) || is_dot_atom(local) {
        return Cow::Borrowed(address);
    }
    let mut out = String::with_capacity(address.len() + 4);
    out.push('"');
    for c in local.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("\"@");
    out.push_str(domain);
    Cow::Owned(out)
}

/// Name and address of a header mailbox as the API shows them. The header
/// parser reads a bare `"odd user"@example.com` as the display name
/// `odd user` with the address `@example.com`; that is put back together as
/// the quoted local part it was.
pub(crate) fn mailbox(name: Option<&str>, address: Option<&str>) -> (String, String) {
    let name = name.unwrap_or_default();
    let address = address.unwrap_or_default();
    match address.strip_prefix('@') {
        Some(domain) if !name.is_empty() && !domain.contains('@') => (
            String::new(),
            requote(&format!("{name}@{domain}")).into_owned(),
        ),
        _ => (name.to_string(), requote(address).into_owned()),
    }
}

/// Checks a mailbox as a path of MAIL FROM or RCPT TO takes it
/// (`local@domain`): the local part a dot-atom or a quoted string, the
/// domain dot-separated labels of letters, digits and inner hyphens (any
/// script), or an address literal in brackets. Nothing else gets near a
/// command line: no spaces outside quotes, no `<`, `>` or control
/// characters anywhere.
pub(crate) fn check(address: &str) -> Result<(), String> {
    let invalid = |why: &str| Err(format!("invalid address {address:?}: {why}"));
    let Some((local, domain)) = address.rsplit_once('@') else {
        return invalid("no @");
    };
    if local.len() > 64 || domain.len() > 255 {
        return invalid("too long");
    }
    let quoted_ok = quoted_len(local) == Some(local.len())
        && local
            .chars()
            .all(|c| c == ' ' || c == '\t' || !c.is_control());
    if !(quoted_ok || is_dot_atom(local)) {
        return invalid("bad local part");
    }
    let literal_ok = domain.len() > 2
        && domain.starts_with('[')
        && domain.ends_with(']')
        && domain[1..domain.len() - 1]
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '\\'));
    if !(literal_ok || is_domain(domain)) {
        return invalid("bad domain");
    }
    Ok(())
}

fn is_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

fn is_quoted(local: &str) -> bool {
    local.len() >= 2 && local.starts_with('"') && local.ends_with('"')
}

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || !c.is_ascii() || ATEXT.contains(c))
        })
}

/// Length in bytes of the quoted string at the start of `text` (quotes
/// included), honouring `\` escapes; `None` if it never closes.
pub(crate) fn quoted_len(text: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '"' {
        return None;
    }
    let mut escaped = false;
    for (i, c) in chars {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requotes_only_what_needs_it() {
        let cases = [
            ("bob@example.com", "bob@example.com"),
            ("odd user@example.com", "\"odd user\"@example.com"),
            ("\"odd user\"@example.com", "\"odd user\"@example.com"),
            ("a\"b@x", "\"a\\\"b\"@x"),
            ("first..last@x", "\"first..last\"@x"),
            ("o'brien+tag@x", "o'brien+tag@x"),
            ("Postmaster", "Postmaster"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(requote(input), want, "{input}");
        }
    }

    #[test]
    fn mends_a_quoted_local_part_read_as_a_name() {
        let mailbox = |n, a| mailbox(Some(n), Some(a));
        assert_eq!(
            mailbox("odd user", "@example.com"),
            (String::new(), "\"odd user\"@example.com".into())
        );
        assert_eq!(
            mailbox("Odd", "odd user@example.com"),
            ("Odd".into(), "\"odd user\"@example.com".into())
        );
        assert_eq!(mailbox("", "a@b"), (String::new(), "a@b".into()));
    }

    #[test]
    fn checks_addresses_for_the_envelope() {
        for good in [
            "bob@example.com",
            "o'brien+tag@mail.example.org",
            "\"odd user\"@example.com",
            "user@[127.0.0.1]",
            "user@[IPv6:::1]",
            "jörg@bücher.example",
            "a@localhost",
        ] {
            assert!(check(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "nobody",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@exa mple.com",
            "a@-x.com",
            "a@x..com",
            "first..last@x",
            "a>@x",
            "a@x>\r\nDATA",
            "\"a\r\n\"@x",
            "a@[1.2.3.4",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn measures_quoted_strings() {
        assert_eq!(quoted_len("\"a b\"@x"), Some(5));
        assert_eq!(quoted_len("\"a\\\"b\"@x"), Some(6));
        assert_eq!(quoted_len("\"open"), None);
        assert_eq!(quoted_len("plain"), None);
    }
}
