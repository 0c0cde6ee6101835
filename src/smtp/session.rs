//! The SMTP session: a sans-IO state machine.
//!
//! Bytes go in through [`Session::receive`]; [`Session::next_step`] hands out what
//! to do: replies to write, messages to store, a TLS upgrade, closing. It has
//! no sockets, no clock and no randomness (the CRAM-MD5 nonce comes in with
//! the [`Peer`]), so it can be tested and fuzzed with plain byte strings.
//!
//! Pipelining falls out of the design: the driver feeds whatever arrived and
//! collects every reply until [`Step::NeedInput`], then writes them at once.
//!
//! This file holds the types, the driver-facing API and the loop that hands
//! buffered input to whatever the current `Mode` is. The handling of each
//! concern lives in a child module, each adding its own `impl Session`:
//!
//! - `dispatch`: taking command lines from the input and dispatching them;
//! - `envelope`: HELO/EHLO, MAIL and RCPT;
//! - `body`: DATA, BDAT, handing the message over, ending the transaction;
//! - `starttls`: the STARTTLS upgrade;
//! - `authentication`: AUTH and its challenge/response exchange.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use super::auth::{AuthMode, Exchange, MailboxKeys};
use super::command::MailParams;
use super::data::{Body, ChunkReader, DotReader};
use super::reply::Reply;
use super::transcript::Transcript;
use crate::chaos::Chaos;
use crate::store::{Incoming, TlsInfo};

mod authentication;
mod body;
mod dispatch;
mod envelope;
mod starttls;

/// What every session on a listener shares.
#[derive(Debug)]
pub struct SessionConfig {
    /// The server's name in the greeting, the EHLO reply and the CRAM-MD5
    /// challenge.
    pub hostname: String,
    /// The product name in the greeting, with the label if one is set.
    pub banner: String,
    /// The largest message accepted, announced as EHLO's `SIZE`.
    pub max_message_bytes: usize,
    /// Most RCPT TO per transaction; more get 452.
    pub max_recipients: usize,
    /// Longest command line in bytes; longer ones get 500.
    pub max_line: usize,
    /// Client errors (bad commands, failed AUTH, ...) tolerated before the
    /// session answers 421 and closes.
    pub max_errors: usize,
    /// Whether AUTH is offered, and against what.
    pub auth: AuthMode,
    /// Whether AUTH with a credentials list may run over plaintext.
    pub auth_allow_insecure: bool,
    /// The mailboxes' own SMTP passwords (AUTH is offered while any exist).
    pub mailbox_keys: MailboxKeys,
    /// Whether STARTTLS can be offered (a certificate is configured).
    pub starttls_available: bool,
    /// Refuse MAIL, RCPT, DATA, BDAT and AUTH until the connection is
    /// encrypted.
    pub require_starttls: bool,
    /// Injected failures, consulted at MAIL, RCPT and AUTH.
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
            mailbox_keys: MailboxKeys::default(),
            starttls_available: false,
            require_starttls: false,
            chaos: Arc::new(Chaos::default()),
        }
    }
}

/// The connection the session runs on.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    /// The client's address, recorded in each message's envelope.
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

/// One SMTP connection's protocol state, from greeting to close. The
/// driver feeds it bytes and carries out the [`Step`]s it hands back.
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
    /// Where the authenticated user's mail goes.
    auth_mailbox: Option<String>,
    transaction: Option<Transaction>,
    awaiting_delivery: bool,
    errors: usize,
    transcript: Transcript,
}

impl Session {
    /// A session on a new connection, with its 220 greeting already queued.
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
            auth_mailbox: None,
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
    /// Reports that the message could not be stored: out of space (`452`)
    /// or another temporary failure (`451`). Either way the client keeps
    /// the message and retries later, as RFC 5321 intends.
    pub fn delivery_failed(&mut self, out_of_space: bool) {
        self.awaiting_delivery = false;
        self.finish_transaction(if out_of_space {
            Reply::new(452, "4.3.1 Insufficient system storage, try again later")
        } else {
            Reply::new(451, "4.3.0 Error: message could not be stored")
        });
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
}

#[cfg(test)]
mod tests;
