//! How many stored messages carry each tag, kept up to date as messages and
//! tags change, so that every listing (which reports all tags in use) does
//! not have to visit every message.

use std::collections::BTreeMap;

/// Tag usage, keyed by ASCII-lower-cased name. A tag may be spelled differently on
/// different messages; the spelling shown is the one on the newest message,
/// as a newest-first scan of the store would find it.
#[derive(Debug, Default)]
pub(super) struct TagIndex {
    by_name: BTreeMap<String, BTreeMap<u64, String>>,
}

impl TagIndex {
    /// Records that message `seq` carries `tags`.
    pub fn add(&mut self, seq: u64, tags: &[String]) {
        for tag in tags {
            self.by_name
                .entry(tag.to_ascii_lowercase())
                .or_default()
                .insert(seq, tag.clone());
        }
    }

    /// Records that message `seq` no longer carries `tags`.
    pub fn remove(&mut self, seq: u64, tags: &[String]) {
        for tag in tags {
            let key = tag.to_ascii_lowercase();
            if let Some(messages) = self.by_name.get_mut(&key) {
                messages.remove(&seq);
                if messages.is_empty() {
                    self.by_name.remove(&key);
                }
            }
        }
    }

    /// Every tag in use with its message count, sorted case-insensitively.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.by_name
            .values()
            .filter_map(|messages| {
                let (_, newest) = messages.last_key_value()?;
                Some((newest.clone(), messages.len()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn counts_follow_adds_and_removes_with_the_newest_spelling() {
        let mut index = TagIndex::default();
        index.add(1, &tags(&["Work", "b"]));
        index.add(2, &tags(&["work"]));
        assert_eq!(
            index.counts(),
            [("b".to_string(), 1), ("work".to_string(), 2)]
        );
        index.remove(2, &tags(&["work"]));
        assert_eq!(
            index.counts(),
            [("b".to_string(), 1), ("Work".to_string(), 1)]
        );
        index.remove(1, &tags(&["Work", "b"]));
        assert!(index.counts().is_empty());
    }
}
