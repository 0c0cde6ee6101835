//! A SpamAssassin check over spamd's own protocol (SPAMC/1.5), answered in
//! Mailpit's `sa-check` shape: `{"IsSpam", "Error", "Score", "Rules":
//! [{"Score", "Name", "Description"}]}`.
//!
//! Written by hand because the exchange is one request and one short
//! answer: `REPORT SPAMC/1.5`, a `Content-length` header and the message;
//! spamd answers a status line (`SPAMD/1.1 0 EX_OK`), a `Spam: True ; 6.1 /
//! 5.0` header and the report, whose "Content analysis details" table
//! lists each rule that hit with its points and description.
//!
//! As in Mailpit, a message is spam from a score of 5, scores are cut to one
//! decimal, and a failure (spamd down, a bad answer) is a 200 answer whose
//! `Error` says what went wrong. Every step is bounded: connecting
//! ([`CONNECT_TIMEOUT`]), the whole exchange ([`EXCHANGE_TIMEOUT`]), the
//! message sent ([`MAX_MESSAGE`]) and the answer read ([`MAX_ANSWER`]).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// spamd scans a large message for seconds; Mailpit allows 8.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);
/// Larger messages are not sent (spamc's own default cap is 500 KB).
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// A report is a few KB; anything beyond this is not spamd.
const MAX_ANSWER: u64 = 256 * 1024;
/// Mailpit's spam threshold.
const SPAM_SCORE: f64 = 5.0;

/// Where spamd listens: `--enable-spamassassin HOST:PORT` or `unix:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpamdAddress {
    Tcp(String),
    Unix(PathBuf),
}

impl std::fmt::Display for SpamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpamdAddress::Tcp(address) => f.write_str(address),
            SpamdAddress::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

impl SpamdAddress {
    /// Parses the flag's value. Mailpit's other form, `postmark` (a public
    /// web service), is refused: mailcatch makes no calls to the internet.
    pub fn parse(value: &str) -> Result<SpamdAddress, String> {
        let value = value.trim();
        if let Some(path) = value.strip_prefix("unix:") {
            return match path {
                "" => Err("unix: needs a socket path".into()),
                path => Ok(SpamdAddress::Unix(path.into())),
            };
        }
        if value.eq_ignore_ascii_case("postmark") {
            return Err("Postmark's web service is not supported; give spamd's HOST:PORT".into());
        }
        let port = value
            .rsplit_once(':')
            .filter(|(host, _)| !host.is_empty())
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .filter(|port| *port > 0);
        match port {
            Some(_) => Ok(SpamdAddress::Tcp(value.into())),
            None => Err(format!(
                "{value:?} is not HOST:PORT (e.g. 127.0.0.1:783) or unix:PATH"
            )),
        }
    }
}

/// The check's answer, in Mailpit's field order.
#[derive(Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpamReport {
    pub is_spam: bool,
    /// What went wrong; empty on success.
    pub error: String,
    #[serde(serialize_with = "go_float")]
    pub score: f64,
    /// `null` when the check failed, as in Mailpit.
    pub rules: Option<Vec<SpamRule>>,
}

/// One rule that hit.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SpamRule {
    #[serde(serialize_with = "go_float")]
    pub score: f64,
    pub name: String,
    pub description: String,
}

/// A float as Go's encoder writes it: `2`, not `2.0`.
fn go_float<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

impl SpamReport {
    fn failed(error: impl Into<String>) -> SpamReport {
        SpamReport {
            error: error.into(),
            ..SpamReport::default()
        }
    }
}

