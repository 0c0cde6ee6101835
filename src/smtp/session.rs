//! The SMTP session: a sans-IO state machine.
//!
//! Bytes go in through [`Session::receive`]; [`Session::next_step`] hands out what
//! to do: replies to write, messages to store, a TLS upgrade, closing. It has
//! no sockets, no clock and no randomness (the CRAM-MD5 nonce comes in with
//! the [`Peer`]), so it can be tested and fuzzed with plain byte strings.
//!
//! Pipelining falls out of the design: the driver feeds whatever arrived and
//! collects every reply until [`Step::NeedInput`], then writes them at once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use memchr::memchr;

use super::auth::{AuthMode, AuthStep, Exchange, MECHANISMS};
use super::command::{BodyType, Command, MailParams};
use super::data::{Body, ChunkReader, DotReader};
use super::reply::Reply;
use super::transcript::Transcript;
use crate::chaos::{Chaos, Stage};
use crate::store::{Envelope, Incoming, TlsInfo};

/// What every session on a listener shares.
#[derive(Debug)]
pub struct SessionConfig {
    pub hostname: String,
    /// The product name in the greeting, with the label if one is set.
    pub banner: String,
    pub max_message_bytes: usize,
    pub max_recipients: usize,
    pub max_line: usize,
    pub max_errors: usize,
    pub auth: AuthMode,
    /// Whether AUTH with a credentials list may run over plaintext.
    pub auth_allow_insecure: bool,
    /// Whether STARTTLS can be offered (a certificate is configured).
    pub starttls_available: bool,
    pub require_starttls: bool,
    pub chaos: Arc<Chaos>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            hostname: "mailcatch".into(),
            banner: "mailcatch".into(),
            max_message_bytes: 50 * 1024 * 1024,
            max_recipients: 100,
            max_line: 4096,
            max_errors: 20,
            auth: AuthMode::Off,
            auth_allow_insecure: false,
            starttls_available: false,
            require_starttls: false,
            chaos: Arc::new(Chaos::default()),
        }
    }
}

/// The connection the session runs on.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    pub addr: Option<SocketAddr>,
    /// Set from the start for implicit TLS (SMTPS).
    pub tls: Option<TlsInfo>,
    /// A unique string for the CRAM-MD5 challenge.
    pub nonce: String,
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Step {
    /// Write this reply (batching is fine until `NeedInput`).
    Reply(Reply),
    /// Store this message, then call [`Session::delivered`] with its ID.
    Deliver(Box<Incoming>),
    /// Flush replies, run the TLS handshake, then call [`Session::tls_established`].
    StartTls,
    /// Flush replies and close the connection.
    Close,
    /// Flush replies and read more input.
    NeedInput,
}

#[derive(Debug)]
enum Mode {
    Command,
    /// Discarding the rest of an over-long command line.
    SkipLine,
    Data(Box<DotReader>),
    /// Receiving a BDAT chunk; `error` is the reply for a chunk being discarded.
    Chunk {
        reader: ChunkReader,
        last: bool,
        error: Option<Reply>,
    },
    Auth(Exchange),
    Closed,
}

#[derive(Debug, Default)]
struct Transaction {
    from: String,
    params: MailParams,
    rcpts: Vec<String>,
    /// The body so far, for BDAT transactions.
    chunks: Option<Body>,
    /// A BDAT chunk failed: later chunks are discarded (RFC 3030 §2).
    chunks_failed: bool,
    warnings: Vec<String>,
}

pub struct Session {
    config: Arc<SessionConfig>,
    peer: Peer,
    mode: Mode,
    input: Vec<u8>,
    /// Start of unprocessed bytes in `input`.
    pos: usize,
    out: VecDeque<Step>,
    helo: Option<String>,
    auth_user: Option<String>,
    transaction: Option<Transaction>,
    awaiting_delivery: bool,
    errors: usize,
    transcript: Transcript,
}

