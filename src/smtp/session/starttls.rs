//! STARTTLS (RFC 3207): the upgrade to TLS, after which the session starts
//! over with no state carried across from the plaintext part.

use super::{Session, Step};
use crate::smtp::reply::Reply;

impl Session {
    pub(super) fn starttls(&mut self) {
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
        self.auth_mailbox = None;
        self.end_transaction();
        self.transcript.reset();
        self.out.push_back(Step::StartTls);
    }
}
