//! A bounded record of an SMTP conversation, stored with each message.

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
        if list.len() < cap {
            list.push(entry);
        } else {
            self.dropped += 1;
        }
    }

    /// Marks the start of a transaction (MAIL); earlier transactions on the
    /// same connection are not repeated in this message's transcript.
    pub fn begin_transaction(&mut self) {
        self.in_transaction = true;
        self.transaction.clear();
        self.dropped = 0;
    }

    pub fn end_transaction(&mut self) {
        self.in_transaction = false;
    }

    /// Forgets everything (after STARTTLS the conversation starts over).
    pub fn reset(&mut self) {
        self.prefix.retain(|e| e.starts_with("-- "));
        self.transaction.clear();
        self.in_transaction = false;
    }

    /// The conversation so far, for a message being stored.
    pub fn snapshot(&self) -> Vec<String> {
        let mut all = self.prefix.clone();
        if self.prefix.len() >= PREFIX_ENTRIES {
            all.push("-- (earlier lines omitted)".into());
        }
        all.extend(self.transaction.iter().cloned());
        if self.dropped > 0 {
            all.push(format!("-- ({} more lines omitted)", self.dropped));
        }
        all
    }
}
