//! Receiving message content: dot-stuffed DATA (RFC 5321 §4.5.2) and sized
//! BDAT chunks (RFC 3030), into a size-capped body with protocol warnings.
//!
//! Only `<CRLF>.<CRLF>` ends DATA. A bare LF or bare CR is kept as content
//! and never starts a line for the purpose of finding the end, so none of the
//! SMTP smuggling sequences (`<LF>.<LF>`, `<CR>.<CR>`, `<LF>.<CRLF>`,
//! `<CRLF>.<LF>`) can end a message early.

use memchr::memchr;

/// Appends `content` to `out` as dot-stuffed data: a `.` that begins a line
/// (the content's start, or after a LF) is doubled, every other byte kept.
/// The counterpart of the reading below, for what mailcatch itself sends
/// (sendmail mode's DATA, POP3's RETR and TOP).
pub(crate) fn dot_stuff_into(out: &mut Vec<u8>, content: &[u8]) {
    let mut at_line_start = true;
    for &byte in content {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
}

/// The longest line RFC 5322 allows, excluding CRLF.
const MAX_LINE_OCTETS: usize = 998;

/// Protocol oddities noticed in the content, reported once each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContentFlags {
    pub bare_lf: bool,
    pub bare_cr: bool,
    pub long_line: bool,
    pub eight_bit: bool,
    pub nul: bool,
}

impl ContentFlags {
    pub fn warnings(&self, eight_bit_declared: bool) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.bare_lf {
            warnings.push("bare LF (line ending without CR) in message content".to_string());
        }
        if self.bare_cr {
            warnings.push("bare CR (not followed by LF) in message content".to_string());
        }
        if self.long_line {
            warnings.push(format!(
                "line longer than {MAX_LINE_OCTETS} octets (RFC 5322 §2.1.1)"
            ));
        }
        if self.eight_bit && !eight_bit_declared {
            warnings.push("8-bit data without BODY=8BITMIME or SMTPUTF8".to_string());
        }
        if self.nul {
            warnings.push("NUL byte in message content".to_string());
        }
        warnings
    }
}

/// A message body being received, capped at `max` bytes. Past the cap the
/// rest is still read (to stay in sync with the client) but discarded.
#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub max: usize,
    pub overflowed: bool,
    pub flags: ContentFlags,
}

impl Body {
    pub fn new(max: usize) -> Body {
        Body {
            bytes: Vec::new(),
            max,
            overflowed: false,
            flags: ContentFlags::default(),
        }
    }

    fn append(&mut self, chunk: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.bytes.len() + chunk.len() > self.max {
            self.overflowed = true;
            self.bytes = Vec::new();
            return;
        }
        if !self.flags.eight_bit && chunk.iter().any(|&b| b >= 0x80) {
            self.flags.eight_bit = true;
        }
        if !self.flags.nul && memchr(0, chunk).is_some() {
            self.flags.nul = true;
        }
        self.bytes.extend_from_slice(chunk);
    }
}

/// Reads dot-stuffed DATA content up to the terminating `<CRLF>.<CRLF>`.
#[derive(Debug)]
pub struct DotReader {
    pub body: Body,
    /// True right after a CRLF (and at the start): a `.` here is special.
    at_line_start: bool,
    line_len: usize,
}

/// What a [`DotReader`] made of the input it was given.
#[derive(Debug, PartialEq, Eq)]
pub struct Consumed {
    pub bytes: usize,
    pub finished: bool,
}

impl DotReader {
    pub fn new(max: usize) -> DotReader {
        DotReader {
            body: Body::new(max),
            at_line_start: true,
            line_len: 0,
        }
    }