impl Session {
    pub fn new(config: Arc<SessionConfig>, peer: Peer) -> Session {
        let mut session = Session {
            config,
            peer,
            mode: Mode::Command,
            input: Vec::new(),
            pos: 0,
            out: VecDeque::new(),
            helo: None,
            auth_user: None,
            transaction: None,
            awaiting_delivery: false,
            errors: 0,
            transcript: Transcript::default(),
        };
        if let Some(addr) = session.peer.addr {
            session.transcript.note(&format!("connection from {addr}"));
        }
        if let Some(tls) = session.peer.tls.clone() {
            session
                .transcript
                .note(&format!("implicit TLS: {} {}", tls.version, tls.cipher));
        }
        let greeting = Reply::new(
            220,
            format!(
                "{} ESMTP {} ready",
                session.config.hostname, session.config.banner
            ),
        );
        session.reply(greeting);
        session
    }

    /// Appends bytes read from the client.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.pos > 0 && self.pos == self.input.len() {
            self.input.clear();
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// The next thing to do. Call repeatedly until [`Step::NeedInput`].
    pub fn next_step(&mut self) -> Step {
        loop {
            if let Some(step) = self.out.pop_front() {
                return step;
            }
            if self.awaiting_delivery || matches!(self.mode, Mode::Closed) || !self.process() {
                self.compact();
                return Step::NeedInput;
            }
        }
    }

    /// Reports that the message from the last [`Step::Deliver`] was stored.
    pub fn delivered(&mut self, id: &str) {
        self.awaiting_delivery = false;
        self.finish_transaction(Reply::new(250, format!("2.0.0 Ok: queued as {id}")));
    }

    /// Reports that storing the last message failed: the client gets a
    /// temporary error, so it keeps the message and can retry.
    pub fn delivery_failed(&mut self) {
        self.awaiting_delivery = false;
        self.finish_transaction(Reply::new(451, "4.3.0 Error: message could not be stored"));
    }

    /// Reports a completed TLS handshake; the session starts over (RFC 3207 §4.2).
    pub fn tls_established(&mut self, tls: TlsInfo) {
        self.transcript
            .note(&format!("TLS established: {} {}", tls.version, tls.cipher));
        self.peer.tls = Some(tls);
    }

    /// Whether a transaction or message transfer is under way (shutdown
    /// waits for these; idle sessions are told 421 at once).
    pub fn is_busy(&self) -> bool {
        self.transaction.is_some() || self.awaiting_delivery
    }

    /// The 421 for an idle-timeout, closing the session.
    pub fn timeout(&mut self) -> Reply {
        self.mode = Mode::Closed;
        Reply::new(
            421,
            format!("4.4.2 {} Error: timeout exceeded", self.config.hostname),
        )
    }

