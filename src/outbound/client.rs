//! One attempt at a delivery, with lettre's SMTP connection driven command
//! by command (its `send` stops at the first refused recipient; here each
//! RCPT is kept, so a partial success delivers to the accepted recipients).

use std::time::Duration;

use jiff::Timestamp;
use lettre::Address;
use lettre::transport::smtp::Error;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;

use super::queue::{Attempt, Outcome, Reply, Step};
use super::relay::{Auth, RelayTarget};

/// Sends `raw` from `from` to `recipients` through `target`. Never fails:
/// a failure before RCPT becomes every recipient's reply.
pub(crate) async fn attempt(
    target: &RelayTarget,
    hostname: &str,
    from: &str,
    recipients: &[String],
    raw: &[u8],
    timeout: Duration,
) -> Outcome {
    let mut attempt = Attempt {
        started: Timestamp::now(),
        server: target.server(),
        steps: Vec::new(),
    };
    let whole = time_limit(timeout, recipients.len());
    let result = tokio::time::timeout(
        whole,
        session(
            target,
            hostname,
            from,
            recipients,
            raw,
            timeout,
            &mut attempt.steps,
        ),
    )
    .await
    .unwrap_or_else(|_| {
        Err(Reply {
            code: 0,
            text: format!("timed out after {}s", whole.as_secs()),
        })
    });
    let replies = match result {
        Ok(replies) => replies,
        Err(reply) => {
            attempt.steps.push(Step {
                command: "(connection)".into(),
                reply: reply.clone(),
            });
            recipients
                .iter()
                .map(|r| (r.clone(), reply.clone()))
                .collect()
        }
    };
    Outcome { attempt, replies }
}

/// The longest a whole attempt may take (lettre's timeout is per read):
/// a few replies, and one per recipient.
pub(crate) fn time_limit(timeout: Duration, recipients: usize) -> Duration {
    timeout.saturating_mul(4 + recipients.min(100) as u32)
}

/// The outcome of an attempt whose task failed: every recipient deferred.
pub(crate) fn crashed(target: &RelayTarget, recipients: &[String], why: &str) -> Outcome {
    let reply = Reply {
        code: 0,
        text: format!("the SMTP client failed: {why}"),
    };
    Outcome {
        attempt: Attempt {
            started: Timestamp::now(),
            server: target.server(),
            steps: vec![Step {
                command: "(connection)".into(),
                reply: reply.clone(),
            }],
        },
        replies: recipients
            .iter()
            .map(|r| (r.clone(), reply.clone()))
            .collect(),
    }
}

/// The SMTP dialogue. `Err` is a failure that decides every recipient.
async fn session(
    target: &RelayTarget,
    hostname: &str,
    from: &str,
    recipients: &[String],
    raw: &[u8],
    timeout: Duration,
    steps: &mut Vec<Step>,
) -> Result<Vec<(String, Reply)>, Reply> {
    let client_id = ClientId::Domain(hostname.to_string());
    // Without the `tls` feature the relay file cannot ask for TLS.
    #[cfg(feature = "tls")]
    let implicit = if target.tls {
        Some(tls_parameters(target)?)
    } else {
        None
    };
    #[cfg(not(feature = "tls"))]
    let implicit = None;
    let mut conn = AsyncSmtpConnection::connect_tokio1(
        (target.host.as_str(), target.port),
        Some(timeout),
        &client_id,
        implicit,
        None,
    )
    .await
    .map_err(|e| reply_of(&e))?;
    #[cfg(feature = "tls")]
    if target.starttls {
        let params = tls_parameters(target)?;
        if let Err(e) = conn.starttls(params, &client_id).await {
            // Dropped, not quit: after a failed handshake lettre's stream
            // is gone and writing QUIT to it would trip its assertions.
            return Err(fixed(&e, "STARTTLS"));
        }
    }
    let result = transaction(&mut conn, target, from, recipients, raw, steps).await;
    let _ = conn.quit().await;
    result
}

async fn transaction(
    conn: &mut AsyncSmtpConnection,
    target: &RelayTarget,
    from: &str,
    recipients: &[String],
    raw: &[u8],
    steps: &mut Vec<Step>,
) -> Result<Vec<(String, Reply)>, Reply> {
    if let Auth::CramMd5 { username, secret } = &target.login {
        cram_md5(conn, username, secret, steps).await?;
    } else if let Some((mechanism, credentials)) = credentials(&target.login) {
        let response = conn.auth(&[mechanism], &credentials).await;
        record(steps, "AUTH", &response);
        response.map_err(|e| fixed(&e, "AUTH"))?;
    }
    let sender = match from {
        "" => None,
        from => Some(parse_address(from).map_err(|text| Reply { code: 501, text })?),
    };
    let mut params = Vec::new();
    if !raw.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let response = conn.command(Mail::new(sender, params)).await;
    record(steps, &format!("MAIL FROM:<{from}>"), &response);
    response.map_err(|e| reply_of(&e))?;

    let mut replies = Vec::with_capacity(recipients.len());
    let mut accepted = Vec::new();
    for recipient in recipients {
        let reply = match parse_address(recipient) {
            Err(text) => Reply { code: 553, text },
            Ok(address) => {
                let response = conn.command(Rcpt::new(address, vec![])).await;
                record(steps, &format!("RCPT TO:<{recipient}>"), &response);
                result_reply(&response)
            }
        };
        if reply.is_positive() {
            accepted.push(recipient.clone());
        } else if reply.code == 0 {
            // The connection broke: the rest are deferred with it.
            return Err(reply);
        }
        replies.push((recipient.clone(), reply));
    }
    if accepted.is_empty() {
        return Ok(replies);
    }
    let response = conn.command(Data).await;
    record(steps, "DATA", &response);
    if let Err(e) = response {
        for_accepted(reply_of(&e), &accepted, &mut replies);
        return Ok(replies);
    }
    let response = conn.message(wire_body(raw)).await;
    record(steps, "(message)", &response);
    for_accepted(result_reply(&response), &accepted, &mut replies);
    Ok(replies)
}

