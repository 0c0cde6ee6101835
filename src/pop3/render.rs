//! The bytes a POP3 client receives for RETR and TOP: the stored message
//! as it is, dot-stuffed and terminated.

use crate::smtp::data::dot_stuff_into;

/// The whole reply to RETR (`top` None) or TOP (`top` the body lines
/// wanted) of a message with these raw bytes: `+OK`, the bytes exactly as
/// stored with every line that starts with `.` dot-stuffed, a line end
/// added if the message lacks a final one, and the `.` terminator.
pub fn render(raw: &[u8], top: Option<usize>) -> Vec<u8> {
    let body = match top {
        None => raw,
        Some(lines) => &raw[..top_len(raw, lines)],
    };
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 32);
    out.extend_from_slice(
        match top {
            None => format!("+OK {} octets\r\n", raw.len()).into_bytes(),
            Some(_) => b"+OK top of message follows\r\n".to_vec(),
        }
        .as_slice(),
    );
    dot_stuff_into(&mut out, body);
    if !body.is_empty() && !body.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// How many bytes of `raw` make its header, the blank line after it, and
/// `lines` lines of its body.
fn top_len(raw: &[u8], lines: usize) -> usize {
    let mut pos = 0;
    // The header: up to and including the first empty line.
    loop {
        let Some(end) = next_line_end(raw, pos) else {
            return raw.len();
        };
        let blank = matches!(&raw[pos..end], b"\n" | b"\r\n");
        pos = end;
        if blank {
            break;
        }
    }
    for _ in 0..lines {
        match next_line_end(raw, pos) {
            Some(end) => pos = end,
            None => return raw.len(),
        }
    }
    pos
}

/// Where the line starting at `pos` ends (after its `\n`), or the end of
/// `raw` if it is the unterminated last line; `None` at the end.
fn next_line_end(raw: &[u8], pos: usize) -> Option<usize> {
    if pos >= raw.len() {
        return None;
    }
    Some(match raw[pos..].iter().position(|&b| b == b'\n') {
        Some(i) => pos + i + 1,
        None => raw.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_dot_stuffs_and_keeps_the_bytes() {
        let raw = b"Subject: x\r\n\r\n.hidden\r\nplain\r\n..two\r\n";
        assert_eq!(
            render(raw, None),
            b"+OK 37 octets\r\nSubject: x\r\n\r\n..hidden\r\nplain\r\n...two\r\n.\r\n".to_vec()
        );
        // A message without a final line end gets one before the terminator.
        assert_eq!(
            render(b"a\r\n\r\nb", None),
            b"+OK 6 octets\r\na\r\n\r\nb\r\n.\r\n"
        );
        // Bare LF line ends are kept; the lines after them are stuffed too.
        assert_eq!(render(b"a\n.\n", None), b"+OK 4 octets\r\na\n..\n.\r\n");
    }

    #[test]
    fn top_sends_the_header_and_some_body_lines() {
        let raw = b"From: a\r\nSubject: x\r\n\r\none\r\n.two\r\nthree\r\n";
        let top = |n| String::from_utf8(render(raw, Some(n))).unwrap();
        let head = "+OK top of message follows\r\nFrom: a\r\nSubject: x\r\n\r\n";
        assert_eq!(top(0), format!("{head}.\r\n"));
        assert_eq!(top(2), format!("{head}one\r\n..two\r\n.\r\n"));
        assert_eq!(top(99), format!("{head}one\r\n..two\r\nthree\r\n.\r\n"));
        // A header with no body at all.
        assert_eq!(
            String::from_utf8(render(b"Subject: x\r\n", Some(3))).unwrap(),
            "+OK top of message follows\r\nSubject: x\r\n.\r\n"
        );
    }
}
