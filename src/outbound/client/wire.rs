//! The client's side of the SMTP wire, without I/O: replies parsed from
//! bytes (multi-line ones included, with bounded lines), the extensions an
//! EHLO reply offers, and the message dot-stuffed for DATA. The transport
//! ([`super::connection`]) feeds bytes in; nothing here waits or fails
//! other than by saying so.

use memchr::{memchr, memchr2};

/// The longest reply line taken. RFC 5321 sets 512 octets; servers'
/// texts sometimes run longer, so four times that, and no more: a peer
/// that never ends a line must not grow the buffer without bound.
pub(super) const MAX_LINE: usize = 2048;

/// The most lines one reply may have (an EHLO reply has one a keyword).
pub(super) const MAX_LINES: usize = 100;

/// One whole reply: its code and the text of each line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ServerReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl ServerReply {
    /// The lines joined, as the delivery records show them.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

/// What the bytes received so far make.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    /// Not a whole reply yet: more bytes are needed.
    Incomplete,
    /// A reply, and how many bytes of the input it took.
    Reply(ServerReply, usize),
    /// Not an SMTP reply; the text says why.
    Invalid(String),
}

/// Parses the first reply in `input`: lines of a three-digit code, `-`
/// before every line but the last and a space (or nothing) on the last,
/// each ended by CRLF (a bare LF is taken too).
pub(super) fn parse_reply(input: &[u8]) -> Parsed {
    let mut lines = Vec::new();
    let mut code = None;
    let mut pos = 0;
    loop {
        let rest = &input[pos..];
        let Some(end) = memchr(b'\n', rest) else {
            if rest.len() > MAX_LINE {
                return Parsed::Invalid(format!("a reply line is over {MAX_LINE} bytes"));
            }
            return Parsed::Incomplete;
        };
        if end > MAX_LINE {
            return Parsed::Invalid(format!("a reply line is over {MAX_LINE} bytes"));
        }
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += end + 1;
        let (this_code, last, text) = match parse_line(line) {
            Ok(parts) => parts,
            Err(why) => return Parsed::Invalid(why),
        };
        if code.is_some_and(|code| code != this_code) {
            return Parsed::Invalid("the lines of a reply have different codes".into());
        }
        code = Some(this_code);
        lines.push(text);
        if last {
            return Parsed::Reply(
                ServerReply {
                    code: this_code,
                    lines,
                },
                pos,
            );
        }
        if lines.len() >= MAX_LINES {
            return Parsed::Invalid(format!("a reply has over {MAX_LINES} lines"));
        }
    }
}

/// One reply line: its code, whether it is the last, and its text.
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), String> {
    let shown = || String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
    let code = match line.get(..3) {
        Some(digits)
            if digits.iter().all(u8::is_ascii_digit) && (b'2'..=b'5').contains(&digits[0]) =>
        {
            digits
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
        }
        _ => return Err(format!("not an SMTP reply: {:?}", shown())),
    };
    let last = match line.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        Some(_) => return Err(format!("not an SMTP reply: {:?}", shown())),
    };
    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
    Ok((code, last, text))
}

/// What an EHLO reply offers (HELO offers nothing: the default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Extensions {
    /// `SIZE`, with its limit (0 when the server named none).
    pub size: Option<u64>,
    pub pipelining: bool,
    pub starttls: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    /// The AUTH mechanisms, upper-cased.
    pub auth: Vec<String>,
}

impl Extensions {
    /// Reads the keyword lines of an EHLO reply (the first line is the
    /// server's name). Keywords are case-insensitive; unknown ones are
    /// skipped. The older `AUTH=` form is read as `AUTH`.
    pub fn from_ehlo(reply: &ServerReply) -> Extensions {
        let mut extensions = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let keyword = keyword.to_ascii_uppercase();
            match keyword.as_str() {
                "SIZE" => {
                    extensions.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0));
                }
                "PIPELINING" => extensions.pipelining = true,
                "STARTTLS" => extensions.starttls = true,
                "8BITMIME" => extensions.eight_bit_mime = true,
                "SMTPUTF8" => extensions.smtputf8 = true,
                "AUTH" => extensions.add_auth(words),
                _ => {
                    if let Some(first) = keyword.strip_prefix("AUTH=") {
                        extensions.add_auth(std::iter::once(first).chain(words));
                    }
                }
            }
        }
        extensions
    }

    fn add_auth<'a>(&mut self, mechanisms: impl Iterator<Item = &'a str>) {
        for mechanism in mechanisms.map(str::to_ascii_uppercase) {
            if !mechanism.is_empty() && !self.auth.contains(&mechanism) && self.auth.len() < 32 {
                self.auth.push(mechanism);
            }
        }
    }

    /// The largest message the server takes, when it named one.
    pub fn size_limit(&self) -> Option<u64> {
        self.size.filter(|&limit| limit > 0)
    }

    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m == mechanism)
    }
}

