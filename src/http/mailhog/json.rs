//! MailHog's wire shapes: Go structs without JSON tags, so every key is the
//! capitalised Go field name, in declaration order; the list envelope alone
//! is lower-case (`total`, `count`, `start`, `items`).
//!
//! IDs are mailcatch's own, so a message has the same ID in the Mailpit and
//! the MailHog API.

use serde::Serialize;

use super::content::{Content, MimeBody};
use crate::store::StoredMessage;

/// MailHog's `Message`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Message<'a> {
    #[serde(rename = "ID")]
    pub id: &'a str,
    pub from: Path<'a>,
    pub to: Vec<Path<'a>>,
    pub content: Content<'a>,
    pub created: String,
    #[serde(rename = "MIME")]
    pub mime: Option<MimeBody<'a>>,
    pub raw: Raw<'a>,
}

/// MailHog's `Path`: an SMTP envelope address, split.
#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Path<'a> {
    /// The source route (`@a,@b:` before the address), or null.
    pub relays: Option<Vec<&'a str>>,
    pub mailbox: &'a str,
    pub domain: &'a str,
    /// Always empty: MailHog drops MAIL FROM parameters.
    pub params: &'static str,
}

/// MailHog's `SMTPMessage`: the envelope and the data as received.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Raw<'a> {
    pub from: &'a str,
    pub to: &'a [String],
    pub data: &'a str,
    pub helo: &'a str,
}

impl<'a> Path<'a> {
    /// Splits `@relay1,@relay2:mailbox@domain` as MailHog does: at the first
    /// `:` for relays, at the first `@` for mailbox and domain.
    pub fn parse(address: &'a str) -> Path<'a> {
        let (relays, email) = match address.split_once(':') {
            Some((relays, email)) => (Some(relays.split(',').collect()), email),
            None => (None, address),
        };
        let (mailbox, domain) = email.split_once('@').unwrap_or((email, ""));
        Path {
            relays,
            mailbox,
            domain,
            params: "",
        }
    }
}

impl<'a> Message<'a> {
    /// The message as MailHog shows it. `data` is the raw message as text;
    /// `hostname` names this server in the added `Received` header.
    pub fn new(message: &'a StoredMessage, data: &'a str, hostname: &str) -> Message<'a> {
        let envelope = &message.envelope;
        let mut content = Content::parse(data);
        let mime = content.mime.take();
        add_server_headers(&mut content, message, hostname);
        Message {
            id: message.id(),
            from: Path::parse(&envelope.mail_from),
            to: envelope.rcpt_to.iter().map(|to| Path::parse(to)).collect(),
            content,
            created: created(message.created),
            mime,
            raw: Raw {
                from: &envelope.mail_from,
                to: &envelope.rcpt_to,
                data,
                helo: &envelope.helo,
            },
        }
    }
}

/// The headers MailHog adds on receipt (the stored bytes are unchanged):
/// `Message-ID` if there is none, and a `Received` and a `Return-Path`
/// value appended.
fn add_server_headers(content: &mut Content<'_>, message: &StoredMessage, hostname: &str) {
    if !content.has_header("Message-ID") {
        content.append_header("Message-ID", message.summary.message_id.clone());
    }
    let received_at = message
        .created
        .to_zoned(jiff::tz::TimeZone::system())
        .strftime("%a, %d %b %Y %H:%M:%S %z");
    content.append_header(
        "Received",
        format!(
            "from {} by {hostname} (mailcatch)\r\n          id {}; {received_at}",
            message.envelope.helo,
            message.id()
        ),
    );
    content.append_header("Return-Path", format!("<{}>", message.envelope.mail_from));
}

/// Go's `time.Time` in JSON: RFC 3339 with as many fractional digits as
/// needed (up to nanoseconds), in the server's offset, `Z` for UTC.
pub fn created(ts: jiff::Timestamp) -> String {
    let zoned = ts.to_zoned(jiff::tz::TimeZone::system());
    if zoned.offset() == jiff::tz::Offset::UTC {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
    } else {
        zoned.strftime("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()
    }
}

/// Renders one message as MailHog's JSON, indented (the event stream's
/// form) or compact.
pub fn render(message: &StoredMessage, raw: &[u8], hostname: &str, pretty: bool) -> String {
    let data = String::from_utf8_lossy(data(raw));
    let shape = Message::new(message, &data, hostname);
    let encoded = if pretty {
        serde_json::to_string_pretty(&shape)
    } else {
        serde_json::to_string(&shape)
    };
    // Only maps with string keys and plain values: encoding cannot fail.
    encoded.unwrap_or_else(|_| "null".into())
}

/// The message data as MailHog keeps it: without the line break that
/// ended the DATA section before its final `.` (the stored bytes keep it,
/// as RFC 5321 has it belong to the message). Clients compare bodies with
/// what they sent, e.g. `text === "Hello"`.
pub fn data(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\r\n")
        .or_else(|| raw.strip_suffix(b"\n"))
        .unwrap_or(raw)
}

/// The v2 list envelope around already rendered items.
pub fn list(total: usize, start: usize, items: &[String]) -> String {
    let mut out = format!(
        r#"{{"total":{total},"count":{},"start":{start},"items":["#,
        items.len()
    );
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_mailhog() {
        assert_eq!(
            Path::parse("user@example.com"),
            Path {
                relays: None,
                mailbox: "user",
                domain: "example.com",
                params: ""
            }
        );
        let routed = Path::parse("@a,@b:user@x@y");
        assert_eq!(routed.relays, Some(vec!["@a", "@b"]));
        assert_eq!((routed.mailbox, routed.domain), ("user", "x@y"));
        assert_eq!(Path::parse("").mailbox, "");
        let value = serde_json::to_value(Path::parse("local")).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"Relays": null, "Mailbox": "local", "Domain": "", "Params": ""})
        );
    }

    #[test]
    fn created_has_go_precision() {
        let ts: jiff::Timestamp = "2025-06-17T18:35:34.093644858Z".parse().unwrap();
        let text = created(ts);
        assert!(text.contains(".093644858"), "{text}");
        assert_eq!(text.parse::<jiff::Timestamp>().unwrap(), ts);
        let whole: jiff::Timestamp = "2025-06-17T18:35:34Z".parse().unwrap();
        assert!(!created(whole).contains('.'), "{}", created(whole));
    }

    #[test]
    fn list_envelope_keeps_go_key_order() {
        let items = ["{}".to_string(), "null".to_string()];
        assert_eq!(
            list(5, 1, &items),
            r#"{"total":5,"count":2,"start":1,"items":[{},null]}"#
        );
    }
}
