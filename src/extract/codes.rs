//! One-time codes: the verification codes, OTPs and PINs a test would type
//! back, found in a message's text.
//!
//! A candidate is a whole word of 4 to 10 ASCII digits, or of 4 to 12 ASCII
//! letters and digits with at least one of each; two equal groups of 3 or 4
//! digits split by one space or hyphen (`482 913`, `4829-1357`) count as one
//! code, reported without the separator.
//!
//! A candidate is a code when a keyword stands near it:
//! - on its line, up to 8 words before it or 6 words after it;
//! - or, when its line is short (5 words at most, like `482913` or
//!   `Code: 482913`), in the last 12 words of the nearest non-empty line
//!   above or the first 8 of the line below.
//!
//! Keywords (case-insensitive, whole words unless noted):
//! - strong: `code`, `codes` and compounds ending in them
//!   (`passcode`, `Bestätigungscode`, `Sicherheitscode`, `verificatiecode`,
//!   `inlogcode`), `código`, `codigo`, `codice`, `OTP`, `TOTP`, `PIN`, `TAN`,
//!   `token`, `2FA`, `MFA`; words starting with `verif`/`vérif`
//!   (verify, verification, Verifizierung, vérification, verificación,
//!   verificação, verifica, verificatie), `authent`/`autent`
//!   (authentication, Authentifizierung, authentification, autenticación,
//!   autenticação, autenticazione), `einmal` (Einmalcode, einmalig) and
//!   `eenmalig`; the phrases "one time", "single use", "usage unique",
//!   "solo uso", "uso único".
//! - weaker: words starting with `confirm` (confirmation, confirmación,
//!   confirmação), `conferm`, `bestätig`, `bevestig`, `password`,
//!   `passwort`, `kennwort`, `wachtwoord`, `contraseña`, `senha`, `login`,
//!   `anmeld`, `inlog`; `clave`; "mot de passe".
//! - a code word does not count after `postal`, `zip`, `area`, `country`,
//!   `promo`, `discount`, `coupon`, `voucher`, `gift`, `error`, `status`,
//!   `tracking`, `QR`, `bar` and the like, nor before `postal`, `promo`,
//!   `promocional`, `sconto`, `fiscale`, `descuento`, `desconto`,
//!   `réduction` (also after `de`/`di`/`do`/`da`), and `postcode`,
//!   `zipcode`, `barcode`, `decode`, `unicode`, `Gutscheincode`,
//!   `Rabattcode`, `kortingscode` are not code words.
//!
//! That covers English, German, French, Spanish, Portuguese, Italian and
//! Dutch.
//!
//! Not codes, whatever the keywords:
//! - a word inside a URL or an email address, or in anything with `=`
//!   (`?code=482913`);
//! - numbers joined to other numbers or words by `.`, `/`, `-`, `,`, `:` or
//!   `'` (dates, times, versions, decimals, IP addresses, IDs like
//!   `ABC-1234`, `1990's`);
//! - anything right after `#`, `+`, `&`, `%`, `_`, `~`, `^`, `\` or a
//!   currency sign, or right before `%`, `_`, `°` or a currency sign, or next
//!   to a currency code or word (`#ff0000`, `$1999`, `1999 €`, `EUR 1999`,
//!   `1999 euros`);
//! - phone numbers: 7 or more digits in a run of digit groups that starts
//!   with `+` or `(` or has three or more groups, or a number within two
//!   words after "phone", "tel", "fax", "hotline" and their translations;
//! - years 1900 to 2099 on a line that looks like a date or a copyright
//!   (month or weekday names, `©`, `(c)`, "copyright", "since", "date");
//! - numbers with a unit or ordinal suffix (`14px`, `10min`, `21st`,
//!   `1080p`);
//! - identifiers: a number right after "order", "invoice", "ticket",
//!   "account", "customer", "ID", "request" and the like (also with
//!   "number"/"no."/"Nr." between), in each supported language
//!   (`Bestellnummer`, `commande`, `pedido`, `klantnummer`, ...);
//! - anything on a line with both `{` and `}` (CSS).
//!
//! Ranking: the nearer the keyword (same line before it, then same line
//! after it, the line above, the line below) and the stronger, the better;
//! then a code alone on its line, digits only, six characters, upper case.
//! Each code is reported once, best first, ties in text order, 50 at most.
//!
//! Without any keyword, a message of at most 300 characters whose only
//! candidate is one string reports that string.
//!
//! `Context` is the code's line; when the code stands alone on it, the
//! nearest non-empty line above is put in front. Long lines are cut to about
//! 100 characters either side of the code. Only the first 256 KiB of the text
//! are searched.

use std::cmp::Reverse;
use std::collections::HashSet;

use super::html::is_invisible;
use super::links::url_spans;
use super::{ceil_char_boundary, floor_char_boundary};

/// One likely one-time code found in a message's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// The code itself, without any separator it was written with.
    pub code: String,
    /// The line it stands on, with the nearest non-empty line above in
    /// front when the code stands alone; long lines are cut to about 100
    /// characters either side of it.
    pub context: String,
}

