//! Table-driven tests of the session: a sequence of client bytes in, the
//! reply codes and stored messages out. No sockets involved.

use super::*;

/// Everything a session produced for a given input.
#[derive(Debug, Default)]
struct Outcome {
    codes: Vec<u16>,
    replies: Vec<Reply>,
    messages: Vec<Incoming>,
    closed: bool,
    tls_upgrades: usize,
}

/// Drives a session over `input`, delivered in pieces of `step` bytes.
fn drive(config: SessionConfig, input: &[u8], step: usize) -> Outcome {
    let mut session = Session::new(
        Arc::new(config),
        Peer {
            nonce: "1.2".into(),
            ..Peer::default()
        },
    );
    let mut outcome = Outcome::default();
    let mut pieces = input.chunks(step.max(1));
    loop {
        match session.next_step() {
            Step::Reply(reply) => {
                outcome.codes.push(reply.code);
                outcome.replies.push(reply);
            }
            Step::Deliver(incoming) => {
                outcome.messages.push(*incoming);
                session.delivered(&format!("ID{}", outcome.messages.len()));
            }
            Step::StartTls => {
                outcome.tls_upgrades += 1;
                session.tls_established(TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "TEST".into(),
                });
            }
            Step::Close => {
                outcome.closed = true;
                return outcome;
            }
            Step::NeedInput => match pieces.next() {
                Some(piece) => session.receive(piece),
                None => return outcome,
            },
        }
    }
}

fn run(input: &str) -> Outcome {
    drive(SessionConfig::default(), input.as_bytes(), usize::MAX)
}

const HELLO: &str = "EHLO client\r\n";
const ENVELOPE: &str = "EHLO client\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n";