/// Asks spamd about `message`. Never fails: a failure is the report's `Error`.
pub async fn check(address: &SpamdAddress, message: &[u8]) -> SpamReport {
    if message.len() > MAX_MESSAGE {
        return SpamReport::failed(format!(
            "message too large for SpamAssassin ({} bytes; at most {MAX_MESSAGE})",
            message.len()
        ));
    }
    let head = format!(
        "REPORT SPAMC/1.5\r\nContent-length: {}\r\n\r\n",
        message.len()
    );
    let answer =
        match tokio::time::timeout(EXCHANGE_TIMEOUT, exchange(address, &head, message)).await {
            Err(_) => return SpamReport::failed("spamd did not answer in time"),
            Ok(Err(error)) => return SpamReport::failed(error),
            Ok(Ok(answer)) => answer,
        };
    match parse_answer(&answer) {
        Ok(report) => report,
        Err(error) => SpamReport::failed(error),
    }
}

/// Whether spamd answers `PING`: logged at start, as Mailpit does, so a
/// wrong address shows before the first check.
pub async fn ping(address: &SpamdAddress) -> Result<(), String> {
    let request = exchange(address, "PING SPAMC/1.5\r\n\r\n", b"");
    let answer = tokio::time::timeout(EXCHANGE_TIMEOUT, request)
        .await
        .map_err(|_| format!("spamd at {address} did not answer in time"))??;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.starts_with("SPAMD/") && status.ends_with(" 0 PONG") {
        Ok(())
    } else {
        Err(format!(
            "spamd at {address} answered {:?}",
            truncate(status)
        ))
    }
}

/// Logs whether spamd answers, without holding up shutdown.
pub(crate) async fn announce(address: SpamdAddress, mut shutdown: crate::shutdown::Shutdown) {
    tokio::select! {
        answer = ping(&address) => match answer {
            Ok(()) => tracing::info!(spamd = %address, "SpamAssassin checks enabled"),
            Err(error) => tracing::warn!(%error, "SpamAssassin checks enabled, but spamd does not answer"),
        },
        _ = shutdown.wait() => {}
    }
}

/// Sends a request (`head`, then `body`) and reads the whole answer.
async fn exchange(address: &SpamdAddress, head: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let fail = |what: &str, error: std::io::Error| format!("spamd at {address}: {what}: {error}");
    let connect_timeout = || format!("spamd at {address}: connecting timed out");
    match address {
        SpamdAddress::Tcp(addr) => {
            let stream =
                tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
                    .await
                    .map_err(|_| connect_timeout())?
                    .map_err(|e| fail("connect", e))?;
            talk(stream, head, body)
                .await
                .map_err(|e| fail("exchange", e))
        }
        #[cfg(unix)]
        SpamdAddress::Unix(path) => {
            let stream =
                tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::UnixStream::connect(path))
                    .await
                    .map_err(|_| connect_timeout())?
                    .map_err(|e| fail("connect", e))?;
            talk(stream, head, body)
                .await
                .map_err(|e| fail("exchange", e))
        }
        #[cfg(not(unix))]
        SpamdAddress::Unix(_) => Err("unix sockets are not available on this system".into()),
    }
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    head: &str,
    body: &[u8],
) -> std::io::Result<Vec<u8>> {
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    // spamd reads until the client closes its side.
    stream.shutdown().await?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_ANSWER + 1)
        .read_to_end(&mut answer)
        .await?;
    if answer.len() as u64 > MAX_ANSWER {
        return Err(std::io::Error::other("answer larger than 256 KiB"));
    }
    Ok(answer)
}

/// Reads spamd's answer to `REPORT`.
pub(crate) fn parse_answer(answer: &[u8]) -> Result<SpamReport, String> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.trim_end(), ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut parts = status.splitn(3, ' ');
    let (protocol, code, message) = (parts.next(), parts.next(), parts.next());
    if !protocol.is_some_and(|p| p.starts_with("SPAMD/")) {
        return Err(format!("not a spamd answer: {:?}", truncate(status)));
    }
    if code != Some("0") {
        let message = message.unwrap_or_default();
        return Err(format!(
            "spamd refused the check: {} {message}",
            code.unwrap_or_default()
        ));
    }
    let spam = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("Spam"))
        .map(|(_, value)| value)
        .ok_or("spamd's answer has no Spam header")?;
    // `True ; 6.1 / 5.0`
    let score = spam
        .split_once(';')
        .and_then(|(_, scores)| scores.split('/').next())
        .and_then(|score| score.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("spamd's Spam header is unreadable: {:?}", truncate(spam)))?;
    Ok(SpamReport {
        is_spam: score >= SPAM_SCORE,
        error: String::new(),
        score: one_decimal(score),
        rules: Some(rules(body)),
    })
}

