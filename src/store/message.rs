//! What the store keeps for each message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use super::id::MessageId;
use super::raw::RawMessage;

/// A mailbox as Mailpit's API shows it: `{"Name": .., "Address": ..}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    /// The display name, decoded; empty when there is none.
    pub name: String,
    /// The address itself, e.g. `bob@example.com`.
    pub address: String,
}

/// The negotiated TLS parameters of the session that delivered a message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsInfo {
    /// The protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// The cipher suite's name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// The SMTP envelope, as the client sent it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    /// The reverse-path without angle brackets; empty for the null sender `<>`.
    pub mail_from: String,
    /// MAIL FROM parameters as sent, e.g. `SIZE=1234`, `BODY=8BITMIME`.
    pub mail_params: Vec<String>,
    /// The forward-paths without angle brackets, in the order given.
    pub rcpt_to: Vec<String>,
    /// The HELO or EHLO argument.
    pub helo: String,
    /// The address of the client that delivered the message.
    pub client_addr: Option<SocketAddr>,
    /// The TLS parameters, when the SMTP session was encrypted.
    pub tls: Option<TlsInfo>,
    /// The user the client authenticated as, if it did.
    pub auth_user: Option<String>,
    /// The mailbox the client's authentication routes its mail to (the
    /// user name, or the mailbox its `--smtp-auth-file` line names), or
    /// the mailbox whose send endpoint was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
}

/// Everything the store needs to ingest one message.
#[derive(Clone, Debug, Default)]
pub struct Incoming {
    /// The message exactly as received, after dot-unstuffing.
    pub raw: Bytes,
    /// Who sent it to whom: the SMTP envelope.
    pub envelope: Envelope,
    /// Protocol oddities seen while receiving it (bare LF, long lines, ...).
    pub warnings: Vec<String>,
    /// A bounded transcript of the SMTP session up to the end of this message.
    pub transcript: Transcript,
}

/// A bounded SMTP transcript, one entry per line (`C: …`, `S: …`, `-- note`).
///
/// The part before the first transaction (greeting, EHLO, AUTH, STARTTLS) is
/// the same for every message a connection delivers, so it is shared rather
/// than copied; each message owns only its own transaction's lines. Both are
/// kept as newline-joined text (entries never contain a line break), one
/// allocation each instead of one per line.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    /// The connection's lines outside any transaction (greeting, EHLO,
    /// AUTH, ...), shared with the other messages it delivered.
    pub shared: std::sync::Arc<str>,
    /// This message's transaction, from MAIL FROM on.
    pub own: Box<str>,
}

impl Transcript {
    /// Every entry in order: the shared part, then this message's own.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.shared.lines().chain(self.own.lines())
    }

    /// Bytes held by this message alone (the shared part is paid once per connection).
    pub fn own_bytes(&self) -> usize {
        self.own.len()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Transcript {
    /// A transcript with nothing shared, e.g. for messages made in tests.
    fn from_iter<I: IntoIterator<Item = S>>(lines: I) -> Self {
        let own: Vec<String> = lines.into_iter().map(|l| l.as_ref().to_string()).collect();
        Transcript {
            shared: std::sync::Arc::from(""),
            own: own.join("\n").into_boxed_str(),
        }
    }
}

/// The searchable, listable facts about a message, parsed once at ingest.
/// A database engine keeps it serialised beside the message, except the
/// search text, which has a table of its own.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// The Message-ID header without angle brackets; a stored message
    /// without one gets one made up (see [`StoredMessage::new`]).
    pub message_id: String,
    /// The first address of the From header.
    pub from: Address,
    /// The addresses of the To header.
    pub to: Vec<Address>,
    /// The addresses of the Cc header.
    pub cc: Vec<Address>,
    /// The Bcc header plus envelope recipients found in no address header.
    pub bcc: Vec<Address>,
    /// The addresses of the Reply-To header.
    pub reply_to: Vec<Address>,
    /// The Return-Path header, else the envelope sender.
    pub return_path: String,
    /// The Subject header, decoded; empty when there is none.
    pub subject: String,
    /// The Date header as RFC 3339 with its own offset, if it parsed.
    pub date: Option<String>,
    /// How many parts are offered for download.
    pub attachments: u32,
    /// How many parts are shown within the body (images referenced by `cid:`).
    pub inline: u32,
    /// The start of the body as plain text, whitespace collapsed, cut at
    /// 200 bytes (then `...`).
    pub snippet: String,
    /// Tags derived from the message itself (`X-Tags`, plus-addressing).
    pub auto_tags: Vec<String>,
    /// Lower-cased text that free-text search matches against.
    #[serde(skip)]
    pub search_text: String,
    /// The `X-Mailbox` header, trimmed, for routing at ingest.
    #[serde(skip)]
    pub mailbox_header: Option<String>,
    /// Warnings found in the content itself (missing Date, no Message-ID, ...).
    pub content_warnings: Vec<String>,
}

