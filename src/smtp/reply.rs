//! SMTP replies: a code, an enhanced status code and text, possibly multi-line.

use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// One entry per line; the enhanced status code, if any, is part of the text.
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            lines: vec![text.into()],
        }
    }

    pub fn multiline(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, lines }
    }

    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// Counts against the session's error budget: the client did something wrong.
    pub fn is_client_error(&self) -> bool {
        matches!(self.code, 500..=504 | 530 | 535 | 538 | 553 | 555)
    }

    pub fn closes_connection(&self) -> bool {
        self.code == 221 || self.code == 421
    }

    /// Appends the wire form to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        let mut text = String::new();
        for (index, line) in self.lines.iter().enumerate() {
            let separator = if index == last { ' ' } else { '-' };
            let _ = write!(text, "{}{}{}\r\n", self.code, separator, line);
        }
        if self.lines.is_empty() {
            let _ = write!(text, "{}\r\n", self.code);
        }
        out.extend_from_slice(text.as_bytes());
    }

    /// The first line as it goes on the wire, without CRLF (for logs and events).
    pub fn summary(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.first().map_or("", String::as_str)
        )
    }

    // The replies the session uses more than once.

    pub fn ok() -> Reply {
        Reply::new(250, "2.0.0 Ok")
    }

    pub fn bad_sequence(text: &str) -> Reply {
        Reply::new(503, format!("5.5.1 {text}"))
    }

    pub fn syntax(text: &str) -> Reply {
        Reply::new(501, format!("5.5.4 {text}"))
    }

    pub fn unrecognized() -> Reply {
        Reply::new(500, "5.5.2 Syntax error, command unrecognized")
    }

    pub fn line_too_long() -> Reply {
        Reply::new(500, "5.5.2 Line too long")
    }

    pub fn too_big(max: usize) -> Reply {
        Reply::new(
            552,
            format!("5.3.4 Message size exceeds fixed maximum message size ({max} bytes)"),
        )
    }

    pub fn starttls_first() -> Reply {
        Reply::new(530, "5.7.0 Must issue a STARTTLS command first")
    }

    pub fn auth_required() -> Reply {
        Reply::new(530, "5.7.0 Authentication required")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_single_and_multi_line() {
        let mut out = Vec::new();
        Reply::ok().write_to(&mut out);
        Reply::multiline(250, vec!["a".into(), "b".into()]).write_to(&mut out);
        assert_eq!(out, b"250 2.0.0 Ok\r\n250-a\r\n250 b\r\n");
    }
}