/// How much text is searched.
const MAX_TEXT: usize = 256 * 1024;
/// A message this short with a single candidate needs no keyword.
const SHORT_MESSAGE: usize = 300;
/// How many codes are reported at most.
const MAX_CODES: usize = 50;
/// How far (bytes) around a candidate to look for the URL or address it may
/// be part of.
const CHUNK_REACH: usize = 128;
/// How far (characters) around a candidate a phone number may reach.
const PHONE_REACH: usize = 40;
/// How long a `Context` may be, in characters, around the code.
const CONTEXT_SIDE: usize = 100;

const STRONG: i32 = 100;
const WEAK: i32 = 70;

/// The likely one-time codes of a text body, best first.
pub fn codes(text: &str) -> Vec<Code> {
    let clean: String = text[..floor_char_boundary(text, text.len().min(MAX_TEXT))]
        .chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| if c == '\u{A0}' { ' ' } else { c })
        .collect();
    let lines: Vec<Line<'_>> = clean
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(Line::new)
        .collect();

    let mut found: Vec<Found> = Vec::new();
    let mut all = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        for candidate in line.candidates() {
            if line.excluded(&candidate) {
                continue;
            }
            all.push((index, candidate.clone()));
            let keyword = keyword_score(&lines, index, &candidate);
            if keyword > 0 {
                found.push(Found {
                    score: keyword + form_score(line, &candidate),
                    line: index,
                    candidate,
                });
            }
        }
    }
    if found.is_empty() && clean.trim().chars().count() <= SHORT_MESSAGE {
        let first = all.first().map(|(_, c)| c.code.clone());
        if all.iter().all(|(_, c)| Some(&c.code) == first.as_ref())
            && let Some((line, candidate)) = all.into_iter().next()
        {
            found.push(Found {
                score: 0,
                line,
                candidate,
            });
        }
    }
    // Best first; the sort is stable, so ties stay in text order.
    found.sort_by_key(|f| Reverse(f.score));
    let mut codes: Vec<Code> = Vec::new();
    let mut seen = HashSet::new();
    for f in found {
        if codes.len() == MAX_CODES {
            break;
        }
        if !seen.insert(f.candidate.code.clone()) {
            continue;
        }
        codes.push(Code {
            context: context(&lines, f.line, &f.candidate),
            code: f.candidate.code,
        });
    }
    codes
}

struct Found {
    score: i32,
    line: usize,
    candidate: Candidate,
}

/// A possible code on a line: the words it spans and its byte range.
#[derive(Clone, Debug)]
struct Candidate {
    code: String,
    first: usize,
    last: usize,
    start: usize,
    end: usize,
    grouped: bool,
}

struct Word {
    start: usize,
    end: usize,
    lower: String,
}