impl Summary {
    /// The text a database engine keeps for the field filters, normalised
    /// as the memory engine normalises on the fly: From, To, Cc, Bcc and
    /// Reply-To (one line per address, `name address`), Subject and
    /// Message-ID. So both database engines match exactly as memory does.
    pub(crate) fn field_columns(&self) -> [String; 7] {
        use super::summary::normalize_search;
        let addresses = |list: &[Address]| {
            list.iter()
                .filter(|a| !a.name.is_empty() || !a.address.is_empty())
                .map(|a| normalize_search(&format!("{} {}", a.name, a.address)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        [
            addresses(std::slice::from_ref(&self.from)),
            addresses(&self.to),
            addresses(&self.cc),
            addresses(&self.bcc),
            addresses(&self.reply_to),
            normalize_search(&self.subject),
            normalize_search(&self.message_id),
        ]
    }

    /// Releases spare capacity: a summary lives as long as its message.
    pub fn shrink_to_fit(&mut self) {
        for text in [
            &mut self.message_id,
            &mut self.return_path,
            &mut self.subject,
            &mut self.snippet,
            &mut self.search_text,
        ] {
            text.shrink_to_fit();
        }
        if let Some(date) = &mut self.date {
            date.shrink_to_fit();
        }
    }
}

/// A message in the store. The raw bytes and summary never change; the read
/// flag and tags do, so they carry their own cheap synchronisation and readers
/// can work on an `Arc<StoredMessage>` without holding the store's lock.
#[derive(Debug)]
pub struct StoredMessage {
    /// Its arrival sequence number and public ID.
    pub id: MessageId,
    /// The mailbox it belongs to.
    pub mailbox: std::sync::Arc<str>,
    /// When it was stored.
    pub created: jiff::Timestamp,
    raw: RawMessage,
    /// Who sent it to whom, as received.
    pub envelope: Envelope,
    /// Protocol oddities seen while receiving it (see [`Incoming::warnings`]).
    pub warnings: Vec<String>,
    /// The SMTP session that delivered it, bounded (empty for the send API).
    pub transcript: Transcript,
    /// The facts parsed at ingest, for listing and searching.
    pub summary: Summary,
    read: AtomicBool,
    tags: Mutex<Vec<String>>,
    /// The memory engine's Bloom filter of the search text (empty, so
    /// never consulted, elsewhere).
    text_bloom: Box<[u8]>,
}

/// The memory engine's filter density: one bit per byte of search text
/// (about 4% of a 2 KB message's memory) lets at most one in ten messages
/// without a 7-byte term through to the text scan.
const MEMORY_BLOOM_BITS_PER_BYTE: usize = 1;

impl StoredMessage {
    /// A new message, its raw bytes kept in memory. A message without a
    /// Message-ID gets one made from its ID, as Mailpit makes one, since
    /// clients find messages by it (the raw bytes are not changed).
    pub fn new(
        id: MessageId,
        mailbox: std::sync::Arc<str>,
        incoming: Incoming,
        mut summary: Summary,
        tags: Vec<String>,
    ) -> Self {
        if summary.message_id.is_empty() {
            summary.message_id = format!("{}@mailcatch", id.text);
        }
        Self {
            id,
            mailbox,
            created: jiff::Timestamp::now(),
            raw: RawMessage::new(incoming.raw),
            envelope: incoming.envelope,
            warnings: incoming.warnings,
            transcript: incoming.transcript,
            summary,
            read: AtomicBool::new(false),
            tags: Mutex::new(tags),
            text_bloom: Box::default(),
        }
    }

    /// The message with a Bloom filter of every text a search matches (the
    /// search text and the field filters' texts), for an engine that scans
    /// messages held in memory: a term or a field filter rules a message
    /// out without reading its text.
    pub(super) fn with_text_bloom(mut self) -> Self {
        let fields = self.summary.field_columns();
        let mut texts = vec![self.summary.search_text.as_bytes()];
        texts.extend(fields.iter().map(|field| field.as_bytes()));
        self.text_bloom = super::bloom::build_over(&texts, MEMORY_BLOOM_BITS_PER_BYTE).into();
        self
    }

    pub(super) fn text_bloom(&self) -> &[u8] {
        &self.text_bloom
    }

    /// A message read back from a database: its raw bytes stay there.
    pub(super) fn restore(stored: Restored) -> Self {
        Self {
            id: stored.id,
            mailbox: stored.mailbox,
            created: stored.created,
            raw: RawMessage::elsewhere(stored.size),
            envelope: stored.envelope,
            warnings: stored.warnings,
            transcript: stored.transcript,
            summary: stored.summary,
            read: AtomicBool::new(stored.read),
            tags: Mutex::new(stored.tags),
            text_bloom: Box::default(),
        }
    }

    /// The public ID, as the API and the UI show it.
    pub fn id(&self) -> &str {
        &self.id.text
    }

    /// The size as received, which is what the API reports.
    pub fn size(&self) -> usize {
        self.raw.len()
    }

    /// Bytes the raw message takes in memory, compressed or not.
    pub fn raw_footprint(&self) -> usize {
        self.raw.kept_len()
    }

    /// The raw bytes as kept in memory (the memory engine's; others keep
    /// them elsewhere and read them through the store).
    pub(super) fn raw_kept(&self) -> &RawMessage {
        &self.raw
    }

    /// The message exactly as received (decompressed on each call); only
    /// the memory engine holds them, see [`super::Store::raw`].
    pub(super) fn raw(&self) -> Bytes {
        self.raw.bytes()
    }

    /// Whether the message is marked read.
    pub fn is_read(&self) -> bool {
        self.read.load(Ordering::Relaxed)
    }

    /// Sets the read flag, returning whether it changed.
    pub(super) fn set_read(&self, read: bool) -> bool {
        self.read.swap(read, Ordering::Relaxed) != read
    }

    /// The message's tags, sorted by name case-insensitively.
    pub fn tags(&self) -> Vec<String> {
        self.tags.lock().clone()
    }

    /// Whether the message has the tag `name`, compared ASCII
    /// case-insensitively.
    pub fn has_tag(&self, name: &str) -> bool {
        self.tags
            .lock()
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
    }

    pub(super) fn replace_tags(&self, tags: Vec<String>) -> Vec<String> {
        std::mem::replace(&mut *self.tags.lock(), tags)
    }

    /// Approximate bytes this message holds, for the store's byte cap.
    pub fn footprint(&self) -> usize {
        self.content_bytes() + 512
    }

    /// The bytes of its larger parts: raw bytes as kept, search text and
    /// its filter, snippet, subject, transcript.
    fn content_bytes(&self) -> usize {
        let s = &self.summary;
        self.raw.kept_len()
            + s.search_text.len()
            + s.snippet.len()
            + s.subject.len()
            + self.transcript.own_bytes()
            + self.text_bloom.len()
    }

    /// Approximate bytes this message occupies in memory, when all of it is
    /// kept there: its [`footprint`](Self::footprint) plus the small
    /// strings and structures around it, each heap allocation with its
    /// header, and an allowance for the allocator's size classes. Measured
    /// against the process's RSS, so that the memory engine's byte cap
    /// bounds the memory it uses.
    pub fn resident_bytes(&self) -> usize {
        let s = &self.summary;
        let e = &self.envelope;
        let addresses = std::iter::once(&s.from)
            .chain(&s.to)
            .chain(&s.cc)
            .chain(&s.bcc)
            .chain(&s.reply_to)
            .map(|a| heap(a.name.len()) + heap(a.address.len()) + size_of::<Address>());
        let strings = [&s.message_id, &s.return_path, &e.mail_from, &e.helo]
            .into_iter()
            .chain(&e.rcpt_to)
            .chain(&e.mail_params)
            .chain(&s.auto_tags)
            .chain(&s.content_warnings)
            .chain(&self.warnings)
            .map(|text| heap(text.len()) + size_of::<String>());
        let small: usize = addresses.sum::<usize>()
            + strings.sum::<usize>()
            + s.date.as_ref().map_or(0, |d| heap(d.len()));
        let structures = size_of::<StoredMessage>() + BTREE_ENTRY_BYTES;
        let content = self.content_bytes() + 6 * ALLOCATION_HEADER;
        (content + small + structures) * 9 / 8
    }
}

/// What one heap allocation costs beyond its bytes (a header, alignment).
const ALLOCATION_HEADER: usize = 16;

/// A message's share of the memory engine's ordered map: its key, its
/// `Arc` and the nodes around them.
const BTREE_ENTRY_BYTES: usize = 32;

/// The heap bytes of a string of `len` bytes: nothing when empty.
fn heap(len: usize) -> usize {
    if len == 0 { 0 } else { len + ALLOCATION_HEADER }
}

/// The parts of a message a database engine reads back.
pub(super) struct Restored {
    pub id: MessageId,
    pub mailbox: std::sync::Arc<str>,
    pub created: jiff::Timestamp,
    pub size: usize,
    pub envelope: Envelope,
    pub warnings: Vec<String>,
    pub transcript: Transcript,
    pub summary: Summary,
    pub read: bool,
    pub tags: Vec<String>,
}
