//! A captured message as a test reads it.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::extract::{Code, Link};
use crate::store::detail::{Detail, part_content};
use crate::store::{Address, Envelope, StoredMessage};

/// One captured message: its summary, envelope and raw bytes, with the
/// bodies, headers and attachments parsed on first use.
pub struct Mail {
    message: Arc<StoredMessage>,
    raw: Bytes,
    detail: OnceLock<Detail>,
}

/// An attachment or inline part, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name it was sent with, else its Content-ID; may be empty.
    pub name: String,
    /// The media type as `type/subtype`, lower-cased.
    pub content_type: String,
    /// The content, transfer-decoded (text parts as UTF-8).
    pub bytes: Vec<u8>,
    /// True for parts shown within the body (an image referenced by `cid:`).
    pub inline: bool,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("id", &self.id())
            .field("subject", &self.subject())
            .field("from", &self.from().address)
            .finish_non_exhaustive()
    }
}

impl Mail {
    pub(crate) fn new(message: Arc<StoredMessage>, raw: Bytes) -> Mail {
        Mail {
            message,
            raw,
            detail: OnceLock::new(),
        }
    }

    fn detail(&self) -> &Detail {
        self.detail.get_or_init(|| Detail::parse(&self.raw))
    }

    /// The ID the API uses for this message.
    pub fn id(&self) -> &str {
        self.message.id()
    }

    /// The Subject header, decoded; empty when there is none.
    pub fn subject(&self) -> &str {
        &self.message.summary.subject
    }

    /// The first address of the From header.
    pub fn from(&self) -> &Address {
        &self.message.summary.from
    }

    /// The addresses of the To header.
    pub fn to(&self) -> &[Address] {
        &self.message.summary.to
    }

    /// The addresses of the Cc header.
    pub fn cc(&self) -> &[Address] {
        &self.message.summary.cc
    }

    /// The Bcc header plus envelope recipients named in no header.
    pub fn bcc(&self) -> &[Address] {
        &self.message.summary.bcc
    }

    /// The addresses of the Reply-To header.
    pub fn reply_to(&self) -> &[Address] {
        &self.message.summary.reply_to
    }

    /// The Message-ID header, without angle brackets.
    pub fn message_id(&self) -> &str {
        &self.message.summary.message_id
    }

    /// The SMTP envelope: MAIL FROM, RCPT TO, HELO, client, TLS, AUTH user.
    pub fn envelope(&self) -> &Envelope {
        &self.message.envelope
    }

    /// The message's tags, sorted by name case-insensitively.
    pub fn tags(&self) -> Vec<String> {
        self.message.tags()
    }

    /// Whether the message is marked read (through the API or the UI;
    /// reading it here does not mark it).
    pub fn is_read(&self) -> bool {
        self.message.is_read()
    }

    /// The text body (generated from the HTML when there is no text part).
    pub fn text(&self) -> Option<&str> {
        Some(self.detail().text.as_str()).filter(|t| !t.is_empty())
    }

    /// The HTML body, if the message has one.
    pub fn html(&self) -> Option<&str> {
        Some(self.detail().html.as_str()).filter(|h| !h.is_empty())
    }

    /// The top-level header fields in order, values unfolded.
    pub fn headers(&self) -> &[(String, String)] {
        &self.detail().headers
    }

    /// The first value of a header, matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.detail().header(name)
    }

    /// Attachments and inline parts, decoded.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.detail()
            .parts
            .iter()
            .filter_map(|part| {
                let content = part_content(&self.raw, &part.info.part_id)?;
                Some(Attachment {
                    name: content.info.file_name,
                    content_type: content.info.content_type,
                    bytes: content.data,
                    inline: content.info.role == crate::store::parts::PartRole::Inline,
                })
            })
            .collect()
    }

    /// Every link in the HTML and text bodies, in document order, each URL
    /// once (the rules of `GET /api/mailcatch/v1/message/{ID}/links`).
    pub fn links(&self) -> Vec<Link> {
        let detail = self.detail();
        crate::extract::message_links(&detail.html, detail.text_part())
    }

    /// Likely one-time codes, best first (the rules of
    /// `GET /api/mailcatch/v1/message/{ID}/codes`).
    pub fn codes(&self) -> Vec<Code> {
        let detail = self.detail();
        crate::extract::message_codes(&detail.html, detail.text_part())
    }

    /// The message exactly as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}