/// The message as DATA sends it: byte for byte, except that every line
/// ends with CRLF, a `.` starting a line is doubled, and `.` CRLF ends it.
/// A bare CR or LF in captured mail is sent as CRLF: RFC 5321 allows no
/// other line end on the wire, and a lenient relay could take a bare-LF
/// `.` line for the end of the data and the rest for commands (SMTP
/// smuggling) in a message anyone could have sent to the catcher.
pub(super) fn dot_stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 5);
    let mut rest = raw;
    while !rest.is_empty() {
        let end = memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        let (line, after) = rest.split_at(end);
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
        rest = after
            .strip_prefix(b"\r\n")
            .or_else(|| after.strip_prefix(b"\n"))
            .or_else(|| after.strip_prefix(b"\r"))
            .unwrap_or(after);
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, lines: &[&str]) -> ServerReply {
        ServerReply {
            code,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn parses_single_and_multi_line_replies() {
        assert_eq!(
            parse_reply(b"250 ok\r\nrest"),
            Parsed::Reply(reply(250, &["ok"]), 8)
        );
        assert_eq!(
            parse_reply(b"250-one\r\n250-two\r\n250 three\r\n"),
            Parsed::Reply(reply(250, &["one", "two", "three"]), 29)
        );
        // A bare code, and a bare LF, are taken.
        assert_eq!(parse_reply(b"354\n"), Parsed::Reply(reply(354, &[""]), 4));
        assert_eq!(parse_reply(b"250-one\r\n250 tw"), Parsed::Incomplete);
        assert_eq!(parse_reply(b""), Parsed::Incomplete);
    }

    #[test]
    fn refuses_what_is_not_a_reply() {
        for bad in [
            &b"hello\r\n"[..],
            b"25 short\r\n",
            b"650 no such class\r\n",
            b"250_x\r\n",
            b"250-a\r\n251 b\r\n",
        ] {
            assert!(
                matches!(parse_reply(bad), Parsed::Invalid(_)),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn bounds_line_length_and_line_count() {
        let long = vec![b'x'; MAX_LINE + 1];
        assert!(matches!(parse_reply(&long), Parsed::Invalid(_)));
        let mut long_line = b"250 ".to_vec();
        long_line.extend(vec![b'x'; MAX_LINE]);
        long_line.extend(b"\r\n");
        assert!(matches!(parse_reply(&long_line), Parsed::Invalid(_)));
        let many = "250-x\r\n".repeat(MAX_LINES + 1);
        assert!(matches!(parse_reply(many.as_bytes()), Parsed::Invalid(_)));
        let most = format!("{}250 x\r\n", "250-x\r\n".repeat(MAX_LINES - 1));
        assert!(matches!(parse_reply(most.as_bytes()), Parsed::Reply(..)));
    }

    #[test]
    fn reads_ehlo_keywords() {
        let ehlo = reply(
            250,
            &[
                "relay.example greets you",
                "PIPELINING",
                "size 1000",
                "8BITMIME",
                "SMTPUTF8",
                "STARTTLS",
                "AUTH PLAIN login",
                "AUTH=CRAM-MD5 PLAIN",
                "X-UNKNOWN 1",
                "",
            ],
        );
        let extensions = Extensions::from_ehlo(&ehlo);
        assert_eq!(
            extensions,
            Extensions {
                size: Some(1000),
                pipelining: true,
                starttls: true,
                eight_bit_mime: true,
                smtputf8: true,
                auth: vec!["PLAIN".into(), "LOGIN".into(), "CRAM-MD5".into()],
            }
        );
        assert_eq!(extensions.size_limit(), Some(1000));
        assert!(extensions.offers_auth("CRAM-MD5"));
        // The first line is the server's name, not a keyword.
        let bare = Extensions::from_ehlo(&reply(250, &["PIPELINING", "SIZE"]));
        assert!(!bare.pipelining);
        assert_eq!(bare.size, Some(0));
        assert_eq!(bare.size_limit(), None);
    }

    #[test]
    fn dot_stuffs_and_terminates_byte_exact() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuffed(b".start\r\n"), b"..start\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a\r\n.\r\n..x"), b"a\r\n..\r\n...x\r\n.\r\n");
        assert_eq!(dot_stuffed(b"no end"), b"no end\r\n.\r\n");
        assert_eq!(dot_stuffed(b""), b".\r\n");
        // Bare line ends become CRLF, so no bare-LF "." line can end the
        // data early at a lenient relay.
        assert_eq!(
            dot_stuffed(b"a\n.\r\nRSET\r.x"),
            b"a\r\n..\r\nRSET\r\n..x\r\n.\r\n"
        );
        assert_eq!(dot_stuffed(b"a\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a\r\n\r\n"), b"a\r\n\r\n.\r\n");
    }
}
