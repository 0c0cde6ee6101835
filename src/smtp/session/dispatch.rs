//! Command mode: taking lines off the input buffer, parsing them as
//! commands and dispatching each to its handler, after the checks common to
//! all commands (STARTTLS required, BDAT chunk to discard).

use memchr::memchr;

use super::{Mode, Session};
use crate::smtp::command::Command;
use crate::smtp::data::ChunkReader;
use crate::smtp::reply::Reply;

impl Session {
    /// Takes the next complete line (without its line ending) from the
    /// input, or answers an over-long one. `None` means wait for more input.
    pub(super) fn take_line(&mut self) -> Option<Result<String, Reply>> {
        let rest = &self.input[self.pos..];
        let Some(newline) = memchr(b'\n', rest) else {
            if rest.len() > self.config.max_line {
                self.pos = self.input.len();
                self.mode = Mode::SkipLine;
                return Some(Err(Reply::line_too_long()));
            }
            return None;
        };
        let raw = &rest[..newline];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        self.pos += newline + 1;
        if raw.len() > self.config.max_line {
            return Some(Err(Reply::line_too_long()));
        }
        Some(
            String::from_utf8(raw.to_vec())
                .map_err(|_| Reply::new(500, "5.5.2 Command line is not valid UTF-8")),
        )
    }

    pub(super) fn skip_line(&mut self) -> bool {
        match memchr(b'\n', &self.input[self.pos..]) {
            Some(newline) => {
                self.pos += newline + 1;
                true
            }
            None => {
                self.pos = self.input.len();
                self.mode = Mode::SkipLine;
                false
            }
        }
    }

    pub(super) fn process_command_line(&mut self) -> bool {
        let line = match self.take_line() {
            None => return false,
            Some(Err(reply)) => {
                self.transcript.client("<over-long or invalid line>");
                self.reply(reply);
                return true;
            }
            Some(Ok(line)) => line,
        };
        self.transcript.client(&redact(&line));
        match Command::parse(&line) {
            Ok(command) => self.apply(command),
            Err(reply) => self.reply(reply),
        }
        true
    }

    fn apply(&mut self, command: Command) {
        if let Some(reply) = self.refusal(&command) {
            if let Command::Bdat { size, .. } = command {
                // The chunk follows the command regardless: read and discard it.
                self.mode = Mode::Chunk {
                    reader: ChunkReader { remaining: size },
                    last: false,
                    error: Some(reply),
                };
                return;
            }
            return self.reply(reply);
        }
        match command {
            Command::Ehlo(name) => self.ehlo(name),
            Command::Helo(name) => {
                self.greet(name);
                self.reply(Reply::new(250, self.config.hostname.clone()));
            }
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.end_transaction();
                self.reply(Reply::ok());
            }
            Command::Noop => self.reply(Reply::ok()),
            Command::Quit => self.reply(Reply::new(221, "2.0.0 Bye")),
            Command::Vrfy => self.reply(Reply::new(
                252,
                "2.5.0 Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Expn => self.reply(Reply::new(502, "5.5.1 EXPN not implemented")),
            Command::Help => self.reply(Reply::new(
                214,
                "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
            )),
            Command::StartTls => self.starttls(),
            Command::Auth { mechanism, initial } => self.auth(&mechanism, initial.as_deref()),
        }
    }

    /// Checks that need no command-specific state: TLS and AUTH requirements.
    fn refusal(&self, command: &Command) -> Option<Reply> {
        let needs_tls = matches!(
            command,
            Command::Mail { .. }
                | Command::Rcpt { .. }
                | Command::Data
                | Command::Bdat { .. }
                | Command::Auth { .. }
        );
        if needs_tls && self.config.require_starttls && self.peer.tls.is_none() {
            return Some(Reply::starttls_first());
        }
        if matches!(command, Command::Bdat { .. }) {
            return self.bdat_refusal();
        }
        None
    }
}

/// Hides credentials sent on the AUTH line itself.
fn redact(line: &str) -> String {
    let mut words = line.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some(verb), Some(mechanism), Some(_)) if verb.eq_ignore_ascii_case("AUTH") => {
            format!("{verb} {mechanism} <credentials>")
        }
        _ => line.to_string(),
    }
}
