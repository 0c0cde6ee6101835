//! One attempt at a delivery: a small SMTP client written for the queue.
//!
//! Hand-written rather than lettre's, because the queue needs what lettre
//! does not give: HELO when EHLO is refused, the EHLO keywords lettre does
//! not know (`SIZE`'s limit, `PIPELINING`), MAIL FROM, every RCPT TO and
//! DATA in one write when the server pipelines, and every reply of every
//! command, so a partial success delivers to the accepted recipients.
//! [`wire`] is the sans-IO part (replies, EHLO keywords, dot-stuffing),
//! [`connection`] the tokio transport (TCP, TLS, time-outs), [`login`] AUTH
//! and [`transaction`] MAIL, RCPT and DATA.

mod connection;
mod login;
mod transaction;
mod wire;

use std::time::Duration;

use jiff::Timestamp;

use super::queue::{Attempt, Outcome, Reply, Step};
use super::relay::RelayTarget;
use connection::Connection;
use wire::{Extensions, ServerReply};

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
    let message = Message {
        hostname,
        from,
        recipients,
        raw,
    };
    let result = tokio::time::timeout(
        whole,
        session(target, &message, timeout, &mut attempt.steps),
    )
    .await
    .unwrap_or_else(|_| {
        let reply = Reply {
            code: 0,
            text: format!("timed out after {}s", whole.as_secs()),
        };
        attempt.steps.push(Step {
            command: "(connection)".into(),
            reply: reply.clone(),
        });
        Err(reply)
    });
    let replies = match result {
        Ok(replies) => replies,
        Err(reply) => recipients
            .iter()
            .map(|r| (r.clone(), reply.clone()))
            .collect(),
    };
    Outcome { attempt, replies }
}

/// The longest a whole attempt may take (the timeout bounds each read and
/// write): a few for the greeting, EHLO, STARTTLS, AUTH, DATA and the
/// message, and one per recipient. Kept short of the sum of every step's
/// worst case: it is also how long a dead node's claim on a delivery lasts.
pub(crate) fn time_limit(timeout: Duration, recipients: usize) -> Duration {
    timeout.saturating_mul(8 + recipients.min(100) as u32)
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

/// What one attempt sends.
struct Message<'a> {
    /// Our name, for EHLO/HELO.
    hostname: &'a str,
    from: &'a str,
    recipients: &'a [String],
    raw: &'a [u8],
}

/// The connection and the attempt's record: every command and reply goes
/// through here, so each is recorded once, failures included.
pub(super) struct Dialogue<'a> {
    conn: Connection,
    steps: &'a mut Vec<Step>,
}

impl Dialogue<'_> {
    /// Sends one command line and reads its reply, recorded as `label`.
    async fn command(&mut self, label: &str, line: &str) -> Result<ServerReply, Reply> {
        self.send(label, format!("{line}\r\n").as_bytes()).await?;
        self.reply(label).await
    }

    async fn send(&mut self, label: &str, bytes: &[u8]) -> Result<(), Reply> {
        match self.conn.send(bytes).await {
            Ok(()) => Ok(()),
            Err(text) => Err(self.fail(label, broken(text))),
        }
    }

    /// Reads one reply, recorded as `label`; `Err` (code 0) when the
    /// connection failed.
    async fn reply(&mut self, label: &str) -> Result<ServerReply, Reply> {
        match self.conn.reply().await {
            Ok(reply) => {
                self.record(label, summary(&reply));
                Ok(reply)
            }
            Err(text) => Err(self.fail(label, broken(text))),
        }
    }

    /// Records a failure and hands it back.
    fn fail(&mut self, label: &str, reply: Reply) -> Reply {
        self.record(label, reply.clone());
        reply
    }

    fn record(&mut self, label: &str, reply: Reply) {
        self.steps.push(Step {
            command: label.to_string(),
            reply,
        });
    }

    async fn start_tls(&mut self, target: &RelayTarget, label: &str) -> Result<(), Reply> {
        match self
            .conn
            .start_tls(&target.host, target.allow_insecure)
            .await
        {
            Ok(()) => Ok(()),
            Err(text) => Err(self.fail(label, broken(text))),
        }
    }

    /// Ends the session politely; its reply is not waited for long or kept.
    async fn quit(&mut self) {
        if self.conn.usable() && self.conn.send(b"QUIT\r\n").await.is_ok() {
            let _ = self.conn.reply().await;
        }
    }
}

