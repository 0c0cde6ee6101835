//! Realistic MIME messages of a chosen size, cheap to produce in bulk.
//!
//! Small messages are `multipart/alternative` (a text and an HTML part, as
//! most application mail is); large ones wrap that in `multipart/mixed` with
//! a base64 PDF attachment making up the bulk, as large mail usually is. The
//! bodies come from a few pre-built variants so that producing a message
//! costs a header's worth of formatting, not a body's: the load generator
//! must not be the bottleneck it is measuring.

use std::sync::Arc;

use base64::Engine as _;

/// Distinct bodies per factory; message `n` uses variant `n % VARIANTS`.
const VARIANTS: usize = 8;
/// From this size on, an attachment carries most of the bytes.
const ATTACHMENT_FROM: usize = 32 * 1024;
/// Bytes of text (and about as much HTML) in a message with an attachment.
const TEXT_WITH_ATTACHMENT: usize = 1500;

/// Words the bodies and subjects are made of; searches pick from them too.
pub const WORDS: &[&str] = &[
    "account",
    "invoice",
    "order",
    "shipped",
    "delivery",
    "password",
    "reset",
    "welcome",
    "team",
    "project",
    "report",
    "weekly",
    "summary",
    "meeting",
    "schedule",
    "update",
    "release",
    "notes",
    "customer",
    "support",
    "ticket",
    "resolved",
    "payment",
    "received",
    "receipt",
    "subscription",
    "renewal",
    "trial",
    "expires",
    "confirm",
    "address",
    "verify",
    "security",
    "alert",
    "login",
    "device",
    "new",
    "from",
    "please",
    "review",
    "attached",
    "document",
    "contract",
    "signature",
    "thanks",
    "regards",
    "hello",
    "there",
    "your",
    "our",
    "the",
    "and",
    "with",
    "for",
    "this",
    "that",
    "today",
    "tomorrow",
    "monday",
    "friday",
    "quarter",
    "budget",
    "forecast",
    "sales",
    "marketing",
    "campaign",
    "newsletter",
    "offer",
    "discount",
    "coupon",
    "event",
    "webinar",
    "invitation",
    "calendar",
    "reminder",
    "deadline",
    "status",
    "pending",
    "approved",
    "rejected",
    "build",
    "deploy",
    "server",
    "database",
    "backup",
    "restore",
    "monitor",
    "latency",
    "error",
    "warning",
    "metrics",
    "dashboard",
    "analytics",
    "export",
    "import",
    "profile",
    "settings",
];

/// A tiny deterministic PRNG (xorshift64*), so runs are reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }
}

/// Makes message `n` of a run: unique headers over a shared body.
pub struct MessageFactory {
    bodies: Vec<Arc<[u8]>>,
    date: String,
    /// Roughly the header bytes, subtracted from the target size.
    header_estimate: usize,
}

impl MessageFactory {
    /// A factory for messages of about `size` bytes in total (headers
    /// included; never less than a minimal message).
    pub fn new(size: usize) -> MessageFactory {
        let date = jiff::Zoned::now()
            .strftime("%a, %d %b %Y %H:%M:%S %z")
            .to_string();
        let mut factory = MessageFactory {
            bodies: Vec::new(),
            date,
            header_estimate: 0,
        };
        factory.header_estimate = factory.headers(123_456, "=_b0").len();
        let body_size = size.saturating_sub(factory.header_estimate);
        factory.bodies = (0..VARIANTS)
            .map(|v| build_body(v as u64, body_size).into())
            .collect();
        factory
    }

    /// Appends message `n`, ready for DATA: CRLF line ends, no line starts
    /// with a dot (so no dot-stuffing is needed), ending in CRLF.
    pub fn write(&self, n: u64, out: &mut Vec<u8>) {
        let variant = (n % VARIANTS as u64) as usize;
        out.extend_from_slice(self.headers(n, &boundary(variant as u64)).as_bytes());
        out.extend_from_slice(&self.bodies[variant]);
    }

