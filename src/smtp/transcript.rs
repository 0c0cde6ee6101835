//! A bounded record of an SMTP conversation, stored with each message.

use std::sync::Arc;

use crate::store;

/// Entries kept from before the first transaction (greeting, EHLO, AUTH...).
const PREFIX_ENTRIES: usize = 40;
/// Entries kept per transaction (MAIL through the final reply).
const TRANSACTION_ENTRIES: usize = 160;
/// Longest entry kept, in bytes.
const ENTRY_BYTES: usize = 300;

#[derive(Debug, Default)]
pub struct Transcript {
    prefix: Vec<String>,
    transaction: Vec<String>,
    in_transaction: bool,
    dropped: usize,
    /// Whether the latest entry was kept in `prefix` (see `begin_transaction`).
    last_in_prefix: bool,
    /// `prefix` as text, shared by every message of the connection while
    /// the prefix stays the same.
    shared_prefix: Option<Arc<str>>,
}

impl Transcript {
    pub fn client(&mut self, line: &str) {
        self.push(format!("C: {line}"));
    }

    pub fn server(&mut self, line: &str) {
        self.push(format!("S: {line}"));
    }

    pub fn note(&mut self, text: &str) {
        self.push(format!("-- {text}"));
    }

    fn push(&mut self, mut entry: String) {
        if entry.len() > ENTRY_BYTES {
            let mut cut = ENTRY_BYTES;
            while !entry.is_char_boundary(cut) {
                cut -= 1;
            }
            entry.truncate(cut);
            entry.push('…');
        }
        let (list, cap) = if self.in_transaction {
            (&mut self.transaction, TRANSACTION_ENTRIES)
        } else {
            (&mut self.prefix, PREFIX_ENTRIES)
        };
        self.last_in_prefix = !self.in_transaction && list.len() < cap;
        if list.len() < cap {
            list.push(entry);
        } else {
            self.dropped += 1;
        }
    }

    /// Marks the start of a transaction (MAIL); earlier transactions on the
    /// same connection are not repeated in this message's transcript.
    ///
    /// The MAIL line that opens the transaction was just logged outside any
    /// transaction, so it landed in the prefix: it is moved to the start of
    /// the transaction (left there, every MAIL of a persistent connection
    /// would pile up in the prefix of later messages' transcripts). If the
    /// prefix was full, `command` stands in for it.
    pub fn begin_transaction(&mut self, command: &str) {
        let opening = match std::mem::take(&mut self.last_in_prefix) {
            true => self.prefix.pop(),
            false => None,
        };
        self.in_transaction = true;
        self.transaction.clear();
        self.dropped = 0;
        match opening {
            Some(entry) => self.transaction.push(entry),
            None => self.client(command),
        }
    }

    pub fn end_transaction(&mut self) {
        self.in_transaction = false;
    }

    /// Forgets everything (after STARTTLS the conversation starts over).
    pub fn reset(&mut self) {
        self.prefix.retain(|e| e.starts_with("-- "));
        self.transaction.clear();
        self.in_transaction = false;
        self.last_in_prefix = false;
    }

    /// The conversation so far, for a message being stored.
    pub fn snapshot(&mut self) -> store::Transcript {
        let mut prefix = self.prefix.join("\n");
        if self.prefix.len() >= PREFIX_ENTRIES {
            prefix.push_str("\n-- (earlier lines omitted)");
        }
        let shared = match &self.shared_prefix {
            Some(shared) if **shared == *prefix => shared.clone(),
            _ => self.shared_prefix.insert(Arc::from(prefix)).clone(),
        };
        let mut own = self.transaction.join("\n");
        if self.dropped > 0 {
            own.push_str(&format!("\n-- ({} more lines omitted)", self.dropped));
        }
        store::Transcript {
            shared,
            own: own.into_boxed_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays one transaction as the session logs it.
    fn transaction(transcript: &mut Transcript, n: usize) {
        transcript.client(&format!("MAIL FROM:<a{n}@x> SIZE=10"));
        transcript.begin_transaction(&format!("MAIL FROM:<a{n}@x>"));
        transcript.server("250 2.1.0 Ok");
        transcript.end_transaction();
    }

    #[test]
    fn each_message_sees_only_its_own_transaction() {
        let mut transcript = Transcript::default();
        transcript.client("EHLO x");
        for n in 0..5 {
            transaction(&mut transcript, n);
        }
        let snapshot: Vec<_> = transcript.snapshot().lines().map(str::to_string).collect();
        assert_eq!(
            snapshot,
            [
                "C: EHLO x",
                "C: MAIL FROM:<a4@x> SIZE=10",
                "S: 250 2.1.0 Ok"
            ]
        );
    }

    #[test]
    fn messages_of_one_connection_share_the_prefix() {
        let mut transcript = Transcript::default();
        transcript.client("EHLO x");
        transaction(&mut transcript, 1);
        let first = transcript.snapshot();
        transaction(&mut transcript, 2);
        let second = transcript.snapshot();
        assert!(Arc::ptr_eq(&first.shared, &second.shared));
        assert_eq!(&*second.own, "C: MAIL FROM:<a2@x> SIZE=10\nS: 250 2.1.0 Ok");
        transcript.client("RSET");
        assert!(!Arc::ptr_eq(&first.shared, &transcript.snapshot().shared));
    }

    #[test]
    fn a_full_prefix_still_shows_the_mail_command() {
        let mut transcript = Transcript::default();
        for n in 0..PREFIX_ENTRIES {
            transcript.client(&format!("NOOP {n}"));
        }
        transaction(&mut transcript, 7);
        let snapshot: Vec<_> = transcript.snapshot().lines().map(str::to_string).collect();
        assert_eq!(snapshot.len(), PREFIX_ENTRIES + 3);
        assert_eq!(snapshot[PREFIX_ENTRIES + 1], "C: MAIL FROM:<a7@x>");
    }
}