    /// The 421 for a server shutdown, closing the session.
    pub fn shutting_down(&mut self) -> Reply {
        self.mode = Mode::Closed;
        Reply::new(
            421,
            format!("4.3.2 {} Service shutting down", self.config.hostname),
        )
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.input.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn reply(&mut self, reply: Reply) {
        let last = reply.lines.len().saturating_sub(1);
        for (index, line) in reply.lines.iter().enumerate() {
            let separator = if index == last { ' ' } else { '-' };
            self.transcript
                .server(&format!("{}{separator}{line}", reply.code));
        }
        if reply.is_client_error() {
            self.errors += 1;
        }
        let closes = reply.closes_connection();
        self.out.push_back(Step::Reply(reply));
        if closes {
            self.close();
        } else if self.errors >= self.config.max_errors {
            self.errors = 0;
            self.reply(Reply::new(421, "4.7.0 Too many errors, closing connection"));
        }
    }

    fn close(&mut self) {
        self.mode = Mode::Closed;
        self.out.push_back(Step::Close);
    }

    /// Makes progress on buffered input; false if more input is needed.
    fn process(&mut self) -> bool {
        match std::mem::replace(&mut self.mode, Mode::Command) {
            Mode::Command => self.process_command_line(),
            Mode::SkipLine => self.skip_line(),
            Mode::Data(reader) => self.process_data(reader),
            Mode::Chunk {
                reader,
                last,
                error,
            } => self.process_chunk(reader, last, error),
            Mode::Auth(exchange) => self.process_auth_line(exchange),
            Mode::Closed => {
                self.mode = Mode::Closed;
                false
            }
        }
    }

    /// Takes the next complete line (without its line ending) from the
    /// input, or answers an over-long one. `None` means wait for more input.
    fn take_line(&mut self) -> Option<Result<String, Reply>> {
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

    fn skip_line(&mut self) -> bool {
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

    fn process_command_line(&mut self) -> bool {
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

    fn greet(&mut self, name: String) {
        self.end_transaction();
        self.helo = Some(name);
    }

    fn ehlo(&mut self, name: String) {
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

    /// AUTH is offered when enabled, and (for a credentials list) only over
    /// TLS unless plaintext is explicitly allowed (RFC 4954 §4).
    fn auth_offered(&self) -> bool {
        match self.config.auth {
            AuthMode::Off => false,
            AuthMode::AcceptAny => true,
            AuthMode::Credentials(_) => self.peer.tls.is_some() || self.config.auth_allow_insecure,
        }
    }

    fn mail(&mut self, from: String, params: MailParams) {
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

    fn rcpt(&mut self, to: String) {
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

    fn data(&mut self) {
        let reply = match &self.transaction {
            None => Reply::bad_sequence("Need MAIL command"),
            Some(t) if t.rcpts.is_empty() => Reply::bad_sequence("Need RCPT command"),
            Some(t) if t.chunks.is_some() || t.chunks_failed => {
                Reply::bad_sequence("DATA not allowed after BDAT")
            }
            Some(t) if t.params.body == BodyType::BinaryMime => {
                Reply::bad_sequence("BODY=BINARYMIME requires BDAT")
            }
            Some(_) => {
                self.mode = Mode::Data(Box::new(DotReader::new(self.config.max_message_bytes)));
                Reply::new(354, "End data with <CR><LF>.<CR><LF>")
            }
        };
        self.reply(reply);
    }

    fn process_data(&mut self, mut reader: Box<DotReader>) -> bool {
        let consumed = reader.consume(&self.input[self.pos..]);
        self.pos += consumed.bytes;
        if !consumed.finished {
            self.mode = Mode::Data(reader);
            return consumed.bytes > 0;
        }
        self.transcript.client(&format!(
            "<message data, {} bytes>",
            reader.body.bytes.len()
        ));
        self.deliver(reader.body);
        true
    }

    /// Why a BDAT chunk must be discarded, if it must.
    fn bdat_refusal(&self) -> Option<Reply> {
        match &self.transaction {
            None => Some(Reply::bad_sequence("Need MAIL command")),
            Some(t) if t.rcpts.is_empty() => Some(Reply::bad_sequence("Need RCPT command")),
            Some(t) if t.chunks_failed => {
                Some(Reply::bad_sequence("Transaction already failed, send RSET"))
            }
            Some(_) => None,
        }
    }

    fn bdat(&mut self, size: usize, last: bool) {
        let max = self.config.max_message_bytes;
        let transaction = self.transaction.as_mut().expect("checked by bdat_refusal");
        let body = transaction.chunks.get_or_insert_with(|| Body::new(max));
        let error = (body.bytes.len() + size > max).then(|| {
            transaction.chunks_failed = true;
            transaction.chunks = None;
            Reply::too_big(max)
        });
        self.mode = Mode::Chunk {
            reader: ChunkReader { remaining: size },
            last,
            error,
        };
    }

    fn process_chunk(&mut self, mut reader: ChunkReader, last: bool, error: Option<Reply>) -> bool {
        let body = match (&error, self.transaction.as_mut()) {
            (None, Some(t)) => t.chunks.as_mut(),
            _ => None,
        };
        let taken = reader.consume(&self.input[self.pos..], body);
        self.pos += taken;
        if reader.remaining > 0 {
            self.mode = Mode::Chunk {
                reader,
                last,
                error,
            };
            return taken > 0;
        }
        if let Some(reply) = error {
            self.reply(reply);
        } else if last {
            let body = self
                .transaction
                .as_mut()
                .and_then(|t| t.chunks.take())
                .unwrap_or_else(|| Body::new(0));
            self.transcript
                .client(&format!("<BDAT data, {} bytes>", body.bytes.len()));
            self.deliver(body);
        } else {
            let received = self
                .transaction
                .as_ref()
                .and_then(|t| t.chunks.as_ref())
                .map_or(0, |b| b.bytes.len());
            self.reply(Reply::new(250, format!("2.0.0 {received} octets received")));
        }
        true
    }

    /// Ends a message transfer: oversize gets 552, anything else is handed
    /// to the driver to store before the 250 reply.
    fn deliver(&mut self, body: Body) {
        let Some(transaction) = self.transaction.take() else {
            return;
        };
        if body.overflowed {
            self.transcript.end_transaction();
            return self.reply(Reply::too_big(self.config.max_message_bytes));
        }
        let declared_8bit =
            transaction.params.body != BodyType::SevenBit || transaction.params.smtputf8;
        let mut warnings = transaction.warnings;
        warnings.extend(body.flags.warnings(declared_8bit));
        let mut raw = body.bytes;
        // The buffer grew by doubling; the stored copy should not keep the slack.
        raw.shrink_to_fit();
        let incoming = Incoming {
            raw: Bytes::from(raw),
            envelope: Envelope {
                mail_from: transaction.from,
                mail_params: transaction.params.raw,
                rcpt_to: transaction.rcpts,
                helo: self.helo.clone().unwrap_or_default(),
                client_addr: self.peer.addr,
                tls: self.peer.tls.clone(),
                auth_user: self.auth_user.clone(),
            },
            warnings,
            transcript: self.transcript.snapshot(),
        };
        self.awaiting_delivery = true;
        self.out.push_back(Step::Deliver(Box::new(incoming)));
    }

    fn finish_transaction(&mut self, reply: Reply) {
        self.reply(reply);
        self.end_transaction();
    }

    fn end_transaction(&mut self) {
        self.transaction = None;
        self.transcript.end_transaction();
    }

    fn starttls(&mut self) {
        if self.peer.tls.is_some() {
            return self.reply(Reply::bad_sequence("TLS already active"));
        }
        if !self.config.starttls_available {
            return self.reply(Reply::new(454, "4.7.0 TLS not available"));
        }
        self.reply(Reply::new(220, "2.0.0 Ready to start TLS"));
        // Anything pipelined after STARTTLS arrived in plaintext and could
        // have been injected: discard it, and forget all session state.
        self.input.clear();
        self.pos = 0;
        self.helo = None;
        self.auth_user = None;
        self.end_transaction();
        self.transcript.reset();
        self.out.push_back(Step::StartTls);
    }

    fn auth(&mut self, mechanism: &str, initial: Option<&str>) {
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
        let nonce = self.peer.nonce.clone();
        match Exchange::start(
            mechanism,
            initial,
            &self.config.auth,
            &nonce,
            &self.config.hostname,
        ) {
            Ok((exchange, step)) => self.auth_step(exchange, step),
            Err(text) => self.reply(Reply::new(504, format!("5.5.4 {text}"))),
        }
    }

    fn process_auth_line(&mut self, mut exchange: Exchange) -> bool {
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
        let step = exchange.advance(&line, &self.config.auth);
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
            AuthStep::Success { user } => {
                if let Some(code) = self.config.chaos.roll(Stage::Authentication) {
                    return self.reply(Reply::new(code, "Chaos authentication error"));
                }
                self.auth_user = Some(user);
                self.reply(Reply::new(235, "2.7.0 Authentication successful"));
            }
            AuthStep::Failure => {
                self.reply(Reply::new(535, "5.7.8 Authentication credentials invalid"))
            }
            AuthStep::Malformed(text) => self.reply(Reply::new(501, format!("5.5.2 {text}"))),
        }
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

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
