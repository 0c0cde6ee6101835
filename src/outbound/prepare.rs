//! The message as released: the stored bytes, without `Bcc` (a blind
//! copy's recipients must not reach the others) and, when the relay sets
//! `override-from`, with `From` replaced and the original kept in
//! `X-Original-From`. Everything else, Message-ID included, is sent as
//! captured.

use bytes::Bytes;

/// The bytes to send; the stored ones, shared, when nothing changes.
pub(super) fn for_release(raw: Bytes, override_from: Option<&str>) -> Bytes {
    let header_end = memchr::memmem::find(&raw, b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| memchr::memmem::find(&raw, b"\n\n").map(|i| i + 1))
        .unwrap_or(raw.len());
    let (head, body) = raw.split_at(header_end);
    let fields = fields(head);
    let has_bcc = fields.iter().any(|f| is_field(f, b"bcc"));
    if !has_bcc && override_from.is_none() {
        return raw;
    }
    let mut out = Vec::with_capacity(raw.len() + 64);
    if let Some(from) = override_from {
        out.extend_from_slice(format!("From: {from}\r\n").as_bytes());
    }
    for field in fields {
        if is_field(field, b"bcc") {
            continue;
        }
        if override_from.is_some() && is_field(field, b"from") {
            out.extend_from_slice(b"X-Original-From:");
            out.extend_from_slice(&field[5..]);
            continue;
        }
        out.extend_from_slice(field);
    }
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// The header split into fields, each with its folded lines and line end.
fn fields(head: &[u8]) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < head.len() {
        let end = memchr::memchr(b'\n', &head[at..]).map_or(head.len(), |i| at + i + 1);
        let folded = matches!(head.get(end), Some(b' ' | b'\t'));
        if !folded {
            fields.push(&head[start..end]);
            start = end;
        }
        at = end;
    }
    fields
}

fn is_field(field: &[u8], name: &[u8]) -> bool {
    field.len() > name.len()
        && field[..name.len()].eq_ignore_ascii_case(name)
        && field[name.len()] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_bcc_and_keeps_the_rest_byte_exact() {
        let raw = Bytes::from_static(
            b"From: a@x\r\nBcc: b@x,\r\n c@x\r\nMessage-ID: <1@x>\r\n\r\nBcc: body\r\n",
        );
        let out = for_release(raw, None);
        assert_eq!(
            &out[..],
            b"From: a@x\r\nMessage-ID: <1@x>\r\n\r\nBcc: body\r\n"
        );
        let same = Bytes::from_static(b"From: a@x\r\n\r\nhi\r\n");
        assert_eq!(for_release(same.clone(), None).as_ptr(), same.as_ptr());
    }

    #[test]
    fn override_from_keeps_the_original() {
        let raw = Bytes::from_static(b"From: a@x\r\nSubject: s\r\n\r\nhi\r\n");
        let out = for_release(raw, Some("relay@y"));
        assert_eq!(
            &out[..],
            b"From: relay@y\r\nX-Original-From: a@x\r\nSubject: s\r\n\r\nhi\r\n"
        );
    }
}
