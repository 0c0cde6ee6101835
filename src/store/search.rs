//! Mailpit's search syntax (contract §3), evaluated against summaries.
//!
//! Terms are ANDed; `-` or `!` negates; double quotes group a phrase and are
//! otherwise dropped. Matching is Unicode case-insensitive (Mailpit's is
//! ASCII-only for field filters).

use memchr::memmem::Finder;

use std::sync::Arc;

use super::bloom;
use super::mailbox::Scope;
use super::message::{Address, StoredMessage};
use super::summary::normalize_search;

/// What a [`Query::literal`] term searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal {
    /// The From header's name and address.
    From,
    /// Any recipient: To, Cc, Bcc and envelope recipients.
    Recipient,
    /// The free text that plain search words match.
    Text,
}

/// A parsed search query, ready to test messages against.
#[derive(Clone, Debug)]
pub struct Query {
    terms: Vec<Term>,
}

#[derive(Clone, Debug)]
pub(super) struct Term {
    pub negated: bool,
    pub filter: Filter,
}

/// A free-text needle, normalised, with its searcher and its Bloom
/// probes (built once per query, not per message).
#[derive(Clone, Debug)]
pub(super) struct TextNeedle {
    text: String,
    finder: Finder<'static>,
    probes: Vec<u8>,
}

impl TextNeedle {
    fn boxed(needle: String) -> Box<TextNeedle> {
        Box::new(TextNeedle {
            finder: Finder::new(needle.as_bytes()).into_owned(),
            probes: bloom::probes(needle.as_bytes()),
            text: needle,
        })
    }

    pub(super) fn needle(&self) -> &[u8] {
        self.finder.needle()
    }

    /// The normalised needle.
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// The needle's trigram probes for [`bloom::might_contain`].
    pub(super) fn probes(&self) -> &[u8] {
        &self.probes
    }

    /// Whether the message's Bloom filter lets the needle through (an empty
    /// filter lets every needle through).
    fn may_be_in(&self, message: &StoredMessage) -> bool {
        bloom::might_contain(message.text_bloom(), &self.probes)
    }

    /// Whether the message's search text holds the needle.
    fn found_in(&self, message: &StoredMessage) -> bool {
        self.may_be_in(message)
            && self
                .finder
                .find(message.summary.search_text.as_bytes())
                .is_some()
    }
}

/// One condition; the needles of the text filters are already normalised.
/// A message's Bloom filter covers the texts of every text filter, so each
/// carries its probes.
#[derive(Clone, Debug)]
pub(super) enum Filter {
    Text(Box<TextNeedle>),
    From(Box<TextNeedle>),
    To(Box<TextNeedle>),
    Cc(Box<TextNeedle>),
    Bcc(Box<TextNeedle>),
    ReplyTo(Box<TextNeedle>),
    Addressed(Box<TextNeedle>),
    /// Any recipient: To, Cc or Bcc (which holds the envelope recipients
    /// no header names). Internal: MailHog's `kind=to`.
    Recipient(Box<TextNeedle>),
    Subject(Box<TextNeedle>),
    MessageId(Box<TextNeedle>),
    Tag(String),
    Read,
    Tagged,
    HasAttachment,
    HasInline,
    /// Received at or after this Unix time in microseconds.
    After(i64),
    /// Received at or before this Unix time in microseconds.
    Before(i64),
    Larger(u64),
    Smaller(u64),
    /// Arrived after the message with this sequence number (internal: the
    /// wait endpoint's cursor; the search syntax has no way to say it).
    ArrivedAfter(u64),
    /// In one of these mailboxes (internal: how a [`Scope`] narrows a
    /// query; negated, every mailbox but these).
    Mailboxes(Arc<[Arc<str>]>),
}

impl Query {
    /// Parses a query; `tz` is the IANA zone for dates (server zone if None
    /// or unknown). Unparseable dates are ignored, as Mailpit ignores them.
    pub fn parse(query: &str, tz: Option<&str>) -> Query {
        let zone = tz
            .and_then(|name| jiff::tz::TimeZone::get(name).ok())
            .unwrap_or_else(jiff::tz::TimeZone::system);
        let terms = tokenize(query)
            .into_iter()
            .filter_map(|token| parse_term(&token, &zone))
            .collect();
        Query { terms }
    }

    /// One term searching `text` as written, not read as search syntax:
    /// MailHog's `kind=from|to|containing` searches take plain text, in
    /// which `-`, quotes or `subject:` mean nothing special. `None` when
    /// nothing searchable is left after normalising (such a query would
    /// otherwise match every message).
    pub fn literal(kind: Literal, text: &str) -> Option<Query> {
        let needle = normalize_search(text);
        if needle.is_empty() {
            return None;
        }
        let filter = match kind {
            Literal::From => Filter::From(TextNeedle::boxed(needle)),
            Literal::Recipient => Filter::Recipient(TextNeedle::boxed(needle)),
            Literal::Text => free_text(text)?,
        };
        Some(Query {
            terms: vec![Term {
                negated: false,
                filter,
            }],
        })
    }