/// The rows of the report's "Content analysis details" table: points, rule
/// name, description; a description that wraps continues on lines indented
/// to its column.
fn rules(report: &str) -> Vec<SpamRule> {
    let mut rules: Vec<SpamRule> = Vec::new();
    let table = report
        .lines()
        .skip_while(|line| !line.starts_with("Content analysis details"));
    for line in table {
        let indent = line.len() - line.trim_start().len();
        if indent >= 8 {
            if let Some(last) = rules.last_mut() {
                last.description.push(' ');
                last.description.push_str(line.trim());
            }
            continue;
        }
        let mut words = line.trim().splitn(2, char::is_whitespace);
        let points = words.next().and_then(|p| p.parse::<f64>().ok());
        let rest = words.next().unwrap_or_default().trim_start();
        let (name, description) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let named = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if let (Some(points), true) = (points, named) {
            rules.push(SpamRule {
                score: one_decimal(points),
                name: name.into(),
                description: description.trim().into(),
            });
        }
    }
    rules
}

/// Cut (not rounded) to one decimal as Mailpit does, without the float
/// error that would turn 2.3 into 2.2; never `-0`.
fn one_decimal(value: f64) -> f64 {
    let cut = ((value * 10.0) + 1e-9).floor() / 10.0;
    if cut == 0.0 { 0.0 } else { cut }
}

