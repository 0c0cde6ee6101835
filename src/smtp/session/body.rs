//! The message body: DATA (dot-terminated) and BDAT (chunked), handing the
//! finished message to the driver to store, and ending the transaction.

use bytes::Bytes;

use super::{Mode, Session, Step};
use crate::smtp::command::BodyType;
use crate::smtp::data::{Body, ChunkReader, DotReader};
use crate::smtp::reply::Reply;
use crate::store::{Envelope, Incoming};

impl Session {
    pub(super) fn data(&mut self) {
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

    pub(super) fn process_data(&mut self, mut reader: Box<DotReader>) -> bool {
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
    pub(super) fn bdat_refusal(&self) -> Option<Reply> {
        match &self.transaction {
            None => Some(Reply::bad_sequence("Need MAIL command")),
            Some(t) if t.rcpts.is_empty() => Some(Reply::bad_sequence("Need RCPT command")),
            Some(t) if t.chunks_failed => {
                Some(Reply::bad_sequence("Transaction already failed, send RSET"))
            }
            Some(_) => None,
        }
    }

    pub(super) fn bdat(&mut self, size: usize, last: bool) {
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

    pub(super) fn process_chunk(
        &mut self,
        mut reader: ChunkReader,
        last: bool,
        error: Option<Reply>,
    ) -> bool {
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
                mailbox: self.auth_mailbox.clone(),
            },
            warnings,
            transcript: self.transcript.snapshot(),
        };
        self.awaiting_delivery = true;
        self.out.push_back(Step::Deliver(Box::new(incoming)));
    }

    pub(super) fn finish_transaction(&mut self, reply: Reply) {
        self.reply(reply);
        self.end_transaction();
    }

    pub(super) fn end_transaction(&mut self) {
        self.transaction = None;
        self.transcript.end_transaction();
    }
}