struct Line<'a> {
    text: &'a str,
    words: Vec<Word>,
    /// The keyword strength of each word (0 for none).
    keywords: Vec<i32>,
    /// Where the URLs on the line are.
    urls: Vec<(usize, usize)>,
    /// Has both `{` and `}`, like CSS.
    css: bool,
    /// Looks like it carries a date or a copyright notice.
    dated: bool,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Line<'a> {
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push(Word {
                        start: s,
                        end: i,
                        lower: text[s..i].to_lowercase(),
                    });
                    start = None;
                }
                _ => {}
            }
        }
        let keywords = (0..words.len()).map(|i| keyword(&words, i)).collect();
        let lower = text.to_lowercase();
        let dated = lower.contains('©')
            || lower.contains("(c)")
            || words.iter().any(|w| DATE_WORDS.contains(&w.lower.as_str()));
        Line {
            text,
            keywords,
            urls: url_spans(text),
            css: text.contains('{') && text.contains('}'),
            dated,
            words,
        }
    }

    fn word(&self, i: usize) -> &'a str {
        &self.text[self.words[i].start..self.words[i].end]
    }

    fn candidates(&self) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.words.len() {
            if let Some(group) = self.group_at(i) {
                out.push(group);
                i += 2;
                continue;
            }
            let word = self.word(i);
            if is_candidate(word) && self.keywords[i] == 0 {
                out.push(Candidate {
                    code: word.to_string(),
                    first: i,
                    last: i,
                    start: self.words[i].start,
                    end: self.words[i].end,
                    grouped: false,
                });
            }
            i += 1;
        }
        out
    }

    /// Two equal groups of 3 or 4 digits split by one space or hyphen, not
    /// part of a longer run of groups.
    fn group_at(&self, i: usize) -> Option<Candidate> {
        let (a, b) = (self.words.get(i)?, self.words.get(i + 1)?);
        let (first, second) = (self.word(i), self.word(i + 1));
        let digits = |w: &str| w.bytes().all(|b| b.is_ascii_digit());
        let pair = digits(first)
            && digits(second)
            && first.len() == second.len()
            && (3..=4).contains(&first.len())
            && matches!(&self.text[a.end..b.start], " " | "-");
        if !pair {
            return None;
        }
        // A separator then a digit, reading away from the pair.
        let continues = |chars: &mut dyn Iterator<Item = char>| {
            matches!(chars.next(), Some(' ' | '-'))
                && chars.next().is_some_and(|c| c.is_ascii_digit())
        };
        if continues(&mut self.text[..a.start].chars().rev())
            || continues(&mut self.text[b.end..].chars())
        {
            return None;
        }
        Some(Candidate {
            code: format!("{first}{second}"),
            first: i,
            last: i + 1,
            start: a.start,
            end: b.end,
            grouped: true,
        })
    }

    /// Whether a candidate is something else that looks like a code.
    fn excluded(&self, c: &Candidate) -> bool {
        let text = self.text;
        // The whitespace-delimited chunk around it (looked for nearby only:
        // longer URLs are in `urls`).
        let floor = floor_char_boundary(text, c.start.saturating_sub(CHUNK_REACH));
        let ceil = ceil_char_boundary(text, c.end + CHUNK_REACH);
        let chunk_start = text[floor..c.start]
            .char_indices()
            .rev()
            .find(|(_, ch)| ch.is_whitespace())
            .map_or(floor, |(i, ch)| floor + i + ch.len_utf8());
        let chunk_end = text[c.end..ceil]
            .find(char::is_whitespace)
            .map_or(ceil, |i| c.end + i);
        let chunk = &text[chunk_start..chunk_end];
        if chunk.contains("://")
            || chunk.contains('@')
            || chunk.contains('=')
            || chunk
                .trim_start_matches(['(', '[', '<', '"', '\''])
                .get(..4)
                .is_some_and(|start| start.eq_ignore_ascii_case("www."))
            || self.urls.iter().any(|&(s, e)| s < c.end && e > c.start)
            || self.css
        {
            return true;
        }
        let mut before = text[..c.start].chars().rev();
        let (p, pp) = (before.next(), before.next());
        let mut after = text[c.end..].chars();
        let (n, nn) = (after.next(), after.next());
        let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let joined = |sep: Option<char>, other: Option<char>| match sep {
            Some('.' | '/' | '-' | '\'') => alnum(other),
            Some(',' | ':') => digit(other),
            _ => false,
        };
        if matches!(p, Some('#' | '+' | '&' | '%' | '\\' | '_' | '~' | '^'))
            || p.is_some_and(is_currency_sign)
            || matches!(n, Some('%' | '_' | '°' | '²' | '³'))
            || n.is_some_and(is_currency_sign)
            || joined(p, pp)
            || joined(n, nn)
        {
            return true;
        }
        let previous = |back: usize| {
            c.first
                .checked_sub(back)
                .map(|i| self.words[i].lower.as_str())
        };
        let next = self.words.get(c.last + 1).map(|w| w.lower.as_str());
        let spaced_before = text[..c.start].trim_end_matches(' ');
        let spaced_after = text[c.end..].trim_start_matches(' ');
        let currency_before = previous(1).is_some_and(|w| CURRENCIES.contains(&w))
            && self.words[c.first - 1].end + 1 >= c.start;
        let currency_after = next
            .is_some_and(|w| CURRENCIES.contains(&w) || CURRENCY_WORDS.contains(&w))
            && self.words[c.last + 1].start <= c.end + 1;
        if spaced_before.ends_with(is_currency_sign)
            || spaced_after.starts_with(is_currency_sign)
            || currency_before
            || currency_after
        {
            return true;
        }
        // "order 1234", "Bestellnummer: 1234", "order no. 1234"
        let labelled = previous(1).is_some_and(|w| LABELS.contains(&w))
            || previous(1).is_some_and(|w| NUMBER_WORDS.contains(&w))
                && previous(2).is_some_and(|w| LABELS.contains(&w));
        if labelled
            || (1..=2).any(|back| previous(back).is_some_and(|w| PHONE_WORDS.contains(&w)))
            || self.phone_number(c)
        {
            return true;
        }
        let code = c.code.as_str();
        if code.len() == 4
            && !c.grouped
            && code
                .parse::<u32>()
                .is_ok_and(|y| (1900..=2099).contains(&y))
            && self.dated
        {
            return true;
        }
        has_unit(code)
    }

    /// Whether a candidate sits in a phone number: a run of digit groups
    /// (joined by single spaces, `-`, `.`, `/`, parentheses) with 7 or more
    /// digits that starts with `+` or `(` or has three or more groups.
    fn phone_number(&self, c: &Candidate) -> bool {
        let part =
            |ch: char| ch.is_ascii_digit() || matches!(ch, ' ' | '-' | '.' | '/' | '(' | ')' | '+');
        let text = self.text;
        let mut start = c.start;
        for (i, ch) in text[..c.start].char_indices().rev().take(PHONE_REACH) {
            if !part(ch) || (ch == ' ' && text[..i].ends_with(' ')) {
                break;
            }
            start = i;
        }
        let mut end = c.end;
        for (i, ch) in text[c.end..].char_indices().take(PHONE_REACH) {
            if !part(ch) || (ch == ' ' && text[c.end + i + 1..].starts_with(' ')) {
                break;
            }
            end = c.end + i + 1;
        }
        let run = text[start..end]
            .trim_start_matches(|ch: char| !ch.is_ascii_digit() && ch != '+' && ch != '(')
            .trim_end_matches(|ch: char| !ch.is_ascii_digit());
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        let groups = run
            .split(|ch: char| !ch.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .count();
        digits >= 7 && (run.starts_with('+') || run.starts_with('(') || groups >= 3)
    }
}

