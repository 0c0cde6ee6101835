//! Message IDs: 22 URL-safe characters that sort by arrival.
//!
//! Mailpit's IDs are 22-character base62 strings and some clients assume that
//! shape, so ours have it too. The first 11 characters encode a monotonic
//! sequence number (microseconds since the epoch at first use, bumped by one
//! on collisions), so lexicographic order is arrival order; the last 11 are
//! the sequence scrambled with a per-run random salt, so IDs from different
//! runs never collide (and no ID costs a system call for randomness).

use std::sync::atomic::{AtomicU64, Ordering};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HALF: usize = 11;
/// The length of every message ID (and wait cursor), in characters.
pub const ID_LEN: usize = 2 * HALF;

/// A stored message's identity: its arrival sequence and its public string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageId {
    /// The arrival sequence number: larger is newer.
    pub seq: u64,
    /// The 22-character ID the API and the UI use.
    pub text: Box<str>,
}

impl MessageId {
    /// Recovers the sequence number from a public ID string, checking its shape.
    pub fn parse_seq(text: &str) -> Option<u64> {
        let bytes = text.as_bytes();
        if bytes.len() != ID_LEN || !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return None;
        }
        decode(&bytes[..HALF])
    }
}

/// A position in arrival order, as the wait endpoint hands it out: shaped
/// like an ID (so an ID is a valid cursor too), with the sequence number of
/// the last message seen and no suffix.
pub fn cursor_text(seq: u64) -> String {
    let mut text = String::with_capacity(ID_LEN);
    encode(seq, &mut text);
    text.push_str(&"0".repeat(HALF));
    text
}

/// Hands out strictly increasing sequence numbers.
#[derive(Debug)]
pub struct IdGenerator {
    last: AtomicU64,
    salt: u64,
}

impl Default for IdGenerator {
    fn default() -> Self {
        let mut salt = [0u8; 8];
        // A failing OS RNG only weakens uniqueness across runs, never order.
        let _ = getrandom::fill(&mut salt);
        IdGenerator {
            last: AtomicU64::new(0),
            salt: u64::from_le_bytes(salt),
        }
    }
}

impl IdGenerator {
    /// A generator whose sequence numbers all exceed `last` (the newest
    /// already stored), so order holds across restarts.
    pub fn after(last: u64) -> IdGenerator {
        let generator = IdGenerator::default();
        generator.last.store(last, Ordering::Relaxed);
        generator
    }

    pub fn next(&self) -> MessageId {
        let now = jiff::Timestamp::now().as_microsecond().max(0) as u64;
        let mut prev = self.last.load(Ordering::Relaxed);
        let seq = loop {
            let candidate = now.max(prev + 1);
            match self.last.compare_exchange_weak(
                prev,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break candidate,
                Err(actual) => prev = actual,
            }
        };
        self.id_for(seq)
    }

    /// The ID of sequence number `seq` handed out elsewhere (a database's
    /// own sequence, shared by several processes), suffixed with this
    /// generator's salt.
    pub fn id_for(&self, seq: u64) -> MessageId {
        let mut text = String::with_capacity(ID_LEN);
        encode(seq, &mut text);
        encode(scramble(seq ^ self.salt), &mut text);
        MessageId {
            seq,
            text: text.into_boxed_str(),
        }
    }
}

/// SplitMix64's finaliser: a bijection on u64, so distinct sequence numbers
/// never share a suffix, and without the salt the suffix is unguessable.
fn scramble(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn encode(mut value: u64, out: &mut String) {
    let mut digits = [b'0'; HALF];
    for digit in digits.iter_mut().rev() {
        *digit = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out.extend(digits.iter().map(|&b| b as char));
}

fn decode(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'Z' => b - b'A' + 10,
            b'a'..=b'z' => b - b'a' + 36,
            _ => return None,
        };
        acc.checked_mul(62)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_arrival_and_round_trip() {
        let generator = IdGenerator::default();
        let ids: Vec<_> = (0..1000).map(|_| generator.next()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0].text < pair[1].text);
            assert!(pair[0].seq < pair[1].seq);
        }
        for id in &ids {
            assert_eq!(id.text.len(), ID_LEN);
            assert_eq!(MessageId::parse_seq(&id.text), Some(id.seq));
        }
    }

    #[test]
    fn runs_salt_their_suffixes_differently() {
        let (one, two) = (IdGenerator::default(), IdGenerator::default());
        // A sequence ahead of the clock, so both hand out the same next one.
        let ahead = u64::MAX / 4;
        one.last.store(ahead, Ordering::Relaxed);
        two.last.store(ahead, Ordering::Relaxed);
        let (a, b) = (one.next(), two.next());
        assert_eq!(a.text[..HALF], b.text[..HALF], "same sequence number");
        assert_ne!(a.text[HALF..], b.text[HALF..], "but different salts");
    }

    #[test]
    fn rejects_malformed_ids() {
        assert_eq!(MessageId::parse_seq("short"), None);
        assert_eq!(MessageId::parse_seq("../../../../etc/passwd"), None);
        assert_eq!(MessageId::parse_seq("zzzzzzzzzzzzzzzzzzzzzz"), None); // overflows u64
    }
}
