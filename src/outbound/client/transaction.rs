//! The mail transaction: MAIL FROM, RCPT TO for each recipient and DATA,
//! pipelined when the server offers PIPELINING, one at a time otherwise;
//! each recipient keeps its own reply.

use super::wire::{Extensions, ServerReply, dot_stuffed};
use super::{Dialogue, Message, refusal, summary};
use crate::outbound::queue::Reply;

/// The replies to MAIL FROM, to each RCPT TO sent, and to DATA when it
/// was pipelined with them.
struct Envelope {
    mail: ServerReply,
    rcpts: Vec<ServerReply>,
    data: Option<ServerReply>,
}

/// MAIL, RCPT, DATA and the message. Each recipient gets its own reply; a
/// failure after RCPT decides the accepted ones.
pub(super) async fn transaction(
    dialogue: &mut Dialogue<'_>,
    extensions: &Extensions,
    message: &Message<'_>,
) -> Result<Vec<(String, Reply)>, Reply> {
    let size = message.raw.len();
    if let Some(limit) = extensions.size_limit()
        && size as u64 > limit
    {
        let reply = Reply {
            code: 552,
            text: format!(
                "5.3.4 the message is {size} bytes and the server takes at most {limit} (SIZE); not sent"
            ),
        };
        return Err(dialogue.fail("(SIZE)", reply));
    }
    let from = message.from;
    if !from.is_empty()
        && let Err(text) = crate::smtp::address::check(from)
    {
        return Err(dialogue.fail(&format!("MAIL FROM:<{from}>"), Reply { code: 501, text }));
    }
    // Recipients that are not addresses are refused here and never sent.
    let mut replies: Vec<(String, Option<Reply>)> = message
        .recipients
        .iter()
        .map(|r| {
            let refused = crate::smtp::address::check(r)
                .err()
                .map(|text| Reply { code: 553, text });
            (r.clone(), refused)
        })
        .collect();
    let sendable: Vec<usize> = (0..replies.len())
        .filter(|&i| replies[i].1.is_none())
        .collect();
    let addresses: Vec<String> = sendable.iter().map(|&i| replies[i].0.clone()).collect();
    if sendable.is_empty() {
        return Ok(settled(replies));
    }
    let mail = mail_command(message, extensions);
    let envelope = if extensions.pipelining {
        pipelined(dialogue, &mail, &addresses).await?
    } else {
        one_by_one(dialogue, &mail, &addresses).await?
    };
    if !envelope.mail.is_positive() {
        abandon(dialogue, envelope.data.as_ref()).await;
        return Err(refusal(&envelope.mail, "MAIL FROM"));
    }
    let mut accepted = Vec::new();
    for (&index, reply) in sendable.iter().zip(&envelope.rcpts) {
        if reply.is_positive() {
            accepted.push(replies[index].0.clone());
        }
        replies[index].1 = Some(summary(reply));
    }
    let mut replies = settled(replies);
    if accepted.is_empty() {
        abandon(dialogue, envelope.data.as_ref()).await;
        return Ok(replies);
    }
    let data = match envelope.data {
        Some(data) => data,
        None => dialogue.command("DATA", "DATA").await?,
    };
    if data.code != 354 {
        for_accepted(summary(&data), &accepted, &mut replies);
        return Ok(replies);
    }
    let end = match dialogue.send("(message)", &dot_stuffed(message.raw)).await {
        Ok(()) => dialogue
            .reply("(message)")
            .await
            .map(|reply| summary(&reply)),
        Err(reply) => Err(reply),
    };
    for_accepted(end.unwrap_or_else(|reply| reply), &accepted, &mut replies);
    Ok(replies)
}

