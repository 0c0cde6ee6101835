//! `mailcatch dump` and `mailcatch load`: moving mail between machines and
//! seeding demos, as `.eml` files.

mod dump;
mod load;

pub use dump::{Source, dump};
pub use load::load;

/// Largest file `load` reads, and message `dump` fetches, so a stray huge
/// file fails with a clear error rather than exhausting memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// A message ID as a file name: IDs are made by mailcatch (or Mailpit), but
/// one read over HTTP is still untrusted, so only `[A-Za-z0-9_-]` passes.
fn safe_file_stem(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(id)
}