    /// Whether the query has no terms, and so matches every message.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Narrows the query to messages received strictly before `micros`
    /// (Unix microseconds): the `before=` parameter of `/api/v1/search`.
    pub fn received_before(mut self, micros: i64) -> Query {
        self.terms.push(Term {
            negated: true,
            filter: Filter::After(micros),
        });
        self
    }

    /// Narrows the query to the mailboxes `scope` sees.
    pub fn scoped(mut self, scope: &Scope) -> Query {
        let (negated, names) = match scope {
            Scope::All => return self,
            Scope::Only(names) => (false, names.clone()),
            Scope::Except(names) if names.is_empty() => return self,
            Scope::Except(names) => (true, names.clone()),
        };
        self.terms.push(Term {
            negated,
            filter: Filter::Mailboxes(names),
        });
        self
    }

    /// The query every message matches.
    pub fn everything() -> Query {
        Query { terms: Vec::new() }
    }

    /// Narrows the query to messages that arrived after sequence number `seq`.
    pub fn arrived_after(mut self, seq: u64) -> Query {
        self.terms.push(Term {
            negated: false,
            filter: Filter::ArrivedAfter(seq),
        });
        self
    }

    /// The lowest sequence number a match can have: past the newest
    /// arrival the query says a match must follow (so an engine can skip
    /// everything older without testing it), else 0.
    pub(super) fn lowest_seq(&self) -> u64 {
        self.terms
            .iter()
            .filter_map(|term| match term.filter {
                Filter::ArrivedAfter(seq) if !term.negated => Some(seq),
                _ => None,
            })
            .max()
            .map_or(0, |seq| seq.saturating_add(1))
    }

    /// The terms, all of which a match satisfies (a database engine turns
    /// them into its own conditions).
    pub(super) fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether `message` satisfies every term.
    pub fn matches(&self, message: &StoredMessage) -> bool {
        self.terms
            .iter()
            .all(|term| term.filter.matches(message) != term.negated)
    }
}

/// Splits on spaces, grouping double-quoted phrases; every `"` is removed.
fn tokenize(query: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Turns one token into a term, or `None` when Mailpit would ignore it: a
/// token with no letter or digit, a field filter with an empty value, or an
/// unparseable date.
fn parse_term(token: &str, zone: &jiff::tz::TimeZone) -> Option<Term> {
    let (negated, body) = match token.strip_prefix(['-', '!']) {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, token),
    };
    if !body.chars().any(char::is_alphanumeric) {
        return None;
    }
    let (key, value) = match body.split_once(':') {
        Some((key, value)) => (key.to_lowercase(), value),
        None => (String::new(), body),
    };
    let text = || {
        Some(normalize_search(value))
            .filter(|v| !v.is_empty())
            .map(TextNeedle::boxed)
    };
    let filter = match key.as_str() {
        "from" => Filter::From(text()?),
        "to" => Filter::To(text()?),
        "cc" => Filter::Cc(text()?),
        "bcc" => Filter::Bcc(text()?),
        "reply-to" => Filter::ReplyTo(text()?),
        "addressed" => Filter::Addressed(text()?),
        "subject" => Filter::Subject(text()?),
        "message-id" => Filter::MessageId(text()?),
        "tag" => Filter::Tag(Some(value.trim().to_string()).filter(|v| !v.is_empty())?),
        "is" | "has" => match (key.as_str(), value.to_lowercase().as_str()) {
            ("is", "read") => Filter::Read,
            ("is", "unread") => {
                return Some(Term {
                    negated: !negated,
                    filter: Filter::Read,
                });
            }
            ("is", "tagged") => Filter::Tagged,
            ("has", "attachment" | "attachments") => Filter::HasAttachment,
            ("has", "inline" | "inlines") => Filter::HasInline,
            // Mailpit searches unknown keywords as free text.
            _ => free_text(body)?,
        },
        "after" => Filter::After(parse_date(value, zone)?),
        "before" => Filter::Before(parse_date(value, zone)?),
        "larger" | "smaller" => match parse_size(value).filter(|size| *size > 0) {
            Some(size) if key == "larger" => Filter::Larger(size),
            Some(size) => Filter::Smaller(size),
            None => free_text(body)?,
        },
        _ => free_text(body)?,
    };
    Some(Term { negated, filter })
}

fn free_text(text: &str) -> Option<Filter> {
    let needle = normalize_search(text);
    (!needle.is_empty()).then(|| Filter::Text(TextNeedle::boxed(needle)))
}

