//! AUTH as the relay configuration asks: PLAIN (RFC 4616, the response
//! sent with the command), LOGIN (username and password each after a 334)
//! and CRAM-MD5 (RFC 2195: `user hex(HMAC-MD5(secret, challenge))` to the
//! server's base64 challenge). Secrets never reach the recorded steps.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::Dialogue;
use super::wire::{Extensions, ServerReply};
use crate::outbound::queue::Reply;
use crate::outbound::relay::Auth;

/// Logs in, when the relay file asks for it. A mechanism the server does
/// not offer, or an unexpected reply, will not mend by retrying: 530.
pub(super) async fn login(
    dialogue: &mut Dialogue<'_>,
    extensions: &Extensions,
    auth: &Auth,
) -> Result<(), Reply> {
    let mechanism = match auth {
        Auth::None => return Ok(()),
        Auth::Plain { .. } => "PLAIN",
        Auth::Login { .. } => "LOGIN",
        Auth::CramMd5 { .. } => "CRAM-MD5",
    };
    if !extensions.offers_auth(mechanism) {
        let offered = match extensions.auth.as_slice() {
            [] => "none".to_string(),
            some => some.join(" "),
        };
        return Err(dialogue.fail(
            "AUTH",
            refused(&format!(
                "the server does not offer {mechanism} (it offers: {offered})"
            )),
        ));
    }
    let last = match auth {
        Auth::None => return Ok(()),
        Auth::Plain { username, password } => {
            let response = BASE64.encode(format!("\0{username}\0{password}"));
            let line = format!("AUTH PLAIN {response}");
            dialogue.command("AUTH PLAIN", &line).await?
        }
        Auth::Login { username, password } => {
            let prompt = dialogue.command("AUTH LOGIN", "AUTH LOGIN").await?;
            expect_challenge(&prompt)?;
            let prompt = dialogue
                .command("(LOGIN username)", &BASE64.encode(username))
                .await?;
            expect_challenge(&prompt)?;
            dialogue
                .command("(LOGIN password)", &BASE64.encode(password))
                .await?
        }
        Auth::CramMd5 { username, secret } => {
            let challenge = dialogue.command("AUTH CRAM-MD5", "AUTH CRAM-MD5").await?;
            expect_challenge(&challenge)?;
            let answer = cram_md5_answer(username, secret, &challenge)?;
            dialogue.command("(CRAM-MD5 response)", &answer).await?
        }
    };
    if last.code == 235 {
        Ok(())
    } else {
        Err(outcome(&last))
    }
}

/// `user hex(HMAC-MD5(secret, challenge))` in base64, for the challenge
/// the server sent in base64.
fn cram_md5_answer(username: &str, secret: &str, challenge: &ServerReply) -> Result<String, Reply> {
    let challenge = challenge
        .lines
        .first()
        .and_then(|line| BASE64.decode(line.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| refused("the CRAM-MD5 challenge is not base64 text"))?;
    let digest = hex::encode(crate::smtp::auth::hmac_md5(secret, &challenge));
    Ok(BASE64.encode(format!("{username} {digest}")))
}

fn expect_challenge(reply: &ServerReply) -> Result<(), Reply> {
    match reply.code {
        334 => Ok(()),
        _ => Err(outcome(reply)),
    }
}

/// A refusal keeps the server's code (4xx defers, 5xx fails); anything
/// else where 334 or 235 was due is a permanent 530.
fn outcome(reply: &ServerReply) -> Reply {
    let text = format!("AUTH: {}", super::bounded(reply.text()));
    if (400..600).contains(&reply.code) {
        Reply {
            code: reply.code,
            text,
        }
    } else {
        Reply { code: 530, text }
    }
}

fn refused(text: &str) -> Reply {
    Reply {
        code: 530,
        text: format!("AUTH: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_cram_md5_challenge() {
        // RFC 2195's example exchange.
        let challenge = ServerReply {
            code: 334,
            lines: vec![BASE64.encode("<1896.697170952@postoffice.reston.mci.net>")],
        };
        let answer = cram_md5_answer("tim", "tanstaaftanstaaf", &challenge).unwrap();
        assert_eq!(
            BASE64.decode(answer).unwrap(),
            b"tim b913a602c7eda7a495b4e6e7334d3890"
        );
        let garbage = ServerReply {
            code: 334,
            lines: vec!["not base64!".into()],
        };
        assert_eq!(cram_md5_answer("tim", "x", &garbage).unwrap_err().code, 530);
    }
}
