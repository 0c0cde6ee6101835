//! AUTH (RFC 4954): when it is offered, starting an exchange, reading the
//! client's responses line by line, and the outcome. The mechanisms
//! themselves are in `smtp::auth`.

use super::{Mode, Session};
use crate::chaos::Stage;
use crate::smtp::auth::{AuthMode, AuthStep, Exchange, Verifier};
use crate::smtp::reply::Reply;

impl Session {
    /// AUTH is offered when enabled, and (for a credentials list) only over
    /// TLS unless plaintext is explicitly allowed (RFC 4954 §4). It is also
    /// offered whenever a mailbox has an SMTP password, so mail can be
    /// routed to it.
    pub(super) fn auth_offered(&self) -> bool {
        match self.config.auth {
            AuthMode::Off => !self.config.mailbox_keys.is_empty(),
            AuthMode::AcceptAny => true,
            AuthMode::Credentials(_) => self.peer.tls.is_some() || self.config.auth_allow_insecure,
        }
    }

    fn verifier(&self) -> Verifier<'_> {
        Verifier {
            mode: &self.config.auth,
            keys: &self.config.mailbox_keys,
        }
    }

    pub(super) fn auth(&mut self, mechanism: &str, initial: Option<&str>) {
        if !self.auth_offered() {
            let reply = match self.config.auth {
                AuthMode::Off => Reply::new(502, "5.5.1 AUTH not enabled"),
                _ => Reply::new(
                    538,
                    "5.7.11 Encryption required for requested authentication mechanism",
                ),
            };
            return self.reply(reply);
        }
        if self.helo.is_none() {
            return self.reply(Reply::bad_sequence("Send EHLO first"));
        }
        if self.auth_user.is_some() {
            return self.reply(Reply::bad_sequence("Already authenticated"));
        }
        if self.transaction.is_some() {
            return self.reply(Reply::bad_sequence(
                "AUTH not allowed during a mail transaction",
            ));
        }
        let started = Exchange::start(
            mechanism,
            initial,
            &self.verifier(),
            &self.peer.nonce,
            &self.config.hostname,
        );
        match started {
            Ok((exchange, step)) => self.auth_step(exchange, step),
            Err(text) => self.reply(Reply::new(504, format!("5.5.4 {text}"))),
        }
    }

    pub(super) fn process_auth_line(&mut self, mut exchange: Exchange) -> bool {
        let line = match self.take_line() {
            None => {
                self.mode = Mode::Auth(exchange);
                return false;
            }
            Some(Err(reply)) => {
                self.reply(reply);
                return true;
            }
            Some(Ok(line)) => line,
        };
        self.transcript.client("<credentials>");
        let step = exchange.advance(&line, &self.verifier());
        self.auth_step(Some(exchange), step);
        true
    }

    fn auth_step(&mut self, exchange: Option<Exchange>, step: AuthStep) {
        match step {
            AuthStep::Challenge(challenge) => {
                if let Some(exchange) = exchange {
                    self.mode = Mode::Auth(exchange);
                }
                self.reply(Reply::new(334, challenge));
            }
            AuthStep::Success { user, mailbox } => {
                if let Some(code) = self.config.chaos.roll(Stage::Authentication) {
                    return self.reply(Reply::new(code, "Chaos authentication error"));
                }
                self.auth_user = Some(user);
                self.auth_mailbox = Some(mailbox);
                self.reply(Reply::new(235, "2.7.0 Authentication successful"));
            }
            AuthStep::Failure => {
                self.reply(Reply::new(535, "5.7.8 Authentication credentials invalid"))
            }
            AuthStep::Malformed(text) => self.reply(Reply::new(501, format!("5.5.2 {text}"))),
        }
    }
}