/// Parses a date given as a query parameter (`before=`), in the IANA zone
/// `tz` (the server's zone if absent or unknown), to Unix microseconds.
pub fn parse_date_param(value: &str, tz: Option<&str>) -> Option<i64> {
    let zone = tz
        .and_then(|name| jiff::tz::TimeZone::get(name).ok())
        .unwrap_or_else(jiff::tz::TimeZone::system);
    parse_date(value, &zone)
}

/// Parses the date forms people type: ISO dates and datetimes, RFC 3339,
/// RFC 2822, `yyyy/mm/dd` and US-style `mm/dd/yyyy`, in `zone` unless they
/// carry an offset.
fn parse_date(value: &str, zone: &jiff::tz::TimeZone) -> Option<i64> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    if let Ok(zoned) = jiff::fmt::rfc2822::parse(value) {
        return Some(zoned.timestamp().as_microsecond());
    }
    let civil = if let Ok(dt) = value.parse::<jiff::civil::DateTime>() {
        dt
    } else if let Ok(date) = value.replace('/', "-").parse::<jiff::civil::Date>() {
        date.to_datetime(jiff::civil::Time::midnight())
    } else {
        let mut parts = value.split('/');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        jiff::civil::date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
            .to_datetime(jiff::civil::Time::midnight())
    };
    civil
        .to_zoned(zone.clone())
        .ok()
        .map(|z| z.timestamp().as_microsecond())
}

/// `123`, `10k`, `10kb`, `1.5MB` (binary units, as Mailpit uses).
fn parse_size(value: &str) -> Option<u64> {
    let lower = value.trim().to_ascii_lowercase();
    let (number, multiplier) = if let Some(n) = lower.strip_suffix("kb").or(lower.strip_suffix('k'))
    {
        (n, 1024.0)
    } else if let Some(n) = lower.strip_suffix("mb").or(lower.strip_suffix('m')) {
        (n, 1024.0 * 1024.0)
    } else {
        (lower.as_str(), 1.0)
    };
    let number: f64 = number.parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some((number * multiplier) as u64)
}

impl Filter {
    fn matches(&self, message: &StoredMessage) -> bool {
        let summary = &message.summary;
        let from = std::slice::from_ref(&summary.from);
        match self {
            Filter::Text(needle) => needle.found_in(message),
            Filter::From(needle) => needle.may_be_in(message) && address_matches(from, needle),
            Filter::To(needle) => needle.may_be_in(message) && address_matches(&summary.to, needle),
            Filter::Cc(needle) => needle.may_be_in(message) && address_matches(&summary.cc, needle),
            Filter::Bcc(needle) => {
                needle.may_be_in(message) && address_matches(&summary.bcc, needle)
            }
            Filter::ReplyTo(needle) => {
                needle.may_be_in(message) && address_matches(&summary.reply_to, needle)
            }
            Filter::Addressed(needle) => {
                needle.may_be_in(message)
                    && [
                        from,
                        &summary.to,
                        &summary.cc,
                        &summary.bcc,
                        &summary.reply_to,
                    ]
                    .iter()
                    .any(|list| address_matches(list, needle))
            }
            Filter::Recipient(needle) => {
                needle.may_be_in(message)
                    && [&summary.to, &summary.cc, &summary.bcc]
                        .iter()
                        .any(|list| address_matches(list, needle))
            }
            Filter::Subject(needle) => {
                needle.may_be_in(message) && contains(&summary.subject, needle.text())
            }
            Filter::MessageId(needle) => {
                needle.may_be_in(message) && contains(&summary.message_id, needle.text())
            }
            Filter::Tag(name) => message.has_tag(name),
            Filter::Read => message.is_read(),
            Filter::Tagged => !message.tags().is_empty(),
            Filter::HasAttachment => summary.attachments > 0,
            Filter::HasInline => summary.inline > 0,
            Filter::After(micros) => message.created.as_microsecond() >= *micros,
            Filter::Before(micros) => message.created.as_microsecond() <= *micros,
            Filter::Larger(size) => message.size() as u64 > *size,
            Filter::Smaller(size) => (message.size() as u64) < *size,
            Filter::ArrivedAfter(seq) => message.id.seq > *seq,
            Filter::Mailboxes(names) => names.contains(&message.mailbox),
        }
    }
}

/// Whether `needle` (already normalised) occurs in `haystack` once that is
/// normalised. Field filters run this once per stored message, so the common
/// case, a haystack that normalising would only lower-case, is answered
/// without allocating.
fn contains(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    if is_normal_but_for_case(haystack) {
        return contains_ignoring_ascii_case(haystack.as_bytes(), needle.as_bytes());
    }
    normalize_search(haystack).contains(needle)
}

