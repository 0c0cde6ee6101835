//! The envelope: HELO/EHLO (with the extensions advertised), MAIL FROM,
//! which opens a transaction, and RCPT TO, which adds recipients to it.

use super::{Session, Transaction};
use crate::chaos::Stage;
use crate::smtp::auth::{AuthMode, MECHANISMS};
use crate::smtp::command::MailParams;
use crate::smtp::reply::Reply;

impl Session {
    pub(super) fn greet(&mut self, name: String) {
        self.end_transaction();
        self.helo = Some(name);
    }

    pub(super) fn ehlo(&mut self, name: String) {
        let mut lines = vec![
            format!("{} greets {}", self.config.hostname, name),
            "PIPELINING".into(),
            format!("SIZE {}", self.config.max_message_bytes),
            "8BITMIME".into(),
            "SMTPUTF8".into(),
            "ENHANCEDSTATUSCODES".into(),
            "CHUNKING".into(),
            "BINARYMIME".into(),
        ];
        if self.config.starttls_available && self.peer.tls.is_none() {
            lines.push("STARTTLS".into());
        }
        if self.auth_offered() {
            lines.push(format!("AUTH {MECHANISMS}"));
        }
        lines.push("HELP".into());
        self.greet(name);
        self.reply(Reply::multiline(250, lines));
    }

    pub(super) fn mail(&mut self, from: String, params: MailParams) {
        if self.helo.is_none() {
            return self.reply(Reply::bad_sequence("Send HELO/EHLO first"));
        }
        if self.transaction.is_some() {
            return self.reply(Reply::bad_sequence("Nested MAIL command"));
        }
        if matches!(self.config.auth, AuthMode::Credentials(_)) && self.auth_user.is_none() {
            return self.reply(Reply::auth_required());
        }
        if params
            .size
            .is_some_and(|size| size > self.config.max_message_bytes)
        {
            return self.reply(Reply::too_big(self.config.max_message_bytes));
        }
        if let Some(code) = self.config.chaos.roll(Stage::Sender) {
            return self.reply(Reply::new(code, "Chaos sender error"));
        }
        let mut warnings = Vec::new();
        if !from.is_ascii() && !params.smtputf8 {
            warnings.push("non-ASCII sender address without SMTPUTF8".to_string());
        }
        self.transcript
            .begin_transaction(&format!("MAIL FROM:<{from}>"));
        self.transaction = Some(Transaction {
            from,
            params,
            warnings,
            ..Transaction::default()
        });
        self.reply(Reply::new(250, "2.1.0 Ok"));
    }

    pub(super) fn rcpt(&mut self, to: String) {
        let max = self.config.max_recipients;
        let chaos = self.config.chaos.clone();
        let Some(transaction) = self.transaction.as_mut() else {
            return self.reply(Reply::bad_sequence("Need MAIL command"));
        };
        if transaction.rcpts.len() >= max {
            return self.reply(Reply::new(452, "4.5.3 Too many recipients"));
        }
        if let Some(code) = chaos.roll(Stage::Recipient) {
            return self.reply(Reply::new(code, "Chaos recipient error"));
        }
        if !to.is_ascii() && !transaction.params.smtputf8 {
            transaction
                .warnings
                .push(format!("non-ASCII recipient {to} without SMTPUTF8"));
        }
        transaction.rcpts.push(to);
        self.reply(Reply::new(250, "2.1.5 Ok"));
    }
}
