//! Tag names, cleaned the way Mailpit cleans them so tag filters agree.

/// Cleans a tag name: characters outside `[a-zA-Z0-9 -_.@]` become spaces,
/// whitespace collapses, and the result must be 1 to 100 characters long.
pub fn clean(name: &str) -> Option<String> {
    let replaced: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " -_.@".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let cleaned = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty() && cleaned.len() <= 100).then_some(cleaned)
}

/// Most tags one message carries. Tags from headers and plus-addresses past
/// this are dropped (first ones kept); the API refuses to set more. It also
/// bounds the quadratic de-duplication below.
pub const MAX_PER_MESSAGE: usize = 100;

/// Cleans a list of names, dropping invalid ones and case-insensitive
/// duplicates (the first spelling wins), sorted case-insensitively; the
/// first [`MAX_PER_MESSAGE`] only.
pub fn clean_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    clean_up_to(names, MAX_PER_MESSAGE)
}

/// Whether the names hold more than [`MAX_PER_MESSAGE`] distinct tags.
pub fn too_many<'a>(names: impl IntoIterator<Item = &'a str>) -> bool {
    clean_up_to(names, MAX_PER_MESSAGE + 1).len() > MAX_PER_MESSAGE
}

fn clean_up_to<'a>(names: impl IntoIterator<Item = &'a str>, limit: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names.into_iter().filter_map(clean) {
        if out.len() == limit {
            break;
        }
        if !out.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            out.push(name);
        }
    }
    sort(&mut out);
    out
}

pub fn sort(tags: &mut [String]) {
    tags.sort_by_key(|t| t.to_ascii_lowercase());
}

/// Tags from plus-addressing: `user+tag1+tag2@domain` gives `tag1`, `tag2`.
pub fn from_plus_address(address: &str) -> impl Iterator<Item = &str> {
    let local = address.rsplit_once('@').map_or("", |(local, _)| local);
    local.split('+').skip(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_mailpit() {
        assert_eq!(clean("  Test   tag! "), Some("Test tag".into()));
        assert_eq!(clean("a/b"), Some("a b".into()));
        assert_eq!(clean("!!!"), None);
        assert_eq!(clean(&"x".repeat(101)), None);
    }

    #[test]
    fn keeps_the_first_hundred() {
        let names: Vec<String> = (0..150).map(|i| format!("t{i:03}")).collect();
        let kept = clean_all(names.iter().map(String::as_str));
        assert_eq!(kept.len(), MAX_PER_MESSAGE);
        assert_eq!(kept.last().unwrap(), "t099");
        assert!(too_many(names.iter().map(String::as_str)));
        assert!(!too_many(names[..100].iter().map(String::as_str)));
    }

    #[test]
    fn dedups_case_insensitively_and_sorts() {
        assert_eq!(clean_all(["b", "A", "a", "B "]), vec!["A", "b"]);
    }

    #[test]
    fn plus_addressing() {
        let tags: Vec<_> = from_plus_address("user+one+two@example.com").collect();
        assert_eq!(tags, ["one", "two"]);
        assert_eq!(from_plus_address("plain@example.com").count(), 0);
    }
}