/// A failure after RCPT decides every accepted recipient.
fn for_accepted(reply: Reply, accepted: &[String], replies: &mut [(String, Reply)]) {
    for (address, slot) in replies.iter_mut() {
        if accepted.contains(address) {
            *slot = reply.clone();
        }
    }
}

/// lettre ends the data with CRLF.CRLF itself; a message that already
/// ends with CRLF would get an extra empty line, so that CRLF goes.
fn wire_body(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\r\n").unwrap_or(raw)
}

/// A command line as given (lettre adds nothing to it).
struct Line(String);

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

/// CRAM-MD5 (RFC 2195), which lettre lacks: its connection is driven a
/// command at a time, so the exchange is written here: `AUTH CRAM-MD5`,
/// the server's base64 challenge, and `user hex(HMAC-MD5(secret,
/// challenge))` in base64.
async fn cram_md5(
    conn: &mut AsyncSmtpConnection,
    username: &str,
    secret: &str,
    steps: &mut Vec<Step>,
) -> Result<(), Reply> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    let response = conn.command(Line("AUTH CRAM-MD5".into())).await;
    record(steps, "AUTH CRAM-MD5", &response);
    let challenge = response.map_err(|e| fixed(&e, "AUTH"))?;
    let refused = |text: &str| Reply {
        code: 530,
        text: format!("AUTH: {text}"),
    };
    if u16::from(challenge.code()) != 334 {
        return Err(refused("the server sent no CRAM-MD5 challenge"));
    }
    let challenge = challenge
        .first_line()
        .and_then(|line| BASE64.decode(line.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| refused("the CRAM-MD5 challenge is not base64 text"))?;
    let digest = hex::encode(crate::smtp::auth::hmac_md5(secret, &challenge));
    let answer = BASE64.encode(format!("{username} {digest}"));
    let response = conn.command(Line(answer)).await;
    record(steps, "(CRAM-MD5 response)", &response);
    response.map_err(|e| fixed(&e, "AUTH"))?;
    Ok(())
}

fn credentials(login: &Auth) -> Option<(Mechanism, Credentials)> {
    match login {
        Auth::None | Auth::CramMd5 { .. } => None,
        Auth::Plain { username, password } => Some((
            Mechanism::Plain,
            Credentials::new(username.clone(), password.clone()),
        )),
        Auth::Login { username, password } => Some((
            Mechanism::Login,
            Credentials::new(username.clone(), password.clone()),
        )),
    }
}

fn parse_address(address: &str) -> Result<Address, String> {
    address
        .parse::<Address>()
        .map_err(|e| format!("invalid address {address:?}: {e}"))
}

#[cfg(feature = "tls")]
fn tls_parameters(
    target: &RelayTarget,
) -> Result<lettre::transport::smtp::client::TlsParameters, Reply> {
    lettre::transport::smtp::client::TlsParameters::builder(target.host.clone())
        .dangerous_accept_invalid_certs(target.allow_insecure)
        .dangerous_accept_invalid_hostnames(target.allow_insecure)
        .build_rustls()
        .map_err(|e| Reply {
            code: 0,
            text: format!("TLS: {e}"),
        })
}

fn record(steps: &mut Vec<Step>, command: &str, response: &Result<Response, Error>) {
    steps.push(Step {
        command: command.to_string(),
        reply: result_reply(response),
    });
}

fn result_reply(response: &Result<Response, Error>) -> Reply {
    match response {
        Ok(response) => Reply {
            code: response.code().into(),
            text: bounded(response.message().collect::<Vec<_>>().join(" ")),
        },
        Err(e) => reply_of(e),
    }
}

/// Most characters of a reply kept: every attempt is recorded, and a
/// server's replies must not grow the queue without bound.
const MAX_REPLY_CHARS: usize = 512;

fn bounded(text: String) -> String {
    match text.char_indices().nth(MAX_REPLY_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The reply inside a lettre error; code 0 when there was none (refused
/// or dropped connection, time-out, TLS failure), which is retried.
fn reply_of(error: &Error) -> Reply {
    let text = std::error::Error::source(error)
        .map(|s| s.to_string())
        .unwrap_or_else(|| error.to_string());
    Reply {
        code: error.status().map_or(0, u16::from),
        text: bounded(text),
    }
}

/// A refusal of a step the configuration asked for (STARTTLS, AUTH): a 5xx
/// or a client-side refusal (the server does not offer it) will not mend
/// by retrying, so it is permanent.
fn fixed(error: &Error, step: &str) -> Reply {
    let mut reply = reply_of(error);
    if error.is_client() {
        reply.code = 530;
    }
    reply.text = format!("{step}: {}", reply.text);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_bounded_and_the_last_crlf_is_left_to_lettre() {
        assert_eq!(
            bounded("x".repeat(600)).chars().count(),
            MAX_REPLY_CHARS + 1
        );
        assert_eq!(bounded("short".into()), "short");
        assert_eq!(wire_body(b"a\r\n"), b"a");
        assert_eq!(wire_body(b"a"), b"a");
    }
}