/// 4 to 10 digits, or 4 to 12 ASCII letters and digits with both.
fn is_candidate(word: &str) -> bool {
    if !word.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    if digits == word.len() {
        (4..=10).contains(&digits)
    } else {
        digits > 0 && (4..=12).contains(&word.len())
    }
}

/// A number with a unit or ordinal suffix (`14px`, `10min`, `2nd`).
fn has_unit(code: &str) -> bool {
    let letters = code.trim_start_matches(|c: char| c.is_ascii_digit());
    letters.len() < code.len()
        && letters.bytes().all(|b| b.is_ascii_alphabetic())
        && UNITS.contains(&letters.to_ascii_lowercase().as_str())
}

fn is_currency_sign(c: char) -> bool {
    matches!(
        c,
        '$' | '€' | '£' | '¥' | '₹' | '₽' | '₩' | '¢' | '₺' | '₪' | '฿'
    )
}

/// The keyword strength of word `i` of a line (0 when it is none).
fn keyword(words: &[Word], i: usize) -> i32 {
    let word = words[i].lower.as_str();
    let at = |k: Option<usize>| k.and_then(|k| words.get(k)).map(|w| w.lower.as_str());
    let previous = at(i.checked_sub(1));
    if is_code_word(word) {
        let next = match at(Some(i + 1)) {
            Some("de" | "di" | "do" | "da" | "du") => at(Some(i + 2)),
            next => next,
        };
        if previous.is_some_and(|p| NOT_BEFORE_CODE.contains(&p))
            || next.is_some_and(|n| NOT_AFTER_CODE.contains(&n))
        {
            return 0;
        }
        return STRONG;
    }
    if STRONG_WORDS.contains(&word) || STRONG_PREFIXES.iter().any(|p| word.starts_with(p)) {
        return STRONG;
    }
    let phrase = previous.map(|p| (p, word));
    if matches!(
        phrase,
        Some(("one", "time") | ("single", "use") | ("usage", "unique") | ("solo", "uso"))
            | Some(("uso", "único" | "unico"))
    ) {
        return STRONG;
    }
    if WEAK_PREFIXES.iter().any(|p| word.starts_with(p))
        || word == "clave"
        || (phrase == Some(("de", "passe")) && at(i.checked_sub(2)) == Some("mot"))
    {
        return WEAK;
    }
    0
}

fn is_code_word(word: &str) -> bool {
    matches!(
        word,
        "código" | "códigos" | "codigo" | "codigos" | "codice" | "codici"
    ) || (word.ends_with("code") || word.ends_with("codes"))
        && !NOT_CODE_WORDS.contains(&word.trim_end_matches('s'))
}

