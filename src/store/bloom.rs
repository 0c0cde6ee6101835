//! A per-message Bloom filter of the search text's byte trigrams, so a
//! free-text search reads the (large) text only of messages that may hold
//! the term. The SQLite engine keeps it in a column beside the text; the
//! memory engine keeps a sparser one with each message.
//!
//! A substring's trigrams are all trigrams of the text that holds it, so a
//! filter that lacks one of the needle's trigrams proves the text lacks the
//! needle: no false negatives, and results stay exactly those of a full
//! scan. One hash per trigram, so a filter of `b` bits per byte of text is
//! at most `1 - e^(-1/b)` full, and a term with `t` trigrams gets past the
//! filter of a text without it with at most that to the power `t`: for a
//! 7-byte term (5 trigrams), about 1% at two bits per byte and 10% at one.
//! Needles shorter than a trigram are not filtered.

/// The bounds on a filter's size, in bits.
const MIN_BITS: usize = 256;
const MAX_BITS: usize = 1 << 16;

fn trigram_hash(bytes: &[u8]) -> u32 {
    let packed = u32::from(bytes[0]) | (u32::from(bytes[1]) << 8) | (u32::from(bytes[2]) << 16);
    packed.wrapping_mul(0x9e37_79b1) ^ (packed >> 7)
}

/// The bit a hash sets in a filter of `bits` bits (multiply-shift range
/// reduction, so any size works).
fn bit(hash: u32, bits: usize) -> usize {
    ((u64::from(hash) * bits as u64) >> 32) as usize
}

/// The filter of a message's search text, `bits_per_byte` bits for each
/// byte of it (within the bounds).
pub(crate) fn build(text: &[u8], bits_per_byte: usize) -> Vec<u8> {
    build_over(&[text], bits_per_byte)
}

/// The filter of several texts at once: it passes a needle held by any
/// of them.
pub(crate) fn build_over(texts: &[&[u8]], bits_per_byte: usize) -> Vec<u8> {
    let length: usize = texts.iter().map(|text| text.len()).sum();
    let bits = (length * bits_per_byte)
        .clamp(MIN_BITS, MAX_BITS)
        .div_ceil(8)
        * 8;
    let mut filter = vec![0u8; bits / 8];
    for window in texts.iter().flat_map(|text| text.windows(3)) {
        let at = bit(trigram_hash(window), bits);
        filter[at / 8] |= 1 << (at % 8);
    }
    filter
}

/// A needle's trigram hashes, as the probe `might_contain` takes; empty
/// for a needle too short to filter on.
pub(crate) fn probes(needle: &[u8]) -> Vec<u8> {
    needle
        .windows(3)
        .flat_map(|window| trigram_hash(window).to_le_bytes())
        .collect()
}

/// False only if the text behind `filter` cannot contain the needle behind
/// `probes`.
pub(crate) fn might_contain(filter: &[u8], probes: &[u8]) -> bool {
    let bits = filter.len() * 8;
    if bits == 0 {
        return true;
    }
    probes.chunks_exact(4).all(|chunk| {
        let hash = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let at = bit(hash, bits);
        filter[at / 8] & (1 << (at % 8)) != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_rejects_a_text_that_holds_the_needle() {
        let text =
            "the quarterly report is attached ünïcödé, see invoice 7 at https://x.test/a?b=1";
        let filter = build(text.as_bytes(), 1);
        for start in 0..text.len() {
            for end in start..=text.len() {
                let needle = &text.as_bytes()[start..end];
                assert!(might_contain(&filter, &probes(needle)), "{needle:?}");
            }
        }
    }

    #[test]
    fn mostly_rejects_a_text_without_the_needle() {
        let text = "lorem ipsum dolor sit amet consectetur ".repeat(18); // ~700 bytes
        let filter = build(text.as_bytes(), 2);
        let rejected = ["zqxjvkw", "invoice", "password", "7f3a2c1b", "bestellung"]
            .iter()
            .filter(|needle| !might_contain(&filter, &probes(needle.as_bytes())))
            .count();
        assert!(rejected >= 4, "only {rejected} of 5 rejected");
        let sparse = build(text.as_bytes(), 1);
        let rejected = ["zqxjvkw", "invoice", "password", "7f3a2c1b", "bestellung"]
            .iter()
            .filter(|needle| !might_contain(&sparse, &probes(needle.as_bytes())))
            .count();
        assert!(
            rejected >= 3,
            "only {rejected} of 5 rejected at one bit per byte"
        );
        assert!(
            might_contain(&filter, &probes(b"ab")),
            "too short to filter"
        );
    }
}