fn truncate(text: &str) -> &str {
    &text[..text.floor_char_boundary(120)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// spamd 4.0.1's answer for a message with a drug name and sums of money.
    const HAM: &str = "SPAMD/1.1 0 EX_OK\r\nContent-length: 914\r\nSpam: False ; 1.8 / 5.0\r\n\r\n\
Spam detection software, running on the system \"vm\",\nhas NOT identified this incoming email as spam.  The original\n\
message has been attached to this so you can view it or label\nsimilar future email.  If you have any questions, see\n\
@@CONTACT_ADDRESS@@ for details.\n\nContent preview:  Buy cheap viagra now! Click http://example.com/ to win a MILLION\n   DOLLARS!!! \n\n\
Content analysis details:   (1.8 points, 5.0 required)\n\n pts rule name              description\n\
---- ---------------------- --------------------------------------------------\n\
-0.0 NO_RECEIVED            Informational: message has no Received headers\n\
 0.0 MSGID_SHORT            Message-ID is unusually short\n\
-0.0 NO_RELAYS              Informational: message was not relayed via SMTP\n\
 0.0 BILLION_DOLLARS        BODY: Talks about lots of money\n\
 0.0 LOTS_OF_MONEY          Huge... sums of money\n\
 1.8 DRUGS_ERECTILE         Refers to an erectile drug\n\n";

    /// spamd 4.0.1's answer for GTUBE in HTML: a four-digit score and
    /// descriptions that wrap.
    const SPAM: &str = "SPAMD/1.1 0 EX_OK\r\nContent-length: 1518\r\nSpam: True ; 1003.8 / 5.0\r\n\r\n\
Spam detection software, running on the system \"vm\",\nhas identified this incoming email as possible spam.\n\n\
Content preview:  XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n   hidden hidden \n\n\
Content analysis details:   (1003.8 points, 5.0 required)\n\n pts rule name              description\n\
---- ---------------------- --------------------------------------------------\n\
-0.0 NO_RECEIVED            Informational: message has no Received headers\n\
1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\n\
 0.2 NORMAL_HTTP_TO_IP      URI: URI host has a public dotted-decimal IPv4\n\
\x20                           address\n\
 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar or identical to\n\
\x20                           background\n\
 0.1 MIME_HEADER_CTYPE_ONLY 'Content-Type' found without required MIME\n\
\x20                           headers\n\
 0.0 T_REMOTE_IMAGE         Message contains an external image\n\n";

    fn rule(score: f64, name: &str, description: &str) -> SpamRule {
        SpamRule {
            score,
            name: name.into(),
            description: description.into(),
        }
    }

    #[test]
    fn reads_a_ham_report() {
        let report = parse_answer(HAM.as_bytes()).unwrap();
        assert!(!report.is_spam);
        assert_eq!(report.score, 1.8);
        assert_eq!(report.error, "");
        let rules = report.rules.unwrap();
        assert_eq!(rules.len(), 6);
        assert_eq!(
            rules[0],
            rule(
                0.0,
                "NO_RECEIVED",
                "Informational: message has no Received headers"
            )
        );
        assert_eq!(
            rules[5],
            rule(1.8, "DRUGS_ERECTILE", "Refers to an erectile drug")
        );
    }

    #[test]
    fn reads_a_spam_report_with_wrapped_descriptions() {
        let report = parse_answer(SPAM.as_bytes()).unwrap();
        assert!(report.is_spam);
        assert_eq!(report.score, 1003.8);
        assert_eq!(
            report.rules.unwrap(),
            [
                rule(
                    0.0,
                    "NO_RECEIVED",
                    "Informational: message has no Received headers"
                ),
                rule(
                    1000.0,
                    "GTUBE",
                    "BODY: Generic Test for Unsolicited Bulk Email"
                ),
                rule(
                    0.2,
                    "NORMAL_HTTP_TO_IP",
                    "URI: URI host has a public dotted-decimal IPv4 address"
                ),
                rule(
                    0.7,
                    "HTML_FONT_LOW_CONTRAST",
                    "BODY: HTML font color similar or identical to background"
                ),
                rule(
                    0.1,
                    "MIME_HEADER_CTYPE_ONLY",
                    "'Content-Type' found without required MIME headers"
                ),
                rule(0.0, "T_REMOTE_IMAGE", "Message contains an external image"),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_good_answer() {
        let error = |answer: &str| parse_answer(answer.as_bytes()).unwrap_err();
        assert!(error("").contains("not a spamd answer"));
        assert!(error("HTTP/1.1 200 OK\r\n\r\n").contains("not a spamd answer"));
        assert_eq!(
            error("SPAMD/1.0 76 Bad header line: (Content-length mismatch: 5 vs. 4)\r\n"),
            "spamd refused the check: 76 Bad header line: (Content-length mismatch: 5 vs. 4)"
        );
        assert!(error("SPAMD/1.1 0 EX_OK\r\n\r\n").contains("no Spam header"));
        assert!(error("SPAMD/1.1 0 EX_OK\r\nSpam: True ; x / 5.0\r\n\r\n").contains("unreadable"));
    }

    #[test]
    fn scores_are_cut_to_one_decimal() {
        assert_eq!(one_decimal(2.3), 2.3);
        assert_eq!(one_decimal(2.39), 2.3);
        assert_eq!(one_decimal(-0.0), 0.0);
        assert_eq!(one_decimal(-1.25), -1.3);
        assert_eq!(one_decimal(1000.0), 1000.0);
    }

    #[test]
    fn the_report_has_mailpits_shape() {
        let report = parse_answer(HAM.as_bytes()).unwrap();
        let json = serde_json::to_string(&report).unwrap();
        assert!(
            json.starts_with(r#"{"IsSpam":false,"Error":"","Score":1.8,"Rules":[{"Score":0,"Name":"NO_RECEIVED","#),
            "{json}"
        );
        let failed = serde_json::to_string(&SpamReport::failed("down")).unwrap();
        assert_eq!(
            failed,
            r#"{"IsSpam":false,"Error":"down","Score":0,"Rules":null}"#
        );
    }

    #[test]
    fn parses_the_flag() {
        assert_eq!(
            SpamdAddress::parse("127.0.0.1:783"),
            Ok(SpamdAddress::Tcp("127.0.0.1:783".into()))
        );
        assert_eq!(
            SpamdAddress::parse("spamassassin:783"),
            Ok(SpamdAddress::Tcp("spamassassin:783".into()))
        );
        assert_eq!(
            SpamdAddress::parse("[::1]:783"),
            Ok(SpamdAddress::Tcp("[::1]:783".into()))
        );
        assert_eq!(
            SpamdAddress::parse("unix:/run/spamd.sock"),
            Ok(SpamdAddress::Unix("/run/spamd.sock".into()))
        );
        for bad in [
            "",
            "spamd",
            ":783",
            "host:",
            "host:0",
            "host:99999",
            "unix:",
            "postmark",
        ] {
            assert!(SpamdAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_spamd_that_is_down_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = std::time::Instant::now();
        let report = check(
            &SpamdAddress::Tcp(format!("127.0.0.1:{port}")),
            b"Subject: x\r\n\r\nx",
        )
        .await;
        assert!(report.error.contains("connect"), "{}", report.error);
        assert!(report.rules.is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// A one-shot stand-in for spamd on a Unix socket: reads the request to
    /// its end and answers `answer`; returns what it was sent.
    #[cfg(unix)]
    async fn fake_spamd(answer: Vec<u8>) -> (SpamdAddress, tokio::task::JoinHandle<Vec<u8>>) {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "mailcatch-spamd-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let cleanup = path.clone();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap();
            let _ = stream.write_all(&answer).await;
            let _ = std::fs::remove_file(cleanup);
            request
        });
        (SpamdAddress::Unix(path), task)
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn speaks_spamc_over_a_unix_socket() {
        let (address, spamd) = fake_spamd(HAM.as_bytes().to_vec()).await;
        let message = b"Subject: hi\r\n\r\nhello\r\n";
        let report = check(&address, message).await;
        assert_eq!(report.error, "");
        assert_eq!(report.score, 1.8);
        assert_eq!(report.rules.unwrap().len(), 6);
        let request = spamd.await.unwrap();
        let expected = [
            b"REPORT SPAMC/1.5\r\nContent-length: 22\r\n\r\n".as_slice(),
            message,
        ]
        .concat();
        assert_eq!(
            String::from_utf8_lossy(&request),
            String::from_utf8_lossy(&expected)
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn pings() {
        let (address, spamd) = fake_spamd(b"SPAMD/1.5 0 PONG\r\n".to_vec()).await;
        assert_eq!(ping(&address).await, Ok(()));
        assert_eq!(spamd.await.unwrap(), b"PING SPAMC/1.5\r\n\r\n");
        let (address, _spamd) = fake_spamd(b"HTTP/1.1 400 Bad Request\r\n".to_vec()).await;
        let error = ping(&address).await.unwrap_err();
        assert!(error.contains("HTTP/1.1 400"), "{error}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_endless_answer_is_cut_off() {
        let mut answer = b"SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0\r\n\r\n".to_vec();
        answer.resize(MAX_ANSWER as usize + 10, b'x');
        let (address, _spamd) = fake_spamd(answer).await;
        let report = check(&address, b"Subject: hi\r\n\r\nhello\r\n").await;
        assert!(
            report.error.contains("larger than 256 KiB"),
            "{}",
            report.error
        );
        assert!(report.rules.is_none());
    }

    #[tokio::test]
    async fn a_huge_message_is_not_sent() {
        let too_big = vec![b'x'; MAX_MESSAGE + 1];
        let report = check(&SpamdAddress::Tcp("127.0.0.1:9".into()), &too_big).await;
        assert!(report.error.contains("too large"), "{}", report.error);
    }
}