/// Whether `needle`, lower-case, occurs in `haystack` in any ASCII case:
/// candidates are found by the needle's first byte in either case.
fn contains_ignoring_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let last_start = match haystack.len().checked_sub(needle.len()) {
        Some(last) => last,
        None => return false,
    };
    let candidates = &haystack[..=last_start];
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), candidates)
        .any(|at| haystack[at + 1..at + needle.len()].eq_ignore_ascii_case(rest))
}

/// ASCII text in which [`normalize_search`] would change nothing but case:
/// no stripped characters, and only single spaces between words.
fn is_normal_but_for_case(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut after_space = true;
    for &byte in bytes {
        if !KEPT_AS_IS_BUT_FOR_CASE[usize::from(byte)] || (byte == b' ' && after_space) {
            return false;
        }
        after_space = byte == b' ';
    }
    !after_space || bytes.is_empty()
}

/// The bytes [`normalize_search`] keeps in place (lower-cased): printable
/// ASCII but the characters it strips, and the space.
const KEPT_AS_IS_BUT_FOR_CASE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c == b' '
            || (c.is_ascii_graphic()
                && !matches!(c, b'<' | b'>' | b'"' | b',' | b';' | b'(' | b')'));
        b += 1;
    }
    table
};

fn address_matches(list: &[Address], needle: &TextNeedle) -> bool {
    let needle = needle.text();
    !needle.is_empty()
        && list.iter().any(|a| {
            // A needle without a space cannot span name and address.
            if !needle.contains(' ') && is_normal_but_for_case(&a.name) {
                return contains(&a.name, needle) || contains(&a.address, needle);
            }
            (!a.name.is_empty() || !a.address.is_empty())
                && normalize_search(&format!("{} {}", a.name, a.address)).contains(needle)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_normalising() {
        let haystacks = [
            "Quarterly Report 2025",
            "Re: (urgent) \"quoted\", list; <tag>",
            "  padded  and  spaced  ",
            "Ünïcödé Subject",
            "tab\there",
            "",
            "A",
            " lead",
            "trail ",
            "ReportReport report",
        ];
        let needles = [
            "report",
            "urgent quoted",
            "padded and",
            "ünïcödé",
            "tab here",
            "x",
            "re:",
            "a",
            "rt r",
            "report report",
        ];
        for haystack in haystacks {
            for needle in needles {
                let slow = normalize_search(haystack).contains(needle);
                assert_eq!(
                    contains(haystack, needle),
                    slow,
                    "{haystack:?} / {needle:?}"
                );
            }
        }
        let alice = [Address {
            name: "Alice Example".into(),
            address: "alice@example.com".into(),
        }];
        for needle in ["alice", "example.com", "example alice", "e alice@", "bob"] {
            let slow = normalize_search("Alice Example alice@example.com").contains(needle);
            assert_eq!(
                address_matches(&alice, &TextNeedle::boxed(needle.to_string())),
                slow,
                "{needle:?}"
            );
        }
    }

    #[test]
    fn tokenizes_like_mailpit() {
        assert_eq!(tokenize(r#"subject:"a b" c"#), ["subject:a b", "c"]);
        assert_eq!(tokenize(r#"!"this is" x"#), ["!this is", "x"]);
        assert_eq!(tokenize("  a   b "), ["a", "b"]);
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("10"), Some(10));
        assert_eq!(parse_size("10k"), Some(10240));
        assert_eq!(parse_size("1.5MB"), Some(1572864));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn parses_dates_in_zone() {
        let utc = jiff::tz::TimeZone::UTC;
        let expected = "2025-01-02T00:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(parse_date("2025-01-02", &utc), Some(expected));
        assert_eq!(parse_date("2025/01/02", &utc), Some(expected));
        assert_eq!(parse_date("01/02/2025", &utc), Some(expected));
        assert_eq!(parse_date("garbage", &utc), None);
        assert_eq!(parse_date("2025-01-02 00:00", &utc), Some(expected));
        assert_eq!(
            parse_date("Thu, 2 Jan 2025 01:00:00 +0100", &utc),
            Some(expected)
        );
    }

    #[test]
    fn ignores_what_mailpit_ignores() {
        let utc = jiff::tz::TimeZone::UTC;
        for token in [
            "from:",
            "-subject:",
            "tag:",
            "!",
            "-",
            "after:garbage",
            "...",
        ] {
            assert!(parse_term(token, &utc).is_none(), "{token}");
        }
        assert!(matches!(
            parse_term("is:weird", &utc).map(|t| t.filter),
            Some(Filter::Text(_))
        ));
        assert!(matches!(
            parse_term("larger:0", &utc).map(|t| t.filter),
            Some(Filter::Text(_))
        ));
    }
}