    /// Consumes as much of `input` as can be decided on. Unconsumed bytes
    /// (a possible start of the terminator, or a trailing CR) must be
    /// offered again with more input appended.
    pub fn consume(&mut self, input: &[u8]) -> Consumed {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            if self.at_line_start && rest[0] == b'.' {
                if rest.starts_with(b".\r\n") {
                    return Consumed {
                        bytes: pos + 3,
                        finished: true,
                    };
                }
                if rest == b"." || rest == b".\r" {
                    break; // Could still become the terminator.
                }
                pos += 1; // Dot-unstuffing: drop the leading dot.
                self.at_line_start = false;
                continue;
            }
            self.at_line_start = false;
            match memchr(b'\n', rest) {
                Some(newline) => {
                    let line = &rest[..=newline];
                    self.take_line_end(line);
                    pos += newline + 1;
                }
                None => {
                    // Hold back a trailing CR: it may be half of a CRLF.
                    let end = if rest.ends_with(b"\r") {
                        rest.len() - 1
                    } else {
                        rest.len()
                    };
                    if end == 0 {
                        break;
                    }
                    self.take_partial(&rest[..end]);
                    pos += end;
                }
            }
        }
        Consumed {
            bytes: pos,
            finished: false,
        }
    }

    /// A piece ending in LF: a proper CRLF line end, or a bare LF.
    fn take_line_end(&mut self, line: &[u8]) {
        let crlf = line.ends_with(b"\r\n");
        let content = &line[..line.len() - if crlf { 2 } else { 1 }];
        if !crlf {
            self.body.flags.bare_lf = true;
        }
        self.note_content(content);
        if self.line_len > MAX_LINE_OCTETS {
            self.body.flags.long_line = true;
        }
        self.body.append(line);
        self.line_len = 0;
        self.at_line_start = crlf;
    }

    /// Content with no LF in it (the line continues in later input).
    fn take_partial(&mut self, piece: &[u8]) {
        self.note_content(piece);
        if self.line_len > MAX_LINE_OCTETS {
            self.body.flags.long_line = true;
        }
        self.body.append(piece);
    }

    fn note_content(&mut self, content: &[u8]) {
        self.line_len += content.len();
        if !self.body.flags.bare_cr && memchr(b'\r', content).is_some() {
            self.body.flags.bare_cr = true;
        }
    }
}

/// Reads one BDAT chunk of a known size; binary-clean, no unstuffing.
#[derive(Debug)]
pub struct ChunkReader {
    pub remaining: usize,
}

impl ChunkReader {
    /// Moves up to `remaining` bytes from `input` into `body` (or discards
    /// them when `body` is None); returns how many bytes were taken.
    pub fn consume(&mut self, input: &[u8], body: Option<&mut Body>) -> usize {
        let take = input.len().min(self.remaining);
        if let Some(body) = body {
            body.append(&input[..take]);
        }
        self.remaining -= take;
        take
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes, as a network would.
    fn read_all(input: &[u8], step: usize) -> (Option<usize>, DotReader) {
        let mut reader = DotReader::new(1 << 20);
        let mut pending = Vec::new();
        let mut offered = 0;
        for piece in input.chunks(step) {
            pending.extend_from_slice(piece);
            let consumed = reader.consume(&pending);
            offered += consumed.bytes;
            pending.drain(..consumed.bytes);
            if consumed.finished {
                return (Some(offered), reader);
            }
        }
        (None, reader)
    }

    #[test]
    fn ends_only_at_crlf_dot_crlf_whatever_the_chunking() {
        let input = b"Subject: x\r\n\r\nhello\r\n..dot\r\n.\r\nNEXT";
        for step in 1..input.len() {
            let (end, reader) = read_all(input, step);
            assert_eq!(end, Some(input.len() - 4), "step {step}");
            assert_eq!(reader.body.bytes, b"Subject: x\r\n\r\nhello\r\n.dot\r\n");
        }
    }

    #[test]
    fn smuggling_sequences_do_not_end_the_message() {
        for smuggle in [&b"\n.\n"[..], b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n"] {
            let mut input = b"a".to_vec();
            input.extend_from_slice(smuggle);
            input.extend_from_slice(b"MAIL FROM:<evil@x>\r\n.\r\n");
            let (end, reader) = read_all(&input, 3);
            assert_eq!(end, Some(input.len()), "{smuggle:?}");
            assert!(
                reader.body.bytes.windows(4).any(|w| w == b"MAIL"),
                "{smuggle:?}"
            );
        }
    }

    #[test]
    fn flags_protocol_oddities() {
        let long = "x".repeat(1200);
        let input = format!("a\nb\rc\r\n{long}\r\n\u{e9}\0\r\n.\r\n");
        let (end, reader) = read_all(input.as_bytes(), 7);
        assert!(end.is_some());
        let flags = reader.body.flags;
        assert!(flags.bare_lf && flags.bare_cr && flags.long_line && flags.eight_bit && flags.nul);
        assert_eq!(reader.body.flags.warnings(true).len(), 4);
    }

    #[test]
    fn oversize_is_read_to_the_end_and_discarded() {
        let mut reader = DotReader::new(10);
        let input = b"0123456789abcdef\r\nmore\r\n.\r\n";
        let consumed = reader.consume(input);
        assert_eq!(
            consumed,
            Consumed {
                bytes: input.len(),
                finished: true
            }
        );
        assert!(reader.body.overflowed);
        assert!(reader.body.bytes.is_empty());
    }

    #[test]
    fn empty_message() {
        let (end, reader) = read_all(b".\r\n", 1);
        assert_eq!(end, Some(3));
        assert!(reader.body.bytes.is_empty());
    }
}