/// RFC 2920: MAIL FROM, every RCPT TO and DATA in one write, then the
/// replies read in order. DATA is pipelined too; if it is accepted while
/// no recipient was, the message is ended at once with an empty `.`
/// ([`abandon`]), and a DATA refusal with no recipient accepted is not
/// mistaken for a refusal of the message: the RCPT replies stand.
async fn pipelined(
    dialogue: &mut Dialogue<'_>,
    mail: &str,
    recipients: &[String],
) -> Result<Envelope, Reply> {
    let mut batch = format!("{mail}\r\n");
    for recipient in recipients {
        batch.push_str(&format!("RCPT TO:<{recipient}>\r\n"));
    }
    batch.push_str("DATA\r\n");
    dialogue.send(mail, batch.as_bytes()).await?;
    let mail_reply = dialogue.reply(mail).await?;
    let mut rcpts = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        rcpts.push(dialogue.reply(&format!("RCPT TO:<{recipient}>")).await?);
    }
    let data = dialogue.reply("DATA").await?;
    Ok(Envelope {
        mail: mail_reply,
        rcpts,
        data: Some(data),
    })
}

/// Without PIPELINING: each command waits for the previous reply, and a
/// refused MAIL FROM stops there.
async fn one_by_one(
    dialogue: &mut Dialogue<'_>,
    mail: &str,
    recipients: &[String],
) -> Result<Envelope, Reply> {
    let mail_reply = dialogue.command(mail, mail).await?;
    let mut rcpts = Vec::with_capacity(recipients.len());
    if mail_reply.is_positive() {
        for recipient in recipients {
            let line = format!("RCPT TO:<{recipient}>");
            rcpts.push(dialogue.command(&line, &line).await?);
        }
    }
    Ok(Envelope {
        mail: mail_reply,
        rcpts,
        data: None,
    })
}

/// A pipelined DATA the server accepted although nothing is to be sent:
/// an empty message ends it, which the server refuses for want of
/// recipients (RFC 2920 §3.1). Its reply is recorded and decides nothing.
async fn abandon(dialogue: &mut Dialogue<'_>, data: Option<&ServerReply>) {
    if data.is_some_and(|data| data.code == 354)
        && dialogue.send("(empty message)", b".\r\n").await.is_ok()
    {
        let _ = dialogue.reply("(empty message)").await;
    }
}

/// `MAIL FROM:<...>` with the parameters the server offers: `SIZE=`,
/// `BODY=8BITMIME` for a message that is not ASCII, `SMTPUTF8` for an
/// address that is not.
fn mail_command(message: &Message<'_>, extensions: &Extensions) -> String {
    let mut line = format!("MAIL FROM:<{}>", message.from);
    if extensions.size.is_some() {
        line.push_str(&format!(" SIZE={}", message.raw.len()));
    }
    if extensions.eight_bit_mime && !message.raw.is_ascii() {
        line.push_str(" BODY=8BITMIME");
    }
    let utf8_address = !message.from.is_ascii() || message.recipients.iter().any(|r| !r.is_ascii());
    if extensions.smtputf8 && utf8_address {
        line.push_str(" SMTPUTF8");
    }
    line
}

/// Every recipient's reply, once each sent one has its own.
fn settled(replies: Vec<(String, Option<Reply>)>) -> Vec<(String, Reply)> {
    replies
        .into_iter()
        .map(|(recipient, reply)| {
            let reply = reply.unwrap_or_else(|| Reply {
                code: 0,
                text: "no reply".into(),
            });
            (recipient, reply)
        })
        .collect()
}

/// A failure after RCPT decides every accepted recipient.
fn for_accepted(reply: Reply, accepted: &[String], replies: &mut [(String, Reply)]) {
    for (address, slot) in replies.iter_mut() {
        if accepted.contains(address) {
            *slot = reply.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_from_carries_the_parameters_offered() {
        let recipients = ["jörg@example.com".to_string()];
        let message = Message {
            hostname: "h",
            from: "a@example.com",
            recipients: &recipients,
            raw: "é\r\n".as_bytes(),
        };
        assert_eq!(
            mail_command(&message, &Extensions::default()),
            "MAIL FROM:<a@example.com>"
        );
        let offered = Extensions {
            size: Some(0),
            eight_bit_mime: true,
            smtputf8: true,
            ..Extensions::default()
        };
        assert_eq!(
            mail_command(&message, &offered),
            "MAIL FROM:<a@example.com> SIZE=4 BODY=8BITMIME SMTPUTF8"
        );
    }
}