    /// Message `n` as a fresh buffer.
    pub fn message(&self, n: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header_estimate + self.bodies[0].len() + 64);
        self.write(n, &mut out);
        out
    }

    fn headers(&self, n: u64, boundary: &str) -> String {
        let mut rng = Rng::new(n);
        let kind = if self
            .bodies
            .first()
            .is_some_and(|b| b.len() >= ATTACHMENT_FROM)
        {
            "mixed"
        } else {
            "alternative"
        };
        format!(
            "Date: {date}\r\n\
             From: \"Load Sender {sender}\" <sender{sender}@load.example>\r\n\
             To: \"Recipient {rcpt}\" <rcpt{rcpt}@load.example>\r\n\
             Subject: Order {n} {w1} {w2}\r\n\
             Message-ID: <{n}.{seed:x}@load.example>\r\n\
             MIME-Version: 1.0\r\n\
             X-Mailer: mailcatch smtp-load\r\n\
             Content-Type: multipart/{kind}; boundary=\"{boundary}\"\r\n\r\n",
            date = self.date,
            sender = n % 7,
            rcpt = n % 50,
            w1 = rng.word(),
            w2 = rng.word(),
            seed = rng.next() >> 16,
        )
    }
}

/// The recipient address of message `n`, matching its To header.
pub fn recipient(n: u64) -> String {
    format!("rcpt{}@load.example", n % 50)
}

fn boundary(variant: u64) -> String {
    format!("=_b{variant}")
}

/// The MIME body (after the header block) of about `size` bytes.
fn build_body(variant: u64, size: usize) -> Vec<u8> {
    let mut rng = Rng::new(variant + 1000);
    let boundary = boundary(variant);
    let with_attachment = size >= ATTACHMENT_FROM;
    let text_budget = if with_attachment {
        TEXT_WITH_ATTACHMENT
    } else {
        size.saturating_sub(420) * 9 / 20
    };
    let text = paragraphs(&mut rng, text_budget);
    let html = format!(
        "<html><body><p>{}</p></body></html>",
        text.replace("\r\n\r\n", "</p>\r\n<p>")
    );
    let alternative = |boundary: &str| {
        format!(
            "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{text}\r\n\
             --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n{html}\r\n\
             --{boundary}--\r\n"
        )
    };
    let mut body = if with_attachment {
        let inner = format!("{boundary}_alt");
        let mut body = format!(
            "--{boundary}\r\nContent-Type: multipart/alternative; boundary=\"{inner}\"\r\n\r\n{}\
             --{boundary}\r\nContent-Type: application/pdf; name=\"report-{variant}.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"report-{variant}.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n",
            alternative(&inner)
        );
        let closing = format!("--{boundary}--\r\n");
        let encoded_budget = size.saturating_sub(body.len() + closing.len());
        // 76 base64 characters plus CRLF carry 57 bytes.
        let raw_len = encoded_budget / 78 * 57;
        let data: Vec<u8> = (0..raw_len).map(|_| rng.next() as u8).collect();
        let encoded = base64::engine::general_purpose::STANDARD.encode(data);
        for line in encoded.as_bytes().chunks(76) {
            body.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            body.push_str("\r\n");
        }
        body.push_str(&closing);
        body
    } else {
        alternative(&boundary)
    };
    // Pad with epilogue lines (after the closing boundary, which MIME
    // readers ignore) to come close to the size asked for.
    if !with_attachment {
        while let Some(short) = size.checked_sub(body.len() + 2).filter(|s| *s > 0) {
            body.push_str(&"x".repeat(short.min(76)));
            body.push_str("\r\n");
        }
    }
    debug_assert!(!body.contains("\r\n."), "no line may start with a dot");
    body.into_bytes()
}

/// Sentences of dictionary words in paragraphs, lines under 78 bytes.
fn paragraphs(rng: &mut Rng, budget: usize) -> String {
    let mut text = String::with_capacity(budget + 80);
    let mut line_len = 0;
    let mut sentence_len = 0;
    while text.len() < budget.max(20) {
        let word = rng.word();
        if line_len + word.len() + 1 > 76 {
            text.push_str("\r\n");
            line_len = 0;
        } else if line_len > 0 {
            text.push(' ');
            line_len += 1;
        }
        text.push_str(word);
        line_len += word.len();
        sentence_len += 1;
        if sentence_len > 8 && rng.below(4) == 0 {
            text.push('.');
            sentence_len = 0;
            if rng.below(5) == 0 {
                text.push_str("\r\n\r\n");
                line_len = 0;
            }
        }
    }
    text.trim_end().to_string()
}
