//! Feeds arbitrary bytes, in arbitrary pieces, to the SMTP session state
//! machine, with every feature on. It must never panic or loop, and what it
//! stores must respect the size cap.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mailcatch::credentials::Credentials;
use mailcatch::smtp::auth::AuthMode;
use mailcatch::smtp::{Peer, Session, SessionConfig, Step};
use mailcatch::store::TlsInfo;

const MAX_MESSAGE: usize = 4096;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the configuration, the second the piece size.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((&piece, input)) = rest.split_first() else {
        return;
    };
    let config = SessionConfig {
        max_message_bytes: MAX_MESSAGE,
        max_line: 512,
        max_recipients: 3,
        max_errors: 50,
        starttls_available: flags & 1 != 0,
        require_starttls: flags & 2 != 0,
        auth: match flags >> 2 & 3 {
            0 => AuthMode::Off,
            1 => AuthMode::AcceptAny,
            _ => AuthMode::Credentials(Credentials::parse("user:pass")),
        },
        auth_allow_insecure: flags & 16 != 0,
        ..SessionConfig::default()
    };
    let mut session = Session::new(
        Arc::new(config),
        Peer {
            nonce: "1.2".into(),
            ..Peer::default()
        },
    );
    let mut pieces = input.chunks(usize::from(piece).max(1));
    let mut delivered = 0usize;
    // Every step either consumes input or produces output, so this bound is generous.
    for _ in 0..(input.len() + 16) * 8 {
        match session.next_step() {
            Step::Reply(reply) => assert!((200..600).contains(&reply.code)),
            Step::Deliver(incoming) => {
                assert!(incoming.raw.len() <= MAX_MESSAGE);
                delivered += 1;
                session.delivered(&format!("ID{delivered}"));
            }
            Step::StartTls => session.tls_established(TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "FUZZ".into(),
            }),
            Step::Close => return,
            Step::NeedInput => match pieces.next() {
                Some(bytes) => session.receive(bytes),
                None => return,
            },
        }
    }
    panic!("the session made no progress");
});