/// The best keyword nearness for a candidate, 0 when no keyword is near.
fn keyword_score(lines: &[Line<'_>], index: usize, c: &Candidate) -> i32 {
    let line = &lines[index];
    let mut best = 0;
    // Same line, before: up to 8 words between.
    for k in c.first.saturating_sub(9)..c.first {
        let gap = (c.first - k - 1) as i32;
        best = best.max(line.keywords[k] - 3 * gap);
    }
    // Same line, after: up to 6 words between.
    for k in c.last + 1..line.words.len().min(c.last + 8) {
        let gap = (k - c.last - 1) as i32;
        best = best.max(line.keywords[k] - 10 - 3 * gap);
    }
    if line.words.len() <= 5 {
        let before = c.first as i32;
        let after = (line.words.len() - 1 - c.last) as i32;
        if let Some(above) = index.checked_sub(1).map(|i| &lines[i]) {
            let n = above.words.len();
            for k in n.saturating_sub(12)..n {
                let gap = (n - 1 - k) as i32 + before;
                best = best.max(above.keywords[k] - 15 - gap);
            }
        }
        if let Some(below) = lines.get(index + 1) {
            for k in 0..below.words.len().min(8) {
                let gap = k as i32 + after;
                best = best.max(below.keywords[k] - 25 - 2 * gap);
            }
        }
    }
    best.max(0)
}

/// How much a candidate looks like a code by itself.
fn form_score(line: &Line<'_>, c: &Candidate) -> i32 {
    let mut score = 0;
    if line.words.len() == c.last - c.first + 1 {
        score += 20;
    }
    let digits_only = c.code.bytes().all(|b| b.is_ascii_digit());
    if digits_only {
        score += 10;
    } else if !c.code.bytes().any(|b| b.is_ascii_lowercase()) {
        score += 5;
    }
    if c.grouped {
        score += 5;
    }
    score += match c.code.len() {
        6 => 6,
        4..=8 => 3,
        _ => 0,
    };
    score
}

/// The code's line; the line above in front when the code is alone on it.
fn context(lines: &[Line<'_>], index: usize, c: &Candidate) -> String {
    let line = &lines[index];
    let alone = line.words.len() == c.last - c.first + 1;
    let around = window(line.text, c.start, c.end);
    match index.checked_sub(1).map(|i| &lines[i]) {
        Some(above) if alone => {
            let above = window(above.text, above.text.len(), above.text.len());
            format!("{above} {around}")
        }
        _ => around,
    }
}

/// `text` cut to about `CONTEXT_SIDE` characters either side of
/// `start..end`, at spaces, with `…` where it was cut.
fn window(text: &str, start: usize, end: usize) -> String {
    let mut from = start;
    for (taken, (i, _)) in text[..start].char_indices().rev().enumerate() {
        if taken >= CONTEXT_SIDE {
            break;
        }
        from = i;
    }
    let mut to = end;
    for (taken, (i, c)) in text[end..].char_indices().enumerate() {
        if taken >= CONTEXT_SIDE {
            break;
        }
        to = end + i + c.len_utf8();
    }
    let mut out = String::new();
    if from > 0 {
        let cut = text[from..start].find(' ').map_or(from, |s| from + s + 1);
        out.push('…');
        out.push_str(&text[cut..start]);
    } else {
        out.push_str(&text[..start]);
    }
    out.push_str(&text[start..end]);
    if to < text.len() {
        let cut = text[end..to].rfind(' ').map_or(to, |s| end + s);
        out.push_str(text[end..cut].trim_end());
        out.push('…');
    } else {
        out.push_str(&text[end..]);
    }
    out
}

const STRONG_WORDS: &[&str] = &[
    "otp", "otps", "totp", "pin", "pins", "tan", "tans", "token", "tokens", "2fa", "mfa",
];

const STRONG_PREFIXES: &[&str] = &["verif", "vérif", "authent", "autent", "einmal", "eenmalig"];

const WEAK_PREFIXES: &[&str] = &[
    "confirm",
    "conferm",
    "bestätig",
    "bevestig",
    "password",
    "passwort",
    "kennwort",
    "wachtwoord",
    "contraseña",
    "contrasena",
    "senha",
    "login",
    "anmeld",
    "inlog",
];

/// Words ending in "code" that are not about one-time codes (singular).
const NOT_CODE_WORDS: &[&str] = &[
    "postcode",
    "zipcode",
    "barcode",
    "qrcode",
    "promocode",
    "gutscheincode",
    "rabattcode",
    "aktionscode",
    "kortingscode",
    "actiecode",
    "vouchercode",
    "couponcode",
    "sourcecode",
    "quellcode",
    "strichcode",
    "decode",
    "encode",
    "unicode",
    "transcode",
    "opcode",
    "geocode",
    "shortcode",
    "hashcode",
    "keycode",
    "charcode",
    "errorcode",
    "statuscode",
    "landcode",
    "ländercode",
    "colorcode",
    "farbcode",
    "kleurcode",
];

/// A code word after one of these is some other kind of code.
const NOT_BEFORE_CODE: &[&str] = &[
    "postal",
    "post",
    "zip",
    "area",
    "country",
    "promo",
    "promotional",
    "discount",
    "coupon",
    "voucher",
    "gift",
    "error",
    "status",
    "source",
    "color",
    "colour",
    "tracking",
    "bar",
    "qr",
    "dialing",
    "dialling",
    "iso",
    "currency",
    "swift",
    "bic",
    "sort",
    "html",
    "css",
    "exit",
    "response",
    "http",
    "product",
    "tax",
    "referral",
    "language",
    "region",
    "dress",
    "morse",
];

/// A code word before one of these (or before `de`/`di`/`do`/`da` and one of
/// these) is some other kind of code.
const NOT_AFTER_CODE: &[&str] = &[
    "postal",
    "postale",
    "promo",
    "promocional",
    "promotionnel",
    "promozionale",
    "sconto",
    "fiscale",
    "descuento",
    "desconto",
    "réduction",
    "reduction",
    "barras",
    "barres",
    "erreur",
    "error",
    "erro",
    "errore",
    "pays",
    "país",
    "pais",
];

/// Numbers right after these (or after these and a [`NUMBER_WORDS`] word)
/// are identifiers, not codes.
const LABELS: &[&str] = &[
    "order",
    "invoice",
    "ticket",
    "reference",
    "ref",
    "account",
    "customer",
    "member",
    "booking",
    "transaction",
    "tracking",
    "case",
    "shipment",
    "zip",
    "postcode",
    "plz",
    "id",
    "request",
    "session",
    "user",
    "version",
    "build",
    "serial",
    "item",
    "sku",
    "bestellung",
    "artikel",
    "bestellnummer",
    "rechnung",
    "rechnungsnummer",
    "kundennummer",
    "auftrag",
    "auftragsnummer",
    "buchung",
    "sendung",
    "commande",
    "facture",
    "référence",
    "reservation",
    "réservation",
    "pedido",
    "factura",
    "referencia",
    "reserva",
    "encomenda",
    "fatura",
    "bestelling",
    "factuur",
    "klantnummer",
    "ordine",
    "fattura",
    "prenotazione",
];

/// Between a label and its number: "order no. 1234".
const NUMBER_WORDS: &[&str] = &[
    "number", "no", "nr", "num", "nummer", "numéro", "numero", "número", "id",
];

/// Numbers right after these (or one word later) are phone numbers.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "telefon",
    "téléphone",
    "teléfono",
    "telefone",
    "telefoon",
    "telefono",
    "fax",
    "whatsapp",
    "hotline",
];

const CURRENCIES: &[&str] = &[
    "usd", "eur", "gbp", "chf", "jpy", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk",
    "huf", "brl", "mxn", "ars", "inr", "cny", "hkd", "sgd", "zar", "try", "rub",
];

const CURRENCY_WORDS: &[&str] = &[
    "euro", "euros", "dollar", "dollars", "pounds", "cents", "reais", "pesos", "franken", "francs",
];

const UNITS: &[&str] = &[
    "st", "nd", "rd", "th", "px", "em", "rem", "pt", "pc", "vh", "vw", "ms", "s", "sec", "secs",
    "min", "mins", "h", "hr", "hrs", "d", "k", "m", "x", "kb", "mb", "gb", "tb", "am", "pm", "hz",
    "khz", "mhz", "ghz", "mm", "cm", "km", "kg", "g", "mg", "ml", "l", "dpi", "fps", "p", "i",
    "kbps", "mbps", "gbps", "mah", "kw", "kwh", "w", "v",
];

/// Month and weekday names (full and abbreviated) in the supported
/// languages, and words that come with years.
const DATE_WORDS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "januar",
    "februar",
    "märz",
    "mai",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "janvier",
    "février",
    "mars",
    "avril",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
    "janeiro",
    "fevereiro",
    "março",
    "maio",
    "junho",
    "julho",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
    "januari",
    "februari",
    "maart",
    "mei",
    "augustus",
    "gennaio",
    "febbraio",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "settembre",
    "ottobre",
    "dicembre",
    "copyright",
    "since",
    "seit",
    "depuis",
    "desde",
    "sinds",
    "dal",
    "year",
    "jahr",
    "année",
    "año",
    "ano",
    "anno",
    "jaar",
    "date",
    "datum",
    "fecha",
    "data",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn best(text: &str) -> Option<String> {
        codes(text).into_iter().next().map(|c| c.code)
    }

    fn all(text: &str) -> Vec<String> {
        codes(text).into_iter().map(|c| c.code).collect()
    }

    /// A long, keyword-free filler that turns the short-message rule off.
    fn long(text: &str) -> String {
        format!(
            "{text}\n\n{}",
            "Thanks for being with us all this time. ".repeat(15)
        )
    }

    #[test]
    fn candidate_shapes() {
        for yes in [
            "1234",
            "123456",
            "1234567890",
            "A1B2",
            "K7P2QX",
            "ab12cd34ef56",
            "0000",
        ] {
            assert!(is_candidate(yes), "{yes}");
        }
        for no in [
            "123",
            "12345678901",
            "ABCD",
            "abcdefgh",
            "A1B",
            "ABCDEF1234567",
            "12\u{e9}4",
            "१२३४",
        ] {
            assert!(!is_candidate(no), "{no}");
        }
    }

    #[test]
    fn codes_next_to_keywords_in_english() {
        let cases = [
            ("Your verification code is 482913.", "482913"),
            ("Your verification code is: 482913", "482913"),
            ("Use code 4821 to sign in", "4821"),
            ("482913 is your Acme verification code.", "482913"),
            ("Your OTP: 90210345", "90210345"),
            ("PIN: 7301", "7301"),
            ("Your one-time passcode is K7P2QX", "K7P2QX"),
            ("Your security token: ab12cd34", "ab12cd34"),
            (
                "Enter the code below:\n\n   482913\n\nIt expires in 10 minutes.",
                "482913",
            ),
            ("Your code\n482913", "482913"),
            ("482913\nis your sign-in code", "482913"),
            ("Your code is *482913*", "482913"),
            ("Your code is \"482913\".", "482913"),
            ("Your code: [482913]", "482913"),
            ("Your 2FA code: 482 913", "482913"),
            ("Your code: 4829-1357", "48291357"),
            ("Verify your email with 55213", "55213"),
            ("Authentication code\u{a0}551902", "551902"),
            ("Your temporary password: Xk83mPq2", "Xk83mPq2"),
            ("Your code is 2024", "2024"),
        ];
        for (text, code) in cases {
            assert_eq!(best(&long(text)).as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn codes_in_other_languages() {
        let cases = [
            ("Ihr Bestätigungscode lautet 739215.", "739215"),
            ("Ihr Sicherheitscode: 5521", "5521"),
            ("Ihre TAN: 881204", "881204"),
            ("Votre code de vérification est 583107", "583107"),
            ("Code à usage unique : 66120934", "66120934"),
            ("Tu código de seguridad es K7P2QX", "K7P2QX"),
            ("Seu código de acesso é 4821.", "4821"),
            ("Il tuo codice di verifica è 310775", "310775"),
            ("Je verificatiecode is 902114", "902114"),
            ("Uw eenmalige inlogcode: 66120934", "66120934"),
            ("Bitte bestätigen Sie mit 640213", "640213"),
            ("Confirme su cuenta con 902114", "902114"),
        ];
        for (text, code) in cases {
            assert_eq!(best(&long(text)).as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn best_candidate_first() {
        let text = long(
            "Hi Bob,\n\nWe received a sign-in request for account 12345678 on 3 March 2025.\n\n\
Your verification code is:\n\n482913\n\nThis code expires in 10 minutes. Reference code 7781.\n\n\
© 2025 Acme Inc., 1600 Example Avenue, Springfield 62704",
        );
        let found = codes(&text);
        assert_eq!(found[0].code, "482913");
        assert_eq!(found[0].context, "Your verification code is: 482913");
        let codes: Vec<_> = found.iter().map(|c| c.code.as_str()).collect();
        assert!(!codes.contains(&"12345678"), "{codes:?}");
        assert!(!codes.contains(&"2025"), "{codes:?}");
        assert!(!codes.contains(&"62704"), "{codes:?}");
        // A code alone on its line beats one buried in a sentence.
        let text = long("Use code 1111 in the app or code:\n2222");
        assert_eq!(all(&text), ["2222", "1111"]);
        // Digits beat letters and digits; nearer beats farther.
        assert_eq!(
            all(&long("Code A1B2C3 or code 918273")),
            ["918273", "A1B2C3"]
        );
        assert_eq!(
            all(&long(
                "Your code for the new device named Kitchen7 is 551902"
            )),
            ["551902", "Kitchen7"]
        );
    }

    #[test]
    fn each_code_once() {
        let text = long("Your code is 482913.\n\nCode: 482913\n\nAgain: code 482913");
        let found = codes(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].context, "Code: 482913");
    }

    #[test]
    fn the_only_candidate_of_a_short_message() {
        assert_eq!(all("Hi Sam,\n\n551902\n\nThanks"), ["551902"]);
        assert_eq!(all("Hi Sam,\n\n551902 or 551902\n\nThanks"), ["551902"]);
        assert_eq!(
            all("Hi Sam,\n\n551902 or 771234\n\nThanks"),
            Vec::<String>::new()
        );
        assert_eq!(
            all(&long("Hi Sam,\n\n551902\n\nThanks")),
            Vec::<String>::new()
        );
        assert_eq!(all(""), Vec::<String>::new());
        assert_eq!(
            all("Hi Sam, see you at 10:30 on 2025-03-01."),
            Vec::<String>::new()
        );
        // Identifiers are not codes even then, and 300 characters is short.
        assert_eq!(all("Hi Sam,\n\nRequest ID: 8f3a2c1b"), Vec::<String>::new());
        let filler = "Nothing else to see here. ".repeat(11);
        assert_eq!(all(&format!("{filler}\n551902")), ["551902"]);
        let filler = "Nothing else to see here. ".repeat(12);
        assert_eq!(all(&format!("{filler}\n551902")), Vec::<String>::new());
    }

    #[test]
    fn urls_emails_and_parameters_are_not_codes() {
        for text in [
            "Your code: https://x.test/verify/482913",
            "Your code: https://x.test/v?code=482913&u=1",
            "Your code is in www.x482913.test",
            "Verification code sent to user482913@x.test",
            "Your code: code=482913",
            "Your code (see <https://x.test/c/482913>)",
            "Verification token: mailto:t4821@x.test",
        ] {
            assert_eq!(all(&long(text)), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn numbers_that_are_something_else() {
        for text in [
            // Dates, times, versions, decimals, addresses, IDs.
            "Verification code sent on 2025-03-01",
            "Verification code sent on 01/03/2025 at 10:30",
            "Verification code sent on 01.03.2025",
            "Verification code sent on 3 March 2025",
            "Verification code sent Mon, 3 Mar 2025",
            "Verification code version 1.2345",
            "Code issued by 192.168.1.1",
            "Code ID 3f2a-91bc-4d7e",
            "Code: ABC-1234",
            "Code: 1,234",
            // Years in a copyright line.
            "© 2025 Acme — verification codes since 1999",
            "Copyright 2024 Acme. All codes reserved.",
            // Hex colours, anchors, references.
            "Code colour #ff0000 and #1a2b3c",
            "Code for issue #4821",
            // Prices.
            "Code SAVE: $1999 or 1999 € or EUR 2999 or 4999 USD or 15000 euros",
            "Codes cost £2500",
            // Percentages, units, ordinals.
            "Code gives 1000% more",
            "Code block: 1200px wide, 10min, 21st, 1080p, 60fps",
            // Phone numbers.
            "Code questions? Call +1 555 010 2030",
            "Code questions? Call (030) 1234567",
            "Code hotline 0800 123 4567",
            "Verification code support: tel. 5550100",
            "Code help: Telefon 89123456",
            // Labels.
            "Your code for order 12345 is pending",
            "Verification code for invoice no. 987654 is pending",
            "Code: Bestellnummer 4432187",
            // CSS that leaked into text.
            "code { color: red; width: 4821 }",
            // Other kinds of code.
            "Postal code 62704",
            "Zip code: 90210",
            "Use promo code SPRING25 for 25% off",
            "Discount code SAVE2025 applies",
            "Code postal : 75008",
            "Código postal 28013",
            "Código de descuento VERANO24",
            "Your postcode: 1234",
            "Error code 5042",
            "Scan the QR code 8812",
            "Barcode 40012345",
            "Gutscheincode WINTER24",
        ] {
            assert_eq!(all(&long(text)), Vec::<String>::new(), "{text}");
        }
    }

    #[test]
    fn keywords_too_far_away_do_not_count() {
        let text = long(
            "Your verification code will be sent separately once the team has looked at \
the request you made from the device 4821",
        );
        assert_eq!(all(&text), Vec::<String>::new());
        // A long line does not borrow the keyword of the line above.
        let text = long(
            "Your verification code\nWe shipped parcel number 5 of 7 today from warehouse 4821",
        );
        assert_eq!(all(&text), Vec::<String>::new());
        // Nor does a short line borrow from two lines up.
        let text = long("Your verification code\nis on its way\n4821");
        assert_eq!(all(&text), Vec::<String>::new());
    }

    #[test]
    fn context_is_the_line() {
        let found = codes(&long(
            "Hello\n  Your code is 482913, valid for 10 minutes.  \nBye",
        ));
        assert_eq!(
            found[0].context,
            "Your code is 482913, valid for 10 minutes."
        );
        let found = codes(&long("Code:\n\n482 913\n"));
        assert_eq!(found[0].code, "482913");
        assert_eq!(found[0].context, "Code: 482 913");
        let found = codes("482913");
        assert_eq!(found[0].context, "482913");
        let filler = "word ".repeat(60);
        let found = codes(&format!("{filler}your code is 482913 {filler}"));
        let context = &found[0].context;
        assert!(
            context.starts_with('…') && context.ends_with('…'),
            "{context}"
        );
        assert!(context.contains("your code is 482913 word"), "{context}");
        assert!(
            context.chars().count() <= 2 * CONTEXT_SIDE + 10,
            "{context}"
        );
    }

    #[test]
    fn keyword_words() {
        let strength = |line: &str, word: &str| {
            let line = Line::new(line);
            let i = line.words.iter().position(|w| w.lower == word).unwrap();
            line.keywords[i]
        };
        assert_eq!(strength("Your Code", "code"), STRONG);
        assert_eq!(strength("Passcodes", "passcodes"), STRONG);
        assert_eq!(strength("Ihr Bestätigungscode", "bestätigungscode"), STRONG);
        assert_eq!(strength("one-time", "time"), STRONG);
        assert_eq!(strength("mot de passe", "passe"), WEAK);
        assert_eq!(strength("Confirmation", "confirmation"), WEAK);
        assert_eq!(strength("postal code", "code"), 0);
        assert_eq!(strength("code de réduction", "code"), 0);
        assert_eq!(strength("postcode", "postcode"), 0);
        assert_eq!(strength("decode", "decode"), 0);
        assert_eq!(strength("a time", "time"), 0);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "\u{0}\u{1}code 1234\u{7f}",
            "code ١٢٣٤٥٦",
            "code 1234\u{200b}5678",
            "код 482913",
            "コード: 482913",
            "code\r\n\r\n482913\r\n",
            "  \n \t\n",
            "code 1234 5678 9012 3456",
            "code 123 456 789",
            "+",
            "(",
            "code (",
            "code 4821(",
        ] {
            let _ = codes(text);
        }
        assert_eq!(best("コード: 482913").as_deref(), Some("482913"));
        assert_eq!(best("code\r\n\r\n482913\r\n").as_deref(), Some("482913"));
        assert_eq!(
            best(&long("code 1234\u{200b}5678")).as_deref(),
            Some("12345678")
        );
        // Past the first 256 KiB nothing is read.
        let big = format!("{}code 482913", "\n".repeat(MAX_TEXT));
        assert_eq!(all(&big), Vec::<String>::new());
        let big = "code 482913\n".repeat(30_000);
        assert_eq!(all(&big), ["482913"]);
        // Long lines full of candidates.
        let line: String = (100_000..110_000).map(|n| format!("code {n} ")).collect();
        let found = all(&line);
        assert_eq!(found.len(), MAX_CODES);
        assert_eq!(found[0], "100000");
        let line: String = (100_000..110_000).map(|n| format!("{n},")).collect();
        assert_eq!(all(&format!("code {line}")), Vec::<String>::new());
        let spaces = format!("code{}1234", "\u{3000}".repeat(50_000));
        let _ = codes(&spaces);
    }
}
