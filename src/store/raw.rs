//! A stored message's raw bytes, kept LZ4-compressed when that pays.
//!
//! The raw bytes are most of what the store holds, and they are read rarely:
//! the summary that lists and searches use is built from them once, at
//! ingest; they are parsed again only when someone opens the message (and
//! that parse is cached, see `detail`). So they are worth keeping small.
//! Mail is mostly text and compresses well (a 2 KB text-and-HTML message to
//! about half); LZ4 costs a few microseconds per message either way, and
//! already-compressed content (JPEG, ZIP, base64 of either) is kept as is.

use bytes::Bytes;

/// Compress only when it saves at least this fraction (1/8) of the bytes:
/// below that, the decompression on every read is not worth the saving.
const MIN_SAVING_SHIFT: u32 = 3;
/// Tiny messages are not worth a compressor's setup.
const MIN_COMPRESSED_LEN: usize = 256;

#[derive(Debug)]
pub struct RawMessage(Repr);

#[derive(Debug)]
enum Repr {
    Plain(Bytes),
    Lz4 {
        compressed: Box<[u8]>,
        len: usize,
    },
    /// Kept by a database engine, not in memory.
    Elsewhere {
        len: usize,
    },
}

impl RawMessage {
    pub fn new(raw: Bytes) -> RawMessage {
        if raw.len() < MIN_COMPRESSED_LEN {
            return RawMessage(Repr::Plain(raw));
        }
        let compressed = lz4_flex::block::compress(&raw);
        if compressed.len() > raw.len() - (raw.len() >> MIN_SAVING_SHIFT) {
            return RawMessage(Repr::Plain(raw));
        }
        RawMessage(Repr::Lz4 {
            compressed: compressed.into_boxed_slice(),
            len: raw.len(),
        })
    }

    /// A message whose bytes a database engine keeps.
    pub fn elsewhere(len: usize) -> RawMessage {
        RawMessage(Repr::Elsewhere { len })
    }

    /// The bytes as kept, and whether they are LZ4-compressed (to store).
    pub fn kept(&self) -> (&[u8], bool) {
        match &self.0 {
            Repr::Plain(raw) => (raw, false),
            Repr::Lz4 { compressed, .. } => (compressed, true),
            Repr::Elsewhere { .. } => (&[], false),
        }
    }

    /// The message from bytes as kept (the inverse of [`kept`](Self::kept));
    /// None if compressed bytes do not decompress to `len`.
    pub fn unpack(data: Vec<u8>, lz4: bool, len: usize) -> Option<Bytes> {
        if !lz4 {
            return Some(Bytes::from(data));
        }
        lz4_flex::block::decompress(&data, len)
            .ok()
            .filter(|raw| raw.len() == len)
            .map(Bytes::from)
    }

    /// The message's size as received.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Plain(raw) => raw.len(),
            Repr::Lz4 { len, .. } | Repr::Elsewhere { len } => *len,
        }
    }

    /// Bytes of memory the message takes, as kept.
    pub fn kept_len(&self) -> usize {
        match &self.0 {
            Repr::Plain(raw) => raw.len(),
            Repr::Lz4 { compressed, .. } => compressed.len(),
            Repr::Elsewhere { .. } => 0,
        }
    }

    /// The message exactly as received.
    pub fn bytes(&self) -> Bytes {
        match &self.0 {
            Repr::Plain(raw) => raw.clone(),
            Repr::Lz4 { compressed, len } => {
                // The block was made by `new` from `len` bytes, so it always
                // decompresses; an empty result would only mean memory corruption.
                let raw = lz4_flex::block::decompress(compressed, *len).unwrap_or_default();
                Bytes::from(raw)
            }
            Repr::Elsewhere { .. } => Bytes::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(raw: &[u8]) -> RawMessage {
        let kept = RawMessage::new(Bytes::copy_from_slice(raw));
        assert_eq!(kept.len(), raw.len());
        assert_eq!(&kept.bytes()[..], raw);
        kept
    }

    #[test]
    fn text_is_kept_compressed_and_comes_back_exact() {
        let text = "Subject: Report\r\n\r\nThe quarterly report is attached. ".repeat(60);
        let kept = round_trip(text.as_bytes());
        assert!(kept.kept_len() < text.len() / 4, "{}", kept.kept_len());
    }

    #[test]
    fn incompressible_and_tiny_messages_are_kept_as_is() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert_eq!(round_trip(&noise).kept_len(), noise.len());
        assert_eq!(round_trip(b"Subject: hi\r\n\r\nhi\r\n").kept_len(), 19);
        assert_eq!(round_trip(b"").len(), 0);
    }
}
