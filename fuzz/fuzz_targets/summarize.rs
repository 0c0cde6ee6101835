//! Summarises arbitrary bytes as a message, runs a search over it and
//! renders its MailHog view: the ingest path and the MailHog API's parsing
//! must never panic whatever arrives over SMTP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailcatch::store::{Envelope, Incoming, Literal, Query};

fuzz_target!(|data: &[u8]| {
    let envelope = Envelope {
        mail_from: "a@b".into(),
        rcpt_to: vec!["c@d".into()],
        ..Envelope::default()
    };
    let (message, raw) = mailcatch::store::standalone(Incoming {
        raw: data.to_vec().into(),
        envelope,
        ..Incoming::default()
    });
    let query_text = String::from_utf8_lossy(&data[..data.len().min(64)]);
    let query = Query::parse(&query_text, Some("Europe/Berlin"));
    let _ = query.matches(&message);
    if let Some(literal) = Query::literal(Literal::Recipient, &query_text) {
        let _ = literal.matches(&message);
    }
    let json = mailcatch::mailhog_view(&message, &raw);
    assert!(json.starts_with("{\"ID\":"), "{json}");
    assert!(message.summary.snippet.len() <= 203);
    // Kept compressed or not, the raw bytes come back exactly.
    assert_eq!(&raw[..], data);
});