#[test]
fn reply_table() {
    let big = "x".repeat(5000);
    let cases: Vec<(&str, String, Vec<u16>)> = vec![
        ("greeting only", String::new(), vec![220]),
        ("ehlo", HELLO.into(), vec![220, 250]),
        ("helo", "HELO client\r\n".into(), vec![220, 250]),
        (
            "full transaction",
            format!("{ENVELOPE}DATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
            vec![220, 250, 250, 250, 354, 250, 221],
        ),
        (
            "mail before helo",
            "MAIL FROM:<a@x>\r\n".into(),
            vec![220, 503],
        ),
        (
            "rcpt before mail",
            format!("{HELLO}RCPT TO:<b@y>\r\n"),
            vec![220, 250, 503],
        ),
        (
            "data before rcpt",
            format!("{HELLO}MAIL FROM:<a@x>\r\nDATA\r\n"),
            vec![220, 250, 250, 503],
        ),
        (
            "nested mail",
            format!("{ENVELOPE}MAIL FROM:<c@x>\r\n"),
            vec![220, 250, 250, 250, 503],
        ),
        (
            "null sender",
            format!("{HELLO}MAIL FROM:<>\r\n"),
            vec![220, 250, 250],
        ),
        (
            "rset clears",
            format!("{ENVELOPE}RSET\r\nDATA\r\n"),
            vec![220, 250, 250, 250, 250, 503],
        ),
        (
            "noop vrfy help",
            "NOOP\r\nVRFY x\r\nHELP\r\n".into(),
            vec![220, 250, 252, 214],
        ),
        ("unknown", "FROB\r\n".into(), vec![220, 500]),
        ("bad args", "EHLO\r\n".into(), vec![220, 501]),
        (
            "size too big",
            format!("{HELLO}MAIL FROM:<a@x> SIZE=999999999999\r\n"),
            vec![220, 250, 552],
        ),
        (
            "size overflowing usize",
            format!("{HELLO}MAIL FROM:<a@x> SIZE=99999999999999999999999\r\n"),
            vec![220, 250, 552],
        ),
        (
            "size ok",
            format!("{HELLO}MAIL FROM:<a@x> SIZE=100 BODY=8BITMIME SMTPUTF8\r\n"),
            vec![220, 250, 250],
        ),
        (
            "unsupported param",
            format!("{HELLO}MAIL FROM:<a@x> RET=HDRS\r\n"),
            vec![220, 250, 555],
        ),
        (
            "cr in address",
            format!("{HELLO}MAIL FROM:<a\rb@x>\r\n"),
            vec![220, 250, 501],
        ),
        (
            "long line",
            format!("{big}\r\nNOOP\r\n"),
            vec![220, 500, 250],
        ),
        (
            "starttls unavailable",
            "STARTTLS\r\n".into(),
            vec![220, 454],
        ),
        (
            "auth off",
            format!("{HELLO}AUTH PLAIN AGEAYg==\r\n"),
            vec![220, 250, 502],
        ),
        (
            "binarymime needs bdat",
            format!("{HELLO}MAIL FROM:<a@x> BODY=BINARYMIME\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
            vec![220, 250, 250, 250, 503],
        ),
        (
            "bdat",
            format!("{ENVELOPE}BDAT 5\r\nhelloBDAT 8 LAST\r\n world\r\n"),
            vec![220, 250, 250, 250, 250, 250],
        ),
        (
            "bdat without mail discards chunk",
            format!("{HELLO}BDAT 4\r\nNOOPNOOP\r\n"),
            vec![220, 250, 503, 250],
        ),
        (
            "data after bdat",
            format!("{ENVELOPE}BDAT 1\r\nxDATA\r\n"),
            vec![220, 250, 250, 250, 250, 503],
        ),
        ("invalid utf8", "NO\u{0}OP\r\n".into(), vec![220, 500]),
        (
            "lf-only commands",
            "EHLO x\nNOOP\n".into(),
            vec![220, 250, 250],
        ),
    ];
    for (name, input, expected) in cases {
        for step in [usize::MAX, 1, 7] {
            let outcome = drive(SessionConfig::default(), input.as_bytes(), step);
            assert_eq!(outcome.codes, expected, "{name} (step {step})");
        }
    }
}

#[test]
fn stores_the_message_byte_exact_with_its_envelope() {
    let body = "Subject: hi\r\n\r\nline one\r\n..dotted\r\nbare\nlf\r\n";
    let input = format!(
        "EHLO client.example\r\nMAIL FROM:<a@x> BODY=8BITMIME\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@z>\r\nDATA\r\n{body}.\r\n"
    );
    let outcome = run(&input);
    assert_eq!(outcome.messages.len(), 1);
    let message = &outcome.messages[0];
    assert_eq!(
        &message.raw[..],
        b"Subject: hi\r\n\r\nline one\r\n.dotted\r\nbare\nlf\r\n"
    );
    assert_eq!(message.envelope.mail_from, "a@x");
    assert_eq!(message.envelope.mail_params, ["BODY=8BITMIME"]);
    assert_eq!(message.envelope.rcpt_to, ["b@y", "c@z"]);
    assert_eq!(message.envelope.helo, "client.example");
    assert!(
        message.warnings.iter().any(|w| w.contains("bare LF")),
        "{:?}",
        message.warnings
    );
    assert!(
        message
            .transcript
            .lines()
            .any(|l| l.starts_with("C: MAIL FROM"))
    );
    assert_eq!(
        outcome.replies.last().unwrap().lines[0],
        "2.0.0 Ok: queued as ID1"
    );
}

#[test]
fn pipelined_transactions_in_one_write_answer_in_order() {
    let one = "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: n\r\n\r\nx\r\n.\r\n";
    let input = format!("EHLO c\r\n{one}{one}{one}QUIT\r\n");
    let outcome = run(&input);
    assert_eq!(outcome.messages.len(), 3);
    assert_eq!(
        outcome.codes,
        [
            220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221
        ]
    );
    assert!(outcome.closed);
}

#[test]
fn smuggled_commands_stay_inside_the_message() {
    for smuggle in ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n"] {
        let input = format!(
            "{ENVELOPE}DATA\r\nSubject: a\r\n\r\nx{smuggle}MAIL FROM:<evil@x>\r\nRCPT TO:<victim@y>\r\nDATA\r\nevil\r\n.\r\nQUIT\r\n"
        );
        let outcome = run(&input);
        assert_eq!(outcome.messages.len(), 1, "{smuggle:?}");
        assert_eq!(
            outcome.codes,
            [220, 250, 250, 250, 354, 250, 221],
            "{smuggle:?}"
        );
    }
}

#[test]
fn oversize_data_is_discarded_and_session_stays_in_sync() {
    let config = SessionConfig {
        max_message_bytes: 100,
        ..SessionConfig::default()
    };
    let big = "y".repeat(500);
    let input = format!(
        "{ENVELOPE}DATA\r\n{big}\r\n.\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nsmall\r\n.\r\n"
    );
    let outcome = drive(config, input.as_bytes(), 13);
    assert_eq!(
        outcome.codes,
        [220, 250, 250, 250, 354, 552, 250, 250, 354, 250]
    );
    assert_eq!(outcome.messages.len(), 1);
    assert_eq!(&outcome.messages[0].raw[..], b"small\r\n");
}

#[test]
fn oversize_bdat_is_discarded_and_later_chunks_refused() {
    let config = SessionConfig {
        max_message_bytes: 10,
        ..SessionConfig::default()
    };
    let input = format!(
        "{ENVELOPE}BDAT 20\r\n{}BDAT 3 LAST\r\nabcRSET\r\n",
        "z".repeat(20)
    );
    let outcome = drive(config, input.as_bytes(), 4);
    assert_eq!(outcome.codes, [220, 250, 250, 250, 552, 503, 250]);
    assert!(outcome.messages.is_empty());
}

#[test]
fn disconnect_mid_data_stores_nothing() {
    let outcome = run(&format!("{ENVELOPE}DATA\r\nSubject: cut\r\n\r\nhalf"));
    assert!(outcome.messages.is_empty());
}

#[test]
fn recipient_limit() {
    let config = SessionConfig {
        max_recipients: 2,
        ..SessionConfig::default()
    };
    let input =
        format!("{HELLO}MAIL FROM:<a@x>\r\nRCPT TO:<1@y>\r\nRCPT TO:<2@y>\r\nRCPT TO:<3@y>\r\n");
    assert_eq!(
        drive(config, input.as_bytes(), 64).codes,
        [220, 250, 250, 250, 250, 452]
    );
}

#[test]
fn error_budget_closes_the_connection() {
    let config = SessionConfig {
        max_errors: 3,
        ..SessionConfig::default()
    };
    let outcome = drive(config, b"A\r\nB\r\nC\r\nD\r\n", 64);
    assert_eq!(outcome.codes, [220, 500, 500, 500, 421]);
    assert!(outcome.closed);
}

fn tls_config(auth: AuthMode) -> SessionConfig {
    SessionConfig {
        starttls_available: true,
        auth,
        ..SessionConfig::default()
    }
}

#[test]
fn starttls_discards_pipelined_plaintext_and_resets() {
    let input = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<injected@x>\r\n";
    let outcome = drive(tls_config(AuthMode::Off), input.as_bytes(), usize::MAX);
    assert_eq!(outcome.codes, [220, 250, 220]);
    assert_eq!(outcome.tls_upgrades, 1);
    // After the upgrade the old EHLO no longer counts.
    let input = "EHLO c\r\nSTARTTLS\r\n";
    let mut session = Session::new(Arc::new(tls_config(AuthMode::Off)), Peer::default());
    session.receive(input.as_bytes());
    let mut codes = Vec::new();
    loop {
        match session.next_step() {
            Step::Reply(r) => codes.push(r.code),
            Step::StartTls => {
                session.tls_established(TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "X".into(),
                });
                session.receive(b"MAIL FROM:<a@x>\r\nEHLO c\r\nSTARTTLS\r\n");
            }
            Step::NeedInput => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(codes, [220, 250, 220, 503, 250, 503]);
}

#[test]
fn require_starttls() {
    let config = SessionConfig {
        require_starttls: true,
        ..tls_config(AuthMode::Off)
    };
    let outcome = drive(config, format!("{HELLO}MAIL FROM:<a@x>\r\n").as_bytes(), 64);
    assert_eq!(outcome.codes, [220, 250, 530]);
}

#[test]
fn auth_accept_any_records_the_user() {
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD.encode("\0someone\0whatever");
    let input = format!(
        "EHLO c\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nx\r\n.\r\n"
    );
    let config = SessionConfig {
        auth: AuthMode::AcceptAny,
        ..SessionConfig::default()
    };
    let outcome = drive(config, input.as_bytes(), 5);
    assert_eq!(outcome.codes, [220, 250, 235, 250, 250, 354, 250]);
    assert_eq!(
        outcome.messages[0].envelope.auth_user.as_deref(),
        Some("someone")
    );
    assert!(
        outcome.replies[1]
            .lines
            .iter()
            .any(|l| l.starts_with("AUTH "))
    );
    assert!(
        !outcome.messages[0]
            .transcript
            .lines()
            .any(|l| l.contains(&plain))
    );
}

#[test]
fn auth_credentials_are_required_and_checked() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let creds = AuthMode::Credentials(crate::credentials::Credentials::parse("alice:secret"));
    let config = || SessionConfig {
        auth_allow_insecure: true,
        auth: creds.clone(),
        ..SessionConfig::default()
    };
    let input = format!(
        "EHLO c\r\nMAIL FROM:<a@x>\r\nAUTH LOGIN\r\n{}\r\n{}\r\nAUTH LOGIN {}\r\n{}\r\nMAIL FROM:<a@x>\r\n",
        b64("alice"),
        b64("wrong"),
        b64("alice"),
        b64("secret")
    );
    let outcome = drive(config(), input.as_bytes(), 3);
    assert_eq!(outcome.codes, [220, 250, 530, 334, 334, 535, 334, 235, 250]);
    // Without TLS or allow-insecure, a credentials list is not offered.
    let config = SessionConfig {
        auth: creds,
        ..SessionConfig::default()
    };
    let outcome = drive(
        config,
        format!("{HELLO}AUTH PLAIN {}\r\n", b64("\0alice\0secret")).as_bytes(),
        64,
    );
    assert_eq!(outcome.codes, [220, 250, 538]);
}

#[test]
fn chaos_fails_the_chosen_stage() {
    let chaos = Chaos::new(true, Chaos::parse_triggers("Sender:451:100").unwrap());
    let config = SessionConfig {
        chaos: Arc::new(chaos),
        ..SessionConfig::default()
    };
    let outcome = drive(config, format!("{HELLO}MAIL FROM:<a@x>\r\n").as_bytes(), 64);
    assert_eq!(outcome.codes, [220, 250, 451]);
}

#[test]
fn smtputf8_addresses_are_kept_intact() {
    let input = "EHLO c\r\nMAIL FROM:<usér@exämple.com> SMTPUTF8\r\nRCPT TO:<收件人@例子.中国>\r\nDATA\r\nSubject: ü\r\n\r\nx\r\n.\r\n";
    let outcome = run(input);
    let envelope = &outcome.messages[0].envelope;
    assert_eq!(envelope.mail_from, "usér@exämple.com");
    assert_eq!(envelope.rcpt_to, ["收件人@例子.中国"]);
    assert!(
        outcome.messages[0].warnings.is_empty(),
        "{:?}",
        outcome.messages[0].warnings
    );
}