/// The SMTP session. `Err` is a failure that decides every recipient.
async fn session(
    target: &RelayTarget,
    message: &Message<'_>,
    timeout: Duration,
    steps: &mut Vec<Step>,
) -> Result<Vec<(String, Reply)>, Reply> {
    let conn = match Connection::open(&target.host, target.port, timeout).await {
        Ok(conn) => conn,
        Err(text) => {
            let reply = broken(text);
            steps.push(Step {
                command: "(connect)".into(),
                reply: reply.clone(),
            });
            return Err(reply);
        }
    };
    let mut dialogue = Dialogue { conn, steps };
    let result = conversation(&mut dialogue, target, message).await;
    dialogue.quit().await;
    result
}

async fn conversation(
    dialogue: &mut Dialogue<'_>,
    target: &RelayTarget,
    message: &Message<'_>,
) -> Result<Vec<(String, Reply)>, Reply> {
    if target.tls {
        dialogue.start_tls(target, "(TLS handshake)").await?;
    }
    let greeting = dialogue.reply("(greeting)").await?;
    if greeting.code != 220 {
        return Err(refusal(&greeting, "greeting"));
    }
    let mut extensions = hello(dialogue, message.hostname).await?;
    if target.starttls {
        starttls(dialogue, &extensions, target).await?;
        extensions = hello(dialogue, message.hostname).await?;
    }
    login::login(dialogue, &extensions, &target.login).await?;
    transaction::transaction(dialogue, &extensions, message).await
}

/// EHLO, and HELO if the server refuses EHLO with a 5xx (it then offers
/// no extensions).
async fn hello(dialogue: &mut Dialogue<'_>, hostname: &str) -> Result<Extensions, Reply> {
    let ehlo = format!("EHLO {hostname}");
    let reply = dialogue.command(&ehlo, &ehlo).await?;
    if reply.code == 250 {
        return Ok(Extensions::from_ehlo(&reply));
    }
    if !(500..600).contains(&reply.code) {
        return Err(refusal(&reply, "EHLO"));
    }
    let helo = format!("HELO {hostname}");
    let reply = dialogue.command(&helo, &helo).await?;
    if reply.code == 250 {
        Ok(Extensions::default())
    } else {
        Err(refusal(&reply, "HELO"))
    }
}

/// STARTTLS, required when configured: a server that does not offer it,
/// or refuses it for good, fails the delivery; a failed handshake defers.
async fn starttls(
    dialogue: &mut Dialogue<'_>,
    extensions: &Extensions,
    target: &RelayTarget,
) -> Result<(), Reply> {
    if !extensions.starttls {
        let reply = Reply {
            code: 530,
            text: "STARTTLS: the server does not offer STARTTLS".into(),
        };
        return Err(dialogue.fail("STARTTLS", reply));
    }
    let reply = dialogue.command("STARTTLS", "STARTTLS").await?;
    if reply.code != 220 {
        let mut refused = refusal(&reply, "STARTTLS");
        if refused.code == 0 {
            refused.code = 530;
        }
        return Err(refused);
    }
    dialogue.start_tls(target, "(TLS handshake)").await
}

/// A server reply as the delivery records keep it.
fn summary(reply: &ServerReply) -> Reply {
    Reply {
        code: reply.code,
        text: bounded(reply.text()),
    }
}

/// A reply that refuses a step: a 4xx or 5xx keeps its code (retried or
/// final, as the queue decides); anything else unexpected is code 0 and
/// retried.
fn refusal(reply: &ServerReply, step: &str) -> Reply {
    let code = if (400..600).contains(&reply.code) {
        reply.code
    } else {
        0
    };
    Reply {
        code,
        text: bounded(format!("{step}: {}", reply.text())),
    }
}

/// A failure with no reply (refused or dropped connection, time-out, TLS,
/// a reply that is not SMTP): code 0, which is retried.
fn broken(text: String) -> Reply {
    Reply {
        code: 0,
        text: bounded(text),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_bounded() {
        assert_eq!(
            bounded("x".repeat(600)).chars().count(),
            MAX_REPLY_CHARS + 1
        );
        assert_eq!(bounded("short".into()), "short");
    }
}
